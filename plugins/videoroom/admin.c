/* Switchboard — videoroom: the admin API's room operations (core/plugin.h
 * admin_methods, served over HTTP by signaling/admin.c).
 *
 * The handlers run on the signaling thread and read the registry there; what a
 * room holds (participants, tracks, peers) is read on the room's worker, like
 * every client method. Kicking takes a participant out the way leaving does
 * (videoroom.c's session leave, or a WHIP/WHEP DELETE), so its peers close and
 * the others are told; it first gets a room.kicked notification. Moderators'
 * methods (moderate.c) reuse kicking, muting, creating and destroying. */
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "plugins/videoroom/room.h"

typedef struct admin_job admin_job;
struct admin_job {
  vr_room *room;                 /* a reference */
  sb_request *req;
  char participant[VR_ID_LEN];
  char *reason;
  bool persistent;               /* the room's, read on the signaling thread */
  const char *by;                /* "admin" or "moderator" (static) */
  bool muted;
  int kind;                      /* -1: every kind */
  json_t *tracks;                /* mute: the track ids, or NULL */
  GPtrArray *found;              /* kick/destroy: vr_participant* (references) */
};

static void admin_job_free(void *data) {
  admin_job *j = data;
  vr_room_unref(j->room);
  g_free(j->reason);
  if (j->tracks)
    json_decref(j->tracks);
  if (j->found)
    g_ptr_array_unref(j->found);
  g_free(j);
}

/* The room of that name, or NULL (the request answered: 404). */
static vr_room *request_room(sb_request *req, const char *name) {
  vr_room *room = vr_room_find(name);
  if (room == NULL || room->closing)
    sb_request_error(req, SB_ERR_NO_ROOM, "there is no room '%s'", name);
  return room;
}

static admin_job *job_new(vr_room *room, sb_request *req, const char *participant) {
  admin_job *j = g_new0(admin_job, 1);
  j->room = vr_room_ref(room);
  j->req = req;
  j->persistent = room->persistent;
  j->by = "admin";
  j->kind = -1;
  if (participant)
    g_strlcpy(j->participant, participant, sizeof j->participant);
  return j;
}

/* Runs fn(j) on the room's worker; fn owns j (frees it or hands it on). */
static void job_post(admin_job *j, void (*fn)(void *)) { sb_worker_call(j->room->worker, fn, j, NULL); }

/* worker: the participant of j, or NULL (the request answered: 404, j freed). */
static vr_participant *job_participant(admin_job *j) {
  for (guint i = 0; i < j->room->participants->len; i++) {
    vr_participant *p = g_ptr_array_index(j->room->participants, i);
    if (!p->left && strcmp(p->id, j->participant) == 0)
      return p;
  }
  sb_request_error(j->req, SB_ERR_NO_PARTICIPANT, "no participant '%s' in room '%s'", j->participant,
                   j->room->name);
  admin_job_free(j);
  return NULL;
}

/* --- what a room holds (worker) --- */

static json_t *peer_state_json(sb_peer *peer) {
  return peer ? json_string(sb_peer_state_name(sb_peer_get_state(peer))) : json_null();
}

static json_t *participant_detail(vr_participant *p) {
  json_t *o = vr_participant_json(p);
  json_t *subs = json_array();
  for (guint i = 0; i < p->sections->len; i++) {
    const vr_section *s = g_ptr_array_index(p->sections, i);
    if (s->track_id[0])
      json_array_append_new(subs, json_string(s->track_id));
  }
  json_object_set_new(o, "client", json_string(vr_client_name(p->client)));
  json_object_set_new(o, "subscribe_all", json_boolean(p->subscribe_all));
  json_object_set_new(o, "subscriptions", subs);
  json_object_set_new(o, "publisher_state", peer_state_json(p->pub));
  json_object_set_new(o, "subscriber_state", peer_state_json(p->sub));
  return o;
}

static void get_on_worker(void *data) {
  admin_job *j = data;
  vr_room *room = j->room;
  json_t *participants = json_array(), *tracks = json_array();
  for (guint i = 0; i < room->participants->len; i++) {
    vr_participant *p = g_ptr_array_index(room->participants, i);
    if (p->left)
      continue;
    json_array_append_new(participants, participant_detail(p));
    for (guint k = 0; k < p->tracks->len; k++) {
      const vr_track *t = g_ptr_array_index(p->tracks, k);
      if (t->published)
        json_array_append_new(tracks, vr_track_json(t));
    }
  }
  sb_request_reply(j->req, json_pack("{s:s, s:i, s:b, s:o, s:o, s:o}", "room", room->name, "worker",
                                     sb_worker_index(room->worker), "persistent", j->persistent,
                                     "options", vr_options_json(&room->opts), "participants",
                                     participants, "tracks", tracks));
  admin_job_free(j);
}

