/* Switchboard — DTLS-SRTP with OpenSSL 3. */
#include "media/dtls.h"

#include <glib.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <string.h>

#include "core/log.h"

/* Our preference: AES-GCM is cheaper per packet than AES-CM + HMAC-SHA1 (GOTCHAS). */
#define SRTP_PROFILES "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"
/* DTLS retransmission: first after 400 ms, doubling, and give up after this many. */
#define DTLS_INITIAL_TIMEOUT_US 400000
#define DTLS_MAX_TIMEOUT_US 4000000
#define DTLS_MAX_RETRANSMITS 8

struct sb_dtls {
  SSL *ssl;
  BIO *rbio;              /* memory BIO we write received datagrams into */
  BIO *wbio;              /* our BIO: each write is one datagram through cb.send */
  bool client;
  sb_dtls_state state;
  int retransmits;
  char *remote_hash;
  char *remote_fp;
  sb_dtls_callbacks cb;
  void *ud;
};

static SSL_CTX *ssl_ctx;
static X509 *local_cert;
static EVP_PKEY *local_key;
static char local_fingerprint[SB_FINGERPRINT_MAX];
static BIO_METHOD *out_bio_method;

const char *sb_dtls_state_name(sb_dtls_state s) {
  static const char *const names[] = { "new", "connecting", "connected", "failed", "closed" };
  return (unsigned)s < G_N_ELEMENTS(names) ? names[s] : "?";
}

static const EVP_MD *hash_by_name(const char *hash) {
  if (hash == NULL)
    return NULL;
  if (!g_ascii_strcasecmp(hash, "sha-1"))
    return EVP_sha1();
  if (!g_ascii_strcasecmp(hash, "sha-224"))
    return EVP_sha224();
  if (!g_ascii_strcasecmp(hash, "sha-256"))
    return EVP_sha256();
  if (!g_ascii_strcasecmp(hash, "sha-384"))
    return EVP_sha384();
  if (!g_ascii_strcasecmp(hash, "sha-512"))
    return EVP_sha512();
  return NULL;
}

bool sb_dtls_hash_supported(const char *hash) { return hash_by_name(hash) != NULL; }

static int fingerprint_of(X509 *cert, const EVP_MD *md, char *out, size_t cap) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(cert, md, digest, &n) != 1 || cap < (size_t)n * 3)
    return -1;
  for (unsigned i = 0; i < n; i++)
    g_snprintf(out + i * 3, cap - i * 3, "%02X%s", digest[i], i + 1 < n ? ":" : "");
  return 0;
}

int sb_dtls_fingerprint_der(const uint8_t *der, size_t der_len, const char *hash, char *out,
                            size_t cap) {
  const EVP_MD *md = hash_by_name(hash);
  if (md == NULL || der_len > (size_t)G_MAXLONG)
    return -1;
  const unsigned char *p = der;
  X509 *cert = d2i_X509(NULL, &p, (long)der_len);
  if (cert == NULL)
    return -1;
  int rc = fingerprint_of(cert, md, out, cap);
  X509_free(cert);
  return rc;
}

bool sb_dtls_fingerprint_equal(const char *a, const char *b) {
  return a && b && g_ascii_strcasecmp(a, b) == 0;
}

/* Browsers' certificates are self-signed: accept the chain here and check the
 * fingerprint from the SDP after the handshake instead. */
static int verify_accept_any(int ok, X509_STORE_CTX *ctx) { return 1; }

static int generate_certificate(void) {
  local_key = EVP_EC_gen("P-256");
  if (local_key == NULL)
    return -1;
  local_cert = X509_new();
  if (local_cert == NULL)
    return -1;
  X509_set_version(local_cert, 2);
  uint64_t serial;
  RAND_bytes((unsigned char *)&serial, sizeof serial);
  ASN1_INTEGER_set_uint64(X509_get_serialNumber(local_cert), serial >> 1);
  /* Valid from a day ago (clock skew) for 30 days; a new one is made at every start. */
  X509_gmtime_adj(X509_getm_notBefore(local_cert), -24 * 3600);
  X509_gmtime_adj(X509_getm_notAfter(local_cert), 30L * 24 * 3600);
  X509_NAME *name = X509_get_subject_name(local_cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"switchboard", -1, -1, 0);
  X509_set_issuer_name(local_cert, name);
  X509_set_pubkey(local_cert, local_key);
  if (X509_sign(local_cert, local_key, EVP_sha256()) == 0)
    return -1;
  return 0;
}

