/* Switchboard — videoroom: the SFU plugin. Configuration, the room registry and
 * the JSON-RPC methods (signaling thread); each method posts a job to the room's
 * worker, where room.c and subscriber.c do the work and answer. */
#include <string.h>

#include "core/events.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/turn.h"
#include "core/util.h"
#include "plugins/videoroom/room.h"

#define DATA_KEY "videoroom.participant"

static vr_options defaults;
static bool create_rooms;
static int republish_grace;
static int max_rooms;            /* [videoroom] max_rooms: 0 = no limit */
static int max_tracks;           /* [videoroom] max_tracks: published per participant */
static GHashTable *rooms;        /* name -> vr_room* (a reference), signaling thread */

const vr_options *vr_default_options(void) { return &defaults; }
int vr_republish_grace_s(void) { return republish_grace; }
int vr_max_tracks(void) { return max_tracks; }
bool vr_create_rooms(void) { return create_rooms; }

/* --- options --- */

static int codec_list(json_t *arr, bool audio, sb_codec_id *out, int *count, char **msg) {
  size_t i;
  json_t *v;
  *count = 0;
  if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > 8) {
    *msg = g_strdup("a codec list must be an array of 1 to 8 codec names");
    return -1;
  }
  json_array_foreach(arr, i, v) {
    sb_codec_id id = json_is_string(v) ? sb_codec_from_name(json_string_value(v)) : SB_CODEC_UNKNOWN;
    if (audio ? !sb_codec_is_audio(id) : !sb_codec_is_video(id)) {
      *msg = g_strdup_printf("'%s' is not a supported %s codec",
                             json_is_string(v) ? json_string_value(v) : "?", audio ? "audio" : "video");
      return -1;
    }
    out[(*count)++] = id;
  }
  return 0;
}

static int parse_options(json_t *o, vr_options *opts, char **msg) {
  *opts = defaults;
  if (o == NULL)
    return 0;
  json_t *v;
  if ((v = json_object_get(o, "max_participants"))) {
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 1000) {
      *msg = g_strdup("max_participants must be 1..1000");
      return -1;
    }
    opts->max_participants = (int)json_integer_value(v);
  }
  if ((v = json_object_get(o, "max_publishers"))) {
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000) {
      *msg = g_strdup("max_publishers must be 0..1000");
      return -1;
    }
    opts->max_publishers = (int)json_integer_value(v);
  }
  if ((v = json_object_get(o, "bitrate"))) {
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
      *msg = g_strdup("bitrate must be a non-negative integer (bits/s)");
      return -1;
    }
    opts->bitrate = (uint64_t)json_integer_value(v);
  }
  if ((v = json_object_get(o, "audio_codecs")) && codec_list(v, true, opts->audio, &opts->audio_count, msg))
    return -1;
  if ((v = json_object_get(o, "video_codecs")) && codec_list(v, false, opts->video, &opts->video_count, msg))
    return -1;
  return 0;
}

json_t *vr_options_json(const vr_options *o) {
  json_t *a = json_array(), *v = json_array();
  for (int i = 0; i < o->audio_count; i++)
    json_array_append_new(a, json_string(sb_codec_name(o->audio[i])));
  for (int i = 0; i < o->video_count; i++)
    json_array_append_new(v, json_string(sb_codec_name(o->video[i])));
  return json_pack("{s:i, s:i, s:o, s:o, s:I}", "max_participants", o->max_participants,
                   "max_publishers", o->max_publishers, "audio_codecs", a, "video_codecs", v,
                   "bitrate", (json_int_t)o->bitrate);
}

/* --- the registry --- */

static bool valid_room_name(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n > 64)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!g_ascii_isalnum(name[i]) && name[i] != '_' && name[i] != '-' && name[i] != '.')
      return false;
  return true;
}

/* A new room in the registry (the name is valid and free). */
static int room_create(const char *name, json_t *options, vr_room **out, char **msg) {
  if (max_rooms > 0 && (int)g_hash_table_size(rooms) >= max_rooms) {
    sb_metrics_reject("room_cap");
    *msg = g_strdup_printf("the server has its maximum of %d rooms ([videoroom] max_rooms)", max_rooms);
    return SB_ERR_TOO_MANY_ROOMS;
  }
  vr_options opts;
  if (parse_options(options, &opts, msg) != 0)
    return SB_ERR_INVALID_PARAMS;
  vr_room *room = vr_room_new(name, &opts);
  g_hash_table_insert(rooms, room->name, room);
  sb_info("room %s: created on worker %d", name, sb_worker_index(room->worker));
  sb_event_emit("room.created", json_pack("{s:s}", "room", name));
  vr_count_room(1);
  *out = room;
  return 0;
}

