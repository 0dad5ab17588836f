/* Switchboard — a PeerConnection: ICE + DTLS + SRTP + RTP/RTCP streams.
 *
 * A peer lives on one worker and every function below is called on that worker,
 * except sb_peer_ref/unref/worker/name which any thread may call. Plugins hold a
 * reference and reach the peer from other threads only through sb_worker_call.
 *
 * Inbound path: datagram (libnice) -> RFC 7983 demux -> DTLS or SRTP unprotect ->
 * RTP parse -> stream lookup (RTX unwrapped) -> stats, NACK generator -> the
 * handler's on_rtp with a shared packet buffer. RTCP feedback is handled here:
 * NACKs are answered from the outbound stream's retransmission buffer, PLI/FIR
 * go to the handler, reports feed the statistics. Outbound: sb_peer_send_rtp
 * rewrites a source packet for one outbound stream, keeps it for retransmission,
 * protects and sends it. Every second the peer sends SR/RR/SDES (and REMB). */
#ifndef SB_MEDIA_PEER_H
#define SB_MEDIA_PEER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/worker.h"
#include "media/negotiate.h"
#include "media/pktbuf.h"
#include "media/sctp.h"
#include "media/rtp.h"
#include "media/stream.h"

typedef struct sb_peer sb_peer;

typedef enum {
  SB_PEER_NEW = 0,
  SB_PEER_CONNECTING,        /* ICE checks or DTLS handshake in progress */
  SB_PEER_CONNECTED,         /* DTLS done, SRTP keyed: media flows */
  SB_PEER_FAILED,            /* ICE failed or consent lost, DTLS failed, timeout */
  SB_PEER_CLOSED,            /* closed by the remote (DTLS close_notify) or locally */
} sb_peer_state;

const char *sb_peer_state_name(sb_peer_state s);

/* Callbacks to the owner (a plugin), all on the peer's worker, never from inside
 * libnice or OpenSSL (state changes are delivered from an idle callback). */
typedef struct sb_peer_handler {
  /* CONNECTED, FAILED or CLOSED; reason is a short text ("consent expired"). After
   * FAILED or CLOSED the owner should sb_peer_close the peer. */
  void (*on_state)(sb_peer *p, sb_peer_state state, const char *reason, void *ud);
  /* A local ICE candidate to trickle to the client ("candidate:..."), or NULL
   * once gathering is complete. Only those not already in the answer. */
  void (*on_candidate)(sb_peer *p, const char *candidate, const char *mid, int mline, void *ud);
  /* An RTP packet, decrypted and with RTX undone; pkt is borrowed (take a ref to keep it). */
  void (*on_rtp)(sb_peer *p, sb_stream_in *in, sb_pktbuf *pkt, const sb_rtp_view *v, void *ud);
  /* The remote asked for a keyframe on one of our outbound streams. */
  void (*on_keyframe_request)(sb_peer *p, sb_stream_out *out, void *ud);
  /* A new inbound stream appeared (declared in SDP or found by mid/payload type). */
  void (*on_stream_in)(sb_peer *p, sb_stream_in *in, void *ud);
  /* Data channels (when an application m-section was negotiated; all may be NULL):
   * the SCTP association is up, so sb_peer_channel_open works from now on; */
  void (*on_data_ready)(sb_peer *p, void *ud);
  /* the remote opened a channel; */
  void (*on_channel_open)(sb_peer *p, const sb_dc_info *ch, void *ud);
  /* a whole message on a channel (buf is borrowed); */
  void (*on_channel_message)(sb_peer *p, uint16_t id, bool binary, const uint8_t *buf,
                             size_t len, void *ud);
  /* a channel closed (either side closed it, or the association went). */
  void (*on_channel_closed)(sb_peer *p, uint16_t id, void *ud);
} sb_peer_handler;

/* Creates a peer on the calling worker. name is for logs ("session abc/echo"). */
sb_peer *sb_peer_new(const char *name, const sb_peer_handler *h, void *ud);
sb_peer *sb_peer_ref(sb_peer *p);
void sb_peer_unref(sb_peer *p);
sb_worker *sb_peer_worker(const sb_peer *p);
const char *sb_peer_name(const sb_peer *p);

/* Takes the remote offer and produces the answer. On failure returns an SB_ERR_*
 * code (core/session.h) with *msg set, and the peer stays unused. */
int sb_peer_accept_offer(sb_peer *p, const char *offer, size_t len, const sb_caps *caps,
                         char **answer, char **msg);
/* Makes an offer for the given sections (our sending m-sections, for a
 * subscriber PeerConnection). The first call creates the ICE agent (controlling);
 * later calls renegotiate: sections keep their index, new ones come last. One
 * offer at a time. Returns 0 or an SB_ERR_* code with *msg set. */
