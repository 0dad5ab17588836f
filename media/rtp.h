/* Switchboard — RTP packets (RFC 3550), header extensions (RFC 8285) and
 * retransmission payloads (RFC 4588).
 *
 * sb_rtp_parse fills a view of a packet without copying: offsets into the
 * caller's buffer, every one checked against its length. The setters edit a
 * packet in place and are used by the forwarding path to rewrite SSRC, sequence
 * number, timestamp, payload type and extension ids per subscriber. */
#ifndef SB_MEDIA_RTP_H
#define SB_MEDIA_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SB_RTP_HEADER_LEN 12
#define SB_RTP_EXT_ONE_BYTE 0xBEDE    /* RFC 8285 §4.2 */
#define SB_RTP_EXT_TWO_BYTE 0x1000    /* RFC 8285 §4.3, low 4 bits are appbits */

enum {
  SB_RTP_OK = 0,
  SB_RTP_ERR_SHORT = -1,    /* shorter than the fixed header or a declared length */
  SB_RTP_ERR_VERSION = -2,  /* version field is not 2 */
  SB_RTP_ERR_PADDING = -3,  /* padding count zero or larger than the payload */
  SB_RTP_ERR_EXT = -4,      /* malformed header extension */
  SB_RTP_ERR_SPACE = -5,    /* destination buffer too small */
};

/* A parsed RTP packet. All offsets index the buffer given to sb_rtp_parse. */
typedef struct sb_rtp_view {
  uint8_t version;
  bool padding;
  bool extension;
  uint8_t csrc_count;
  bool marker;
  uint8_t pt;
  uint16_t seq;
  uint32_t ts;
  uint32_t ssrc;
  uint16_t ext_profile;   /* 0xBEDE, 0x100X or other; 0 when no extension */
  uint16_t ext_offset;    /* first byte of the extension data (after its 4-byte header) */
  uint16_t ext_len;       /* bytes of extension data */
  uint16_t header_len;    /* offset of the payload */
  uint16_t payload_len;   /* payload bytes, padding excluded */
  uint8_t padding_len;    /* trailing padding bytes, including the count byte */
} sb_rtp_view;

/* Parses an RTP packet of len bytes (at most 65535; longer input is refused with
 * SB_RTP_ERR_SHORT). Only the extension block's length is checked here; its
 * elements are checked as they are iterated. Returns SB_RTP_OK or a negative
 * SB_RTP_ERR_*; out is zeroed first, so it is defined on error too. */
int sb_rtp_parse(const uint8_t *buf, size_t len, sb_rtp_view *out);

/* One header extension element. */
typedef struct sb_rtp_ext {
  uint8_t id;             /* 1..14 (one-byte form) or 1..255 (two-byte form) */
  uint8_t len;            /* data bytes */
  uint16_t offset;        /* offset of the element's first header byte in the packet */
  const uint8_t *data;
} sb_rtp_ext;

/* Iterates the one- or two-byte header extension elements of a parsed packet.
 * Padding bytes are skipped; a malformed element ends iteration with an error.
 * In the one-byte form an element with ID 15 ends iteration without error
 * (RFC 8285 §4.2). Any other profile yields no elements. */
typedef struct sb_rtp_ext_iter {
  const uint8_t *buf;
  uint16_t pos;
  uint16_t end;
  bool two_byte;
  int error;              /* SB_RTP_OK, or SB_RTP_ERR_EXT after a malformed element */
} sb_rtp_ext_iter;

void sb_rtp_ext_iter_init(sb_rtp_ext_iter *it, const uint8_t *buf, const sb_rtp_view *v);
bool sb_rtp_ext_next(sb_rtp_ext_iter *it, sb_rtp_ext *out);
/* Finds the element with the given id. Returns true and fills out when present. */
bool sb_rtp_ext_find(const uint8_t *buf, const sb_rtp_view *v, uint8_t id, sb_rtp_ext *out);

/* In-place setters on a packet already parsed (buf has at least 12 bytes). */
void sb_rtp_set_seq(uint8_t *buf, uint16_t seq);
void sb_rtp_set_ts(uint8_t *buf, uint32_t ts);
void sb_rtp_set_ssrc(uint8_t *buf, uint32_t ssrc);
void sb_rtp_set_pt(uint8_t *buf, uint8_t pt);
void sb_rtp_set_marker(uint8_t *buf, bool marker);

/* Rewrites extension ids in place: map[old_id] gives the new id; 0 removes the
 * element by turning all its bytes into padding (RFC 8285 §4.2: a zero byte is
 * padding). map must have 256 entries. Returns SB_RTP_OK or SB_RTP_ERR_EXT; on
 * error the packet is left untouched. In the one-byte form a new id above 14
 * cannot be written: such elements are removed. */
int sb_rtp_ext_remap(uint8_t *buf, const sb_rtp_view *v, const uint8_t map[256]);

/* Writes, into dst (cap bytes), the RTX packet (RFC 4588 §4) carrying the parsed
 * packet src: same header and extensions, then the 2-byte original sequence number,
 * then the original payload, without padding (the P bit is cleared). The original
 * sequence number is read from src's header, not from v, so a packet whose fields
 * were rewritten in place after parsing carries its rewritten number; v only gives
 * the layout. pt/ssrc/seq are the RTX stream's. dst may be src itself (in place, cap >= len + 2); otherwise
 * the two must not overlap. Returns the new length or SB_RTP_ERR_SPACE. */
int sb_rtp_rtx_wrap(const uint8_t *src, const sb_rtp_view *v, uint8_t *dst, size_t cap,
                    uint8_t rtx_pt, uint32_t rtx_ssrc, uint16_t rtx_seq);

/* Turns an RTX packet back into the original, in place: restores the original
 * sequence number from the first two payload bytes, sets pt and ssrc, and moves
 * the payload down two bytes. Padding is dropped (the P bit is cleared). v is the
 * sb_rtp_parse view of buf and is updated to describe the result. Returns the new
 * length, or SB_RTP_ERR_SHORT when the RTX payload has fewer than 2 bytes (an RTX
 * padding-only probe). */
int sb_rtp_rtx_unwrap(uint8_t *buf, sb_rtp_view *v, uint8_t media_pt, uint32_t media_ssrc);

/* Sequence number arithmetic modulo 2^16. */
static inline int16_t sb_seq_diff(uint16_t a, uint16_t b) { return (int16_t)(uint16_t)(a - b); }
static inline bool sb_seq_newer(uint16_t a, uint16_t b) { return sb_seq_diff(a, b) > 0; }
/* Timestamps modulo 2^32. */
static inline int32_t sb_ts_diff(uint32_t a, uint32_t b) { return (int32_t)(a - b); }

#endif
