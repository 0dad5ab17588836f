/* Switchboard — authentication: JWT verification with libjwt, role checks, the
 * [auth] module and the claims a session acts with (core/auth.h). */
#include "core/auth.h"

#include <glib.h>
#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <string.h>

#include "core/config.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/module.h"
#include "core/util.h"

struct sb_auth {
  char *secret;                  /* HS256 key, or NULL */
  size_t secret_len;
  char *pem;                     /* the public key's PEM text, or NULL */
  jwt_alg_t pem_alg;             /* JWT_ALG_RS256 or JWT_ALG_ES256 for pem */
  int clock_skew;
  char *issuer;
  char *audience;
  char algorithms[32];
};

const char *sb_role_name(sb_role r) {
  switch (r) {
  case SB_ROLE_NONE:
    return "none";
  case SB_ROLE_GUEST:
    return "guest";
  case SB_ROLE_USER:
    return "user";
  case SB_ROLE_MODERATOR:
    return "moderator";
  default:
    return "undeclared";
  }
}

int sb_role_parse(const char *name) {
  static const sb_role roles[] = { SB_ROLE_GUEST, SB_ROLE_USER, SB_ROLE_MODERATOR };
  for (size_t i = 0; name && i < G_N_ELEMENTS(roles); i++)
    if (strcmp(name, sb_role_name(roles[i])) == 0)
      return (int)roles[i];
  return -1;
}

/* --- keys --- */

/* The one asymmetric algorithm a public key allows (RFC 7518 §3.1), or
 * JWT_ALG_NONE with *err. */
static jwt_alg_t key_algorithm(const char *pem, char **err) {
  BIO *bio = BIO_new_mem_buf(pem, -1);
  EVP_PKEY *key = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
  BIO_free(bio);
  if (key == NULL) {
    *err = g_strdup("not a PEM public key (-----BEGIN PUBLIC KEY-----)");
    return JWT_ALG_NONE;
  }
  jwt_alg_t alg = JWT_ALG_NONE;
  char group[64] = "";
  size_t glen = 0;
  switch (EVP_PKEY_get_base_id(key)) {
  case EVP_PKEY_RSA:
    if (EVP_PKEY_get_bits(key) < 2048)
      *err = g_strdup_printf("an RSA key of %d bits is too short (2048 at least)", EVP_PKEY_get_bits(key));
    else
      alg = JWT_ALG_RS256;
    break;
  case EVP_PKEY_EC:
    /* ES256 is ECDSA on P-256 only (RFC 7518 §3.4). */
    if (EVP_PKEY_get_group_name(key, group, sizeof group, &glen) == 1 && strcmp(group, "prime256v1") == 0)
      alg = JWT_ALG_ES256;
    else
      *err = g_strdup_printf("an EC key on curve %s: ES256 needs P-256 (prime256v1)", group[0] ? group : "?");
    break;
  default:
    *err = g_strdup("the public key is neither RSA (RS256) nor EC P-256 (ES256)");
  }
  EVP_PKEY_free(key);
  return alg;
}

sb_auth *sb_auth_new(const char *hs256_secret, const char *public_key_pem, char **err) {
  sb_auth *a = g_new0(sb_auth, 1);
  if (hs256_secret && *hs256_secret) {
    a->secret = g_strdup(hs256_secret);
    a->secret_len = strlen(hs256_secret);
  }
  if (public_key_pem && *public_key_pem) {
    a->pem_alg = key_algorithm(public_key_pem, err);
    if (a->pem_alg == JWT_ALG_NONE) {
      sb_auth_free(a);
      return NULL;
    }
    a->pem = g_strdup(public_key_pem);
  }
  g_snprintf(a->algorithms, sizeof a->algorithms, "%s%s%s", a->secret ? "HS256" : "",
             a->secret && a->pem ? ", " : "", a->pem ? jwt_alg_str(a->pem_alg) : "");
  a->clock_skew = 30;
  return a;
}

void sb_auth_set_rules(sb_auth *a, int clock_skew_s, const char *issuer, const char *audience) {
  a->clock_skew = clock_skew_s < 0 ? 0 : clock_skew_s;
  g_free(a->issuer);
  g_free(a->audience);
  a->issuer = issuer && *issuer ? g_strdup(issuer) : NULL;
  a->audience = audience && *audience ? g_strdup(audience) : NULL;
}

void sb_auth_free(sb_auth *a) {
  if (a == NULL)
    return;
  if (a->secret)
    memset(a->secret, 0, a->secret_len);
  g_free(a->secret);
  g_free(a->pem);
  g_free(a->issuer);
  g_free(a->audience);
  g_free(a);
}

