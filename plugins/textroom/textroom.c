/* Switchboard — textroom: chat rooms over data channels (docs/API.md "Text rooms").
 *
 * JSON-RPC carries only the PeerConnection: textroom.connect takes a data-only
 * offer and answers it, trickle works as for the echo test, textroom.hangup ends
 * it. Everything else (join, message, leave, list, kick) are JSON requests on a
 * data channel the client opens (protocol.h, room.c).
 *
 * Threads: method handlers and session_closed run on the signaling thread and
 * only post jobs; every textroom peer and every room live on one worker chosen
 * at start-up (textroom.h says why). */
#include <string.h>

#include "core/log.h"
#include "core/plugin.h"
#include "core/util.h"
#include "plugins/textroom/textroom.h"

#define DATA_KEY "textroom.conn"
#define PC_ID "textroom"
#define SWEEP_INTERVAL_S 5

static const sb_plugin textroom_plugin;
static tr_settings settings;
static sb_worker *worker;
static GSource *sweep_source;       /* worker */
static gint live_conns;             /* tr_conn objects alive (a leak check at shutdown) */
static gint active_conns;           /* connections with a PeerConnection (server.status) */

const tr_settings *tr_config(void) { return &settings; }
sb_worker *tr_worker(void) { return worker; }

tr_conn *tr_conn_ref(tr_conn *c) {
  g_atomic_int_inc(&c->refs);
  return c;
}

void tr_conn_unref(void *data) {
  tr_conn *c = data;
  if (c == NULL || !g_atomic_int_dec_and_test(&c->refs))
    return;
  g_hash_table_destroy(c->joined);
  sb_session_unref(c->session);
  g_free(c);
  g_atomic_int_add(&live_conns, -1);
}

/* --- worker side --- */

static void conn_end(tr_conn *c) {
  tr_conn_leave_all(c);
  g_atomic_int_set(&c->ended, 1);
  if (c->peer) {
    g_atomic_int_add(&active_conns, -1);
    sb_worker_load_add(worker, -1);
    sb_peer_close(c->peer);
    sb_peer_unref(c->peer);
    c->peer = NULL;
    tr_conn_unref(c); /* the peer's reference */
  }
}

static void on_state(sb_peer *p, sb_peer_state state, const char *reason, void *ud) {
  tr_conn *c = ud;
  sb_notify_peer_state(c->session, PC_ID, sb_peer_state_name(state), reason);
  if (state == SB_PEER_FAILED || state == SB_PEER_CLOSED) {
    sb_info("%s: textroom connection ended: %s", c->name,
            reason ? reason : sb_peer_state_name(state));
    conn_end(c);
  }
}

static void on_candidate(sb_peer *p, const char *candidate, const char *mid, int mline, void *ud) {
  tr_conn *c = ud;
  sb_notify_trickle(c->session, PC_ID, candidate, mid, mline);
}

static void on_channel_open(sb_peer *p, const sb_dc_info *ch, void *ud) {
  tr_conn *c = ud;
  sb_verbose("%s: textroom: channel %u '%s' (protocol '%s') opened", c->name, ch->id, ch->label,
             ch->protocol);
}

static void on_channel_message(sb_peer *p, uint16_t id, bool binary, const uint8_t *buf,
                               size_t len, void *ud) {
  tr_handle_message(ud, id, buf, len);
}

static void on_channel_closed(sb_peer *p, uint16_t id, void *ud) {
  tr_conn_channel_closed(ud, id);
}

static const sb_peer_handler textroom_handler = {
  .on_state = on_state,
  .on_candidate = on_candidate,
  .on_channel_open = on_channel_open,
  .on_channel_message = on_channel_message,
  .on_channel_closed = on_channel_closed,
};

typedef struct job {
  tr_conn *conn;
  sb_request *req;
  char *text;                       /* SDP or candidate */
  bool completed;                   /* trickle: end of candidates */
} job;

static void job_free(void *data) {
  job *j = data;
  tr_conn_unref(j->conn);
  g_free(j->text);
  g_free(j);
}

static job *job_new(tr_conn *c, sb_request *req) {
  job *j = g_new0(job, 1);
  j->conn = tr_conn_ref(c);
  j->req = req;
  return j;
}

static bool has_data_section(sb_peer *p) {
  for (int i = 0; i < sb_peer_media_count(p); i++) {
    const sb_media_desc *d = sb_peer_media(p, i);
    if (d->kind == SB_MEDIA_APPLICATION && d->accepted)
      return true;
  }
  return false;
}

