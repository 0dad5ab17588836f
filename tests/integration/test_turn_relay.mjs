// Acceptance test of TURN for clients ([turn] servers, secret, ttl; docs/API.md
// "TURN"): a real coturn (Debian's turnserver, started here on 127.0.0.1:3478 with
// use-auth-secret) and two headless Chromium pages (tests/integration/pages/
// roomtest.html?relay=1) that create both their PeerConnections with the
// iceServers of their room.join result and iceTransportPolicy "relay", so media
// can only flow through coturn (which relays to the server's 127.0.0.1 host
// candidates: --allow-loopback-peers).
//
// Asserts:
//  - room.join returns iceServers: the stun: URL alone, and the turn: URLs with
//    username "<expiry>:<session id>" (expiry = now + ttl) and credential
//    base64(HMAC-SHA1(secret, username)), computed here independently;
//  - each page decodes > 50 video frames from the other within 20 s of the second
//    publish, and receives its audio;
//  - on every PeerConnection (publisher and subscriber of both pages) the selected
//    candidate pair's local candidate is a relay one (getStats), its remote the
//    server at 127.0.0.1, and the page gathered no other kind of candidate;
//  - coturn saw allocations (its log names both pages' usernames);
//  - the server exits 0 on SIGTERM; coturn is stopped by its PID.
// Run: tests/integration/run.sh turn_relay   (coturn's log: test-results/test_turn_relay-coturn.log)

import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  RESULTS, createTap, finishTest, launchChromium, makeDemosDir, startServer, waitFor, watchdog,
} from './lib/sb.mjs';
import { inbound, openRoomPage, pageErrors, sumOf } from './lib/room.mjs';

const SECRET = 'turn-test-shared-secret';
const TTL = 3600;
const ROOM = 'turn-relay';
const TURN_URLS = ['turn:127.0.0.1:3478?transport=udp', 'turn:127.0.0.1:3478?transport=tcp'];
const STUN_URL = 'stun:127.0.0.1:3478';

const tap = createTap();
const t0 = Date.now();
watchdog(100000);

// Starts coturn on loopback; resolves {proc, logPath} once it listens.
async function startCoturn(dir) {
  const logPath = join(RESULTS, 'test_turn_relay-coturn.log');
  writeFileSync(logPath, '');
  const args = [
    '-n', '--listening-ip=127.0.0.1', '--listening-port=3478', '--relay-ip=127.0.0.1',
    '--min-port=49152', '--max-port=49999',
    '--use-auth-secret', `--static-auth-secret=${SECRET}`, '--realm=switchboard.test',
    '--no-tls', '--no-dtls', '--allow-loopback-peers', '--no-cli', '--no-multicast-peers',
    `--log-file=${logPath}`, '--simple-log', '--no-stdout-log', '-v',
    `--pidfile=${join(dir, 'turnserver.pid')}`, `--userdb=${join(dir, 'turndb')}`,
  ];
  const proc = spawn('/usr/bin/turnserver', args, { stdio: 'ignore' });
  let exited = null;
  proc.on('exit', (code, signal) => { exited = { code, signal }; });
  const up = await waitFor(() => exited || /listener opened on.*127\.0\.0\.1:3478/.test(readFileSync(logPath, 'utf8')),
    { timeoutMs: 5000, intervalMs: 100 });
  if (!up || exited) throw new Error(`coturn did not start (${JSON.stringify(exited)}); log ${logPath}`);
  return { proc, logPath, exited: () => exited };
}

async function stopCoturn(turn) {
  if (!turn || turn.exited()) return;
  process.kill(turn.proc.pid, 'SIGTERM');
  if (!await waitFor(() => turn.exited(), { timeoutMs: 3000 })) process.kill(turn.proc.pid, 'SIGKILL');
}

// For each PeerConnection of a page: the selected pair's local and remote
// candidates, and the types of every local candidate it gathered.
const selectedPairs = (page) => page.evaluate(async () => {
  const out = {};
  for (const [name, pc] of [['publisher', rt.pub], ['subscriber', rt.sub]]) {
    if (!pc) { out[name] = null; continue; }
    const stats = [...(await pc.getStats()).values()];
    const byId = Object.fromEntries(stats.map((s) => [s.id, s]));
    const transport = stats.find((s) => s.type === 'transport' && s.selectedCandidatePairId);
    const pair = transport ? byId[transport.selectedCandidatePairId] : null;
    const local = pair ? byId[pair.localCandidateId] : null;
    const remote = pair ? byId[pair.remoteCandidateId] : null;
    out[name] = {
      state: pc.connectionState,
      local: local ? { type: local.candidateType, address: local.address, protocol: local.protocol,
        relayProtocol: local.relayProtocol, url: local.url } : null,
      remote: remote ? { type: remote.candidateType, address: remote.address, port: remote.port } : null,
      localTypes: [...new Set(stats.filter((s) => s.type === 'local-candidate').map((s) => s.candidateType))],
    };
  }
  return out;
});

