/* Switchboard — the signaling server: libwebsockets on the main thread's GLib
 * loop, serving the WebSocket JSON-RPC endpoint, the plugins' HTTP routes
 * (core/http.h) and the static demo pages. Everything in signaling/ runs on that
 * thread unless said otherwise. */
#ifndef SB_SIGNALING_SERVER_H
#define SB_SIGNALING_SERVER_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/session.h"

typedef struct sb_signaling_config {
  char *address;             /* listen address, NULL = all */
  int port;
  char *demos_dir;           /* static files served at / */
  char *ws_path;             /* WebSocket endpoint, "/ws" */
  size_t max_message_size;   /* bytes of one JSON-RPC message */
  size_t max_queue_bytes;    /* unsent output per connection before it is dropped */
  size_t max_body_size;      /* bytes of one HTTP request body for a route; more: 413 */
  int ping_interval_s;       /* WebSocket ping after this much silence */
  int ping_timeout_s;        /* hang up when nothing arrives for this long */
} sb_signaling_config;

const sb_signaling_config *sb_signaling_get_config(void);
struct lws_context *sb_signaling_context(void);
bool sb_signaling_on_thread(void);
int64_t sb_signaling_uptime_us(void);

/* ws.c: the WebSocket protocol and its connections. */
int sb_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);
size_t sb_ws_conn_size(void);
int sb_ws_connection_count(void);
/* Shutdown: every connection flushes its queue and closes with 1001 "going away". */
void sb_ws_close_all(void);

/* http.c: plain HTTP requests for the routes of core/http.h, and /healthz.
 * The lws mounts that send the routes' paths to the protocol callback, chained in
 * front of next (the static files); valid until sb_http_stop. */
const struct lws_http_mount *sb_http_start(const char *protocol, const struct lws_http_mount *next);
/* After lws_context_destroy. */
void sb_http_stop(void);
/* Every callback reason that is not the WebSocket's: route requests are handled
 * here, the rest is left to lws_callback_http_dummy (static files, 404). */
int sb_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);
/* Answers queued from other threads: asks for writeable callbacks
 * (LWS_CALLBACK_EVENT_WAIT_CANCELLED). */
void sb_http_wake(void);

/* rpc.c: one complete text message from a session. */
void sb_rpc_handle(sb_session *s, const char *text, size_t len);

#endif
