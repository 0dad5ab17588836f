/* Switchboard — plain HTTP requests for the routes plugins register
 * (core/http.h: WHIP, WHEP) and for /healthz.
 *
 * lws serves the static files from the "/" mount. Each route prefix gets a mount
 * of its own that sends the request to the protocol callback instead (lws takes
 * the longest mountpoint; OPTIONS, PUT, PATCH and DELETE never hit a file mount
 * and reach the callback in any case). A request for a route is an exchange:
 * its headers and body are collected here on the signaling thread, CORS
 * preflight, a method the route does not take and a body over max_body_size are
 * answered here, and the rest goes to the route's handler as an sb_http_request.
 * The handler answers once, from any thread: the response is queued on the
 * exchange under its lock and the lws loop woken to write it.
 *
 * An exchange is reference-counted: the connection holds a reference until the
 * response is written or the connection closes, the request one until it is
 * answered. A connection that closes first marks the exchange gone, and the late
 * answer is dropped. Only the signaling thread touches the wsi.
 *
 * HTTP/1.1 pipelining is not supported (lws 4.1 does not carry it through an
 * open transaction; no browser uses it): such a client gets its first answer,
 * maybe more, and a closed connection, and the server neither blocks nor spins. */
#include <glib.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/http.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/util.h"
#include "signaling/server.h"

#if !defined(LWS_WITH_HTTP_UNCOMMON_HEADERS)
#error "libwebsockets must be built with LWS_WITH_HTTP_UNCOMMON_HEADERS (PATCH, DELETE, OPTIONS)"
#endif

/* A handler that has not answered after this long loses the connection (lws
 * closes it; the late answer is dropped). */
#define HANDLER_TIMEOUT_S 30
/* Response body written per writeable callback. */
#define WRITE_CHUNK 16384

typedef struct http_response {
  int status;
  char *content_type;        /* NULL: none */
  char **headers;            /* "Name: value", NULL-terminated */
  GBytes *body;
} http_response;

typedef struct http_exchange {
  gint refs;
  /* signaling thread only */
  struct lws *wsi;           /* NULL once detached */
  const sb_http_route *route;
  char *method;
  char *path;                /* decoded, without the query */
  char *query;               /* percent-encoded */
  char remote[64];
  GPtrArray *header_names;   /* of char*, until dispatched */
  GPtrArray *header_values;
  GByteArray *body;          /* until dispatched */
  bool reading_body;         /* until LWS_CALLBACK_HTTP_BODY_COMPLETION */
  bool close_after;          /* answered with the body unread: close after the answer */
  bool head;                 /* HEAD: the headers of the answer only */
  bool input_held;           /* no reading while the handler works */
  bool body_done;            /* LWS_CALLBACK_HTTP_BODY_COMPLETION seen */
  bool headers_sent;
  size_t body_sent;
  int64_t started_us;
  /* guarded by lock: the answer comes from any thread */
  GMutex lock;
  bool gone;                 /* the connection no longer waits: drop the answer */
  http_response *response;   /* set once */
} http_exchange;

static GHashTable *exchanges;       /* struct lws* -> http_exchange*, signaling thread */
static struct lws_http_mount *mounts;
static int mount_count;

static void healthz(sb_http_request *r, void *ud) {
  sb_http_reply(r, 200, "text/plain; charset=utf-8", NULL, 0, "ok\n", 3);
}

/* Answered by signaling itself, through the same path as the plugins' routes. */
static const sb_http_route healthz_route = {
  .prefix = "/healthz",
  .methods = "GET",
  .handler = healthz,
};

/* The route a listener of its own (the admin API, admin.c) gives in its
 * protocol's user pointer: every request on that listener goes to it. */
static const sb_http_route *listener_route(struct lws *wsi) {
  const struct lws_protocols *proto = lws_get_protocol(wsi);
  return proto ? proto->user : NULL;
}

static const sb_http_route *route_for(struct lws *wsi, const char *path) {
  if (listener_route(wsi))
    return listener_route(wsi);
  if (strcmp(path, healthz_route.prefix) == 0)
    return &healthz_route;
  return sb_http_route_find(path);
}

/* --- responses and exchanges --- */

static bool header_text_ok(const char *s) { return strpbrk(s, "\r\n") == NULL; }

