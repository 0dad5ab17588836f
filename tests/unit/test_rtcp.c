/* Unit tests for media/rtcp: compound iteration (RFC 3550 §6.1), reports, SDES, BYE,
 * feedback (RFC 4585, RFC 5104, REMB) and the writers. Packets are hand-built the way
 * Chromium sends them; truncated copies are heap buffers of exactly their length so
 * AddressSanitizer catches any read past the end. */
#include <glib.h>
#include <string.h>

#include "media/rtcp.h"

/* Chromium's compound report from a sender: SR without report blocks, then SDES
 * with a 16-character CNAME (28 bytes each). */
static const uint8_t sr_sdes[] = {
  /* SR: V=2 RC=0 PT=200 length=6 */
  0x80, 0xC8, 0x00, 0x06,
  0x1A, 0x2B, 0x3C, 0x4D,                         /* sender SSRC */
  0xE7, 0xA3, 0xB5, 0xC4, 0x80, 0x00, 0x00, 0x00, /* NTP */
  0x00, 0x11, 0x22, 0x33,                         /* RTP timestamp */
  0x00, 0x00, 0x03, 0xE8,                         /* packets: 1000 */
  0x00, 0x07, 0xA1, 0x20,                         /* octets: 500000 */
  /* SDES: V=2 SC=1 PT=202 length=6 */
  0x81, 0xCA, 0x00, 0x06,
  0x1A, 0x2B, 0x3C, 0x4D,
  0x01, 0x10, 'q', 'W', '3', 'r', 'T', 'y', 'U', 'i', 'O', 'p', 'A', 's', 'D', 'f', 'G', 'h',
  0x00, 0x00,                                     /* END item, padding to 32 bits */
};

/* A receiver's compound: RR with one report block, then a generic NACK for
 * 100, 101 and 103. */
static const uint8_t rr_nack[] = {
  0x81, 0xC9, 0x00, 0x07,
  0x00, 0x00, 0x00, 0x01,                         /* receiver SSRC */
  0x1A, 0x2B, 0x3C, 0x4D,                         /* source */
  0x40, 0xFF, 0xFF, 0xFE,                         /* fraction 64/256, cumulative -2 */
  0x00, 0x01, 0x02, 0x03,                         /* extended highest seq */
  0x00, 0x00, 0x00, 0x10,                         /* jitter */
  0xB5, 0xC4, 0x80, 0x00,                         /* LSR */
  0x00, 0x01, 0x00, 0x00,                         /* DLSR: 1 s */
  /* RTPFB FMT=1 length=3 */
  0x81, 0xCD, 0x00, 0x03,
  0x00, 0x00, 0x00, 0x01,
  0x1A, 0x2B, 0x3C, 0x4D,
  0x00, 0x64, 0x00, 0x05,                         /* PID 100, BLP: +1, +3 */
};

/* Reduced-size (RFC 5506) PLI on its own. */
static const uint8_t pli[] = {
  0x81, 0xCE, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x1A, 0x2B, 0x3C, 0x4D,
};

/* FIR with one entry, seq nr 5; media source 0 as RFC 5104 §4.3.1.2 says. */
static const uint8_t fir[] = {
  0x84, 0xCE, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
  0x1A, 0x2B, 0x3C, 0x4D, 0x05, 0x00, 0x00, 0x00,
};

/* REMB for 1 Mbps on one SSRC: 1000000 = 250000 << 2, so exp 2 and mantissa
 * 0x3D090: byte (2 << 2) | 0x3 = 0x0B, then 0xD0 0x90. */
static const uint8_t remb[] = {
  0x8F, 0xCE, 0x00, 0x05, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
  'R', 'E', 'M', 'B', 0x01, 0x0B, 0xD0, 0x90, 0x1A, 0x2B, 0x3C, 0x4D,
};

/* BYE for two SSRCs with a reason ("bye"), padded to 32 bits. */
static const uint8_t bye[] = {
  0x82, 0xCB, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
  0x03, 'b', 'y', 'e',
};

static uint8_t *dup_exact(const uint8_t *p, size_t len) { return g_memdup2(p, len ? len : 1); }

/* The packets of a datagram, and the iterator's final error. */
static int iterate(const uint8_t *buf, size_t len, sb_rtcp_view *out, size_t max, size_t *n) {
  sb_rtcp_iter it;
  sb_rtcp_view v;
  *n = 0;
  sb_rtcp_iter_init(&it, buf, len);
  while (sb_rtcp_next(&it, &v)) {
    if (*n < max)
      out[*n] = v;
    (*n)++;
  }
  return it.error;
}

static sb_rtcp_view single_view(const uint8_t *buf, size_t len) {
  sb_rtcp_view v[2];
  size_t n;
  g_assert_cmpint(iterate(buf, len, v, 2, &n), ==, SB_RTCP_OK);
  g_assert_cmpuint(n, ==, 1);
  return v[0];
}

static sb_rtcp_fb single_fb(const uint8_t *buf, size_t len) {
  sb_rtcp_view v = single_view(buf, len);
  sb_rtcp_fb fb;
  g_assert_cmpint(sb_rtcp_parse_fb(&v, &fb), ==, SB_RTCP_OK);
  return fb;
}

static void test_rtcp_iter_walks_compound_sr_sdes(void) {
  sb_rtcp_view v[4];
  size_t n;
  g_assert_cmpint(iterate(sr_sdes, sizeof sr_sdes, v, 4, &n), ==, SB_RTCP_OK);
  g_assert_cmpuint(n, ==, 2);
  g_assert_cmpuint(v[0].pt, ==, SB_RTCP_SR);
  g_assert_cmpuint(v[0].count, ==, 0);
  g_assert_cmpuint(v[0].len, ==, 28);
  g_assert_true(v[0].data == sr_sdes);
  g_assert_cmpuint(v[1].pt, ==, SB_RTCP_SDES);
  g_assert_cmpuint(v[1].count, ==, 1);
  g_assert_cmpuint(v[1].len, ==, 28);
  g_assert_true(v[1].data == sr_sdes + 28);

  sb_rtcp_sr sr;
  g_assert_cmpint(sb_rtcp_parse_sr(&v[0], &sr), ==, SB_RTCP_OK);
  g_assert_cmphex(sr.ssrc, ==, 0x1A2B3C4D);
  g_assert_cmphex(sr.ntp, ==, 0xE7A3B5C480000000ull);
  g_assert_cmphex(sr.rtp_ts, ==, 0x00112233);
  g_assert_cmpuint(sr.packet_count, ==, 1000);
  g_assert_cmpuint(sr.octet_count, ==, 500000);
  g_assert_cmpuint(sr.block_count, ==, 0);

  uint32_t ssrc = 0;
  char cname[64];
  g_assert_cmpint(sb_rtcp_parse_sdes_cname(&v[1], &ssrc, cname, sizeof cname), ==, SB_RTCP_OK);
  g_assert_cmphex(ssrc, ==, 0x1A2B3C4D);
  g_assert_cmpstr(cname, ==, "qW3rTyUiOpAsDfGh");
}

