/* Switchboard — PeerConnection: set-up, receive path and send path. */
#include "media/peer_internal.h"

#include <string.h>

#include "core/log.h"
#include "core/session.h"
#include "core/util.h"
#include "media/codec.h"
#include "media/demux.h"
#include "media/media.h"
#include "media/media_metrics.h"
#include "media/sdp.h"

const char *sb_peer_state_name(sb_peer_state s) {
  static const char *const names[] = { "new", "connecting", "connected", "failed", "closed" };
  return (unsigned)s < G_N_ELEMENTS(names) ? names[s] : "?";
}

static gboolean peer_tick(gpointer data);

static void stream_out_free(gpointer data) {
  sb_stream_out *out = data;
  if (out) {
    sb_stream_out_clear(out);
    g_free(out);
  }
}

sb_peer *sb_peer_new(const char *name, const sb_peer_handler *h, void *ud) {
  sb_worker *w = sb_worker_current();
  g_return_val_if_fail(w != NULL, NULL);
  sb_peer *p = g_new0(sb_peer, 1);
  p->refs = 1;
  p->worker = w;
  p->name = g_strdup(name);
  p->h = *h;
  p->ud = ud;
  p->ins = g_ptr_array_new_with_free_func(g_free);
  p->outs = g_ptr_array_new_with_free_func(stream_out_free);
  p->in_by_ssrc = g_hash_table_new(g_direct_hash, g_direct_equal);
  p->out_by_ssrc = g_hash_table_new(g_direct_hash, g_direct_equal);
  p->described_cands = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  p->rtt_ms = -1;
  p->rtcp_ssrc = sb_random_u32() | 1;
  sb_random_id(p->cname, 16);
  p->created_us = sb_now_us();
  sb_worker_load_add(w, 1);
  sb_media_peer_count_add(1);
  p->mm_ice = p->mm_dtls = -1;
  sb_mm_move(sb_mm.ice_state, SB_MM_ICE_STATES, &p->mm_ice, SB_ICE_NEW);
  sb_mm_move(sb_mm.dtls_state, SB_MM_DTLS_STATES, &p->mm_dtls, SB_DTLS_NEW);
  return p;
}

sb_peer *sb_peer_ref(sb_peer *p) {
  g_atomic_int_inc(&p->refs);
  return p;
}

static void peer_free(sb_peer *p) {
  sb_peer_close(p);
  g_free(p->name);
  g_free(p->srtp_profile);
  g_ptr_array_unref(p->ins);
  g_hash_table_destroy(p->in_by_ssrc);
  g_hash_table_destroy(p->out_by_ssrc);
  g_hash_table_destroy(p->described_cands);
  if (p->descs)
    g_ptr_array_unref(p->descs);
  g_ptr_array_unref(p->outs);
  g_free(p->offer);
  g_free(p->remote_ufrag);
  g_free(p->answer);
  g_free(p);
}

/* The last reference may go on any thread; packet buffers held by the outbound
 * streams belong to the worker's pool, so the memory is released there. */
static void peer_free_cb(void *data) { peer_free(data); }

void sb_peer_unref(sb_peer *p) {
  if (p == NULL || !g_atomic_int_dec_and_test(&p->refs))
    return;
  if (sb_worker_is_current(p->worker))
    peer_free(p);
  else
    sb_worker_call(p->worker, peer_free_cb, p, NULL);
}

sb_worker *sb_peer_worker(const sb_peer *p) { return p->worker; }
const char *sb_peer_name(const sb_peer *p) { return p->name; }
sb_peer_state sb_peer_get_state(const sb_peer *p) { return p->state; }
int sb_peer_media_count(const sb_peer *p) { return p->descs ? (int)p->descs->len : 0; }
const sb_peer_drops *sb_peer_get_drops(const sb_peer *p) { return &p->drops; }

const sb_media_desc *sb_peer_media(const sb_peer *p, int index) {
  return index >= 0 && index < sb_peer_media_count(p) ? g_ptr_array_index(p->descs, index) : NULL;
}

sb_stream_out *sb_peer_stream_out(sb_peer *p, int media_index) {
  return media_index >= 0 ? sb_peer_out_at(p, (guint)media_index) : NULL;
}

