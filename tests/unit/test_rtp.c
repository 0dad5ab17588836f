/* Unit tests for media/rtp: parsing (RFC 3550 §5.1), header extensions (RFC 8285),
 * in-place rewriting and RTX (RFC 4588 §4). Packets are hand-built byte arrays as
 * a browser sends them; truncated copies are heap buffers of exactly their length
 * so AddressSanitizer catches any read past the end. */
#include <glib.h>
#include <string.h>

#include "media/rtp.h"

/* VP8 from Chromium: V=2 X=1 M=1 PT=96, seq 0x1234, ts 0xAABBCCDD, SSRC 0x11223344;
 * one-byte extensions: id 1 (3 bytes, abs-send-time), id 3 (2 bytes,
 * transport-wide seq), id 4 (1 byte), then three padding bytes; 4 payload bytes. */
static const uint8_t pkt_one_byte[] = {
  0x90, 0xE0, 0x12, 0x34, 0xAA, 0xBB, 0xCC, 0xDD, 0x11, 0x22, 0x33, 0x44,
  0xBE, 0xDE, 0x00, 0x03,
  0x12, 0x01, 0x02, 0x03,         /* id 1, L=2: 3 bytes */
  0x31, 0x00, 0x2A,               /* id 3, L=1: 2 bytes */
  0x40, 0x07,                     /* id 4, L=0: 1 byte */
  0x00, 0x00, 0x00,               /* padding to the 32-bit boundary */
  0x90, 0x80, 0x00, 0x9D,
};

/* Two-byte form (0x1000 with appbits 0), one CSRC: id 1 with 0 bytes, id 200
 * with 3 bytes, one padding byte; 2 payload bytes and 2 bytes of RTP padding. */
static const uint8_t pkt_two_byte[] = {
  0xB1, 0x60, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x01, 0xDE, 0xAD, 0xBE, 0xEF,
  0x01, 0x02, 0x03, 0x04,         /* CSRC */
  0x10, 0x00, 0x00, 0x02,
  0x01, 0x00,                     /* id 1, len 0 */
  0xC8, 0x03, 0x0A, 0x0B, 0x0C,   /* id 200, len 3 */
  0x00,                           /* padding */
  0x55, 0x66,                     /* payload */
  0x00, 0x02,                     /* RTP padding, count 2 */
};

/* Opus without extensions: 12-byte header and 5 bytes of payload. */
static const uint8_t pkt_plain[] = {
  0x80, 0x6F, 0x00, 0x01, 0x00, 0x00, 0x03, 0xC0, 0xCA, 0xFE, 0xBA, 0xBE,
  0xF8, 0xFF, 0xFE, 0x01, 0x02,
};

static uint8_t *dup_exact(const uint8_t *p, size_t len) { return g_memdup2(p, len ? len : 1); }

static void test_rtp_parse_reads_fixed_header(void) {
  sb_rtp_view v;
  g_assert_cmpint(sb_rtp_parse(pkt_plain, sizeof pkt_plain, &v), ==, SB_RTP_OK);
  g_assert_cmpuint(v.version, ==, 2);
  g_assert_false(v.padding);
  g_assert_false(v.extension);
  g_assert_false(v.marker);
  g_assert_cmpuint(v.pt, ==, 111);
  g_assert_cmpuint(v.seq, ==, 1);
  g_assert_cmpuint(v.ts, ==, 960);
  g_assert_cmpuint(v.ssrc, ==, 0xCAFEBABE);
  g_assert_cmpuint(v.header_len, ==, 12);
  g_assert_cmpuint(v.payload_len, ==, 5);
  g_assert_cmpuint(v.padding_len, ==, 0);
  g_assert_cmpuint(v.ext_profile, ==, 0);
}

static void test_rtp_parse_one_byte_extension_block(void) {
  sb_rtp_view v;
  g_assert_cmpint(sb_rtp_parse(pkt_one_byte, sizeof pkt_one_byte, &v), ==, SB_RTP_OK);
  g_assert_true(v.extension);
  g_assert_true(v.marker);
  g_assert_cmpuint(v.pt, ==, 96);
  g_assert_cmpuint(v.seq, ==, 0x1234);
  g_assert_cmpuint(v.ts, ==, 0xAABBCCDD);
  g_assert_cmpuint(v.ssrc, ==, 0x11223344);
  g_assert_cmphex(v.ext_profile, ==, SB_RTP_EXT_ONE_BYTE);
  g_assert_cmpuint(v.ext_offset, ==, 16);
  g_assert_cmpuint(v.ext_len, ==, 12);
  g_assert_cmpuint(v.header_len, ==, 28);
  g_assert_cmpuint(v.payload_len, ==, 4);
}