static int load_certificate(const char *cert_file, const char *key_file) {
  FILE *f = fopen(cert_file, "r");
  if (f == NULL) {
    sb_error("dtls: cannot open certificate %s", cert_file);
    return -1;
  }
  local_cert = PEM_read_X509(f, NULL, NULL, NULL);
  fclose(f);
  f = fopen(key_file, "r");
  if (f == NULL) {
    sb_error("dtls: cannot open key %s", key_file);
    return -1;
  }
  local_key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
  fclose(f);
  if (local_cert == NULL || local_key == NULL) {
    sb_error("dtls: cannot read certificate %s or key %s", cert_file, key_file);
    return -1;
  }
  return 0;
}

/* The outgoing BIO: OpenSSL writes one record or flight fragment per call; each
 * goes out as its own datagram. */
static int out_bio_write(BIO *bio, const char *buf, int len) {
  sb_dtls *d = BIO_get_data(bio);
  if (d && len > 0)
    d->cb.send(d->ud, (const uint8_t *)buf, (size_t)len);
  return len;
}

static long out_bio_ctrl(BIO *bio, int cmd, long num, void *ptr) {
  switch (cmd) {
  case BIO_CTRL_FLUSH:
    return 1;
  case BIO_CTRL_DGRAM_QUERY_MTU:
  case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
    return SB_DTLS_MTU;
  case BIO_CTRL_WPENDING:
  case BIO_CTRL_PENDING:
    return 0;
  default:
    return 0;
  }
}

static int out_bio_create(BIO *bio) {
  BIO_set_init(bio, 1);
  return 1;
}

int sb_dtls_global_init(const char *cert_file, const char *key_file) {
  int rc = (cert_file && *cert_file && key_file && *key_file) ? load_certificate(cert_file, key_file)
                                                              : generate_certificate();
  if (rc != 0) {
    sb_error("dtls: no certificate");
    return -1;
  }
  if (fingerprint_of(local_cert, EVP_sha256(), local_fingerprint, sizeof local_fingerprint) != 0)
    return -1;

  ssl_ctx = SSL_CTX_new(DTLS_method());
  if (ssl_ctx == NULL)
    return -1;
  SSL_CTX_set_min_proto_version(ssl_ctx, DTLS1_2_VERSION);
  SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_accept_any);
  SSL_CTX_set_verify_depth(ssl_ctx, 4);
  SSL_CTX_set_read_ahead(ssl_ctx, 1);
  if (SSL_CTX_use_certificate(ssl_ctx, local_cert) != 1 ||
      SSL_CTX_use_PrivateKey(ssl_ctx, local_key) != 1 || SSL_CTX_check_private_key(ssl_ctx) != 1) {
    sb_error("dtls: certificate and key do not match");
    return -1;
  }
  /* Note: SSL_CTX_set_tlsext_use_srtp returns 0 on success. */
  if (SSL_CTX_set_tlsext_use_srtp(ssl_ctx, SRTP_PROFILES) != 0) {
    sb_error("dtls: SRTP profiles not supported by this OpenSSL");
    return -1;
  }
  SSL_CTX_set_options(ssl_ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET);

  out_bio_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "switchboard dtls");
  BIO_meth_set_write(out_bio_method, out_bio_write);
  BIO_meth_set_ctrl(out_bio_method, out_bio_ctrl);
  BIO_meth_set_create(out_bio_method, out_bio_create);
  sb_info("dtls: certificate fingerprint sha-256 %s", local_fingerprint);
  return 0;
}

