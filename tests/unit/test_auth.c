/* Unit tests for core/auth: JWT verification (tokens minted here with libjwt,
 * keys made here with OpenSSL) and the role/room checks. Every rejection must
 * be SB_ERR_UNAUTHORIZED with a reason, and leave no claims behind. */
#include <glib.h>
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <string.h>

#include "core/auth.h"

#define NOW 1800000000
#define SECRET "0123456789abcdef0123456789abcdef-test-secret"

typedef struct keypair {
  char *priv;                    /* PEM */
  char *pub;                     /* PEM */
} keypair;

static char *bio_text(BIO *bio) {
  char *data = NULL;
  long n = BIO_get_mem_data(bio, &data);
  char *s = g_strndup(data, (gsize)n);
  BIO_free(bio);
  return s;
}

static keypair make_key(EVP_PKEY *k) {
  g_assert_nonnull(k);
  BIO *priv = BIO_new(BIO_s_mem()), *pub = BIO_new(BIO_s_mem());
  g_assert_true(PEM_write_bio_PrivateKey(priv, k, NULL, NULL, 0, NULL, NULL));
  g_assert_true(PEM_write_bio_PUBKEY(pub, k));
  EVP_PKEY_free(k);
  return (keypair){ bio_text(priv), bio_text(pub) };
}

static keypair ec_key, rsa_key;

static void keypair_clear(keypair *k) {
  g_free(k->priv);
  g_free(k->pub);
}

/* A token with these claims (JSON), signed with alg and key (NULL: unsigned). */
static char *mint(jwt_alg_t alg, const char *key, const char *claims_json) {
  jwt_t *jwt = NULL;
  g_assert_cmpint(jwt_new(&jwt), ==, 0);
  g_assert_cmpint(jwt_add_grants_json(jwt, claims_json), ==, 0);
  g_assert_cmpint(jwt_set_alg(jwt, alg, (const unsigned char *)key, key ? (int)strlen(key) : 0), ==, 0);
  char *raw = jwt_encode_str(jwt);
  g_assert_nonnull(raw);
  char *t = g_strdup(raw);
  free(raw);
  jwt_free(jwt);
  return t;
}

static char *claims(const char *role, const char *room, gint64 exp, gint64 nbf) {
  GString *s = g_string_new(NULL);
  g_string_printf(s, "{\"sub\":\"alice\",\"role\":\"%s\",\"room\":\"%s\",\"exp\":%" G_GINT64_FORMAT, role, room, exp);
  if (nbf)
    g_string_append_printf(s, ",\"nbf\":%" G_GINT64_FORMAT, nbf);
  g_string_append_c(s, '}');
  return g_string_free(s, FALSE);
}

static char *b64url(const char *text) {
  char *b = g_base64_encode((const guchar *)text, strlen(text));
  for (char *p = b; *p; p++)
    *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
  char *eq = strchr(b, '=');
  if (eq)
    *eq = '\0';
  return b;
}

/* Expects a rejection; returns nothing left in the claims. */
static void assert_refused(const sb_auth *a, const char *token, gint64 now, const char *reason_part) {
  sb_claims c;
  char *err = NULL;
  memset(&c, 0x55, sizeof c);
  g_assert_cmpint(sb_auth_verify_at(a, token, now, &c, &err), ==, SB_ERR_UNAUTHORIZED);
  g_assert_nonnull(err);
  if (reason_part && !strstr(err, reason_part))
    g_error("reason '%s' does not mention '%s'", err, reason_part);
  g_assert_cmpint(c.role, ==, 0);
  g_assert_cmpstr(c.room, ==, "");
  g_free(err);
}

static void assert_accepted(const sb_auth *a, const char *token, gint64 now, sb_role role, const char *room) {
  sb_claims c;
  char *err = NULL;
  int rc = sb_auth_verify_at(a, token, now, &c, &err);
  if (rc != 0)
    g_error("refused: %s", err);
  g_assert_cmpint(c.role, ==, role);
  g_assert_cmpstr(c.room, ==, room);
  g_assert_cmpstr(c.sub, ==, "alice");
  g_assert_false(c.anonymous);
}

