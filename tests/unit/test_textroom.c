/* Unit tests for plugins/textroom/protocol: reading and checking the requests a
 * chat client sends on its data channel, the responses, dates, secrets and the
 * history ring. */
#include <glib.h>
#include <string.h>

#include "core/session.h"
#include "plugins/textroom/protocol.h"

static int parse(const char *text, tr_request *q, char **msg) {
  *msg = NULL;
  return tr_request_parse((const uint8_t *)text, strlen(text), 65536, q, msg);
}

static void test_textroom_parses_join(void) {
  tr_request q;
  char *msg;
  g_assert_cmpint(parse("{\"request\":\"join\",\"room\":\"lobby\",\"display\":\"Ann\","
                        "\"transaction\":\"t1\"}", &q, &msg), ==, 0);
  g_assert_null(msg);
  g_assert_cmpint(q.type, ==, TR_REQ_JOIN);
  g_assert_cmpstr(q.room, ==, "lobby");
  g_assert_cmpstr(q.display, ==, "Ann");
  g_assert_cmpstr(json_string_value(q.transaction), ==, "t1");
  g_assert_null(q.text);
  tr_request_clear(&q);
  /* integer transactions, no display, unknown fields ignored */
  g_assert_cmpint(parse("{\"request\":\"join\",\"room\":\"a.b-c_9\",\"transaction\":7,\"x\":[1]}",
                        &q, &msg), ==, 0);
  g_assert_cmpint(json_integer_value(q.transaction), ==, 7);
  g_assert_null(q.display);
  tr_request_clear(&q);
}

static void test_textroom_parses_message_kick_list_leave(void) {
  tr_request q;
  char *msg;
  g_assert_cmpint(parse("{\"request\":\"message\",\"text\":\"hi \\u00e9\",\"to\":\"uAbc\"}", &q, &msg), ==, 0);
  g_assert_cmpint(q.type, ==, TR_REQ_MESSAGE);
  g_assert_cmpstr(q.text, ==, "hi \xc3\xa9");
  g_assert_cmpstr(q.to, ==, "uAbc");
  g_assert_null(q.room);
  g_assert_null(q.transaction);
  tr_request_clear(&q);
  g_assert_cmpint(parse("{\"request\":\"kick\",\"room\":\"r\",\"id\":\"u1\",\"secret\":\"s\"}", &q, &msg), ==, 0);
  g_assert_cmpint(q.type, ==, TR_REQ_KICK);
  g_assert_cmpstr(q.secret, ==, "s");
  tr_request_clear(&q);
  g_assert_cmpint(parse("{\"request\":\"list\"}", &q, &msg), ==, 0);
  g_assert_cmpint(q.type, ==, TR_REQ_LIST);
  tr_request_clear(&q);
  g_assert_cmpint(parse("{\"request\":\"leave\",\"room\":null}", &q, &msg), ==, 0);
  g_assert_cmpint(q.type, ==, TR_REQ_LEAVE);
  g_assert_null(q.room);
  tr_request_clear(&q);
}

