"""WHIP ingest and WHEP egress (docs/API.md "WHIP and WHEP"), with aiortc peers.

An aiortc publisher POSTs its offer to /whip/<room> (counter video drawn into the
pixels + a tone) and an aiortc viewer POSTs a recvonly offer to /whep/<room>.

Asserts:
  - OPTIONS on /whip/<room> and /whep/<room> answers CORS preflight
    (Access-Control-Allow-Origin *, Allow-Methods with POST, Allow-Headers with
    Content-Type, Authorization and If-Match), and every response, errors included,
    carries Access-Control-Allow-Origin: *;
  - POST with Content-Type text/plain → 415; a garbage SDP → 400 (WHIP and WHEP)
    with a readable text/plain sentence; WHEP before anything is published → 404;
  - POST /whip/<room> → 201, Location /whip/<room>/<resource>, application/sdp answer
    (Location listed in Access-Control-Expose-Headers); the publisher connects;
  - a JSON-RPC client joining the room meanwhile sees a participant "whip" with a
    video and an audio track;
  - POST /whep/<room> → 201, Location /whep/<room>/<resource>, an answer with one
    sendonly m-section per offered kind and no extmap id used for two URIs;
  - the viewer, arriving 1 s after the publisher connected, decodes > 60 frames
    within 15 s (the server must get it a keyframe: neither aiortc peer asks on its
    own); >= 90% of them carry a counter the publisher sent, and the counters
    strictly increase; audio arrives too;
  - DELETE of both resources → 200; the room is empty afterwards (room.join lists
    no participants), the server has no PeerConnection left, and it exits 0 on
    SIGTERM.
"""

import asyncio
import time
from urllib.parse import urljoin

from sbtest import (EchoPeer, RpcClient, Server, counter_check, extmap_clashes, patch_aioice,
                    run_test, tap)

ROOM = "whipwhep"
TOKEN_SECRET = "whip-whep-test-secret-0123456789abcdef"


def user_token():
    import os
    import subprocess
    from sbtest import ROOT
    tool = os.path.join(os.environ.get("SB_BUILD", os.path.join(ROOT, "build")), "tools", "sb-token")
    return subprocess.run([tool, "--secret", TOKEN_SECRET, "--room", ROOM, "--role", "user"],
                          check=True, capture_output=True, text=True).stdout.strip()
MIN_FRAMES = 60
WINDOW_S = 15


