// REMB: a publisher's browser ramps its video up to the room's bitrate cap and stays
// under it. Two rooms with different caps (300 kbit/s and 1.2 Mbit/s, set with
// room.join options); in each a Chromium page publishes and another subscribes. The
// server tells the publisher the cap with REMB; Chromium's video encoder target
// (outbound-rtp targetBitrate) must end near the cap (at least 60% of it within 20 s)
// and never above it by more than 10%. The two rooms must end clearly apart, so the
// cap, not the content, sets the rate.
// Run: tests/integration/run.sh room_bitrate

import { createTap, launchChromium, makeDemosDir, sleep, startServer, stopServer, waitFor } from './lib/sb.mjs';
import { openRoomPage, requireVideoroom } from './lib/room.mjs';

const CAPS = [300000, 1200000];
const tap = createTap();
const watchdog = setTimeout(() => {
  console.log('not ok - test finished within 100 s');
  process.exit(1);
}, 98000);
watchdog.unref();

function videoTarget(page) {
  return page.evaluate(async () => {
    if (!window.rt.pub) return null;
    for (const s of (await window.rt.pub.getStats()).values())
      if (s.type === 'outbound-rtp' && s.kind === 'video') return s.targetBitrate ?? null;
    return null;
  });
}

let server = null;
let browser = null;
let demos = null;
try {
  demos = makeDemosDir();
  server = await startServer({ overrides: [demos.override] });
  browser = await launchChromium();
  const rooms = [];
  for (const cap of CAPS) {
    const pub = await openRoomPage(browser, server, { logName: `test_room_bitrate-pub${cap}` });
    const sub = await openRoomPage(browser, server, { logName: `test_room_bitrate-sub${cap}` });
    if (rooms.length === 0 && !await requireVideoroom(tap, pub)) throw new Error('no videoroom');
    const name = `cap${cap}`;
    const joined = await pub.evaluate(([n, c]) => window.rt.join(n, { subscribe: 'none', options: { bitrate: c } }), [name, cap]);
    tap.check(joined.options && joined.options.bitrate === cap, `room ${name} is created with bitrate ${cap}`,
      JSON.stringify(joined.options));
    await pub.evaluate(() => window.rt.publish());
    await sub.evaluate((n) => window.rt.join(n, { subscribe: 'all' }), name);
    rooms.push({ cap, pub, sub, max: 0, last: 0 });
  }
  // Watch the encoder target for 20 s.
  const t0 = Date.now();
  while (Date.now() - t0 < 20000) {
    await sleep(1000);
    for (const r of rooms) {
      const t = await videoTarget(r.pub);
      if (t != null) {
        r.last = t;
        r.max = Math.max(r.max, t);
      }
    }
  }
  for (const r of rooms) {
    tap.diag(`cap ${r.cap}: targetBitrate last ${r.last}, max ${r.max}`);
    tap.check(r.last >= 0.6 * r.cap, `the publisher ramps up to the ${r.cap / 1000} kbit/s cap (>= 60% within 20 s)`,
      `last target ${r.last}`);
    tap.check(r.max <= 1.1 * r.cap, `and never goes above it by more than 10%`, `max target ${r.max}`);
    const st = await r.pub.evaluate(() => window.rt.call('room.stats'));
    const vin = (st.publisher && st.publisher.inbound || []).find((s) => s.kind === 'video');
    tap.check(vin && vin.packets > 0, `the server receives the ${r.cap / 1000} kbit/s publisher's video`,
      JSON.stringify(vin));
  }
  tap.check(rooms[1].last > 2 * rooms[0].last, 'the higher cap ends clearly higher (the cap sets the rate)',
    `${rooms[0].last} vs ${rooms[1].last}`);
  // The subscribers decode what is forwarded.
  for (const r of rooms) {
    const frames = await waitFor(async () => {
      const s = await r.sub.evaluate(() => window.rt.inbound());
      const v = s.find((x) => x.kind === 'video');
      return v && v.framesDecoded > 30 ? v.framesDecoded : 0;
    }, { timeoutMs: 5000 });
    tap.check(frames > 30, `the subscriber in the ${r.cap / 1000} kbit/s room decodes the video`, `${frames} frames`);
  }
} catch (err) {
  tap.check(false, 'test ran without an exception', err && err.stack ? err.stack : String(err));
} finally {
  if (browser) await browser.close().catch(() => {});
  if (server) {
    const r = await stopServer(server);
    tap.check(r.code === 0 && !r.killed, 'server exits cleanly on SIGTERM', JSON.stringify(r));
  }
  if (demos) demos.remove();
}
process.exit(tap.summary());
