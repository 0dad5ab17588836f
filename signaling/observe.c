/* Switchboard — observability on the main HTTP listener and where lifecycle
 * events go:
 *   GET /metrics   the metrics registry (core/metrics.h) in the Prometheus text
 *                  format; with [metrics] token set, only for "Authorization:
 *                  Bearer <token>"
 *   GET /readyz    200 while every module runs, the listener is up and every media
 *                  worker's loop turns; 503 while starting or shutting down
 *   events         each lifecycle event (core/events.h) to the webhook ([webhook]
 *                  url, signaling/webhook.h) and, with [log] events, to the log
 * (GET /healthz, "the process answers", is http.c's.)
 *
 * A module ordered between media and plugins: its routes exist before signaling
 * mounts them, its event sink before plugins emit, and it stops after the
 * plugins, so the events of their teardown (participants leaving, rooms closing)
 * are still delivered. */
#include <glib.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/events.h"
#include "core/http.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/module.h"
#include "core/session.h"
#include "core/worker.h"
#include "signaling/server.h"
#include "signaling/webhook.h"

/* A worker whose 500 ms health timer has not run for this long is stuck. */
#define READY_MAX_STALL_US (5 * G_USEC_PER_SEC)

static char *metrics_token;     /* NULL: /metrics is open */
static sb_webhook *webhook;     /* NULL: no [webhook] url */
static bool log_events;
static sb_metric *m_sessions;

/* Compares in time independent of where the strings differ. */
static bool token_equal(const char *a, const char *b) {
  size_t na = strlen(a), nb = strlen(b);
  unsigned diff = na != nb;
  for (size_t i = 0; i < na; i++)
    diff |= (unsigned char)a[i] ^ (i < nb ? (unsigned char)b[i] : 0u);
  return diff == 0;
}

static bool metrics_authorized(sb_http_request *r) {
  if (metrics_token == NULL)
    return true;
  const char *auth = sb_http_header(r, "authorization");
  if (auth == NULL || g_ascii_strncasecmp(auth, "Bearer ", 7) != 0)
    return false;
  const char *t = auth + 7;
  while (*t == ' ')
    t++;
  return token_equal(t, metrics_token);
}

static void metrics_handler(sb_http_request *r, void *ud) {
  if (strcmp(sb_http_path(r), "/metrics") != 0) {
    sb_http_error(r, 404, "no such resource: %s", sb_http_path(r));
    return;
  }
  if (!metrics_authorized(r)) {
    static const char body[] = "/metrics needs Authorization: Bearer <[metrics] token>\n";
    const char *h[] = { "WWW-Authenticate: Bearer realm=\"metrics\"" };
    sb_metrics_reject("unauthorized");
    sb_http_reply(r, 401, "text/plain; charset=utf-8", h, 1, body, sizeof body - 1);
    return;
  }
  sb_metrics_collect();
  char *text = sb_metrics_format(NULL);
  sb_http_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, 0, text, strlen(text));
  g_free(text);
}

static void readyz_handler(sb_http_request *r, void *ud) {
  const char *why = NULL;
  if (strcmp(sb_http_path(r), "/readyz") != 0) {
    sb_http_error(r, 404, "no such resource: %s", sb_http_path(r));
    return;
  }
  if (!sb_modules_running())
    why = "starting or shutting down";
  else if (sb_signaling_context() == NULL)
    why = "the listener is not up";
  else if (!sb_workers_responsive(READY_MAX_STALL_US))
    why = "a media worker is not responding";
  if (why)
    sb_http_error(r, 503, "not ready: %s", why);
  else
    sb_http_reply(r, 200, "text/plain; charset=utf-8", NULL, 0, "ready\n", 6);
}

static void collect(void *ud) { sb_metric_set(m_sessions, sb_session_count()); }

