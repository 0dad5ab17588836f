// Data tracks in a video room, with two headless Chromium pages and the server
// built with AddressSanitizer (build-asan): each page publishes data channels
// only ('chat' reliable ordered, 'fast' unordered, 'extra'), subscribes to
// everything, and gets the other's channels opened by the server on its
// subscriber PeerConnection. Both pages send at once: 1000 messages each way on
// 'chat' (text and binary, one of 200 KiB) arrive complete, intact and in order;
// 300 each way on 'fast' arrive complete. Closing is seen across the server: the
// publisher closing 'fast' closes the subscriber's copy; a subscriber closing its
// copy of 'chat' gets its close event; the publisher leaving closes 'extra'. The
// server then stops on SIGTERM with no sanitizer report and no SCTP association
// left (usrsctp sockets are not leaked).
// Run: tests/integration/run.sh room_datachannel

import { join } from 'node:path';
import { openRoomPage, requireVideoroom } from './lib/room.mjs';
import {
  createTap, launchChromium, makeDemosDir, ROOT, startServer, stopServer, waitFor, watchdog,
} from './lib/sb.mjs';

const tap = createTap();
watchdog(170000);

const N_CHAT = 1000;
const N_FAST = 300;

// Installed in each page: message i of sender `who`, and the checks of what came.
const HELPERS = `(() => {
  const size = (i) => (i === 500 ? 200 * 1024 : (i % 89) + 1);
  window.dcMake = (who, i) => {
    if (i % 2 === 0) return (who + ':' + i + ':').padEnd(size(i), 'x');
    const b = new Uint8Array(size(i));
    for (let k = 0; k < b.length; k++) b[k] = (i + k + who.charCodeAt(0)) & 0xff;
    return b.buffer;
  };
  window.dcSame = (who, i, got) => {
    const want = window.dcMake(who, i);
    if (typeof want === 'string') return got === want;
    if (!(got instanceof ArrayBuffer) || got.byteLength !== want.byteLength) return false;
    const x = new Uint8Array(want), y = new Uint8Array(got);
    for (let k = 0; k < x.length; k++) if (x[k] !== y[k]) return false;
    return true;
  };
  window.dcSend = async (who, label, n) => {
    const ch = rt.pubChannels[label];
    if (ch.readyState !== 'open') await new Promise((r) => { ch.addEventListener('open', r, { once: true }); });
    for (let i = 0; i < n; i++) {
      while (ch.bufferedAmount > (1 << 20)) await new Promise((r) => setTimeout(r, 5));
      ch.send(window.dcMake(who, i));
    }
  };
  window.dcCheck = (who, label, n, ordered) => {
    const rec = rt.subChannels.find((c) => c.label === label && c.msgs.length > 0) ||
                rt.subChannels.find((c) => c.label === label);
    if (!rec) return { received: 0, bad: -1, matched: 0 };
    let bad = -1, matched = 0;
    if (ordered) {
      for (let i = 0; i < rec.msgs.length && bad < 0; i++) if (!window.dcSame(who, i, rec.msgs[i])) bad = i;
    } else {
      const seen = new Set();
      for (const m of rec.msgs) {
        for (let i = 0; i < n; i++) if (!seen.has(i) && window.dcSame(who, i, m)) { seen.add(i); break; }
      }
      matched = seen.size;
    }
    const at = bad >= 0 ? rec.msgs[bad] : null;
    const desc = (m) => (m === null || m === undefined ? null : typeof m === 'string' ? 'text ' + m.length + ' ' + m.slice(0, 12) : 'binary ' + m.byteLength);
    return { received: rec.msgs.length, bad, matched, got: desc(at), next: bad >= 0 ? desc(rec.msgs[bad + 1]) : null };
  };
  window.dcState = () => rt.subChannels.map((c) => ({ label: c.label, state: c.channel.readyState, n: c.msgs.length }));
})()`;

