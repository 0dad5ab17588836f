/* Switchboard — videoroom: data tracks (worker side).
 *
 * A data channel the publisher opens on its publisher PeerConnection becomes a
 * track of kind "data" (id "<participant>/data<n>", with the channel's label,
 * protocol and reliability). Subscribing to it makes the server open a channel
 * with the same label and properties on the subscriber PeerConnection (whose one
 * application m-section carries every data subscription), and every message the
 * publisher sends is forwarded as is: the server does not interpret the
 * application protocol. Data flows publisher -> subscribers only; what a
 * subscriber sends on such a channel is dropped. When the publisher closes the
 * channel (or its PeerConnection goes) the track is removed and the subscribers'
 * channels are closed. All peers of a room live on the room's worker, so
 * forwarding is a direct send. */
#include <string.h>

#include "core/events.h"
#include "core/log.h"
#include "plugins/videoroom/room.h"

static vr_track *data_track(vr_participant *p, uint16_t id) {
  for (guint i = 0; i < p->tracks->len; i++) {
    vr_track *t = g_ptr_array_index(p->tracks, i);
    if (t->kind == SB_MEDIA_APPLICATION && t->published && t->channel == id)
      return t;
  }
  return NULL;
}

static void open_sub_channel(vr_datasub *ds) {
  sb_peer *sub = ds->owner->sub;
  if (ds->channel >= 0 || sub == NULL || !sb_peer_data_ready(sub) || ds->track == NULL)
    return;
  vr_track *t = ds->track;
  ds->channel = sb_peer_channel_open(sub, t->label, t->protocol, t->dc_type, t->dc_reliability, 0);
  if (ds->channel < 0)
    sb_warn("room %s: %s: cannot open data channel '%s' to the subscriber", ds->owner->room->name,
            ds->owner->id, t->label);
}

void vr_data_channel_open(vr_participant *p, const sb_dc_info *ch) {
  vr_room *room = p->room;
  if ((int)p->tracks->len >= vr_max_tracks()) {
    sb_info("room %s: %s: data channel '%s' refused: %d tracks already", room->name, p->id,
            ch->label, vr_max_tracks());
    sb_peer_channel_close(p->pub, ch->id);
    return;
  }
  vr_track *t = g_new0(vr_track, 1);
  for (int n = 0;; n++) {
    g_snprintf(t->id, sizeof t->id, "%s/data%d", p->id, n);
    if (!g_hash_table_contains(room->tracks, t->id))
      break;
  }
  t->owner = p;
  t->kind = SB_MEDIA_APPLICATION;
  t->media_index = -1;
  t->pub = p->pub;
  t->published = true;
  t->channel = ch->id;
  vr_copy_text(t->label, sizeof t->label, ch->label);
  vr_copy_text(t->protocol, sizeof t->protocol, ch->protocol);
  t->dc_type = ch->type;
  t->dc_reliability = ch->reliability;
  t->sections = g_ptr_array_new();
  t->datasubs = g_ptr_array_new();
  g_hash_table_insert(room->tracks, t->id, t);
  g_ptr_array_add(p->tracks, t);
  sb_info("room %s: %s publishes data channel '%s' as %s", room->name, p->id, t->label, t->id);
  vr_room_notify(room, p, "room.track_published", json_pack("{s:o}", "track", vr_track_json(t)));
  sb_event_emit("track.published", json_pack("{s:s, s:o}", "room", room->name, "track", vr_track_json(t)));
  vr_track_published(t);
}

void vr_data_message(vr_participant *p, uint16_t id, bool binary, const uint8_t *buf, size_t len) {
  vr_track *t = data_track(p, id);
  if (t == NULL)
    return;
  t->data_messages++;
  if (t->muted)
    return;
  for (guint i = 0; i < t->datasubs->len; i++) {
    vr_datasub *ds = g_ptr_array_index(t->datasubs, i);
    if (ds->channel < 0 || ds->owner->sub == NULL)
      continue;
    if (sb_peer_channel_send(ds->owner->sub, (uint16_t)ds->channel, binary, buf, len) != 0)
      t->data_dropped++;
  }
}

