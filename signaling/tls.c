/* Switchboard — TLS for the signaling listeners and the redirecting plain
 * listener (signaling/tls.h). */
#include "signaling/tls.h"

#include <errno.h>
#include <glib.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"

/* --- the certificate and key --- */

static char *openssl_reason(void) {
  unsigned long e = ERR_peek_last_error();
  char buf[256];
  if (e == 0)
    return g_strdup("no PEM data found");
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return g_strdup(buf);
}

/* Opens path for reading; on failure *error says why. */
static FILE *open_pem(const char *what, const char *path, char **error) {
  FILE *f = fopen(path, "r");
  if (f == NULL)
    *error = g_strdup_printf("cannot read %s %s: %s", what, path, g_strerror(errno));
  return f;
}

/* An encrypted key fails at once instead of prompting on the terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *ud) {
  (void)buf;
  (void)size;
  (void)rwflag;
  (void)ud;
  return -1;
}

int sb_tls_check_pair(const char *cert, const char *key, char **error) {
  X509 *x = NULL;
  EVP_PKEY *k = NULL;
  int rc = -1;
  ERR_clear_error();
  FILE *f = open_pem("certificate", cert, error);
  if (f == NULL)
    return -1;
  x = PEM_read_X509(f, NULL, NULL, NULL);
  fclose(f);
  if (x == NULL) {
    char *why = openssl_reason();
    *error = g_strdup_printf("certificate %s is not a PEM certificate (%s)", cert, why);
    g_free(why);
    return -1;
  }
  if ((f = open_pem("private key", key, error)) == NULL)
    goto out;
  k = PEM_read_PrivateKey(f, NULL, no_passphrase, NULL);
  fclose(f);
  if (k == NULL) {
    char *why = openssl_reason();
    *error = g_strdup_printf("private key %s is not an unencrypted PEM private key (%s)", key, why);
    g_free(why);
    goto out;
  }
  if (X509_check_private_key(x, k) != 1) {
    ERR_clear_error();
    *error = g_strdup_printf("private key %s does not belong to certificate %s", key, cert);
    goto out;
  }
  rc = 0;
out:
  EVP_PKEY_free(k);
  X509_free(x);
  return rc;
}

int sb_tls_config_read(sb_config *cfg, const char *section, sb_tls_config *out, char **error) {
  memset(out, 0, sizeof *out);
  char *cert = sb_config_get_string(cfg, section, "tls_cert", "");
  char *key = sb_config_get_string(cfg, section, "tls_key", "");
  int rc = 0;
  if (!*cert && !*key) {
    /* TLS off */
  } else if (!*cert || !*key) {
    *error = g_strdup_printf("[%s] tls_cert and tls_key go together: set both for TLS, or neither",
                             section);
    rc = -1;
  } else if (sb_tls_check_pair(cert, key, error) != 0) {
    char *why = *error;
    *error = g_strdup_printf("[%s] %s", section, why);
    g_free(why);
    rc = -1;
  } else {
    out->cert = g_canonicalize_filename(cert, NULL);
    out->key = g_canonicalize_filename(key, NULL);
  }
  g_free(cert);
  g_free(key);
  return rc;
}

void sb_tls_config_clear(sb_tls_config *c) {
  g_free(c->cert);
  g_free(c->key);
  memset(c, 0, sizeof *c);
}

void sb_tls_apply(const sb_tls_config *c, struct lws_context_creation_info *info) {
  if (!sb_tls_on(c))
    return;
  info->ssl_cert_filepath = c->cert;
  info->ssl_private_key_filepath = c->key;
  /* TLS 1.2 or newer (RFC 8996 deprecates 1.0 and 1.1). */
  info->ssl_options_set |= SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1;
  /* HTTP/1.1 only: lws 4.1 would offer h2, where http.c's exchanges are untested
   * (a 204 without a body never ends its stream). */
  info->alpn = "http/1.1";
  info->options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
}

/* --- the redirecting plain listener --- */

