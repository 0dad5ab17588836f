"""Bad signaling input gets the documented JSON-RPC error codes (docs/API.md) and
harms nothing: an aiortc echo call on session A keeps flowing while session A
and a second session B receive garbage, and the server keeps running."""

import asyncio
import json
import time

from sbtest import (EchoPeer, RpcClient, RpcError, Server, packets, run_test,
                    sdp_without, tap)


def expect(err_or_resp, code, name, ids=None):
    """Check an error object (or a whole response) has `code`; when ids is
    given, the response id must be one of them."""
    resp = err_or_resp
    err = resp.get("error", resp) if isinstance(resp, dict) else {}
    ok = isinstance(err, dict) and err.get("code") == code and isinstance(err.get("message"), str) \
        and err.get("message") != ""
    detail = json.dumps(resp)[:300]
    if ids is not None and "id" in resp and resp.get("id") not in ids:
        ok = False
        detail += f"  (id should be one of {ids})"
    return tap.check(ok, f"{name} -> {code}", detail)


async def raw_error(client, data, code, name, ids=(None,), timeout=10):
    try:
        resp = await client.raw_exchange(data, timeout)
    except asyncio.TimeoutError:
        return tap.check(False, f"{name} -> {code}", f"no response within {timeout}s")
    return expect(resp, code, name, ids=list(ids))


async def generic_errors(c, label):
    """Protocol-level bad input, valid on any session."""
    await raw_error(c, "this is {not json", -32700, f"{label}: non-JSON text")
    await raw_error(c, '{"jsonrpc":"2.0","id":1,"method":"ping"', -32700,
                    f"{label}: truncated JSON")
    await raw_error(c, json.dumps([{"jsonrpc": "2.0", "id": 901, "method": "ping"},
                                   {"jsonrpc": "2.0", "id": 902, "method": "ping"}]),
                    -32600, f"{label}: JSON array batch")
    await raw_error(c, json.dumps({"jsonrpc": "1.0", "id": 903, "method": "ping"}),
                    -32600, f"{label}: jsonrpc \"1.0\"", ids=(903, None))
    await raw_error(c, json.dumps({"jsonrpc": "2.0", "id": 904}), -32600,
                    f"{label}: request without method", ids=(904, None))
    await raw_error(c, "42", -32600, f"{label}: JSON that is not an object")
    deep = {}
    for _ in range(40):
        deep = {"a": deep}
    await raw_error(c, json.dumps({"jsonrpc": "2.0", "id": 907, "method": "ping", "params": deep}),
                    -32600, f"{label}: nesting over 32 levels", ids=(907, None))
    expect(await c.call_error("no.such.method", {}), -32601, f"{label}: unknown method")
    # over max_message_size (default 256 KiB): ~300 KiB is discarded with 1001 …
    big = json.dumps({"jsonrpc": "2.0", "id": 905, "method": "ping",
                      "params": {"pad": "x" * (300 * 1024)}})
    await raw_error(c, big, 1001, f"{label}: ~300 KiB message", ids=(905, None), timeout=15)
    # … and the same socket still serves a normal request.
    try:
        r = await c.call("ping", timeout=5)
        tap.check(isinstance(r.get("time_ms"), (int, float)),
                  f"{label}: ping on the same socket after the oversized message", str(r))
    except Exception as e:  # noqa: BLE001
        tap.check(False, f"{label}: ping on the same socket after the oversized message", repr(e))
    await raw_error(c, b'{"jsonrpc":"2.0","id":906,"method":"ping"}', -32600,
                    f"{label}: binary frame", ids=(906, None))
    r = await c.call("ping", timeout=5)
    tap.check("time_ms" in r, f"{label}: session still answers after all bad input", str(r))


