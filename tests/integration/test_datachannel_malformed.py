"""Malformed SCTP packets and DCEP messages inside a real DTLS association: an
aiortc peer with two data channels on an echo call writes garbage straight into
its DTLS transport (packets whose chunk lengths do not add up) and bad DCEP
messages into its SCTP association (an OPEN whose label overruns it, an unknown
message type, an OPEN on a stream that already carries a channel). The server drops
and counts each one (echo.stats data.malformed_packets / malformed_dcep), the
association stays up and both channels keep echoing. Then the peer closes one
channel: the server closes its side (aiortc sees 'close') and the other channel
still echoes."""

import asyncio
import struct

from sbtest import RpcClient, Server, patch_aioice, run_test, tap


def sctp_packet(chunks):
    """Common header (ports 5000, tag 0, checksum 0) + raw chunk bytes."""
    return struct.pack("!HHII", 5000, 5000, 0, 0) + chunks


async def echo_roundtrip(channel, inbox, text, timeout=5.0):
    channel.send(text)
    deadline = asyncio.get_event_loop().time() + timeout
    while asyncio.get_event_loop().time() < deadline:
        if text in inbox:
            return True
        await asyncio.sleep(0.05)
    return False


async def main():
    from aiortc import RTCPeerConnection, RTCSessionDescription
    patch_aioice()
    server = Server()
    client = pc = None
    try:
        server.start()
        client = await RpcClient.connect(server.url)
        pc = RTCPeerConnection()
        inbox = {"a": [], "b": []}
        chans = {name: pc.createDataChannel(name) for name in ("a", "b")}
        closed = asyncio.Event()
        for name, ch in chans.items():
            ch.on("message", lambda m, name=name: inbox[name].append(m))
        chans["b"].on("close", closed.set)
        await pc.setLocalDescription(await pc.createOffer())
        answer = await client.call("echo.start", {"sdp": pc.localDescription.sdp}, timeout=15)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
        for _ in range(100):
            if all(c.readyState == "open" for c in chans.values()):
                break
            await asyncio.sleep(0.1)
        tap.check(all(c.readyState == "open" for c in chans.values()),
                  "aiortc's two data channels open on the echo call",
                  str({n: c.readyState for n, c in chans.items()}))
        ok = await echo_roundtrip(chans["a"], inbox["a"], "before")
        tap.check(ok, "a message is echoed before the garbage", str(inbox))

        dtls = pc.sctp.transport
        bad_packets = [
            sctp_packet(bytes([0, 0, 0, 3])),                 # chunk length under 4
            sctp_packet(bytes([0, 0, 0, 40]) + b"x" * 8),      # chunk longer than the packet
            sctp_packet(b""),                                  # no chunk at all
            b"\x13\x88\x13",                                   # shorter than a header
        ]
        for pkt in bad_packets:
            await dtls._send_data(pkt)
        sctp = pc.sctp
        free = chans["b"].id + 20   # a stream no channel uses (aiortc's parity)
        await sctp._send(free, 50, bytes([3, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0]) + b"x")  # label overruns
        await sctp._send(free + 2, 50, bytes([7]))                                      # unknown type
        await sctp._send(chans["a"].id, 50, bytes([3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))  # stream in use
        await asyncio.sleep(0.5)

        ok_a = await echo_roundtrip(chans["a"], inbox["a"], "after-a")
        ok_b = await echo_roundtrip(chans["b"], inbox["b"], "after-b")
        tap.check(ok_a and ok_b, "both channels still echo after the garbage", str(inbox))
        stats = await client.call("echo.stats", {}, timeout=5)
        data = stats.get("data") or {}
        tap.check(data.get("malformed_packets") == len(bad_packets),
                  "each malformed SCTP packet is dropped and counted", str(data))
        tap.check(data.get("malformed_dcep") == 3 and data.get("connected") is True,
                  "each bad DCEP message is dropped and counted; the association is up", str(data))
        tap.check(pc.connectionState == "connected", "the PeerConnection stays connected",
                  pc.connectionState)

        chans["b"].close()
        try:
            await asyncio.wait_for(closed.wait(), 10)
        except asyncio.TimeoutError:
            pass
        tap.check(closed.is_set() and chans["b"].readyState == "closed",
                  "closing a channel from aiortc completes (the server reset its side)",
                  chans["b"].readyState)
        ok = await echo_roundtrip(chans["a"], inbox["a"], "last")
        tap.check(ok, "the other channel still echoes after the close", str(inbox["a"][-3:]))
        stats = await client.call("echo.stats", {}, timeout=5)
        tap.check((stats.get("data") or {}).get("channels") == 1,
                  "the server counts one open channel after the close", str(stats.get("data")))
    finally:
        if pc:
            await pc.close()
        if client:
            await client.close()
        server.stop()


run_test(main)
