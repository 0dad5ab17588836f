/* Unit tests for core/turn: TURN REST API credentials (username "expiry:identity",
 * password base64(HMAC-SHA1(secret, username))) checked against vectors computed
 * independently (Python's hmac and GLib's HMAC), the iceServers list, and the
 * [turn] configuration's checks. */
#include "core/turn.h"

#include <glib.h>
#include <string.h>

static sb_config *load(const char *text) {
  char *err = NULL;
  sb_config *cfg = sb_config_load_data(text, &err);
  if (cfg == NULL)
    g_error("config did not load: %s", err);
  return cfg;
}

static void test_turn_username_is_expiry_colon_identity(void) {
  char *u = sb_turn_username(1700086400, "Xk3v9QpZr2LmA8Tb");
  g_assert_cmpstr(u, ==, "1700086400:Xk3v9QpZr2LmA8Tb");
  g_free(u);
}

static void test_turn_password_matches_known_vectors(void) {
  /* python3: base64.b64encode(hmac.new(secret, username, hashlib.sha1).digest()) */
  char *p = sb_turn_password("north", "1700086400:Xk3v9QpZr2LmA8Tb");
  g_assert_cmpstr(p, ==, "43KdJrbs7lDSRll733HAjOMaL3w=");
  g_free(p);
  p = sb_turn_password("secret", "1433895918:user");
  g_assert_cmpstr(p, ==, "duY86vsmGEXM+Ma7pGS//SXJIv0=");
  g_free(p);
}

static void test_turn_password_matches_glib_hmac(void) {
  const char *secret = "a longer shared secret, with spaces";
  const char *user = "1999999999:someone@example.org";
  char *p = sb_turn_password(secret, user);
  guint8 digest[20];
  gsize len = sizeof digest;
  GHmac *h = g_hmac_new(G_CHECKSUM_SHA1, (const guchar *)secret, strlen(secret));
  g_hmac_update(h, (const guchar *)user, -1);
  g_hmac_get_digest(h, digest, &len);
  g_hmac_unref(h);
  char *expect = g_base64_encode(digest, len);
  g_assert_cmpstr(p, ==, expect);
  g_free(expect);
  g_free(p);
}

static void test_turn_ice_servers_carry_credentials(void) {
  sb_config *cfg = load("[turn]\n"
                        "servers = stun:127.0.0.1:3478, turn:127.0.0.1:3478?transport=udp, "
                        "turn:127.0.0.1:3478?transport=tcp\n"
                        "secret = north\n"
                        "ttl = 86400\n");
  sb_turn_config c;
  char *err = NULL;
  g_assert_cmpint(sb_turn_config_read(cfg, &c, &err), ==, 0);
  g_assert_null(err);
  json_t *servers = sb_turn_ice_servers_for(&c, "Xk3v9QpZr2LmA8Tb", 1700000000);
  g_assert_nonnull(servers);
  g_assert_cmpuint(json_array_size(servers), ==, 2);
  json_t *stun = json_array_get(servers, 0), *relay = json_array_get(servers, 1);
  g_assert_cmpuint(json_array_size(json_object_get(stun, "urls")), ==, 1);
  g_assert_null(json_object_get(stun, "username"));
  json_t *urls = json_object_get(relay, "urls");
  g_assert_cmpuint(json_array_size(urls), ==, 2);
  g_assert_cmpstr(json_string_value(json_array_get(urls, 1)), ==, "turn:127.0.0.1:3478?transport=tcp");
  g_assert_cmpstr(json_string_value(json_object_get(relay, "username")), ==,
                  "1700086400:Xk3v9QpZr2LmA8Tb");
  g_assert_cmpstr(json_string_value(json_object_get(relay, "credential")), ==,
                  "43KdJrbs7lDSRll733HAjOMaL3w=");
  json_decref(servers);
  sb_turn_config_clear(&c);
  sb_config_free(cfg);
}

static void test_turn_nothing_configured_gives_no_ice_servers(void) {
  sb_config *cfg = load("[http]\nport = 1\n");
  sb_turn_config c;
  char *err = NULL;
  g_assert_cmpint(sb_turn_config_read(cfg, &c, &err), ==, 0);
  g_assert_cmpint(c.ttl_s, ==, 86400);
  g_assert_null(sb_turn_ice_servers_for(&c, "x", 1700000000));
  sb_turn_config_clear(&c);
  sb_config_free(cfg);
}

static void test_turn_stun_only_needs_no_secret(void) {
  sb_config *cfg = load("[turn]\nservers = stun:stun.example.org:3478\n");
  sb_turn_config c;
  char *err = NULL;
  g_assert_cmpint(sb_turn_config_read(cfg, &c, &err), ==, 0);
  json_t *servers = sb_turn_ice_servers_for(&c, "x", 1700000000);
  g_assert_cmpuint(json_array_size(servers), ==, 1);
  g_assert_null(json_object_get(json_array_get(servers, 0), "credential"));
  json_decref(servers);
  sb_turn_config_clear(&c);
  sb_config_free(cfg);
}

static void test_turn_urls_without_secret_are_refused(void) {
  sb_config *cfg = load("[turn]\nservers = turn:127.0.0.1:3478\n");
  sb_turn_config c;
  char *err = NULL;
  g_assert_cmpint(sb_turn_config_read(cfg, &c, &err), ==, -1);
  g_assert_nonnull(strstr(err, "secret"));
  g_assert_null(c.turn_urls);
  g_free(err);
  sb_config_free(cfg);
}

static void test_turn_unknown_scheme_is_refused(void) {
  sb_config *cfg = load("[turn]\nservers = http://127.0.0.1:3478\nsecret = s\n");
  sb_turn_config c;
  char *err = NULL;
  g_assert_cmpint(sb_turn_config_read(cfg, &c, &err), ==, -1);
  g_assert_nonnull(strstr(err, "http://127.0.0.1:3478"));
  g_free(err);
  sb_config_free(cfg);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/turn/username-is-expiry-colon-identity", test_turn_username_is_expiry_colon_identity);
  g_test_add_func("/turn/password-matches-known-vectors", test_turn_password_matches_known_vectors);
  g_test_add_func("/turn/password-matches-glib-hmac", test_turn_password_matches_glib_hmac);
  g_test_add_func("/turn/ice-servers-carry-credentials", test_turn_ice_servers_carry_credentials);
  g_test_add_func("/turn/nothing-configured-gives-no-ice-servers",
                  test_turn_nothing_configured_gives_no_ice_servers);
  g_test_add_func("/turn/stun-only-needs-no-secret", test_turn_stun_only_needs_no_secret);
  g_test_add_func("/turn/urls-without-secret-are-refused", test_turn_urls_without_secret_are_refused);
  g_test_add_func("/turn/unknown-scheme-is-refused", test_turn_unknown_scheme_is_refused);
  return g_test_run();
}
