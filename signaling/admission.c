/* Switchboard — connection and message limits (admission.h). */
#include "signaling/admission.h"

#include <arpa/inet.h>
#include <glib.h>
#include <netinet/in.h>
#include <string.h>

#include "core/log.h"
#include "core/metrics.h"
#include "core/session.h"
#include "core/util.h"

static struct {
  bool on;
  sb_iplimits *ips;
  GHashTable *wsi_ips;         /* struct lws* -> char* ip of an accepted connection */
  char pending_ip[INET6_ADDRSTRLEN]; /* accepted by the filter, wsi not created yet */
  guint sweep;
  int max_sessions;
  double msg_rate, msg_burst;
  int msg_abuse_close;
  /* Refusals are logged once per LOG_EVERY_US at most (a flood must not flood the log). */
  int64_t log_at;
  int unlogged;
  char last_ip[INET6_ADDRSTRLEN];
  const char *last_reason;
  /* Over-rate connections answered 429 rather than closed: a server-wide budget. */
  sb_token_bucket reply_bucket;
  bool pending_limited;        /* the filter let the next wsi in to answer 429 */
  GHashTable *limited;         /* struct lws* set: connections to answer 429 */
} adm;

#define REPLY_RATE 50.0        /* 429 answers a second, server-wide */
#define REPLY_BURST 100.0

#define LOG_EVERY_US (5 * G_USEC_PER_SEC)

static gboolean sweep(gpointer ud) {
  (void)ud;
  sb_iplimits_expire(adm.ips, sb_now_us());
  if (adm.unlogged > 0) {
    sb_warn("limits: refused %d connection(s) in the last seconds (last: %s from %s)", adm.unlogged,
            adm.last_reason, adm.last_ip);
    adm.unlogged = 0;
  }
  return G_SOURCE_CONTINUE;
}

int sb_admission_start(sb_config *cfg) {
  sb_iplimits_config ic = {
    .rate = (double)sb_config_get_int_range(cfg, "limits", "connections_per_second", 20, 0, 1000000),
    .burst = (double)sb_config_get_int_range(cfg, "limits", "connection_burst", 40, 1, 1000000),
    .max_concurrent = (int)sb_config_get_int_range(cfg, "limits", "max_connections_per_ip", 50, 0, 1000000),
    .max_entries = (int)sb_config_get_int_range(cfg, "limits", "max_tracked_ips", 65536, 16, 16 << 20),
  };
  adm.max_sessions = (int)sb_config_get_int_range(cfg, "limits", "max_sessions", 10000, 0, 10000000);
  adm.msg_rate = (double)sb_config_get_int_range(cfg, "limits", "messages_per_second", 50, 0, 1000000);
  adm.msg_burst = (double)sb_config_get_int_range(cfg, "limits", "message_burst", 200, 1, 1000000);
  adm.msg_abuse_close = (int)sb_config_get_int_range(cfg, "limits", "message_abuse_close", 100, 0, 1000000);
  adm.ips = sb_iplimits_new(&ic);
  adm.wsi_ips = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
  adm.limited = g_hash_table_new(g_direct_hash, g_direct_equal);
  sb_token_bucket_init(&adm.reply_bucket, REPLY_BURST, sb_now_us());
  adm.sweep = g_timeout_add_seconds(5, sweep, NULL);
  adm.on = true;
  /* Declare the reasons at 0 so dashboards see them before the first refusal. */
  sb_metrics_rejected("conn_rate");
  sb_metrics_rejected("conn_limit");
  sb_metrics_rejected("session_cap");
  sb_metrics_rejected("message_rate");
  sb_info("limits: %g new connections/s per IP (burst %g), %d open per IP, %d sessions, "
          "%g messages/s per connection (burst %g)", ic.rate, ic.burst, ic.max_concurrent,
          adm.max_sessions, adm.msg_rate, adm.msg_burst);
  return 0;
}

void sb_admission_stop(void) {
  if (!adm.on)
    return;
  g_source_remove(adm.sweep);
  g_hash_table_destroy(adm.wsi_ips);
  g_hash_table_destroy(adm.limited);
  sb_iplimits_free(adm.ips);
  memset(&adm, 0, sizeof adm);
}

static void note_refusal(const char *reason, const char *ip) {
  sb_metrics_reject(reason);
  adm.unlogged++;
  adm.last_reason = reason;
  g_strlcpy(adm.last_ip, ip, sizeof adm.last_ip);
  int64_t now = sb_now_us();
  if (now >= adm.log_at) {
    sb_warn("limits: refused %d connection(s) (last: %s from %s)", adm.unlogged, reason, ip);
    adm.unlogged = 0;
    adm.log_at = now + LOG_EVERY_US;
  }
}

