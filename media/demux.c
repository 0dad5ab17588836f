/* Switchboard — one UDP port, five protocols: classify by the first byte
 * (RFC 7983 §7) and tell RTCP from RTP by the second (RFC 5761 §4). */
#include "media/demux.h"

/* Smallest datagram each protocol can send. */
#define STUN_MIN 20   /* RFC 8489 §5: the STUN header */
#define ZRTP_MIN 12   /* RFC 6189 §5: the ZRTP packet header */
#define DTLS_MIN 13   /* RFC 6347 §4.1: the DTLS record header */
#define TURN_MIN 4    /* RFC 8656 §12.4: the ChannelData header */
#define RTP_MIN 12    /* RFC 3550 §5.1: the fixed header */
#define RTCP_MIN 8    /* RFC 3550 §6.4.2: an RR with no report blocks */

sb_pkt_class sb_demux_classify(const uint8_t *buf, size_t len) {
  if (buf == NULL || len == 0)
    return SB_PKT_UNKNOWN;
  uint8_t b = buf[0];
  if (b <= 3)
    return len >= STUN_MIN ? SB_PKT_STUN : SB_PKT_UNKNOWN;
  if (b >= 16 && b <= 19)
    return len >= ZRTP_MIN ? SB_PKT_ZRTP : SB_PKT_UNKNOWN;
  if (b >= 20 && b <= 63)
    return len >= DTLS_MIN ? SB_PKT_DTLS : SB_PKT_UNKNOWN;
  if (b >= 64 && b <= 79)
    return len >= TURN_MIN ? SB_PKT_TURN_CHANNEL : SB_PKT_UNKNOWN;
  if (b >= 128 && b <= 191) {
    if (len < 2)
      return SB_PKT_UNKNOWN;
    /* RFC 5761 §4: RTCP packet types 192..223 fall where RTP's marker bit and
     * payload type would be, and RTP avoids those payload types when muxed. */
    if (buf[1] >= 192 && buf[1] <= 223)
      return len >= RTCP_MIN ? SB_PKT_RTCP : SB_PKT_UNKNOWN;
    return len >= RTP_MIN ? SB_PKT_RTP : SB_PKT_UNKNOWN;
  }
  return SB_PKT_UNKNOWN;
}

const char *sb_pkt_class_name(sb_pkt_class c) {
  switch (c) {
  case SB_PKT_STUN:
    return "stun";
  case SB_PKT_ZRTP:
    return "zrtp";
  case SB_PKT_DTLS:
    return "dtls";
  case SB_PKT_TURN_CHANNEL:
    return "turn-channel";
  case SB_PKT_RTP:
    return "rtp";
  case SB_PKT_RTCP:
    return "rtcp";
  case SB_PKT_UNKNOWN:
    break;
  }
  return "unknown";
}