static sb_auth *auth_new(const char *secret, const char *pem) {
  char *err = NULL;
  sb_auth *a = sb_auth_new(secret, pem, &err);
  if (a == NULL)
    g_error("sb_auth_new: %s", err);
  return a;
}

static void test_auth_accepts_valid_hs256_es256_rs256(void) {
  sb_auth *hs = auth_new(SECRET, NULL), *es = auth_new(NULL, ec_key.pub), *rs = auth_new(NULL, rsa_key.pub);
  g_assert_cmpstr(sb_auth_algorithms(hs), ==, "HS256");
  g_assert_cmpstr(sb_auth_algorithms(es), ==, "ES256");
  g_assert_cmpstr(sb_auth_algorithms(rs), ==, "RS256");
  char *c = claims("user", "demo", NOW + 60, 0), *m = claims("moderator", "*", NOW + 60, NOW - 5);
  char *t1 = mint(JWT_ALG_HS256, SECRET, c), *t2 = mint(JWT_ALG_ES256, ec_key.priv, m),
       *t3 = mint(JWT_ALG_RS256, rsa_key.priv, c);
  assert_accepted(hs, t1, NOW, SB_ROLE_USER, "demo");
  assert_accepted(es, t2, NOW, SB_ROLE_MODERATOR, "*");
  assert_accepted(rs, t3, NOW, SB_ROLE_USER, "demo");
  /* Each verifier only knows its own key. */
  assert_refused(hs, t2, NOW, "not accepted");
  assert_refused(es, t3, NOW, "not accepted");
  assert_refused(rs, t1, NOW, "not accepted");
  g_free(c), g_free(m), g_free(t1), g_free(t2), g_free(t3);
  sb_auth_free(hs), sb_auth_free(es), sb_auth_free(rs);
}

static void test_auth_refuses_expired_and_not_yet_valid(void) {
  sb_auth *a = auth_new(SECRET, NULL);
  sb_auth_set_rules(a, 30, NULL, NULL);
  char *expired = claims("user", "demo", NOW - 31, 0), *skewed = claims("user", "demo", NOW - 29, 0);
  char *early = claims("user", "demo", NOW + 3600, NOW + 31), *soon = claims("user", "demo", NOW + 3600, NOW + 29);
  char *no_exp = g_strdup("{\"sub\":\"alice\",\"role\":\"user\",\"room\":\"demo\"}");
  char *t;
  assert_refused(a, (t = mint(JWT_ALG_HS256, SECRET, expired)), NOW, "expired");
  g_free(t);
  assert_accepted(a, (t = mint(JWT_ALG_HS256, SECRET, skewed)), NOW, SB_ROLE_USER, "demo");
  g_free(t);
  assert_refused(a, (t = mint(JWT_ALG_HS256, SECRET, early)), NOW, "nbf");
  g_free(t);
  assert_accepted(a, (t = mint(JWT_ALG_HS256, SECRET, soon)), NOW, SB_ROLE_USER, "demo");
  g_free(t);
  assert_refused(a, (t = mint(JWT_ALG_HS256, SECRET, no_exp)), NOW, "exp");
  g_free(t);
  g_free(expired), g_free(skewed), g_free(early), g_free(soon), g_free(no_exp);
  sb_auth_free(a);
}

static void test_auth_refuses_bad_signatures(void) {
  sb_auth *a = auth_new(SECRET, ec_key.pub);
  char *c = claims("user", "demo", NOW + 60, 0);
  char *wrong = mint(JWT_ALG_HS256, "another-secret-another-secret-xx", c);
  assert_refused(a, wrong, NOW, "signature");
  /* The payload changed after signing (role raised to moderator). */
  char *good = mint(JWT_ALG_HS256, SECRET, c);
  char **parts = g_strsplit(good, ".", 3);
  char *mod = claims("moderator", "demo", NOW + 60, 0), *p = b64url(mod);
  char *forged = g_strjoin(".", parts[0], p, parts[2], NULL);
  assert_refused(a, forged, NOW, "signature");
  /* An ES256 signature from another key. */
  keypair other = make_key(EVP_EC_gen("P-256"));
  char *es = mint(JWT_ALG_ES256, other.priv, c);
  assert_refused(a, es, NOW, "signature");
  keypair_clear(&other);
  g_strfreev(parts);
  g_free(c), g_free(wrong), g_free(good), g_free(mod), g_free(p), g_free(forged), g_free(es);
  sb_auth_free(a);
}