static http_response *response_new(int status, const char *content_type, const char *const *headers,
                                   size_t header_count, const void *body, size_t len) {
  http_response *r = g_new0(http_response, 1);
  r->status = status;
  if (content_type && header_text_ok(content_type))
    r->content_type = g_strdup(content_type);
  GPtrArray *h = g_ptr_array_new();
  for (size_t i = 0; i < header_count; i++) {
    const char *colon = headers[i] ? strchr(headers[i], ':') : NULL;
    if (colon == NULL || colon == headers[i] || !header_text_ok(headers[i])) {
      sb_warn("http: response header \"%s\" dropped: not \"Name: value\" on one line",
              headers[i] ? headers[i] : "(null)");
      continue;
    }
    g_ptr_array_add(h, g_strdup(headers[i]));
  }
  g_ptr_array_add(h, NULL);
  r->headers = (char **)g_ptr_array_free(h, FALSE);
  r->body = g_bytes_new(body, body ? len : 0);
  return r;
}

static void response_free(http_response *r) {
  g_free(r->content_type);
  g_strfreev(r->headers);
  g_bytes_unref(r->body);
  g_free(r);
}

static http_exchange *exchange_ref(http_exchange *x) {
  g_atomic_int_inc(&x->refs);
  return x;
}

static void exchange_unref(http_exchange *x) {
  if (!g_atomic_int_dec_and_test(&x->refs))
    return;
  g_free(x->method);
  g_free(x->path);
  g_free(x->query);
  if (x->header_names)
    g_ptr_array_unref(x->header_names);
  if (x->header_values)
    g_ptr_array_unref(x->header_values);
  if (x->body)
    g_byte_array_unref(x->body);
  if (x->response)
    response_free(x->response);
  g_mutex_clear(&x->lock);
  g_free(x);
}

/* The connection's side ends: the response was written, or the connection
 * closed (then a later answer is dropped). */
static void exchange_detach(http_exchange *x) {
  g_hash_table_remove(exchanges, x->wsi);
  g_mutex_lock(&x->lock);
  x->gone = true;
  g_mutex_unlock(&x->lock);
  x->wsi = NULL;
  exchange_unref(x);
}

static http_exchange *exchange_of(struct lws *wsi) {
  return exchanges ? g_hash_table_lookup(exchanges, wsi) : NULL;
}

/* While the handler works, the connection is not read: lws 4.1 would parse a
 * request pipelined behind this one in the middle of the open transaction and
 * never write this answer. An rx-flow-controlled h1 connection is not written
 * either, so reading resumes as soon as the answer is queued. */
static void exchange_hold_input(http_exchange *x, bool hold) {
  if (x->input_held != hold) {
    lws_rx_flow_control(x->wsi, hold ? 0 : 1);
    x->input_held = hold;
  }
}

/* The answer is queued: write it (signaling thread). */
static void exchange_wake(http_exchange *x) {
  exchange_hold_input(x, false);
  lws_callback_on_writable(x->wsi);
}

/* sb_http_ops.reply: any thread, once per request; consumes one reference. */
static void exchange_reply(void *transport, int status, const char *content_type,
                           const char *const *headers, size_t header_count, const void *body,
                           size_t len) {
  http_exchange *x = transport;
  http_response *resp = response_new(status, content_type, headers, header_count, body, len);
  bool on_thread = sb_signaling_on_thread();
  g_mutex_lock(&x->lock);
  bool deliver = !x->gone && x->response == NULL;
  if (deliver) {
    x->response = resp;
    resp = NULL;
    /* Under the lock: the connection cannot close, nor the context go, meanwhile
     * (both pass through exchange_detach first). */
    if (!on_thread)
      lws_cancel_service(sb_signaling_context());
  }
  g_mutex_unlock(&x->lock);
  if (deliver && on_thread)
    exchange_wake(x);
  if (resp) {
    sb_verbose("http: %s %s from %s: answer %d dropped, the client has gone", x->method, x->path,
               x->remote, status);
    response_free(resp);
  }
  exchange_unref(x);
}

static const sb_http_ops exchange_ops = { .reply = exchange_reply };