int sb_peer_stream_in_count(const sb_peer *p) { return (int)p->ins->len; }
sb_stream_in *sb_peer_stream_in_get(sb_peer *p, int index) {
  return index >= 0 && index < (int)p->ins->len ? g_ptr_array_index(p->ins, index) : NULL;
}

void sb_peer_set_remb_bitrate(sb_peer *p, uint64_t bps) { p->remb_bps = bps; }

/* --- state changes, delivered from an idle so owners never run inside libnice/OpenSSL --- */

typedef struct state_event {
  sb_peer *peer;
  sb_peer_state state;
  char *reason;
} state_event;

static gboolean state_deliver(gpointer data) {
  state_event *e = data;
  if (!e->peer->closed && e->peer->h.on_state)
    e->peer->h.on_state(e->peer, e->state, e->reason, e->peer->ud);
  return G_SOURCE_REMOVE;
}

static void state_event_free(gpointer data) {
  state_event *e = data;
  sb_peer_unref(e->peer);
  g_free(e->reason);
  g_free(e);
}

/* Keeps the peers-by-ICE/DTLS-state gauges in step with the agent and endpoint. */
static void peer_count_states(sb_peer *p) {
  if (p->closed)
    return;
  if (p->ice)
    sb_mm_move(sb_mm.ice_state, SB_MM_ICE_STATES, &p->mm_ice, (int)sb_ice_get_state(p->ice));
  if (p->dtls)
    sb_mm_move(sb_mm.dtls_state, SB_MM_DTLS_STATES, &p->mm_dtls, (int)sb_dtls_get_state(p->dtls));
}

static void peer_set_state(sb_peer *p, sb_peer_state s, const char *reason) {
  if (p->state == s || p->state == SB_PEER_FAILED || p->state == SB_PEER_CLOSED)
    return;
  peer_count_states(p);
  if (s == SB_PEER_FAILED) {
    sb_metric_add(sb_mm.failures[sb_peer_failure_kind(reason)], 1);
    sb_info("%s: peer failed: %s", p->name, reason);
  } else {
    sb_verbose("%s: peer %s%s%s", p->name, sb_peer_state_name(s), reason ? ": " : "",
               reason ? reason : "");
  }
  p->state = s;
  if (s == SB_PEER_CONNECTING)
    return;
  state_event *e = g_new0(state_event, 1);
  e->peer = sb_peer_ref(p);
  e->state = s;
  e->reason = g_strdup(reason);
  GSource *idle = g_idle_source_new();
  g_source_set_priority(idle, G_PRIORITY_DEFAULT);
  g_source_set_callback(idle, state_deliver, e, state_event_free);
  g_source_attach(idle, sb_worker_context(p->worker));
  g_source_unref(idle);
}

/* --- DTLS --- */

static gboolean dtls_timer_fire(gpointer data);

static void dtls_rearm(sb_peer *p) {
  if (p->dtls_timer) {
    g_source_destroy(p->dtls_timer);
    g_source_unref(p->dtls_timer);
    p->dtls_timer = NULL;
  }
  if (p->dtls == NULL || p->closed)
    return;
  peer_count_states(p);
  int64_t ms = sb_dtls_timeout_ms(p->dtls);
  if (ms < 0)
    return;
  p->dtls_timer = g_timeout_source_new((guint)ms);
  g_source_set_callback(p->dtls_timer, dtls_timer_fire, p, NULL);
  g_source_attach(p->dtls_timer, sb_worker_context(p->worker));
}

static gboolean dtls_timer_fire(gpointer data) {
  sb_peer *p = data;
  sb_dtls_handle_timeout(p->dtls);
  dtls_rearm(p);
  return G_SOURCE_REMOVE;
}

static void on_dtls_send(void *ud, const uint8_t *buf, size_t len) {
  sb_peer *p = ud;
  if (p->ice)
    sb_ice_send(p->ice, buf, len);
}

static void on_dtls_connected(void *ud, const sb_dtls_keys *keys) {
  sb_peer *p = ud;
  if (sb_srtp_init(&p->srtp, keys->profile, keys->local, keys->remote,
                   sb_media_get_settings()->replay_window) != 0) {
    peer_set_state(p, SB_PEER_FAILED, "SRTP set-up failed");
    return;
  }
  p->srtp_profile = g_strdup(sb_srtp_profile_name(keys->profile));
  p->connected_us = sb_now_us();
  p->next_report_us = p->connected_us;
  sb_info("%s: connected (DTLS %s, %s) in %lld ms", p->name,
          sb_dtls_is_client(p->dtls) ? "client" : "server", p->srtp_profile,
          (long long)((p->connected_us - p->created_us) / 1000));
  peer_set_state(p, SB_PEER_CONNECTED, NULL);
  sb_peer_data_start(p);
}

