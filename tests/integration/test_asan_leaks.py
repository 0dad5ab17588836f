"""The ASan+UBSan build survives real calls without a sanitizer report: one echo
call ended by bye, one ended by closing the WebSocket, then SIGTERM. Exit code
0 and no AddressSanitizer / LeakSanitizer / UBSan lines on stderr."""

import asyncio
import re
import time

from sbtest import EchoPeer, RpcClient, Server, packets, run_test, sanitizer_env, tap





async def echo_call(server, client, label, frames=60):
    """Start an echo call on client; wait until `frames` echoed frames decode.
    Returns the EchoPeer (still open)."""
    peer = EchoPeer(fps=20)
    offer = await peer.offer()
    answer = await client.call("echo.start", {"sdp": offer, "type": "offer"}, timeout=20)
    await peer.set_answer(answer["sdp"])
    st = await client.wait_notification("peer.state", lambda p: p.get("pc") == "echo", timeout=20)
    tap.check(st.get("state") == "connected", f"{label}: peer.state connected", str(st))
    n = await peer.wait_video_frames(frames, 25)
    _, valid, in_sent, _, _ = peer.counter_quality()
    tap.check(n >= frames and in_sent >= 0.9 * n, f"{label}: echoed frames come back",
              f"{n} frames, {in_sent} decoded to sent counters, audio {peer.audio_frames}")
    stats = await client.call("echo.stats", timeout=10)
    tap.check(packets(stats, "outbound", "video") > 0 and packets(stats, "outbound", "audio") > 0,
              f"{label}: echo.stats shows echoed video and audio",
              f"video {packets(stats, 'outbound', 'video')} audio {packets(stats, 'outbound', 'audio')}")
    return peer


async def wait_no_peers(client, timeout=10):
    st = None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = await client.call("server.status", timeout=5)
        if st.get("peers") == 0:
            break
        await asyncio.sleep(0.3)
    return st


async def main():
    server = Server(asan=True, env=sanitizer_env())
    tap.diag(f"sanitizer env: {sanitizer_env()}")
    c1 = c2 = p1 = p2 = None
    rc = None
    try:
        server.start()

        # Call 1: ended by bye.
        c1 = await RpcClient.connect(server.url)
        p1 = await echo_call(server, c1, "call 1 (bye)")
        r = await c1.call("bye", timeout=10)
        tap.check(r == {}, "call 1: bye returns {}", str(r))
        await p1.close()
        p1 = None
        st = await wait_no_peers(c1)
        tap.check(st.get("peers") == 0, "call 1: 0 peers after bye", str(st))

        # Call 2: ended by closing the WebSocket (no bye).
        c2 = await RpcClient.connect(server.url)
        p2 = await echo_call(server, c2, "call 2 (WebSocket closed)")
        await c2.close()
        c2 = None
        st = await wait_no_peers(c1)
        tap.check(st.get("peers") == 0 and st.get("sessions") == 1,
                  "call 2: 0 peers and 1 session after its WebSocket closed", str(st))
        await p2.close()
        p2 = None
        await c1.close()
        c1 = None
    finally:
        for p in (p1, p2):
            if p:
                await p.close()
        for c in (c1, c2):
            if c:
                await c.close()
        # LeakSanitizer runs at exit: give it time.
        rc = server.stop(timeout=30)

    tap.check(rc == 0, "ASan server exits 0 on SIGTERM", f"exit code {rc}\n{server.log_tail(20)}")
    log = server.log_text()
    bad = [l for l in log.splitlines()
           if re.search(r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:", l)]
    report = ""
    if bad:
        # the whole report: from the first sanitizer line on (bounded)
        i = log.find(bad[0])
        report = log[i:i + 12000]
    tap.check(not bad, "no AddressSanitizer / LeakSanitizer / UBSan report", report)
    tap.check("switchboard stopped" in log, "server logged a clean stop", server.log_tail(5))


run_test(main, timeout=110)