const demos = makeDemosDir();
const turnDir = mkdtempSync(join(tmpdir(), 'sb-turn-'));
let server = null;
let browser = null;
let turn = null;
try {
  turn = await startCoturn(turnDir);
  tap.check(true, 'coturn listens on 127.0.0.1:3478 (use-auth-secret)', `pid ${turn.proc.pid}`);
  server = await startServer({
    overrides: [demos.override, `turn.servers=${[STUN_URL, ...TURN_URLS].join(', ')}`,
      `turn.secret=${SECRET}`, `turn.ttl=${TTL}`],
  });
  browser = await launchChromium();
  const names = ['A', 'B'];
  const pages = [];
  const joins = [];
  for (const name of names) {
    const page = await openRoomPage(browser, server, { query: 'relay=1' });
    const before = Math.floor(Date.now() / 1000);
    const res = await page.evaluate((n) => rt.join('turn-relay', { display: n, subscribe: 'all' }), name);
    const after = Math.floor(Date.now() / 1000);
    const session = await page.evaluate(() => rt.session);
    pages.push(page);
    joins.push({ res, session, before, after });
  }
  tap.check(ROOM === joins[0].res.room, 'both pages joined the room', joins.map((j) => j.res.participant));

  // The credentials, checked independently (TURN REST API: coturn use-auth-secret).
  for (const [i, j] of joins.entries()) {
    const servers = j.res.iceServers ?? [];
    const stun = servers.find((s) => (s.urls ?? []).includes(STUN_URL));
    const relay = servers.find((s) => s.username);
    const [expiry, identity] = (relay?.username ?? '').split(':');
    const expect = relay ? createHmac('sha1', SECRET).update(relay.username).digest('base64') : null;
    tap.check(stun && !stun.username && !stun.credential && relay &&
        JSON.stringify(relay.urls) === JSON.stringify(TURN_URLS) &&
        identity === j.session && Number(expiry) >= j.before + TTL && Number(expiry) <= j.after + TTL &&
        relay.credential === expect,
    `page ${names[i]}: room.join iceServers carry "<expiry>:<session>" and base64(HMAC-SHA1(secret, username))`,
    { iceServers: servers, session: j.session, expectedCredential: expect });
  }

  for (const page of pages) await page.evaluate(() => rt.publish());
  const published = Date.now();

  // What the users see: the other participant's video, through the relay.
  const others = joins.map((_, i) => joins[1 - i].res.participant);
  let samples = [];
  await waitFor(async () => {
    samples = await Promise.all(pages.map((p) => inbound(p)));
    return samples.every((s, i) => sumOf(s, others[i], 'video', 'framesDecoded') > 50 &&
      sumOf(s, others[i], 'audio', 'packetsReceived') > 0);
  }, { timeoutMs: 20000, intervalMs: 500 });
  const secs = ((Date.now() - published) / 1000).toFixed(1);
  for (const [i, s] of samples.entries()) {
    const frames = sumOf(s, others[i], 'video', 'framesDecoded');
    const audio = sumOf(s, others[i], 'audio', 'packetsReceived');
    tap.check(frames > 50 && audio > 0,
      `page ${names[i]} decodes > 50 video frames from ${names[1 - i]} (and gets its audio) through TURN`,
      `after ${secs} s: framesDecoded ${frames}, audio packets ${audio}; errors ${JSON.stringify(await pageErrors(pages[i]))}`);
  }

  for (const [i, page] of pages.entries()) {
    const pcs = await selectedPairs(page);
    for (const name of ['publisher', 'subscriber']) {
      const p = pcs[name];
      tap.check(p && p.local?.type === 'relay' && p.remote?.address === '127.0.0.1' &&
          p.localTypes.length === 1 && p.localTypes[0] === 'relay',
      `page ${names[i]} ${name}: the selected candidate pair is relay -> server 127.0.0.1, no other local candidates`, p);
    }
  }

  const turnLog = readFileSync(turn.logPath, 'utf8');
  const seen = joins.filter((j) => turnLog.includes(j.res.iceServers?.find((s) => s.username)?.username ?? '\0'));
  tap.check(seen.length === 2, 'coturn authenticated both pages\' usernames',
    `${seen.length} of 2 usernames in ${turn.logPath}; ` +
      `${(turnLog.match(/ALLOCATE processed, success/g) ?? []).length} successful allocations logged`);
} catch (err) {
  tap.check(false, 'test ran without exception', err.stack || String(err));
} finally {
  await finishTest(tap, { browser, server, demos, t0 });
  await stopCoturn(turn).catch(() => {});
  if (existsSync(turnDir)) rmSync(turnDir, { recursive: true, force: true });
}
process.exit(tap.summary());
