/* Unit tests for signaling/jsonrpc: one untrusted text message becomes a request,
 * a notification, a response to us, or the exact JSON-RPC error response its
 * sender should get (code, message, and its id when the id can be trusted).
 * Every input is parsed from a heap buffer of exactly its length, so
 * AddressSanitizer catches a read past the end or reliance on a NUL. */
#include "signaling/jsonrpc.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "core/session.h"

/* ---- helpers ------------------------------------------------------------ */

static void parse_exact(const char *text, size_t len, sb_jsonrpc_msg *msg) {
  char *copy = len ? g_memdup2(text, len) : NULL;
  sb_jsonrpc_parse(copy, len, msg);
  g_free(copy);
}

static void parse_str(const char *text, sb_jsonrpc_msg *msg) {
  parse_exact(text, strlen(text), msg);
}

/* The error response must be a complete JSON-RPC 2.0 error object. */
static void assert_error_shape(const json_t *err) {
  g_assert_nonnull(err);
  g_assert_true(json_is_object(err));
  g_assert_cmpstr(json_string_value(json_object_get(err, "jsonrpc")), ==, "2.0");
  g_assert_nonnull(json_object_get(err, "id"));
  json_t *e = json_object_get(err, "error");
  g_assert_true(json_is_object(e));
  g_assert_true(json_is_integer(json_object_get(e, "code")));
  const char *m = json_string_value(json_object_get(e, "message"));
  g_assert_nonnull(m);
  g_assert_cmpuint(strlen(m), >, 0);
  g_assert_null(json_object_get(err, "result"));
}

static int error_code(const sb_jsonrpc_msg *msg) {
  return (int)json_integer_value(json_object_get(json_object_get(msg->error, "error"), "code"));
}

static const char *error_message(const sb_jsonrpc_msg *msg) {
  return json_string_value(json_object_get(json_object_get(msg->error, "error"), "message"));
}

/* Parses text, expects INVALID with code, and the error's id equal to expect_id
 * (JSON text; "null" when the id could not be trusted). */
static void assert_invalid_len(const char *text, size_t len, int code, const char *expect_id) {
  sb_jsonrpc_msg msg;
  parse_exact(text, len, &msg);
  if (msg.kind != SB_JSONRPC_INVALID)
    g_error("expected an error for %.*s, got kind %d", (int)len, text, msg.kind);
  assert_error_shape(msg.error);
  if (error_code(&msg) != code)
    g_error("expected code %d for %.*s, got %d (%s)", code, (int)len, text, error_code(&msg),
            error_message(&msg));
  json_error_t jerr;
  json_t *want = json_loads(expect_id, JSON_DECODE_ANY, &jerr);
  g_assert_nonnull(want);
  if (!json_equal(json_object_get(msg.error, "id"), want)) {
    char *got = json_dumps(json_object_get(msg.error, "id"), JSON_ENCODE_ANY);
    g_error("expected id %s for %.*s, got %s", expect_id, (int)len, text, got);
  }
  json_decref(want);
  g_assert_null(msg.method);
  sb_jsonrpc_msg_clear(&msg);
}

static void assert_invalid(const char *text, int code, const char *expect_id) {
  assert_invalid_len(text, strlen(text), code, expect_id);
}

/* A request nesting `levels` objects in all, counting the top-level one: params
 * is {"a":{"a":...}} and the innermost object holds "a":leaf, or is {} when leaf
 * is "". */