const char *sb_auth_algorithms(const sb_auth *a) { return a ? a->algorithms : ""; }

/* --- tokens --- */

/* The token's header (its first segment, base64url JSON, RFC 7515 §7.1), or NULL. */
static json_t *token_header(const char *token, size_t seg_len) {
  if (seg_len == 0 || seg_len > 2048)
    return NULL;
  char *b64 = g_malloc(seg_len + 4);
  size_t n = 0;
  for (size_t i = 0; i < seg_len; i++) {
    char ch = token[i];
    if (ch == '-')
      ch = '+';
    else if (ch == '_')
      ch = '/';
    else if (!g_ascii_isalnum(ch)) {
      g_free(b64);
      return NULL;
    }
    b64[n++] = ch;
  }
  while (n % 4)
    b64[n++] = '=';
  b64[n] = '\0';
  gsize len = 0;
  guchar *raw = g_base64_decode(b64, &len);
  g_free(b64);
  json_t *h = raw ? json_loadb((const char *)raw, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
  g_free(raw);
  if (h && !json_is_object(h)) {
    json_decref(h);
    h = NULL;
  }
  return h;
}

static bool is_number(const json_t *v) { return json_is_integer(v) || json_is_real(v); }
static int64_t number_of(const json_t *v) {
  return json_is_integer(v) ? (int64_t)json_integer_value(v) : (int64_t)json_real_value(v);
}

static bool valid_room_claim(const char *room) {
  size_t n = strlen(room);
  if (strcmp(room, "*") == 0)
    return true;
  if (n == 0 || n >= SB_CLAIM_ROOM_LEN)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!g_ascii_isalnum(room[i]) && room[i] != '_' && room[i] != '-' && room[i] != '.')
      return false;
  return true;
}

/* RFC 7519 §4.1.3: "aud" is one string or an array of them. */
static bool audience_ok(const json_t *aud, const char *want) {
  if (json_is_string(aud))
    return strcmp(json_string_value(aud), want) == 0;
  for (size_t i = 0; i < json_array_size(aud); i++) {
    const json_t *v = json_array_get(aud, i);
    if (json_is_string(v) && strcmp(json_string_value(v), want) == 0)
      return true;
  }
  return false;
}

/* The claims of a verified token's payload (RFC 7519 §4.1). */
static int read_claims(const sb_auth *a, json_t *p, int64_t now, sb_claims *out, char **err) {
  json_t *exp = json_object_get(p, "exp"), *nbf = json_object_get(p, "nbf");
  json_t *role = json_object_get(p, "role"), *room = json_object_get(p, "room");
  json_t *sub = json_object_get(p, "sub");
  if (!is_number(exp)) {
    *err = g_strdup("the token has no \"exp\" (expiry) claim");
    return SB_ERR_UNAUTHORIZED;
  }
  if (nbf && !is_number(nbf)) {
    *err = g_strdup("the token's \"nbf\" claim is not a number");
    return SB_ERR_UNAUTHORIZED;
  }
  out->exp = number_of(exp);
  out->nbf = nbf ? number_of(nbf) : 0;
  if (now > out->exp + a->clock_skew) {
    *err = g_strdup_printf("the token expired %" G_GINT64_FORMAT " s ago", now - out->exp);
    return SB_ERR_UNAUTHORIZED;
  }
  if (out->nbf && now + a->clock_skew < out->nbf) {
    *err = g_strdup_printf("the token is not valid for another %" G_GINT64_FORMAT " s (nbf)", out->nbf - now);
    return SB_ERR_UNAUTHORIZED;
  }
  if (a->issuer && (!json_is_string(json_object_get(p, "iss")) ||
                    strcmp(json_string_value(json_object_get(p, "iss")), a->issuer) != 0)) {
    *err = g_strdup("the token's issuer (\"iss\") is not the one configured");
    return SB_ERR_UNAUTHORIZED;
  }
  if (a->audience && !audience_ok(json_object_get(p, "aud"), a->audience)) {
    *err = g_strdup("the token is not for this audience (\"aud\")");
    return SB_ERR_UNAUTHORIZED;
  }
  int r = json_is_string(role) ? sb_role_parse(json_string_value(role)) : -1;
  if (r < 0) {
    *err = g_strdup("the token's \"role\" claim is not \"guest\", \"user\" or \"moderator\"");
    return SB_ERR_UNAUTHORIZED;
  }
  if (!json_is_string(room) || !valid_room_claim(json_string_value(room))) {
    *err = g_strdup("the token's \"room\" claim is not a room name or \"*\"");
    return SB_ERR_UNAUTHORIZED;
  }
  if (sub && (!json_is_string(sub) || strlen(json_string_value(sub)) >= SB_CLAIM_SUB_LEN)) {
    *err = g_strdup("the token's \"sub\" claim is not a string of at most 128 bytes");
    return SB_ERR_UNAUTHORIZED;
  }
  out->role = (sb_role)r;
  g_strlcpy(out->room, json_string_value(room), sizeof out->room);
  g_strlcpy(out->sub, sub ? json_string_value(sub) : "", sizeof out->sub);
  out->anonymous = false;
  return 0;
}