static void unpublish_data_track(vr_participant *p, vr_track *t) {
  vr_room *room = p->room;
  t->published = false;
  vr_room_notify(room, p, "room.track_unpublished", json_pack("{s:s}", "track", t->id));
  sb_event_emit("track.unpublished", json_pack("{s:s, s:s}", "room", room->name, "track", t->id));
  vr_track_remove(p, t);
}

void vr_data_channel_closed(vr_participant *p, uint16_t id) {
  vr_track *t = data_track(p, id);
  if (t)
    unpublish_data_track(p, t);
}

void vr_data_unpublish(vr_participant *p) {
  for (guint i = p->tracks->len; i-- > 0;) {
    vr_track *t = g_ptr_array_index(p->tracks, i);
    if (t->kind == SB_MEDIA_APPLICATION)
      unpublish_data_track(p, t);
  }
}

static vr_datasub *find_datasub(vr_participant *p, const vr_track *t) {
  for (guint i = 0; i < p->datasubs->len; i++) {
    vr_datasub *ds = g_ptr_array_index(p->datasubs, i);
    if (ds->track == t)
      return ds;
  }
  return NULL;
}

bool vr_data_subscribe(vr_participant *p, vr_track *t, bool *changed) {
  if (find_datasub(p, t))
    return true;
  if (p->client != VR_CLIENT_RPC || vr_data_section(p, changed) == NULL)
    return false;
  vr_datasub *ds = g_new0(vr_datasub, 1);
  ds->owner = p;
  ds->track = t;
  ds->channel = -1;
  g_ptr_array_add(p->datasubs, ds);
  g_ptr_array_add(t->datasubs, ds);
  open_sub_channel(ds);   /* at once when the subscriber's association is up */
  return true;
}

/* Ends one subscription: closes its channel, forgets it on both sides. */
static void datasub_end(vr_datasub *ds) {
  if (ds->channel >= 0 && ds->owner->sub)
    sb_peer_channel_close(ds->owner->sub, (uint16_t)ds->channel);
  if (ds->track)
    g_ptr_array_remove(ds->track->datasubs, ds);
  g_ptr_array_remove(ds->owner->datasubs, ds);
  g_free(ds);
}

void vr_data_unsubscribe(vr_participant *p, json_t *ids, bool all, json_t *removed) {
  for (guint i = p->datasubs->len; i-- > 0;) {
    vr_datasub *ds = g_ptr_array_index(p->datasubs, i);
    bool hit = all;
    size_t k;
    json_t *id;
    json_array_foreach(ids, k, id) hit |= json_is_string(id) && strcmp(json_string_value(id), ds->track->id) == 0;
    if (!hit)
      continue;
    json_array_append_new(removed, json_string(ds->track->id));
    datasub_end(ds);
  }
}

void vr_data_track_removed(vr_track *t) {
  while (t->datasubs && t->datasubs->len > 0)
    datasub_end(g_ptr_array_index(t->datasubs, t->datasubs->len - 1));
}

void vr_data_sub_ready(vr_participant *p) {
  for (guint i = 0; i < p->datasubs->len; i++)
    open_sub_channel(g_ptr_array_index(p->datasubs, i));
}

void vr_data_sub_gone(vr_participant *p) {
  for (guint i = 0; i < p->datasubs->len; i++)
    ((vr_datasub *)g_ptr_array_index(p->datasubs, i))->channel = -1;
}

void vr_data_sub_closed(vr_participant *p, uint16_t id) {
  /* The association went (an ABORT, a timeout): the subscriptions stay, as media
   * ones do, and their channels reopen on the next subscriber PeerConnection. */
  if (p->sub == NULL || !sb_peer_data_ready(p->sub)) {
    vr_data_sub_gone(p);
    return;
  }
  /* The subscriber closed the channel: that ends the subscription. */
  for (guint i = 0; i < p->datasubs->len; i++) {
    vr_datasub *ds = g_ptr_array_index(p->datasubs, i);
    if (ds->channel == id) {
      ds->channel = -1;
      datasub_end(ds);
      return;
    }
  }
}

void vr_data_participant_clear(vr_participant *p) {
  while (p->datasubs->len > 0) {
    vr_datasub *ds = g_ptr_array_index(p->datasubs, p->datasubs->len - 1);
    ds->channel = -1;   /* the PeerConnection goes with the participant */
    datasub_end(ds);
  }
}
