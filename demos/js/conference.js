// conference.js — the video room demo (demos/conference.html), a client of the
// videoroom plugin (docs/API.md, "Video rooms"). Plain ES module, no build step.
//
// One WebSocket session; in a room, two RTCPeerConnections:
//   "publisher"  — we offer our camera and microphone (room.publish), the server answers;
//   "subscriber" — the server offers every track of the room (room.offer notifications,
//                  subscribe: "all"), we answer (room.answer). Created on the first offer;
//                  later offers renegotiate it, one at a time.
// Each remote participant gets a tile; the offer's `tracks` list says which m-section
// (mid) carries which participant's track.
//
// URL parameters: room, name, autostart=1 (join at once), qos=1 (overlay on),
// res=WxH (camera size, e.g. 320x240).
// For tests, window.conference is the page's state (see `state` below).

import { createChat } from './chat.js';
import { CLIENT_ERROR, connect, defaultUrl, linkPeerConnection } from './switchboard.js';

const $ = (id) => document.getElementById(id);
const ui = {
  joinCard: $('join-card'), joinForm: $('join-form'), room: $('room'), display: $('display'),
  join: $('join'),
  callCard: $('call-card'), mic: $('mic'), cam: $('cam'), qos: $('qos'), roomInfo: $('room-info'),
  sound: $('sound'), leave: $('leave'),
  errors: $('errors'), grid: $('grid'), template: $('tile-template'),
  chatCard: $('chat'),
};
const chat = createChat(ui.chatCard);

const ROOM_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const STATS_INTERVAL_MS = 1000;

// ------------------------------------------------------------------- state

/**
 * Everything the page knows. Remote participants are in `participants`
 * (id -> participant); we are `self`. A participant:
 *   { id, display, local, tracks: Map(trackId -> {id, kind, muted, published}),
 *     media: {video: MediaStreamTrack|null, audio: MediaStreamTrack|null} (remote),
 *     tile: {el, video, audio, ...}, qos: {browser, server} (last numbers shown) }
 */
const state = {
  phase: 'idle',        // idle | joining | joined
  generation: 0,        // bumped by every teardown: stale async work checks it
  client: null,         // SwitchboardClient (kept open between rooms)
  room: null,           // the joined room's name
  options: null,        // the room's effective options (room.join result)
  iceServers: null,     // STUN/TURN servers for our PeerConnections (room.join result, [turn])
  self: null,           // our participant (local tile)
  participants: new Map(),
  gone: new Set(),      // ids of participants who left (a late offer must not bring their tile back)
  pcs: { publisher: null, subscriber: null },
  links: { publisher: null, subscriber: null },
  local: null,          // our MediaStream
  media: 'pending',     // pending | ready | none (no camera or microphone could be opened)
  published: false,     // room.publish answered
  muted: { audio: false, video: false },
  midMap: new Map(),    // subscriber mid -> {mid, track, participant, kind} of the last offer
  offerVersion: null,   // version of the last subscriber offer answered
  offers: 0,            // subscriber offers applied (for tests)
  subChain: Promise.resolve(), // subscriber offers are applied one after another
  serverState: { publisher: null, subscriber: null }, // last peer.state per pc
  serverStats: null,    // last room.stats object
  serverStatsAt: 0,     // performance.now() of it
  prevStats: new Map(), // getStats id -> previous entry (for rates)
  statsTimer: null,
  recoveries: { publisher: [], subscriber: [] }, // times of automatic restarts (recover())
  resumes: [],          // sessions resumed after a lost WebSocket ({at, dropped})
  errors: [],           // every error shown, as text (for tests)
  get tileCount() { return ui.grid.childElementCount; },
  join: () => join(),
  leave: () => leave(),
  chat,
};
window.conference = state;

// ------------------------------------------------------------------ display

function setBadge(id, text, tone) {
  const el = $(id);
  el.textContent = text;
  if (tone) el.dataset.tone = tone; else delete el.dataset.tone;
}

const toneOf = (s) => ({
  connected: 'ok', completed: 'ok', open: 'ok', joined: 'ok', stable: 'ok',
  new: 'warn', checking: 'warn', connecting: 'warn', joining: 'warn',
  failed: 'bad', disconnected: 'bad', closed: 'bad',
})[s];

function showError(what, err) {
  const code = err && err.code !== undefined && err.code !== CLIENT_ERROR ? ` [${err.code}]` : '';
  const message = err ? (err.message || String(err)) : '';
  const text = `${what}: ${message}${code}`;
  const line = document.createElement('div');
  line.textContent = text;
  ui.errors.append(line);
  while (ui.errors.childElementCount > 8) ui.errors.firstElementChild.remove();
  state.errors.push(text);
  console.error(text);
}

function clearErrors() {
  ui.errors.replaceChildren();
}

function updateRoomBadge() {
  if (state.phase === 'idle') {
    setBadge('badge-room', 'Room: —');
    ui.roomInfo.textContent = '';
    return;
  }
  const n = state.participants.size + (state.self ? 1 : 0);
  setBadge('badge-room', `Room: ${state.room ?? ui.room.value} · ${state.phase}`, toneOf(state.phase));
  if (state.self) {
    ui.roomInfo.textContent = `${state.room}: ${n} participant${n === 1 ? '' : 's'} · you are ${state.self.display} (${state.self.id})`;
  } else {
    ui.roomInfo.textContent = 'joining…';
  }
}

