// A video room under 5% packet loss on the publisher's uplink only.
//
// A Chromium publisher page and a Chromium subscriber page (tests/integration/pages/
// roomtest.html) join one room; once the subscriber decodes the publisher's video,
// an nftables rule in this test's own network namespace drops 5% of the UDP
// datagrams arriving at the server's port of the publisher's PeerConnection from
// the publisher's port (both read from the publisher's room.stats selected_pair),
// silently, as a lossy uplink would. Nothing else is dropped: the subscriber's leg
// is clean. Over the next 15 s:
//  - the subscriber keeps decoding (framesDecoded grows by > 8 fps × 15 s, and by
//    > 40 in each 5 s) with few freezes: inbound-rtp freezeCount grows by at most 3
//    more than in a 15 s control window just before, without loss (a loaded 2-core
//    machine makes Chromium freeze by itself; 0 and 0 on an idle one);
//  - the server's room.stats for the publisher's inbound video shows NACKs sent and
//    retransmissions received (Chromium answers NACKs with RTX) during the window,
//    and under 2% of the video left lost after retransmission;
//  - its inbound audio (Opus is not retransmitted) shows loss close to 5%: between
//    2% and 9% of the packets expected during the window;
//  - the server exits 0 on SIGTERM.
// Run: tests/integration/run.sh room_loss

import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import {
  createTap, launchChromium, makeDemosDir, sleep, startServer, stopServer, waitFor,
} from './lib/sb.mjs';
import { inbound, openRoomPage, requireVideoroom, sumOf } from './lib/room.mjs';

const ROOM = 'lossy-uplink';
const LOSS_PERCENT = 5;
const PORTS = [20000, 20999];
const WINDOW_MS = 15000;

const tap = createTap();
const t0 = Date.now();
const watchdog = setTimeout(() => {
  console.log('not ok - test finished within 115 s');
  process.exit(1);
}, 115000);
watchdog.unref();

const nft = (...args) => execFileSync('nft', args, { stdio: 'inherit' });
const roomStats = (page) => page.evaluate(() => rt.call('room.stats'));
const lossOf = (a, b) => {
  const expected = (b?.expected ?? 0) - (a?.expected ?? 0);
  return { lost: (b?.packets_lost ?? 0) - (a?.packets_lost ?? 0), expected, fraction: expected > 0 ? ((b.packets_lost - a.packets_lost) / expected) : null };
};

