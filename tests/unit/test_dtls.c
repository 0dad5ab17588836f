/* Unit tests for media/dtls and media/srtp: certificate fingerprints against
 * OpenSSL's own digests, and real DTLS-SRTP handshakes between two sb_dtls
 * objects (a client and a server) whose datagrams travel through in-memory
 * queues the test pumps, so loss, garbage and close_notify are under its control.
 * The exported keys then protect RTP and RTCP with libsrtp on one side and
 * unprotect them on the other. */
#include "media/dtls.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <string.h>

#include "media/srtp.h"

/* ---- a certificate made by the test ------------------------------------------ */

typedef struct test_cert {
  X509 *x509;
  EVP_PKEY *key;
  uint8_t *der;
  size_t der_len;
} test_cert;

static void test_cert_make(test_cert *c, const char *cn) {
  c->key = EVP_EC_gen("P-256");
  g_assert_nonnull(c->key);
  c->x509 = X509_new();
  X509_set_version(c->x509, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(c->x509), 4242);
  X509_gmtime_adj(X509_getm_notBefore(c->x509), -3600);
  X509_gmtime_adj(X509_getm_notAfter(c->x509), 24 * 3600);
  X509_NAME *name = X509_get_subject_name(c->x509);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
  X509_set_issuer_name(c->x509, name);
  X509_set_pubkey(c->x509, c->key);
  g_assert_cmpint(X509_sign(c->x509, c->key, EVP_sha256()), >, 0);
  int n = i2d_X509(c->x509, NULL);
  g_assert_cmpint(n, >, 0);
  c->der = g_malloc((gsize)n);
  unsigned char *p = c->der;
  g_assert_cmpint(i2d_X509(c->x509, &p), ==, n);
  c->der_len = (size_t)n;
}

static void test_cert_clear(test_cert *c) {
  X509_free(c->x509);
  EVP_PKEY_free(c->key);
  g_free(c->der);
  memset(c, 0, sizeof *c);
}