// Publisher / Subscriber badges: the browser's connectionState and the server's peer.state.
function updatePcBadge(pcId) {
  const pc = state.pcs[pcId];
  const server = state.serverState[pcId];
  const label = pcId === 'publisher' ? 'Publisher' : 'Subscriber';
  const badge = pcId === 'publisher' ? 'badge-pub' : 'badge-sub';
  if (!pc) {
    setBadge(badge, `${label}: —`);
    return;
  }
  const local = pc.connectionState;
  const text = server && server !== local ? `${label}: ${local} (server: ${server})` : `${label}: ${local}`;
  const tone = server === 'failed' || server === 'closed' ? 'bad' : toneOf(local);
  setBadge(badge, text, tone);
}

function setPhase(phase) {
  state.phase = phase;
  const inRoom = phase !== 'idle';
  ui.joinCard.hidden = inRoom;
  ui.callCard.hidden = !inRoom;
  ui.chatCard.hidden = !inRoom;
  ui.join.disabled = false;
  updateRoomBadge();
}

// ------------------------------------------------------------------- tiles

function initials(name) {
  const words = String(name).trim().split(/\s+/).filter(Boolean);
  const s = words.length > 1 ? words[0][0] + words[1][0] : (words[0] ?? '?')[0];
  return s.toUpperCase();
}

// Gallery layout: the number of columns that gives the largest 4:3 tiles while
// every tile fits in the window (without scrolling when it can); one column on
// narrow screens. data-cols alone (CSS) is the fallback.
const TILE_ASPECT = 4 / 3;
const MIN_TILE_HEIGHT = 160;
function layoutGrid() {
  const grid = ui.grid;
  const n = grid.childElementCount;
  grid.dataset.count = String(n);
  const width = grid.clientWidth;
  if (n === 0 || width === 0) {
    grid.dataset.cols = '1';
    grid.style.removeProperty('grid-template-columns');
    return;
  }
  const gap = parseFloat(getComputedStyle(grid).columnGap) || 0;
  const top = grid.getBoundingClientRect().top + window.scrollY;
  const height = Math.max(window.innerHeight - top - 16, MIN_TILE_HEIGHT);
  let best = { cols: 1, w: 0 };
  for (let cols = 1; cols <= n; cols++) {
    const rows = Math.ceil(n / cols);
    const byWidth = (width - gap * (cols - 1)) / cols;
    const byHeight = Math.max((height - gap * (rows - 1)) / rows, MIN_TILE_HEIGHT) * TILE_ASPECT;
    const w = Math.floor(Math.min(byWidth, byHeight));
    if (w > best.w) best = { cols, w };
  }
  if (width < 640) best = { cols: 1, w: width };
  grid.dataset.cols = String(Math.min(best.cols, 4));
  grid.style.gridTemplateColumns = `repeat(${best.cols}, ${best.w}px)`;
}
window.addEventListener('resize', () => layoutGrid());

function makeTile(p) {
  const el = ui.template.content.firstElementChild.cloneNode(true);
  el.dataset.participant = p.id;
  if (p.local) el.classList.add('local');
  const tile = {
    el,
    video: el.querySelector('video'),
    audio: null,
    name: el.querySelector('.name'),
    avatar: el.querySelector('.avatar'),
    why: el.querySelector('.why'),
    micOff: el.querySelector('.mic-off'),
    conn: el.querySelector('.conn'),
    qos: el.querySelector('.qos'),
  };
  if (!p.local) {
    tile.audio = document.createElement('audio');
    tile.audio.autoplay = true;
    el.append(tile.audio);
  }
  // Frames arriving (or stopping) change what the tile shows.
  for (const ev of ['loadeddata', 'playing', 'resize', 'emptied']) {
    tile.video.addEventListener(ev, () => renderTile(p));
  }
  buildQosTable(tile, p.local);
  p.tile = tile;
  return tile;
}

function newParticipant(id, display, local = false) {
  return {
    id,
    display: display || id,
    local,
    tracks: new Map(),
    media: { video: null, audio: null },
    tile: null,
    qos: { browser: null, server: null },
  };
}

function addTile(p) {
  const tile = makeTile(p);
  if (p.local) ui.grid.prepend(tile.el); else ui.grid.append(tile.el);
  layoutGrid();
  renderTile(p);
}

function removeTile(p) {
  if (!p.tile) return;
  p.tile.video.srcObject = null;
  if (p.tile.audio) p.tile.audio.srcObject = null;
  p.tile.el.remove();
  p.tile = null;
  layoutGrid();
}

/**
 * A remote participant by id, created (with a tile) when unknown — unless it has
 * left, then null (only room.participant_joined brings an id back).
 */
function ensureParticipant(id, display, { rejoined = false } = {}) {
  if (state.self && id === state.self.id) return state.self;
  if (rejoined) state.gone.delete(id);
  let p = state.participants.get(id);
  if (!p) {
    if (state.gone.has(id)) return null;
    p = newParticipant(id, display);
    state.participants.set(id, p);
    addTile(p);
    updateRoomBadge();
  } else if (display && display !== p.display) {
    p.display = display;
    renderTile(p);
  }
  return p;
}

