// Unpublish and republish: a subscription continues on the same m-section and SSRC,
// and the subscriber sees one continuous RTP stream with a pause in it.
//
// A Chromium publisher page and a Chromium subscriber page (tests/integration/pages/
// roomtest.html; the subscriber with ?transform=1, so an RTCRtpScriptTransform
// records every received video frame's RTP timestamp, SSRC and arrival time) join
// one room. Once video flows, the publisher calls room.unpublish (closing its pc),
// waits PAUSE_MS and publishes again on a new PeerConnection (docs/API.md: track ids
// survive an unpublish/republish, "the subscription continues on the same subscriber
// m-section and SSRC … sequence numbers and timestamps continue without a gap";
// media/rewrite.h: the first packet of the new source gets the next sequence number
// and a timestamp advanced by the wall-clock time elapsed since the last packet sent).
//
// What a user must see is a picture that pauses and resumes on time: no stall while
// the receiver waits for "missing" packets, no frames held back or rushed out because
// their timestamps say they are early or late. On the subscriber, for the video m-section:
//  1. same stream: the track id is announced again (room.track_published) and the mid
//     keeps carrying it; getStats shows one inbound-rtp SSRC for the mid throughout,
//     and every recorded frame has that SSRC;
//  2. it resumes: framesDecoded grows by >= 30 after the republish;
//  3. sequence numbers continue: packetsLost grows by at most 2 from before the
//     unpublish to the end (a gap in sequence numbers is counted as lost packets by
//     the receiver; a jump back would stall it instead, caught by 2.);
//  4. timestamps track real time across the pause: with `last` the last frame
//     before the pause and `first` the first frame after it, dTs = (first.ts -
//     last.ts) in ms (90 kHz clock, modulo 2^32 as a signed difference) and dWall the
//     time between their arrivals, dTs > 0 and |dWall - dTs| <= one frame interval
//     (measured before the pause) + KEYFRAME_MS. KEYFRAME_MS (60 ms) covers what is
//     not the server's doing: the first frame after the pause is a keyframe, spread
//     out by the publisher's pacer, and "arrival" is when its last packet is in, while
//     the server measures from its first. A timestamp that only advanced by one frame
//     interval (dTs ≈ 33 ms for a ~3 s pause) or that jumped to the new publisher's
//     random base fails this by seconds;
//  5. no jitter spike: the receiver's RFC 3550 interarrival jitter, sampled every
//     50 ms in the page, stays under 50 ms in the 3 s after the republish (or under
//     twice its maximum before the pause, at most 100 ms, on a loaded machine where
//     jitter is 20-40 ms anyway); a 2 s timestamp error would raise it by
//     ~2000/16 ≈ 125 ms at the next packet.
// The server exits 0 on SIGTERM.
// Run: tests/integration/run.sh room_republish

import {
  createTap, launchChromium, makeDemosDir, sleep, startServer, stopServer, waitFor,
} from './lib/sb.mjs';
import { inbound, openRoomPage, requireVideoroom, waitNote } from './lib/room.mjs';

const ROOM = 'republish';
const PAUSE_MS = 2000;
const KEYFRAME_MS = 60;
const JITTER_MAX_S = 0.05;
const JITTER_CAP_S = 0.1;

const tap = createTap();
const t0 = Date.now();
const watchdog = setTimeout(() => {
  console.log('not ok - test finished within 100 s');
  process.exit(1);
}, 100000);
watchdog.unref();

const tsDelta = (a, b) => ((((b - a) % 2 ** 32) + 2 ** 32 + 2 ** 31) % 2 ** 32) - 2 ** 31; // signed 32-bit b - a