static void test_auth_refuses_alg_none(void) {
  sb_auth *a = auth_new(SECRET, rsa_key.pub);
  char *c = claims("moderator", "*", NOW + 60, 0), *p = b64url(c);
  static const char *const headers[] = { "{\"alg\":\"none\",\"typ\":\"JWT\"}", "{\"alg\":\"None\"}",
                                         "{\"typ\":\"JWT\"}", "{\"alg\":\"HS512\"}", "{\"alg\":\"ES256\"}" };
  for (size_t i = 0; i < G_N_ELEMENTS(headers); i++) {
    char *h = b64url(headers[i]);
    char *unsigned_t = g_strconcat(h, ".", p, ".", NULL);
    char *sig_t = g_strconcat(h, ".", p, ".c2lnbmF0dXJl", NULL);
    assert_refused(a, unsigned_t, NOW, NULL);
    assert_refused(a, sig_t, NOW, "not accepted");
    g_free(h), g_free(unsigned_t), g_free(sig_t);
  }
  /* libjwt's own unsigned token. */
  char *none = mint(JWT_ALG_NONE, NULL, c);
  assert_refused(a, none, NOW, NULL);
  g_free(none), g_free(c), g_free(p);
  sb_auth_free(a);
}

static void test_auth_refuses_hs256_keyed_with_the_public_key(void) {
  /* Algorithm confusion: an HMAC whose key is the public key's PEM text. */
  char *c = claims("moderator", "*", NOW + 60, 0);
  char *t = mint(JWT_ALG_HS256, rsa_key.pub, c), *t2 = mint(JWT_ALG_HS256, ec_key.pub, c);
  sb_auth *rs = auth_new(NULL, rsa_key.pub), *es = auth_new(NULL, ec_key.pub), *both = auth_new(SECRET, rsa_key.pub);
  assert_refused(rs, t, NOW, "not accepted");
  assert_refused(es, t2, NOW, "not accepted");
  assert_refused(both, t, NOW, "signature");
  /* RS256 where the key is EC, and the reverse. */
  char *rs_t = mint(JWT_ALG_RS256, rsa_key.priv, c), *es_t = mint(JWT_ALG_ES256, ec_key.priv, c);
  assert_refused(es, rs_t, NOW, "not accepted");
  assert_refused(rs, es_t, NOW, "not accepted");
  g_free(c), g_free(t), g_free(t2), g_free(rs_t), g_free(es_t);
  sb_auth_free(rs), sb_auth_free(es), sb_auth_free(both);
}

static void test_auth_refuses_bad_room_and_role_claims(void) {
  sb_auth *a = auth_new(SECRET, NULL);
  static const char *const bad[] = {
    "{\"role\":\"admin\",\"room\":\"demo\",\"exp\":1800000060}",
    "{\"role\":\"Moderator\",\"room\":\"demo\",\"exp\":1800000060}",
    "{\"role\":7,\"room\":\"demo\",\"exp\":1800000060}",
    "{\"room\":\"demo\",\"exp\":1800000060}",
    "{\"role\":\"user\",\"exp\":1800000060}",
    "{\"role\":\"user\",\"room\":\"\",\"exp\":1800000060}",
    "{\"role\":\"user\",\"room\":\"a b\",\"exp\":1800000060}",
    "{\"role\":\"user\",\"room\":\"demo*\",\"exp\":1800000060}",
    "{\"role\":\"user\",\"room\":[\"demo\"],\"exp\":1800000060}",
    "{\"role\":\"user\",\"room\":\"demo\",\"exp\":\"1800000060\"}",
    "{\"role\":\"user\",\"room\":\"demo\",\"exp\":1800000060,\"nbf\":\"x\"}",
    "{\"role\":\"user\",\"room\":\"demo\",\"exp\":1800000060,\"sub\":5}",
  };
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    char *t = mint(JWT_ALG_HS256, SECRET, bad[i]);
    assert_refused(a, t, NOW, NULL);
    g_free(t);
  }
  sb_auth_free(a);
}

