/* Switchboard — RTCP of a peer: feedback and reports received, NACKs and
 * periodic SR/RR/SDES/REMB sent, retransmissions answered. */
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "media/media_metrics.h"
#include "media/peer_internal.h"
#include "media/rtcp.h"

#define NACK_BATCH 64          /* sequence numbers per NACK we send */
#define NACK_SEQS_MAX 256      /* sequence numbers we honour per NACK received */
#define RESEND_GUARD_US 20000  /* do not resend one packet twice within this */
#define RTT_DEFAULT_US 50000   /* NACK retry spacing until an RTT is measured */
#define RTCP_COMPOUND_MAX 1200 /* keep reports within a safe datagram size */

static uint32_t now_ntp_mid(void) { return sb_ntp_mid32(sb_ntp_from_unix_us(sb_wall_us())); }

static sb_stream_out *out_by_ssrc(sb_peer *p, uint32_t ssrc) {
  return g_hash_table_lookup(p->out_by_ssrc, GUINT_TO_POINTER(ssrc));
}

static sb_stream_in *in_by_ssrc(sb_peer *p, uint32_t ssrc) {
  return g_hash_table_lookup(p->in_by_ssrc, GUINT_TO_POINTER(ssrc));
}

static void apply_report_blocks(sb_peer *p, const sb_rtcp_report_block *blocks, int n) {
  uint32_t arrival = now_ntp_mid();
  for (int i = 0; i < n; i++) {
    sb_stream_out *out = out_by_ssrc(p, blocks[i].ssrc);
    if (out == NULL)
      continue;
    sb_send_stats_on_report(&out->stats, &blocks[i], arrival);
    if (out->stats.rtt_ms >= 0)
      p->rtt_ms = out->stats.rtt_ms;
  }
}

void sb_peer_retransmit(sb_peer *p, sb_stream_out *out, const uint16_t *seqs, int n, int64_t now) {
  for (int i = 0; i < n; i++) {
    sb_rtx_entry *e = sb_rtx_buffer_get(&out->rtx, seqs[i], now);
    if (e == NULL) {
      out->stats.nacks_missed++;
      continue;
    }
    if (e->resent_us && now - e->resent_us < RESEND_GUARD_US)
      continue;
    sb_rtp_view v;
    if (sb_rtp_parse(e->pkt->data, e->pkt->len, &v) != SB_RTP_OK)
      continue;
    uint8_t pt = out->pt_map[v.pt & 0x7F];
    if (pt == 0xFF)
      continue;
    /* RFC 4588 where negotiated, else the packet again as it was (RFC 4585 §6.2.1). */
    bool as_rtx = out->rtx_ssrc != 0 && out->rtx_pt[pt & 0x7F] != 0;
    if (sb_peer_send_rewritten(p, out, e->pkt, &v, e->seq, e->ts, pt, as_rtx, true, now) == 0)
      e->resent_us = now;
  }
}