static void test_rtcp_iter_walks_compound_rr_nack(void) {
  sb_rtcp_view v[4];
  size_t n;
  g_assert_cmpint(iterate(rr_nack, sizeof rr_nack, v, 4, &n), ==, SB_RTCP_OK);
  g_assert_cmpuint(n, ==, 2);

  sb_rtcp_rr rr;
  g_assert_cmpint(sb_rtcp_parse_rr(&v[0], &rr), ==, SB_RTCP_OK);
  g_assert_cmpuint(rr.ssrc, ==, 1);
  g_assert_cmpuint(rr.block_count, ==, 1);
  g_assert_cmphex(rr.blocks[0].ssrc, ==, 0x1A2B3C4D);
  g_assert_cmpuint(rr.blocks[0].fraction_lost, ==, 64);
  g_assert_cmpint(rr.blocks[0].cumulative_lost, ==, -2);
  g_assert_cmphex(rr.blocks[0].ext_highest_seq, ==, 0x00010203);
  g_assert_cmpuint(rr.blocks[0].jitter, ==, 16);
  g_assert_cmphex(rr.blocks[0].lsr, ==, 0xB5C48000);
  g_assert_cmpuint(rr.blocks[0].dlsr, ==, 65536);

  sb_rtcp_fb fb;
  g_assert_cmpint(sb_rtcp_parse_fb(&v[1], &fb), ==, SB_RTCP_OK);
  g_assert_cmpuint(fb.pt, ==, SB_RTCP_RTPFB);
  g_assert_cmpuint(fb.fmt, ==, SB_RTCP_RTPFB_NACK);
  g_assert_cmpuint(fb.sender_ssrc, ==, 1);
  g_assert_cmphex(fb.media_ssrc, ==, 0x1A2B3C4D);
  g_assert_cmpuint(fb.fci_len, ==, 4);
  uint16_t seqs[32];
  g_assert_cmpint(sb_rtcp_nack_seqs(&fb, seqs, 32), ==, 3);
  g_assert_cmpuint(seqs[0], ==, 100);
  g_assert_cmpuint(seqs[1], ==, 101);
  g_assert_cmpuint(seqs[2], ==, 103);
}

static void test_rtcp_is_valid_accepts_whole_datagrams_only(void) {
  g_assert_true(sb_rtcp_is_valid(sr_sdes, sizeof sr_sdes));
  g_assert_true(sb_rtcp_is_valid(rr_nack, sizeof rr_nack));
  g_assert_true(sb_rtcp_is_valid(pli, sizeof pli));
  g_assert_false(sb_rtcp_is_valid(pli, 0));
  g_assert_false(sb_rtcp_is_valid(NULL, 0));
  /* One packet and a bit of the next. */
  g_assert_false(sb_rtcp_is_valid(sr_sdes, 30));
  /* Version 1. */
  uint8_t p[sizeof pli];
  memcpy(p, pli, sizeof p);
  p[0] = 0x41;
  g_assert_false(sb_rtcp_is_valid(p, sizeof p));
}

static void test_rtcp_iter_rejects_length_past_end(void) {
  uint8_t p[sizeof pli];
  memcpy(p, pli, sizeof p);
  p[3] = 0x03;
  sb_rtcp_view v[2];
  size_t n;
  g_assert_cmpint(iterate(p, sizeof p, v, 2, &n), ==, SB_RTCP_ERR_SHORT);
  g_assert_cmpuint(n, ==, 0);
  p[2] = 0xFF;
  p[3] = 0xFF;
  g_assert_cmpint(iterate(p, sizeof p, v, 2, &n), ==, SB_RTCP_ERR_SHORT);
  /* A second packet with a bad version stops after the first. */
  uint8_t q[sizeof sr_sdes];
  memcpy(q, sr_sdes, sizeof q);
  q[28] = 0xC1;
  g_assert_cmpint(iterate(q, sizeof q, v, 2, &n), ==, SB_RTCP_ERR_VERSION);
  g_assert_cmpuint(n, ==, 1);
}

static void test_rtcp_iter_checks_padding(void) {
  /* RR without blocks padded by 4 bytes, as the last (only) packet. */
  uint8_t p[] = {0xA0, 0xC9, 0x00, 0x02, 0, 0, 0, 9, 0, 0, 0, 4};
  sb_rtcp_view v[2];
  size_t n;
  g_assert_cmpint(iterate(p, sizeof p, v, 2, &n), ==, SB_RTCP_OK);
  g_assert_cmpuint(n, ==, 1);
  g_assert_true(v[0].padding);
  g_assert_cmpuint(v[0].len, ==, 12);
  sb_rtcp_rr rr;
  g_assert_cmpint(sb_rtcp_parse_rr(&v[0], &rr), ==, SB_RTCP_OK);
  g_assert_cmpuint(rr.ssrc, ==, 9);
  /* Padding eats into the RR body: 8 bytes needed, 12 - 5 = 7 left. */
  p[11] = 5;
  g_assert_cmpint(iterate(p, sizeof p, v, 2, &n), ==, SB_RTCP_OK);
  g_assert_cmpint(sb_rtcp_parse_rr(&v[0], &rr), ==, SB_RTCP_ERR_LENGTH);
  /* Count 0, and a count reaching into the header, are invalid. */
  p[11] = 0;
  g_assert_cmpint(iterate(p, sizeof p, v, 2, &n), ==, SB_RTCP_ERR_LENGTH);
  p[11] = 9;
  g_assert_cmpint(iterate(p, sizeof p, v, 2, &n), ==, SB_RTCP_ERR_LENGTH);
  p[11] = 8;
  g_assert_cmpint(iterate(p, sizeof p, v, 2, &n), ==, SB_RTCP_OK);
}

static void test_rtcp_iter_tolerates_padding_before_last_packet(void) {
  uint8_t p[12 + sizeof pli] = {0xA0, 0xC9, 0x00, 0x02, 0, 0, 0, 9, 0, 0, 0, 4};
  memcpy(p + 12, pli, sizeof pli);
  sb_rtcp_view v[3];
  size_t n;
  g_assert_cmpint(iterate(p, sizeof p, v, 3, &n), ==, SB_RTCP_OK);
  g_assert_cmpuint(n, ==, 2);
  g_assert_cmpuint(v[1].pt, ==, SB_RTCP_PSFB);
}

