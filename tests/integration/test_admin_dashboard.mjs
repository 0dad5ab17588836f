// Acceptance test of the admin dashboard (demos/admin.html at /admin/ on the main
// port, calling the admin API on 127.0.0.1:7088 cross-origin) during a live
// three-party call: three headless Chromium pages (roomtest.html) join one room,
// publish camera + microphone and subscribe to each other; a fourth page opens
// /admin/?room=..., is given the API address and the token, and polls.
//
// Asserts (on the dashboard's DOM text):
//  - it shows the room in the rooms table and as the selected room, its three
//    participants (display names and ids), and for each a non-zero bitrate on the
//    video and audio it sends and on the streams it receives; the charts are drawn;
//    a screenshot goes to test-results/admin_dashboard.png;
//  - "Mute audio" on one participant: the API reports its audio muted and the card
//    says so;
//  - "Kick" on another: that page gets room.kicked, its card disappears from the
//    dashboard, and the admin API's room listing has two participants;
//  - a wrong token: the dashboard says so;
//  - the server exits 0 on SIGTERM.
// Run: tests/integration/run.sh admin_dashboard

import { join } from 'node:path';
import {
  RESULTS, createTap, finishTest, makeDemosDir, openPage, sleep, waitFor, watchdog,
} from './lib/sb.mjs';
import { waitNote } from './lib/room.mjs';
import { ADMIN_TOKEN, ADMIN_URL, adm, startLiveCall } from './lib/admin.mjs';

const ROOM = 'dashboard-3way';
const NAMES = ['Ann', 'Bob', 'Cid'];
const tap = createTap();
const t0 = Date.now();
watchdog(150000);

// What the dashboard shows, read from its DOM.
const readDashboard = (page) => page.evaluate(() => ({
  status: document.getElementById('status').textContent,
  roomName: document.getElementById('room-name').textContent,
  roomsTable: document.getElementById('rooms').innerText,
  cards: [...document.querySelectorAll('.participant')].map((c) => ({
    id: c.dataset.participant,
    header: c.querySelector('header').innerText,
    streams: [...c.querySelectorAll('tbody tr')].map((r) => ({
      dir: r.dataset.dir,
      kind: r.children[2].textContent,
      bitrate: Number(r.dataset.bitrate),
      text: r.innerText,
    })),
  })),
}));

// Each participant sends video and audio with a bitrate, and receives >= 4 streams
// (the others' video and audio), all with a bitrate.
function live(view, ids) {
  return ids.every((id) => {
    const c = view.cards.find((x) => x.id === id);
    if (!c) return false;
    const sends = c.streams.filter((s) => s.dir === 'sends' && s.bitrate > 0).map((s) => s.kind).sort().join();
    const receives = c.streams.filter((s) => s.dir === 'receives' && s.bitrate > 0).length;
    return sends === 'audio,video' && receives >= 4;
  });
}

