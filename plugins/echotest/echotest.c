/* Switchboard — echotest: every RTP packet a peer sends comes back to it.
 *
 * The smallest whole use of the media stack: one PeerConnection per session,
 * each inbound stream sent back on the outbound stream of its m-section (new
 * SSRC, continuous numbering), NACKs answered from the retransmission buffer,
 * keyframe requests passed back to the sender, REMB telling the browser how
 * much it may send. A session holds at most one echo call.
 *
 * Threads: method handlers and session_closed run on the signaling thread and
 * only post jobs; everything that touches the peer runs on the call's worker. */
#include <glib.h>
#include <string.h>

#include "core/log.h"
#include "core/plugin.h"
#include "core/util.h"
#include "core/worker.h"
#include "media/peer.h"

#define DATA_KEY "echotest.call"
#define PC_ID "echo"

typedef struct echo_call {
  gint refs;
  sb_session *session;
  sb_worker *worker;
  char name[48];
  /* worker thread only */
  sb_peer *peer;
  bool audio;
  bool video;
  uint64_t bitrate;
  /* any thread */
  gint ended;                 /* the peer failed/closed or never started */
} echo_call;

static const sb_plugin echotest_plugin;
static uint64_t default_bitrate;
static gint live_calls;      /* echo_call objects alive (a leak check at shutdown) */
static gint active_calls;    /* calls with a PeerConnection (server.status) */

static echo_call *call_ref(echo_call *c) {
  g_atomic_int_inc(&c->refs);
  return c;
}

static void call_unref(void *data) {
  echo_call *c = data;
  if (c == NULL || !g_atomic_int_dec_and_test(&c->refs))
    return;
  sb_session_unref(c->session);
  g_free(c);
  g_atomic_int_add(&live_calls, -1);
}

/* --- worker side --- */

static void call_end(echo_call *c) {
  g_atomic_int_set(&c->ended, 1);
  if (c->peer) {
    g_atomic_int_add(&active_calls, -1);
    sb_peer_close(c->peer);
    sb_peer_unref(c->peer);
    c->peer = NULL;
    call_unref(c); /* the peer's reference to the call */
  }
}

/* The inbound stream an outbound stream echoes: the first one of its m-section
 * (with simulcast, the first layer that arrived). */
static sb_stream_in *source_of(sb_peer *p, int media_index) {
  for (int i = 0; i < sb_peer_stream_in_count(p); i++) {
    sb_stream_in *in = sb_peer_stream_in_get(p, i);
    if (in->media_index == media_index && in->stats.packets > 0)
      return in;
  }
  return NULL;
}

static void on_rtp(sb_peer *p, sb_stream_in *in, sb_pktbuf *pkt, const sb_rtp_view *v, void *ud) {
  echo_call *c = ud;
  if ((in->kind == SB_MEDIA_AUDIO && !c->audio) || (in->kind == SB_MEDIA_VIDEO && !c->video))
    return;
  sb_stream_out *out = sb_peer_stream_out(p, in->media_index);
  if (out == NULL || source_of(p, in->media_index) != in)
    return;
  sb_peer_send_rtp(p, out, pkt, v);
}

static void on_keyframe_request(sb_peer *p, sb_stream_out *out, void *ud) {
  sb_stream_in *in = source_of(p, out->media_index);
  if (in)
    sb_peer_request_keyframe(p, in, false);
}

static void on_state(sb_peer *p, sb_peer_state state, const char *reason, void *ud) {
  echo_call *c = ud;
  sb_notify_peer_state(c->session, PC_ID, sb_peer_state_name(state), reason);
  if (state == SB_PEER_CONNECTED) {
    /* Ask for a keyframe at once so the echo starts without waiting for one. */
    for (int i = 0; i < sb_peer_stream_in_count(p); i++) {
      sb_stream_in *in = sb_peer_stream_in_get(p, i);
      if (in->kind == SB_MEDIA_VIDEO)
        sb_peer_request_keyframe(p, in, true);
    }
    return;
  }
  if (state == SB_PEER_FAILED || state == SB_PEER_CLOSED) {
    sb_info("%s: echo call ended: %s", c->name, reason ? reason : sb_peer_state_name(state));
    call_end(c);
  }
}

