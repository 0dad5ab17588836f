// Switchboard admin dashboard (demos/admin.html, served at /admin/): polls the admin
// REST API (docs/admin-openapi.yaml) once a second and shows the server, its rooms,
// the selected room's participants with per-stream QoS (bitrate, loss, jitter, RTT)
// and a small live chart per stream (bitrate line, loss bars), with kick and mute
// buttons.
//
// The API is on its own listener ([admin] address:port, default
// http://127.0.0.1:7088), so this page calls it cross-origin with
// `Authorization: Bearer <token>`. The base URL and the token are kept in
// localStorage. ?room=NAME selects a room at start.
'use strict';

const POLL_MS = 1000;
const HISTORY = 60;                    // chart points per stream
const $ = (id) => document.getElementById(id);

const state = {
  api: localStorage.getItem('sb.admin.api') || 'http://127.0.0.1:7088',
  token: localStorage.getItem('sb.admin.token') || '',
  room: new URLSearchParams(location.search).get('room'),
  timer: null,
  history: new Map(),                  // "participant/dir/ssrc" -> [{bps, loss}]
  shown: new Set(),                    // the history keys of the last render
  busy: false,
};

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(method, path, body) {
  const init = { method, headers: { Authorization: `Bearer ${state.token}` } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(state.api.replace(/\/+$/, '') + path, init);
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  if (!res.ok) throw new ApiError(res.status, (json && json.error && json.error.message) || text || res.statusText);
  return json;
}

function setStatus(text, kind) {
  const s = $('status');
  s.textContent = text;
  s.className = `small ${kind || ''}`;
}

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') e.className = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e[k] = v;
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

const kbps = (bps) => (bps == null ? '—' : (bps / 1000).toFixed(bps < 100000 ? 1 : 0));
const num = (v, digits = 0) => (v == null ? '—' : Number(v).toFixed(digits));
const pct = (f) => (f == null ? '—' : (f * 100).toFixed(1));
const uptime = (s) => `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m ${s % 60}s`;

// --- server ---

function renderServer(info) {
  const box = $('server');
  box.replaceChildren(
    ...[['version', info.version], ['uptime', uptime(info.uptime_s)], ['workers', info.workers],
      ['sessions', info.sessions], ['peers', info.peers],
      ['rooms', info.videoroom ? info.videoroom.rooms : '—'], ['log level', null]]
      .map(([k, v]) => el('span', {}, `${k}: `, v === null ? logLevelSelect(info.config.log_level) : el('b', {}, String(v)))),
  );
}

function logLevelSelect(level) {
  const sel = el('select', {
    id: 'loglevel',
    onchange: async () => {
      try { await api('PUT', '/admin/v1/loglevel', { level: sel.value }); } catch (e) { setStatus(e.message, 'bad'); }
    },
  }, ...['error', 'warn', 'info', 'verbose', 'debug'].map((l) => el('option', { value: l, textContent: l })));
  sel.value = level;
  return sel;
}

// --- rooms ---

function renderRooms(rooms) {
  $('rooms-empty').hidden = rooms.length > 0;
  if (!state.room && rooms.length) state.room = rooms[0].room;
  $('rooms').replaceChildren(...rooms.map((r) => el('tr', {
    class: `room-row${r.room === state.room ? ' selected' : ''}`,
    dataset: { room: r.room },
    onclick: () => { state.room = r.room; poll(); },
  },
  el('td', {}, el('b', {}, r.room)), el('td', { class: 'num' }, String(r.participants)),
  el('td', { class: 'num' }, String(r.worker)), el('td', {}, r.persistent ? 'yes' : 'no'),
  el('td', { class: 'num' }, `${kbps(r.options.bitrate)} kbit/s`),
  el('td', {}, el('button', {
    class: 'secondary',
    textContent: 'Close',
    title: 'Close the room: every participant is kicked',
    onclick: (ev) => { ev.stopPropagation(); act('DELETE', `/admin/v1/rooms/${encodeURIComponent(r.room)}`); },
  })))));
}

// --- the selected room ---

// Newest point at the right edge; loss bars in red (full height = 10 %).
function drawSpark(canvas, points) {
  const ratio = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 120;
  const h = canvas.clientHeight || 24;
  canvas.width = w * ratio;
  canvas.height = h * ratio;
  const g = canvas.getContext('2d');
  g.scale(ratio, ratio);
  g.clearRect(0, 0, w, h);
  const step = w / (HISTORY - 1);
  const xOf = (i) => w - (points.length - 1 - i) * step;
  g.fillStyle = '#d64545';
  points.forEach((p, i) => {
    if (p.loss > 0) {
      const bar = Math.max(1, Math.min(1, p.loss / 0.1) * h);
      g.fillRect(xOf(i) - step / 2, h - bar, Math.max(1, step - 0.5), bar);
    }
  });
  if (points.length < 2) return;
  const max = Math.max(...points.map((p) => p.bps), 1);
  g.strokeStyle = '#2f6fdf';
  g.lineWidth = 1.5;
  g.beginPath();
  points.forEach((p, i) => {
    const y = h - 1 - (p.bps / max) * (h - 3);
    if (i === 0) g.moveTo(xOf(i), y); else g.lineTo(xOf(i), y);
  });
  g.stroke();
}

function remember(key, bps, loss) {
  state.shown.add(key);
  const h = state.history.get(key) || [];
  h.push({ bps: bps || 0, loss: loss || 0 });
  if (h.length > HISTORY) h.shift();
  state.history.set(key, h);
  return h;
}

// One row per stream: what the participant sends (publisher inbound) and what it
// receives (subscriber outbound), from the server's view.
function streamRows(pid, stats) {
  const rows = [];
  const add = (dir, s, peer) => {
    const key = `${pid}/${dir}/${s.ssrc}`;
    const inbound = dir === 'sends';
    const hist = remember(key, s.bitrate_bps, inbound ? s.fraction_lost : s.remote_fraction_lost);
    const canvas = el('canvas', { class: 'spark', title: 'bitrate (blue), loss (red, 10 % = full height)' });
    rows.push([el('tr', { dataset: { ssrc: String(s.ssrc), dir, bitrate: String(s.bitrate_bps || 0) } },
      el('td', {}, dir), el('td', {}, s.track || '—'), el('td', {}, s.kind), el('td', {}, s.codec || '—'),
      el('td', { class: 'num' }, String(s.ssrc)),
      el('td', { class: 'num bitrate' }, kbps(s.bitrate_bps)), el('td', {}, canvas),
      el('td', { class: 'num' }, String(s.packets)),
      el('td', { class: 'num' }, String(inbound ? s.packets_lost : s.remote_packets_lost)),
      el('td', { class: 'num' }, pct(inbound ? s.fraction_lost : s.remote_fraction_lost)),
      el('td', { class: 'num' }, num(inbound ? s.jitter_ms : s.remote_jitter_ms, 1)),
      el('td', { class: 'num' }, num(inbound ? peer.rtt_ms : s.rtt_ms))), canvas, hist]);
  };
  if (stats.publisher) for (const s of stats.publisher.inbound || []) add('sends', s, stats.publisher);
  if (stats.subscriber) for (const s of stats.subscriber.outbound || []) add('receives', s, stats.subscriber);
  return rows;
}

function participantCard(room, p, stats) {
  const path = `/admin/v1/rooms/${encodeURIComponent(room)}/participants/${encodeURIComponent(p.id)}`;
  const audio = p.tracks.filter((t) => t.kind === 'audio');
  const audioMuted = audio.length > 0 && audio.every((t) => t.muted);
  const rows = stats ? streamRows(p.id, stats) : [];
  const card = el('div', { class: 'participant', dataset: { participant: p.id } },
    el('header', {},
      el('span', { class: 'name' }, p.display), el('code', {}, p.id), el('span', { class: 'small' }, p.client),
      el('span', { class: 'small' }, `publisher: ${p.publisher_state || '—'} · subscriber: ${p.subscriber_state || '—'}`),
      audioMuted ? el('span', { class: 'muted-flag' }, 'audio muted') : null,
      el('span', { class: 'spacer' }),
      el('button', {
        class: 'secondary mute',
        textContent: audioMuted ? 'Unmute audio' : 'Mute audio',
        disabled: audio.length === 0,
        onclick: () => act('POST', `${path}/mute`, { muted: !audioMuted, kind: 'audio' }),
      }),
      el('button', {
        class: 'danger kick',
        textContent: 'Kick',
        onclick: () => act('POST', `${path}/kick`, { reason: 'removed by an administrator' }),
      })),
    el('table', { class: 'atable' },
      el('thead', {}, el('tr', {}, ...['', 'track', 'kind', 'codec', 'SSRC', 'kbit/s', 'last 60 s', 'packets',
        'lost', 'loss %', 'jitter ms', 'RTT ms'].map((h) => el('th', {}, h)))),
      el('tbody', {}, ...rows.map((r) => r[0]))));
  return { card, charts: rows.map((r) => [r[1], r[2]]) };
}

async function renderRoom() {
  const card = $('room-card');
  if (!state.room) { card.hidden = true; return; }
  let room;
  try {
    room = await api('GET', `/admin/v1/rooms/${encodeURIComponent(state.room)}`);
  } catch (e) {
    if (e.status === 404) { state.room = null; card.hidden = true; return; }
    throw e;
  }
  const stats = await Promise.all(room.participants.map((p) => api('GET',
    `/admin/v1/rooms/${encodeURIComponent(room.room)}/participants/${encodeURIComponent(p.id)}`).catch(() => null)));
  $('room-name').textContent = room.room;
  state.shown = new Set();
  const built = room.participants.map((p, i) => participantCard(room.room, p, stats[i]));
  $('participants').replaceChildren(...(built.length ? built.map((b) => b.card) : [el('p', { class: 'small' }, 'Nobody here.')]));
  card.hidden = false;
  for (const b of built) for (const [canvas, hist] of b.charts) drawSpark(canvas, hist);
  for (const key of state.history.keys()) if (!state.shown.has(key)) state.history.delete(key);
}

// --- polling and actions ---

async function poll() {
  if (state.busy) return;
  state.busy = true;
  try {
    const [info, list] = await Promise.all([api('GET', '/admin/v1/info'), api('GET', '/admin/v1/rooms')]);
    renderServer(info);
    renderRooms(list.rooms);
    await renderRoom();
    setStatus(`connected to ${state.api}`, 'ok');
  } catch (e) {
    setStatus(e.status === 401 ? 'wrong or missing token' : `error: ${e.message}`, 'bad');
    if (e.status === 401) stop();
  } finally {
    state.busy = false;
  }
}

async function act(method, path, body) {
  try {
    await api(method, path, body);
  } catch (e) {
    setStatus(`${method} ${path}: ${e.message}`, 'bad');
  }
  poll();
}

function stop() {
  if (state.timer) clearInterval(state.timer);
  state.timer = null;
}

function start() {
  stop();
  poll();
  state.timer = setInterval(poll, POLL_MS);
}

$('api').value = state.api;
$('token').value = state.token;
$('connect-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  state.api = $('api').value.trim() || 'http://127.0.0.1:7088';
  state.token = $('token').value;
  localStorage.setItem('sb.admin.api', state.api);
  localStorage.setItem('sb.admin.token', state.token);
  start();
});
if (state.token) start();
