/* Switchboard — RTCP (RFC 3550 §6) and feedback messages (RFC 4585, RFC 5104,
 * draft-alvestrand-rmcat-remb-03).
 *
 * Parsers read only inside the view they are given, after checking the length;
 * writers check the capacity before writing anything. No allocation, no logging:
 * RTCP arrives and leaves on the packet path. */
#include "media/rtcp.h"

#include <string.h>

static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }

static inline uint32_t rd24(const uint8_t *p) {
  return ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) | p[2];
}

static inline uint32_t rd32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline void wr16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static inline void wr24(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 16);
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)v;
}

static inline void wr32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

/* ---- Compound iteration (RFC 3550 §6.1, RFC 5506 §3) ---- */

void sb_rtcp_iter_init(sb_rtcp_iter *it, const uint8_t *buf, size_t len) {
  it->buf = buf;
  it->len = buf != NULL ? len : 0;
  it->pos = 0;
  it->error = SB_RTCP_OK;
}

static bool iter_fail(sb_rtcp_iter *it, int error) {
  it->error = error;
  it->pos = it->len;
  return false;
}

bool sb_rtcp_next(sb_rtcp_iter *it, sb_rtcp_view *out) {
  if (it->pos >= it->len)
    return false;
  const uint8_t *p = it->buf + it->pos;
  size_t left = it->len - it->pos;
  /* RFC 3550 §6.4.1: V(2) P(1) RC(5) | PT(8) | length(16) = 32-bit words - 1. */
  if (left < 4)
    return iter_fail(it, SB_RTCP_ERR_SHORT);
  if ((p[0] >> 6) != 2)
    return iter_fail(it, SB_RTCP_ERR_VERSION);
  size_t plen = 4 * ((size_t)rd16(p + 2) + 1);
  if (plen > left)
    return iter_fail(it, SB_RTCP_ERR_SHORT);
  /* The view keeps its length in 16 bits; UDP never carries more. */
  if (plen > UINT16_MAX)
    return iter_fail(it, SB_RTCP_ERR_LENGTH);
  bool padding = (p[0] & 0x20) != 0;
  if (padding) {
    /* RFC 3550 §6.4.1: the last octet counts the padding, itself included. */
    uint8_t count = p[plen - 1];
    if (count == 0 || count > plen - 4)
      return iter_fail(it, SB_RTCP_ERR_LENGTH);
  }
  out->pt = p[1];
  out->count = p[0] & 0x1F;
  out->padding = padding;
  out->data = p;
  out->len = (uint16_t)plen;
  it->pos += plen;
  return true;
}

bool sb_rtcp_is_valid(const uint8_t *buf, size_t len) {
  sb_rtcp_iter it;
  sb_rtcp_view v;
  size_t n = 0;
  sb_rtcp_iter_init(&it, buf, len);
  while (sb_rtcp_next(&it, &v))
    n++;
  return it.error == SB_RTCP_OK && n > 0;
}

/* Bytes of a packet before its padding. Views are rechecked here because a
 * caller may build one by hand. */
static int body_len(const sb_rtcp_view *v, size_t *out) {
  if (v == NULL || v->data == NULL || v->len < 4)
    return SB_RTCP_ERR_SHORT;
  size_t n = v->len;
  if (v->padding) {
    uint8_t count = v->data[n - 1];
    if (count == 0 || count > n - 4)
      return SB_RTCP_ERR_LENGTH;
    n -= count;
  }
  *out = n;
  return SB_RTCP_OK;
}

/* ---- Sender and receiver reports (RFC 3550 §6.4) ---- */

#define REPORT_BLOCK_LEN 24
#define SR_FIXED_LEN 28 /* header + SSRC + 20 bytes of sender info */
#define RR_FIXED_LEN 8  /* header + SSRC */

