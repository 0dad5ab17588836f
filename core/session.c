/* Switchboard — sessions and requests. */
#include "core/session.h"

#include <glib.h>
#include <stdarg.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

struct sb_session {
  gint refs;
  GMutex lock;                  /* guards ops/transport against detach */
  const sb_transport_ops *ops;
  void *transport;
  char id[17];
  char *remote;
  GHashTable *data;             /* key -> session_data*, signaling thread */
  /* Held output while the transport is away (sb_session_hold), under lock. */
  bool holding;
  GQueue held;                  /* of char* (whole messages) */
  size_t held_max;
  unsigned held_dropped;        /* oldest messages dropped for lack of room */
};

typedef struct session_data {
  void *data;
  void (*destroy)(void *);
} session_data;

struct sb_request {
  sb_session *session;          /* NULL for an internal request */
  char *method;
  json_t *id;
  json_t *params;
  sb_request_done done;         /* internal requests: where the answer goes */
  void *done_ud;
};

static gint live_sessions;

static void session_data_free(gpointer p) {
  session_data *d = p;
  if (d->destroy)
    d->destroy(d->data);
  g_free(d);
}

sb_session *sb_session_new(const sb_transport_ops *ops, void *transport, const char *remote) {
  sb_session *s = g_new0(sb_session, 1);
  s->refs = 1;
  g_mutex_init(&s->lock);
  s->ops = ops;
  s->transport = transport;
  sb_random_id(s->id, 16);
  s->remote = g_strdup(remote ? remote : "?");
  s->data = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, session_data_free);
  g_queue_init(&s->held);
  g_atomic_int_inc(&live_sessions);
  return s;
}

sb_session *sb_session_ref(sb_session *s) {
  g_atomic_int_inc(&s->refs);
  return s;
}

void sb_session_unref(sb_session *s) {
  if (s == NULL || !g_atomic_int_dec_and_test(&s->refs))
    return;
  g_hash_table_destroy(s->data);
  g_queue_clear_full(&s->held, g_free);
  g_mutex_clear(&s->lock);
  g_free(s->remote);
  g_free(s);
  g_atomic_int_add(&live_sessions, -1);
}

void sb_session_detach(sb_session *s) {
  g_mutex_lock(&s->lock);
  s->ops = NULL;
  s->transport = NULL;
  s->holding = false;
  g_queue_clear_full(&s->held, g_free);
  g_mutex_unlock(&s->lock);
}

/* Under s->lock: the current transport's unwritten messages, oldest first. */
static void take_unsent(sb_session *s, GQueue *out) {
  if (s->ops && s->ops->take_unsent)
    s->ops->take_unsent(s->transport, out);
}

/* Under s->lock: keeps text for a resume, dropping the oldest past held_max. */
static void hold_text(sb_session *s, char *text) {
  if (s->held.length >= s->held_max) {
    g_free(g_queue_pop_head(&s->held));
    s->held_dropped++;
  }
  g_queue_push_tail(&s->held, text);
}

void sb_session_hold(sb_session *s, size_t max_messages) {
  g_mutex_lock(&s->lock);
  s->held_max = max_messages > 0 ? max_messages : 1;
  s->held_dropped = 0;
  GQueue unsent = G_QUEUE_INIT;
  take_unsent(s, &unsent);
  char *text;
  while ((text = g_queue_pop_head(&unsent)))
    hold_text(s, text);
  s->ops = NULL;
  s->transport = NULL;
  s->holding = true;
  g_mutex_unlock(&s->lock);
}

unsigned sb_session_attach(sb_session *s, const sb_transport_ops *ops, void *transport) {
  g_mutex_lock(&s->lock);
  /* Under the lock: a message sent meanwhile from a worker waits, then follows.
   * What the previous transport (if still attached) had not written goes first. */
  GQueue unsent = G_QUEUE_INIT;
  take_unsent(s, &unsent);
  char *text;
  while ((text = g_queue_pop_head(&unsent))) {
    ops->send(transport, text, strlen(text));
    g_free(text);
  }
  while ((text = g_queue_pop_head(&s->held))) {
    ops->send(transport, text, strlen(text));
    g_free(text);
  }
  unsigned dropped = s->held_dropped;
  s->held_dropped = 0;
  s->holding = false;
  s->ops = ops;
  s->transport = transport;
  g_mutex_unlock(&s->lock);
  return dropped;
}

bool sb_session_is_detached(sb_session *s) {
  g_mutex_lock(&s->lock);
  bool r = s->ops == NULL;
  g_mutex_unlock(&s->lock);
  return r;
}