const ctx = { demos: makeDemosDir(), t0 };
try {
  const { pages, ids } = await startLiveCall(tap, ctx, { room: ROOM, names: NAMES });
  tap.diag(`participants ${NAMES.map((n, i) => `${n}=${ids[i]}`).join(' ')}`);

  // The dashboard, from the main port; the API on the admin port.
  const dash = await openPage(ctx.browser, `${ctx.server.url}/admin/?room=${ROOM}`, { viewport: { width: 1400, height: 1100 } });
  await dash.fill('#api', ADMIN_URL);
  await dash.fill('#token', ADMIN_TOKEN);
  await dash.click('#connect');

  let view = await waitFor(async () => {
    const v = await readDashboard(dash);
    return live(v, ids) ? v : null;
  }, { timeoutMs: 25000, intervalMs: 500 });
  tap.check(view, 'within 25 s the dashboard shows all three participants sending audio and video and receiving 4 streams, with bitrates',
    JSON.stringify(await readDashboard(dash)).slice(0, 3000));
  await sleep(4000); // a few more points on the charts
  view = await readDashboard(dash);
  tap.check(/^connected/.test(view.status), 'the dashboard is connected to the admin API', view.status);
  tap.check(view.roomName === ROOM && view.roomsTable.includes(ROOM) && /\b3\b/.test(view.roomsTable),
    'the room is listed (3 participants) and selected', JSON.stringify({ roomName: view.roomName, rooms: view.roomsTable }));
  for (let i = 0; i < 3; i++) {
    const c = view.cards.find((x) => x.id === ids[i]);
    const sends = c ? c.streams.filter((s) => s.dir === 'sends') : [];
    const receives = c ? c.streams.filter((s) => s.dir === 'receives') : [];
    tap.check(c && c.header.includes(NAMES[i]) && c.header.includes(ids[i]),
      `${NAMES[i]}'s card shows its name and id`, c && c.header);
    tap.check(sends.length === 2 && sends.every((s) => s.bitrate > 0) && receives.length >= 4 && receives.every((s) => s.bitrate > 0),
      `${NAMES[i]}: non-zero bitrates on the 2 streams it sends and the ${receives.length} it receives`,
      JSON.stringify(c && c.streams.map((s) => `${s.dir} ${s.kind} ${s.bitrate} bps`)));
  }
  const chartPixels = await dash.evaluate(() => [...document.querySelectorAll('canvas.spark')].map((cv) => {
    const d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
    let n = 0;
    for (let k = 3; k < d.length; k += 4) if (d[k] > 0) n++;
    return n;
  }));
  tap.check(chartPixels.length >= 18 && chartPixels.every((n) => n > 0), `all ${chartPixels.length} stream charts are drawn`,
    JSON.stringify(chartPixels));
  const shot = join(RESULTS, 'admin_dashboard.png');
  await dash.screenshot({ path: shot, fullPage: true });
  tap.diag(`screenshot: ${shot}`);

  // Mute Ann's audio from the dashboard.
  await dash.click(`.participant[data-participant="${ids[0]}"] button.mute`);
  const mutedApi = await waitFor(async () => {
    const r = await adm('GET', `/admin/v1/rooms/${ROOM}`);
    return r.json?.tracks.find((t) => t.id === `${ids[0]}/audio0`)?.muted === true;
  }, { timeoutMs: 5000 });
  const mutedCard = await waitFor(async () => (await readDashboard(dash)).cards.find((c) => c.id === ids[0])?.header.includes('audio muted'),
    { timeoutMs: 5000 });
  tap.check(mutedApi && mutedCard, 'the mute button mutes Ann\'s audio (API and card agree)');
  const selfNote = await waitNote(pages[0], 'room.muted', 'p => p.by === "admin"', 3000);
  tap.check(selfNote, 'Ann gets room.muted (by admin)', JSON.stringify(selfNote));

  // Kick Cid from the dashboard.
  await dash.click(`.participant[data-participant="${ids[2]}"] button.kick`);
  const kicked = await waitNote(pages[2], 'room.kicked', `p => p.participant === '${ids[2]}'`, 5000);
  tap.check(kicked && kicked.room === ROOM, 'the kick button: Cid\'s page gets room.kicked', JSON.stringify(kicked));
  const cardGone = await waitFor(async () => {
    const v = await readDashboard(dash);
    return v.cards.length === 2 && !v.cards.some((c) => c.id === ids[2]) ? v : null;
  }, { timeoutMs: 5000 });
  tap.check(cardGone, 'Cid\'s card disappears from the dashboard', JSON.stringify((await readDashboard(dash)).cards.map((c) => c.id)));
  const list = await adm('GET', '/admin/v1/rooms');
  const entry = list.json.rooms.find((r) => r.room === ROOM);
  tap.check(entry && entry.participants === 2, 'the admin API\'s room listing has 2 participants', list.text);
  for (const i of [0, 1]) {
    const left = await waitNote(pages[i], 'room.participant_left', `p => p.participant === '${ids[2]}'`, 3000);
    tap.check(left, `${NAMES[i]} gets room.participant_left for Cid`, JSON.stringify(left));
  }
  tap.diag(`Cid's peer connections 2 s after the kick: ${JSON.stringify(await sleep(2000).then(() => pages[2].evaluate(() => rt.pcState())))}`);
  await dash.screenshot({ path: join(RESULTS, 'admin_dashboard_after_kick.png'), fullPage: true });

  // A wrong token.
  await dash.fill('#token', 'not-the-token');
  await dash.click('#connect');
  const refused = await waitFor(async () => /wrong or missing token/.test((await readDashboard(dash)).status), { timeoutMs: 5000 });
  tap.check(refused, 'with a wrong token the dashboard says so', (await readDashboard(dash)).status);
} catch (err) {
  tap.check(false, 'test ran to the end', err.stack || String(err));
} finally {
  await finishTest(tap, ctx);
}
process.exit(tap.summary());
