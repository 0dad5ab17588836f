"""Echo call with an aiortc peer: the frames it sends (a counter drawn in the
pixels) come back, audio comes back, echo.stats shows both directions, and
bye leaves the server with no peers."""

import asyncio
import time

from sbtest import (EchoPeer, RpcClient, RpcError, Server, extmap_clashes, packets,
                    run_test, stream_summary, tap)


async def main():
    server = Server()
    client = peer = None
    try:
        server.start()
        client = await RpcClient.connect(server.url)
        tap.check(client.session, "welcome notification carries a session id", f"session={client.session}")

        peer = EchoPeer(fps=30)
        offer = await peer.offer()
        t_start = time.monotonic()
        try:
            answer = await client.call("echo.start", {"sdp": offer, "type": "offer"}, timeout=15)
        except RpcError as e:
            tap.check(False, "echo.start answers", f"error {e.code}: {e.message}\n{server.log_tail()}")
            return
        tap.check(answer.get("type") == "answer" and answer.get("pc") == "echo"
                  and answer.get("sdp", "").startswith("v=0"),
                  "echo.start returns an answer for pc 'echo'", str(answer)[:200])
        sdp = answer.get("sdp", "")
        clashes = extmap_clashes(sdp)
        tap.check(not clashes, "answer has no extmap id used for two URIs (BUNDLE)", str(clashes))
        tap.check("a=setup:passive" in sdp or "a=setup:active" in sdp,
                  "answer has a=setup active|passive")
        await peer.set_answer(sdp)

        try:
            st = await client.wait_notification(
                "peer.state", lambda p: p.get("pc") == "echo", timeout=15)
            tap.check(st.get("state") == "connected", "peer.state 'connected' notification",
                      f"{st} after {time.monotonic() - t_start:.1f}s")
        except asyncio.TimeoutError as e:
            tap.check(False, "peer.state 'connected' notification", f"{e}\n{server.log_tail()}")

        # More than 100 echoed video frames within 15 s of echo.start.
        n = await peer.wait_video_frames(101, 15 - (time.monotonic() - t_start))
        tap.check(n > 100, "more than 100 echoed video frames within 15 s",
                  f"{n} frames in {time.monotonic() - t_start:.1f}s; sent "
                  f"{peer.video_track.counter}; pc state {peer.pc.connectionState}; "
                  f"tracks {peer.remote_tracks}; errors {peer.errors}")
        if n <= 100:
            tap.diag(server.log_tail())

        frames, valid, in_sent, inc, pairs = peer.counter_quality()
        tap.check(frames > 0 and in_sent >= 0.9 * frames,
                  ">= 90% of echoed frames decode to a counter that was sent",
                  f"{in_sent}/{frames} decoded to a sent counter ({valid} valid codes)")
        tap.check(pairs > 0 and inc == pairs, "echoed counters strictly increase",
                  f"{inc}/{pairs} consecutive pairs increase; first "
                  f"{[c for _, c in peer.decoded[:10]]}")
        if peer.decoded and peer.video_track.sent_at:
            # the echo delay: when frame k came back minus when it was sent
            delays = [ts - peer.video_track.sent_at[c] for ts, c in peer.decoded
                      if c is not None and c in peer.video_track.sent_at]
            if delays:
                delays.sort()
                tap.diag(f"echo delay (send → decoded) median "
                         f"{delays[len(delays) // 2] * 1000:.0f} ms, max {delays[-1] * 1000:.0f} ms")

        tap.check(peer.audio_frames > 0, "echoed audio frames arrive",
                  f"{peer.audio_frames} audio frames (sent {peer.audio_track.sent})")

        # The server's view. Receiver reports from aiortc come every ~1 s: wait
        # (bounded) until rtt or a remote report shows up.
        stats = None
        deadline = time.monotonic() + 8
        while True:
            stats = await client.call("echo.stats", timeout=5)
            outb = stats.get("outbound") or []
            measured = stats.get("rtt_ms") is not None or any(
                s.get("rtt_ms") is not None or s.get("remote_jitter_ms") is not None
                or s.get("remote_packets_lost") is not None for s in outb)
            if measured or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        tap.diag(stream_summary(stats))
        tap.check(stats.get("state") == "connected", "echo.stats state connected",
                  f"state={stats.get('state')} ice={stats.get('ice_state')} dtls={stats.get('dtls_state')}")
        for d in ("inbound", "outbound"):
            for kind in ("video", "audio"):
                tap.check(packets(stats, d, kind) > 0, f"echo.stats {d} {kind} packets > 0",
                          f"{packets(stats, d, kind)}")
        rtts = [stats.get("rtt_ms")] + [s.get("rtt_ms") for s in stats.get("outbound") or []]
        remote = [s for s in stats.get("outbound") or []
                  if s.get("remote_jitter_ms") is not None or s.get("remote_packets_lost") is not None
                  or s.get("remote_fraction_lost") is not None]
        tap.check(any(r is not None for r in rtts) or remote,
                  "echo.stats has a measured rtt_ms or a remote (RR) report",
                  f"rtt_ms={rtts}, streams with remote report: {len(remote)}")

        # bye: the call ends, the server has no peers left.
        r = await client.call("bye", timeout=10)
        tap.check(r == {}, "bye returns {}", str(r))
        status = None
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            status = await client.call("server.status", timeout=5)
            if status.get("peers") == 0:
                break
            await asyncio.sleep(0.2)
        tap.check(status and status.get("peers") == 0, "server.status shows 0 peers after bye",
                  str(status))
        tap.check(status and (status.get("echotest") or {}).get("calls") == 0,
                  "server.status shows 0 echotest calls after bye", str(status))
        err = await client.call_error("echo.stats", timeout=5)
        tap.check(err.get("code") == 1020, "echo.stats after bye: 1020 (no call)", str(err))
    finally:
        if peer:
            await peer.close()
        if client:
            await client.close()
        rc = server.stop()
        tap.check(rc == 0, "server exits 0 on SIGTERM", f"exit code {rc}\n{server.log_tail(15)}")


run_test(main, timeout=100)
