/* Unit tests for media/codec: SDP names, predicates, keyframe detection from real
 * payload headers (RFC 7741, RFC 9628, RFC 6184, the AV1 RTP spec) and fmtp
 * lookup. Truncated payloads are heap copies of exactly their length so
 * AddressSanitizer catches any read past the end. */
#include <glib.h>
#include <string.h>

#include "media/codec.h"

static bool key_exact(sb_codec_id id, const uint8_t *p, size_t len) {
  uint8_t *copy = g_memdup2(p, len ? len : 1);
  bool k = sb_codec_is_keyframe(id, copy, len);
  g_free(copy);
  return k;
}

/* A payload whose full form is a keyframe: every prefix shorter than need bytes
 * is not one, every longer prefix is. */
static void check_key_prefixes(sb_codec_id id, const uint8_t *p, size_t len, size_t need) {
  for (size_t cut = 0; cut <= len; cut++)
    g_assert_cmpint(key_exact(id, p, cut), ==, cut >= need);
}

/* A delta payload: no prefix is a keyframe. */
static void check_never_key(sb_codec_id id, const uint8_t *p, size_t len) {
  for (size_t cut = 0; cut <= len; cut++)
    g_assert_false(key_exact(id, p, cut));
}

static void test_codec_from_name_is_case_insensitive(void) {
  g_assert_cmpint(sb_codec_from_name("opus"), ==, SB_CODEC_OPUS);
  g_assert_cmpint(sb_codec_from_name("OPUS"), ==, SB_CODEC_OPUS);
  g_assert_cmpint(sb_codec_from_name("pcmu"), ==, SB_CODEC_PCMU);
  g_assert_cmpint(sb_codec_from_name("PCMA"), ==, SB_CODEC_PCMA);
  g_assert_cmpint(sb_codec_from_name("g722"), ==, SB_CODEC_G722);
  g_assert_cmpint(sb_codec_from_name("TELEPHONE-EVENT"), ==, SB_CODEC_TELEPHONE_EVENT);
  g_assert_cmpint(sb_codec_from_name("vp8"), ==, SB_CODEC_VP8);
  g_assert_cmpint(sb_codec_from_name("Vp9"), ==, SB_CODEC_VP9);
  g_assert_cmpint(sb_codec_from_name("h264"), ==, SB_CODEC_H264);
  g_assert_cmpint(sb_codec_from_name("AV1"), ==, SB_CODEC_AV1);
  g_assert_cmpint(sb_codec_from_name("AV1X"), ==, SB_CODEC_AV1);
  g_assert_cmpint(sb_codec_from_name("RTX"), ==, SB_CODEC_RTX);
  g_assert_cmpint(sb_codec_from_name("red"), ==, SB_CODEC_RED);
  g_assert_cmpint(sb_codec_from_name("ulpfec"), ==, SB_CODEC_ULPFEC);
  g_assert_cmpint(sb_codec_from_name("flexfec-03"), ==, SB_CODEC_FLEXFEC);
  g_assert_cmpint(sb_codec_from_name("FlexFEC-03"), ==, SB_CODEC_FLEXFEC);
}

static void test_codec_from_name_rejects_near_misses(void) {
  g_assert_cmpint(sb_codec_from_name(NULL), ==, SB_CODEC_UNKNOWN);
  g_assert_cmpint(sb_codec_from_name(""), ==, SB_CODEC_UNKNOWN);
  g_assert_cmpint(sb_codec_from_name("VP"), ==, SB_CODEC_UNKNOWN);
  g_assert_cmpint(sb_codec_from_name("VP8 "), ==, SB_CODEC_UNKNOWN);
  g_assert_cmpint(sb_codec_from_name("VP10"), ==, SB_CODEC_UNKNOWN);
  g_assert_cmpint(sb_codec_from_name("H265"), ==, SB_CODEC_UNKNOWN);
  g_assert_cmpint(sb_codec_from_name("opus/48000"), ==, SB_CODEC_UNKNOWN);
}

static void test_codec_name_round_trips(void) {
  for (int id = SB_CODEC_OPUS; id <= SB_CODEC_FLEXFEC; id++) {
    const char *name = sb_codec_name((sb_codec_id)id);
    g_assert_nonnull(name);
    g_assert_cmpint(sb_codec_from_name(name), ==, id);
  }
  g_assert_cmpstr(sb_codec_name(SB_CODEC_OPUS), ==, "opus");
  g_assert_cmpstr(sb_codec_name(SB_CODEC_VP8), ==, "VP8");
  g_assert_cmpstr(sb_codec_name(SB_CODEC_AV1), ==, "AV1");
  g_assert_cmpstr(sb_codec_name(SB_CODEC_FLEXFEC), ==, "flexfec-03");
  g_assert_cmpstr(sb_codec_name(SB_CODEC_UNKNOWN), ==, "unknown");
}