function removeParticipant(id) {
  const p = state.participants.get(id);
  state.gone.add(id);
  if (!p) return;
  removeTile(p);
  state.participants.delete(id);
  updateRoomBadge();
}

function setTrackInfo(p, track) {
  const old = p.tracks.get(track.id) ?? {};
  p.tracks.set(track.id, {
    id: track.id,
    kind: track.kind ?? old.kind ?? (/\/(audio|video)\d*$/.exec(track.id)?.[1]),
    muted: track.muted ?? old.muted ?? false,
    published: track.published ?? old.published ?? true,
    codec: track.codec ?? old.codec,
  });
}

/** The published tracks of a kind ([] when none). */
const publishedOf = (p, kind) => [...p.tracks.values()].filter((t) => t.kind === kind && t.published);

// What a tile shows: video, or a placeholder saying why not.
//   data-video = on | waiting (no frames yet) | off (camera muted/unpublished) | none (no camera)
function renderTile(p) {
  const tile = p.tile;
  if (!tile) return;
  tile.name.textContent = p.local ? `${p.display} (you)` : p.display;
  tile.avatar.textContent = initials(p.display);
  tile.el.title = `${p.display} — ${p.id}`;

  let video;
  let why = '';
  let audioOff;
  if (p.local) {
    const track = state.local?.getVideoTracks()[0];
    audioOff = state.muted.audio || !state.local?.getAudioTracks().length;
    if (state.media === 'none') { video = 'none'; why = 'No camera (watching only)'; }
    else if (!state.local) { video = 'waiting'; why = 'Starting camera…'; }
    else if (!track) { video = 'none'; why = 'No camera'; }
    else if (state.muted.video) { video = 'off'; why = 'Camera off'; }
    else video = tile.video.readyState >= 2 ? 'on' : 'waiting';
    if (video === 'waiting' && !why) why = 'Starting camera…';
  } else {
    const vids = publishedOf(p, 'video');
    const auds = publishedOf(p, 'audio');
    const everVideo = [...p.tracks.values()].some((t) => t.kind === 'video');
    audioOff = auds.length === 0 || auds.every((t) => t.muted);
    if (vids.length === 0) { video = everVideo ? 'off' : 'none'; why = everVideo ? 'Camera off' : 'No video'; }
    else if (vids.every((t) => t.muted)) { video = 'off'; why = 'Camera off'; }
    else if (!p.media.video) { video = 'waiting'; why = 'Connecting…'; }
    else if (tile.video.readyState < 2 || p.media.video.muted) { video = 'waiting'; why = 'Waiting for video…'; }
    else video = 'on';
  }
  tile.el.dataset.video = video;
  tile.why.textContent = why;
  tile.micOff.hidden = !audioOff;
  tile.el.dataset.audio = audioOff ? 'off' : 'on';
}

function renderAll() {
  if (state.self) renderTile(state.self);
  for (const p of state.participants.values()) renderTile(p);
}

// Attaches the subscriber's receiver tracks to the tiles, after the last offer's
// mid -> track map. Called after each subscriber offer is applied.
function syncReceivers() {
  const pc = state.pcs.subscriber;
  const found = new Map(); // participant id -> {video, audio}
  if (pc) {
    for (const tr of pc.getTransceivers()) {
      const entry = tr.mid !== null ? state.midMap.get(tr.mid) : null;
      if (!entry || !entry.track) continue; // inactive m-section
      const pid = entry.participant ?? entry.track.split('/')[0];
      const kind = entry.kind ?? tr.receiver.track.kind;
      const media = found.get(pid) ?? { video: null, audio: null };
      if (!media[kind]) media[kind] = tr.receiver.track; // the first track of each kind is shown
      found.set(pid, media);
      const p = ensureParticipant(pid);
      if (p && !p.tracks.has(entry.track)) setTrackInfo(p, { id: entry.track, kind });
    }
  }
  for (const p of state.participants.values()) {
    attachMedia(p, found.get(p.id) ?? { video: null, audio: null });
  }
}

function attachMedia(p, media) {
  const tile = p.tile;
  if (!tile) return;
  if (media.video !== p.media.video) {
    p.media.video = media.video;
    tile.video.srcObject = media.video ? new MediaStream([media.video]) : null;
    if (media.video) {
      media.video.addEventListener('mute', () => renderTile(p));
      media.video.addEventListener('unmute', () => renderTile(p));
    }
  }
  if (media.audio !== p.media.audio) {
    p.media.audio = media.audio;
    tile.audio.srcObject = media.audio ? new MediaStream([media.audio]) : null;
    if (media.audio) playAudio(tile.audio);
  }
  renderTile(p);
}

// Autoplay with sound may need a click (e.g. with ?autostart=1): offer a button.
function playAudio(el) {
  el.play().then(() => {}, () => { ui.sound.hidden = false; });
}

ui.sound.addEventListener('click', () => {
  const plays = [...ui.grid.querySelectorAll('audio')].filter((a) => a.srcObject).map((a) => a.play());
  Promise.all(plays).then(() => { ui.sound.hidden = true; }, (err) => showError('Sound', err));
});

