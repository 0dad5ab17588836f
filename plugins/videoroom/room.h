/* Switchboard — videoroom: the types its files share.
 *
 * Vocabulary: a room has participants; a participant publishes tracks on its
 * publisher PeerConnection (the client offers) and receives the tracks it
 * subscribes to on its subscriber PeerConnection (the server offers), one
 * m-section ("section") per track. A track id is "<participant>/<kind><n>" and
 * outlives an unpublish for republish_grace, so a subscription continues on the
 * same section and SSRC when its publisher comes back.
 *
 * Threads: everything under "worker" belongs to the room's worker and is touched
 * only there; the registry (videoroom.c) lives on the signaling thread. */
#ifndef SB_PLUGINS_VIDEOROOM_ROOM_H
#define SB_PLUGINS_VIDEOROOM_ROOM_H

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "core/http.h"
#include "core/plugin.h"
#include "core/session.h"
#include "core/worker.h"
#include "media/peer.h"

#define VR_ID_LEN 16
#define VR_TRACK_ID_LEN 48
#define VR_NAME_LEN 65
#define VR_TEXT_LEN 257           /* display names, data channel labels: UTF-8, whole characters */
#define VR_MAX_TRACKS 16          /* published per participant */
#define VR_MAX_SECTIONS 512       /* m-sections of one subscriber PeerConnection */

typedef struct vr_options {
  int max_participants;
  int max_publishers;
  int audio_count;
  sb_codec_id audio[8];
  int video_count;
  sb_codec_id video[8];
  uint64_t bitrate;              /* REMB cap per published video, bits/s */
} vr_options;

typedef struct vr_room vr_room;
typedef struct vr_participant vr_participant;
typedef struct vr_track vr_track;
typedef struct vr_section vr_section;
typedef struct vr_datasub vr_datasub;

typedef enum {
  VR_CLIENT_RPC = 0,             /* a WebSocket session */
  VR_CLIENT_WHIP,                /* an HTTP publisher */
  VR_CLIENT_WHEP,                /* an HTTP viewer */
} vr_client;

struct vr_room {
  gint refs;
  char name[VR_NAME_LEN];
  sb_worker *worker;
  vr_options opts;
  int members;                   /* signaling thread: joined and not left (admission) */
  bool persistent;               /* signaling thread: created by the admin API, kept when empty */
  bool closing;                  /* signaling thread: deleted by the admin API, refuses joins */
  bool locked;                   /* signaling thread: room.lock, refuses new joins */
  /* worker */
  GPtrArray *participants;       /* vr_participant*, join order */
  GHashTable *tracks;            /* id -> vr_track* (owned) */
  int publishers;
  GSource *grace_timer;          /* expires unpublished tracks */
};

struct vr_participant {
  gint refs;
  vr_room *room;                 /* a reference */
  sb_session *session;           /* a reference; NULL for WHIP/WHEP */
  vr_client client;
  char id[VR_ID_LEN];
  char display[VR_TEXT_LEN];
  char target[VR_ID_LEN];        /* WHEP: the participant to view ("" = the first publisher) */
  bool subscribe_all;
  /* worker */
  bool joined;
  bool left;
  int64_t joined_us;             /* when it joined (monotonic), for time to first media */
  bool media_seen;               /* its first RTP packet arrived (counted once) */
  sb_peer *pub;
  sb_peer *sub;
  GPtrArray *tracks;             /* own vr_track* (borrowed from room->tracks) */
  GPtrArray *sections;           /* vr_section* of the subscriber PeerConnection (owned) */
  GHashTable *pts;               /* subscriber payload types: "codec/clock/fmtp" -> pt+1 */
  int next_pt;
  int offer_version;
  bool offer_pending;            /* a room.offer awaits room.answer */
  bool renegotiate;              /* changes made while it was pending */
  bool ice_restart;              /* the next offer restarts ICE */
  GSource *stats_timer;
  unsigned stats_interval_ms;
  GPtrArray *datasubs;           /* vr_datasub* this participant receives (owned) */
};

struct vr_track {
  char id[VR_TRACK_ID_LEN];
  vr_participant *owner;         /* borrowed: a track goes before its owner */
  sb_media_kind kind;
  int media_index;               /* the publisher m-section */
  sb_peer *pub;                  /* the publisher peer while published (borrowed) */
  sb_stream_in *in;              /* the inbound stream feeding it, once packets came */
  sb_codec_desc codec;           /* what it is published with */
  uint8_t ext_ids[SB_EXT_COUNT]; /* the publisher's extension ids */
  bool published;
  bool muted;
  bool forced_mute;              /* muted by a moderator or the admin API: only they unmute */
  int64_t unpublished_us;
  GPtrArray *sections;           /* vr_section* carrying it (borrowed) */
  /* A data track (kind SB_MEDIA_APPLICATION) is one data channel of the publisher,
   * forwarded message by message to one channel per subscriber. */
  int channel;                   /* the publisher's stream id */
  char label[VR_TEXT_LEN];
  char protocol[VR_TEXT_LEN];
  uint8_t dc_type;               /* RFC 8832 channel type */
  uint32_t dc_reliability;
  GPtrArray *datasubs;           /* vr_datasub* (borrowed from their subscribers) */
  uint64_t data_messages;        /* received from the publisher */
  uint64_t data_dropped;         /* not taken by a subscriber's send queue */
};