static void test_auth_checks_issuer_and_audience(void) {
  sb_auth *a = auth_new(SECRET, NULL);
  sb_auth_set_rules(a, 0, "https://issuer.example", "switchboard");
  const char *base = "\"sub\":\"alice\",\"role\":\"guest\",\"room\":\"demo\",\"exp\":1800000060";
  char *ok1 = g_strdup_printf("{%s,\"iss\":\"https://issuer.example\",\"aud\":\"switchboard\"}", base);
  char *ok2 = g_strdup_printf("{%s,\"iss\":\"https://issuer.example\",\"aud\":[\"x\",\"switchboard\"]}", base);
  char *bad1 = g_strdup_printf("{%s,\"aud\":\"switchboard\"}", base);
  char *bad2 = g_strdup_printf("{%s,\"iss\":\"https://issuer.example\",\"aud\":\"other\"}", base);
  char *t;
  assert_accepted(a, (t = mint(JWT_ALG_HS256, SECRET, ok1)), NOW, SB_ROLE_GUEST, "demo");
  g_free(t);
  assert_accepted(a, (t = mint(JWT_ALG_HS256, SECRET, ok2)), NOW, SB_ROLE_GUEST, "demo");
  g_free(t);
  assert_refused(a, (t = mint(JWT_ALG_HS256, SECRET, bad1)), NOW, "issuer");
  g_free(t);
  assert_refused(a, (t = mint(JWT_ALG_HS256, SECRET, bad2)), NOW, "audience");
  g_free(t);
  g_free(ok1), g_free(ok2), g_free(bad1), g_free(bad2);
  sb_auth_free(a);
}

static void test_auth_refuses_garbage(void) {
  sb_auth *a = auth_new(SECRET, ec_key.pub);
  static const char *const garbage[] = {
    "", ".", "..", "...", "a", "a.b", "a.b.c", "a.b.c.d", "eyJhbGciOiJIUzI1NiJ9..",
    "eyJhbGciOiJIUzI1NiJ9.e30.", "eyJhbGciOiJIUzI1NiJ9.e30.!!!", "%%%.%%%.%%%",
    "W10.e30.c2ln", /* header [] */
    "eyJhbGciOiJIUzI1NiIsImNyaXQiOlsiZXhwIl19.e30.c2ln", /* crit */
    "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln", "Bearer x.y.z",
  };
  for (size_t i = 0; i < G_N_ELEMENTS(garbage); i++)
    assert_refused(a, garbage[i], NOW, NULL);
  assert_refused(a, NULL, NOW, "empty");
  char *huge = g_strnfill(SB_TOKEN_MAX_LEN + 10, 'a');
  huge[10] = '.';
  huge[20] = '.';
  assert_refused(a, huge, NOW, "too long");
  g_free(huge);
  /* No key at all: everything is refused, with the reason. */
  sb_auth *none = auth_new(NULL, NULL);
  char *c = claims("user", "demo", NOW + 60, 0), *t = mint(JWT_ALG_HS256, SECRET, c);
  assert_refused(none, t, NOW, "no key");
  assert_refused(NULL, t, NOW, "no key");
  g_free(c), g_free(t);
  sb_auth_free(none);
  sb_auth_free(a);
}

static void test_auth_refuses_unsuitable_keys(void) {
  char *err = NULL;
  keypair p384 = make_key(EVP_EC_gen("P-384")), rsa1024 = make_key(EVP_RSA_gen(1024));
  g_assert_null(sb_auth_new(NULL, p384.pub, &err));
  g_assert_nonnull(strstr(err, "P-256"));
  g_clear_pointer(&err, g_free);
  g_assert_null(sb_auth_new(NULL, rsa1024.pub, &err));
  g_assert_nonnull(strstr(err, "2048"));
  g_clear_pointer(&err, g_free);
  g_assert_null(sb_auth_new(NULL, "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n", &err));
  g_clear_pointer(&err, g_free);
  /* A private key is not a public key. */
  g_assert_null(sb_auth_new(NULL, ec_key.priv, &err));
  g_clear_pointer(&err, g_free);
  keypair_clear(&p384);
  keypair_clear(&rsa1024);
}