/* Room options are an object (parse_options reads its members). */
static bool options_ok(json_t *options, char **msg) {
  if (options == NULL || json_is_object(options))
    return true;
  *msg = g_strdup("options must be an object");
  return false;
}

int vr_room_create(const char *name, json_t *options, vr_room **out, char **msg) {
  if (!options_ok(options, msg))
    return SB_ERR_INVALID_PARAMS;
  if (!valid_room_name(name)) {
    *msg = g_strdup("a room name is 1-64 characters of A-Z a-z 0-9 _ . -");
    return SB_ERR_INVALID_PARAMS;
  }
  if (g_hash_table_contains(rooms, name)) {
    *msg = g_strdup_printf("room '%s' exists already", name);
    return SB_ERR_ROOM_EXISTS;
  }
  int rc = room_create(name, options, out, msg);
  if (rc == 0)
    (*out)->persistent = true;
  return rc;
}

vr_room *vr_room_find(const char *name) { return g_hash_table_lookup(rooms, name); }

void vr_rooms_foreach(void (*fn)(vr_room *room, void *ud), void *ud) {
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init(&it, rooms);
  while (g_hash_table_iter_next(&it, NULL, &v))
    fn(v, ud);
}

int vr_room_acquire(const char *name, json_t *options, vr_room **out, char **msg) {
  if (!options_ok(options, msg))
    return SB_ERR_INVALID_PARAMS;
  if (!valid_room_name(name)) {
    *msg = g_strdup("a room name is 1-64 characters of A-Z a-z 0-9 _ . -");
    return SB_ERR_INVALID_PARAMS;
  }
  vr_room *room = g_hash_table_lookup(rooms, name);
  if (room && room->closing) {
    *msg = g_strdup_printf("room '%s' is being closed", name);
    return SB_ERR_NO_ROOM;
  }
  if (room && room->locked) {
    *msg = g_strdup_printf("room '%s' is locked: it takes no new participants", name);
    return SB_ERR_ROOM_LOCKED;
  }
  if (room == NULL) {
    if (!create_rooms) {
      *msg = g_strdup_printf("there is no room '%s'", name);
      return SB_ERR_NO_ROOM;
    }
    int rc = room_create(name, options, &room, msg);
    if (rc != 0)
      return rc;
  }
  if (room->members >= room->opts.max_participants) {
    *msg = g_strdup_printf("room '%s' is full (%d participants)", name, room->opts.max_participants);
    return SB_ERR_ROOM_FULL;
  }
  room->members++;
  *out = room;
  return 0;
}

/* On the room's worker, after the leave jobs of its last participants (FIFO):
 * event receivers see participant.left before room.closed. */
static void emit_room_closed(void *name) {
  sb_event_emit("room.closed", json_pack("{s:s}", "room", (const char *)name));
}

/* The registry forgets the room (it may live on in references). */
static void room_forget(vr_room *room) {
  if (g_hash_table_lookup(rooms, room->name) != room)
    return;
  sb_worker_call(room->worker, emit_room_closed, g_strdup(room->name), g_free);
  vr_count_room(-1);
  g_hash_table_remove(rooms, room->name); /* the registry's reference goes */
}

void vr_room_release(vr_room *room) {
  if (--room->members == 0 && !room->persistent)
    room_forget(room);
}

void vr_room_close(vr_room *room) {
  room->persistent = false;
  room->closing = true;
  if (room->members == 0)
    room_forget(room);
}

/* --- jobs on the room's worker --- */

typedef struct job job;
typedef void (*job_fn)(job *j);
struct job {
  vr_participant *p;
  sb_request *req;
  job_fn fn;
  char *text;
  json_t *json;
  int n;
  bool flag;
  sb_trickle trickle;
};

static void job_run(void *data) {
  job *j = data;
  if (j->p->left && j->req) {
    sb_request_error(j->req, SB_ERR_NOT_IN_ROOM, "you have left the room");
    return;
  }
  j->fn(j);
}

static void job_free(void *data) {
  job *j = data;
  vr_participant_unref(j->p);
  g_free(j->text);
  if (j->json)
    json_decref(j->json);
  g_free(j);
}

static job *job_new(vr_participant *p, sb_request *req, job_fn fn) {
  job *j = g_new0(job, 1);
  j->p = vr_participant_ref(p);
  j->req = req;
  j->fn = fn;
  return j;
}