/* One subscription to a data track: a channel the server opens on the
 * subscriber's PeerConnection (its single application m-section). */
struct vr_datasub {
  vr_participant *owner;         /* the subscriber */
  vr_track *track;
  int channel;                   /* the subscriber-side stream id, -1 until opened */
};

struct vr_section {
  vr_participant *owner;         /* the subscriber */
  int index;                     /* m-section of the subscriber PeerConnection */
  sb_media_kind kind;
  char track_id[VR_TRACK_ID_LEN];/* "" when inactive */
  vr_track *track;               /* NULL when inactive or its track went */
  sb_codec_desc codec;           /* offered: the track's codec with our payload type */
  uint32_t ssrc;
  uint32_t rtx_ssrc;
  sb_stream_out *out;            /* after the first answer */
};

/* videoroom.c: configuration and the plugin object. */
const vr_options *vr_default_options(void);
int vr_republish_grace_s(void);
/* [videoroom] max_tracks: tracks one participant may publish (<= VR_MAX_TRACKS). */
int vr_max_tracks(void);
bool vr_create_rooms(void);
extern const sb_plugin vr_plugin;
/* The room of that name, created if allowed, with one more member (admission:
 * SB_ERR_ROOM_FULL, SB_ERR_NO_ROOM, SB_ERR_INVALID_PARAMS). Signaling thread. */
int vr_room_acquire(const char *name, json_t *options, vr_room **out, char **msg);
/* One member fewer; the registry forgets an empty room. Signaling thread. */
void vr_room_release(vr_room *room);
/* Admin API (signaling thread): a persistent room (SB_ERR_INVALID_PARAMS,
 * SB_ERR_ROOM_EXISTS); the registry's room of that name or NULL; every room;
 * closing a room (refuses joins, forgotten when its last member leaves). */
int vr_room_create(const char *name, json_t *options, vr_room **out, char **msg);
vr_room *vr_room_find(const char *name);
void vr_rooms_foreach(void (*fn)(vr_room *room, void *ud), void *ud);
void vr_room_close(vr_room *room);
json_t *vr_options_json(const vr_options *o);
/* The session's participant, or NULL; takes the session out of its room (replies
 * req, if any, once it has left). Signaling thread. */
vr_participant *vr_session_participant(sb_session *s);
void vr_session_leave(sb_session *s, sb_request *req, const char *reason);

/* room.c (worker unless said) */
vr_room *vr_room_new(const char *name, const vr_options *opts);   /* any thread */
/* switchboard_rooms gauge: one room more or fewer in the registry. Any thread. */
void vr_count_room(int delta);
vr_room *vr_room_ref(vr_room *r);
void vr_room_unref(vr_room *r);                                   /* last one: worker */
vr_participant *vr_participant_new(vr_room *room, vr_client client, sb_session *s,
                                   const char *display);         /* signaling thread */
vr_participant *vr_participant_ref(vr_participant *p);
void vr_participant_unref(vr_participant *p);
json_t *vr_track_json(const vr_track *t);
json_t *vr_participant_json(const vr_participant *p);
const char *vr_client_name(vr_client c);       /* "websocket", "whip", "whep" */
void vr_room_notify(vr_room *room, const vr_participant *except, const char *method, json_t *params);
/* A notification to one participant (dropped for WHIP/WHEP); params stolen. */
void vr_notify(vr_participant *p, const char *method, json_t *params);
/* Joins (admission on the worker): NULL, or the error code and message. */
int vr_join(vr_participant *p, char **msg);
void vr_leave(vr_participant *p, const char *reason);
/* Publishes an offer; on success *answer and *tracks (json array). */
int vr_publish(vr_participant *p, const char *offer, char **answer, json_t **tracks, char **msg);
void vr_unpublish(vr_participant *p);
/* forced: by a moderator or the admin API (then the participant itself cannot
 * unmute the track: SB_ERR_ROLE). */
int vr_mute(vr_participant *p, bool muted, bool forced, int kind, json_t *track_ids,
            json_t **changed, char **msg);
json_t *vr_stats(vr_participant *p);
void vr_stats_interval(vr_participant *p, unsigned ms);
sb_peer *vr_peer_by_pc(vr_participant *p, const char *pc);