static void on_feedback(sb_peer *p, const sb_rtcp_view *view, int64_t now) {
  sb_rtcp_fb fb;
  if (sb_rtcp_parse_fb(view, &fb) != SB_RTCP_OK) {
    p->drops.malformed_rtcp++;
    return;
  }
  if (view->pt == SB_RTCP_RTPFB && fb.fmt == SB_RTCP_RTPFB_NACK) {
    sb_stream_out *out = out_by_ssrc(p, fb.media_ssrc);
    uint16_t seqs[NACK_SEQS_MAX];
    int n = sb_rtcp_nack_seqs(&fb, seqs, NACK_SEQS_MAX);
    if (out == NULL || n <= 0)
      return;
    out->stats.nacks_received += (uint64_t)n;
    sb_metric_add_fast(sb_mm.nacks_in, n);
    sb_peer_retransmit(p, out, seqs, n < NACK_SEQS_MAX ? n : NACK_SEQS_MAX, now);
  } else if (view->pt == SB_RTCP_PSFB && fb.fmt == SB_RTCP_PSFB_PLI) {
    sb_stream_out *out = out_by_ssrc(p, fb.media_ssrc);
    if (out == NULL)
      return;
    out->stats.plis_received++;
    sb_metric_add_fast(sb_mm.plis_in, 1);
    if (p->h.on_keyframe_request)
      p->h.on_keyframe_request(p, out, p->ud);
  } else if (view->pt == SB_RTCP_PSFB && fb.fmt == SB_RTCP_PSFB_FIR) {
    /* RFC 5104 §4.3.1.2: the media SSRC field is unused; targets are in the FCI. */
    sb_rtcp_fir_entry entries[SB_RTCP_MAX_FIR];
    int n = sb_rtcp_parse_fir(&fb, entries, SB_RTCP_MAX_FIR);
    for (int i = 0; i < n && i < SB_RTCP_MAX_FIR; i++) {
      sb_stream_out *out = out_by_ssrc(p, entries[i].ssrc);
      if (out == NULL)
        continue;
      out->stats.firs_received++;
      sb_metric_add_fast(sb_mm.firs_in, 1);
      if (p->h.on_keyframe_request)
        p->h.on_keyframe_request(p, out, p->ud);
    }
  } else if (view->pt == SB_RTCP_PSFB && fb.fmt == SB_RTCP_PSFB_AFB) {
    sb_rtcp_remb remb;
    if (sb_rtcp_parse_remb(&fb, &remb) != SB_RTCP_OK)
      return;
    for (int i = 0; i < remb.ssrc_count && i < SB_RTCP_MAX_REMB_SSRCS; i++) {
      sb_stream_out *out = out_by_ssrc(p, remb.ssrcs[i]);
      if (out)
        out->stats.remb_bps = remb.bitrate;
    }
  }
}

void sb_peer_rtcp_recv(sb_peer *p, const uint8_t *buf, size_t len, int64_t now) {
  if (!sb_srtp_ready(&p->srtp)) {
    p->drops.not_connected++;
    return;
  }
  uint8_t tmp[SB_RTCP_BUF + SB_SRTP_TRAILER];
  if (len > SB_RTCP_BUF) {
    p->drops.oversized++;
    return;
  }
  memcpy(tmp, buf, len);
  int n = (int)len;
  if (sb_srtp_unprotect_rtcp(&p->srtp, tmp, &n) != 0) {
    p->drops.srtp_failed++;
    return;
  }
  p->last_recv_us = now; /* authenticated: proof the remote is there (RFC 7675) */
  if (!sb_rtcp_is_valid(tmp, (size_t)n)) {
    p->drops.malformed_rtcp++;
    return;
  }
  sb_rtcp_iter it;
  sb_rtcp_view view;
  sb_rtcp_iter_init(&it, tmp, (size_t)n);
  while (sb_rtcp_next(&it, &view)) {
    switch (view.pt) {
    case SB_RTCP_SR: {
      sb_rtcp_sr sr;
      if (sb_rtcp_parse_sr(&view, &sr) != SB_RTCP_OK) {
        p->drops.malformed_rtcp++;
        break;
      }
      sb_stream_in *in = in_by_ssrc(p, sr.ssrc);
      if (in) {
        in->last_sr_ntp_mid = sb_ntp_mid32(sr.ntp);
        in->last_sr_recv_us = now;
      }
      apply_report_blocks(p, sr.blocks, sr.block_count);
      break;
    }
    case SB_RTCP_RR: {
      sb_rtcp_rr rr;
      if (sb_rtcp_parse_rr(&view, &rr) != SB_RTCP_OK) {
        p->drops.malformed_rtcp++;
        break;
      }
      apply_report_blocks(p, rr.blocks, rr.block_count);
      break;
    }
    case SB_RTCP_RTPFB:
    case SB_RTCP_PSFB:
      on_feedback(p, &view, now);
      break;
    case SB_RTCP_BYE: {
      uint32_t ssrcs[4];
      int k = sb_rtcp_parse_bye(&view, ssrcs, 4);
      if (k > 0)
        sb_verbose("%s: RTCP BYE from ssrc %u", p->name, ssrcs[0]);
      break;
    }
    default:
      break; /* SDES, APP, XR: nothing we need */
    }
  }
}

