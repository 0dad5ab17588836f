/* Switchboard — signaling sessions and requests, as plugins see them.
 *
 * A session is one signaling connection (a WebSocket today). The transport that
 * created it supplies a thread-safe send function; everything else here may be
 * used from any thread unless marked "signaling thread". A request is one
 * JSON-RPC call handed to a plugin: the plugin owns it until it answers it, once,
 * with sb_request_reply or sb_request_error, from whichever thread it likes. */
#ifndef SB_CORE_SESSION_H
#define SB_CORE_SESSION_H

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* JSON-RPC error codes: the standard ones, and Switchboard's (docs/API.md). */
enum {
  SB_ERR_PARSE = -32700,            /* not JSON */
  SB_ERR_INVALID_REQUEST = -32600,  /* JSON but not a JSON-RPC 2.0 request */
  SB_ERR_METHOD_NOT_FOUND = -32601,
  SB_ERR_INVALID_PARAMS = -32602,
  SB_ERR_INTERNAL = -32603,
  SB_ERR_TOO_LARGE = 1001,          /* message over the configured size limit */
  SB_ERR_SDP_INVALID = 1010,        /* SDP does not parse */
  SB_ERR_SDP_NO_ICE = 1011,         /* no ICE ufrag/pwd */
  SB_ERR_SDP_NO_FINGERPRINT = 1012, /* no DTLS fingerprint, or an unsupported hash */
  SB_ERR_SDP_UNSUPPORTED = 1013,    /* nothing acceptable in it (codecs, transport) */
  SB_ERR_NO_PEER = 1020,            /* no such PeerConnection in this session */
  SB_ERR_CANDIDATE = 1021,          /* candidate does not parse */
  SB_ERR_BUSY = 1022,               /* already started */
  SB_ERR_MEDIA = 1023,              /* the media stack failed to set up the peer */
  SB_ERR_UNAUTHORIZED = 1030,       /* no token, or an invalid, expired or not yet valid one */
  SB_ERR_ROLE = 1031,               /* the token's role lacks the right (core/auth.h) */
  SB_ERR_WRONG_ROOM = 1032,         /* the token is for another room */
  SB_ERR_ROOM_FULL = 1040,
  SB_ERR_NO_ROOM = 1041,
  SB_ERR_IN_ROOM = 1042,            /* the session is already in a room */
  SB_ERR_NOT_IN_ROOM = 1043,
  SB_ERR_MAX_PUBLISHERS = 1044,
  SB_ERR_NO_TRACK = 1045,
  SB_ERR_NO_OFFER = 1046,           /* no subscriber offer outstanding / stale version */
  SB_ERR_ROOM_LOCKED = 1047,        /* the room is locked (room.lock): no new joins */
  SB_ERR_RATE_LIMITED = 1050,       /* over [limits] messages_per_second: slow down */
  SB_ERR_RESUME_FAILED = 1051,      /* session.resume: no such held session or a wrong token */
  SB_ERR_TOO_MANY_TRACKS = 1052,    /* videoroom: over [videoroom] max_tracks per participant */
  SB_ERR_NO_PARTICIPANT = 1060,     /* admin API: no such participant in that room */
  SB_ERR_ROOM_EXISTS = 1061,        /* admin API: a room of that name exists already */
  SB_ERR_FORBIDDEN = 1080,          /* textroom: wrong or missing moderator secret */
  SB_ERR_TOO_MANY_ROOMS = 1081,     /* textroom: the server has its maximum number of rooms */
};

typedef struct sb_session sb_session;
typedef struct sb_request sb_request;

/* What a transport provides. send copies text; it is called from any thread and
 * must not block. */
typedef struct sb_transport_ops {
  void (*send)(void *transport, const char *text, size_t len);
  /* Optional: hands over (appends to out, as g_malloc'd NUL-terminated texts) the
   * messages sent but not yet written, so that a session moving to another
   * transport (hold, resume) loses none of them. Called under the session's lock. */
  void (*take_unsent)(void *transport, GQueue *out);
} sb_transport_ops;

/* --- sessions --- */

sb_session *sb_session_new(const sb_transport_ops *ops, void *transport, const char *remote);
sb_session *sb_session_ref(sb_session *s);
void sb_session_unref(sb_session *s);
/* The transport is gone: later sends are dropped (and any held ones). */
void sb_session_detach(sb_session *s);
/* The transport is gone for now (a lost connection; the session may resume):
 * later sends are kept, at most max_messages (then the oldest is dropped). */
void sb_session_hold(sb_session *s, size_t max_messages);
/* A transport again (a resumed session): the held messages are sent to it first,
 * in order, then everything else. Returns how many held messages were dropped. */
unsigned sb_session_attach(sb_session *s, const sb_transport_ops *ops, void *transport);
bool sb_session_is_detached(sb_session *s);
const char *sb_session_id(const sb_session *s);
const char *sb_session_remote(const sb_session *s);

/* Sends a JSON-RPC notification {method, params}; params is stolen (may be NULL). */
void sb_session_notify(sb_session *s, const char *method, json_t *params);
/* Sends a whole JSON message, stolen. */
void sb_session_send_json(sb_session *s, json_t *msg);

/* Per-plugin data of a session (signaling thread). destroy runs when the key is
 * replaced, removed, or the session is freed. */
void sb_session_set_data(sb_session *s, const char *key, void *data, void (*destroy)(void *));
void *sb_session_get_data(sb_session *s, const char *key);

/* Live sessions, for status. */
int sb_session_count(void);

/* --- requests --- */

/* id may be NULL for a notification (then replies are dropped). params is
 * borrowed (a new reference is taken). */
sb_request *sb_request_new(sb_session *s, const char *method, json_t *id, json_t *params);
/* A request from inside the server (the admin API), with no session: its answer
 * goes to done, once, on the thread that answers. On success result is the
 * result (borrowed) and code 0; on an error result is NULL, code and message say
 * what failed and data is the error's "data" (borrowed, may be NULL). A request
 * dropped unanswered reports SB_ERR_INTERNAL. */
typedef void (*sb_request_done)(void *ud, json_t *result, int code, const char *message, json_t *data);
sb_request *sb_request_new_internal(const char *method, json_t *params, sb_request_done done, void *ud);
/* The session; NULL for an internal request. */
sb_session *sb_request_session(const sb_request *r);
const char *sb_request_method(const sb_request *r);
/* The params object (borrowed; an empty object when the call had none). */
json_t *sb_request_params(const sb_request *r);

/* Answers and frees the request. result is stolen (NULL means {}). */
void sb_request_reply(sb_request *r, json_t *result);
void sb_request_error(sb_request *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Like sb_request_error with an extra "data" member (stolen). */
void sb_request_error_data(sb_request *r, int code, json_t *data, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Frees a request without answering (the session is gone). */
void sb_request_drop(sb_request *r);

/* Unpacks params with a jansson format ("{s:s, s?b}"). On a mismatch answers the
 * request with SB_ERR_INVALID_PARAMS naming the problem, frees it, and returns
 * false. Strings unpacked point into params: valid while the request lives. */
bool sb_request_unpack(sb_request *r, const char *fmt, ...);

#endif
