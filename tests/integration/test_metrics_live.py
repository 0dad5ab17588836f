"""GET /metrics, /healthz, /readyz and the JSON log format (docs/API.md "Metrics"),
cross-checked against a live video-room call of aiortc peers.

The server runs with [log] format = json and [log] events = true.

Asserts:
  - /healthz and /readyz answer 200; /metrics answers 200 text/plain version=0.0.4
    and parses with the Prometheus client's parser (prometheus_client.parser), every
    family once with HELP and TYPE; the worker series exist for both workers
    (CPU seconds, loop-lag histogram);
  - refusals are counted by reason: a WHIP POST over max_body_size (413) adds one to
    switchboard_rejected_total{reason="body_too_large"}, a WebSocket message that is
    not JSON one to reason="parse_error";
  - with a publisher (aiortc, video + audio) and a subscriber in one room:
    switchboard_peers == 2 and == the peers in ICE state connected == DTLS state
    connected; rooms 1, participants 2, sessions 2; the join-to-first-media
    histogram counted one observation;
  - the RTP packets the publisher reports sent (aiortc outbound-rtp packetsSent)
    match switchboard_rtp_packets_received_total within 3% + 30, and the packets
    the subscriber received are within 10% + 50 of switchboard_rtp_packets_sent_total;
  - a second publisher joining makes the histogram count 2;
  - after everyone leaves every peer, state, room and participant gauge is 0;
  - SIGTERM exits 0, and every line the server logged is a JSON object with
    time, level and msg; the lifecycle events are among them as "event" objects.
"""

import asyncio
import json
import re
import time

from sbtest import EchoPeer, RoomSubscriber, RpcClient, Server, run_test, tap

ROOM = "metrics"


class Scrape:
    """One /metrics answer, parsed by prometheus_client."""

    def __init__(self, text):
        from prometheus_client.parser import text_string_to_metric_families
        self.text = text
        self.families = {f.name: f for f in text_string_to_metric_families(text)}

    def value(self, family, suffix="", **labels):
        """The sample NAME+suffix of family with exactly these labels (besides le), or None."""
        f = self.families.get(family)
        if f is None:
            return None
        for s in f.samples:
            if s.name == family + suffix and all(s.labels.get(k) == v for k, v in labels.items()) \
                    and len(s.labels) == len(labels):
                return s.value
        return None


async def http(session, method, url, **kw):
    async with session.request(method, url, **kw) as r:
        return r.status, r.headers, await r.text()


async def scrape(session, base):
    status, headers, text = await http(session, "GET", base + "/metrics")
    assert status == 200, f"/metrics answered {status}: {text[:200]}"
    return Scrape(text), headers


async def sender_packets(pc):
    n = 0
    for s in pc.getSenders():
        for st in (await s.getStats()).values():
            if st.type == "outbound-rtp":
                n += st.packetsSent or 0
    return n


async def receiver_packets(pc):
    n = 0
    for r in pc.getReceivers():
        for st in (await r.getStats()).values():
            if st.type == "inbound-rtp":
                n += st.packetsReceived or 0
    return n


async def wait_value(session, base, pred, timeout):
    deadline = time.monotonic() + timeout
    while True:
        m, _ = await scrape(session, base)
        if pred(m) or time.monotonic() > deadline:
            return m
        await asyncio.sleep(0.2)


def check_exposition(m):
    types = re.findall(r"^# TYPE (\S+) ", m.text, re.M)
    helps = re.findall(r"^# HELP (\S+) ", m.text, re.M)
    tap.check(len(types) == len(set(types)) and sorted(types) == sorted(helps),
              "every family has one HELP and one TYPE line",
              f"{len(types)} TYPE, {len(set(types))} distinct, {len(helps)} HELP")
    expected = ["switchboard_peers", "switchboard_sessions", "switchboard_rooms",
                "switchboard_participants", "switchboard_peers_ice_state",
                "switchboard_peers_dtls_state", "switchboard_rtp_packets_received",
                "switchboard_rtp_bytes_received", "switchboard_rtp_packets_sent",
                "switchboard_rtp_bytes_sent", "switchboard_rtp_packets_lost",
                "switchboard_rtp_retransmissions_sent", "switchboard_nacks_received",
                "switchboard_plis_received", "switchboard_plis_sent", "switchboard_peer_failures",
                "switchboard_rejected", "switchboard_worker_cpu_seconds",
                "switchboard_worker_loop_lag_seconds", "switchboard_join_to_first_media_seconds"]
    missing = [f for f in expected if f not in m.families]
    tap.check(not missing, "/metrics has every documented family", f"missing {missing}")
    workers = [m.value("switchboard_worker_cpu_seconds", "_total", worker=w) for w in ("0", "1")]
    lag = [m.value("switchboard_worker_loop_lag_seconds", "_count", worker=w) for w in ("0", "1")]
    tap.check(all(v is not None for v in workers) and all(v is not None and v >= 1 for v in lag),
              "per-worker CPU seconds and loop-lag histogram for both workers",
              f"cpu {workers}, lag counts {lag}")
    tap.check(m.families["switchboard_join_to_first_media_seconds"].type == "histogram",
              "join-to-first-media is a histogram")