/* Runs on the emitting thread under the events lock: only counts and queues. */
static void on_event(const json_t *ev, void *ud) {
  const char *type = json_string_value(json_object_get(ev, "type"));
  if (type == NULL)
    return;
  sb_metric_add(sb_metric_series("switchboard_events", "Lifecycle events emitted, by type",
                                 SB_METRIC_COUNTER, "type", type),
                1);
  if (webhook == NULL && !log_events)
    return;
  char *text = json_dumps(ev, JSON_COMPACT);
  if (text == NULL)
    return;
  if (webhook)
    sb_webhook_enqueue(webhook, type, (uint64_t)json_integer_value(json_object_get(ev, "seq")), text);
  if (log_events) {
    char *msg = g_strdup_printf("event %s", type);
    sb_log_write_json(SB_LOG_INFO, msg, text);
    g_free(msg);
  }
  free(text);
}

static int start_webhook(sb_config *cfg) {
  char *url = sb_config_get_string(cfg, "webhook", "url", "");
  char *secret = sb_config_get_string(cfg, "webhook", "secret", "");
  char **events = sb_config_get_list(cfg, "webhook", "events");
  sb_webhook_config wc = {
    .url = url,
    .secret = secret,
    .timeout_s = (int)sb_config_get_int_range(cfg, "webhook", "timeout", 5, 1, 300),
    .retries = (int)sb_config_get_int_range(cfg, "webhook", "retries", 5, 0, 100),
    .backoff_ms = (int)sb_config_get_int_range(cfg, "webhook", "backoff_ms", 500, 1, 60000),
    .queue_size = (int)sb_config_get_int_range(cfg, "webhook", "queue_size", 1000, 1, 1000000),
    .flush_timeout_ms =
        (int)sb_config_get_int_range(cfg, "webhook", "flush_timeout", 5, 0, 600) * 1000,
    .events = events,
  };
  int rc = 0;
  if (*url) {
    char *error = NULL;
    webhook = sb_webhook_new(&wc, &error);
    if (webhook == NULL) {
      sb_error("config: [webhook] %s", error);
      g_free(error);
      rc = -1;
    } else {
      char *filter = events && events[0] ? g_strjoinv(",", events) : g_strdup("all");
      sb_info("webhook: events (%s) to %s%s", filter, url, *secret ? ", signed" : "");
      g_free(filter);
    }
  }
  g_free(url);
  g_free(secret);
  g_strfreev(events);
  return rc;
}

static int observe_start(sb_config *cfg) {
  char *token = sb_config_get_string(cfg, "metrics", "token", "");
  metrics_token = *token ? token : NULL;
  if (metrics_token == NULL)
    g_free(token);
  log_events = sb_config_get_bool(cfg, "log", "events", false);
  if (start_webhook(cfg) != 0) {
    g_clear_pointer(&metrics_token, g_free);
    return -1;
  }
  m_sessions = sb_metric_series("switchboard_sessions", "Signaling sessions (WebSocket connections)",
                                SB_METRIC_GAUGE, NULL, NULL);
  /* The refusals signaling counts, at 0 from the start (core/metrics.h
   * sb_metrics_reject; others appear when first counted). */
  static const char *const reasons[] = { "bad_request", "length_required", "body_too_large",
                                         "method_not_allowed", "message_too_large", "binary_message",
                                         "parse_error", "invalid_request", "slow_consumer",
                                         "unauthorized" };
  for (size_t i = 0; i < G_N_ELEMENTS(reasons); i++)
    sb_metrics_rejected(reasons[i]);
  sb_metrics_add_collector(collect, NULL);
  sb_event_add_sink(on_event, NULL);
  sb_http_route_add("/metrics", "GET", metrics_handler, NULL);
  sb_http_route_add("/readyz", "GET", readyz_handler, NULL);
  return 0;
}

static void observe_stop(void) {
  sb_event_remove_sink(on_event, NULL);
  sb_metrics_remove_collector(collect, NULL);
  g_clear_pointer(&webhook, sb_webhook_free);
  g_clear_pointer(&metrics_token, g_free);
  log_events = false;
}

static const sb_module observe_module = {
  .name = "observe",
  .order = SB_ORDER_PLUGINS - 5,
  .start = observe_start,
  .stop = observe_stop,
};
SB_MODULE_REGISTER(observe_module)
