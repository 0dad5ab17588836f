/* Switchboard — codec names and keyframe detection.
 *
 * Keyframe detection reads only the payload descriptor (VP8, VP9, AV1) or NAL
 * unit headers (H264) of one RTP payload: enough to know whether a subscriber
 * that is waiting for a keyframe can start with this packet. Every byte is
 * checked against len before it is read. */
#include "media/codec.h"

#include <string.h>

static const struct {
  sb_codec_id id;
  const char *name;
} codec_names[] = {
  {SB_CODEC_OPUS, "opus"},
  {SB_CODEC_PCMU, "PCMU"},
  {SB_CODEC_PCMA, "PCMA"},
  {SB_CODEC_G722, "G722"},
  {SB_CODEC_TELEPHONE_EVENT, "telephone-event"},
  {SB_CODEC_VP8, "VP8"},
  {SB_CODEC_VP9, "VP9"},
  {SB_CODEC_H264, "H264"},
  {SB_CODEC_AV1, "AV1"},
  {SB_CODEC_RTX, "rtx"},
  {SB_CODEC_RED, "red"},
  {SB_CODEC_ULPFEC, "ulpfec"},
  {SB_CODEC_FLEXFEC, "flexfec-03"},
  /* Aliases after the canonical names, so sb_codec_name finds those first. */
  {SB_CODEC_AV1, "AV1X"},
  {SB_CODEC_FLEXFEC, "flexfec"},
};

#define N_CODEC_NAMES (sizeof codec_names / sizeof codec_names[0])

/* ASCII only: encoding names are tokens, and the locale must not matter. */
static inline char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c; }

static bool ascii_eq_n(const char *a, const char *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (ascii_lower(a[i]) != ascii_lower(b[i]))
      return false;
  }
  return true;
}

sb_codec_id sb_codec_from_name(const char *encoding) {
  if (encoding == NULL)
    return SB_CODEC_UNKNOWN;
  size_t n = strlen(encoding);
  for (size_t i = 0; i < N_CODEC_NAMES; i++) {
    if (strlen(codec_names[i].name) == n && ascii_eq_n(encoding, codec_names[i].name, n))
      return codec_names[i].id;
  }
  return SB_CODEC_UNKNOWN;
}

const char *sb_codec_name(sb_codec_id id) {
  for (size_t i = 0; i < N_CODEC_NAMES; i++) {
    if (codec_names[i].id == id)
      return codec_names[i].name;
  }
  return "unknown";
}

bool sb_codec_is_video(sb_codec_id id) {
  return id == SB_CODEC_VP8 || id == SB_CODEC_VP9 || id == SB_CODEC_H264 || id == SB_CODEC_AV1;
}

bool sb_codec_is_audio(sb_codec_id id) {
  return id == SB_CODEC_OPUS || id == SB_CODEC_PCMU || id == SB_CODEC_PCMA ||
         id == SB_CODEC_G722 || id == SB_CODEC_TELEPHONE_EVENT;
}

bool sb_codec_is_media(sb_codec_id id) { return sb_codec_is_audio(id) || sb_codec_is_video(id); }

/* RFC 7741 §4.2 payload descriptor, then §4.3 / RFC 6386 §9.1 frame tag. */
static bool vp8_is_keyframe(const uint8_t *p, size_t len) {
  if (len < 1)
    return false;
  bool x = p[0] & 0x80;
  bool s = p[0] & 0x10;
  uint8_t pid = p[0] & 0x07;
  size_t pos = 1;
  if (x) {
    if (pos >= len)
      return false;
    uint8_t ext = p[pos++];
    if (ext & 0x80) { /* I: PictureID, 15 bits when its M bit is set */
      if (pos >= len)
        return false;
      pos += (p[pos] & 0x80) ? 2 : 1;
    }
    if (ext & 0x40) /* L: TL0PICIDX */
      pos++;
    if (ext & 0x30) /* T or K: TID|Y|KEYIDX share one byte */
      pos++;
  }
  /* Only the first packet of a frame (S=1, partition 0) carries the frame tag. */
  if (!s || pid != 0)
    return false;
  if (pos >= len)
    return false;
  /* RFC 7741 §4.3: P (inverse key frame flag) is bit 0 of the first byte. */
  return (p[pos] & 0x01) == 0;
}