void sb_dtls_global_cleanup(void) {
  g_clear_pointer(&ssl_ctx, SSL_CTX_free);
  g_clear_pointer(&local_cert, X509_free);
  g_clear_pointer(&local_key, EVP_PKEY_free);
  g_clear_pointer(&out_bio_method, BIO_meth_free);
}

const char *sb_dtls_local_fingerprint(void) { return local_fingerprint; }

static unsigned int dtls_timer_cb(SSL *ssl, unsigned int previous_us) {
  if (previous_us == 0)
    return DTLS_INITIAL_TIMEOUT_US;
  return previous_us * 2 > DTLS_MAX_TIMEOUT_US ? DTLS_MAX_TIMEOUT_US : previous_us * 2;
}

sb_dtls *sb_dtls_new(bool client, const char *remote_hash, const char *remote_fingerprint,
                     const sb_dtls_callbacks *cb, void *ud) {
  g_return_val_if_fail(ssl_ctx != NULL, NULL);
  sb_dtls *d = g_new0(sb_dtls, 1);
  d->client = client;
  d->cb = *cb;
  d->ud = ud;
  d->remote_hash = g_strdup(remote_hash);
  d->remote_fp = g_strdup(remote_fingerprint);
  d->ssl = SSL_new(ssl_ctx);
  d->rbio = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(d->rbio, -1);
  d->wbio = BIO_new(out_bio_method);
  BIO_set_data(d->wbio, d);
  SSL_set_bio(d->ssl, d->rbio, d->wbio);
  SSL_set_mtu(d->ssl, SB_DTLS_MTU);
  DTLS_set_timer_cb(d->ssl, dtls_timer_cb);
  if (client)
    SSL_set_connect_state(d->ssl);
  else
    SSL_set_accept_state(d->ssl);
  return d;
}

void sb_dtls_free(sb_dtls *d) {
  if (d == NULL)
    return;
  if (d->state == SB_DTLS_CONNECTED)
    SSL_shutdown(d->ssl); /* close_notify, sent through cb.send */
  BIO_set_data(d->wbio, NULL);
  SSL_free(d->ssl);       /* frees both BIOs */
  g_free(d->remote_hash);
  g_free(d->remote_fp);
  g_free(d);
}

sb_dtls_state sb_dtls_get_state(const sb_dtls *d) { return d->state; }
bool sb_dtls_is_client(const sb_dtls *d) { return d->client; }

static void dtls_fail(sb_dtls *d, const char *why) {
  if (d->state == SB_DTLS_FAILED || d->state == SB_DTLS_CLOSED)
    return;
  d->state = SB_DTLS_FAILED;
  d->cb.failed(d->ud, why);
}

static void ssl_error_text(char *out, size_t cap) {
  unsigned long e = ERR_get_error();
  if (e == 0)
    g_strlcpy(out, "handshake error", cap);
  else
    ERR_error_string_n(e, out, cap);
  ERR_clear_error();
}

/* RFC 5764 §4.2: client key | server key | client salt | server salt. */
static int export_keys(sb_dtls *d, sb_dtls_keys *keys) {
  const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(d->ssl);
  keys->profile = p ? sb_srtp_profile_from_openssl(p->id) : SB_SRTP_NONE;
  if (keys->profile == SB_SRTP_NONE)
    return -1;
  size_t kl = sb_srtp_key_len(keys->profile), sl = sb_srtp_salt_len(keys->profile);
  uint8_t material[2 * (16 + 14)];
  if (SSL_export_keying_material(d->ssl, material, 2 * (kl + sl), "EXTRACTOR-dtls_srtp", 19,
                                 NULL, 0, 0) != 1)
    return -1;
  const uint8_t *client_key = material, *server_key = material + kl;
  const uint8_t *client_salt = material + 2 * kl, *server_salt = material + 2 * kl + sl;
  uint8_t *local = keys->local, *remote = keys->remote;
  memcpy(local, d->client ? client_key : server_key, kl);
  memcpy(local + kl, d->client ? client_salt : server_salt, sl);
  memcpy(remote, d->client ? server_key : client_key, kl);
  memcpy(remote + kl, d->client ? server_salt : client_salt, sl);
  OPENSSL_cleanse(material, sizeof material);
  return 0;
}

