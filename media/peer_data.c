/* Switchboard — a peer's data channels: the SCTP association (media/sctp.h) that
 * rides the peer's DTLS once it is up, and the owner's channel callbacks. */
#include "core/log.h"
#include "media/peer_internal.h"

static void on_sctp_send(void *ud, const uint8_t *buf, size_t len) {
  sb_peer *p = ud;
  if (p->dtls && sb_dtls_send_data(p->dtls, buf, len) != 0)
    sb_verbose("%s: an SCTP packet could not be sent over DTLS", p->name);
}

static void on_sctp_connected(void *ud) {
  sb_peer *p = ud;
  if (!p->closed && p->h.on_data_ready)
    p->h.on_data_ready(p, p->ud);
}

static void on_sctp_channel_open(void *ud, const sb_dc_info *ch) {
  sb_peer *p = ud;
  if (!p->closed && p->h.on_channel_open)
    p->h.on_channel_open(p, ch, p->ud);
}

static void on_sctp_message(void *ud, uint16_t id, bool binary, const uint8_t *buf, size_t len) {
  sb_peer *p = ud;
  if (!p->closed && p->h.on_channel_message)
    p->h.on_channel_message(p, id, binary, buf, len, p->ud);
}

static void on_sctp_channel_closed(void *ud, uint16_t id) {
  sb_peer *p = ud;
  if (!p->closed && p->h.on_channel_closed)
    p->h.on_channel_closed(p, id, p->ud);
}

static void on_sctp_closed(void *ud, const char *why) {
  sb_peer *p = ud;
  sb_info("%s: data channels gone: SCTP association %s", p->name, why);
}

static const sb_sctp_callbacks sctp_callbacks = {
  .send = on_sctp_send,
  .connected = on_sctp_connected,
  .channel_open = on_sctp_channel_open,
  .message = on_sctp_message,
  .channel_closed = on_sctp_channel_closed,
  .closed = on_sctp_closed,
};

static const sb_media_desc *application_desc(const sb_peer *p) {
  for (int i = 0; i < sb_peer_media_count(p); i++) {
    const sb_media_desc *d = sb_peer_media(p, i);
    if (d->kind == SB_MEDIA_APPLICATION && d->accepted)
      return d;
  }
  return NULL;
}

void sb_peer_data_start(sb_peer *p) {
  if (p->sctp || p->closed || p->dtls == NULL || sb_dtls_get_state(p->dtls) != SB_DTLS_CONNECTED)
    return;
  const sb_media_desc *d = application_desc(p);
  if (d == NULL)
    return;
  p->sctp = sb_sctp_new(sb_dtls_is_client(p->dtls), (uint16_t)d->sctp_port, d->max_message_size,
                        p->name, &sctp_callbacks, p);
  if (p->sctp == NULL || sb_sctp_start(p->sctp) != 0)
    sb_warn("%s: data channels unavailable: SCTP set-up failed", p->name);
}

void sb_peer_data_input(sb_peer *p, const uint8_t *buf, size_t len) {
  if (p->sctp)
    sb_sctp_input(p->sctp, buf, len);
  else
    p->drops.unknown_class++;
}

void sb_peer_data_close(sb_peer *p) {
  if (p->sctp) {
    sb_sctp_free(p->sctp);
    p->sctp = NULL;
  }
}

bool sb_peer_data_ready(const sb_peer *p) { return p->sctp && sb_sctp_is_connected(p->sctp); }

int sb_peer_channel_open(sb_peer *p, const char *label, const char *protocol, uint8_t type,
                         uint32_t reliability, uint16_t priority) {
  return p->sctp ? sb_sctp_channel_open(p->sctp, label, protocol, type, reliability, priority) : -1;
}

int sb_peer_channel_send(sb_peer *p, uint16_t id, bool binary, const uint8_t *buf, size_t len) {
  return p->sctp ? sb_sctp_send(p->sctp, id, binary, buf, len) : -1;
}

void sb_peer_channel_close(sb_peer *p, uint16_t id) {
  if (p->sctp)
    sb_sctp_channel_close(p->sctp, id);
}

const sb_dc_info *sb_peer_channel(sb_peer *p, uint16_t id) {
  return p->sctp ? sb_sctp_channel(p->sctp, id) : NULL;
}

void sb_peer_data_stats(const sb_peer *p, sb_sctp_stats *out) {
  if (p->sctp)
    sb_sctp_get_stats(p->sctp, out);
  else
    *out = (sb_sctp_stats){ 0 };
}

size_t sb_peer_data_max_message(const sb_peer *p) {
  return p->sctp ? sb_sctp_max_message(p->sctp) : 0;
}

json_t *sb_peer_data_stats_json(const sb_peer *p) {
  if (p->sctp == NULL)
    return json_null();
  sb_sctp_stats st;
  sb_sctp_get_stats(p->sctp, &st);
  return json_pack("{s:b, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                   "connected", sb_sctp_is_connected(p->sctp), "channels", st.channels,
                   "messages_in", (json_int_t)st.messages_in,
                   "messages_out", (json_int_t)st.messages_out,
                   "bytes_in", (json_int_t)st.bytes_in, "bytes_out", (json_int_t)st.bytes_out,
                   "packets_in", (json_int_t)st.packets_in,
                   "packets_out", (json_int_t)st.packets_out,
                   "malformed_packets", (json_int_t)st.malformed_packets,
                   "malformed_dcep", (json_int_t)st.malformed_dcep,
                   "unknown_channel", (json_int_t)st.unknown_channel,
                   "oversized", (json_int_t)st.oversized,
                   "send_dropped", (json_int_t)st.send_dropped,
                   "queued_bytes", (json_int_t)st.queued_bytes);
}
