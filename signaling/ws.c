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
#include "signaling/jsonrpc.h"
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

static const sb_transport_ops ws_ops = { .send = ws_transport_send };

static void conn_open(struct lws *wsi, ws_conn *c) {
  memset(c, 0, sizeof *c);
  c->wsi = wsi;
  g_mutex_init(&c->lock);
  g_queue_init(&c->tx);
  c->rx = g_byte_array_new();
  char ip[64] = "?";
  lws_get_peer_simple(wsi, ip, sizeof ip);
  c->session = sb_session_new(&ws_ops, c, ip);
  if (conns == NULL)
    conns = g_hash_table_new(g_direct_hash, g_direct_equal);
  g_hash_table_add(conns, c);
  sb_info("session %s: connected from %s", sb_session_id(c->session), ip);
  json_t *welcome = json_pack("{s:s, s:s, s:s}", "session", sb_session_id(c->session), "server",
                              "switchboard", "version", PACKAGE_VERSION);
  sb_session_notify(c->session, "welcome", welcome);
}

static void conn_close(ws_conn *c) {
  if (c->session == NULL)
    return;
  sb_info("session %s: disconnected", sb_session_id(c->session));
  g_hash_table_remove(conns, c);
  sb_plugins_session_closed(c->session);
  /* After detach no sender can reach c (detach waits for a send in progress). */
  sb_session_detach(c->session);
  sb_session_unref(c->session);
  c->session = NULL;
  g_queue_clear_full(&c->tx, (GDestroyNotify)g_bytes_unref);
  g_byte_array_unref(c->rx);
  g_mutex_clear(&c->lock);
}

static void send_error(ws_conn *c, int code, const char *message) {
  sb_session_send_json(c->session, sb_jsonrpc_error(NULL, code, message));
}

static void conn_receive(ws_conn *c, struct lws *wsi, const void *in, size_t len) {
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
    return;
  if (lws_frame_is_binary(wsi)) {
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
  case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
    return path_ok(wsi) ? 0 : -1;
  case LWS_CALLBACK_ESTABLISHED:
    conn_open(wsi, c);
    return 0;
  case LWS_CALLBACK_RECEIVE:
    if (c && c->session)
      conn_receive(c, wsi, in, len);
    return 0;
  case LWS_CALLBACK_SERVER_WRITEABLE:
    return c && c->session ? conn_writeable(c, wsi) : 0;
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