static void test_rtp_parse_csrcs_two_byte_extension_and_padding(void) {
  sb_rtp_view v;
  g_assert_cmpint(sb_rtp_parse(pkt_two_byte, sizeof pkt_two_byte, &v), ==, SB_RTP_OK);
  g_assert_cmpuint(v.csrc_count, ==, 1);
  g_assert_true(v.padding);
  g_assert_cmphex(v.ext_profile, ==, 0x1000);
  g_assert_cmpuint(v.ext_offset, ==, 20);
  g_assert_cmpuint(v.ext_len, ==, 8);
  g_assert_cmpuint(v.header_len, ==, 28);
  g_assert_cmpuint(v.payload_len, ==, 2);
  g_assert_cmpuint(v.padding_len, ==, 2);
  g_assert_cmpuint(v.seq, ==, 0xFFFF);
}

static void test_rtp_parse_rejects_bad_version(void) {
  uint8_t p[sizeof pkt_plain];
  memcpy(p, pkt_plain, sizeof p);
  sb_rtp_view v;
  for (uint8_t ver = 0; ver < 4; ver++) {
    if (ver == 2)
      continue;
    p[0] = (uint8_t)((ver << 6) | (p[0] & 0x3F));
    g_assert_cmpint(sb_rtp_parse(p, sizeof p, &v), ==, SB_RTP_ERR_VERSION);
  }
}

static void test_rtp_parse_rejects_short_header(void) {
  sb_rtp_view v;
  g_assert_cmpint(sb_rtp_parse(pkt_plain, 11, &v), ==, SB_RTP_ERR_SHORT);
  g_assert_cmpint(sb_rtp_parse(NULL, 0, &v), ==, SB_RTP_ERR_SHORT);
  /* 15 CSRCs declared in a 17-byte packet. */
  uint8_t p[sizeof pkt_plain];
  memcpy(p, pkt_plain, sizeof p);
  p[0] |= 0x0F;
  g_assert_cmpint(sb_rtp_parse(p, sizeof p, &v), ==, SB_RTP_ERR_SHORT);
}

static void test_rtp_parse_rejects_extension_longer_than_packet(void) {
  uint8_t p[sizeof pkt_one_byte];
  memcpy(p, pkt_one_byte, sizeof p);
  sb_rtp_view v;
  /* 4 words of extension data, but only 3 words + 4 payload bytes follow: fits. */
  p[15] = 0x04;
  g_assert_cmpint(sb_rtp_parse(p, sizeof p, &v), ==, SB_RTP_OK);
  g_assert_cmpuint(v.payload_len, ==, 0);
  p[15] = 0x05;
  g_assert_cmpint(sb_rtp_parse(p, sizeof p, &v), ==, SB_RTP_ERR_SHORT);
  p[14] = 0xFF;
  p[15] = 0xFF;
  g_assert_cmpint(sb_rtp_parse(p, sizeof p, &v), ==, SB_RTP_ERR_SHORT);
  /* X bit set but no room for the 4-byte extension header. */
  uint8_t q[14];
  memcpy(q, pkt_plain, sizeof q);
  q[0] |= 0x10;
  g_assert_cmpint(sb_rtp_parse(q, sizeof q, &v), ==, SB_RTP_ERR_SHORT);
}

static void test_rtp_parse_checks_padding_count(void) {
  uint8_t p[sizeof pkt_plain];
  sb_rtp_view v;
  memcpy(p, pkt_plain, sizeof p);
  p[0] |= 0x20;
  /* Count 0 is invalid: the count byte counts itself. */
  p[sizeof p - 1] = 0;
  g_assert_cmpint(sb_rtp_parse(p, sizeof p, &v), ==, SB_RTP_ERR_PADDING);
  /* All 5 bytes after the header are padding: valid, empty payload. */
  p[sizeof p - 1] = 5;
  g_assert_cmpint(sb_rtp_parse(p, sizeof p, &v), ==, SB_RTP_OK);
  g_assert_cmpuint(v.payload_len, ==, 0);
  g_assert_cmpuint(v.padding_len, ==, 5);
  /* One more would reach into the header. */
  p[sizeof p - 1] = 6;
  g_assert_cmpint(sb_rtp_parse(p, sizeof p, &v), ==, SB_RTP_ERR_PADDING);
  /* P bit on a header-only packet: no count byte at all. */
  g_assert_cmpint(sb_rtp_parse(p, 12, &v), ==, SB_RTP_ERR_PADDING);
}

static void test_rtp_parse_rejects_over_65535_bytes(void) {
  size_t len = 65536;
  uint8_t *p = g_malloc0(len);
  memcpy(p, pkt_plain, sizeof pkt_plain);
  sb_rtp_view v;
  g_assert_cmpint(sb_rtp_parse(p, len, &v), ==, SB_RTP_ERR_SHORT);
  g_assert_cmpint(sb_rtp_parse(p, len - 1, &v), ==, SB_RTP_OK);
  g_assert_cmpuint(v.payload_len, ==, 65535 - 12);
  g_free(p);
}

/* Collects the elements of a packet; returns the iterator's final error. */
static int collect(const uint8_t *buf, const sb_rtp_view *v, sb_rtp_ext *out, size_t max,
                   size_t *n) {
  sb_rtp_ext_iter it;
  sb_rtp_ext e;
  *n = 0;
  sb_rtp_ext_iter_init(&it, buf, v);
  while (sb_rtp_ext_next(&it, &e)) {
    if (*n < max)
      out[*n] = e;
    (*n)++;
  }
  return it.error;
}

