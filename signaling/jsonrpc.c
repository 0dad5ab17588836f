/* Switchboard — JSON-RPC 2.0 framing. */
#include "signaling/jsonrpc.h"

#include <glib.h>
#include <string.h>

#include "core/session.h"

json_t *sb_jsonrpc_error(json_t *id, int code, const char *message) {
  /* jansson's parse errors quote raw input bytes, which may not be UTF-8 (an
   * escape before a multi-byte character keeps only its first byte); json_pack
   * refuses such a string, and the sender would get no answer at all. */
  char *text = g_utf8_make_valid(message, -1);
  json_t *e = json_pack("{s:s, s:O?, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", id ? id : json_null(),
                        "error", "code", code, "message", text);
  g_free(text);
  return e;
}

/* Levels of arrays and objects nested in v, v itself at `depth`; a scalar adds
 * none, so {"a":[]} and {"a":[1]} both have 2. */
static int depth_of(json_t *v, int depth) {
  if (!json_is_object(v) && !json_is_array(v))
    return depth - 1;
  if (depth > SB_JSONRPC_MAX_DEPTH)
    return depth;
  int max = depth;
  if (json_is_object(v)) {
    const char *k;
    json_t *child;
    json_object_foreach(v, k, child) {
      int d = depth_of(child, depth + 1);
      if (d > max)
        max = d;
      if (max > SB_JSONRPC_MAX_DEPTH)
        break;
    }
  } else if (json_is_array(v)) {
    size_t i;
    json_t *child;
    json_array_foreach(v, i, child) {
      int d = depth_of(child, depth + 1);
      if (d > max)
        max = d;
      if (max > SB_JSONRPC_MAX_DEPTH)
        break;
    }
  }
  return max;
}

static void invalid(sb_jsonrpc_msg *msg, json_t *id, int code, const char *text) {
  msg->kind = SB_JSONRPC_INVALID;
  msg->error = sb_jsonrpc_error(id, code, text);
}

static bool id_valid(json_t *id) {
  /* §4: String, Number or Null; fractional numbers SHOULD NOT be used. */
  return json_is_string(id) || json_is_integer(id) || json_is_null(id);
}

void sb_jsonrpc_parse(const char *text, size_t len, sb_jsonrpc_msg *msg) {
  memset(msg, 0, sizeof msg[0]);
  json_error_t jerr;
  /* JSON_REJECT_DUPLICATES: {"method":"a","method":"b"} is ambiguous, refuse it.
   * JSON_DECODE_ANY: a bare 42 is JSON, just not a request (-32600 below). */
  msg->root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
  if (msg->root == NULL) {
    /* A duplicate key, or nesting past jansson's own limit, is JSON that is no
     * request (docs/API.md), not a parse error. */
    enum json_error_code ec = json_error_code(&jerr);
    bool not_request = ec == json_error_duplicate_key || ec == json_error_stack_overflow;
    char m[256];
    snprintf(m, sizeof m, "%s: %s (at byte %d)", not_request ? "invalid request" : "parse error",
             jerr.text, jerr.position);
    invalid(msg, NULL, not_request ? SB_ERR_INVALID_REQUEST : SB_ERR_PARSE, m);
    return;
  }
  if (depth_of(msg->root, 1) > SB_JSONRPC_MAX_DEPTH) {
    invalid(msg, NULL, SB_ERR_INVALID_REQUEST, "message nests too deeply");
    return;
  }
  if (json_is_array(msg->root)) {
    invalid(msg, NULL, SB_ERR_INVALID_REQUEST, "batch requests are not supported");
    return;
  }
  if (!json_is_object(msg->root)) {
    invalid(msg, NULL, SB_ERR_INVALID_REQUEST, "a JSON-RPC message must be an object");
    return;
  }
  json_t *id = json_object_get(msg->root, "id");
  json_t *safe_id = id && id_valid(id) ? id : NULL;
  json_t *version = json_object_get(msg->root, "jsonrpc");
  if (!json_is_string(version) || strcmp(json_string_value(version), "2.0") != 0) {
    invalid(msg, safe_id, SB_ERR_INVALID_REQUEST, "\"jsonrpc\" must be \"2.0\"");
    return;
  }
  if (id && !id_valid(id)) {
    invalid(msg, NULL, SB_ERR_INVALID_REQUEST, "\"id\" must be a string, an integer or null");
    return;
  }
  json_t *method = json_object_get(msg->root, "method");
  if (method == NULL && id && (json_object_get(msg->root, "result") || json_object_get(msg->root, "error"))) {
    msg->kind = SB_JSONRPC_RESPONSE;
    msg->id = id;
    return;
  }
  if (!json_is_string(method) || json_string_length(method) == 0) {
    invalid(msg, safe_id, SB_ERR_INVALID_REQUEST, "\"method\" must be a non-empty string");
    return;
  }
  if (json_string_length(method) > SB_JSONRPC_MAX_METHOD ||
      strlen(json_string_value(method)) != json_string_length(method)) {
    invalid(msg, safe_id, SB_ERR_METHOD_NOT_FOUND, "method not found");
    return;
  }
  json_t *params = json_object_get(msg->root, "params");
  if (params && !json_is_object(params)) {
    /* §4.2 allows by-position arrays; every Switchboard method takes named params. */
    invalid(msg, safe_id, SB_ERR_INVALID_PARAMS, "\"params\" must be an object");
    return;
  }
  msg->method = json_string_value(method);
  msg->params = params;
  msg->id = id;
  msg->kind = id ? SB_JSONRPC_REQUEST : SB_JSONRPC_NOTIFICATION;
}

void sb_jsonrpc_msg_clear(sb_jsonrpc_msg *msg) {
  if (msg->root)
    json_decref(msg->root);
  if (msg->error)
    json_decref(msg->error);
  memset(msg, 0, sizeof msg[0]);
}
