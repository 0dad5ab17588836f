/* Switchboard — RTCP (RFC 3550 §6) and feedback messages (RFC 4585, RFC 5104,
 * draft-alvestrand-rmcat-remb): parse compound and reduced-size (RFC 5506) packets
 * into views, and write the packets a server sends.
 *
 * Parsers never trust a length field they have not checked against the buffer.
 * Writers take a destination and its capacity and return the bytes written or a
 * negative error when it does not fit. All multi-byte fields are network order on
 * the wire and host order in the structs. */
#ifndef SB_MEDIA_RTCP_H
#define SB_MEDIA_RTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
  SB_RTCP_SR = 200,
  SB_RTCP_RR = 201,
  SB_RTCP_SDES = 202,
  SB_RTCP_BYE = 203,
  SB_RTCP_APP = 204,
  SB_RTCP_RTPFB = 205, /* transport-layer feedback (RFC 4585 §6.2) */
  SB_RTCP_PSFB = 206,  /* payload-specific feedback (RFC 4585 §6.3) */
  SB_RTCP_XR = 207,
};

/* Feedback message types (FMT field). */
enum {
  SB_RTCP_RTPFB_NACK = 1,   /* RFC 4585 §6.2.1 */
  SB_RTCP_RTPFB_TWCC = 15,  /* draft-holmer-rmcat-transport-wide-cc-extensions */
  SB_RTCP_PSFB_PLI = 1,     /* RFC 4585 §6.3.1 */
  SB_RTCP_PSFB_FIR = 4,     /* RFC 5104 §4.3.1 */
  SB_RTCP_PSFB_AFB = 15,    /* application layer feedback: REMB */
};

enum {
  SB_RTCP_OK = 0,
  SB_RTCP_ERR_SHORT = -1,   /* truncated header or body */
  SB_RTCP_ERR_VERSION = -2, /* version is not 2 */
  SB_RTCP_ERR_LENGTH = -3,  /* length field disagrees with the buffer or the type */
  SB_RTCP_ERR_TYPE = -4,    /* not the packet type the parser expects */
  SB_RTCP_ERR_SPACE = -5,   /* writer: destination too small */
};

#define SB_RTCP_MAX_BLOCKS 31   /* 5-bit report count */
#define SB_RTCP_MAX_FIR 16      /* FIR entries kept by the parser */
#define SB_RTCP_MAX_REMB_SSRCS 16

/* One packet inside a compound RTCP packet. */
typedef struct sb_rtcp_view {
  uint8_t pt;               /* packet type, 200..207 or other */
  uint8_t count;            /* RC/SC/FMT field (5 bits) */
  bool padding;
  const uint8_t *data;      /* start of this packet's header */
  uint16_t len;             /* bytes of this packet including header (and padding) */
} sb_rtcp_view;

/* Iterates the packets of a compound (or reduced-size) RTCP datagram. Each packet
 * must have version 2 and a length that fits what is left; a packet with the
 * padding bit must end in a count byte in 1..len-4. The padding bit is accepted on
 * any packet, not only the last (RFC 3550 §6.4.1 allows it only there, but it is
 * harmless when its count is checked). */
typedef struct sb_rtcp_iter {
  const uint8_t *buf;
  size_t len;
  size_t pos;
  int error;                /* SB_RTCP_OK, or why iteration stopped early */
} sb_rtcp_iter;

void sb_rtcp_iter_init(sb_rtcp_iter *it, const uint8_t *buf, size_t len);
/* Returns true and fills out with the next packet; false at the end or on error
 * (then it->error says which). */
bool sb_rtcp_next(sb_rtcp_iter *it, sb_rtcp_view *out);
/* True when the datagram parses as RTCP all the way through and is not empty. */
bool sb_rtcp_is_valid(const uint8_t *buf, size_t len);

/* RFC 3550 §6.4.1 report block. */
typedef struct sb_rtcp_report_block {
  uint32_t ssrc;            /* source this block reports on */
  uint8_t fraction_lost;    /* fixed point /256 */
  int32_t cumulative_lost;  /* 24-bit signed */
  uint32_t ext_highest_seq;
  uint32_t jitter;          /* timestamp units */
  uint32_t lsr;             /* middle 32 bits of the last SR's NTP time */
  uint32_t dlsr;            /* delay since last SR, 1/65536 s */
} sb_rtcp_report_block;

typedef struct sb_rtcp_sr {
  uint32_t ssrc;
  uint64_t ntp;             /* 32.32 fixed point NTP time */
  uint32_t rtp_ts;
  uint32_t packet_count;
  uint32_t octet_count;
  uint8_t block_count;
  sb_rtcp_report_block blocks[SB_RTCP_MAX_BLOCKS];
} sb_rtcp_sr;

typedef struct sb_rtcp_rr {
  uint32_t ssrc;
  uint8_t block_count;
  sb_rtcp_report_block blocks[SB_RTCP_MAX_BLOCKS];
} sb_rtcp_rr;

int sb_rtcp_parse_sr(const sb_rtcp_view *v, sb_rtcp_sr *out);
int sb_rtcp_parse_rr(const sb_rtcp_view *v, sb_rtcp_rr *out);

