"""A peer that vanishes without bye (its process is killed) is cleaned up once
ICE consent expires (RFC 7675; <= 30 s by default).

The WebSocket must outlive the media peer, so the work is split: this process
holds the session's WebSocket; a child process (this file with --child) runs the
aiortc peer and exchanges offer/answer with us as JSON lines on stdin/stdout.
Once media flows, the child is SIGKILLed and we wait for the server to notice."""

import asyncio
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sbtest import (PYTHON, RESULTS, EchoPeer, RpcClient, Server, packets, run_test,  # noqa: E402
                    tap, test_name, track_process)

CONSENT_LIMIT_S = 40      # asserted: kill -> failed notification
WAIT_LIMIT_S = 45         # how long we wait for the notification at most


# --------------------------------------------------------------------------
# child: the aiortc peer


async def child_main():
    out = sys.stdout

    def emit(obj):
        out.write(json.dumps(obj) + "\n")
        out.flush()

    peer = EchoPeer(fps=20)
    try:
        emit({"offer": await peer.offer()})
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        line = await asyncio.wait_for(reader.readline(), 30)
        msg = json.loads(line)
        await peer.set_answer(msg["answer"])

        @peer.pc.on("connectionstatechange")
        def _state():
            emit({"state": peer.pc.connectionState})

        # Report progress until killed (or, as a guard, for at most 120 s).
        for _ in range(240):
            emit({"frames": peer.video_frames, "audio": peer.audio_frames,
                  "errors": peer.errors})
            await asyncio.sleep(0.5)
    finally:
        await peer.close()


# --------------------------------------------------------------------------
# parent: the test


async def read_json_line(stream, timeout):
    line = await asyncio.wait_for(stream.readline(), timeout)
    if not line:
        raise EOFError("child closed its stdout")
    return json.loads(line)


async def main():
    server = Server()
    client = child = None
    child_log = open(os.path.join(RESULTS, f"{test_name()}-peer.log"), "wb")
    try:
        server.start()
        client = await RpcClient.connect(server.url)

        child = await asyncio.create_subprocess_exec(
            PYTHON, "-u", os.path.abspath(__file__), "--child",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=child_log)
        track_process(child)
        tap.diag(f"aiortc peer child pid {child.pid}")

        msg = await read_json_line(child.stdout, 30)
        answer = await client.call("echo.start", {"sdp": msg["offer"], "type": "offer"}, timeout=15)
        child.stdin.write((json.dumps({"answer": answer["sdp"]}) + "\n").encode())
        await child.stdin.drain()

        st = await client.wait_notification("peer.state", lambda p: p.get("pc") == "echo", timeout=15)
        tap.check(st.get("state") == "connected", "peer.state 'connected'", str(st))

        # Media flows both ways: the server counts packets, the child decodes frames.
        frames = 0
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            m = await read_json_line(child.stdout, 10)
            frames = m.get("frames", frames)
            if frames >= 30:
                break
        stats = await client.call("echo.stats")
        tap.check(all(packets(stats, d, k) > 0 for d in ("inbound", "outbound")
                      for k in ("video", "audio")) and frames >= 30,
                  "media flows before the kill",
                  f"child decoded {frames} frames; server in/out video "
                  f"{packets(stats, 'inbound', 'video')}/{packets(stats, 'outbound', 'video')}, "
                  f"audio {packets(stats, 'inbound', 'audio')}/{packets(stats, 'outbound', 'audio')}")
        st = await client.call("server.status")
        tap.check(st.get("peers") == 1, "server.status shows 1 peer during the call", str(st))

        # The peer vanishes: no bye, no DTLS close_notify, no ICE.
        os.kill(child.pid, signal.SIGKILL)
        t_kill = time.monotonic()
        await asyncio.wait_for(child.wait(), 10)
        tap.diag(f"child killed (exit {child.returncode}); waiting up to {WAIT_LIMIT_S}s for "
                 f"peer.state failed")

        try:
            failed = await client.wait_notification(
                "peer.state", lambda p: p.get("pc") == "echo" and p.get("state") in ("failed", "closed"),
                timeout=WAIT_LIMIT_S)
        except asyncio.TimeoutError as e:
            failed = None
            tap.check(False, "peer.state 'failed' after the peer vanished",
                      f"{e}; all peer.state: {client.notifications_of('peer.state')}\n"
                      f"{server.log_tail()}")
        if failed is not None:
            t_note = next(ts for ts, m in reversed(client.notifications)
                          if m.get("method") == "peer.state" and (m.get("params") or {}) is not None
                          and (m.get("params") or {}).get("state") == failed.get("state"))
            elapsed = t_note - t_kill
            tap.diag(f"peer.state {failed} arrived {elapsed:.1f}s after SIGKILL")
            tap.check(failed.get("state") == "failed", "peer.state is 'failed'", str(failed))
            tap.check("consent" in (failed.get("reason") or "").lower(),
                      "failed reason mentions ICE consent", str(failed))
            tap.check(elapsed <= CONSENT_LIMIT_S,
                      f"failed within {CONSENT_LIMIT_S}s of the kill", f"{elapsed:.1f}s")

        st = None
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            st = await client.call("server.status")
            if st.get("peers") == 0 and (st.get("echotest") or {}).get("calls") == 0:
                break
            await asyncio.sleep(0.2)
        tap.check(st.get("peers") == 0, "server.status: peers == 0 after cleanup", str(st))
        tap.check((st.get("echotest") or {}).get("calls") == 0,
                  "server.status: echotest calls == 0 after cleanup", str(st))
        tap.check(st.get("sessions", 0) >= 1 and client.closed is None,
                  "the session's WebSocket stays open", f"{st}, closed={client.closed}")
        err = await client.call_error("echo.stats")
        tap.check(err.get("code") == 1020, "echo.stats after cleanup -> 1020", str(err))

        lines = server.log_grep(client.session, "consent")
        tap.check(lines, "server log has the consent-expired line for this session",
                  "\n".join(lines) or server.log_tail())
    finally:
        if child is not None and child.returncode is None:
            try:
                child.kill()
                await asyncio.wait_for(child.wait(), 5)
            except Exception:  # noqa: BLE001
                pass
        if client:
            await client.close()
        rc = server.stop()
        child_log.close()
        tap.check(rc == 0, "server exits 0 on SIGTERM", f"exit code {rc}\n{server.log_tail(15)}")


if __name__ == "__main__":
    if "--child" in sys.argv:
        asyncio.run(child_main())
    else:
        run_test(main, timeout=110)
