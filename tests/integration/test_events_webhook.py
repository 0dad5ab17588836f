"""The webhook (docs/API.md "Webhooks"): lifecycle events POSTed as JSON to a
receiver in this test process (aiohttp on 127.0.0.1), signed with [webhook] secret.

The server is the ASan+UBSan build, so the delivery thread, its queue and its
shutdown run under the sanitizers.

Asserts:
  - two participants join a room and leave it: the receiver gets room.created,
    participant.joined (A), participant.joined (B), participant.left (A),
    participant.left (B), room.closed, in that order, seq increasing by one, each
    with X-Switchboard-Event = its type, X-Switchboard-Delivery = its seq, a valid
    X-Switchboard-Signature (HMAC-SHA256 of the body) and Content-Type
    application/json;
  - a receiver that answers the first POST with 500: the same event (same
    delivery id, X-Switchboard-Attempt 2) comes again after the backoff, and the
    events after it follow in order;
  - /metrics counts the deliveries and the retry (switchboard_webhook_delivered_total,
    switchboard_webhook_retries_total) and drops nothing;
  - an event still waiting at shutdown is delivered before the server exits (the
    flush), SIGTERM exits 0, and the sanitizers report nothing.
"""

import asyncio
import hashlib
import hmac
import json
import re
import time

from sbtest import RpcClient, Server, free_port, run_test, tap

SECRET = "hook-secret"


def sanitizer_env():
    return {"ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:halt_on_error=1",
            "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1"}


class Receiver:
    """aiohttp app recording every POST; answers 500 to the next `fail` ones."""

    def __init__(self):
        self.posts = []       # (headers dict, raw body bytes, status answered)
        self.fail = 0
        self.delay = 0.0
        self.port = free_port()
        self.runner = None

    async def handle(self, request):
        from aiohttp import web
        body = await request.read()
        if self.delay:
            await asyncio.sleep(self.delay)
        status = 204
        if self.fail > 0:
            self.fail -= 1
            status = 500
        self.posts.append((dict(request.headers), body, status))
        return web.Response(status=status)

    async def start(self):
        from aiohttp import web
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self):
        if self.runner:
            await self.runner.cleanup()

    def accepted(self):
        return [(h, json.loads(b)) for h, b, s in self.posts if s == 204]

    async def wait_accepted(self, n, timeout):
        deadline = time.monotonic() + timeout
        while len(self.accepted()) < n and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return self.accepted()


def check_deliveries(deliveries, expect, what):
    """deliveries: [(headers, event)]; expect: [(type, participant or None)]."""
    got = [(e.get("type"), (e.get("data") or {}).get("participant")) for _, e in deliveries]
    tap.check(got == expect, f"{what}: events in order", f"got {got}\nexpected {expect}")
    seqs = [e.get("seq") for _, e in deliveries]
    tap.check(all(isinstance(s, int) for s in seqs) and seqs == list(range(seqs[0], seqs[0] + len(seqs))),
              f"{what}: seq increases by one", str(seqs))
    bad = []
    for h, e in deliveries:
        if h.get("X-Switchboard-Event") != e.get("type") or h.get("X-Switchboard-Delivery") != str(e.get("seq")) \
                or not h.get("Content-Type", "").startswith("application/json"):
            bad.append(("headers", h, e))
    tap.check(not bad, f"{what}: X-Switchboard-Event/-Delivery and Content-Type match", str(bad[:3]))


def check_signatures(posts):
    bad = []
    for h, body, _ in posts:
        want = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(h.get("X-Switchboard-Signature", ""), want):
            bad.append((h.get("X-Switchboard-Signature"), want))
    tap.check(posts and not bad, f"every POST ({len(posts)}) carries a valid HMAC-SHA256 signature",
              str(bad[:3]))


async def metric(base, name):
    import aiohttp
    from prometheus_client.parser import text_string_to_metric_families
    async with aiohttp.ClientSession() as s:
        async with s.get(base + "/metrics") as r:
            text = await r.text()
    out = {}
    for f in text_string_to_metric_families(text):
        for smp in f.samples:
            key = smp.name + ("{" + ",".join(f"{k}={v}" for k, v in sorted(smp.labels.items())) + "}"
                              if smp.labels else "")
            out[key] = smp.value
    return out.get(name), out