static void on_dtls_failed(void *ud, const char *why) {
  sb_peer *p = ud;
  char *reason = g_strdup_printf("DTLS failed: %s", why);
  peer_set_state(p, SB_PEER_FAILED, reason);
  g_free(reason);
}

static void on_dtls_closed(void *ud) {
  sb_peer *p = ud;
  peer_set_state(p, SB_PEER_CLOSED, "the remote closed DTLS");
}

static void on_dtls_data(void *ud, const uint8_t *buf, size_t len) {
  sb_peer_data_input(ud, buf, len);
}

static const sb_dtls_callbacks dtls_callbacks = {
  .send = on_dtls_send,
  .data = on_dtls_data,
  .connected = on_dtls_connected,
  .failed = on_dtls_failed,
  .closed = on_dtls_closed,
};

/* --- ICE --- */

static void on_ice_candidate(void *ud, const char *candidate) {
  sb_peer *p = ud;
  if (!p->described || p->closed || g_hash_table_contains(p->described_cands, candidate))
    return;
  const sb_media_desc *d = sb_peer_media(p, p->tagged_index);
  if (p->h.on_candidate)
    p->h.on_candidate(p, candidate, d ? d->mid : NULL, p->tagged_index, p->ud);
}

static void on_ice_gathering_done(void *ud) {
  sb_peer *p = ud;
  if (!p->described || p->closed)
    return;
  const sb_media_desc *d = sb_peer_media(p, p->tagged_index);
  if (p->h.on_candidate)
    p->h.on_candidate(p, NULL, d ? d->mid : NULL, p->tagged_index, p->ud);
}

static void on_ice_state(void *ud, sb_ice_state s) {
  sb_peer *p = ud;
  if (!p->closed)
    sb_mm_move(sb_mm.ice_state, SB_MM_ICE_STATES, &p->mm_ice, (int)s);
  if (s == SB_ICE_CHECKING) {
    if (p->connected_us == 0)   /* an ICE restart after connecting changes nothing here */
      peer_set_state(p, SB_PEER_CONNECTING, NULL);
  } else if (s == SB_ICE_CONNECTED) {
    char *pair = sb_ice_selected_pair(p->ice);
    sb_verbose("%s: ICE connected %s", p->name, pair ? pair : "");
    g_free(pair);
    if (p->dtls && sb_dtls_get_state(p->dtls) == SB_DTLS_NEW) {
      sb_dtls_start(p->dtls);
      dtls_rearm(p);
    }
  } else if (s == SB_ICE_FAILED && p->connected_us) {
    /* After connecting, ICE failing is not the end by itself: the consent check in
     * the tick decides from what still arrives. */
    sb_info("%s: ICE reports the pair failed; closing in %lld s unless traffic resumes", p->name,
            (long long)(sb_media_get_settings()->consent_timeout_us / G_USEC_PER_SEC));
  } else if (s == SB_ICE_FAILED) {
    peer_set_state(p, SB_PEER_FAILED, "ICE connectivity checks failed");
  }
}

static void peer_recv_rtp(sb_peer *p, const uint8_t *buf, size_t len, int64_t now);

static void on_ice_recv(void *ud, uint8_t *buf, size_t len) {
  sb_peer *p = ud;
  if (p->closed)
    return;
  int64_t now = sb_now_us();
  switch (sb_demux_classify(buf, len)) {
  case SB_PKT_DTLS:
    if (p->dtls) {
      p->last_recv_us = now;
      sb_dtls_feed(p->dtls, buf, len);
      dtls_rearm(p);
    }
    break;
  case SB_PKT_RTP:
    peer_recv_rtp(p, buf, len, now);
    break;
  case SB_PKT_RTCP:
    sb_peer_rtcp_recv(p, buf, len, now);
    break;
  default:
    p->drops.unknown_class++;
    break;
  }
}

static const sb_ice_callbacks ice_callbacks = {
  .candidate = on_ice_candidate,
  .gathering_done = on_ice_gathering_done,
  .state = on_ice_state,
  .recv = on_ice_recv,
};