static void handshake_done(sb_dtls *d) {
  X509 *peer = SSL_get1_peer_certificate(d->ssl);
  const EVP_MD *md = hash_by_name(d->remote_hash);
  char fp[SB_FINGERPRINT_MAX];
  if (peer == NULL || md == NULL || fingerprint_of(peer, md, fp, sizeof fp) != 0) {
    X509_free(peer);
    dtls_fail(d, "no usable peer certificate");
    return;
  }
  X509_free(peer);
  if (!sb_dtls_fingerprint_equal(fp, d->remote_fp)) {
    sb_warn("dtls: certificate fingerprint %s %s does not match the SDP's %s", d->remote_hash,
            fp, d->remote_fp);
    dtls_fail(d, "certificate fingerprint mismatch");
    return;
  }
  sb_dtls_keys keys;
  if (export_keys(d, &keys) != 0) {
    dtls_fail(d, "no SRTP profile negotiated");
    return;
  }
  d->state = SB_DTLS_CONNECTED;
  d->cb.connected(d->ud, &keys);
  OPENSSL_cleanse(&keys, sizeof keys);
}

static void drive_handshake(sb_dtls *d) {
  int rc = SSL_do_handshake(d->ssl);
  if (rc == 1) {
    handshake_done(d);
    return;
  }
  int err = SSL_get_error(d->ssl, rc);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
    return;
  char text[256];
  ssl_error_text(text, sizeof text);
  dtls_fail(d, text);
}

void sb_dtls_start(sb_dtls *d) {
  if (d->state != SB_DTLS_NEW)
    return;
  d->state = SB_DTLS_CONNECTING;
  if (d->client)
    drive_handshake(d);
}

void sb_dtls_feed(sb_dtls *d, const uint8_t *buf, size_t len) {
  if (d->state == SB_DTLS_FAILED || d->state == SB_DTLS_CLOSED || len > G_MAXINT)
    return;
  if (d->state == SB_DTLS_NEW)
    d->state = SB_DTLS_CONNECTING; /* a ClientHello before ICE told us: fine */
  BIO_write(d->rbio, buf, (int)len);
  if (d->state == SB_DTLS_CONNECTING) {
    drive_handshake(d);
    if (d->state != SB_DTLS_CONNECTED)
      return;
  }
  /* Connected: application data (SCTP), or an alert. */
  uint8_t data[16384];
  for (;;) {
    int n = SSL_read(d->ssl, data, sizeof data);
    if (n > 0) {
      if (d->cb.data)
        d->cb.data(d->ud, data, (size_t)n);
      continue;
    }
    int err = SSL_get_error(d->ssl, n);
    if (err == SSL_ERROR_ZERO_RETURN) {
      d->state = SB_DTLS_CLOSED;
      d->cb.closed(d->ud);
    } else if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
      char text[256];
      ssl_error_text(text, sizeof text);
      sb_verbose("dtls: read error after handshake: %s", text);
    }
    break;
  }
}

int64_t sb_dtls_timeout_ms(sb_dtls *d) {
  if (d->state != SB_DTLS_CONNECTING)
    return -1;
  struct timeval tv;
  if (DTLSv1_get_timeout(d->ssl, &tv) != 1)
    return -1;
  return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

void sb_dtls_handle_timeout(sb_dtls *d) {
  if (d->state != SB_DTLS_CONNECTING)
    return;
  int rc = DTLSv1_handle_timeout(d->ssl);
  if (rc > 0 && ++d->retransmits > DTLS_MAX_RETRANSMITS)
    dtls_fail(d, "handshake timed out");
  else if (rc < 0)
    dtls_fail(d, "handshake retransmission failed");
}

int sb_dtls_send_data(sb_dtls *d, const uint8_t *buf, size_t len) {
  if (d->state != SB_DTLS_CONNECTED || len > G_MAXINT)
    return -1;
  return SSL_write(d->ssl, buf, (int)len) == (int)len ? 0 : -1;
}