async def main():
    receiver = Receiver()
    await receiver.start()
    server = Server(asan=True, env=sanitizer_env(), overrides={
        "webhook.url": f"http://127.0.0.1:{receiver.port}/hook",
        "webhook.secret": SECRET,
        "webhook.backoff_ms": "300",
        "webhook.timeout": "5",
        "webhook.flush_timeout": "5",
    })
    base = f"http://127.0.0.1:{server.port}"
    clients = []
    try:
        server.start()
        # 1. Join and leave, in order.
        a = await RpcClient.connect(server.url)
        b = await RpcClient.connect(server.url)
        clients += [a, b]
        pa = (await a.call("room.join", {"room": "hooks", "display": "A"}))["participant"]
        pb = (await b.call("room.join", {"room": "hooks", "display": "B"}))["participant"]
        await a.call("room.leave")
        await b.call("room.leave")
        got = await receiver.wait_accepted(6, 15)
        check_deliveries(got[:6], [("room.created", None), ("participant.joined", pa),
                                   ("participant.joined", pb), ("participant.left", pa),
                                   ("participant.left", pb), ("room.closed", None)], "join/leave")
        tap.check(len(got) == 6, "nothing else was delivered", str(len(got)))

        # 2. The receiver fails the next POST with 500: retried, order kept.
        receiver.fail = 1
        n_posts = len(receiver.posts)
        c = await RpcClient.connect(server.url)
        clients.append(c)
        pc = (await c.call("room.join", {"room": "hooks2", "display": "C"}))["participant"]
        await c.call("room.leave")
        got = await receiver.wait_accepted(10, 15)
        posts = receiver.posts[n_posts:]
        tap.check(len(posts) >= 2 and posts[0][2] == 500 and posts[1][2] == 204
                  and posts[0][0].get("X-Switchboard-Delivery") == posts[1][0].get("X-Switchboard-Delivery")
                  and posts[0][0].get("X-Switchboard-Attempt") == "1"
                  and posts[1][0].get("X-Switchboard-Attempt") == "2",
                  "a 500 is retried: the same delivery again, attempt 2",
                  str([(h.get("X-Switchboard-Event"), h.get("X-Switchboard-Delivery"),
                        h.get("X-Switchboard-Attempt"), s) for h, _, s in posts]))
        check_deliveries(got[6:], [("room.created", None), ("participant.joined", pc),
                                   ("participant.left", pc), ("room.closed", None)], "after a 500")
        tap.check(got[6][1]["seq"] == got[5][1]["seq"] + 1, "seq continues across rooms",
                  f"{got[5][1]['seq']} -> {got[6][1]['seq']}")
        check_signatures(receiver.posts)

        _, m = await metric(base, "")
        tap.check(m.get("switchboard_webhook_delivered_total") == 10
                  and m.get("switchboard_webhook_retries_total") == 1
                  and sum(v for k, v in m.items() if k.startswith("switchboard_webhook_dropped_total")) == 0,
                  "/metrics: 10 delivered, 1 retry, nothing dropped",
                  str({k: v for k, v in m.items() if "webhook" in k}))
        tap.check(m.get("switchboard_events_total{type=participant.joined}") == 3,
                  "/metrics: events counted by type",
                  str({k: v for k, v in m.items() if "events" in k}))

        # 3. Shutdown flushes what is queued: a slow receiver, then SIGTERM at once.
        receiver.delay = 0.5
        d = await RpcClient.connect(server.url)
        clients.append(d)
        await d.call("room.join", {"room": "hooks3", "display": "D"})
        await asyncio.sleep(0.1)
    finally:
        for c in clients:
            await c.close()
        rc = await asyncio.get_event_loop().run_in_executor(None, lambda: server.stop(timeout=30))
        tap.check(rc == 0, "server exits 0 on SIGTERM", f"exit code {rc}\n{server.log_tail(15)}")
    await asyncio.sleep(0.2)
    types = [e.get("type") for _, e in receiver.accepted()[10:]]
    tap.check(types == ["room.created", "participant.joined", "participant.left", "room.closed"],
              "events queued at shutdown are delivered before the server exits", str(types))
    await receiver.stop()
    log = server.log_text()
    for what, pat in (("AddressSanitizer / UBSan", r"ERROR: AddressSanitizer|runtime error:"),
                      ("LeakSanitizer", r"ERROR: LeakSanitizer")):
        bad = [l for l in log.splitlines() if re.search(pat, l)]
        tap.check(not bad, f"no {what} report", log[log.find(bad[0]):][:12000] if bad else "")


run_test(main, timeout=120)
