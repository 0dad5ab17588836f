/* Switchboard — videoroom: rooms, participants and what they publish (worker side). */
#include <string.h>

#include "core/events.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/util.h"
#include "plugins/videoroom/room.h"

/* --- metrics (docs/API.md "Metrics") --- */

static sb_metric *m_rooms, *m_participants, *m_first_media;

/* At load time: the series exist (at 0) before the first room. */
static void __attribute__((constructor)) vr_metrics_register(void) {
  /* Seconds from room.join to the first RTP packet of that participant. */
  static const double bounds[] = { 0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 30, 60 };
  m_rooms = sb_metric_series("switchboard_rooms", "Video rooms open", SB_METRIC_GAUGE, NULL, NULL);
  m_participants = sb_metric_series("switchboard_participants", "Participants in video rooms",
                                    SB_METRIC_GAUGE, NULL, NULL);
  m_first_media = sb_histogram_series("switchboard_join_to_first_media_seconds",
                                      "Time from joining a room to the first RTP packet the "
                                      "participant published",
                                      bounds, G_N_ELEMENTS(bounds), NULL, NULL);
}

void vr_count_room(int delta) { sb_metric_add(m_rooms, delta); }

/* --- rooms --- */

static void track_free(gpointer data) {
  vr_track *t = data;
  g_ptr_array_unref(t->sections);
  if (t->datasubs)
    g_ptr_array_unref(t->datasubs);
  g_free(t);
}

vr_room *vr_room_new(const char *name, const vr_options *opts) {
  vr_room *r = g_new0(vr_room, 1);
  r->refs = 1;
  g_strlcpy(r->name, name, sizeof r->name);
  r->opts = *opts;
  r->worker = sb_worker_pick();
  sb_worker_load_add(r->worker, 1);
  r->participants = g_ptr_array_new();
  r->tracks = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, track_free);
  return r;
}

vr_room *vr_room_ref(vr_room *r) {
  g_atomic_int_inc(&r->refs);
  return r;
}

static void room_free(void *data) {
  vr_room *r = data;
  if (r->grace_timer) {
    g_source_destroy(r->grace_timer);
    g_source_unref(r->grace_timer);
  }
  g_hash_table_destroy(r->tracks);
  g_ptr_array_unref(r->participants);
  sb_worker_load_add(r->worker, -1);
  sb_verbose("room %s: closed", r->name);
  g_free(r);
}

void vr_room_unref(vr_room *r) {
  if (r == NULL || !g_atomic_int_dec_and_test(&r->refs))
    return;
  /* Its tables and timers belong to the worker. */
  if (sb_worker_is_current(r->worker))
    room_free(r);
  else
    sb_worker_call(r->worker, room_free, r, NULL);
}

/* --- participants --- */

vr_participant *vr_participant_new(vr_room *room, vr_client client, sb_session *s,
                                   const char *display) {
  vr_participant *p = g_new0(vr_participant, 1);
  p->refs = 1;
  p->room = vr_room_ref(room);
  p->session = s ? sb_session_ref(s) : NULL;
  p->client = client;
  p->id[0] = 'p';
  sb_random_id(p->id + 1, 8);
  vr_copy_text(p->display, sizeof p->display, display && *display ? display : p->id);
  p->tracks = g_ptr_array_new();
  p->sections = g_ptr_array_new_with_free_func(g_free);
  p->datasubs = g_ptr_array_new();
  p->pts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  return p;
}

void vr_copy_text(char *dst, size_t cap, const char *src) {
  char *valid = g_utf8_make_valid(src, -1);
  size_t n = strlen(valid);
  if (n >= cap) {
    /* The last whole character that fits. */
    const char *end = g_utf8_find_prev_char(valid, valid + cap);
    n = end ? (size_t)(end - valid) : 0;
  }
  memcpy(dst, valid, n);
  dst[n] = '\0';
  g_free(valid);
}

vr_participant *vr_participant_ref(vr_participant *p) {
  g_atomic_int_inc(&p->refs);
  return p;
}

