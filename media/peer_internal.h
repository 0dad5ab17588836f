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
  bool described;             /* our SDP is out: later local candidates trickle */
  bool offerer;               /* we made the offer (a subscriber PeerConnection) */
  sb_offer_section *offer;    /* the sections of our outstanding offer, or NULL */
  int offer_count;
  uint64_t session_id;        /* o= of our offers */
  uint64_t session_version;
  char *remote_ufrag;         /* a different one in an offer or answer is an ICE restart */
  char *answer;               /* our last answer (answering peers), for ICE restarts */
  bool ice_restarting;        /* offering peers: new local credentials not yet answered */

  sb_ice *ice;
  sb_dtls *dtls;
  sb_sctp *sctp;              /* data channels, once DTLS is up (peer_data.c) */
  sb_srtp srtp;
  GSource *tick;
  GSource *dtls_timer;

  GPtrArray *descs;           /* of sb_media_desc*, one per m-section */
  int tagged_index;           /* m-section whose transport the bundle uses */
  GPtrArray *ins;             /* of sb_stream_in* (owned) */
  GHashTable *in_by_ssrc;     /* media and RTX SSRC -> sb_stream_in* */
  GPtrArray *outs;            /* sb_stream_out* per m-section (NULL where we do not send) */
  GHashTable *out_by_ssrc;    /* our media and RTX SSRC -> sb_stream_out* */
  GHashTable *described_cands; /* candidates already in our SDP */

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
  int8_t mm_ice;              /* the ICE and DTLS state this peer is counted in */
  int8_t mm_dtls;             /* (media_metrics.h gauges), -1 once closed */
};

/* The outbound stream of m-section i (NULL when none). */
static inline sb_stream_out *sb_peer_out_at(sb_peer *p, guint i) {
  return p->outs && i < p->outs->len ? g_ptr_array_index(p->outs, i) : NULL;
}

/* peer.c */
void sb_peer_send_rtcp(sb_peer *p, uint8_t *buf, int len);
/* Creates the ICE agent and gathers; 0, or -1 with no usable address. */
int sb_peer_ice_start(sb_peer *p, bool controlling);
/* Creates the DTLS endpoint in its role; the handshake starts once ICE connects. */
void sb_peer_dtls_start(sb_peer *p, bool client, const char *hash, const char *fingerprint);
/* Starts the periodic tick (connect timeout, consent, NACKs, reports). */
void sb_peer_tick_start(sb_peer *p);
/* Creates the streams the descriptions call for that do not exist yet and brings
 * existing outbound streams up to date (after each negotiation). */
void sb_peer_setup_streams(sb_peer *p);

/* peer_data.c */
/* Creates and connects the SCTP association when DTLS is up and an application
 * m-section is accepted (after DTLS connects, and after each negotiation). */
void sb_peer_data_start(sb_peer *p);
void sb_peer_data_input(sb_peer *p, const uint8_t *buf, size_t len);
void sb_peer_data_close(sb_peer *p);
json_t *sb_peer_data_stats_json(const sb_peer *p);

/* peer_rtcp.c */
void sb_peer_rtcp_recv(sb_peer *p, const uint8_t *buf, size_t len, int64_t now_us);
void sb_peer_rtcp_tick(sb_peer *p, int64_t now_us);
/* Sends the NACKs due for one inbound stream now. */
void sb_peer_send_nacks(sb_peer *p, sb_stream_in *in, int64_t now_us);
void sb_peer_retransmit(sb_peer *p, sb_stream_out *out, const uint16_t *seqs, int n, int64_t now_us);
int sb_peer_send_rewritten(sb_peer *p, sb_stream_out *out, sb_pktbuf *pkt, const sb_rtp_view *v,
                           uint16_t seq, uint32_t ts, uint8_t pt, bool as_rtx, bool resend,
                           int64_t now_us);

#endif