/* An answer of signaling's own (signaling thread). */
static void exchange_answer(http_exchange *x, int status, const char *const *headers,
                            size_t header_count, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void exchange_answer(http_exchange *x, int status, const char *const *headers,
                            size_t header_count, const char *fmt, ...) {
  char *text = NULL;
  /* A listener of its own (the admin API) answers in JSON. */
  bool json = listener_route(x->wsi) != NULL;
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    char *line = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (json) {
      json_t *err = json_pack("{s:{s:i, s:s}}", "error", "code", status, "message", line);
      char *dump = json_dumps(err, JSON_COMPACT);
      text = g_strdup(dump);
      free(dump);
      json_decref(err);
    } else {
      text = g_strconcat(line, "\n", NULL);
    }
    g_free(line);
  }
  exchange_reply(exchange_ref(x), status,
                 text ? (json ? "application/json" : "text/plain; charset=utf-8") : NULL, headers,
                 header_count, text, text ? strlen(text) : 0);
  g_free(text);
}

/* --- the request --- */

static const struct {
  enum lws_token_indexes token;
  const char *name;
  bool body;                 /* a body is read for it */
} http_methods[] = {
  { WSI_TOKEN_GET_URI, "GET", false },
  { WSI_TOKEN_POST_URI, "POST", true },
  { WSI_TOKEN_OPTIONS_URI, "OPTIONS", false },
  { WSI_TOKEN_PUT_URI, "PUT", true },
  { WSI_TOKEN_PATCH_URI, "PATCH", true },
  { WSI_TOKEN_DELETE_URI, "DELETE", false },
  { WSI_TOKEN_HEAD_URI, "HEAD", false },
};

static int request_method(struct lws *wsi) {
  for (size_t i = 0; i < G_N_ELEMENTS(http_methods); i++)
    if (lws_hdr_total_length(wsi, http_methods[i].token) > 0)
      return (int)i;
  return -1;
}

/* The fragments of a header, in order (lws splits the query at '&', and a path
 * at an unencoded '&' or ';', having decoded %xx and '+' and removed "/./",
 * "/../" and "//"). */
static GPtrArray *header_fragments(struct lws *wsi, enum lws_token_indexes token) {
  GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
  int total = lws_hdr_total_length(wsi, token);
  char *buf = g_malloc((size_t)total + 1);
  while (total > 0 && lws_hdr_copy_fragment(wsi, buf, total + 1, token, (int)out->len) >= 0)
    g_ptr_array_add(out, g_strdup(buf));
  g_free(buf);
  return out;
}

/* The query as one string again: each decoded argument percent-encoded anew
 * (but its '='), joined by '&'. */
static char *request_query(struct lws *wsi) {
  GPtrArray *args = header_fragments(wsi, WSI_TOKEN_HTTP_URI_ARGS);
  GString *q = g_string_new(NULL);
  for (guint i = 0; i < args->len; i++) {
    if (i)
      g_string_append_c(q, '&');
    g_string_append_uri_escaped(q, g_ptr_array_index(args, i), "=", FALSE);
  }
  g_ptr_array_unref(args);
  return g_string_free(q, FALSE);
}

/* Every request header lws knows by name (it keeps no list of the others). */
static void collect_headers(http_exchange *x, struct lws *wsi) {
  x->header_names = g_ptr_array_new_with_free_func(g_free);
  x->header_values = g_ptr_array_new_with_free_func(g_free);
  for (int t = 0; t < WSI_TOKEN_COUNT; t++) {
    const char *name = (const char *)lws_token_to_string((enum lws_token_indexes)t);
    size_t n = name ? strlen(name) : 0;
    /* "content-type:"; not the methods ("get "), nor HTTP/2 pseudo-headers. */
    if (n < 2 || name[0] == ':' || name[n - 1] != ':')
      continue;
    int len = lws_hdr_total_length(wsi, (enum lws_token_indexes)t);
    if (len <= 0)
      continue;
    char *value = g_malloc((size_t)len + 1);
    if (lws_hdr_copy(wsi, value, len + 1, (enum lws_token_indexes)t) < 0) {
      g_free(value);
      continue;
    }
    g_ptr_array_add(x->header_names, g_strndup(name, n - 1));
    g_ptr_array_add(x->header_values, value);
  }
}

