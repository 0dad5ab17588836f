"""Authentication and roles (docs/API.md "Authentication"), with [auth] anonymous =
false, an HS256 secret and an ES256 public key; every token is minted by
build/tools/sb-token.

Asserts:
  - without a token: ping works, room.join / server.status / room.publish get 1030;
  - refused tokens, on room.join: expired, not yet valid (nbf), forged (another
    secret), alg none, HS256 keyed with the public key's PEM (algorithm confusion),
    garbage → 1030; a token for another room → 1032; an expired ?token= on the
    WebSocket URL makes the first method say why (1030);
  - guest (token on the WebSocket URL): room.join, subscribe, unsubscribe, stats,
    server.status, room.answer (to the room.offer of the user's tracks) succeed;
    room.publish, unpublish, mute, kick, create, destroy, lock, unlock, mute of
    another, echo.start, textroom.connect → 1031;
  - user (token in room.join's params): room.join, publish (an aiortc offer),
    mute (own), stats, subscribe, unsubscribe, unpublish, echo.start / stats /
    configure, textroom.connect / hangup succeed; kick, create, destroy, lock,
    unlock, mute of another → 1031;
  - moderator (ES256 token for every room, given with "auth"): kicks the guest (who gets
    room.kicked and is out), mutes the user (room.muted by "moderator"), locks the
    room (a new join → 1047), unlocks it (the join works), creates and destroys a
    room; a moderator of one room gets 1032 acting on another;
  - text rooms: a user's kick without a secret → 1080; a moderator token kicks
    without one (the user gets "kicked");
  - WHIP/WHEP: no token → 401 with WWW-Authenticate: Bearer; WHIP with a guest
    token → 403; with a user token → 201 (Authorization: Bearer) and DELETE → 200;
    WHEP with a guest token in ?token= → 201; a token for another room → 403; an
    expired one → 401;
  - /metrics counts the refusals (switchboard_rejected_total unauthorized, forbidden);
  - the server (the ASan build) exits 0 on SIGTERM with no sanitizer report.
"""

import asyncio
import base64
import json
import os
import subprocess
import tempfile

from sbtest import (EchoPeer, RoomSubscriber, RpcClient, Server, patch_aioice, run_test, sanitizer_env,
                    sanitizer_reports, tap, ROOT)

ROOM = "authroom"
SECRET = "integration-test-secret-0123456789abcdef"
SB_TOKEN = os.path.join(os.environ.get("SB_BUILD", os.path.join(ROOT, "build")), "tools", "sb-token")


def mint(*args, secret=SECRET, key=None):
    cmd = [SB_TOKEN] + (["--key", key] if key else ["--secret", secret]) + list(args)
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()


def b64(obj):
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


async def expect_code(client, method, params, code, what):
    err = await client.call_error(method, params)
    tap.check(err.get("code") == code, f"{what}: {method} → {code}", json.dumps(err)[:300])
    return err


async def expect_ok(client, method, params, what):
    err = await client.call_error(method, params)
    ok = err.get("code") is None
    tap.check(ok, f"{what}: {method} succeeds", "" if ok else json.dumps(err)[:300])
    return err.get("result") if ok else None


async def data_offer():
    """An aiortc offer with only a data channel (for textroom.connect)."""
    from aiortc import RTCPeerConnection
    patch_aioice()
    pc = RTCPeerConnection()
    pc.createDataChannel("chat", protocol="textroom")
    await pc.setLocalDescription(await pc.createOffer())
    return pc, pc.localDescription.sdp


async def media_offer(direction):
    """An offer of audio and video from a PeerConnection that will never connect
    (the test needs the server's answer, not media)."""
    from aiortc import RTCPeerConnection
    patch_aioice()
    pc = RTCPeerConnection()
    pc.addTransceiver("video", direction=direction)
    pc.addTransceiver("audio", direction=direction)
    await pc.setLocalDescription(await pc.createOffer())
    return pc, pc.localDescription.sdp


class TextPeer:
    """A text room connection in aiortc: one channel, requests and their replies."""

    def __init__(self, client):
        self.client = client
        self.pc = None
        self.ch = None
        self.inbox = asyncio.Queue()

    async def open(self):
        from aiortc import RTCPeerConnection, RTCSessionDescription
        patch_aioice()
        self.pc = RTCPeerConnection()
        self.ch = self.pc.createDataChannel("chat", protocol="textroom")
        opened = asyncio.Event()
        self.ch.on("open", opened.set)
        self.ch.on("message", lambda m: self.inbox.put_nowait(json.loads(m)))
        await self.pc.setLocalDescription(await self.pc.createOffer())
        answer = await self.client.call("textroom.connect", {"sdp": self.pc.localDescription.sdp}, timeout=15)
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
        await asyncio.wait_for(opened.wait(), 15)

    async def request(self, req):
        self.ch.send(json.dumps(req))
        while True:
            msg = await asyncio.wait_for(self.inbox.get(), 10)
            if msg.get("transaction") == req.get("transaction"):
                return msg

    async def event(self, name):
        while True:
            msg = await asyncio.wait_for(self.inbox.get(), 10)
            if msg.get("event") == name:
                return msg


