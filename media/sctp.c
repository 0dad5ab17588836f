/* Switchboard — SCTP associations over DTLS with usrsctp (AF_CONN), and the data
 * channels on them. See sctp.h for the threading rules.
 *
 * usrsctp calls us from three places: conn_output (a packet to send), the
 * receive callback (a message part or a notification) and the send callback
 * (send space freed). They run on the worker inside usrsctp_conninput or
 * usrsctp_sendv, or on usrsctp's timer thread. None of them touches the
 * association's state: they find it by id in a locked registry, queue an event
 * and schedule one drain job on the owning worker. Only conn_output on the owning
 * worker sends at once (the DTLS send is the worker's own business). */
#include "media/sctp_internal.h"

#include <errno.h>
#include <string.h>

#include "core/log.h"

static GMutex registry_lock;
static GHashTable *registry;            /* id -> sb_sctp* (no reference) */
static guint next_id = 1;

/* --- events queued by usrsctp's callbacks --- */

enum { EV_DATA, EV_OUTPUT, EV_SENDSPACE, EV_EOF };

typedef struct sb_sctp_ev {
  int kind;
  void *data;                 /* EV_DATA: usrsctp's malloc'd buffer; EV_OUTPUT: g_malloc'd */
  size_t len;
  uint16_t sid;
  uint16_t ssn;
  uint32_t tsn;               /* the message's first TSN: the same for all its pieces */
  uint32_t ppid;
  int flags;
} sb_sctp_ev;

static void sb_sctp_ev_free(sb_sctp_ev *e) {
  if (e->kind == EV_DATA)
    free(e->data);
  else
    g_free(e->data);
  g_free(e);
}

sb_sctp *sb_sctp_ref(sb_sctp *s) {
  g_atomic_int_inc(&s->refs);
  return s;
}

static void channel_free(gpointer data) {
  sb_channel *ch = data;
  g_free(ch->label);
  g_free(ch->protocol);
  g_free(ch);
}

static void partial_free(gpointer data) {
  sb_partial *p = data;
  g_byte_array_unref(p->buf);
  g_free(p);
}

void sb_sctp_unref(sb_sctp *s) {
  if (s == NULL || !g_atomic_int_dec_and_test(&s->refs))
    return;
  sb_sctp_ev *e;
  while ((e = g_queue_pop_head(&s->events)) != NULL)
    sb_sctp_ev_free(e);
  sb_sctp_sendq_clear(s);
  g_hash_table_destroy(s->channels);
  g_hash_table_destroy(s->partials);
  g_array_unref(s->pending_resets);
  g_mutex_clear(&s->lock);
  g_free(s->name);
  g_free(s);
}

/* The association with this id, referenced, or NULL once it is freed. */
static sb_sctp *lookup(void *addr) {
  g_mutex_lock(&registry_lock);
  sb_sctp *s = registry ? g_hash_table_lookup(registry, addr) : NULL;
  if (s)
    sb_sctp_ref(s);
  g_mutex_unlock(&registry_lock);
  return s;
}

static void drain_job(void *data);
static void unref_job(void *data) { sb_sctp_unref(data); }

static void post_event(sb_sctp *s, sb_sctp_ev *e) {
  g_mutex_lock(&s->lock);
  g_queue_push_tail(&s->events, e);
  bool schedule = !s->drain_scheduled;
  s->drain_scheduled = true;
  g_mutex_unlock(&s->lock);
  if (schedule)
    sb_worker_call(s->worker, drain_job, sb_sctp_ref(s), unref_job);
}

static int conn_output(void *addr, void *buf, size_t len, uint8_t tos, uint8_t set_df) {
  (void)tos;
  (void)set_df;
  sb_sctp *s = lookup(addr);
  if (s == NULL)
    return 0;
  if (sb_worker_is_current(s->worker)) {
    if (!s->closed && s->cb.send) {
      s->st.packets_out++;
      s->cb.send(s->ud, buf, len);
    }
  } else {
    sb_sctp_ev *e = g_new0(sb_sctp_ev, 1);
    e->kind = EV_OUTPUT;
    e->data = g_memdup2(buf, len);
    e->len = len;
    post_event(s, e);
  }
  sb_sctp_unref(s);
  return 0;
}