static const char *request_header(const http_exchange *x, const char *name) {
  for (guint i = 0; i < x->header_names->len; i++)
    if (g_ascii_strcasecmp(g_ptr_array_index(x->header_names, i), name) == 0)
      return g_ptr_array_index(x->header_values, i);
  return NULL;
}

static bool method_allowed(const sb_http_route *route, const char *method) {
  char **list = g_strsplit(route->methods, ",", -1);
  bool ok = false;
  for (char **m = list; *m && !ok; m++) {
    g_strstrip(*m);
    ok = g_ascii_strcasecmp(*m, method) == 0 ||
         (strcmp(method, "HEAD") == 0 && g_ascii_strcasecmp(*m, "GET") == 0);
  }
  g_strfreev(list);
  return ok;
}

/* The body's declared length; false when absent or not a plain number, or sent
 * chunked (lws 4.1 does not decode a chunked request body). */
static bool content_length(const http_exchange *x, guint64 *n) {
  const char *length = request_header(x, "content-length");
  return length && !request_header(x, "transfer-encoding") &&
         g_ascii_string_to_unsigned(length, 10, 0, G_MAXUINT64, n, NULL);
}

static bool expects_continue(const http_exchange *x) {
  const char *expect = request_header(x, "expect");
  return expect && g_ascii_strcasecmp(expect, "100-continue") == 0;
}

/* A request answered before its body was read. lws reads and discards a body of
 * known, acceptable length before the next request (keep-alive goes on); any
 * other (no length, too long, or held back by Expect: 100-continue, RFC 9110
 * §10.1.1) would be taken for the next request, so the connection closes. */
static bool unread_body_needs_close(const http_exchange *x) {
  guint64 n;
  if (!content_length(x, &n))
    return true;
  return n > 0 && (n > sb_signaling_get_config()->max_body_size || expects_continue(x));
}

static void exchange_dispatch(http_exchange *x) {
  lws_set_timeout(x->wsi, PENDING_TIMEOUT_USER_OK, HANDLER_TIMEOUT_S);
  const uint8_t *body = x->body ? x->body->data : NULL;
  size_t body_len = x->body ? x->body->len : 0;
  /* RFC 9110 §9.3.2: HEAD is a GET whose answer goes without its body. */
  sb_http_request *r = sb_http_request_new(
      &exchange_ops, exchange_ref(x), x->head ? "GET" : x->method, x->path, x->query, x->remote,
      (const char *const *)x->header_names->pdata, (const char *const *)x->header_values->pdata,
      x->header_names->len, body, body_len);
  g_clear_pointer(&x->header_names, g_ptr_array_unref);
  g_clear_pointer(&x->header_values, g_ptr_array_unref);
  g_clear_pointer(&x->body, g_byte_array_unref);
  x->route->handler(r, x->route->ud);
  /* Not answered yet: wait without reading (an answer from a worker meanwhile
   * is picked up by sb_http_wake, after this). */
  g_mutex_lock(&x->lock);
  bool answered = x->response != NULL;
  g_mutex_unlock(&x->lock);
  if (!answered)
    exchange_hold_input(x, true);
}

/* Decides how much body to read; false when the request was answered instead
 * (close_after is set then: the body stays unread). */
static bool exchange_expect_body(http_exchange *x, struct lws *wsi) {
  const size_t max = sb_signaling_get_config()->max_body_size;
  guint64 n = 0;
  if (!content_length(x, &n)) {
    const char *length = request_header(x, "content-length");
    sb_metrics_reject(length && !request_header(x, "transfer-encoding") ? "bad_request" : "length_required");
    if (request_header(x, "transfer-encoding"))
      exchange_answer(x, 411, NULL, 0, "chunked request bodies are not supported: send Content-Length");
    else if (length == NULL)
      exchange_answer(x, 411, NULL, 0, "a %s request needs Content-Length", x->method);
    else
      exchange_answer(x, 400, NULL, 0, "Content-Length \"%s\" is not a number", length);
    return false;
  }
  if (n > max) {
    sb_metrics_reject("body_too_large");
    sb_info("http: %s %s from %s: body of %" G_GUINT64_FORMAT " bytes over the limit of %zu",
            x->method, x->path, x->remote, n, max);
    exchange_answer(x, 413, NULL, 0, "request body of %" G_GUINT64_FORMAT
                    " bytes exceeds the limit of %zu bytes", n, max);
    return false;
  }
  x->body = g_byte_array_sized_new((guint)n);
  if (n > 0) {
    if (expects_continue(x)) {
      /* RFC 9110 §10.1.1: the body is wanted. */
      static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
      uint8_t buf[LWS_PRE + sizeof cont];
      memcpy(buf + LWS_PRE, cont, sizeof cont - 1);
      if (lws_write(wsi, buf + LWS_PRE, sizeof cont - 1, LWS_WRITE_HTTP_HEADERS) < 0)
        sb_verbose("http: %s %s from %s: cannot write 100 Continue", x->method, x->path, x->remote);
    }
    x->reading_body = true;
  }
  return true;
}

