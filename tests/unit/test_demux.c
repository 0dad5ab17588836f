/* Unit tests for media/demux: RFC 7983 §7 first-byte ranges and RFC 5761 §4
 * RTP/RTCP separation, with the minimum lengths demux.h documents. */
#include <glib.h>
#include <string.h>

#include "media/demux.h"

/* STUN Binding request header (RFC 8489 §5): type 0x0001, length 0, magic cookie,
 * 96-bit transaction id. */
static const uint8_t stun_binding[20] = {
  0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42,
  0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C,
};

/* DTLS 1.2 handshake record header (RFC 6347 §4.1): content type 22, version
 * 0xFEFD, epoch 0, sequence number 0, length 0. */
static const uint8_t dtls_record[13] = {
  0x16, 0xFE, 0xFD, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static sb_pkt_class classify_exact(const uint8_t *p, size_t len) {
  uint8_t *copy = g_memdup2(p, len ? len : 1);
  sb_pkt_class c = sb_demux_classify(copy, len);
  g_free(copy);
  return c;
}

static void test_demux_stun_needs_full_header(void) {
  g_assert_cmpint(classify_exact(stun_binding, 20), ==, SB_PKT_STUN);
  g_assert_cmpint(classify_exact(stun_binding, 19), ==, SB_PKT_UNKNOWN);
  uint8_t p[20];
  memcpy(p, stun_binding, sizeof p);
  p[0] = 0x01; /* a success response: 0x0101 */
  g_assert_cmpint(classify_exact(p, 20), ==, SB_PKT_STUN);
  p[0] = 0x03;
  g_assert_cmpint(classify_exact(p, 20), ==, SB_PKT_STUN);
  p[0] = 0x04;
  g_assert_cmpint(classify_exact(p, 20), ==, SB_PKT_UNKNOWN);
}

static void test_demux_dtls_range_20_to_63(void) {
  g_assert_cmpint(classify_exact(dtls_record, 13), ==, SB_PKT_DTLS);
  g_assert_cmpint(classify_exact(dtls_record, 12), ==, SB_PKT_UNKNOWN);
  uint8_t p[13];
  memcpy(p, dtls_record, sizeof p);
  p[0] = 20;
  g_assert_cmpint(classify_exact(p, 13), ==, SB_PKT_DTLS);
  p[0] = 63;
  g_assert_cmpint(classify_exact(p, 13), ==, SB_PKT_DTLS);
  p[0] = 64;
  g_assert_cmpint(classify_exact(p, 13), ==, SB_PKT_TURN_CHANNEL);
  p[0] = 19;
  g_assert_cmpint(classify_exact(p, 13), ==, SB_PKT_ZRTP);
}

static void test_demux_zrtp_and_turn_channel(void) {
  uint8_t p[12] = {0x10, 0x00, 0x00, 0x01, 'Z', 'R', 'T', 'P', 0, 0, 0, 1};
  g_assert_cmpint(classify_exact(p, 12), ==, SB_PKT_ZRTP);
  g_assert_cmpint(classify_exact(p, 11), ==, SB_PKT_UNKNOWN);
  p[0] = 16;
  g_assert_cmpint(classify_exact(p, 12), ==, SB_PKT_ZRTP);
  /* ChannelData (RFC 8656 §12.4): channel number 0x4000..0x4FFF, then length. */
  uint8_t t[4] = {0x40, 0x00, 0x00, 0x00};
  g_assert_cmpint(classify_exact(t, 4), ==, SB_PKT_TURN_CHANNEL);
  g_assert_cmpint(classify_exact(t, 3), ==, SB_PKT_UNKNOWN);
  t[0] = 79;
  g_assert_cmpint(classify_exact(t, 4), ==, SB_PKT_TURN_CHANNEL);
  t[0] = 80;
  g_assert_cmpint(classify_exact(t, 4), ==, SB_PKT_UNKNOWN);
}

static void test_demux_rtp_vs_rtcp_by_second_byte(void) {
  uint8_t p[12] = {0x80, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1};
  g_assert_cmpint(classify_exact(p, 12), ==, SB_PKT_RTP);
  g_assert_cmpint(classify_exact(p, 11), ==, SB_PKT_UNKNOWN);
  /* Marker bit with PT 96: 0xE0 = 224, outside the RTCP range. */
  p[1] = 0xE0;
  g_assert_cmpint(classify_exact(p, 12), ==, SB_PKT_RTP);
  p[1] = 191;
  g_assert_cmpint(classify_exact(p, 12), ==, SB_PKT_RTP);
  p[1] = 192;
  g_assert_cmpint(classify_exact(p, 12), ==, SB_PKT_RTCP);
  p[1] = 200; /* SR */
  g_assert_cmpint(classify_exact(p, 8), ==, SB_PKT_RTCP);
  g_assert_cmpint(classify_exact(p, 7), ==, SB_PKT_UNKNOWN);
  p[1] = 223;
  g_assert_cmpint(classify_exact(p, 8), ==, SB_PKT_RTCP);
  p[1] = 224;
  g_assert_cmpint(classify_exact(p, 8), ==, SB_PKT_UNKNOWN);
  g_assert_cmpint(classify_exact(p, 12), ==, SB_PKT_RTP);
  /* Any first byte 128..191 (version 2, any P/X/CC/RC). */
  p[0] = 0xBF;
  p[1] = 0xC9;
  g_assert_cmpint(classify_exact(p, 8), ==, SB_PKT_RTCP);
  p[0] = 0xC0; /* version 3 */
  g_assert_cmpint(classify_exact(p, 12), ==, SB_PKT_UNKNOWN);
  p[0] = 0x7F;
  g_assert_cmpint(classify_exact(p, 12), ==, SB_PKT_UNKNOWN);
}

static void test_demux_empty_and_gaps_are_unknown(void) {
  g_assert_cmpint(sb_demux_classify(NULL, 0), ==, SB_PKT_UNKNOWN);
  g_assert_cmpint(sb_demux_classify(stun_binding, 0), ==, SB_PKT_UNKNOWN);
  uint8_t p[32] = {0};
  const uint8_t gaps[] = {4, 15, 80, 127, 192, 255};
  for (size_t i = 0; i < sizeof gaps; i++) {
    p[0] = gaps[i];
    g_assert_cmpint(classify_exact(p, sizeof p), ==, SB_PKT_UNKNOWN);
  }
  /* One byte of what would be RTP cannot say whether it is RTCP. */
  p[0] = 0x80;
  g_assert_cmpint(classify_exact(p, 1), ==, SB_PKT_UNKNOWN);
}

static size_t min_len(sb_pkt_class c) {
  switch (c) {
  case SB_PKT_STUN:
    return 20;
  case SB_PKT_ZRTP:
    return 12;
  case SB_PKT_DTLS:
    return 13;
  case SB_PKT_TURN_CHANNEL:
    return 4;
  case SB_PKT_RTP:
    return 12;
  case SB_PKT_RTCP:
    return 8;
  default:
    return 0;
  }
}

/* For every first and second byte: a datagram is classified as the 24-byte
 * version of itself exactly when it reaches that class's minimum, else UNKNOWN.
 * Each length is an exact heap copy, so no read goes past it unnoticed. */
static void test_demux_every_prefix_is_consistent(void) {
  uint8_t p[24];
  memset(p, 0xA5, sizeof p);
  for (int b0 = 0; b0 < 256; b0++) {
    for (int b1 = 0; b1 < 256; b1 += (b0 >= 128 && b0 < 192) ? 1 : 51) {
      p[0] = (uint8_t)b0;
      p[1] = (uint8_t)b1;
      sb_pkt_class full = sb_demux_classify(p, sizeof p);
      for (size_t len = 0; len < sizeof p; len++) {
        sb_pkt_class c = classify_exact(p, len);
        if (full != SB_PKT_UNKNOWN && len >= min_len(full))
          g_assert_cmpint(c, ==, full);
        else
          g_assert_cmpint(c, ==, SB_PKT_UNKNOWN);
      }
    }
  }
}

static void test_demux_class_names(void) {
  g_assert_cmpstr(sb_pkt_class_name(SB_PKT_STUN), ==, "stun");
  g_assert_cmpstr(sb_pkt_class_name(SB_PKT_ZRTP), ==, "zrtp");
  g_assert_cmpstr(sb_pkt_class_name(SB_PKT_DTLS), ==, "dtls");
  g_assert_cmpstr(sb_pkt_class_name(SB_PKT_TURN_CHANNEL), ==, "turn-channel");
  g_assert_cmpstr(sb_pkt_class_name(SB_PKT_RTP), ==, "rtp");
  g_assert_cmpstr(sb_pkt_class_name(SB_PKT_RTCP), ==, "rtcp");
  g_assert_cmpstr(sb_pkt_class_name(SB_PKT_UNKNOWN), ==, "unknown");
  g_assert_cmpstr(sb_pkt_class_name((sb_pkt_class)42), ==, "unknown");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/demux/stun_needs_full_header", test_demux_stun_needs_full_header);
  g_test_add_func("/demux/dtls_range_20_to_63", test_demux_dtls_range_20_to_63);
  g_test_add_func("/demux/zrtp_and_turn_channel", test_demux_zrtp_and_turn_channel);
  g_test_add_func("/demux/rtp_vs_rtcp_by_second_byte", test_demux_rtp_vs_rtcp_by_second_byte);
  g_test_add_func("/demux/empty_and_gaps_are_unknown", test_demux_empty_and_gaps_are_unknown);
  g_test_add_func("/demux/every_prefix_is_consistent", test_demux_every_prefix_is_consistent);
  g_test_add_func("/demux/class_names", test_demux_class_names);
  return g_test_run();
}
