/* Switchboard — videoroom: subscriptions, the subscriber PeerConnection's offers
 * and answers, and forwarding (worker side). */
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "plugins/videoroom/room.h"

/* Extension ids we offer subscribers (one id per URI across the bundle). The mid
 * extension is not forwarded: the publisher's mid means nothing to a subscriber,
 * which finds our streams by their a=ssrc lines. */
static const uint8_t sub_ext_ids[SB_EXT_COUNT] = {
  [SB_EXT_AUDIO_LEVEL] = 1,
  [SB_EXT_ABS_SEND_TIME] = 2,
  [SB_EXT_VIDEO_ORIENTATION] = 3,
};

/* --- forwarding --- */

void vr_forward(vr_track *t, sb_pktbuf *pkt, const sb_rtp_view *v) {
  for (guint i = 0; i < t->sections->len; i++) {
    vr_section *s = g_ptr_array_index(t->sections, i);
    if (s->out && s->owner->sub && s->out->plugin_data == s)
      sb_peer_send_rtp(s->owner->sub, s->out, pkt, v);
  }
}

void vr_section_bind(vr_section *s) {
  sb_stream_out *o = s->out;
  vr_track *t = s->track;
  if (o == NULL || t == NULL)
    return;
  sb_peer *sub = s->owner->sub;
  const sb_media_desc *d = sub ? sb_peer_media(sub, s->index) : NULL;
  memset(o->pt_map, 0xFF, sizeof o->pt_map);
  sb_stream_out_map_pt(o, t->codec.pt, s->codec.pt);
  for (int id = 1; id < 256; id++)
    sb_stream_out_map_ext(o, (uint8_t)id, 0);
  for (int k = 0; k < SB_EXT_COUNT && d; k++)
    if (t->ext_ids[k] && d->ext_ids[k] && k != SB_EXT_MID && k != SB_EXT_RID && k != SB_EXT_RRID)
      sb_stream_out_map_ext(o, t->ext_ids[k], d->ext_ids[k]);
  /* A new source starts right after what the subscriber last got (no gap, no jump). */
  sb_rewriter_switch(&o->rewriter);
  o->plugin_data = s;
  if (t->in && t->pub && t->kind == SB_MEDIA_VIDEO)
    sb_peer_request_keyframe(t->pub, t->in, false);
}

/* --- payload types of a subscriber PeerConnection --- */

static int next_free_pt(vr_participant *p) {
  /* Dynamic payload types (RFC 3551 §3): 96-127, then 35-63 as browsers do. */
  while (p->next_pt < 64) {
    int pt = p->next_pt < 32 ? 96 + p->next_pt : 35 + (p->next_pt - 32);
    p->next_pt++;
    return pt;
  }
  return -1;
}

/* The codec a section offers for track t: the track's codec under a payload type
 * that means the same thing in every m-section of this PeerConnection (RFC 8843
 * §9.1: one payload type, one configuration, per bundle). */
static bool section_codec(vr_participant *p, const vr_track *t, sb_codec_desc *out) {
  *out = t->codec;
  char *key = g_strdup_printf("%s/%u/%u/%s", sb_codec_name(t->codec.codec), t->codec.clock_rate,
                              t->codec.channels, t->codec.fmtp);
  gpointer v = g_hash_table_lookup(p->pts, key);
  int pt, rtx;
  if (v) {
    pt = GPOINTER_TO_INT(v) & 0xFF;
    rtx = (GPOINTER_TO_INT(v) >> 8) & 0xFF;
    g_free(key);
  } else {
    pt = next_free_pt(p);
    rtx = t->codec.rtx_pt ? next_free_pt(p) : 0;
    if (pt < 0 || rtx < 0) {
      g_free(key);
      return false;
    }
    g_hash_table_insert(p->pts, key, GINT_TO_POINTER(pt | (rtx << 8) | 0x10000));
  }
  out->pt = (uint8_t)pt;
  out->rtx_pt = (uint8_t)rtx;
  out->fb_remb = true;  /* the subscriber's estimate, for statistics and adaptation */
  out->fb_twcc = false;
  return true;
}

static bool same_codec(const sb_codec_desc *a, const sb_codec_desc *b) {
  return a->codec == b->codec && a->clock_rate == b->clock_rate && a->channels == b->channels &&
         strcmp(a->fmtp, b->fmtp) == 0;
}

/* --- sections --- */