static void on_candidate(sb_peer *p, const char *candidate, const char *mid, int mline, void *ud) {
  echo_call *c = ud;
  sb_notify_trickle(c->session, PC_ID, candidate, mid, mline);
}

static void on_stream_in(sb_peer *p, sb_stream_in *in, void *ud) {
  /* A video stream that appears after the start (e.g. Firefox announces no SSRC)
   * needs its own first keyframe. */
  if (in->kind == SB_MEDIA_VIDEO && sb_peer_get_state(p) == SB_PEER_CONNECTED)
    sb_peer_request_keyframe(p, in, true);
}

/* Data channels echo too: every message goes back on the channel it came on. */
static void on_channel_message(sb_peer *p, uint16_t id, bool binary, const uint8_t *buf,
                               size_t len, void *ud) {
  (void)ud;
  sb_peer_channel_send(p, id, binary, buf, len);
}

static const sb_peer_handler echo_handler = {
  .on_state = on_state,
  .on_candidate = on_candidate,
  .on_rtp = on_rtp,
  .on_keyframe_request = on_keyframe_request,
  .on_stream_in = on_stream_in,
  .on_channel_message = on_channel_message,
};

typedef struct job {
  echo_call *call;
  sb_request *req;
  char *text;                 /* SDP or candidate */
  sb_trickle trickle;
  int audio, video;           /* -1 = unchanged */
  json_int_t bitrate;         /* -1 = unchanged */
} job;

static void job_free(void *data) {
  job *j = data;
  call_unref(j->call);
  g_free(j->text);
  g_free(j);
}

static job *job_new(echo_call *c, sb_request *req) {
  job *j = g_new0(job, 1);
  j->call = call_ref(c);
  j->req = req;
  j->audio = j->video = -1;
  j->bitrate = -1;
  return j;
}

static void start_on_worker(void *data) {
  job *j = data;
  echo_call *c = j->call;
  if (g_atomic_int_get(&c->ended)) {
    sb_request_error(j->req, SB_ERR_NO_PEER, "the call was hung up before it started");
    return;
  }
  c->peer = sb_peer_new(c->name, &echo_handler, call_ref(c));
  g_atomic_int_inc(&active_calls);
  sb_caps caps = {
    .can_send = true,
    .can_recv = true,
    .keep_offer_order = true,
    .rtx = true,
    .remb = true,
    .data = true,
  };
  char *answer = NULL, *msg = NULL;
  int rc = sb_peer_accept_offer(c->peer, j->text, strlen(j->text), &caps, &answer, &msg);
  if (rc != 0) {
    sb_info("%s: offer refused: %s", c->name, msg);
    /* Ended before the reply goes out: the client may retry at once. */
    call_end(c);
    sb_request_error(j->req, rc, "%s", msg);
    g_free(msg);
    return;
  }
  for (int i = 0; i < sb_peer_media_count(c->peer); i++) {
    sb_stream_out *out = sb_peer_stream_out(c->peer, i);
    if (out)
      sb_stream_out_map_identity(out, sb_peer_media(c->peer, i));
  }
  sb_peer_set_remb_bitrate(c->peer, c->bitrate);
  sb_info("%s: echo call started (%d m-sections)", c->name, sb_peer_media_count(c->peer));
  sb_request_reply(j->req, json_pack("{s:s, s:s, s:s}", "type", "answer", "sdp", answer, "pc", PC_ID));
  g_free(answer);
}