static void test_codec_predicates(void) {
  for (int id = SB_CODEC_UNKNOWN; id <= SB_CODEC_FLEXFEC; id++) {
    bool video = id == SB_CODEC_VP8 || id == SB_CODEC_VP9 || id == SB_CODEC_H264 ||
                 id == SB_CODEC_AV1;
    bool audio = id == SB_CODEC_OPUS || id == SB_CODEC_PCMU || id == SB_CODEC_PCMA ||
                 id == SB_CODEC_G722 || id == SB_CODEC_TELEPHONE_EVENT;
    g_assert_cmpint(sb_codec_is_video((sb_codec_id)id), ==, video);
    g_assert_cmpint(sb_codec_is_audio((sb_codec_id)id), ==, audio);
    g_assert_cmpint(sb_codec_is_media((sb_codec_id)id), ==, video || audio);
  }
  g_assert_false(sb_codec_is_media(SB_CODEC_RTX));
  g_assert_false(sb_codec_is_media(SB_CODEC_RED));
  g_assert_false(sb_codec_is_media(SB_CODEC_ULPFEC));
  g_assert_false(sb_codec_is_media(SB_CODEC_FLEXFEC));
}

/* VP8 as Chromium sends it: X=1 S=1 PID=0; I=1 L=1 T=1; 15-bit PictureID 0x0123;
 * TL0PICIDX 5; TID 1 (Y=0). Then the frame tag: 0x50 has P=0 (key frame),
 * followed by the key frame start code 9D 01 2A. */
static const uint8_t vp8_key_full[] = {
  0x90, 0xE0, 0x81, 0x23, 0x05, 0x40, 0x50, 0x04, 0x00, 0x9D, 0x01, 0x2A,
};

static void test_codec_vp8_keyframe_with_all_descriptor_fields(void) {
  g_assert_true(sb_codec_is_keyframe(SB_CODEC_VP8, vp8_key_full, sizeof vp8_key_full));
  /* The frame tag is the seventh byte: shorter is not enough to tell. */
  check_key_prefixes(SB_CODEC_VP8, vp8_key_full, sizeof vp8_key_full, 7);
}

static void test_codec_vp8_delta_frame(void) {
  uint8_t p[sizeof vp8_key_full];
  memcpy(p, vp8_key_full, sizeof p);
  p[6] = 0x51; /* P=1: interframe */
  check_never_key(SB_CODEC_VP8, p, sizeof p);
}

static void test_codec_vp8_continuation_packets_are_not_key(void) {
  uint8_t p[sizeof vp8_key_full];
  memcpy(p, vp8_key_full, sizeof p);
  p[0] = 0x80; /* S=0: not the start of a partition */
  p[6] = 0x00; /* a byte of frame data that happens to look like P=0 */
  check_never_key(SB_CODEC_VP8, p, sizeof p);
  p[0] = 0x91; /* S=1 but partition 1 */
  check_never_key(SB_CODEC_VP8, p, sizeof p);
}

static void test_codec_vp8_short_descriptors(void) {
  /* No X: the frame tag follows the first byte. */
  const uint8_t plain[] = {0x10, 0x50, 0x04, 0x00, 0x9D, 0x01, 0x2A};
  check_key_prefixes(SB_CODEC_VP8, plain, sizeof plain, 2);
  /* 7-bit PictureID (M=0). */
  const uint8_t pid7[] = {0x90, 0x80, 0x2A, 0x50};
  check_key_prefixes(SB_CODEC_VP8, pid7, sizeof pid7, 4);
  /* K only: one TID/Y/KEYIDX byte. */
  const uint8_t k_only[] = {0x90, 0x10, 0x20, 0x50};
  check_key_prefixes(SB_CODEC_VP8, k_only, sizeof k_only, 4);
  /* X with no optional fields. */
  const uint8_t x_empty[] = {0x90, 0x00, 0x50};
  check_key_prefixes(SB_CODEC_VP8, x_empty, sizeof x_empty, 3);
  /* Misreading the 15-bit PictureID as 7-bit would take 0x23 as the frame tag. */
  const uint8_t pid15_delta[] = {0x90, 0x80, 0x80, 0x22, 0x51};
  check_never_key(SB_CODEC_VP8, pid15_delta, sizeof pid15_delta);
}