static vr_section *section_of_track(vr_participant *p, const char *track_id) {
  for (guint i = 0; i < p->sections->len; i++) {
    vr_section *s = g_ptr_array_index(p->sections, i);
    if (strcmp(s->track_id, track_id) == 0)
      return s;
  }
  return NULL;
}

static void section_detach(vr_section *s) {
  if (s->track)
    g_ptr_array_remove(s->track->sections, s);
  s->track = NULL;
  s->track_id[0] = '\0';
  if (s->out && s->out->plugin_data == s)
    s->out->plugin_data = NULL;
}

/* A section for track t: the one already carrying it, a recycled inactive one of
 * the same kind, or a new one. Returns NULL when the PeerConnection is full. */
static vr_section *ensure_section(vr_participant *p, vr_track *t, bool *changed) {
  vr_section *s = section_of_track(p, t->id);
  if (s)
    return s;
  sb_codec_desc codec;
  if (!section_codec(p, t, &codec))
    return NULL;
  for (guint i = 0; i < p->sections->len && s == NULL; i++) {
    vr_section *c = g_ptr_array_index(p->sections, i);
    if (c->track_id[0] == '\0' && c->kind == t->kind)
      s = c;
  }
  if (s == NULL) {
    if (p->sections->len >= VR_MAX_SECTIONS)
      return NULL;
    s = g_new0(vr_section, 1);
    s->owner = p;
    s->index = (int)p->sections->len;
    s->kind = t->kind;
    s->ssrc = sb_random_u32() | 1;
    s->rtx_ssrc = sb_random_u32() | 1;
    g_ptr_array_add(p->sections, s);
  }
  g_strlcpy(s->track_id, t->id, sizeof s->track_id);
  s->track = t;
  s->codec = codec;
  g_ptr_array_add(t->sections, s);
  *changed = true;
  return s;
}

vr_section *vr_data_section(vr_participant *p, bool *changed) {
  for (guint i = 0; i < p->sections->len; i++) {
    vr_section *s = g_ptr_array_index(p->sections, i);
    if (s->kind == SB_MEDIA_APPLICATION)
      return s;
  }
  if (p->sections->len >= VR_MAX_SECTIONS)
    return NULL;
  vr_section *s = g_new0(vr_section, 1);
  s->owner = p;
  s->index = (int)p->sections->len;
  s->kind = SB_MEDIA_APPLICATION;
  g_ptr_array_add(p->sections, s);
  *changed = true;
  return s;
}

void vr_sections_free(vr_participant *p) {
  for (guint i = 0; i < p->sections->len; i++)
    section_detach(g_ptr_array_index(p->sections, i));
  g_ptr_array_set_size(p->sections, 0);
}

/* --- the subscriber PeerConnection --- */

static void sub_on_state(sb_peer *peer, sb_peer_state state, const char *reason, void *ud) {
  vr_participant *p = ud;
  sb_notify_peer_state(p->session, "subscriber", sb_peer_state_name(state), reason);
  if (state == SB_PEER_CONNECTED) {
    /* What was forwarded before the subscriber could receive it is lost, the
     * keyframe asked for at subscription time included: ask again. Not every
     * receiver asks by itself (aiortc, WHEP players). */
    for (guint i = 0; i < p->sections->len; i++) {
      vr_section *s = g_ptr_array_index(p->sections, i);
      if (s->track && s->track->in && s->track->pub && s->kind == SB_MEDIA_VIDEO)
        sb_peer_request_keyframe(s->track->pub, s->track->in, false);
    }
    return;
  }
  if (state != SB_PEER_FAILED && state != SB_PEER_CLOSED)
    return;
  sb_info("room %s: %s's subscriber %s: %s", p->room->name, p->id, sb_peer_state_name(state),
          reason ? reason : "");
  if (p->client == VR_CLIENT_WHEP) {
    vr_leave(p, reason);
    return;
  }
  /* The subscriptions stay; the next room.subscribe (or a track change) makes a
   * new PeerConnection with all of them. */
  for (guint i = 0; i < p->sections->len; i++) {
    vr_section *s = g_ptr_array_index(p->sections, i);
    s->out = NULL;
  }
  p->offer_pending = false;
  vr_data_sub_gone(p);
  sb_peer_close(p->sub);
  sb_peer_unref(p->sub);
  p->sub = NULL;
  vr_participant_unref(p);
}

static void sub_on_keyframe_request(sb_peer *peer, sb_stream_out *out, void *ud) {
  vr_section *s = out->plugin_data;
  if (s && s->track && s->track->in && s->track->pub)
    sb_peer_request_keyframe(s->track->pub, s->track->in, false);
}

