/* Switchboard — data channels on an SCTP association: DCEP open/ack (RFC 8832),
 * messages by payload protocol id (RFC 8831 §8), the send queue in front of
 * usrsctp, and closing by outgoing stream reset (RFC 8831 §6.7, RFC 6525). */
#include "media/sctp_internal.h"

#include <errno.h>
#include <string.h>

#include "core/log.h"

#define RESET_RETRY_MS 100
#define RESET_MAX_FAILURES 50       /* ~5 s of retries, then the channel closes locally */

typedef struct sb_out_msg {
  uint16_t sid;
  uint32_t ppid;
  uint16_t flags;             /* SCTP_UNORDERED */
  uint16_t pr_policy;         /* SCTP_PR_SCTP_RTX / _TTL, or 0 for reliable */
  uint32_t pr_value;
  size_t payload;             /* the user's bytes (0 for an empty message's filler) */
  size_t len;
  size_t sent;                /* taken by usrsctp so far (it may take a part) */
  uint8_t data[];
} sb_out_msg;

static sb_channel *channel_get(sb_sctp *s, uint16_t id) {
  return g_hash_table_lookup(s->channels, GUINT_TO_POINTER(id));
}

const sb_dc_info *sb_sctp_channel(sb_sctp *s, uint16_t id) {
  sb_channel *ch = channel_get(s, id);
  return ch && !ch->closing ? &ch->info : NULL;
}

void sb_sctp_sendq_clear(sb_sctp *s) {
  sb_out_msg *m;
  while ((m = g_queue_pop_head(&s->sendq)) != NULL)
    g_free(m);
  s->queued = 0;
}

void sb_sctp_flush(sb_sctp *s) {
  if (!s->connected || s->closed || s->sock == NULL)
    return;
  sb_out_msg *m;
  while ((m = g_queue_peek_head(&s->sendq)) != NULL) {
    struct sctp_sendv_spa spa;
    memset(&spa, 0, sizeof spa);
    spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
    spa.sendv_sndinfo.snd_sid = m->sid;
    spa.sendv_sndinfo.snd_ppid = htonl(m->ppid);
    spa.sendv_sndinfo.snd_flags = m->flags;
    if (m->pr_policy) {
      spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
      spa.sendv_prinfo.pr_policy = m->pr_policy;
      spa.sendv_prinfo.pr_value = m->pr_value;
    }
    /* Non-blocking, usrsctp may take the first part of a message only; the stream
     * then holds it incomplete, and the next send on it continues it. */
    ssize_t n = usrsctp_sendv(s->sock, m->data + m->sent, m->len - m->sent, NULL, 0, &spa,
                              (socklen_t)sizeof spa, SCTP_SENDV_SPA, 0);
    if (n < 0 && (errno == EWOULDBLOCK || errno == EAGAIN))
      break;   /* send_cb tells us when there is room again */
    if (n >= 0 && (m->sent += (size_t)n) < m->len)
      break;
    if (n < 0) {
      s->st.send_dropped++;
      sb_verbose("%s: sctp: send on stream %u failed: %s", s->name, m->sid, g_strerror(errno));
    } else if (m->ppid != SB_PPID_DCEP) {
      s->st.messages_out++;
      s->st.bytes_out += m->payload;
    }
    g_queue_pop_head(&s->sendq);
    s->queued -= m->len;
    g_free(m);
  }
}

/* Queues a message (ch NULL for DCEP) and sends what usrsctp takes now. */
static int enqueue(sb_sctp *s, const sb_channel *ch, uint16_t sid, uint32_t ppid,
                   const uint8_t *buf, size_t len, size_t payload) {
  if (s->queued + len > SB_SCTP_SEND_QUEUE_MAX) {
    s->st.send_dropped++;
    return -1;
  }
  sb_out_msg *m = g_malloc(sizeof *m + len);
  memset(m, 0, sizeof *m);
  m->sid = sid;
  m->ppid = ppid;
  m->payload = payload;
  m->len = len;
  memcpy(m->data, buf, len);
  if (ch) {
    /* RFC 8832 §6: ordered until the remote acknowledged the open. */
    if ((ch->info.type & SB_DC_UNORDERED) && ch->acked)
      m->flags = SCTP_UNORDERED;
    uint8_t base = ch->info.type & (uint8_t)~SB_DC_UNORDERED;
    if (base == SB_DC_PARTIAL_RELIABLE_REXMIT)
      m->pr_policy = SCTP_PR_SCTP_RTX;
    else if (base == SB_DC_PARTIAL_RELIABLE_TIMED)
      m->pr_policy = SCTP_PR_SCTP_TTL;
    m->pr_value = ch->info.reliability;
  }
  g_queue_push_tail(&s->sendq, m);
  s->queued += len;
  sb_sctp_flush(s);
  return 0;
}