/* VP9, non-flexible mode as Chromium sends a key picture: I=1 P=0 L=1 F=0 B=1
 * E=1 V=1; 15-bit PictureID; layer byte TID=0 U=0 SID=0 D=0; TL0PICIDX; then
 * the scalability structure. */
static const uint8_t vp9_key_l[] = {
  0xAE, 0x80, 0x01, 0x00, 0x00, 0x18, 0x02, 0x80, 0x01, 0x68, 0x01, 0x04, 0x01,
};

static void test_codec_vp9_key_picture_with_layers(void) {
  g_assert_true(sb_codec_is_keyframe(SB_CODEC_VP9, vp9_key_l, sizeof vp9_key_l));
  /* Byte 0, PictureID (2), layer byte, TL0PICIDX: 5 bytes. */
  check_key_prefixes(SB_CODEC_VP9, vp9_key_l, sizeof vp9_key_l, 5);
}

static void test_codec_vp9_upper_spatial_layer_is_not_key(void) {
  uint8_t p[sizeof vp9_key_l];
  memcpy(p, vp9_key_l, sizeof p);
  p[3] = (1 << 1) | 1; /* SID=1, D=1: depends on layer 0 */
  check_never_key(SB_CODEC_VP9, p, sizeof p);
}

static void test_codec_vp9_delta_and_middle_packets(void) {
  /* P=1: inter-picture predicted. */
  const uint8_t delta[] = {0xCC, 0x80, 0x02, 0x00};
  check_never_key(SB_CODEC_VP9, delta, sizeof delta);
  /* B=0: a later packet of the key picture. */
  const uint8_t middle[] = {0x84, 0x80, 0x01, 0x00};
  check_never_key(SB_CODEC_VP9, middle, sizeof middle);
}

static void test_codec_vp9_flexible_and_plain_descriptors(void) {
  /* Flexible mode: I L F B, 7-bit PictureID, layer byte, no TL0PICIDX. */
  const uint8_t flex[] = {0xB8, 0x05, 0x00, 0xAB};
  check_key_prefixes(SB_CODEC_VP9, flex, sizeof flex, 3);
  /* No optional fields at all. */
  const uint8_t bare[] = {0x0C, 0xAB};
  check_key_prefixes(SB_CODEC_VP9, bare, sizeof bare, 1);
  /* I only, 15-bit PictureID. */
  const uint8_t pid15[] = {0x8C, 0x80, 0x01, 0xAB};
  check_key_prefixes(SB_CODEC_VP9, pid15, sizeof pid15, 3);
}

/* H264 single NAL units (RFC 6184 §5.6). */
static void test_codec_h264_single_nal(void) {
  const uint8_t idr[] = {0x65, 0x88, 0x84, 0x00};
  const uint8_t sps[] = {0x67, 0x42, 0xC0, 0x1F};
  const uint8_t pps[] = {0x68, 0xCE, 0x3C, 0x80};
  const uint8_t slice[] = {0x41, 0x9A, 0x02};
  check_key_prefixes(SB_CODEC_H264, idr, sizeof idr, 1);
  check_key_prefixes(SB_CODEC_H264, sps, sizeof sps, 1);
  check_never_key(SB_CODEC_H264, pps, sizeof pps);
  check_never_key(SB_CODEC_H264, slice, sizeof slice);
}

/* STAP-A as Chromium starts a key frame: SPS, PPS, IDR (RFC 6184 §5.7.1). */
static const uint8_t h264_stap_a[] = {
  0x78,
  0x00, 0x0A, 0x67, 0x42, 0xC0, 0x1F, 0x8C, 0x8D, 0x40, 0x50, 0x1E, 0x90,
  0x00, 0x04, 0x68, 0xCE, 0x3C, 0x80,
  0x00, 0x05, 0x65, 0x88, 0x84, 0x00, 0x33,
};

static void test_codec_h264_stap_a(void) {
  /* The SPS counts once the whole aggregation unit is in: a size running past the
   * payload makes the packet malformed. */
  check_key_prefixes(SB_CODEC_H264, h264_stap_a, sizeof h264_stap_a, 13);
  /* PPS first, then the IDR: the second unit is found. */
  const uint8_t pps_idr[] = {0x78, 0x00, 0x04, 0x68, 0xCE, 0x3C, 0x80, 0x00, 0x02, 0x65, 0x88};
  check_key_prefixes(SB_CODEC_H264, pps_idr, sizeof pps_idr, sizeof pps_idr);
  /* SEI and a non-IDR slice. */
  const uint8_t sei_slice[] = {0x78, 0x00, 0x02, 0x06, 0x05, 0x00, 0x02, 0x41, 0x9A};
  check_never_key(SB_CODEC_H264, sei_slice, sizeof sei_slice);
}