static void read_block(const uint8_t *p, sb_rtcp_report_block *b) {
  b->ssrc = rd32(p);
  b->fraction_lost = p[4];
  /* RFC 3550 §6.4.1: cumulative number of packets lost is a signed 24-bit value
   * (duplicates can make it negative). */
  uint32_t raw = rd24(p + 5);
  b->cumulative_lost = (raw & 0x800000) ? (int32_t)raw - 0x1000000 : (int32_t)raw;
  b->ext_highest_seq = rd32(p + 8);
  b->jitter = rd32(p + 12);
  b->lsr = rd32(p + 16);
  b->dlsr = rd32(p + 20);
}

static void write_block(uint8_t *p, const sb_rtcp_report_block *b) {
  int32_t lost = b->cumulative_lost;
  if (lost > 0x7FFFFF)
    lost = 0x7FFFFF;
  if (lost < -0x800000)
    lost = -0x800000;
  wr32(p, b->ssrc);
  p[4] = b->fraction_lost;
  wr24(p + 5, (uint32_t)lost & 0xFFFFFF);
  wr32(p + 8, b->ext_highest_seq);
  wr32(p + 12, b->jitter);
  wr32(p + 16, b->lsr);
  wr32(p + 20, b->dlsr);
}

/* RFC 3550 §6.4.1: the first word of every RTCP packet. */
static void write_header(uint8_t *p, uint8_t count, uint8_t pt, size_t total) {
  p[0] = (uint8_t)(0x80 | (count & 0x1F));
  p[1] = pt;
  wr16(p + 2, (uint16_t)(total / 4 - 1));
}

int sb_rtcp_parse_sr(const sb_rtcp_view *v, sb_rtcp_sr *out) {
  size_t n;
  int rc = body_len(v, &n);
  if (rc != SB_RTCP_OK)
    return rc;
  if (v->pt != SB_RTCP_SR)
    return SB_RTCP_ERR_TYPE;
  if (v->count > SB_RTCP_MAX_BLOCKS)
    return SB_RTCP_ERR_LENGTH;
  /* Profile-specific extensions may follow the blocks (§6.4.1); they are ignored. */
  if (n < SR_FIXED_LEN + (size_t)REPORT_BLOCK_LEN * v->count)
    return SB_RTCP_ERR_LENGTH;
  const uint8_t *p = v->data;
  out->ssrc = rd32(p + 4);
  out->ntp = ((uint64_t)rd32(p + 8) << 32) | rd32(p + 12);
  out->rtp_ts = rd32(p + 16);
  out->packet_count = rd32(p + 20);
  out->octet_count = rd32(p + 24);
  out->block_count = v->count;
  for (size_t i = 0; i < v->count; i++)
    read_block(p + SR_FIXED_LEN + REPORT_BLOCK_LEN * i, &out->blocks[i]);
  return SB_RTCP_OK;
}

int sb_rtcp_parse_rr(const sb_rtcp_view *v, sb_rtcp_rr *out) {
  size_t n;
  int rc = body_len(v, &n);
  if (rc != SB_RTCP_OK)
    return rc;
  if (v->pt != SB_RTCP_RR)
    return SB_RTCP_ERR_TYPE;
  if (v->count > SB_RTCP_MAX_BLOCKS)
    return SB_RTCP_ERR_LENGTH;
  if (n < RR_FIXED_LEN + (size_t)REPORT_BLOCK_LEN * v->count)
    return SB_RTCP_ERR_LENGTH;
  const uint8_t *p = v->data;
  out->ssrc = rd32(p + 4);
  out->block_count = v->count;
  for (size_t i = 0; i < v->count; i++)
    read_block(p + RR_FIXED_LEN + REPORT_BLOCK_LEN * i, &out->blocks[i]);
  return SB_RTCP_OK;
}

int sb_rtcp_write_sr(uint8_t *buf, size_t cap, const sb_rtcp_sr *sr) {
  if (sr->block_count > SB_RTCP_MAX_BLOCKS)
    return SB_RTCP_ERR_LENGTH;
  size_t total = SR_FIXED_LEN + (size_t)REPORT_BLOCK_LEN * sr->block_count;
  if (total > cap)
    return SB_RTCP_ERR_SPACE;
  write_header(buf, sr->block_count, SB_RTCP_SR, total);
  wr32(buf + 4, sr->ssrc);
  wr32(buf + 8, (uint32_t)(sr->ntp >> 32));
  wr32(buf + 12, (uint32_t)sr->ntp);
  wr32(buf + 16, sr->rtp_ts);
  wr32(buf + 20, sr->packet_count);
  wr32(buf + 24, sr->octet_count);
  for (size_t i = 0; i < sr->block_count; i++)
    write_block(buf + SR_FIXED_LEN + REPORT_BLOCK_LEN * i, &sr->blocks[i]);
  return (int)total;
}

