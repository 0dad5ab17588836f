// Acceptance test of the admin REST API (docs/admin-openapi.yaml) against a server
// with a live call: two headless Chromium pages (tests/integration/pages/roomtest.html)
// join one room, each publishes camera + microphone and subscribes to the other;
// Node's fetch is the HTTP client of the admin listener (127.0.0.1:7088).
//
// Asserts:
//  - every route of the server's table (info.routes): 401 without a token and with
//    a wrong one (JSON error, WWW-Authenticate), OPTIONS preflight 204 with CORS;
//  - unknown path 404, known path with another method 405 with Allow; unknown
//    room / participant 404; existing room 409; bad bodies and params 400;
//  - info, loglevel (get, set, back), rooms list, room detail (participants,
//    tracks, subscriptions), room creation with options;
//  - participants/{id}: the stats of A's live video and audio streams are non-zero
//    and within 20 % of the browser's own getStats, sampled around the request:
//    packets and bytes A sent (outbound-rtp) vs the server's publisher inbound
//    stream of the same SSRC, and what B received (inbound-rtp) vs the server's
//    subscriber outbound stream of the same SSRC;
//  - mute: A's audio stops reaching B (B's inbound audio stops growing), B gets
//    room.track_muted, A room.muted; unmute resumes it;
//  - kick a WHIP publisher: it leaves the room and its /whip/ resource is gone;
//  - kick: B gets room.kicked and leaves the listing, A gets room.participant_left;
//  - DELETE the room: A gets room.kicked, the room is gone (404) and not listed;
//  - the server exits 0 on SIGTERM.
// Run: tests/integration/run.sh admin_api

import { createTap, finishTest, makeDemosDir, sleep, waitFor, watchdog } from './lib/sb.mjs';
import { waitNote } from './lib/room.mjs';
import { ADMIN_TOKEN, adm, fillRoute, isError, startLiveCall } from './lib/admin.mjs';

const ROOM = 'admin-live';
const tap = createTap();
const t0 = Date.now();
watchdog(150000);

// What a page's browser counts for each SSRC: outbound-rtp of its publisher pc and
// inbound-rtp of its subscriber pc (with the participant its mid carries).
const browserStats = (page) => page.evaluate(async () => {
  const out = [];
  if (rt.pub) {
    for (const s of (await rt.pub.getStats()).values()) {
      if (s.type === 'outbound-rtp') {
        out.push({ dir: 'out', kind: s.kind, ssrc: s.ssrc, packets: s.packetsSent,
                   bytes: (s.bytesSent || 0) + (s.headerBytesSent || 0) });
      }
    }
  }
  if (rt.sub) {
    for (const s of (await rt.sub.getStats()).values()) {
      if (s.type === 'inbound-rtp') {
        out.push({ dir: 'in', kind: s.kind, ssrc: s.ssrc, participant: (rt.midMap[s.mid] || {}).participant ?? null,
                   packets: s.packetsReceived, bytes: (s.bytesReceived || 0) + (s.headerBytesReceived || 0) });
      }
    }
  }
  return out;
});

// c1 <= server <= c2 within 20 %: the server's count was taken between the two
// browser samples.
function consistent(c1, s, c2) {
  return s > 0 && c1 > 0 && s >= 0.8 * c1 && s <= 1.2 * c2;
}

