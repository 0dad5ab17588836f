// The video room demo page with real browsers: three headless Chromium pages (one
// browser, a context each) open demos/conference.html?autostart=1 in one room.
// Checks the page, not media acceptance (other tests do that): every page shows three
// tiles with the right names and playing video, the QoS overlay shows browser and
// server numbers, a muted camera shows the "camera off" placeholder on the others
// (and a muted microphone the mic-off flag), and Leave / Join again works.
// Run: tests/integration/run.sh conference_page   (conference.png and logs in test-results/)
// SB_URL=http://127.0.0.1:PORT runs it against a server that is already running.

import { join } from 'node:path';
import {
  RESULTS, createTap, launchChromium, openPage, sleep, startServer, stopServer, waitFor,
} from './lib/sb.mjs';

const ROOM = `conf${Date.now() % 100000}`;
const NAMES = ['Ann', 'Bob', 'Cyd'];

const tap = createTap();
const t0 = Date.now();
const watchdog = setTimeout(() => {
  console.log('not ok - test finished within 150 s');
  process.exit(1);
}, 148000);
watchdog.unref();

// What a page shows: its phase and, per tile, name, placeholder state and overlay cells.
function readPage(page) {
  return page.evaluate(() => {
    const c = window.conference;
    const tiles = [...document.querySelectorAll('#grid .tile')].map((el) => {
      const video = el.querySelector('video');
      const q = {};
      for (const cell of el.querySelectorAll('[data-q]')) q[cell.dataset.q] = cell.textContent.trim();
      return {
        id: el.dataset.participant,
        local: el.classList.contains('local'),
        name: el.querySelector('.name').textContent,
        video: el.dataset.video,
        why: el.querySelector('.why').textContent,
        placeholderShown: getComputedStyle(el.querySelector('.placeholder')).display !== 'none',
        micOff: !el.querySelector('.mic-off').hidden,
        frames: video.getVideoPlaybackQuality().totalVideoFrames,
        width: video.videoWidth,
        qosShown: getComputedStyle(el.querySelector('.qos')).display !== 'none',
        q,
      };
    });
    return {
      phase: c.phase,
      self: c.self ? c.self.id : null,
      tileCount: c.tileCount,
      participants: c.participants.size,
      pcs: { publisher: c.pcs.publisher?.connectionState ?? null, subscriber: c.pcs.subscriber?.connectionState ?? null },
      joinShown: getComputedStyle(document.getElementById('join-card')).display !== 'none',
      controlsShown: getComputedStyle(document.getElementById('call-card')).display !== 'none',
      errors: document.getElementById('errors').textContent.trim(),
      tiles,
    };
  });
}

const remoteTiles = (s) => s.tiles.filter((t) => !t.local);
const otherNames = (i) => NAMES.filter((_, j) => j !== i).sort().join(',');
const names = (s) => remoteTiles(s).map((t) => t.name).sort().join(',');

// Waits until every page satisfies `pred(state, index)`; returns the states.
async function waitAll(pages, pred, timeoutMs) {
  let states = [];
  await waitFor(async () => {
    states = await Promise.all(pages.map(readPage));
    return states.every((s, i) => pred(s, i));
  }, { timeoutMs, intervalMs: 250 });
  return states;
}

const brief = (s) => JSON.stringify({
  phase: s.phase, tiles: s.tileCount, pcs: s.pcs, errors: s.errors || undefined,
  t: s.tiles.map((t) => `${t.name}:${t.video}:${t.frames}f:${t.width}px${t.micOff ? ':micoff' : ''}`),
});
const isNum = (v) => /^-?\d+(\.\d+)?$/.test(v ?? '');

