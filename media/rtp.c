/* Switchboard — RTP packets (RFC 3550 §5.1), header extensions (RFC 8285) and
 * retransmission payloads (RFC 4588 §4).
 *
 * Hot path: nothing here allocates or logs. Every read is checked against the
 * length first, and multi-byte fields are assembled from bytes so that neither
 * alignment nor host byte order matters. */
#include "media/rtp.h"

#include <string.h>

static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }

static inline uint32_t rd32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline void wr16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static inline void wr32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

int sb_rtp_parse(const uint8_t *buf, size_t len, sb_rtp_view *out) {
  memset(out, 0, sizeof *out);
  if (buf == NULL || len < SB_RTP_HEADER_LEN)
    return SB_RTP_ERR_SHORT;
  /* The view keeps offsets in 16 bits; no UDP datagram is longer anyway. */
  if (len > UINT16_MAX)
    return SB_RTP_ERR_SHORT;

  /* RFC 3550 §5.1: V(2) P(1) X(1) CC(4) | M(1) PT(7) | seq(16) | ts(32) | ssrc(32). */
  out->version = buf[0] >> 6;
  if (out->version != 2)
    return SB_RTP_ERR_VERSION;
  out->padding = (buf[0] & 0x20) != 0;
  out->extension = (buf[0] & 0x10) != 0;
  out->csrc_count = buf[0] & 0x0F;
  out->marker = (buf[1] & 0x80) != 0;
  out->pt = buf[1] & 0x7F;
  out->seq = rd16(buf + 2);
  out->ts = rd32(buf + 4);
  out->ssrc = rd32(buf + 8);

  size_t pos = SB_RTP_HEADER_LEN + 4u * out->csrc_count;
  if (pos > len)
    return SB_RTP_ERR_SHORT;

  if (out->extension) {
    /* RFC 3550 §5.3.1: 16-bit profile-defined field, then the length of the
     * extension data in 32-bit words, not counting this 4-byte header. */
    if (len - pos < 4)
      return SB_RTP_ERR_SHORT;
    out->ext_profile = rd16(buf + pos);
    size_t ext_len = 4u * rd16(buf + pos + 2);
    pos += 4;
    if (ext_len > len - pos)
      return SB_RTP_ERR_SHORT;
    out->ext_offset = (uint16_t)pos;
    out->ext_len = (uint16_t)ext_len;
    pos += ext_len;
  }
  out->header_len = (uint16_t)pos;

  size_t rest = len - pos;
  if (out->padding) {
    /* RFC 3550 §5.1: the last octet counts the padding octets, itself included,
     * so it is at least 1 and cannot reach back into the header. */
    if (rest == 0)
      return SB_RTP_ERR_PADDING;
    uint8_t count = buf[len - 1];
    if (count == 0 || count > rest)
      return SB_RTP_ERR_PADDING;
    out->padding_len = count;
    rest -= count;
  }
  out->payload_len = (uint16_t)rest;
  return SB_RTP_OK;
}

/* RFC 8285 §4.2 (0xBEDE) and §4.3 (0x100 followed by 4 application bits). */
static inline bool ext_is_one_byte(uint16_t profile) { return profile == SB_RTP_EXT_ONE_BYTE; }
static inline bool ext_is_two_byte(uint16_t profile) {
  return (profile & 0xFFF0) == SB_RTP_EXT_TWO_BYTE;
}

void sb_rtp_ext_iter_init(sb_rtp_ext_iter *it, const uint8_t *buf, const sb_rtp_view *v) {
  it->buf = buf;
  it->pos = v->ext_offset;
  it->end = (uint16_t)(v->ext_offset + v->ext_len);
  it->two_byte = ext_is_two_byte(v->ext_profile);
  it->error = SB_RTP_OK;
  /* Other profiles carry data this module cannot interpret: no elements. */
  if (!v->extension || (!ext_is_one_byte(v->ext_profile) && !it->two_byte))
    it->pos = it->end;
}

static bool ext_fail(sb_rtp_ext_iter *it) {
  it->error = SB_RTP_ERR_EXT;
  it->pos = it->end;
  return false;
}

bool sb_rtp_ext_next(sb_rtp_ext_iter *it, sb_rtp_ext *out) {
  while (it->pos < it->end) {
    const uint8_t *p = it->buf + it->pos;
    size_t avail = (size_t)(it->end - it->pos);
    /* RFC 8285 §4.2/§4.3: a zero byte is padding, allowed between and after
     * elements in both forms. */
    if (p[0] == 0) {
      it->pos++;
      continue;
    }
    uint8_t id, dlen, hdr;
    if (!it->two_byte) {
      /* RFC 8285 §4.2: ID(4) L(4), L+1 data bytes. */
      id = p[0] >> 4;
      dlen = (uint8_t)((p[0] & 0x0F) + 1);
      hdr = 1;
      if (id == 15) {
        /* RFC 8285 §4.2: ID 15 is reserved; processing stops at it and only
         * the elements before it count. Not an error. */
        it->pos = it->end;
        return false;
      }
      if (id == 0)
        return ext_fail(it); /* ID 0 with a nonzero length is neither padding nor an element */
    } else {
      /* RFC 8285 §4.3: ID(8) L(8), L data bytes (L may be 0). */
      if (avail < 2)
        return ext_fail(it);
      id = p[0];
      dlen = p[1];
      hdr = 2;
    }
    if ((size_t)dlen > avail - hdr)
      return ext_fail(it);
    out->id = id;
    out->len = dlen;
    out->offset = it->pos;
    out->data = p + hdr;
    it->pos = (uint16_t)(it->pos + hdr + dlen);
    return true;
  }
  return false;
}