// -------------------------------------------------------------- signaling

async function ensureClient() {
  if (state.client && state.client.isOpen) return state.client;
  setBadge('badge-ws', 'WebSocket: connecting', 'warn');
  let client;
  try {
    // resume: a network blip reconnects and resumes the session: we stay in the room.
    client = await connect(defaultUrl(), { resume: true });
  } catch (err) {
    setBadge('badge-ws', 'WebSocket: closed', 'bad');
    throw err;
  }
  setBadge('badge-ws', 'WebSocket: open', 'ok');
  state.client = client;
  attachHandlers(client);
  return client;
}

// Server notifications; each handler ignores a client that is no longer ours.
function attachHandlers(client) {
  const mine = () => state.client === client;
  const inRoom = () => mine() && state.phase !== 'idle';

  client.on('close', (ev) => {
    if (!mine()) return;
    state.client = null;
    setBadge('badge-ws', `WebSocket: closed (${ev.code})`, 'bad');
    if (state.phase !== 'idle') {
      showError('WebSocket', {
        message: `connection lost (close code ${ev.code}${ev.reason ? ': ' + ev.reason : ''}); ` +
          'you have left the room — Join again to rejoin',
      });
      teardown();
      ui.join.textContent = 'Rejoin';
    }
  });
  client.on('error', (err) => showError('Server', err));
  client.on('reconnecting', (p) => {
    if (mine()) setBadge('badge-ws', `WebSocket: reconnecting (attempt ${p.attempt})`, 'warn');
  });
  client.on('resumed', (p) => {
    if (!mine()) return;
    state.resumes.push({ at: performance.now(), dropped: p.dropped });
    setBadge('badge-ws', 'WebSocket: open (resumed)', 'ok');
  });

  client.on('peer.state', (p) => {
    if (!inRoom() || (p.pc !== 'publisher' && p.pc !== 'subscriber')) return;
    state.serverState[p.pc] = p.state;
    updatePcBadge(p.pc);
    if (p.state === 'failed' || p.state === 'closed') {
      showError(`Server ${p.pc}`, { message: `${p.state}: ${p.reason ?? 'no reason given'}` });
      recover(client, p.pc);
    }
  });

  client.on('room.participant_joined', (params) => {
    if (!inRoom()) return;
    const info = params.participant ?? {};
    if (info.id) ensureParticipant(info.id, info.display, { rejoined: true });
  });
  client.on('room.participant_left', (params) => {
    if (!inRoom()) return;
    const id = typeof params.participant === 'string' ? params.participant : params.participant?.id;
    if (id) removeParticipant(id);
  });
  client.on('room.track_published', (params) => {
    if (!inRoom() || !params.track?.id) return;
    const t = params.track;
    const pid = t.participant ?? t.id.split('/')[0];
    const p = ensureParticipant(pid);
    if (!p || p.local) return;
    setTrackInfo(p, { ...t, published: true, muted: t.muted ?? false });
    renderTile(p);
  });
  client.on('room.track_unpublished', (params) => {
    if (!inRoom() || typeof params.track !== 'string') return;
    const p = findOwner(params.track);
    if (!p || p.local) return;
    setTrackInfo(p, { id: params.track, published: false });
    renderTile(p);
  });
  client.on('room.track_muted', (params) => {
    if (!inRoom() || typeof params.track !== 'string') return;
    const p = findOwner(params.track);
    if (!p || p.local) return;
    setTrackInfo(p, { id: params.track, muted: Boolean(params.muted) });
    renderTile(p);
  });

  client.on('room.offer', (params) => {
    if (!inRoom() || (params.pc !== undefined && params.pc !== 'subscriber')) return;
    // Created now, synchronously, so that trickle notifications that follow the
    // offer find its link.
    const pc = state.pcs.subscriber ?? createSubscriber(client);
    const generation = state.generation;
    state.subChain = state.subChain
      .then(() => applyOffer(client, pc, params, generation))
      .catch((err) => {
        if (generation === state.generation) showError(`Subscriber offer v${params.version}`, err);
      });
  });

  client.on('room.stats', (params) => {
    if (inRoom()) takeServerStats(params);
  });
}

const findOwner = (trackId) => {
  const pid = trackId.split('/')[0];
  if (state.self && pid === state.self.id) return state.self;
  return state.participants.get(pid) ?? null;
};

function watchPc(pc, pcId) {
  const update = () => { if (state.pcs[pcId] === pc) updatePcBadge(pcId); };
  pc.addEventListener('connectionstatechange', () => {
    update();
    if (state.pcs[pcId] === pc && pc.connectionState === 'failed') {
      showError(pcId === 'publisher' ? 'Publisher' : 'Subscriber', { message: 'connection failed (ICE/DTLS)' });
    }
  });
  pc.addEventListener('iceconnectionstatechange', update);
  pc.addEventListener('signalingstatechange', update);
}

// ------------------------------------------------------------------ join