int sb_rtcp_write_rr(uint8_t *buf, size_t cap, const sb_rtcp_rr *rr) {
  if (rr->block_count > SB_RTCP_MAX_BLOCKS)
    return SB_RTCP_ERR_LENGTH;
  size_t total = RR_FIXED_LEN + (size_t)REPORT_BLOCK_LEN * rr->block_count;
  if (total > cap)
    return SB_RTCP_ERR_SPACE;
  write_header(buf, rr->block_count, SB_RTCP_RR, total);
  wr32(buf + 4, rr->ssrc);
  for (size_t i = 0; i < rr->block_count; i++)
    write_block(buf + RR_FIXED_LEN + REPORT_BLOCK_LEN * i, &rr->blocks[i]);
  return (int)total;
}

/* ---- SDES (RFC 3550 §6.5) and BYE (§6.6) ---- */

#define SDES_END 0
#define SDES_CNAME 1

int sb_rtcp_parse_sdes_cname(const sb_rtcp_view *v, uint32_t *ssrc, char *cname, size_t cap) {
  size_t n;
  int rc = body_len(v, &n);
  if (rc != SB_RTCP_OK)
    return rc;
  if (v->pt != SB_RTCP_SDES || v->count == 0)
    return SB_RTCP_ERR_TYPE;
  const uint8_t *p = v->data;
  size_t pos = 4;
  if (n - pos < 4)
    return SB_RTCP_ERR_SHORT;
  if (ssrc != NULL)
    *ssrc = rd32(p + pos);
  pos += 4;
  /* §6.5: items are type(8) length(8) text; a null type ends the chunk. */
  while (pos < n) {
    uint8_t type = p[pos];
    if (type == SDES_END)
      return SB_RTCP_ERR_TYPE;
    if (n - pos < 2)
      return SB_RTCP_ERR_SHORT;
    size_t ilen = p[pos + 1];
    if (ilen > n - pos - 2)
      return SB_RTCP_ERR_SHORT;
    if (type == SDES_CNAME) {
      if (cap > 0) {
        size_t copy = ilen < cap - 1 ? ilen : cap - 1;
        memcpy(cname, p + pos + 2, copy);
        cname[copy] = '\0';
      }
      return SB_RTCP_OK;
    }
    pos += 2 + ilen;
  }
  return SB_RTCP_ERR_SHORT;
}

int sb_rtcp_write_sdes_cname(uint8_t *buf, size_t cap, uint32_t ssrc, const char *cname) {
  size_t clen = strlen(cname);
  if (clen > 255)
    return SB_RTCP_ERR_LENGTH;
  /* §6.5: SSRC, CNAME item, then at least one null octet ending the item list,
   * padded with nulls to a 32-bit boundary. */
  size_t chunk = (4 + 2 + clen + 1 + 3) & ~(size_t)3;
  size_t total = 4 + chunk;
  if (total > cap)
    return SB_RTCP_ERR_SPACE;
  write_header(buf, 1, SB_RTCP_SDES, total);
  wr32(buf + 4, ssrc);
  buf[8] = SDES_CNAME;
  buf[9] = (uint8_t)clen;
  memcpy(buf + 10, cname, clen);
  memset(buf + 10 + clen, 0, total - 10 - clen);
  return (int)total;
}

