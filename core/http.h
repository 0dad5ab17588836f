/* Switchboard — HTTP endpoints for plugins (WHIP, WHEP, later admin).
 *
 * A plugin registers a handler for a path prefix; signaling parses the request
 * (method, path, headers, body up to [http] max_body_size), answers CORS preflight
 * (OPTIONS) itself, and hands the rest to the handler on the main thread. The
 * handler owns the request until it answers it, once, with sb_http_reply or
 * sb_http_error, from any thread. Every response carries the CORS headers, so a
 * page on another origin can use the endpoint. */
#ifndef SB_CORE_HTTP_H
#define SB_CORE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sb_http_request sb_http_request;

/* What the transport provides. reply is called once, from any thread; it copies
 * what it needs. The strings in headers are "Name: value". */
typedef struct sb_http_ops {
  void (*reply)(void *transport, int status, const char *content_type, const char *const *headers,
                size_t header_count, const void *body, size_t len);
} sb_http_ops;

/* Built by the transport. name/value arrays are copied. */
sb_http_request *sb_http_request_new(const sb_http_ops *ops, void *transport, const char *method,
                                     const char *path, const char *query, const char *remote,
                                     const char *const *header_names,
                                     const char *const *header_values, size_t header_count,
                                     const void *body, size_t body_len);

const char *sb_http_method(const sb_http_request *r);   /* "POST" */
const char *sb_http_path(const sb_http_request *r);     /* "/whip/room1" (decoded, no query) */
const char *sb_http_query(const sb_http_request *r);    /* "a=1&b=x%20y" (percent-encoded) or "" */
const char *sb_http_remote(const sb_http_request *r);   /* client IP */
/* A request header by name (case-insensitive), NULL when absent. */
const char *sb_http_header(const sb_http_request *r, const char *name);
const uint8_t *sb_http_body(const sb_http_request *r, size_t *len);
/* The path's segments after the route prefix ("/whip/" + "room1/abc" -> ["room1",
 * "abc"]), NULL-terminated, owned by the request. */
char **sb_http_path_segments(sb_http_request *r, const char *prefix);

/* Answers and frees the request. headers: extra "Name: value" strings (may be NULL). */
void sb_http_reply(sb_http_request *r, int status, const char *content_type,
                   const char *const *headers, size_t header_count, const void *body, size_t len);
/* A text/plain error a person can read; frees the request. */
void sb_http_error(sb_http_request *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Routes (main thread, registered at start-up by plugins' init). */
typedef void (*sb_http_handler)(sb_http_request *r, void *ud);
/* Every path equal to prefix without its trailing '/', or starting with prefix. */
void sb_http_route_add(const char *prefix, const char *methods, sb_http_handler h, void *ud);
void sb_http_routes_clear(void);

typedef struct sb_http_route {
  char *prefix;              /* "/whip/" */
  char *methods;             /* "POST, PATCH, DELETE" (for Allow and CORS) */
  sb_http_handler handler;
  void *ud;
} sb_http_route;
/* The route for a path, or NULL. */
const sb_http_route *sb_http_route_find(const char *path);
/* Iterates the routes in the order they were added (signaling mounts each one). */
int sb_http_route_count(void);
const sb_http_route *sb_http_route_get(int index);

#endif