async def http(session, method, url, body=None, headers=None):
    h = dict(headers or {})
    if body is not None:
        h["Content-Type"] = "application/sdp"
    async with session.request(method, url, data=body, headers=h) as r:
        return r.status, r.headers, await r.text(errors="replace")


MODERATOR_ONLY = [
    ("room.kick", {"participant": "pnobody00"}),
    ("room.create", {"room": "newroom"}),
    ("room.destroy", {"room": ROOM}),
    ("room.lock", {}),
    ("room.unlock", {}),
    ("room.mute", {"muted": True, "participant": "pnobody00"}),
]


async def main():
    import aiohttp
    keydir = tempfile.mkdtemp(prefix="sb-auth-")
    priv, pub = os.path.join(keydir, "ec.pem"), os.path.join(keydir, "ec.pub")
    subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", priv],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "ec", "-in", priv, "-pubout", "-out", pub], check=True, capture_output=True)
    server = Server(asan=True, env=sanitizer_env(),
                    overrides={"auth.anonymous": "false", "auth.hs256_secret": SECRET, "auth.public_key": pub})
    clients, pcs, peers = [], [], []
    session = None

    async def connect(query=""):
        c = await RpcClient.connect(server.url + query)
        clients.append(c)
        return c

    try:
        server.start()
        base = f"http://127.0.0.1:{server.port}"
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20))
        tap.check(server.log_grep("auth: tokens signed with HS256, ES256"), "the server accepts HS256 and ES256",
                  server.log_tail(10))

        # --- no token, refused tokens ---
        anon = await connect()
        await expect_ok(anon, "ping", None, "no token")
        await expect_code(anon, "room.join", {"room": ROOM}, 1030, "no token")
        await expect_code(anon, "server.status", None, 1030, "no token")
        await expect_code(anon, "room.publish", {"sdp": "v=0"}, 1030, "no token")
        pem_text = open(pub).read()
        refused = {
            "expired": mint("--room", ROOM, "--role", "user", "--exp", "-120"),
            "not yet valid": mint("--room", ROOM, "--role", "user", "--nbf", "+3600"),
            "forged": mint("--room", ROOM, "--role", "moderator", secret="not-the-server-secret-xxxxxxxxxxx"),
            "alg none": b64({"alg": "none", "typ": "JWT"}) + "."
                        + b64({"room": ROOM, "role": "moderator", "exp": 4102444800}) + ".",
            "HS256 keyed with the public key": mint("--room", ROOM, "--role", "moderator", secret=pem_text),
            "garbage": "not.a.token",
        }
        for what, token in refused.items():
            err = await expect_code(anon, "room.join", {"room": ROOM, "token": token}, 1030, f"{what} token")
        wrong_room = mint("--room", "elsewhere", "--role", "moderator")
        await expect_code(anon, "room.join", {"room": ROOM, "token": wrong_room}, 1032, "token for another room")
        late = await connect("?token=" + refused["expired"])
        err = await expect_code(late, "room.join", {"room": ROOM}, 1030, "expired ?token= at connect")
        tap.check("expired" in (err.get("message") or ""), "the error says the connect token expired",
                  err.get("message"))

        # --- user: token in room.join ---
        user_token = mint("--room", ROOM, "--role", "user", "--sub", "ursula")
        user = await connect()
        joined = await expect_ok(user, "room.join", {"room": ROOM, "display": "user", "token": user_token}, "user")
        user_id = joined and joined.get("participant")
        pub_peer = EchoPeer(send_direction="sendonly")
        peers.append(pub_peer)
        offer = await pub_peer.offer()
        published = await expect_ok(user, "room.publish", {"sdp": offer}, "user")
        if published:
            await pub_peer.set_answer(published["sdp"])
        own = [t["id"] for t in (published or {}).get("tracks", [])]
        await expect_ok(user, "room.mute", {"muted": True, "kind": "audio"}, "user (own audio)")
        await expect_ok(user, "room.mute", {"muted": False}, "user (unmute own)")
        await expect_ok(user, "room.stats", {}, "user")
        await expect_ok(user, "server.status", None, "user")
        for method, params in MODERATOR_ONLY:
            await expect_code(user, method, params, 1031, "user")
        # Echo test and text rooms: a user's.
        epc, eoffer = await media_offer("sendrecv")
        pcs.append(epc)
        echo = await expect_ok(user, "echo.start", {"sdp": eoffer}, "user")
        if echo:
            await expect_ok(user, "echo.stats", None, "user")
            await expect_ok(user, "echo.configure", {"bitrate": 500000}, "user")
        dpc, doffer = await data_offer()
        pcs.append(dpc)
        if await expect_ok(user, "textroom.connect", {"sdp": doffer}, "user"):
            await expect_ok(user, "textroom.hangup", None, "user")

        # --- guest: token on the WebSocket URL ---
        guest_token = mint("--room", ROOM, "--role", "guest", "--sub", "gary")
        guest = await connect("?token=" + guest_token)
        sub = RoomSubscriber(guest)
        gjoined = await expect_ok(guest, "room.join", {"room": ROOM, "display": "guest"}, "guest")
        guest_id = gjoined and gjoined.get("participant")
        await expect_ok(guest, "server.status", None, "guest")
        await expect_ok(guest, "room.subscribe", {"all": True}, "guest")
        answered = False
        for _ in range(100):
            if any(o.get("answered") is True for o in sub.offers):
                answered = True
                break
            await asyncio.sleep(0.1)
        tap.check(answered, "guest: room.answer to the subscriber offer succeeds",
                  json.dumps([{k: o.get(k) for k in ("version", "answered")} for o in sub.offers]))
        await expect_ok(guest, "room.stats", {}, "guest")
        err = await guest.call_error("room.restart_ice", {"pc": "subscriber"})
        tap.check(err.get("code") not in (1030, 1031, 1032), "guest: room.restart_ice is not refused for its role",
                  json.dumps(err)[:200])
        await expect_code(guest, "room.publish", {"sdp": offer}, 1031, "guest")
        await expect_code(guest, "room.unpublish", {}, 1031, "guest")
        await expect_code(guest, "room.mute", {"muted": True}, 1031, "guest")
        for method, params in MODERATOR_ONLY:
            await expect_code(guest, method, params, 1031, "guest")
        await expect_code(guest, "echo.start", {"sdp": offer}, 1031, "guest")
        await expect_code(guest, "textroom.connect", {"sdp": doffer}, 1031, "guest")
        await expect_ok(guest, "room.unsubscribe", {"all": True}, "guest")
        await expect_ok(user, "room.subscribe", {"all": True}, "user")
        await expect_ok(user, "room.unsubscribe", {"all": True}, "user")

        # --- moderator: ES256 token given with "auth" ---
        mod = await connect()
        who = await expect_ok(mod, "auth", {"token": mint("--room", "*", "--role", "moderator", "--sub", "mo",
                                                          key=priv)}, "moderator (ES256)")
        tap.check(who and who.get("role") == "moderator" and who.get("sub") == "mo",
                  "auth answers the token's role and sub", json.dumps(who))
        await expect_ok(mod, "room.join", {"room": ROOM, "display": "moderator"}, "moderator")
        kicked = await expect_ok(mod, "room.kick", {"participant": guest_id, "reason": "test"}, "moderator")
        tap.check(kicked and kicked.get("kicked") == [guest_id], "the kick names the guest", json.dumps(kicked))
        note = await guest.wait_notification("room.kicked", timeout=10)
        tap.check(note.get("participant") == guest_id, "the guest gets room.kicked", json.dumps(note))
        await expect_code(guest, "room.stats", {}, 1043, "kicked guest")
        muted = await expect_ok(mod, "room.mute", {"participant": user_id, "muted": True}, "moderator (other)")
        tap.check(muted and sorted(muted.get("tracks") or []) == sorted(own),
                  "the moderator muted every track of the user", json.dumps(muted))
        note = await user.wait_notification("room.muted", timeout=10)
        tap.check(note.get("by") == "moderator", "the user gets room.muted by moderator", json.dumps(note))
        await expect_code(user, "room.mute", {"muted": False}, 1031,
                          "user unmuting what a moderator muted")
        await expect_ok(mod, "room.mute", {"participant": user_id, "muted": False}, "moderator unmutes")
        await expect_ok(user, "room.mute", {"muted": True, "kind": "audio"}, "user after the moderator's unmute")
        await expect_ok(user, "room.mute", {"muted": False}, "user (own mute, own unmute)")
        await expect_ok(mod, "room.lock", {}, "moderator")
        await expect_code(guest, "room.join", {"room": ROOM}, 1047, "locked room, guest")
        await expect_ok(mod, "room.unlock", {"room": ROOM}, "moderator")
        await expect_ok(guest, "room.join", {"room": ROOM}, "guest after unlock")
        await expect_ok(mod, "room.create", {"room": "modroom"}, "moderator")
        await expect_ok(mod, "room.destroy", {"room": "modroom"}, "moderator")
        narrow = await connect()
        await expect_ok(narrow, "auth", {"token": mint("--room", ROOM, "--role", "moderator")}, "room moderator")
        await expect_code(narrow, "room.create", {"room": "other"}, 1032, "moderator of another room")
        await expect_code(narrow, "room.lock", {"room": "other"}, 1032, "moderator of another room")

        # --- text rooms: a moderator token may kick without a secret ---
        tr_user, tr_mod = TextPeer(user), TextPeer(mod)
        await tr_user.open()
        await tr_mod.open()
        pcs.extend([tr_user.pc, tr_mod.pc])
        j = await tr_user.request({"request": "join", "room": ROOM, "display": "u", "transaction": "u1"})
        await tr_mod.request({"request": "join", "room": ROOM, "display": "m", "transaction": "m1"})
        r = await tr_user.request({"request": "kick", "id": j.get("id"), "transaction": "u2"})
        tap.check(r.get("code") == 1080, "text room: a user without a secret may not kick (1080)", json.dumps(r))
        r = await tr_mod.request({"request": "kick", "id": j.get("id"), "transaction": "m2"})
        tap.check(r.get("response") == "success", "text room: a moderator token kicks without a secret",
                  json.dumps(r))
        ev = await tr_user.event("kicked")
        tap.check(ev.get("id") == j.get("id"), "text room: the user gets kicked", json.dumps(ev))

        # --- WHIP / WHEP ---
        whip = f"{base}/whip/{ROOM}"
        wpc, offer = await media_offer("sendonly")
        pcs.append(wpc)
        st, h, body = await http(session, "POST", whip, offer)
        tap.check(st == 401 and h.get("WWW-Authenticate", "").startswith("Bearer"),
                  "WHIP without a token: 401 with WWW-Authenticate: Bearer", f"{st} {dict(h)} {body!r}")
        st, h, body = await http(session, "POST", whip, offer, {"Authorization": f"Bearer {guest_token}"})
        tap.check(st == 403, "WHIP with a guest token: 403", f"{st} {body!r}")
        st, h, body = await http(session, "POST", whip, offer,
                                 {"Authorization": f"Bearer {refused['expired']}"})
        tap.check(st == 401, "WHIP with an expired token: 401", f"{st} {body!r}")
        st, h, body = await http(session, "POST", whip, offer, {"Authorization": f"Bearer {user_token}"})
        location = h.get("Location")
        tap.check(st == 201 and location, "WHIP with a user token: 201", f"{st} {body[:200]!r}")
        if location:
            st, _, body = await http(session, "DELETE", base + location)
            tap.check(st == 401, "WHIP DELETE without the token: 401", f"{st} {body!r}")
            st, _, body = await http(session, "DELETE", base + location,
                                     headers={"Authorization": f"Bearer {user_token}"})
            tap.check(st == 200, "WHIP DELETE with the token: 200", f"{st} {body!r}")
        vpc, voffer = await media_offer("recvonly")
        pcs.append(vpc)
        st, _, body = await http(session, "POST", f"{base}/whep/{ROOM}", voffer)
        tap.check(st == 401, "WHEP without a token: 401", f"{st} {body!r}")
        st, _, body = await http(session, "POST", f"{base}/whep/{ROOM}", voffer,
                                 {"Authorization": f"Bearer {wrong_room}"})
        tap.check(st == 403, "WHEP with a token for another room: 403", f"{st} {body!r}")
        st, h, body = await http(session, "POST", f"{base}/whep/{ROOM}?token={guest_token}", voffer)
        tap.check(st == 201, "WHEP with a guest token in ?token=: 201", f"{st} {body[:200]!r}")
        if h.get("Location"):
            st, _, _ = await http(session, "DELETE", f"{base}{h['Location']}?token={guest_token}")
            tap.check(st == 200, "WHEP DELETE with ?token=: 200", str(st))
        await expect_ok(user, "room.unpublish", {}, "user")
        st, _, text = await http(session, "GET", f"{base}/metrics")
        counts = {r: next((float(l.split()[-1]) for l in text.splitlines()
                           if l.startswith(f'switchboard_rejected_total{{reason="{r}"}}')), 0)
                  for r in ("unauthorized", "forbidden")}
        tap.check(st == 200 and counts["unauthorized"] >= 10 and counts["forbidden"] >= 20,
                  "/metrics counts the refusals (rejected_total unauthorized, forbidden)", json.dumps(counts))
    finally:
        for c in clients:
            await c.close()
        for p in peers:
            await p.close()
        for pc in pcs:
            try:
                await asyncio.wait_for(pc.close(), 5)
            except Exception:  # noqa: BLE001
                pass
        if session:
            await session.close()
        rc = server.stop()
        tap.check(rc == 0, "the server (ASan build) exits 0 on SIGTERM", f"exit {rc}\n{server.log_tail(20)}")
        reports = sanitizer_reports(server.log_text())
        tap.check(not reports, "no AddressSanitizer, leak or UBSan report", "\n".join(reports[:20]))


run_test(main, timeout=150)