static void test_rtp_ext_one_byte_iterates_elements_and_skips_padding(void) {
  sb_rtp_view v;
  sb_rtp_ext e[8];
  size_t n;
  g_assert_cmpint(sb_rtp_parse(pkt_one_byte, sizeof pkt_one_byte, &v), ==, SB_RTP_OK);
  g_assert_cmpint(collect(pkt_one_byte, &v, e, 8, &n), ==, SB_RTP_OK);
  g_assert_cmpuint(n, ==, 3);
  g_assert_cmpuint(e[0].id, ==, 1);
  g_assert_cmpuint(e[0].len, ==, 3);
  g_assert_cmpuint(e[0].offset, ==, 16);
  g_assert_true(e[0].data == pkt_one_byte + 17);
  g_assert_cmpuint(e[1].id, ==, 3);
  g_assert_cmpuint(e[1].len, ==, 2);
  g_assert_cmpuint(e[1].data[1], ==, 0x2A);
  g_assert_cmpuint(e[2].id, ==, 4);
  g_assert_cmpuint(e[2].len, ==, 1);
  g_assert_cmpuint(e[2].data[0], ==, 0x07);
}

static void test_rtp_ext_two_byte_allows_zero_length(void) {
  sb_rtp_view v;
  sb_rtp_ext e[8];
  size_t n;
  g_assert_cmpint(sb_rtp_parse(pkt_two_byte, sizeof pkt_two_byte, &v), ==, SB_RTP_OK);
  g_assert_cmpint(collect(pkt_two_byte, &v, e, 8, &n), ==, SB_RTP_OK);
  g_assert_cmpuint(n, ==, 2);
  g_assert_cmpuint(e[0].id, ==, 1);
  g_assert_cmpuint(e[0].len, ==, 0);
  g_assert_cmpuint(e[0].offset, ==, 20);
  g_assert_cmpuint(e[1].id, ==, 200);
  g_assert_cmpuint(e[1].len, ==, 3);
  g_assert_cmpmem(e[1].data, 3, "\x0A\x0B\x0C", 3);
}

static void test_rtp_ext_two_byte_appbits_accepted(void) {
  uint8_t p[sizeof pkt_two_byte];
  memcpy(p, pkt_two_byte, sizeof p);
  p[17] = 0x0F; /* profile 0x100F */
  sb_rtp_view v;
  sb_rtp_ext e[4];
  size_t n;
  g_assert_cmpint(sb_rtp_parse(p, sizeof p, &v), ==, SB_RTP_OK);
  g_assert_cmpint(collect(p, &v, e, 4, &n), ==, SB_RTP_OK);
  g_assert_cmpuint(n, ==, 2);
}

static void test_rtp_ext_one_byte_id15_stops_without_error(void) {
  uint8_t p[sizeof pkt_one_byte];
  memcpy(p, pkt_one_byte, sizeof p);
  p[20] = 0xF1; /* where id 3 was: ID 15 ends processing (RFC 8285 §4.2) */
  sb_rtp_view v;
  sb_rtp_ext e[8];
  size_t n;
  g_assert_cmpint(sb_rtp_parse(p, sizeof p, &v), ==, SB_RTP_OK);
  g_assert_cmpint(collect(p, &v, e, 8, &n), ==, SB_RTP_OK);
  g_assert_cmpuint(n, ==, 1);
  g_assert_cmpuint(e[0].id, ==, 1);
}

static void test_rtp_ext_one_byte_id0_with_length_is_malformed(void) {
  uint8_t p[sizeof pkt_one_byte];
  memcpy(p, pkt_one_byte, sizeof p);
  p[20] = 0x01;
  sb_rtp_view v;
  sb_rtp_ext e[8];
  size_t n;
  g_assert_cmpint(sb_rtp_parse(p, sizeof p, &v), ==, SB_RTP_OK);
  g_assert_cmpint(collect(p, &v, e, 8, &n), ==, SB_RTP_ERR_EXT);
  g_assert_cmpuint(n, ==, 1);
}

static void test_rtp_ext_element_past_block_end_is_malformed(void) {
  uint8_t p[sizeof pkt_one_byte];
  memcpy(p, pkt_one_byte, sizeof p);
  p[23] = 0x4F; /* id 4 claims 16 bytes, 5 remain in the block */
  sb_rtp_view v;
  sb_rtp_ext e[8];
  size_t n;
  g_assert_cmpint(sb_rtp_parse(p, sizeof p, &v), ==, SB_RTP_OK);
  g_assert_cmpint(collect(p, &v, e, 8, &n), ==, SB_RTP_ERR_EXT);
  g_assert_cmpuint(n, ==, 2);

  uint8_t q[sizeof pkt_two_byte];
  memcpy(q, pkt_two_byte, sizeof q);
  q[23] = 0x05; /* id 200 claims 5 bytes, 4 remain */
  g_assert_cmpint(sb_rtp_parse(q, sizeof q, &v), ==, SB_RTP_OK);
  g_assert_cmpint(collect(q, &v, e, 8, &n), ==, SB_RTP_ERR_EXT);
  g_assert_cmpuint(n, ==, 1);
}

