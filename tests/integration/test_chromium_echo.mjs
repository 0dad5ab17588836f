// Acceptance test of the echo test with a real browser: headless Chromium (fake
// camera and microphone) opens demos/echotest.html?autostart=1 served by the
// server, and within 10 s of echo.start decodes > 100 echoed video frames and
// receives echoed audio. Also checks the page's stats panel, the server's
// echo.stats, and that Stop ends the call on the server (peers back to 0).
// Run: tests/integration/run.sh chromium   (logs and echotest.png in test-results/)

import { join } from 'node:path';
import {
  RESULTS, createTap, launchChromium, openPage, sleep, startServer, stopServer, waitFor,
} from './lib/sb.mjs';

const CALL_WINDOW_MS = 10000; // frames must be decoded within this long after echo.start
const MIN_FRAMES = 100;

const tap = createTap();
const t0 = Date.now();
const watchdog = setTimeout(() => {
  console.log('not ok - test finished within 60 s');
  process.exit(1);
}, 58000);
watchdog.unref();

// What the browser received, read from the page's RTCPeerConnection (window.__pcs
// from the init script) and the time since the page sent echo.start.
function sampleBrowser(page) {
  return page.evaluate(async () => {
    const pc = window.__pcs && window.__pcs[window.__pcs.length - 1];
    const out = {
      elapsed: window.echotest && window.echotest.startedAt != null
        ? performance.now() - window.echotest.startedAt : null,
      pcs: window.__pcs ? window.__pcs.length : 0,
      state: pc ? pc.connectionState : null,
      video: null,
      audio: null,
    };
    if (!pc || pc.signalingState === 'closed') return out;
    for (const s of (await pc.getStats()).values()) {
      if (s.type !== 'inbound-rtp') continue;
      const kind = s.kind || s.mediaType;
      out[kind] = {
        packetsReceived: s.packetsReceived, packetsLost: s.packetsLost, jitter: s.jitter,
        framesDecoded: s.framesDecoded, framesPerSecond: s.framesPerSecond,
        frameWidth: s.frameWidth, frameHeight: s.frameHeight, bytesReceived: s.bytesReceived,
      };
    }
    return out;
  });
}

const pageErrors = (page) => page.evaluate(() => document.getElementById('errors').textContent.trim());

