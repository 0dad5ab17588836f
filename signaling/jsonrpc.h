/* Switchboard — JSON-RPC 2.0 framing (https://www.jsonrpc.org/specification).
 *
 * Turns one untrusted text message into a validated request or notification, or
 * into the error response the sender should get. Pure functions: no I/O, no
 * sessions, so they are unit-tested and fuzzed on their own. */
#ifndef SB_SIGNALING_JSONRPC_H
#define SB_SIGNALING_JSONRPC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define SB_JSONRPC_MAX_DEPTH 32     /* nesting accepted in a message */
#define SB_JSONRPC_MAX_METHOD 64    /* bytes of a method name */

typedef enum {
  SB_JSONRPC_REQUEST = 0,           /* method + id: answer it */
  SB_JSONRPC_NOTIFICATION,          /* method, no id: never answered */
  SB_JSONRPC_RESPONSE,              /* result or error with an id: a reply to us */
  SB_JSONRPC_INVALID,               /* *error holds the response to send */
} sb_jsonrpc_kind;

typedef struct sb_jsonrpc_msg {
  sb_jsonrpc_kind kind;
  json_t *root;                     /* owned: free with sb_jsonrpc_msg_clear */
  const char *method;               /* borrowed from root */
  json_t *id;                       /* borrowed, NULL for notifications */
  json_t *params;                   /* borrowed, NULL when absent */
  json_t *error;                    /* owned error response when kind is INVALID */
} sb_jsonrpc_msg;

/* Parses text (not NUL-terminated; len bytes). Never fails to fill msg. */
void sb_jsonrpc_parse(const char *text, size_t len, sb_jsonrpc_msg *msg);
void sb_jsonrpc_msg_clear(sb_jsonrpc_msg *msg);

/* {"jsonrpc":"2.0","id":id,"error":{"code":code,"message":message}}; id may be NULL (-> null). */
json_t *sb_jsonrpc_error(json_t *id, int code, const char *message);

#endif