/* RFC 9628 §4.2: I P L F B E V Z, then the optional fields in that order. */
static bool vp9_is_keyframe(const uint8_t *p, size_t len) {
  if (len < 1)
    return false;
  uint8_t b0 = p[0];
  bool i = b0 & 0x80, inter = b0 & 0x40, l = b0 & 0x20, f = b0 & 0x10, b = b0 & 0x08;
  /* A key picture is not inter-predicted (P=0) and starts with B=1. */
  if (inter || !b)
    return false;
  size_t pos = 1;
  if (i) {
    if (pos >= len)
      return false;
    pos += (p[pos] & 0x80) ? 2 : 1; /* M: 15-bit PictureID */
  }
  if (l) {
    if (pos >= len)
      return false;
    /* Layer indices: TID(3) U(1) SID(3) D(1). Upper spatial layers of a key
     * picture are not key frames on their own: only SID 0 starts decoding. */
    if (((p[pos] >> 1) & 0x07) != 0)
      return false;
    pos += f ? 1 : 2; /* non-flexible mode adds TL0PICIDX */
  }
  /* The descriptor read so far must actually be there. */
  return pos <= len;
}

#define H264_NAL_IDR 5
#define H264_NAL_SPS 7
#define H264_NAL_STAP_A 24
#define H264_NAL_FU_A 28
#define H264_NAL_FU_B 29

static inline bool h264_is_key_nal(uint8_t type) {
  return type == H264_NAL_IDR || type == H264_NAL_SPS;
}

static bool h264_is_keyframe(const uint8_t *p, size_t len) {
  if (len < 1)
    return false;
  /* RFC 6184 §5.3: F(1) NRI(2) Type(5). */
  uint8_t type = p[0] & 0x1F;
  if (h264_is_key_nal(type))
    return true;
  if (type == H264_NAL_STAP_A) {
    /* RFC 6184 §5.7.1: 16-bit NALU size, then the NALU, repeated. */
    size_t pos = 1;
    while (len - pos >= 2) {
      size_t size = (size_t)((p[pos] << 8) | p[pos + 1]);
      pos += 2;
      if (size == 0 || size > len - pos)
        return false;
      if (h264_is_key_nal(p[pos] & 0x1F))
        return true;
      pos += size;
    }
    return false;
  }
  if (type == H264_NAL_FU_A || type == H264_NAL_FU_B) {
    /* RFC 6184 §5.8: FU header S(1) E(1) R(1) Type(5); only the start fragment
     * begins a NAL unit. */
    if (len < 2)
      return false;
    return (p[1] & 0x80) && h264_is_key_nal(p[1] & 0x1F);
  }
  return false;
}

/* AV1 RTP spec §4.4: aggregation header Z(1) Y(1) W(2) N(1) -(3); N marks the
 * first packet of a coded video sequence, which starts with a key frame. */
static bool av1_is_keyframe(const uint8_t *p, size_t len) {
  return len >= 1 && (p[0] & 0x08) != 0;
}

bool sb_codec_is_keyframe(sb_codec_id id, const uint8_t *payload, size_t len) {
  if (payload == NULL)
    return false;
  switch (id) {
  case SB_CODEC_VP8:
    return vp8_is_keyframe(payload, len);
  case SB_CODEC_VP9:
    return vp9_is_keyframe(payload, len);
  case SB_CODEC_H264:
    return h264_is_keyframe(payload, len);
  case SB_CODEC_AV1:
    return av1_is_keyframe(payload, len);
  default:
    return false;
  }
}

static inline bool is_space(char c) { return c == ' ' || c == '\t'; }

bool sb_fmtp_get(const char *fmtp, const char *key, char *out, size_t cap) {
  if (fmtp == NULL || key == NULL || key[0] == '\0')
    return false;
  size_t klen = strlen(key);
  const char *p = fmtp;
  while (*p != '\0') {
    while (is_space(*p))
      p++;
    const char *ks = p;
    while (*p != '\0' && *p != '=' && *p != ';')
      p++;
    const char *ke = p;
    while (ke > ks && is_space(ke[-1]))
      ke--;
    const char *vs = p, *ve = p;
    if (*p == '=') {
      p++;
      while (is_space(*p))
        p++;
      vs = p;
      while (*p != '\0' && *p != ';')
        p++;
      ve = p;
      while (ve > vs && is_space(ve[-1]))
        ve--;
    }
    if ((size_t)(ke - ks) == klen && ascii_eq_n(ks, key, klen)) {
      if (cap > 0) {
        size_t n = (size_t)(ve - vs);
        if (n > cap - 1)
          n = cap - 1;
        memcpy(out, vs, n);
        out[n] = '\0';
      }
      return true;
    }
    if (*p == ';')
      p++;
  }
  return false;
}