static int receive_cb(struct socket *sock, union sctp_sockstore addr, void *data, size_t len,
                      struct sctp_rcvinfo rcv, int flags, void *ulp_info) {
  (void)sock;
  (void)addr;
  sb_sctp *s = lookup(ulp_info);
  if (s == NULL) {
    free(data);
    return 1;
  }
  sb_sctp_ev *e = g_new0(sb_sctp_ev, 1);
  e->kind = data ? EV_DATA : EV_EOF;
  e->data = data;
  e->len = len;
  e->sid = rcv.rcv_sid;
  e->ssn = rcv.rcv_ssn;
  e->tsn = rcv.rcv_tsn;
  e->ppid = ntohl(rcv.rcv_ppid);
  e->flags = flags;
  post_event(s, e);
  sb_sctp_unref(s);
  return 1;
}

static int send_cb(struct socket *sock, uint32_t sb_free, void *ulp_info) {
  (void)sock;
  (void)sb_free;
  sb_sctp *s = lookup(ulp_info);
  if (s == NULL)
    return 0;
  sb_sctp_ev *e = g_new0(sb_sctp_ev, 1);
  e->kind = EV_SENDSPACE;
  post_event(s, e);
  sb_sctp_unref(s);
  return 0;
}

/* --- process-wide set-up --- */

static int global_ok = -1;

static gpointer global_init_once(gpointer data) {
  (void)data;
  usrsctp_init(0, conn_output, NULL);
  usrsctp_sysctl_set_sctp_ecn_enable(0);
  usrsctp_sysctl_set_sctp_blackhole(2);
  usrsctp_sysctl_set_sctp_nr_outgoing_streams_default(SB_SCTP_STREAMS);
  /* Heartbeats keep a data-only PeerConnection's consent fresh (media.c
   * consent_timeout is 25 s by default) and find a dead remote sooner. */
  usrsctp_sysctl_set_sctp_heartbeat_interval_default(5000);
  usrsctp_sysctl_set_sctp_delayed_sack_time_default(20);
  g_mutex_lock(&registry_lock);
  registry = g_hash_table_new(g_direct_hash, g_direct_equal);
  g_mutex_unlock(&registry_lock);
  global_ok = 0;
  return NULL;
}

int sb_sctp_global_init(void) {
  static GOnce once = G_ONCE_INIT;
  g_once(&once, global_init_once, NULL);
  return global_ok;
}

int sb_sctp_live_count(void) {
  g_mutex_lock(&registry_lock);
  int n = registry ? (int)g_hash_table_size(registry) : 0;
  g_mutex_unlock(&registry_lock);
  return n;
}

void sb_sctp_global_cleanup(void) {
  if (global_ok != 0)
    return;
  /* usrsctp_finish refuses while sockets are still being torn down. */
  for (int i = 0; i < 300 && usrsctp_finish() != 0; i++)
    g_usleep(10000);
}

/* --- association --- */

static int setopt(sb_sctp *s, int level, int name, const void *val, socklen_t len, const char *what) {
  if (usrsctp_setsockopt(s->sock, level, name, val, len) == 0)
    return 0;
  sb_warn("%s: sctp: setsockopt %s: %s", s->name, what, g_strerror(errno));
  return -1;
}