static void test_codec_h264_stap_a_bad_sizes(void) {
  /* A size running past the payload hides what follows. */
  const uint8_t overrun[] = {0x78, 0x00, 0x09, 0x68, 0xCE, 0x00, 0x02, 0x65, 0x88};
  check_never_key(SB_CODEC_H264, overrun, sizeof overrun);
  /* A zero size is malformed. */
  const uint8_t zero[] = {0x78, 0x00, 0x00, 0x00, 0x02, 0x65, 0x88};
  check_never_key(SB_CODEC_H264, zero, sizeof zero);
  /* A trailing single byte after the last NALU is ignored. */
  const uint8_t trailing[] = {0x78, 0x00, 0x01, 0x68, 0x00};
  check_never_key(SB_CODEC_H264, trailing, sizeof trailing);
}

static void test_codec_h264_fu_a(void) {
  /* FU indicator NRI=3 type 28; FU header S=1 type 5. */
  const uint8_t start_idr[] = {0x7C, 0x85, 0x88, 0x84};
  check_key_prefixes(SB_CODEC_H264, start_idr, sizeof start_idr, 2);
  const uint8_t middle_idr[] = {0x7C, 0x05, 0x00, 0x01};
  check_never_key(SB_CODEC_H264, middle_idr, sizeof middle_idr);
  const uint8_t end_idr[] = {0x7C, 0x45, 0x00, 0x01};
  check_never_key(SB_CODEC_H264, end_idr, sizeof end_idr);
  const uint8_t start_slice[] = {0x5C, 0x81, 0x9A};
  check_never_key(SB_CODEC_H264, start_slice, sizeof start_slice);
}

/* AV1 aggregation header Z Y W(2) N: Chromium's first packet of a key frame
 * has N=1 and W=2 (0x28), later packets N=0. */
static void test_codec_av1_n_bit(void) {
  const uint8_t first[] = {0x28, 0x0A, 0x0B, 0x00};
  check_key_prefixes(SB_CODEC_AV1, first, sizeof first, 1);
  const uint8_t later[] = {0x90, 0x32, 0x00};
  check_never_key(SB_CODEC_AV1, later, sizeof later);
  const uint8_t delta[] = {0x10, 0x32, 0x00};
  check_never_key(SB_CODEC_AV1, delta, sizeof delta);
}

static void test_codec_keyframe_other_codecs_and_null(void) {
  g_assert_false(sb_codec_is_keyframe(SB_CODEC_OPUS, vp8_key_full, sizeof vp8_key_full));
  g_assert_false(sb_codec_is_keyframe(SB_CODEC_UNKNOWN, vp8_key_full, sizeof vp8_key_full));
  g_assert_false(sb_codec_is_keyframe(SB_CODEC_RTX, vp8_key_full, sizeof vp8_key_full));
  g_assert_false(sb_codec_is_keyframe(SB_CODEC_VP8, NULL, 0));
  g_assert_false(sb_codec_is_keyframe(SB_CODEC_H264, NULL, 10));
}

static const char h264_fmtp[] =
    "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f";

static void test_codec_fmtp_finds_values(void) {
  char out[32];
  g_assert_true(sb_fmtp_get(h264_fmtp, "profile-level-id", out, sizeof out));
  g_assert_cmpstr(out, ==, "42e01f");
  g_assert_true(sb_fmtp_get(h264_fmtp, "packetization-mode", out, sizeof out));
  g_assert_cmpstr(out, ==, "1");
  g_assert_true(sb_fmtp_get(h264_fmtp, "level-asymmetry-allowed", out, sizeof out));
  g_assert_cmpstr(out, ==, "1");
  g_assert_true(sb_fmtp_get(h264_fmtp, "PROFILE-LEVEL-ID", out, sizeof out));
  g_assert_cmpstr(out, ==, "42e01f");
  g_assert_true(sb_fmtp_get("apt=96", "apt", out, sizeof out));
  g_assert_cmpstr(out, ==, "96");
}

static void test_codec_fmtp_tolerates_spaces(void) {
  char out[32];
  const char *opus = "minptime=10; useinbandfec=1 ;  stereo = 0 ";
  g_assert_true(sb_fmtp_get(opus, "useinbandfec", out, sizeof out));
  g_assert_cmpstr(out, ==, "1");
  g_assert_true(sb_fmtp_get(opus, "stereo", out, sizeof out));
  g_assert_cmpstr(out, ==, "0");
  g_assert_true(sb_fmtp_get(opus, "minptime", out, sizeof out));
  g_assert_cmpstr(out, ==, "10");
}