let server = null;
let browser = null;
const demos = makeDemosDir();
try {
  server = await startServer({ overrides: [demos.override] });
  browser = await launchChromium();
  const pub = await openRoomPage(browser, server);
  const sub = await openRoomPage(browser, server, { query: 'transform=1' });
  if (!await requireVideoroom(tap, pub)) throw new Error('no videoroom plugin: nothing to test');

  const me = await pub.evaluate((room) => rt.join(room, { display: 'publisher', subscribe: 'none' }), ROOM);
  const P = me.participant;
  const VIDEO = `${P}/video0`;
  await pub.evaluate(() => rt.publish({ scale: 2 }));
  await sub.evaluate((room) => rt.join(room, { display: 'subscriber', subscribe: 'all' }), ROOM);

  const videoEntry = (entries) => entries.find((e) => e.track === VIDEO && e.kind === 'video');
  const first = await waitFor(async () => { const e = videoEntry(await inbound(sub)); return e && e.framesDecoded > 60 ? e : null; },
    { timeoutMs: 20000, intervalMs: 250 });
  if (!tap.check(first, 'the subscriber decodes the published video (60 frames)', JSON.stringify(await inbound(sub)))) {
    throw new Error('no video');
  }
  const mid = first.mid;
  tap.diag(`video ${VIDEO} on subscriber mid ${mid}, ssrc ${first.ssrc}`);
  const hasTransform = await sub.evaluate((m) => (rt.frames[m] ?? []).length, mid);
  tap.check(hasTransform > 0, 'the encoded-frame recorder (RTCRtpScriptTransform) sees the frames', `${hasTransform} frames`);

  await sub.evaluate(() => rt.startSampler(50));
  await sleep(2000);
  const offersBefore = await sub.evaluate(() => rt.offers.length);
  const beforeUnpub = videoEntry(await inbound(sub));

  // Unpublish, pause, publish again on a new PeerConnection.
  const tUnpub = Date.now();
  await pub.evaluate(() => rt.unpublish());
  const unpub = await waitNote(sub, 'room.track_unpublished', `p => p.track === '${VIDEO}'`, 5000);
  tap.check(unpub, 'the subscriber gets room.track_unpublished', JSON.stringify(unpub));
  await sleep(Math.max(0, PAUSE_MS - (Date.now() - tUnpub)));
  const res = await pub.evaluate(() => rt.publish({ scale: 2 }));
  const tRepub = Date.now();
  const tRepubPage = await sub.evaluate(() => performance.now());
  tap.check((res.tracks || []).some((t) => t.id === VIDEO), 'the republish keeps the track id', JSON.stringify(res.tracks));
  const repub = await waitNote(sub, 'room.track_published', `p => p.track && p.track.id === '${VIDEO}'`, 5000);
  tap.check(repub, 'the subscriber gets room.track_published for the same track id', JSON.stringify(repub));

  const resumed = await waitFor(async () => {
    const e = videoEntry(await inbound(sub));
    return e && e.framesDecoded >= beforeUnpub.framesDecoded + 30 + 10 ? e : null; // +10: frames between sampling and unpublish
  }, { timeoutMs: 15000, intervalMs: 250 });
  await sleep(Math.max(0, 3000 - (Date.now() - tRepub)));
  await sub.evaluate(() => rt.stopSampler());
  const end = videoEntry(await inbound(sub));
  tap.diag(`pause: unpublish at +0, publish again at +${tRepub - tUnpub} ms`);

  // 1. the same stream
  const samples = await sub.evaluate(() => rt.samples);
  const ssrcs = new Set();
  for (const s of samples) for (const e of s.entries) if (e.mid === mid && e.kind === 'video') ssrcs.add(e.ssrc);
  const frames = await sub.evaluate((m) => rt.frames[m] ?? [], mid);
  const frameSsrcs = new Set(frames.map((f) => f.ssrc));
  const offers = await sub.evaluate(() => rt.offers.map((o) => ({ version: o.version, tracks: o.tracks, error: o.error })));
  const remapped = offers.slice(offersBefore).filter((o) => (o.tracks || []).some((t) => t.mid === mid && t.track !== VIDEO));
  tap.check(ssrcs.size === 1 && frameSsrcs.size === 1 && [...ssrcs][0] === [...frameSsrcs][0] && remapped.length === 0 &&
            end && end.mid === mid,
    'the subscription continues on the same m-section and SSRC',
    `inbound-rtp ssrcs for mid ${mid}: ${[...ssrcs]}; frame ssrcs ${[...frameSsrcs]}; offers after the unpublish ${JSON.stringify(offers.slice(offersBefore))}`);

  // 2. it resumes
  tap.check(resumed && end, 'the video resumes after the republish (>= 30 more frames decoded)',
    `framesDecoded ${beforeUnpub.framesDecoded} before the unpublish, ${end?.framesDecoded} at the end`);

  // 3. sequence numbers continue
  const lostDelta = (end?.packetsLost ?? 0) - beforeUnpub.packetsLost;
  tap.check(end && end.packetsReceived > beforeUnpub.packetsReceived && lostDelta <= 2,
    'sequence numbers continue: packetsLost grows by <= 2 across the republish',
    `packetsLost ${beforeUnpub.packetsLost} → ${end?.packetsLost}; packetsReceived ${beforeUnpub.packetsReceived} → ${end?.packetsReceived}; ` +
    `nackCount ${beforeUnpub.nackCount} → ${end?.nackCount}`);

  // 4. timestamps track real time across the pause
  let gapAt = -1;
  for (let i = 1; i < frames.length; i++) {
    if (frames[i].at - frames[i - 1].at > 1000 && (gapAt < 0 || frames[i].at - frames[i - 1].at > frames[gapAt].at - frames[gapAt - 1].at)) gapAt = i;
  }
  if (gapAt > 0) {
    const last = frames[gapAt - 1];
    const firstAfter = frames[gapAt];
    const dTsMs = tsDelta(last.ts, firstAfter.ts) / 90;
    const dWall = firstAfter.at - last.at;
    // frame interval before the pause: median arrival gap of the 30 frames before it
    const gaps = frames.slice(Math.max(1, gapAt - 30), gapAt).map((f, k, arr) => (k === 0 ? null : f.at - arr[k - 1].at)).filter((x) => x !== null).sort((x, y) => x - y);
    const tsGaps = frames.slice(Math.max(1, gapAt - 30), gapAt).map((f, k, arr) => (k === 0 ? null : tsDelta(arr[k - 1].ts, f.ts) / 90)).filter((x) => x !== null).sort((x, y) => x - y);
    const interval = tsGaps.length ? tsGaps[tsGaps.length >> 1] : 33.3;
    const skew = dWall - dTsMs;
    tap.diag(`last frame before the pause ts ${last.ts} (key ${last.key}), first after ts ${firstAfter.ts} (key ${firstAfter.key}); ` +
      `dTs ${dTsMs.toFixed(1)} ms, dWall ${dWall.toFixed(1)} ms, skew ${skew.toFixed(1)} ms; frame interval ${interval.toFixed(1)} ms ` +
      `(arrival median ${gaps.length ? gaps[gaps.length >> 1].toFixed(1) : '?'} ms)`);
    tap.check(dTsMs > 0 && Math.abs(skew) <= interval + KEYFRAME_MS,
      `RTP timestamps advance by the pause: |dWall - dTs| <= one frame interval + ${KEYFRAME_MS} ms`,
      `dTs ${dTsMs.toFixed(1)} ms, dWall ${dWall.toFixed(1)} ms, |skew| ${Math.abs(skew).toFixed(1)} ms, allowed ${(interval + KEYFRAME_MS).toFixed(1)} ms`);
    const afterTs = frames.slice(gapAt, gapAt + 30).every((f, k, arr) => k === 0 || tsDelta(arr[k - 1].ts, f.ts) > 0);
    tap.check(afterTs, 'timestamps after the republish increase frame to frame',
      JSON.stringify(frames.slice(gapAt - 2, gapAt + 5).map((f) => f.ts)));
  } else {
    tap.check(false, 'a pause of more than 1 s is visible in the recorded frames',
      `${frames.length} frames recorded; last arrival gaps ${JSON.stringify(frames.slice(-5).map((f) => f.at))}`);
  }

  // 5. no jitter spike after the republish
  const after = samples.filter((s) => s.t >= tRepubPage && s.t <= tRepubPage + 3000)
    .map((s) => s.entries.find((e) => e.mid === mid && e.kind === 'video')?.jitter ?? 0);
  const beforeJ = samples.filter((s) => s.t < tRepubPage - PAUSE_MS)
    .map((s) => s.entries.find((e) => e.mid === mid && e.kind === 'video')?.jitter ?? 0);
  const maxAfter = Math.max(0, ...after);
  const maxBefore = Math.max(0, ...beforeJ);
  const allowed = Math.min(JITTER_CAP_S, Math.max(JITTER_MAX_S, 2 * maxBefore));
  tap.check(after.length > 20 && maxAfter < allowed,
    `no jitter spike: inbound-rtp jitter after the republish stays under ${(allowed * 1000).toFixed(0)} ms`,
    `max ${(maxAfter * 1000).toFixed(1)} ms over ${after.length} samples (before the pause: max ${(maxBefore * 1000).toFixed(1)} ms)`);
} catch (err) {
  tap.check(false, 'test ran to the end', err.stack || String(err));
} finally {
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