/* --- streams --- */

static sb_stream_in *peer_add_stream_in(sb_peer *p, const sb_media_desc *d, uint32_t ssrc,
                                        uint32_t rtx_ssrc) {
  if (p->ins->len >= SB_PEER_MAX_IN_STREAMS)
    return NULL;
  sb_stream_in *in = g_new0(sb_stream_in, 1);
  sb_stream_in_init(in, d, ssrc, rtx_ssrc);
  g_ptr_array_add(p->ins, in);
  g_hash_table_insert(p->in_by_ssrc, GUINT_TO_POINTER(ssrc), in);
  if (rtx_ssrc)
    g_hash_table_insert(p->in_by_ssrc, GUINT_TO_POINTER(rtx_ssrc), in);
  sb_verbose("%s: inbound %s stream ssrc %u (rtx %u) on mid %s", p->name,
             sb_media_kind_name(d->kind), ssrc, rtx_ssrc, d->mid);
  if (p->h.on_stream_in)
    p->h.on_stream_in(p, in, p->ud);
  return in;
}

void sb_peer_setup_streams(sb_peer *p) {
  const sb_media_settings *ms = sb_media_get_settings();
  while (p->outs->len < p->descs->len)
    g_ptr_array_add(p->outs, NULL);
  for (guint i = 0; i < p->descs->len; i++) {
    const sb_media_desc *d = g_ptr_array_index(p->descs, i);
    if (!d->accepted || d->kind == SB_MEDIA_APPLICATION)
      continue;
    for (int k = 0; k < d->remote_ssrc_count; k++)
      if (!g_hash_table_contains(p->in_by_ssrc, GUINT_TO_POINTER(d->remote_ssrcs[k].ssrc)))
        peer_add_stream_in(p, d, d->remote_ssrcs[k].ssrc, d->remote_ssrcs[k].rtx_ssrc);
    sb_stream_out *out = sb_peer_out_at(p, i);
    if (out) {
      /* Renegotiated: same SSRCs and numbering, maybe other feedback or RTX. */
      sb_stream_out_update(out, d, d->kind == SB_MEDIA_VIDEO ? ms->rtx_buffer_video : ms->rtx_buffer_audio);
    } else if (d->local_ssrc) {
      out = g_new0(sb_stream_out, 1);
      sb_stream_out_init(out, d, d->kind == SB_MEDIA_VIDEO ? ms->rtx_buffer_video : ms->rtx_buffer_audio);
      g_ptr_array_index(p->outs, i) = out;
      g_hash_table_insert(p->out_by_ssrc, GUINT_TO_POINTER(out->ssrc), out);
      if (out->rtx_ssrc)
        g_hash_table_insert(p->out_by_ssrc, GUINT_TO_POINTER(out->rtx_ssrc), out);
    }
  }
  sb_peer_data_start(p);   /* a renegotiation may have added the data section */
}

/* A packet from an SSRC the SDP did not announce (Firefox and simulcast often do
 * not): find its m-section by the mid header extension, else by payload type. */
static sb_stream_in *peer_discover_stream(sb_peer *p, const uint8_t *buf, const sb_rtp_view *v) {
  for (guint i = 0; i < p->descs->len; i++) {
    const sb_media_desc *d = g_ptr_array_index(p->descs, i);
    if (!d->accepted || (d->dir != SB_DIR_SENDRECV && d->dir != SB_DIR_RECVONLY))
      continue;
    uint8_t mid_id = d->ext_ids[SB_EXT_MID];
    sb_rtp_ext e;
    if (mid_id && sb_rtp_ext_find(buf, v, mid_id, &e)) {
      if (e.len != strlen(d->mid) || memcmp(e.data, d->mid, e.len) != 0)
        continue;
    } else if (sb_media_desc_codec(d, v->pt) == NULL) {
      continue;
    }
    if (sb_media_desc_codec(d, v->pt) == NULL)
      return NULL; /* an RTX stream we cannot pair with its media stream yet */
    return peer_add_stream_in(p, d, v->ssrc, 0);
  }
  return NULL;
}

