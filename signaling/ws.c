/* Switchboard — WebSocket connections: framing, output queue, session life.
 *
 * Each connection is one session. Incoming fragments are joined into one message
 * (up to max_message_size; a longer one is discarded and answered with an error,
 * the connection stays). Outgoing messages may come from any thread: they are
 * queued under the connection's lock and the lws loop is woken to write them. */
#include <glib.h>
#include <string.h>

#include "sbconfig.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/plugin.h"
#include "signaling/admission.h"
#include "signaling/jsonrpc.h"
#include "signaling/resume.h"
#include "signaling/server.h"

typedef struct ws_conn {
  struct lws *wsi;
  sb_session *session;
  GByteArray *rx;            /* the message being assembled */
  size_t rx_total;           /* its size so far, even when discarded */
  bool rx_discard;           /* over the limit: drop until the final fragment */
  GMutex lock;               /* guards the fields below: senders run on any thread */
  GQueue tx;                 /* of GBytes* */
  size_t tx_bytes;
  bool wake_pending;         /* a writeable callback is on its way */
  bool overflow;             /* the peer does not read: hang up */
  bool closing;              /* server shutdown: flush, then close with 1001 */
  bool peer_closed;          /* the client sent a close frame: a deliberate end */
  bool replaced;             /* its session resumed on another connection: close */
  bool policy_closed;        /* we closed it for abuse (message rate, not reading): no resume */
  sb_msg_limiter limiter;    /* [limits] messages_per_second */
} ws_conn;

static GHashTable *conns;    /* ws_conn* set, signaling thread */

size_t sb_ws_conn_size(void) { return sizeof(ws_conn); }
int sb_ws_connection_count(void) { return conns ? (int)g_hash_table_size(conns) : 0; }

static void ws_transport_send(void *transport, const char *text, size_t len) {
  ws_conn *c = transport;
  bool wake;
  g_mutex_lock(&c->lock);
  if (c->tx_bytes + len > sb_signaling_get_config()->max_queue_bytes) {
    c->overflow = true;
  } else {
    g_queue_push_tail(&c->tx, g_bytes_new(text, len));
    c->tx_bytes += len;
  }
  wake = !c->wake_pending;
  c->wake_pending = true;
  g_mutex_unlock(&c->lock);
  if (!wake)
    return;
  /* On the loop's own thread ask for a writeable callback directly; elsewhere wake
   * the loop, which does it in LWS_CALLBACK_EVENT_WAIT_CANCELLED. */
  if (sb_signaling_on_thread())
    lws_callback_on_writable(c->wsi);
  else
    lws_cancel_service(sb_signaling_context());
}

/* The messages queued but not written, for a session moving on (core/session.h). */
static void ws_take_unsent(void *transport, GQueue *out) {
  ws_conn *c = transport;
  g_mutex_lock(&c->lock);
  GBytes *b;
  while ((b = g_queue_pop_head(&c->tx))) {
    gsize n;
    const char *d = g_bytes_get_data(b, &n);
    g_queue_push_tail(out, g_strndup(d, n));
    g_bytes_unref(b);
  }
  c->tx_bytes = 0;
  g_mutex_unlock(&c->lock);
}

static const sb_transport_ops ws_ops = { .send = ws_transport_send, .take_unsent = ws_take_unsent };

static void conn_open(struct lws *wsi, ws_conn *c) {
  memset(c, 0, sizeof *c);
  c->wsi = wsi;
  g_mutex_init(&c->lock);
  g_queue_init(&c->tx);
  c->rx = g_byte_array_new();
  sb_msg_limiter_init(&c->limiter);
  /* Pings after ping_interval without a pong or a message, hang-up after
   * ping_timeout: lws arms the timer of a server connection only once told. */
  lws_validity_confirmed(wsi);
  char ip[64] = "?";
  lws_get_peer_simple(wsi, ip, sizeof ip);
  c->session = sb_session_new(&ws_ops, c, ip);
  if (conns == NULL)
    conns = g_hash_table_new(g_direct_hash, g_direct_equal);
  g_hash_table_add(conns, c);
  sb_info("session %s: connected from %s", sb_session_id(c->session), ip);
  /* ws://host/ws?token=<JWT> (core/auth.h): a refused one is remembered, and
   * said by the first method that needs a role. */
  char arg[SB_TOKEN_MAX_LEN + 8];
  const char *token = lws_get_urlarg_by_name(wsi, "token=", arg, (int)sizeof arg);
  char *err = NULL;
  if (token && sb_auth_session_token(c->session, token, &err) != 0)
    g_free(err);
  json_t *welcome = json_pack("{s:s, s:s, s:s}", "session", sb_session_id(c->session), "server",
                              "switchboard", "version", PACKAGE_VERSION);
  const char *resume_token = sb_resume_register(c->session);
  if (resume_token && sb_resume_grace() > 0) {
    json_object_set_new(welcome, "resume_token", json_string(resume_token));
    json_object_set_new(welcome, "resume_grace", json_integer(sb_resume_grace()));
  }
  sb_session_notify(c->session, "welcome", welcome);
}