static void test_rtp_ext_two_byte_id_without_length_byte_is_malformed(void) {
  uint8_t q[sizeof pkt_two_byte];
  memcpy(q, pkt_two_byte, sizeof q);
  q[27] = 0x09; /* the last byte of the block, an id with no length byte */
  sb_rtp_view v;
  sb_rtp_ext e[8];
  size_t n;
  g_assert_cmpint(sb_rtp_parse(q, sizeof q, &v), ==, SB_RTP_OK);
  g_assert_cmpint(collect(q, &v, e, 8, &n), ==, SB_RTP_ERR_EXT);
  g_assert_cmpuint(n, ==, 2);
}

static void test_rtp_ext_unknown_profile_has_no_elements(void) {
  uint8_t p[sizeof pkt_one_byte];
  memcpy(p, pkt_one_byte, sizeof p);
  p[12] = 0x12;
  p[13] = 0x34;
  sb_rtp_view v;
  sb_rtp_ext e[8];
  size_t n;
  g_assert_cmpint(sb_rtp_parse(p, sizeof p, &v), ==, SB_RTP_OK);
  g_assert_cmphex(v.ext_profile, ==, 0x1234);
  g_assert_cmpint(collect(p, &v, e, 8, &n), ==, SB_RTP_OK);
  g_assert_cmpuint(n, ==, 0);
  /* And a packet without an extension has none either. */
  g_assert_cmpint(sb_rtp_parse(pkt_plain, sizeof pkt_plain, &v), ==, SB_RTP_OK);
  g_assert_cmpint(collect(pkt_plain, &v, e, 8, &n), ==, SB_RTP_OK);
  g_assert_cmpuint(n, ==, 0);
}

static void test_rtp_ext_find_returns_element_by_id(void) {
  sb_rtp_view v;
  sb_rtp_ext e;
  g_assert_cmpint(sb_rtp_parse(pkt_one_byte, sizeof pkt_one_byte, &v), ==, SB_RTP_OK);
  g_assert_true(sb_rtp_ext_find(pkt_one_byte, &v, 3, &e));
  g_assert_cmpuint(e.len, ==, 2);
  g_assert_cmpuint(e.offset, ==, 20);
  g_assert_false(sb_rtp_ext_find(pkt_one_byte, &v, 2, &e));
  g_assert_cmpint(sb_rtp_parse(pkt_two_byte, sizeof pkt_two_byte, &v), ==, SB_RTP_OK);
  g_assert_true(sb_rtp_ext_find(pkt_two_byte, &v, 200, &e));
  g_assert_cmpuint(e.data[2], ==, 0x0C);
}

static void test_rtp_setters_rewrite_fields_in_place(void) {
  uint8_t p[sizeof pkt_one_byte];
  memcpy(p, pkt_one_byte, sizeof p);
  sb_rtp_set_seq(p, 0xBEEF);
  sb_rtp_set_ts(p, 0x01020304);
  sb_rtp_set_ssrc(p, 0xA1B2C3D4);
  sb_rtp_set_pt(p, 100);
  sb_rtp_view v;
  g_assert_cmpint(sb_rtp_parse(p, sizeof p, &v), ==, SB_RTP_OK);
  g_assert_cmpuint(v.seq, ==, 0xBEEF);
  g_assert_cmpuint(v.ts, ==, 0x01020304);
  g_assert_cmpuint(v.ssrc, ==, 0xA1B2C3D4);
  g_assert_cmpuint(v.pt, ==, 100);
  g_assert_true(v.marker); /* set_pt keeps the marker */
  sb_rtp_set_marker(p, false);
  g_assert_cmpint(sb_rtp_parse(p, sizeof p, &v), ==, SB_RTP_OK);
  g_assert_false(v.marker);
  g_assert_cmpuint(v.pt, ==, 100); /* set_marker keeps the payload type */
  sb_rtp_set_marker(p, true);
  g_assert_cmphex(p[1], ==, 0x80 | 100);
  /* Everything after the fixed header is untouched. */
  g_assert_cmpmem(p + 12, sizeof p - 12, pkt_one_byte + 12, sizeof pkt_one_byte - 12);
}

static void identity_map(uint8_t map[256]) {
  for (int i = 0; i < 256; i++)
    map[i] = (uint8_t)i;
}

static void test_rtp_ext_remap_renumbers_one_byte_ids(void) {
  uint8_t p[sizeof pkt_one_byte];
  memcpy(p, pkt_one_byte, sizeof p);
  uint8_t map[256];
  identity_map(map);
  map[1] = 2;
  map[3] = 5;
  sb_rtp_view v;
  sb_rtp_ext e[8];
  size_t n;
  g_assert_cmpint(sb_rtp_parse(p, sizeof p, &v), ==, SB_RTP_OK);
  g_assert_cmpint(sb_rtp_ext_remap(p, &v, map), ==, SB_RTP_OK);
  g_assert_cmpint(collect(p, &v, e, 8, &n), ==, SB_RTP_OK);
  g_assert_cmpuint(n, ==, 3);
  g_assert_cmpuint(e[0].id, ==, 2);
  g_assert_cmpuint(e[0].len, ==, 3);
  g_assert_cmpuint(e[1].id, ==, 5);
  g_assert_cmpuint(e[1].len, ==, 2);
  g_assert_cmpuint(e[2].id, ==, 4);
  g_assert_cmphex(p[16], ==, 0x22);
  g_assert_cmphex(p[20], ==, 0x51);
  /* Data bytes are untouched. */
  g_assert_cmpmem(p + 17, 3, pkt_one_byte + 17, 3);
}