void vr_participant_unref(vr_participant *p) {
  if (p == NULL || !g_atomic_int_dec_and_test(&p->refs))
    return;
  g_ptr_array_unref(p->tracks);
  g_ptr_array_unref(p->sections);
  g_ptr_array_unref(p->datasubs);
  g_hash_table_destroy(p->pts);
  if (p->session)
    sb_session_unref(p->session);
  vr_room_unref(p->room);
  g_free(p);
}

json_t *vr_track_json(const vr_track *t) {
  if (t->kind == SB_MEDIA_APPLICATION)
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:b}", "id", t->id, "participant", t->owner->id,
                     "kind", "data", "label", t->label, "protocol", t->protocol, "ordered",
                     !(t->dc_type & SB_DC_UNORDERED), "muted", t->muted);
  return json_pack("{s:s, s:s, s:s, s:s, s:b}", "id", t->id, "participant", t->owner->id, "kind",
                   sb_media_kind_name(t->kind), "codec", sb_codec_name(t->codec.codec), "muted",
                   t->muted);
}

json_t *vr_participant_json(const vr_participant *p) {
  json_t *tracks = json_array();
  for (guint i = 0; i < p->tracks->len; i++) {
    const vr_track *t = g_ptr_array_index(p->tracks, i);
    if (t->published)
      json_array_append_new(tracks, vr_track_json(t));
  }
  return json_pack("{s:s, s:s, s:o}", "id", p->id, "display", p->display, "tracks", tracks);
}

void vr_room_notify(vr_room *room, const vr_participant *except, const char *method, json_t *params) {
  json_object_set_new(params, "room", json_string(room->name));
  for (guint i = 0; i < room->participants->len; i++) {
    vr_participant *p = g_ptr_array_index(room->participants, i);
    if (p != except && p->session && !p->left)
      sb_session_notify(p->session, method, json_incref(params));
  }
  json_decref(params);
}

void vr_notify(vr_participant *p, const char *method, json_t *params) {
  if (p->session)
    sb_session_notify(p->session, method, params);
  else
    json_decref(params);
}

const char *vr_client_name(vr_client c) {
  return c == VR_CLIENT_WHIP ? "whip" : c == VR_CLIENT_WHEP ? "whep" : "websocket";
}

int vr_join(vr_participant *p, char **msg) {
  vr_room *room = p->room;
  if ((int)room->participants->len >= room->opts.max_participants) {
    *msg = g_strdup_printf("room %s is full (%d participants)", room->name, room->opts.max_participants);
    return SB_ERR_ROOM_FULL;
  }
  p->joined = true;
  p->joined_us = sb_now_us();
  sb_metric_add(m_participants, 1);
  g_ptr_array_add(room->participants, vr_participant_ref(p));
  sb_info("room %s: %s (%s) joined%s", room->name, p->id, p->display,
          p->client == VR_CLIENT_WHIP ? " by WHIP" : p->client == VR_CLIENT_WHEP ? " by WHEP" : "");
  vr_room_notify(room, p, "room.participant_joined",
                 json_pack("{s:{s:s, s:s}}", "participant", "id", p->id, "display", p->display));
  sb_event_emit("participant.joined", json_pack("{s:s, s:s, s:s, s:s}", "room", room->name, "participant",
                                                p->id, "display", p->display, "client", vr_client_name(p->client)));
  return 0;
}

/* --- publishing --- */

static vr_track *track_of_media(vr_participant *p, int media_index) {
  for (guint i = 0; i < p->tracks->len; i++) {
    vr_track *t = g_ptr_array_index(p->tracks, i);
    if (t->published && t->media_index == media_index)
      return t;
  }
  return NULL;
}

