/* libFuzzer target for media/rtcp: iterate a compound datagram, run every parser
 * that applies to each packet, then write what was parsed (SR, RR, SDES, BYE,
 * NACK, FIR, REMB) and check that parsing the result gives it back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media/rtcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond) {
  if (!cond)
    abort();
}

/* Parses a datagram that must hold exactly one valid packet. */
static sb_rtcp_view only_packet(const uint8_t *buf, int len) {
  check(len > 0);
  check(sb_rtcp_is_valid(buf, (size_t)len));
  sb_rtcp_iter it;
  sb_rtcp_view v;
  sb_rtcp_iter_init(&it, buf, (size_t)len);
  check(sb_rtcp_next(&it, &v));
  check(v.len == (uint16_t)len);
  return v;
}

static sb_rtcp_fb only_fb(const uint8_t *buf, int len) {
  sb_rtcp_view v = only_packet(buf, len);
  sb_rtcp_fb fb;
  check(sb_rtcp_parse_fb(&v, &fb) == SB_RTCP_OK);
  return fb;
}

static void check_blocks(const sb_rtcp_report_block *a, const sb_rtcp_report_block *b,
                         size_t n) {
  for (size_t i = 0; i < n; i++) {
    check(a[i].ssrc == b[i].ssrc && a[i].fraction_lost == b[i].fraction_lost);
    check(a[i].cumulative_lost == b[i].cumulative_lost);
    check(a[i].ext_highest_seq == b[i].ext_highest_seq && a[i].jitter == b[i].jitter);
    check(a[i].lsr == b[i].lsr && a[i].dlsr == b[i].dlsr);
  }
}

static uint8_t out[1 << 19];

static void round_trip_reports(const sb_rtcp_view *v) {
  sb_rtcp_sr sr, sr2;
  if (sb_rtcp_parse_sr(v, &sr) == SB_RTCP_OK) {
    sb_rtcp_view w = only_packet(out, sb_rtcp_write_sr(out, sizeof out, &sr));
    check(sb_rtcp_parse_sr(&w, &sr2) == SB_RTCP_OK);
    check(sr2.ssrc == sr.ssrc && sr2.ntp == sr.ntp && sr2.rtp_ts == sr.rtp_ts);
    check(sr2.packet_count == sr.packet_count && sr2.octet_count == sr.octet_count);
    check(sr2.block_count == sr.block_count);
    check_blocks(sr.blocks, sr2.blocks, sr.block_count);
  }
  sb_rtcp_rr rr, rr2;
  if (sb_rtcp_parse_rr(v, &rr) == SB_RTCP_OK) {
    sb_rtcp_view w = only_packet(out, sb_rtcp_write_rr(out, sizeof out, &rr));
    check(sb_rtcp_parse_rr(&w, &rr2) == SB_RTCP_OK);
    check(rr2.ssrc == rr.ssrc && rr2.block_count == rr.block_count);
    check_blocks(rr.blocks, rr2.blocks, rr.block_count);
  }
}

static void round_trip_sdes_bye(const sb_rtcp_view *v) {
  uint32_t ssrc, ssrc2;
  char cname[256], cname2[256];
  if (sb_rtcp_parse_sdes_cname(v, &ssrc, cname, sizeof cname) == SB_RTCP_OK) {
    check(strlen(cname) <= 255);
    sb_rtcp_view w = only_packet(out, sb_rtcp_write_sdes_cname(out, sizeof out, ssrc, cname));
    check(sb_rtcp_parse_sdes_cname(&w, &ssrc2, cname2, sizeof cname2) == SB_RTCP_OK);
    check(ssrc2 == ssrc && strcmp(cname, cname2) == 0);
  }
  uint32_t ssrcs[SB_RTCP_MAX_BLOCKS], ssrcs2[SB_RTCP_MAX_BLOCKS];
  int n = sb_rtcp_parse_bye(v, ssrcs, SB_RTCP_MAX_BLOCKS);
  if (n >= 0) {
    check(n <= SB_RTCP_MAX_BLOCKS);
    sb_rtcp_view w = only_packet(out, sb_rtcp_write_bye(out, sizeof out, ssrcs, (size_t)n));
    check(sb_rtcp_parse_bye(&w, ssrcs2, SB_RTCP_MAX_BLOCKS) == n);
    check(memcmp(ssrcs, ssrcs2, sizeof ssrcs[0] * (size_t)n) == 0);
  }
}