int sb_auth_verify_at(const sb_auth *a, const char *token, int64_t now, sb_claims *out, char **err) {
  memset(out, 0, sizeof *out);
  *err = NULL;
  size_t len = token ? strnlen(token, SB_TOKEN_MAX_LEN + 1) : 0;
  if (len == 0 || len > SB_TOKEN_MAX_LEN) {
    *err = g_strdup(len ? "the token is too long" : "the token is empty");
    return SB_ERR_UNAUTHORIZED;
  }
  /* Compact JWS: header.payload.signature, base64url only (RFC 7515 §7.1). */
  const char *dot1 = strchr(token, '.');
  const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
  if (dot1 == NULL || dot2 == NULL || strchr(dot2 + 1, '.') || dot2[1] == '\0') {
    *err = g_strdup("not a signed JWT (header.payload.signature)");
    return SB_ERR_UNAUTHORIZED;
  }
  json_t *header = token_header(token, (size_t)(dot1 - token));
  const char *alg_name = json_string_value(json_object_get(header, "alg"));
  jwt_alg_t alg = alg_name ? jwt_str_alg(alg_name) : JWT_ALG_INVAL;
  const unsigned char *key = NULL;
  int key_len = 0;
  /* The key follows from the algorithm and the algorithm must be one a
   * configured key allows: no "none", and an HMAC is never keyed with the
   * public key's text. */
  if (a && alg == JWT_ALG_HS256 && a->secret) {
    key = (const unsigned char *)a->secret;
    key_len = (int)a->secret_len;
  } else if (a && a->pem && alg == a->pem_alg) {
    key = (const unsigned char *)a->pem;
    key_len = (int)strlen(a->pem);
  }
  if (header == NULL || json_object_get(header, "crit")) {
    *err = g_strdup(header ? "the token has critical header parameters this server does not know"
                           : "the token's header is not base64url JSON");
  } else if (key == NULL) {
    *err = g_strdup_printf("algorithm \"%.16s\" is not accepted (accepted: %s)", alg_name ? alg_name : "?",
                           a && a->algorithms[0] ? a->algorithms : "none: no key is configured");
  }
  json_decref(header);
  if (*err)
    return SB_ERR_UNAUTHORIZED;
  jwt_t *jwt = NULL;
  if (jwt_decode(&jwt, token, key, key_len) != 0 || jwt == NULL) {
    jwt_free(jwt);
    *err = g_strdup("the token's signature does not verify (or the token is malformed)");
    return SB_ERR_UNAUTHORIZED;
  }
  int rc = SB_ERR_UNAUTHORIZED;
  json_t *payload = NULL;
  if (jwt_get_alg(jwt) != alg) {
    *err = g_strdup("the token's algorithm changed while it was verified");
  } else {
    char *grants = jwt_get_grants_json(jwt, NULL);
    payload = grants ? json_loads(grants, 0, NULL) : NULL;
    free(grants);
    if (!json_is_object(payload))
      *err = g_strdup("the token's payload is not a JSON object");
    else
      rc = read_claims(a, payload, now, out, err);
  }
  if (payload)
    json_decref(payload);
  jwt_free(jwt);
  if (rc != 0)
    memset(out, 0, sizeof *out);
  return rc;
}

bool sb_claims_room_ok(const sb_claims *c, const char *room) {
  return strcmp(c->room, "*") == 0 || (room && strcmp(c->room, room) == 0);
}

int sb_claims_check(const sb_claims *c, const char *room, sb_role need, int64_t now, char **msg) {
  if (!c->anonymous && c->exp && now > c->exp) {
    *msg = g_strdup("your token has expired: present a new one (\"auth\" with \"token\")");
    return SB_ERR_UNAUTHORIZED;
  }
  if (c->role < need) {
    *msg = g_strdup_printf("your role (%s) may not do this: it needs %s", sb_role_name(c->role), sb_role_name(need));
    return SB_ERR_ROLE;
  }
  if (room && !sb_claims_room_ok(c, room)) {
    *msg = g_strdup_printf("your token is for room '%s', not '%s'", c->room, room);
    return SB_ERR_WRONG_ROOM;
  }
  return 0;
}

