/* Switchboard — HTTP requests and routes for plugins. */
#include "core/http.h"

#include <glib.h>
#include <stdarg.h>
#include <string.h>

struct sb_http_request {
  const sb_http_ops *ops;
  void *transport;
  char *method;
  char *path;
  char *query;
  char *remote;
  GHashTable *headers;       /* lower-case name -> value */
  GBytes *body;
  char **segments;
};

static GPtrArray *routes;    /* of sb_http_route* */

sb_http_request *sb_http_request_new(const sb_http_ops *ops, void *transport, const char *method,
                                     const char *path, const char *query, const char *remote,
                                     const char *const *header_names,
                                     const char *const *header_values, size_t header_count,
                                     const void *body, size_t body_len) {
  sb_http_request *r = g_new0(sb_http_request, 1);
  r->ops = ops;
  r->transport = transport;
  r->method = g_strdup(method);
  r->path = g_strdup(path);
  r->query = g_strdup(query ? query : "");
  r->remote = g_strdup(remote ? remote : "?");
  r->headers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  for (size_t i = 0; i < header_count; i++)
    g_hash_table_replace(r->headers, g_ascii_strdown(header_names[i], -1), g_strdup(header_values[i]));
  r->body = g_bytes_new(body, body_len);
  return r;
}

static void request_free(sb_http_request *r) {
  g_free(r->method);
  g_free(r->path);
  g_free(r->query);
  g_free(r->remote);
  g_hash_table_destroy(r->headers);
  g_bytes_unref(r->body);
  g_strfreev(r->segments);
  g_free(r);
}

const char *sb_http_method(const sb_http_request *r) { return r->method; }
const char *sb_http_path(const sb_http_request *r) { return r->path; }
const char *sb_http_query(const sb_http_request *r) { return r->query; }
const char *sb_http_remote(const sb_http_request *r) { return r->remote; }

const char *sb_http_header(const sb_http_request *r, const char *name) {
  char *key = g_ascii_strdown(name, -1);
  const char *v = g_hash_table_lookup(r->headers, key);
  g_free(key);
  return v;
}

const uint8_t *sb_http_body(const sb_http_request *r, size_t *len) {
  gsize n;
  const uint8_t *d = g_bytes_get_data(r->body, &n);
  *len = n;
  return d;
}

char **sb_http_path_segments(sb_http_request *r, const char *prefix) {
  if (r->segments == NULL) {
    const char *rest = g_str_has_prefix(r->path, prefix) ? r->path + strlen(prefix) : "";
    char **all = g_strsplit(rest, "/", -1);
    GPtrArray *keep = g_ptr_array_new();
    for (char **s = all; *s; s++)
      if (**s)
        g_ptr_array_add(keep, g_strdup(*s));
    g_ptr_array_add(keep, NULL);
    g_strfreev(all);
    r->segments = (char **)g_ptr_array_free(keep, FALSE);
  }
  return r->segments;
}

void sb_http_reply(sb_http_request *r, int status, const char *content_type,
                   const char *const *headers, size_t header_count, const void *body, size_t len) {
  r->ops->reply(r->transport, status, content_type, headers, header_count, body, len);
  request_free(r);
}

void sb_http_error(sb_http_request *r, int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *text = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  char *line = g_strconcat(text, "\n", NULL);
  sb_http_reply(r, status, "text/plain; charset=utf-8", NULL, 0, line, strlen(line));
  g_free(line);
  g_free(text);
}

static void route_free(gpointer p) {
  sb_http_route *rt = p;
  g_free(rt->prefix);
  g_free(rt->methods);
  g_free(rt);
}

void sb_http_route_add(const char *prefix, const char *methods, sb_http_handler h, void *ud) {
  if (routes == NULL)
    routes = g_ptr_array_new_with_free_func(route_free);
  sb_http_route *rt = g_new0(sb_http_route, 1);
  rt->prefix = g_strdup(prefix);
  rt->methods = g_strdup(methods);
  rt->handler = h;
  rt->ud = ud;
  g_ptr_array_add(routes, rt);
}

void sb_http_routes_clear(void) { g_clear_pointer(&routes, g_ptr_array_unref); }

const sb_http_route *sb_http_route_find(const char *path) {
  for (guint i = 0; routes && i < routes->len; i++) {
    sb_http_route *rt = g_ptr_array_index(routes, i);
    size_t n = strlen(rt->prefix);
    if (strncmp(path, rt->prefix, n) == 0)
      return rt;
    /* "/whip" matches the route "/whip/" too. */
    if (n > 1 && rt->prefix[n - 1] == '/' && strlen(path) == n - 1 && strncmp(path, rt->prefix, n - 1) == 0)
      return rt;
  }
  return NULL;
}

int sb_http_route_count(void) { return routes ? (int)routes->len : 0; }

const sb_http_route *sb_http_route_get(int index) {
  if (routes == NULL || index < 0 || (guint)index >= routes->len)
    return NULL;
  return g_ptr_array_index(routes, index);
}