static sb_channel *channel_add(sb_sctp *s, uint16_t id, uint8_t type, uint32_t reliability,
                               uint16_t priority, char *label, char *protocol, bool remote) {
  sb_channel *ch = g_new0(sb_channel, 1);
  ch->label = label;
  ch->protocol = protocol;
  ch->info = (sb_dc_info){ .id = id, .type = type, .reliability = reliability,
                           .priority = priority, .label = label, .protocol = protocol,
                           .remote = remote };
  ch->acked = remote;
  g_hash_table_insert(s->channels, GUINT_TO_POINTER(id), ch);
  return ch;
}

static void malformed_dcep(sb_sctp *s, uint16_t sid, const char *why) {
  s->st.malformed_dcep++;
  if (s->st.malformed_dcep <= 10)
    sb_info("%s: sctp: dropped a DCEP message on stream %u: %s", s->name, sid, why);
}

static bool has_own_channels(sb_sctp *s) {
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init(&it, s->channels);
  while (g_hash_table_iter_next(&it, NULL, &v))
    if (!((sb_channel *)v)->info.remote)
      return true;
  return false;
}

static void on_dcep(sb_sctp *s, uint16_t sid, const uint8_t *buf, size_t len) {
  int type = sb_dcep_type(buf, len);
  if (type == SB_DCEP_ACK) {
    sb_channel *ch = channel_get(s, sid);
    if (len != 1 || ch == NULL || ch->info.remote)
      malformed_dcep(s, sid, "ACK for no channel of ours");
    else
      ch->acked = true;
    return;
  }
  if (type != SB_DCEP_OPEN) {
    malformed_dcep(s, sid, "unknown message type");
    return;
  }
  sb_dcep_open o;
  int rc = sb_dcep_parse_open(buf, len, &o);
  if (rc != SB_DCEP_OK) {
    malformed_dcep(s, sid, rc == SB_DCEP_ERR_TYPE ? "bad channel type" : "bad OPEN length");
    return;
  }
  /* RFC 8832 §6: the DTLS client opens on even streams, the server on odd ones.
   * aiortc picks the parity from its ICE role instead (as the controlling offerer
   * and DTLS client it opens on odd streams); browsers accept that, so do we when
   * the stream is free: our own opens skip streams in use. */
  if ((sid & 1u) == (s->next_stream & 1u)) {
    sb_verbose("%s: sctp: the remote opens stream %u of our parity (RFC 8832 §6)", s->name, sid);
    /* Take the other parity for our own opens, so both sides never pick the same
     * free stream at once (unless we opened some already). */
    if (!has_own_channels(s))
      s->next_stream = (uint16_t)((sid & 1u) ^ 1u);
  }
  if (g_hash_table_contains(s->channels, GUINT_TO_POINTER(sid))) {
    malformed_dcep(s, sid, "OPEN on a stream in use");
    return;
  }
  sb_channel *ch = channel_add(s, sid, o.channel_type, o.reliability, o.priority,
                               g_strndup((const char *)o.label, o.label_len),
                               g_strndup((const char *)o.protocol, o.protocol_len), true);
  uint8_t ack[1];
  enqueue(s, NULL, sid, SB_PPID_DCEP, ack, (size_t)sb_dcep_write_ack(ack, sizeof ack), 0);
  sb_verbose("%s: data channel %u '%s' opened by the remote (type 0x%02x)", s->name, sid,
             ch->label, ch->info.type);
  if (s->cb.channel_open)
    s->cb.channel_open(s->ud, &ch->info);
}

void sb_sctp_deliver(sb_sctp *s, uint16_t sid, uint32_t ppid, const uint8_t *buf, size_t len) {
  bool binary;
  switch (ppid) {
  case SB_PPID_DCEP:
    on_dcep(s, sid, buf, len);
    return;
  case SB_PPID_STRING:
    binary = false;
    break;
  case SB_PPID_BINARY:
    binary = true;
    break;
  case SB_PPID_STRING_EMPTY:
  case SB_PPID_BINARY_EMPTY:
    binary = ppid == SB_PPID_BINARY_EMPTY;
    len = 0;
    break;
  default:
    s->st.unknown_channel++;
    return;
  }
  sb_channel *ch = channel_get(s, sid);
  if (ch == NULL || ch->reset_in) {
    s->st.unknown_channel++;
    return;
  }
  ch->acked = true;   /* RFC 8832 §6: user data implies the ACK */
  s->st.messages_in++;
  s->st.bytes_in += len;
  if (s->cb.message)
    s->cb.message(s->ud, sid, binary, len ? buf : (const uint8_t *)"", len);
}