static void peer_recv_rtp(sb_peer *p, const uint8_t *buf, size_t len, int64_t now) {
  if (!sb_srtp_ready(&p->srtp)) {
    p->drops.not_connected++;
    return;
  }
  if (len > SB_PKTBUF_DATA) {
    p->drops.oversized++;
    return;
  }
  sb_pktbuf *pkt = sb_pktbuf_get(sb_media_pool());
  memcpy(pkt->data, buf, len);
  int n = (int)len;
  sb_rtp_view v;
  if (sb_srtp_unprotect_rtp(&p->srtp, pkt->data, &n) != 0) {
    p->drops.srtp_failed++;
    goto out;
  }
  p->last_recv_us = now; /* authenticated: proof the remote is there (RFC 7675) */
  pkt->len = (uint16_t)n;
  pkt->arrival_us = now;
  if (sb_rtp_parse(pkt->data, (size_t)n, &v) != SB_RTP_OK) {
    p->drops.malformed_rtp++;
    goto out;
  }
  sb_metric_add_fast(sb_mm.rtp_packets_in, 1);
  sb_metric_add_fast(sb_mm.rtp_bytes_in, n);
  sb_stream_in *in = g_hash_table_lookup(p->in_by_ssrc, GUINT_TO_POINTER(v.ssrc));
  if (in == NULL && (in = peer_discover_stream(p, pkt->data, &v)) == NULL) {
    p->drops.unknown_ssrc++;
    goto out;
  }
  const sb_media_desc *d = g_ptr_array_index(p->descs, in->media_index);
  bool rtx = false;
  if (in->rtx_ssrc != 0 && v.ssrc == in->rtx_ssrc) {
    /* RFC 4588 §4: restore the original packet from its RTX payload. */
    const sb_codec_desc *c = sb_media_desc_codec_for_rtx(d, v.pt);
    if (c == NULL) {
      p->drops.unknown_pt++;
      goto out;
    }
    int nl = sb_rtp_rtx_unwrap(pkt->data, &v, c->pt, in->ssrc);
    if (nl < 0)
      goto out; /* a padding-only probe: nothing to deliver */
    pkt->len = (uint16_t)nl;
    rtx = true;
    sb_metric_add_fast(sb_mm.rtx_in, 1);
  }
  if (v.pt != in->pt) {
    if (sb_media_desc_codec(d, v.pt) == NULL) {
      p->drops.unknown_pt++;
      goto out;
    }
    sb_stream_in_set_codec(in, d, v.pt);
  }
  sb_seq_verdict verdict = sb_recv_stats_update(&in->stats, v.seq, v.ts, now, pkt->len, rtx);
  if (verdict == SB_SEQ_DUPLICATE)
    goto out;
  /* A lone packet far from the sequence (A.1 probation) must not reset NACK state. */
  if (in->nack_enabled && verdict != SB_SEQ_PROBATION) {
    size_t missing = in->nack.count;
    sb_nack_gen_on_packet(&in->nack, v.seq, now);
    /* A new gap is asked for at once, as libwebrtc does: the subscribers wait
     * for the same packet, and their own NACKs give up after a few RTTs. */
    if (in->nack.count > missing)
      sb_peer_send_nacks(p, in, now);
  }
  if (in->kind == SB_MEDIA_VIDEO) {
    if (v.marker)
      in->stats.frames++;
    if (sb_codec_is_keyframe(in->codec, pkt->data + v.header_len, v.payload_len))
      in->stats.keyframes++;
  }
  if (p->h.on_rtp)
    p->h.on_rtp(p, in, pkt, &v, p->ud);
out:
  sb_pktbuf_unref(pkt);
}

/* --- send path --- */

void sb_peer_send_rtcp(sb_peer *p, uint8_t *buf, int len) {
  if (!sb_srtp_ready(&p->srtp) || p->closed)
    return;
  if (sb_srtp_protect_rtcp(&p->srtp, buf, &len) != 0)
    return;
  sb_ice_send(p->ice, buf, (size_t)len);
}