static void pub_on_rtp(sb_peer *peer, sb_stream_in *in, sb_pktbuf *pkt, const sb_rtp_view *v, void *ud) {
  vr_participant *p = ud;
  vr_track *t = in->plugin_data;
  if (!p->media_seen) {
    p->media_seen = true;
    sb_histogram_observe(m_first_media, (double)(sb_now_us() - p->joined_us) / 1e6);
  }
  if (t == NULL) {
    /* The first stream of an m-section feeds its track; others (simulcast layers)
     * are not forwarded. */
    t = track_of_media(p, in->media_index);
    if (t == NULL || t->in != NULL)
      return;
    t->in = in;
    in->plugin_data = t;
  }
  if (!t->muted)
    vr_forward(t, pkt, v);
}

static void pub_on_state(sb_peer *peer, sb_peer_state state, const char *reason, void *ud) {
  vr_participant *p = ud;
  sb_notify_peer_state(p->session, "publisher", sb_peer_state_name(state), reason);
  if (state == SB_PEER_CONNECTED) {
    /* Subscribers waiting for this publisher need a keyframe to start. */
    for (int i = 0; i < sb_peer_stream_in_count(peer); i++) {
      sb_stream_in *in = sb_peer_stream_in_get(peer, i);
      if (in->kind == SB_MEDIA_VIDEO)
        sb_peer_request_keyframe(peer, in, true);
    }
  } else if (state == SB_PEER_FAILED || state == SB_PEER_CLOSED) {
    sb_info("room %s: %s's publisher %s: %s", p->room->name, p->id, sb_peer_state_name(state),
            reason ? reason : "");
    if (p->client == VR_CLIENT_WHIP)
      vr_leave(p, reason);
    else
      vr_unpublish(p);
  }
}

static void pub_on_candidate(sb_peer *peer, const char *c, const char *mid, int mline, void *ud) {
  vr_participant *p = ud;
  sb_notify_trickle(p->session, "publisher", c, mid, mline);
}

static void pub_on_stream_in(sb_peer *peer, sb_stream_in *in, void *ud) {
  if (in->kind == SB_MEDIA_VIDEO && sb_peer_get_state(peer) == SB_PEER_CONNECTED)
    sb_peer_request_keyframe(peer, in, true);
}

static void pub_on_channel_open(sb_peer *peer, const sb_dc_info *ch, void *ud) {
  vr_data_channel_open(ud, ch);
}

static void pub_on_channel_message(sb_peer *peer, uint16_t id, bool binary, const uint8_t *buf,
                                   size_t len, void *ud) {
  vr_data_message(ud, id, binary, buf, len);
}

static void pub_on_channel_closed(sb_peer *peer, uint16_t id, void *ud) {
  vr_data_channel_closed(ud, id);
}

static const sb_peer_handler pub_handler = {
  .on_state = pub_on_state,
  .on_candidate = pub_on_candidate,
  .on_rtp = pub_on_rtp,
  .on_stream_in = pub_on_stream_in,
  .on_channel_open = pub_on_channel_open,
  .on_channel_message = pub_on_channel_message,
  .on_channel_closed = pub_on_channel_closed,
};

static void close_peer(vr_participant *p, sb_peer **peer) {
  if (*peer == NULL)
    return;
  sb_peer_close(*peer);
  sb_peer_unref(*peer);
  *peer = NULL;
  vr_participant_unref(p); /* the handler's reference */
}

static vr_track *track_for(vr_participant *p, sb_media_kind kind, int n, int media_index) {
  char id[VR_TRACK_ID_LEN];
  g_snprintf(id, sizeof id, "%s/%s%d", p->id, sb_media_kind_name(kind), n);
  vr_track *t = g_hash_table_lookup(p->room->tracks, id);
  if (t == NULL) {
    t = g_new0(vr_track, 1);
    g_strlcpy(t->id, id, sizeof t->id);
    t->owner = p;
    t->kind = kind;
    t->sections = g_ptr_array_new();
    g_hash_table_insert(p->room->tracks, t->id, t);
    g_ptr_array_add(p->tracks, t);
  }
  t->media_index = media_index;
  return t;
}

