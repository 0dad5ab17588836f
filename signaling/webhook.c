/* Switchboard — the webhook sender (signaling/webhook.h). */
#include "signaling/webhook.h"

#include <gio/gio.h>
#include <string.h>

#include "sbconfig.h"
#include "core/log.h"
#include "core/metrics.h"

typedef struct wh_item {
  char *type;
  uint64_t seq;
  char *body;
} wh_item;

struct sb_webhook {
  sb_webhook_config cfg;     /* strings owned */
  char *authority;           /* "host[:port]" */
  char *path;
  bool tls;
  GSocketClient *client;     /* delivery thread only */
  GCancellable *cancel;      /* cancelled when the flush time is over */
  GThread *thread;
  GMutex lock;
  GCond cond;
  GQueue queue;              /* of wh_item*, oldest first (lock) */
  bool stopping;             /* lock */
  int64_t deadline_us;       /* lock: monotonic end of the flush, once stopping */
  bool done;                 /* lock: the thread has finished */
  sb_metric *m_delivered, *m_retries, *m_queue;
  sb_metric *m_drop_full, *m_drop_retries, *m_drop_rejected, *m_drop_shutdown;
};

/* --- pure helpers --- */

char *sb_webhook_signature(const char *secret, const char *body, size_t len) {
  char *hex = g_compute_hmac_for_data(G_CHECKSUM_SHA256, (const guchar *)secret, strlen(secret),
                                      (const guchar *)body, len);
  char *out = g_strconcat("sha256=", hex, NULL);
  g_free(hex);
  return out;
}