int sb_peer_send_rewritten(sb_peer *p, sb_stream_out *out, sb_pktbuf *pkt, const sb_rtp_view *v,
                           uint16_t seq, uint32_t ts, uint8_t pt, bool as_rtx, bool resend,
                           int64_t now) {
  /* One scratch buffer per worker: the packet is rewritten and encrypted in it,
   * with room for the SRTP trailer. */
  static __thread uint8_t scratch[SB_PKTBUF_DATA + SB_SRTP_TRAILER];
  static __thread uint8_t rtx_scratch[SB_PKTBUF_DATA + 2 + SB_SRTP_TRAILER];
  memcpy(scratch, pkt->data, pkt->len);
  sb_rtp_set_ssrc(scratch, out->ssrc);
  sb_rtp_set_seq(scratch, seq);
  sb_rtp_set_ts(scratch, ts);
  sb_rtp_set_pt(scratch, pt);
  if (v->extension && !out->ext_identity && sb_rtp_ext_remap(scratch, v, out->ext_map) != SB_RTP_OK)
    return -1;
  uint8_t *buf = scratch;
  int len = pkt->len;
  if (as_rtx) {
    len = sb_rtp_rtx_wrap(scratch, v, rtx_scratch, sizeof rtx_scratch - SB_SRTP_TRAILER,
                          out->rtx_pt[pt & 0x7F], out->rtx_ssrc, out->rtx_seq++);
    if (len < 0)
      return -1;
    buf = rtx_scratch;
  }
  int plain_len = len;
  if (sb_srtp_protect_rtp(&p->srtp, buf, &len) != 0)
    return -1;
  if (sb_ice_send(p->ice, buf, (size_t)len) < 0)
    return -1;
  sb_send_stats_on_send(&out->stats, ts, now, (uint32_t)plain_len, resend);
  sb_metric_add_fast(sb_mm.rtp_packets_out, 1);
  sb_metric_add_fast(sb_mm.rtp_bytes_out, plain_len);
  if (resend)
    sb_metric_add_fast(sb_mm.rtx_out, 1);
  return 0;
}

int sb_peer_send_rtp(sb_peer *p, sb_stream_out *out, sb_pktbuf *pkt, const sb_rtp_view *v) {
  if (p->state != SB_PEER_CONNECTED || p->closed)
    return -1;
  uint8_t pt = out->pt_map[v->pt & 0x7F];
  if (pt == 0xFF)
    return -1;
  int64_t now = sb_now_us();
  uint16_t seq;
  uint32_t ts;
  if (!sb_rewriter_map(&out->rewriter, v->ssrc, v->seq, v->ts, now, &seq, &ts))
    return -1;
  sb_rtx_buffer_store(&out->rtx, pkt, seq, ts, now);
  if (sb_peer_send_rewritten(p, out, pkt, v, seq, ts, pt, false, false, now) != 0)
    return -1;
  out->payload_bytes += v->payload_len;
  if (pt != out->last_pt) {
    const sb_codec_desc *c = sb_media_desc_codec(g_ptr_array_index(p->descs, out->media_index), pt);
    out->codec = c ? c->codec : SB_CODEC_UNKNOWN;
    out->last_pt = pt;
  }
  if (out->kind == SB_MEDIA_VIDEO) {
    if (v->marker)
      out->stats.frames++;
    if (sb_codec_is_keyframe(out->codec, pkt->data + v->header_len, v->payload_len))
      out->stats.keyframes++;
  }
  return 0;
}

bool sb_peer_request_keyframe(sb_peer *p, sb_stream_in *in, bool force) {
  int64_t now = sb_now_us();
  if (p->closed)
    return false;
  if (!sb_srtp_ready(&p->srtp)) {
    in->keyframe_pending = true; /* sent by the tick once connected */
    return false;
  }
  if (!force && in->last_keyframe_request_us &&
      now - in->last_keyframe_request_us < SB_KEYFRAME_REQUEST_INTERVAL_US) {
    /* Held back, not dropped: the tick sends it when the interval has passed
     * (a subscriber joining just after another still gets its keyframe). */
    in->keyframe_pending = true;
    return false;
  }
  in->keyframe_pending = false;
  uint8_t buf[64 + SB_SRTP_TRAILER];
  /* RFC 4585 §3.1: a feedback packet is compound unless rtcp-rsize; lead with an RR. */
  sb_rtcp_rr rr = { .ssrc = p->rtcp_ssrc, .block_count = 0 };
  int n = sb_rtcp_write_rr(buf, 64, &rr);
  int m;
  if (in->pli_enabled || !in->fir_enabled) {
    m = sb_rtcp_write_pli(buf + n, 64 - (size_t)n, p->rtcp_ssrc, in->ssrc);
    in->stats.plis_sent++;
    sb_metric_add_fast(sb_mm.plis_out, 1);
  } else {
    m = sb_rtcp_write_fir(buf + n, 64 - (size_t)n, p->rtcp_ssrc, in->ssrc, ++in->fir_seq);
    in->stats.firs_sent++;
    sb_metric_add_fast(sb_mm.firs_out, 1);
  }
  if (n < 0 || m < 0)
    return false;
  in->last_keyframe_request_us = now;
  sb_peer_send_rtcp(p, buf, n + m);
  return true;
}

