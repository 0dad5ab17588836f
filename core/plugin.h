/* Switchboard — the plugin interface.
 *
 * A plugin is application logic (echo test, video room, text room) behind one C
 * interface. It registers JSON-RPC methods; signaling calls their handlers on the
 * signaling thread, and the handler passes the work to the media worker that owns
 * the plugin's state (sb_worker_call) and answers the request from there. Media
 * reaches a plugin through the callbacks of media/peer.h, on the peer's worker.
 *
 * Plugins register themselves from a constructor with SB_PLUGIN_REGISTER, so
 * neither core nor signaling names them. */
#ifndef SB_CORE_PLUGIN_H
#define SB_CORE_PLUGIN_H

#include <stdbool.h>

#include "core/auth.h"
#include "core/config.h"
#include "core/session.h"

typedef struct sb_method {
  const char *name;                 /* "echo.start" */
  void (*handler)(sb_request *req); /* signaling thread; owns req */
  /* The least role a session needs to call it (core/auth.h), checked by
   * signaling before the handler runs. Every client method declares one: a
   * plugin with an SB_ROLE_UNDECLARED method does not start. Admin methods
   * ignore it (the admin API has its own token). */
  sb_role role;
} sb_method;

/* A remote ICE candidate trickled by a client for one of a plugin's PeerConnections. */
typedef struct sb_trickle {
  const char *candidate;            /* "candidate:..." or NULL when completed */
  const char *sdp_mid;              /* may be NULL */
  int sdp_mline_index;              /* -1 when absent */
  bool completed;                   /* end-of-candidates */
} sb_trickle;

typedef struct sb_plugin {
  const char *name;                 /* "echotest"; also the config section */
  const char *description;
  /* Start-up, main thread, workers running. 0 on success. */
  int (*init)(sb_config *cfg);
  /* Shutdown, main thread, after every session is closed. */
  void (*destroy)(void);
  const sb_method *methods;         /* terminated by an entry with name NULL */
  /* The session said bye or its connection closed: release what it holds here.
   * Signaling thread. */
  void (*session_closed)(sb_session *s);
  /* A candidate for PeerConnection pc of session s, which this plugin bound with
   * sb_plugin_bind_pc. Answers req. Signaling thread. */
  void (*trickle)(sb_request *req, const char *pc, const sb_trickle *t);
  /* Adds plugin-specific counters to server.status (may be NULL). Signaling thread. */
  void (*status)(json_t *out);
  /* Methods for the admin API only (never callable from a client session), e.g.
   * "rooms.list"; same contract as methods. May be NULL. */
  const sb_method *admin_methods;
} sb_plugin;

void sb_plugin_register(const sb_plugin *p);
#define SB_PLUGIN_REGISTER(p) \
  static void __attribute__((constructor)) sb_plugin_ctor_##p(void) { sb_plugin_register(&(p)); }

/* Looks up a method among the started plugins (signaling thread). */
const sb_method *sb_plugin_find_method(const char *name, const sb_plugin **owner);
/* An admin method by name ("rooms.list") among the started plugins. */
const sb_method *sb_plugin_find_admin_method(const char *name);
/* Calls session_closed on every started plugin. */
void sb_plugins_session_closed(sb_session *s);
/* Lets every plugin add to a status object. */
void sb_plugins_status(json_t *out);
/* Iterates started plugins. */
int sb_plugin_count(void);
const sb_plugin *sb_plugin_get(int index);

/* The server's notifications about a PeerConnection (docs/API.md), shared by the
 * plugins. s may be NULL (an HTTP client: nothing is sent). Any thread. */
void sb_notify_peer_state(sb_session *s, const char *pc, const char *state, const char *reason);
/* A local candidate ("candidate:..."), or the end of them when candidate is NULL. */
void sb_notify_trickle(sb_session *s, const char *pc, const char *candidate, const char *mid, int mline);

/* PeerConnection ids of a session, so a generic "trickle" reaches the plugin that
 * owns the PeerConnection (signaling thread). */
void sb_plugin_bind_pc(sb_session *s, const char *pc, const sb_plugin *owner);
void sb_plugin_unbind_pc(sb_session *s, const char *pc);
/* Whether a plugin has bound a PeerConnection id in s (it holds state for it). */
bool sb_plugin_session_has_pcs(sb_session *s);
/* The owner of pc; when pc is NULL and the session has exactly one, that one
 * (and *pc_out is set to its id). NULL when none matches. */
const sb_plugin *sb_plugin_pc_owner(sb_session *s, const char *pc, const char **pc_out);

#endif
