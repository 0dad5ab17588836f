"""docs/admin-openapi.yaml is kept in step with the admin API the server serves,
on the ASan build:

- the server's route table (GET /admin/v1/info "routes") and the spec's paths and
  methods are the same set;
- every path+method of the spec is served: with a room and a participant that
  exist (a WebSocket session joined to the room), each answers 2xx, never 404/405,
  with the status the spec documents as its success;
- on each spec path, every method the spec does not list is 405 (with Allow);
- every status code a spec operation documents is an HTTP status, and its error
  responses use the Error schema;
- with an empty [admin] token the admin listener is not opened at all;
- exit 0 and no sanitizer report at the end.
"""

import asyncio
import http.client
import json
import os
import socket

import yaml

from sbtest import ROOT, RpcClient, Server, run_test, sanitizer_env, sanitizer_reports, tap

SPEC = os.path.join(ROOT, "docs", "admin-openapi.yaml")
TOKEN = "openapi-test-token"
PORT = 7088
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]


def admin(method, path, body=None, token=TOKEN):
    """(status, json or None, headers) of one request to the admin listener."""
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None or method in ("POST", "PUT", "PATCH"):
        data = json.dumps(body if body is not None else {}).encode()
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=headers)
    r = conn.getresponse()
    raw = r.read()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    conn.close()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    return r.status, parsed, hdrs


def spec_operations(spec):
    """[(METHOD, pattern, operation)] in the order of the file."""
    ops = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method.upper() in METHODS:
                ops.append((method.upper(), path, op))
    return ops


def success_status(op):
    return min(int(c) for c in op["responses"] if str(c).startswith("2"))


# Requests that need a body to succeed, and the order that keeps the room and the
# participant alive until the operations that end them.
BODIES = {
    ("PUT", "/admin/v1/loglevel"): {"level": "info"},
    ("POST", "/admin/v1/rooms"): {"room": "openapi-created", "options": {"max_participants": 2}},
}

def order_key(item):
    method, pattern, _ = item
    if pattern.endswith("/kick"):
        return 1
    if method == "DELETE":
        return 2
    return 0


async def body():
    with open(SPEC) as f:
        spec = yaml.safe_load(f)
    tap.check(str(spec.get("openapi", "")).startswith("3."), "docs/admin-openapi.yaml is OpenAPI 3",
              spec.get("openapi"))
    ops = spec_operations(spec)
    spec_routes = {f"{m} {p}" for m, p, _ in ops}

    # Every documented response is an HTTP status; errors use the Error schema.
    bad_docs = []
    for m, p, op in ops:
        for code, resp in op["responses"].items():
            if not (100 <= int(code) <= 599):
                bad_docs.append(f"{m} {p} {code}")
            if int(code) >= 400 and "$ref" not in resp:
                bad_docs.append(f"{m} {p} {code}: not a shared error response")
    tap.check(not bad_docs and ops, f"{len(ops)} operations, each with HTTP status responses "
              "and shared error responses", bad_docs)

    # Without a token the listener stays closed.
    off = Server(name="test_admin_openapi-off", overrides={"admin.port": str(PORT)})
    off.start()
    try:
        try:
            socket.create_connection(("127.0.0.1", PORT), timeout=1).close()
            closed = False
        except OSError:
            closed = True
        tap.check(closed, "empty [admin] token: nothing listens on the admin port")
        log = open(off.log_path, errors="replace").read()
        tap.check("admin API disabled" in log, "and the server says so in its log",
                  [line for line in log.splitlines() if "admin" in line])
    finally:
        tap.check(off.stop() == 0, "that server exits 0")

    server = Server(asan=True, env=sanitizer_env(),
                    overrides={"admin.token": TOKEN, "admin.port": str(PORT)})
    server.start()
    client = None
    try:
        status, info, _ = admin("GET", "/admin/v1/info")
        served = set(info["routes"]) if status == 200 else set()
        tap.check(status == 200 and served == spec_routes,
                  "the server's routes and the spec's paths+methods are the same set",
                  f"only in the server: {sorted(served - spec_routes)}\n"
                  f"only in the spec: {sorted(spec_routes - served)}")

        # A room with one participant (no media needed) for the routes that name
        # them; created here, so it outlives the kick (a persistent room).
        status, _, _ = admin("POST", "/admin/v1/rooms", {"room": "openapi-room"})
        tap.check(status == 201, "a room for the spec's paths", status)
        client = await RpcClient.connect(server.url)
        joined = await client.call("room.join", {"room": "openapi-room", "display": "spec"})
        values = {"room": "openapi-room", "participant": joined["participant"]}

        for method, pattern, op in sorted(ops, key=order_key):
            path = pattern
            for k, v in values.items():
                path = path.replace("{" + k + "}", v)
            status, parsed, _ = admin(method, path, BODIES.get((method, pattern)))
            want = success_status(op)
            tap.check(status == want, f"{method} {pattern}: served, {want} as documented",
                      f"{method} {path} -> {status} {json.dumps(parsed)[:300]}")

        # Methods a spec path does not list: 405 with Allow naming the listed ones.
        wrong = []
        for path, item in spec["paths"].items():
            listed = {m.upper() for m in item if m.upper() in METHODS}
            concrete = path.replace("{room}", "r").replace("{participant}", "p")
            for m in METHODS:
                if m in listed:
                    continue
                status, parsed, hdrs = admin(m, concrete, {} if m in ("POST", "PUT", "PATCH") else None)
                allow = {a.strip() for a in hdrs.get("allow", "").split(",")} - {"OPTIONS", ""}
                if status != 405 or allow != listed or not (parsed and parsed["error"]["code"] == 405):
                    wrong.append(f"{m} {concrete} -> {status} Allow {hdrs.get('allow')}")
        tap.check(not wrong, "methods the spec does not list are 405 with Allow = the spec's methods", wrong)

        status, parsed, _ = admin("GET", "/admin/v1/not-in-the-spec")
        tap.check(status == 404 and parsed and parsed["error"]["code"] == 404,
                  "a path outside the spec is 404", parsed)
        kicked = await client.wait_notification("room.kicked", timeout=5)
        tap.check(kicked.get("participant") == values["participant"],
                  "the spec's kick reached the joined session (room.kicked)", kicked)
    finally:
        if client:
            await client.close()
        rc = server.stop()
        log = open(server.log_path, errors="replace").read()
        tap.check(rc == 0, "ASan server exits 0", f"exit {rc}")
        reports = sanitizer_reports(log)
        tap.check(not reports, "no sanitizer report", "\n".join(reports[:20]))


run_test(body, timeout=120)