/* "AB:CD:..." computed by OpenSSL's X509_digest, independently of media/dtls. */
static char *openssl_fingerprint(X509 *x, const EVP_MD *md) {
  unsigned char dig[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  g_assert_cmpint(X509_digest(x, md, dig, &n), ==, 1);
  GString *s = g_string_new("");
  for (unsigned i = 0; i < n; i++)
    g_string_append_printf(s, "%s%02X", i ? ":" : "", dig[i]);
  return g_string_free(s, FALSE);
}

/* ---- two endpoints joined by queues ------------------------------------------ */

typedef struct endpoint {
  sb_dtls *dtls;
  GQueue out;         /* GBytes this side sent, not yet delivered */
  int sent;           /* datagrams handed to the send callback */
  int drop;           /* drop this many of the next datagrams */
  size_t max_datagram;
  int connected, failed, closed;
  char *why;
  sb_dtls_keys keys;
  GByteArray *data;
} endpoint;

static void ep_send(void *ud, const uint8_t *buf, size_t len) {
  endpoint *e = ud;
  e->sent++;
  if (len > e->max_datagram)
    e->max_datagram = len;
  if (e->drop > 0) {
    e->drop--;
    return;
  }
  g_queue_push_tail(&e->out, g_bytes_new(buf, len));
}

static void ep_connected(void *ud, const sb_dtls_keys *keys) {
  endpoint *e = ud;
  e->connected++;
  e->keys = *keys;
}

static void ep_failed(void *ud, const char *why) {
  endpoint *e = ud;
  e->failed++;
  g_free(e->why);
  e->why = g_strdup(why);
}

static void ep_closed(void *ud) {
  endpoint *e = ud;
  e->closed++;
}

static void ep_data(void *ud, const uint8_t *buf, size_t len) {
  endpoint *e = ud;
  g_byte_array_append(e->data, buf, (guint)len);
}

static const sb_dtls_callbacks callbacks = {
  .send = ep_send,
  .connected = ep_connected,
  .failed = ep_failed,
  .closed = ep_closed,
  .data = ep_data,
};

static void ep_init(endpoint *e) {
  memset(e, 0, sizeof *e);
  g_queue_init(&e->out);
  e->data = g_byte_array_new();
}

static void ep_clear(endpoint *e) {
  sb_dtls_free(e->dtls);
  e->dtls = NULL;
  g_queue_clear_full(&e->out, (GDestroyNotify)g_bytes_unref);
  g_free(e->why);
  g_byte_array_unref(e->data);
}

static void deliver(GBytes *b, endpoint *to) {
  gsize len;
  const uint8_t *buf = g_bytes_get_data(b, &len);
  if (to->dtls)
    sb_dtls_feed(to->dtls, buf, len);
  g_bytes_unref(b);
}

/* Delivers queued datagrams both ways, one at a time, until both queues are empty. */
static void pump(endpoint *a, endpoint *b) {
  for (int i = 0; i < 1000; i++) {
    GBytes *m = g_queue_pop_head(&a->out);
    if (m) {
      deliver(m, b);
      continue;
    }
    m = g_queue_pop_head(&b->out);
    if (m == NULL)
      return;
    deliver(m, a);
  }
  g_error("the endpoints keep sending");
}

/* A client and a server, each expecting the given sha-256 fingerprint of the other. */
static void pair_start(endpoint *client, endpoint *server, const char *hash, const char *client_expects,
                       const char *server_expects) {
  ep_init(client);
  ep_init(server);
  client->dtls = sb_dtls_new(true, hash, client_expects, &callbacks, client);
  server->dtls = sb_dtls_new(false, hash, server_expects, &callbacks, server);
  g_assert_nonnull(client->dtls);
  g_assert_nonnull(server->dtls);
  g_assert_true(sb_dtls_is_client(client->dtls));
  g_assert_false(sb_dtls_is_client(server->dtls));
  g_assert_cmpint(sb_dtls_get_state(client->dtls), ==, SB_DTLS_NEW);
  sb_dtls_start(server->dtls);
  /* A server waits for the ClientHello. */
  g_assert_cmpint(server->sent, ==, 0);
  sb_dtls_start(client->dtls);
  g_assert_cmpint(sb_dtls_get_state(client->dtls), ==, SB_DTLS_CONNECTING);
}

/* Both sides use the process certificate, so each expects its own fingerprint. */
static void handshake(endpoint *client, endpoint *server) {
  const char *fp = sb_dtls_local_fingerprint();
  pair_start(client, server, "sha-256", fp, fp);
  pump(client, server);
  if (client->failed || server->failed)
    g_error("handshake failed: client '%s', server '%s'", client->why, server->why);
  g_assert_cmpint(client->connected, ==, 1);
  g_assert_cmpint(server->connected, ==, 1);
}

static void assert_keys_complementary(const endpoint *client, const endpoint *server) {
  sb_srtp_profile p = client->keys.profile;
  g_assert_cmpint(server->keys.profile, ==, p);
  size_t n = sb_srtp_key_len(p) + sb_srtp_salt_len(p);
  g_assert_cmpuint(n, >, 0);
  g_assert_cmpuint(n, <=, sizeof client->keys.local);
  g_assert_cmpmem(client->keys.local, n, server->keys.remote, n);
  g_assert_cmpmem(client->keys.remote, n, server->keys.local, n);
  g_assert_false(memcmp(client->keys.local, client->keys.remote, n) == 0);
}

/* ---- fingerprints ------------------------------------------------------------ */

static void test_dtls_local_fingerprint_is_uppercase_sha256_hex(void) {
  const char *fp = sb_dtls_local_fingerprint();
  g_assert_nonnull(fp);
  g_assert_cmpuint(strlen(fp), ==, 32 * 3 - 1);
  for (size_t i = 0; fp[i]; i++) {
    if (i % 3 == 2)
      g_assert_cmpint(fp[i], ==, ':');
    else
      g_assert_true(g_ascii_isdigit(fp[i]) || (fp[i] >= 'A' && fp[i] <= 'F'));
  }
}

static void test_dtls_fingerprint_der_matches_openssl_digest(void) {
  test_cert c;
  test_cert_make(&c, "fingerprint-test");
  static const struct { const char *name; const EVP_MD *(*md)(void); size_t bytes; } hashes[] = {
    { "sha-1", EVP_sha1, 20 },     { "sha-224", EVP_sha224, 28 }, { "sha-256", EVP_sha256, 32 },
    { "sha-384", EVP_sha384, 48 }, { "sha-512", EVP_sha512, 64 }, { "SHA-256", EVP_sha256, 32 },
  };
  for (guint i = 0; i < G_N_ELEMENTS(hashes); i++) {
    char out[SB_FINGERPRINT_MAX];
    memset(out, 'x', sizeof out);
    if (sb_dtls_fingerprint_der(c.der, c.der_len, hashes[i].name, out, sizeof out) != 0)
      g_error("no %s fingerprint in a buffer of SB_FINGERPRINT_MAX (%d) bytes", hashes[i].name,
              SB_FINGERPRINT_MAX);
    char *want = openssl_fingerprint(c.x509, hashes[i].md());
    g_assert_cmpstr(out, ==, want);
    g_assert_cmpuint(strlen(out), ==, hashes[i].bytes * 3 - 1);
    g_assert_true(sb_dtls_hash_supported(hashes[i].name));
    g_free(want);
  }
  test_cert_clear(&c);
}

static void test_dtls_fingerprint_der_respects_buffer_size(void) {
  test_cert c;
  test_cert_make(&c, "small-buffer");
  /* 32 bytes of SHA-256: 95 characters and a NUL. */
  char out[96 + 8];
  memset(out, 'x', sizeof out);
  g_assert_cmpint(sb_dtls_fingerprint_der(c.der, c.der_len, "sha-256", out, 96), ==, 0);
  g_assert_cmpuint(strlen(out), ==, 95);
  g_assert_cmpint(out[97], ==, 'x');
  g_assert_cmpint(sb_dtls_fingerprint_der(c.der, c.der_len, "sha-256", out, 95), ==, -1);
  g_assert_cmpint(sb_dtls_fingerprint_der(c.der, c.der_len, "sha-256", out, 0), ==, -1);
  test_cert_clear(&c);
}

static void test_dtls_fingerprint_der_refuses_unknown_hash_and_garbage(void) {
  test_cert c;
  test_cert_make(&c, "refusals");
  char out[SB_FINGERPRINT_MAX];
  static const char *const bad_hashes[] = { "md5", "sha-3", "sha256", "", "sha-256 " };
  for (guint i = 0; i < G_N_ELEMENTS(bad_hashes); i++) {
    g_assert_cmpint(sb_dtls_fingerprint_der(c.der, c.der_len, bad_hashes[i], out, sizeof out), ==, -1);
    g_assert_false(sb_dtls_hash_supported(bad_hashes[i]));
  }
  g_assert_cmpint(sb_dtls_fingerprint_der(c.der, c.der_len, NULL, out, sizeof out), ==, -1);
  g_assert_false(sb_dtls_hash_supported(NULL));
  /* Truncated, empty, and random DER. */
  g_assert_cmpint(sb_dtls_fingerprint_der(c.der, c.der_len / 2, "sha-256", out, sizeof out), ==, -1);
  g_assert_cmpint(sb_dtls_fingerprint_der(c.der, 0, "sha-256", out, sizeof out), ==, -1);
  uint8_t junk[300];
  for (guint i = 0; i < sizeof junk; i++)
    junk[i] = (uint8_t)(i * 37 + 11);
  g_assert_cmpint(sb_dtls_fingerprint_der(junk, sizeof junk, "sha-256", out, sizeof out), ==, -1);
  junk[0] = 0x30; /* a SEQUENCE whose length runs past the end */
  junk[1] = 0x82;
  junk[2] = 0x7f;
  junk[3] = 0xff;
  g_assert_cmpint(sb_dtls_fingerprint_der(junk, sizeof junk, "sha-256", out, sizeof out), ==, -1);
  test_cert_clear(&c);
}

static void test_dtls_fingerprint_equal_ignores_case_only(void) {
  g_assert_true(sb_dtls_fingerprint_equal("AB:CD:EF:01", "ab:cd:ef:01"));
  g_assert_true(sb_dtls_fingerprint_equal("AB:cd:EF:01", "ab:CD:ef:01"));
  g_assert_false(sb_dtls_fingerprint_equal("AB:CD:EF:01", "AB:CD:EF:02"));
  g_assert_false(sb_dtls_fingerprint_equal("AB:CD:EF:01", "AB:CD:EF"));
  g_assert_false(sb_dtls_fingerprint_equal("AB:CD:EF:01", "ABCDEF01"));
  g_assert_false(sb_dtls_fingerprint_equal(NULL, "AB"));
  g_assert_false(sb_dtls_fingerprint_equal("AB", NULL));
  g_assert_false(sb_dtls_fingerprint_equal(NULL, NULL));
}

static void test_dtls_state_names(void) {
  g_assert_cmpstr(sb_dtls_state_name(SB_DTLS_NEW), ==, "new");
  g_assert_cmpstr(sb_dtls_state_name(SB_DTLS_CONNECTED), ==, "connected");
  g_assert_cmpstr(sb_dtls_state_name(SB_DTLS_CLOSED), ==, "closed");
  g_assert_cmpstr(sb_dtls_state_name((sb_dtls_state)99), ==, "?");
}

/* ---- handshakes ---------------------------------------------------------------- */

static void test_dtls_handshake_derives_matching_keys(void) {
  endpoint client, server;
  handshake(&client, &server);
  g_assert_cmpint(sb_dtls_get_state(client.dtls), ==, SB_DTLS_CONNECTED);
  g_assert_cmpint(sb_dtls_get_state(server.dtls), ==, SB_DTLS_CONNECTED);
  g_assert_cmpint(client.failed + server.failed + client.closed + server.closed, ==, 0);
  /* Our preference, and the browsers': AES-GCM. */
  g_assert_cmpint(client.keys.profile, ==, SB_SRTP_AEAD_AES_128_GCM);
  assert_keys_complementary(&client, &server);
  /* Every datagram fits the MTU. */
  g_assert_cmpuint(client.max_datagram, <=, SB_DTLS_MTU);
  g_assert_cmpuint(server.max_datagram, <=, SB_DTLS_MTU);
  g_assert_cmpint(sb_dtls_timeout_ms(client.dtls), ==, -1);
  g_assert_cmpint(sb_dtls_timeout_ms(server.dtls), ==, -1);
  ep_clear(&client);
  ep_clear(&server);
}

static void test_dtls_two_handshakes_get_different_keys(void) {
  endpoint c1, s1, c2, s2;
  handshake(&c1, &s1);
  handshake(&c2, &s2);
  g_assert_false(memcmp(c1.keys.local, c2.keys.local, 28) == 0);
  ep_clear(&c1);
  ep_clear(&s1);
  ep_clear(&c2);
  ep_clear(&s2);
}

/* One RTP packet: header (RFC 3550 §5.1) and a recognisable payload. */
static int make_rtp(uint8_t *buf, uint16_t seq, uint32_t ssrc, size_t payload) {
  buf[0] = 0x80;
  buf[1] = 96;
  buf[2] = (uint8_t)(seq >> 8);
  buf[3] = (uint8_t)seq;
  uint32_t ts = 90000u + seq * 3000u;
  buf[4] = (uint8_t)(ts >> 24);
  buf[5] = (uint8_t)(ts >> 16);
  buf[6] = (uint8_t)(ts >> 8);
  buf[7] = (uint8_t)ts;
  buf[8] = (uint8_t)(ssrc >> 24);
  buf[9] = (uint8_t)(ssrc >> 16);
  buf[10] = (uint8_t)(ssrc >> 8);
  buf[11] = (uint8_t)ssrc;
  for (size_t i = 0; i < payload; i++)
    buf[12 + i] = (uint8_t)(i * 7 + seq);
  return (int)(12 + payload);
}

/* A receiver report with one report block (RFC 3550 §6.4.2). */
static int make_rtcp_rr(uint8_t *buf, uint32_t ssrc) {
  memset(buf, 0, 32);
  buf[0] = 0x81;
  buf[1] = 201;
  buf[3] = 7;
  buf[4] = (uint8_t)(ssrc >> 24);
  buf[5] = (uint8_t)(ssrc >> 16);
  buf[6] = (uint8_t)(ssrc >> 8);
  buf[7] = (uint8_t)ssrc;
  for (int i = 8; i < 32; i++)
    buf[i] = (uint8_t)(i * 13);
  return 32;
}

/* Protects with `from`, unprotects with `to`: the same bytes come out. */
static void assert_rtp_round_trip(sb_srtp *from, sb_srtp *to, uint16_t seq, uint32_t ssrc) {
  uint8_t plain[1200], buf[1200 + SB_SRTP_TRAILER];
  int n = make_rtp(plain, seq, ssrc, 160);
  memcpy(buf, plain, (size_t)n);
  int len = n;
  g_assert_cmpint(sb_srtp_protect_rtp(from, buf, &len), ==, 0);
  g_assert_cmpint(len, >, n);
  g_assert_cmpint(len, <=, n + SB_SRTP_TRAILER);
  /* The header stays readable; the payload does not. */
  g_assert_cmpmem(buf, 12, plain, 12);
  g_assert_false(memcmp(buf + 12, plain + 12, (size_t)n - 12) == 0);
  g_assert_cmpint(sb_srtp_unprotect_rtp(to, buf, &len), ==, 0);
  g_assert_cmpmem(buf, len, plain, n);
}

static void test_dtls_keys_protect_rtp_and_rtcp_between_sides(void) {
  endpoint client, server;
  handshake(&client, &server);
  sb_srtp cs, ss;
  g_assert_cmpint(sb_srtp_init(&cs, client.keys.profile, client.keys.local, client.keys.remote, 0), ==, 0);
  g_assert_cmpint(sb_srtp_init(&ss, server.keys.profile, server.keys.local, server.keys.remote, 0), ==, 0);
  g_assert_true(sb_srtp_ready(&cs));
  g_assert_cmpint(cs.profile, ==, SB_SRTP_AEAD_AES_128_GCM);

  assert_rtp_round_trip(&cs, &ss, 1000, 0x11223344);
  assert_rtp_round_trip(&cs, &ss, 1001, 0x11223344);
  assert_rtp_round_trip(&ss, &cs, 7, 0xCAFEBABE);

  /* RTCP both ways. */
  for (int dir = 0; dir < 2; dir++) {
    sb_srtp *from = dir ? &ss : &cs, *to = dir ? &cs : &ss;
    uint8_t plain[64], buf[64 + SB_SRTP_TRAILER];
    int n = make_rtcp_rr(plain, 0x55667788u + (uint32_t)dir);
    memcpy(buf, plain, (size_t)n);
    int len = n;
    g_assert_cmpint(sb_srtp_protect_rtcp(from, buf, &len), ==, 0);
    g_assert_cmpint(len, >, n);
    g_assert_cmpint(sb_srtp_unprotect_rtcp(to, buf, &len), ==, 0);
    g_assert_cmpmem(buf, len, plain, n);
  }

  /* Our own keys do not open our own packets: each direction has its key. */
  uint8_t buf[1200 + SB_SRTP_TRAILER];
  int len = make_rtp(buf, 2000, 0x11223344, 100);
  g_assert_cmpint(sb_srtp_protect_rtp(&cs, buf, &len), ==, 0);
  g_assert_cmpint(sb_srtp_unprotect_rtp(&cs, buf, &len), !=, 0);

  sb_srtp_free(&cs);
  sb_srtp_free(&ss);
  g_assert_false(sb_srtp_ready(&cs));
  ep_clear(&client);
  ep_clear(&server);
}

static void test_dtls_srtp_refuses_tampered_and_replayed_packets(void) {
  endpoint client, server;
  handshake(&client, &server);
  sb_srtp cs, ss;
  g_assert_cmpint(sb_srtp_init(&cs, client.keys.profile, client.keys.local, client.keys.remote, 128), ==, 0);
  g_assert_cmpint(sb_srtp_init(&ss, server.keys.profile, server.keys.local, server.keys.remote, 128), ==, 0);

  /* A flipped payload bit, a flipped header bit, and a cut tag all fail. */
  for (int where = 0; where < 3; where++) {
    uint8_t buf[1200 + SB_SRTP_TRAILER];
    int len = make_rtp(buf, (uint16_t)(3000 + where), 0x01020304, 100);
    g_assert_cmpint(sb_srtp_protect_rtp(&cs, buf, &len), ==, 0);
    if (where == 0)
      buf[40] ^= 0x01;
    else if (where == 1)
      buf[7] ^= 0x80; /* timestamp */
    else
      len -= 1;
    g_assert_cmpint(sb_srtp_unprotect_rtp(&ss, buf, &len), !=, 0);
  }
  /* RTCP likewise. */
  uint8_t rtcp[64 + SB_SRTP_TRAILER];
  int rlen = make_rtcp_rr(rtcp, 0x01020304);
  g_assert_cmpint(sb_srtp_protect_rtcp(&cs, rtcp, &rlen), ==, 0);
  rtcp[12] ^= 0x40;
  g_assert_cmpint(sb_srtp_unprotect_rtcp(&ss, rtcp, &rlen), !=, 0);

  /* A replayed packet is refused the second time. */
  uint8_t pkt[1200 + SB_SRTP_TRAILER], copy[1200 + SB_SRTP_TRAILER];
  int len = make_rtp(pkt, 4000, 0x01020304, 100);
  g_assert_cmpint(sb_srtp_protect_rtp(&cs, pkt, &len), ==, 0);
  memcpy(copy, pkt, (size_t)len);
  int clen = len;
  g_assert_cmpint(sb_srtp_unprotect_rtp(&ss, pkt, &len), ==, 0);
  g_assert_cmpint(sb_srtp_unprotect_rtp(&ss, copy, &clen), !=, 0);

  /* Sending a sequence number again (a NACK answer) is allowed on our side. */
  uint8_t again[1200 + SB_SRTP_TRAILER];
  int alen = make_rtp(again, 4000, 0x01020304, 100);
  g_assert_cmpint(sb_srtp_protect_rtp(&cs, again, &alen), ==, 0);

  sb_srtp_free(&cs);
  sb_srtp_free(&ss);
  ep_clear(&client);
  ep_clear(&server);
}

static void test_dtls_srtp_aes_cm_profile_round_trips(void) {
  /* The other profile we offer: AES-CM + HMAC-SHA1-80 with 30-byte key||salt. */
  g_assert_cmpuint(sb_srtp_key_len(SB_SRTP_AES128_CM_SHA1_80), ==, 16);
  g_assert_cmpuint(sb_srtp_salt_len(SB_SRTP_AES128_CM_SHA1_80), ==, 14);
  g_assert_cmpuint(sb_srtp_key_len(SB_SRTP_AEAD_AES_128_GCM), ==, 16);
  g_assert_cmpuint(sb_srtp_salt_len(SB_SRTP_AEAD_AES_128_GCM), ==, 12);
  g_assert_cmpuint(sb_srtp_key_len(SB_SRTP_NONE), ==, 0);
  g_assert_cmpstr(sb_srtp_profile_name(SB_SRTP_AEAD_AES_128_GCM), ==, "SRTP_AEAD_AES_128_GCM");
  uint8_t a[30], b[30];
  for (int i = 0; i < 30; i++) {
    a[i] = (uint8_t)(i + 1);
    b[i] = (uint8_t)(200 - i);
  }
  sb_srtp x, y;
  g_assert_cmpint(sb_srtp_init(&x, SB_SRTP_AES128_CM_SHA1_80, a, b, 0), ==, 0);
  g_assert_cmpint(sb_srtp_init(&y, SB_SRTP_AES128_CM_SHA1_80, b, a, 0), ==, 0);
  assert_rtp_round_trip(&x, &y, 10, 0xABCDEF01);
  assert_rtp_round_trip(&y, &x, 20, 0x10FEDCBA);
  sb_srtp_free(&x);
  sb_srtp_free(&y);
  /* No profile, no context. */
  g_assert_cmpint(sb_srtp_init(&x, SB_SRTP_NONE, a, b, 0), ==, -1);
  g_assert_false(sb_srtp_ready(&x));
}

static void test_dtls_wrong_fingerprint_fails_with_mismatch(void) {
  const char *fp = sb_dtls_local_fingerprint();
  char wrong[SB_FINGERPRINT_MAX];
  g_strlcpy(wrong, fp, sizeof wrong);
  wrong[0] = wrong[0] == '0' ? '1' : '0';

  /* The server expects another certificate from the client. */
  endpoint client, server;
  pair_start(&client, &server, "sha-256", fp, wrong);
  pump(&client, &server);
  g_assert_cmpint(server.failed, ==, 1);
  g_assert_cmpint(server.connected, ==, 0);
  g_assert_nonnull(strstr(server.why, "mismatch"));
  g_assert_cmpint(sb_dtls_get_state(server.dtls), ==, SB_DTLS_FAILED);
  g_assert_cmpint(client.failed, ==, 0);
  ep_clear(&client);
  ep_clear(&server);

  /* The client expects another certificate from the server. */
  pair_start(&client, &server, "sha-256", wrong, fp);
  pump(&client, &server);
  g_assert_cmpint(client.failed, ==, 1);
  g_assert_cmpint(client.connected, ==, 0);
  g_assert_nonnull(strstr(client.why, "mismatch"));
  g_assert_cmpint(sb_dtls_get_state(client.dtls), ==, SB_DTLS_FAILED);
  /* Feeding a failed side is harmless. */
  uint8_t junk[20] = { 22, 0xfe, 0xfd };
  sb_dtls_feed(client.dtls, junk, sizeof junk);
  g_assert_cmpint(client.failed, ==, 1);
  ep_clear(&client);
  ep_clear(&server);

  /* The right digest under another hash name is not the same fingerprint. */
  pair_start(&client, &server, "sha-1", fp, fp);
  pump(&client, &server);
  g_assert_cmpint(server.failed, ==, 1);
  g_assert_cmpint(server.connected, ==, 0);
  ep_clear(&client);
  ep_clear(&server);
}

static void test_dtls_lost_first_flight_is_retransmitted(void) {
  const char *fp = sb_dtls_local_fingerprint();
  endpoint client, server;
  ep_init(&client);
  ep_init(&server);
  client.drop = 1; /* the ClientHello */
  client.dtls = sb_dtls_new(true, "sha-256", fp, &callbacks, &client);
  server.dtls = sb_dtls_new(false, "sha-256", fp, &callbacks, &server);
  sb_dtls_start(server.dtls);
  sb_dtls_start(client.dtls);
  g_assert_cmpint(client.sent, ==, 1);
  pump(&client, &server);
  g_assert_cmpint(server.sent, ==, 0);
  /* The retransmission timer runs (first after 400 ms) and is not due yet. */
  int64_t due = sb_dtls_timeout_ms(client.dtls);
  g_assert_cmpint(due, >, 0);
  g_assert_cmpint(due, <=, 400);
  g_assert_cmpint(sb_dtls_timeout_ms(server.dtls), ==, -1);
  sb_dtls_handle_timeout(client.dtls);
  g_assert_cmpint(client.sent, ==, 1);

  /* Drive the timers as an event loop would, for at most a few seconds. */
  gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
  while (!(client.connected && server.connected) && g_get_monotonic_time() < deadline) {
    endpoint *eps[2] = { &client, &server };
    for (int i = 0; i < 2; i++)
      if (sb_dtls_timeout_ms(eps[i]->dtls) == 0)
        sb_dtls_handle_timeout(eps[i]->dtls);
    pump(&client, &server);
    g_usleep(5000);
  }
  g_assert_cmpint(client.connected, ==, 1);
  g_assert_cmpint(server.connected, ==, 1);
  g_assert_cmpint(client.sent, >=, 3); /* ClientHello twice, then flight 5 */
  assert_keys_complementary(&client, &server);
  ep_clear(&client);
  ep_clear(&server);
}

static void test_dtls_garbage_does_not_break_a_connecting_side(void) {
  const char *fp = sb_dtls_local_fingerprint();
  endpoint client, server;
  pair_start(&client, &server, "sha-256", fp, fp);
  /* The ClientHello waits in the queue while the server gets garbage first. */
  uint8_t junk[600];
  for (guint i = 0; i < sizeof junk; i++)
    junk[i] = (uint8_t)(i * 151 + 7);
  static const uint8_t short_header[] = { 22, 0xfe, 0xfd, 0, 0 };
  uint8_t bad_length[40] = { 22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
  uint8_t bad_version[40] = { 22, 0x03, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 27 };
  uint8_t alert[] = { 21, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 40 };
  sb_dtls_feed(server.dtls, junk, sizeof junk);
  sb_dtls_feed(server.dtls, junk, 1);
  sb_dtls_feed(server.dtls, junk, 0);
  sb_dtls_feed(server.dtls, short_header, sizeof short_header);
  sb_dtls_feed(server.dtls, bad_length, sizeof bad_length);
  sb_dtls_feed(server.dtls, bad_version, sizeof bad_version);
  g_assert_cmpint(server.connected, ==, 0);
  g_assert_cmpint(server.failed, ==, 0);
  g_assert_cmpint(sb_dtls_get_state(server.dtls), ==, SB_DTLS_CONNECTING);
  /* Garbage is dropped, so the real handshake still completes. */
  pump(&client, &server);
  g_assert_cmpint(client.connected, ==, 1);
  g_assert_cmpint(server.connected, ==, 1);
  /* And garbage once connected does not disturb it either. */
  sb_dtls_feed(server.dtls, junk, sizeof junk);
  sb_dtls_feed(client.dtls, bad_length, sizeof bad_length);
  pump(&client, &server);
  g_assert_cmpint(sb_dtls_get_state(server.dtls), ==, SB_DTLS_CONNECTED);
  g_assert_cmpint(sb_dtls_get_state(client.dtls), ==, SB_DTLS_CONNECTED);
  g_assert_cmpuint(server.data->len, ==, 0);
  ep_clear(&client);
  ep_clear(&server);

  /* An unauthenticated alert during the handshake: no crash, and no success. */
  pair_start(&client, &server, "sha-256", fp, fp);
  sb_dtls_feed(server.dtls, alert, sizeof alert);
  g_assert_cmpint(server.connected, ==, 0);
  g_assert_true(sb_dtls_get_state(server.dtls) == SB_DTLS_CONNECTING ||
                (sb_dtls_get_state(server.dtls) == SB_DTLS_FAILED && server.failed == 1));
  ep_clear(&client);
  ep_clear(&server);
}

static void test_dtls_application_data_flows_once_connected(void) {
  const char *fp = sb_dtls_local_fingerprint();
  endpoint client, server;
  pair_start(&client, &server, "sha-256", fp, fp);
  static const uint8_t early[] = "too early";
  g_assert_cmpint(sb_dtls_send_data(client.dtls, early, sizeof early), ==, -1);
  pump(&client, &server);
  g_assert_cmpint(client.connected, ==, 1);
  static const uint8_t hello[] = "hello sctp";
  static const uint8_t reply[] = "and back";
  g_assert_cmpint(sb_dtls_send_data(client.dtls, hello, sizeof hello), ==, 0);
  g_assert_cmpint(sb_dtls_send_data(server.dtls, reply, sizeof reply), ==, 0);
  pump(&client, &server);
  g_assert_cmpmem(server.data->data, server.data->len, hello, sizeof hello);
  g_assert_cmpmem(client.data->data, client.data->len, reply, sizeof reply);
  ep_clear(&client);
  ep_clear(&server);
}

static void test_dtls_free_sends_close_notify(void) {
  endpoint client, server;
  handshake(&client, &server);
  int before = client.sent;
  sb_dtls_free(client.dtls);
  client.dtls = NULL;
  g_assert_cmpint(client.sent, >, before);
  pump(&client, &server);
  g_assert_cmpint(server.closed, ==, 1);
  g_assert_cmpint(server.failed, ==, 0);
  g_assert_cmpint(sb_dtls_get_state(server.dtls), ==, SB_DTLS_CLOSED);
  g_assert_cmpint(sb_dtls_send_data(server.dtls, (const uint8_t *)"x", 1), ==, -1);
  /* A closed side sends nothing more when freed. */
  before = server.sent;
  sb_dtls_free(server.dtls);
  server.dtls = NULL;
  g_assert_cmpint(server.sent, ==, before);
  ep_clear(&client);
  ep_clear(&server);

  /* Freeing a side that never connected sends nothing. */
  const char *fp = sb_dtls_local_fingerprint();
  pair_start(&client, &server, "sha-256", fp, fp);
  before = client.sent;
  sb_dtls_free(client.dtls);
  client.dtls = NULL;
  g_assert_cmpint(client.sent, ==, before);
  ep_clear(&client);
  ep_clear(&server);
}

/* In a child process: the process certificate from PEM files, checked with the
 * longest hash an offer may name (sha-512). */
static void test_dtls_configured_certificate_and_sha512_fingerprint(void) {
  if (!g_test_subprocess()) {
    g_test_trap_subprocess(NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
    g_test_trap_assert_passed();
    return;
  }
  test_cert c, other;
  test_cert_make(&c, "configured");
  test_cert_make(&other, "other");
  GError *err = NULL;
  char *dir = g_dir_make_tmp("sbdtls-XXXXXX", &err);
  g_assert_no_error(err);
  char *cert_path = g_build_filename(dir, "cert.pem", NULL);
  char *key_path = g_build_filename(dir, "key.pem", NULL);
  char *other_key_path = g_build_filename(dir, "other-key.pem", NULL);
  FILE *f = fopen(cert_path, "w");
  g_assert_cmpint(PEM_write_X509(f, c.x509), ==, 1);
  fclose(f);
  f = fopen(key_path, "w");
  g_assert_cmpint(PEM_write_PrivateKey(f, c.key, NULL, NULL, 0, NULL, NULL), ==, 1);
  fclose(f);
  f = fopen(other_key_path, "w");
  g_assert_cmpint(PEM_write_PrivateKey(f, other.key, NULL, NULL, 0, NULL, NULL), ==, 1);
  fclose(f);

  sb_dtls_global_cleanup();
  g_assert_cmpint(sb_dtls_global_init("/nonexistent/cert.pem", key_path), ==, -1);
  sb_dtls_global_cleanup();
  g_assert_cmpint(sb_dtls_global_init(cert_path, other_key_path), ==, -1);
  sb_dtls_global_cleanup();
  g_assert_cmpint(sb_dtls_global_init(cert_path, key_path), ==, 0);

  char *sha256 = openssl_fingerprint(c.x509, EVP_sha256());
  g_assert_cmpstr(sb_dtls_local_fingerprint(), ==, sha256);
  char *sha512 = openssl_fingerprint(c.x509, EVP_sha512());
  endpoint client, server;
  pair_start(&client, &server, "sha-512", sha512, sha512);
  pump(&client, &server);
  if (client.failed || server.failed)
    g_error("sha-512 handshake failed: client '%s', server '%s'", client.why, server.why);
  g_assert_cmpint(client.connected, ==, 1);
  g_assert_cmpint(server.connected, ==, 1);
  ep_clear(&client);
  ep_clear(&server);

  g_unlink(cert_path);
  g_unlink(key_path);
  g_unlink(other_key_path);
  g_rmdir(dir);
  g_free(sha256);
  g_free(sha512);
  g_free(cert_path);
  g_free(key_path);
  g_free(other_key_path);
  g_free(dir);
  test_cert_clear(&c);
  test_cert_clear(&other);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  if (sb_dtls_global_init(NULL, NULL) != 0 || sb_srtp_global_init() != 0)
    g_error("DTLS/SRTP global init failed");
  g_test_add_func("/dtls/local-fingerprint-is-uppercase-sha256-hex",
                  test_dtls_local_fingerprint_is_uppercase_sha256_hex);
  g_test_add_func("/dtls/fingerprint-der-matches-openssl-digest",
                  test_dtls_fingerprint_der_matches_openssl_digest);
  g_test_add_func("/dtls/fingerprint-der-respects-buffer-size",
                  test_dtls_fingerprint_der_respects_buffer_size);
  g_test_add_func("/dtls/fingerprint-der-refuses-unknown-hash-and-garbage",
                  test_dtls_fingerprint_der_refuses_unknown_hash_and_garbage);
  g_test_add_func("/dtls/fingerprint-equal-ignores-case-only",
                  test_dtls_fingerprint_equal_ignores_case_only);
  g_test_add_func("/dtls/state-names", test_dtls_state_names);
  g_test_add_func("/dtls/handshake-derives-matching-keys", test_dtls_handshake_derives_matching_keys);
  g_test_add_func("/dtls/two-handshakes-get-different-keys", test_dtls_two_handshakes_get_different_keys);
  g_test_add_func("/dtls/keys-protect-rtp-and-rtcp-between-sides",
                  test_dtls_keys_protect_rtp_and_rtcp_between_sides);
  g_test_add_func("/dtls/srtp-refuses-tampered-and-replayed-packets",
                  test_dtls_srtp_refuses_tampered_and_replayed_packets);
  g_test_add_func("/dtls/srtp-aes-cm-profile-round-trips", test_dtls_srtp_aes_cm_profile_round_trips);
  g_test_add_func("/dtls/wrong-fingerprint-fails-with-mismatch",
                  test_dtls_wrong_fingerprint_fails_with_mismatch);
  g_test_add_func("/dtls/lost-first-flight-is-retransmitted",
                  test_dtls_lost_first_flight_is_retransmitted);
  g_test_add_func("/dtls/garbage-does-not-break-a-connecting-side",
                  test_dtls_garbage_does_not_break_a_connecting_side);
  g_test_add_func("/dtls/application-data-flows-once-connected",
                  test_dtls_application_data_flows_once_connected);
  g_test_add_func("/dtls/free-sends-close-notify", test_dtls_free_sends_close_notify);
  g_test_add_func("/dtls/configured-certificate-and-sha512-fingerprint",
                  test_dtls_configured_certificate_and_sha512_fingerprint);
  int rc = g_test_run();
  sb_dtls_global_cleanup();
  sb_srtp_global_cleanup();
  return rc;
}
