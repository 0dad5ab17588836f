// Text rooms (docs/API.md "Text rooms"): a headless Chromium page (the demo,
// demos/textroom.html, driven through its form) and aiortc peers
// (textroom_peer.py, one process each, driven over stdin/stdout) chat in one
// room through the server's data channels. Checks: joins seen by the others,
// messages both ways in order, a private message reaching only its addressee,
// the last N messages replayed to a late joiner, malformed JSON answered with an
// error while the chat goes on, kick refused with a wrong secret and done with
// the right one, leave seen by the others, and every PeerConnection and SCTP
// association released once everyone has hung up.
// Run: tests/integration/run.sh textroom

import { spawn } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  RESULTS, ROOT, createTap, launchChromium, openPage, sleep, startServer, stopServer, waitFor,
} from './lib/sb.mjs';

const HISTORY = 3;
const SECRET = 'letmein';
const ROOM = 'chat';
const ISO_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

const tap = createTap();
const watchdog = setTimeout(() => {
  console.log('not ok - test finished within 170 s');
  process.exit(1);
}, 170000);
watchdog.unref();

/** An aiortc participant: tests/integration/textroom_peer.py in its own process. */
class PyPeer {
  constructor(name, wsUrl) {
    this.name = name;
    this.lines = []; // every JSON line it printed
    this.msgs = []; // every data channel message, parsed
    this.n = 0;
    this.exited = null;
    this.log = join(RESULTS, `test_textroom-${name}.log`);
    writeFileSync(this.log, '');
    this.proc = spawn('/usr/bin/python3', ['-u', 'tests/integration/textroom_peer.py', wsUrl, name],
      { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    this.pid = this.proc.pid;
    this.exitedP = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => { this.exited = { code, signal }; resolve(this.exited); });
    });
    createInterface({ input: this.proc.stdout }).on('line', (line) => {
      appendFileSync(this.log, `< ${line}\n`);
      let o;
      try { o = JSON.parse(line); } catch { return; }
      this.lines.push(o);
      if (o.type === 'dc') {
        try { this.msgs.push(JSON.parse(o.data)); } catch { this.msgs.push({ raw: o.data }); }
      }
    });
    this.proc.stderr.on('data', (d) => appendFileSync(this.log, d));
    this.proc.stdin.on('error', () => {});
  }

  async ready(timeoutMs = 30000) {
    const r = await waitFor(() => this.lines.find((l) => l.type === 'ready' || l.type === 'error')
      ?? (this.exited && { type: 'exited', ...this.exited }), { timeoutMs });
    if (!r || r.type !== 'ready') throw new Error(`${this.name} not ready: ${JSON.stringify(r)} (log ${this.log})`);
    return r;
  }

  cmd(o) {
    appendFileSync(this.log, `> ${JSON.stringify(o)}\n`);
    this.proc.stdin.write(`${JSON.stringify(o)}\n`);
  }

  sendRaw(text) { this.cmd({ cmd: 'send', data: text }); }

  /** Sends a request with a fresh transaction; resolves with its response. */
  async request(body, timeoutMs = 10000) {
    const transaction = `${this.name}-${++this.n}`;
    this.sendRaw(JSON.stringify({ ...body, transaction }));
    const r = await waitFor(() => this.msgs.find((m) => m.response && m.transaction === transaction),
      { timeoutMs });
    if (!r) throw new Error(`${this.name}: no response to ${body.request} within ${timeoutMs} ms`);
    return r;
  }

  events(pred = () => true) { return this.msgs.filter((m) => m.event && pred(m)); }

  waitEvent(pred, timeoutMs = 10000) {
    return waitFor(() => this.msgs.find((m) => m.event && pred(m)), { timeoutMs });
  }

  async rpc(method, params) {
    const tag = `rpc${++this.n}`;
    this.cmd({ cmd: 'rpc', tag, method, params });
    const r = await waitFor(() => this.lines.find((l) => l.type === 'rpc' && l.tag === tag), { timeoutMs: 12000 });
    if (!r) throw new Error(`${this.name}: no answer to ${method}`);
    return r.response;
  }

  /** Asks it to hang up and exit; kills it (by PID) after timeoutMs. */
  async close(timeoutMs = 15000) {
    if (this.exited) return this.exited;
    try {
      this.cmd({ cmd: 'close' });
      this.proc.stdin.end();
    } catch { /* already gone */ }
    const r = await Promise.race([this.exitedP, sleep(timeoutMs).then(() => null)]);
    if (!r) {
      process.kill(this.pid, 'SIGKILL');
      await Promise.race([this.exitedP, sleep(5000)]);
    }
    return this.exited;
  }

  kill() {
    if (!this.exited) {
      try { process.kill(this.pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

let server = null;
let browser = null;
const peers = [];
let exitCode = 1;
try {
  server = await startServer({
    overrides: [`textroom.history_size=${HISTORY}`, `textroom.moderator_secret=${SECRET}`,
      'textroom.empty_room_ttl=0',
      // A session lost without a close frame is held this long for a resume
      // (docs/API.md session.resume) before it leaves.
      'signaling.resume_grace=3'],
  });
  const bob = new PyPeer('bob', server.wsUrl);
  peers.push(bob);
  [browser] = await Promise.all([launchChromium(), bob.ready()]);
  tap.check(true, 'aiortc peer Bob: data-only PeerConnection connected, channel open');

  // --- joins -----------------------------------------------------------------
  const bj = await bob.request({ request: 'join', room: ROOM, display: 'Bob' });
  tap.check(bj.response === 'success' && /^u[A-Za-z0-9]{8}$/.test(bj.id) && bj.room === ROOM
    && same(bj.participants, []) && same(bj.history, []),
  'Bob joins an empty room: success with his id, no participants, no history', JSON.stringify(bj));

  const page = await openPage(browser, `${server.url}/textroom.html?room=${ROOM}&name=Ann`);
  await page.click('#join');
  await page.waitForFunction(() => window.textroom?.me, null, { timeout: 25000 });
  const ann = await page.evaluate(() => ({ me: window.textroom.me, people: [...window.textroom.people] }));
  tap.check(ann.people.some(([id, d]) => id === bj.id && d === 'Bob'),
    'Chromium (Ann) joins through the demo page and is told Bob is there', JSON.stringify(ann));
  const sawAnn = await bob.waitEvent((e) => e.event === 'joined' && e.id === ann.me);
  tap.check(sawAnn && sawAnn.display === 'Ann' && sawAnn.room === ROOM,
    'Bob gets "joined" for Ann', JSON.stringify(sawAnn));

  // --- messages both ways, in order -----------------------------------------
  const uiSend = async (text) => {
    await page.fill('#text', text);
    await page.click('#send');
  };
  const annTexts = ['from Ann 1', 'from Ann 2 — ünïcødé ✓', 'from Ann 3'];
  for (const t of annTexts) await uiSend(t);
  await waitFor(() => bob.events((e) => e.event === 'message' && e.from === ann.me).length >= 3, { timeoutMs: 10000 });
  const bobGot = bob.events((e) => e.event === 'message' && e.from === ann.me);
  tap.check(same(bobGot.map((e) => e.text), annTexts)
    && bobGot.every((e) => e.display === 'Ann' && e.private === false && e.room === ROOM && ISO_DATE.test(e.date)),
  'Chromium → aiortc: Bob gets Ann\'s 3 messages in order, with her name and a date', JSON.stringify(bobGot));

  const bobTexts = ['from Bob 1', 'from Bob 2', 'from Bob 3'];
  const acks = [];
  for (const t of bobTexts) acks.push(await bob.request({ request: 'message', room: ROOM, text: t }));
  tap.check(acks.every((a) => a.response === 'success' && ISO_DATE.test(a.date)),
    'each message request is answered with success and the date', JSON.stringify(acks));
  await page.waitForFunction((id) => window.textroom.messages.filter((m) => m.from === id).length >= 3,
    bj.id, { timeout: 10000 });
  const annGot = await page.evaluate((id) => window.textroom.messages.filter((m) => m.from === id), bj.id);
  tap.check(same(annGot.map((m) => m.text), bobTexts) && annGot.every((m) => !m.private),
    'aiortc → Chromium: Ann gets Bob\'s 3 messages in order', JSON.stringify(annGot));
  const shown = await page.locator('#messages').innerText();
  tap.check(shown.includes('from Bob 3') && shown.includes('from Ann 2'),
    'the demo page shows both sides of the conversation', shown.slice(-400));

  // --- a late joiner gets the last N ----------------------------------------
  const publicOrder = bob.events((e) => e.event === 'message').map((e) => [e.from, e.text]);
  const carol = new PyPeer('carol', server.wsUrl);
  peers.push(carol);
  await carol.ready();
  const cj = await carol.request({ request: 'join', room: ROOM, display: 'Carol' });
  tap.check(cj.response === 'success'
    && same(cj.history.map((h) => [h.from, h.text]), publicOrder.slice(-HISTORY))
    && cj.history.every((h) => h.display && ISO_DATE.test(h.date)),
  `late joiner Carol gets the last ${HISTORY} messages, oldest first`,
  `history ${JSON.stringify(cj.history)}; all ${JSON.stringify(publicOrder)}`);
  tap.check(same(cj.participants.map((p) => p.id).sort(), [bj.id, ann.me].sort()),
    'Carol is told who is there (Ann and Bob)', JSON.stringify(cj.participants));
  const bobSawCarol = await bob.waitEvent((e) => e.event === 'joined' && e.id === cj.id);
  await page.waitForFunction((id) => window.textroom.people.has(id), cj.id, { timeout: 10000 }).catch(() => {});
  const annSawCarol = await page.evaluate((id) => window.textroom.people.get(id), cj.id);
  tap.check(bobSawCarol && annSawCarol === 'Carol', 'Ann and Bob see Carol join',
    `${JSON.stringify(bobSawCarol)} ${annSawCarol}`);

  // --- private messages ----------------------------------------------------
  await page.click(`#people li[data-id="${bj.id}"]`);
  await uiSend('secret for Bob');
  await page.click('#target'); // back to everyone
  await uiSend('after private (Ann)');
  const pr = await bob.request({ request: 'message', room: ROOM, text: 'secret for Ann', to: ann.me });
  await bob.request({ request: 'message', room: ROOM, text: 'after private (Bob)' });
  await waitFor(() => carol.events((e) => e.text === 'after private (Ann)').length
    && carol.events((e) => e.text === 'after private (Bob)').length, { timeoutMs: 10000 });
  const bobPriv = bob.events((e) => e.text === 'secret for Bob');
  tap.check(bobPriv.length === 1 && bobPriv[0].private === true && bobPriv[0].from === ann.me
    && bobPriv[0].to === bj.id, 'Chromium → aiortc private message reaches Bob, marked private', JSON.stringify(bobPriv));
  await page.waitForFunction(() => window.textroom.messages.some((m) => m.text === 'secret for Ann'), null,
    { timeout: 10000 }).catch(() => {});
  const annPriv = await page.evaluate(() => window.textroom.events.filter((e) => e.text === 'secret for Ann'));
  tap.check(pr.response === 'success' && annPriv.length === 1 && annPriv[0].private === true && annPriv[0].from === bj.id,
    'aiortc → Chromium private message reaches Ann, marked private', JSON.stringify(annPriv));
  const leaked = carol.events((e) => e.private || /^secret/.test(e.text ?? ''));
  tap.check(leaked.length === 0 && carol.events((e) => e.text === 'after private (Bob)').length === 1,
    'Carol (a third aiortc peer) gets neither private message, but the public ones after them',
    JSON.stringify(carol.events((e) => e.event === 'message').map((e) => e.text)));
  tap.check(bob.events((e) => e.text === 'secret for Ann').length === 0,
    'a private message is not echoed to its sender');
  const pe = await bob.request({ request: 'message', room: ROOM, text: 'x', to: 'uNobody00' });
  tap.check(pe.response === 'error' && pe.code === 1060, 'a private message to nobody: error 1060', JSON.stringify(pe));

  // --- malformed requests ---------------------------------------------------
  bob.sendRaw('{"request": "message", "text": ');
  const bad = await waitFor(() => bob.msgs.find((m) => m.response === 'error' && m.code === -32700), { timeoutMs: 10000 });
  tap.check(bad && bad.transaction === undefined && /JSON/.test(bad.message),
    'malformed JSON from aiortc: error -32700 on the channel', JSON.stringify(bad));
  const unk = await bob.request({ request: 'shout', room: ROOM });
  tap.check(unk.response === 'error' && unk.code === -32601, 'an unknown request: error -32601 with its transaction',
    JSON.stringify(unk));
  const miss = await bob.request({ request: 'message', room: ROOM });
  tap.check(miss.response === 'error' && miss.code === -32602, 'a message without text: error -32602', JSON.stringify(miss));
  await page.evaluate(() => window.textroom.sendRaw('not json at all'));
  await page.waitForFunction(() => window.textroom.errors.some((e) => e.includes('(-32700)')), null,
    { timeout: 10000 }).catch(() => {});
  const pageErrors = await page.evaluate(() => window.textroom.errors);
  tap.check(pageErrors.some((e) => e.includes('(-32700)')), 'malformed JSON from Chromium: error -32700',
    JSON.stringify(pageErrors));
  await bob.request({ request: 'message', room: ROOM, text: 'still here (Bob)' });
  await uiSend('still here (Ann)');
  const goesOn = await waitFor(() => carol.events((e) => e.text === 'still here (Ann)').length
    && bob.events((e) => e.text === 'still here (Ann)').length, { timeoutMs: 10000 });
  const annStill = await page.evaluate(() => window.textroom.messages.some((m) => m.text === 'still here (Bob)'));
  tap.check(goesOn && annStill, 'after the malformed requests the chat goes on both ways');

  // --- kick -----------------------------------------------------------------
  const wrong = await bob.request({ request: 'kick', room: ROOM, id: cj.id, secret: 'guess' });
  tap.check(wrong.response === 'error' && wrong.code === 1080, 'kick with a wrong secret: error 1080', JSON.stringify(wrong));
  const list1 = await bob.request({ request: 'list', room: ROOM });
  tap.check(list1.participants?.some((p) => p.id === cj.id), 'after the refused kick Carol is still in the room',
    JSON.stringify(list1));
  const kick = await bob.request({ request: 'kick', room: ROOM, id: cj.id, secret: SECRET });
  tap.check(kick.response === 'success', 'kick with the moderator secret succeeds', JSON.stringify(kick));
  const carolKicked = await carol.waitEvent((e) => e.event === 'kicked' && e.id === cj.id);
  const bobKicked = await bob.waitEvent((e) => e.event === 'kicked' && e.id === cj.id);
  await page.waitForFunction((id) => !window.textroom.people.has(id), cj.id, { timeout: 10000 }).catch(() => {});
  const annPeople = await page.evaluate(() => [...window.textroom.people.keys()]);
  tap.check(carolKicked && bobKicked && !annPeople.includes(cj.id),
    'everyone (Carol included) gets "kicked"; Ann\'s list drops Carol', JSON.stringify(annPeople));
  const after = await carol.request({ request: 'message', room: ROOM, text: 'am I still here?' });
  tap.check(after.response === 'error' && after.code === 1043, 'the kicked participant can no longer post: 1043',
    JSON.stringify(after));
  const list2 = await bob.request({ request: 'list', room: ROOM });
  tap.check(same(list2.participants?.map((p) => p.id).sort(), [bj.id, ann.me].sort()),
    'list shows Ann and Bob only', JSON.stringify(list2));

  // --- a participant whose session ends (its process killed) leaves ----------
  const dave = new PyPeer('dave', server.wsUrl);
  peers.push(dave);
  await dave.ready();
  const dj = await dave.request({ request: 'join', room: ROOM, display: 'Dave' });
  await bob.waitEvent((e) => e.event === 'joined' && e.id === dj.id);
  dave.kill(); // SIGKILL: the WebSocket and the PeerConnection just go away (held 3 s, then gone)
  const daveLeft = await bob.waitEvent((e) => e.event === 'left' && e.id === dj.id, 15000);
  await page.waitForFunction((id) => window.textroom.events.some((e) => e.event === 'left' && e.id === id),
    dj.id, { timeout: 10000 }).catch(() => {});
  const annSawDaveLeave = await page.evaluate((id) => window.textroom.events.some((e) => e.event === 'left' && e.id === id), dj.id);
  tap.check(dj.response === 'success' && daveLeft && annSawDaveLeave,
    'a participant whose session ends (process killed) leaves: Ann and Bob get "left"', JSON.stringify(daveLeft));

  // --- leave ----------------------------------------------------------------
  const bl = await bob.request({ request: 'leave', room: ROOM });
  tap.check(bl.response === 'success', 'Bob leaves', JSON.stringify(bl));
  await page.waitForFunction((id) => !window.textroom.people.has(id)
    && window.textroom.events.some((e) => e.event === 'left' && e.id === id), bj.id, { timeout: 10000 }).catch(() => {});
  const leftSeen = await page.evaluate((id) => window.textroom.events.filter((e) => e.event === 'left' && e.id === id), bj.id);
  const bobLi = await page.locator(`#people li[data-id="${bj.id}"]`).count();
  tap.check(leftSeen.length === 1 && bobLi === 0, 'Ann gets "left" for Bob and he leaves her list',
    `${JSON.stringify(leftSeen)} li=${bobLi}`);
  await page.click('#leave');
  await page.waitForSelector('#join-card:not([hidden])', { timeout: 10000 });

  // --- everything released ----------------------------------------------------
  const during = await carol.rpc('server.status');
  tap.check(during.result?.textroom?.malformed_requests >= 2 && during.result?.textroom?.connections === 3,
    'server.status: 3 textroom connections, the malformed requests counted', JSON.stringify(during.result?.textroom));
  await page.evaluate(async () => {
    await window.textroom.sb.call('textroom.hangup');
    window.textroom.pc.close();
  });
  const bobExit = await bob.close();
  tap.check(bobExit?.code === 0 && bob.lines.some((l) => l.type === 'bye'), 'Bob hangs up and exits cleanly',
    JSON.stringify(bobExit));
  const hang = await carol.rpc('textroom.hangup');
  tap.check(hang.result && !hang.error, 'textroom.hangup answers {}', JSON.stringify(hang));
  let status = null;
  await waitFor(async () => {
    status = (await carol.rpc('server.status')).result;
    const t = status?.textroom ?? {};
    return status?.peers === 0 && t.connections === 0 && t.participants === 0 && t.rooms === 0
      && t.sctp_associations === 0;
  }, { timeoutMs: 10000, intervalMs: 300 });
  tap.check(status?.peers === 0 && status?.textroom?.connections === 0 && status?.textroom?.sctp_associations === 0,
    'after everyone hung up: no peers, no SCTP associations, no textroom connections', JSON.stringify(status));
  tap.check(status?.textroom?.participants === 0 && status?.textroom?.rooms === 0,
    'no participants left, and the empty room was dropped (empty_room_ttl = 0)', JSON.stringify(status?.textroom));
  await carol.close();
  exitCode = 0;
} catch (err) {
  tap.check(false, 'test ran without an exception', err?.stack ?? String(err));
} finally {
  for (const p of peers) {
    await p.close(5000).catch(() => {});
    p.kill();
  }
  if (browser) await browser.close().catch(() => {});
  if (server) {
    const r = await stopServer(server);
    tap.check(r && r.code === 0 && !r.killed, 'server exits 0 on SIGTERM', JSON.stringify(r));
    const log = server.readLog();
    tap.check(!/still alive at shutdown/.test(log), 'no textroom connection alive at shutdown');
  }
}
process.exit(tap.summary() || exitCode);