async def main():
    server = Server()
    a = b = peer = None
    try:
        server.start()
        a = await RpcClient.connect(server.url)
        peer = EchoPeer(fps=20)
        offer = await peer.offer()
        answer = await a.call("echo.start", {"sdp": offer, "type": "offer"}, timeout=15)
        await peer.set_answer(answer["sdp"])
        st = await a.wait_notification("peer.state", lambda p: p.get("pc") == "echo", timeout=15)
        tap.check(st.get("state") == "connected", "session A: echo call connected", str(st))
        n = await peer.wait_video_frames(20, 15)
        tap.check(n >= 20, "session A: echoed frames arrive before the bad input", f"{n} frames")
        stats0 = await a.call("echo.stats")

        # Session A (call running): protocol errors, plus call-specific ones.
        await generic_errors(a, "A")
        expect(await a.call_error("echo.start", {"sdp": offer, "type": "offer"}, timeout=15),
               1022, "A: second echo.start while the call runs")
        expect(await a.call_error("trickle", {"candidate": "candidate:garbage", "sdpMid": "0",
                                              "sdpMLineIndex": 0}),
               1021, "A: trickle with a candidate that does not parse")
        expect(await a.call_error("trickle", {"sdpMid": "0"}), -32602,
               "A: trickle without candidate or completed")
        expect(await a.call_error("echo.configure", {"bitrate": "fast"}), -32602,
               "A: echo.configure with a string bitrate")

        # Session B (no call): SDP and call-state errors.
        b = await RpcClient.connect(server.url)
        tap.check(b.session and b.session != a.session, "session B has its own session id",
                  f"A={a.session} B={b.session}")
        await generic_errors(b, "B")
        # before any echo.start on B: the session has never had a call
        expect(await b.call_error("trickle", {"candidate": "candidate:1 1 UDP 2015363327 127.0.0.1 "
                                                           "40000 typ host",
                                              "sdpMid": "0", "sdpMLineIndex": 0}),
               1020, "B: trickle on a session without a call")
        expect(await b.call_error("echo.stats"), 1020, "B: echo.stats without a call")
        expect(await b.call_error("echo.configure", {"audio": False}), 1020,
               "B: echo.configure without a call")
        expect(await b.call_error("echo.start"), -32602, "B: echo.start without params")
        expect(await b.call_error("echo.start", {}), -32602, "B: echo.start with params {} (no sdp)")
        expect(await b.call_error("echo.start", {"sdp": 12345}), -32602,
               "B: echo.start with a number as sdp")
        expect(await b.call_error("echo.start", {"sdp": sdp_without(offer, "a=fingerprint:"),
                                                 "type": "offer"}),
               1012, "B: echo.start with an SDP without a=fingerprint")
        expect(await b.call_error("echo.start", {"sdp": sdp_without(offer, "a=ice-ufrag:", "a=ice-pwd:"),
                                                 "type": "offer"}),
               1011, "B: echo.start with an SDP without ice-ufrag/pwd")
        expect(await b.call_error("echo.start", {"sdp": "hello, I am not an SDP\r\n", "type": "offer"}),
               1010, "B: echo.start with garbage SDP")
        # Refused offers leave no PeerConnection and no call behind (bounded poll:
        # the worker tears a refused call down after answering).
        deadline = time.monotonic() + 3
        while True:
            st = await b.call("server.status")
            good = st.get("peers") == 1 and (st.get("echotest") or {}).get("calls") == 1
            if good or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        tap.check(good, "server.status: still exactly 1 peer / 1 echo call (A's)", str(st))
        # The refusals did not leave B "busy": a valid offer is accepted (it never
        # connects — nobody answers ICE for it — and bye ends it).
        r = await b.call_error("echo.start", {"sdp": offer, "type": "offer"}, timeout=15)
        tap.check(r.get("code") is None and (r.get("result") or {}).get("type") == "answer",
                  "B: a valid echo.start after the refused ones gets an answer", json.dumps(r)[:200])
        await b.call("bye")
        deadline = time.monotonic() + 5
        while True:
            st = await b.call("server.status")
            if st.get("peers") == 1 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        tap.check(st.get("peers") == 1, "B: after bye only A's PeerConnection is left", str(st))

        # Session A's call is unharmed: packets keep flowing both ways, new frames decode.
        t_mark = time.monotonic()
        frames_mark = peer.video_frames
        await asyncio.sleep(3)
        stats1 = await a.call("echo.stats")
        tap.check(stats1.get("state") == "connected", "A: call still connected after the bad input",
                  f"state={stats1.get('state')}")
        for d in ("inbound", "outbound"):
            for kind in ("video", "audio"):
                p0, p1 = packets(stats0, d, kind), packets(stats1, d, kind)
                tap.check(p1 > p0, f"A: echo.stats {d} {kind} packets keep increasing", f"{p0} -> {p1}")
        frames, valid, in_sent, inc, pairs = peer.counter_quality(since=t_mark)
        sent_before = max((c for c in peer.video_track.sent_at
                           if peer.video_track.sent_at[c] < t_mark), default=-1)
        new = [c for _, c in peer.decoded if c is not None and c > sent_before]
        tap.check(peer.video_frames - frames_mark >= 20 and in_sent >= 0.9 * max(frames, 1)
                  and len(new) >= 20,
                  "A: the aiortc peer still decodes new echoed frames",
                  f"{peer.video_frames - frames_mark} frames in 3 s, {in_sent}/{frames} "
                  f"decoded to sent counters, {len(new)} counters sent after the bad input")
        tap.check(peer.audio_frames > 0 and not peer.errors, "A: audio flowing, no peer errors",
                  f"audio frames {peer.audio_frames}, errors {peer.errors}")
        tap.check(a.closed is None and b.closed is None, "both WebSockets still open",
                  f"A {a.closed} B {b.closed}")
        tap.check(server.running(), "server process still running",
                  f"exit code {server.proc.poll()}\n{server.log_tail()}")
        await a.call("bye")
    except RpcError as e:
        tap.check(False, "unexpected JSON-RPC error", f"{e}\n{server.log_tail()}")
    finally:
        if peer:
            await peer.close()
        for c in (a, b):
            if c:
                await c.close()
        rc = server.stop()
        tap.check(rc == 0, "server exits 0 on SIGTERM", f"exit code {rc}\n{server.log_tail(15)}")


run_test(main, timeout=100)
