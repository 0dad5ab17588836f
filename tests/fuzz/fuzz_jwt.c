/* libFuzzer target for core/auth's token verification (sb_auth_verify_at), with
 * a fixed HS256 secret and a fixed ES256 public key configured, as a server
 * with both would have them. Two modes, by the input's first byte:
 *   even: the rest is the token, as a client sends it. It must never be
 *         accepted (nobody here knows the secret or the private key), and a
 *         refusal must leave no claims and give a reason.
 *   odd:  the rest is a payload that the target signs with the secret itself
 *         (header {"alg":"HS256"}, HMAC-SHA256 by OpenSSL), so the claims
 *         reading after a good signature is fuzzed too: whatever it accepts
 *         must be a known role, a valid room claim, and not expired.
 * Covers our header parsing and key choice, libjwt's decoding and signature
 * checks on hostile input (libjwt is not built with coverage: only our side
 * guides the search), and the claims checks. Seeds: tests/fuzz/corpus/jwt. */
#include <glib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1800000000
#define SECRET "fuzz-secret-fuzz-secret-fuzz-secret!"

static const char ec_public_pem[] =
  "-----BEGIN PUBLIC KEY-----\n"
  "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEZaIiIezlXZPffjXZ1Qpx5CAjW3gc\n"
  "nPgFLfwo2Gf3mwTiN8U5xWG95VrhKyF+FD9fhvD7aMhQ1CQZ9XWudL9ILg==\n"
  "-----END PUBLIC KEY-----\n";

static void check(int cond) {
  if (!cond)
    abort();
}

static sb_auth *verifier(void) {
  static sb_auth *a;
  if (a == NULL) {
    char *err = NULL;
    a = sb_auth_new(SECRET, ec_public_pem, &err);
    check(a != NULL);
    sb_auth_set_rules(a, 30, NULL, NULL);
  }
  return a;
}

static char *b64url(const uint8_t *d, size_t n) {
  char *b = g_base64_encode(d, n);
  for (char *p = b; *p; p++)
    *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
  char *eq = strchr(b, '=');
  if (eq)
    *eq = '\0';
  return b;
}

/* header.payload.HMAC-SHA256(secret) for an arbitrary payload. */
static char *sign(const uint8_t *payload, size_t n) {
  static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
  char *h = b64url((const uint8_t *)header, sizeof header - 1), *p = b64url(payload, n);
  char *input = g_strconcat(h, ".", p, NULL);
  uint8_t mac[EVP_MAX_MD_SIZE];
  unsigned mac_len = 0;
  check(HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const uint8_t *)input, strlen(input), mac, &mac_len) != NULL);
  char *s = b64url(mac, mac_len);
  char *token = g_strconcat(input, ".", s, NULL);
  g_free(h), g_free(p), g_free(input), g_free(s);
  return token;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > SB_TOKEN_MAX_LEN)
    return 0;
  bool signed_here = data[0] & 1;
  char *token = signed_here ? sign(data + 1, size - 1) : g_strndup((const char *)data + 1, size - 1);
  sb_claims c;
  char *err = NULL;
  int rc = sb_auth_verify_at(verifier(), token, NOW, &c, &err);
  if (!signed_here)
    check(rc != 0);
  if (rc == 0) {
    check(err == NULL);
    check(c.role >= SB_ROLE_GUEST && c.role <= SB_ROLE_MODERATOR);
    check(c.room[0] != '\0' && strlen(c.room) < sizeof c.room);
    check(c.exp + 30 >= NOW && (c.nbf == 0 || c.nbf <= NOW + 30));
    check(!c.anonymous);
  } else {
    check(rc == SB_ERR_UNAUTHORIZED && err != NULL && *err != '\0');
    check(c.role == 0 && c.room[0] == '\0' && c.sub[0] == '\0');
  }
  g_free(err);
  g_free(token);
  return 0;
}
