/* Switchboard — TURN REST API credentials for clients (core/turn.h). */
#include "core/turn.h"

#include <glib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include "core/log.h"
#include "core/module.h"
#include "core/util.h"

/* Shortest and longest username lifetime accepted from [turn] ttl. */
#define TTL_MIN_S 60
#define TTL_MAX_S (30 * 86400)

static sb_turn_config turn;   /* written at start-up (main thread), read-only afterwards */

static bool has_scheme(const char *url, const char *a, const char *b) {
  return g_str_has_prefix(url, a) || g_str_has_prefix(url, b);
}

int sb_turn_config_read(sb_config *cfg, sb_turn_config *out, char **error) {
  memset(out, 0, sizeof *out);
  char **urls = sb_config_get_list(cfg, "turn", "servers");
  out->secret = sb_config_get_string(cfg, "turn", "secret", "");
  out->ttl_s = (int)sb_config_get_int_range(cfg, "turn", "ttl", 86400, TTL_MIN_S, TTL_MAX_S);
  GPtrArray *stun = g_ptr_array_new(), *relay = g_ptr_array_new();
  int rc = 0;
  for (char **u = urls; u && *u && rc == 0; u++) {
    if (has_scheme(*u, "stun:", "stuns:")) {
      g_ptr_array_add(stun, g_strdup(*u));
    } else if (has_scheme(*u, "turn:", "turns:")) {
      g_ptr_array_add(relay, g_strdup(*u));
    } else {
      *error = g_strdup_printf("[turn] servers: \"%s\" is not a stun:, stuns:, turn: or turns: URL", *u);
      rc = -1;
    }
  }
  g_strfreev(urls);
  g_ptr_array_add(stun, NULL);
  g_ptr_array_add(relay, NULL);
  out->stun_urls = (char **)g_ptr_array_free(stun, FALSE);
  out->turn_urls = (char **)g_ptr_array_free(relay, FALSE);
  if (rc == 0 && out->turn_urls[0] && out->secret[0] == '\0') {
    *error = g_strdup("[turn] servers lists TURN URLs but [turn] secret is empty "
                      "(the TURN server's shared secret, coturn static-auth-secret)");
    rc = -1;
  }
  if (rc != 0)
    sb_turn_config_clear(out);
  return rc;
}

void sb_turn_config_clear(sb_turn_config *c) {
  g_strfreev(c->stun_urls);
  g_strfreev(c->turn_urls);
  g_free(c->secret);
  memset(c, 0, sizeof *c);
}

char *sb_turn_username(int64_t expiry, const char *identity) {
  return g_strdup_printf("%" G_GINT64_FORMAT ":%s", (gint64)expiry, identity ? identity : "");
}

char *sb_turn_password(const char *secret, const char *username) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (HMAC(EVP_sha1(), secret, (int)strlen(secret), (const unsigned char *)username,
           strlen(username), md, &md_len) == NULL)
    return g_strdup("");
  return g_base64_encode(md, md_len);
}

static json_t *url_array(char **urls) {
  json_t *a = json_array();
  for (char **u = urls; *u; u++)
    json_array_append_new(a, json_string(*u));
  return a;
}

json_t *sb_turn_ice_servers_for(const sb_turn_config *c, const char *identity, int64_t now_s) {
  bool stun = c->stun_urls && c->stun_urls[0];
  bool relay = c->turn_urls && c->turn_urls[0] && c->secret && c->secret[0];
  if (!stun && !relay)
    return NULL;
  json_t *servers = json_array();
  if (stun)
    json_array_append_new(servers, json_pack("{s:o}", "urls", url_array(c->stun_urls)));
  if (relay) {
    char *user = sb_turn_username(now_s + c->ttl_s, identity);
    char *pass = sb_turn_password(c->secret, user);
    json_array_append_new(servers, json_pack("{s:o, s:s, s:s}", "urls", url_array(c->turn_urls),
                                             "username", user, "credential", pass));
    g_free(user);
    g_free(pass);
  }
  return servers;
}

json_t *sb_turn_ice_servers(const char *identity) {
  return sb_turn_ice_servers_for(&turn, identity, sb_wall_us() / G_USEC_PER_SEC);
}

/* --- the process's configuration: read before the plugins start --- */

static int turn_start(sb_config *cfg) {
  char *error = NULL;
  if (sb_turn_config_read(cfg, &turn, &error) != 0) {
    sb_error("%s", error);
    g_free(error);
    return -1;
  }
  guint n = g_strv_length(turn.stun_urls) + g_strv_length(turn.turn_urls);
  if (n > 0)
    sb_info("turn: %u ICE server URL(s) for clients, credentials valid %d s", n, turn.ttl_s);
  return 0;
}

static void turn_stop(void) { sb_turn_config_clear(&turn); }

static const sb_module turn_module = {
  .name = "turn",
  .order = SB_ORDER_PLUGINS - 1,
  .start = turn_start,
  .stop = turn_stop,
};
SB_MODULE_REGISTER(turn_module)
