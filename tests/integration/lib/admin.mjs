// Helpers for the admin API tests (test_admin_*.mjs): a real HTTP client for the
// admin listener (docs/admin-openapi.yaml), the server overrides that open it, and
// a live call to look at.
//
//   const ctx = { demos: makeDemosDir(), t0: Date.now() };
//   try {
//     const { pages, ids } = await startLiveCall(tap, ctx, { room: 'r', names: ['Ann', 'Bob'] });
//     const r = await adm('GET', '/admin/v1/rooms');          // {status, json, headers, text}
//     const r2 = await adm('GET', '/admin/v1/info', { token: 'wrong' });
//   } finally { await finishTest(tap, ctx); }

import { launchChromium, startServer } from './sb.mjs';
import { openRoomPage, requireVideoroom } from './room.mjs';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const ADMIN_PORT = 7088;
export const ADMIN_URL = `http://127.0.0.1:${ADMIN_PORT}`;
export const ADMIN_OVERRIDES = [`admin.token=${ADMIN_TOKEN}`, `admin.port=${ADMIN_PORT}`];

/**
 * One request to the admin API. token: the bearer token (default the test's;
 * null sends no Authorization header). body: an object (sent as JSON) or a string
 * (sent as is). Resolves with {status, json (null when not JSON), text, headers}.
 */
export async function adm(method, path, { token = ADMIN_TOKEN, body, headers = {} } = {}) {
  const init = { method, headers: { ...headers }, signal: AbortSignal.timeout(10000) };
  if (token !== null) init.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    if (!init.headers['Content-Type']) init.headers['Content-Type'] = 'application/json';
  } else if (method === 'POST' || method === 'PUT') {
    init.body = '';
  }
  const res = await fetch(`${ADMIN_URL}${path}`, init);
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: res.status, json, text, headers: res.headers };
}

/** A route pattern of info.routes ("GET /admin/v1/rooms/{room}") with values filled in. */
export function fillRoute(route, values) {
  const [method, pattern] = route.split(' ');
  return { method, path: pattern.replace(/\{(\w+)\}/g, (_, k) => encodeURIComponent(values[k] ?? 'x')) };
}

/** Whether an answer is the admin API's JSON error with this status. */
export const isError = (r, status) => r.status === status && r.json && r.json.error &&
  r.json.error.code === status && typeof r.json.error.message === 'string';

/**
 * A server with the admin API open (on ctx.demos, a makeDemosDir()) and one
 * Chromium page per name (roomtest.html) that joins `room` with that display name,
 * subscribes to everything and publishes camera + microphone. Sets ctx.server and
 * ctx.browser as soon as they exist (for finishTest); returns {pages, ids}.
 */
export async function startLiveCall(tap, ctx, { room, names }) {
  ctx.server = await startServer({ overrides: [...ADMIN_OVERRIDES, ctx.demos.override] });
  ctx.browser = await launchChromium();
  const pages = [];
  for (let i = 0; i < names.length; i++) pages.push(await openRoomPage(ctx.browser, ctx.server));
  if (!await requireVideoroom(tap, pages[0])) throw new Error('no videoroom plugin: nothing to test');
  const ids = [];
  for (let i = 0; i < names.length; i++) {
    ids.push((await pages[i].evaluate(([r, d]) => rt.join(r, { display: d, subscribe: 'all' }), [room, names[i]])).participant);
  }
  await Promise.all(pages.map((p) => p.evaluate(() => rt.publish())));
  return { pages, ids };
}
