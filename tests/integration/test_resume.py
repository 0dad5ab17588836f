"""Session resume on the server side (docs/API.md "session.resume"), with JSON-RPC
clients whose TCP connection is cut (aborted: no WebSocket close frame) the way a
network failure ends it:

  - welcome carries a resume token; a cut session in a room is held: the others
    see nobody leave; notifications meanwhile are queued
  - a wrong token is refused (1051) and changes nothing; the right one resumes the
    same session: the queued notifications first, then the answer (a new token),
    then room methods work as before; the old token is spent
  - a held session nobody resumes is closed after resume_grace: the others get
    room.participant_left
  - a deliberate close (a close frame) still ends the session at once
  - resuming a session whose old connection still looks alive takes it over: the
    old connection is closed with 4000
  - a session without calls is not held (nothing to resume)
  - a session still held at shutdown is closed cleanly; the server runs under
    AddressSanitizer (build-asan) and must report no leak
"""

import asyncio
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sbtest import RpcClient, Server, run_test, sanitizer_env, sanitizer_reports, tap  # noqa: E402

GRACE = 3


def cut(client):
    """Ends the TCP connection without a WebSocket close frame (RST)."""
    client.ws.transport.abort()


async def closed_within(client, seconds):
    deadline = time.monotonic() + seconds
    while client.closed is None and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return client.closed is not None


async def body():
    server = Server(asan=True, env=sanitizer_env(), overrides={"signaling.resume_grace": str(GRACE)})
    clients = []

    async def connect():
        c = await RpcClient.connect(server.url)
        clients.append(c)
        return c

    try:
        server.start()
        watcher = await connect()
        await watcher.call("room.join", {"room": "r", "display": "watcher"})

        # --- cut, queued notifications, resume -----------------------------------
        a = await connect()
        welcome = a.notifications_of("welcome")[0]
        token = welcome.get("resume_token")
        tap.check(isinstance(token, str) and len(token) >= 22 and welcome.get("resume_grace") == GRACE,
                  "welcome carries a resume token and the grace", str(welcome))
        joined = await a.call("room.join", {"room": "r", "display": "a"})
        pid = joined["participant"]
        await watcher.wait_notification("room.participant_joined",
                                        lambda p: p["participant"]["id"] == pid)
        cut(a)
        await closed_within(a, 2)
        late = await connect()
        late_join = await late.call("room.join", {"room": "r", "display": "late"})
        await asyncio.sleep(1.0)
        left = [p for p in watcher.notifications_of("room.participant_left") if p.get("participant") == pid]
        tap.check(not left, "a cut session stays in its room while held (nobody sees it leave)")

        b = await connect()
        e = await b.call_error("session.resume", {"session": a.session, "resume_token": "x" * 32})
        tap.check(e.get("code") == 1051, "a wrong token is refused with 1051", str(e))
        n_before = len(b.notifications)
        r = await b.call("session.resume", {"session": a.session, "resume_token": token})
        tap.check(r.get("session") == a.session and r.get("resume_token") not in (None, token)
                  and r.get("dropped") == 0,
                  "the right token resumes the same session (a fresh token, nothing dropped)", str(r))
        queued = [m.get("params", {}) for _, m in b.notifications[n_before:]
                  if m.get("method") == "room.participant_joined"]
        tap.check(any(q["participant"]["id"] == late_join["participant"] for q in queued),
                  "the notification sent while it was held arrives, before the answer",
                  str([m.get("method") for _, m in b.notifications]))
        st = await b.call("room.stats")
        tap.check(st.get("participant") == pid and st.get("room") == "r",
                  "room methods work on the resumed session (same participant)", str(st))
        await late.call("room.leave")
        p = await b.wait_notification("room.participant_left",
                                      lambda p: p.get("participant") == late_join["participant"], timeout=5)
        tap.check(p is not None, "later notifications reach the new connection")
        c2 = await connect()
        e = await c2.call_error("session.resume", {"session": a.session, "resume_token": token})
        tap.check(e.get("code") == 1051, "a token is good for one resume only", str(e))

        # --- grace expiry ---------------------------------------------------------
        x = await connect()
        xj = await x.call("room.join", {"room": "r", "display": "x"})
        cut(x)
        t0 = time.monotonic()
        p = await watcher.wait_notification("room.participant_left",
                                            lambda p: p.get("participant") == xj["participant"],
                                            timeout=GRACE + 5)
        dt = time.monotonic() - t0
        tap.check(GRACE - 0.5 <= dt <= GRACE + 2,
                  f"a held session nobody resumes leaves after resume_grace ({GRACE} s)", f"{dt:.1f} s")

        # --- a deliberate close ----------------------------------------------------
        y = await connect()
        yj = await y.call("room.join", {"room": "r", "display": "y"})
        t0 = time.monotonic()
        await y.close()
        await watcher.wait_notification("room.participant_left",
                                        lambda p: p.get("participant") == yj["participant"], timeout=5)
        dt = time.monotonic() - t0
        tap.check(dt < 1.0, "a WebSocket closed with a close frame leaves at once", f"{dt:.2f} s")

        # --- takeover of a connection that still looks alive -----------------------
        z = await connect()
        ztoken = z.notifications_of("welcome")[0]["resume_token"]
        zj = await z.call("room.join", {"room": "r", "display": "z"})
        z2 = await connect()
        r = await z2.call("session.resume", {"session": z.session, "resume_token": ztoken})
        tap.check(r.get("session") == z.session, "a live session can be resumed from a new connection")
        await closed_within(z, 3)
        tap.check(z.closed is not None and z.closed[0] == 4000,
                  "the old connection is closed with 4000", str(z.closed))
        st = await z2.call("room.stats")
        tap.check(st.get("participant") == zj["participant"], "the session goes on on the new one")

        # --- nothing to hold ---------------------------------------------------------
        n = await connect()
        ntoken = n.notifications_of("welcome")[0]["resume_token"]
        cut(n)
        await asyncio.sleep(0.5)
        n2 = await connect()
        e = await n2.call_error("session.resume", {"session": n.session, "resume_token": ntoken})
        tap.check(e.get("code") == 1051, "a session without calls is not held", str(e))

        # --- held at shutdown (the finally block stops the server) ----------------------
        h = await connect()
        await h.call("room.join", {"room": "r", "display": "h"})
        cut(h)

        metrics = await asyncio.to_thread(server_metrics, server.port)
        tap.check(metrics.get("switchboard_sessions_resumed_total", 0) >= 2
                  and metrics.get("switchboard_sessions_expired_total", 0) >= 1
                  and metrics.get('switchboard_rejected_total{reason="resume_failed"}', 0) >= 3,
                  "resumes, expiries and refusals are counted in /metrics",
                  str({k: v for k, v in metrics.items() if "resum" in k or "expired" in k or "held" in k}))
    finally:
        for c in clients:
            await c.close()
        rc = server.stop(timeout=30)
        tap.check(rc == 0, "server exits 0 on SIGTERM", f"exit code {rc}\n{server.log_tail(20)}")
        reports = sanitizer_reports(server.log_text())
        tap.check(not reports, "no AddressSanitizer, LeakSanitizer or UBSan report", "\n".join(reports[:20]))


def server_metrics(port):
    import urllib.request
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


run_test(body, timeout=90)