int sb_webhook_parse_status(const char *buf, size_t len) {
  /* RFC 9112 §4: HTTP-version SP 3DIGIT SP [reason-phrase] CRLF */
  if (len < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || !g_ascii_isdigit(buf[7]) || buf[8] != ' ')
    return -1;
  for (int i = 9; i < 12; i++)
    if (!g_ascii_isdigit(buf[i]))
      return -1;
  if (len > 12 && buf[12] != ' ' && buf[12] != '\r' && buf[12] != '\n')
    return -1;
  return (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
}

bool sb_webhook_status_retryable(int status) {
  return status == 408 || status == 425 || status == 429 || (status >= 500 && status <= 599);
}

bool sb_webhook_type_wanted(char *const *filter, const char *type) {
  if (filter == NULL || filter[0] == NULL)
    return true;
  for (char *const *f = filter; *f; f++) {
    size_t n = strlen(*f);
    if (strcmp(*f, "*") == 0 || strcmp(*f, type) == 0)
      return true;
    /* "room.*" matches "room.created": the prefix up to and including the dot. */
    if (n >= 2 && strcmp(*f + n - 2, ".*") == 0 && strncmp(type, *f, n - 1) == 0)
      return true;
  }
  return false;
}

bool sb_webhook_parse_url(const char *url, char **authority, char **path, bool *tls) {
  const char *rest;
  if (url == NULL)
    return false;
  if (g_ascii_strncasecmp(url, "http://", 7) == 0) {
    rest = url + 7;
    *tls = false;
  } else if (g_ascii_strncasecmp(url, "https://", 8) == 0) {
    rest = url + 8;
    *tls = true;
  } else {
    return false;
  }
  for (const char *p = url; *p; p++)
    if ((unsigned char)*p <= ' ' || *p == 0x7f)
      return false;
  size_t host_len = strcspn(rest, "/?#");
  if (host_len == 0 || memchr(rest, '@', host_len) != NULL)
    return false;
  const char *tail = rest + host_len;
  size_t path_len = strcspn(tail, "#");
  *authority = g_strndup(rest, host_len);
  if (path_len == 0)
    *path = g_strdup("/");
  else if (tail[0] == '?')
    *path = g_strdup_printf("/%.*s", (int)path_len, tail);
  else
    *path = g_strndup(tail, path_len);
  return true;
}

int64_t sb_webhook_backoff_ms(int base_ms, int attempt) {
  int64_t d = base_ms > 0 ? base_ms : 1;
  for (int i = 1; i < attempt && d < SB_WEBHOOK_MAX_BACKOFF_MS; i++)
    d *= 2;
  return d < SB_WEBHOOK_MAX_BACKOFF_MS ? d : SB_WEBHOOK_MAX_BACKOFF_MS;
}

/* --- delivery --- */

static void item_free(wh_item *it) {
  g_free(it->type);
  g_free(it->body);
  g_free(it);
}

/* One POST; the status of the answer, or -1 with *why when there was none. */
static int webhook_post(sb_webhook *wh, const wh_item *it, int attempt, char **why) {
  GError *err = NULL;
  GSocketConnection *conn = g_socket_client_connect_to_host(wh->client, wh->authority,
                                                            wh->tls ? 443 : 80, wh->cancel, &err);
  if (conn == NULL) {
    *why = g_strdup(err->message);
    g_error_free(err);
    return -1;
  }
  size_t len = strlen(it->body);
  GString *req = g_string_new(NULL);
  g_string_append_printf(req,
                         "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: switchboard/%s\r\n"
                         "Content-Type: application/json\r\nContent-Length: %zu\r\n"
                         "X-Switchboard-Event: %s\r\nX-Switchboard-Delivery: %" G_GUINT64_FORMAT "\r\n"
                         "X-Switchboard-Attempt: %d\r\n",
                         wh->path, wh->authority, PACKAGE_VERSION, len, it->type, it->seq, attempt);
  if (wh->cfg.secret && *wh->cfg.secret) {
    char *sig = sb_webhook_signature(wh->cfg.secret, it->body, len);
    g_string_append_printf(req, "X-Switchboard-Signature: %s\r\n", sig);
    g_free(sig);
  }
  g_string_append(req, "Connection: close\r\n\r\n");
  g_string_append_len(req, it->body, (gssize)len);
  int status = -1;
  GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
  GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(conn));
  if (g_output_stream_write_all(out, req->str, req->len, NULL, wh->cancel, &err)) {
    /* The status line is all we need: read until its end. */
    char buf[1024];
    size_t got = 0;
    while (got < sizeof buf && memchr(buf, '\n', got) == NULL) {
      gssize n = g_input_stream_read(in, buf + got, sizeof buf - got, wh->cancel, &err);
      if (n <= 0)
        break;
      got += (size_t)n;
    }
    status = sb_webhook_parse_status(buf, got);
    if (status < 0)
      *why = err ? g_strdup(err->message) : g_strdup("no HTTP status line in the answer");
  } else {
    *why = g_strdup(err->message);
  }
  g_clear_error(&err);
  g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
  g_object_unref(conn);
  g_string_free(req, TRUE);
  return status;
}

/* Waits before a retry; false when the flush time is over (shutdown). */
static bool webhook_wait(sb_webhook *wh, int64_t delay_ms) {
  int64_t end = g_get_monotonic_time() + delay_ms * 1000;
  g_mutex_lock(&wh->lock);
  for (;;) {
    int64_t now = g_get_monotonic_time();
    if (wh->stopping && now >= wh->deadline_us)
      break;
    if (now >= end)
      break;
    g_cond_wait_until(&wh->cond, &wh->lock, wh->stopping ? MIN(end, wh->deadline_us) : end);
  }
  bool go_on = !(wh->stopping && g_get_monotonic_time() >= wh->deadline_us);
  g_mutex_unlock(&wh->lock);
  return go_on;
}