static void test_rtcp_parse_sr_reads_report_blocks(void) {
  uint8_t p[28 + 48];
  memcpy(p, sr_sdes, 28);
  p[0] = 0x82;
  p[3] = 0x12;
  for (size_t i = 0; i < 48; i++)
    p[28 + i] = (uint8_t)i;
  p[28 + 24 + 5] = 0x7F; /* second block: cumulative lost 0x7FFFFF, the largest */
  p[28 + 24 + 6] = 0xFF;
  p[28 + 24 + 7] = 0xFF;
  sb_rtcp_view v = single_view(p, sizeof p);
  sb_rtcp_sr sr;
  g_assert_cmpint(sb_rtcp_parse_sr(&v, &sr), ==, SB_RTCP_OK);
  g_assert_cmpuint(sr.block_count, ==, 2);
  g_assert_cmphex(sr.blocks[0].ssrc, ==, 0x00010203);
  g_assert_cmpuint(sr.blocks[0].fraction_lost, ==, 4);
  g_assert_cmpint(sr.blocks[0].cumulative_lost, ==, 0x050607);
  g_assert_cmphex(sr.blocks[0].dlsr, ==, 0x14151617);
  g_assert_cmpint(sr.blocks[1].cumulative_lost, ==, 0x7FFFFF);
  p[28 + 24 + 5] = 0x80;
  p[28 + 24 + 6] = 0x00;
  p[28 + 24 + 7] = 0x00;
  g_assert_cmpint(sb_rtcp_parse_sr(&v, &sr), ==, SB_RTCP_OK);
  g_assert_cmpint(sr.blocks[1].cumulative_lost, ==, -0x800000);
}

static void test_rtcp_parse_reports_reject_count_beyond_length(void) {
  uint8_t p[28];
  memcpy(p, sr_sdes, 28);
  p[0] = 0x81; /* one block announced, none present */
  sb_rtcp_view v = single_view(p, sizeof p);
  sb_rtcp_sr sr;
  g_assert_cmpint(sb_rtcp_parse_sr(&v, &sr), ==, SB_RTCP_ERR_LENGTH);
  uint8_t q[32];
  memcpy(q, rr_nack, 32);
  q[3] = 0x07;
  sb_rtcp_view w = {.pt = SB_RTCP_RR, .count = 1, .data = q, .len = 31};
  sb_rtcp_rr rr;
  g_assert_cmpint(sb_rtcp_parse_rr(&w, &rr), ==, SB_RTCP_ERR_LENGTH);
  /* A hand-built view cannot make the parser index past 31 blocks. */
  w.count = 200;
  w.len = 32;
  g_assert_cmpint(sb_rtcp_parse_rr(&w, &rr), ==, SB_RTCP_ERR_LENGTH);
}

static void test_rtcp_parsers_reject_wrong_type(void) {
  sb_rtcp_view v = single_view(pli, sizeof pli);
  sb_rtcp_sr sr;
  sb_rtcp_rr rr;
  uint32_t ssrcs[4];
  char cname[8];
  g_assert_cmpint(sb_rtcp_parse_sr(&v, &sr), ==, SB_RTCP_ERR_TYPE);
  g_assert_cmpint(sb_rtcp_parse_rr(&v, &rr), ==, SB_RTCP_ERR_TYPE);
  g_assert_cmpint(sb_rtcp_parse_bye(&v, ssrcs, 4), ==, SB_RTCP_ERR_TYPE);
  g_assert_cmpint(sb_rtcp_parse_sdes_cname(&v, NULL, cname, sizeof cname), ==, SB_RTCP_ERR_TYPE);
  sb_rtcp_view s = single_view(sr_sdes, 28);
  sb_rtcp_fb fb;
  g_assert_cmpint(sb_rtcp_parse_fb(&s, &fb), ==, SB_RTCP_ERR_TYPE);
  /* PLI is PSFB FMT 1; NACK is RTPFB FMT 1: the same FMT must not be taken for a NACK. */
  sb_rtcp_fb p = single_fb(pli, sizeof pli);
  uint16_t seqs[4];
  g_assert_cmpint(sb_rtcp_nack_seqs(&p, seqs, 4), ==, SB_RTCP_ERR_TYPE);
  sb_rtcp_fir_entry e[2];
  g_assert_cmpint(sb_rtcp_parse_fir(&p, e, 2), ==, SB_RTCP_ERR_TYPE);
  sb_rtcp_remb r;
  g_assert_cmpint(sb_rtcp_parse_remb(&p, &r), ==, SB_RTCP_ERR_TYPE);
}

static void test_rtcp_parsers_reject_short_views(void) {
  sb_rtcp_view v = {.pt = SB_RTCP_SR, .count = 0, .data = sr_sdes, .len = 3};
  sb_rtcp_sr sr;
  g_assert_cmpint(sb_rtcp_parse_sr(&v, &sr), ==, SB_RTCP_ERR_SHORT);
  v.data = NULL;
  v.len = 28;
  g_assert_cmpint(sb_rtcp_parse_sr(&v, &sr), ==, SB_RTCP_ERR_SHORT);
}

static void test_rtcp_sdes_cname_truncates_to_capacity(void) {
  sb_rtcp_view v[2];
  size_t n;
  g_assert_cmpint(iterate(sr_sdes, sizeof sr_sdes, v, 2, &n), ==, SB_RTCP_OK);
  char small[5];
  g_assert_cmpint(sb_rtcp_parse_sdes_cname(&v[1], NULL, small, sizeof small), ==, SB_RTCP_OK);
  g_assert_cmpstr(small, ==, "qW3r");
  g_assert_cmpint(sb_rtcp_parse_sdes_cname(&v[1], NULL, NULL, 0), ==, SB_RTCP_OK);
}

static void test_rtcp_sdes_without_cname(void) {
  /* NAME item only (type 2), then END. */
  const uint8_t p[] = {0x81, 0xCA, 0x00, 0x03, 0, 0, 0, 7, 0x02, 0x03, 'b', 'o', 'b', 0, 0, 0};
  sb_rtcp_view v = single_view(p, sizeof p);
  char cname[16];
  uint32_t ssrc = 0;
  g_assert_cmpint(sb_rtcp_parse_sdes_cname(&v, &ssrc, cname, sizeof cname), ==, SB_RTCP_ERR_TYPE);
  g_assert_cmpuint(ssrc, ==, 7);
  /* A CNAME after another item is found. */
  const uint8_t q[] = {0x81, 0xCA, 0x00, 0x04, 0, 0, 0, 7, 0x02, 0x01, 'b',
                       0x01, 0x02, 'x', 'y', 0, 0, 0, 0, 0};
  v = single_view(q, sizeof q);
  g_assert_cmpint(sb_rtcp_parse_sdes_cname(&v, &ssrc, cname, sizeof cname), ==, SB_RTCP_OK);
  g_assert_cmpstr(cname, ==, "xy");
  /* An item longer than the packet. */
  const uint8_t r[] = {0x81, 0xCA, 0x00, 0x02, 0, 0, 0, 7, 0x01, 0x09, 'a', 'b'};
  v = single_view(r, sizeof r);
  g_assert_cmpint(sb_rtcp_parse_sdes_cname(&v, &ssrc, cname, sizeof cname), ==, SB_RTCP_ERR_SHORT);
  /* SC = 0: no chunk at all. */
  const uint8_t s[] = {0x80, 0xCA, 0x00, 0x00};
  v = single_view(s, sizeof s);
  g_assert_cmpint(sb_rtcp_parse_sdes_cname(&v, &ssrc, cname, sizeof cname), ==, SB_RTCP_ERR_TYPE);
}