int sb_rtcp_parse_bye(const sb_rtcp_view *v, uint32_t *ssrcs, size_t max) {
  size_t n;
  int rc = body_len(v, &n);
  if (rc != SB_RTCP_OK)
    return rc;
  if (v->pt != SB_RTCP_BYE)
    return SB_RTCP_ERR_TYPE;
  /* §6.6: SC SSRCs, then an optional reason this server has no use for. */
  if (n < 4 + 4 * (size_t)v->count)
    return SB_RTCP_ERR_LENGTH;
  for (size_t i = 0; i < v->count && i < max; i++)
    ssrcs[i] = rd32(v->data + 4 + 4 * i);
  return v->count;
}

int sb_rtcp_write_bye(uint8_t *buf, size_t cap, const uint32_t *ssrcs, size_t n) {
  if (n > SB_RTCP_MAX_BLOCKS)
    return SB_RTCP_ERR_LENGTH;
  size_t total = 4 + 4 * n;
  if (total > cap)
    return SB_RTCP_ERR_SPACE;
  write_header(buf, (uint8_t)n, SB_RTCP_BYE, total);
  for (size_t i = 0; i < n; i++)
    wr32(buf + 4 + 4 * i, ssrcs[i]);
  return (int)total;
}

/* ---- Feedback (RFC 4585 §6.1) ---- */

#define FB_FIXED_LEN 12 /* header + sender SSRC + media source SSRC */

int sb_rtcp_parse_fb(const sb_rtcp_view *v, sb_rtcp_fb *out) {
  size_t n;
  int rc = body_len(v, &n);
  if (rc != SB_RTCP_OK)
    return rc;
  if (v->pt != SB_RTCP_RTPFB && v->pt != SB_RTCP_PSFB)
    return SB_RTCP_ERR_TYPE;
  if (n < FB_FIXED_LEN)
    return SB_RTCP_ERR_LENGTH;
  out->pt = v->pt;
  out->fmt = v->count;
  out->sender_ssrc = rd32(v->data + 4);
  out->media_ssrc = rd32(v->data + 8);
  out->fci = v->data + FB_FIXED_LEN;
  out->fci_len = (uint16_t)(n - FB_FIXED_LEN);
  return SB_RTCP_OK;
}

static void write_fb_header(uint8_t *p, uint8_t fmt, uint8_t pt, size_t total,
                            uint32_t sender_ssrc, uint32_t media_ssrc) {
  write_header(p, fmt, pt, total);
  wr32(p + 4, sender_ssrc);
  wr32(p + 8, media_ssrc);
}

/* ---- Generic NACK (RFC 4585 §6.2.1) ---- */

int sb_rtcp_nack_seqs(const sb_rtcp_fb *fb, uint16_t *seqs, size_t max) {
  if (fb->pt != SB_RTCP_RTPFB || fb->fmt != SB_RTCP_RTPFB_NACK)
    return SB_RTCP_ERR_TYPE;
  if (fb->fci_len % 4 != 0)
    return SB_RTCP_ERR_LENGTH;
  size_t total = 0;
  for (size_t off = 0; off < fb->fci_len; off += 4) {
    /* PID, then BLP: bit i set means PID + i + 1 is lost too. */
    uint16_t pid = rd16(fb->fci + off);
    uint16_t blp = rd16(fb->fci + off + 2);
    if (total < max)
      seqs[total] = pid;
    total++;
    for (unsigned i = 0; i < 16; i++) {
      if (blp & (1u << i)) {
        if (total < max)
          seqs[total] = (uint16_t)(pid + i + 1);
        total++;
      }
    }
  }
  return (int)total;
}

/* Sequence numbers are placed in a 2^16-bit map indexed so that index order is
 * order modulo 2^16 around seqs[0]: index = (seq - seqs[0]) + 2^15. The map lives
 * on the stack (8 KiB) and only the words between the lowest and highest index
 * are cleared and scanned, a few words for any realistic NACK. */
#define NACK_MAP_WORDS (65536 / 64)

static inline uint32_t nack_index(uint16_t seq, uint16_t ref) {
  return (uint16_t)(seq - ref) ^ 0x8000u;
}

static inline bool map_test(const uint64_t *map, uint32_t i) {
  return (map[i >> 6] >> (i & 63)) & 1;
}

