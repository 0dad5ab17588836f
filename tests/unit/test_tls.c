/* Unit tests for signaling/tls: the certificate/key check that stops a server
 * with a clear message (missing file, not PEM, key of another certificate, only
 * one of the pair set), and the Location of the plain listener's redirect. */
#include "signaling/tls.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <string.h>

typedef struct {
  char *dir;
  char *cert, *key, *other_key, *garbage;
} fixture;

static void write_key(const char *path, EVP_PKEY *k) {
  FILE *f = fopen(path, "w");
  g_assert_nonnull(f);
  g_assert_cmpint(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), ==, 1);
  fclose(f);
}

/* A self-signed P-256 certificate for CN=localhost, its key, another key. */
static void fixture_setup(fixture *fx, gconstpointer data) {
  (void)data;
  fx->dir = g_dir_make_tmp("sb-tls-XXXXXX", NULL);
  g_assert_nonnull(fx->dir);
  fx->cert = g_build_filename(fx->dir, "cert.pem", NULL);
  fx->key = g_build_filename(fx->dir, "key.pem", NULL);
  fx->other_key = g_build_filename(fx->dir, "other.pem", NULL);
  fx->garbage = g_build_filename(fx->dir, "garbage.pem", NULL);
  EVP_PKEY *k = EVP_EC_gen("P-256"), *other = EVP_EC_gen("P-256");
  X509 *x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, k);
  X509_NAME *name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1, 0);
  X509_set_issuer_name(x, name);
  g_assert_cmpint(X509_sign(x, k, EVP_sha256()), >, 0);
  FILE *f = fopen(fx->cert, "w");
  g_assert_cmpint(PEM_write_X509(f, x), ==, 1);
  fclose(f);
  write_key(fx->key, k);
  write_key(fx->other_key, other);
  g_assert_true(g_file_set_contents(fx->garbage, "not a certificate\n", -1, NULL));
  X509_free(x);
  EVP_PKEY_free(k);
  EVP_PKEY_free(other);
}

static void fixture_teardown(fixture *fx, gconstpointer data) {
  (void)data;
  const char *files[] = { fx->cert, fx->key, fx->other_key, fx->garbage };
  for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
    g_unlink(files[i]);
    g_free((char *)files[i]);
  }
  g_rmdir(fx->dir);
  g_free(fx->dir);
}

static void test_tls_matching_pair_is_accepted(fixture *fx, gconstpointer data) {
  (void)data;
  char *err = NULL;
  g_assert_cmpint(sb_tls_check_pair(fx->cert, fx->key, &err), ==, 0);
  g_assert_null(err);
}

static void expect_refusal(const char *cert, const char *key, const char *needle) {
  char *err = NULL;
  g_assert_cmpint(sb_tls_check_pair(cert, key, &err), ==, -1);
  g_assert_nonnull(err);
  if (strstr(err, needle) == NULL)
    g_error("\"%s\" does not mention \"%s\"", err, needle);
  g_free(err);
}

static void test_tls_missing_file_is_named(fixture *fx, gconstpointer data) {
  (void)data;
  char *missing = g_build_filename(fx->dir, "missing.pem", NULL);
  expect_refusal(missing, fx->key, "missing.pem");
  expect_refusal(fx->cert, missing, "missing.pem");
  g_free(missing);
}

static void test_tls_garbage_is_refused(fixture *fx, gconstpointer data) {
  (void)data;
  expect_refusal(fx->garbage, fx->key, "not a PEM certificate");
  expect_refusal(fx->cert, fx->garbage, "not an unencrypted PEM private key");
}

static void test_tls_key_of_another_certificate_is_refused(fixture *fx, gconstpointer data) {
  (void)data;
  expect_refusal(fx->cert, fx->other_key, "does not belong");
}

static void test_tls_config_needs_both_or_neither(fixture *fx, gconstpointer data) {
  (void)data;
  char *text = g_strdup_printf("[http]\ntls_cert = %s\n[admin]\ntls_cert = %s\ntls_key = %s\n",
                               fx->cert, fx->cert, fx->key);
  sb_config *cfg = sb_config_load_data(text, NULL);
  g_free(text);
  sb_tls_config c;
  char *err = NULL;
  g_assert_cmpint(sb_tls_config_read(cfg, "http", &c, &err), ==, -1);
  g_assert_nonnull(strstr(err, "[http] tls_cert and tls_key go together"));
  g_assert_false(sb_tls_on(&c));
  g_clear_pointer(&err, g_free);
  g_assert_cmpint(sb_tls_config_read(cfg, "admin", &c, &err), ==, 0);
  g_assert_true(sb_tls_on(&c));
  g_assert_cmpstr(c.key, ==, fx->key);
  sb_tls_config_clear(&c);
  g_assert_cmpint(sb_tls_config_read(cfg, "metrics", &c, &err), ==, 0);
  g_assert_false(sb_tls_on(&c));
  sb_config_free(cfg);
}

static void test_tls_redirect_keeps_host_path_and_query(void) {
  char *loc = sb_tls_redirect_location("127.0.0.1:8080", 8443, "/echotest.html", "autostart=1");
  g_assert_cmpstr(loc, ==, "https://127.0.0.1:8443/echotest.html?autostart=1");
  g_free(loc);
  loc = sb_tls_redirect_location("example.org", 443, "/", "");
  g_assert_cmpstr(loc, ==, "https://example.org:443/");
  g_free(loc);
  loc = sb_tls_redirect_location("[::1]:80", 8088, "/ws", NULL);
  g_assert_cmpstr(loc, ==, "https://[::1]:8088/ws");
  g_free(loc);
}

static void test_tls_redirect_refuses_odd_hosts(void) {
  g_assert_null(sb_tls_redirect_location(NULL, 1, "/", NULL));
  g_assert_null(sb_tls_redirect_location("", 1, "/", NULL));
  g_assert_null(sb_tls_redirect_location("evil.org/x", 1, "/", NULL));
  g_assert_null(sb_tls_redirect_location("a b", 1, "/", NULL));
  g_assert_null(sb_tls_redirect_location("[::1", 1, "/", NULL));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add("/tls/matching-pair-is-accepted", fixture, NULL, fixture_setup,
             test_tls_matching_pair_is_accepted, fixture_teardown);
  g_test_add("/tls/missing-file-is-named", fixture, NULL, fixture_setup, test_tls_missing_file_is_named,
             fixture_teardown);
  g_test_add("/tls/garbage-is-refused", fixture, NULL, fixture_setup, test_tls_garbage_is_refused,
             fixture_teardown);
  g_test_add("/tls/key-of-another-certificate-is-refused", fixture, NULL, fixture_setup,
             test_tls_key_of_another_certificate_is_refused, fixture_teardown);
  g_test_add("/tls/config-needs-both-or-neither", fixture, NULL, fixture_setup,
             test_tls_config_needs_both_or_neither, fixture_teardown);
  g_test_add_func("/tls/redirect-keeps-host-path-and-query", test_tls_redirect_keeps_host_path_and_query);
  g_test_add_func("/tls/redirect-refuses-odd-hosts", test_tls_redirect_refuses_odd_hosts);
  return g_test_run();
}
