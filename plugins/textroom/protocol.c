/* Switchboard — textroom: parsing and checking requests, responses, events'
 * pieces and the history ring (protocol.h). */
#include "plugins/textroom/protocol.h"

#include <glib.h>
#include <string.h>
#include <time.h>

#include "core/session.h"

static const struct {
  const char *name;
  tr_request_type type;
} request_names[] = {
  { "join", TR_REQ_JOIN },
  { "message", TR_REQ_MESSAGE },
  { "leave", TR_REQ_LEAVE },
  { "list", TR_REQ_LIST },
  { "kick", TR_REQ_KICK },
};

bool tr_room_name_valid(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n > TR_NAME_MAX)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!g_ascii_isalnum(name[i]) && name[i] != '_' && name[i] != '-' && name[i] != '.')
      return false;
  return true;
}

/* A string field: absent is fine (NULL), anything but a string is an error. */
static int string_field(json_t *root, const char *key, const char **out, char **msg) {
  json_t *v = json_object_get(root, key);
  *out = NULL;
  if (v == NULL || json_is_null(v))
    return 0;
  if (!json_is_string(v)) {
    *msg = g_strdup_printf("\"%s\" must be a string", key);
    return -1;
  }
  *out = json_string_value(v);
  return 0;
}

static int check_fields(tr_request *r, char **msg) {
  json_t *root = r->root;
  if (string_field(root, "room", &r->room, msg) || string_field(root, "display", &r->display, msg) ||
      string_field(root, "text", &r->text, msg) || string_field(root, "to", &r->to, msg) ||
      string_field(root, "id", &r->id, msg) || string_field(root, "secret", &r->secret, msg))
    return -1;
  if (r->room && !tr_room_name_valid(r->room)) {
    *msg = g_strdup("a room name is 1-64 characters of A-Z a-z 0-9 _ . -");
    return -1;
  }
  switch (r->type) {
  case TR_REQ_JOIN:
    if (r->room == NULL) {
      *msg = g_strdup("join needs \"room\"");
      return -1;
    }
    if (r->display && (r->display[0] == '\0' || g_utf8_strlen(r->display, -1) > TR_DISPLAY_MAX)) {
      *msg = g_strdup_printf("a display name is 1-%d characters", TR_DISPLAY_MAX);
      return -1;
    }
    break;
  case TR_REQ_MESSAGE:
    if (r->text == NULL || r->text[0] == '\0') {
      *msg = g_strdup("message needs a non-empty \"text\"");
      return -1;
    }
    break;
  case TR_REQ_KICK:
    if (r->id == NULL) {
      *msg = g_strdup("kick needs \"id\" (the participant)");
      return -1;
    }
    break;
  case TR_REQ_LEAVE:
  case TR_REQ_LIST:
    break;
  }
  return 0;
}

int tr_request_parse(const uint8_t *buf, size_t len, size_t max_len, tr_request *req, char **msg) {
  memset(req, 0, sizeof *req);
  if (len > max_len) {
    *msg = g_strdup_printf("the request is %zu bytes, over the limit of %zu", len, max_len);
    return SB_ERR_TOO_LARGE;
  }
  json_error_t err;
  req->root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
  if (req->root == NULL) {
    *msg = g_strdup_printf("not JSON: %s (at byte %d)", err.text, err.position);
    return SB_ERR_PARSE;
  }
  if (!json_is_object(req->root)) {
    *msg = g_strdup("a request is a JSON object");
    return SB_ERR_INVALID_REQUEST;
  }
  json_t *t = json_object_get(req->root, "transaction");
  if (t && !(json_is_integer(t) ||
             (json_is_string(t) && json_string_length(t) <= TR_TRANSACTION_MAX))) {
    *msg = g_strdup_printf("\"transaction\" must be a string of at most %d bytes or an integer",
                           TR_TRANSACTION_MAX);
    return SB_ERR_INVALID_REQUEST;
  }
  req->transaction = t;
  json_t *r = json_object_get(req->root, "request");
  if (!json_is_string(r)) {
    *msg = g_strdup("a request needs \"request\" (join, message, leave, list or kick)");
    return SB_ERR_INVALID_REQUEST;
  }
  size_t i;
  for (i = 0; i < G_N_ELEMENTS(request_names); i++)
    if (strcmp(json_string_value(r), request_names[i].name) == 0)
      break;
  if (i == G_N_ELEMENTS(request_names)) {
    *msg = g_strdup_printf("unknown request \"%.64s\" (join, message, leave, list or kick)",
                           json_string_value(r));
    return SB_ERR_METHOD_NOT_FOUND;
  }
  req->type = request_names[i].type;
  return check_fields(req, msg) == 0 ? 0 : SB_ERR_INVALID_PARAMS;
}

void tr_request_clear(tr_request *req) {
  if (req->root)
    json_decref(req->root);
  memset(req, 0, sizeof *req);
}

json_t *tr_success(json_t *transaction) {
  json_t *o = json_pack("{s:s}", "response", "success");
  if (transaction)
    json_object_set(o, "transaction", transaction);
  return o;
}

json_t *tr_error(json_t *transaction, int code, const char *message) {
  json_t *o = json_pack("{s:s}", "response", "error");
  if (transaction)
    json_object_set(o, "transaction", transaction);
  json_object_set_new(o, "code", json_integer(code));
  json_object_set_new(o, "message", json_string(message ? message : "error"));
  return o;
}

void tr_format_date(int64_t wall_us, char *buf, size_t size) {
  time_t secs = (time_t)(wall_us / G_USEC_PER_SEC);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char day[24];
  strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
  g_snprintf(buf, size, "%s.%03dZ", day, (int)((wall_us % G_USEC_PER_SEC) / 1000));
}

bool tr_secret_equal(const char *given, const char *expected) {
  if (given == NULL || expected == NULL || expected[0] == '\0')
    return false;
  size_t gl = strlen(given), el = strlen(expected);
  unsigned diff = gl != el;
  for (size_t i = 0; i < el; i++)
    diff |= (unsigned char)expected[i] ^ (unsigned char)(i < gl ? given[i] : 0);
  return diff == 0;
}

void tr_history_init(tr_history *h, int cap, size_t max_bytes) {
  memset(h, 0, sizeof *h);
  h->cap = cap > 0 ? cap : 0;
  h->max_bytes = max_bytes;
  if (h->cap) {
    h->items = g_new0(json_t *, h->cap);
    h->sizes = g_new0(size_t, h->cap);
  }
}

static void history_drop_oldest(tr_history *h) {
  json_decref(h->items[h->start]);
  h->bytes -= h->sizes[h->start];
  h->items[h->start] = NULL;
  h->start = (h->start + 1) % h->cap;
  h->len--;
}

void tr_history_push(tr_history *h, json_t *msg, size_t bytes) {
  if (h->cap == 0 || bytes > h->max_bytes) {
    json_decref(msg);
    return;
  }
  while (h->len > 0 && (h->len == h->cap || h->bytes + bytes > h->max_bytes))
    history_drop_oldest(h);
  int i = (h->start + h->len) % h->cap;
  h->items[i] = msg;
  h->sizes[i] = bytes;
  h->bytes += bytes;
  h->len++;
}

json_t *tr_history_json(const tr_history *h) {
  json_t *a = json_array();
  for (int i = 0; i < h->len; i++)
    json_array_append(a, h->items[(h->start + i) % h->cap]);
  return a;
}

void tr_history_clear(tr_history *h) {
  while (h->len > 0)
    history_drop_oldest(h);
  g_free(h->items);
  g_free(h->sizes);
  memset(h, 0, sizeof *h);
}