/* Delivers one event: retries until a 2xx, a final answer or the last attempt. */
static void webhook_deliver(sb_webhook *wh, const wh_item *it) {
  for (int attempt = 1;; attempt++) {
    char *why = NULL;
    int status = webhook_post(wh, it, attempt, &why);
    if (status >= 200 && status <= 299) {
      sb_debug("webhook: %s #%" G_GUINT64_FORMAT " delivered (%d)", it->type, it->seq, status);
      sb_metric_add(wh->m_delivered, 1);
      g_free(why);
      return;
    }
    char *what = status < 0 ? g_strdup_printf("failed: %s", why) : g_strdup_printf("answered %d", status);
    g_free(why);
    if (status >= 0 && !sb_webhook_status_retryable(status)) {
      sb_warn("webhook: %s #%" G_GUINT64_FORMAT " %s: dropped (not retried)", it->type, it->seq, what);
      sb_metric_add(wh->m_drop_rejected, 1);
    } else if (attempt > wh->cfg.retries) {
      sb_warn("webhook: %s #%" G_GUINT64_FORMAT " %s: dropped after %d attempts", it->type, it->seq,
              what, attempt);
      sb_metric_add(wh->m_drop_retries, 1);
    } else {
      int64_t delay = sb_webhook_backoff_ms(wh->cfg.backoff_ms, attempt);
      sb_verbose("webhook: %s #%" G_GUINT64_FORMAT " %s: retry in %" G_GINT64_FORMAT " ms", it->type,
                 it->seq, what, delay);
      g_free(what);
      sb_metric_add(wh->m_retries, 1);
      if (webhook_wait(wh, delay))
        continue;
      sb_warn("webhook: %s #%" G_GUINT64_FORMAT " dropped at shutdown", it->type, it->seq);
      sb_metric_add(wh->m_drop_shutdown, 1);
      return;
    }
    g_free(what);
    return;
  }
}

static gpointer webhook_thread(gpointer data) {
  sb_webhook *wh = data;
  sb_log_set_thread_name("webhook");
  g_mutex_lock(&wh->lock);
  for (;;) {
    while (g_queue_is_empty(&wh->queue) && !wh->stopping)
      g_cond_wait(&wh->cond, &wh->lock);
    if (g_queue_is_empty(&wh->queue))
      break;
    if (wh->stopping && g_get_monotonic_time() >= wh->deadline_us) {
      guint left = g_queue_get_length(&wh->queue);
      sb_warn("webhook: %u event(s) not delivered at shutdown", left);
      sb_metric_add(wh->m_drop_shutdown, left);
      g_queue_clear_full(&wh->queue, (GDestroyNotify)item_free);
      break;
    }
    wh_item *it = g_queue_pop_head(&wh->queue);
    sb_metric_set(wh->m_queue, g_queue_get_length(&wh->queue));
    g_mutex_unlock(&wh->lock);
    webhook_deliver(wh, it);
    item_free(it);
    g_mutex_lock(&wh->lock);
  }
  sb_metric_set(wh->m_queue, 0);
  wh->done = true;
  g_cond_broadcast(&wh->cond);
  g_mutex_unlock(&wh->lock);
  return NULL;
}

/* --- the object --- */

static sb_metric *dropped(const char *reason) {
  return sb_metric_series("switchboard_webhook_dropped",
                          "Webhook events given up, by reason (queue_full, retries_exhausted, "
                          "rejected, shutdown)",
                          SB_METRIC_COUNTER, "reason", reason);
}