static void test_codec_fmtp_missing_and_partial_keys(void) {
  char out[32] = "untouched";
  g_assert_false(sb_fmtp_get(h264_fmtp, "packetization", out, sizeof out));
  g_assert_false(sb_fmtp_get(h264_fmtp, "mode", out, sizeof out));
  g_assert_false(sb_fmtp_get(h264_fmtp, "1", out, sizeof out));
  g_assert_false(sb_fmtp_get("", "apt", out, sizeof out));
  g_assert_false(sb_fmtp_get(NULL, "apt", out, sizeof out));
  g_assert_false(sb_fmtp_get("apt=96", NULL, out, sizeof out));
  g_assert_false(sb_fmtp_get("apt=96", "", out, sizeof out));
  g_assert_cmpstr(out, ==, "untouched");
}

static void test_codec_fmtp_edge_values(void) {
  char out[32];
  g_assert_true(sb_fmtp_get("a=b=c;d=1", "a", out, sizeof out));
  g_assert_cmpstr(out, ==, "b=c");
  g_assert_true(sb_fmtp_get("a=;b=2", "a", out, sizeof out));
  g_assert_cmpstr(out, ==, "");
  g_assert_true(sb_fmtp_get(";;b=2;", "b", out, sizeof out));
  g_assert_cmpstr(out, ==, "2");
  /* telephone-event's "0-16" is a parameter without a value. */
  g_assert_true(sb_fmtp_get("0-16", "0-16", out, sizeof out));
  g_assert_cmpstr(out, ==, "");
  char small[4];
  g_assert_true(sb_fmtp_get(h264_fmtp, "profile-level-id", small, sizeof small));
  g_assert_cmpstr(small, ==, "42e");
  g_assert_true(sb_fmtp_get(h264_fmtp, "profile-level-id", NULL, 0));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/codec/name/from_name_is_case_insensitive",
                  test_codec_from_name_is_case_insensitive);
  g_test_add_func("/codec/name/from_name_rejects_near_misses",
                  test_codec_from_name_rejects_near_misses);
  g_test_add_func("/codec/name/round_trips", test_codec_name_round_trips);
  g_test_add_func("/codec/predicates", test_codec_predicates);
  g_test_add_func("/codec/vp8/keyframe_with_all_descriptor_fields",
                  test_codec_vp8_keyframe_with_all_descriptor_fields);
  g_test_add_func("/codec/vp8/delta_frame", test_codec_vp8_delta_frame);
  g_test_add_func("/codec/vp8/continuation_packets_are_not_key",
                  test_codec_vp8_continuation_packets_are_not_key);
  g_test_add_func("/codec/vp8/short_descriptors", test_codec_vp8_short_descriptors);
  g_test_add_func("/codec/vp9/key_picture_with_layers", test_codec_vp9_key_picture_with_layers);
  g_test_add_func("/codec/vp9/upper_spatial_layer_is_not_key",
                  test_codec_vp9_upper_spatial_layer_is_not_key);
  g_test_add_func("/codec/vp9/delta_and_middle_packets", test_codec_vp9_delta_and_middle_packets);
  g_test_add_func("/codec/vp9/flexible_and_plain_descriptors",
                  test_codec_vp9_flexible_and_plain_descriptors);
  g_test_add_func("/codec/h264/single_nal", test_codec_h264_single_nal);
  g_test_add_func("/codec/h264/stap_a", test_codec_h264_stap_a);
  g_test_add_func("/codec/h264/stap_a_bad_sizes", test_codec_h264_stap_a_bad_sizes);
  g_test_add_func("/codec/h264/fu_a", test_codec_h264_fu_a);
  g_test_add_func("/codec/av1/n_bit", test_codec_av1_n_bit);
  g_test_add_func("/codec/keyframe/other_codecs_and_null",
                  test_codec_keyframe_other_codecs_and_null);
  g_test_add_func("/codec/fmtp/finds_values", test_codec_fmtp_finds_values);
  g_test_add_func("/codec/fmtp/tolerates_spaces", test_codec_fmtp_tolerates_spaces);
  g_test_add_func("/codec/fmtp/missing_and_partial_keys", test_codec_fmtp_missing_and_partial_keys);
  g_test_add_func("/codec/fmtp/edge_values", test_codec_fmtp_edge_values);
  return g_test_run();
}
