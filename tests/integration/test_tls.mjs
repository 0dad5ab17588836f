// Acceptance test of TLS on the signaling listeners ([http] tls_cert / tls_key,
// plain = off | redirect, [admin] tls_cert / tls_key; docs/API.md "TLS").
//
// Asserts:
//  - `tools/dev cert DIR` makes a self-signed EC P-256 pair for localhost with
//    the SANs localhost and 127.0.0.1;
//  - with that pair (and plain = redirect, plain_port 8080): an HTTPS client that
//    trusts the certificate gets / (200); TLS 1.2 and 1.3 handshakes succeed and a
//    TLS 1.1 one is refused by the server (protocol_version alert), while the same
//    TLS 1.1 client does reach a Node TLS server that allows 1.1 (so the refusal is
//    the server's); ALPN picks http/1.1 over h2; plain HTTP on the TLS port gets
//    no HTTP answer;
//  - the plain port answers 308 with Location https://127.0.0.1:<port><same path
//    and query> for GET and POST, and a WebSocket upgrade there gets no 101;
//  - the admin API over https (its own pair) answers /admin/v1/info with the token;
//  - headless Chromium (--ignore-certificate-errors) opens
//    https://127.0.0.1:<port>/echotest.html?autostart=1, the page's WebSocket is
//    wss://, and it decodes > 50 echoed video frames within 10 s of echo.start;
//  - with plain = off nothing listens on the plain port; a missing certificate
//    file stops the server at start-up with exit status 1 and a message naming it;
//  - the server exits 0 on SIGTERM.
// Run: tests/integration/run.sh test_tls

import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import {
  ROOT, createTap, finishTest, launchChromium, openPage, sleep, startServer, stopServer, waitFor, watchdog,
} from './lib/sb.mjs';

const PORT = 8443;
const PLAIN_PORT = 8080;
const ADMIN_PORT = 7443;
const ADMIN_TOKEN = 'tls-test-token';

const tap = createTap();
const t0 = Date.now();
watchdog(100000);

// One TLS handshake limited to `version`; resolves {ok, protocol, code, message}.
function handshake(port, version, extra = {}) {
  return new Promise((resolve) => {
    const sock = tls.connect({
      host: '127.0.0.1', port, minVersion: version, maxVersion: version, rejectUnauthorized: false,
      // OpenSSL 3 refuses to offer TLS 1.0/1.1 above security level 0.
      ciphers: version === 'TLSv1.1' ? 'DEFAULT:@SECLEVEL=0' : undefined,
      ...extra,
    });
    sock.setTimeout(3000, () => sock.destroy(new Error('timeout')));
    sock.once('secureConnect', () => {
      const protocol = sock.getProtocol();
      const alpn = sock.alpnProtocol;
      sock.end();
      resolve({ ok: true, protocol, alpn });
    });
    sock.once('error', (err) => resolve({ ok: false, code: err.code, message: err.message }));
  });
}

// One HTTP(S) request; resolves {status, headers, body, upgraded} or {error}.
function request(url, { method = 'GET', headers = {}, body = null, ca = null } = {}) {
  return new Promise((resolve) => {
    const fn = url.startsWith('https:') ? httpsRequest : httpRequest;
    const opts = { method, headers, timeout: 3000 };
    if (ca) opts.ca = ca;
    const req = fn(url, opts, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { data += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: data }));
    });
    req.on('upgrade', (res, socket) => { socket.destroy(); resolve({ status: res.statusCode, upgraded: true }); });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ error: `${err.code ?? ''} ${err.message}` }));
    if (body) req.write(body);
    req.end();
  });
}

// The echo page's inbound video and the time since echo.start.
const sampleEcho = (page) => page.evaluate(async () => {
  const pc = window.__pcs && window.__pcs[window.__pcs.length - 1];
  const out = {
    elapsed: window.echotest && window.echotest.startedAt != null ? performance.now() - window.echotest.startedAt : null,
    state: pc ? pc.connectionState : null,
    frames: 0,
  };
  if (!pc || pc.signalingState === 'closed') return out;
  for (const s of (await pc.getStats()).values()) {
    if (s.type === 'inbound-rtp' && (s.kind || s.mediaType) === 'video') out.frames = s.framesDecoded ?? 0;
  }
  return out;
});

