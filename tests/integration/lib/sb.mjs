// Helpers for Switchboard's Node integration tests (tests/integration/test_*.mjs):
// start and stop the server, launch Debian's Chromium with fake media devices,
// and report TAP lines that tests/integration/run.sh counts.
//
//   import { startServer, stopServer, launchChromium, openPage, createTap } from './lib/sb.mjs';
//   const tap = createTap();
//   const server = await startServer({ overrides: ['echotest.bitrate=1000000'] });
//   const browser = await launchChromium();
//   const page = await openPage(browser, `${server.url}/echotest.html?autostart=1`);
//   tap.check(ok, 'what was checked', 'detail shown on failure');
//   ... finally: await browser.close(); await stopServer(server);
//   process.exit(tap.summary());
//
// Pages of the tests themselves (tests/integration/pages/) are served from a
// temporary copy of demos/: `const demos = makeDemosDir();` then
// startServer({ overrides: [demos.override] }) and demos.remove() when done.
//
// Files go to test-results/ at the repository root: <test>-server.log (the server's
// output) and <test>-browser.log (the pages' console).

import { spawn } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import {
  appendFileSync, closeSync, cpSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

/** Repository root (the server runs there: conf/ and demos/ are relative to it). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** Where logs and screenshots go. */
export const RESULTS = join(ROOT, 'test-results');

/** Name of the running test file without extension ("test_chromium_echo"). */
export function testName() {
  return basename(process.argv[1] ?? 'test', '.mjs').replace(/\.[^.]+$/, '');
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `fn` (sync or async) every `intervalMs` until it returns a truthy value,
 * which is returned; returns the last value after `timeoutMs`. Exceptions count
 * as falsy (the last one is kept in `waitFor.lastError`).
 */
export async function waitFor(fn, { timeoutMs = 5000, intervalMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let value;
  for (;;) {
    try {
      value = await fn();
      if (value) return value;
    } catch (err) {
      waitFor.lastError = err;
      value = undefined;
    }
    if (Date.now() >= deadline) return value;
    await sleep(intervalMs);
  }
}

function logLine(path, line) {
  appendFileSync(path, `${new Date().toISOString()} ${line}\n`);
}

// Generous [limits] for tests (every page and client connects from 127.0.0.1).
const LIMITS_FOR_TESTS = [
  'limits.connections_per_second=200', 'limits.connection_burst=400', 'limits.max_connections_per_ip=500',
  'limits.messages_per_second=1000', 'limits.message_burst=2000',
];

/**
 * Starts build/switchboard (or $SB_BUILD/switchboard) in the repository root:
 *   -c conf/switchboard.conf -o http.port=PORT -o media.addresses=127.0.0.1
 *   -o general.workers=2 -o auth.anonymous=true  + one -o per override
 * (anonymous sessions: tests join without tokens unless they override it)
 * `overrides` is a list of "section.key=value" strings or an object
 * {"section.key": value}; an http.port override changes the port used.
 * Output goes to test-results/<name>-server.log. Resolves when the HTTP port
 * answers; rejects (with the log's tail) if the server exits first or does not
 * answer within `readyTimeoutMs`.
 *
 * Returns { proc, pid, port, url, wsUrl, logPath, exited, exitInfo, readLog() }:
 * `exited` resolves with {code, signal} when the process ends.
 * `tls: true` when the overrides turn TLS on ([http] tls_cert/tls_key): url and
 * wsUrl are https:// and wss://, and readiness is probed without checking the
 * (self-signed) certificate.
 */
export async function startServer({
  overrides = [],
  name = testName(),
  port = 8088,
  extraArgs = [],
  readyTimeoutMs = 10000,
  tls = false,
} = {}) {
  const list = Array.isArray(overrides)
    ? [...overrides]
    : Object.entries(overrides).map(([k, v]) => `${k}=${v}`);
  for (const o of list) {
    const m = /^http\.port=(\d+)$/.exec(o);
    if (m) port = Number(m[1]);
  }
  const buildDir = process.env.SB_BUILD || join(ROOT, 'build');
  const binary = join(buildDir, 'switchboard');
  const args = [
    '-c', 'conf/switchboard.conf',
    '-o', `http.port=${port}`,
    '-o', 'media.addresses=127.0.0.1',
    '-o', 'general.workers=2',
    // Every test connects from 127.0.0.1: generous [limits] so that none trips the
    // production defaults by accident (the limits tests set their own; later -o win).
    ...LIMITS_FOR_TESTS.flatMap((o) => ['-o', o]),
    '-o', 'auth.anonymous=true',
    ...list.flatMap((o) => ['-o', o]),
    ...extraArgs,
  ];

  mkdirSync(RESULTS, { recursive: true });
  const logPath = join(RESULTS, `${name}-server.log`);
  writeFileSync(logPath, `# ${binary} ${args.join(' ')}\n`);
  const fd = openSync(logPath, 'a');
  const proc = spawn(binary, args, { cwd: ROOT, stdio: ['ignore', fd, fd] });
  closeSync(fd);

  const server = {
    proc,
    pid: proc.pid,
    port,
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    wsUrl: `${tls ? 'wss' : 'ws'}://127.0.0.1:${port}/ws`,
    logPath,
    exitInfo: null,
    readLog: () => readFileSync(logPath, 'utf8'),
  };
  server.exited = new Promise((resolveExit) => {
    proc.on('exit', (code, signal) => {
      server.exitInfo = { code, signal };
      resolveExit(server.exitInfo);
    });
    proc.on('error', (err) => {
      server.exitInfo = { code: null, signal: null, error: err.message };
      resolveExit(server.exitInfo);
    });
  });

  const tail = () => server.readLog().split('\n').slice(-20).join('\n');
  const started = Date.now();
  while (Date.now() - started < readyTimeoutMs) {
    if (server.exitInfo) {
      throw new Error(`switchboard exited before answering (${JSON.stringify(server.exitInfo)}); log ${logPath}:\n${tail()}`);
    }
    try {
      if (tls) {
        await probeHttps(`${server.url}/`);
      } else {
        const res = await fetch(`${server.url}/`, { signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
      }
      return server;
    } catch {
      await sleep(100);
    }
  }
  await stopServer(server);
  throw new Error(`switchboard did not answer on ${server.url} within ${readyTimeoutMs} ms; log ${logPath}:\n${tail()}`);
}

/** GET url over https without checking the certificate; resolves with the status. */
function probeHttps(url) {
  return new Promise((resolveProbe, rejectProbe) => {
    const req = httpsRequest(url, { rejectUnauthorized: false, timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolveProbe(res.statusCode));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', rejectProbe);
    req.end();
  });
}

/**
 * A temporary copy of demos/ with the test pages of tests/integration/pages/
 * added, for a server started with `http.demos_dir=<dir>` (the server serves
 * static files only from its demos directory). Returns { dir, override, remove() }:
 * `override` is the "http.demos_dir=…" string for startServer; call remove() in
 * a finally block.
 */
export function makeDemosDir() {
  const dir = mkdtempSync(join(tmpdir(), 'sb-demos-'));
  cpSync(join(ROOT, 'demos'), dir, { recursive: true });
  cpSync(join(ROOT, 'tests/integration/pages'), dir, { recursive: true });
  return { dir, override: `http.demos_dir=${dir}`, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Sends SIGTERM and waits up to `timeoutMs` for the server to exit; then SIGKILL
 * (reported on stderr and in the server log). Resolves with
 * { code, signal, killed, ms }: `killed` is true when SIGKILL was needed.
 */
export async function stopServer(server, { timeoutMs = 10000 } = {}) {
  if (!server) return null;
  if (server.exitInfo) return { ...server.exitInfo, killed: false, ms: 0 };
  const t0 = Date.now();
  server.proc.kill('SIGTERM');
  const timedOut = Symbol('timeout');
  let result = await Promise.race([server.exited, sleep(timeoutMs).then(() => timedOut)]);
  let killed = false;
  if (result === timedOut) {
    killed = true;
    const msg = `switchboard (pid ${server.pid}) still running ${timeoutMs} ms after SIGTERM: sending SIGKILL`;
    console.error(`# ${msg}`);
    logLine(server.logPath, `# test harness: ${msg}`);
    server.proc.kill('SIGKILL');
    result = await Promise.race([server.exited, sleep(5000).then(() => ({ code: null, signal: 'unkillable?' }))]);
  }
  return { ...result, killed, ms: Date.now() - t0 };
}

/**
 * Chromium flags that work here (shared TESTING.md §2): fake camera and
 * microphone without a permission prompt, and 127.0.0.1 host candidates
 * (a test namespace has nothing but lo).
 */
export const CHROMIUM_ARGS = [
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--no-sandbox',
  '--allow-loopback-in-peer-connection',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

/** Launches Debian's Chromium (never a downloaded one), headless by default. */
export function launchChromium({ args = [], headless = true } = {}) {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless,
    args: [...CHROMIUM_ARGS, ...args],
  });
}

/**
 * Init script for pages: records every RTCPeerConnection the page creates in
 * window.__pcs, so a test can call getStats() on it:
 *   await page.evaluate(async () => [...(await __pcs[0].getStats()).values()])
 */
export const RECORD_PEER_CONNECTIONS = `(() => {
  const Native = window.RTCPeerConnection;
  if (!Native || Native.__recorded) return;
  window.__pcs = [];
  class RecordedPeerConnection extends Native {
    constructor(...args) {
      super(...args);
      window.__pcs.push(this);
    }
  }
  RecordedPeerConnection.__recorded = true;
  window.RTCPeerConnection = RecordedPeerConnection;
  if (window.webkitRTCPeerConnection) window.webkitRTCPeerConnection = RecordedPeerConnection;
})();`;

const freshLogs = new Set();

/**
 * Opens `url` in a new context of `browser` with the RTCPeerConnection recorder
 * installed, and copies the page's console and errors to
 * test-results/<logName>-browser.log. Returns the page.
 */
export async function openPage(browser, url, { logName = testName(), viewport = { width: 1280, height: 900 } } = {}) {
  mkdirSync(RESULTS, { recursive: true });
  const logPath = join(RESULTS, `${logName}-browser.log`);
  if (!freshLogs.has(logPath)) { // a new log per test run, shared by its pages
    freshLogs.add(logPath);
    writeFileSync(logPath, '');
  }
  const context = await browser.newContext({ viewport });
  await context.addInitScript(RECORD_PEER_CONNECTIONS);
  const page = await context.newPage();
  page.on('console', (msg) => logLine(logPath, `[${msg.type()}] ${msg.text()}`));
  page.on('pageerror', (err) => logLine(logPath, `[pageerror] ${err.stack || err.message}`));
  page.on('response', (res) => {
    if (res.status() >= 400) logLine(logPath, `[http ${res.status()}] ${res.url()}`);
  });
  page.on('requestfailed', (req) => logLine(logPath, `[requestfailed] ${req.url()} ${req.failure()?.errorText ?? ''}`));
  page.on('websocket', (ws) => {
    logLine(logPath, `[websocket] open ${ws.url()}`);
    ws.on('framesent', (f) => logLine(logPath, `[ws >] ${truncate(f.payload)}`));
    ws.on('framereceived', (f) => logLine(logPath, `[ws <] ${truncate(f.payload)}`));
    ws.on('close', () => logLine(logPath, '[websocket] closed'));
  });
  page.logPath = logPath;
  await page.goto(url);
  return page;
}

function truncate(payload, max = 20000) {
  const s = typeof payload === 'string' ? payload : `<binary ${payload.length} bytes>`;
  return s.length > max ? `${s.slice(0, max)}… (${s.length} chars)` : s;
}

/**
 * A TAP reporter: check(cond, name, detail) prints "ok - name" or
 * "not ok - name" (detail, if any, as "# " lines below a failure, or always
 * when `verbose`); diag(text) prints a "# " line; summary() prints the plan
 * and counts and returns the exit code (0 when nothing failed and something
 * was checked).
 */
export function createTap({ verbose = true } = {}) {
  let passed = 0;
  let failed = 0;
  const diag = (text) => {
    for (const line of String(text).split('\n')) console.log(`# ${line}`);
  };
  return {
    check(cond, name, detail) {
      const ok = Boolean(cond);
      if (ok) passed++; else failed++;
      console.log(`${ok ? 'ok' : 'not ok'} - ${name}`);
      if (detail !== undefined && (verbose || !ok)) {
        diag(typeof detail === 'string' ? detail : JSON.stringify(detail));
      }
      return ok;
    },
    diag,
    get failed() { return failed; },
    get passed() { return passed; },
    summary() {
      console.log(`1..${passed + failed}`);
      diag(`${passed} passed, ${failed} failed`);
      return failed === 0 && passed > 0 ? 0 : 1;
    },
  };
}

/**
 * Ends the test with "not ok" and exit 1 if it has not finished within `ms`
 * (a hung browser or server must not hold the suite until run.sh's timeout).
 */
export function watchdog(ms) {
  const timer = setTimeout(() => {
    console.log(`not ok - test finished within ${Math.round(ms / 1000)} s`);
    process.exit(1);
  }, ms);
  timer.unref();
  return timer;
}

/**
 * The end of a browser test, for its finally block: closes the browser (at most
 * 5 s), stops the server with a check that it exits 0 on SIGTERM (its log's tail
 * when something failed), removes the demos copy and prints the time taken.
 */
export async function finishTest(tap, { browser, server, demos, t0, logLines = 40 }) {
  if (browser) await Promise.race([browser.close(), sleep(5000)]);
  if (server) {
    const exit = await stopServer(server);
    tap.check(exit && !exit.killed && exit.code === 0, 'server exits cleanly on SIGTERM', exit);
    if (tap.failed) tap.diag(`server log tail:\n${server.readLog().split('\n').slice(-logLines).join('\n')}`);
  }
  if (demos) demos.remove();
  if (t0) tap.diag(`took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
