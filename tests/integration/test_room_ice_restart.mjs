// ICE restart in a video room without leaving it, with two headless Chromium
// pages: A publishes, B subscribes. A restarts ICE on its publisher
// PeerConnection (pc.restartIce(), a new offer to room.restart_ice, the server's
// answer with new credentials); then B asks for a restart of its subscriber
// PeerConnection (room.restart_ice {pc:"subscriber"}: the server's room.offer
// carries new credentials and ice_restart: true). Each time both ufrags change,
// the PeerConnection is connected again, B keeps decoding A's video (frames grow
// after the restart) and nobody left the room.
// Run: tests/integration/run.sh room_ice_restart

import { inbound, openRoomPage, requireVideoroom, sumOf } from './lib/room.mjs';
import {
  createTap, launchChromium, makeDemosDir, sleep, startServer, stopServer, waitFor, watchdog,
} from './lib/sb.mjs';

const tap = createTap();
watchdog(110000);

const demos = makeDemosDir();
let server = null;
let browser = null;
let exitCode = 1;
try {
  server = await startServer({ overrides: [demos.override] });
  browser = await launchChromium();
  const a = await openRoomPage(browser, server, { logName: 'test_room_ice_restart-a' });
  const b = await openRoomPage(browser, server, { logName: 'test_room_ice_restart-b' });
  if (!await requireVideoroom(tap, a)) throw new Error('no videoroom');
  const ja = await a.evaluate(() => rt.join('ice', { display: 'A' }));
  await b.evaluate(() => rt.join('ice', { display: 'B' }));
  await a.evaluate(() => rt.publish({ audio: false, video: true }));
  const A = ja.participant;
  const framesFromA = async () => sumOf(await inbound(b), A, 'video', 'framesDecoded');
  const flowing = await waitFor(async () => (await framesFromA()) > 30, { timeoutMs: 20000, intervalMs: 250 });
  tap.check(flowing, 'B decodes A\'s video before any restart', `${await framesFromA()} frames`);

  // 1. The publisher PeerConnection.
  const before = await a.evaluate(() => rt.iceUfrags());
  const res = await a.evaluate(() => rt.restartPublisherIce());
  tap.check(res && res.type === 'answer' && /a=ice-ufrag:/.test(res.sdp),
    'room.restart_ice {pc: "publisher"} answers the restart offer', JSON.stringify(res).slice(0, 200));
  const after = await a.evaluate(() => rt.iceUfrags());
  tap.check(after.pub.local !== before.pub.local && after.pub.remote !== before.pub.remote,
    'both ICE ufrags of the publisher PeerConnection changed', JSON.stringify({ before, after }));
  const f0 = await framesFromA();
  const pubOk = await waitFor(async () => (await a.evaluate(() => rt.pub.iceConnectionState)) === 'connected' &&
    (await framesFromA()) > f0 + 40, { timeoutMs: 15000, intervalMs: 250 });
  tap.check(pubOk, 'after the publisher restart: ICE connected again and B keeps decoding A (+40 frames)',
    `${await a.evaluate(() => rt.pub.iceConnectionState)} frames ${f0} -> ${await framesFromA()}`);

  // 2. The subscriber PeerConnection.
  const sBefore = await b.evaluate(() => rt.iceUfrags());
  const offersBefore = await b.evaluate(() => rt.offers.length);
  const r2 = await b.evaluate(() => rt.call('room.restart_ice', { pc: 'subscriber' }));
  tap.check(r2 !== undefined, 'room.restart_ice {pc: "subscriber"} succeeds', JSON.stringify(r2));
  const answered = await waitFor(() => b.evaluate((n) => rt.offers.length > n &&
    rt.offers[rt.offers.length - 1].answeredAt !== null, offersBefore), { timeoutMs: 10000 });
  const offer = await b.evaluate(() => { const o = rt.offers[rt.offers.length - 1]; return { ice_restart: o.ice_restart, error: o.error }; });
  tap.check(answered && offer.ice_restart === true && !offer.error,
    'a room.offer with ice_restart: true arrives and is answered', JSON.stringify(offer));
  const sAfter = await b.evaluate(() => rt.iceUfrags());
  tap.check(sAfter.sub.local !== sBefore.sub.local && sAfter.sub.remote !== sBefore.sub.remote,
    'both ICE ufrags of the subscriber PeerConnection changed', JSON.stringify({ sBefore, sAfter }));
  const f1 = await framesFromA();
  const subOk = await waitFor(async () => (await b.evaluate(() => rt.sub.iceConnectionState)) === 'connected' &&
    (await framesFromA()) > f1 + 40, { timeoutMs: 15000, intervalMs: 250 });
  tap.check(subOk, 'after the subscriber restart: ICE connected again and B keeps decoding A (+40 frames)',
    `${await b.evaluate(() => rt.sub.iceConnectionState)} frames ${f1} -> ${await framesFromA()}`);

  const left = await b.evaluate(() => rt.notes.filter((n) => n.method === 'room.participant_left').length) +
    await a.evaluate(() => rt.notes.filter((n) => n.method === 'room.participant_left').length);
  const failed = await a.evaluate(() => rt.notes.filter((n) => n.method === 'peer.state' && n.params.state !== 'connected').map((n) => n.params)) ;
  tap.check(left === 0 && failed.length === 0, 'nobody left the room; no PeerConnection failed on the server',
    JSON.stringify({ left, failed }));
  const stats = await a.evaluate(() => rt.call('room.stats'));
  tap.check(stats.publisher?.state === 'connected', 'room.stats: the publisher PeerConnection is still connected',
    JSON.stringify(stats.publisher?.state));
  const errors = [...await a.evaluate(() => rt.errors), ...await b.evaluate(() => rt.errors)];
  tap.check(errors.length === 0, 'no page error', errors.join('\n'));
  await sleep(100);
  exitCode = 0;
} catch (err) {
  tap.check(false, 'test ran without an exception', err?.stack ?? String(err));
} finally {
  if (browser) await browser.close().catch(() => {});
  if (server) await stopServer(server);
  demos.remove();
}
process.exit(tap.summary() || exitCode);