const ctx = { demos: makeDemosDir(), t0 };
try {
  const { pages, ids: [A, B] } = await startLiveCall(tap, ctx, { room: ROOM, names: ['Ann', 'Bob'] });
  tap.diag(`A=${A} B=${B}`);

  // --- authentication and routing, on every route ---
  const info = await adm('GET', '/admin/v1/info');
  tap.check(info.status === 200 && info.json.server === 'switchboard' && info.json.workers === 2 &&
            Array.isArray(info.json.routes) && info.json.routes.length >= 10 &&
            info.json.config.admin.port === 7088 && info.json.build.libwebsockets,
    'GET info: 200 with version, workers, build, config summary and routes', info.text.slice(0, 400));
  const routes = info.json.routes;
  const values = { room: ROOM, participant: A };
  const unauth = [];
  for (const route of routes) {
    const { method, path } = fillRoute(route, values);
    for (const token of [null, 'wrong-token', `${ADMIN_TOKEN}x`]) {
      const r = await adm(method, path, { token, body: method === 'POST' || method === 'PUT' ? {} : undefined });
      if (!isError(r, 401) || !/Bearer/.test(r.headers.get('www-authenticate') || '')) unauth.push({ route, token, status: r.status, text: r.text });
    }
  }
  tap.check(unauth.length === 0, `all ${routes.length} routes: 401 (JSON, WWW-Authenticate: Bearer) without a token, with a wrong one, with a longer one`,
    JSON.stringify(unauth));
  const pre = await adm('OPTIONS', `/admin/v1/rooms/${ROOM}`, { token: null,
    headers: { Origin: 'http://127.0.0.1:8088', 'Access-Control-Request-Method': 'DELETE', 'Access-Control-Request-Headers': 'authorization' } });
  tap.check(pre.status === 204 && pre.headers.get('access-control-allow-origin') === '*' &&
            /DELETE/.test(pre.headers.get('access-control-allow-methods') || '') &&
            /Authorization/i.test(pre.headers.get('access-control-allow-headers') || ''),
  'OPTIONS preflight without a token: 204 with CORS headers', JSON.stringify([...pre.headers]));
  const nopath = await adm('GET', '/admin/v1/nothing');
  const badMethod = await adm('DELETE', '/admin/v1/info');
  tap.check(isError(nopath, 404), 'unknown path: 404 JSON error', nopath.text);
  tap.check(isError(badMethod, 405) && /GET/.test(badMethod.headers.get('allow') || ''), 'DELETE /info: 405 with Allow: GET', badMethod.text);
  const patch = await adm('PATCH', `/admin/v1/rooms/${ROOM}`, { body: {} });
  tap.check(isError(patch, 405) && patch.headers.get('allow') === 'GET, DELETE, OPTIONS', 'PATCH a room: 405 with Allow: GET, DELETE, OPTIONS', `${patch.text} ${patch.headers.get('allow')}`);
  const cors = await adm('GET', '/admin/v1/rooms');
  tap.check(cors.headers.get('access-control-allow-origin') === '*' && /application\/json/.test(cors.headers.get('content-type') || ''),
    'answers are JSON with Access-Control-Allow-Origin: *', JSON.stringify([...cors.headers]));

  // --- 404 for unknown ids, 400, 409 ---
  const notFound = [
    ['GET', '/admin/v1/rooms/no-such-room'],
    ['DELETE', '/admin/v1/rooms/no-such-room'],
    ['GET', '/admin/v1/rooms/no-such-room/participants/pXXXXXXXX'],
    ['GET', `/admin/v1/rooms/${ROOM}/participants/pXXXXXXXX`],
    ['POST', `/admin/v1/rooms/${ROOM}/participants/pXXXXXXXX/kick`],
    ['POST', `/admin/v1/rooms/${ROOM}/participants/pXXXXXXXX/mute`],
    ['POST', `/admin/v1/rooms/no-such-room/participants/${A}/kick`],
    ['POST', `/admin/v1/rooms/no-such-room/participants/${A}/mute`],
  ];
  const wrong404 = [];
  for (const [m, p] of notFound) {
    const r = await adm(m, p, { body: m === 'POST' ? {} : undefined });
    if (!isError(r, 404)) wrong404.push({ m, p, status: r.status, text: r.text });
  }
  tap.check(wrong404.length === 0, `unknown room or participant: 404 JSON error (${notFound.length} requests)`, JSON.stringify(wrong404));
  const bad = [
    ['POST', '/admin/v1/rooms', { room: 'bad name!' }],
    ['POST', '/admin/v1/rooms', { options: {} }],
    ['POST', '/admin/v1/rooms', { room: 'x', options: { max_participants: 0 } }],
    ['POST', '/admin/v1/rooms', { room: 'x', options: { video_codecs: ['opus'] } }],
    ['POST', '/admin/v1/rooms', '[1, 2]'],
    ['POST', '/admin/v1/rooms', '{"room": '],
    ['PUT', '/admin/v1/loglevel', { level: 'loud' }],
    ['POST', `/admin/v1/rooms/${ROOM}/participants/${A}/mute`, { kind: 'smell' }],
  ];
  const wrong400 = [];
  for (const [m, p, body] of bad) {
    const r = await adm(m, p, { body });
    if (!isError(r, 400)) wrong400.push({ m, p, body, status: r.status, text: r.text });
  }
  tap.check(wrong400.length === 0, `bad bodies and params: 400 JSON error (${bad.length} requests)`, JSON.stringify(wrong400));
  const dup = await adm('POST', '/admin/v1/rooms', { body: { room: ROOM } });
  tap.check(isError(dup, 409), 'POST a room that exists: 409', dup.text);

  // --- log level ---
  const lv0 = await adm('GET', '/admin/v1/loglevel');
  const lv1 = await adm('PUT', '/admin/v1/loglevel', { body: { level: 'verbose' } });
  const lv2 = await adm('GET', '/admin/v1/loglevel');
  const lv3 = await adm('PUT', '/admin/v1/loglevel', { body: { level: lv0.json.level } });
  tap.check(lv0.json.level === 'info' && lv1.json.level === 'verbose' && lv1.json.previous === 'info' &&
            lv2.json.level === 'verbose' && lv3.status === 200 && lv3.json.level === 'info',
  'loglevel: GET info, PUT verbose, GET verbose, PUT back', JSON.stringify([lv0.json, lv1.json, lv2.json, lv3.json]));

  // --- creating a room with options ---
  const created = await adm('POST', '/admin/v1/rooms', { body: { room: 'admin-made', options: { max_participants: 3, video_codecs: ['VP8'], bitrate: 500000 } } });
  tap.check(created.status === 201 && created.json.room === 'admin-made' && created.json.persistent === true &&
            created.json.options.max_participants === 3 && created.json.options.bitrate === 500000 &&
            JSON.stringify(created.json.options.video_codecs) === '["VP8"]',
  'POST rooms: 201 with the room and its options', created.text);

  // --- media flows; room listing and detail ---
  const flowing = await waitFor(async () => {
    const s = await Promise.all(pages.map(browserStats));
    return s.every((x) => x.some((e) => e.dir === 'in' && e.kind === 'video' && e.packets > 300)) ? s : null;
  }, { timeoutMs: 20000, intervalMs: 500 });
  tap.check(flowing, 'both pages receive the other\'s video (> 300 packets) within 20 s');
  const list = await adm('GET', '/admin/v1/rooms');
  const names = list.json.rooms.map((r) => r.room);
  const live = list.json.rooms.find((r) => r.room === ROOM);
  tap.check(list.status === 200 && JSON.stringify(names) === JSON.stringify(['admin-live', 'admin-made']) &&
            live.participants === 2 && live.persistent === false,
  'GET rooms: both rooms sorted by name, the live one with 2 participants', list.text);
  const room = await adm('GET', `/admin/v1/rooms/${ROOM}`);
  const pa = room.json.participants.find((p) => p.id === A);
  const pb = room.json.participants.find((p) => p.id === B);
  tap.check(room.status === 200 && room.json.participants.length === 2 && pa && pb &&
            pa.display === 'Ann' && pa.client === 'websocket' && pa.publisher_state === 'connected' &&
            pa.tracks.map((t) => t.id).sort().join() === `${A}/audio0,${A}/video0` &&
            pb.subscriptions.slice().sort().join() === `${A}/audio0,${A}/video0` &&
            pa.subscriptions.slice().sort().join() === `${B}/audio0,${B}/video0` &&
            room.json.tracks.length === 4,
  'GET room: participants with tracks, states and subscriptions; 4 tracks', room.text.slice(0, 1500));

  // --- per-stream stats vs the browsers' own getStats ---
  const a1 = await browserStats(pages[0]);
  const b1 = await browserStats(pages[1]);
  const [sa, sb] = await Promise.all([adm('GET', `/admin/v1/rooms/${ROOM}/participants/${A}`),
    adm('GET', `/admin/v1/rooms/${ROOM}/participants/${B}`)]);
  const a2 = await browserStats(pages[0]);
  const b2 = await browserStats(pages[1]);
  tap.check(sa.status === 200 && sa.json.participant.id === A && sa.json.publisher && sa.json.subscriber &&
            sa.json.publisher.state === 'connected',
  'GET participant: 200 with publisher and subscriber stats', sa.text.slice(0, 600));
  for (const kind of ['video', 'audio']) {
    // What A sent vs what the server received from A.
    const c1 = a1.find((e) => e.dir === 'out' && e.kind === kind);
    const c2 = a2.find((e) => e.dir === 'out' && e.kind === kind && e.ssrc === c1?.ssrc);
    const srv = (sa.json.publisher.inbound || []).find((s) => s.ssrc === c1?.ssrc);
    const okPub = c1 && c2 && srv && consistent(c1.packets, srv.packets, c2.packets) &&
      consistent(c1.bytes, srv.bytes, c2.bytes) && srv.bitrate_bps > 0 && srv.track === `${A}/${kind}0` &&
      typeof srv.jitter_ms === 'number' && typeof srv.fraction_lost === 'number';
    tap.check(okPub, `A's ${kind}: the server's inbound packets/bytes are within 20 % of A's outbound-rtp, bitrate > 0`,
      JSON.stringify({ browser_before: c1, server: srv && { ssrc: srv.ssrc, packets: srv.packets, bytes: srv.bytes, bitrate_bps: srv.bitrate_bps, jitter_ms: srv.jitter_ms, track: srv.track }, browser_after: c2 }));
    if (c1 && srv) tap.diag(`${kind} publisher: server/browser packets ${(srv.packets / ((c1.packets + c2.packets) / 2)).toFixed(3)}, bytes ${(srv.bytes / ((c1.bytes + c2.bytes) / 2)).toFixed(3)}`);
    // What the server sent B of A's track vs what B received.
    const d1 = b1.find((e) => e.dir === 'in' && e.kind === kind && e.participant === A);
    const d2 = b2.find((e) => e.dir === 'in' && e.ssrc === d1?.ssrc);
    const out = (sb.json.subscriber?.outbound || []).find((s) => s.ssrc === d1?.ssrc);
    const okSub = d1 && d2 && out && consistent(d1.packets, out.packets, d2.packets * 1.0) &&
      consistent(d1.bytes, out.bytes, d2.bytes) && out.bitrate_bps > 0 && out.track === `${A}/${kind}0`;
    tap.check(okSub, `B's ${kind} from A: the server's outbound packets/bytes are within 20 % of B's inbound-rtp, bitrate > 0`,
      JSON.stringify({ browser_before: d1, server: out && { ssrc: out.ssrc, packets: out.packets, bytes: out.bytes, bitrate_bps: out.bitrate_bps, rtt_ms: out.rtt_ms, track: out.track }, browser_after: d2 }));
    if (d1 && out) tap.diag(`${kind} subscriber: server/browser packets ${(out.packets / ((d1.packets + d2.packets) / 2)).toFixed(3)}, bytes ${(out.bytes / ((d1.bytes + d2.bytes) / 2)).toFixed(3)}`);
  }

  // --- mute A's audio: it stops reaching B ---
  const audioFromA = async () => (await browserStats(pages[1])).find((e) => e.dir === 'in' && e.kind === 'audio' && e.participant === A)?.packets ?? 0;
  const mute = await adm('POST', `/admin/v1/rooms/${ROOM}/participants/${A}/mute`, { body: {} });
  tap.check(mute.status === 200 && mute.json.muted === true && JSON.stringify(mute.json.tracks) === JSON.stringify([`${A}/audio0`]),
    'POST mute (no body fields): A\'s audio track muted', mute.text);
  const mutedNote = await waitNote(pages[1], 'room.track_muted', `p => p.track === '${A}/audio0' && p.muted === true`, 3000);
  const selfNote = await waitNote(pages[0], 'room.muted', `p => p.by === 'admin' && p.muted === true`, 3000);
  tap.check(mutedNote && selfNote && selfNote.tracks[0] === `${A}/audio0`, 'B gets room.track_muted, A gets room.muted (by admin)', JSON.stringify({ mutedNote, selfNote }));
  await sleep(500);
  const m1 = await audioFromA();
  await sleep(1500);
  const m2 = await audioFromA();
  tap.check(m2 - m1 <= 2, 'while muted, B receives no audio from A', `packets ${m1} -> ${m2} in 1.5 s`);
  const muted = await adm('GET', `/admin/v1/rooms/${ROOM}`);
  tap.check(muted.json.tracks.find((t) => t.id === `${A}/audio0`)?.muted === true, 'GET room shows the track muted');
  const unmute = await adm('POST', `/admin/v1/rooms/${ROOM}/participants/${A}/mute`, { body: { muted: false } });
  await sleep(1500);
  const m3 = await audioFromA();
  tap.check(unmute.status === 200 && unmute.json.tracks.length === 1 && m3 - m2 > 20, 'unmute: audio from A reaches B again',
    `${unmute.text}; packets ${m2} -> ${m3}`);

  // --- kick a WHIP publisher (page A opens one more pc, POSTs its offer to /whip/) ---
  const whip = await pages[0].evaluate(async (room) => {
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    window.whipPc = pc;
    pc.addTransceiver(rt.stream.getAudioTracks()[0], { direction: 'sendonly' });
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((r) => { if (pc.iceGatheringState === 'complete') r(); else pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && r(); setTimeout(r, 2000); });
    const res = await fetch(`/whip/${room}`, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription.sdp });
    if (res.status !== 201) return { status: res.status, text: await res.text() };
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    return { status: 201, location: res.headers.get('Location') };
  }, ROOM);
  const withWhip = await adm('GET', `/admin/v1/rooms/${ROOM}`);
  const W = withWhip.json?.participants.find((p) => p.client === 'whip')?.id;
  tap.check(whip.status === 201 && W, 'a WHIP publisher joins the room (client "whip" in the room)', JSON.stringify({ whip, W }));
  const kickW = await adm('POST', `/admin/v1/rooms/${ROOM}/participants/${W}/kick`, { body: {} });
  const whipGone = await waitFor(async () => {
    const r = await adm('GET', `/admin/v1/rooms/${ROOM}`);
    return r.json && !r.json.participants.some((p) => p.id === W) ? r : null;
  }, { timeoutMs: 3000 });
  const whipDelete = whip.location ? await pages[0].evaluate((loc) => fetch(loc, { method: 'DELETE' }).then((r) => r.status), whip.location) : null;
  tap.check(kickW.status === 200 && whipGone && whipDelete === 404,
    'kick the WHIP publisher: it leaves the room and its resource is gone (DELETE: 404)', JSON.stringify({ kick: kickW.text, whipDelete }));
  await pages[0].evaluate(() => window.whipPc && window.whipPc.close());

  // --- kick B ---
  const kick = await adm('POST', `/admin/v1/rooms/${ROOM}/participants/${B}/kick`, { body: { reason: 'test kick' } });
  tap.check(kick.status === 200 && JSON.stringify(kick.json.kicked) === JSON.stringify([B]), 'POST kick: 200, B kicked', kick.text);
  const kicked = await waitNote(pages[1], 'room.kicked', `p => p.participant === '${B}'`, 3000);
  tap.check(kicked && kicked.room === ROOM && kicked.reason === 'test kick', 'B gets room.kicked with the reason', JSON.stringify(kicked));
  const left = await waitNote(pages[0], 'room.participant_left', `p => p.participant === '${B}'`, 3000);
  tap.check(left, 'A gets room.participant_left for B', JSON.stringify(left));
  const after = await adm('GET', `/admin/v1/rooms/${ROOM}`);
  tap.check(after.json.participants.map((p) => p.id).join() === A && after.json.tracks.every((t) => t.participant === A),
    'the room lists A only, with its tracks', after.text.slice(0, 500));
  const again = await adm('GET', `/admin/v1/rooms/${ROOM}/participants/${B}`);
  tap.check(isError(again, 404), 'the kicked participant: 404', again.text);
  const bLeave = await pages[1].evaluate(() => rt.call('room.leave').then(() => null, (e) => e.code));
  tap.check(bLeave === 1043, 'B\'s session is no longer in the room (room.leave: 1043)', String(bLeave));
  const bStates = await waitFor(() => pages[1].evaluate(() => rt.pcState()).then((s) => (s.pub !== 'connected' ? s : null)), { timeoutMs: 8000 });
  tap.diag(`B's peer connections after the kick: ${JSON.stringify(bStates || await pages[1].evaluate(() => rt.pcState()))}`);

  // --- delete the rooms ---
  const del = await adm('DELETE', `/admin/v1/rooms/${ROOM}`);
  tap.check(del.status === 200 && JSON.stringify(del.json.kicked) === JSON.stringify([A]), 'DELETE the live room: 200, A kicked', del.text);
  const closed = await waitNote(pages[0], 'room.kicked', `p => p.participant === '${A}'`, 3000);
  tap.check(closed && closed.reason === 'the room was closed', 'A gets room.kicked (the room was closed)', JSON.stringify(closed));
  const gone = await waitFor(async () => {
    const r = await adm('GET', `/admin/v1/rooms/${ROOM}`);
    return isError(r, 404) ? r : null;
  }, { timeoutMs: 3000 });
  tap.check(gone, 'the deleted room: 404');
  const del2 = await adm('DELETE', '/admin/v1/rooms/admin-made');
  const list2 = await adm('GET', '/admin/v1/rooms');
  tap.check(del2.status === 200 && list2.json.rooms.length === 0, 'DELETE the empty created room; no rooms left', `${del2.text} ${list2.text}`);
  const info2 = await adm('GET', '/admin/v1/info');
  tap.check(info2.json.videoroom && info2.json.videoroom.rooms === 0 && info2.json.sessions === 2,
    'info: no rooms, both sessions still connected', JSON.stringify({ videoroom: info2.json.videoroom, sessions: info2.json.sessions }));
} catch (err) {
  tap.check(false, 'test ran to the end', err.stack || String(err));
} finally {
  await finishTest(tap, ctx);
}
process.exit(tap.summary());