static void test_auth_roles_are_ordered_and_rooms_matched(void) {
  sb_claims guest = { .role = SB_ROLE_GUEST, .room = "demo", .exp = NOW + 60 };
  sb_claims mod = { .role = SB_ROLE_MODERATOR, .room = "*", .exp = NOW + 60 };
  char *msg = NULL;
  g_assert_cmpint(sb_claims_check(&guest, "demo", SB_ROLE_GUEST, NOW, &msg), ==, 0);
  g_assert_cmpint(sb_claims_check(&guest, NULL, SB_ROLE_NONE, NOW, &msg), ==, 0);
  g_assert_cmpint(sb_claims_check(&guest, "demo", SB_ROLE_USER, NOW, &msg), ==, SB_ERR_ROLE);
  g_assert_nonnull(strstr(msg, "user"));
  g_clear_pointer(&msg, g_free);
  g_assert_cmpint(sb_claims_check(&guest, "other", SB_ROLE_GUEST, NOW, &msg), ==, SB_ERR_WRONG_ROOM);
  g_clear_pointer(&msg, g_free);
  g_assert_cmpint(sb_claims_check(&guest, "demo", SB_ROLE_GUEST, NOW + 61, &msg), ==, SB_ERR_UNAUTHORIZED);
  g_clear_pointer(&msg, g_free);
  g_assert_cmpint(sb_claims_check(&mod, "anything", SB_ROLE_MODERATOR, NOW, &msg), ==, 0);
  g_assert_true(sb_claims_room_ok(&mod, "x"));
  g_assert_false(sb_claims_room_ok(&guest, NULL));
  g_assert_cmpint(sb_role_parse("moderator"), ==, SB_ROLE_MODERATOR);
  g_assert_cmpint(sb_role_parse("none"), ==, -1);
  g_assert_cmpint(sb_role_parse(NULL), ==, -1);
  g_assert_cmpstr(sb_role_name(SB_ROLE_GUEST), ==, "guest");
  g_assert_true(SB_ROLE_NONE < SB_ROLE_GUEST && SB_ROLE_GUEST < SB_ROLE_USER && SB_ROLE_USER < SB_ROLE_MODERATOR);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  ec_key = make_key(EVP_EC_gen("P-256"));
  rsa_key = make_key(EVP_RSA_gen(2048));
  g_test_add_func("/auth/accepts_valid_hs256_es256_rs256", test_auth_accepts_valid_hs256_es256_rs256);
  g_test_add_func("/auth/refuses_expired_and_not_yet_valid", test_auth_refuses_expired_and_not_yet_valid);
  g_test_add_func("/auth/refuses_bad_signatures", test_auth_refuses_bad_signatures);
  g_test_add_func("/auth/refuses_alg_none", test_auth_refuses_alg_none);
  g_test_add_func("/auth/refuses_hs256_keyed_with_the_public_key", test_auth_refuses_hs256_keyed_with_the_public_key);
  g_test_add_func("/auth/refuses_bad_room_and_role_claims", test_auth_refuses_bad_room_and_role_claims);
  g_test_add_func("/auth/checks_issuer_and_audience", test_auth_checks_issuer_and_audience);
  g_test_add_func("/auth/refuses_garbage", test_auth_refuses_garbage);
  g_test_add_func("/auth/refuses_unsuitable_keys", test_auth_refuses_unsuitable_keys);
  g_test_add_func("/auth/roles_are_ordered_and_rooms_matched", test_auth_roles_are_ordered_and_rooms_matched);
  int rc = g_test_run();
  keypair_clear(&ec_key);
  keypair_clear(&rsa_key);
  return rc;
}
