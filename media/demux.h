/* Switchboard — demultiplexing of one UDP port shared by STUN, DTLS, RTP and RTCP
 * (RFC 7983 §7, with RFC 5761 §4 to tell RTCP from RTP). */
#ifndef SB_MEDIA_DEMUX_H
#define SB_MEDIA_DEMUX_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
  SB_PKT_UNKNOWN = 0,
  SB_PKT_STUN,        /* first byte 0..3 */
  SB_PKT_ZRTP,        /* 16..19 */
  SB_PKT_DTLS,        /* 20..63 */
  SB_PKT_TURN_CHANNEL,/* 64..79 */
  SB_PKT_RTP,         /* 128..191, second byte not an RTCP type */
  SB_PKT_RTCP,        /* 128..191, second byte 192..223 (RFC 5761 §4) */
} sb_pkt_class;

/* Classifies a datagram by its first bytes. Datagrams too short to be what their
 * first byte says (STUN < 20, ZRTP < 12, DTLS < 13, TURN ChannelData < 4, RTP < 12,
 * RTCP < 8 bytes) are UNKNOWN. */
sb_pkt_class sb_demux_classify(const uint8_t *buf, size_t len);
/* Lower-case name for logs ("stun", "rtcp"); "unknown" for anything else. */
const char *sb_pkt_class_name(sb_pkt_class c);

#endif
