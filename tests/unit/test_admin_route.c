/* Unit tests for signaling/admin_route: the admin API's route table, path
 * matching with captures, 404 vs 405 (with the Allow list), the Bearer header
 * parser and the token comparison. */
#include "signaling/admin_route.h"

#include <glib.h>
#include <string.h>

static const char *action_of(const char *method, const char *path, json_t *captures) {
  int i = sb_admin_route_match(method, path, captures, NULL, 0);
  return i >= 0 ? sb_admin_route_get(i)->action : NULL;
}

static void test_admin_route_matches_fixed_paths(void) {
  g_assert_cmpstr(action_of("GET", "/admin/v1/info", NULL), ==, "server.info");
  g_assert_cmpstr(action_of("GET", "/admin/v1/rooms", NULL), ==, "rooms.list");
  g_assert_cmpstr(action_of("POST", "/admin/v1/rooms", NULL), ==, "rooms.create");
  g_assert_cmpstr(action_of("PUT", "/admin/v1/loglevel", NULL), ==, "loglevel.set");
  g_assert_cmpstr(action_of("GET", "/admin/v1/loglevel", NULL), ==, "loglevel.get");
}

static void test_admin_route_captures_room_and_participant(void) {
  json_t *c = json_object();
  g_assert_cmpstr(action_of("POST", "/admin/v1/rooms/demo.1/participants/pAbc12345/kick", c), ==,
                  "participants.kick");
  g_assert_cmpstr(json_string_value(json_object_get(c, "room")), ==, "demo.1");
  g_assert_cmpstr(json_string_value(json_object_get(c, "participant")), ==, "pAbc12345");
  g_assert_cmpuint(json_object_size(c), ==, 2);
  json_object_clear(c);
  g_assert_cmpstr(action_of("DELETE", "/admin/v1/rooms/r", c), ==, "rooms.destroy");
  g_assert_cmpstr(json_string_value(json_object_get(c, "room")), ==, "r");
  g_assert_cmpuint(json_object_size(c), ==, 1);
  json_decref(c);
}

static void test_admin_route_ignores_one_trailing_slash(void) {
  g_assert_cmpstr(action_of("GET", "/admin/v1/rooms/", NULL), ==, "rooms.list");
  g_assert_cmpstr(action_of("GET", "/admin/v1/rooms/x/", NULL), ==, "rooms.get");
  g_assert_cmpint(sb_admin_route_match("GET", "/admin/v1/rooms//", NULL, NULL, 0), ==, SB_ADMIN_NO_PATH);
}

static void test_admin_route_unknown_path_is_404(void) {
  const char *paths[] = { "/", "/admin", "/admin/v1", "/admin/v2/info", "/admin/v1/info/x",
                          "/admin/v1/rooms/r/participants", "/admin/v1/rooms/r/participants/p/ban",
                          "/admin/v1/INFO", "" };
  for (size_t i = 0; i < G_N_ELEMENTS(paths); i++)
    g_assert_cmpint(sb_admin_route_match("GET", paths[i], NULL, NULL, 0), ==, SB_ADMIN_NO_PATH);
}

static void test_admin_route_known_path_other_method_is_405_with_allow(void) {
  char allow[64];
  g_assert_cmpint(sb_admin_route_match("PATCH", "/admin/v1/rooms/r", NULL, allow, sizeof allow), ==,
                  SB_ADMIN_BAD_METHOD);
  g_assert_cmpstr(allow, ==, "GET, DELETE");
  g_assert_cmpint(sb_admin_route_match("DELETE", "/admin/v1/info", NULL, allow, sizeof allow), ==,
                  SB_ADMIN_BAD_METHOD);
  g_assert_cmpstr(allow, ==, "GET");
  g_assert_cmpint(sb_admin_route_match("GET", "/admin/v1/rooms/r/participants/p/kick", NULL, allow,
                                       sizeof allow), ==, SB_ADMIN_BAD_METHOD);
  g_assert_cmpstr(allow, ==, "POST");
}

static void test_admin_route_table_has_unique_method_and_pattern(void) {
  GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  for (int i = 0; i < sb_admin_route_count(); i++) {
    const sb_admin_route *r = sb_admin_route_get(i);
    g_assert_true(g_str_has_prefix(r->pattern, "/admin/v1/"));
    g_assert_true(r->status == 200 || r->status == 201);
    char *key = g_strdup_printf("%s %s", r->method, r->pattern);
    g_assert_false(g_hash_table_contains(seen, key));
    g_hash_table_add(seen, key);
  }
  g_assert_null(sb_admin_route_get(sb_admin_route_count()));
  g_assert_null(sb_admin_route_get(-1));
  g_hash_table_destroy(seen);
}

static void test_admin_bearer_token_parses_the_header(void) {
  char t[16];
  g_assert_true(sb_admin_bearer_token("Bearer abc", t, sizeof t));
  g_assert_cmpstr(t, ==, "abc");
  g_assert_true(sb_admin_bearer_token("  bearer   x-y.z  ", t, sizeof t));
  g_assert_cmpstr(t, ==, "x-y.z");
  g_assert_false(sb_admin_bearer_token(NULL, t, sizeof t));
  g_assert_false(sb_admin_bearer_token("Basic YTpi", t, sizeof t));
  g_assert_false(sb_admin_bearer_token("Bearer", t, sizeof t));
  g_assert_false(sb_admin_bearer_token("Bearer    ", t, sizeof t));
  g_assert_false(sb_admin_bearer_token("Bearerabc", t, sizeof t));
  g_assert_false(sb_admin_bearer_token("Bearer 0123456789abcdef", t, sizeof t)); /* does not fit */
}

static void test_admin_token_equal_needs_the_exact_token(void) {
  g_assert_true(sb_admin_token_equal("s3cret", "s3cret"));
  g_assert_false(sb_admin_token_equal("s3cre", "s3cret"));
  g_assert_false(sb_admin_token_equal("s3cret2", "s3cret"));
  g_assert_false(sb_admin_token_equal("S3cret", "s3cret"));
  g_assert_false(sb_admin_token_equal("", ""));
  g_assert_false(sb_admin_token_equal(NULL, "s3cret"));
  g_assert_false(sb_admin_token_equal("s3cret", NULL));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/admin_route/matches_fixed_paths", test_admin_route_matches_fixed_paths);
  g_test_add_func("/admin_route/captures_room_and_participant", test_admin_route_captures_room_and_participant);
  g_test_add_func("/admin_route/ignores_one_trailing_slash", test_admin_route_ignores_one_trailing_slash);
  g_test_add_func("/admin_route/unknown_path_is_404", test_admin_route_unknown_path_is_404);
  g_test_add_func("/admin_route/known_path_other_method_is_405_with_allow",
                  test_admin_route_known_path_other_method_is_405_with_allow);
  g_test_add_func("/admin_route/table_has_unique_method_and_pattern",
                  test_admin_route_table_has_unique_method_and_pattern);
  g_test_add_func("/admin_route/bearer_token_parses_the_header", test_admin_bearer_token_parses_the_header);
  g_test_add_func("/admin_route/token_equal_needs_the_exact_token", test_admin_token_equal_needs_the_exact_token);
  return g_test_run();
}