static uint16_t seqs[1 << 16], seqs2[1 << 18];
static uint8_t want[1 << 16], got[1 << 16];

static void round_trip_nack(const sb_rtcp_fb *fb) {
  int n = sb_rtcp_nack_seqs(fb, seqs, sizeof seqs / sizeof seqs[0]);
  if (n < 0)
    return;
  check(n <= 17 * (fb->fci_len / 4));
  size_t kept = (size_t)n < sizeof seqs / sizeof seqs[0] ? (size_t)n : sizeof seqs / sizeof seqs[0];
  if (kept == 0) {
    check(sb_rtcp_write_nack(out, sizeof out, 1, 2, seqs, 0) == SB_RTCP_ERR_LENGTH);
    return;
  }
  int len = sb_rtcp_write_nack(out, sizeof out, fb->sender_ssrc, fb->media_ssrc, seqs, kept);
  sb_rtcp_fb fb2 = only_fb(out, len);
  check(fb2.sender_ssrc == fb->sender_ssrc && fb2.media_ssrc == fb->media_ssrc);
  int m = sb_rtcp_nack_seqs(&fb2, seqs2, sizeof seqs2 / sizeof seqs2[0]);
  check(m > 0 && (size_t)m <= kept);
  /* The same set, each number exactly once. */
  memset(want, 0, sizeof want);
  memset(got, 0, sizeof got);
  size_t distinct = 0;
  for (size_t i = 0; i < kept; i++) {
    distinct += !want[seqs[i]];
    want[seqs[i]] = 1;
  }
  for (int i = 0; i < m; i++) {
    check(!got[seqs2[i]]);
    got[seqs2[i]] = 1;
  }
  check((size_t)m == distinct);
  check(memcmp(want, got, sizeof want) == 0);
}

static void round_trip_fb(const sb_rtcp_fb *fb) {
  check(fb->fci + fb->fci_len >= fb->fci);
  round_trip_nack(fb);

  sb_rtcp_fir_entry fir[SB_RTCP_MAX_FIR];
  int n = sb_rtcp_parse_fir(fb, fir, SB_RTCP_MAX_FIR);
  if (n > 0) {
    sb_rtcp_fb fb2 = only_fb(out, sb_rtcp_write_fir(out, sizeof out, fb->sender_ssrc,
                                                     fir[0].ssrc, fir[0].seq_nr));
    sb_rtcp_fir_entry e;
    check(sb_rtcp_parse_fir(&fb2, &e, 1) == 1);
    check(e.ssrc == fir[0].ssrc && e.seq_nr == fir[0].seq_nr);
  }

  sb_rtcp_remb remb, remb2;
  if (sb_rtcp_parse_remb(fb, &remb) == SB_RTCP_OK) {
    check(remb.ssrc_count <= SB_RTCP_MAX_REMB_SSRCS);
    sb_rtcp_fb fb2 = only_fb(out, sb_rtcp_write_remb(out, sizeof out, fb->sender_ssrc,
                                                      remb.bitrate, remb.ssrcs, remb.ssrc_count));
    check(sb_rtcp_parse_remb(&fb2, &remb2) == SB_RTCP_OK);
    check(remb2.bitrate <= remb.bitrate);
    check(remb2.ssrc_count == remb.ssrc_count);
    check(memcmp(remb.ssrcs, remb2.ssrcs, sizeof remb.ssrcs[0] * remb.ssrc_count) == 0);
    /* Values that fit 18 bits of mantissa without saturating come back exactly. */
    if (remb.bitrate != UINT64_MAX)
      check(remb2.bitrate == remb.bitrate);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sb_rtcp_iter it;
  sb_rtcp_view v;
  size_t packets = 0, end = 0;
  sb_rtcp_iter_init(&it, data, size);
  while (sb_rtcp_next(&it, &v)) {
    check(v.data == data + end && v.len >= 4 && v.len % 4 == 0);
    end += v.len;
    check(end <= size);
    packets++;
    round_trip_reports(&v);
    round_trip_sdes_bye(&v);
    sb_rtcp_fb fb;
    if (sb_rtcp_parse_fb(&v, &fb) == SB_RTCP_OK) {
      check(fb.fci >= v.data + 12 && fb.fci + fb.fci_len <= v.data + v.len);
      round_trip_fb(&fb);
    }
  }
  check(sb_rtcp_is_valid(data, size) == (it.error == SB_RTCP_OK && packets > 0));
  check(it.error != SB_RTCP_OK || end == size);
  return 0;
}
