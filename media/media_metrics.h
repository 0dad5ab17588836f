/* Switchboard — the media layer's process-wide metrics (core/metrics.h): RTP
 * packets and bytes in and out, loss, retransmissions, RTCP feedback, peers by
 * ICE and DTLS state, and peer failures by kind. Registered at load time, so the
 * packet path uses them without a check; counters there go through
 * sb_metric_add_fast (per-worker slots). Names and meanings: docs/API.md
 * "Metrics". */
#ifndef SB_MEDIA_MEDIA_METRICS_H
#define SB_MEDIA_MEDIA_METRICS_H

#include <stdint.h>

#include "core/metrics.h"

typedef enum {
  SB_PEER_FAIL_ICE = 0,      /* connectivity checks failed before connecting */
  SB_PEER_FAIL_DTLS,         /* handshake or fingerprint */
  SB_PEER_FAIL_SRTP,         /* keying after the handshake */
  SB_PEER_FAIL_TIMEOUT,      /* not connected within [media] connect_timeout */
  SB_PEER_FAIL_CONSENT,      /* connected, then nothing from the remote (RFC 7675) */
  SB_PEER_FAIL_OTHER,
  SB_PEER_FAIL_COUNT,
} sb_peer_failure;

#define SB_MM_ICE_STATES 5     /* sb_ice_state */
#define SB_MM_DTLS_STATES 5    /* sb_dtls_state */

typedef struct sb_media_metrics {
  sb_metric *rtp_packets_in, *rtp_bytes_in;    /* authenticated RTP received (RTX included) */
  sb_metric *rtp_packets_out, *rtp_bytes_out;  /* RTP sent (retransmissions included) */
  sb_metric *rtx_in;                           /* retransmissions received (RTX) */
  sb_metric *rtx_out;                          /* packets sent again for a NACK */
  sb_metric *lost;                             /* RFC 3550 cumulative loss of inbound streams */
  sb_metric *nacks_in, *nacks_out;             /* sequence numbers asked of us / by us */
  sb_metric *plis_in, *plis_out, *firs_in, *firs_out;
  sb_metric *ice_state[SB_MM_ICE_STATES];      /* gauges: live peers by ICE state */
  sb_metric *dtls_state[SB_MM_DTLS_STATES];    /* gauges: live peers by DTLS state */
  sb_metric *failures[SB_PEER_FAIL_COUNT];
} sb_media_metrics;

extern sb_media_metrics sb_mm;

/* The kind of failure a peer's failure reason names (media/peer.c's texts). */
sb_peer_failure sb_peer_failure_kind(const char *reason);

/* Moves one peer between the series of a state gauge family: out of *current
 * (when >= 0), into next (when >= 0), and records next in *current. */
void sb_mm_move(sb_metric **family, int count, int8_t *current, int next);

#endif