bool sb_rtp_ext_find(const uint8_t *buf, const sb_rtp_view *v, uint8_t id, sb_rtp_ext *out) {
  sb_rtp_ext_iter it;
  sb_rtp_ext e;
  sb_rtp_ext_iter_init(&it, buf, v);
  while (sb_rtp_ext_next(&it, &e)) {
    if (e.id == id) {
      *out = e;
      return true;
    }
  }
  return false;
}

void sb_rtp_set_seq(uint8_t *buf, uint16_t seq) { wr16(buf + 2, seq); }
void sb_rtp_set_ts(uint8_t *buf, uint32_t ts) { wr32(buf + 4, ts); }
void sb_rtp_set_ssrc(uint8_t *buf, uint32_t ssrc) { wr32(buf + 8, ssrc); }

void sb_rtp_set_pt(uint8_t *buf, uint8_t pt) {
  buf[1] = (uint8_t)((buf[1] & 0x80) | (pt & 0x7F));
}

void sb_rtp_set_marker(uint8_t *buf, bool marker) {
  buf[1] = (uint8_t)((buf[1] & 0x7F) | (marker ? 0x80 : 0));
}

int sb_rtp_ext_remap(uint8_t *buf, const sb_rtp_view *v, const uint8_t map[256]) {
  sb_rtp_ext_iter it;
  sb_rtp_ext e;

  /* Validate everything first so a malformed block is left exactly as it came. */
  sb_rtp_ext_iter_init(&it, buf, v);
  while (sb_rtp_ext_next(&it, &e))
    ;
  if (it.error != SB_RTP_OK)
    return it.error;

  /* Rewriting in place never changes where elements start or end, so the
   * iterator, which has already moved past an element, is unaffected. */
  sb_rtp_ext_iter_init(&it, buf, v);
  while (sb_rtp_ext_next(&it, &e)) {
    uint8_t nid = map[e.id];
    if (nid == e.id)
      continue;
    size_t hdr = it.two_byte ? 2 : 1;
    if (nid == 0 || (!it.two_byte && nid > 14)) {
      /* RFC 8285 §4.2: zero bytes are padding, so zeroing the element (header
       * included) removes it without moving anything. */
      memset(buf + e.offset, 0, hdr + e.len);
    } else if (it.two_byte) {
      buf[e.offset] = nid;
    } else {
      buf[e.offset] = (uint8_t)((nid << 4) | (buf[e.offset] & 0x0F));
    }
  }
  return SB_RTP_OK;
}

int sb_rtp_rtx_wrap(const uint8_t *src, const sb_rtp_view *v, uint8_t *dst, size_t cap,
                    uint8_t rtx_pt, uint32_t rtx_ssrc, uint16_t rtx_seq) {
  size_t h = v->header_len;
  size_t n = h + 2 + (size_t)v->payload_len;
  if (n > cap || n > UINT16_MAX)
    return SB_RTP_ERR_SPACE;
  /* RFC 4588 §4: the RTX payload starts with the original sequence number: the
   * one in src now, which the forwarding path has already rewritten to the
   * subscriber's numbering (v->seq is still the publisher's). */
  uint16_t osn = rd16(src + 2);
  /* Payload first (to its higher offset), then the OSN, then the header: this
   * order lets dst be src itself. */
  memmove(dst + h + 2, src + h, v->payload_len);
  wr16(dst + h, osn);
  if (dst != src)
    memcpy(dst, src, h);
  /* The padding is not carried over, so neither is its flag. */
  dst[0] &= (uint8_t)~0x20;
  sb_rtp_set_pt(dst, rtx_pt);
  sb_rtp_set_seq(dst, rtx_seq);
  sb_rtp_set_ssrc(dst, rtx_ssrc);
  return (int)n;
}

int sb_rtp_rtx_unwrap(uint8_t *buf, sb_rtp_view *v, uint8_t media_pt, uint32_t media_ssrc) {
  if (v->payload_len < 2)
    return SB_RTP_ERR_SHORT;
  size_t h = v->header_len;
  /* RFC 4588 §4: OSN, then the original payload. */
  uint16_t osn = rd16(buf + h);
  memmove(buf + h, buf + h + 2, (size_t)v->payload_len - 2);
  buf[0] &= (uint8_t)~0x20;
  sb_rtp_set_pt(buf, media_pt);
  sb_rtp_set_seq(buf, osn);
  sb_rtp_set_ssrc(buf, media_ssrc);

  v->seq = osn;
  v->pt = media_pt & 0x7F;
  v->ssrc = media_ssrc;
  v->payload_len = (uint16_t)(v->payload_len - 2);
  v->padding = false;
  v->padding_len = 0;
  return (int)(h + v->payload_len);
}
