/* Switchboard — session resume ([signaling] resume_grace).
 *
 * Signaling thread. Every WebSocket session gets a resume token (welcome's
 * "resume_token": 32 random characters, ~190 bits). When its connection is lost
 * without a WebSocket close frame and without `bye` while a plugin holds state
 * for it (a room, a call), the session is *held* instead of closed: its plugins
 * keep everything (PeerConnections go on: media does not cross signaling), and
 * notifications wait in the session (sb_session_hold, at most resume_queue,
 * oldest dropped). A new connection calls `session.resume {session, resume_token}`
 * within the grace: the held notifications are sent on it, then the answer
 * (with a fresh token), and the session continues there (ws.c moves it). After
 * the grace the session is closed as if its connection had just closed. */
#ifndef SB_SIGNALING_RESUME_H
#define SB_SIGNALING_RESUME_H

#include <stdbool.h>

#include "core/config.h"
#include "core/session.h"

#define SB_RESUME_TOKEN_LEN 32

int sb_resume_start(sb_config *cfg);
/* Shutdown: closes every held session; later losses are not held. */
void sb_resume_stop(void);
/* After every connection is gone (lws_context_destroy): frees the registry. */
void sb_resume_free(void);
/* Seconds a lost session is held (0: resume is off). */
int sb_resume_grace(void);

/* A new session: its token (valid while the session is known here). */
const char *sb_resume_register(sb_session *s);
/* The session's connection was lost: true when it is now held (the registry keeps
 * a reference); false when it must be closed as before (no state, resume off,
 * shutting down). */
bool sb_resume_hold(sb_session *s);
/* The session ends for good (bye then close, clean close, failed resume). */
void sb_resume_forget(sb_session *s);

/* The JSON-RPC method `session.resume` (rpc.c's table). */
void sb_resume_rpc(sb_request *req);

/* ws.c: moves `resumed` onto the connection of `fresh` (closing the connection
 * `resumed` was still on, if any): its held messages are queued there and it
 * receives that connection's messages from now on; *dropped says how many held
 * ones were lost. `fresh` still sends on it until sb_ws_adopt_done(fresh), which
 * ends it. false when fresh has no WebSocket connection. */
bool sb_ws_adopt(sb_session *fresh, sb_session *resumed, unsigned *dropped);
void sb_ws_adopt_done(sb_session *fresh);

#endif
