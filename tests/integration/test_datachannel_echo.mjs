// Data channels through the echo test with headless Chromium: a PeerConnection
// with data channels only (no media) offers to echo.start; the server's SCTP
// association echoes every message on the channel it came on. Checks an ordered
// reliable channel (1000 messages, text and binary, one of 200 KiB: none lost,
// doubled or reordered), an unordered one (all arrive), partially reliable ones (maxRetransmits, maxPacketLifeTime),
// a channel the page closes (the server closes its side: 'close' fires), and
// the server's data statistics in echo.stats.
// Run: tests/integration/run.sh datachannel_echo

import { createTap, launchChromium, openPage, startServer, stopServer, watchdog } from './lib/sb.mjs';

const tap = createTap();
watchdog(88000);

let server = null;
let browser = null;
let exitCode = 1;
try {
  server = await startServer();
  browser = await launchChromium();
  const page = await openPage(browser, `${server.url}/echotest.html`);

  const result = await page.evaluate(async () => {
    const { connect, defaultUrl, linkPeerConnection } = await import('/js/switchboard.js');
    const sb = await connect(defaultUrl());
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    const link = linkPeerConnection(sb, pc, 'echo');
    const ordered = pc.createDataChannel('ordered');
    const unordered = pc.createDataChannel('unordered', { ordered: false });
    const partial = pc.createDataChannel('partial', { ordered: false, maxRetransmits: 2 });
    const timed = pc.createDataChannel('timed', { maxPacketLifeTime: 500 });
    const closing = pc.createDataChannel('closing');
    for (const ch of [ordered, unordered, partial, timed, closing]) ch.binaryType = 'arraybuffer';
    await pc.setLocalDescription(await pc.createOffer());
    const answer = sb.call('echo.start', { sdp: pc.localDescription.sdp });
    link.release();
    const a = await answer;
    await pc.setRemoteDescription({ type: 'answer', sdp: a.sdp });
    const opened = (ch) => new Promise((res, rej) => {
      if (ch.readyState === 'open') res();
      ch.onopen = () => res();
      setTimeout(() => rej(new Error(`${ch.label} did not open`)), 10000);
    });
    await Promise.all([ordered, unordered, partial, timed, closing].map(opened));

    const size = (i) => (i === 500 ? 200 * 1024 : (i % 97) + 1);
    const make = (i) => {
      if (i % 2 === 0) return `m${i}:`.padEnd(size(i), 'x');
      const b = new Uint8Array(size(i));
      for (let k = 0; k < b.length; k++) b[k] = (i + k) & 0xff;
      return b.buffer;
    };
    const same = (i, got) => {
      const want = make(i);
      if (typeof want === 'string') return got === want;
      if (!(got instanceof ArrayBuffer) || got.byteLength !== want.byteLength) return false;
      const x = new Uint8Array(want), y = new Uint8Array(got);
      for (let k = 0; k < x.length; k++) if (x[k] !== y[k]) return false;
      return true;
    };
    const collect = (ch, n, ms) => new Promise((res) => {
      const got = [];
      ch.onmessage = (e) => { got.push(e.data); if (got.length === n) res(got); };
      setTimeout(() => res(got), ms);
    });
    // Sends respecting bufferedAmount so Chromium never closes the channel.
    const sendAll = async (ch, n) => {
      for (let i = 0; i < n; i++) {
        while (ch.bufferedAmount > 1 << 20) await new Promise((r) => setTimeout(r, 5));
        ch.send(make(i));
      }
    };
    const out = {};
    let p = collect(ordered, 1000, 30000);
    await sendAll(ordered, 1000);
    let got = await p;
    let firstBad = -1;
    for (let i = 0; i < got.length && firstBad < 0; i++) if (!same(i, got[i])) firstBad = i;
    out.ordered = { received: got.length, firstBad };

    p = collect(unordered, 300, 20000);
    await sendAll(unordered, 300);
    got = await p;
    const seen = new Set();
    for (const m of got) {
      for (let i = 0; i < 300; i++) if (!seen.has(i) && same(i, m)) { seen.add(i); break; }
    }
    out.unordered = { received: got.length, matched: seen.size };

    p = collect(partial, 50, 10000);
    await sendAll(partial, 50);
    out.partial = { received: (await p).length };

    p = collect(timed, 50, 10000);
    await sendAll(timed, 50);
    got = await p;
    out.timed = { received: got.length, inOrder: got.every((m, i) => same(i, m)) };

    const closed = new Promise((res) => {
      closing.onclose = () => res(true);
      setTimeout(() => res(false), 10000);
    });
    closing.close();
    out.closeSeen = await closed;
    out.stillOpen = ordered.readyState;
    out.stats = await sb.call('echo.stats');
    await sb.call('bye');
    link.detach();
    pc.close();
    sb.close();
    return out;
  });

  tap.check(result.ordered.received === 1000 && result.ordered.firstBad === -1,
    'ordered channel: 1000 echoed messages (text, binary, one of 200 KiB) in order, intact',
    JSON.stringify(result.ordered));
  tap.check(result.unordered.received === 300 && result.unordered.matched === 300,
    'unordered channel: all 300 messages echoed', JSON.stringify(result.unordered));
  tap.check(result.partial.received === 50,
    'partially reliable channel (maxRetransmits 2) echoes on a clean path', JSON.stringify(result.partial));
  tap.check(result.timed.received === 50 && result.timed.inOrder,
    'partially reliable ordered channel (maxPacketLifeTime 500 ms) echoes in order on a clean path', JSON.stringify(result.timed));
  tap.check(result.closeSeen === true && result.stillOpen === 'open',
    'closing one channel fires its close event; the others stay open',
    `${result.closeSeen} ${result.stillOpen}`);
  const data = result.stats?.data ?? result.stats?.peer?.data;
  tap.check(data && data.messages_in >= 1400 && data.messages_out >= 1400 && data.malformed_packets === 0,
    'echo.stats reports the data channel counters', JSON.stringify(data ?? result.stats));
  exitCode = 0;
} catch (err) {
  tap.check(false, 'test ran without an exception', err?.stack ?? String(err));
} finally {
  if (browser) await browser.close().catch(() => {});
  if (server) await stopServer(server);
}
process.exit(tap.summary() || exitCode);
