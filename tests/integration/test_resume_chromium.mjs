// A conference page whose signaling connection is cut mid-call resumes its session
// (docs/API.md "session.resume") and never leaves the room.
//
// Page A is the real demo, demos/conference.html?autostart=1 (js/conference.js with
// js/switchboard.js's resume), loaded through a TCP proxy of this test: its page,
// scripts and WebSocket all go through it, its media (UDP) does not. Page B
// (tests/integration/pages/roomtest.html) joins the room directly and publishes.
// Once B decodes A's video, the proxy cuts the network: every connection through it
// is reset (RST both ways: no WebSocket close frame, as when a NAT mapping dies or
// a link drops) and new ones are reset too for OUTAGE_MS. While A is cut off, B
// mutes its audio (a notification for A the server must hold). Then:
//  - A reconnects on its own and resumes the same session within the server's grace
//    (conference.resumes; the WebSocket badge), and gets the held room.track_muted;
//  - B keeps decoding A's video throughout: sampled every 100 ms, framesDecoded
//    never stalls for a second, and inbound-rtp's freeze counters grow no more than
//    in a control window of the same length before the cut;
//  - nobody saw A leave, A's PeerConnections are the same objects, still connected,
//    never renegotiated (the publisher's local SDP is unchanged, no new subscriber
//    offer), and after the resume A gets notifications again (the room.stats the
//    server pushes every second) and can call methods (room.stats answers with A's
//    participant id);
//  - the server log shows the session held and resumed, and it exits 0 on SIGTERM.
// Why a proxy: a page-side ws.close() sends a close frame, which the server rightly
// takes as a deliberate end; a reset TCP connection is what a network cut looks like
// to both ends.
// Run: tests/integration/run.sh resume_chromium

import net from 'node:net';
import { cpus, loadavg } from 'node:os';
import {
  createTap, finishTest, launchChromium, makeDemosDir, openPage, sleep, startServer, waitFor,
} from './lib/sb.mjs';
import {
  freezeDelta, inbound, longestStall, openRoomPage, requireVideoroom, sumOf,
} from './lib/room.mjs';

const ROOM = 'resume';
const OUTAGE_MS = 2000;
const WINDOW_MS = 6000;

const tap = createTap();
const t0 = Date.now();
const watchdog = setTimeout(() => {
  console.log('not ok - test finished within 110 s');
  process.exit(1);
}, 110000);
watchdog.unref();

/** A TCP proxy to 127.0.0.1:target; cut(ms) resets everything, and refuses for ms. */
function startProxy(target) {
  const pairs = new Set();
  let downUntil = 0;
  const srv = net.createServer((down) => {
    if (Date.now() < downUntil) {
      down.resetAndDestroy();
      return;
    }
    const up = net.connect(target, '127.0.0.1');
    const pair = { down, up };
    pairs.add(pair);
    const end = () => { pairs.delete(pair); down.destroy(); up.destroy(); };
    down.on('error', end);
    up.on('error', end);
    down.on('close', end);
    up.on('close', end);
    down.pipe(up);
    up.pipe(down);
  });
  return new Promise((resolve) => {
    srv.listen(0, '127.0.0.1', () => resolve({
      port: srv.address().port,
      cut(ms) {
        downUntil = Date.now() + ms;
        const n = pairs.size;
        for (const { down, up } of [...pairs]) {
          down.resetAndDestroy();
          up.resetAndDestroy();
        }
        pairs.clear();
        return n;
      },
      close: () => srv.close(),
    }));
  });
}