/* LWS_CALLBACK_HTTP: a request whose headers have arrived. */
static int http_request(struct lws *wsi, void *user, void *in, size_t len) {
  int m = request_method(wsi);
  if (m < 0)
    return lws_callback_http_dummy(wsi, LWS_CALLBACK_HTTP, user, in, len);
  GPtrArray *path_parts = header_fragments(wsi, http_methods[m].token);
  const sb_http_route *route = path_parts->len ? route_for(wsi, g_ptr_array_index(path_parts, 0)) : NULL;
  if (route == NULL) {
    g_ptr_array_unref(path_parts);
    return lws_callback_http_dummy(wsi, LWS_CALLBACK_HTTP, user, in, len);
  }

  http_exchange *x = g_new0(http_exchange, 1);
  x->refs = 1;
  x->wsi = wsi;
  x->route = route;
  x->method = g_strdup(http_methods[m].name);
  x->path = g_strdup(g_ptr_array_index(path_parts, 0));
  x->query = request_query(wsi);
  x->head = strcmp(x->method, "HEAD") == 0;
  x->started_us = sb_now_us();
  g_strlcpy(x->remote, "?", sizeof x->remote);
  lws_get_peer_simple(wsi, x->remote, sizeof x->remote);
  g_mutex_init(&x->lock);
  g_hash_table_insert(exchanges, wsi, x);
  collect_headers(x, wsi);

  if (http_methods[m].body)
    x->close_after = unread_body_needs_close(x);
  if (path_parts->len > 1) {
    sb_metrics_reject("bad_request");
    exchange_answer(x, 400, NULL, 0, "'&' and ';' must be percent-encoded in the path");
  } else if (strcmp(x->method, "OPTIONS") == 0) {
    /* CORS preflight (Fetch standard): what a page on another origin may send. */
    char *allow = g_strdup_printf("Access-Control-Allow-Methods: %s, OPTIONS", route->methods);
    const char *h[] = {
      allow,
      "Access-Control-Allow-Headers: Content-Type, Authorization, If-Match",
      "Access-Control-Max-Age: 86400",
    };
    exchange_answer(x, 204, h, G_N_ELEMENTS(h), NULL);
    g_free(allow);
  } else if (!method_allowed(route, x->method)) {
    sb_metrics_reject("method_not_allowed");
    char *allow = g_strdup_printf("Allow: %s, OPTIONS", route->methods);
    const char *h[] = { allow };
    exchange_answer(x, 405, h, 1, "%s is not allowed on %s: use %s", x->method, x->path,
                    route->methods);
    g_free(allow);
  } else if (!http_methods[m].body || exchange_expect_body(x, wsi)) {
    x->close_after = false;  /* the body, if any, is read */
    if (!x->reading_body)
      exchange_dispatch(x);
  }
  g_ptr_array_unref(path_parts);
  return 0;
}

static void http_body(http_exchange *x, const void *in, size_t len) {
  if (x->reading_body)       /* else a body nobody asked for (GET), or one refused */
    g_byte_array_append(x->body, in, (guint)len);
}

static int http_body_complete(http_exchange *x) {
  /* Again: lws found a request pipelined behind this body and, in 4.1, would
   * report this completion for ever instead of reading it. Not supported. */
  if (x->body_done) {
    sb_verbose("http: %s %s from %s: request pipelined after a body: closing", x->method, x->path,
               x->remote);
    return -1;
  }
  x->body_done = true;
  if (x->reading_body) {
    x->reading_body = false;
    exchange_dispatch(x);
  }
  return 0;
}