/* The first set index in [i, hi], or hi + 1. */
static uint32_t map_next(const uint64_t *map, uint32_t i, uint32_t hi) {
  while (i <= hi) {
    uint64_t w = map[i >> 6] >> (i & 63);
    if (w != 0) {
      i += (uint32_t)__builtin_ctzll(w);
      return i <= hi ? i : hi + 1;
    }
    i = (i | 63) + 1;
  }
  return hi + 1;
}

int sb_rtcp_write_nack(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                       const uint16_t *seqs, size_t n) {
  if (n == 0)
    return SB_RTCP_ERR_LENGTH;
  uint64_t map[NACK_MAP_WORDS];
  uint16_t ref = seqs[0];
  uint32_t lo = UINT32_MAX, hi = 0;
  for (size_t i = 0; i < n; i++) {
    uint32_t idx = nack_index(seqs[i], ref);
    if (idx < lo)
      lo = idx;
    if (idx > hi)
      hi = idx;
  }
  memset(&map[lo >> 6], 0, ((hi >> 6) - (lo >> 6) + 1) * sizeof map[0]);
  for (size_t i = 0; i < n; i++) {
    uint32_t idx = nack_index(seqs[i], ref);
    map[idx >> 6] |= (uint64_t)1 << (idx & 63);
  }

  size_t pos = FB_FIXED_LEN;
  for (uint32_t i = map_next(map, lo, hi); i <= hi; i = map_next(map, i + 17, hi)) {
    uint16_t blp = 0;
    for (uint32_t k = 1; k <= 16 && i + k <= hi; k++) {
      if (map_test(map, i + k))
        blp |= (uint16_t)(1u << (k - 1));
    }
    /* The length field counts words minus one in 16 bits. */
    if (pos + 4 > cap || (pos + 4) / 4 - 1 > UINT16_MAX)
      return SB_RTCP_ERR_SPACE;
    wr16(buf + pos, (uint16_t)((i ^ 0x8000u) + ref));
    wr16(buf + pos + 2, blp);
    pos += 4;
  }
  write_fb_header(buf, SB_RTCP_RTPFB_NACK, SB_RTCP_RTPFB, pos, sender_ssrc, media_ssrc);
  return (int)pos;
}

/* ---- PLI (RFC 4585 §6.3.1) and FIR (RFC 5104 §4.3.1) ---- */

int sb_rtcp_write_pli(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc) {
  if (cap < FB_FIXED_LEN)
    return SB_RTCP_ERR_SPACE;
  /* §6.3.1: PLI has no FCI. */
  write_fb_header(buf, SB_RTCP_PSFB_PLI, SB_RTCP_PSFB, FB_FIXED_LEN, sender_ssrc, media_ssrc);
  return FB_FIXED_LEN;
}

#define FIR_ENTRY_LEN 8 /* SSRC, seq nr, 24 reserved bits */

int sb_rtcp_parse_fir(const sb_rtcp_fb *fb, sb_rtcp_fir_entry *out, size_t max) {
  if (fb->pt != SB_RTCP_PSFB || fb->fmt != SB_RTCP_PSFB_FIR)
    return SB_RTCP_ERR_TYPE;
  if (fb->fci_len % FIR_ENTRY_LEN != 0)
    return SB_RTCP_ERR_LENGTH;
  size_t count = fb->fci_len / FIR_ENTRY_LEN;
  for (size_t i = 0; i < count && i < max; i++) {
    out[i].ssrc = rd32(fb->fci + FIR_ENTRY_LEN * i);
    out[i].seq_nr = fb->fci[FIR_ENTRY_LEN * i + 4];
  }
  return (int)count;
}

int sb_rtcp_write_fir(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                      uint8_t seq_nr) {
  size_t total = FB_FIXED_LEN + FIR_ENTRY_LEN;
  if (cap < total)
    return SB_RTCP_ERR_SPACE;
  /* RFC 5104 §4.3.1.2: the media source field is unused and set to 0; the
   * target SSRC is in the FCI entry. */
  write_fb_header(buf, SB_RTCP_PSFB_FIR, SB_RTCP_PSFB, total, sender_ssrc, 0);
  wr32(buf + FB_FIXED_LEN, media_ssrc);
  buf[FB_FIXED_LEN + 4] = seq_nr;
  memset(buf + FB_FIXED_LEN + 5, 0, 3);
  return (int)total;
}