/* --- what we send --- */

void sb_peer_send_nacks(sb_peer *p, sb_stream_in *in, int64_t now) {
  int64_t rtt_us = p->rtt_ms >= 0 ? (int64_t)p->rtt_ms * 1000 : RTT_DEFAULT_US;
  if (sb_nack_gen_take_keyframe_request(&in->nack))
    sb_peer_request_keyframe(p, in, false);
  uint16_t seqs[NACK_BATCH];
  size_t n = sb_nack_gen_collect(&in->nack, now, rtt_us, seqs, NACK_BATCH);
  if (n == 0)
    return;
  uint8_t buf[16 + 8 + 4 * NACK_BATCH + SB_SRTP_TRAILER];
  size_t cap = sizeof buf - SB_SRTP_TRAILER;
  sb_rtcp_rr rr = { .ssrc = p->rtcp_ssrc, .block_count = 0 };
  int a = sb_rtcp_write_rr(buf, cap, &rr);
  int b = a < 0 ? -1 : sb_rtcp_write_nack(buf + a, cap - (size_t)a, p->rtcp_ssrc, in->ssrc, seqs, n);
  if (b < 0)
    return;
  in->stats.nacks_sent += n;
  sb_metric_add_fast(sb_mm.nacks_out, (int64_t)n);
  sb_peer_send_rtcp(p, buf, a + b);
}

/* Retries of NACKs, and keyframe requests held back by the throttle. */
static void tick_streams(sb_peer *p, int64_t now) {
  for (guint i = 0; i < p->ins->len; i++) {
    sb_stream_in *in = g_ptr_array_index(p->ins, i);
    if (in->nack_enabled)
      sb_peer_send_nacks(p, in, now);
    if (in->keyframe_pending && now - in->last_keyframe_request_us >= SB_KEYFRAME_REQUEST_INTERVAL_US)
      sb_peer_request_keyframe(p, in, true);
  }
}

typedef struct compound {
  uint8_t buf[SB_RTCP_BUF + SB_SRTP_TRAILER];
  int len;
} compound;

static void compound_flush(sb_peer *p, compound *c) {
  if (c->len > 0)
    sb_peer_send_rtcp(p, c->buf, c->len);
  c->len = 0;
}

static int in_report_blocks(sb_peer *p, sb_rtcp_report_block *blocks, int max, int64_t now) {
  int n = 0;
  for (guint i = 0; i < p->ins->len && n < max; i++) {
    sb_stream_in *in = g_ptr_array_index(p->ins, i);
    if (in->stats.packets == 0)
      continue;
    sb_rtcp_report_block *b = &blocks[n++];
    sb_recv_stats_report(&in->stats, b);
    sb_metric_add_fast(sb_mm.lost, (int64_t)sb_recv_stats_take_lost(&in->stats));
    b->ssrc = in->ssrc;
    b->lsr = in->last_sr_ntp_mid;
    /* RFC 3550 §6.4.1: DLSR in units of 1/65536 s. */
    b->dlsr = in->last_sr_recv_us ? (uint32_t)((now - in->last_sr_recv_us) * 65536 / 1000000) : 0;
  }
  return n;
}

/* SR for each outbound stream that has sent, RR blocks for the inbound ones in the
 * first report, SDES CNAME, then REMB (RFC 3550 §6.1 compound rules). */