static void sub_on_candidate(sb_peer *peer, const char *c, const char *mid, int mline, void *ud) {
  vr_participant *p = ud;
  sb_notify_trickle(p->session, "subscriber", c, mid, mline);
}

static void sub_on_data_ready(sb_peer *peer, void *ud) { vr_data_sub_ready(ud); }

static void sub_on_channel_closed(sb_peer *peer, uint16_t id, void *ud) {
  vr_data_sub_closed(ud, id);
}

static const sb_peer_handler sub_handler = {
  .on_state = sub_on_state,
  .on_candidate = sub_on_candidate,
  .on_keyframe_request = sub_on_keyframe_request,
  .on_data_ready = sub_on_data_ready,
  .on_channel_closed = sub_on_channel_closed,
};

static sb_peer *sub_peer(vr_participant *p) {
  if (p->sub == NULL) {
    char name[96];
    g_snprintf(name, sizeof name, "room %s/%s/subscriber", p->room->name, p->id);
    p->sub = sb_peer_new(name, &sub_handler, vr_participant_ref(p));
    sb_peer_set_remb_bitrate(p->sub, 0);
  }
  return p->sub;
}

void vr_renegotiate(vr_participant *p) {
  if (p->client != VR_CLIENT_RPC || p->left)
    return;
  if (p->offer_pending) {
    p->renegotiate = true;
    return;
  }
  p->renegotiate = false;
  if (p->sections->len == 0)
    return;
  guint n = p->sections->len;
  sb_offer_section *secs = g_new0(sb_offer_section, n);
  json_t *tracks = json_array();
  for (guint i = 0; i < n; i++) {
    vr_section *s = g_ptr_array_index(p->sections, i);
    sb_offer_section *x = &secs[i];
    x->kind = s->kind;
    g_snprintf(x->mid, sizeof x->mid, "%u", i);
    if (s->kind == SB_MEDIA_APPLICATION) {   /* every data subscription rides this one */
      x->dir = SB_DIR_SENDRECV;
      json_array_append_new(tracks, json_pack("{s:s, s:s}", "mid", x->mid, "kind", "data"));
      continue;
    }
    x->dir = s->track ? SB_DIR_SENDONLY : SB_DIR_INACTIVE;
    x->codec_count = 1;
    x->codecs[0] = s->codec;
    for (int k = 0; k < SB_EXT_COUNT; k++)
      if ((k == SB_EXT_AUDIO_LEVEL && s->kind != SB_MEDIA_AUDIO) ||
          (k == SB_EXT_VIDEO_ORIENTATION && s->kind != SB_MEDIA_VIDEO))
        x->ext_ids[k] = 0;
      else
        x->ext_ids[k] = sub_ext_ids[k];
    x->ssrc = s->ssrc;
    x->rtx_ssrc = s->codec.rtx_pt ? s->rtx_ssrc : 0;
    if (s->track)
      g_snprintf(x->msid, sizeof x->msid, "%s %s", s->track->owner->id, s->track_id);
    else
      g_snprintf(x->msid, sizeof x->msid, "- %s", x->mid);
    json_array_append_new(tracks, json_pack("{s:s, s:s?, s:s?, s:s}", "mid", x->mid, "track",
                                            s->track ? s->track_id : NULL, "participant",
                                            s->track ? s->track->owner->id : NULL, "kind",
                                            sb_media_kind_name(s->kind)));
  }
  char *sdp = NULL, *msg = NULL;
  bool new_pc = p->sub == NULL;
  int rc = sb_peer_create_offer(sub_peer(p), secs, (int)n, &sdp, &msg);
  g_free(secs);
  if (rc != 0) {
    sb_warn("room %s: %s: cannot make a subscriber offer: %s", p->room->name, p->id, msg);
    g_free(msg);
    json_decref(tracks);
    return;
  }
  p->offer_pending = true;
  p->offer_version++;
  sb_verbose("room %s: %s: subscriber offer %d (%u m-sections)", p->room->name, p->id,
             p->offer_version, n);
  vr_notify(p, "room.offer", json_pack("{s:s, s:i, s:b, s:b, s:s, s:o}", "pc", "subscriber", "version",
                                         p->offer_version, "new_pc", new_pc, "ice_restart",
                                         p->ice_restart, "sdp", sdp, "tracks", tracks));
  p->ice_restart = false;
  g_free(sdp);
}

