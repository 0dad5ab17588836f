/* Switchboard — what peer.c, peer_rtcp.c and peer_stats.c share. Not for plugins. */
#ifndef SB_MEDIA_PEER_INTERNAL_H
#define SB_MEDIA_PEER_INTERNAL_H

#include <glib.h>

#include "media/dtls.h"
#include "media/ice.h"
#include "media/peer.h"
#include "media/srtp.h"

#define SB_PEER_MAX_IN_STREAMS 32   /* bound on what a hostile remote can make us track */
#define SB_PEER_TICK_MS 20          /* NACK and report scheduling */
#define SB_PEER_RTCP_INTERVAL_US 1000000
#define SB_RTCP_BUF 1500

struct sb_peer {
  gint refs;
  sb_worker *worker;
  char *name;
  sb_peer_handler h;
  void *ud;
  sb_peer_state state;
  bool closed;
  bool answered;              /* local candidates now trickle instead of going in the answer */

  sb_ice *ice;
  sb_dtls *dtls;
  sb_srtp srtp;
  GSource *tick;
  GSource *dtls_timer;

  GPtrArray *descs;           /* of sb_media_desc*, one per m-section */
  int tagged_index;           /* m-section whose transport the bundle uses */
  GPtrArray *ins;             /* of sb_stream_in* (owned) */
  GHashTable *in_by_ssrc;     /* media and RTX SSRC -> sb_stream_in* */
  sb_stream_out **outs;       /* per m-section, NULL when we do not send there */
  GHashTable *out_by_ssrc;    /* our media and RTX SSRC -> sb_stream_out* */
  GHashTable *answered_cands; /* candidates already in the answer */

  uint32_t rtcp_ssrc;         /* sender SSRC of our RTCP when we send no media */
  char cname[20];
  uint64_t remb_bps;
  int32_t rtt_ms;             /* newest RTT from any report, -1 before */
  int64_t created_us;
  int64_t connected_us;
  int64_t last_recv_us;       /* newest datagram from the remote (consent, RFC 7675) */
  int64_t next_report_us;
  sb_peer_drops drops;
  char *srtp_profile;
};

/* peer.c */
void sb_peer_send_rtcp(sb_peer *p, uint8_t *buf, int len);

/* peer_rtcp.c */
void sb_peer_rtcp_recv(sb_peer *p, const uint8_t *buf, size_t len, int64_t now_us);
void sb_peer_rtcp_tick(sb_peer *p, int64_t now_us);
void sb_peer_retransmit(sb_peer *p, sb_stream_out *out, const uint16_t *seqs, int n, int64_t now_us);
int sb_peer_send_rewritten(sb_peer *p, sb_stream_out *out, sb_pktbuf *pkt, const sb_rtp_view *v,
                           uint16_t seq, uint32_t ts, uint8_t pt, bool as_rtx, bool resend,
                           int64_t now_us);

#endif
