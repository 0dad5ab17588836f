/* Switchboard — the admin API's routes: which (method, path) does what.
 *
 * Pure functions, no I/O: a table of routes, each a method, a path pattern whose
 * "{name}" segments capture one path segment, the action that serves it (an admin
 * method of a plugin, core/plugin.h, or one of signaling's own) and the status
 * of a success. docs/admin-openapi.yaml describes the same table; an integration
 * test keeps the two in step. */
#ifndef SB_SIGNALING_ADMIN_ROUTE_H
#define SB_SIGNALING_ADMIN_ROUTE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct sb_admin_route {
  const char *method;        /* "GET", "POST", "PUT", "DELETE" */
  const char *pattern;       /* "/admin/v1/rooms/{room}" */
  const char *action;        /* "rooms.get" (a plugin's admin method) or "server.info" */
  int status;                /* HTTP status of a success: 200, 201 */
} sb_admin_route;

/* No route has that path (any method). */
#define SB_ADMIN_NO_PATH (-404)
/* The path exists, not with that method. */
#define SB_ADMIN_BAD_METHOD (-405)

/* The routes, in the order of the table (and of the OpenAPI file). */
int sb_admin_route_count(void);
const sb_admin_route *sb_admin_route_get(int index);

/* Finds the route of (method, path). On a match returns its index and, when
 * captures is given, sets one string member per "{name}" segment. Otherwise
 * returns SB_ADMIN_NO_PATH or SB_ADMIN_BAD_METHOD; for the latter, when allow is
 * given, writes the methods the path takes ("GET, DELETE") into it. A single
 * trailing '/' is ignored; an empty segment never matches a capture. */
int sb_admin_route_match(const char *method, const char *path, json_t *captures, char *allow,
                         size_t allow_len);

/* Constant-time comparison of a presented token with the configured one: the
 * time taken depends on neither the content nor the length of either. False
 * when either is NULL or the configured one is empty. */
bool sb_admin_token_equal(const char *presented, const char *expected);
/* The token of an "Authorization: Bearer <token>" header value (case-insensitive
 * scheme, spaces around allowed), copied into out; false when the header is not
 * a Bearer credential or the token does not fit. */
bool sb_admin_bearer_token(const char *header, char *out, size_t out_len);

#endif
