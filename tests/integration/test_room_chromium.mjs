// Acceptance test of the video room with real browsers: three headless Chromium
// contexts (one browser, fake camera and microphone) open the test client page
// tests/integration/pages/roomtest.html (served from a temporary demos dir), each
// joins one room with subscribe "all", publishes camera + microphone and answers
// the server's room.offer renegotiations (docs/API.md "Video rooms").
//
// Asserts:
//  - within 15 s of the last publish, every page has decoded more than 100 video
//    frames from each of the other two (inbound-rtp framesDecoded of the subscriber
//    pc, mapped to participants through the room.offer `tracks` mid list) and
//    received their audio (packetsReceived > 0); the track event's streams[0].id
//    (a=msid) of each of those m-sections is the participant id;
//  - one page leaves (room.leave): the two others get room.track_unpublished for
//    its video and audio and room.participant_left; its tracks end (their
//    inbound-rtp stops growing, or a later room.offer maps their mids to null);
//  - it joins again (a new participant id) and publishes: the others get
//    room.participant_joined, and all three decode frames from one another again;
//  - the server exits 0 on SIGTERM.
// Run: tests/integration/run.sh room_chromium

import {
  createTap, launchChromium, makeDemosDir, sleep, startServer, stopServer,
} from './lib/sb.mjs';
import {
  inbound, openRoomPage, pageErrors, requireVideoroom, sumOf, waitNote,
} from './lib/room.mjs';

const ROOM = 'acceptance-3way';
const NAMES = ['A', 'B', 'C'];
const WINDOW_MS = 15000;
const MIN_FRAMES = 100;
const REJOIN_FRAMES = 50;

const tap = createTap();
const t0 = Date.now();
const watchdog = setTimeout(() => {
  console.log('not ok - test finished within 110 s');
  process.exit(1);
}, 110000);
watchdog.unref();

// Waits until cond(samples) holds for the inbound stats of every page, or timeoutMs.
async function sampleUntil(pages, cond, timeoutMs) {
  const start = Date.now();
  let samples;
  for (;;) {
    samples = await Promise.all(pages.map((p) => inbound(p)));
    if (cond(samples) || Date.now() - start > timeoutMs) return { samples, ms: Date.now() - start };
    await sleep(250);
  }
}

