"""Malformed RTP/RTCP and garbage on an established video-room publisher session.

An aiortc publisher (counter video + tone) publishes in a room; an aiortc
subscriber (room.join subscribe "all", answering room.offer, asking for a keyframe
while it has no picture, as browsers do) decodes its frames.
Then, on the publisher's own 5-tuple (its ICE pair), the test sends, batch by batch
(N datagrams each), and reads the publisher's room.stats "dropped" counters after
each batch:

  1. RTP inside valid SRTP whose padding count is larger than the payload
     (libsrtp encrypts it; only an RTP parser can refuse it)      → malformed_rtp += N
  2. RTP whose header extension length runs past the end of the packet, and
  3. RTP whose CSRC count is larger than the packet,
     both SRTP-protected by hand (libsrtp refuses to protect them; so does the
     server's libsrtp to unprotect them, so they may be counted either way)
                                                                → malformed_rtp + srtp_failed += N
  4. RTP inside valid SRTP, unknown SSRC and payload type, whose one-byte header
     extension element runs past the extension block (walked when the server looks
     for the mid extension)                                     → malformed_rtp + unknown_ssrc += N
  5. an RTCP compound (valid RR + a packet whose length field runs past the end)
     inside valid SRTCP                                         → malformed_rtcp += N
  6. unencrypted RTP-looking garbage                            → srtp_failed += N
  7. garbage with a first byte no protocol uses (RFC 7983)      → unknown_class += N
  8. a DTLS application-data record with garbage content (DTLS discards it,
     RFC 6347 §4.1.2.7)                                          → no counter required

and then asserts that the call continues: the subscriber decodes new frames whose
counters are newer than any seen before the injection, both PeerConnections stay
connected, the publisher's inbound packet counters keep growing, server.status
answers, and SIGTERM exits 0.

The server is the ASan+UBSan build (build-asan, as in test_asan_leaks.py): a parser
reading past a buffer shows up as a sanitizer report, which fails the test.
"""

import asyncio
import hashlib
import hmac
import os
import re
import struct
import time

from sbtest import (EchoPeer, RoomSubscriber, RpcClient, Server, counter_check, run_test, sanitizer_env,
                    tap)

ROOM = "malformed"
N = 20


def _aes_cm(key, iv, n):
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    enc = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
    return enc.update(b"\0" * n) + enc.finalize()


class HandSrtp:
    """SRTP AES_CM_128_HMAC_SHA1_80 (RFC 3711 §4.1.1, §4.2, §4.3), roll-over counter 0,
    written out so that it protects headers libsrtp refuses. Checked against libsrtp
    on a well-formed packet before use (self_test)."""

    def __init__(self, key_salt):
        mkey, msalt = key_salt[:16], key_salt[16:30]

        def derive(label, n):          # §4.3.1 with kdr 0: x = label<<48 XOR salt
            x = bytearray(msalt)
            x[7] ^= label
            return _aes_cm(mkey, bytes(x) + b"\0\0", n)
        self.key, self.auth, self.salt = derive(0, 16), derive(1, 20), derive(2, 14)

    def protect(self, pkt, header_len):
        ssrc = struct.unpack("!I", pkt[8:12])[0]
        seq = struct.unpack("!H", pkt[2:4])[0]
        iv = int.from_bytes(self.salt + b"\0\0", "big") ^ (ssrc << 64) ^ (seq << 16)
        body = pkt[header_len:]
        ks = _aes_cm(self.key, iv.to_bytes(16, "big"), len(body))
        enc = pkt[:header_len] + bytes(a ^ b for a, b in zip(body, ks))
        return enc + hmac.new(self.auth, enc + b"\0\0\0\0", hashlib.sha1).digest()[:10]

    @staticmethod
    def self_test(key_salt):
        from pylibsrtp import Policy, Session
        pkt = struct.pack("!BBHII", 0x80, 96, 4321, 1, 0x0BADC0DE) + os.urandom(64)
        ref = Session(Policy(key=key_salt, ssrc_type=Policy.SSRC_ANY_OUTBOUND)).protect(pkt)
        return HandSrtp(key_salt).protect(pkt, 12) == ref


def tx_key_salt(dtls):
    """The publisher's SRTP master key+salt for sending (RFC 5764 §4.2)."""
    from aiortc.rtcdtlstransport import SRTP_KEY_LEN, SRTP_SALT_LEN, get_srtp_key_salt
    view = dtls.ssl.export_keying_material(b"EXTRACTOR-dtls_srtp", 2 * (SRTP_KEY_LEN + SRTP_SALT_LEN))
    return get_srtp_key_salt(view, 0 if dtls._role == "client" else 1)


