/* Switchboard — textroom: the chat protocol spoken on a data channel (docs/API.md
 * "Text rooms"). Pure functions, no threads, no peers: parsing and checking one
 * request, building responses and events, the message history ring. The plugin
 * (textroom.c, room.c) does the rest.
 *
 * A request is one JSON object in one data channel message:
 *   {"request":"join","room":"lobby","display":"Ann","transaction":"t1"}
 * and gets exactly one response on the same channel:
 *   {"response":"success","transaction":"t1",...} or
 *   {"response":"error","transaction":"t1","code":-32602,"message":"..."}. */
#ifndef SB_PLUGINS_TEXTROOM_PROTOCOL_H
#define SB_PLUGINS_TEXTROOM_PROTOCOL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TR_NAME_MAX 64               /* room name: 1..64 of [A-Za-z0-9_.-] */
#define TR_DISPLAY_MAX 64            /* display name: 1..64 characters (UTF-8) */
#define TR_TRANSACTION_MAX 128       /* a string transaction id, in bytes */
#define TR_ID_LEN 9                  /* participant id: "u" + 8 of [A-Za-z0-9] */

typedef enum {
  TR_REQ_JOIN = 0,
  TR_REQ_MESSAGE,
  TR_REQ_LEAVE,
  TR_REQ_LIST,
  TR_REQ_KICK,
} tr_request_type;

/* One request, checked. The strings point into root (valid until
 * tr_request_clear); NULL when the field was absent. */
typedef struct tr_request {
  tr_request_type type;
  json_t *root;                      /* the parsed message (owned), NULL if not JSON */
  json_t *transaction;               /* borrowed from root; NULL when absent or unusable */
  const char *room;
  const char *display;               /* join */
  const char *text;                  /* message */
  const char *to;                    /* message: a participant id (private) */
  const char *id;                    /* kick: the participant */
  const char *secret;                /* kick: moderator secret; join: the secret of a room it creates */
} tr_request;

/* Parses and checks one channel message of len bytes (max_len: the configured
 * limit). Returns 0, or an SB_ERR_* code (core/session.h) with *msg set
 * (g_malloc'd): SB_ERR_TOO_LARGE over max_len, SB_ERR_PARSE not JSON,
 * SB_ERR_INVALID_REQUEST not an object / no "request" / a bad transaction,
 * SB_ERR_METHOD_NOT_FOUND an unknown request, SB_ERR_INVALID_PARAMS a field
 * missing or malformed. Even on failure req->transaction is set when the message
 * had a usable one, so the error can carry it. Always call tr_request_clear. */
int tr_request_parse(const uint8_t *buf, size_t len, size_t max_len, tr_request *req, char **msg);
void tr_request_clear(tr_request *req);

/* {"response":"success","transaction":t} (t borrowed, may be NULL: left out). */
json_t *tr_success(json_t *transaction);
/* {"response":"error","transaction":t,"code":code,"message":message}. */
json_t *tr_error(json_t *transaction, int code, const char *message);

bool tr_room_name_valid(const char *name);
/* "2026-05-01T12:34:56.789Z" (UTC, milliseconds) for microseconds since the epoch;
 * buf holds at least 32 bytes. */
void tr_format_date(int64_t wall_us, char *buf, size_t size);
/* Compares two secrets in time independent of where they differ; NULL or ""
 * never matches. */
bool tr_secret_equal(const char *given, const char *expected);

/* The last `cap` public messages of a room, oldest first, together at most
 * max_bytes (as the caller counts them), so a room's memory stays bounded. */
typedef struct tr_history {
  json_t **items;                    /* ring of cap entries */
  size_t *sizes;                     /* the bytes each entry was counted for */
  int cap;                           /* 0: nothing is kept */
  int start;                         /* index of the oldest */
  int len;
  size_t bytes, max_bytes;
} tr_history;

void tr_history_init(tr_history *h, int cap, size_t max_bytes);
/* Appends msg (stolen), counted as `bytes`, dropping the oldest while over a
 * limit; a message over max_bytes by itself is not kept. */
void tr_history_push(tr_history *h, json_t *msg, size_t bytes);
/* A new array with (references to) the kept messages, oldest first. */
json_t *tr_history_json(const tr_history *h);
void tr_history_clear(tr_history *h);

#endif