static void job_post(job *j) { sb_worker_call(j->p->room->worker, job_run, j, job_free); }

/* The caller's participant; its token must still cover the room (a session may
 * present another token after joining). NULL: answered. */
static vr_participant *session_participant(sb_request *req) {
  vr_participant *p = sb_session_get_data(sb_request_session(req), DATA_KEY);
  if (p == NULL)
    sb_request_error(req, SB_ERR_NOT_IN_ROOM, "you are not in a room: room.join first");
  else if (!sb_auth_require(req, p->room->name, SB_ROLE_NONE))
    return NULL;
  return p;
}

static void reply_rc(sb_request *req, int rc, char *msg, json_t *result) {
  if (rc == 0) {
    sb_request_reply(req, result);
  } else {
    sb_request_error(req, rc, "%s", msg ? msg : "failed");
    if (result)
      json_decref(result);
  }
  g_free(msg);
}

/* --- methods --- */

static void join_on_worker(job *j) {
  vr_participant *p = j->p;
  char *msg = NULL;
  int rc = vr_join(p, &msg);
  if (rc != 0) {
    reply_rc(j->req, rc, msg, NULL);
    return;
  }
  json_t *others = json_array();
  for (guint i = 0; i < p->room->participants->len; i++) {
    vr_participant *o = g_ptr_array_index(p->room->participants, i);
    if (o != p && !o->left)
      json_array_append_new(others, vr_participant_json(o));
  }
  json_t *result = json_pack("{s:s, s:s, s:s, s:o, s:o}", "room", p->room->name, "participant", p->id,
                             "display", p->display, "participants", others, "options",
                             vr_options_json(&p->room->opts));
  if (j->json)  /* [turn]: the STUN/TURN servers for the client's PeerConnections */
    json_object_set(result, "iceServers", j->json);
  sb_request_reply(j->req, result);
  if (p->subscribe_all) {
    json_t *ids = json_array(), *subscribed = NULL;
    vr_subscribe(p, ids, true, &subscribed, &msg);
    json_decref(ids);
    if (subscribed)
      json_decref(subscribed);
    g_free(msg);
  }
}

static void room_join(sb_request *req) {
  sb_session *s = sb_request_session(req);
  const char *name = NULL, *display = NULL, *subscribe = NULL;
  json_t *options = NULL;
  if (!sb_request_unpack(req, "{s:s, s?s, s?s, s?o}", "room", &name, "display", &display,
                         "subscribe", &subscribe, "options", &options))
    return;
  if (sb_session_get_data(s, DATA_KEY)) {
    sb_request_error(req, SB_ERR_IN_ROOM, "this session is already in a room: room.leave first");
    return;
  }
  if (display && g_utf8_strlen(display, -1) > 64) {
    sb_request_error(req, SB_ERR_INVALID_PARAMS, "display names are at most 64 characters");
    return;
  }
  if (subscribe && strcmp(subscribe, "all") && strcmp(subscribe, "none")) {
    sb_request_error(req, SB_ERR_INVALID_PARAMS, "subscribe is \"all\" or \"none\"");
    return;
  }
  vr_room *room = NULL;
  char *msg = NULL;
  int rc = vr_room_acquire(name, options, &room, &msg);
  if (rc != 0) {
    reply_rc(req, rc, msg, NULL);
    return;
  }
  vr_participant *p = vr_participant_new(room, VR_CLIENT_RPC, s, display);
  p->subscribe_all = subscribe && strcmp(subscribe, "all") == 0;
  sb_session_set_data(s, DATA_KEY, p, (void (*)(void *))vr_participant_unref);
  sb_plugin_bind_pc(s, "publisher", &vr_plugin);
  sb_plugin_bind_pc(s, "subscriber", &vr_plugin);
  job *j = job_new(p, req, join_on_worker);
  j->json = sb_turn_ice_servers(sb_session_id(s));
  job_post(j);
}

static void leave_on_worker(job *j) {
  vr_leave(j->p, j->text);
  if (j->req)
    sb_request_reply(j->req, NULL);
}

vr_participant *vr_session_participant(sb_session *s) { return sb_session_get_data(s, DATA_KEY); }