int sb_sctp_channel_open(sb_sctp *s, const char *label, const char *protocol, uint8_t type,
                         uint32_t reliability, uint16_t priority) {
  label = label ? label : "";
  protocol = protocol ? protocol : "";
  size_t ll = strlen(label), pl = strlen(protocol);
  if (s->closed || s->lost || !sb_dcep_channel_type_valid(type) || ll > SB_DCEP_MAX_LABEL ||
      pl > SB_DCEP_MAX_LABEL)
    return -1;
  unsigned limit = s->out_streams ? MIN(s->out_streams, SB_SCTP_STREAMS) : SB_SCTP_STREAMS;
  unsigned id = s->next_stream & 1u;
  while (id < limit && g_hash_table_contains(s->channels, GUINT_TO_POINTER(id)))
    id += 2;
  if (id >= limit)
    return -1;
  sb_channel *ch = channel_add(s, (uint16_t)id, type, reliability, priority, g_strdup(label),
                               g_strdup(protocol), false);
  sb_dcep_open o = { .channel_type = type, .priority = priority, .reliability = reliability,
                     .label = (const uint8_t *)label, .label_len = (uint16_t)ll,
                     .protocol = (const uint8_t *)protocol, .protocol_len = (uint16_t)pl };
  size_t cap = 12 + ll + pl;
  uint8_t *msg = g_malloc(cap);
  int n = sb_dcep_write_open(msg, cap, &o);
  int rc = enqueue(s, NULL, ch->info.id, SB_PPID_DCEP, msg, (size_t)n, 0);
  g_free(msg);
  if (rc != 0) {
    g_hash_table_remove(s->channels, GUINT_TO_POINTER(id));
    return -1;
  }
  sb_verbose("%s: data channel %u '%s' opened by us", s->name, id, label);
  return (int)id;
}

int sb_sctp_send(sb_sctp *s, uint16_t id, bool binary, const uint8_t *buf, size_t len) {
  sb_channel *ch = channel_get(s, id);
  if (ch == NULL || ch->closing || s->closed || s->lost)
    return -1;
  if (len > s->max_message) {
    s->st.send_dropped++;
    return -1;
  }
  /* RFC 8831 §6.6: an empty message is one zero byte under the "empty" PPID. */
  static const uint8_t filler = 0;
  uint32_t ppid = binary ? (len ? SB_PPID_BINARY : SB_PPID_BINARY_EMPTY)
                         : (len ? SB_PPID_STRING : SB_PPID_STRING_EMPTY);
  return enqueue(s, ch, id, ppid, len ? buf : &filler, len ? len : 1, len);
}

/* --- closing --- */

static gboolean reset_timer_fire(gpointer data) {
  sb_sctp *s = data;
  g_source_unref(s->timer);
  s->timer = NULL;
  sb_sctp_try_resets(s);
  return G_SOURCE_REMOVE;
}

static void arm_reset_timer(sb_sctp *s) {
  if (s->timer || s->closed)
    return;
  s->timer = g_timeout_source_new(RESET_RETRY_MS);
  g_source_set_callback(s->timer, reset_timer_fire, s, NULL);
  g_source_attach(s->timer, sb_worker_context(s->worker));
}

static bool stream_has_queued(sb_sctp *s, uint16_t sid) {
  for (GList *l = s->sendq.head; l; l = l->next)
    if (((sb_out_msg *)l->data)->sid == sid)
      return true;
  return false;
}

static void pending_add(sb_sctp *s, uint16_t sid) {
  for (guint i = 0; i < s->pending_resets->len; i++)
    if (g_array_index(s->pending_resets, uint16_t, i) == sid)
      return;
  g_array_append_val(s->pending_resets, sid);
}

static void finish_if_closed(sb_sctp *s, sb_channel *ch);