static void test_rtcp_bye_lists_ssrcs(void) {
  sb_rtcp_view v = single_view(bye, sizeof bye);
  uint32_t ssrcs[4] = {0};
  g_assert_cmpint(sb_rtcp_parse_bye(&v, ssrcs, 4), ==, 2);
  g_assert_cmpuint(ssrcs[0], ==, 1);
  g_assert_cmpuint(ssrcs[1], ==, 2);
  uint32_t one[1] = {0};
  g_assert_cmpint(sb_rtcp_parse_bye(&v, one, 1), ==, 2);
  g_assert_cmpuint(one[0], ==, 1);
  uint8_t p[sizeof bye];
  memcpy(p, bye, sizeof p);
  p[0] = 0x85; /* five SSRCs announced in 12 bytes after the header */
  v = single_view(p, sizeof p);
  g_assert_cmpint(sb_rtcp_parse_bye(&v, ssrcs, 4), ==, SB_RTCP_ERR_LENGTH);
}

static void test_rtcp_fb_requires_twelve_bytes(void) {
  const uint8_t p[] = {0x81, 0xCE, 0x00, 0x01, 0, 0, 0, 1};
  sb_rtcp_view v = single_view(p, sizeof p);
  sb_rtcp_fb fb;
  g_assert_cmpint(sb_rtcp_parse_fb(&v, &fb), ==, SB_RTCP_ERR_LENGTH);
  sb_rtcp_fb f = single_fb(pli, sizeof pli);
  g_assert_cmpuint(f.pt, ==, SB_RTCP_PSFB);
  g_assert_cmpuint(f.fmt, ==, SB_RTCP_PSFB_PLI);
  g_assert_cmpuint(f.fci_len, ==, 0);
  g_assert_cmphex(f.media_ssrc, ==, 0x1A2B3C4D);
}

static sb_rtcp_fb nack_fb(const uint8_t *fci, uint16_t len) {
  sb_rtcp_fb fb = {.pt = SB_RTCP_RTPFB, .fmt = SB_RTCP_RTPFB_NACK, .fci = fci, .fci_len = len};
  return fb;
}

static void test_rtcp_nack_expands_full_blp_across_wrap(void) {
  const uint8_t fci[] = {0xFF, 0xFA, 0xFF, 0xFF};
  sb_rtcp_fb fb = nack_fb(fci, sizeof fci);
  uint16_t seqs[32];
  g_assert_cmpint(sb_rtcp_nack_seqs(&fb, seqs, 32), ==, 17);
  for (int i = 0; i < 17; i++)
    g_assert_cmpuint(seqs[i], ==, (uint16_t)(65530 + i));
  /* Fewer slots than sequence numbers: the count is still the whole list. */
  uint16_t few[3];
  g_assert_cmpint(sb_rtcp_nack_seqs(&fb, few, 3), ==, 17);
  g_assert_cmpuint(few[2], ==, 65532);
  g_assert_cmpint(sb_rtcp_nack_seqs(&fb, NULL, 0), ==, 17);
}

static void test_rtcp_nack_rejects_partial_pair(void) {
  const uint8_t fci[] = {0x00, 0x01, 0x00, 0x00, 0x00, 0x02};
  sb_rtcp_fb fb = nack_fb(fci, sizeof fci);
  uint16_t seqs[8];
  g_assert_cmpint(sb_rtcp_nack_seqs(&fb, seqs, 8), ==, SB_RTCP_ERR_LENGTH);
}

static void test_rtcp_fir_reads_entries(void) {
  sb_rtcp_fb fb = single_fb(fir, sizeof fir);
  sb_rtcp_fir_entry e[4];
  g_assert_cmpint(sb_rtcp_parse_fir(&fb, e, 4), ==, 1);
  g_assert_cmphex(e[0].ssrc, ==, 0x1A2B3C4D);
  g_assert_cmpuint(e[0].seq_nr, ==, 5);
  /* Two entries; room for one. */
  const uint8_t fci[] = {0, 0, 0, 1, 9, 0, 0, 0, 0, 0, 0, 2, 10, 0, 0, 0};
  sb_rtcp_fb two = {.pt = SB_RTCP_PSFB, .fmt = SB_RTCP_PSFB_FIR, .fci = fci, .fci_len = 16};
  g_assert_cmpint(sb_rtcp_parse_fir(&two, e, 1), ==, 2);
  g_assert_cmpuint(e[0].seq_nr, ==, 9);
  two.fci_len = 12;
  g_assert_cmpint(sb_rtcp_parse_fir(&two, e, 4), ==, SB_RTCP_ERR_LENGTH);
  /* RTPFB FMT 4 is TMMBR, not FIR. */
  two.fci_len = 16;
  two.pt = SB_RTCP_RTPFB;
  g_assert_cmpint(sb_rtcp_parse_fir(&two, e, 4), ==, SB_RTCP_ERR_TYPE);
}

static void test_rtcp_remb_reads_one_mbps(void) {
  sb_rtcp_fb fb = single_fb(remb, sizeof remb);
  g_assert_cmpuint(fb.fmt, ==, SB_RTCP_PSFB_AFB);
  sb_rtcp_remb r;
  g_assert_cmpint(sb_rtcp_parse_remb(&fb, &r), ==, SB_RTCP_OK);
  g_assert_cmpuint(r.bitrate, ==, 1000000);
  g_assert_cmpuint(r.ssrc_count, ==, 1);
  g_assert_cmphex(r.ssrcs[0], ==, 0x1A2B3C4D);
}

static void test_rtcp_remb_saturates_on_overflow(void) {
  uint8_t fci[8] = {'R', 'E', 'M', 'B', 0, 0, 0, 0};
  sb_rtcp_fb fb = {.pt = SB_RTCP_PSFB, .fmt = SB_RTCP_PSFB_AFB, .fci = fci, .fci_len = 8};
  sb_rtcp_remb r;
  /* exp 46, mantissa 0x3FFFF: the top bit lands on bit 63, still exact. */
  fci[5] = (46 << 2) | 0x03;
  fci[6] = 0xFF;
  fci[7] = 0xFF;
  g_assert_cmpint(sb_rtcp_parse_remb(&fb, &r), ==, SB_RTCP_OK);
  g_assert_cmphex(r.bitrate, ==, 0x3FFFFull << 46);
  /* exp 47 pushes it past 64 bits. */
  fci[5] = (47 << 2) | 0x03;
  g_assert_cmpint(sb_rtcp_parse_remb(&fb, &r), ==, SB_RTCP_OK);
  g_assert_cmphex(r.bitrate, ==, UINT64_MAX);
  /* exp 63 with mantissa 1 is 2^63, exact. */
  fci[5] = 63 << 2;
  fci[6] = 0;
  fci[7] = 1;
  g_assert_cmpint(sb_rtcp_parse_remb(&fb, &r), ==, SB_RTCP_OK);
  g_assert_cmphex(r.bitrate, ==, 1ull << 63);
  fci[7] = 2;
  g_assert_cmpint(sb_rtcp_parse_remb(&fb, &r), ==, SB_RTCP_OK);
  g_assert_cmphex(r.bitrate, ==, UINT64_MAX);
  /* Zero mantissa with any exponent is zero. */
  fci[7] = 0;
  g_assert_cmpint(sb_rtcp_parse_remb(&fb, &r), ==, SB_RTCP_OK);
  g_assert_cmpuint(r.bitrate, ==, 0);
}