/* Takes the session out of its room (signaling thread). */
void vr_session_leave(sb_session *s, sb_request *req, const char *reason) {
  vr_participant *p = sb_session_get_data(s, DATA_KEY);
  if (p == NULL)
    return;
  vr_participant_ref(p);
  sb_plugin_unbind_pc(s, "publisher");
  sb_plugin_unbind_pc(s, "subscriber");
  sb_session_set_data(s, DATA_KEY, NULL, NULL);
  job *j = job_new(p, req, leave_on_worker);
  j->text = g_strdup(reason);
  job_post(j);
  /* After the leave job: room.closed is queued behind its participant.left. */
  vr_room_release(p->room);
  vr_participant_unref(p);
}

static void room_leave(sb_request *req) {
  if (session_participant(req))
    vr_session_leave(sb_request_session(req), req, "left");
}

static void publish_on_worker(job *j) {
  char *answer = NULL, *msg = NULL;
  json_t *tracks = NULL;
  int rc = vr_publish(j->p, j->text, &answer, &tracks, &msg);
  if (rc == 0)
    sb_request_reply(j->req, json_pack("{s:s, s:s, s:s, s:o}", "type", "answer", "sdp", answer,
                                       "pc", "publisher", "tracks", tracks));
  else
    reply_rc(j->req, rc, msg, NULL);
  g_free(answer);
}

static void room_publish(sb_request *req) {
  const char *sdp = NULL, *type = NULL;
  vr_participant *p = session_participant(req);
  if (p == NULL || !sb_request_unpack(req, "{s:s, s?s}", "sdp", &sdp, "type", &type))
    return;
  if (type && strcmp(type, "offer") != 0) {
    sb_request_error(req, SB_ERR_INVALID_PARAMS, "room.publish takes an SDP offer");
    return;
  }
  job *j = job_new(p, req, publish_on_worker);
  j->text = g_strdup(sdp);
  job_post(j);
}

static void unpublish_on_worker(job *j) {
  vr_unpublish(j->p);
  sb_request_reply(j->req, NULL);
}

static void room_unpublish(sb_request *req) {
  vr_participant *p = session_participant(req);
  if (p)
    job_post(job_new(p, req, unpublish_on_worker));
}

static void subscribe_on_worker(job *j) {
  json_t *result = NULL;
  char *msg = NULL;
  int rc = j->n ? vr_unsubscribe(j->p, j->json, j->flag, &result, &msg)
                : vr_subscribe(j->p, j->json, j->flag, &result, &msg);
  reply_rc(j->req, rc, msg, rc == 0 ? json_pack("{s:o}", "tracks", result) : result);
}

static void subscribe_common(sb_request *req, bool unsubscribe) {
  json_t *tracks = NULL;
  int all = 0;
  vr_participant *p = session_participant(req);
  if (p == NULL || !sb_request_unpack(req, "{s?o, s?b}", "tracks", &tracks, "all", &all))
    return;
  if ((tracks && !json_is_array(tracks)) || (!tracks && !all)) {
    sb_request_error(req, SB_ERR_INVALID_PARAMS, "give \"tracks\" (an array of track ids) or \"all\": true");
    return;
  }
  job *j = job_new(p, req, subscribe_on_worker);
  j->json = tracks ? json_deep_copy(tracks) : json_array();
  j->flag = all;
  j->n = unsubscribe;
  job_post(j);
}

static void room_subscribe(sb_request *req) { subscribe_common(req, false); }
static void room_unsubscribe(sb_request *req) { subscribe_common(req, true); }

static void answer_on_worker(job *j) {
  char *msg = NULL;
  int rc = vr_answer(j->p, j->text, j->n, &msg);
  reply_rc(j->req, rc, msg, NULL);
}

static void room_answer(sb_request *req) {
  const char *sdp = NULL, *type = NULL;
  int version = 0;
  vr_participant *p = session_participant(req);
  if (p == NULL || !sb_request_unpack(req, "{s:s, s?i, s?s}", "sdp", &sdp, "version", &version, "type", &type))
    return;
  job *j = job_new(p, req, answer_on_worker);
  j->text = g_strdup(sdp);
  j->n = version;
  job_post(j);
}

static void restart_ice_on_worker(job *j) {
  char *answer = NULL, *msg = NULL;
  int rc = vr_restart_ice(j->p, j->flag, j->text, &answer, &msg);
  if (rc == 0 && answer)
    sb_request_reply(j->req, json_pack("{s:s, s:s, s:s}", "type", "answer", "sdp", answer, "pc",
                                       "publisher"));
  else
    reply_rc(j->req, rc, msg, NULL);
  g_free(answer);
}