/* --- the module: [auth] --- */

static sb_auth *process_auth;
static bool anonymous;

static const sb_claims anonymous_claims = {
  .role = SB_ROLE_USER, .room = "*", .sub = "anonymous", .anonymous = true,
};

static int64_t now_s(void) { return sb_wall_us() / G_USEC_PER_SEC; }
/* The time claims are checked at after verification: clock_skew earlier, so a
 * token accepted within the leeway is not expired at its first method. */
static int64_t check_time(void) { return now_s() - (process_auth ? process_auth->clock_skew : 0); }

int sb_auth_verify(const char *token, sb_claims *out, char **err) {
  return sb_auth_verify_at(process_auth, token, now_s(), out, err);
}

bool sb_auth_anonymous(void) { return anonymous; }

static int auth_start(sb_config *cfg) {
  anonymous = sb_config_get_bool(cfg, "auth", "anonymous", false);
  char *secret = sb_config_get_string(cfg, "auth", "hs256_secret", "");
  char *key_path = sb_config_get_string(cfg, "auth", "public_key", "");
  char *issuer = sb_config_get_string(cfg, "auth", "issuer", "");
  char *audience = sb_config_get_string(cfg, "auth", "audience", "");
  int skew = (int)sb_config_get_int_range(cfg, "auth", "clock_skew", 30, 0, 600);
  char *pem = NULL, *err = NULL;
  GError *gerr = NULL;
  int rc = 0;
  if (*key_path && !g_file_get_contents(key_path, &pem, NULL, &gerr)) {
    sb_error("auth: [auth] public_key: %s", gerr->message);
    g_error_free(gerr);
    rc = -1;
  }
  if (rc == 0 && !(process_auth = sb_auth_new(secret, pem, &err))) {
    sb_error("auth: [auth] public_key %s: %s", key_path, err);
    g_free(err);
    rc = -1;
  }
  if (rc == 0) {
    sb_auth_set_rules(process_auth, skew, issuer, audience);
    if (*secret && strlen(secret) < 32)
      sb_warn("auth: [auth] hs256_secret is shorter than 32 bytes (RFC 7518 §3.2 wants 256 bits)");
    if (anonymous)
      sb_warn("auth: anonymous = true: a session without a token is a user of every room");
    else if (!process_auth->secret && !process_auth->pem)
      sb_warn("auth: no hs256_secret or public_key and anonymous = false: every token is refused");
    sb_info("auth: tokens %s%s", process_auth->algorithms[0] ? "signed with " : "not accepted",
            process_auth->algorithms);
  }
  if (pem)
    memset(pem, 0, strlen(pem));
  if (*secret)
    memset(secret, 0, strlen(secret));
  g_free(pem);
  g_free(secret);
  g_free(key_path);
  g_free(issuer);
  g_free(audience);
  return rc;
}

static void auth_stop(void) { g_clear_pointer(&process_auth, sb_auth_free); }

static const sb_module auth_module = {
  .name = "auth",
  .order = SB_ORDER_AUTH,
  .start = auth_start,
  .stop = auth_stop,
};
SB_MODULE_REGISTER(auth_module)

/* --- sessions, requests, HTTP --- */

#define SESSION_KEY "core.auth"

typedef struct session_auth {
  bool has_claims;
  sb_claims claims;
  char *error;                   /* why the last token was refused, or NULL */
} session_auth;

static void session_auth_free(void *data) {
  session_auth *sa = data;
  g_free(sa->error);
  g_free(sa);
}

static session_auth *session_state(sb_session *s, bool create) {
  session_auth *sa = sb_session_get_data(s, SESSION_KEY);
  if (sa == NULL && create) {
    sa = g_new0(session_auth, 1);
    sb_session_set_data(s, SESSION_KEY, sa, session_auth_free);
  }
  return sa;
}

int sb_auth_session_token(sb_session *s, const char *token, char **err) {
  session_auth *sa = session_state(s, true);
  g_clear_pointer(&sa->error, g_free);
  int rc = sb_auth_verify(token, &sa->claims, err);
  sa->has_claims = rc == 0;
  if (rc != 0) {
    sa->error = g_strdup(*err);
    sb_info("session %s: token refused: %s", sb_session_id(s), *err);
  } else {
    sb_info("session %s: token of '%s': %s of room %s", sb_session_id(s), sa->claims.sub,
            sb_role_name(sa->claims.role), sa->claims.room);
  }
  return rc;
}