static void test_rtcp_remb_checks_identifier_and_ssrc_count(void) {
  uint8_t fci[8 + 4 * 20];
  memset(fci, 0, sizeof fci);
  memcpy(fci, "REMX", 4);
  sb_rtcp_fb fb = {.pt = SB_RTCP_PSFB, .fmt = SB_RTCP_PSFB_AFB, .fci = fci, .fci_len = 8};
  sb_rtcp_remb r;
  g_assert_cmpint(sb_rtcp_parse_remb(&fb, &r), ==, SB_RTCP_ERR_TYPE);
  memcpy(fci, "REMB", 4);
  fb.fci_len = 6;
  g_assert_cmpint(sb_rtcp_parse_remb(&fb, &r), ==, SB_RTCP_ERR_LENGTH);
  fb.fci_len = 3;
  g_assert_cmpint(sb_rtcp_parse_remb(&fb, &r), ==, SB_RTCP_ERR_TYPE);
  fci[4] = 2;
  fb.fci_len = 12;
  g_assert_cmpint(sb_rtcp_parse_remb(&fb, &r), ==, SB_RTCP_ERR_LENGTH);
  /* 20 SSRCs present: the first 16 are kept. */
  fci[4] = 20;
  for (int i = 0; i < 20; i++)
    fci[8 + 4 * i + 3] = (uint8_t)(i + 1);
  fb.fci_len = sizeof fci;
  g_assert_cmpint(sb_rtcp_parse_remb(&fb, &r), ==, SB_RTCP_OK);
  g_assert_cmpuint(r.ssrc_count, ==, SB_RTCP_MAX_REMB_SSRCS);
  g_assert_cmpuint(r.ssrcs[15], ==, 16);
}

static void test_rtcp_write_sr_matches_chromium_bytes(void) {
  sb_rtcp_sr sr = {.ssrc = 0x1A2B3C4D, .ntp = 0xE7A3B5C480000000ull, .rtp_ts = 0x00112233,
                   .packet_count = 1000, .octet_count = 500000};
  uint8_t buf[64];
  g_assert_cmpint(sb_rtcp_write_sr(buf, sizeof buf, &sr), ==, 28);
  g_assert_cmpmem(buf, 28, sr_sdes, 28);
  g_assert_cmpint(sb_rtcp_write_sr(buf, 27, &sr), ==, SB_RTCP_ERR_SPACE);
}

static void test_rtcp_write_sr_round_trips_blocks(void) {
  sb_rtcp_sr sr = {.ssrc = 7, .ntp = 0x0102030405060708ull, .rtp_ts = 9, .packet_count = 10,
                   .octet_count = 11, .block_count = SB_RTCP_MAX_BLOCKS};
  for (int i = 0; i < SB_RTCP_MAX_BLOCKS; i++) {
    sr.blocks[i] = (sb_rtcp_report_block){.ssrc = 100u + (uint32_t)i,
                                          .fraction_lost = (uint8_t)i,
                                          .cumulative_lost = (i % 2) ? -i : i * 1000,
                                          .ext_highest_seq = 0x10000u * (uint32_t)i,
                                          .jitter = (uint32_t)i * 3,
                                          .lsr = 0xAABBCCDD,
                                          .dlsr = (uint32_t)i};
  }
  uint8_t buf[28 + 24 * 31];
  g_assert_cmpint(sb_rtcp_write_sr(buf, sizeof buf, &sr), ==, (int)sizeof buf);
  g_assert_true(sb_rtcp_is_valid(buf, sizeof buf));
  sb_rtcp_view v = single_view(buf, sizeof buf);
  sb_rtcp_sr back;
  g_assert_cmpint(sb_rtcp_parse_sr(&v, &back), ==, SB_RTCP_OK);
  g_assert_cmpuint(back.ssrc, ==, sr.ssrc);
  g_assert_cmphex(back.ntp, ==, sr.ntp);
  g_assert_cmpuint(back.block_count, ==, 31);
  for (int i = 0; i < SB_RTCP_MAX_BLOCKS; i++) {
    g_assert_cmpuint(back.blocks[i].ssrc, ==, sr.blocks[i].ssrc);
    g_assert_cmpint(back.blocks[i].cumulative_lost, ==, sr.blocks[i].cumulative_lost);
    g_assert_cmpuint(back.blocks[i].ext_highest_seq, ==, sr.blocks[i].ext_highest_seq);
    g_assert_cmpuint(back.blocks[i].fraction_lost, ==, sr.blocks[i].fraction_lost);
    g_assert_cmpuint(back.blocks[i].jitter, ==, sr.blocks[i].jitter);
    g_assert_cmpuint(back.blocks[i].lsr, ==, sr.blocks[i].lsr);
    g_assert_cmpuint(back.blocks[i].dlsr, ==, sr.blocks[i].dlsr);
  }
  sr.block_count = 32;
  g_assert_cmpint(sb_rtcp_write_sr(buf, sizeof buf, &sr), ==, SB_RTCP_ERR_LENGTH);
}

static void test_rtcp_write_rr_matches_bytes_and_clamps_lost(void) {
  sb_rtcp_rr rr = {.ssrc = 1, .block_count = 1};
  rr.blocks[0] = (sb_rtcp_report_block){.ssrc = 0x1A2B3C4D, .fraction_lost = 64,
                                        .cumulative_lost = -2, .ext_highest_seq = 0x00010203,
                                        .jitter = 16, .lsr = 0xB5C48000, .dlsr = 65536};
  uint8_t buf[32];
  g_assert_cmpint(sb_rtcp_write_rr(buf, sizeof buf, &rr), ==, 32);
  g_assert_cmpmem(buf, 32, rr_nack, 32);
  g_assert_cmpint(sb_rtcp_write_rr(buf, 31, &rr), ==, SB_RTCP_ERR_SPACE);

  rr.blocks[0].cumulative_lost = 10000000;
  g_assert_cmpint(sb_rtcp_write_rr(buf, sizeof buf, &rr), ==, 32);
  g_assert_cmpmem(buf + 13, 3, "\x7F\xFF\xFF", 3);
  rr.blocks[0].cumulative_lost = -10000000;
  g_assert_cmpint(sb_rtcp_write_rr(buf, sizeof buf, &rr), ==, 32);
  g_assert_cmpmem(buf + 13, 3, "\x80\x00\x00", 3);
  sb_rtcp_view v = single_view(buf, 32);
  sb_rtcp_rr back;
  g_assert_cmpint(sb_rtcp_parse_rr(&v, &back), ==, SB_RTCP_OK);
  g_assert_cmpint(back.blocks[0].cumulative_lost, ==, -0x800000);

  sb_rtcp_rr empty = {.ssrc = 5};
  g_assert_cmpint(sb_rtcp_write_rr(buf, sizeof buf, &empty), ==, 8);
  g_assert_cmpmem(buf, 8, "\x80\xC9\x00\x01\x00\x00\x00\x05", 8);
}