static void test_rtp_ext_remap_removes_element_as_padding(void) {
  uint8_t p[sizeof pkt_one_byte];
  memcpy(p, pkt_one_byte, sizeof p);
  uint8_t map[256];
  identity_map(map);
  map[3] = 0;
  sb_rtp_view v;
  sb_rtp_ext e[8];
  size_t n;
  g_assert_cmpint(sb_rtp_parse(p, sizeof p, &v), ==, SB_RTP_OK);
  g_assert_cmpint(sb_rtp_ext_remap(p, &v, map), ==, SB_RTP_OK);
  g_assert_cmpmem(p + 20, 3, "\0\0\0", 3);
  g_assert_cmpint(collect(p, &v, e, 8, &n), ==, SB_RTP_OK);
  g_assert_cmpuint(n, ==, 2);
  g_assert_cmpuint(e[0].id, ==, 1);
  g_assert_cmpuint(e[1].id, ==, 4);
  g_assert_cmpuint(e[1].data[0], ==, 0x07);
}

static void test_rtp_ext_remap_one_byte_above_14_is_removed(void) {
  uint8_t p[sizeof pkt_one_byte];
  memcpy(p, pkt_one_byte, sizeof p);
  uint8_t map[256];
  identity_map(map);
  map[1] = 15;
  map[4] = 200;
  sb_rtp_view v;
  sb_rtp_ext e[8];
  size_t n;
  g_assert_cmpint(sb_rtp_parse(p, sizeof p, &v), ==, SB_RTP_OK);
  g_assert_cmpint(sb_rtp_ext_remap(p, &v, map), ==, SB_RTP_OK);
  g_assert_cmpmem(p + 16, 4, "\0\0\0\0", 4);
  g_assert_cmpmem(p + 23, 2, "\0\0", 2);
  g_assert_cmpint(collect(p, &v, e, 8, &n), ==, SB_RTP_OK);
  g_assert_cmpuint(n, ==, 1);
  g_assert_cmpuint(e[0].id, ==, 3);
}

static void test_rtp_ext_remap_two_byte_renumbers_and_removes(void) {
  uint8_t p[sizeof pkt_two_byte];
  memcpy(p, pkt_two_byte, sizeof p);
  uint8_t map[256];
  identity_map(map);
  map[1] = 0;
  map[200] = 17;
  sb_rtp_view v;
  sb_rtp_ext e[8];
  size_t n;
  g_assert_cmpint(sb_rtp_parse(p, sizeof p, &v), ==, SB_RTP_OK);
  g_assert_cmpint(sb_rtp_ext_remap(p, &v, map), ==, SB_RTP_OK);
  g_assert_cmpmem(p + 20, 2, "\0\0", 2);
  g_assert_cmpint(collect(p, &v, e, 8, &n), ==, SB_RTP_OK);
  g_assert_cmpuint(n, ==, 1);
  g_assert_cmpuint(e[0].id, ==, 17);
  g_assert_cmpuint(e[0].len, ==, 3);
}

static void test_rtp_ext_remap_leaves_malformed_block_untouched(void) {
  uint8_t p[sizeof pkt_one_byte];
  memcpy(p, pkt_one_byte, sizeof p);
  p[23] = 0x4F; /* the third element overruns the block */
  uint8_t before[sizeof p];
  memcpy(before, p, sizeof p);
  uint8_t map[256];
  memset(map, 0, sizeof map);
  sb_rtp_view v;
  g_assert_cmpint(sb_rtp_parse(p, sizeof p, &v), ==, SB_RTP_OK);
  g_assert_cmpint(sb_rtp_ext_remap(p, &v, map), ==, SB_RTP_ERR_EXT);
  g_assert_cmpmem(p, sizeof p, before, sizeof before);
}

static void test_rtp_ext_remap_without_extension_is_noop(void) {
  uint8_t p[sizeof pkt_plain];
  memcpy(p, pkt_plain, sizeof p);
  uint8_t map[256];
  memset(map, 0, sizeof map);
  sb_rtp_view v;
  g_assert_cmpint(sb_rtp_parse(p, sizeof p, &v), ==, SB_RTP_OK);
  g_assert_cmpint(sb_rtp_ext_remap(p, &v, map), ==, SB_RTP_OK);
  g_assert_cmpmem(p, sizeof p, pkt_plain, sizeof pkt_plain);
}