let server = null;
let browser = null;
const demos = makeDemosDir();
try {
  server = await startServer({ overrides: [demos.override] });
  browser = await launchChromium();
  const pages = [];
  for (let i = 0; i < 3; i++) pages.push(await openRoomPage(browser, server));
  if (!await requireVideoroom(tap, pages[0])) throw new Error('no videoroom plugin: nothing to test');

  // Join one after the other: each join result lists those already there.
  const ids = [];
  for (let i = 0; i < 3; i++) {
    const res = await pages[i].evaluate(([room, display]) => rt.join(room, { display, subscribe: 'all' }), [ROOM, NAMES[i]]);
    ids.push(res.participant);
    const listed = (res.participants || []).map((p) => p.id).sort();
    tap.check(/^p[A-Za-z0-9]{8}$/.test(res.participant) && res.room === ROOM &&
              JSON.stringify(listed) === JSON.stringify(ids.slice(0, i).sort()),
      `room.join of ${NAMES[i]}: a participant id, and the participants already there`,
      JSON.stringify(res));
  }
  const [A, B, C] = ids;
  tap.diag(`participants A=${A} B=${B} C=${C}`);

  // Publish all three at once.
  const pubs = await Promise.all(pages.map((p) => p.evaluate(() => rt.publish())));
  const tPublished = Date.now();
  pubs.forEach((r, i) => {
    const tracks = (r.tracks || []).map((t) => `${t.id}:${t.kind}:${t.participant}`).sort();
    const want = [`${ids[i]}/audio0:audio:${ids[i]}`, `${ids[i]}/video0:video:${ids[i]}`];
    tap.check(r.type === 'answer' && r.pc === 'publisher' && JSON.stringify(tracks) === JSON.stringify(want),
      `room.publish of ${NAMES[i]} answers with its tracks ${ids[i]}/audio0 and ${ids[i]}/video0`,
      JSON.stringify({ ...r, sdp: `${(r.sdp || '').length} chars` }));
  });

  // Every page decodes > 100 frames from each of the two others and gets their audio.
  const enough = (samples) => samples.every((s, i) => ids.every((q, j) => j === i ||
    (sumOf(s, q, 'video', 'framesDecoded') > MIN_FRAMES && sumOf(s, q, 'audio', 'packetsReceived') > 0)));
  const { samples, ms } = await sampleUntil(pages, enough, WINDOW_MS - (Date.now() - tPublished));
  tap.diag(`media check after ${((Date.now() - tPublished) / 1000).toFixed(1)} s (sampled ${ms} ms)`);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      if (i === j) continue;
      const f = sumOf(samples[i], ids[j], 'video', 'framesDecoded');
      const a = sumOf(samples[i], ids[j], 'audio', 'packetsReceived');
      tap.check(f > MIN_FRAMES, `${NAMES[i]} decodes > ${MIN_FRAMES} video frames from ${NAMES[j]} within ${WINDOW_MS / 1000} s`,
        `framesDecoded ${f}; entries ${JSON.stringify(samples[i].filter((e) => e.kind === 'video'))}`);
      tap.check(a > 0, `${NAMES[i]} receives audio from ${NAMES[j]}`, `audio packetsReceived ${a}`);
    }
    const own = samples[i].filter((e) => e.participant === ids[i]);
    tap.check(own.length === 0, `${NAMES[i]} is not sent its own tracks`, JSON.stringify(own));
    const wrongMsid = samples[i].filter((e) => e.participant && e.stream !== e.participant);
    tap.check(samples[i].length >= 4 && wrongMsid.length === 0,
      `${NAMES[i]}: streams[0].id of each received track is its participant (a=msid)`,
      JSON.stringify(samples[i].map((e) => ({ mid: e.mid, participant: e.participant, stream: e.stream }))));
  }
  // The notifications that told the earlier joiners about the later ones.
  for (let i = 0; i < 3; i++) {
    const others = ids.filter((_, j) => j !== i);
    const got = [];
    for (const q of others) {
      for (const kind of ['video0', 'audio0']) {
        got.push(await waitNote(pages[i], 'room.track_published', `p => p.track && p.track.id === '${q}/${kind}'`, 2000));
      }
    }
    tap.check(got.every(Boolean) && got.every((t) => t.room === ROOM && t.track.participant && t.track.kind),
      `${NAMES[i]} got room.track_published for the others' 4 tracks`, JSON.stringify(got));
  }
  const joinedNotes = await waitNote(pages[0], 'room.participant_joined', `p => p.participant && p.participant.id === '${C}'`, 2000);
  tap.check(joinedNotes && joinedNotes.participant.display === 'C' && joinedNotes.room === ROOM,
    'A got room.participant_joined for C with its display name', JSON.stringify(joinedNotes));

  // C leaves.
  const cMids = samples.slice(0, 2).map((s) => s.filter((e) => e.participant === C).map((e) => ({ mid: e.mid, ssrc: e.ssrc, kind: e.kind })));
  const leaveRes = await pages[2].evaluate(() => rt.leave());
  const tLeft = Date.now();
  tap.check(JSON.stringify(leaveRes) === '{}', 'room.leave returns {}', JSON.stringify(leaveRes));
  const again = await pages[2].evaluate(() => rt.call('room.leave').then(() => null, (e) => ({ code: e.code, message: e.message })));
  tap.check(again && again.code === 1043, 'a second room.leave: error 1043 (not in a room)', JSON.stringify(again));
  for (let i = 0; i < 2; i++) {
    const vid = await waitNote(pages[i], 'room.track_unpublished', `p => p.track === '${C}/video0'`, 5000);
    const aud = await waitNote(pages[i], 'room.track_unpublished', `p => p.track === '${C}/audio0'`, 1000);
    const left = await waitNote(pages[i], 'room.participant_left', `p => p.participant === '${C}'`, 5000);
    tap.check(vid && aud, `${NAMES[i]} gets room.track_unpublished for C's video and audio`, JSON.stringify({ vid, aud }));
    tap.check(left && left.room === ROOM, `${NAMES[i]} gets room.participant_left for C`, JSON.stringify(left));
  }
  // Its tracks end: what the pages receive on C's m-sections stops growing.
  await sleep(Math.max(0, 1000 - (Date.now() - tLeft)));
  // null where the inbound-rtp is gone (its m-section went inactive)
  const pick = (s, mids) => mids.map((m) => s.find((e) => e.mid === m.mid && e.ssrc === m.ssrc)?.packetsReceived ?? null);
  const before = await Promise.all(pages.slice(0, 2).map((p) => inbound(p)));
  await sleep(2000);
  const after = await Promise.all(pages.slice(0, 2).map((p) => inbound(p)));
  for (let i = 0; i < 2; i++) {
    const b = pick(before[i], cMids[i]);
    const a = pick(after[i], cMids[i]);
    const offers = await pages[i].evaluate(() => rt.offers.map((o) => ({ version: o.version, tracks: o.tracks, at: o.receivedAt, error: o.error })));
    const inactive = cMids[i].every((m) => offers.some((o) => (o.tracks || []).some((t) => t.mid === m.mid && t.track === null)));
    const stopped = a.every((x, k) => x !== null && x === b[k]);
    tap.check(cMids[i].length === 2 && (stopped || inactive),
      `${NAMES[i]}: C's tracks end (inbound-rtp stops growing or its m-sections go inactive)`,
      `mids ${JSON.stringify(cMids[i])}: packetsReceived 1 s after leave ${JSON.stringify(b)}, 2 s later ${JSON.stringify(a)}; ` +
      `inactive in a later room.offer: ${inactive}`);
    tap.diag(`${NAMES[i]} room.offer history: ${JSON.stringify(offers.map((o) => ({ v: o.version, tracks: (o.tracks || []).map((t) => `${t.mid}=${t.track}`) })))}`);
    const errs = await pageErrors(pages[i]);
    tap.check(errs.length === 0 && offers.every((o) => !o.error), `${NAMES[i]}: every room.offer was applied and answered`, JSON.stringify(errs));
  }

  // C joins again: a new participant, seen by both others, and sees them.
  const rejoin = await pages[2].evaluate((room) => rt.join(room, { display: 'C', subscribe: 'all' }), ROOM);
  const C2 = rejoin.participant;
  const listed = (rejoin.participants || []).map((p) => p.id).sort();
  const listedTracks = (rejoin.participants || []).flatMap((p) => (p.tracks || []).map((t) => t.id)).sort();
  tap.check(C2 && C2 !== C && JSON.stringify(listed) === JSON.stringify([A, B].sort()) &&
            JSON.stringify(listedTracks) === JSON.stringify([`${A}/audio0`, `${A}/video0`, `${B}/audio0`, `${B}/video0`].sort()),
    'C rejoins: a new participant id; A and B are listed with their tracks', JSON.stringify(rejoin));
  await pages[2].evaluate(() => rt.publish());
  const tRepublished = Date.now();
  for (let i = 0; i < 2; i++) {
    const j = await waitNote(pages[i], 'room.participant_joined', `p => p.participant && p.participant.id === '${C2}'`, 5000);
    tap.check(j, `${NAMES[i]} gets room.participant_joined for the rejoined C`, JSON.stringify(j));
  }
  const seen = (s) => sumOf(s[0], C2, 'video', 'framesDecoded') > REJOIN_FRAMES &&
    sumOf(s[1], C2, 'video', 'framesDecoded') > REJOIN_FRAMES &&
    sumOf(s[2], A, 'video', 'framesDecoded') > REJOIN_FRAMES && sumOf(s[2], B, 'video', 'framesDecoded') > REJOIN_FRAMES;
  const re = await sampleUntil(pages, seen, WINDOW_MS);
  tap.diag(`after the rejoin: ${((Date.now() - tRepublished) / 1000).toFixed(1)} s`);
  for (let i = 0; i < 2; i++) {
    tap.check(sumOf(re.samples[i], C2, 'video', 'framesDecoded') > REJOIN_FRAMES &&
              sumOf(re.samples[i], C2, 'audio', 'packetsReceived') > 0,
      `${NAMES[i]} decodes > ${REJOIN_FRAMES} frames (and gets audio) from the rejoined C`,
      JSON.stringify(re.samples[i].filter((e) => e.participant === C2)));
  }
  for (const [q, n] of [[A, 'A'], [B, 'B']]) {
    tap.check(sumOf(re.samples[2], q, 'video', 'framesDecoded') > REJOIN_FRAMES &&
              sumOf(re.samples[2], q, 'audio', 'packetsReceived') > 0,
      `the rejoined C decodes > ${REJOIN_FRAMES} frames (and gets audio) from ${n}`,
      JSON.stringify(re.samples[2].filter((e) => e.participant === q)));
  }
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