async function join() {
  if (state.phase !== 'idle') return;
  const room = ui.room.value.trim();
  const display = ui.display.value.trim().slice(0, 64);
  if (!ROOM_NAME.test(room)) {
    showError('Join', { message: 'a room name is 1–64 characters: letters, digits, _ . -' });
    return;
  }
  clearErrors();
  ui.join.disabled = true;
  const generation = ++state.generation;
  state.room = room;
  setPhase('joining');
  rememberInUrl(room, display);

  let client;
  try {
    client = await ensureClient();
    if (generation !== state.generation) return;
    const res = await client.call('room.join', { room, display, subscribe: 'all' });
    if (generation !== state.generation) return;
    state.room = res.room ?? room;
    state.options = res.options ?? null;
    state.iceServers = res.iceServers ?? null;
    state.self = newParticipant(res.participant, res.display ?? display, true);
    addTile(state.self);
    for (const info of res.participants ?? []) {
      if (info.id === state.self.id) continue;
      const p = ensureParticipant(info.id, info.display, { rejoined: true });
      for (const t of info.tracks ?? []) setTrackInfo(p, { ...t, published: true });
      renderTile(p);
    }
    setPhase('joined');
    ui.join.textContent = 'Join';
  } catch (err) {
    if (generation !== state.generation) return;
    showError('room.join', err);
    teardown();
    return;
  }

  startStats(client, generation);
  await publish(client, generation);
}

function rememberInUrl(room, display) {
  const url = new URL(location.href);
  url.searchParams.set('room', room);
  url.searchParams.set('name', display);
  url.searchParams.delete('autostart');
  history.replaceState(null, '', url);
}

// Camera and microphone, or whichever of them exists; null when neither.
// ?res=WxH asks the camera for that size (e.g. 320x240 for many participants).
function videoConstraints() {
  const m = /^(\d{2,4})x(\d{2,4})$/.exec(new URLSearchParams(location.search).get('res') ?? '');
  return m ? { width: { ideal: Number(m[1]) }, height: { ideal: Number(m[2]) } } : true;
}

async function getMedia() {
  try {
    return await navigator.mediaDevices.getUserMedia({ audio: true, video: videoConstraints() });
  } catch (err) {
    for (const only of [{ audio: true }, { video: videoConstraints() }]) {
      try {
        const stream = await navigator.mediaDevices.getUserMedia(only);
        showError('Camera/microphone', { message: `${err.message || err.name}; joined with ${Object.keys(only)[0]} only` });
        return stream;
      } catch (e) { /* try the next */ }
    }
    showError('Camera/microphone', { message: `${err.message || err.name}; joined without sending (you can still watch)` });
    return null;
  }
}

async function publish(client, generation) {
  const stream = await getMedia();
  if (generation !== state.generation) {
    stream?.getTracks().forEach((t) => t.stop());
    return;
  }
  if (!stream) {
    state.media = 'none';
    renderTile(state.self);
    await publishStream(client, null); // the chat alone
    return;
  }
  state.local = stream;
  state.media = 'ready';
  for (const t of stream.getTracks()) t.enabled = !state.muted[t.kind];
  state.self.tile.video.srcObject = stream;
  ui.mic.disabled = !stream.getAudioTracks().length;
  ui.cam.disabled = !stream.getVideoTracks().length;
  renderTile(state.self);
  await publishStream(client, stream);
}

// Both PeerConnections use the STUN/TURN servers room.join gave (TURN credentials
// are valid for [turn] ttl; the PCs are created after the join).
function pcConfig() {
  return state.iceServers ? { bundlePolicy: 'max-bundle', iceServers: state.iceServers } : { bundlePolicy: 'max-bundle' };
}

// The publisher PeerConnection: offer our tracks, room.publish, apply the answer.
async function publishStream(client, stream) {
  const pc = new RTCPeerConnection(pcConfig());
  state.pcs.publisher = pc;
  state.serverState.publisher = null;
  watchPc(pc, 'publisher');
  const link = linkPeerConnection(client, pc, 'publisher', {
    onError: (err, what) => { if (state.pcs.publisher === pc) showError(`Publisher ${what}`, err); },
  });
  state.links.publisher = link;
  for (const track of stream?.getTracks() ?? []) pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
  chat.publishOn(pc, { id: state.self.id, name: state.self.display });
  updatePcBadge('publisher');

  try {
    await pc.setLocalDescription(await pc.createOffer());
    if (state.pcs.publisher !== pc) return;
    const answerPromise = client.call('room.publish', { sdp: pc.localDescription.sdp });
    link.release(); // the server knows "publisher" from now on: send our candidates
    const answer = await answerPromise;
    if (state.pcs.publisher !== pc) return;
    await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
    state.published = true;
    for (const t of answer.tracks ?? []) setTrackInfo(state.self, { ...t, published: true });
    // Mutes chosen before the answer arrived.
    for (const kind of ['audio', 'video']) {
      if (state.muted[kind]) sendMute(kind, true);
    }
  } catch (err) {
    if (state.pcs.publisher !== pc) return;
    showError('room.publish', err);
    closePc('publisher');
  }
}

function createSubscriber(client) {
  const pc = new RTCPeerConnection(pcConfig());
  state.pcs.subscriber = pc;
  state.serverState.subscriber = null;
  watchPc(pc, 'subscriber');
  state.links.subscriber = linkPeerConnection(client, pc, 'subscriber', {
    onError: (err, what) => { if (state.pcs.subscriber === pc) showError(`Subscriber ${what}`, err); },
  });
  chat.receiveOn(pc);
  // Tracks are attached after each offer is applied (syncReceivers), from the
  // offer's mid -> track map; track events alone change nothing.
  updatePcBadge('subscriber');
  return pc;
}