static void room_restart_ice(sb_request *req) {
  const char *pc = NULL, *sdp = NULL;
  vr_participant *p = session_participant(req);
  if (p == NULL || !sb_request_unpack(req, "{s:s, s?s}", "pc", &pc, "sdp", &sdp))
    return;
  bool publisher = strcmp(pc, "publisher") == 0;
  if ((!publisher && strcmp(pc, "subscriber") != 0) || (publisher && sdp == NULL)) {
    sb_request_error(req, SB_ERR_INVALID_PARAMS,
                     "pc is \"publisher\" (with the client's ICE-restart offer in sdp) or \"subscriber\"");
    return;
  }
  job *j = job_new(p, req, restart_ice_on_worker);
  j->flag = publisher;
  j->text = g_strdup(sdp);
  job_post(j);
}

static void mute_on_worker(job *j) {
  json_t *changed = NULL;
  char *msg = NULL;
  int rc = vr_mute(j->p, j->flag, false, j->n, j->json, &changed, &msg);
  reply_rc(j->req, rc, msg, rc == 0 ? json_pack("{s:o}", "tracks", changed) : changed);
}

static void room_mute(sb_request *req) {
  int muted = 0;
  const char *kind = NULL;
  json_t *tracks = NULL;
  if (json_object_get(sb_request_params(req), "participant")) {
    vr_room_mute_other(req); /* a moderator's */
    return;
  }
  vr_participant *p = session_participant(req);
  if (p == NULL || !sb_request_unpack(req, "{s:b, s?s, s?o}", "muted", &muted, "kind", &kind, "tracks", &tracks))
    return;
  int k = -1;
  if (kind && strcmp(kind, "audio") == 0)
    k = SB_MEDIA_AUDIO;
  else if (kind && strcmp(kind, "video") == 0)
    k = SB_MEDIA_VIDEO;
  else if (kind) {
    sb_request_error(req, SB_ERR_INVALID_PARAMS, "kind is \"audio\" or \"video\"");
    return;
  }
  if (tracks && !json_is_array(tracks)) {
    sb_request_error(req, SB_ERR_INVALID_PARAMS, "tracks must be an array of track ids");
    return;
  }
  job *j = job_new(p, req, mute_on_worker);
  j->flag = muted;
  j->n = k;
  j->json = tracks ? json_deep_copy(tracks) : NULL;
  job_post(j);
}

static void stats_on_worker(job *j) {
  if (j->n >= 0)
    vr_stats_interval(j->p, (unsigned)j->n);
  sb_request_reply(j->req, vr_stats(j->p));
}

static void room_stats(sb_request *req) {
  json_int_t interval = -1;
  vr_participant *p = session_participant(req);
  if (p == NULL || !sb_request_unpack(req, "{s?I}", "interval_ms", &interval))
    return;
  if (interval != -1 && interval != 0 && (interval < 500 || interval > 3600000)) {
    sb_request_error(req, SB_ERR_INVALID_PARAMS, "interval_ms is 0 (stop) or 500..3600000");
    return;
  }
  job *j = job_new(p, req, stats_on_worker);
  j->n = (int)interval;
  job_post(j);
}

static void trickle_on_worker(job *j) {
  sb_peer *peer = vr_peer_by_pc(j->p, j->text);
  char *msg = NULL;
  if (peer == NULL) {
    sb_request_error(j->req, SB_ERR_NO_PEER, "no %s PeerConnection yet", j->text);
    return;
  }
  int rc = sb_peer_add_remote_candidate(peer, j->trickle.completed ? NULL : json_string_value(j->json), &msg);
  reply_rc(j->req, rc, msg, NULL);
}

static void vr_trickle(sb_request *req, const char *pc, const sb_trickle *t) {
  vr_participant *p = session_participant(req);
  if (p == NULL)
    return;
  job *j = job_new(p, req, trickle_on_worker);
  j->text = g_strdup(pc);
  j->trickle = *t;
  j->json = t->candidate ? json_string(t->candidate) : NULL;
  job_post(j);
}

static void vr_session_closed(sb_session *s) { vr_session_leave(s, NULL, "disconnected"); }

static void vr_status(json_t *out) {
  int participants = 0;
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init(&it, rooms);
  while (g_hash_table_iter_next(&it, NULL, &v))
    participants += ((vr_room *)v)->members;
  json_object_set_new(out, "videoroom", json_pack("{s:i, s:i}", "rooms", g_hash_table_size(rooms),
                                                  "participants", participants));
}

/* --- start and stop --- */