int vr_publish(vr_participant *p, const char *offer, char **answer, json_t **tracks, char **msg) {
  vr_room *room = p->room;
  if (p->pub) {
    *msg = g_strdup("already publishing: room.unpublish first");
    return SB_ERR_BUSY;
  }
  if (room->publishers >= room->opts.max_publishers) {
    *msg = g_strdup_printf("room %s has its maximum of %d publishers", room->name,
                           room->opts.max_publishers);
    return SB_ERR_MAX_PUBLISHERS;
  }
  char name[96];
  g_snprintf(name, sizeof name, "room %s/%s/publisher", room->name, p->id);
  sb_peer *peer = sb_peer_new(name, &pub_handler, vr_participant_ref(p));
  sb_caps caps = {
    .can_recv = true,
    .rtx = true,
    .remb = true,
    .data = true,
    .audio_count = room->opts.audio_count,
    .video_count = room->opts.video_count,
  };
  memcpy(caps.audio, room->opts.audio, sizeof caps.audio);
  memcpy(caps.video, room->opts.video, sizeof caps.video);
  int rc = sb_peer_accept_offer(peer, offer, strlen(offer), &caps, answer, msg);
  if (rc != 0) {
    close_peer(p, &peer);
    return rc;
  }
  int offered = 0;
  for (int i = 0; i < sb_peer_media_count(peer); i++) {
    const sb_media_desc *d = sb_peer_media(peer, i);
    offered += d->accepted && d->codec_count > 0 && (d->kind == SB_MEDIA_AUDIO || d->kind == SB_MEDIA_VIDEO) &&
               (d->dir == SB_DIR_RECVONLY || d->dir == SB_DIR_SENDRECV);
  }
  if (offered > vr_max_tracks()) {
    close_peer(p, &peer);
    g_free(*answer);
    *answer = NULL;
    *msg = g_strdup_printf("%d tracks offered: at most %d per participant ([videoroom] max_tracks)", offered,
                           vr_max_tracks());
    return SB_ERR_TOO_MANY_TRACKS;
  }
  p->pub = peer;
  room->publishers++;
  sb_peer_set_remb_bitrate(peer, room->opts.bitrate);
  int per_kind[2] = { 0, 0 };
  GPtrArray *fresh = g_ptr_array_new();
  for (int i = 0; i < sb_peer_media_count(peer); i++) {
    const sb_media_desc *d = sb_peer_media(peer, i);
    if (!d->accepted || d->codec_count == 0 || (d->kind != SB_MEDIA_AUDIO && d->kind != SB_MEDIA_VIDEO) ||
        (d->dir != SB_DIR_RECVONLY && d->dir != SB_DIR_SENDRECV) || fresh->len >= VR_MAX_TRACKS)
      continue;
    vr_track *t = track_for(p, d->kind, per_kind[d->kind]++, i);
    /* The browser sends the first codec of our answer. */
    t->codec = d->codecs[0];
    memcpy(t->ext_ids, d->ext_ids, sizeof t->ext_ids);
    t->pub = peer;
    t->in = NULL;
    t->published = true;
    t->muted = false;
    g_ptr_array_add(fresh, t);
  }
  *tracks = json_array();
  for (guint i = 0; i < fresh->len; i++) {
    vr_track *t = g_ptr_array_index(fresh, i);
    json_array_append_new(*tracks, vr_track_json(t));
    vr_room_notify(room, p, "room.track_published", json_pack("{s:o}", "track", vr_track_json(t)));
    sb_event_emit("track.published", json_pack("{s:s, s:o}", "room", room->name, "track", vr_track_json(t)));
    vr_track_published(t);
  }
  sb_info("room %s: %s publishes %u track(s)", room->name, p->id, fresh->len);
  g_ptr_array_unref(fresh);
  return 0;
}

static gboolean grace_tick(gpointer data);

void vr_track_remove(vr_participant *p, vr_track *t) {
  vr_track_removed(t);
  g_ptr_array_remove(p->tracks, t);
  g_hash_table_remove(p->room->tracks, t->id);
}

