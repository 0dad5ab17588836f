/* Switchboard — DTLS 1.2 for DTLS-SRTP (RFC 5764) with OpenSSL.
 *
 * The process has one certificate (ECDSA P-256, generated at start-up unless one
 * is configured) whose fingerprint goes into every SDP. Each peer has an sb_dtls:
 * datagrams are fed in with sb_dtls_feed, records to send come out through the
 * send callback one datagram per call (a custom BIO, so a flight never exceeds
 * the MTU by being glued into one datagram). Browsers' certificates are
 * self-signed, so the chain is not verified; the real check is the remote
 * certificate's digest against a=fingerprint (RFC 8122 §5), done once the
 * handshake completes. */
#ifndef SB_MEDIA_DTLS_H
#define SB_MEDIA_DTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/srtp.h"

#define SB_DTLS_MTU 1200
#define SB_FINGERPRINT_MAX 192 /* "AB:" * 64 bytes of SHA-512, the last ":" a NUL */

typedef enum {
  SB_DTLS_NEW = 0,
  SB_DTLS_CONNECTING,
  SB_DTLS_CONNECTED,
  SB_DTLS_FAILED,
  SB_DTLS_CLOSED,
} sb_dtls_state;

/* SRTP keying material exported from the handshake, already split by role. */
typedef struct sb_dtls_keys {
  sb_srtp_profile profile;
  uint8_t local[16 + 14];   /* our key || salt (what we protect with) */
  uint8_t remote[16 + 14];  /* the peer's key || salt */
} sb_dtls_keys;

typedef struct sb_dtls_callbacks {
  /* One datagram to send to the peer. */
  void (*send)(void *ud, const uint8_t *buf, size_t len);
  /* Handshake done and fingerprint verified. */
  void (*connected)(void *ud, const sb_dtls_keys *keys);
  /* Handshake failed, or the fingerprint did not match. */
  void (*failed)(void *ud, const char *why);
  /* The peer sent close_notify. */
  void (*closed)(void *ud);
  /* Application data (SCTP), after the handshake. May be NULL. */
  void (*data)(void *ud, const uint8_t *buf, size_t len);
} sb_dtls_callbacks;

/* Process-wide set-up: loads cert_file/key_file (PEM) when both are given,
 * otherwise generates a fresh ECDSA P-256 certificate. Returns 0 or -1. */
int sb_dtls_global_init(const char *cert_file, const char *key_file);
void sb_dtls_global_cleanup(void);
/* Our certificate's SHA-256 fingerprint, "AB:CD:...". */
const char *sb_dtls_local_fingerprint(void);

typedef struct sb_dtls sb_dtls;

/* client: true when we take the DTLS client role (a=setup:active). The remote
 * fingerprint (hash name as in SDP, e.g. "sha-256") is checked after the handshake. */
sb_dtls *sb_dtls_new(bool client, const char *remote_hash, const char *remote_fingerprint,
                     const sb_dtls_callbacks *cb, void *ud);
/* Sends a close_notify if connected, then frees. No callback runs. */
void sb_dtls_free(sb_dtls *d);
/* Starts the handshake (the client sends its ClientHello; a server just waits). */
void sb_dtls_start(sb_dtls *d);
/* One datagram from the peer. */
void sb_dtls_feed(sb_dtls *d, const uint8_t *buf, size_t len);
/* Milliseconds until sb_dtls_handle_timeout is due, or -1 when no timer runs. */
int64_t sb_dtls_timeout_ms(sb_dtls *d);
/* Retransmits the last flight if its timer expired; fails after too many tries. */
void sb_dtls_handle_timeout(sb_dtls *d);
/* Sends application data (SCTP) once connected. Returns 0 or -1. */
int sb_dtls_send_data(sb_dtls *d, const uint8_t *buf, size_t len);
sb_dtls_state sb_dtls_get_state(const sb_dtls *d);
bool sb_dtls_is_client(const sb_dtls *d);
const char *sb_dtls_state_name(sb_dtls_state s);

/* Hex fingerprint ("AB:CD:...") of a DER certificate with the named hash ("sha-1",
 * "sha-224", "sha-256", "sha-384", "sha-512"). Returns 0, or -1 for an unknown hash
 * or a certificate that does not parse. */
int sb_dtls_fingerprint_der(const uint8_t *der, size_t der_len, const char *hash, char *out,
                            size_t cap);
/* Case-insensitive comparison of two fingerprints, ignoring nothing else. */
bool sb_dtls_fingerprint_equal(const char *a, const char *b);
/* True when the hash name is one we can check. */
bool sb_dtls_hash_supported(const char *hash);

#endif