static void connect_on_worker(void *data) {
  job *j = data;
  tr_conn *c = j->conn;
  if (g_atomic_int_get(&c->ended)) {
    sb_request_error(j->req, SB_ERR_NO_PEER, "the connection was hung up before it started");
    return;
  }
  c->peer = sb_peer_new(c->name, &textroom_handler, tr_conn_ref(c));
  g_atomic_int_inc(&active_conns);
  sb_worker_load_add(worker, 1);
  /* Data only: audio and video m-sections are refused (port 0). */
  sb_caps caps = { .data = true };
  char *answer = NULL, *msg = NULL;
  int rc = sb_peer_accept_offer(c->peer, j->text, strlen(j->text), &caps, &answer, &msg);
  if (rc == 0 && !has_data_section(c->peer)) {
    rc = SB_ERR_SDP_UNSUPPORTED;
    msg = g_strdup("the offer has no data channel (m=application): create one before the offer");
    g_free(answer);
  }
  if (rc != 0) {
    sb_info("%s: offer refused: %s", c->name, msg);
    conn_end(c); /* ended before the reply: the client may retry at once */
    sb_request_error(j->req, rc, "%s", msg);
    g_free(msg);
    return;
  }
  sb_info("%s: textroom connection started", c->name);
  sb_request_reply(j->req, json_pack("{s:s, s:s, s:s}", "type", "answer", "sdp", answer, "pc", PC_ID));
  g_free(answer);
}

static void trickle_on_worker(void *data) {
  job *j = data;
  char *msg = NULL;
  if (j->conn->peer == NULL) {
    sb_request_error(j->req, SB_ERR_NO_PEER, "the textroom connection has ended");
    return;
  }
  int rc = sb_peer_add_remote_candidate(j->conn->peer, j->completed ? NULL : j->text, &msg);
  if (rc != 0) {
    sb_request_error(j->req, rc, "%s", msg);
    g_free(msg);
    return;
  }
  sb_request_reply(j->req, NULL);
}

static void stop_on_worker(void *data) {
  job *j = data;
  if (j->conn->peer)
    sb_info("%s: textroom connection hung up", j->conn->name);
  conn_end(j->conn);
  if (j->req)
    sb_request_reply(j->req, NULL);
}

/* --- signaling side --- */

static tr_conn *session_conn(sb_session *s) { return sb_session_get_data(s, DATA_KEY); }

static void textroom_connect(sb_request *req) {
  sb_session *s = sb_request_session(req);
  const char *sdp = NULL, *type = NULL;
  if (!sb_request_unpack(req, "{s:s, s?s}", "sdp", &sdp, "type", &type))
    return;
  if (type && strcmp(type, "offer") != 0) {
    sb_request_error(req, SB_ERR_INVALID_PARAMS, "textroom.connect takes an SDP offer, not an %s", type);
    return;
  }
  tr_conn *old = session_conn(s);
  if (old && !g_atomic_int_get(&old->ended)) {
    sb_request_error(req, SB_ERR_BUSY, "a textroom connection is already open in this session");
    return;
  }
  tr_conn *c = g_new0(tr_conn, 1);
  c->refs = 1;
  c->session = sb_session_ref(s);
  c->joined = g_hash_table_new(g_str_hash, g_str_equal);
  g_snprintf(c->name, sizeof c->name, "session %s/textroom", sb_session_id(s));
  /* A moderator token may kick where it is valid, as a moderator secret does. */
  const sb_claims *claims = sb_auth_session_claims(s);
  if (claims && claims->role >= SB_ROLE_MODERATOR)
    g_strlcpy(c->moderates, claims->room, sizeof c->moderates);
  g_atomic_int_inc(&live_conns);
  sb_session_set_data(s, DATA_KEY, c, tr_conn_unref);
  sb_plugin_bind_pc(s, PC_ID, &textroom_plugin);
  job *j = job_new(c, req);
  j->text = g_strdup(sdp);
  sb_worker_call(worker, connect_on_worker, j, job_free);
}

/* Ends the session's connection (its participants leave their rooms); answers
 * req, if any, once that is done. */
static void conn_close(sb_session *s, sb_request *req) {
  tr_conn *c = session_conn(s);
  job *j = job_new(c, req);
  sb_plugin_unbind_pc(s, PC_ID);
  sb_session_set_data(s, DATA_KEY, NULL, NULL); /* drops the session's reference */
  sb_worker_call(worker, stop_on_worker, j, job_free);
}

static void textroom_hangup(sb_request *req) {
  if (session_conn(sb_request_session(req)) == NULL) {
    sb_request_error(req, SB_ERR_NO_PEER, "no textroom connection in this session");
    return;
  }
  conn_close(sb_request_session(req), req);
}

static void textroom_trickle(sb_request *req, const char *pc, const sb_trickle *t) {
  tr_conn *c = session_conn(sb_request_session(req));
  if (c == NULL) {
    sb_request_error(req, SB_ERR_NO_PEER, "no textroom connection in this session");
    return;
  }
  job *j = job_new(c, req);
  j->completed = t->completed;
  j->text = g_strdup(t->candidate);
  sb_worker_call(worker, trickle_on_worker, j, job_free);
}