// One server offer: apply it, answer it, attach the tracks. Runs on state.subChain.
async function applyOffer(client, pc, params, generation) {
  if (generation !== state.generation || state.pcs.subscriber !== pc || pc.signalingState === 'closed') return;
  const map = new Map();
  for (const t of params.tracks ?? []) if (t && t.mid !== undefined) map.set(String(t.mid), t);
  state.midMap = map;
  await pc.setRemoteDescription({ type: 'offer', sdp: params.sdp });
  syncReceivers();
  await pc.setLocalDescription(await pc.createAnswer());
  if (generation !== state.generation || state.pcs.subscriber !== pc) return;
  const done = client.call('room.answer', { sdp: pc.localDescription.sdp, version: params.version });
  state.links.subscriber.release(); // our candidates go after the answer
  await done;
  state.offerVersion = params.version;
  state.offers++;
}

// A PeerConnection the server reports failed or closed is gone there (docs/API.md,
// peer.state): drop ours too and start a new one — publish again, or ask for a new
// subscriber offer (room.subscribe makes the server create a new subscriber
// PeerConnection with every subscription). At most RECOVERIES per minute per pc.
const RECOVERIES = 3;
function recover(client, pcId) {
  if (!state.pcs[pcId]) return;
  closePc(pcId);
  if (pcId === 'subscriber') {
    state.midMap = new Map();
    state.subChain = Promise.resolve();
    syncReceivers(); // tiles wait for the new PeerConnection
  } else {
    state.published = false;
  }
  const now = performance.now();
  const recent = (state.recoveries[pcId] = state.recoveries[pcId].filter((t) => now - t < 60000));
  if (recent.length >= RECOVERIES) {
    showError(pcId === 'publisher' ? 'Publisher' : 'Subscriber',
      { message: 'keeps failing; giving up — Leave and join again' });
    return;
  }
  recent.push(now);
  const generation = state.generation;
  setTimeout(() => {
    if (generation !== state.generation || state.client !== client || state.pcs[pcId]) return;
    if (pcId === 'publisher') {
      if (state.local) publishStream(client, state.local);
    } else {
      client.call('room.subscribe', { all: true }).catch((err) => showError('room.subscribe', err));
    }
  }, 1000);
}

// ------------------------------------------------------------------ mute

async function sendMute(kind, muted) {
  const client = state.client;
  if (!client || !state.published) return; // sent after room.publish answers
  try {
    await client.call('room.mute', { muted, kind });
  } catch (err) {
    showError('room.mute', err);
  }
}

function setMuted(kind, muted) {
  state.muted[kind] = muted;
  for (const t of state.local?.getTracks() ?? []) if (t.kind === kind) t.enabled = !muted;
  const button = kind === 'audio' ? ui.mic : ui.cam;
  button.setAttribute('aria-pressed', String(muted));
  button.textContent = kind === 'audio'
    ? (muted ? 'Unmute microphone' : 'Mute microphone')
    : (muted ? 'Turn camera on' : 'Turn camera off');
  if (state.self) renderTile(state.self);
  return sendMute(kind, muted);
}

ui.mic.addEventListener('click', () => setMuted('audio', !state.muted.audio));
ui.cam.addEventListener('click', () => setMuted('video', !state.muted.video));

// ------------------------------------------------------------------ leave

async function leave() {
  if (state.phase === 'idle') return;
  const client = state.client;
  // room.leave first (it is on the wire when call() returns): the server ends
  // our PeerConnections for that reason rather than because DTLS closed.
  const request = client && client.isOpen ? client.call('room.leave', {}, { timeoutMs: 5000 }) : null;
  teardown();
  if (request) {
    try {
      await request;
    } catch (err) {
      if (err.code !== 1043) showError('room.leave', err); // 1043: not in a room (already out)
    }
  }
}

function closePc(pcId) {
  state.links[pcId]?.detach();
  state.links[pcId] = null;
  state.pcs[pcId]?.close();
  state.pcs[pcId] = null;
  state.serverState[pcId] = null;
  updatePcBadge(pcId);
}

// Back to the join form: close both PCs, stop the camera, clear the grid.
function teardown() {
  state.generation++;
  clearInterval(state.statsTimer);
  state.statsTimer = null;
  closePc('publisher');
  closePc('subscriber');
  chat.reset();
  state.local?.getTracks().forEach((t) => t.stop());
  state.local = null;
  state.published = false;
  state.self = null;
  state.participants.clear();
  state.gone.clear();
  state.media = 'pending';
  state.midMap = new Map();
  state.offerVersion = null;
  state.subChain = Promise.resolve();
  state.serverStats = null;
  state.prevStats.clear();
  state.recoveries = { publisher: [], subscriber: [] };
  for (const v of ui.grid.querySelectorAll('video, audio')) v.srcObject = null;
  ui.grid.replaceChildren();
  layoutGrid();
  ui.sound.hidden = true;
  ui.mic.disabled = true;
  ui.cam.disabled = true;
  setPhase('idle');
}

