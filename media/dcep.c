/* Switchboard — DCEP (RFC 8832) and the SCTP packet structure check. */
#include "media/dcep.h"

#include <string.h>

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void wr16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}
static void wr32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

int sb_dcep_type(const uint8_t *buf, size_t len) { return len == 0 ? SB_DCEP_ERR_SHORT : buf[0]; }

bool sb_dcep_channel_type_valid(uint8_t type) {
  uint8_t base = type & (uint8_t)~SB_DC_UNORDERED;
  return base == SB_DC_RELIABLE || base == SB_DC_PARTIAL_RELIABLE_REXMIT ||
         base == SB_DC_PARTIAL_RELIABLE_TIMED;
}

/* RFC 8832 §5.1: type(1) channel type(1) priority(2) reliability(4)
 * label length(2) protocol length(2) label protocol. */
int sb_dcep_parse_open(const uint8_t *buf, size_t len, sb_dcep_open *out) {
  memset(out, 0, sizeof *out);
  if (len < 12)
    return SB_DCEP_ERR_SHORT;
  if (buf[0] != SB_DCEP_OPEN || !sb_dcep_channel_type_valid(buf[1]))
    return SB_DCEP_ERR_TYPE;
  out->channel_type = buf[1];
  out->priority = rd16(buf + 2);
  out->reliability = rd32(buf + 4);
  out->label_len = rd16(buf + 8);
  out->protocol_len = rd16(buf + 10);
  if ((size_t)12 + out->label_len + out->protocol_len != len)
    return SB_DCEP_ERR_LENGTH;
  out->label = buf + 12;
  out->protocol = buf + 12 + out->label_len;
  return SB_DCEP_OK;
}

int sb_dcep_write_open(uint8_t *buf, size_t cap, const sb_dcep_open *o) {
  size_t n = (size_t)12 + o->label_len + o->protocol_len;
  if (n > cap)
    return SB_DCEP_ERR_SPACE;
  buf[0] = SB_DCEP_OPEN;
  buf[1] = o->channel_type;
  wr16(buf + 2, o->priority);
  wr32(buf + 4, o->reliability);
  wr16(buf + 8, o->label_len);
  wr16(buf + 10, o->protocol_len);
  if (o->label_len)
    memcpy(buf + 12, o->label, o->label_len);
  if (o->protocol_len)
    memcpy(buf + 12 + o->label_len, o->protocol, o->protocol_len);
  return (int)n;
}

int sb_dcep_write_ack(uint8_t *buf, size_t cap) {
  if (cap < 1)
    return SB_DCEP_ERR_SPACE;
  buf[0] = SB_DCEP_ACK;
  return 1;
}

bool sb_sctp_packet_valid(const uint8_t *buf, size_t len) {
  /* Common header: source port, destination port, verification tag, checksum. */
  if (len < 12 + 4)
    return false;
  size_t pos = 12;
  while (pos < len) {
    if (len - pos < 4)
      return false;
    uint16_t clen = rd16(buf + pos + 2);
    if (clen < 4 || clen > len - pos)
      return false;
    /* Chunks are padded to a multiple of 4; the last one's padding may be cut. */
    size_t padded = ((size_t)clen + 3) & ~(size_t)3;
    pos = padded > len - pos ? len : pos + padded;
  }
  return true;
}