static void test_rtcp_write_sdes_cname_pads_with_nulls(void) {
  uint8_t buf[300];
  g_assert_cmpint(sb_rtcp_write_sdes_cname(buf, sizeof buf, 0x1A2B3C4D, "qW3rTyUiOpAsDfGh"), ==,
                  28);
  g_assert_cmpmem(buf, 28, sr_sdes + 28, 28);
  /* 4 + 2 + 1 + one null = 8: exactly one null, no more. */
  g_assert_cmpint(sb_rtcp_write_sdes_cname(buf, sizeof buf, 1, "a"), ==, 12);
  g_assert_cmpmem(buf, 12, "\x81\xCA\x00\x02\x00\x00\x00\x01\x01\x01" "a\x00", 12);
  /* 4 + 2 + 2 = 8 needs a null, so a whole word more. */
  g_assert_cmpint(sb_rtcp_write_sdes_cname(buf, sizeof buf, 1, "ab"), ==, 16);
  g_assert_cmpmem(buf + 10, 6, "ab\0\0\0\0", 6);
  g_assert_cmpint(sb_rtcp_write_sdes_cname(buf, sizeof buf, 1, ""), ==, 12);
  g_assert_cmpint(sb_rtcp_write_sdes_cname(buf, 11, 1, "a"), ==, SB_RTCP_ERR_SPACE);

  char longest[256];
  memset(longest, 'x', 255);
  longest[255] = '\0';
  int n = sb_rtcp_write_sdes_cname(buf, sizeof buf, 3, longest);
  g_assert_cmpint(n, ==, 4 + 264);
  sb_rtcp_view v = single_view(buf, (size_t)n);
  char out[300];
  uint32_t ssrc;
  g_assert_cmpint(sb_rtcp_parse_sdes_cname(&v, &ssrc, out, sizeof out), ==, SB_RTCP_OK);
  g_assert_cmpstr(out, ==, longest);
  char too_long[257];
  memset(too_long, 'x', 256);
  too_long[256] = '\0';
  g_assert_cmpint(sb_rtcp_write_sdes_cname(buf, sizeof buf, 3, too_long), ==, SB_RTCP_ERR_LENGTH);
}

static void test_rtcp_write_bye_round_trips(void) {
  uint32_t ssrcs[] = {1, 2, 0xFFFFFFFF};
  uint8_t buf[64];
  g_assert_cmpint(sb_rtcp_write_bye(buf, sizeof buf, ssrcs, 3), ==, 16);
  sb_rtcp_view v = single_view(buf, 16);
  uint32_t back[4];
  g_assert_cmpint(sb_rtcp_parse_bye(&v, back, 4), ==, 3);
  g_assert_cmpuint(back[2], ==, 0xFFFFFFFF);
  g_assert_cmpint(sb_rtcp_write_bye(buf, 15, ssrcs, 3), ==, SB_RTCP_ERR_SPACE);
  uint32_t many[32] = {0};
  uint8_t big[256];
  g_assert_cmpint(sb_rtcp_write_bye(big, sizeof big, many, 32), ==, SB_RTCP_ERR_LENGTH);
}

/* Writes a NACK for seqs, checks it parses back to exactly the distinct numbers,
 * and returns the FCI pairs written. */
static size_t nack_round_trip(const uint16_t *seqs, size_t n, uint8_t *buf, size_t cap) {
  int len = sb_rtcp_write_nack(buf, cap, 1, 2, seqs, n);
  g_assert_cmpint(len, >=, 16);
  g_assert_true(sb_rtcp_is_valid(buf, (size_t)len));
  sb_rtcp_fb fb = single_fb(buf, (size_t)len);
  g_assert_cmpuint(fb.sender_ssrc, ==, 1);
  g_assert_cmpuint(fb.media_ssrc, ==, 2);
  static uint16_t back[70000];
  int m = sb_rtcp_nack_seqs(&fb, back, G_N_ELEMENTS(back));
  g_assert_cmpint(m, >, 0);
  /* Each distinct number exactly once. */
  static uint8_t want[65536], got[65536];
  memset(want, 0, sizeof want);
  memset(got, 0, sizeof got);
  size_t distinct = 0;
  for (size_t i = 0; i < n; i++) {
    if (!want[seqs[i]])
      distinct++;
    want[seqs[i]] = 1;
  }
  for (int i = 0; i < m; i++) {
    g_assert_cmpuint(got[back[i]], ==, 0);
    got[back[i]] = 1;
  }
  g_assert_cmpint(m, ==, (int)distinct);
  g_assert_cmpmem(want, sizeof want, got, sizeof got);
  return fb.fci_len / 4;
}

static void test_rtcp_write_nack_packs_blp(void) {
  uint8_t buf[64];
  const uint16_t seqs[] = {100, 101, 103};
  g_assert_cmpint(sb_rtcp_write_nack(buf, sizeof buf, 1, 0x1A2B3C4D, seqs, 3), ==, 16);
  g_assert_cmpmem(buf, 16, rr_nack + 32, 16);
  g_assert_cmpuint(nack_round_trip(seqs, 3, buf, sizeof buf), ==, 1);
}

static void test_rtcp_write_nack_across_wrap(void) {
  uint8_t buf[64];
  const uint16_t seqs[] = {65534, 65535, 0, 1};
  g_assert_cmpint(sb_rtcp_write_nack(buf, sizeof buf, 1, 2, seqs, 4), ==, 16);
  g_assert_cmpmem(buf + 12, 4, "\xFF\xFE\x00\x07", 4);
  /* Unsorted, starting after the wrap. */
  const uint16_t unsorted[] = {2, 65533, 0};
  g_assert_cmpint(sb_rtcp_write_nack(buf, sizeof buf, 1, 2, unsorted, 3), ==, 16);
  g_assert_cmpmem(buf + 12, 4, "\xFF\xFD\x00\x14", 4);
  g_assert_cmpuint(nack_round_trip(unsorted, 3, buf, sizeof buf), ==, 1);
}

static void test_rtcp_write_nack_splits_gaps_over_16(void) {
  uint8_t buf[64];
  const uint16_t far[] = {10, 27};
  g_assert_cmpint(sb_rtcp_write_nack(buf, sizeof buf, 1, 2, far, 2), ==, 20);
  g_assert_cmpmem(buf + 12, 8, "\x00\x0A\x00\x00\x00\x1B\x00\x00", 8);
  const uint16_t near[] = {10, 26};
  g_assert_cmpint(sb_rtcp_write_nack(buf, sizeof buf, 1, 2, near, 2), ==, 16);
  g_assert_cmpmem(buf + 12, 4, "\x00\x0A\x80\x00", 4);
}