/* --- the periodic tick: connect timeout, NACKs, reports --- */

static gboolean peer_tick(gpointer data) {
  sb_peer *p = data;
  if (p->closed)
    return G_SOURCE_REMOVE;
  int64_t now = sb_now_us();
  if (p->state != SB_PEER_CONNECTED) {
    if (p->state != SB_PEER_FAILED && p->state != SB_PEER_CLOSED &&
        now - p->created_us > sb_media_get_settings()->connect_timeout_us)
      peer_set_state(p, SB_PEER_FAILED, "not connected in time (ICE/DTLS timeout)");
    return G_SOURCE_CONTINUE;
  }
  /* Consent (RFC 7675 §5.1): a remote that is there keeps sending authenticated
   * packets (RTCP reports at least every few seconds); after consent_timeout of
   * silence it has gone, and we stop sending to its address. */
  int64_t silent = now - MAX(p->last_recv_us, p->connected_us);
  if (silent > sb_media_get_settings()->consent_timeout_us) {
    peer_set_state(p, SB_PEER_FAILED, "ICE consent expired (remote gone)");
    return G_SOURCE_CONTINUE;
  }
  sb_peer_rtcp_tick(p, now);
  return G_SOURCE_CONTINUE;
}

/* --- set-up used by peer_sdp.c --- */

int sb_peer_ice_start(sb_peer *p, bool controlling) {
  p->ice = sb_ice_new(sb_worker_context(p->worker), &sb_media_get_settings()->ice, controlling,
                      &ice_callbacks, p, p->name);
  return sb_ice_gather(p->ice);
}

void sb_peer_dtls_start(sb_peer *p, bool client, const char *hash, const char *fingerprint) {
  p->dtls = sb_dtls_new(client, hash, fingerprint, &dtls_callbacks, p);
  /* ICE may have connected before the answer came (we offered). */
  if (p->ice && sb_ice_get_state(p->ice) == SB_ICE_CONNECTED) {
    sb_dtls_start(p->dtls);
    dtls_rearm(p);
  }
}

void sb_peer_tick_start(sb_peer *p) {
  if (p->tick)
    return;
  p->tick = g_timeout_source_new(SB_PEER_TICK_MS);
  g_source_set_callback(p->tick, peer_tick, p, NULL);
  g_source_attach(p->tick, sb_worker_context(p->worker));
}

void sb_peer_close(sb_peer *p) {
  if (p->closed)
    return;
  g_return_if_fail(sb_worker_is_current(p->worker));
  p->closed = true;
  if (p->state != SB_PEER_FAILED && p->state != SB_PEER_CLOSED)
    p->state = SB_PEER_CLOSED;
  if (p->tick) {
    g_source_destroy(p->tick);
    g_source_unref(p->tick);
    p->tick = NULL;
  }
  if (p->dtls_timer) {
    g_source_destroy(p->dtls_timer);
    g_source_unref(p->dtls_timer);
    p->dtls_timer = NULL;
  }
  /* SCTP's ABORT goes out through DTLS, and close_notify through ICE. */
  sb_peer_data_close(p);
  if (p->dtls) {
    sb_dtls_free(p->dtls);
    p->dtls = NULL;
  }
  sb_srtp_free(&p->srtp);
  if (p->ice) {
    sb_ice_free(p->ice);
    p->ice = NULL;
  }
  /* Packet references go back to this worker's pool now, not at the last unref. */
  for (guint i = 0; i < p->outs->len; i++)
    if (sb_peer_out_at(p, i))
      sb_stream_out_clear(sb_peer_out_at(p, i));
  sb_worker_load_add(p->worker, -1);
  sb_media_peer_count_add(-1);
  sb_mm_move(sb_mm.ice_state, SB_MM_ICE_STATES, &p->mm_ice, -1);
  sb_mm_move(sb_mm.dtls_state, SB_MM_DTLS_STATES, &p->mm_dtls, -1);
  sb_verbose("%s: closed", p->name);
}