const openChannels = (page) => page.evaluate(() => rt.subChannels.filter((c) => c.channel.readyState === 'open').map((c) => c.label).sort().join(','));
const closedSub = (page, label) => page.evaluate((l) => rt.subChannels.some((c) => c.label === l && c.closedAt !== null), label);

const demos = makeDemosDir();
let server = null;
let browser = null;
let exitCode = 1;
try {
  // The ASan build (tools/dev builds it): a leak of usrsctp sockets shows at exit.
  process.env.SB_BUILD = process.env.SB_BUILD_ASAN || join(ROOT, 'build-asan');
  process.env.ASAN_OPTIONS = 'detect_leaks=1:abort_on_error=0';
  process.env.LSAN_OPTIONS = `suppressions=${join(ROOT, 'tests', 'lsan.supp')}:print_suppressions=0`;
  server = await startServer({ overrides: [demos.override], readyTimeoutMs: 30000 });
  browser = await launchChromium();
  const a = await openRoomPage(browser, server, { logName: 'test_room_datachannel-a' });
  const b = await openRoomPage(browser, server, { logName: 'test_room_datachannel-b' });
  if (!await requireVideoroom(tap, a)) throw new Error('no videoroom');
  for (const [page, who] of [[a, 'A'], [b, 'B']]) {
    await page.evaluate(HELPERS);
    await page.evaluate((w) => rt.join('dc', { display: w }), who);
  }
  const data = { chat: {}, fast: { ordered: false }, extra: {} };
  const pubA = await a.evaluate((d) => rt.publish({ audio: false, video: false, data: d }), data);
  await b.evaluate((d) => rt.publish({ audio: false, video: false, data: d }), data);
  tap.check(Array.isArray(pubA.tracks), 'a data-only publish is accepted', JSON.stringify(pubA));

  const want = 'chat,extra,fast';
  const ready = await waitFor(async () => (await openChannels(a)) === want && (await openChannels(b)) === want,
    { timeoutMs: 20000, intervalMs: 200 });
  tap.check(ready, 'each page gets the other\'s three data channels, opened by the server',
    `A: ${await openChannels(a)} B: ${await openChannels(b)}`);
  const tracks = await a.evaluate(() => rt.notes.filter((n) => n.method === 'room.track_published').map((n) => n.params.track));
  tap.check(tracks.some((t) => t.kind === 'data' && t.label === 'chat' && t.ordered === true) &&
            tracks.some((t) => t.kind === 'data' && t.label === 'fast' && t.ordered === false),
  'room.track_published announces data tracks with label and ordering', JSON.stringify(tracks));

  // Both directions at once.
  await Promise.all([
    a.evaluate((n) => Promise.all([dcSend('A', 'chat', n.chat), dcSend('A', 'fast', n.fast)]), { chat: N_CHAT, fast: N_FAST }),
    b.evaluate((n) => Promise.all([dcSend('B', 'chat', n.chat), dcSend('B', 'fast', n.fast)]), { chat: N_CHAT, fast: N_FAST }),
  ]);
  const done = await waitFor(async () => {
    const ra = await a.evaluate(() => rt.subChannels.map((c) => c.msgs.length).reduce((x, y) => x + y, 0));
    const rb = await b.evaluate(() => rt.subChannels.map((c) => c.msgs.length).reduce((x, y) => x + y, 0));
    return ra >= N_CHAT + N_FAST && rb >= N_CHAT + N_FAST;
  }, { timeoutMs: 60000, intervalMs: 250 });
  tap.check(done, 'every message arrived within 60 s', `A ${JSON.stringify(await a.evaluate(() => dcState()))} B ${JSON.stringify(await b.evaluate(() => dcState()))}`);
  for (const [page, from, name] of [[b, 'A', 'A -> B'], [a, 'B', 'B -> A']]) {
    const chat = await page.evaluate(([w, n]) => dcCheck(w, 'chat', n, true), [from, N_CHAT]);
    tap.check(chat.received === N_CHAT && chat.bad === -1,
      `${name}: ${N_CHAT} ordered messages (text, binary, one of 200 KiB): none lost, doubled or reordered`, JSON.stringify(chat));
    const fast = await page.evaluate(([w, n]) => dcCheck(w, 'fast', n, false), [from, N_FAST]);
    tap.check(fast.received === N_FAST && fast.matched === N_FAST,
      `${name}: ${N_FAST} unordered messages arrive complete`, JSON.stringify(fast));
  }
  const stats = await b.evaluate(() => rt.call('room.stats'));
  const text = JSON.stringify(stats);
  tap.check(!/"malformed_packets":[1-9]/.test(text) && /"messages_out":\d{4}/.test(text),
    'room.stats shows the data counters (no malformed packets)', text.slice(0, 600));

  // A channel opened later on the same PeerConnection (no renegotiation), with a
  // label of 100 CJK characters (300 bytes): published, cut to whole characters.
  await a.evaluate(() => { rt.pubChannels.long = rt.pub.createDataChannel('漢'.repeat(100)); });
  const longLabel = await waitFor(() => b.evaluate(() => rt.subChannels.find((c) => c.label.startsWith('漢'))?.label),
    { timeoutMs: 10000 });
  const longNote = await b.evaluate(() => rt.notes.filter((n) => n.method === 'room.track_published')
    .map((n) => n.params && n.params.track).find((t) => t && t.label && t.label.startsWith('漢')));
  tap.check(longLabel && /^漢+$/.test(longLabel) && longLabel.length === 85 && longNote?.label === longLabel,
    'a channel opened later is published too; a 300-byte label is cut to whole characters (85)',
    `${longLabel?.length} ${JSON.stringify(longNote)}`);

  // Closing, seen across the server.
  await a.evaluate(() => rt.pubChannels.fast.close());
  const fastClosed = await waitFor(() => closedSub(b, 'fast'), { timeoutMs: 10000 });
  const pubClosed = await a.evaluate(() => rt.pubChannels.fast.readyState);
  tap.check(fastClosed && pubClosed === 'closed',
    'the publisher closing a channel closes the subscriber\'s copy (and its own completes)', `${fastClosed} ${pubClosed}`);
  await b.evaluate(() => rt.subChannels.find((c) => c.label === 'chat' && c.closedAt === null).channel.close());
  const chatClosed = await waitFor(() => closedSub(b, 'chat'), { timeoutMs: 10000 });
  tap.check(chatClosed, 'a subscriber closing its channel sees it close (the server closed its side)');
  await a.evaluate(() => rt.leave());
  const extraClosed = await waitFor(() => closedSub(b, 'extra'), { timeoutMs: 10000 });
  tap.check(extraClosed, 'a participant leaving closes its channels at the subscribers');
  const bStill = await a.evaluate(() => true) && await b.evaluate(() => rt.pubChannels.chat.readyState);
  tap.check(bStill === 'open', 'the other participant\'s own channels stay open', bStill);
  await b.evaluate(() => rt.leave());

  await browser.close();
  browser = null;
  const info = await stopServer(server);
  const log = server.readLog();
  server = null;
  const reports = log.split('\n').filter((l) => /AddressSanitizer|LeakSanitizer|runtime error:/.test(l));
  tap.check(reports.length === 0, 'the ASan server reports nothing after the calls', reports.slice(0, 5).join('\n'));
  tap.check(!/SCTP association\(s\) still alive/.test(log) && !/peer\(s\) still alive/.test(log),
    'no SCTP association or peer is left at shutdown', JSON.stringify(info));
  exitCode = 0;
} catch (err) {
  tap.check(false, 'test ran without an exception', err?.stack ?? String(err));
} finally {
  if (browser) await browser.close().catch(() => {});
  if (server) await stopServer(server);
  demos.remove();
}
process.exit(tap.summary() || exitCode);