static char *nested_request(int levels, const char *leaf) {
  GString *s = g_string_new("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":");
  int k = levels - 1;
  g_assert_cmpint(k, >=, 1);
  for (int i = 0; i < k; i++)
    g_string_append(s, (i + 1 < k || *leaf) ? "{\"a\":" : "{");
  g_string_append(s, leaf);
  for (int i = 0; i < k; i++)
    g_string_append_c(s, '}');
  g_string_append_c(s, '}');
  return g_string_free(s, FALSE);
}

/* ---- classification ------------------------------------------------------- */

static void test_jsonrpc_request_with_string_id_is_request(void) {
  sb_jsonrpc_msg msg;
  parse_str("{\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"method\":\"call.start\",\"params\":{\"x\":1}}",
            &msg);
  g_assert_cmpint(msg.kind, ==, SB_JSONRPC_REQUEST);
  g_assert_cmpstr(msg.method, ==, "call.start");
  g_assert_cmpstr(json_string_value(msg.id), ==, "abc");
  g_assert_true(json_is_object(msg.params));
  g_assert_cmpint(json_integer_value(json_object_get(msg.params, "x")), ==, 1);
  g_assert_null(msg.error);
  g_assert_nonnull(msg.root);
  sb_jsonrpc_msg_clear(&msg);
  g_assert_null(msg.root);
  g_assert_null(msg.method);
}

static void test_jsonrpc_request_with_integer_id_is_request(void) {
  sb_jsonrpc_msg msg;
  parse_str("{\"method\":\"ping\",\"id\":42,\"jsonrpc\":\"2.0\"}", &msg);
  g_assert_cmpint(msg.kind, ==, SB_JSONRPC_REQUEST);
  g_assert_cmpstr(msg.method, ==, "ping");
  g_assert_true(json_is_integer(msg.id));
  g_assert_cmpint(json_integer_value(msg.id), ==, 42);
  g_assert_null(msg.params);
  sb_jsonrpc_msg_clear(&msg);
}

static void test_jsonrpc_request_with_null_id_is_request(void) {
  /* §4: an id of null is allowed (if discouraged); it is not a notification. */
  sb_jsonrpc_msg msg;
  parse_str("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}", &msg);
  g_assert_cmpint(msg.kind, ==, SB_JSONRPC_REQUEST);
  g_assert_true(json_is_null(msg.id));
  sb_jsonrpc_msg_clear(&msg);
}

static void test_jsonrpc_message_without_id_is_notification(void) {
  sb_jsonrpc_msg msg;
  parse_str("{\"jsonrpc\":\"2.0\",\"method\":\"trickle\",\"params\":{\"candidate\":\"c\"}}", &msg);
  g_assert_cmpint(msg.kind, ==, SB_JSONRPC_NOTIFICATION);
  g_assert_cmpstr(msg.method, ==, "trickle");
  g_assert_null(msg.id);
  g_assert_cmpstr(json_string_value(json_object_get(msg.params, "candidate")), ==, "c");
  g_assert_null(msg.error);
  sb_jsonrpc_msg_clear(&msg);
}

static void test_jsonrpc_result_and_error_with_id_are_responses(void) {
  sb_jsonrpc_msg msg;
  parse_str("{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"ok\":true}}", &msg);
  g_assert_cmpint(msg.kind, ==, SB_JSONRPC_RESPONSE);
  g_assert_cmpint(json_integer_value(msg.id), ==, 7);
  g_assert_null(msg.method);
  g_assert_null(msg.error);
  sb_jsonrpc_msg_clear(&msg);

  parse_str("{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"error\":{\"code\":-32601,\"message\":\"no\"}}",
            &msg);
  g_assert_cmpint(msg.kind, ==, SB_JSONRPC_RESPONSE);
  g_assert_cmpstr(json_string_value(msg.id), ==, "x");
  g_assert_null(msg.error);
  sb_jsonrpc_msg_clear(&msg);

  /* A result of null is still a result. */
  parse_str("{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":null}", &msg);
  g_assert_cmpint(msg.kind, ==, SB_JSONRPC_RESPONSE);
  sb_jsonrpc_msg_clear(&msg);
}

static void test_jsonrpc_result_without_id_is_invalid(void) {
  assert_invalid("{\"jsonrpc\":\"2.0\",\"result\":1}", SB_ERR_INVALID_REQUEST, "null");
}

/* ---- errors ------------------------------------------------------------- */

static void test_jsonrpc_invalid_json_is_parse_error_with_position(void) {
  const char *text = "{\"jsonrpc\":\"2.0\",\"method\":nope}";
  assert_invalid(text, SB_ERR_PARSE, "null");
  /* The message says where parsing stopped: jansson's byte offset. */
  json_error_t jerr;
  g_assert_null(json_loadb(text, strlen(text), 0, &jerr));
  sb_jsonrpc_msg msg;
  parse_str(text, &msg);
  char *at = g_strdup_printf("at byte %d", jerr.position);
  if (strstr(error_message(&msg), at) == NULL)
    g_error("message \"%s\" does not say \"%s\"", error_message(&msg), at);
  g_assert_cmpint(jerr.position, >, 20);
  g_assert_cmpint(jerr.position, <=, (int)strlen(text));
  g_free(at);
  sb_jsonrpc_msg_clear(&msg);

  assert_invalid("{", SB_ERR_PARSE, "null");
  assert_invalid("{\"jsonrpc\":\"2.0\",", SB_ERR_PARSE, "null");
  assert_invalid("not json", SB_ERR_PARSE, "null");
  assert_invalid("{\"a\":1}}", SB_ERR_PARSE, "null");
}

static void test_jsonrpc_empty_input_is_parse_error(void) {
  assert_invalid_len("", 0, SB_ERR_PARSE, "null");
  assert_invalid("   ", SB_ERR_PARSE, "null");
}

static void test_jsonrpc_batch_is_refused(void) {
  assert_invalid("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\"}]", SB_ERR_INVALID_REQUEST, "null");
  assert_invalid("[1,2,3]", SB_ERR_INVALID_REQUEST, "null");
}

static void test_jsonrpc_empty_array_is_invalid_request(void) {
  assert_invalid("[]", SB_ERR_INVALID_REQUEST, "null");
}

static void test_jsonrpc_non_object_is_invalid_request(void) {
  /* Valid JSON that is not an object: not a Request (docs/API.md: -32600). */
  assert_invalid("42", SB_ERR_INVALID_REQUEST, "null");
  assert_invalid("\"ping\"", SB_ERR_INVALID_REQUEST, "null");
  assert_invalid("null", SB_ERR_INVALID_REQUEST, "null");
  assert_invalid("true", SB_ERR_INVALID_REQUEST, "null");
}

static void test_jsonrpc_missing_or_wrong_version_is_invalid_request(void) {
  assert_invalid("{\"id\":1,\"method\":\"a\"}", SB_ERR_INVALID_REQUEST, "1");
  assert_invalid("{\"jsonrpc\":\"1.0\",\"id\":\"q\",\"method\":\"a\"}", SB_ERR_INVALID_REQUEST,
                 "\"q\"");
  assert_invalid("{\"jsonrpc\":2.0,\"id\":3,\"method\":\"a\"}", SB_ERR_INVALID_REQUEST, "3");
  assert_invalid("{\"jsonrpc\":\"2.0 \",\"id\":3,\"method\":\"a\"}", SB_ERR_INVALID_REQUEST, "3");
  assert_invalid("{\"jsonrpc\":null,\"method\":\"a\"}", SB_ERR_INVALID_REQUEST, "null");
}

static void test_jsonrpc_bad_method_is_invalid_request(void) {
  /* Missing (and no result/error), empty, and not a string. */
  assert_invalid("{\"jsonrpc\":\"2.0\",\"id\":5}", SB_ERR_INVALID_REQUEST, "5");
  assert_invalid("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"\"}", SB_ERR_INVALID_REQUEST, "5");
  assert_invalid("{\"jsonrpc\":\"2.0\",\"id\":\"s\",\"method\":17}", SB_ERR_INVALID_REQUEST, "\"s\"");
  assert_invalid("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":null}", SB_ERR_INVALID_REQUEST, "5");
  assert_invalid("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":[\"a\"]}", SB_ERR_INVALID_REQUEST, "5");
  /* A notification with a bad method still gets an error to send (id null). */
  assert_invalid("{\"jsonrpc\":\"2.0\",\"method\":{}}", SB_ERR_INVALID_REQUEST, "null");
}

static void test_jsonrpc_nesting_over_32_levels_is_invalid_request(void) {
  /* 32 levels are accepted, with a value or an empty container innermost. */
  const char *leaves[] = { "1", "", "\"s\"", "{}" };
  for (guint i = 0; i < G_N_ELEMENTS(leaves); i++) {
    int ok_levels = strcmp(leaves[i], "{}") == 0 ? 31 : 32;
    char *text = nested_request(ok_levels, leaves[i]);
    sb_jsonrpc_msg msg;
    parse_str(text, &msg);
    if (msg.kind != SB_JSONRPC_REQUEST)
      g_error("%d levels refused (leaf '%s'): %s", ok_levels, leaves[i], error_message(&msg));
    sb_jsonrpc_msg_clear(&msg);
    g_free(text);

    text = nested_request(ok_levels + 1, leaves[i]);
    assert_invalid(text, SB_ERR_INVALID_REQUEST, "null");
    g_free(text);
  }
  /* Far deeper than jansson's own limit is refused the same way. */
  GString *s = g_string_new("");
  for (int i = 0; i < 5000; i++)
    g_string_append_c(s, '[');
  for (int i = 0; i < 5000; i++)
    g_string_append_c(s, ']');
  assert_invalid(s->str, SB_ERR_INVALID_REQUEST, "null");
  g_string_free(s, TRUE);
}

static void test_jsonrpc_id_of_wrong_type_is_invalid_request(void) {
  /* The id cannot be echoed, so the error carries id null. */
  assert_invalid("{\"jsonrpc\":\"2.0\",\"id\":{\"a\":1},\"method\":\"m\"}", SB_ERR_INVALID_REQUEST,
                 "null");
  assert_invalid("{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"m\"}", SB_ERR_INVALID_REQUEST, "null");
  assert_invalid("{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"m\"}", SB_ERR_INVALID_REQUEST, "null");
  assert_invalid("{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"m\"}", SB_ERR_INVALID_REQUEST, "null");
  /* Even when the version is wrong too. */
  assert_invalid("{\"jsonrpc\":\"1\",\"id\":false,\"method\":\"m\"}", SB_ERR_INVALID_REQUEST, "null");
}

static void test_jsonrpc_duplicate_keys_are_invalid_request(void) {
  /* {"method":"a","method":"b"} is JSON, but an ambiguous request. */
  assert_invalid("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\",\"method\":\"b\"}",
                 SB_ERR_INVALID_REQUEST, "null");
  assert_invalid("{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"a\"}", SB_ERR_INVALID_REQUEST,
                 "null");
  assert_invalid("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\",\"params\":{\"k\":1,\"k\":2}}",
                 SB_ERR_INVALID_REQUEST, "null");
}

static void test_jsonrpc_non_object_params_are_invalid_params(void) {
  assert_invalid("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"m\",\"params\":[1,2]}",
                 SB_ERR_INVALID_PARAMS, "9");
  assert_invalid("{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"m\",\"params\":\"x\"}",
                 SB_ERR_INVALID_PARAMS, "\"p\"");
  assert_invalid("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"m\",\"params\":3}",
                 SB_ERR_INVALID_PARAMS, "null");
  assert_invalid("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"m\",\"params\":null}",
                 SB_ERR_INVALID_PARAMS, "9");
}

static void test_jsonrpc_method_over_64_bytes_is_not_found(void) {
  char name[SB_JSONRPC_MAX_METHOD + 2];
  memset(name, 'm', sizeof name - 1);
  name[sizeof name - 1] = '\0';
  /* 65 bytes: no such method can exist. */
  char *text = g_strdup_printf("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"%s\"}", name);
  assert_invalid(text, SB_ERR_METHOD_NOT_FOUND, "4");
  g_free(text);
  /* 64 bytes is still a name. */
  name[SB_JSONRPC_MAX_METHOD] = '\0';
  text = g_strdup_printf("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"%s\"}", name);
  sb_jsonrpc_msg msg;
  parse_str(text, &msg);
  g_assert_cmpint(msg.kind, ==, SB_JSONRPC_REQUEST);
  g_assert_cmpuint(strlen(msg.method), ==, SB_JSONRPC_MAX_METHOD);
  sb_jsonrpc_msg_clear(&msg);
  g_free(text);
}

static void test_jsonrpc_error_echoes_string_integer_and_null_ids(void) {
  assert_invalid("{\"jsonrpc\":\"2.0\",\"id\":\"req-1\",\"method\":\"\"}", SB_ERR_INVALID_REQUEST,
                 "\"req-1\"");
  assert_invalid("{\"jsonrpc\":\"2.0\",\"id\":-12345678901,\"method\":\"\"}", SB_ERR_INVALID_REQUEST,
                 "-12345678901");
  assert_invalid("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"\"}", SB_ERR_INVALID_REQUEST, "null");
  assert_invalid("{\"jsonrpc\":\"2.0\",\"id\":0,\"params\":[],\"method\":\"m\"}", SB_ERR_INVALID_PARAMS,
                 "0");
}

static void test_jsonrpc_error_builder_fills_every_member(void) {
  json_t *id = json_string("abc");
  json_t *e = sb_jsonrpc_error(id, SB_ERR_SDP_NO_ICE, "no ICE credentials");
  assert_error_shape(e);
  g_assert_cmpstr(json_string_value(json_object_get(e, "id")), ==, "abc");
  json_t *err = json_object_get(e, "error");
  g_assert_cmpint(json_integer_value(json_object_get(err, "code")), ==, SB_ERR_SDP_NO_ICE);
  g_assert_cmpstr(json_string_value(json_object_get(err, "message")), ==, "no ICE credentials");
  json_decref(e);
  /* The id was borrowed: the caller's reference is intact. */
  g_assert_cmpint(id->refcount, ==, 1);
  json_decref(id);

  e = sb_jsonrpc_error(NULL, SB_ERR_PARSE, "x");
  g_assert_true(json_is_null(json_object_get(e, "id")));
  json_decref(e);
}

/* ---- byte-level input ----------------------------------------------------- */

static void test_jsonrpc_reads_exactly_len_bytes(void) {
  /* The buffer continues past len with garbage: only len bytes count. */
  const char *text = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\"}GARBAGE{";
  size_t len = strlen("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\"}");
  sb_jsonrpc_msg msg;
  parse_exact(text, len, &msg);
  g_assert_cmpint(msg.kind, ==, SB_JSONRPC_REQUEST);
  g_assert_cmpstr(msg.method, ==, "a");
  sb_jsonrpc_msg_clear(&msg);
  /* And one byte short of the closing brace is truncated JSON. */
  assert_invalid_len(text, len - 1, SB_ERR_PARSE, "null");
}

static void test_jsonrpc_embedded_nul_bytes_are_refused(void) {
  /* A raw NUL inside a string, after the object, and an escaped one in the method. */
  static const char in_string[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\0b\"}";
  assert_invalid_len(in_string, sizeof in_string - 1, SB_ERR_PARSE, "null");
  static const char after[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\"}\0";
  assert_invalid_len(after, sizeof after - 1, SB_ERR_PARSE, "null");
  static const char escaped[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\\u0000b\"}";
  sb_jsonrpc_msg msg;
  parse_exact(escaped, sizeof escaped - 1, &msg);
  g_assert_cmpint(msg.kind, ==, SB_JSONRPC_INVALID);
  g_assert_null(msg.method);
  sb_jsonrpc_msg_clear(&msg);
}

static void test_jsonrpc_invalid_utf8_still_gets_an_error_response(void) {
  /* A byte that is not UTF-8, and an escape before a multi-byte character (the
   * parser's message then quotes half of that character). */
  static const char *const inputs[] = {
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\"}",
    "{\"a\":\"\\\xc3\xa9\"}",
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\",\"params\":{\"\\\xe2\x82\xac\":1}}",
    "\xc3",
  };
  for (guint i = 0; i < G_N_ELEMENTS(inputs); i++) {
    assert_invalid(inputs[i], SB_ERR_PARSE, "null");
    sb_jsonrpc_msg msg;
    parse_str(inputs[i], &msg);
    g_assert_true(g_utf8_validate(error_message(&msg), -1, NULL));
    char *text = json_dumps(msg.error, JSON_COMPACT);
    g_assert_nonnull(text);
    free(text);
    sb_jsonrpc_msg_clear(&msg);
  }
  json_t *e = sb_jsonrpc_error(NULL, SB_ERR_INTERNAL, "bad \xc5 byte");
  g_assert_nonnull(e);
  json_decref(e);
}

static void test_jsonrpc_clear_is_idempotent(void) {
  sb_jsonrpc_msg msg;
  parse_str("[", &msg);
  sb_jsonrpc_msg_clear(&msg);
  g_assert_null(msg.error);
  g_assert_null(msg.root);
  sb_jsonrpc_msg_clear(&msg);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/jsonrpc/request-with-string-id-is-request",
                  test_jsonrpc_request_with_string_id_is_request);
  g_test_add_func("/jsonrpc/request-with-integer-id-is-request",
                  test_jsonrpc_request_with_integer_id_is_request);
  g_test_add_func("/jsonrpc/request-with-null-id-is-request",
                  test_jsonrpc_request_with_null_id_is_request);
  g_test_add_func("/jsonrpc/message-without-id-is-notification",
                  test_jsonrpc_message_without_id_is_notification);
  g_test_add_func("/jsonrpc/result-and-error-with-id-are-responses",
                  test_jsonrpc_result_and_error_with_id_are_responses);
  g_test_add_func("/jsonrpc/result-without-id-is-invalid", test_jsonrpc_result_without_id_is_invalid);
  g_test_add_func("/jsonrpc/invalid-json-is-parse-error-with-position",
                  test_jsonrpc_invalid_json_is_parse_error_with_position);
  g_test_add_func("/jsonrpc/empty-input-is-parse-error", test_jsonrpc_empty_input_is_parse_error);
  g_test_add_func("/jsonrpc/batch-is-refused", test_jsonrpc_batch_is_refused);
  g_test_add_func("/jsonrpc/empty-array-is-invalid-request",
                  test_jsonrpc_empty_array_is_invalid_request);
  g_test_add_func("/jsonrpc/non-object-is-invalid-request", test_jsonrpc_non_object_is_invalid_request);
  g_test_add_func("/jsonrpc/missing-or-wrong-version-is-invalid-request",
                  test_jsonrpc_missing_or_wrong_version_is_invalid_request);
  g_test_add_func("/jsonrpc/bad-method-is-invalid-request", test_jsonrpc_bad_method_is_invalid_request);
  g_test_add_func("/jsonrpc/nesting-over-32-levels-is-invalid-request",
                  test_jsonrpc_nesting_over_32_levels_is_invalid_request);
  g_test_add_func("/jsonrpc/id-of-wrong-type-is-invalid-request",
                  test_jsonrpc_id_of_wrong_type_is_invalid_request);
  g_test_add_func("/jsonrpc/duplicate-keys-are-invalid-request",
                  test_jsonrpc_duplicate_keys_are_invalid_request);
  g_test_add_func("/jsonrpc/non-object-params-are-invalid-params",
                  test_jsonrpc_non_object_params_are_invalid_params);
  g_test_add_func("/jsonrpc/method-over-64-bytes-is-not-found",
                  test_jsonrpc_method_over_64_bytes_is_not_found);
  g_test_add_func("/jsonrpc/error-echoes-string-integer-and-null-ids",
                  test_jsonrpc_error_echoes_string_integer_and_null_ids);
  g_test_add_func("/jsonrpc/error-builder-fills-every-member",
                  test_jsonrpc_error_builder_fills_every_member);
  g_test_add_func("/jsonrpc/reads-exactly-len-bytes", test_jsonrpc_reads_exactly_len_bytes);
  g_test_add_func("/jsonrpc/embedded-nul-bytes-are-refused", test_jsonrpc_embedded_nul_bytes_are_refused);
  g_test_add_func("/jsonrpc/invalid-utf8-still-gets-an-error-response",
                  test_jsonrpc_invalid_utf8_still_gets_an_error_response);
  g_test_add_func("/jsonrpc/clear-is-idempotent", test_jsonrpc_clear_is_idempotent);
  return g_test_run();
}
