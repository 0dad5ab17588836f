// A connection flood from one IP is cut at the door while a call goes on.
//
// The server runs with the production [limits] defaults (20 new connections/s per
// IP, burst 40, 50 open per IP). Two Chromium pages (tests/integration/pages/
// roomtest.html) from 127.0.0.1 are in a call: A publishes, B subscribes. Then this
// process opens FLOOD_N TCP connections from 127.0.0.2 (a loopback address of this
// namespace: the client socket binds it) over FLOOD_MS, each sending a WebSocket
// upgrade and holding what it gets. Checks:
//  - most of the flood is refused before the server reads a byte (the socket is
//    reset or closed with no answer): at most burst + rate x time are accepted, and
//    never more than 50 at once; every refusal is counted in /metrics
//    (switchboard_rejected_total{reason="conn_rate"|"conn_limit"});
//  - the call does not notice: B keeps decoding A's video (sampled every 100 ms,
//    framesDecoded never stalls for a second) and inbound-rtp's freeze counters grow
//    no more than in a control window of the same length before the flood;
//  - signaling stays responsive for 127.0.0.1 meanwhile (B's ping round trips, a
//    GET /healthz); and the server exits 0 on SIGTERM.
// Run: tests/integration/run.sh limits_flood

import net from 'node:net';
import { cpus, loadavg } from 'node:os';
import {
  createTap, finishTest, launchChromium, makeDemosDir, sleep, startServer, waitFor,
} from './lib/sb.mjs';
import {
  freezeDelta, inbound, longestStall, openRoomPage, requireVideoroom, sumOf,
} from './lib/room.mjs';

const ROOM = 'flooded';
const FLOOD_N = 2000;
const FLOOD_MS = 5000;
const FLOOD_FROM = '127.0.0.2';
const RATE = 20;
const BURST = 40;
const PER_IP = 50;

const tap = createTap();
const t0 = Date.now();
const watchdog = setTimeout(() => {
  console.log('not ok - test finished within 110 s');
  process.exit(1);
}, 110000);
watchdog.unref();

/** One flood connection: resolves 'accepted' (101), 'refused' (reset, closed
 * unanswered or answered 429) or 'other: …'; accepted sockets are kept in `held`. */
function floodOne(port, held) {
  return new Promise((resolve) => {
    let data = '';
    let settled = false;
    const done = (r) => { if (!settled) { settled = true; resolve(r); } };
    const s = net.connect({ host: '127.0.0.1', port, localAddress: FLOOD_FROM });
    s.setTimeout(10000, () => { s.destroy(); done('other: timeout'); });
    s.on('connect', () => {
      s.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
        + 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n'
        + 'Sec-WebSocket-Protocol: switchboard\r\n\r\n');
    });
    s.on('data', (d) => {
      data += d.toString('latin1');
      if (/^HTTP\/1\.[01] 429/.test(data)) {
        s.destroy();
        done('refused');   // answered "429 Too Many Requests"
      } else if (data.startsWith('HTTP/1.1 101')) {
        held.push(s);
        s.setTimeout(0);
        done('accepted');
      } else if (data.includes('\r\n')) {
        done(`other: ${data.split('\r\n')[0]}`);
      }
    });
    s.on('error', (e) => done(e.code === 'ECONNRESET' || e.code === 'EPIPE' ? 'refused' : `other: ${e.code}`));
    s.on('close', () => done(data ? `other: closed after ${data.length} bytes` : 'refused'));
  });
}

async function flood(port) {
  const held = [];
  const outcomes = [];
  const start = Date.now();
  for (let i = 0; i < FLOOD_N; i++) {
    const due = start + (i * FLOOD_MS) / FLOOD_N;
    if (due > Date.now() + 2) await sleep(due - Date.now());
    outcomes.push(floodOne(port, held));
  }
  const results = await Promise.all(outcomes);
  const elapsed = Date.now() - start;
  const count = (r) => results.filter((x) => x === r).length;
  const other = results.filter((x) => x.startsWith('other'));
  return { held, elapsed, accepted: count('accepted'), refused: count('refused'), other };
}

function metric(text, name) {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : 0;
}
const rejectedNow = async (server) => {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return metric(text, 'switchboard_rejected_total{reason="conn_rate"}')
    + metric(text, 'switchboard_rejected_total{reason="conn_limit"}');
};