void vr_unpublish(vr_participant *p) {
  if (p->pub == NULL)
    return;
  vr_room *room = p->room;
  int64_t now = sb_now_us();
  vr_data_unpublish(p);
  for (guint i = 0; i < p->tracks->len; i++) {
    vr_track *t = g_ptr_array_index(p->tracks, i);
    if (!t->published)
      continue;
    t->published = false;
    t->pub = NULL;
    t->in = NULL;
    t->unpublished_us = now;
    vr_room_notify(room, p, "room.track_unpublished", json_pack("{s:s}", "track", t->id));
    sb_event_emit("track.unpublished", json_pack("{s:s, s:s}", "room", room->name, "track", t->id));
  }
  close_peer(p, &p->pub);
  room->publishers--;
  sb_info("room %s: %s unpublished", room->name, p->id);
  if (room->grace_timer == NULL) {
    room->grace_timer = g_timeout_source_new(500);
    g_source_set_callback(room->grace_timer, grace_tick, room, NULL);
    g_source_attach(room->grace_timer, sb_worker_context(room->worker));
  }
}

/* Unpublished tracks are kept republish_grace seconds for their subscribers. */
static gboolean grace_tick(gpointer data) {
  vr_room *room = data;
  int64_t limit = sb_now_us() - (int64_t)vr_republish_grace_s() * G_USEC_PER_SEC;
  bool waiting = false;
  for (guint i = 0; i < room->participants->len; i++) {
    vr_participant *p = g_ptr_array_index(room->participants, i);
    for (guint k = p->tracks->len; k-- > 0;) {
      vr_track *t = g_ptr_array_index(p->tracks, k);
      if (t->published)
        continue;
      if (t->unpublished_us <= limit)
        vr_track_remove(p, t);
      else
        waiting = true;
    }
  }
  if (waiting)
    return G_SOURCE_CONTINUE;
  g_source_unref(room->grace_timer);
  room->grace_timer = NULL;
  return G_SOURCE_REMOVE;
}

void vr_leave(vr_participant *p, const char *reason) {
  if (p->left || !p->joined)
    return;
  vr_room *room = p->room;
  p->left = true;
  vr_stats_interval(p, 0);
  vr_unpublish(p);
  while (p->tracks->len > 0)
    vr_track_remove(p, g_ptr_array_index(p->tracks, p->tracks->len - 1));
  vr_data_participant_clear(p);
  vr_sections_free(p);
  close_peer(p, &p->sub);
  sb_info("room %s: %s left%s%s", room->name, p->id, reason ? ": " : "", reason ? reason : "");
  vr_room_notify(room, p, "room.participant_left", json_pack("{s:s}", "participant", p->id));
  sb_event_emit("participant.left", json_pack("{s:s, s:s, s:s?}", "room", room->name, "participant", p->id,
                                              "reason", reason));
  sb_metric_add(m_participants, -1);
  if (g_ptr_array_remove(room->participants, p))
    vr_participant_unref(p);
}

/* Whether track t is one a mute request (kind, ids) names. */
static bool mute_selects(const vr_track *t, int kind, json_t *ids) {
  if (kind >= 0 && (int)t->kind != kind)
    return false;
  if (ids == NULL)
    return true;
  size_t k;
  json_t *id;
  json_array_foreach(ids, k, id) if (json_is_string(id) && strcmp(json_string_value(id), t->id) == 0)
    return true;
  return false;
}

