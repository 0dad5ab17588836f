// Helpers for the video-room browser tests (test_room_*.mjs): pages running
// tests/integration/pages/roomtest.html (window.rt, see the comment there), served
// by a server started on a temporary demos dir (makeDemosDir in sb.mjs).
//
//   const demos = makeDemosDir();
//   const server = await startServer({ overrides: [demos.override] });
//   const page = await openRoomPage(browser, server);
//   if (!await requireVideoroom(tap, page)) ...   // server.status lists "videoroom"
//   const me = await page.evaluate(() => rt.join('r', { subscribe: 'all' }));
//   await page.evaluate(() => rt.publish());
//   const stats = await inbound(page);             // subscriber inbound-rtp, mapped to tracks

import { openPage, sleep } from './sb.mjs';

/** Opens roomtest.html (query: extra URL parameters) and waits for its WebSocket. */
export async function openRoomPage(browser, server, { query = '', logName } = {}) {
  const url = `${server.url}/roomtest.html${query ? `?${query}` : ''}`;
  const page = await openPage(browser, url, logName ? { logName } : {});
  await page.evaluate(() => window.rt.ready);
  return page;
}

/**
 * Checks that server.status lists the videoroom plugin (the room API exists);
 * returns the check's result. The tests stop early without it.
 */
export async function requireVideoroom(tap, page) {
  const status = await page.evaluate(() => window.rt.call('server.status'));
  return tap.check(Array.isArray(status.plugins) && status.plugins.includes('videoroom'),
    'server.status lists the videoroom plugin', `plugins ${JSON.stringify(status.plugins)}`);
}

/** The subscriber pc's inbound-rtp entries ({mid, ssrc, kind, participant, track, stream, counters}). */
export const inbound = (page) => page.evaluate(() => window.rt.inbound());

/** Server notifications received by the page so far ({t, method, params}). */
export const notes = (page, method) => page.evaluate(
  (m) => window.rt.notes.filter((n) => !m || n.method === m), method);

/**
 * Waits until the page has received a notification `method` whose params satisfy
 * pred (a function source string evaluated in the page, e.g. "p => p.participant === 'x'");
 * returns its params or null after timeoutMs.
 */
export async function waitNote(page, method, pred = 'p => true', timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await page.evaluate(([m, src]) => {
      // eslint-disable-next-line no-new-func
      const f = new Function(`return (${src})`)();
      const n = window.rt.notes.find((x) => x.method === m && f(x.params || {}));
      return n ? n.params : null;
    }, [method, pred]);
    if (found || Date.now() > deadline) return found;
    await sleep(100);
  }
}

/** Sum of one counter over the inbound entries of `participant` of `kind`. */
export function sumOf(entries, participant, kind, field) {
  return entries.filter((e) => e.participant === participant && e.kind === kind)
    .reduce((a, e) => a + (e[field] ?? 0), 0);
}

/**
 * The longest time (ms) in `samples` ({t, entries} from rt.startSampler) during
 * which the video framesDecoded from `participant` did not grow.
 */
export function longestStall(samples, participant) {
  let worst = 0;
  let lastT = samples[0]?.t ?? 0;
  let lastN = -1;
  for (const s of samples) {
    const n = sumOf(s.entries, participant, 'video', 'framesDecoded');
    if (n > lastN) {
      lastN = n;
      lastT = s.t;
    } else {
      worst = Math.max(worst, s.t - lastT);
    }
  }
  return worst;
}

/** Video freezes of `participant` between two inbound() snapshots a and b. */
export const freezeDelta = (a, b, participant) => ({
  count: sumOf(b, participant, 'video', 'freezeCount') - sumOf(a, participant, 'video', 'freezeCount'),
  seconds: sumOf(b, participant, 'video', 'totalFreezesDuration')
    - sumOf(a, participant, 'video', 'totalFreezesDuration'),
});

/** Errors the page recorded (failed renegotiations, trickle, addIceCandidate…). */
export const pageErrors = (page) => page.evaluate(() => window.rt.errors.slice());
