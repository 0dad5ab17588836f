/* Switchboard — JSON-RPC dispatch: the server's own methods (trickle, bye,
 * server.status, ping) and the plugins' methods. */
#include <glib.h>
#include <string.h>

#include "sbconfig.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/plugin.h"
#include "core/util.h"
#include "core/worker.h"
#include "signaling/jsonrpc.h"
#include "signaling/resume.h"
#include "signaling/server.h"

/* trickle: {candidate, sdpMid?, sdpMLineIndex?, pc?} or {completed: true, pc?}.
 * An empty or null candidate also means end-of-candidates, as browsers send it. */
static void rpc_trickle(sb_request *req) {
  const char *candidate = NULL, *mid = NULL, *pc = NULL;
  int mline = -1, completed = 0;
  json_t *cand = NULL;
  if (!sb_request_unpack(req, "{s?o, s?s, s?i, s?b, s?s}", "candidate", &cand, "sdpMid", &mid,
                         "sdpMLineIndex", &mline, "completed", &completed, "pc", &pc))
    return;
  if (cand && !json_is_null(cand) && !json_is_string(cand)) {
    sb_request_error(req, SB_ERR_INVALID_PARAMS, "\"candidate\" must be a string");
    return;
  }
  candidate = json_is_string(cand) ? json_string_value(cand) : NULL;
  if (candidate && *candidate == '\0')
    candidate = NULL;
  if (candidate == NULL && !completed && cand == NULL) {
    sb_request_error(req, SB_ERR_INVALID_PARAMS,
                     "trickle needs \"candidate\" or \"completed\": true");
    return;
  }
  const char *pc_id = NULL;
  const sb_plugin *owner = sb_plugin_pc_owner(sb_request_session(req), pc, &pc_id);
  if (owner == NULL || owner->trickle == NULL) {
    if (pc)
      sb_request_error(req, SB_ERR_NO_PEER, "no PeerConnection '%s' in this session", pc);
    else
      sb_request_error(req, SB_ERR_NO_PEER, "no PeerConnection to trickle to: start a call first");
    return;
  }
  sb_trickle t = {
    .candidate = candidate,
    .sdp_mid = mid,
    .sdp_mline_index = mline,
    .completed = candidate == NULL,
  };
  char *id = g_strdup(pc_id);
  owner->trickle(req, id, &t);
  g_free(id);
}

static void rpc_bye(sb_request *req) {
  sb_info("session %s: bye", sb_session_id(sb_request_session(req)));
  sb_plugins_session_closed(sb_request_session(req));
  sb_request_reply(req, NULL);
}

static void rpc_status(sb_request *req) {
  json_t *plugins = json_array();
  for (int i = 0; i < sb_plugin_count(); i++)
    json_array_append_new(plugins, json_string(sb_plugin_get(i)->name));
  json_t *out = json_pack("{s:s, s:I, s:i, s:i, s:i, s:o}", "version", PACKAGE_VERSION,
                          "uptime_s", (json_int_t)(sb_signaling_uptime_us() / G_USEC_PER_SEC),
                          "workers", sb_worker_count(), "sessions", sb_session_count(),
                          "peers", (int)sb_metrics_lookup("switchboard_peers"), "plugins", plugins);
  sb_plugins_status(out);
  sb_request_reply(req, out);
}

static void rpc_ping(sb_request *req) {
  sb_request_reply(req, json_pack("{s:I}", "time_ms", (json_int_t)(sb_wall_us() / 1000)));
}

/* auth: {token}. sb_auth_admit has verified the token and the session keeps
 * its claims; the result says what they are. */
static void rpc_auth(sb_request *req) {
  const char *token = NULL;
  if (!sb_request_unpack(req, "{s:s}", "token", &token))
    return;
  const sb_claims *c = sb_auth_session_claims(sb_request_session(req));
  if (c == NULL) {
    sb_request_error(req, SB_ERR_UNAUTHORIZED, "the token was refused");
    return;
  }
  sb_request_reply(req, json_pack("{s:s, s:s, s:s, s:I}", "role", sb_role_name(c->role), "room", c->room,
                                  "sub", c->sub, "exp", (json_int_t)c->exp));
}

/* The server's methods and the least role each needs (core/auth.h). */
static const sb_method core_methods[] = {
  { "trickle", rpc_trickle, SB_ROLE_NONE },
  { "bye", rpc_bye, SB_ROLE_NONE },
  { "ping", rpc_ping, SB_ROLE_NONE },
  { "auth", rpc_auth, SB_ROLE_NONE },
  { "server.status", rpc_status, SB_ROLE_GUEST },
  { "session.resume", sb_resume_rpc, SB_ROLE_NONE },
  { NULL, NULL, SB_ROLE_UNDECLARED },
};

void sb_rpc_handle(sb_session *s, const char *text, size_t len) {
  sb_jsonrpc_msg msg;
  sb_jsonrpc_parse(text, len, &msg);
  switch (msg.kind) {
  case SB_JSONRPC_INVALID:
    sb_metrics_reject(json_integer_value(json_object_get(json_object_get(msg.error, "error"), "code")) ==
                              SB_ERR_PARSE
                          ? "parse_error"
                          : "invalid_request");
    sb_verbose("session %s: rejected message: %s", sb_session_id(s),
               json_string_value(json_object_get(json_object_get(msg.error, "error"), "message")));
    sb_session_send_json(s, json_incref(msg.error));
    break;
  case SB_JSONRPC_RESPONSE:
    sb_debug("session %s: ignoring a response (the server sends no requests)", sb_session_id(s));
    break;
  case SB_JSONRPC_REQUEST:
  case SB_JSONRPC_NOTIFICATION: {
    sb_debug("session %s: %s", sb_session_id(s), msg.method);
    sb_request *req = sb_request_new(s, msg.method, msg.id, msg.params);
    const sb_method *m = NULL;
    for (const sb_method *c = core_methods; c->name && !m; c++)
      if (strcmp(c->name, msg.method) == 0)
        m = c;
    if (m == NULL)
      m = sb_plugin_find_method(msg.method, NULL);
    /* Every method: the token in its params, the caller's role, its "room". */
    if (m && sb_auth_admit(req, m->role))
      m->handler(req);
    else if (m == NULL)
      sb_request_error(req, SB_ERR_METHOD_NOT_FOUND, "method '%s' not found", msg.method);
    break;
  }
  }
  sb_jsonrpc_msg_clear(&msg);
}