/* The remote keeps refusing our resets: the pending channels close on our side. */
static void give_up_resets(sb_sctp *s) {
  sb_info("%s: sctp: %u stream reset(s) refused %d times: closing the channels locally",
          s->name, s->pending_resets->len, s->reset_failures);
  GArray *ids = s->pending_resets;
  s->pending_resets = g_array_new(FALSE, FALSE, sizeof(uint16_t));
  s->reset_failures = 0;
  for (guint i = 0; i < ids->len && !s->closed; i++) {
    sb_channel *ch = channel_get(s, g_array_index(ids, uint16_t, i));
    if (ch) {
      ch->reset_in = ch->reset_out = true;
      finish_if_closed(s, ch);
    }
  }
  g_array_unref(ids);
}

void sb_sctp_try_resets(sb_sctp *s) {
  /* Before COMM_UP nothing is tried: the drain after it comes back here. */
  if (s->closed || s->lost || s->pending_resets->len == 0 || !s->connected)
    return;
  if (s->reset_failures >= RESET_MAX_FAILURES) {
    give_up_resets(s);
    return;
  }
  GArray *now = g_array_new(FALSE, FALSE, sizeof(uint16_t));
  for (guint i = 0; i < s->pending_resets->len;) {
    uint16_t sid = g_array_index(s->pending_resets, uint16_t, i);
    if (stream_has_queued(s, sid)) {
      i++;   /* what the user sent before closing goes first */
      continue;
    }
    g_array_append_val(now, sid);
    g_array_remove_index_fast(s->pending_resets, i);
  }
  if (now->len) {
    size_t len = sizeof(struct sctp_reset_streams) + now->len * sizeof(uint16_t);
    struct sctp_reset_streams *srs = g_malloc0(len);
    srs->srs_assoc_id = SCTP_ALL_ASSOC;
    srs->srs_flags = SCTP_STREAM_RESET_OUTGOING;
    srs->srs_number_streams = (uint16_t)now->len;
    memcpy(srs->srs_stream_list, now->data, now->len * sizeof(uint16_t));
    if (usrsctp_setsockopt(s->sock, IPPROTO_SCTP, SCTP_RESET_STREAMS, srs, (socklen_t)len) != 0) {
      /* One reset request at a time: the others wait for it. */
      for (guint i = 0; i < now->len; i++)
        pending_add(s, g_array_index(now, uint16_t, i));
      if (errno != EALREADY && errno != EBUSY && errno != EINPROGRESS)
        s->reset_failures++;
    }
    g_free(srs);
  }
  g_array_unref(now);
  if (s->pending_resets->len)
    arm_reset_timer(s);
}

void sb_sctp_channel_close(sb_sctp *s, uint16_t id) {
  sb_channel *ch = channel_get(s, id);
  if (ch == NULL || ch->closing || s->closed)
    return;
  ch->closing = true;
  pending_add(s, id);
  sb_sctp_try_resets(s);
}

static void finish_if_closed(sb_sctp *s, sb_channel *ch) {
  if (!ch->reset_in || !ch->reset_out)
    return;
  uint16_t id = ch->info.id;
  sb_verbose("%s: data channel %u closed", s->name, id);
  g_hash_table_remove(s->channels, GUINT_TO_POINTER(id));
  if (s->cb.channel_closed)
    s->cb.channel_closed(s->ud, id);
}

void sb_sctp_on_stream_reset(sb_sctp *s, const struct sctp_stream_reset_event *ev, size_t len) {
  size_t total = MIN((size_t)ev->strreset_length, len);
  size_t n = total > sizeof *ev ? (total - sizeof *ev) / sizeof(uint16_t) : 0;
  uint16_t flags = ev->strreset_flags;
  for (size_t i = 0; i < n && !s->closed; i++) {
    uint16_t sid = ev->strreset_stream_list[i];
    sb_channel *ch = channel_get(s, sid);
    if (ch == NULL)
      continue;
    if (flags & (SCTP_STREAM_RESET_DENIED | SCTP_STREAM_RESET_FAILED)) {
      if (!ch->reset_out) {
        pending_add(s, sid);   /* tried again shortly */
        s->reset_failures++;
      }
      continue;
    }
    if (flags & SCTP_STREAM_RESET_OUTGOING_SSN)
      s->reset_failures = 0;
    if (flags & SCTP_STREAM_RESET_INCOMING_SSN) {
      /* The remote closed its side: nothing more comes; close ours (RFC 8831 §6.7). */
      ch->reset_in = true;
      g_hash_table_remove(s->partials, GUINT_TO_POINTER(sid));
      if (!ch->closing) {
        ch->closing = true;
        pending_add(s, sid);
      }
    }
    if (flags & SCTP_STREAM_RESET_OUTGOING_SSN)
      ch->reset_out = true;
    finish_if_closed(s, ch);
  }
  sb_sctp_try_resets(s);
}