/* SDES: finds the CNAME of the first chunk; copies at most cap-1 bytes, NUL ends
 * (ssrc may be NULL; cname may be NULL when cap is 0). Returns SB_RTCP_OK, or
 * SB_RTCP_ERR_TYPE when the packet is not SDES or its first chunk has no CNAME,
 * or SB_RTCP_ERR_SHORT when the chunk is cut off before its CNAME. */
int sb_rtcp_parse_sdes_cname(const sb_rtcp_view *v, uint32_t *ssrc, char *cname, size_t cap);

/* BYE: fills up to max SSRCs; returns how many were present (may exceed max) or < 0. */
int sb_rtcp_parse_bye(const sb_rtcp_view *v, uint32_t *ssrcs, size_t max);

/* Common header of RTPFB/PSFB: sender and media source SSRC (RFC 4585 §6.1). */
typedef struct sb_rtcp_fb {
  uint8_t pt;               /* SB_RTCP_RTPFB or SB_RTCP_PSFB: FMT values overlap */
  uint8_t fmt;
  uint32_t sender_ssrc;
  uint32_t media_ssrc;
  const uint8_t *fci;       /* feedback control information */
  uint16_t fci_len;
} sb_rtcp_fb;

/* Returns SB_RTCP_ERR_TYPE for packets other than RTPFB/PSFB, SB_RTCP_ERR_LENGTH
 * when shorter than the 12-byte common part. */
int sb_rtcp_parse_fb(const sb_rtcp_view *v, sb_rtcp_fb *out);

/* Generic NACK (RFC 4585 §6.2.1): expands every PID+BLP pair into sequence numbers.
 * Writes at most max of them to seqs; returns how many the message lists in all
 * (may exceed max), or < 0 when fb is not a NACK (SB_RTCP_ERR_TYPE) or the FCI is
 * not a whole number of 4-byte pairs (SB_RTCP_ERR_LENGTH). */
int sb_rtcp_nack_seqs(const sb_rtcp_fb *fb, uint16_t *seqs, size_t max);

/* FIR (RFC 5104 §4.3.1.1): entries of (ssrc, command sequence number). Fills up to
 * max entries; returns how many the message holds (may exceed max), or < 0 when fb
 * is not a FIR (SB_RTCP_ERR_TYPE) or the FCI is not whole 8-byte entries
 * (SB_RTCP_ERR_LENGTH). */
typedef struct sb_rtcp_fir_entry {
  uint32_t ssrc;
  uint8_t seq_nr;
} sb_rtcp_fir_entry;
int sb_rtcp_parse_fir(const sb_rtcp_fb *fb, sb_rtcp_fir_entry *out, size_t max);

/* REMB (draft-alvestrand-rmcat-remb-03 §2.2). Returns SB_RTCP_ERR_TYPE when the AFB
 * message is not REMB, SB_RTCP_ERR_LENGTH when it is shorter than its SSRC count
 * says. A bitrate too large for 64 bits reads as UINT64_MAX. */
typedef struct sb_rtcp_remb {
  uint64_t bitrate;         /* bits per second: mantissa << exp */
  uint8_t ssrc_count;       /* SSRCs kept in ssrcs: the first SB_RTCP_MAX_REMB_SSRCS */
  uint32_t ssrcs[SB_RTCP_MAX_REMB_SSRCS];
} sb_rtcp_remb;
int sb_rtcp_parse_remb(const sb_rtcp_fb *fb, sb_rtcp_remb *out);

/* Writers. Each returns the number of bytes written, or SB_RTCP_ERR_SPACE, or
 * SB_RTCP_ERR_LENGTH when a count does not fit its field (more than 31 report
 * blocks or BYE SSRCs, a CNAME over 255 bytes, no NACK sequence numbers, more than
 * 255 REMB SSRCs). Cumulative lost is clamped to 24-bit signed. */
int sb_rtcp_write_sr(uint8_t *buf, size_t cap, const sb_rtcp_sr *sr);
int sb_rtcp_write_rr(uint8_t *buf, size_t cap, const sb_rtcp_rr *rr);
int sb_rtcp_write_sdes_cname(uint8_t *buf, size_t cap, uint32_t ssrc, const char *cname);
int sb_rtcp_write_bye(uint8_t *buf, size_t cap, const uint32_t *ssrcs, size_t n);
/* Packs the sequence numbers (any order, duplicates allowed) into PID+BLP pairs,
 * ordered modulo 2^16 around seqs[0] (so a run across 65535 -> 0 stays together);
 * every distinct number appears exactly once. */
int sb_rtcp_write_nack(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                       const uint16_t *seqs, size_t n);
int sb_rtcp_write_pli(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc);
/* One FCI entry for media_ssrc; the header's media source SSRC is 0 as RFC 5104
 * §4.3.1.2 requires. */
int sb_rtcp_write_fir(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                      uint8_t seq_nr);
/* Encodes bitrate with an 18-bit mantissa and 6-bit exponent, rounding down. The
 * header's media source SSRC is 0 (draft-alvestrand-rmcat-remb-03 §2.2). */
int sb_rtcp_write_remb(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint64_t bitrate,
                       const uint32_t *ssrcs, size_t n);

/* NTP time helpers: wall-clock microseconds since the Unix epoch to 32.32 NTP, and
 * the middle 32 bits used by LSR/DLSR. */
uint64_t sb_ntp_from_unix_us(int64_t unix_us);
static inline uint32_t sb_ntp_mid32(uint64_t ntp) { return (uint32_t)(ntp >> 16); }

#endif