char *sb_tls_redirect_location(const char *host, int tls_port, const char *path, const char *query) {
  if (host == NULL || *host == '\0')
    return NULL;
  /* Keep the name or address, drop the port: "[::1]:80" -> "[::1]", "a:80" -> "a". */
  size_t n;
  if (host[0] == '[') {
    const char *close = strchr(host, ']');
    if (close == NULL)
      return NULL;
    n = (size_t)(close - host) + 1;
  } else {
    const char *colon = strchr(host, ':');
    n = colon ? (size_t)(colon - host) : strlen(host);
  }
  if (n == 0 || n > 255)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    char c = host[i];
    if (!g_ascii_isalnum(c) && !strchr(".-[]:", c))
      return NULL;
  }
  if (path == NULL || path[0] != '/')
    path = "/";
  return g_strdup_printf("https://%.*s:%d%s%s%s", (int)n, host, tls_port, path,
                         query && *query ? "?" : "", query && *query ? query : "");
}

static struct lws_protocols redirect_protocols[2];
static int redirect_port;

/* Copies header token tok into buf (empty when absent). */
static void header(struct lws *wsi, enum lws_token_indexes tok, char *buf, int size) {
  if (lws_hdr_copy(wsi, buf, size, tok) < 0)
    buf[0] = '\0';
}

static int redirect_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                             size_t len) {
  if (reason == LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION)
    return -1;  /* no WebSocket over plain HTTP: the client must use wss:// */
  if (reason != LWS_CALLBACK_HTTP)
    return lws_callback_http_dummy(wsi, reason, user, in, len);
  char host[300], path[2048];
  header(wsi, WSI_TOKEN_HOST, host, sizeof host);
  size_t plen = in ? MIN(len, sizeof path - 1) : 0;
  memcpy(path, in ? in : "", plen);
  path[plen] = '\0';
  /* lws hands over the path and each argument percent-decoded: encode them again. */
  char *epath = g_uri_escape_string(path, "/!$&'()*+,;=:@-._~", FALSE);
  GString *equery = g_string_new(NULL);
  char arg[2048];
  for (int i = 0; lws_hdr_copy_fragment(wsi, arg, sizeof arg, WSI_TOKEN_HTTP_URI_ARGS, i) > 0; i++) {
    if (i)
      g_string_append_c(equery, '&');
    g_string_append_uri_escaped(equery, arg, "=", FALSE);
  }
  char *loc = sb_tls_redirect_location(host, redirect_port, epath, equery->str);
  g_free(epath);
  g_string_free(equery, TRUE);
  if (loc == NULL) {
    lws_return_http_status(wsi, HTTP_STATUS_BAD_REQUEST, "plain HTTP is redirected to https://: send a Host header");
    return lws_http_transaction_completed(wsi) ? -1 : 0;
  }
  uint8_t buf[LWS_PRE + 4096], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
  /* 308 keeps the method and body (a WHIP POST), unlike 301. */
  int n = lws_http_redirect(wsi, 308, (const unsigned char *)loc, (int)strlen(loc), &p, end);
  g_free(loc);
  if (n < 0)
    return -1;
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

int sb_tls_redirect_start(struct lws_context *context, const char *iface, int plain_port, int tls_port) {
  redirect_port = tls_port;
  redirect_protocols[0] = (struct lws_protocols){
    .name = "switchboard-redirect",
    .callback = redirect_callback,
  };
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.vhost_name = "plain-redirect";
  info.port = plain_port;
  info.iface = iface;
  info.protocols = redirect_protocols;
  info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
  info.server_string = "switchboard";
  if (lws_create_vhost(context, &info) == NULL) {
    sb_error("signaling: cannot listen on %s:%d for plain HTTP (in use, or no permission?)",
             iface ? iface : "0.0.0.0", plain_port);
    return -1;
  }
  sb_info("signaling: http://%s:%d/ redirects to https on port %d", iface ? iface : "0.0.0.0",
          plain_port, tls_port);
  return 0;
}