static int read_codecs(sb_config *cfg, const char *key, const char *def, bool audio, sb_codec_id *out,
                       int *count) {
  char *raw = sb_config_get_string(cfg, "videoroom", key, def);
  char **names = g_strsplit(raw, ",", -1);
  *count = 0;
  int rc = 0;
  for (char **n = names; *n && rc == 0; n++) {
    g_strstrip(*n);
    if (**n == '\0')
      continue;
    sb_codec_id id = sb_codec_from_name(*n);
    if ((audio ? !sb_codec_is_audio(id) : !sb_codec_is_video(id)) || *count >= 8) {
      sb_error("videoroom: [videoroom] %s: '%s' is not a supported %s codec", key, *n, audio ? "audio" : "video");
      rc = -1;
    } else {
      out[(*count)++] = id;
    }
  }
  g_strfreev(names);
  g_free(raw);
  return rc;
}

static int vr_init(sb_config *cfg) {
  create_rooms = sb_config_get_bool(cfg, "videoroom", "create_rooms", true);
  defaults.max_participants = (int)sb_config_get_int_range(cfg, "videoroom", "max_participants", 16, 1, 1000);
  defaults.max_publishers = (int)sb_config_get_int_range(cfg, "videoroom", "max_publishers", 16, 0, 1000);
  defaults.bitrate = (uint64_t)sb_config_get_int_range(cfg, "videoroom", "bitrate", 1500000, 0, 100000000);
  republish_grace = (int)sb_config_get_int_range(cfg, "videoroom", "republish_grace", 10, 0, 3600);
  max_rooms = (int)sb_config_get_int_range(cfg, "videoroom", "max_rooms", 1000, 0, 1000000);
  max_tracks = (int)sb_config_get_int_range(cfg, "videoroom", "max_tracks", VR_MAX_TRACKS, 1, VR_MAX_TRACKS);
  if (read_codecs(cfg, "audio_codecs", "opus", true, defaults.audio, &defaults.audio_count) != 0 ||
      read_codecs(cfg, "video_codecs", "VP8,H264,VP9,AV1", false, defaults.video, &defaults.video_count) != 0)
    return -1;
  rooms = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)vr_room_unref);
  vr_http_init();
  return 0;
}

static void barrier(void *data) { (void)data; }

static void all_workers_done(void) {
  for (int i = 0; i < sb_worker_count(); i++)
    sb_worker_call_sync(sb_worker_get(i), barrier, NULL);
}

static void vr_destroy(void) {
  /* Sessions are closed by now; WHIP/WHEP resources are not tied to one. */
  vr_http_shutdown();
  all_workers_done();
  g_clear_pointer(&rooms, g_hash_table_destroy);
  all_workers_done();
}

/* With the least role each needs (core/auth.h; docs/API.md "Authentication"):
 * guests subscribe, users also publish, moderators also manage the room. */
static const sb_method vr_methods[] = {
  { "room.join", room_join, SB_ROLE_GUEST },
  { "room.leave", room_leave, SB_ROLE_NONE },
  { "room.publish", room_publish, SB_ROLE_USER },
  { "room.unpublish", room_unpublish, SB_ROLE_USER },
  { "room.subscribe", room_subscribe, SB_ROLE_GUEST },
  { "room.unsubscribe", room_unsubscribe, SB_ROLE_GUEST },
  { "room.answer", room_answer, SB_ROLE_GUEST },
  { "room.mute", room_mute, SB_ROLE_USER },        /* with "participant": moderator */
  { "room.stats", room_stats, SB_ROLE_GUEST },
  { "room.restart_ice", room_restart_ice, SB_ROLE_GUEST },
  { "room.kick", vr_room_kick, SB_ROLE_MODERATOR },
  { "room.create", vr_room_create_method, SB_ROLE_MODERATOR },
  { "room.destroy", vr_room_destroy_method, SB_ROLE_MODERATOR },
  { "room.lock", vr_room_lock, SB_ROLE_MODERATOR },
  { "room.unlock", vr_room_unlock, SB_ROLE_MODERATOR },
  { NULL, NULL, SB_ROLE_UNDECLARED },
};

const sb_plugin vr_plugin = {
  .name = "videoroom",
  .description = "multi-party rooms: every participant receives every other's tracks (SFU)",
  .init = vr_init,
  .destroy = vr_destroy,
  .methods = vr_methods,
  .session_closed = vr_session_closed,
  .trickle = vr_trickle,
  .status = vr_status,
  .admin_methods = vr_admin_methods,
};
SB_PLUGIN_REGISTER(vr_plugin)