class Viewer:
    """An aiortc WHEP viewer: recvonly video + audio, decoding the counters."""

    def __init__(self):
        from aiortc import RTCPeerConnection
        patch_aioice()
        self.pc = RTCPeerConnection()
        self.pc.addTransceiver("video", direction="recvonly")
        self.pc.addTransceiver("audio", direction="recvonly")
        self.decoded = []          # (monotonic, counter or None)
        self.audio_frames = 0
        self.errors = []
        self._tasks = []
        self.pc.on("track", lambda t: self._tasks.append(asyncio.ensure_future(self._consume(t))))
        self.connected_at = None
        self.pc.on("connectionstatechange", self._on_state)

    def _on_state(self):
        if self.pc.connectionState == "connected" and self.connected_at is None:
            self.connected_at = time.monotonic()

    async def _consume(self, track):
        from aiortc.mediastreams import MediaStreamError
        from sbtest import decode_counter
        try:
            while True:
                frame = await track.recv()
                if track.kind == "video":
                    self.decoded.append((time.monotonic(), decode_counter(frame)))
                else:
                    self.audio_frames += 1
        except MediaStreamError:
            pass
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001
            self.errors.append(repr(e))

    async def rtp_received(self):
        """{kind: packets} as the viewer's receivers counted them."""
        out = {}
        for t in self.pc.getTransceivers():
            for st in (await t.receiver.getStats()).values():
                if st.type == "inbound-rtp":
                    out[t.kind] = out.get(t.kind, 0) + (st.packetsReceived or 0)
        return out

    async def offer(self):
        await asyncio.wait_for(self.pc.setLocalDescription(await self.pc.createOffer()), 10)
        return self.pc.localDescription.sdp

    async def set_answer(self, sdp):
        from aiortc import RTCSessionDescription
        await asyncio.wait_for(self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer")), 10)

    async def close(self):
        for t in self._tasks:
            t.cancel()
        try:
            await asyncio.wait_for(self.pc.close(), 10)
        except Exception:  # noqa: BLE001
            pass


def m_sections(sdp):
    """[(kind, direction)] of an SDP."""
    out = []
    for line in sdp.splitlines():
        if line.startswith("m="):
            out.append([line[2:].split(" ")[0], None])
        elif out and line.strip() in ("a=sendonly", "a=recvonly", "a=sendrecv", "a=inactive"):
            out[-1][1] = line.strip()[2:]
    return [tuple(x) for x in out]


async def http(session, method, url, body=None, ctype=None, headers=None):
    h = dict(headers or {})
    if ctype:
        h["Content-Type"] = ctype
    async with session.request(method, url, data=body, headers=h) as r:
        text = await r.text(errors="replace")
        return r.status, r.headers, text


def readable_text(headers, body):
    """A text/plain sentence a person can read."""
    return (headers.get("Content-Type", "").startswith("text/plain") and len(body.strip()) >= 10
            and all(c.isprintable() or c in "\r\n\t" for c in body))


def cors_ok(headers):
    return headers.get("Access-Control-Allow-Origin") == "*"


async def main():
    import aiohttp
    # Anonymous (the harness's default) and a secret: the WHIP POST carries a real
    # user token (build/tools/sb-token), the rest none.
    server = Server(overrides={"auth.hs256_secret": TOKEN_SECRET})
    publisher = viewer = rpc = None
    session = None
    try:
        server.start()
        base = f"http://127.0.0.1:{server.port}"
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20))
        rpc = await RpcClient.connect(server.url)
        status = await rpc.call("server.status")
        if not tap.check("videoroom" in (status.get("plugins") or []),
                         "server.status lists the videoroom plugin", str(status.get("plugins"))):
            return

        # CORS preflight.
        for path in (f"/whip/{ROOM}", f"/whep/{ROOM}"):
            st, h, body = await http(session, "OPTIONS", base + path, headers={
                "Origin": "http://example.test", "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type, authorization"})
            methods = h.get("Access-Control-Allow-Methods", "").upper()
            allow_h = h.get("Access-Control-Allow-Headers", "").lower()
            tap.check(st in (200, 204) and cors_ok(h) and "POST" in methods
                      and all(x in allow_h for x in ("content-type", "authorization", "if-match")),
                      f"OPTIONS {path}: CORS preflight answered",
                      f"{st} {dict(h)}")

        # Wrong content type, garbage SDP.
        st, h, body = await http(session, "POST", f"{base}/whip/{ROOM}", "v=0\r\n", "text/plain")
        tap.check(st == 415 and cors_ok(h), "POST /whip with Content-Type text/plain: 415 (with CORS)",
                  f"{st} {dict(h)} {body!r}")
        st, h, body = await http(session, "POST", f"{base}/whip/{ROOM}", "this is not an SDP\r\n",
                                 "application/sdp")
        tap.check(st == 400 and cors_ok(h) and readable_text(h, body),
                  "POST /whip with a garbage SDP: 400, a readable text/plain body",
                  f"{st} {h.get('Content-Type')} {body!r}")

        # WHEP before anything is published: 404.
        viewer = Viewer()
        voffer = await viewer.offer()
        st, h, body = await http(session, "POST", f"{base}/whep/{ROOM}", voffer, "application/sdp")
        tap.check(st == 404 and cors_ok(h) and readable_text(h, body),
                  "POST /whep to a room where nothing is published: 404, a readable body",
                  f"{st} {h.get('Content-Type')} {body!r}")

        # WHIP publisher.
        publisher = EchoPeer(fps=30, send_direction="sendonly")
        offer = await publisher.offer()
        st, h, answer = await http(session, "POST", f"{base}/whip/{ROOM}", offer, "application/sdp",
                                   {"Authorization": f"Bearer {user_token()}"})
        loc = h.get("Location", "")
        expose = h.get("Access-Control-Expose-Headers", "").lower()
        if not tap.check(st == 201 and loc.startswith(f"/whip/{ROOM}/") and len(loc) > len(f"/whip/{ROOM}/")
                         and h.get("Content-Type", "").startswith("application/sdp")
                         and answer.startswith("v=0"),
                         "POST /whip: 201 Created, Location /whip/<room>/<resource>, application/sdp answer",
                         f"{st} Location={loc!r} {h.get('Content-Type')} {answer[:300]!r}"):
            tap.diag(server.log_tail())
            return
        whip_url = urljoin(base, loc)
        tap.check(cors_ok(h) and "location" in expose, "201 carries CORS headers exposing Location",
                  str(dict(h)))
        tap.check(not extmap_clashes(answer), "WHIP answer: no extmap id used for two URIs",
                  str(extmap_clashes(answer)))
        tap.check(all(d == "recvonly" for _, d in m_sections(answer)) and len(m_sections(answer)) == 2,
                  "WHIP answer: a recvonly m-section for video and audio", str(m_sections(answer)))
        await publisher.set_answer(answer)
        # When keyframe requests (PLI) reach the publisher: diagnostics for a viewer
        # that never gets a keyframe.
        pli_at = []
        vsender = next(t.sender for t in publisher.pc.getTransceivers() if t.kind == "video")
        send_keyframe = vsender._send_keyframe

        def spy_keyframe():
            pli_at.append(time.monotonic())
            send_keyframe()
        vsender._send_keyframe = spy_keyframe
        deadline = time.monotonic() + 10
        while publisher.pc.connectionState != "connected" and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        tap.check(publisher.pc.connectionState == "connected", "the WHIP publisher connects",
                  publisher.pc.connectionState)

        # The WHIP stream is a publisher of the room, seen over JSON-RPC.
        watcher = await RpcClient.connect(server.url)
        try:
            joined = await watcher.call("room.join", {"room": ROOM})
            whips = [p for p in joined.get("participants") or [] if p.get("display") == "whip"]
            kinds = sorted(t.get("kind") for p in whips for t in p.get("tracks") or [])
            tap.check(len(whips) == 1 and kinds == ["audio", "video"],
                      "room.join lists the WHIP publisher (display 'whip') with its video and audio",
                      str(joined))
            await watcher.call("room.leave")
        finally:
            await watcher.close()

        # The usual WHEP viewer arrives while the stream runs, long after the
        # publisher's first keyframe: the server must get it one (aiortc, as a
        # viewer, never asks for a keyframe itself; as a publisher it sends one
        # only when asked, or every ~100 s).
        await asyncio.sleep(1.0)

        # WHEP: a garbage SDP now that something is published, then the viewer.
        st, h, body = await http(session, "POST", f"{base}/whep/{ROOM}", "this is not an SDP\r\n",
                                 "application/sdp")
        tap.check(st == 400 and cors_ok(h) and readable_text(h, body),
                  "POST /whep with a garbage SDP: 400, a readable text/plain body",
                  f"{st} {h.get('Content-Type')} {body!r}")
        t_whep = time.monotonic()
        st, h, vanswer = await http(session, "POST", f"{base}/whep/{ROOM}", voffer, "application/sdp")
        vloc = h.get("Location", "")
        if not tap.check(st == 201 and vloc.startswith(f"/whep/{ROOM}/") and vanswer.startswith("v=0")
                         and h.get("Content-Type", "").startswith("application/sdp"),
                         "POST /whep: 201 Created, Location /whep/<room>/<resource>, application/sdp answer",
                         f"{st} Location={vloc!r} {vanswer[:300]!r}"):
            tap.diag(server.log_tail())
            return
        whep_url = urljoin(base, vloc)
        ms = m_sections(vanswer)
        tap.check(sorted(ms) == [("audio", "sendonly"), ("video", "sendonly")],
                  "WHEP answer: one sendonly m-section per offered kind", str(ms))
        tap.check(not extmap_clashes(vanswer), "WHEP answer: no extmap id used for two URIs",
                  str(extmap_clashes(vanswer)))
        await viewer.set_answer(vanswer)

        deadline = t_whep + WINDOW_S
        while len(viewer.decoded) <= MIN_FRAMES and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        n = len(viewer.decoded)
        tap.check(n > MIN_FRAMES, f"the WHEP viewer decodes > {MIN_FRAMES} frames within {WINDOW_S} s",
                  f"{n} frames after {time.monotonic() - t_whep:.1f} s; viewer pc "
                  f"{viewer.pc.connectionState}; errors {viewer.errors}; "
                  f"RTP received {await viewer.rtp_received()}; relative to POST /whep: PLIs reached the "
                  f"publisher at {[round((t - t_whep) * 1000) for t in pli_at]} ms, the viewer pc connected at "
                  f"{round((viewer.connected_at - t_whep) * 1000) if viewer.connected_at else None} ms")
        frames, valid, in_sent, inc, pairs = counter_check(viewer.decoded, publisher.video_track.sent)
        tap.check(frames > 0 and in_sent >= 0.9 * frames,
                  ">= 90% of the viewer's frames carry a counter the WHIP publisher sent",
                  f"{in_sent}/{frames} ({valid} valid codes); first {[c for _, c in viewer.decoded[:8]]}")
        tap.check(pairs > 0 and inc == pairs, "the viewer's counters strictly increase",
                  f"{inc}/{pairs} pairs increase")
        if viewer.decoded:
            delays = sorted(ts - publisher.video_track.sent_at[c] for ts, c in viewer.decoded
                            if c is not None and c in publisher.video_track.sent_at)
            if delays:
                tap.diag(f"publish → view delay median {delays[len(delays) // 2] * 1000:.0f} ms, "
                         f"max {delays[-1] * 1000:.0f} ms; first frame {viewer.decoded[0][0] - t_whep:.2f} s "
                         f"after POST /whep")
        tap.check(viewer.audio_frames > 0, "the WHEP viewer receives audio", f"{viewer.audio_frames} frames")
        tap.diag(f"relative to POST /whep: PLIs reached the publisher at "
                 f"{[round((t - t_whep) * 1000) for t in pli_at]} ms, the viewer connected at "
                 f"{round((viewer.connected_at - t_whep) * 1000) if viewer.connected_at else None} ms")

        # DELETE both resources.
        st, h, body = await http(session, "DELETE", whep_url)
        tap.check(st == 200 and cors_ok(h), "DELETE the WHEP resource: 200", f"{st} {body!r}")
        st, h, body = await http(session, "DELETE", whip_url)
        tap.check(st == 200 and cors_ok(h), "DELETE the WHIP resource: 200", f"{st} {body!r}")
        st, h, body = await http(session, "DELETE", whip_url)
        tap.diag(f"a second DELETE of the WHIP resource: {st} {body!r}")

        check = await RpcClient.connect(server.url)
        try:
            joined = await check.call("room.join", {"room": ROOM})
            tap.check(joined.get("participants") == [], "after both DELETEs the room is empty",
                      str(joined))
            await check.call("room.leave")
        finally:
            await check.close()
        status = None
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            status = await rpc.call("server.status")
            if status.get("peers") == 0:
                break
            await asyncio.sleep(0.2)
        tap.check(status and status.get("peers") == 0, "server.status: no PeerConnection left",
                  str(status))
    finally:
        for p in (viewer, publisher):
            if p:
                await p.close()
        if session:
            await session.close()
        if rpc:
            await rpc.close()
        rc = server.stop()
        tap.check(rc == 0, "server exits 0 on SIGTERM", f"exit code {rc}\n{server.log_tail(15)}")


run_test(main, timeout=100)
