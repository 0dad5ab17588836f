/* Switchboard — textroom: the types its files share.
 *
 * A connection (tr_conn) is one session's data-only PeerConnection ("textroom");
 * over its data channels the client joins rooms, where it is a participant
 * (tr_participant, one per room joined), sends messages and sees others'.
 *
 * Threads: every connection's peer and every room live on ONE worker, chosen
 * when the plugin starts (tr_worker()). Chat is light, and with everything on
 * one thread a message reaches every participant's channel with no lock and no
 * hop. Fields marked "worker" are touched only there; the JSON-RPC methods
 * (signaling thread) only post jobs. */
#ifndef SB_PLUGINS_TEXTROOM_TEXTROOM_H
#define SB_PLUGINS_TEXTROOM_TEXTROOM_H

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/session.h"
#include "core/worker.h"
#include "media/peer.h"
#include "plugins/textroom/protocol.h"

typedef struct tr_settings {
  int history_size;                 /* public messages replayed on join */
  size_t history_max_bytes;         /* ... and their bytes at most, per room */
  int max_rooms;
  int max_participants;             /* per room */
  size_t max_message_size;          /* bytes of a request, and of an event sent */
  bool create_on_join;              /* join creates an unknown room */
  char *moderator_secret;           /* kick in any room; NULL: only a room's own secret */
  int empty_room_ttl_s;             /* an empty room (not configured) is dropped after this */
} tr_settings;

typedef struct tr_conn {
  gint refs;
  sb_session *session;
  char name[48];                    /* "session <id>/textroom", for logs */
  char moderates[65];               /* a moderator token's room claim ("*" or a name), or "" */
  /* worker */
  sb_peer *peer;
  GHashTable *joined;               /* room name -> tr_participant* */
  /* any thread */
  gint ended;                       /* the peer failed/closed, was hung up, or never started */
} tr_conn;

#define TR_MAX_ROOMS_PER_CONN 16   /* rooms one connection may be in at once */

/* The largest message the client takes (its a=max-message-size). Worker. */
static inline size_t tr_conn_max_send(const tr_conn *c) {
  size_t n = c->peer ? sb_peer_data_max_message(c->peer) : 0;
  return n ? n : 65536;
}

tr_conn *tr_conn_ref(tr_conn *c);
void tr_conn_unref(void *c);

/* textroom.c */
const tr_settings *tr_config(void);
sb_worker *tr_worker(void);

/* room.c, worker thread */
void tr_rooms_init(char **configured);
void tr_rooms_free(void);
/* Drops empty rooms whose time is up (a timer calls it). */
void tr_rooms_sweep(void);
/* A message arrived on one of c's channels: answers it on that channel. */
void tr_handle_message(tr_conn *c, uint16_t channel, const uint8_t *buf, size_t len);
/* c leaves every room it joined on that channel (the channel closed). */
void tr_conn_channel_closed(tr_conn *c, uint16_t channel);
/* c leaves every room (its PeerConnection ended). */
void tr_conn_leave_all(tr_conn *c);

/* Counters for server.status (any thread). */
typedef struct tr_counters {
  gint rooms;
  gint participants;
  gint malformed;                   /* requests refused as unreadable (not JSON, no request) */
} tr_counters;
extern tr_counters tr_count;

#endif