let server = null;
let browser = null;
let exitCode = 1;
try {
  server = await startServer();
  tap.check(true, 'server starts and serves HTTP', `${server.url} (pid ${server.pid})`);

  browser = await launchChromium();
  const page = await openPage(browser, `${server.url}/echotest.html?autostart=1`);

  // The call starts when the page sends echo.start (after getUserMedia and the offer).
  const started = await waitFor(
    () => page.evaluate(() => window.echotest && window.echotest.startedAt != null),
    { timeoutMs: 15000, intervalMs: 100 },
  );
  tap.check(started, 'autostart sends echo.start', started ? undefined : `page errors: ${await pageErrors(page)}`);
  if (!started) throw new Error('the call never started');

  // Sample until the window closes; remember when both conditions first held.
  let first = null; // first sample with > MIN_FRAMES frames and audio packets
  let last = null; // last sample inside the window
  for (;;) {
    const s = await sampleBrowser(page);
    if (s.elapsed > CALL_WINDOW_MS) break;
    last = s;
    if (!first && (s.video?.framesDecoded ?? 0) > MIN_FRAMES && (s.audio?.packetsReceived ?? 0) > 0) first = s;
    await sleep(200);
  }
  const at10 = last ?? {};
  tap.diag(`at ${(at10.elapsed / 1000).toFixed(1)} s after echo.start: pc ${at10.state}, ` +
    `video ${JSON.stringify(at10.video)}, audio ${JSON.stringify(at10.audio)}`);
  tap.check(
    (at10.video?.framesDecoded ?? 0) > MIN_FRAMES,
    `more than ${MIN_FRAMES} echoed video frames decoded within ${CALL_WINDOW_MS / 1000} s`,
    `framesDecoded ${at10.video?.framesDecoded ?? 0}` +
      (first ? `; passed ${MIN_FRAMES} frames at ${(first.elapsed / 1000).toFixed(2)} s` : ''),
  );
  tap.check(
    (at10.audio?.packetsReceived ?? 0) > 0,
    `echoed audio packets received within ${CALL_WINDOW_MS / 1000} s`,
    `audio packetsReceived ${at10.audio?.packetsReceived ?? 0}, lost ${at10.audio?.packetsLost ?? '?'}`,
  );

  // The stats panel shows numbers (it refreshes every second).
  const panelKeys = [
    'in.video.bitrate', 'in.video.packets', 'in.video.lost', 'in.video.jitter', 'in.video.frames',
    'in.video.fps', 'in.audio.bitrate', 'in.audio.packets', 'out.video.bitrate', 'out.audio.bitrate',
    'rtt', 'srv.in.video.packets', 'srv.in.audio.packets', 'srv.out.video.packets',
    'srv.in.video.jitter', 'srv.in.video.lost',
  ];
  const readPanel = () => page.evaluate((keys) => {
    const o = {};
    for (const k of keys) o[k] = document.querySelector(`[data-stat="${k}"]`)?.textContent.trim() ?? null;
    o['in.video.size'] = document.querySelector('[data-stat="in.video.size"]')?.textContent.trim() ?? null;
    return o;
  }, panelKeys);
  const panelOk = (p) => panelKeys.every((k) => /^-?\d+(\.\d+)?$/.test(p[k] ?? '')) &&
    /^\d+×\d+$/.test(p['in.video.size'] ?? '');
  let panel = await waitFor(async () => { const p = await readPanel(); return panelOk(p) ? p : null; },
    { timeoutMs: 3000, intervalMs: 250 });
  if (!panel) panel = await readPanel();
  tap.check(panelOk(panel), 'stats panel shows numbers (browser and server view)', panel);

  // The server's own view, asked through the page's session.
  const stats = await page.evaluate(() => window.echotest.client.call('echo.stats'))
    .catch((err) => ({ error: err.message ?? String(err) }));
  const inVideo = (stats.inbound ?? []).find((s) => s.kind === 'video');
  const outVideo = (stats.outbound ?? []).find((s) => s.kind === 'video');
  const inAudio = (stats.inbound ?? []).find((s) => s.kind === 'audio');
  tap.check((inVideo?.packets ?? 0) > 0, 'echo.stats reports inbound video packets',
    stats.error ? stats.error
      : `state ${stats.state}, ${stats.selected_pair}, ${stats.srtp_profile}, rtt ${stats.rtt_ms} ms; ` +
        `in video ${inVideo?.packets} pkts lost ${inVideo?.packets_lost} jitter ${inVideo?.jitter_ms} ms ` +
        `frames ${inVideo?.frames}; in audio ${inAudio?.packets} pkts; out video ${outVideo?.packets} pkts ` +
        `nacks ${outVideo?.nacks_received} rtx ${outVideo?.retransmissions}; dropped ${JSON.stringify(stats.dropped)}`);

  // The bitrate select reconfigures the running call (echo.configure).
  await page.selectOption('#bitrate', '512000');
  const settings = await waitFor(async () => {
    const t = await page.textContent('#settings');
    return /512 kbit\/s/.test(t) ? t : null;
  }, { timeoutMs: 3000 });
  tap.check(settings, 'bitrate select applies echo.configure', settings ?? await page.textContent('#settings'));

  // The client library rejects with the server's {code, message}.
  const rpcError = await page.evaluate(() => window.echotest.client.call('no.such.method')
    .then(() => null, (e) => ({ code: e.code, message: e.message })));
  tap.check(rpcError?.code === -32601 && rpcError.message, 'call() rejects with the JSON-RPC {code, message}', rpcError);

  const errs = await pageErrors(page);
  tap.check(errs === '', 'the page shows no error', errs || undefined);

  await page.screenshot({ path: join(RESULTS, 'echotest.png'), fullPage: true });

  // Stop: bye + pc.close(); the server must drop the PeerConnection.
  await page.click('#stop');
  let status = null;
  const stopped = await waitFor(async () => {
    status = await page.evaluate(() => window.echotest.client.call('server.status'));
    return status.peers === 0;
  }, { timeoutMs: 5000, intervalMs: 200 });
  tap.check(stopped, 'Stop ends the call: server.status peers returns to 0', status ?? waitFor.lastError?.message);
  const idle = await page.evaluate(() => window.echotest.pc === null && !document.getElementById('start').disabled);
  tap.check(idle, 'after Stop the page is idle and can start again');

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