static void test_rtcp_write_nack_sorts_and_dedups(void) {
  uint8_t buf[64];
  const uint16_t dups[] = {5, 5, 6, 5};
  g_assert_cmpint(sb_rtcp_write_nack(buf, sizeof buf, 1, 2, dups, 4), ==, 16);
  g_assert_cmpmem(buf + 12, 4, "\x00\x05\x00\x01", 4);
  const uint16_t unsorted[] = {20, 3, 10, 4};
  g_assert_cmpint(sb_rtcp_write_nack(buf, sizeof buf, 1, 2, unsorted, 4), ==, 20);
  g_assert_cmpmem(buf + 12, 8, "\x00\x03\x00\x41\x00\x14\x00\x00", 8);
  g_assert_cmpuint(nack_round_trip(unsorted, 4, buf, sizeof buf), ==, 2);
}

static void test_rtcp_write_nack_long_runs_and_spread(void) {
  static uint16_t seqs[1000];
  static uint8_t buf[4096];
  for (int i = 0; i < 1000; i++)
    seqs[i] = (uint16_t)(65000 + i); /* 65000..65535, then 0..463 */
  /* ceil(1000 / 17) pairs */
  g_assert_cmpuint(nack_round_trip(seqs, 1000, buf, sizeof buf), ==, 59);
  /* Half the sequence space apart: ordered around seqs[0], 65535 and 0 still
   * share a pair; nothing is lost or doubled. */
  const uint16_t spread[] = {0, 32768, 32767, 65535};
  g_assert_cmpuint(nack_round_trip(spread, 4, buf, sizeof buf), ==, 3);
  /* Every second number over the whole space. */
  static uint16_t every[32768];
  for (int i = 0; i < 32768; i++)
    every[i] = (uint16_t)(i * 2);
  static uint8_t huge[12 + 4 * 4000];
  g_assert_cmpuint(nack_round_trip(every, 32768, huge, sizeof huge), ==, 3641);
}

static void test_rtcp_write_nack_reports_lack_of_space(void) {
  uint8_t buf[24];
  const uint16_t seqs[] = {1, 100, 200};
  g_assert_cmpint(sb_rtcp_write_nack(buf, 23, 1, 2, seqs, 3), ==, SB_RTCP_ERR_SPACE);
  g_assert_cmpint(sb_rtcp_write_nack(buf, 24, 1, 2, seqs, 3), ==, 24);
  g_assert_cmpint(sb_rtcp_write_nack(buf, 15, 1, 2, seqs, 1), ==, SB_RTCP_ERR_SPACE);
  g_assert_cmpint(sb_rtcp_write_nack(buf, 24, 1, 2, seqs, 0), ==, SB_RTCP_ERR_LENGTH);
}

static void test_rtcp_write_pli_fir_match_bytes(void) {
  uint8_t buf[32];
  g_assert_cmpint(sb_rtcp_write_pli(buf, sizeof buf, 1, 0x1A2B3C4D), ==, 12);
  g_assert_cmpmem(buf, 12, pli, sizeof pli);
  g_assert_cmpint(sb_rtcp_write_pli(buf, 11, 1, 0x1A2B3C4D), ==, SB_RTCP_ERR_SPACE);
  g_assert_cmpint(sb_rtcp_write_fir(buf, sizeof buf, 1, 0x1A2B3C4D, 5), ==, 20);
  g_assert_cmpmem(buf, 20, fir, sizeof fir);
  g_assert_cmpint(sb_rtcp_write_fir(buf, 19, 1, 0x1A2B3C4D, 5), ==, SB_RTCP_ERR_SPACE);
  sb_rtcp_fb fb = single_fb(buf, 20);
  sb_rtcp_fir_entry e[1];
  g_assert_cmpint(sb_rtcp_parse_fir(&fb, e, 1), ==, 1);
  g_assert_cmpuint(e[0].seq_nr, ==, 5);
}

static void test_rtcp_write_remb_one_mbps_matches_bytes(void) {
  uint8_t buf[64];
  const uint32_t ssrc = 0x1A2B3C4D;
  g_assert_cmpint(sb_rtcp_write_remb(buf, sizeof buf, 1, 1000000, &ssrc, 1), ==, 24);
  g_assert_cmpmem(buf, 24, remb, sizeof remb);
  g_assert_cmpint(sb_rtcp_write_remb(buf, 23, 1, 1000000, &ssrc, 1), ==, SB_RTCP_ERR_SPACE);
}

static uint64_t remb_round_trip(uint64_t bitrate) {
  uint8_t buf[32];
  int n = sb_rtcp_write_remb(buf, sizeof buf, 1, bitrate, NULL, 0);
  g_assert_cmpint(n, ==, 20);
  sb_rtcp_fb fb = single_fb(buf, (size_t)n);
  sb_rtcp_remb r;
  g_assert_cmpint(sb_rtcp_parse_remb(&fb, &r), ==, SB_RTCP_OK);
  g_assert_cmpuint(r.ssrc_count, ==, 0);
  return r.bitrate;
}

static void test_rtcp_write_remb_rounds_down(void) {
  g_assert_cmpuint(remb_round_trip(0), ==, 0);
  g_assert_cmpuint(remb_round_trip(0x3FFFF), ==, 0x3FFFF);
  g_assert_cmpuint(remb_round_trip(0x40000), ==, 0x40000);
  g_assert_cmpuint(remb_round_trip(1000001), ==, 1000000);
  g_assert_cmpuint(remb_round_trip(1000003), ==, 1000000);
  g_assert_cmpuint(remb_round_trip(1000004), ==, 1000004);
  g_assert_cmpuint(remb_round_trip(UINT64_MAX), ==, 0x3FFFFull << 46);
  for (uint64_t b = 1; b < (1ull << 62); b = b * 3 + 7) {
    uint64_t back = remb_round_trip(b);
    g_assert_cmpuint(back, <=, b);
    /* 18 significant bits: the error is below 2^-17 of the value. */
    g_assert_cmpuint(b - back, <=, b >> 17);
  }
  uint32_t many[256] = {0};
  uint8_t big[2048];
  g_assert_cmpint(sb_rtcp_write_remb(big, sizeof big, 1, 5, many, 256), ==, SB_RTCP_ERR_LENGTH);
  g_assert_cmpint(sb_rtcp_write_remb(big, sizeof big, 1, 5, many, 255), ==, 20 + 4 * 255);
}

static void test_rtcp_ntp_from_unix_us(void) {
  g_assert_cmphex(sb_ntp_from_unix_us(0), ==, 2208988800ull << 32);
  g_assert_cmphex(sb_ntp_from_unix_us(1500000), ==, (2208988801ull << 32) | 0x80000000u);
  g_assert_cmphex(sb_ntp_from_unix_us(1700000000250000), ==,
                  (3908988800ull << 32) | 0x40000000u);
  /* One microsecond before the Unix epoch. */
  g_assert_cmphex(sb_ntp_from_unix_us(-1), ==, (2208988799ull << 32) | 0xFFFFEF39u);
  /* 2036-02-07 06:28:16 UTC: NTP era 1 starts, seconds wrap to 0. */
  g_assert_cmphex(sb_ntp_from_unix_us(2085978496000000), ==, 0);
  g_assert_cmphex(sb_ntp_mid32(0xE7A3B5C480000000ull), ==, 0xB5C48000);
}