sb_webhook *sb_webhook_new(const sb_webhook_config *cfg, char **error) {
  char *authority = NULL, *path = NULL;
  bool tls = false;
  if (!sb_webhook_parse_url(cfg->url, &authority, &path, &tls)) {
    *error = g_strdup_printf("webhook url \"%s\" is not http://host[:port]/path or https://…",
                             cfg->url ? cfg->url : "");
    return NULL;
  }
  if (tls && !g_tls_backend_supports_tls(g_tls_backend_get_default())) {
    *error = g_strdup("webhook url is https but GIO has no TLS backend (install glib-networking)");
    g_free(authority);
    g_free(path);
    return NULL;
  }
  sb_webhook *wh = g_new0(sb_webhook, 1);
  wh->cfg = *cfg;
  wh->cfg.url = g_strdup(cfg->url);
  wh->cfg.secret = g_strdup(cfg->secret);
  wh->cfg.events = g_strdupv((char **)cfg->events);
  wh->cfg.queue_size = MAX(cfg->queue_size, 1);
  wh->authority = authority;
  wh->path = path;
  wh->tls = tls;
  wh->client = g_socket_client_new();
  g_socket_client_set_timeout(wh->client, (guint)MAX(cfg->timeout_s, 1));
  g_socket_client_set_tls(wh->client, tls);
  /* Straight to the receiver: no desktop proxy settings (libproxy) in a server. */
  g_socket_client_set_enable_proxy(wh->client, FALSE);
  wh->cancel = g_cancellable_new();
  g_mutex_init(&wh->lock);
  g_cond_init(&wh->cond);
  g_queue_init(&wh->queue);
  wh->m_delivered = sb_metric_series("switchboard_webhook_delivered",
                                     "Webhook events the receiver accepted (2xx)",
                                     SB_METRIC_COUNTER, NULL, NULL);
  wh->m_retries = sb_metric_series("switchboard_webhook_retries",
                                   "Webhook deliveries that failed and were tried again",
                                   SB_METRIC_COUNTER, NULL, NULL);
  wh->m_queue = sb_metric_series("switchboard_webhook_queue_length",
                                 "Webhook events waiting to be sent", SB_METRIC_GAUGE, NULL, NULL);
  wh->m_drop_full = dropped("queue_full");
  wh->m_drop_retries = dropped("retries_exhausted");
  wh->m_drop_rejected = dropped("rejected");
  wh->m_drop_shutdown = dropped("shutdown");
  wh->thread = g_thread_new("sb-webhook", webhook_thread, wh);
  return wh;
}

void sb_webhook_enqueue(sb_webhook *wh, const char *type, uint64_t seq, const char *body) {
  if (!sb_webhook_type_wanted(wh->cfg.events, type))
    return;
  wh_item *it = g_new0(wh_item, 1);
  it->type = g_strdup(type);
  it->seq = seq;
  it->body = g_strdup(body);
  wh_item *drop = NULL;
  g_mutex_lock(&wh->lock);
  if (wh->stopping && wh->done) {
    drop = it;               /* too late: counted below */
  } else {
    if (g_queue_get_length(&wh->queue) >= (guint)wh->cfg.queue_size)
      drop = g_queue_pop_head(&wh->queue);
    g_queue_push_tail(&wh->queue, it);
    g_cond_broadcast(&wh->cond);
  }
  sb_metric_set(wh->m_queue, g_queue_get_length(&wh->queue));
  g_mutex_unlock(&wh->lock);
  if (drop) {
    /* No log line: this runs under the events lock, maybe on a media worker. */
    sb_metric_add(drop == it ? wh->m_drop_shutdown : wh->m_drop_full, 1);
    item_free(drop);
  }
}

void sb_webhook_free(sb_webhook *wh) {
  if (wh == NULL)
    return;
  g_mutex_lock(&wh->lock);
  wh->stopping = true;
  wh->deadline_us = g_get_monotonic_time() + (int64_t)MAX(wh->cfg.flush_timeout_ms, 0) * 1000;
  g_cond_broadcast(&wh->cond);
  while (!wh->done && g_get_monotonic_time() < wh->deadline_us)
    g_cond_wait_until(&wh->cond, &wh->lock, wh->deadline_us);
  g_mutex_unlock(&wh->lock);
  /* A POST still under way is cut short. */
  g_cancellable_cancel(wh->cancel);
  g_thread_join(wh->thread);
  g_queue_clear_full(&wh->queue, (GDestroyNotify)item_free);
  g_object_unref(wh->client);
  g_object_unref(wh->cancel);
  g_mutex_clear(&wh->lock);
  g_cond_clear(&wh->cond);
  g_free((char *)wh->cfg.url);
  g_free((char *)wh->cfg.secret);
  g_strfreev((char **)wh->cfg.events);
  g_free(wh->authority);
  g_free(wh->path);
  g_free(wh);
}