def live_gauges(m):
    return {
        "peers": m.value("switchboard_peers"),
        "ice_connected": m.value("switchboard_peers_ice_state", state="connected"),
        "dtls_connected": m.value("switchboard_peers_dtls_state", state="connected"),
        "rooms": m.value("switchboard_rooms"),
        "participants": m.value("switchboard_participants"),
        "sessions": m.value("switchboard_sessions"),
        "first_media": m.value("switchboard_join_to_first_media_seconds", "_count"),
    }


async def main():
    import aiohttp
    server = Server(overrides={"log.format": "json", "log.events": "true"})
    base = f"http://127.0.0.1:{server.port}"
    pub_rpc = sub_rpc = pub2_rpc = None
    publisher = publisher2 = subscriber = None
    session = aiohttp.ClientSession()
    try:
        server.start()
        st, _, body = await http(session, "GET", base + "/healthz")
        tap.check(st == 200, "GET /healthz -> 200", f"{st} {body!r}")
        st, _, body = await http(session, "GET", base + "/readyz")
        tap.check(st == 200 and body.strip() == "ready", "GET /readyz -> 200 ready", f"{st} {body!r}")
        await asyncio.sleep(1.2)   # the workers' health timers have run
        m, headers = await scrape(session, base)
        tap.check(headers.get("Content-Type", "").startswith("text/plain; version=0.0.4"),
                  "/metrics Content-Type is the Prometheus text format", headers.get("Content-Type"))
        tap.check(True, f"/metrics parses with prometheus_client ({len(m.families)} families)")
        check_exposition(m)

        # Refusals by reason.
        before = m.value("switchboard_rejected", "_total", reason="body_too_large")
        st, _, _ = await http(session, "POST", base + f"/whip/{ROOM}",
                              headers={"Content-Type": "application/sdp",
                                       "Content-Length": str(10 * 1024 * 1024)}, data=b"")
        pub_rpc = await RpcClient.connect(server.url)
        parse_before = m.value("switchboard_rejected", "_total", reason="parse_error")
        await pub_rpc.send_raw("{not json")
        await pub_rpc.next_unmatched(5)
        m, _ = await scrape(session, base)
        tap.check(st == 413 and m.value("switchboard_rejected", "_total", reason="body_too_large") == before + 1,
                  "a body over max_body_size (413) counts rejected{reason=body_too_large}",
                  f"status {st}; {before} -> {m.value('switchboard_rejected', '_total', reason='body_too_large')}")
        tap.check(m.value("switchboard_rejected", "_total", reason="parse_error") == parse_before + 1,
                  "a WebSocket message that is not JSON counts rejected{reason=parse_error}")

        # A live call: one publisher, one subscriber.
        me = await pub_rpc.call("room.join", {"room": ROOM, "display": "pub"})
        video_id = f"{me['participant']}/video0"
        publisher = EchoPeer(fps=30, send_direction="sendonly")
        ans = await pub_rpc.call("room.publish", {"sdp": await publisher.offer()}, timeout=15)
        await publisher.set_answer(ans["sdp"])
        sub_rpc = await RpcClient.connect(server.url)
        subscriber = RoomSubscriber(sub_rpc, keyframe_requests=True)
        await sub_rpc.call("room.join", {"room": ROOM, "display": "sub", "subscribe": "all"})
        got = await subscriber.wait_frames(video_id, 30, 20)
        if not tap.check(got >= 30, "the subscriber decodes the publisher's video (30 frames within 20 s)",
                         f"{got} frames; errors {subscriber.errors}"):
            tap.diag(server.log_tail())
            return
        m = await wait_value(session, base, lambda m: m.value("switchboard_peers_dtls_state",
                                                               state="connected") == 2, 5)
        g = live_gauges(m)
        tap.check(g["peers"] == 2 and g["ice_connected"] == 2 and g["dtls_connected"] == 2,
                  "peers gauge == live peers == peers in ICE and DTLS state connected (2)", str(g))
        tap.check(g["rooms"] == 1 and g["participants"] == 2 and g["sessions"] == 2,
                  "rooms 1, participants 2, sessions 2", str(g))
        tap.check(g["first_media"] == 1, "join-to-first-media histogram: one observation", str(g))
        first_sum = m.value("switchboard_join_to_first_media_seconds", "_sum")
        tap.check(first_sum is not None and 0 < first_sum < 20,
                  "join-to-first-media took a plausible time", f"{first_sum} s")

        await asyncio.sleep(3)
        sent = await sender_packets(publisher.pc)
        m, _ = await scrape(session, base)
        received = await receiver_packets(subscriber.pc)
        m2, _ = await scrape(session, base)
        srv_in = m.value("switchboard_rtp_packets_received", "_total")
        srv_out = m2.value("switchboard_rtp_packets_sent", "_total")
        tap.check(srv_in is not None and abs(srv_in - sent) <= 0.03 * sent + 30 and sent > 100,
                  "packets-in counter matches what the publisher sent (3% + 30)",
                  f"publisher sent {sent}, server counted {srv_in}")
        tap.check(srv_out is not None and abs(srv_out - received) <= 0.10 * received + 50 and received > 100,
                  "packets-out counter matches what the subscriber received (10% + 50)",
                  f"subscriber received {received}, server sent {srv_out}")
        bytes_in = m.value("switchboard_rtp_bytes_received", "_total")
        tap.check(bytes_in and bytes_in >= 12 * srv_in, "bytes-in counts headers and payload",
                  f"{bytes_in} bytes for {srv_in} packets")
        tap.check(m.value("switchboard_plis_sent", "_total") >= 1,
                  "PLIs sent to the publisher are counted",
                  str(m.value("switchboard_plis_sent", "_total")))

        # A second publisher: one more observation.
        pub2_rpc = await RpcClient.connect(server.url)
        await pub2_rpc.call("room.join", {"room": ROOM, "display": "pub2"})
        publisher2 = EchoPeer(fps=15, audio=False, send_direction="sendonly")
        ans = await pub2_rpc.call("room.publish", {"sdp": await publisher2.offer()}, timeout=15)
        await publisher2.set_answer(ans["sdp"])
        m = await wait_value(session, base, lambda m: m.value(
            "switchboard_join_to_first_media_seconds", "_count") == 2, 15)
        tap.check(m.value("switchboard_join_to_first_media_seconds", "_count") == 2,
                  "a second publisher: join-to-first-media count 2",
                  str(m.value("switchboard_join_to_first_media_seconds", "_count")))

        # Everyone leaves.
        for rpc in (pub2_rpc, sub_rpc, pub_rpc):
            await rpc.call("room.leave")
        m = await wait_value(session, base, lambda m: m.value("switchboard_peers") == 0 and
                             m.value("switchboard_rooms") == 0, 10)
        states = {k: v for k, v in ((f"{f}{{{s.labels.get('state')}}}", s.value)
                                    for f in ("switchboard_peers_ice_state", "switchboard_peers_dtls_state")
                                    for s in m.families[f].samples)}
        g = live_gauges(m)
        tap.check(g["peers"] == 0 and all(v == 0 for v in states.values()) and g["rooms"] == 0
                  and g["participants"] == 0,
                  "after leaving: peers, ICE/DTLS state, rooms and participants gauges are 0",
                  f"{g} {states}")
    finally:
        for c in (subscriber, publisher, publisher2):
            if c:
                await c.close()
        for c in (sub_rpc, pub_rpc, pub2_rpc):
            if c:
                await c.close()
        await session.close()
        rc = server.stop(timeout=30)
        tap.check(rc == 0, "server exits 0 on SIGTERM", f"exit code {rc}\n{server.log_tail(15)}")
    bad, events = [], []
    lines = server.log_text().splitlines()
    for line in lines:
        try:
            o = json.loads(line)
            if not (isinstance(o, dict) and isinstance(o.get("time"), str) and o.get("level")
                    and isinstance(o.get("msg"), str)):
                bad.append(line)
            elif isinstance(o.get("event"), dict):
                events.append(o["event"].get("type"))
        except ValueError:
            bad.append(line)
    tap.check(lines and not bad, f"every log line ({len(lines)}) is JSON with time, level and msg",
              "\n".join(bad[:10]))
    tap.check(events.count("participant.joined") == 3 and "room.created" in events
              and events[-1] == "room.closed",
              "lifecycle events are logged as JSON objects", str(events))


run_test(main, timeout=150)
