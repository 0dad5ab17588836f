/* Unit tests for core/log's JSON format: one object per line with time (ISO 8601
 * UTC, milliseconds), level, thread and msg; quotes, backslashes and control
 * characters escaped; bytes that are not UTF-8 replaced so the line still
 * parses; an attached event kept as a JSON value. */
#include <glib.h>
#include <jansson.h>
#include <string.h>

#include "core/log.h"

/* 2026-11-29T14:04:05.123Z */
#define T_US (INT64_C(1795961045) * 1000000 + 123456)

static json_t *parse_line(const char *line) {
  g_assert_null(strchr(line, '\n'));
  json_error_t err;
  json_t *v = json_loads(line, 0, &err);
  if (v == NULL)
    g_error("not JSON: %s (%s)", line, err.text);
  g_assert_true(json_is_object(v));
  return v;
}

static void test_log_json_line_has_time_level_thread_msg(void) {
  char *line = sb_log_json_line(T_US, SB_LOG_WARN, "worker-1", "room demo: p1 joined", NULL);
  g_assert_cmpstr(line, ==,
                  "{\"time\":\"2026-11-29T14:04:05.123Z\",\"level\":\"warn\",\"thread\":\"worker-1\","
                  "\"msg\":\"room demo: p1 joined\"}");
  json_t *v = parse_line(line);
  g_assert_cmpuint(json_object_size(v), ==, 4);
  json_decref(v);
  g_free(line);
}

static void test_log_json_escapes_quotes_backslashes_and_controls(void) {
  const char *msg = "say \"hi\" \\ path\ttab\nnewline\r\x01\x1f\x7f end";
  char *line = sb_log_json_line(T_US, SB_LOG_INFO, "main", msg, NULL);
  g_assert_nonnull(strstr(line, "say \\\"hi\\\" \\\\ path\\ttab\\nnewline\\r\\u0001\\u001f\\u007f end"));
  json_t *v = parse_line(line);
  g_assert_cmpstr(json_string_value(json_object_get(v, "msg")), ==, msg);
  json_decref(v);
  g_free(line);
}

static void test_log_json_keeps_utf8_and_replaces_invalid_bytes(void) {
  /* "Zoë 日本" is valid; \xff and a cut-off 3-byte sequence are not. */
  char *line = sb_log_json_line(T_US, SB_LOG_INFO, "main", "Zo\xc3\xab \xe6\x97\xa5\xe6\x9c\xac \xff x \xe6\x97", NULL);
  json_t *v = parse_line(line);
  g_assert_cmpstr(json_string_value(json_object_get(v, "msg")), ==,
                  "Zo\xc3\xab \xe6\x97\xa5\xe6\x9c\xac \xef\xbf\xbd x \xef\xbf\xbd\xef\xbf\xbd");
  json_decref(v);
  g_free(line);
}

static void test_log_json_attaches_an_event_object(void) {
  char *line = sb_log_json_line(T_US, SB_LOG_INFO, "worker-0", "event room.created",
                                "{\"type\":\"room.created\",\"seq\":1,\"data\":{\"room\":\"demo\"}}");
  json_t *v = parse_line(line);
  json_t *ev = json_object_get(v, "event");
  g_assert_true(json_is_object(ev));
  g_assert_cmpstr(json_string_value(json_object_get(json_object_get(ev, "data"), "room")), ==, "demo");
  json_decref(v);
  g_free(line);
}

static void test_log_json_time_pads_milliseconds(void) {
  char *line = sb_log_json_line(INT64_C(1795961045) * 1000000 + 7000, SB_LOG_ERROR, "", "", NULL);
  g_assert_true(g_str_has_prefix(line, "{\"time\":\"2026-11-29T14:04:05.007Z\",\"level\":\"error\""));
  json_decref(parse_line(line));
  g_free(line);
}

static void test_log_format_names_parse(void) {
  g_assert_cmpint(sb_log_format_parse("text"), ==, SB_LOG_FORMAT_TEXT);
  g_assert_cmpint(sb_log_format_parse("JSON"), ==, SB_LOG_FORMAT_JSON);
  g_assert_cmpint(sb_log_format_parse("xml"), ==, -1);
  g_assert_cmpint(sb_log_format_parse(NULL), ==, -1);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/log/json-line-has-time-level-thread-msg",
                  test_log_json_line_has_time_level_thread_msg);
  g_test_add_func("/log/json-escapes-quotes-backslashes-and-controls",
                  test_log_json_escapes_quotes_backslashes_and_controls);
  g_test_add_func("/log/json-keeps-utf8-and-replaces-invalid-bytes",
                  test_log_json_keeps_utf8_and_replaces_invalid_bytes);
  g_test_add_func("/log/json-attaches-an-event-object", test_log_json_attaches_an_event_object);
  g_test_add_func("/log/json-time-pads-milliseconds", test_log_json_time_pads_milliseconds);
  g_test_add_func("/log/format-names-parse", test_log_format_names_parse);
  return g_test_run();
}