let server = null;
let browser = null;
let exitCode = 1;
try {
  let url = process.env.SB_URL;
  if (!url) {
    server = await startServer();
    url = server.url;
    tap.check(true, 'server starts and serves HTTP', `${url} (pid ${server.pid})`);
  }
  browser = await launchChromium();

  // The first page checks that the server has rooms at all before going on.
  const pages = [];
  pages.push(await openPage(browser, `${url}/conference.html?room=${ROOM}&name=${NAMES[0]}&autostart=1`));
  const status = await waitFor(() => pages[0].evaluate(() => window.conference.client?.call('server.status')),
    { timeoutMs: 10000 });
  const hasRooms = (status?.plugins ?? []).includes('videoroom');
  tap.check(hasRooms, 'server.status lists the videoroom plugin', status ?? 'no answer');
  if (!hasRooms) throw new Error('no videoroom plugin');
  for (const name of NAMES.slice(1)) {
    pages.push(await openPage(browser, `${url}/conference.html?room=${ROOM}&name=${name}&autostart=1`));
  }

  // 1. Everyone sees everyone, with video.
  let states = await waitAll(pages, (s) => s.phase === 'joined' && s.tileCount === 3, 20000);
  tap.check(states.every((s) => s.phase === 'joined' && s.tileCount === 3 && s.controlsShown && !s.joinShown),
    'each of 3 pages joins and shows 3 tiles (itself + 2 others) and the call controls', states.map(brief).join('\n'));
  tap.check(states.every((s, i) => names(s) === otherNames(i) && s.tiles.filter((t) => t.local).length === 1),
    'remote tiles carry the other participants\' display names; one local tile', states.map((s) => names(s)).join(' | '));

  states = await waitAll(pages, (s) => remoteTiles(s).length === 2 &&
    s.tiles.every((t) => t.video === 'on' && t.frames > 0 && t.width > 0), 20000);
  tap.check(states.every((s) => remoteTiles(s).length === 2 && s.tiles.every((t) => t.video === 'on' && t.frames > 0)),
    'every tile plays video (no placeholder), on every page', states.map(brief).join('\n'));
  tap.check(states.every((s) => s.pcs.publisher === 'connected' && s.pcs.subscriber === 'connected'),
    'publisher and subscriber PeerConnections connected on every page', states.map((s) => JSON.stringify(s.pcs)).join(' '));

  // 1b. The chat pane over data channels: Ann and Bob type, everyone else reads.
  const chatLines = (page) => page.evaluate(() => [...document.querySelectorAll('#chat .chat-messages li')]
    .map((li) => ({ who: li.querySelector('.who').textContent, text: li.querySelector('.text').textContent,
      html: li.querySelector('.text').innerHTML })));
  const chatReady = await waitFor(async () => (await Promise.all(pages.map((pg) => pg.evaluate(() =>
    !document.querySelector('#chat').hidden && !document.querySelector('#chat input').disabled)))).every(Boolean),
  { timeoutMs: 10000 });
  tap.check(chatReady, 'the chat pane is shown and enabled on every page once its data channel is open');
  const say = async (page, text) => {
    await page.fill('#chat input', text);
    await page.click('#chat button');
  };
  await say(pages[0], 'hello from Ann');
  await say(pages[1], '<b>Bob</b> & co');
  const chatOk = (lines, i) => {
    const want = [['Ann', 'hello from Ann'], ['Bob', '<b>Bob</b> & co']];
    return want.every(([who, text], k) => lines.some((l) => l.text === text &&
      l.who === (k === i ? 'You' : who)));
  };
  const chats = await waitFor(async () => {
    const all = await Promise.all(pages.map(chatLines));
    return all.every(chatOk) ? all : null;
  }, { timeoutMs: 10000 });
  tap.check(Boolean(chats), 'chat messages reach every page with the sender\'s name (own ones as "You")',
    JSON.stringify(chats ?? await Promise.all(pages.map(chatLines))));
  tap.check(chats && chats.every((lines) => lines.every((l) => !/<b>/.test(l.html))),
    'chat text is shown as text, never as HTML');

  // 2. The QoS overlay: browser and server numbers on every tile of page 0.
  await pages[0].check('#qos');
  const remoteKeys = ['b.video.kbps', 'b.video.lost', 'b.video.jitter', 'b.audio.kbps', 'b.audio.lost',
    's.video.kbps', 's.audio.kbps', 's.video.rtt'];
  const localKeys = ['b.video.kbps', 'b.audio.kbps', 'b.video.fps', 's.video.kbps', 's.audio.kbps', 's.video.lost', 's.video.jitter'];
  const overlayOk = (s) => s.tiles.every((t) => t.qosShown &&
      (t.local ? localKeys : remoteKeys).every((k) => isNum(t.q[k])) &&
      (t.local ? /^\d+×\d+$/.test(t.q['b.video.size']) : /^\d+×\d+ @ \d+$/.test(t.q['b.video.size'])) &&
      (t.local || /^\d+ \/ \d+$/.test(t.q['s.video.nack'])));
  [states[0]] = await waitAll([pages[0]], overlayOk, 8000);
  tap.check(overlayOk(states[0]), 'QoS overlay shows numbers: browser inbound + server outbound per remote tile, ' +
    'sent + server inbound on the local tile', states[0].tiles.map((t) => `${t.name} ${JSON.stringify(t.q)}`).join('\n'));

  // 3. Bob turns his camera off and mutes his microphone.
  const bob = 1;
  const bobId = (await readPage(pages[bob])).self;
  await pages[bob].click('#cam');
  await pages[bob].click('#mic');
  const bobTile = (s) => s.tiles.find((t) => t.id === bobId);
  states = await waitAll(pages, (s) => bobTile(s)?.video === 'off' && bobTile(s)?.placeholderShown &&
    (bobTile(s).local || bobTile(s).micOff), 8000);
  tap.check(states.every((s) => bobTile(s)?.video === 'off' && bobTile(s).placeholderShown && /camera off/i.test(bobTile(s).why)),
    'camera off: Bob\'s tile shows the "camera off" placeholder on every page',
    states.map((s) => JSON.stringify(bobTile(s) && { video: bobTile(s).video, why: bobTile(s).why })).join(' '));
  tap.check(states.filter((_, i) => i !== bob).every((s) => bobTile(s)?.micOff),
    'microphone muted: the others show Bob\'s mic-off flag');
  await sleep(1500); // the overlay and the placeholder in the picture
  await pages[0].screenshot({ path: join(RESULTS, 'conference.png'), fullPage: true });

  await pages[bob].click('#cam');
  await pages[bob].click('#mic');
  const framesBefore = bobTile(await readPage(pages[0])).frames;
  states = await waitAll(pages, (s, i) => bobTile(s)?.video === 'on' && !bobTile(s).micOff &&
    (i !== 0 || bobTile(s).frames > framesBefore + 10), 10000);
  tap.check(states.every((s, i) => bobTile(s)?.video === 'on' && !bobTile(s).micOff &&
    (i !== 0 || bobTile(s).frames > framesBefore + 10)),
  'camera and microphone on again: placeholder gone, Bob\'s video plays on', states.map(brief).join('\n'));

  // 4. Cyd leaves: back to the join form; the others drop his tile.
  const cyd = 2;
  const cydId = (await readPage(pages[cyd])).self;
  await pages[cyd].click('#leave');
  states = await waitAll(pages, (s, i) => (i === cyd ? s.phase === 'idle' && s.tileCount === 0 && s.joinShown
    : s.tileCount === 2 && !s.tiles.some((t) => t.id === cydId)), 8000);
  tap.check(states[cyd].phase === 'idle' && states[cyd].tileCount === 0 && states[cyd].joinShown &&
    !states[cyd].controlsShown && !states[cyd].pcs.publisher && !states[cyd].pcs.subscriber,
  'Leave: the leaver is back at the join form, grid empty, both PeerConnections closed', brief(states[cyd]));
  tap.check(states.every((s, i) => i === cyd || (s.tileCount === 2 && !s.tiles.some((t) => t.id === cydId))),
    'the others remove the leaver\'s tile', states.map(brief).join('\n'));

  // 5. And joins again (a new participant id): everyone sees everyone again.
  await pages[cyd].click('#join');
  states = await waitAll(pages, (s) => s.phase === 'joined' && s.tileCount === 3 &&
    s.tiles.every((t) => t.video === 'on' && t.frames > 0), 20000);
  tap.check(states.every((s, i) => s.tileCount === 3 && names(s) === otherNames(i) &&
    s.tiles.every((t) => t.video === 'on' && t.frames > 0)),
  'Join again: 3 tiles with video on every page', states.map(brief).join('\n'));
  await pages[0].screenshot({ path: join(RESULTS, 'conference-rejoin.png'), fullPage: true });
  tap.check(states[cyd].self && states[cyd].self !== cydId, 'the rejoined participant has a new id',
    `${cydId} -> ${states[cyd].self}`);

  const errs = states.map((s, i) => (s.errors ? `${NAMES[i]}: ${s.errors}` : '')).filter(Boolean);
  tap.check(errs.length === 0, 'no page shows an error', errs.join('\n') || undefined);
  exitCode = 0;
} catch (err) {
  tap.check(false, 'test ran to the end', err.stack || String(err));
} finally {
  if (browser) await Promise.race([browser.close(), sleep(5000)]);
  if (server) {
    const exit = await stopServer(server);
    tap.check(exit && !exit.killed && exit.code === 0, 'server exits cleanly on SIGTERM', exit);
    if (tap.failed) tap.diag(`server log tail:\n${server.readLog().split('\n').slice(-30).join('\n')}`);
  }
  tap.diag(`took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
process.exit(tap.summary() || (exitCode ? 1 : 0));
