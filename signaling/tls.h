/* Switchboard — TLS for the signaling listeners (https:// and wss://) and the
 * plain-HTTP listener that only redirects to them.
 *
 * A listener has TLS when its section sets tls_cert and tls_key (PEM files):
 * [http] for the main listener, [admin] for the admin API. The pair is checked
 * at start-up (readable, a certificate and a key that belong together), so a
 * mistake stops the server with a message naming the file, and TLS 1.2 is the
 * oldest version accepted. With TLS on the main listener, [http] plain says what
 * happens to plain HTTP: "off" (nothing listens for it) or "redirect" (a listener
 * on [http] plain_port answers every request with 308 to the same path and query
 * on https://<Host>:<port>). */
#ifndef SB_SIGNALING_TLS_H
#define SB_SIGNALING_TLS_H

#include <libwebsockets.h>
#include <stdbool.h>

#include "core/config.h"

typedef struct sb_tls_config {
  char *cert;     /* PEM certificate (chain) path; NULL: no TLS */
  char *key;      /* PEM private key path */
} sb_tls_config;

/* Reads section.tls_cert and section.tls_key. Returns 0 (TLS on when both are
 * set, off when neither), or -1 with *error (g_malloc'd) when only one is set or
 * the pair does not load (sb_tls_check_pair). */
int sb_tls_config_read(sb_config *cfg, const char *section, sb_tls_config *out, char **error);
void sb_tls_config_clear(sb_tls_config *c);
static inline bool sb_tls_on(const sb_tls_config *c) { return c->cert != NULL; }

/* 0 when cert holds a PEM certificate and key a PEM private key that matches
 * it; else -1 and *error (g_malloc'd) saying which file and why. */
int sb_tls_check_pair(const char *cert, const char *key, char **error);

/* Puts the pair on a listener's creation info (a vhost, or the context's first
 * one): TLS 1.2 or newer. The context itself needs
 * LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT. No-op when c is off. */
void sb_tls_apply(const sb_tls_config *c, struct lws_context_creation_info *info);

/* Where a plain request for path?query to host (the Host header, maybe with a
 * port) goes on the TLS listener's port: "https://host:port/path?query"
 * (g_malloc'd). NULL when host is missing or not a plain host name or address. */
char *sb_tls_redirect_location(const char *host, int tls_port, const char *path, const char *query);

/* Opens the plain listener on iface:plain_port that redirects to tls_port.
 * Returns 0 or -1 (logged). */
int sb_tls_redirect_start(struct lws_context *context, const char *iface, int plain_port, int tls_port);

#endif