def rtp(first, seq, ssrc, payload, pt=96):
    return struct.pack("!BBHII", first, pt, seq & 0xFFFF, 0, ssrc) + payload




async def main():
    server = Server(asan=True, env=sanitizer_env())
    pub_rpc = sub_rpc = None
    publisher = subscriber = None
    try:
        server.start()
        pub_rpc = await RpcClient.connect(server.url)
        status = await pub_rpc.call("server.status")
        if not tap.check("videoroom" in (status.get("plugins") or []),
                         "server.status lists the videoroom plugin", str(status.get("plugins"))):
            return
        me = await pub_rpc.call("room.join", {"room": ROOM, "display": "pub"})
        pid = me["participant"]
        publisher = EchoPeer(fps=30, send_direction="sendonly")
        ans = await pub_rpc.call("room.publish", {"sdp": await publisher.offer()}, timeout=15)
        await publisher.set_answer(ans["sdp"])
        track_ids = sorted(t["id"] for t in ans.get("tracks") or [])
        tap.check(track_ids == [f"{pid}/audio0", f"{pid}/video0"],
                  "room.publish: the publisher's tracks", str(ans.get("tracks")))
        video_id = f"{pid}/video0"

        sub_rpc = await RpcClient.connect(server.url)
        # Like a browser, the subscriber asks for a keyframe while it has no picture:
        # this test is about malformed packets, not about the first keyframe (that
        # is test_room_whip_whep.py's viewer, which does not ask).
        subscriber = RoomSubscriber(sub_rpc, keyframe_requests=True)
        await sub_rpc.call("room.join", {"room": ROOM, "display": "sub", "subscribe": "all"})
        got = await subscriber.wait_frames(video_id, 30, 20)
        if not tap.check(got >= 30, "the subscriber decodes the publisher's video (30 frames within 20 s)",
                         f"{got} frames; PLIs sent {subscriber.plis_sent}; offers {[(o.get('version'), o.get('answered')) for o in subscriber.offers]}; "
                         f"tracks {subscriber.track_of_mid}; errors {subscriber.errors}; "
                         f"pub {publisher.pc.connectionState}"):
            tap.diag(server.log_tail())
            return

        dtls = publisher.pc.getTransceivers()[0].sender.transport
        key = tx_key_salt(dtls)
        tap.check(HandSrtp.self_test(key), "hand-written SRTP matches libsrtp on a well-formed packet")
        hand = HandSrtp(key)

        async def dropped():
            st = await pub_rpc.call("room.stats")
            return (st.get("publisher") or {}).get("dropped") or {}

        async def inbound_packets():
            st = await pub_rpc.call("room.stats")
            return sum(s.get("packets") or 0 for s in (st.get("publisher") or {}).get("inbound") or [])

        before_all = await dropped()
        tap.diag(f"dropped before: {before_all}")
        pkts_before = await inbound_packets()
        max_before = max((c for _, c in subscriber.frames_of(video_id) if c is not None), default=-1)

        async def batch(name, send, counters, exact=None):
            d0 = await dropped()
            for i in range(N):
                await send(i)
            await asyncio.sleep(0.6)
            d1 = await dropped()
            delta = {k: d1.get(k, 0) - d0.get(k, 0) for k in set(d0) | set(d1)}
            grown = sum(delta.get(k, 0) for k in counters)
            cond = grown >= N if exact is None else delta.get(exact, 0) >= N
            tap.check(cond and grown <= N + 5,
                      f"{name}: counted in dropped.{'+'.join(counters)} ({N} sent)",
                      f"deltas {dict((k, v) for k, v in delta.items() if v)}")

        ssrc0 = 0x5EB00000
        await batch("RTP with a padding count past the payload, in valid SRTP",
                    lambda i: dtls._send_rtp(rtp(0xA0, 100 + i, ssrc0 + 1, os.urandom(40) + b"\xff")),
                    ["malformed_rtp"], exact="malformed_rtp")
        await batch("RTP whose extension length runs past the packet",
                    lambda i: dtls.transport._send(hand.protect(
                        rtp(0x90, 200 + i, ssrc0 + 2, struct.pack("!HH", 0xBEDE, 100) + os.urandom(24)), 16)),
                    ["malformed_rtp", "srtp_failed"])
        await batch("RTP whose CSRC count is larger than the packet",
                    lambda i: dtls.transport._send(hand.protect(rtp(0x8F, 300 + i, ssrc0 + 3, os.urandom(24)), 12)),
                    ["malformed_rtp", "srtp_failed"])
        # one-byte extension block of 1 word: element id 1 (mid) claiming 16 bytes
        ext = struct.pack("!HH", 0xBEDE, 1) + bytes([0x1F, 0x41, 0x42, 0x43])
        await batch("RTP whose header extension element runs past the extension block, in valid SRTP",
                    lambda i: dtls._send_rtp(rtp(0x90, 400 + i, ssrc0 + 4, ext + os.urandom(30), pt=125)),
                    ["malformed_rtp", "unknown_ssrc"])
        rr = struct.pack("!BBHI", 0x80, 201, 1, ssrc0 + 5)
        bad = struct.pack("!BBHI", 0x81, 205, 60, ssrc0 + 5) + struct.pack("!I", 1) + b"\0" * 4
        await batch("RTCP compound with a length field past the end, in valid SRTCP",
                    lambda i: dtls._send_rtp(rr + bad), ["malformed_rtcp"], exact="malformed_rtcp")
        await batch("unencrypted RTP-looking garbage",
                    lambda i: dtls.transport._send(b"\x80\x60" + os.urandom(70)), ["srtp_failed"],
                    exact="srtp_failed")
        await batch("garbage whose first byte is no known protocol (0xFF)",
                    lambda i: dtls.transport._send(b"\xff" + os.urandom(70)), ["unknown_class"],
                    exact="unknown_class")
        for i in range(N):   # DTLS application data, epoch 1, garbage content
            await dtls.transport._send(bytes([23, 0xFE, 0xFD, 0, 1]) + (1000 + i).to_bytes(6, "big")
                                       + struct.pack("!H", 48) + os.urandom(48))
        t_injected = time.monotonic()
        tap.diag(f"dropped after: {await dropped()}")

        # The call continues.
        await asyncio.sleep(3)
        after = subscriber.frames_of(video_id, since=t_injected)
        newer = [c for _, c in after if c is not None and c > max_before]
        tap.check(len(newer) >= 30,
                  "the subscriber keeps decoding new frames after the injection (>= 30 in 3 s)",
                  f"{len(after)} frames after, {len(newer)} newer than counter {max_before}; "
                  f"pub {publisher.pc.connectionState}; sub {subscriber.pc.connectionState}; "
                  f"errors {subscriber.errors}")
        frames, valid, in_sent, inc, pairs = counter_check(subscriber.frames_of(video_id),
                                                           publisher.video_track.sent)
        tap.check(frames and in_sent >= 0.9 * frames and inc == pairs,
                  "all along, >= 90% of the subscriber's frames carry a sent counter, increasing",
                  f"{in_sent}/{frames} sent counters, {inc}/{pairs} increasing")
        tap.check(publisher.pc.connectionState == "connected" and subscriber.pc.connectionState == "connected",
                  "both PeerConnections are still connected",
                  f"pub {publisher.pc.connectionState}, sub {subscriber.pc.connectionState}")
        pkts_after = await inbound_packets()
        tap.check(pkts_after > pkts_before + 100, "the server keeps receiving the publisher's media",
                  f"inbound packets {pkts_before} → {pkts_after}")
        gone = [n for n in pub_rpc.notifications_of("peer.state") + sub_rpc.notifications_of("peer.state")
                if n.get("state") in ("failed", "closed")]
        tap.check(not gone, "no peer.state failed/closed notification", str(gone))
        status = await pub_rpc.call("server.status")
        tap.check(status.get("peers") == 2, "server.status answers: 2 PeerConnections",
                  str(status))
        tap.check(server.running(), "the server is still running")
    finally:
        for c in (subscriber, publisher):
            if c:
                await c.close()
        for c in (sub_rpc, pub_rpc):
            if c:
                await c.close()
        rc = server.stop(timeout=30)
        tap.check(rc == 0, "server exits 0 on SIGTERM", f"exit code {rc}\n{server.log_tail(15)}")
        log = server.log_text()
        for what, pat in (("AddressSanitizer / UBSan", r"ERROR: AddressSanitizer|runtime error:"),
                          ("LeakSanitizer", r"ERROR: LeakSanitizer")):
            bad = [l for l in log.splitlines() if re.search(pat, l)]
            tap.check(not bad, f"no {what} report", log[log.find(bad[0]):][:12000] if bad else "")


run_test(main, timeout=100)