static void conn_close(ws_conn *c) {
  if (c->rx == NULL)
    return;                  /* never opened */
  g_hash_table_remove(conns, c);
  sb_session *s = c->session;
  c->session = NULL;
  /* A connection lost without a close frame (a network cut, a ping timeout) keeps
   * its session for session.resume; a deliberate close ends it as before. */
  if (s && !c->peer_closed && !c->closing && !c->policy_closed && sb_resume_hold(s)) {
    sb_session_unref(s);
  } else if (s) {
    sb_info("session %s: disconnected", sb_session_id(s));
    sb_plugins_session_closed(s);
    sb_resume_forget(s);
    /* After detach no sender can reach c (detach waits for a send in progress). */
    sb_session_detach(s);
    sb_session_unref(s);
  }
  g_queue_clear_full(&c->tx, (GDestroyNotify)g_bytes_unref);
  g_byte_array_unref(c->rx);
  c->rx = NULL;
  g_mutex_clear(&c->lock);
}

static void send_error(ws_conn *c, int code, const char *message) {
  sb_session_send_json(c->session, sb_jsonrpc_error(NULL, code, message));
}

/* Over the message rate: error 1050 to the request (its id read back), or the
 * connection closes after [limits] message_abuse_close refusals in a row. */
static int refuse_message(ws_conn *c, struct lws *wsi, sb_msg_verdict v) {
  if (v == SB_MSG_CLOSE) {
    static const char reason[] = "message rate limit";
    sb_warn("session %s: kept sending over the message rate limit: closing", sb_session_id(c->session));
    c->policy_closed = true;
    lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, (unsigned char *)reason, sizeof reason - 1);
    return -1;
  }
  json_t *root = c->rx_discard ? NULL : json_loadb((const char *)c->rx->data, c->rx->len, 0, NULL);
  json_t *id = json_is_object(root) ? json_object_get(root, "id") : NULL;
  if (id && !json_is_string(id) && !json_is_integer(id))
    id = NULL;
  sb_session_send_json(c->session, sb_jsonrpc_error(id, SB_ERR_RATE_LIMITED,
                                                    "too many messages: slow down ([limits] messages_per_second)"));
  json_decref(root);
  return 0;
}

static int conn_receive(ws_conn *c, struct lws *wsi, const void *in, size_t len) {
  const size_t max = sb_signaling_get_config()->max_message_size;
  if (lws_is_first_fragment(wsi)) {
    g_byte_array_set_size(c->rx, 0);
    c->rx_total = 0;
    c->rx_discard = lws_frame_is_binary(wsi);
  }
  c->rx_total += len;
  if (!c->rx_discard) {
    if (c->rx->len + len > max) {
      c->rx_discard = true;
      g_byte_array_set_size(c->rx, 0);
    } else {
      g_byte_array_append(c->rx, in, (guint)len);
    }
  }
  if (!lws_is_final_fragment(wsi))
    return 0;
  /* Anything that arrives proves the connection alive: no ping needed yet. */
  lws_validity_confirmed(wsi);
  int rc = 0;
  sb_msg_verdict v = sb_msg_limiter_check(&c->limiter);
  if (v != SB_MSG_ACCEPT) {
    rc = refuse_message(c, wsi, v);
  } else if (lws_frame_is_binary(wsi)) {
    sb_metrics_reject("binary_message");
    send_error(c, SB_ERR_INVALID_REQUEST, "binary messages are not supported: send JSON text");
  } else if (c->rx_discard) {
    char m[160];
    sb_metrics_reject("message_too_large");
    g_snprintf(m, sizeof m, "message of %zu bytes exceeds the limit of %zu bytes", c->rx_total, max);
    sb_warn("session %s: %s", sb_session_id(c->session), m);
    send_error(c, SB_ERR_TOO_LARGE, m);
  } else {
    sb_rpc_handle(c->session, (const char *)c->rx->data, c->rx->len);
  }
  g_byte_array_set_size(c->rx, 0);
  c->rx_total = 0;
  c->rx_discard = false;
  return rc;
}

static int conn_writeable(ws_conn *c, struct lws *wsi) {
  g_mutex_lock(&c->lock);
  bool overflow = c->overflow;
  GBytes *msg = overflow ? NULL : g_queue_pop_head(&c->tx);
  if (msg)
    c->tx_bytes -= g_bytes_get_size(msg);
  bool more = !g_queue_is_empty(&c->tx);
  if (!more)
    c->wake_pending = false;
  g_mutex_unlock(&c->lock);
  if (overflow) {
    sb_warn("session %s: not reading its messages (over %zu bytes queued): closing",
            sb_session_id(c->session), sb_signaling_get_config()->max_queue_bytes);
    sb_metrics_reject("slow_consumer");
    c->policy_closed = true;
    lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, (unsigned char *)"too slow", 8);
    return -1;
  }
  if (msg) {
    gsize n;
    const uint8_t *data = g_bytes_get_data(msg, &n);
    uint8_t *buf = g_malloc(LWS_PRE + n);
    memcpy(buf + LWS_PRE, data, n);
    int w = lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT);
    g_free(buf);
    g_bytes_unref(msg);
    if (w < (int)n)
      return -1;
  }
  if (more) {
    lws_callback_on_writable(wsi);
  } else if (c->closing) {
    /* RFC 6455 §7.4.1: 1001, the endpoint is going away. */
    static const char reason[] = "server shutting down";
    lws_close_reason(wsi, LWS_CLOSE_STATUS_GOINGAWAY, (unsigned char *)reason, sizeof reason - 1);
    return -1;
  }
  return 0;
}