/* Each case: the text, the expected code, whether the transaction survives. */
static void test_textroom_refuses_bad_requests(void) {
  static const struct {
    const char *text;
    int code;
    bool transaction;
  } cases[] = {
    { "{\"request\":\"join\"", SB_ERR_PARSE, false },
    { "", SB_ERR_PARSE, false },
    { "not json", SB_ERR_PARSE, false },
    { "[1,2]", SB_ERR_INVALID_REQUEST, false },
    { "\"join\"", SB_ERR_INVALID_REQUEST, false },
    { "{\"transaction\":\"t\"}", SB_ERR_INVALID_REQUEST, true },
    { "{\"request\":5,\"transaction\":\"t\"}", SB_ERR_INVALID_REQUEST, true },
    { "{\"request\":\"join\",\"transaction\":{}}", SB_ERR_INVALID_REQUEST, false },
    { "{\"request\":\"join\",\"transaction\":1.5}", SB_ERR_INVALID_REQUEST, false },
    { "{\"request\":\"shout\",\"transaction\":\"t\"}", SB_ERR_METHOD_NOT_FOUND, true },
    { "{\"request\":\"join\",\"transaction\":\"t\"}", SB_ERR_INVALID_PARAMS, true },
    { "{\"request\":\"join\",\"room\":\"a b\",\"transaction\":\"t\"}", SB_ERR_INVALID_PARAMS, true },
    { "{\"request\":\"join\",\"room\":\"\",\"transaction\":\"t\"}", SB_ERR_INVALID_PARAMS, true },
    { "{\"request\":\"join\",\"room\":7}", SB_ERR_INVALID_PARAMS, false },
    { "{\"request\":\"join\",\"room\":\"r\",\"display\":\"\"}", SB_ERR_INVALID_PARAMS, false },
    { "{\"request\":\"message\",\"transaction\":\"t\"}", SB_ERR_INVALID_PARAMS, true },
    { "{\"request\":\"message\",\"text\":\"\"}", SB_ERR_INVALID_PARAMS, false },
    { "{\"request\":\"message\",\"text\":\"x\",\"to\":1}", SB_ERR_INVALID_PARAMS, false },
    { "{\"request\":\"kick\",\"room\":\"r\"}", SB_ERR_INVALID_PARAMS, false },
    { "{\"request\":\"join\",\"room\":\"a\",\"room\":\"b\"}", SB_ERR_PARSE, false },
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    tr_request q;
    char *msg;
    int rc = parse(cases[i].text, &q, &msg);
    if (rc != cases[i].code)
      g_error("case %zu (%s): code %d, expected %d (%s)", i, cases[i].text, rc, cases[i].code, msg);
    g_assert_nonnull(msg);
    g_assert_cmpint(q.transaction != NULL, ==, cases[i].transaction);
    g_free(msg);
    tr_request_clear(&q);
  }
}

static void test_textroom_limits_sizes(void) {
  tr_request q;
  char *msg = NULL;
  const char *text = "{\"request\":\"list\"}";
  g_assert_cmpint(tr_request_parse((const uint8_t *)text, strlen(text), 10, &q, &msg), ==,
                  SB_ERR_TOO_LARGE);
  g_free(msg);
  tr_request_clear(&q);
  /* a display name of 64 characters (multi-byte) is fine, 65 is not */
  GString *s = g_string_new("{\"request\":\"join\",\"room\":\"r\",\"display\":\"");
  for (int i = 0; i < 64; i++)
    g_string_append(s, "\xc3\xa9");
  g_string_append(s, "\"}");
  g_assert_cmpint(parse(s->str, &q, &msg), ==, 0);
  tr_request_clear(&q);
  g_string_insert(s, s->len - 2, "x");
  g_assert_cmpint(parse(s->str, &q, &msg), ==, SB_ERR_INVALID_PARAMS);
  g_free(msg);
  tr_request_clear(&q);
  g_string_free(s, TRUE);
  /* a transaction over 128 bytes is refused */
  char *long_t = g_strdup_printf("{\"request\":\"list\",\"transaction\":\"%0129d\"}", 0);
  g_assert_cmpint(parse(long_t, &q, &msg), ==, SB_ERR_INVALID_REQUEST);
  g_assert_null(q.transaction);
  g_free(msg);
  g_free(long_t);
  tr_request_clear(&q);
}

static void test_textroom_builds_responses(void) {
  json_t *t = json_string("t9");
  json_t *ok = tr_success(t);
  char *s = json_dumps(ok, JSON_COMPACT | JSON_SORT_KEYS);
  g_assert_cmpstr(s, ==, "{\"response\":\"success\",\"transaction\":\"t9\"}");
  free(s);
  json_decref(ok);
  json_t *err = tr_error(t, SB_ERR_FORBIDDEN, "no");
  s = json_dumps(err, JSON_COMPACT | JSON_SORT_KEYS);
  g_assert_cmpstr(s, ==, "{\"code\":1080,\"message\":\"no\",\"response\":\"error\",\"transaction\":\"t9\"}");
  free(s);
  json_decref(err);
  err = tr_error(NULL, SB_ERR_PARSE, "bad");
  g_assert_null(json_object_get(err, "transaction"));
  json_decref(err);
  json_decref(t);
}