let server = null;
let browser = null;
let held = [];
const demos = makeDemosDir();
try {
  server = await startServer({
    overrides: [demos.override, `limits.connections_per_second=${RATE}`, `limits.connection_burst=${BURST}`,
      `limits.max_connections_per_ip=${PER_IP}`],
  });
  browser = await launchChromium();
  const a = await openRoomPage(browser, server);
  const b = await openRoomPage(browser, server);
  if (!await requireVideoroom(tap, a)) throw new Error('no videoroom plugin: nothing to test');
  const me = await a.evaluate((room) => rt.join(room, { display: 'A', subscribe: 'none' }), ROOM);
  const P = me.participant;
  await a.evaluate(() => rt.publish());
  await b.evaluate((room) => rt.join(room, { display: 'B', subscribe: 'all' }), ROOM);
  const flowing = await waitFor(async () => sumOf(await inbound(b), P, 'video', 'framesDecoded') > 30,
    { timeoutMs: 15000, intervalMs: 250 });
  if (!tap.check(flowing, "B decodes A's video (30 frames) before the flood")) throw new Error('no media');

  // Control window: this machine's own effect on B's decoding.
  const c0 = await inbound(b);
  await sleep(FLOOD_MS);
  const c1 = await inbound(b);
  const control = freezeDelta(c0, c1, P);
  tap.diag(`control window (${FLOOD_MS} ms): freezes +${control.count}, ${control.seconds.toFixed(2)} s`);

  const rejectedBefore = await rejectedNow(server);
  const s0 = await inbound(b);
  await b.evaluate(() => { rt.samples = []; rt.startSampler(100); });
  // B's signaling round trips during the flood (ping every 200 ms).
  const pingsP = b.evaluate(async (ms) => {
    const rtts = [];
    const end = performance.now() + ms;
    while (performance.now() < end) {
      const t = performance.now();
      await rt.call('ping');
      rtts.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 200));
    }
    return rtts;
  }, FLOOD_MS);
  const healthP = (async () => {
    await sleep(FLOOD_MS / 2);
    const t = Date.now();
    const res = await fetch(`${server.url}/healthz`);
    return { status: res.status, ms: Date.now() - t };
  })();
  const f = await flood(server.port);
  held = f.held;
  const rtts = await pingsP;
  const health = await healthP;
  const s1 = await inbound(b);
  const samples = await b.evaluate(() => { rt.stopSampler(); return rt.samples.splice(0); });
  const rejectedAfter = await rejectedNow(server);

  tap.diag(`flood: ${FLOOD_N} connections from ${FLOOD_FROM} in ${f.elapsed} ms: ${f.accepted} accepted, `
    + `${f.refused} refused, ${f.other.length} other ${JSON.stringify(f.other.slice(0, 5))}; `
    + `load ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${cpus().length} cores`);
  const allowed = BURST + RATE * (f.elapsed / 1000) + 2;
  tap.check(f.accepted <= Math.min(allowed, PER_IP) && f.refused >= FLOOD_N - PER_IP - f.other.length,
    `the flood is cut: ${f.accepted} of ${FLOOD_N} accepted (at most ${PER_IP} open per IP), ${f.refused} refused`);
  tap.check(f.refused / FLOOD_N >= 0.9, `most of the flood is refused (${((100 * f.refused) / FLOOD_N).toFixed(1)}%)`);
  tap.check(Math.abs(rejectedAfter - rejectedBefore - f.refused) <= 2,
    `every refusal is counted in /metrics: rejected{conn_rate,conn_limit} +${rejectedAfter - rejectedBefore}`);

  const decoded = sumOf(s1, P, 'video', 'framesDecoded') - sumOf(s0, P, 'video', 'framesDecoded');
  const stall = longestStall(samples, P);
  const fl = freezeDelta(s0, s1, P);
  tap.check(stall < 1000 && decoded > 0,
    `B kept decoding A's video during the flood: ${decoded} frames, longest stall ${stall.toFixed(0)} ms`,
    `${samples.length} samples`);
  tap.check(fl.count <= control.count + 1 && fl.seconds < 1,
    `no freeze from the flood: freezeCount +${fl.count} (control +${control.count}), totalFreezesDuration +${fl.seconds.toFixed(2)} s`);
  const worst = Math.max(...rtts);
  tap.check(rtts.length >= 10 && worst < 500,
    `signaling from 127.0.0.1 stays responsive: ${rtts.length} pings, slowest ${worst.toFixed(0)} ms`);
  tap.check(health.status === 200 && health.ms < 1000, `GET /healthz during the flood: ${health.status} in ${health.ms} ms`);
} catch (err) {
  tap.check(false, `test body: ${err.message}`, err.stack);
} finally {
  for (const s of held) s.destroy();
  await finishTest(tap, { browser, server, demos, t0 });
}
process.exit(tap.summary());
