/* Switchboard — the STUN/TURN servers clients are told to use ([turn] section),
 * with time-limited TURN credentials in the TURN REST API scheme
 * (draft-uberti-behave-turn-rest-00 §2.2; coturn's use-auth-secret):
 *
 *   username   = "<expiry, Unix seconds>:<identity>"
 *   credential = base64(HMAC-SHA1(shared secret, username))
 *
 * The TURN server shares the secret (coturn --static-auth-secret) and accepts the
 * username until its expiry, so nothing is stored per user. The result is the
 * RTCPeerConnection iceServers list a method (room.join) hands to its client.
 * This is the clients' TURN; the server's own relayed candidates are [media]
 * turn_* (media/ice.c). */
#ifndef SB_CORE_TURN_H
#define SB_CORE_TURN_H

#include <jansson.h>
#include <stdint.h>

#include "core/config.h"

typedef struct sb_turn_config {
  char **stun_urls;   /* "stun:" / "stuns:" URLs (no credentials); NULL-terminated, maybe empty */
  char **turn_urls;   /* "turn:" / "turns:" URLs (credentials from secret); NULL-terminated */
  char *secret;       /* the shared secret; "" when unset */
  int ttl_s;          /* lifetime of a username, seconds */
} sb_turn_config;

/* Reads [turn] servers, secret, ttl into *out. Returns 0, or -1 with *error
 * (g_malloc'd) for a URL of another scheme or TURN URLs without a secret; *out
 * is then cleared. */
int sb_turn_config_read(sb_config *cfg, sb_turn_config *out, char **error);
void sb_turn_config_clear(sb_turn_config *c);

/* "<expiry>:<identity>" (g_malloc'd). */
char *sb_turn_username(int64_t expiry, const char *identity);
/* base64(HMAC-SHA1(secret, username)) (g_malloc'd). */
char *sb_turn_password(const char *secret, const char *username);

/* The iceServers list for identity at Unix time now_s: one entry with the STUN
 * URLs, one with the TURN URLs, username and credential (expiry now_s + ttl_s).
 * NULL when c lists no server. Pure. */
json_t *sb_turn_ice_servers_for(const sb_turn_config *c, const char *identity, int64_t now_s);
/* The same with the process's [turn] configuration and the current time; NULL
 * when none is configured. Any thread (the configuration is read at start-up). */
json_t *sb_turn_ice_servers(const char *identity);

#endif