int sb_admission_filter_connection(void *args) {
  const struct lws_filter_network_conn_args *a = args;
  if (!adm.on || a == NULL)
    return 0;
  char ip[INET6_ADDRSTRLEN] = "";
  if (a->cli_addr.ss_family == AF_INET)
    inet_ntop(AF_INET, &((const struct sockaddr_in *)&a->cli_addr)->sin_addr, ip, sizeof ip);
  else if (a->cli_addr.ss_family == AF_INET6)
    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&a->cli_addr)->sin6_addr, ip, sizeof ip);
  else
    return 0;                  /* a Unix socket: nothing to limit by */
  int64_t now = sb_now_us();
  /* An accepted socket whose wsi was never made (lws out of connection slots):
   * its count goes back. */
  if (adm.pending_ip[0] != '\0')
    sb_iplimits_disconnect(adm.ips, adm.pending_ip, now);
  adm.pending_ip[0] = '\0';
  adm.pending_limited = false;
  sb_iplimit_verdict v = sb_iplimits_connect(adm.ips, ip, now);
  if (v != SB_IPLIMIT_OK) {
    note_refusal(sb_iplimit_reason(v), ip);
    /* Over the rate but under the open cap (checked first): in, to be told why,
     * counted as open like any other connection of its IP. */
    if (v != SB_IPLIMIT_RATE || !sb_token_bucket_take(&adm.reply_bucket, REPLY_RATE, REPLY_BURST, now))
      return -1;
    sb_iplimits_hold(adm.ips, ip);
    adm.pending_limited = true;
  }
  g_strlcpy(adm.pending_ip, ip, sizeof adm.pending_ip);
  return 0;
}

void sb_admission_wsi_created(struct lws *wsi) {
  /* lws creates the connection's wsi right after the filter accepted its socket,
   * in the same call: the pending address is its own. */
  if (!adm.on || adm.pending_ip[0] == '\0')
    return;
  if (adm.pending_limited)
    g_hash_table_add(adm.limited, wsi);
  adm.pending_limited = false;
  g_hash_table_replace(adm.wsi_ips, wsi, g_strdup(adm.pending_ip));
  adm.pending_ip[0] = '\0';
}

void sb_admission_wsi_destroyed(struct lws *wsi) {
  if (!adm.on)
    return;
  g_hash_table_remove(adm.limited, wsi);
  const char *ip = g_hash_table_lookup(adm.wsi_ips, wsi);
  if (ip == NULL)
    return;
  sb_iplimits_disconnect(adm.ips, ip, sb_now_us());
  g_hash_table_remove(adm.wsi_ips, wsi);
}

bool sb_admission_is_limited(struct lws *wsi) {
  return adm.on && g_hash_table_contains(adm.limited, wsi);
}

int sb_admission_refuse_429(struct lws *wsi) {
  static const char body[] = "too many new connections from your address: retry later\n";
  unsigned char buf[LWS_PRE + 512];
  unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
  if (lws_add_http_header_status(wsi, 429, &p, end) ||
      lws_add_http_header_by_name(wsi, (const unsigned char *)"retry-after:",
                                  (const unsigned char *)"1", 1, &p, end) ||
      lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
                                   (const unsigned char *)"text/plain", 10, &p, end) ||
      lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const unsigned char *)"close", 5,
                                   &p, end) ||
      lws_add_http_header_content_length(wsi, sizeof body - 1, &p, end) ||
      lws_finalize_http_header(wsi, &p, end) || (size_t)(end - p) < sizeof body)
    return -1;
  memcpy(p, body, sizeof body - 1);
  p += sizeof body - 1;
  lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_HEADERS);
  return -1;
}

bool sb_admission_session_ok(void) {
  if (!adm.on || adm.max_sessions == 0 || sb_session_count() < adm.max_sessions)
    return true;
  sb_metrics_reject("session_cap");
  sb_warn("limits: WebSocket refused: %d sessions ([limits] max_sessions)", adm.max_sessions);
  return false;
}

void sb_msg_limiter_init(sb_msg_limiter *l) {
  sb_token_bucket_init(&l->bucket, adm.msg_burst, sb_now_us());
  l->refused = 0;
}

sb_msg_verdict sb_msg_limiter_check(sb_msg_limiter *l) {
  if (sb_token_bucket_take(&l->bucket, adm.msg_rate, adm.msg_burst, sb_now_us())) {
    l->refused = 0;
    return SB_MSG_ACCEPT;
  }
  sb_metrics_reject("message_rate");
  l->refused++;
  if (adm.msg_abuse_close > 0 && l->refused >= adm.msg_abuse_close)
    return SB_MSG_CLOSE;
  return SB_MSG_REFUSE;
}