static void test_textroom_formats_dates(void) {
  char buf[32];
  tr_format_date(0, buf, sizeof buf);
  g_assert_cmpstr(buf, ==, "1970-01-01T00:00:00.000Z");
  tr_format_date(1700000000123456LL, buf, sizeof buf);
  g_assert_cmpstr(buf, ==, "2023-11-14T22:13:20.123Z");
}

static void test_textroom_compares_secrets(void) {
  g_assert_true(tr_secret_equal("s3cret", "s3cret"));
  g_assert_false(tr_secret_equal("s3cres", "s3cret"));
  g_assert_false(tr_secret_equal("s3cre", "s3cret"));
  g_assert_false(tr_secret_equal("s3crett", "s3cret"));
  g_assert_false(tr_secret_equal(NULL, "s3cret"));
  g_assert_false(tr_secret_equal("", ""));
  g_assert_false(tr_secret_equal("x", NULL));
}

static void assert_history(const tr_history *h, const int *want, int n) {
  json_t *a = tr_history_json(h);
  g_assert_cmpint(json_array_size(a), ==, n);
  for (int i = 0; i < n; i++)
    g_assert_cmpint(json_integer_value(json_array_get(a, (size_t)i)), ==, want[i]);
  json_decref(a);
}

static void test_textroom_history_keeps_last_n(void) {
  tr_history h;
  tr_history_init(&h, 3, 1000);
  for (int i = 0; i < 5; i++)
    tr_history_push(&h, json_integer(i), 10);
  assert_history(&h, (const int[]){ 2, 3, 4 }, 3);
  g_assert_cmpuint(h.bytes, ==, 30);
  tr_history_clear(&h);
  tr_history_init(&h, 0, 1000);      /* history off */
  tr_history_push(&h, json_integer(1), 1);
  assert_history(&h, NULL, 0);
  tr_history_clear(&h);
}

static void test_textroom_history_bounds_bytes(void) {
  tr_history h;
  tr_history_init(&h, 10, 100);
  for (int i = 0; i < 4; i++)
    tr_history_push(&h, json_integer(i), 30);   /* 4 x 30 > 100: the oldest goes */
  assert_history(&h, (const int[]){ 1, 2, 3 }, 3);
  tr_history_push(&h, json_integer(4), 80);     /* makes room by dropping three */
  assert_history(&h, (const int[]){ 4 }, 1);
  tr_history_push(&h, json_integer(5), 101);    /* alone over the limit: not kept */
  assert_history(&h, (const int[]){ 4 }, 1);
  g_assert_cmpuint(h.bytes, ==, 80);
  tr_history_clear(&h);
}

static void test_textroom_room_names(void) {
  g_assert_true(tr_room_name_valid("lobby"));
  g_assert_true(tr_room_name_valid("A-b_c.9"));
  g_assert_false(tr_room_name_valid(""));
  g_assert_false(tr_room_name_valid("a/b"));
  g_assert_false(tr_room_name_valid("caf\xc3\xa9"));
  char name[66];
  memset(name, 'a', 65);
  name[65] = '\0';
  g_assert_false(tr_room_name_valid(name));
  name[64] = '\0';
  g_assert_true(tr_room_name_valid(name));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/textroom/parses-join", test_textroom_parses_join);
  g_test_add_func("/textroom/parses-message-kick-list-leave", test_textroom_parses_message_kick_list_leave);
  g_test_add_func("/textroom/refuses-bad-requests", test_textroom_refuses_bad_requests);
  g_test_add_func("/textroom/limits-sizes", test_textroom_limits_sizes);
  g_test_add_func("/textroom/builds-responses", test_textroom_builds_responses);
  g_test_add_func("/textroom/formats-dates", test_textroom_formats_dates);
  g_test_add_func("/textroom/compares-secrets", test_textroom_compares_secrets);
  g_test_add_func("/textroom/history-keeps-last-n", test_textroom_history_keeps_last_n);
  g_test_add_func("/textroom/history-bounds-bytes", test_textroom_history_bounds_bytes);
  g_test_add_func("/textroom/room-names", test_textroom_room_names);
  return g_test_run();
}
