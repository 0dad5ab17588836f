/* Switchboard — authentication: JWT access tokens and the roles they grant.
 *
 * A token (RFC 7519, compact JWS) is verified with libjwt against the keys of
 * [auth]: an HS256 shared secret and/or a public key (PEM) whose type decides
 * the one asymmetric algorithm accepted (RSA: RS256, EC P-256: ES256). The
 * token's header names its algorithm, and only an algorithm a configured key
 * allows is tried, with that key: "none" never, and never HS256 keyed with the
 * public key's text (algorithm confusion). Claims: room (a room name or "*"),
 * role (guest | user | moderator), sub (identity), exp (required), nbf; iss and
 * aud when [auth] issuer / audience are set.
 *
 * Roles are ordered: a moderator may do what a user may, a user what a guest
 * may. Every JSON-RPC method declares the least role it needs (sb_method.role in
 * core/plugin.h); signaling checks it before the handler runs, and checks a
 * "room" param against the token's room claim. A session keeps the claims of
 * the last token it presented (room.join's or any method's "token" param, the
 * "auth" method, or ?token= on the WebSocket URL). With [auth] anonymous = true
 * a session without a token is a user of every room (development and demos).
 *
 * Threads: sb_auth_verify* and the sb_claims helpers are pure and thread-safe
 * once the module started; the session and request helpers run on the
 * signaling thread. */
#ifndef SB_CORE_AUTH_H
#define SB_CORE_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "core/http.h"
#include "core/session.h"

typedef enum sb_role {
  SB_ROLE_UNDECLARED = 0,        /* a method entry without a role: refused at start-up */
  SB_ROLE_NONE,                  /* callable without a token (ping, bye, trickle, auth) */
  SB_ROLE_GUEST,                 /* joins rooms and subscribes */
  SB_ROLE_USER,                  /* also publishes (rooms, WHIP, echo test, text rooms) */
  SB_ROLE_MODERATOR,             /* also kicks, mutes others, creates/destroys/locks rooms */
} sb_role;

#define SB_CLAIM_ROOM_LEN 65
#define SB_CLAIM_SUB_LEN 129
#define SB_TOKEN_MAX_LEN 8192

typedef struct sb_claims {
  sb_role role;
  char room[SB_CLAIM_ROOM_LEN];  /* a room name, or "*" for every room */
  char sub[SB_CLAIM_SUB_LEN];    /* identity; "" when the token has none */
  int64_t exp;                   /* unix seconds; 0 for anonymous claims */
  int64_t nbf;                   /* unix seconds; 0 when absent */
  bool anonymous;                /* no token: [auth] anonymous */
} sb_claims;

/* "guest", "user", "moderator" (and "none"); sb_role_parse is -1 for others. */
const char *sb_role_name(sb_role r);
int sb_role_parse(const char *name);

/* --- verification (pure) --- */

typedef struct sb_auth sb_auth;

/* A verifier. hs256_secret may be NULL (no HS256); public_key_pem (PEM text of
 * an RSA or EC P-256 public key) may be NULL. NULL and *err on a bad key. */
sb_auth *sb_auth_new(const char *hs256_secret, const char *public_key_pem, char **err);
/* Leeway for exp/nbf in seconds; issuer/audience required when not NULL. */
void sb_auth_set_rules(sb_auth *a, int clock_skew_s, const char *issuer, const char *audience);
void sb_auth_free(sb_auth *a);
/* The algorithms a verifier accepts, e.g. "HS256, ES256" ("" for none). */
const char *sb_auth_algorithms(const sb_auth *a);
/* Verifies token at time now (unix seconds): 0 and *out filled, or
 * SB_ERR_UNAUTHORIZED and *err (g_malloc'd) saying why. */
int sb_auth_verify_at(const sb_auth *a, const char *token, int64_t now, sb_claims *out, char **err);

/* The process's verifier ([auth], set up by the auth module), at the current time. */
int sb_auth_verify(const char *token, sb_claims *out, char **err);
bool sb_auth_anonymous(void);

/* Whether the claims cover a room ("*" or that name). */
bool sb_claims_room_ok(const sb_claims *c, const char *room);
/* May the holder of c act on room (NULL: no particular room) with a method that
 * needs role need at time now? 0, or SB_ERR_UNAUTHORIZED (expired),
 * SB_ERR_ROLE or SB_ERR_WRONG_ROOM with *msg. */
int sb_claims_check(const sb_claims *c, const char *room, sb_role need, int64_t now, char **msg);

/* --- sessions and requests (signaling thread) --- */

/* Verifies a token for a session and keeps its claims (replacing earlier ones).
 * On failure the session keeps none and remembers why (later methods say it). */
int sb_auth_session_token(sb_session *s, const char *token, char **err);
/* The claims a session acts with: its token's, anonymous ones, or NULL. */
const sb_claims *sb_auth_session_claims(sb_session *s);
/* Before a method runs: takes params.token if present, then checks the role
 * and params.room. false: the request has been answered with the error. */
bool sb_auth_admit(sb_request *req, sb_role need);
/* A plugin's check for a room it resolved itself (the caller's room); false:
 * answered. Internal requests (admin API) always pass. */
bool sb_auth_require(sb_request *req, const char *room, sb_role need);

/* An HTTP request (WHIP/WHEP): "Authorization: Bearer <token>" or ?token=.
 * 0 and *out, or the error code (SB_ERR_UNAUTHORIZED: answer 401,
 * SB_ERR_ROLE / SB_ERR_WRONG_ROOM: 403) with *msg. */
int sb_auth_http(sb_http_request *r, const char *room, sb_role need, sb_claims *out, char **msg);

#endif