/* Every prefix of a valid datagram: iteration stops with an error or at a packet
 * boundary, and each parser on each packet it yields stays in bounds. */
static void parse_all(const uint8_t *buf, size_t len) {
  sb_rtcp_iter it;
  sb_rtcp_view v;
  sb_rtcp_iter_init(&it, buf, len);
  while (sb_rtcp_next(&it, &v)) {
    g_assert_true(v.data >= buf && v.data + v.len <= buf + len);
    sb_rtcp_sr sr;
    sb_rtcp_rr rr;
    uint32_t ssrcs[4], ssrc;
    char cname[8];
    sb_rtcp_fb fb;
    (void)sb_rtcp_parse_sr(&v, &sr);
    (void)sb_rtcp_parse_rr(&v, &rr);
    (void)sb_rtcp_parse_bye(&v, ssrcs, 4);
    (void)sb_rtcp_parse_sdes_cname(&v, &ssrc, cname, sizeof cname);
    if (sb_rtcp_parse_fb(&v, &fb) == SB_RTCP_OK) {
      uint16_t seqs[64];
      sb_rtcp_fir_entry e[4];
      sb_rtcp_remb r;
      (void)sb_rtcp_nack_seqs(&fb, seqs, 64);
      (void)sb_rtcp_parse_fir(&fb, e, 4);
      (void)sb_rtcp_parse_remb(&fb, &r);
    }
  }
}

static void check_truncations(const uint8_t *pkt, size_t len) {
  for (size_t cut = 0; cut <= len; cut++) {
    uint8_t *p = dup_exact(pkt, cut);
    parse_all(p, cut);
    g_assert_cmpint(sb_rtcp_is_valid(p, cut), ==, cut == len || (pkt == sr_sdes && cut == 28) ||
                                                      (pkt == rr_nack && cut == 32));
    g_free(p);
  }
}

static void test_rtcp_every_truncation_is_safe(void) {
  check_truncations(sr_sdes, sizeof sr_sdes);
  check_truncations(rr_nack, sizeof rr_nack);
  check_truncations(pli, sizeof pli);
  check_truncations(fir, sizeof fir);
  check_truncations(remb, sizeof remb);
  check_truncations(bye, sizeof bye);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/rtcp/iter/walks_compound_sr_sdes", test_rtcp_iter_walks_compound_sr_sdes);
  g_test_add_func("/rtcp/iter/walks_compound_rr_nack", test_rtcp_iter_walks_compound_rr_nack);
  g_test_add_func("/rtcp/iter/is_valid_accepts_whole_datagrams_only",
                  test_rtcp_is_valid_accepts_whole_datagrams_only);
  g_test_add_func("/rtcp/iter/rejects_length_past_end", test_rtcp_iter_rejects_length_past_end);
  g_test_add_func("/rtcp/iter/checks_padding", test_rtcp_iter_checks_padding);
  g_test_add_func("/rtcp/iter/tolerates_padding_before_last_packet",
                  test_rtcp_iter_tolerates_padding_before_last_packet);
  g_test_add_func("/rtcp/iter/every_truncation_is_safe", test_rtcp_every_truncation_is_safe);
  g_test_add_func("/rtcp/parse/sr_reads_report_blocks", test_rtcp_parse_sr_reads_report_blocks);
  g_test_add_func("/rtcp/parse/reports_reject_count_beyond_length",
                  test_rtcp_parse_reports_reject_count_beyond_length);
  g_test_add_func("/rtcp/parse/reject_wrong_type", test_rtcp_parsers_reject_wrong_type);
  g_test_add_func("/rtcp/parse/reject_short_views", test_rtcp_parsers_reject_short_views);
  g_test_add_func("/rtcp/sdes/cname_truncates_to_capacity",
                  test_rtcp_sdes_cname_truncates_to_capacity);
  g_test_add_func("/rtcp/sdes/without_cname", test_rtcp_sdes_without_cname);
  g_test_add_func("/rtcp/bye/lists_ssrcs", test_rtcp_bye_lists_ssrcs);
  g_test_add_func("/rtcp/fb/requires_twelve_bytes", test_rtcp_fb_requires_twelve_bytes);
  g_test_add_func("/rtcp/nack/expands_full_blp_across_wrap",
                  test_rtcp_nack_expands_full_blp_across_wrap);
  g_test_add_func("/rtcp/nack/rejects_partial_pair", test_rtcp_nack_rejects_partial_pair);
  g_test_add_func("/rtcp/fir/reads_entries", test_rtcp_fir_reads_entries);
  g_test_add_func("/rtcp/remb/reads_one_mbps", test_rtcp_remb_reads_one_mbps);
  g_test_add_func("/rtcp/remb/saturates_on_overflow", test_rtcp_remb_saturates_on_overflow);
  g_test_add_func("/rtcp/remb/checks_identifier_and_ssrc_count",
                  test_rtcp_remb_checks_identifier_and_ssrc_count);
  g_test_add_func("/rtcp/write/sr_matches_chromium_bytes", test_rtcp_write_sr_matches_chromium_bytes);
  g_test_add_func("/rtcp/write/sr_round_trips_blocks", test_rtcp_write_sr_round_trips_blocks);
  g_test_add_func("/rtcp/write/rr_matches_bytes_and_clamps_lost",
                  test_rtcp_write_rr_matches_bytes_and_clamps_lost);
  g_test_add_func("/rtcp/write/sdes_cname_pads_with_nulls",
                  test_rtcp_write_sdes_cname_pads_with_nulls);
  g_test_add_func("/rtcp/write/bye_round_trips", test_rtcp_write_bye_round_trips);
  g_test_add_func("/rtcp/write/nack_packs_blp", test_rtcp_write_nack_packs_blp);
  g_test_add_func("/rtcp/write/nack_across_wrap", test_rtcp_write_nack_across_wrap);
  g_test_add_func("/rtcp/write/nack_splits_gaps_over_16", test_rtcp_write_nack_splits_gaps_over_16);
  g_test_add_func("/rtcp/write/nack_sorts_and_dedups", test_rtcp_write_nack_sorts_and_dedups);
  g_test_add_func("/rtcp/write/nack_long_runs_and_spread",
                  test_rtcp_write_nack_long_runs_and_spread);
  g_test_add_func("/rtcp/write/nack_reports_lack_of_space",
                  test_rtcp_write_nack_reports_lack_of_space);
  g_test_add_func("/rtcp/write/pli_fir_match_bytes", test_rtcp_write_pli_fir_match_bytes);
  g_test_add_func("/rtcp/write/remb_one_mbps_matches_bytes",
                  test_rtcp_write_remb_one_mbps_matches_bytes);
  g_test_add_func("/rtcp/write/remb_rounds_down", test_rtcp_write_remb_rounds_down);
  g_test_add_func("/rtcp/ntp/from_unix_us", test_rtcp_ntp_from_unix_us);
  return g_test_run();
}