int vr_answer(vr_participant *p, const char *sdp, int version, char **msg) {
  if (!p->offer_pending || p->sub == NULL || (version > 0 && version != p->offer_version)) {
    *msg = p->offer_pending ? g_strdup_printf("the outstanding offer is version %d", p->offer_version)
                            : g_strdup("no subscriber offer is outstanding");
    return SB_ERR_NO_OFFER;
  }
  int rc = sb_peer_accept_answer(p->sub, sdp, strlen(sdp), msg);
  if (rc != 0)
    return rc;
  p->offer_pending = false;
  for (guint i = 0; i < p->sections->len; i++) {
    vr_section *s = g_ptr_array_index(p->sections, i);
    sb_stream_out *out = sb_peer_stream_out(p->sub, s->index);
    bool fresh = out != s->out || (out && out->plugin_data != s);
    s->out = out;
    if (s->track && out && fresh)
      vr_section_bind(s);
  }
  if (p->renegotiate)
    vr_renegotiate(p);
  return 0;
}

int vr_restart_ice(vr_participant *p, bool publisher, const char *offer, char **answer, char **msg) {
  sb_peer *peer = publisher ? p->pub : p->sub;
  if (peer == NULL) {
    *msg = g_strdup_printf("no %s PeerConnection to restart", publisher ? "publisher" : "subscriber");
    return SB_ERR_NO_PEER;
  }
  if (publisher)
    return sb_peer_restart_ice_answer(peer, offer, strlen(offer), answer, msg);
  if (p->offer_pending) {
    *msg = g_strdup("a subscriber offer is outstanding: answer it first");
    return SB_ERR_BUSY;
  }
  int rc = sb_peer_restart_ice(peer, msg);
  if (rc == 0) {
    p->ice_restart = true;
    vr_renegotiate(p);
  }
  return rc;
}

/* --- subscribing --- */

static vr_track *lookup_track(vr_participant *p, json_t *id) {
  return json_is_string(id) ? g_hash_table_lookup(p->room->tracks, json_string_value(id)) : NULL;
}

int vr_subscribe(vr_participant *p, json_t *ids, bool all, json_t **subscribed, char **msg) {
  size_t i;
  json_t *id;
  json_array_foreach(ids, i, id) {
    vr_track *t = lookup_track(p, id);
    if (t == NULL || t->owner == p) {
      *msg = g_strdup_printf("no track '%s' to subscribe to%s",
                             json_is_string(id) ? json_string_value(id) : "?",
                             t ? " (it is your own)" : "");
      return SB_ERR_NO_TRACK;
    }
  }
  bool changed = false;
  *subscribed = json_array();
  if (all) {
    p->subscribe_all = true;
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, p->room->tracks);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
      vr_track *t = v;
      if (t->owner == p || !t->published)
        continue;
      if (t->kind == SB_MEDIA_APPLICATION ? vr_data_subscribe(p, t, &changed)
                                          : ensure_section(p, t, &changed) != NULL)
        json_array_append_new(*subscribed, json_string(t->id));
    }
  }
  json_array_foreach(ids, i, id) {
    vr_track *t = lookup_track(p, id);
    if (t->kind == SB_MEDIA_APPLICATION ? vr_data_subscribe(p, t, &changed)
                                        : ensure_section(p, t, &changed) != NULL)
      json_array_append_new(*subscribed, json_string(t->id));
  }
  if (changed || (p->sub == NULL && p->sections->len > 0))
    vr_renegotiate(p);
  return 0;
}

int vr_unsubscribe(vr_participant *p, json_t *ids, bool all, json_t **removed, char **msg) {
  *removed = json_array();
  if (all)
    p->subscribe_all = false;
  vr_data_unsubscribe(p, ids, all, *removed);
  bool changed = false;
  for (guint i = 0; i < p->sections->len; i++) {
    vr_section *s = g_ptr_array_index(p->sections, i);
    if (s->track_id[0] == '\0')
      continue;
    bool hit = all;
    size_t k;
    json_t *id;
    json_array_foreach(ids, k, id) hit |= json_is_string(id) && strcmp(json_string_value(id), s->track_id) == 0;
    if (!hit)
      continue;
    json_array_append_new(*removed, json_string(s->track_id));
    section_detach(s);
    changed = true;
  }
  if (changed)
    vr_renegotiate(p);
  (void)msg;
  return 0;
}

