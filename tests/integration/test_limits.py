"""Abuse limits and WebSocket liveness ([limits], [http] ping_*, docs/API.md
"Limits"), with raw sockets and JSON-RPC clients against one server with tight
limits. Each part connects from its own loopback address (127.0.0.0/8 is all on
lo, a client socket binds its source) so one part's budget never touches another's:

  - concurrency: max_connections_per_ip open connections from one IP, the next is
    closed before any answer, another IP is unaffected, a closed one frees a slot
  - connection rate: a burst of new connections from one IP is cut to
    connection_burst + rate x time; the refused ones are answered 429 with
    Retry-After (HTTP and WebSocket upgrade) and counted in /metrics
  - message rate: requests over messages_per_second get error 1050 with their own
    id, a paused client may go on, one that keeps sending is closed (1008)
  - liveness: a client that never answers WebSocket pings is sent one after
    ping_interval and dropped after ping_timeout; one that answers stays
  - caps: [videoroom] max_rooms (error 1081) and max_tracks (error 1052)
"""

import asyncio
import base64
import json
import os
import re
import socket
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sbtest import ROOT, RpcClient, Server, run_test, tap  # noqa: E402

LIMITS = {
    "limits.connections_per_second": "5",
    "limits.connection_burst": "10",
    "limits.max_connections_per_ip": "4",
    "limits.messages_per_second": "5",
    "limits.message_burst": "10",
    "limits.message_abuse_close": "30",
    "http.ping_interval": "1",
    "http.ping_timeout": "3",
    "videoroom.max_rooms": "2",
    "videoroom.max_tracks": "1",
}


def metrics(port):
    """switchboard_rejected_total by reason, and the other plain series."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, _, value = line.rpartition(" ")
        out[name] = float(value)
    return out


def rejected(port, reason):
    return metrics(port).get(f'switchboard_rejected_total{{reason="{reason}"}}', 0)


def ws_handshake(port, source, path="/ws", timeout=3):
    """A raw WebSocket upgrade from `source`: the socket and the status line, or
    (None, why) when the server closed or reset the connection first."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        s.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                   f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                   "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: switchboard\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(4096)
            if not chunk:
                s.close()
                return None, "closed"
            head += chunk
        return s, head.split(b"\r\n", 1)[0].decode()
    except (ConnectionResetError, BrokenPipeError) as e:
        s.close()
        return None, type(e).__name__
    except socket.timeout:
        s.close()
        return None, "timeout"


def http_get(port, source, path="/healthz", timeout=3):
    """Status code of one GET from `source`, or None when the connection was
    closed or reset without an answer."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = s.recv(4096)
        if not data:
            return None
        return int(data.split(b" ", 2)[1])
    except (ConnectionResetError, BrokenPipeError, socket.timeout):
        return None
    finally:
        s.close()


def http_raw(port, source, path="/healthz", timeout=3):
    """The raw answer to one GET from `source` (b"" when closed unanswered)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                return data
            data += chunk
    except (ConnectionResetError, BrokenPipeError, socket.timeout):
        return b""
    finally:
        s.close()


def part_concurrency(port):
    before = rejected(port, "conn_limit")
    held = []
    for _ in range(4):
        s, status = ws_handshake(port, "127.0.0.3")
        if s:
            held.append(s)
    tap.check(len(held) == 4, "4 WebSockets from one IP are accepted (max_connections_per_ip = 4)",
              f"{len(held)} accepted")
    s5, why = ws_handshake(port, "127.0.0.3")
    tap.check(s5 is None, "the 5th connection from that IP is closed before any answer", why)
    if s5:
        held.append(s5)
    tap.check(http_get(port, "127.0.0.7") == 200, "another IP is served meanwhile")
    tap.check(rejected(port, "conn_limit") >= before + 1,
              "the refusal is counted: switchboard_rejected_total{reason=\"conn_limit\"}",
              f"{before} -> {rejected(port, 'conn_limit')}")
    held.pop().close()
    time.sleep(0.3)
    s6, why = ws_handshake(port, "127.0.0.3")
    tap.check(s6 is not None, "after one closes, a new connection from that IP is accepted", why)
    for s in held + ([s6] if s6 else []):
        s.close()


def part_connection_rate(port):
    before = rejected(port, "conn_rate")
    t0 = time.monotonic()
    results = [http_get(port, "127.0.0.4") for _ in range(40)]
    elapsed = time.monotonic() - t0
    ok = sum(1 for r in results if r == 200)
    answered = sum(1 for r in results if r == 429)
    refused = answered + sum(1 for r in results if r is None)
    allowed = 10 + 5 * elapsed + 1
    tap.check(ok <= allowed and refused >= 40 - allowed and ok >= 10 and ok + refused == 40,
              f"40 quick connections from one IP: {ok} served (burst 10 + 5/s x {elapsed:.2f} s), "
              f"{refused} refused", str(results))
    tap.check(answered == refused,
              "over-rate connections are answered 429 (within the server's reply budget)",
              f"{answered} of {refused} answered 429")
    raw = http_raw(port, "127.0.0.4")
    tap.check(raw.startswith(b"HTTP/1.1 429") and b"retry-after: 1" in raw.lower(),
              "the 429 says Retry-After", raw[:200].decode("latin1"))
    s_ws, line = ws_handshake(port, "127.0.0.4")
    if s_ws:
        s_ws.close()
    tap.check(re.match(r"HTTP/1\.[01] 429", line or "") is not None,
              "an over-rate WebSocket upgrade is answered 429 too", line)
    refused += 2
    after = rejected(port, "conn_rate")
    tap.check(after - before == refused, "every refusal is counted: reason=\"conn_rate\"",
              f"{before} -> {after}, {refused} refused")
    tap.check(http_get(port, "127.0.0.8") == 200, "another IP is served meanwhile")
    time.sleep(0.5)
    tap.check(http_get(port, "127.0.0.4") == 200, "the flooding IP is served again after a pause")