static void participant_on_worker(void *data) {
  admin_job *j = data;
  vr_participant *p = job_participant(j);
  if (p == NULL)
    return;
  /* room.stats' object, with the participant described in full. */
  json_t *out = vr_stats(p);
  json_object_set_new(out, "participant", participant_detail(p));
  sb_request_reply(j->req, out);
  admin_job_free(j);
}

/* --- kicking (worker, then the signaling thread) --- */

static void reply_on_worker(void *data) {
  admin_job *j = data;
  json_t *ids = json_array();
  for (guint i = 0; i < j->found->len; i++)
    json_array_append_new(ids, json_string(((vr_participant *)g_ptr_array_index(j->found, i))->id));
  sb_request_reply(j->req, json_pack("{s:s, s:o}", "room", j->room->name, "kicked", ids));
}

/* Takes each participant found out of the room the way it would leave, then
 * answers from the worker, after those leaves ran there (FIFO). */
static void kick_on_main(void *data) {
  admin_job *j = data;
  for (guint i = 0; i < j->found->len; i++) {
    vr_participant *p = g_ptr_array_index(j->found, i);
    sb_info("room %s: %s kicked by %s: %s", j->room->name, p->id, j->by, j->reason);
    if (p->session && vr_session_participant(p->session) == p)
      vr_session_leave(p->session, NULL, j->reason);
    else if (p->client != VR_CLIENT_RPC)
      vr_http_close(p, j->reason);
  }
  sb_worker_call(j->room->worker, reply_on_worker, j, admin_job_free);
}

static void kick_on_worker(void *data) {
  admin_job *j = data;
  j->found = g_ptr_array_new_with_free_func((GDestroyNotify)vr_participant_unref);
  if (j->participant[0]) {
    vr_participant *p = job_participant(j);
    if (p == NULL)
      return;
    g_ptr_array_add(j->found, vr_participant_ref(p));
  } else {
    for (guint i = 0; i < j->room->participants->len; i++) {
      vr_participant *p = g_ptr_array_index(j->room->participants, i);
      if (!p->left)
        g_ptr_array_add(j->found, vr_participant_ref(p));
    }
  }
  for (guint i = 0; i < j->found->len; i++) {
    vr_participant *p = g_ptr_array_index(j->found, i);
    vr_notify(p, "room.kicked", json_pack("{s:s, s:s, s:s}", "room", j->room->name, "participant",
                                          p->id, "reason", j->reason));
  }
  sb_main_call(kick_on_main, j, NULL);
}

/* --- muting (worker) --- */

static void mute_on_worker(void *data) {
  admin_job *j = data;
  vr_participant *p = job_participant(j);
  if (p == NULL)
    return;
  json_t *changed = NULL;
  char *msg = NULL;
  vr_mute(p, j->muted, true, j->kind, j->tracks, &changed, &msg);
  g_free(msg);
  if (json_array_size(changed) > 0) {
    sb_info("room %s: %s %s by %s (%zu track(s))", j->room->name, p->id, j->muted ? "muted" : "unmuted",
            j->by, json_array_size(changed));
    vr_notify(p, "room.muted", json_pack("{s:s, s:O, s:b, s:s}", "room", j->room->name, "tracks",
                                         changed, "muted", j->muted, "by", j->by));
  }
  sb_request_reply(j->req, json_pack("{s:s, s:s, s:b, s:o}", "room", j->room->name, "participant",
                                     p->id, "muted", j->muted, "tracks", changed));
  admin_job_free(j);
}

/* --- methods (signaling thread) --- */

static void list_one(vr_room *room, void *ud) {
  json_array_append_new(ud, json_pack("{s:s, s:i, s:i, s:b, s:o}", "room", room->name,
                                      "participants", room->members, "worker",
                                      sb_worker_index(room->worker), "persistent", room->persistent,
                                      "options", vr_options_json(&room->opts)));
}

static int by_room_name(const void *a, const void *b) {
  return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "room")),
                json_string_value(json_object_get(*(json_t *const *)b, "room")));
}

static void admin_rooms_list(sb_request *req) {
  json_t *rooms = json_array();
  vr_rooms_foreach(list_one, rooms);
  /* Sorted by name, so a listing reads the same twice. */
  size_t n = json_array_size(rooms);
  json_t **items = g_new(json_t *, n + 1);
  for (size_t i = 0; i < n; i++)
    items[i] = json_incref(json_array_get(rooms, i));
  qsort(items, n, sizeof *items, by_room_name);
  json_array_clear(rooms);
  for (size_t i = 0; i < n; i++)
    json_array_append_new(rooms, items[i]);
  g_free(items);
  sb_request_reply(req, json_pack("{s:o}", "rooms", rooms));
}