/* ---- REMB (draft-alvestrand-rmcat-remb-03 §2.2) ---- */

#define REMB_FIXED_FCI 8 /* 'REMB', num SSRC(8), BR Exp(6), BR Mantissa(18) */
#define REMB_MANTISSA_MAX 0x3FFFFu

int sb_rtcp_parse_remb(const sb_rtcp_fb *fb, sb_rtcp_remb *out) {
  if (fb->pt != SB_RTCP_PSFB || fb->fmt != SB_RTCP_PSFB_AFB)
    return SB_RTCP_ERR_TYPE;
  const uint8_t *f = fb->fci;
  if (fb->fci_len < 4 || memcmp(f, "REMB", 4) != 0)
    return SB_RTCP_ERR_TYPE;
  if (fb->fci_len < REMB_FIXED_FCI)
    return SB_RTCP_ERR_LENGTH;
  uint8_t num = f[4];
  if (fb->fci_len < REMB_FIXED_FCI + 4 * (size_t)num)
    return SB_RTCP_ERR_LENGTH;
  unsigned exp = f[5] >> 2;
  uint64_t mantissa = ((uint64_t)(f[5] & 0x03) << 16) | ((uint64_t)f[6] << 8) | f[7];
  /* A 6-bit exponent can shift an 18-bit mantissa past 64 bits: saturate. */
  if (exp > 0 && (mantissa >> (64 - exp)) != 0)
    out->bitrate = UINT64_MAX;
  else
    out->bitrate = mantissa << exp;
  out->ssrc_count = num < SB_RTCP_MAX_REMB_SSRCS ? num : SB_RTCP_MAX_REMB_SSRCS;
  for (size_t i = 0; i < out->ssrc_count; i++)
    out->ssrcs[i] = rd32(f + REMB_FIXED_FCI + 4 * i);
  return SB_RTCP_OK;
}

int sb_rtcp_write_remb(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint64_t bitrate,
                       const uint32_t *ssrcs, size_t n) {
  if (n > 255)
    return SB_RTCP_ERR_LENGTH;
  size_t total = FB_FIXED_LEN + REMB_FIXED_FCI + 4 * n;
  if (total > cap)
    return SB_RTCP_ERR_SPACE;
  /* Shifting right drops low bits, so the encoded value never exceeds bitrate. */
  unsigned exp = 0;
  while (bitrate > REMB_MANTISSA_MAX) {
    bitrate >>= 1;
    exp++;
  }
  write_fb_header(buf, SB_RTCP_PSFB_AFB, SB_RTCP_PSFB, total, sender_ssrc, 0);
  uint8_t *f = buf + FB_FIXED_LEN;
  memcpy(f, "REMB", 4);
  f[4] = (uint8_t)n;
  f[5] = (uint8_t)((exp << 2) | (uint32_t)(bitrate >> 16));
  f[6] = (uint8_t)(bitrate >> 8);
  f[7] = (uint8_t)bitrate;
  for (size_t i = 0; i < n; i++)
    wr32(f + REMB_FIXED_FCI + 4 * i, ssrcs[i]);
  return (int)total;
}

/* ---- NTP time (RFC 3550 §4) ---- */

/* Seconds from 1900-01-01 (NTP era 0) to 1970-01-01. */
#define NTP_UNIX_OFFSET 2208988800LL

uint64_t sb_ntp_from_unix_us(int64_t unix_us) {
  int64_t sec = unix_us / 1000000;
  int64_t us = unix_us % 1000000;
  if (us < 0) {
    us += 1000000;
    sec--;
  }
  /* The seconds wrap modulo 2^32 as NTP's do (era 1 starts in 2036). */
  uint64_t ntp_sec = (uint32_t)(uint64_t)(sec + NTP_UNIX_OFFSET);
  uint64_t frac = ((uint64_t)us << 32) / 1000000;
  return (ntp_sec << 32) | frac;
}