static void test_rtp_rtx_wrap_then_unwrap_restores_original(void) {
  const uint8_t *orig = pkt_one_byte;
  size_t len = sizeof pkt_one_byte;
  sb_rtp_view v;
  g_assert_cmpint(sb_rtp_parse(orig, len, &v), ==, SB_RTP_OK);
  uint8_t rtx[64];
  int n = sb_rtp_rtx_wrap(orig, &v, rtx, sizeof rtx, 97, 0x55667788, 7);
  g_assert_cmpint(n, ==, (int)len + 2);

  sb_rtp_view rv;
  g_assert_cmpint(sb_rtp_parse(rtx, (size_t)n, &rv), ==, SB_RTP_OK);
  g_assert_cmpuint(rv.pt, ==, 97);
  g_assert_cmpuint(rv.ssrc, ==, 0x55667788);
  g_assert_cmpuint(rv.seq, ==, 7);
  g_assert_true(rv.marker);
  g_assert_cmpuint(rv.ts, ==, v.ts);
  g_assert_cmpuint(rv.payload_len, ==, v.payload_len + 2);
  /* RFC 4588 §4: OSN first, then the original payload. */
  g_assert_cmphex(rtx[rv.header_len], ==, 0x12);
  g_assert_cmphex(rtx[rv.header_len + 1], ==, 0x34);
  g_assert_cmpmem(rtx + 12, v.header_len - 12u, orig + 12, v.header_len - 12u);

  int m = sb_rtp_rtx_unwrap(rtx, &rv, 96, 0x11223344);
  g_assert_cmpint(m, ==, (int)len);
  g_assert_cmpmem(rtx, (size_t)m, orig, len);
  g_assert_cmpuint(rv.seq, ==, 0x1234);
  g_assert_cmpuint(rv.payload_len, ==, 4);
  sb_rtp_view check;
  g_assert_cmpint(sb_rtp_parse(rtx, (size_t)m, &check), ==, SB_RTP_OK);
  g_assert_cmpmem(&check, sizeof check, &rv, sizeof rv);
}

static void test_rtp_rtx_wrap_in_place(void) {
  uint8_t buf[64];
  memcpy(buf, pkt_plain, sizeof pkt_plain);
  sb_rtp_view v;
  g_assert_cmpint(sb_rtp_parse(buf, sizeof pkt_plain, &v), ==, SB_RTP_OK);
  int n = sb_rtp_rtx_wrap(buf, &v, buf, sizeof buf, 112, 0x0BADF00D, 99);
  g_assert_cmpint(n, ==, (int)sizeof pkt_plain + 2);
  sb_rtp_view rv;
  g_assert_cmpint(sb_rtp_parse(buf, (size_t)n, &rv), ==, SB_RTP_OK);
  int m = sb_rtp_rtx_unwrap(buf, &rv, 111, 0xCAFEBABE);
  g_assert_cmpint(m, ==, (int)sizeof pkt_plain);
  g_assert_cmpmem(buf, (size_t)m, pkt_plain, sizeof pkt_plain);
}

/* The forwarding path rewrites a copy to the subscriber's numbering, then wraps it
 * with the view parsed from the publisher's packet: the OSN must be the number the
 * subscriber knows. */
static void test_rtp_rtx_wrap_uses_rewritten_seq(void) {
  sb_rtp_view v;
  g_assert_cmpint(sb_rtp_parse(pkt_one_byte, sizeof pkt_one_byte, &v), ==, SB_RTP_OK);
  uint8_t scratch[sizeof pkt_one_byte];
  memcpy(scratch, pkt_one_byte, sizeof scratch);
  sb_rtp_set_seq(scratch, 0x0777);
  sb_rtp_set_ssrc(scratch, 0x99);
  uint8_t rtx[64];
  int n = sb_rtp_rtx_wrap(scratch, &v, rtx, sizeof rtx, 97, 0x55, 1);
  g_assert_cmpint(n, ==, (int)sizeof pkt_one_byte + 2);
  g_assert_cmphex(rtx[v.header_len], ==, 0x07);
  g_assert_cmphex(rtx[v.header_len + 1], ==, 0x77);
  sb_rtp_view rv;
  g_assert_cmpint(sb_rtp_parse(rtx, (size_t)n, &rv), ==, SB_RTP_OK);
  g_assert_cmpint(sb_rtp_rtx_unwrap(rtx, &rv, 96, 0x99), ==, (int)sizeof scratch);
  g_assert_cmpmem(rtx, sizeof scratch, scratch, sizeof scratch);
}

static void test_rtp_rtx_wrap_drops_padding(void) {
  sb_rtp_view v;
  g_assert_cmpint(sb_rtp_parse(pkt_two_byte, sizeof pkt_two_byte, &v), ==, SB_RTP_OK);
  uint8_t rtx[64];
  int n = sb_rtp_rtx_wrap(pkt_two_byte, &v, rtx, sizeof rtx, 97, 1, 2);
  g_assert_cmpint(n, ==, (int)(v.header_len + 2 + v.payload_len));
  sb_rtp_view rv;
  g_assert_cmpint(sb_rtp_parse(rtx, (size_t)n, &rv), ==, SB_RTP_OK);
  g_assert_false(rv.padding);
  int m = sb_rtp_rtx_unwrap(rtx, &rv, 96, 0xDEADBEEF);
  g_assert_cmpint(m, ==, (int)sizeof pkt_two_byte - 2);
  /* The original without its padding and with P cleared. */
  g_assert_cmphex(rtx[0], ==, pkt_two_byte[0] & ~0x20);
  g_assert_cmpmem(rtx + 1, (size_t)m - 1, pkt_two_byte + 1, (size_t)m - 1);
}