int sb_peer_create_offer(sb_peer *p, const sb_offer_section *sections, int n, char **offer,
                         char **msg);
/* Applies the remote's answer to our outstanding offer: descriptions, outbound
 * streams (kept across renegotiations), DTLS role on the first answer. */
int sb_peer_accept_answer(sb_peer *p, const char *answer, size_t len, char **msg);
bool sb_peer_offer_pending(const sb_peer *p);
/* ICE restart without leaving the call (DTLS and SRTP carry on):
 * - on a PeerConnection that answers the remote's offers: the remote's new offer
 *   (same m-sections, new ICE credentials) gets the previous answer back with our
 *   new credentials and candidates;
 * - on one that offers: new local credentials for the next sb_peer_create_offer,
 *   whose answer may then change the remote's.
 * Returns 0 or an SB_ERR_* code with *msg set. */
int sb_peer_restart_ice_answer(sb_peer *p, const char *offer, size_t len, char **answer,
                               char **msg);
int sb_peer_restart_ice(sb_peer *p, char **msg);

/* A trickled remote candidate, or end-of-candidates when candidate is NULL.
 * Returns 0, or SB_ERR_CANDIDATE with *msg set. */
int sb_peer_add_remote_candidate(sb_peer *p, const char *candidate, char **msg);
/* Stops everything (DTLS close_notify is sent when connected). No callback runs
 * after this. The memory goes with the last reference. */
void sb_peer_close(sb_peer *p);

sb_peer_state sb_peer_get_state(const sb_peer *p);
int sb_peer_media_count(const sb_peer *p);
const sb_media_desc *sb_peer_media(const sb_peer *p, int index);
/* The outbound stream of an m-section, or NULL when we do not send on it. */
sb_stream_out *sb_peer_stream_out(sb_peer *p, int media_index);
/* Inbound streams (any order). */
int sb_peer_stream_in_count(const sb_peer *p);
sb_stream_in *sb_peer_stream_in_get(sb_peer *p, int index);

/* Sends one source packet on an outbound stream of this peer: maps SSRC, sequence
 * number, timestamp, payload type and extension ids, keeps it for NACKs, protects
 * and sends. pkt may come from another peer of the same worker. Returns 0, or -1
 * when it was not sent (not connected, not mappable, not in order). */
int sb_peer_send_rtp(sb_peer *p, sb_stream_out *out, sb_pktbuf *pkt, const sb_rtp_view *v);
/* Asks the remote for a keyframe on an inbound stream (PLI, or FIR when that is
 * what was negotiated), at most once per SB_KEYFRAME_REQUEST_INTERVAL_US unless
 * force is true. Returns true when a request was sent. */
bool sb_peer_request_keyframe(sb_peer *p, sb_stream_in *in, bool force);
/* The bitrate we tell the remote to stay under (REMB), 0 to send none. */
void sb_peer_set_remb_bitrate(sb_peer *p, uint64_t bps);

/* Data channels (media/sctp.h has the semantics). -1 / NULL when the peer has no
 * SCTP association (no application m-section, or DTLS not connected yet). */
bool sb_peer_data_ready(const sb_peer *p);
int sb_peer_channel_open(sb_peer *p, const char *label, const char *protocol, uint8_t type,
                         uint32_t reliability, uint16_t priority);
int sb_peer_channel_send(sb_peer *p, uint16_t id, bool binary, const uint8_t *buf, size_t len);
void sb_peer_channel_close(sb_peer *p, uint16_t id);
const sb_dc_info *sb_peer_channel(sb_peer *p, uint16_t id);
/* Zeroes when there is no association. */
void sb_peer_data_stats(const sb_peer *p, sb_sctp_stats *out);
/* The largest message the remote takes (its a=max-message-size), 0 without an
 * association. */
size_t sb_peer_data_max_message(const sb_peer *p);

/* Counters of what was dropped, for stats and tests. */
typedef struct sb_peer_drops {
  uint64_t not_connected;    /* media before SRTP was ready */
  uint64_t srtp_failed;      /* unprotect failed (auth, replay) */
  uint64_t malformed_rtp;
  uint64_t malformed_rtcp;
  uint64_t unknown_ssrc;
  uint64_t unknown_pt;
  uint64_t oversized;
  uint64_t unknown_class;    /* not STUN/DTLS/RTP/RTCP */
} sb_peer_drops;
const sb_peer_drops *sb_peer_get_drops(const sb_peer *p);

/* Everything measured about the peer: state, ICE pair, DTLS profile, RTT, and
 * per-stream QoS (docs/API.md describes the fields). */
json_t *sb_peer_stats_json(sb_peer *p);

#endif