/* --- the response --- */

static bool status_has_body(int status) { return status >= 200 && status != 204 && status != 304; }

/* Every answer on a route: readable from any origin, its WHIP/WHEP headers
 * visible to scripts, never cached. */
static int add_common_headers(struct lws *wsi, unsigned char **p, unsigned char *end) {
  static const struct { const char *name, *value; } common[] = {
    { "Access-Control-Allow-Origin:", "*" },
    { "Access-Control-Expose-Headers:", "Location, ETag, Link" },
    { "Cache-Control:", "no-store" },
  };
  for (size_t i = 0; i < G_N_ELEMENTS(common); i++)
    if (lws_add_http_header_by_name(wsi, (const unsigned char *)common[i].name,
                                    (const unsigned char *)common[i].value,
                                    (int)strlen(common[i].value), p, end))
      return -1;
  return 0;
}

static int write_headers(http_exchange *x, struct lws *wsi, const http_response *r) {
  size_t need = LWS_PRE + 1024 + (r->content_type ? strlen(r->content_type) : 0);
  for (char **h = r->headers; *h; h++)
    need += strlen(*h) + 8;
  unsigned char *buf = g_malloc(need), *start = buf + LWS_PRE, *p = start, *end = buf + need - 1;
  size_t len = g_bytes_get_size(r->body);
  int fail;
  if (status_has_body(r->status))
    fail = lws_add_http_common_headers(wsi, (unsigned)r->status, r->content_type, len, &p, end);
  else
    fail = lws_add_http_header_status(wsi, (unsigned)r->status, &p, end);
  fail = fail || add_common_headers(wsi, &p, end);
  for (char **h = r->headers; *h && !fail; h++) {
    const char *colon = strchr(*h, ':');
    char *name = g_strndup(*h, (gsize)(colon - *h + 1));
    const char *value = colon + 1;
    while (*value == ' ' || *value == '\t')
      value++;
    fail = lws_add_http_header_by_name(wsi, (const unsigned char *)name, (const unsigned char *)value,
                                       (int)strlen(value), &p, end);
    g_free(name);
  }
  if (!fail && x->close_after)
    fail = lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const unsigned char *)"close",
                                        5, &p, end);
  fail = fail || lws_finalize_write_http_header(wsi, start, &p, end);
  g_free(buf);
  return fail ? -1 : 0;
}

/* One chunk of the body; 1 while more is left. */
static int write_body(http_exchange *x, struct lws *wsi, const http_response *r) {
  gsize total;
  const uint8_t *data = g_bytes_get_data(r->body, &total);
  if (x->head || !status_has_body(r->status) || x->body_sent >= total)
    return 0;
  size_t n = MIN(total - x->body_sent, (size_t)WRITE_CHUNK);
  bool last = x->body_sent + n == total;
  uint8_t *buf = g_malloc(LWS_PRE + n);
  memcpy(buf + LWS_PRE, data + x->body_sent, n);
  int w = lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP);
  g_free(buf);
  if (w < (int)n)
    return -1;
  x->body_sent += n;
  return last ? 0 : 1;
}

/* LWS_CALLBACK_HTTP_WRITEABLE: the status and headers, then the body chunk by
 * chunk, then the transaction is over. */