void vr_track_published(vr_track *t) {
  /* Sections that kept this track through an unpublish carry it on; a different
   * codec needs a new offer. */
  for (guint i = 0; i < t->sections->len; i++) {
    vr_section *s = g_ptr_array_index(t->sections, i);
    sb_codec_desc want;
    if (!same_codec(&s->codec, &t->codec) && section_codec(s->owner, t, &want)) {
      s->codec = want;
      if (s->out)
        s->out->plugin_data = NULL; /* rebound after the answer */
      vr_renegotiate(s->owner);
    } else {
      vr_section_bind(s);
    }
  }
  vr_room *room = t->owner->room;
  for (guint i = 0; i < room->participants->len; i++) {
    vr_participant *p = g_ptr_array_index(room->participants, i);
    bool changed = false;
    if (p == t->owner || !p->subscribe_all || p->left)
      continue;
    if (t->kind == SB_MEDIA_APPLICATION)
      vr_data_subscribe(p, t, &changed);
    else
      ensure_section(p, t, &changed);
    if (changed)
      vr_renegotiate(p);
  }
}

void vr_track_removed(vr_track *t) {
  vr_data_track_removed(t);
  GPtrArray *owners = g_ptr_array_new();
  while (t->sections->len > 0) {
    vr_section *s = g_ptr_array_index(t->sections, 0);
    if (!g_ptr_array_find(owners, s->owner, NULL))
      g_ptr_array_add(owners, s->owner);
    section_detach(s);
  }
  for (guint i = 0; i < owners->len; i++)
    vr_renegotiate(g_ptr_array_index(owners, i));
  g_ptr_array_unref(owners);
}

/* --- WHEP: a viewer's own offer, answered with a participant's tracks --- */

static vr_participant *whep_target(vr_participant *p) {
  vr_room *room = p->room;
  for (guint i = 0; i < room->participants->len; i++) {
    vr_participant *c = g_ptr_array_index(room->participants, i);
    if (c == p || c->client == VR_CLIENT_WHEP || c->pub == NULL)
      continue;
    if (p->target[0] == '\0' || strcmp(p->target, c->id) == 0)
      return c;
  }
  return NULL;
}

static vr_track *first_track(vr_participant *target, sb_media_kind kind, GPtrArray *taken) {
  for (guint i = 0; i < target->tracks->len; i++) {
    vr_track *t = g_ptr_array_index(target->tracks, i);
    if (t->kind == kind && t->published && !g_ptr_array_find(taken, t, NULL))
      return t;
  }
  return NULL;
}

int vr_whep_answer(vr_participant *p, const char *offer, char **answer, char **msg) {
  vr_participant *target = whep_target(p);
  if (target == NULL) {
    *msg = p->target[0] ? g_strdup_printf("participant %s publishes nothing in room %s", p->target, p->room->name)
                        : g_strdup_printf("nothing is published in room %s", p->room->name);
    return SB_ERR_NO_TRACK;
  }
  sb_caps caps = { .can_send = true, .rtx = true, .remb = true };
  GPtrArray *taken = g_ptr_array_new();
  vr_track *a = first_track(target, SB_MEDIA_AUDIO, taken), *v = first_track(target, SB_MEDIA_VIDEO, taken);
  /* Only the codec each track is published with can be forwarded. */
  if (a) {
    caps.audio[caps.audio_count++] = a->codec.codec;
  } else {
    caps.audio[caps.audio_count++] = SB_CODEC_UNKNOWN;
  }
  if (v) {
    caps.video[caps.video_count++] = v->codec.codec;
  } else {
    caps.video[caps.video_count++] = SB_CODEC_UNKNOWN;
  }
  int rc = sb_peer_accept_offer(sub_peer(p), offer, strlen(offer), &caps, answer, msg);
  if (rc != 0) {
    g_ptr_array_unref(taken);
    return rc;
  }
  for (int i = 0; i < sb_peer_media_count(p->sub); i++) {
    const sb_media_desc *d = sb_peer_media(p->sub, i);
    sb_stream_out *out = sb_peer_stream_out(p->sub, i);
    vr_track *t = out ? first_track(target, d->kind, taken) : NULL;
    if (t == NULL || d->codec_count == 0)
      continue;
    g_ptr_array_add(taken, t);
    vr_section *s = g_new0(vr_section, 1);
    s->owner = p;
    s->index = i;
    s->kind = d->kind;
    g_strlcpy(s->track_id, t->id, sizeof s->track_id);
    s->track = t;
    s->codec = d->codecs[0];
    s->ssrc = out->ssrc;
    s->out = out;
    g_ptr_array_add(p->sections, s);
    g_ptr_array_add(t->sections, s);
    vr_section_bind(s);
  }
  g_ptr_array_unref(taken);
  return 0;
}