ui.leave.addEventListener('click', () => leave());
ui.joinForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  join();
});

// ------------------------------------------------------------------ QoS

ui.qos.addEventListener('change', () => ui.grid.classList.toggle('show-qos', ui.qos.checked));

// The overlay of a tile: a small table whose cells carry data-q keys
// ("b.video.kbps": browser numbers; "s.video.kbps": the server's).
function buildQosTable(tile, local) {
  const rows = local
    ? [
      ['', 'video', 'audio', 'head'],
      ['sent kbit/s', 'b.video.kbps', 'b.audio.kbps'],
      ['sent size', 'b.video.size', null],
      ['sent fps', 'b.video.fps', null],
      ['server in kbit/s', 's.video.kbps', 's.audio.kbps', 'sep'],
      ['server lost', 's.video.lost', 's.audio.lost'],
      ['server jitter ms', 's.video.jitter', 's.audio.jitter'],
    ]
    : [
      ['', 'video', 'audio', 'head'],
      ['recv kbit/s', 'b.video.kbps', 'b.audio.kbps'],
      ['lost', 'b.video.lost', 'b.audio.lost'],
      ['jitter ms', 'b.video.jitter', 'b.audio.jitter'],
      ['size @ fps', 'b.video.size', null],
      ['server out kbit/s', 's.video.kbps', 's.audio.kbps', 'sep'],
      ['NACK / RTX', 's.video.nack', 's.audio.nack'],
      ['RTT ms', 's.video.rtt', 's.audio.rtt'],
    ];
  const table = document.createElement('table');
  const thead = document.createElement('thead');
  const tbody = document.createElement('tbody');
  for (const [label, a, b, kind] of rows) {
    const tr = document.createElement('tr');
    if (kind === 'sep') tr.className = 'sep';
    const th = document.createElement('th');
    th.textContent = label;
    tr.append(th);
    for (const key of [a, b]) {
      const cell = document.createElement(kind === 'head' ? 'th' : 'td');
      if (kind === 'head') cell.textContent = key;
      else if (key) { cell.dataset.q = key; cell.textContent = '—'; }
      tr.append(cell);
    }
    (kind === 'head' ? thead : tbody).append(tr);
  }
  table.append(thead, tbody);
  tile.qos.replaceChildren(table);
}

function setQ(tile, key, value) {
  const el = tile.qos.querySelector(`[data-q="${key}"]`);
  if (el) el.textContent = value === undefined || value === null || value === '' ? '—' : String(value);
}

const fixed = (v, digits = 0) => (typeof v === 'number' && isFinite(v) ? v.toFixed(digits) : null);
const kbit = (bps) => (typeof bps === 'number' ? fixed(bps / 1000) : null);

function startStats(client, generation) {
  clearInterval(state.statsTimer);
  state.statsTimer = setInterval(updateStats, STATS_INTERVAL_MS);
  // The server pushes room.stats every second from now on; its answer is the first sample.
  client.call('room.stats', { interval_ms: STATS_INTERVAL_MS }).then(
    (st) => { if (generation === state.generation) takeServerStats(st); },
    (err) => { if (generation === state.generation) showError('room.stats', err); },
  );
}

function takeServerStats(st) {
  state.serverStats = st;
  state.serverStatsAt = performance.now();
}

// Rate in kbit/s of a byte counter between two reports of the same stat.
function kbps(cur, prev, field) {
  if (!prev || cur[field] === undefined || prev[field] === undefined) return null;
  const dt = (cur.timestamp - prev.timestamp) / 1000;
  return dt > 0 ? (8 * (cur[field] - prev[field])) / dt / 1000 : null;
}

function fpsOf(cur, prev, field) {
  if (typeof cur.framesPerSecond === 'number') return cur.framesPerSecond;
  if (!prev || cur.timestamp <= prev.timestamp) return null;
  return ((cur[field] ?? 0) - (prev[field] ?? 0)) / ((cur.timestamp - prev.timestamp) / 1000);
}

// Browser numbers of the subscriber: inbound-rtp per participant and kind.
async function subscriberStats() {
  const pc = state.pcs.subscriber;
  const out = new Map(); // participant id -> {video, audio}
  if (!pc || pc.signalingState === 'closed') return out;
  const midOfTrack = new Map();
  for (const tr of pc.getTransceivers()) if (tr.mid !== null) midOfTrack.set(tr.receiver.track.id, tr.mid);
  const report = await pc.getStats();
  for (const s of report.values()) {
    if (s.type !== 'inbound-rtp') continue;
    const mid = s.mid ?? midOfTrack.get(s.trackIdentifier);
    const entry = mid !== undefined ? state.midMap.get(String(mid)) : null;
    if (!entry || !entry.track) continue;
    const pid = entry.participant ?? entry.track.split('/')[0];
    const kind = s.kind ?? s.mediaType ?? entry.kind;
    const prev = state.prevStats.get(s.id);
    state.prevStats.set(s.id, s);
    const sum = out.get(pid) ?? { video: null, audio: null };
    if (sum[kind] && (sum[kind].packets ?? 0) >= (s.packetsReceived ?? 0)) continue; // keep the busiest
    sum[kind] = {
      kbps: kbps(s, prev, 'bytesReceived'),
      packets: s.packetsReceived ?? 0,
      lost: s.packetsLost ?? 0,
      jitter: typeof s.jitter === 'number' ? s.jitter * 1000 : null,
      fps: kind === 'video' ? fpsOf(s, prev, 'framesDecoded') : undefined,
      width: s.frameWidth ?? null,
      height: s.frameHeight ?? null,
      frames: s.framesDecoded,
    };
    out.set(pid, sum);
  }
  return out;
}