static int http_writeable(struct lws *wsi, http_exchange *x) {
  g_mutex_lock(&x->lock);
  const http_response *r = x->response;
  g_mutex_unlock(&x->lock);
  if (r == NULL)
    return 0;
  if (!x->headers_sent) {
    if (write_headers(x, wsi, r) < 0)
      return -1;
    x->headers_sent = true;
  }
  int more = write_body(x, wsi, r);
  if (more < 0)
    return -1;
  if (more) {
    lws_callback_on_writable(wsi);
    return 0;
  }
  int64_t us = sb_now_us() - x->started_us;
  /* Probes and scrapes come every few seconds: not at info level. */
  bool probe = x->route == &healthz_route || strcmp(x->path, "/metrics") == 0 ||
               strcmp(x->path, "/readyz") == 0;
  if (probe || x->route == listener_route(wsi))
    sb_debug("http: %s %s from %s -> %d", x->method, x->path, x->remote, r->status);
  else
    sb_info("http: %s %s from %s -> %d (%zu bytes, %.1f ms)", x->method, x->path, x->remote,
            r->status, g_bytes_get_size(r->body), (double)us / 1000.0);
  bool close = x->close_after;
  exchange_detach(x);
  if (close)
    return -1;
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* --- lws glue --- */

int sb_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                     size_t len) {
  http_exchange *x;
  switch (reason) {
  case LWS_CALLBACK_HTTP:
    return http_request(wsi, user, in, len);
  case LWS_CALLBACK_HTTP_BODY:
    if ((x = exchange_of(wsi))) {
      http_body(x, in, len);
      return 0;
    }
    break;
  case LWS_CALLBACK_HTTP_BODY_COMPLETION:
    if ((x = exchange_of(wsi)))
      return http_body_complete(x);
    break;
  case LWS_CALLBACK_HTTP_WRITEABLE:
    if ((x = exchange_of(wsi)))
      return http_writeable(wsi, x);
    break;
  case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
  case LWS_CALLBACK_CLOSED_HTTP:
  case LWS_CALLBACK_WSI_DESTROY:
    /* The transaction ends without our response (timeout, client gone). */
    if ((x = exchange_of(wsi))) {
      sb_verbose("http: %s %s from %s: connection closed before the answer was sent", x->method,
                 x->path, x->remote);
      exchange_detach(x);
    }
    break;
  default:
    break;
  }
  return lws_callback_http_dummy(wsi, reason, user, in, len);
}

void sb_http_wake(void) {
  if (exchanges == NULL)
    return;
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, exchanges);
  while (g_hash_table_iter_next(&it, NULL, &value)) {
    http_exchange *x = value;
    g_mutex_lock(&x->lock);
    bool pending = x->response != NULL && !x->headers_sent;
    g_mutex_unlock(&x->lock);
    if (pending)
      exchange_wake(x);
  }
}

/* A route "/whip/" is mounted at "/whip": lws matches "/whip" and "/whip/...". */
static void mount_route(const sb_http_route *route, const char *protocol) {
  size_t n = strlen(route->prefix);
  if (n > 1 && route->prefix[n - 1] == '/')
    n--;
  if (route->prefix[0] != '/' || n < 2 || n > 255) {
    sb_warn("signaling: HTTP route \"%s\" not mounted: it must start with '/', not be \"/\", "
            "and be under 256 characters", route->prefix);
    return;
  }
  for (int i = 0; i < mount_count; i++)
    if (mounts[i].mountpoint_len == n && strncmp(mounts[i].mountpoint, route->prefix, n) == 0)
      return;
  struct lws_http_mount *m = &mounts[mount_count++];
  m->mountpoint = g_strndup(route->prefix, n);
  m->mountpoint_len = (unsigned char)n;
  m->origin = protocol;
  m->origin_protocol = LWSMPRO_CALLBACK;
  if (route != &healthz_route)
    sb_info("signaling: HTTP route %s (%s)", route->prefix, route->methods);
}

const struct lws_http_mount *sb_http_start(const char *protocol, const struct lws_http_mount *next) {
  exchanges = g_hash_table_new(g_direct_hash, g_direct_equal);
  mounts = g_new0(struct lws_http_mount, (gsize)sb_http_route_count() + 1);
  mount_count = 0;
  mount_route(&healthz_route, protocol);
  for (int i = 0; i < sb_http_route_count(); i++)
    mount_route(sb_http_route_get(i), protocol);
  for (int i = 0; i < mount_count; i++)
    mounts[i].mount_next = i + 1 < mount_count ? &mounts[i + 1] : next;
  return mounts;
}

void sb_http_stop(void) {
  /* lws_context_destroy closed every connection, which detached its exchange. */
  if (exchanges && g_hash_table_size(exchanges) > 0)
    sb_warn("http: %u exchange(s) left at shutdown", g_hash_table_size(exchanges));
  g_clear_pointer(&exchanges, g_hash_table_destroy);
  for (int i = 0; i < mount_count; i++)
    g_free((char *)mounts[i].mountpoint);
  g_clear_pointer(&mounts, g_free);
  mount_count = 0;
}