static void trickle_on_worker(void *data) {
  job *j = data;
  char *msg = NULL;
  if (j->call->peer == NULL) {
    sb_request_error(j->req, SB_ERR_NO_PEER, "the echo call has ended");
    return;
  }
  int rc = sb_peer_add_remote_candidate(j->call->peer, j->trickle.completed ? NULL : j->text, &msg);
  if (rc != 0) {
    sb_request_error(j->req, rc, "%s", msg);
    g_free(msg);
    return;
  }
  sb_request_reply(j->req, NULL);
}

/* Echo of one kind resumes: its outbound streams continue where they stopped
 * (no sequence gap for the receiver to NACK) and the video starts on a keyframe. */
static void resume_kind(echo_call *c, sb_media_kind kind) {
  if (c->peer == NULL)
    return;
  for (int i = 0; i < sb_peer_media_count(c->peer); i++) {
    sb_stream_out *out = sb_peer_stream_out(c->peer, i);
    if (out == NULL || out->kind != kind)
      continue;
    sb_rewriter_switch(&out->rewriter);
    sb_stream_in *in = source_of(c->peer, i);
    if (in && kind == SB_MEDIA_VIDEO)
      sb_peer_request_keyframe(c->peer, in, true);
  }
}

static void configure_on_worker(void *data) {
  job *j = data;
  echo_call *c = j->call;
  if (j->audio >= 0) {
    if (j->audio && !c->audio)
      resume_kind(c, SB_MEDIA_AUDIO);
    c->audio = j->audio;
  }
  if (j->video >= 0) {
    if (j->video && !c->video)
      resume_kind(c, SB_MEDIA_VIDEO);
    c->video = j->video;
  }
  if (j->bitrate >= 0) {
    c->bitrate = (uint64_t)j->bitrate;
    if (c->peer)
      sb_peer_set_remb_bitrate(c->peer, c->bitrate);
  }
  sb_request_reply(j->req, json_pack("{s:b, s:b, s:I}", "audio", c->audio, "video", c->video,
                                     "bitrate", (json_int_t)c->bitrate));
}

static void stats_on_worker(void *data) {
  job *j = data;
  if (j->call->peer == NULL) {
    sb_request_error(j->req, SB_ERR_NO_PEER, "the echo call has ended");
    return;
  }
  json_t *stats = sb_peer_stats_json(j->call->peer);
  json_object_set_new(stats, "pc", json_string(PC_ID));
  sb_request_reply(j->req, stats);
}

static void stop_on_worker(void *data) {
  job *j = data;
  if (j->call->peer)
    sb_info("%s: echo call hung up", j->call->name);
  call_end(j->call);
}

/* --- signaling side --- */

static echo_call *session_call(sb_session *s) { return sb_session_get_data(s, DATA_KEY); }

static void echo_start(sb_request *req) {
  sb_session *s = sb_request_session(req);
  const char *sdp = NULL, *type = NULL;
  int audio = 1, video = 1;
  json_int_t bitrate = (json_int_t)default_bitrate;
  if (!sb_request_unpack(req, "{s:s, s?s, s?b, s?b, s?I}", "sdp", &sdp, "type", &type, "audio",
                         &audio, "video", &video, "bitrate", &bitrate))
    return;
  if (type && strcmp(type, "offer") != 0) {
    sb_request_error(req, SB_ERR_INVALID_PARAMS, "echo.start takes an SDP offer, not an %s", type);
    return;
  }
  if (bitrate < 0) {
    sb_request_error(req, SB_ERR_INVALID_PARAMS, "\"bitrate\" must not be negative");
    return;
  }
  echo_call *old = session_call(s);
  if (old && !g_atomic_int_get(&old->ended)) {
    sb_request_error(req, SB_ERR_BUSY, "an echo call is already running in this session");
    return;
  }
  echo_call *c = g_new0(echo_call, 1);
  c->refs = 1;
  c->session = sb_session_ref(s);
  c->worker = sb_worker_pick();
  c->audio = audio;
  c->video = video;
  c->bitrate = (uint64_t)bitrate;
  g_snprintf(c->name, sizeof c->name, "session %s/echo", sb_session_id(s));
  g_atomic_int_inc(&live_calls);
  sb_session_set_data(s, DATA_KEY, c, call_unref);
  sb_plugin_bind_pc(s, PC_ID, &echotest_plugin);
  job *j = job_new(c, req);
  j->text = g_strdup(sdp);
  sb_worker_call(c->worker, start_on_worker, j, job_free);
}

