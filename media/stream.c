/* Switchboard — inbound and outbound RTP streams. */
#include "media/stream.h"

#include <string.h>

#include "core/util.h"

void sb_stream_in_set_codec(sb_stream_in *in, const sb_media_desc *d, uint8_t pt) {
  const sb_codec_desc *c = sb_media_desc_codec(d, pt);
  in->pt = pt;
  in->codec = c ? c->codec : SB_CODEC_UNKNOWN;
  /* Feedback is negotiated per payload type (RFC 4585 §4.2). */
  in->nack_enabled = c && c->fb_nack;
  in->pli_enabled = c && c->fb_pli;
  in->fir_enabled = c && c->fb_fir;
}

void sb_stream_in_init(sb_stream_in *in, const sb_media_desc *d, uint32_t ssrc, uint32_t rtx_ssrc) {
  memset(in, 0, sizeof *in);
  in->media_index = d->index;
  in->kind = d->kind;
  in->ssrc = ssrc;
  in->rtx_ssrc = rtx_ssrc;
  uint32_t clock = d->codec_count > 0 ? d->codecs[0].clock_rate : 90000;
  sb_recv_stats_init(&in->stats, clock ? clock : 90000);
  /* NACK at once on a gap (no reordering delay, like libwebrtc); retries every
   * max(RTT, 20 ms), ten tries, for at most a second. */
  sb_nack_config nack = {
    .reorder_delay_us = 0,
    .min_retry_us = 20000,
    .max_age_us = 1000000,
    .max_tries = 10,
  };
  sb_nack_gen_init(&in->nack, &nack);
  if (d->codec_count > 0)
    sb_stream_in_set_codec(in, d, d->codecs[0].pt);
}

static void out_codecs(sb_stream_out *out, const sb_media_desc *d) {
  memset(out->rtx_pt, 0, sizeof out->rtx_pt);
  out->nack_enabled = false;
  for (int i = 0; i < d->codec_count; i++) {
    out->rtx_pt[d->codecs[i].pt & 0x7F] = d->codecs[i].rtx_pt;
    out->nack_enabled |= d->codecs[i].fb_nack;
  }
  /* An RTX SSRC is only usable when some codec has an RTX payload type. */
  if (d->local_rtx_ssrc == 0)
    memset(out->rtx_pt, 0, sizeof out->rtx_pt);
}

void sb_stream_out_update(sb_stream_out *out, const sb_media_desc *d, uint16_t rtx_buffer_packets) {
  out->media_index = d->index;
  out_codecs(out, d);
  if (out->nack_enabled && out->rtx.size == 0)
    sb_rtx_buffer_init(&out->rtx, rtx_buffer_packets, 1000000);
}

void sb_stream_out_init(sb_stream_out *out, const sb_media_desc *d, uint16_t rtx_buffer_packets) {
  memset(out, 0, sizeof *out);
  out->media_index = d->index;
  out->kind = d->kind;
  out->ssrc = d->local_ssrc;
  out->rtx_ssrc = d->local_rtx_ssrc;
  out->rtx_seq = (uint16_t)sb_random_u32();
  memset(out->pt_map, 0xFF, sizeof out->pt_map);
  out->last_pt = 0xFF;
  uint32_t clock = d->codec_count > 0 ? d->codecs[0].clock_rate : 90000;
  if (clock == 0)
    clock = 90000;
  out_codecs(out, d);
  /* RFC 3550 §5.1: initial sequence number and timestamp are random. */
  sb_rewriter_init(&out->rewriter, clock, (uint16_t)sb_random_u32(), sb_random_u32());
  sb_rtx_buffer_init(&out->rtx, out->nack_enabled ? rtx_buffer_packets : 0, 1000000);
  sb_send_stats_init(&out->stats, clock);
}

void sb_stream_out_clear(sb_stream_out *out) { sb_rtx_buffer_clear(&out->rtx); }

void sb_stream_out_map_pt(sb_stream_out *out, uint8_t src_pt, uint8_t dst_pt) {
  out->pt_map[src_pt & 0x7F] = dst_pt;
}

static void update_ext_identity(sb_stream_out *out) {
  out->ext_identity = true;
  for (int i = 1; i < 256 && out->ext_identity; i++)
    out->ext_identity = out->ext_map[i] == i;
}

void sb_stream_out_map_ext(sb_stream_out *out, uint8_t src_id, uint8_t dst_id) {
  out->ext_map[src_id] = dst_id;
  update_ext_identity(out);
}

void sb_stream_out_map_identity(sb_stream_out *out, const sb_media_desc *d) {
  for (int i = 0; i < d->codec_count; i++)
    out->pt_map[d->codecs[i].pt & 0x7F] = d->codecs[i].pt;
  memset(out->ext_map, 0, sizeof out->ext_map);
  for (int k = 0; k < SB_EXT_COUNT; k++)
    if (d->ext_ids[k])
      out->ext_map[d->ext_ids[k]] = d->ext_ids[k];
  update_ext_identity(out);
}