int vr_mute(vr_participant *p, bool muted, bool forced, int kind, json_t *ids, json_t **changed,
            char **msg) {
  *changed = json_array();
  for (guint i = 0; !forced && !muted && i < p->tracks->len; i++) {
    const vr_track *t = g_ptr_array_index(p->tracks, i);
    if (t->forced_mute && mute_selects(t, kind, ids)) {
      *msg = g_strdup_printf("track %s was muted by a moderator: only a moderator can unmute it", t->id);
      return SB_ERR_ROLE;
    }
  }
  for (guint i = 0; i < p->tracks->len; i++) {
    vr_track *t = g_ptr_array_index(p->tracks, i);
    if (!mute_selects(t, kind, ids))
      continue;
    if (forced)
      t->forced_mute = muted;
    if (t->muted == muted)
      continue;
    t->muted = muted;
    if (!muted) {
      /* Forwarding resumes: subscribers continue their numbering where it stopped
       * and video restarts on a keyframe. */
      for (guint s = 0; s < t->sections->len; s++) {
        vr_section *sec = g_ptr_array_index(t->sections, s);
        if (sec->out)
          sb_rewriter_switch(&sec->out->rewriter);
      }
      if (t->in && t->pub && t->kind == SB_MEDIA_VIDEO)
        sb_peer_request_keyframe(t->pub, t->in, true);
    }
    json_array_append_new(*changed, json_string(t->id));
    vr_room_notify(p->room, p, "room.track_muted", json_pack("{s:s, s:b}", "track", t->id, "muted", muted));
  }
  return 0;
}

sb_peer *vr_peer_by_pc(vr_participant *p, const char *pc) {
  if (pc == NULL)
    return p->pub ? p->pub : p->sub;
  if (strcmp(pc, "publisher") == 0)
    return p->pub;
  if (strcmp(pc, "subscriber") == 0)
    return p->sub;
  return NULL;
}

/* --- statistics --- */

/* Adds "track" to each stream of a peer's stats. */
static void annotate(sb_peer *peer, json_t *stats) {
  json_t *arr;
  size_t i;
  json_t *s;
  arr = json_object_get(stats, "inbound");
  json_array_foreach(arr, i, s) {
    uint32_t ssrc = (uint32_t)json_integer_value(json_object_get(s, "ssrc"));
    for (int k = 0; k < sb_peer_stream_in_count(peer); k++) {
      sb_stream_in *in = sb_peer_stream_in_get(peer, k);
      if (in->ssrc == ssrc && in->plugin_data)
        json_object_set_new(s, "track", json_string(((vr_track *)in->plugin_data)->id));
    }
  }
  arr = json_object_get(stats, "outbound");
  json_array_foreach(arr, i, s) {
    uint32_t ssrc = (uint32_t)json_integer_value(json_object_get(s, "ssrc"));
    for (int k = 0; k < sb_peer_media_count(peer); k++) {
      sb_stream_out *out = sb_peer_stream_out(peer, k);
      vr_section *sec = out ? out->plugin_data : NULL;
      if (out && out->ssrc == ssrc && sec)
        json_object_set_new(s, "track", sec->track_id[0] ? json_string(sec->track_id) : json_null());
    }
  }
}

static json_t *peer_stats(sb_peer *peer) {
  if (peer == NULL)
    return json_null();
  json_t *st = sb_peer_stats_json(peer);
  annotate(peer, st);
  return st;
}

json_t *vr_stats(vr_participant *p) {
  return json_pack("{s:s, s:s, s:o, s:o}", "room", p->room->name, "participant", p->id, "publisher",
                   peer_stats(p->pub), "subscriber", peer_stats(p->sub));
}

static gboolean stats_tick(gpointer data) {
  vr_participant *p = data;
  vr_notify(p, "room.stats", vr_stats(p));
  return G_SOURCE_CONTINUE;
}

void vr_stats_interval(vr_participant *p, unsigned ms) {
  if (p->stats_timer) {
    g_source_destroy(p->stats_timer);
    g_source_unref(p->stats_timer);
    p->stats_timer = NULL;
  }
  p->stats_interval_ms = ms;
  if (ms == 0 || p->session == NULL)
    return;
  p->stats_timer = g_timeout_source_new(ms);
  g_source_set_callback(p->stats_timer, stats_tick, p, NULL);
  g_source_attach(p->stats_timer, sb_worker_context(p->room->worker));
}
