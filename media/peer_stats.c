/* Switchboard — a peer's statistics as JSON (the format is in docs/API.md). */
#include "core/util.h"
#include "media/peer_internal.h"

static json_t *in_stream_json(sb_peer *p, sb_stream_in *in, int64_t now) {
  const sb_media_desc *d = g_ptr_array_index(p->descs, in->media_index);
  const sb_recv_stats *s = &in->stats;
  return json_pack("{s:I, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:f, s:f, s:I, s:I, s:I, s:I, "
                   "s:I, s:I, s:I, s:I, s:I}",
                   "ssrc", (json_int_t)in->ssrc, "kind", sb_media_kind_name(in->kind), "mid", d->mid,
                   "codec", sb_codec_name(in->codec), "packets", (json_int_t)s->packets,
                   "bytes", (json_int_t)s->bytes, "bitrate_bps", (json_int_t)sb_rate_bps(&s->rate, now),
                   "packets_lost", (json_int_t)sb_recv_stats_cumulative_lost(s),
                   "fraction_lost", s->fraction_lost / 256.0,
                   "jitter_ms", sb_recv_stats_jitter_ms(s),
                   "duplicates", (json_int_t)s->duplicates, "reordered", (json_int_t)s->reordered,
                   "retransmissions", (json_int_t)s->retransmissions,
                   "nacks_sent", (json_int_t)s->nacks_sent, "plis_sent", (json_int_t)s->plis_sent,
                   "firs_sent", (json_int_t)s->firs_sent, "frames", (json_int_t)s->frames,
                   "keyframes", (json_int_t)s->keyframes,
                   "expected", (json_int_t)sb_recv_stats_expected(s));
}

static json_t *out_stream_json(sb_peer *p, sb_stream_out *out, int64_t now) {
  const sb_media_desc *d = g_ptr_array_index(p->descs, out->media_index);
  const sb_send_stats *s = &out->stats;
  json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
                        "s:I, s:f, s:I, s:f, s:I}",
                        "ssrc", (json_int_t)out->ssrc, "kind", sb_media_kind_name(out->kind),
                        "mid", d->mid, "codec", sb_codec_name(out->codec),
                        "packets", (json_int_t)s->packets, "bytes", (json_int_t)s->bytes,
                        "bitrate_bps", (json_int_t)sb_rate_bps(&s->rate, now),
                        "retransmissions", (json_int_t)s->retransmissions,
                        "nacks_received", (json_int_t)s->nacks_received,
                        "nacks_unanswered", (json_int_t)s->nacks_missed,
                        "plis_received", (json_int_t)s->plis_received,
                        "firs_received", (json_int_t)s->firs_received,
                        "frames", (json_int_t)s->frames, "keyframes", (json_int_t)s->keyframes,
                        "remote_fraction_lost", s->remote_fraction_lost / 256.0,
                        "remote_packets_lost", (json_int_t)s->remote_cumulative_lost,
                        "remote_jitter_ms", sb_send_stats_remote_jitter_ms(s),
                        "remb_bps", (json_int_t)s->remb_bps);
  json_object_set_new(o, "rtt_ms", s->rtt_ms >= 0 ? json_integer(s->rtt_ms) : json_null());
  if (out->rtx_ssrc)
    json_object_set_new(o, "rtx_ssrc", json_integer(out->rtx_ssrc));
  return o;
}

json_t *sb_peer_stats_json(sb_peer *p) {
  int64_t now = sb_now_us();
  json_t *o = json_object();
  json_object_set_new(o, "state", json_string(sb_peer_state_name(p->state)));
  json_object_set_new(o, "ice_state", json_string(p->ice ? sb_ice_state_name(sb_ice_get_state(p->ice)) : "closed"));
  char *pair = p->ice ? sb_ice_selected_pair(p->ice) : NULL;
  json_object_set_new(o, "selected_pair", pair ? json_string(pair) : json_null());
  g_free(pair);
  json_object_set_new(o, "dtls_state", json_string(p->dtls ? sb_dtls_state_name(sb_dtls_get_state(p->dtls)) : "closed"));
  json_object_set_new(o, "srtp_profile", p->srtp_profile ? json_string(p->srtp_profile) : json_null());
  json_object_set_new(o, "rtt_ms", p->rtt_ms >= 0 ? json_integer(p->rtt_ms) : json_null());
  json_object_set_new(o, "connect_ms", p->connected_us ? json_integer((p->connected_us - p->created_us) / 1000) : json_null());
  json_t *ins = json_array(), *outs = json_array();
  for (guint i = 0; i < p->ins->len; i++)
    json_array_append_new(ins, in_stream_json(p, g_ptr_array_index(p->ins, i), now));
  for (int i = 0; i < sb_peer_media_count(p); i++)
    if (sb_peer_out_at(p, (guint)i))
      json_array_append_new(outs, out_stream_json(p, sb_peer_out_at(p, (guint)i), now));
  json_object_set_new(o, "inbound", ins);
  json_object_set_new(o, "outbound", outs);
  json_object_set_new(o, "data", sb_peer_data_stats_json(p));
  const sb_peer_drops *dr = &p->drops;
  json_object_set_new(o, "dropped",
                      json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                                "not_connected", (json_int_t)dr->not_connected,
                                "srtp_failed", (json_int_t)dr->srtp_failed,
                                "malformed_rtp", (json_int_t)dr->malformed_rtp,
                                "malformed_rtcp", (json_int_t)dr->malformed_rtcp,
                                "unknown_ssrc", (json_int_t)dr->unknown_ssrc,
                                "unknown_payload_type", (json_int_t)dr->unknown_pt,
                                "oversized", (json_int_t)dr->oversized,
                                "unknown_class", (json_int_t)dr->unknown_class));
  return o;
}
