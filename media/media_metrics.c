/* Switchboard — the media layer's metrics. */
#include "media/media_metrics.h"

#include <string.h>

sb_media_metrics sb_mm;

sb_peer_failure sb_peer_failure_kind(const char *reason) {
  static const struct {
    const char *prefix;
    sb_peer_failure kind;
  } kinds[] = {
    { "ICE consent", SB_PEER_FAIL_CONSENT },
    { "ICE", SB_PEER_FAIL_ICE },
    { "DTLS", SB_PEER_FAIL_DTLS },
    { "SRTP", SB_PEER_FAIL_SRTP },
    { "not connected in time", SB_PEER_FAIL_TIMEOUT },
  };
  for (size_t i = 0; reason && i < sizeof kinds / sizeof kinds[0]; i++)
    if (strncmp(reason, kinds[i].prefix, strlen(kinds[i].prefix)) == 0)
      return kinds[i].kind;
  return SB_PEER_FAIL_OTHER;
}

void sb_mm_move(sb_metric **family, int count, int8_t *current, int next) {
  if (*current == next)
    return;
  if (*current >= 0 && *current < count)
    sb_metric_add(family[*current], -1);
  if (next >= 0 && next < count)
    sb_metric_add(family[next], 1);
  *current = (int8_t)next;
}

static sb_metric *counter(const char *name, const char *help) {
  return sb_metric_series(name, help, SB_METRIC_COUNTER, NULL, NULL);
}

/* At load time: the series exist (at 0) before the first peer, and the packet
 * path never meets a NULL. */
static void __attribute__((constructor)) media_metrics_register(void) {
  static const char *const ice_names[SB_MM_ICE_STATES] = { "new", "gathering", "checking",
                                                           "connected", "failed" };
  static const char *const dtls_names[SB_MM_DTLS_STATES] = { "new", "connecting", "connected",
                                                             "failed", "closed" };
  static const char *const failure_names[SB_PEER_FAIL_COUNT] = { "ice", "dtls", "srtp", "timeout",
                                                                 "consent", "other" };
  sb_mm.rtp_packets_in = counter("switchboard_rtp_packets_received",
                                 "RTP packets received and authenticated (RTX included)");
  sb_mm.rtp_bytes_in = counter("switchboard_rtp_bytes_received",
                               "Bytes of RTP received (headers included, SRTP removed)");
  sb_mm.rtp_packets_out = counter("switchboard_rtp_packets_sent",
                                  "RTP packets sent (retransmissions included)");
  sb_mm.rtp_bytes_out = counter("switchboard_rtp_bytes_sent",
                                "Bytes of RTP sent (headers included, before SRTP)");
  sb_mm.rtx_in = counter("switchboard_rtp_retransmissions_received",
                         "Retransmitted packets received (RTX, RFC 4588)");
  sb_mm.rtx_out = counter("switchboard_rtp_retransmissions_sent",
                          "Packets sent again in answer to a NACK");
  sb_mm.lost = counter("switchboard_rtp_packets_lost",
                       "Inbound RTP packets lost (RFC 3550 cumulative loss, as reported in our RTCP)");
  sb_mm.nacks_in = counter("switchboard_nacks_received", "Sequence numbers clients asked us to resend");
  sb_mm.nacks_out = counter("switchboard_nacks_sent", "Sequence numbers we asked clients to resend");
  sb_mm.plis_in = counter("switchboard_plis_received", "Picture loss indications received (RTCP PLI)");
  sb_mm.plis_out = counter("switchboard_plis_sent", "Picture loss indications sent (RTCP PLI)");
  sb_mm.firs_in = counter("switchboard_firs_received", "Full intra requests received (RTCP FIR)");
  sb_mm.firs_out = counter("switchboard_firs_sent", "Full intra requests sent (RTCP FIR)");
  for (int i = 0; i < SB_MM_ICE_STATES; i++)
    sb_mm.ice_state[i] = sb_metric_series("switchboard_peers_ice_state",
                                          "Live PeerConnections by ICE state", SB_METRIC_GAUGE,
                                          "state", ice_names[i]);
  for (int i = 0; i < SB_MM_DTLS_STATES; i++)
    sb_mm.dtls_state[i] = sb_metric_series("switchboard_peers_dtls_state",
                                           "Live PeerConnections by DTLS state", SB_METRIC_GAUGE,
                                           "state", dtls_names[i]);
  for (int i = 0; i < SB_PEER_FAIL_COUNT; i++)
    sb_mm.failures[i] = sb_metric_series("switchboard_peer_failures",
                                         "PeerConnections that failed, by cause (ICE, DTLS, SRTP, "
                                         "connect timeout, consent expired)",
                                         SB_METRIC_COUNTER, "reason", failure_names[i]);
}