let server = null;
let browser = null;
let nftAdded = false;
const demos = makeDemosDir();
try {
  server = await startServer({
    overrides: [demos.override, `media.port_min=${PORTS[0]}`, `media.port_max=${PORTS[1]}`],
  });
  browser = await launchChromium();
  const pub = await openRoomPage(browser, server);
  const sub = await openRoomPage(browser, server);
  if (!await requireVideoroom(tap, pub)) throw new Error('no videoroom plugin: nothing to test');

  const me = await pub.evaluate((room) => rt.join(room, { display: 'publisher', subscribe: 'none' }), ROOM);
  const P = me.participant;
  await pub.evaluate(() => rt.publish());
  await sub.evaluate((room) => rt.join(room, { display: 'subscriber', subscribe: 'all' }), ROOM);

  const flowing = await waitFor(async () => sumOf(await inbound(sub), P, 'video', 'framesDecoded') > 30,
    { timeoutMs: 15000, intervalMs: 250 });
  if (!tap.check(flowing, 'the subscriber decodes the publisher (30 frames) before the loss starts',
    JSON.stringify(await inbound(sub)))) throw new Error('no media before the loss');

  // A control window without loss: freezes the machine causes by itself (a loaded
  // 2-core machine starves the decoders) are not the loss's doing.
  const c0 = await inbound(sub);
  await sleep(WINDOW_MS);
  const c1 = await inbound(sub);
  const controlFreezes = sumOf(c1, P, 'video', 'freezeCount') - sumOf(c0, P, 'video', 'freezeCount');
  const controlDecoded = sumOf(c1, P, 'video', 'framesDecoded') - sumOf(c0, P, 'video', 'framesDecoded');
  tap.diag(`control window without loss: ${controlDecoded} frames decoded, ${controlFreezes} freezes`);

  // The publisher's 5-tuple on the server, from its own stats.
  const st0 = await roomStats(pub);
  const pair = /(\d+\.\d+\.\d+\.\d+):(\d+) <-> (\d+\.\d+\.\d+\.\d+):(\d+)/.exec(st0.publisher?.selected_pair ?? '');
  if (!tap.check(pair && st0.publisher.state === 'connected',
    'room.stats: the publisher pc is connected and has a selected pair', JSON.stringify(st0.publisher?.selected_pair))) {
    throw new Error('no selected pair');
  }
  const [, , serverPort, , clientPort] = pair;
  nft('add', 'table', 'inet', 'roomloss');
  nftAdded = true;
  nft('add', 'chain', 'inet', 'roomloss', 'inp', '{ type filter hook input priority 0; }');
  nft('add', 'rule', 'inet', 'roomloss', 'inp', 'udp', 'sport', clientPort, 'udp', 'dport', serverPort,
      'numgen', 'random', 'mod', '100', '<', String(LOSS_PERCENT), 'drop');
  tap.diag(`dropping ${LOSS_PERCENT}% of UDP 127.0.0.1:${clientPort} -> server port ${serverPort} (publisher pc; ${st0.publisher.selected_pair})`);

  const s0 = await inbound(sub);
  const st1 = await roomStats(pub);
  const steps = []; // framesDecoded at every 5th second: the decoding must never stall
  for (let k = 0; k < WINDOW_MS / 5000; k++) {
    await sleep(5000);
    steps.push(sumOf(await inbound(sub), P, 'video', 'framesDecoded'));
  }
  const s1 = await inbound(sub);
  const st2 = await roomStats(pub);
  execFileSync('nft', ['delete', 'table', 'inet', 'roomloss']);
  nftAdded = false;

  const decoded = sumOf(s1, P, 'video', 'framesDecoded') - sumOf(s0, P, 'video', 'framesDecoded');
  const freezes = sumOf(s1, P, 'video', 'freezeCount') - sumOf(s0, P, 'video', 'freezeCount');
  const freezeS = sumOf(s1, P, 'video', 'totalFreezesDuration') - sumOf(s0, P, 'video', 'totalFreezesDuration');
  const subLost = sumOf(s1, P, 'video', 'packetsLost') - sumOf(s0, P, 'video', 'packetsLost');
  tap.check(decoded > (WINDOW_MS / 1000) * 8, `the subscriber keeps decoding for ${WINDOW_MS / 1000} s under ${LOSS_PERCENT}% uplink loss`,
    `${decoded} frames (${(decoded / (WINDOW_MS / 1000)).toFixed(1)} fps); subscriber-side packetsLost +${subLost}`);
  const perStep = steps.map((f, k) => f - (k ? steps[k - 1] : sumOf(s0, P, 'video', 'framesDecoded')));
  tap.check(perStep.every((n) => n > 5 * 8), 'framesDecoded rises by > 40 in each 5 s of the window',
    `per 5 s: ${JSON.stringify(perStep)}`);
  tap.check(freezes <= controlFreezes + 3, 'few freezes on the subscriber (at most 3 more than without loss)',
    `freezeCount +${freezes} (without loss: +${controlFreezes}), totalFreezesDuration +${freezeS.toFixed(2)} s; machine load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${cpus().length} cores`);

  const vin = (s) => (s.publisher?.inbound ?? []).find((x) => x.kind === 'video');
  const ain = (s) => (s.publisher?.inbound ?? []).find((x) => x.kind === 'audio');
  tap.diag(`server inbound video at the end: ${JSON.stringify(vin(st2))}`);
  tap.diag(`server inbound audio at the end: ${JSON.stringify(ain(st2))}`);
  const nacks = (vin(st2)?.nacks_sent ?? 0) - (vin(st1)?.nacks_sent ?? 0);
  const rtx = (vin(st2)?.retransmissions ?? 0) - (vin(st1)?.retransmissions ?? 0);
  tap.check(nacks > 0, "the server NACKs the publisher's lost video packets", `nacks_sent +${nacks}`);
  tap.check(rtx > 0, 'and gets them back (retransmissions)', `retransmissions +${rtx}`);
  const v = lossOf(vin(st1), vin(st2));
  tap.check(v.fraction !== null && v.fraction < 0.02, 'video loss left after retransmission is under 2%',
    `${v.lost} of ${v.expected} (${v.fraction === null ? '?' : (100 * v.fraction).toFixed(2)}%)`);
  const a = lossOf(ain(st1), ain(st2));
  tap.check(a.fraction !== null && a.fraction > 0.02 && a.fraction < 0.09,
    `the publisher's inbound audio (not retransmitted) shows loss close to ${LOSS_PERCENT}%`,
    `${a.lost} of ${a.expected} (${a.fraction === null ? '?' : (100 * a.fraction).toFixed(2)}%); fraction_lost ${ain(st2)?.fraction_lost}`);
  tap.check(st2.publisher?.state === 'connected' && (await pub.evaluate(() => rt.pcState())).pub === 'connected',
    'the publisher is still connected', JSON.stringify(await pub.evaluate(() => rt.pcState())));
} catch (err) {
  tap.check(false, 'test ran to the end', err.stack || String(err));
} finally {
  if (nftAdded) { try { execFileSync('nft', ['delete', 'table', 'inet', 'roomloss']); } catch { /* namespace goes anyway */ } }
  if (browser) await Promise.race([browser.close(), sleep(5000)]);
  if (server) {
    const exit = await stopServer(server);
    tap.check(exit && !exit.killed && exit.code === 0, 'server exits cleanly on SIGTERM', exit);
    if (tap.failed) tap.diag(`server log tail:\n${server.readLog().split('\n').slice(-30).join('\n')}`);
  }
  demos.remove();
  tap.diag(`took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
process.exit(tap.summary());