static void send_reports(sb_peer *p, int64_t now) {
  compound c = { .len = 0 };
  const size_t cap = RTCP_COMPOUND_MAX;
  sb_rtcp_report_block blocks[SB_RTCP_MAX_BLOCKS];
  int nblocks = in_report_blocks(p, blocks, SB_RTCP_MAX_BLOCKS, now);
  uint64_t ntp = sb_ntp_from_unix_us(sb_wall_us());
  uint32_t first_ssrc = p->rtcp_ssrc;
  bool wrote_first = false;
  for (int i = 0; i < sb_peer_media_count(p); i++) {
    sb_stream_out *out = sb_peer_out_at(p, (guint)i);
    if (out == NULL || out->stats.packets == 0)
      continue;
    sb_rtcp_sr sr;
    memset(&sr, 0, sizeof sr);
    sr.ssrc = out->ssrc;
    sr.ntp = ntp;
    /* The RTP time now, extrapolated from the newest packet sent. */
    sr.rtp_ts = out->stats.last_rtp_ts +
                (uint32_t)((now - out->stats.last_send_us) * (int64_t)out->stats.clock_rate / 1000000);
    sr.packet_count = (uint32_t)out->stats.packets;
    sr.octet_count = (uint32_t)out->payload_bytes;
    if (!wrote_first) {
      sr.block_count = (uint8_t)nblocks;
      memcpy(sr.blocks, blocks, sizeof blocks[0] * (size_t)nblocks);
      first_ssrc = out->ssrc;
    }
    if (c.len > 0 && (size_t)c.len + 28 + 24 * (size_t)sr.block_count > cap - 40)
      compound_flush(p, &c);
    int n = sb_rtcp_write_sr(c.buf + c.len, cap - (size_t)c.len, &sr);
    if (n < 0)
      break;
    c.len += n;
    wrote_first = true;
  }
  if (!wrote_first) {
    sb_rtcp_rr rr;
    memset(&rr, 0, sizeof rr);
    rr.ssrc = p->rtcp_ssrc;
    rr.block_count = (uint8_t)nblocks;
    memcpy(rr.blocks, blocks, sizeof blocks[0] * (size_t)nblocks);
    int n = sb_rtcp_write_rr(c.buf, cap, &rr);
    if (n < 0)
      return;
    c.len = n;
  }
  int n = sb_rtcp_write_sdes_cname(c.buf + c.len, cap - (size_t)c.len, first_ssrc, p->cname);
  if (n > 0)
    c.len += n;

  /* REMB for the remote's video streams (draft-alvestrand-rmcat-remb). */
  if (p->remb_bps > 0) {
    uint32_t ssrcs[SB_RTCP_MAX_REMB_SSRCS];
    size_t k = 0;
    for (guint i = 0; i < p->ins->len && k < SB_RTCP_MAX_REMB_SSRCS; i++) {
      sb_stream_in *in = g_ptr_array_index(p->ins, i);
      const sb_media_desc *d = g_ptr_array_index(p->descs, in->media_index);
      const sb_codec_desc *cd = sb_media_desc_codec(d, in->pt);
      if (in->kind == SB_MEDIA_VIDEO && cd && cd->fb_remb)
        ssrcs[k++] = in->ssrc;
    }
    if (k > 0) {
      n = sb_rtcp_write_remb(c.buf + c.len, cap - (size_t)c.len, p->rtcp_ssrc, p->remb_bps, ssrcs, k);
      if (n > 0)
        c.len += n;
    }
  }
  compound_flush(p, &c);
}

void sb_peer_rtcp_tick(sb_peer *p, int64_t now) {
  tick_streams(p, now);
  if (now >= p->next_report_us) {
    send_reports(p, now);
    /* RFC 3550 §6.3.1: randomise the interval (here 0.75..1.25 of it). */
    p->next_report_us = now + SB_PEER_RTCP_INTERVAL_US * 3 / 4 +
                        (int64_t)(sb_random_u32() % (SB_PEER_RTCP_INTERVAL_US / 2));
  }
}