/* A job for the session's call, or NULL (and req answered) when it has none. */
static job *call_job(sb_request *req) {
  echo_call *c = session_call(sb_request_session(req));
  if (c == NULL) {
    sb_request_error(req, SB_ERR_NO_PEER, "no echo call in this session: call echo.start first");
    return NULL;
  }
  return job_new(c, req);
}

static void echo_configure(sb_request *req) {
  int audio = -1, video = -1;
  json_int_t bitrate = -1;
  if (!sb_request_unpack(req, "{s?b, s?b, s?I}", "audio", &audio, "video", &video, "bitrate", &bitrate))
    return;
  job *j = call_job(req);
  if (j == NULL)
    return;
  j->audio = audio;
  j->video = video;
  j->bitrate = bitrate;
  sb_worker_call(j->call->worker, configure_on_worker, j, job_free);
}

static void echo_stats(sb_request *req) {
  job *j = call_job(req);
  if (j)
    sb_worker_call(j->call->worker, stats_on_worker, j, job_free);
}

static void echo_trickle(sb_request *req, const char *pc, const sb_trickle *t) {
  job *j = call_job(req);
  if (j == NULL)
    return;
  j->trickle = *t;
  j->text = g_strdup(t->candidate);
  sb_worker_call(j->call->worker, trickle_on_worker, j, job_free);
}

static void echo_session_closed(sb_session *s) {
  echo_call *c = session_call(s);
  if (c == NULL)
    return;
  job *j = job_new(c, NULL);
  sb_plugin_unbind_pc(s, PC_ID);
  sb_session_set_data(s, DATA_KEY, NULL, NULL); /* drops the session's reference */
  sb_worker_call(j->call->worker, stop_on_worker, j, job_free);
}

static void echo_status(json_t *out) {
  json_object_set_new(out, "echotest", json_pack("{s:i}", "calls", g_atomic_int_get(&active_calls)));
}

static int echo_init(sb_config *cfg) {
  default_bitrate = (uint64_t)sb_config_get_int_range(cfg, "echotest", "bitrate", 2000000, 0,
                                                      100000000);
  return 0;
}

static void barrier(void *data) { (void)data; }

static void echo_destroy(void) {
  /* Every session is closed by now and its stop job queued: let the workers run
   * them, so no peer outlives the media module. */
  for (int i = 0; i < sb_worker_count(); i++)
    sb_worker_call_sync(sb_worker_get(i), barrier, NULL);
  if (g_atomic_int_get(&live_calls) != 0)
    sb_warn("echotest: %d call(s) still alive at shutdown", g_atomic_int_get(&live_calls));
}

/* The echo test sends what it receives: the caller publishes, so a user. */
static const sb_method echo_methods[] = {
  { "echo.start", echo_start, SB_ROLE_USER },
  { "echo.configure", echo_configure, SB_ROLE_USER },
  { "echo.stats", echo_stats, SB_ROLE_USER },
  { NULL, NULL, SB_ROLE_UNDECLARED },
};

static const sb_plugin echotest_plugin = {
  .name = "echotest",
  .description = "sends every packet back to its sender",
  .init = echo_init,
  .destroy = echo_destroy,
  .methods = echo_methods,
  .session_closed = echo_session_closed,
  .trickle = echo_trickle,
  .status = echo_status,
};
SB_PLUGIN_REGISTER(echotest_plugin)