let server = null;
let browser = null;
let proxy = null;
const demos = makeDemosDir();
try {
  server = await startServer({ overrides: [demos.override] });
  proxy = await startProxy(server.port);
  browser = await launchChromium();

  const b = await openRoomPage(browser, server, { logName: 'test_resume_chromium' });
  if (!await requireVideoroom(tap, b)) throw new Error('no videoroom plugin: nothing to test');
  await b.evaluate((room) => rt.join(room, { display: 'Bob', subscribe: 'all' }), ROOM);
  await b.evaluate(() => rt.publish());

  const a = await openPage(browser, `http://127.0.0.1:${proxy.port}/conference.html?autostart=1&room=${ROOM}&name=Ann`);
  const joined = await waitFor(() => a.evaluate(() => {
    const c = window.conference;
    return c.phase === 'joined' && c.self && c.pcs.publisher?.connectionState === 'connected'
      && c.pcs.subscriber?.connectionState === 'connected' && c.self.id;
  }), { timeoutMs: 20000, intervalMs: 250 });
  if (!tap.check(joined, 'the conference page (through the proxy) joins, publishes and subscribes')) {
    throw new Error('page A did not get into the call');
  }
  const P = joined;
  const flowing = await waitFor(async () => sumOf(await inbound(b), P, 'video', 'framesDecoded') > 30,
    { timeoutMs: 15000, intervalMs: 250 });
  if (!tap.check(flowing, "B decodes A's video (30 frames) before the cut")) throw new Error('no media');

  // What must not change: the session, the PeerConnections, their negotiation.
  const before = await a.evaluate(() => {
    const c = window.conference;
    window.__pcsBefore = { ...c.pcs };
    window.__muted = [];
    c.client.on('room.track_muted', (p) => window.__muted.push({ at: performance.now(), p }));
    return { session: c.client.session, offers: c.offers, pubSdp: c.pcs.publisher.localDescription.sdp };
  });

  // Control window: what this machine's load does to B's decoding without a cut.
  await b.evaluate(() => rt.startSampler(100));
  const c0 = await inbound(b);
  await sleep(WINDOW_MS);
  const c1 = await inbound(b);
  const control = freezeDelta(c0, c1, P);
  tap.diag(`control window (${WINDOW_MS} ms): freezes +${control.count}, ${control.seconds.toFixed(2)} s; `
    + `load ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${cpus().length} cores`);

  // The cut.
  const s0 = await inbound(b);
  await b.evaluate(() => { rt.samples = []; });
  const tCut = Date.now();
  const resets = proxy.cut(OUTAGE_MS);
  tap.diag(`cut: ${resets} connection(s) reset, new ones refused for ${OUTAGE_MS} ms`);
  await sleep(500);
  const bobAudio = await b.evaluate(() => rt.call('room.mute', { muted: true, kind: 'audio' }));
  tap.diag(`B muted ${JSON.stringify(bobAudio)} while A was cut off`);

  const resumed = await waitFor(() => a.evaluate(() => window.conference.resumes.length > 0),
    { timeoutMs: 25000, intervalMs: 100 });
  const tResume = Date.now() - tCut;
  tap.check(resumed, `A reconnects and resumes its session (${tResume} ms after the cut; outage ${OUTAGE_MS} ms, grace 30 s)`);
  const rest = WINDOW_MS - (Date.now() - tCut);
  if (rest > 0) await sleep(rest);
  const s1 = await inbound(b);
  const samples = await b.evaluate(() => rt.samples.splice(0));
  await b.evaluate(() => rt.stopSampler());

  const decoded = sumOf(s1, P, 'video', 'framesDecoded') - sumOf(s0, P, 'video', 'framesDecoded');
  const stall = longestStall(samples, P);
  const cutFreezes = freezeDelta(s0, s1, P);
  tap.check(stall < 1000 && decoded > 0,
    `B kept decoding A's video through the cut: ${decoded} frames in ${WINDOW_MS} ms, longest stall ${stall.toFixed(0)} ms`,
    `${samples.length} samples`);
  tap.check(cutFreezes.count <= control.count + 1 && cutFreezes.seconds < 1,
    `no freeze from the cut: freezeCount +${cutFreezes.count} (control +${control.count}), totalFreezesDuration +${cutFreezes.seconds.toFixed(2)} s`);

  const after = await a.evaluate(async () => {
    const c = window.conference;
    const statsAt = c.serverStatsAt;
    await new Promise((r) => setTimeout(r, 2500));
    let stats = null;
    let error = null;
    try {
      stats = await c.client.call('room.stats');
    } catch (e) {
      error = String(e);
    }
    return {
      session: c.client.session,
      phase: c.phase,
      samePcs: c.pcs.publisher === window.__pcsBefore.publisher && c.pcs.subscriber === window.__pcsBefore.subscriber,
      states: [c.pcs.publisher.connectionState, c.pcs.subscriber.connectionState],
      offers: c.offers,
      pubSdp: c.pcs.publisher.localDescription.sdp,
      statsPushedAgain: c.serverStatsAt > statsAt,
      statsParticipant: stats?.participant ?? null,
      error,
      muted: window.__muted.map((m) => m.p),
      resumes: c.resumes,
      badge: document.getElementById('badge-ws').textContent,
      errors: c.errors,
    };
  });
  tap.check(after.session === before.session && after.phase === 'joined',
    'A is the same session, still in the room', JSON.stringify({ session: after.session, phase: after.phase, badge: after.badge }));
  tap.check(after.muted.some((m) => m.muted === true && String(m.track).endsWith('/audio0')),
    'the notification sent while A was cut off (room.track_muted) arrived after the resume', JSON.stringify(after.muted));
  tap.check(after.samePcs && after.states.every((s) => s === 'connected'),
    "A's PeerConnections are the same and connected", JSON.stringify(after.states));
  tap.check(after.offers === before.offers && after.pubSdp === before.pubSdp,
    'nothing was renegotiated (no new subscriber offer, same publisher SDP)',
    `offers ${before.offers} -> ${after.offers}`);
  tap.check(after.statsPushedAgain, 'A gets notifications again (room.stats pushed every second)');
  tap.check(after.statsParticipant === P, 'A can call methods in the room: room.stats answers for A',
    after.error ?? JSON.stringify(after.statsParticipant));
  const leftNotes = await b.evaluate((p) => rt.notes.filter((n) => n.method === 'room.participant_left'
    && n.params.participant === p).length, P);
  tap.check(leftNotes === 0, 'B never saw A leave');
  tap.diag(`A: resumes ${JSON.stringify(after.resumes)}, badge "${after.badge}", errors shown ${JSON.stringify(after.errors)}`);
  const log = server.readLog();
  tap.check(/connection lost: held for 30 s/.test(log) && /resumed on a new connection/.test(log),
    'the server log shows the session held, then resumed');
} catch (err) {
  tap.check(false, `test body: ${err.message}`, err.stack);
} finally {
  if (proxy) proxy.close();
  await finishTest(tap, { browser, server, demos, t0 });
}
process.exit(tap.summary());