// Browser numbers of the publisher: outbound-rtp per kind (the busiest stream).
async function publisherStats() {
  const pc = state.pcs.publisher;
  const out = { video: null, audio: null };
  if (!pc || pc.signalingState === 'closed') return out;
  for (const s of (await pc.getStats()).values()) {
    if (s.type !== 'outbound-rtp') continue;
    const kind = s.kind ?? s.mediaType;
    const prev = state.prevStats.get(s.id);
    state.prevStats.set(s.id, s);
    if (out[kind] && out[kind].packets >= (s.packetsSent ?? 0)) continue;
    out[kind] = {
      kbps: kbps(s, prev, 'bytesSent'),
      packets: s.packetsSent ?? 0,
      fps: kind === 'video' ? fpsOf(s, prev, 'framesEncoded') : undefined,
      width: s.frameWidth ?? null,
      height: s.frameHeight ?? null,
    };
  }
  return out;
}

// The server's numbers per participant and kind, from the last room.stats.
function serverNumbers() {
  const st = state.serverStats;
  const stale = !st || performance.now() - state.serverStatsAt > 5 * STATS_INTERVAL_MS;
  const remote = new Map();
  const local = { video: null, audio: null };
  if (stale) return { remote, local };
  const pick = (sum, kind, s) => {
    if (!sum[kind] || (s.packets ?? 0) > (sum[kind].packets ?? 0)) sum[kind] = s;
  };
  for (const s of st.subscriber?.outbound ?? []) {
    if (!s.track) continue;
    const pid = s.track.split('/')[0];
    const sum = remote.get(pid) ?? { video: null, audio: null };
    pick(sum, s.kind, s);
    remote.set(pid, sum);
  }
  for (const s of st.publisher?.inbound ?? []) pick(local, s.kind, s);
  return { remote, local };
}

async function updateStats() {
  const generation = state.generation;
  let sub;
  let pub;
  try {
    [sub, pub] = await Promise.all([subscriberStats(), publisherStats()]);
  } catch (err) {
    console.warn('getStats failed:', err);
    return;
  }
  if (generation !== state.generation) return;
  const server = serverNumbers();

  for (const p of state.participants.values()) {
    if (!p.tile) continue;
    const b = sub.get(p.id) ?? { video: null, audio: null };
    const s = server.remote.get(p.id) ?? { video: null, audio: null };
    p.qos = { browser: b, server: s };
    for (const kind of ['video', 'audio']) {
      setQ(p.tile, `b.${kind}.kbps`, b[kind] && fixed(b[kind].kbps));
      setQ(p.tile, `b.${kind}.lost`, b[kind] && b[kind].lost);
      setQ(p.tile, `b.${kind}.jitter`, b[kind] && fixed(b[kind].jitter, 1));
      setQ(p.tile, `s.${kind}.kbps`, s[kind] && kbit(s[kind].bitrate_bps));
      setQ(p.tile, `s.${kind}.nack`, s[kind] && `${s[kind].nacks_received ?? 0} / ${s[kind].retransmissions ?? 0}`);
      setQ(p.tile, `s.${kind}.rtt`, s[kind] && s[kind].rtt_ms);
    }
    const v = b.video;
    setQ(p.tile, 'b.video.size', v && v.width ? `${v.width}×${v.height} @ ${fixed(v.fps) ?? '—'}` : null);
    renderTile(p); // readyState may have changed without an event
  }

  const me = state.self;
  if (me?.tile) {
    const s = server.local;
    me.qos = { browser: pub, server: s };
    for (const kind of ['video', 'audio']) {
      setQ(me.tile, `b.${kind}.kbps`, pub[kind] && fixed(pub[kind].kbps));
      setQ(me.tile, `s.${kind}.kbps`, s[kind] && kbit(s[kind].bitrate_bps));
      setQ(me.tile, `s.${kind}.lost`, s[kind] && s[kind].packets_lost);
      setQ(me.tile, `s.${kind}.jitter`, s[kind] && fixed(s[kind].jitter_ms, 1));
    }
    const v = pub.video;
    setQ(me.tile, 'b.video.size', v && v.width ? `${v.width}×${v.height}` : null);
    setQ(me.tile, 'b.video.fps', v && fixed(v.fps));
    renderTile(me);
  }
}

// ------------------------------------------------------------------ start

const params = new URLSearchParams(location.search);
ui.room.value = params.get('room') || 'demo';
ui.display.value = params.get('name') || `Guest-${100 + Math.floor(Math.random() * 900)}`;
if (params.get('qos') === '1') {
  ui.qos.checked = true;
  ui.grid.classList.add('show-qos');
}
setPhase('idle');
layoutGrid();
if (params.get('autostart') === '1') join();
