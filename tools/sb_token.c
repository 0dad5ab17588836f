/* sb-token — mints a Switchboard access token (a JWT, docs/API.md "Authentication").
 *
 *   sb-token --secret S | --secret-file F | --key private.pem [--alg RS256|ES256]
 *            --room R|'*' --role guest|user|moderator [--sub ID] [--ttl SECONDS]
 *            [--nbf UNIX|+SECONDS] [--exp UNIX] [--iss ISSUER] [--aud AUDIENCE]
 *
 * HS256 with a shared secret ([auth] hs256_secret), or RS256 / ES256 with the
 * private key whose public half is [auth] public_key (the algorithm follows from
 * the key unless --alg says it). Prints the token and a newline. Signing is
 * libjwt's, as verification is the server's. */
#include <errno.h>
#include <glib.h>
#include <jwt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "sb-token: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, " (try --help)\n");
  va_end(ap);
  return 2;
}

/* "+N" is N seconds from now, otherwise a unix time. */
static bool parse_time(const char *s, gint64 now, gint64 *out) {
  char *end = NULL;
  bool rel = *s == '+' || *s == '-';
  errno = 0;
  gint64 v = g_ascii_strtoll(s, &end, 10);
  if (errno || end == s || *end)
    return false;
  *out = rel ? now + v : v;
  return true;
}

/* RS256 for an RSA key, ES256 for an EC one: what the key's PEM says. */
static jwt_alg_t alg_of_key(const char *pem, const char *alg) {
  if (alg)
    return jwt_str_alg(alg);
  if (strstr(pem, "BEGIN EC PRIVATE KEY"))
    return JWT_ALG_ES256;
  if (strstr(pem, "BEGIN RSA PRIVATE KEY"))
    return JWT_ALG_RS256;
  /* PKCS#8 ("BEGIN PRIVATE KEY") does not say: the DER of an EC key names
   * id-ecPublicKey, 1.2.840.10045.2.1, whose bytes are 2A 86 48 CE 3D 02 01. */
  const char *b = strstr(pem, "-----\n"), *e = strstr(pem, "-----END");
  if (b == NULL || e == NULL || e < b)
    return JWT_ALG_INVAL;
  char *body = g_strndup(b + 6, (gsize)(e - b - 6));
  gsize len = 0;
  guchar *der = g_base64_decode(body, &len);
  static const guchar ec_oid[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01 };
  jwt_alg_t a = memmem(der, len, ec_oid, sizeof ec_oid) ? JWT_ALG_ES256 : JWT_ALG_RS256;
  g_free(der);
  g_free(body);
  return a;
}

int main(int argc, char **argv) {
  g_autofree char *secret = NULL, *secret_file = NULL, *key_file = NULL, *alg_name = NULL, *room = NULL,
                  *role = NULL, *sub = NULL, *nbf = NULL, *exp = NULL, *iss = NULL, *aud = NULL;
  gint64 ttl = 3600;
  GOptionEntry entries[] = {
    { "secret", 0, 0, G_OPTION_ARG_STRING, &secret, "HS256 shared secret ([auth] hs256_secret)", "S" },
    { "secret-file", 0, 0, G_OPTION_ARG_FILENAME, &secret_file, "read the HS256 secret from a file", "F" },
    { "key", 0, 0, G_OPTION_ARG_FILENAME, &key_file, "private key (PEM) for RS256 or ES256", "PEM" },
    { "alg", 0, 0, G_OPTION_ARG_STRING, &alg_name, "RS256 or ES256 (default: from the key)", "ALG" },
    { "room", 0, 0, G_OPTION_ARG_STRING, &room, "room name, or * for every room", "R" },
    { "role", 0, 0, G_OPTION_ARG_STRING, &role, "guest, user or moderator", "ROLE" },
    { "sub", 0, 0, G_OPTION_ARG_STRING, &sub, "identity (sub claim)", "ID" },
    { "ttl", 0, 0, G_OPTION_ARG_INT64, &ttl, "seconds until it expires (default 3600)", "S" },
    { "exp", 0, 0, G_OPTION_ARG_STRING, &exp, "expiry instead of --ttl: unix time or +/-seconds", "T" },
    { "nbf", 0, 0, G_OPTION_ARG_STRING, &nbf, "not before: unix time or +seconds", "T" },
    { "iss", 0, 0, G_OPTION_ARG_STRING, &iss, "issuer ([auth] issuer)", "ISS" },
    { "aud", 0, 0, G_OPTION_ARG_STRING, &aud, "audience ([auth] audience)", "AUD" },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
  };
  GOptionContext *ctx = g_option_context_new("- mint a Switchboard access token (JWT)");
  g_option_context_add_main_entries(ctx, entries, NULL);
  GError *err = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
    int rc = fail("%s", err->message);
    g_error_free(err);
    g_option_context_free(ctx);
    return rc;
  }
  g_option_context_free(ctx);
  if (!room || !role)
    return fail("%s", "--room and --role are required");
  if (strcmp(role, "guest") && strcmp(role, "user") && strcmp(role, "moderator"))
    return fail("unknown role '%s': guest, user or moderator", role);
  if (!!secret + !!secret_file + !!key_file != 1)
    return fail("%s", "give one of --secret, --secret-file, --key");

  g_autofree char *key = NULL;
  gsize key_len = 0;
  jwt_alg_t alg = JWT_ALG_HS256;
  if (secret) {
    key = g_strdup(secret);
    key_len = strlen(secret);
  } else if (!g_file_get_contents(secret_file ? secret_file : key_file, &key, &key_len, &err)) {
    int rc = fail("%s", err->message);
    g_error_free(err);
    return rc;
  }
  if (secret_file) {
    while (key_len > 0 && (key[key_len - 1] == '\n' || key[key_len - 1] == '\r'))
      key[--key_len] = '\0';
  }
  if (key_file) {
    alg = alg_of_key(key, alg_name);
    if (alg != JWT_ALG_RS256 && alg != JWT_ALG_ES256)
      return fail("%s", "--key signs with RS256 or ES256");
  }

  gint64 now = g_get_real_time() / G_USEC_PER_SEC, exp_at = now + ttl, nbf_at = 0;
  if (exp && !parse_time(exp, now, &exp_at))
    return fail("--exp '%s' is not a unix time or +/-seconds", exp);
  if (nbf && !parse_time(nbf, now, &nbf_at))
    return fail("--nbf '%s' is not a unix time or +seconds", nbf);

  jwt_t *jwt = NULL;
  char *token = NULL;
  if (jwt_new(&jwt) == 0 && jwt_add_grant(jwt, "room", room) == 0 && jwt_add_grant(jwt, "role", role) == 0 &&
      (!sub || jwt_add_grant(jwt, "sub", sub) == 0) && jwt_add_grant_int(jwt, "iat", (long)now) == 0 &&
      jwt_add_grant_int(jwt, "exp", (long)exp_at) == 0 &&
      (!nbf || jwt_add_grant_int(jwt, "nbf", (long)nbf_at) == 0) &&
      (!iss || jwt_add_grant(jwt, "iss", iss) == 0) && (!aud || jwt_add_grant(jwt, "aud", aud) == 0) &&
      jwt_set_alg(jwt, alg, (const unsigned char *)key, (int)key_len) == 0)
    token = jwt_encode_str(jwt);
  jwt_free(jwt);
  memset(key, 0, key_len);
  if (token == NULL) {
    fprintf(stderr, "sb-token: signing failed (is the key a %s private key?)\n", jwt_alg_str(alg));
    return 1;
  }
  printf("%s\n", token);
  free(token);
  return 0;
}
