/* Switchboard — data channels on the wire: the Data Channel Establishment Protocol
 * (RFC 8832) and the SCTP payload protocol identifiers of RFC 8831, plus a
 * structural check of SCTP packets (RFC 9260 §3) done before usrsctp sees them,
 * so that malformed ones are counted and dropped by us. */
#ifndef SB_MEDIA_DCEP_H
#define SB_MEDIA_DCEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 8831 §8 payload protocol identifiers. */
enum {
  SB_PPID_DCEP = 50,
  SB_PPID_STRING = 51,
  SB_PPID_BINARY = 53,
  SB_PPID_STRING_EMPTY = 56,
  SB_PPID_BINARY_EMPTY = 57,
};

/* RFC 8832 §8.2.1 message types. */
enum {
  SB_DCEP_ACK = 0x02,
  SB_DCEP_OPEN = 0x03,
};

/* RFC 8832 §5.1 channel types: high bit = unordered. */
enum {
  SB_DC_RELIABLE = 0x00,
  SB_DC_PARTIAL_RELIABLE_REXMIT = 0x01,
  SB_DC_PARTIAL_RELIABLE_TIMED = 0x02,
  SB_DC_UNORDERED = 0x80,
};

enum {
  SB_DCEP_OK = 0,
  SB_DCEP_ERR_SHORT = -1,
  SB_DCEP_ERR_TYPE = -2,      /* unknown message or channel type */
  SB_DCEP_ERR_LENGTH = -3,    /* label/protocol lengths disagree with the message */
  SB_DCEP_ERR_SPACE = -4,     /* writer: buffer too small */
};

#define SB_DCEP_MAX_LABEL 65535

/* A parsed DATA_CHANNEL_OPEN; label and protocol point into the message (not
 * NUL-terminated). */
typedef struct sb_dcep_open {
  uint8_t channel_type;
  uint16_t priority;
  uint32_t reliability;       /* retransmissions or milliseconds, by type */
  const uint8_t *label;
  uint16_t label_len;
  const uint8_t *protocol;
  uint16_t protocol_len;
} sb_dcep_open;

/* The message type of a DCEP message, or < 0 when empty. */
int sb_dcep_type(const uint8_t *buf, size_t len);
int sb_dcep_parse_open(const uint8_t *buf, size_t len, sb_dcep_open *out);
/* Writes an OPEN; returns its length or SB_DCEP_ERR_SPACE. */
int sb_dcep_write_open(uint8_t *buf, size_t cap, const sb_dcep_open *open);
/* The one-byte ACK. */
int sb_dcep_write_ack(uint8_t *buf, size_t cap);
bool sb_dcep_channel_type_valid(uint8_t type);

/* True when buf is a structurally sound SCTP packet: a 12-byte common header and
 * chunks whose lengths (at least 4, padded to 4) tile the packet exactly (RFC 9260
 * §3.2). The checksum is usrsctp's business. */
bool sb_sctp_packet_valid(const uint8_t *buf, size_t len);

#endif
