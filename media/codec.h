/* Switchboard — codecs: names as SDP spells them, and what the forwarding path
 * needs to know of a payload (is this the start of a keyframe?). */
#ifndef SB_MEDIA_CODEC_H
#define SB_MEDIA_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
  SB_CODEC_UNKNOWN = 0,
  SB_CODEC_OPUS,
  SB_CODEC_PCMU,
  SB_CODEC_PCMA,
  SB_CODEC_G722,
  SB_CODEC_TELEPHONE_EVENT,
  SB_CODEC_VP8,
  SB_CODEC_VP9,
  SB_CODEC_H264,
  SB_CODEC_AV1,
  SB_CODEC_RTX,
  SB_CODEC_RED,
  SB_CODEC_ULPFEC,
  SB_CODEC_FLEXFEC,
} sb_codec_id;

/* From an rtpmap encoding name, case-insensitive ("VP8", "opus", "H264",
 * "AV1", "rtx", "red", "ulpfec", "flexfec-03", "telephone-event"; also "AV1X",
 * Chromium's name before AV1 was final, and "flexfec"). UNKNOWN for NULL. */
sb_codec_id sb_codec_from_name(const char *encoding);
/* The canonical SDP spelling ("VP8", "opus"); "unknown" for SB_CODEC_UNKNOWN. */
const char *sb_codec_name(sb_codec_id id);
bool sb_codec_is_video(sb_codec_id id);
bool sb_codec_is_audio(sb_codec_id id);
/* True for media codecs (not rtx, red or fec). */
bool sb_codec_is_media(sb_codec_id id);

/* True when payload (the RTP payload of one packet) starts a keyframe:
 * VP8 (RFC 7741 §4.3: S bit, PID 0, P bit of the frame header clear),
 * VP9 (RFC 9628 §4.2: B bit set, P bit clear, and spatial layer 0 when L is set),
 * H264 (RFC 6184: an IDR slice or SPS in a single NAL, STAP-A or first FU-A),
 * AV1 (AV1 RTP spec §4.4: N bit set). Bounds-checked; false for anything short. */
bool sb_codec_is_keyframe(sb_codec_id id, const uint8_t *payload, size_t len);

/* Value of key in an fmtp string "a=1;b=2" (spaces tolerated, key matched
 * case-insensitively as media type parameters are, RFC 6838 §4.3). A parameter
 * without "=" has the empty value. Copies at most cap-1 bytes into out and ends it
 * with NUL (nothing is written when cap is 0); returns true when found. */
bool sb_fmtp_get(const char *fmtp, const char *key, char *out, size_t cap);

#endif
