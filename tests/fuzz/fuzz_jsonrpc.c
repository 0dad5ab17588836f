/* libFuzzer target for signaling/jsonrpc: parse untrusted bytes (from a buffer of
 * exactly their size, never NUL-terminated) and check that the result is one
 * of the four kinds with the members that kind promises: a request or
 * notification has a sane method and object params, a response has an id, and
 * an invalid message carries a well-formed error response with a JSON-RPC code
 * and an id that is null, a string or an integer. Then clear it (twice).
 * Seeds: tests/fuzz/corpus/jsonrpc. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/session.h"
#include "signaling/jsonrpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond) {
  if (!cond)
    abort();
}

static int id_ok(const json_t *id) {
  return json_is_string(id) || json_is_integer(id) || json_is_null(id);
}

static void check_method(const sb_jsonrpc_msg *msg) {
  check(msg->method != NULL);
  size_t n = strlen(msg->method);
  check(n > 0 && n <= SB_JSONRPC_MAX_METHOD);
  check(msg->params == NULL || json_is_object(msg->params));
  check(msg->error == NULL);
  check(json_is_object(msg->root));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sb_jsonrpc_msg msg;
  sb_jsonrpc_parse((const char *)data, size, &msg);
  switch (msg.kind) {
  case SB_JSONRPC_REQUEST:
    check_method(&msg);
    check(msg.id != NULL && id_ok(msg.id));
    break;
  case SB_JSONRPC_NOTIFICATION:
    check_method(&msg);
    check(msg.id == NULL);
    break;
  case SB_JSONRPC_RESPONSE:
    check(msg.id != NULL && id_ok(msg.id));
    check(msg.method == NULL && msg.error == NULL);
    break;
  case SB_JSONRPC_INVALID: {
    check(msg.method == NULL);
    check(json_is_object(msg.error));
    const char *version = json_string_value(json_object_get(msg.error, "jsonrpc"));
    check(version != NULL && strcmp(version, "2.0") == 0);
    check(id_ok(json_object_get(msg.error, "id")));
    json_t *e = json_object_get(msg.error, "error");
    json_int_t code = json_integer_value(json_object_get(e, "code"));
    check(code == SB_ERR_PARSE || code == SB_ERR_INVALID_REQUEST ||
          code == SB_ERR_METHOD_NOT_FOUND || code == SB_ERR_INVALID_PARAMS);
    const char *m = json_string_value(json_object_get(e, "message"));
    check(m != NULL && *m != '\0');
    /* The response must be sendable as text. */
    char *text = json_dumps(msg.error, JSON_COMPACT);
    check(text != NULL);
    free(text);
    break;
  }
  default:
    abort();
  }
  sb_jsonrpc_msg_clear(&msg);
  check(msg.root == NULL && msg.error == NULL);
  sb_jsonrpc_msg_clear(&msg);
  return 0;
}