static int socket_setup(sb_sctp *s) {
  s->sock = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, receive_cb, send_cb,
                           SB_SCTP_SEND_THRESHOLD, GUINT_TO_POINTER(s->id));
  if (s->sock == NULL) {
    sb_warn("%s: sctp: socket: %s", s->name, g_strerror(errno));
    return -1;
  }
  if (usrsctp_set_non_blocking(s->sock, 1) < 0)
    return -1;
  /* Closing aborts at once (no SHUTDOWN handshake through a dying DTLS). */
  struct linger lg = { .l_onoff = 1, .l_linger = 0 };
  int on = 1;
  int buf = SB_SCTP_SOCKET_BUFFER;
  /* No partial delivery below this: with a receive callback, usrsctp hands over a
   * later complete message on the stream while an earlier one is still partial
   * (measured with Chromium), so whole messages up to our limit are what we get. */
  uint32_t pd_point = SB_SCTP_SOCKET_BUFFER / 2;
  struct sctp_assoc_value av = { .assoc_id = SCTP_ALL_ASSOC,
                                 .assoc_value = SCTP_ENABLE_RESET_STREAM_REQ };
  struct sctp_initmsg init = { .sinit_num_ostreams = SB_SCTP_STREAMS,
                               .sinit_max_instreams = SB_SCTP_STREAMS };
  if (setopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg, "SO_LINGER") ||
      setopt(s, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf, "SO_SNDBUF") ||
      setopt(s, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf, "SO_RCVBUF") ||
      setopt(s, IPPROTO_SCTP, SCTP_PARTIAL_DELIVERY_POINT, &pd_point, sizeof pd_point,
             "SCTP_PARTIAL_DELIVERY_POINT") ||
      setopt(s, IPPROTO_SCTP, SCTP_NODELAY, &on, sizeof on, "SCTP_NODELAY") ||
      setopt(s, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, &av, sizeof av, "stream reset") ||
      setopt(s, IPPROTO_SCTP, SCTP_INITMSG, &init, sizeof init, "SCTP_INITMSG"))
    return -1;
  static const uint16_t events[] = { SCTP_ASSOC_CHANGE, SCTP_STREAM_RESET_EVENT };
  for (size_t i = 0; i < G_N_ELEMENTS(events); i++) {
    struct sctp_event ev = { .se_assoc_id = SCTP_ALL_ASSOC, .se_on = 1, .se_type = events[i] };
    if (setopt(s, IPPROTO_SCTP, SCTP_EVENT, &ev, sizeof ev, "SCTP_EVENT"))
      return -1;
  }
  struct sockaddr_conn local = { .sconn_family = AF_CONN, .sconn_port = htons(s->port),
                                 .sconn_addr = GUINT_TO_POINTER(s->id) };
  if (usrsctp_bind(s->sock, (struct sockaddr *)&local, sizeof local) < 0) {
    sb_warn("%s: sctp: bind: %s", s->name, g_strerror(errno));
    return -1;
  }
  return 0;
}

sb_sctp *sb_sctp_new(bool dtls_client, uint16_t port, uint32_t max_message, const char *name,
                     const sb_sctp_callbacks *cb, void *ud) {
  if (sb_sctp_global_init() != 0)
    return NULL;
  sb_worker *w = sb_worker_current();
  g_return_val_if_fail(w != NULL, NULL);
  sb_sctp *s = g_new0(sb_sctp, 1);
  s->refs = 1;
  s->worker = w;
  s->name = g_strdup(name);
  s->cb = *cb;
  s->ud = ud;
  s->dtls_client = dtls_client;
  s->port = port ? port : 5000;
  s->max_message = max_message ? max_message : 65536; /* RFC 8841 §6: absent means 64 KiB */
  s->next_stream = dtls_client ? 0 : 1;
  g_mutex_init(&s->lock);
  g_queue_init(&s->events);
  g_queue_init(&s->sendq);
  s->channels = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, channel_free);
  s->partials = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, partial_free);
  s->pending_resets = g_array_new(FALSE, FALSE, sizeof(uint16_t));
  g_mutex_lock(&registry_lock);
  s->id = next_id++;
  if (next_id == 0)
    next_id = 1;
  g_hash_table_insert(registry, GUINT_TO_POINTER(s->id), s);
  g_mutex_unlock(&registry_lock);
  usrsctp_register_address(GUINT_TO_POINTER(s->id));
  if (socket_setup(s) != 0) {
    sb_sctp_free(s);
    return NULL;
  }
  return s;
}