const char *sb_session_id(const sb_session *s) { return s->id; }
const char *sb_session_remote(const sb_session *s) { return s->remote; }
int sb_session_count(void) { return g_atomic_int_get(&live_sessions); }

void sb_session_send_json(sb_session *s, json_t *msg) {
  char *text = json_dumps(msg, JSON_COMPACT);
  json_decref(msg);
  if (text == NULL)
    return;
  g_mutex_lock(&s->lock);
  if (s->ops) {
    s->ops->send(s->transport, text, strlen(text));
  } else if (s->holding) {
    hold_text(s, g_strdup(text));
  }
  g_mutex_unlock(&s->lock);
  free(text);
}

void sb_session_notify(sb_session *s, const char *method, json_t *params) {
  json_t *msg = json_pack("{s:s, s:s}", "jsonrpc", "2.0", "method", method);
  if (params)
    json_object_set_new(msg, "params", params);
  sb_session_send_json(s, msg);
}

void sb_session_set_data(sb_session *s, const char *key, void *data, void (*destroy)(void *)) {
  if (data == NULL) {
    g_hash_table_remove(s->data, key);
    return;
  }
  session_data *d = g_new0(session_data, 1);
  d->data = data;
  d->destroy = destroy;
  g_hash_table_replace(s->data, g_strdup(key), d);
}

void *sb_session_get_data(sb_session *s, const char *key) {
  session_data *d = g_hash_table_lookup(s->data, key);
  return d ? d->data : NULL;
}

sb_request *sb_request_new(sb_session *s, const char *method, json_t *id, json_t *params) {
  sb_request *r = g_new0(sb_request, 1);
  r->session = sb_session_ref(s);
  r->method = g_strdup(method);
  r->id = id ? json_incref(id) : NULL;
  r->params = params ? json_incref(params) : json_object();
  return r;
}

sb_request *sb_request_new_internal(const char *method, json_t *params, sb_request_done done, void *ud) {
  sb_request *r = g_new0(sb_request, 1);
  r->method = g_strdup(method);
  r->params = params ? json_incref(params) : json_object();
  r->done = done;
  r->done_ud = ud;
  return r;
}

sb_session *sb_request_session(const sb_request *r) { return r->session; }
const char *sb_request_method(const sb_request *r) { return r->method; }
json_t *sb_request_params(const sb_request *r) { return r->params; }

static void request_free(sb_request *r) {
  if (r->session)
    sb_session_unref(r->session);
  g_free(r->method);
  if (r->id)
    json_decref(r->id);
  json_decref(r->params);
  g_free(r);
}

void sb_request_drop(sb_request *r) {
  if (r == NULL)
    return;
  if (r->done)
    r->done(r->done_ud, NULL, SB_ERR_INTERNAL, "the request was dropped without an answer", NULL);
  request_free(r);
}

void sb_request_reply(sb_request *r, json_t *result) {
  if (result == NULL)
    result = json_object();
  if (r->done) {
    r->done(r->done_ud, result, 0, NULL, NULL);
    json_decref(result);
  } else if (r->id) {
    json_t *msg = json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", r->id, "result", result);
    sb_session_send_json(r->session, msg);
  } else {
    json_decref(result);
  }
  request_free(r);
}

static void request_error_va(sb_request *r, int code, json_t *data, const char *fmt, va_list ap) {
  char *message = g_strdup_vprintf(fmt, ap);
  sb_verbose("session %s: %s -> error %d: %s", r->session ? sb_session_id(r->session) : "(admin)",
             r->method, code, message);
  if (r->done) {
    r->done(r->done_ud, NULL, code, message, data);
    if (data)
      json_decref(data);
  } else if (r->id) {
    json_t *err = json_pack("{s:i, s:s}", "code", code, "message", message);
    if (data)
      json_object_set_new(err, "data", data);
    json_t *msg = json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", r->id, "error", err);
    sb_session_send_json(r->session, msg);
  } else if (data) {
    json_decref(data);
  }
  g_free(message);
  request_free(r);
}

void sb_request_error(sb_request *r, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  request_error_va(r, code, NULL, fmt, ap);
  va_end(ap);
}

void sb_request_error_data(sb_request *r, int code, json_t *data, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  request_error_va(r, code, data, fmt, ap);
  va_end(ap);
}

bool sb_request_unpack(sb_request *r, const char *fmt, ...) {
  json_error_t err;
  va_list ap;
  va_start(ap, fmt);
  int rc = json_vunpack_ex(r->params, &err, 0, fmt, ap);
  va_end(ap);
  if (rc == 0)
    return true;
  sb_request_error(r, SB_ERR_INVALID_PARAMS, "invalid params for %s: %s", r->method, err.text);
  return false;
}