static void test_rtp_rtx_wrap_refuses_small_destination(void) {
  sb_rtp_view v;
  g_assert_cmpint(sb_rtp_parse(pkt_plain, sizeof pkt_plain, &v), ==, SB_RTP_OK);
  uint8_t rtx[sizeof pkt_plain + 2];
  g_assert_cmpint(sb_rtp_rtx_wrap(pkt_plain, &v, rtx, sizeof rtx - 1, 97, 1, 2), ==,
                  SB_RTP_ERR_SPACE);
  g_assert_cmpint(sb_rtp_rtx_wrap(pkt_plain, &v, rtx, sizeof rtx, 97, 1, 2), ==,
                  (int)sizeof rtx);
}

static void test_rtp_rtx_unwrap_padding_probe_is_short(void) {
  /* Chromium's bandwidth probes on the RTX SSRC: header plus padding only. */
  uint8_t probe[12 + 8] = {0xA0, 0x61, 0x00, 0x05, 0, 0, 0, 1, 0, 0, 0, 2};
  probe[sizeof probe - 1] = 8;
  sb_rtp_view v;
  g_assert_cmpint(sb_rtp_parse(probe, sizeof probe, &v), ==, SB_RTP_OK);
  g_assert_cmpuint(v.payload_len, ==, 0);
  g_assert_cmpint(sb_rtp_rtx_unwrap(probe, &v, 96, 1), ==, SB_RTP_ERR_SHORT);
  /* One byte of payload is not an OSN either. */
  probe[sizeof probe - 1] = 7;
  g_assert_cmpint(sb_rtp_parse(probe, sizeof probe, &v), ==, SB_RTP_OK);
  g_assert_cmpint(sb_rtp_rtx_unwrap(probe, &v, 96, 1), ==, SB_RTP_ERR_SHORT);
}

static void test_rtp_rtx_unwrap_of_padded_rtx_drops_padding(void) {
  /* RTX with OSN 0x0102, payload AB CD, then 4 bytes of padding. */
  uint8_t p[] = {0xA0, 0x61, 0x00, 0x05, 0, 0, 0, 1, 0, 0, 0, 2,
                 0x01, 0x02, 0xAB, 0xCD, 0, 0, 0, 4};
  sb_rtp_view v;
  g_assert_cmpint(sb_rtp_parse(p, sizeof p, &v), ==, SB_RTP_OK);
  int m = sb_rtp_rtx_unwrap(p, &v, 96, 0x10203040);
  g_assert_cmpint(m, ==, 14);
  const uint8_t want[] = {0x80, 0x60, 0x01, 0x02, 0, 0, 0, 1, 0x10, 0x20, 0x30, 0x40,
                          0xAB, 0xCD};
  g_assert_cmpmem(p, (size_t)m, want, sizeof want);
  sb_rtp_view check;
  g_assert_cmpint(sb_rtp_parse(p, (size_t)m, &check), ==, SB_RTP_OK);
  g_assert_cmpmem(&check, sizeof check, &v, sizeof v);
}

/* Every prefix of a valid packet either fails to parse or parses into a view whose
 * pieces add up to the prefix; iterating and remapping its extensions stays inside
 * it. The heap copies are exactly as long as the prefix. */
static void check_truncations(const uint8_t *pkt, size_t len) {
  for (size_t cut = 0; cut <= len; cut++) {
    uint8_t *p = dup_exact(pkt, cut);
    sb_rtp_view v;
    int rc = sb_rtp_parse(cut ? p : NULL, cut, &v);
    if (rc == SB_RTP_OK) {
      g_assert_cmpuint((size_t)v.header_len + v.payload_len + v.padding_len, ==, cut);
      g_assert_cmpuint((size_t)v.ext_offset + v.ext_len, <=, v.header_len);
      sb_rtp_ext e[32];
      size_t n;
      int err = collect(p, &v, e, 32, &n);
      for (size_t i = 0; i < n && i < 32; i++)
        g_assert_cmpuint((size_t)(e[i].data - p) + e[i].len, <=, v.header_len);
      uint8_t map[256];
      identity_map(map);
      map[1] = 0;
      g_assert_cmpint(sb_rtp_ext_remap(p, &v, map), ==, err);
    } else {
      g_assert_cmpint(rc, <, 0);
    }
    g_free(p);
  }
}

static void test_rtp_parse_every_truncation_is_safe(void) {
  check_truncations(pkt_one_byte, sizeof pkt_one_byte);
  check_truncations(pkt_two_byte, sizeof pkt_two_byte);
  check_truncations(pkt_plain, sizeof pkt_plain);
}