int sb_sctp_start(sb_sctp *s) {
  if (s->started || s->closed)
    return s->closed ? -1 : 0;
  s->started = true;
  struct sockaddr_conn remote = { .sconn_family = AF_CONN, .sconn_port = htons(s->port),
                                  .sconn_addr = GUINT_TO_POINTER(s->id) };
  if (usrsctp_connect(s->sock, (struct sockaddr *)&remote, sizeof remote) < 0 &&
      errno != EINPROGRESS) {
    sb_warn("%s: sctp: connect: %s", s->name, g_strerror(errno));
    return -1;
  }
  /* The DTLS path carries at most SB_SCTP_MTU bytes per packet: no discovery. */
  struct sctp_paddrparams pp;
  memset(&pp, 0, sizeof pp);
  memcpy(&pp.spp_address, &remote, sizeof remote);
  pp.spp_flags = SPP_PMTUD_DISABLE;
  pp.spp_pathmtu = SB_SCTP_MTU;
  setopt(s, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, sizeof pp, "SCTP_PEER_ADDR_PARAMS");
  return 0;
}

void sb_sctp_input(sb_sctp *s, const uint8_t *buf, size_t len) {
  if (s->closed)
    return;
  if (!sb_sctp_packet_valid(buf, len)) {
    s->st.malformed_packets++;
    if (s->st.malformed_packets == 1 || s->st.malformed_packets % 1000 == 0)
      sb_info("%s: sctp: dropped a malformed packet (%zu bytes, %" G_GUINT64_FORMAT " so far)",
              s->name, len, s->st.malformed_packets);
    return;
  }
  s->st.packets_in++;
  usrsctp_conninput(GUINT_TO_POINTER(s->id), buf, len, 0);
}

void sb_sctp_free(sb_sctp *s) {
  if (s == NULL)
    return;
  if (s->timer) {
    g_source_destroy(s->timer);
    g_source_unref(s->timer);
    s->timer = NULL;
  }
  if (s->sock) {
    /* The ABORT goes out through conn_output while we still answer for the id. */
    usrsctp_close(s->sock);
    s->sock = NULL;
  }
  s->closed = true;
  g_mutex_lock(&registry_lock);
  g_hash_table_remove(registry, GUINT_TO_POINTER(s->id));
  g_mutex_unlock(&registry_lock);
  usrsctp_deregister_address(GUINT_TO_POINTER(s->id));
  sb_sctp_unref(s);
}

bool sb_sctp_is_connected(const sb_sctp *s) { return s->connected && !s->closed; }
size_t sb_sctp_max_message(const sb_sctp *s) { return s->max_message; }

void sb_sctp_get_stats(const sb_sctp *s, sb_sctp_stats *out) {
  *out = s->st;
  out->queued_bytes = s->queued;
  out->channels = (int)g_hash_table_size(s->channels);
}

/* The association went away: every channel closes with it. */
static void association_lost(sb_sctp *s, const char *why) {
  if (s->lost)
    return;
  s->lost = true;
  s->connected = false;
  sb_info("%s: sctp association closed: %s", s->name, why);
  GList *ids = g_hash_table_get_keys(s->channels);
  for (GList *l = ids; l && !s->closed; l = l->next) {
    uint16_t id = (uint16_t)GPOINTER_TO_UINT(l->data);
    g_hash_table_remove(s->channels, l->data);
    if (s->cb.channel_closed)
      s->cb.channel_closed(s->ud, id);
  }
  g_list_free(ids);
  if (!s->closed && s->cb.closed)
    s->cb.closed(s->ud, why);
}

static void on_assoc_change(sb_sctp *s, const struct sctp_assoc_change *ac) {
  switch (ac->sac_state) {
  case SCTP_COMM_UP:
    if (s->connected)
      break;
    s->connected = true;
    sb_verbose("%s: sctp association up (%u out, %u in streams)", s->name,
               ac->sac_outbound_streams, ac->sac_inbound_streams);
    s->out_streams = ac->sac_outbound_streams;
    sb_sctp_flush(s);
    if (s->cb.connected)
      s->cb.connected(s->ud);
    break;
  case SCTP_COMM_LOST:
    association_lost(s, "lost (abort or timeout)");
    break;
  case SCTP_SHUTDOWN_COMP:
    association_lost(s, "shut down by the remote");
    break;
  case SCTP_CANT_STR_ASSOC:
    association_lost(s, "could not be established");
    break;
  default:
    break;
  }
}