const sb_claims *sb_auth_session_claims(sb_session *s) {
  session_auth *sa = s ? session_state(s, false) : NULL;
  if (sa && sa->has_claims)
    return &sa->claims;
  return anonymous && (sa == NULL || sa->error == NULL) ? &anonymous_claims : NULL;
}

/* switchboard_rejected_total{reason}: "unauthorized" (1030/401), "forbidden"
 * (1031, 1032/403). */
static void count_refusal(int code) { sb_metrics_reject(code == SB_ERR_UNAUTHORIZED ? "unauthorized" : "forbidden"); }

static bool check_session(sb_request *req, sb_session *s, const char *room, sb_role need) {
  if (need <= SB_ROLE_NONE)
    return true;
  const sb_claims *c = sb_auth_session_claims(s);
  if (c == NULL) {
    count_refusal(SB_ERR_UNAUTHORIZED);
    session_auth *sa = session_state(s, false);
    if (sa && sa->error)
      sb_request_error(req, SB_ERR_UNAUTHORIZED, "your token was refused (%s)", sa->error);
    else
      sb_request_error(req, SB_ERR_UNAUTHORIZED,
                       "%s needs a token: give \"token\" in its params (or room.join's), call \"auth\", "
                       "or connect with ?token=", sb_request_method(req));
    return false;
  }
  char *msg = NULL;
  int rc = sb_claims_check(c, room, need, check_time(), &msg);
  if (rc != 0) {
    count_refusal(rc);
    sb_request_error(req, rc, "%s", msg);
    g_free(msg);
    return false;
  }
  return true;
}

bool sb_auth_admit(sb_request *req, sb_role need) {
  sb_session *s = sb_request_session(req);
  if (s == NULL)
    return true;
  json_t *params = sb_request_params(req);
  json_t *token = json_object_get(params, "token");
  if (token) {
    char *err = NULL;
    if (!json_is_string(token)) {
      sb_request_error(req, SB_ERR_INVALID_PARAMS, "\"token\" must be a string (a JWT)");
      return false;
    }
    if (sb_auth_session_token(s, json_string_value(token), &err) != 0) {
      count_refusal(SB_ERR_UNAUTHORIZED);
      sb_request_error(req, SB_ERR_UNAUTHORIZED, "token refused: %s", err);
      g_free(err);
      return false;
    }
  }
  json_t *room = json_object_get(params, "room");
  return check_session(req, s, json_is_string(room) ? json_string_value(room) : NULL, need);
}

bool sb_auth_require(sb_request *req, const char *room, sb_role need) {
  sb_session *s = sb_request_session(req);
  return s == NULL || check_session(req, s, room, need);
}

/* The token of an HTTP request: Bearer (RFC 6750 §2.1) or ?token= (§2.3). */
static char *http_token(sb_http_request *r) {
  const char *h = sb_http_header(r, "authorization");
  if (h && g_ascii_strncasecmp(h, "Bearer ", 7) == 0) {
    h += 7;
    while (*h == ' ')
      h++;
    return g_strstrip(g_strdup(h));
  }
  char **pairs = g_strsplit(sb_http_query(r), "&", -1);
  char *token = NULL;
  for (char **p = pairs; *p && !token; p++)
    if (g_str_has_prefix(*p, "token=")) {
      token = g_uri_unescape_string(*p + 6, NULL);
      if (token == NULL)
        token = g_strdup("");   /* present but undecodable: refused, never anonymous */
    }
  g_strfreev(pairs);
  return token;
}

int sb_auth_http(sb_http_request *r, const char *room, sb_role need, sb_claims *out, char **msg) {
  char *token = http_token(r);
  int rc = 0;
  if (token == NULL) {
    if (anonymous) {
      *out = anonymous_claims;
    } else {
      *msg = g_strdup("this endpoint needs a token: Authorization: Bearer <token> (or ?token=)");
      rc = SB_ERR_UNAUTHORIZED;
    }
  } else {
    char *err = NULL;
    rc = sb_auth_verify(token, out, &err);
    if (rc != 0) {
      *msg = g_strdup_printf("token refused: %s", err);
      g_free(err);
    }
  }
  g_free(token);
  if (rc == 0)
    rc = sb_claims_check(out, room, need, check_time(), msg);
  if (rc != 0)
    count_refusal(rc);
  return rc;
}
