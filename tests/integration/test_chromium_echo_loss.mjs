// Echo test under 5% packet loss on the way to the server (an nftables rule in this
// test's own network namespace drops 5% of UDP arriving at the server's media
// ports, silently, as a lossy uplink would). The server must NACK what it missed,
// Chromium retransmits it (RTX), and the echoed video keeps decoding; Opus is not
// retransmitted, so the server's stats for the audio stream must show loss close
// to 5%.
// Run: tests/integration/run.sh echo_loss

import { execFileSync } from 'node:child_process';
import { createTap, launchChromium, openPage, sleep, startServer, stopServer, waitFor } from './lib/sb.mjs';

const LOSS_PERCENT = 5;
const PORTS = [20000, 20999];
const CALL_MS = 15000;

const tap = createTap();
const watchdog = setTimeout(() => {
  console.log('not ok - test finished within 80 s');
  process.exit(1);
}, 78000);
watchdog.unref();

function nft(...args) {
  execFileSync('nft', args, { stdio: 'inherit' });
}

function browserVideo(page) {
  return page.evaluate(async () => {
    const pc = window.__pcs && window.__pcs[window.__pcs.length - 1];
    if (!pc) return null;
    for (const s of (await pc.getStats()).values())
      if (s.type === 'inbound-rtp' && s.kind === 'video')
        return { framesDecoded: s.framesDecoded, packetsLost: s.packetsLost, packetsReceived: s.packetsReceived };
    return null;
  });
}

const serverStats = (page) => page.evaluate(() => window.echotest.client.call('echo.stats', {}));

let server = null;
let browser = null;
let exitCode = 1;
try {
  server = await startServer({
    overrides: [`media.port_min=${PORTS[0]}`, `media.port_max=${PORTS[1]}`],
  });
  nft('add', 'table', 'inet', 'loss');
  nft('add', 'chain', 'inet', 'loss', 'inp', '{ type filter hook input priority 0; }');
  nft('add', 'rule', 'inet', 'loss', 'inp', 'udp', 'dport', `${PORTS[0]}-${PORTS[1]}`,
      'numgen', 'random', 'mod', '100', '<', String(LOSS_PERCENT), 'drop');
  tap.diag(`dropping ${LOSS_PERCENT}% of UDP to ports ${PORTS[0]}-${PORTS[1]}`);

  browser = await launchChromium();
  const page = await openPage(browser, `${server.url}/echotest.html?autostart=1`);
  const connected = await waitFor(
    () => page.evaluate(() => window.__pcs && window.__pcs.length > 0 && window.__pcs[0].connectionState === 'connected'),
    { timeoutMs: 20000, intervalMs: 200 });
  tap.check(connected, 'the call connects despite the loss');

  const first = await waitFor(async () => {
    const v = await browserVideo(page);
    return v && v.framesDecoded > 0 ? v : null;
  }, { timeoutMs: 15000, intervalMs: 200 });
  await sleep(CALL_MS);
  const last = await browserVideo(page);
  const decoded = last && first ? last.framesDecoded - first.framesDecoded : 0;
  tap.check(decoded > CALL_MS / 1000 * 8, `echoed video keeps decoding for ${CALL_MS / 1000} s under ${LOSS_PERCENT}% loss`,
            `${decoded} frames; browser-side lost ${last && last.packetsLost}`);

  const st = await serverStats(page);
  const vin = st.inbound.find((s) => s.kind === 'video');
  const ain = st.inbound.find((s) => s.kind === 'audio');
  tap.diag(`server inbound video: ${JSON.stringify(vin)}`);
  tap.diag(`server inbound audio: ${JSON.stringify(ain)}`);
  tap.check(vin && vin.nacks_sent > 0, 'the server NACKs video packets lost on the way in', `nacks_sent ${vin && vin.nacks_sent}`);
  tap.check(vin && vin.retransmissions > 0, 'and gets them back (RTX)', `retransmissions ${vin && vin.retransmissions}`);
  const vLoss = vin ? vin.packets_lost / vin.expected : 1;
  tap.check(vLoss < 0.02, 'video loss left after retransmission is under 2%', `${(100 * vLoss).toFixed(2)}%`);
  const aLoss = ain ? ain.packets_lost / ain.expected : 0;
  tap.check(aLoss > 0.02 && aLoss < 0.09, `audio (no retransmission) shows loss close to ${LOSS_PERCENT}%`,
            `${(100 * aLoss).toFixed(2)}% of ${ain && ain.expected}`);
  const vout = st.outbound.find((s) => s.kind === 'video');
  tap.check(vout && vout.packets > 0 && st.state === 'connected', 'the echo stream is still being sent',
            JSON.stringify(vout));
  exitCode = 0;
} catch (err) {
  tap.check(false, 'test ran without an exception', err && err.stack ? err.stack : String(err));
} finally {
  if (browser) await browser.close().catch(() => {});
  if (server) {
    const r = await stopServer(server);
    tap.check(r.code === 0 && !r.killed, 'server exits cleanly on SIGTERM', JSON.stringify(r));
  }
}
process.exit(tap.summary() || exitCode);