static void on_notification(sb_sctp *s, const uint8_t *buf, size_t len) {
  const union sctp_notification *n = (const void *)buf;
  if (len < sizeof n->sn_header || n->sn_header.sn_length > len)
    return;
  switch (n->sn_header.sn_type) {
  case SCTP_ASSOC_CHANGE:
    if (len >= sizeof n->sn_assoc_change)
      on_assoc_change(s, &n->sn_assoc_change);
    break;
  case SCTP_STREAM_RESET_EVENT:
    if (len >= sizeof n->sn_strreset_event)
      sb_sctp_on_stream_reset(s, &n->sn_strreset_event, len);
    break;
  default:
    break;
  }
}

/* A piece of a message from usrsctp: reassembled per stream, so pieces of
 * messages on different streams may interleave. A message over our limit is
 * dropped whole: its pieces are counted, not kept. */
static void on_data(sb_sctp *s, sb_sctp_ev *e) {
  if (e->flags & MSG_NOTIFICATION) {
    on_notification(s, e->data, e->len);
    return;
  }
  gpointer key = GUINT_TO_POINTER(e->sid);
  sb_partial *part = g_hash_table_lookup(s->partials, key);
  bool eor = (e->flags & MSG_EOR) != 0;
  /* A whole other message while one is partial (only past the partial delivery
   * point, i.e. an oversized one we are dropping): it is not a piece of it. */
  if (part && eor && (e->ssn != part->ssn || e->tsn != part->tsn)) {
    if (e->len > SB_SCTP_MAX_MESSAGE_DEFAULT)
      s->st.oversized++;
    else
      sb_sctp_deliver(s, e->sid, e->ppid, e->data, e->len);
    return;
  }
  if (part == NULL && eor) {
    if (e->len > SB_SCTP_MAX_MESSAGE_DEFAULT)
      s->st.oversized++;
    else
      sb_sctp_deliver(s, e->sid, e->ppid, e->data, e->len);
    return;
  }
  if (part == NULL) {
    part = g_new0(sb_partial, 1);
    part->buf = g_byte_array_new();
    part->ssn = e->ssn;
    part->tsn = e->tsn;
    g_hash_table_insert(s->partials, key, part);
  }
  if (!part->over && (size_t)part->buf->len + e->len > SB_SCTP_MAX_MESSAGE_DEFAULT) {
    part->over = true;
    g_byte_array_set_size(part->buf, 0);
  }
  if (!part->over)
    g_byte_array_append(part->buf, e->data, (guint)e->len);
  if (!eor)
    return;
  if (part->over)
    s->st.oversized++;
  else
    sb_sctp_deliver(s, e->sid, e->ppid, part->buf->data, part->buf->len);
  g_hash_table_remove(s->partials, key);
}

static void drain_job(void *data) {
  sb_sctp *s = data;
  g_mutex_lock(&s->lock);
  GQueue q = s->events;
  g_queue_init(&s->events);
  s->drain_scheduled = false;
  g_mutex_unlock(&s->lock);
  bool space = false;
  sb_sctp_ev *e;
  while ((e = g_queue_pop_head(&q)) != NULL) {
    if (!s->closed) {
      switch (e->kind) {
      case EV_DATA:
        on_data(s, e);
        break;
      case EV_OUTPUT:
        s->st.packets_out++;
        if (s->cb.send)
          s->cb.send(s->ud, e->data, e->len);
        break;
      case EV_SENDSPACE:
        space = true;
        break;
      case EV_EOF:
        association_lost(s, "socket closed");
        break;
      }
    }
    sb_sctp_ev_free(e);
  }
  if (!s->closed && (space || s->sendq.length))
    sb_sctp_flush(s);
  if (!s->closed)
    sb_sctp_try_resets(s);
}