async def part_message_rate(server):
    import websockets
    ws = await websockets.connect(server.url, subprotocols=["switchboard"], ping_interval=None,
                                  local_addr=("127.0.0.5", 0))
    c = RpcClient(ws)
    await c.wait_notification("welcome")
    before = rejected(server.port, "message_rate")
    futs = []
    loop = asyncio.get_running_loop()
    for i in range(25):
        f = loop.create_future()
        c._pending[1000 + i] = f
        futs.append(f)
    for i in range(25):
        await ws.send(json.dumps({"jsonrpc": "2.0", "id": 1000 + i, "method": "ping"}))
    answers = await asyncio.wait_for(asyncio.gather(*futs), 10)
    ok = [a for a in answers if "result" in a]
    limited = [a for a in answers if a.get("error", {}).get("code") == 1050]
    tap.check(10 <= len(ok) <= 12 and len(ok) + len(limited) == 25,
              f"25 requests at once: {len(ok)} answered, {len(limited)} refused with 1050 (burst 10)",
              json.dumps(answers[-1]))
    tap.check(all(a["id"] == 1000 + i for i, a in enumerate(answers)),
              "each 1050 error carries its request's id")
    tap.check(rejected(server.port, "message_rate") - before == len(limited),
              "refused messages are counted: reason=\"message_rate\"")
    await asyncio.sleep(1.2)
    r = await c.call("ping")
    tap.check("time_ms" in r, "after a pause the session goes on")
    for i in range(60):
        try:
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": 2000 + i, "method": "ping"}))
        except Exception:  # noqa: BLE001 - closed under us: that is the point
            break
    for _ in range(50):
        if c.closed:
            break
        await asyncio.sleep(0.1)
    tap.check(c.closed is not None and c.closed[0] == 1008,
              "a client that keeps sending while refused is closed with 1008", str(c.closed))
    await c.close()


def read_frame(s):
    """(opcode, payload) of one server frame (unmasked), or None at EOF."""
    def need(n):
        b = b""
        while len(b) < n:
            chunk = s.recv(n - len(b))
            if not chunk:
                return None
            b += chunk
        return b
    h = need(2)
    if h is None:
        return None
    n = h[1] & 0x7F
    if n == 126:
        n = int.from_bytes(need(2), "big")
    elif n == 127:
        n = int.from_bytes(need(8), "big")
    return h[0] & 0x0F, need(n) if n else b""


async def part_ping(server):
    def silent_client():
        s, status = ws_handshake(server.port, "127.0.0.6", timeout=10)
        if s is None:
            return None, None, status
        t0 = time.monotonic()
        first_ping = None
        s.settimeout(10)
        try:
            while True:
                f = read_frame(s)
                if f is None:
                    break
                if f[0] == 0x9 and first_ping is None:
                    first_ping = time.monotonic() - t0
        except (ConnectionResetError, socket.timeout):
            pass
        closed = time.monotonic() - t0
        s.close()
        return first_ping, closed, status

    async def answering_client():
        import websockets
        ws = await websockets.connect(server.url, subprotocols=["switchboard"], ping_interval=None,
                                      local_addr=("127.0.0.9", 0))
        c = RpcClient(ws)
        await asyncio.sleep(5)
        alive = c.closed is None and "time_ms" in await c.call("ping")
        await c.close()
        return alive

    (first_ping, closed, status), alive = await asyncio.gather(asyncio.to_thread(silent_client),
                                                               answering_client())
    tap.check(first_ping is not None and first_ping <= 2.5,
              "a client silent for ping_interval (1 s) is sent a WebSocket ping",
              f"handshake {status}; first ping after {first_ping} s")
    tap.check(closed is not None and 2.5 <= closed <= 5.5,
              "a client that never answers pings is dropped after ping_timeout (3 s)",
              f"closed after {closed} s")
    tap.check(alive, "a client that answers pings (and says nothing else) stays connected 5 s")


async def part_caps(server):
    clients = [await RpcClient.connect(server.url) for _ in range(3)]
    try:
        await clients[0].call("room.join", {"room": "cap1"})
        await clients[1].call("room.join", {"room": "cap2"})
        e = await clients[2].call_error("room.join", {"room": "cap3"})
        tap.check(e.get("code") == 1081, "a third room over [videoroom] max_rooms = 2: error 1081", str(e))
        await clients[2].call("room.join", {"room": "cap1"})
        tap.check(True, "joining an existing room is still fine")
        with open(os.path.join(ROOT, "tests/fixtures/sdp/chromium-sendrecv-av-data.sdp")) as f:
            sdp = f.read().replace("\r\n", "\n").replace("\n", "\r\n")
        e = await clients[0].call_error("room.publish", {"sdp": sdp})
        tap.check(e.get("code") == 1052,
                  "publishing audio + video over [videoroom] max_tracks = 1: error 1052", str(e))
    finally:
        for c in clients:
            await c.close()


async def body():
    server = Server(overrides=LIMITS)
    try:
        server.start()
        await asyncio.to_thread(part_concurrency, server.port)
        await asyncio.to_thread(part_connection_rate, server.port)
        await part_message_rate(server)
        await part_ping(server)
        await part_caps(server)
        tap.check(server.running(), "the server is still running")
    finally:
        rc = server.stop()
        tap.check(rc == 0, "server exits 0 on SIGTERM", f"exit code {rc}\n{server.log_tail(20)}")


run_test(body, timeout=100)