const certDir = mkdtempSync(join(tmpdir(), 'sb-tls-'));
const cert = join(certDir, 'cert.pem');
const key = join(certDir, 'key.pem');
const adminDir = join(certDir, 'admin');
let server = null;
let browser = null;
let control = null;
try {
  // tools/dev cert: the pair the test (and tools/dev run --tls) uses.
  execFileSync(join(ROOT, 'tools/dev'), ['cert', certDir], { stdio: 'pipe' });
  execFileSync(join(ROOT, 'tools/dev'), ['cert', adminDir], { stdio: 'pipe' });
  const certPem = readFileSync(cert, 'utf8');
  const x509 = new X509Certificate(certPem);
  tap.check(existsSync(key) && /CN=localhost/.test(x509.subject) && /DNS:localhost/.test(x509.subjectAltName) &&
      /IP Address:127\.0\.0\.1/.test(x509.subjectAltName) &&
      x509.publicKey.asymmetricKeyDetails?.namedCurve === 'prime256v1',
  'tools/dev cert makes an EC P-256 pair for localhost / 127.0.0.1',
  `${x509.subject.replace(/\n/g, ' ')}; SAN ${x509.subjectAltName}; ${x509.publicKey.asymmetricKeyType} ` +
    `${x509.publicKey.asymmetricKeyDetails?.namedCurve}`);

  server = await startServer({
    port: PORT,
    tls: true,
    overrides: [
      `http.tls_cert=${cert}`, `http.tls_key=${key}`, 'http.plain=redirect', `http.plain_port=${PLAIN_PORT}`,
      `admin.port=${ADMIN_PORT}`, `admin.token=${ADMIN_TOKEN}`,
      `admin.tls_cert=${join(adminDir, 'cert.pem')}`, `admin.tls_key=${join(adminDir, 'key.pem')}`,
    ],
  });
  const log = server.readLog();
  tap.check(/signaling: https:\/\//.test(log) && /redirects to https on port 8443/.test(log),
    'the server reports https:// and the redirecting plain listener',
    log.split('\n').filter((l) => /signaling:|admin API/.test(l)).join('\n'));

  // An HTTPS client that trusts the test certificate (verification on).
  const home = await request(`${server.url}/`, { ca: certPem });
  tap.check(home.status === 200 && /<html/i.test(home.body ?? ''), 'GET https://127.0.0.1:8443/ with the certificate trusted: 200',
    home.error ?? `status ${home.status}`);

  // Protocol versions.
  const v = {};
  for (const version of ['TLSv1.1', 'TLSv1.2', 'TLSv1.3']) v[version] = await handshake(PORT, version);
  tap.check(v['TLSv1.2'].ok && v['TLSv1.2'].protocol === 'TLSv1.2', 'a TLS 1.2 handshake succeeds', v['TLSv1.2']);
  tap.check(v['TLSv1.3'].ok && v['TLSv1.3'].protocol === 'TLSv1.3', 'a TLS 1.3 handshake succeeds', v['TLSv1.3']);
  // HTTP/1.1 only: the server's HTTP exchanges are not made for HTTP/2.
  const alpn = await handshake(PORT, 'TLSv1.3', { ALPNProtocols: ['h2', 'http/1.1'] });
  tap.check(alpn.ok && alpn.alpn === 'http/1.1', 'a client offering h2 and http/1.1 gets http/1.1 (ALPN)', alpn);
  // The same TLS 1.1 client against a server that allows 1.1: the refusal above is the server's.
  control = tls.createServer({
    cert: certPem, key: readFileSync(key), minVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0',
  }, (s) => s.end());
  await new Promise((r) => control.listen(0, '127.0.0.1', r));
  const ctl = await handshake(control.address().port, 'TLSv1.1');
  tap.check(!v['TLSv1.1'].ok && /protocol.version|unsupported.protocol|PROTOCOL_VERSION/i.test(
    `${v['TLSv1.1'].code} ${v['TLSv1.1'].message}`),
  'a TLS 1.1 handshake is refused (protocol version)', v['TLSv1.1']);
  tap.check(ctl.ok && ctl.protocol === 'TLSv1.1', 'control: the TLS 1.1 client reaches a server that allows 1.1', ctl);

  const plainOnTls = await request(`http://127.0.0.1:${PORT}/`);
  tap.check(plainOnTls.status === undefined, 'plain HTTP on the TLS port gets no HTTP answer', plainOnTls);

  // The plain listener redirects (308 keeps the method).
  const get = await request(`http://127.0.0.1:${PLAIN_PORT}/echotest.html?autostart=1`);
  tap.check(get.status === 308 && get.headers?.location === `https://127.0.0.1:${PORT}/echotest.html?autostart=1`,
    'plain GET: 308 to the same path and query on https', get.error ?? `${get.status} ${get.headers?.location}`);
  const post = await request(`http://localhost:${PLAIN_PORT}/whip/room1`, {
    method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: 'v=0\r\n',
  });
  tap.check(post.status === 308 && post.headers?.location === `https://localhost:${PORT}/whip/room1`,
    'plain POST: 308 to https (Host kept)', post.error ?? `${post.status} ${post.headers?.location}`);
  const upgrade = await request(`http://127.0.0.1:${PLAIN_PORT}/ws`, {
    headers: {
      Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Protocol': 'switchboard',
    },
  });
  tap.check(!upgrade.upgraded && upgrade.status !== 101, 'no WebSocket over plain HTTP', upgrade);

  // The admin API over https with its own pair.
  const info = await request(`https://127.0.0.1:${ADMIN_PORT}/admin/v1/info`, {
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}` }, ca: readFileSync(join(adminDir, 'cert.pem')),
  });
  tap.check(info.status === 200 && /"version"/.test(info.body ?? ''), 'admin API over https: GET /admin/v1/info 200',
    info.error ?? `${info.status} ${(info.body ?? '').slice(0, 200)}`);

  // Chromium: the echo test over https:// and wss://.
  browser = await launchChromium({ args: ['--ignore-certificate-errors'] });
  const page = await openPage(browser, `${server.url}/echotest.html?autostart=1`);
  const secure = await page.evaluate(() => ({ protocol: location.protocol, secure: window.isSecureContext }));
  tap.check(secure.protocol === 'https:' && secure.secure, 'the echo page is an https:// secure context', secure);
  const started = await waitFor(() => page.evaluate(() => window.echotest && window.echotest.startedAt != null),
    { timeoutMs: 15000 });
  let s = { frames: 0 };
  if (started) {
    for (;;) {
      const x = await sampleEcho(page);
      if (x.elapsed > 10000) break;
      s = x;
      if (s.frames > 50) break;
      await sleep(250);
    }
  }
  const wsLines = readFileSync(page.logPath, 'utf8').split('\n').filter((l) => l.includes('[websocket] open'));
  tap.check(wsLines.length > 0 && wsLines.every((l) => l.includes(`wss://127.0.0.1:${PORT}/ws`)),
    'the page\'s WebSocket is wss://', wsLines.join('\n') || 'no WebSocket opened');
  tap.check(s.frames > 50, 'over https/wss: > 50 echoed video frames decoded within 10 s of echo.start',
    `${started ? '' : 'echo.start never sent; '}pc ${s.state}, framesDecoded ${s.frames} at ` +
      `${((s.elapsed ?? 0) / 1000).toFixed(1)} s`);
  await Promise.race([browser.close(), sleep(5000)]);
  browser = null;
  const exit = await stopServer(server);
  tap.check(exit && !exit.killed && exit.code === 0, 'server exits cleanly on SIGTERM', exit);
  server = null;

  // plain = off: nothing on the plain port.
  server = await startServer({
    port: PORT, tls: true, name: 'test_tls-plain-off',
    overrides: [`http.tls_cert=${cert}`, `http.tls_key=${key}`, 'http.plain=off', `http.plain_port=${PLAIN_PORT}`],
  });
  const off = await request(`http://127.0.0.1:${PLAIN_PORT}/`);
  const onTls = await request(`${server.url}/`, { ca: certPem });
  tap.check(/ECONNREFUSED/.test(off.error ?? '') && onTls.status === 200,
    'plain = off: nothing listens on the plain port, https still answers',
    `plain: ${off.error ?? off.status}; https: ${onTls.error ?? onTls.status}`);
  const exit2 = await stopServer(server);
  server = null;
  tap.check(exit2 && exit2.code === 0, 'server (plain = off) exits cleanly on SIGTERM', exit2);

  // A missing certificate stops the server at start-up.
  const missing = join(certDir, 'no-such-cert.pem');
  let failure = null;
  try {
    const bad = await startServer({
      port: PORT, tls: true, name: 'test_tls-missing-cert', readyTimeoutMs: 5000,
      overrides: [`http.tls_cert=${missing}`, `http.tls_key=${key}`],
    });
    await stopServer(bad);
  } catch (err) {
    failure = err.message;
  }
  tap.check(failure && /"code":1\b/.test(failure) && failure.includes(`cannot read certificate ${missing}`),
    'a missing certificate file: exit 1 with a message naming it', failure ?? 'the server started');
} catch (err) {
  tap.check(false, 'test ran without exception', err.stack || String(err));
} finally {
  if (control) control.close();
  await finishTest(tap, { browser, server, t0 });
  rmSync(certDir, { recursive: true, force: true });
}
process.exit(tap.summary());