static void test_rtp_seq_arithmetic_wraps(void) {
  g_assert_cmpint(sb_seq_diff(0, 65535), ==, 1);
  g_assert_cmpint(sb_seq_diff(65535, 0), ==, -1);
  g_assert_true(sb_seq_newer(2, 65530));
  g_assert_false(sb_seq_newer(65530, 2));
  g_assert_false(sb_seq_newer(7, 7));
  g_assert_cmpint(sb_ts_diff(5, 0xFFFFFFFB), ==, 10);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/rtp/parse/reads_fixed_header", test_rtp_parse_reads_fixed_header);
  g_test_add_func("/rtp/parse/one_byte_extension_block", test_rtp_parse_one_byte_extension_block);
  g_test_add_func("/rtp/parse/csrcs_two_byte_extension_and_padding",
                  test_rtp_parse_csrcs_two_byte_extension_and_padding);
  g_test_add_func("/rtp/parse/rejects_bad_version", test_rtp_parse_rejects_bad_version);
  g_test_add_func("/rtp/parse/rejects_short_header", test_rtp_parse_rejects_short_header);
  g_test_add_func("/rtp/parse/rejects_extension_longer_than_packet",
                  test_rtp_parse_rejects_extension_longer_than_packet);
  g_test_add_func("/rtp/parse/checks_padding_count", test_rtp_parse_checks_padding_count);
  g_test_add_func("/rtp/parse/rejects_over_65535_bytes", test_rtp_parse_rejects_over_65535_bytes);
  g_test_add_func("/rtp/parse/every_truncation_is_safe", test_rtp_parse_every_truncation_is_safe);
  g_test_add_func("/rtp/ext/one_byte_iterates_elements_and_skips_padding",
                  test_rtp_ext_one_byte_iterates_elements_and_skips_padding);
  g_test_add_func("/rtp/ext/two_byte_allows_zero_length", test_rtp_ext_two_byte_allows_zero_length);
  g_test_add_func("/rtp/ext/two_byte_appbits_accepted", test_rtp_ext_two_byte_appbits_accepted);
  g_test_add_func("/rtp/ext/one_byte_id15_stops_without_error",
                  test_rtp_ext_one_byte_id15_stops_without_error);
  g_test_add_func("/rtp/ext/one_byte_id0_with_length_is_malformed",
                  test_rtp_ext_one_byte_id0_with_length_is_malformed);
  g_test_add_func("/rtp/ext/element_past_block_end_is_malformed",
                  test_rtp_ext_element_past_block_end_is_malformed);
  g_test_add_func("/rtp/ext/two_byte_id_without_length_byte_is_malformed",
                  test_rtp_ext_two_byte_id_without_length_byte_is_malformed);
  g_test_add_func("/rtp/ext/unknown_profile_has_no_elements",
                  test_rtp_ext_unknown_profile_has_no_elements);
  g_test_add_func("/rtp/ext/find_returns_element_by_id", test_rtp_ext_find_returns_element_by_id);
  g_test_add_func("/rtp/set/rewrite_fields_in_place", test_rtp_setters_rewrite_fields_in_place);
  g_test_add_func("/rtp/remap/renumbers_one_byte_ids", test_rtp_ext_remap_renumbers_one_byte_ids);
  g_test_add_func("/rtp/remap/removes_element_as_padding",
                  test_rtp_ext_remap_removes_element_as_padding);
  g_test_add_func("/rtp/remap/one_byte_above_14_is_removed",
                  test_rtp_ext_remap_one_byte_above_14_is_removed);
  g_test_add_func("/rtp/remap/two_byte_renumbers_and_removes",
                  test_rtp_ext_remap_two_byte_renumbers_and_removes);
  g_test_add_func("/rtp/remap/leaves_malformed_block_untouched",
                  test_rtp_ext_remap_leaves_malformed_block_untouched);
  g_test_add_func("/rtp/remap/without_extension_is_noop",
                  test_rtp_ext_remap_without_extension_is_noop);
  g_test_add_func("/rtp/rtx/wrap_then_unwrap_restores_original",
                  test_rtp_rtx_wrap_then_unwrap_restores_original);
  g_test_add_func("/rtp/rtx/wrap_in_place", test_rtp_rtx_wrap_in_place);
  g_test_add_func("/rtp/rtx/wrap_uses_rewritten_seq", test_rtp_rtx_wrap_uses_rewritten_seq);
  g_test_add_func("/rtp/rtx/wrap_drops_padding", test_rtp_rtx_wrap_drops_padding);
  g_test_add_func("/rtp/rtx/wrap_refuses_small_destination",
                  test_rtp_rtx_wrap_refuses_small_destination);
  g_test_add_func("/rtp/rtx/unwrap_padding_probe_is_short",
                  test_rtp_rtx_unwrap_padding_probe_is_short);
  g_test_add_func("/rtp/rtx/unwrap_of_padded_rtx_drops_padding",
                  test_rtp_rtx_unwrap_of_padded_rtx_drops_padding);
  g_test_add_func("/rtp/seq/arithmetic_wraps", test_rtp_seq_arithmetic_wraps);
  return g_test_run();
}