static void textroom_session_closed(sb_session *s) {
  if (session_conn(s))
    conn_close(s, NULL);
}

static void textroom_status(json_t *out) {
  json_object_set_new(out, "textroom",
                      json_pack("{s:i, s:i, s:i, s:i, s:i}", "connections",
                                g_atomic_int_get(&active_conns), "rooms",
                                g_atomic_int_get(&tr_count.rooms), "participants",
                                g_atomic_int_get(&tr_count.participants), "malformed_requests",
                                g_atomic_int_get(&tr_count.malformed),
                                /* the whole server's, so a test sees every one released */
                                "sctp_associations", sb_sctp_live_count()));
}

/* --- start and stop --- */

static gboolean sweep_tick(gpointer data) {
  (void)data;
  tr_rooms_sweep();
  return G_SOURCE_CONTINUE;
}

static void start_on_worker(void *data) {
  tr_rooms_init(data);
  sweep_source = g_timeout_source_new_seconds(SWEEP_INTERVAL_S);
  g_source_set_callback(sweep_source, sweep_tick, NULL, NULL);
  g_source_attach(sweep_source, sb_worker_context(worker));
}

static void stop_on_worker_sync(void *data) {
  (void)data;
  if (sweep_source) {
    g_source_destroy(sweep_source);
    g_source_unref(sweep_source);
    sweep_source = NULL;
  }
  tr_rooms_free();
}

static int textroom_init(sb_config *cfg) {
  settings.history_size = (int)sb_config_get_int_range(cfg, "textroom", "history_size", 50, 0, 1000);
  settings.history_max_bytes = (size_t)sb_config_get_int_range(cfg, "textroom", "history_max_bytes",
                                                               131072, 0, 64 << 20);
  settings.max_rooms = (int)sb_config_get_int_range(cfg, "textroom", "max_rooms", 1000, 1, 100000);
  settings.max_participants =
      (int)sb_config_get_int_range(cfg, "textroom", "max_participants", 100, 1, 10000);
  settings.max_message_size = (size_t)sb_config_get_int_range(cfg, "textroom", "max_message_size",
                                                              65536, 1024, SB_SCTP_MAX_MESSAGE_DEFAULT);
  settings.create_on_join = sb_config_get_bool(cfg, "textroom", "create_on_join", true);
  settings.empty_room_ttl_s =
      (int)sb_config_get_int_range(cfg, "textroom", "empty_room_ttl", 300, 0, 7 * 86400);
  char *secret = sb_config_get_string(cfg, "textroom", "moderator_secret", "");
  settings.moderator_secret = secret && secret[0] ? secret : NULL;
  if (settings.moderator_secret == NULL)
    g_free(secret);
  char **configured = sb_config_get_list(cfg, "textroom", "rooms");
  worker = sb_worker_pick();
  sb_worker_call_sync(worker, start_on_worker, configured);
  g_strfreev(configured);
  sb_info("textroom: rooms on worker %d; history %d messages, at most %d rooms of %d, "
          "requests up to %zu bytes%s", sb_worker_index(worker), settings.history_size,
          settings.max_rooms, settings.max_participants, settings.max_message_size,
          settings.create_on_join ? "" : ", no rooms created on join");
  return 0;
}

static void barrier(void *data) { (void)data; }

static void textroom_destroy(void) {
  /* Every session is closed by now and its stop job queued: let them run, then
   * free the rooms on their worker, so nothing outlives the media module. */
  sb_worker_call_sync(worker, barrier, NULL);
  sb_worker_call_sync(worker, stop_on_worker_sync, NULL);
  if (g_atomic_int_get(&live_conns) != 0)
    sb_warn("textroom: %d connection(s) still alive at shutdown", g_atomic_int_get(&live_conns));
  g_free(settings.moderator_secret);
  settings.moderator_secret = NULL;
}

/* A text room connection sends messages: a user's right (core/auth.h);
 * ending one needs none. */
static const sb_method textroom_methods[] = {
  { "textroom.connect", textroom_connect, SB_ROLE_USER },
  { "textroom.hangup", textroom_hangup, SB_ROLE_NONE },
  { NULL, NULL, SB_ROLE_UNDECLARED },
};

static const sb_plugin textroom_plugin = {
  .name = "textroom",
  .description = "chat rooms over data channels",
  .init = textroom_init,
  .destroy = textroom_destroy,
  .methods = textroom_methods,
  .session_closed = textroom_session_closed,
  .trickle = textroom_trickle,
  .status = textroom_status,
};
SB_PLUGIN_REGISTER(textroom_plugin)
