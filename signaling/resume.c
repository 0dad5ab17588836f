/* Switchboard — session resume (resume.h). */
#include "signaling/resume.h"

#include <glib.h>
#include <openssl/crypto.h>
#include <string.h>

#include "core/log.h"
#include "core/metrics.h"
#include "core/plugin.h"
#include "core/util.h"
#include "signaling/server.h"

typedef struct resume_entry {
  sb_session *session;                     /* a reference */
  char token[SB_RESUME_TOKEN_LEN + 1];
  guint grace_timer;                       /* != 0 while held */
} resume_entry;

static struct {
  GHashTable *entries;                     /* session id (owned) -> resume_entry* (owned) */
  int grace_s;
  int queue_max;
  bool stopping;
  sb_metric *held;                         /* gauge */
  sb_metric *resumed;                      /* counter */
  sb_metric *expired;                      /* counter */
} rs;

static void entry_free(gpointer p) {
  resume_entry *e = p;
  if (e->grace_timer)
    g_source_remove(e->grace_timer);
  sb_session_unref(e->session);
  g_free(e);
}

int sb_resume_start(sb_config *cfg) {
  rs.grace_s = (int)sb_config_get_int_range(cfg, "signaling", "resume_grace", 30, 0, 3600);
  rs.queue_max = (int)sb_config_get_int_range(cfg, "signaling", "resume_queue", 256, 1, 100000);
  rs.stopping = false;
  rs.entries = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, entry_free);
  rs.held = sb_metric_get("switchboard_sessions_held",
                          "sessions whose connection was lost, held for session.resume", true);
  rs.resumed = sb_metric_get("switchboard_sessions_resumed", "sessions resumed on a new connection", false);
  rs.expired = sb_metric_get("switchboard_sessions_expired",
                             "held sessions closed because no resume came within the grace", false);
  sb_metrics_rejected("resume_failed");
  return 0;
}

/* A held session's time is up (or the server stops): close it as a lost
 * connection was closed before resume existed. */
static void close_held(resume_entry *e) {
  sb_session *s = sb_session_ref(e->session);
  sb_plugins_session_closed(s);
  sb_session_detach(s);
  g_hash_table_remove(rs.entries, sb_session_id(s));
  sb_metric_add(rs.held, -1);
  sb_session_unref(s);
}

void sb_resume_stop(void) {
  if (rs.entries == NULL)
    return;
  rs.stopping = true;
  GList *held = NULL;
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init(&it, rs.entries);
  while (g_hash_table_iter_next(&it, NULL, &v))
    if (((resume_entry *)v)->grace_timer)
      held = g_list_prepend(held, v);
  for (GList *l = held; l; l = l->next)
    close_held(l->data);
  g_list_free(held);
}

void sb_resume_free(void) {
  g_clear_pointer(&rs.entries, g_hash_table_destroy);
}

int sb_resume_grace(void) { return rs.grace_s; }

const char *sb_resume_register(sb_session *s) {
  if (rs.entries == NULL)
    return NULL;
  resume_entry *e = g_new0(resume_entry, 1);
  e->session = sb_session_ref(s);
  sb_random_id(e->token, SB_RESUME_TOKEN_LEN);
  g_hash_table_replace(rs.entries, g_strdup(sb_session_id(s)), e);
  return e->token;
}

void sb_resume_forget(sb_session *s) {
  if (rs.entries == NULL)
    return;
  resume_entry *e = g_hash_table_lookup(rs.entries, sb_session_id(s));
  if (e == NULL || e->session != s)
    return;
  if (e->grace_timer)
    sb_metric_add(rs.held, -1);
  g_hash_table_remove(rs.entries, sb_session_id(s));
}

static gboolean grace_over(gpointer p) {
  resume_entry *e = p;
  e->grace_timer = 0;
  sb_info("session %s: not resumed within %d s: closing it", sb_session_id(e->session), rs.grace_s);
  sb_metric_add(rs.expired, 1);
  /* close_held adjusts the gauge; the timer is already spent. */
  close_held(e);
  return G_SOURCE_REMOVE;
}

bool sb_resume_hold(sb_session *s) {
  if (rs.entries == NULL || rs.stopping || rs.grace_s == 0 || !sb_plugin_session_has_pcs(s))
    return false;
  resume_entry *e = g_hash_table_lookup(rs.entries, sb_session_id(s));
  if (e == NULL || e->session != s || e->grace_timer)
    return false;
  sb_session_hold(s, (size_t)rs.queue_max);
  e->grace_timer = g_timeout_add_seconds((guint)rs.grace_s, grace_over, e);
  sb_metric_add(rs.held, 1);
  sb_info("session %s: connection lost: held for %d s (session.resume)", sb_session_id(s), rs.grace_s);
  return true;
}

static bool token_equal(const char *a, const char *b) {
  size_t n = strlen(b);
  return strlen(a) == n && CRYPTO_memcmp(a, b, n) == 0;
}

void sb_resume_rpc(sb_request *req) {
  const char *id = NULL, *token = NULL;
  /* "resume_token", not "token": that param is the JWT of every method (core/auth.h). */
  if (!sb_request_unpack(req, "{s:s, s:s}", "session", &id, "resume_token", &token))
    return;
  sb_session *fresh = sb_request_session(req);
  resume_entry *e = rs.entries ? g_hash_table_lookup(rs.entries, id) : NULL;
  if (e == NULL || e->session == fresh || !token_equal(token, e->token)) {
    sb_metrics_reject("resume_failed");
    sb_info("session %s: session.resume of %s refused", sb_session_id(fresh), id);
    sb_request_error(req, SB_ERR_RESUME_FAILED,
                     "no session '%s' to resume (unknown, closed after its grace, or a wrong token)", id);
    return;
  }
  if (sb_plugin_session_has_pcs(fresh)) {
    sb_request_error(req, SB_ERR_BUSY, "this session has calls of its own: resume from a new connection");
    return;
  }
  sb_session *s = sb_session_ref(e->session);
  bool was_held = e->grace_timer != 0;
  unsigned dropped = 0;
  if (!sb_ws_adopt(fresh, s, &dropped)) {
    sb_session_unref(s);
    sb_request_error(req, SB_ERR_INTERNAL, "session.resume needs a WebSocket connection");
    return;
  }
  if (was_held) {
    g_source_remove(e->grace_timer);
    e->grace_timer = 0;
    sb_metric_add(rs.held, -1);
  }
  sb_random_id(e->token, SB_RESUME_TOKEN_LEN);   /* a token is good for one resume */
  sb_metric_add(rs.resumed, 1);
  sb_info("session %s: resumed on a new connection%s (%u held message(s) dropped)", sb_session_id(s),
          was_held ? "" : ", replacing a live one", dropped);
  /* The held messages went out first; this answer follows them on the same
   * connection, through the fresh session, which then ends. */
  sb_request_reply(req, json_pack("{s:s, s:s, s:i, s:i}", "session", sb_session_id(s), "resume_token",
                                  e->token, "dropped", (int)dropped, "grace", rs.grace_s));
  sb_ws_adopt_done(fresh);
  sb_session_unref(s);
}