/* subscriber.c (worker) */
int vr_subscribe(vr_participant *p, json_t *ids, bool all, json_t **subscribed, char **msg);
int vr_unsubscribe(vr_participant *p, json_t *ids, bool all, json_t **removed, char **msg);
int vr_answer(vr_participant *p, const char *sdp, int version, char **msg);
/* ICE restart of the publisher PeerConnection (the client's offer in; *answer out)
 * or of the subscriber one (a room.offer with new credentials follows). */
int vr_restart_ice(vr_participant *p, bool publisher, const char *offer, char **answer, char **msg);
/* A track appeared (or came back): subscribers with "all" get it; sections bound to it rebind. */
void vr_track_published(vr_track *t);
/* A track is gone for good: its sections become inactive. */
void vr_track_removed(vr_track *t);
/* Sends the next offer if the subscriber's sections changed and none is pending. */
void vr_renegotiate(vr_participant *p);
/* Points a section's outbound stream at its track (maps, continuity, keyframe). */
void vr_section_bind(vr_section *s);
void vr_sections_free(vr_participant *p);
/* WHEP: answers a viewer's offer with the target participant's tracks. */
int vr_whep_answer(vr_participant *p, const char *offer, char **answer, char **msg);
/* Forwarding: one packet of a publisher's track to every subscriber section. */
void vr_forward(vr_track *t, sb_pktbuf *pkt, const sb_rtp_view *v);

/* data.c (worker): data tracks, published as data channels. */
void vr_data_channel_open(vr_participant *p, const sb_dc_info *ch);
void vr_data_message(vr_participant *p, uint16_t id, bool binary, const uint8_t *buf, size_t len);
void vr_data_channel_closed(vr_participant *p, uint16_t id);
/* Removes every data track of p (its publisher PeerConnection is going). */
void vr_data_unpublish(vr_participant *p);
/* Subscribes p to data track t (the application section is added if missing). */
bool vr_data_subscribe(vr_participant *p, vr_track *t, bool *changed);
/* Drops p's subscriptions to these data tracks (all: every one); ids go to removed. */
void vr_data_unsubscribe(vr_participant *p, json_t *ids, bool all, json_t *removed);
void vr_data_track_removed(vr_track *t);
/* The subscriber PeerConnection's association is up / went / a channel closed. */
void vr_data_sub_ready(vr_participant *p);
void vr_data_sub_gone(vr_participant *p);
void vr_data_sub_closed(vr_participant *p, uint16_t id);
void vr_data_participant_clear(vr_participant *p);

/* room.c: copies UTF-8 text into dst (cap bytes with the NUL), cut at a character
 * boundary so that it stays valid UTF-8 (JSON needs it); invalid input is mended. */
void vr_copy_text(char *dst, size_t cap, const char *src);
/* room.c: takes a track out of the room for good (subscribers' sections go inactive). */
void vr_track_remove(vr_participant *p, vr_track *t);
/* subscriber.c: the subscriber PeerConnection's application section (made if missing). */
vr_section *vr_data_section(vr_participant *p, bool *changed);

/* whip.c (signaling thread) */
void vr_http_init(void);
void vr_http_shutdown(void);
/* Ends p's WHIP/WHEP resource as a DELETE would; false when it has none. */
bool vr_http_close(vr_participant *p, const char *reason);

/* admin.c: the admin API's methods (core/plugin.h admin_methods). */
extern const sb_method vr_admin_methods[];
/* Shared with moderators' methods (signaling thread; each answers req):
 * rooms.create / rooms.destroy ({room, options?} / {room, reason?}); kicking
 * participant id out of room name; muting the participant of params
 * {participant, muted?, kind?, tracks?} (default_kind when neither kind nor
 * tracks: SB_MEDIA_AUDIO, or -1 for all). by ("admin", "moderator") goes to the
 * logs and room.muted. */
void vr_admin_rooms_create(sb_request *req);
void vr_admin_rooms_destroy(sb_request *req);
void vr_kick(sb_request *req, const char *name, const char *id, const char *reason, const char *by);
void vr_mute_other(sb_request *req, const char *name, int default_kind, const char *by);

/* moderate.c: moderators' JSON-RPC methods (signaling thread). */
void vr_room_kick(sb_request *req);            /* room.kick {participant, reason?, room?} */
void vr_room_create_method(sb_request *req);   /* room.create {room, options?} */
void vr_room_destroy_method(sb_request *req);  /* room.destroy {room, reason?} */
void vr_room_lock(sb_request *req);            /* room.lock {room?} */
void vr_room_unlock(sb_request *req);          /* room.unlock {room?} */
/* room.mute with a "participant": mutes another participant's tracks. */
void vr_room_mute_other(sb_request *req);

#endif