void sb_ws_close_all(void) {
  if (conns == NULL)
    return;
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init(&it, conns);
  while (g_hash_table_iter_next(&it, &key, NULL)) {
    ws_conn *c = key;
    c->closing = true;
    lws_callback_on_writable(c->wsi);
  }
}

/* Connections with queued messages (LWS_CALLBACK_EVENT_WAIT_CANCELLED). */
static void wake_pending(void) {
  if (conns == NULL)
    return;
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init(&it, conns);
  while (g_hash_table_iter_next(&it, &key, NULL)) {
    ws_conn *w = key;
    g_mutex_lock(&w->lock);
    bool pending = !g_queue_is_empty(&w->tx) || w->overflow;
    g_mutex_unlock(&w->lock);
    if (pending)
      lws_callback_on_writable(w->wsi);
  }
}

static ws_conn *conn_of(sb_session *s) {
  GHashTableIter it;
  gpointer key;
  if (conns == NULL)
    return NULL;
  g_hash_table_iter_init(&it, conns);
  while (g_hash_table_iter_next(&it, &key, NULL))
    if (((ws_conn *)key)->session == s)
      return key;
  return NULL;
}

bool sb_ws_adopt(sb_session *fresh, sb_session *resumed, unsigned *dropped) {
  ws_conn *c = conn_of(fresh);
  if (c == NULL)
    return false;
  ws_conn *old = conn_of(resumed);
  if (old) {
    /* Still on a connection the client has given up on (a half-open TCP
     * connection not yet timed out): that one closes. sb_session_attach below
     * swaps the transport under the session's lock, so nothing is lost between. */
    old->session = NULL;
    old->replaced = true;
    sb_session_unref(resumed);
    lws_callback_on_writable(old->wsi);
    /* A half-open socket may never become writable: do not wait for the ping timeout. */
    lws_set_timeout(old->wsi, PENDING_TIMEOUT_CLOSE_SEND, 2);
  }
  *dropped = sb_session_attach(resumed, &ws_ops, c);
  c->session = sb_session_ref(resumed);
  return true;
}

void sb_ws_adopt_done(sb_session *fresh) {
  sb_resume_forget(fresh);
  sb_plugins_session_closed(fresh);
  sb_session_detach(fresh);
  sb_session_unref(fresh);       /* the connection's reference, now the resumed one's */
}

/* Only upgrades on the configured path become sessions. */
static bool path_ok(struct lws *wsi) {
  char uri[256];
  if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0)
    return false;
  char *q = strchr(uri, '?');
  if (q)
    *q = '\0';
  return strcmp(uri, sb_signaling_get_config()->ws_path) == 0;
}

int sb_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len) {
  ws_conn *c = user;
  switch (reason) {
  case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
    return sb_admission_filter_connection(user);
  case LWS_CALLBACK_WSI_CREATE:
    sb_admission_wsi_created(wsi);
    return sb_http_callback(wsi, reason, user, in, len);
  case LWS_CALLBACK_WSI_DESTROY:
    sb_admission_wsi_destroyed(wsi);
    return sb_http_callback(wsi, reason, user, in, len);
  case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
    if (sb_admission_is_limited(wsi))
      return sb_admission_refuse_429(wsi);
    return path_ok(wsi) && sb_admission_session_ok() ? 0 : -1;
  case LWS_CALLBACK_FILTER_HTTP_CONNECTION:
    if (sb_admission_is_limited(wsi))
      return sb_admission_refuse_429(wsi);
    return sb_http_callback(wsi, reason, user, in, len);
  case LWS_CALLBACK_ESTABLISHED:
    conn_open(wsi, c);
    return 0;
  case LWS_CALLBACK_RECEIVE:
    return c && c->session ? conn_receive(c, wsi, in, len) : 0;
  case LWS_CALLBACK_SERVER_WRITEABLE:
    if (c && c->replaced) {
      static const char why[] = "session resumed on another connection";
      lws_close_reason(wsi, (enum lws_close_status)4000, (unsigned char *)why, sizeof why - 1);
      return -1;
    }
    return c && c->session ? conn_writeable(c, wsi) : 0;
  case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
    if (c)
      c->peer_closed = true;
    return 0;
  case LWS_CALLBACK_CLOSED:
    if (c)
      conn_close(c);
    return 0;
  case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
    /* Output queued from workers: ask for writeable callbacks. */
    wake_pending();
    sb_http_wake();
    return 0;
  case LWS_CALLBACK_PROTOCOL_DESTROY:
    g_clear_pointer(&conns, g_hash_table_destroy);
    return 0;
  default:
    /* Plain HTTP: the plugins' routes, static files. */
    return sb_http_callback(wsi, reason, user, in, len);
  }
}
