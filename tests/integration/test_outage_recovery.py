"""A network outage shorter than the consent timeout does not end a call: all UDP
to the server's media ports is dropped for 10 s (silently, as a dead link would,
with an nftables rule in this test's own network namespace), then let through
again, and the echo resumes on the same PeerConnection. The same outage with
consent_timeout = 5 ends the call with 'ICE consent expired'."""

import asyncio
import subprocess
import time

from sbtest import EchoPeer, RpcClient, Server, run_test, tap

OUTAGE_S = 10


def nft(*args):
    subprocess.run(["nft", *args], check=True)


def drop_media(ports):
    nft("add", "table", "inet", "outage")
    nft("add", "chain", "inet", "outage", "inp", "{ type filter hook input priority 0; }")
    nft("add", "rule", "inet", "outage", "inp", "udp", "dport", f"{ports[0]}-{ports[1]}", "drop")


def restore_media():
    nft("delete", "table", "inet", "outage")


async def echo_call(server):
    client = await RpcClient.connect(server.url)
    peer = EchoPeer(fps=30)
    answer = await client.call("echo.start", {"sdp": await peer.offer()}, timeout=15)
    await peer.set_answer(answer["sdp"])
    await client.wait_notification("peer.state", lambda p: p.get("state") == "connected", timeout=15)
    await peer.wait_video_frames(30, timeout=15)
    return client, peer


async def outage(client, peer, ports):
    """Drops media for OUTAGE_S; returns (frames before, frames at the end of the outage)."""
    before = peer.video_frames
    drop_media(ports)
    try:
        await asyncio.sleep(OUTAGE_S)
    finally:
        restore_media()
    return before, peer.video_frames


async def main():
    ports = (20000, 20999)
    # 1: the default consent timeout (25 s) outlasts a 10 s outage.
    server = Server(media_ports=ports)
    client = peer = None
    try:
        server.start()
        client, peer = await echo_call(server)
        before, during = await outage(client, peer, ports)
        tap.check(during - before < 20, "no echo while the link is down",
                  f"{during - before} frames during the outage")
        t_up = time.monotonic()
        frames = await peer.wait_video_frames(during + 60, timeout=15)
        tap.check(frames >= during + 60, "the echo resumes after the outage on the same PeerConnection",
                  f"{frames - during} frames in {time.monotonic() - t_up:.1f}s after the link came back")
        failed = [p for p in client.notifications_of("peer.state") if p.get("state") != "connected"]
        tap.check(not failed, "no peer.state failed or closed", str(failed))
        status = await client.call("server.status")
        tap.check(status.get("peers") == 1, "the peer is still there", str(status))
        stats = await client.call("echo.stats")
        tap.check(stats.get("state") == "connected", "echo.stats: connected", stats.get("state"))
    finally:
        if peer:
            await peer.close()
        if client:
            await client.close()
        tap.check(server.stop() == 0, "server exits 0 on SIGTERM")

    # 2: with a consent timeout shorter than the outage, the call ends.
    server = Server(name="test_outage_recovery-short", media_ports=ports,
                    overrides={"media.consent_timeout": "5"})
    client = peer = None
    try:
        server.start()
        client, peer = await echo_call(server)
        t0 = time.monotonic()
        drop_media(ports)
        try:
            note = await client.wait_notification(
                "peer.state", lambda p: p.get("state") == "failed", timeout=OUTAGE_S + 5)
        except asyncio.TimeoutError:
            note = None
        finally:
            restore_media()
        elapsed = time.monotonic() - t0
        tap.check(note is not None and "consent" in note.get("reason", ""),
                  "consent_timeout = 5: a 10 s outage ends the call with 'consent expired'", str(note))
        tap.check(note is not None and 4.5 <= elapsed <= 7.5, "after about 5 s of silence",
                  f"{elapsed:.1f}s")
        status = await client.call("server.status")
        tap.check(status.get("peers") == 0, "no peer left", str(status))
    finally:
        if peer:
            await peer.close()
        if client:
            await client.close()
        tap.check(server.stop() == 0, "server exits 0 on SIGTERM (short timeout)")


run_test(main, timeout=100)