void vr_admin_rooms_create(sb_request *req) {
  const char *name = NULL;
  json_t *options = NULL;
  if (!sb_request_unpack(req, "{s:s, s?o}", "room", &name, "options", &options))
    return;
  vr_room *room = NULL;
  char *msg = NULL;
  int rc = vr_room_create(name, options, &room, &msg);
  if (rc != 0) {
    sb_request_error(req, rc, "%s", msg);
    g_free(msg);
    return;
  }
  sb_info("room %s: created by the admin API", name);
  sb_request_reply(req, json_pack("{s:s, s:i, s:b, s:o, s:[], s:[]}", "room", room->name, "worker",
                                  sb_worker_index(room->worker), "persistent", true, "options",
                                  vr_options_json(&room->opts), "participants", "tracks"));
}

static void admin_rooms_get(sb_request *req) {
  const char *name = NULL;
  vr_room *room;
  if (sb_request_unpack(req, "{s:s}", "room", &name) && (room = request_room(req, name)))
    job_post(job_new(room, req, NULL), get_on_worker);
}

void vr_admin_rooms_destroy(sb_request *req) {
  const char *name = NULL, *reason = NULL;
  vr_room *room;
  if (!sb_request_unpack(req, "{s:s, s?s}", "room", &name, "reason", &reason) ||
      !(room = request_room(req, name)))
    return;
  sb_info("room %s: closed by the admin API (%d member(s))", name, room->members);
  admin_job *j = job_new(room, req, NULL);
  j->reason = g_strdup(reason ? reason : "the room was closed");
  job_post(j, kick_on_worker);
  /* The job's reference keeps the room for it. */
  vr_room_close(room);
}

static void admin_participants_get(sb_request *req) {
  const char *name = NULL, *id = NULL;
  vr_room *room;
  if (sb_request_unpack(req, "{s:s, s:s}", "room", &name, "participant", &id) &&
      (room = request_room(req, name)))
    job_post(job_new(room, req, id), participant_on_worker);
}

void vr_kick(sb_request *req, const char *name, const char *id, const char *reason, const char *by) {
  vr_room *room = request_room(req, name);
  if (room == NULL)
    return;
  if (*id == '\0') {
    sb_request_error(req, SB_ERR_NO_PARTICIPANT, "no participant ''");
    return;
  }
  admin_job *j = job_new(room, req, id);
  j->reason = g_strdup(reason);
  j->by = by;
  job_post(j, kick_on_worker);
}

static void admin_participants_kick(sb_request *req) {
  const char *name = NULL, *id = NULL, *reason = NULL;
  if (sb_request_unpack(req, "{s:s, s:s, s?s}", "room", &name, "participant", &id, "reason", &reason))
    vr_kick(req, name, id, reason ? reason : "removed by an administrator", "admin");
}

void vr_mute_other(sb_request *req, const char *name, int default_kind, const char *by) {
  const char *id = NULL, *kind = NULL;
  int muted = 1;
  json_t *tracks = NULL;
  vr_room *room;
  if (!sb_request_unpack(req, "{s:s, s?b, s?s, s?o}", "participant", &id, "muted", &muted, "kind", &kind,
                         "tracks", &tracks))
    return;
  int k = tracks ? -1 : default_kind;
  if (kind && strcmp(kind, "audio") == 0)
    k = SB_MEDIA_AUDIO;
  else if (kind && strcmp(kind, "video") == 0)
    k = SB_MEDIA_VIDEO;
  else if (kind && strcmp(kind, "all") == 0)
    k = -1;
  else if (kind) {
    sb_request_error(req, SB_ERR_INVALID_PARAMS, "kind is \"audio\", \"video\" or \"all\"");
    return;
  }
  if (tracks && !json_is_array(tracks)) {
    sb_request_error(req, SB_ERR_INVALID_PARAMS, "tracks must be an array of track ids");
    return;
  }
  if (!(room = request_room(req, name)))
    return;
  admin_job *j = job_new(room, req, id);
  j->by = by;
  j->muted = muted;
  j->kind = k;
  j->tracks = tracks ? json_deep_copy(tracks) : NULL;
  job_post(j, mute_on_worker);
}

static void admin_participants_mute(sb_request *req) {
  const char *name = NULL;
  /* Without kind or tracks: the participant's audio. */
  if (sb_request_unpack(req, "{s:s}", "room", &name))
    vr_mute_other(req, name, SB_MEDIA_AUDIO, "admin");
}

/* The admin API's own token guards these: no role applies. */
const sb_method vr_admin_methods[] = {
  { "rooms.list", admin_rooms_list, SB_ROLE_NONE },
  { "rooms.create", vr_admin_rooms_create, SB_ROLE_NONE },
  { "rooms.get", admin_rooms_get, SB_ROLE_NONE },
  { "rooms.destroy", vr_admin_rooms_destroy, SB_ROLE_NONE },
  { "participants.get", admin_participants_get, SB_ROLE_NONE },
  { "participants.kick", admin_participants_kick, SB_ROLE_NONE },
  { "participants.mute", admin_participants_mute, SB_ROLE_NONE },
  { NULL, NULL, SB_ROLE_UNDECLARED },
};
