/* Switchboard — textroom: rooms, participants, history, and the requests that
 * arrive on data channels. Everything here runs on the textroom worker. */
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "plugins/textroom/textroom.h"

typedef struct tr_room {
  char *name;
  char *secret;                     /* moderator secret given by the join that created it */
  bool persistent;                  /* configured ([textroom] rooms): never dropped */
  GPtrArray *members;               /* tr_participant*, in join order */
  tr_history history;
  int64_t empty_since_us;           /* monotonic; 0 while it has members */
} tr_room;

typedef struct tr_participant {
  char id[TR_ID_LEN + 1];
  char *display;
  tr_room *room;
  tr_conn *conn;                    /* a reference */
  uint16_t channel;                 /* where its events go: the channel it joined on */
} tr_participant;

tr_counters tr_count;
static GHashTable *rooms;           /* name -> tr_room* (owned) */

/* --- sending --- */

static void send_text(tr_conn *c, uint16_t channel, const char *text) {
  if (c->peer == NULL || g_atomic_int_get(&c->ended))
    return;
  if (sb_peer_channel_send(c->peer, channel, false, (const uint8_t *)text, strlen(text)) != 0)
    sb_verbose("%s: textroom: could not send on channel %u (closed, too big or queue full)",
               c->name, channel);
}

/* Sends msg (stolen) on one channel. */
static void send_json(tr_conn *c, uint16_t channel, json_t *msg) {
  char *text = json_dumps(msg, JSON_COMPACT);
  json_decref(msg);
  if (text)
    send_text(c, channel, text);
  free(text);
}

/* Sends msg (stolen) to every member of r but `except`. */
static void broadcast(tr_room *r, json_t *msg, const tr_participant *except) {
  char *text = json_dumps(msg, JSON_COMPACT);
  json_decref(msg);
  if (text == NULL)
    return;
  for (guint i = 0; i < r->members->len; i++) {
    tr_participant *p = g_ptr_array_index(r->members, i);
    if (p != except)
      send_text(p->conn, p->channel, text);
  }
  free(text);
}

/* --- rooms --- */

static void room_free(void *data) {
  tr_room *r = data;
  g_atomic_int_add(&tr_count.rooms, -1);
  tr_history_clear(&r->history);
  g_ptr_array_unref(r->members);
  g_free(r->secret);
  g_free(r->name);
  g_free(r);
}

static tr_room *room_new(const char *name, const char *secret, bool persistent) {
  tr_room *r = g_new0(tr_room, 1);
  r->name = g_strdup(name);
  r->secret = secret && secret[0] ? g_strdup(secret) : NULL;
  r->persistent = persistent;
  r->members = g_ptr_array_new();
  r->empty_since_us = sb_now_us();
  tr_history_init(&r->history, tr_config()->history_size, tr_config()->history_max_bytes);
  g_hash_table_insert(rooms, r->name, r);
  g_atomic_int_inc(&tr_count.rooms);
  sb_info("textroom %s: created%s", name, persistent ? " (configured)" : "");
  return r;
}

static void room_drop(tr_room *r) {
  sb_info("textroom %s: dropped (empty)", r->name);
  g_hash_table_remove(rooms, r->name);
}

void tr_rooms_init(char **configured) {
  rooms = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, room_free);
  for (int i = 0; configured && configured[i]; i++) {
    const char *name = g_strstrip(configured[i]);
    if (!tr_room_name_valid(name))
      sb_warn("textroom: [textroom] rooms: '%s' is not a valid room name", name);
    else if (!g_hash_table_contains(rooms, name))
      room_new(name, NULL, true);
  }
}

static void participant_free(tr_participant *p) {
  g_atomic_int_add(&tr_count.participants, -1);
  tr_conn_unref(p->conn);
  g_free(p->display);
  g_free(p);
}

void tr_rooms_free(void) {
  if (rooms == NULL)
    return;
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init(&it, rooms);
  while (g_hash_table_iter_next(&it, NULL, &v)) {
    tr_room *r = v;
    for (guint i = 0; i < r->members->len; i++)
      participant_free(g_ptr_array_index(r->members, i));
    g_ptr_array_set_size(r->members, 0);
  }
  g_hash_table_destroy(rooms);
  rooms = NULL;
}

void tr_rooms_sweep(void) {
  int ttl = tr_config()->empty_room_ttl_s;
  int64_t now = sb_now_us();
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init(&it, rooms);
  while (g_hash_table_iter_next(&it, NULL, &v)) {
    tr_room *r = v;
    if (!r->persistent && r->members->len == 0 &&
        now - r->empty_since_us >= (int64_t)ttl * G_USEC_PER_SEC) {
      sb_info("textroom %s: dropped (empty for %d s)", r->name, ttl);
      g_hash_table_iter_remove(&it);
    }
  }
}

static tr_participant *find_member(tr_room *r, const char *id) {
  for (guint i = 0; i < r->members->len; i++) {
    tr_participant *p = g_ptr_array_index(r->members, i);
    if (strcmp(p->id, id) == 0)
      return p;
  }
  return NULL;
}

static json_t *participant_json(const tr_participant *p) {
  return json_pack("{s:s, s:s}", "id", p->id, "display", p->display);
}

/* Takes p out of its room; the others get `event` ("left" or "kicked": the
 * kicked participant gets it too). p is freed; an empty room may go. */
static void participant_remove(tr_participant *p, const char *event) {
  tr_room *r = p->room;
  json_t *ev = json_pack("{s:s, s:s, s:s}", "event", event, "room", r->name, "id", p->id);
  bool kicked = strcmp(event, "kicked") == 0;
  broadcast(r, ev, kicked ? NULL : p);
  sb_info("textroom %s: %s %s (%s)", r->name, p->id, event, p->conn->name);
  g_ptr_array_remove(r->members, p);
  g_hash_table_remove(p->conn->joined, r->name);
  participant_free(p);
  if (r->members->len == 0) {
    r->empty_since_us = sb_now_us();
    if (!r->persistent && tr_config()->empty_room_ttl_s == 0)
      room_drop(r);
  }
}

void tr_conn_channel_closed(tr_conn *c, uint16_t channel) {
  GPtrArray *gone = g_ptr_array_new();
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init(&it, c->joined);
  while (g_hash_table_iter_next(&it, NULL, &v))
    if (((tr_participant *)v)->channel == channel)
      g_ptr_array_add(gone, v);
  for (guint i = 0; i < gone->len; i++)
    participant_remove(g_ptr_array_index(gone, i), "left");
  g_ptr_array_unref(gone);
}

void tr_conn_leave_all(tr_conn *c) {
  GList *all = g_hash_table_get_values(c->joined);
  for (GList *l = all; l; l = l->next)
    participant_remove(l->data, "left");
  g_list_free(all);
}

/* --- requests --- */

/* The participant of c a request is about: in `room`, or in c's only room. */
static tr_participant *my_participant(tr_conn *c, const char *room, int *rc, char **msg) {
  tr_participant *p = NULL;
  if (room) {
    p = g_hash_table_lookup(c->joined, room);
    if (p == NULL) {
      *rc = SB_ERR_NOT_IN_ROOM;
      *msg = g_strdup_printf("you are not in room '%s'", room);
    }
    return p;
  }
  guint n = g_hash_table_size(c->joined);
  if (n == 1) {
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, c->joined);
    g_hash_table_iter_next(&it, NULL, &v);
    return v;
  }
  *rc = n == 0 ? SB_ERR_NOT_IN_ROOM : SB_ERR_INVALID_PARAMS;
  *msg = g_strdup(n == 0 ? "you are not in a room: join first"
                         : "you are in several rooms: say which (\"room\")");
  return NULL;
}

static int do_join(tr_conn *c, uint16_t channel, const tr_request *q, json_t *res, char **msg) {
  const tr_settings *cfg = tr_config();
  if (g_hash_table_contains(c->joined, q->room)) {
    *msg = g_strdup_printf("you are in room '%s' already", q->room);
    return SB_ERR_IN_ROOM;
  }
  if (g_hash_table_size(c->joined) >= TR_MAX_ROOMS_PER_CONN) {
    *msg = g_strdup_printf("one connection joins at most %d rooms", TR_MAX_ROOMS_PER_CONN);
    return SB_ERR_TOO_MANY_ROOMS;
  }
  tr_room *r = g_hash_table_lookup(rooms, q->room);
  if (r == NULL) {
    if (!cfg->create_on_join) {
      *msg = g_strdup_printf("there is no room '%s'", q->room);
      return SB_ERR_NO_ROOM;
    }
    if ((int)g_hash_table_size(rooms) >= cfg->max_rooms) {
      *msg = g_strdup_printf("the server has its maximum of %d rooms", cfg->max_rooms);
      return SB_ERR_TOO_MANY_ROOMS;
    }
    r = room_new(q->room, q->secret, false);
  }
  if ((int)r->members->len >= cfg->max_participants) {
    *msg = g_strdup_printf("room '%s' is full (%d participants)", r->name, cfg->max_participants);
    return SB_ERR_ROOM_FULL;
  }
  tr_participant *p = g_new0(tr_participant, 1);
  do {
    p->id[0] = 'u';
    sb_random_id(p->id + 1, TR_ID_LEN - 1);
  } while (find_member(r, p->id));
  p->display = g_strdup(q->display ? q->display : p->id);
  p->room = r;
  p->conn = tr_conn_ref(c);
  p->channel = channel;
  g_atomic_int_inc(&tr_count.participants);

  json_t *others = json_array();
  for (guint i = 0; i < r->members->len; i++)
    json_array_append_new(others, participant_json(g_ptr_array_index(r->members, i)));
  json_t *ev = json_pack("{s:s, s:s, s:s, s:s}", "event", "joined", "room", r->name, "id", p->id,
                         "display", p->display);
  broadcast(r, ev, NULL);
  g_ptr_array_add(r->members, p);
  g_hash_table_insert(c->joined, r->name, p);
  r->empty_since_us = 0;
  sb_info("textroom %s: %s joined as '%s' (%s, channel %u)", r->name, p->id, p->display, c->name,
          channel);
  json_object_set_new(res, "room", json_string(r->name));
  json_object_set_new(res, "id", json_string(p->id));
  json_object_set_new(res, "display", json_string(p->display));
  json_object_set_new(res, "participants", others);
  /* The reply must fit in one message the client takes (its max-message-size, ours
   * for events): the oldest history goes first. */
  json_t *history = tr_history_json(&r->history);
  json_object_set_new(res, "history", history);
  bool trimmed = false;
  size_t limit = MIN(cfg->max_message_size, tr_conn_max_send(c)) - 256;
  while (json_array_size(history) > 0 && json_dumpb(res, NULL, 0, JSON_COMPACT) > limit) {
    json_array_remove(history, 0);
    trimmed = true;
  }
  if (trimmed)
    json_object_set_new(res, "history_truncated", json_true());
  return 0;
}

static int do_message(tr_conn *c, const tr_request *q, json_t *res, char **msg) {
  int rc = 0;
  tr_participant *me = my_participant(c, q->room, &rc, msg);
  if (me == NULL)
    return rc;
  tr_participant *to = NULL;
  if (q->to && (to = find_member(me->room, q->to)) == NULL) {
    *msg = g_strdup_printf("no participant '%.32s' in room '%s'", q->to, me->room->name);
    return SB_ERR_NO_PARTICIPANT;
  }
  char date[32];
  tr_format_date(sb_wall_us(), date, sizeof date);
  json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:s}", "event", "message", "room",
                         me->room->name, "from", me->id, "display", me->display, "text", q->text,
                         "private", to != NULL, "date", date);
  if (to)
    json_object_set_new(ev, "to", json_string(to->id));
  char *text = json_dumps(ev, JSON_COMPACT);
  json_decref(ev);
  if (text == NULL || strlen(text) > tr_config()->max_message_size) {
    free(text);
    *msg = g_strdup_printf("the message is too long (events are at most %zu bytes)",
                           tr_config()->max_message_size);
    return SB_ERR_TOO_LARGE;
  }
  if (to) {
    send_text(to->conn, to->channel, text);
  } else {
    for (guint i = 0; i < me->room->members->len; i++) {
      tr_participant *p = g_ptr_array_index(me->room->members, i);
      send_text(p->conn, p->channel, text);
    }
    tr_history_push(&me->room->history,
                    json_pack("{s:s, s:s, s:s, s:s}", "from", me->id, "display", me->display,
                              "text", q->text, "date", date),
                    strlen(text));
  }
  free(text);
  sb_verbose("textroom %s: %s sent a %s message", me->room->name, me->id, to ? "private" : "public");
  json_object_set_new(res, "date", json_string(date));
  return 0;
}

static int do_leave(tr_conn *c, const tr_request *q, char **msg) {
  int rc = 0;
  tr_participant *me = my_participant(c, q->room, &rc, msg);
  if (me)
    participant_remove(me, "left");
  return rc;
}

static int do_list(const tr_request *q, json_t *res, char **msg) {
  if (q->room) {
    tr_room *r = g_hash_table_lookup(rooms, q->room);
    if (r == NULL) {
      *msg = g_strdup_printf("there is no room '%s'", q->room);
      return SB_ERR_NO_ROOM;
    }
    json_t *list = json_array();
    for (guint i = 0; i < r->members->len; i++)
      json_array_append_new(list, participant_json(g_ptr_array_index(r->members, i)));
    json_object_set_new(res, "room", json_string(r->name));
    json_object_set_new(res, "participants", list);
    return 0;
  }
  json_t *list = json_array();
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init(&it, rooms);
  while (g_hash_table_iter_next(&it, NULL, &v)) {
    tr_room *r = v;
    json_array_append_new(list, json_pack("{s:s, s:i}", "room", r->name, "participants",
                                          (int)r->members->len));
  }
  json_object_set_new(res, "rooms", list);
  return 0;
}

static int do_kick(tr_conn *c, const tr_request *q, char **msg) {
  const char *name = q->room;
  if (name == NULL) {
    int rc = 0;
    tr_participant *me = my_participant(c, NULL, &rc, msg);
    if (me == NULL)
      return rc;
    name = me->room->name;
  }
  tr_room *r = g_hash_table_lookup(rooms, name);
  if (r == NULL) {
    *msg = g_strdup_printf("there is no room '%s'", name);
    return SB_ERR_NO_ROOM;
  }
  bool moderator = c->moderates[0] && (strcmp(c->moderates, "*") == 0 || strcmp(c->moderates, r->name) == 0);
  if (!moderator && !tr_secret_equal(q->secret, r->secret) &&
      !tr_secret_equal(q->secret, tr_config()->moderator_secret)) {
    bool none = r->secret == NULL && tr_config()->moderator_secret == NULL;
    *msg = g_strdup(none ? "this room has no moderator secret: nobody may kick"
                         : "wrong or missing moderator secret");
    sb_info("textroom %s: kick of %.32s refused (%s)", r->name, q->id, c->name);
    return SB_ERR_FORBIDDEN;
  }
  tr_participant *target = find_member(r, q->id);
  if (target == NULL) {
    *msg = g_strdup_printf("no participant '%.32s' in room '%s'", q->id, r->name);
    return SB_ERR_NO_PARTICIPANT;
  }
  participant_remove(target, "kicked");
  return 0;
}

static bool unreadable(int rc) {
  return rc == SB_ERR_PARSE || rc == SB_ERR_INVALID_REQUEST || rc == SB_ERR_METHOD_NOT_FOUND ||
         rc == SB_ERR_TOO_LARGE;
}

void tr_handle_message(tr_conn *c, uint16_t channel, const uint8_t *buf, size_t len) {
  tr_request q;
  char *msg = NULL;
  json_t *res = json_object();
  int rc = tr_request_parse(buf, len, tr_config()->max_message_size, &q, &msg);
  if (rc != 0 && unreadable(rc)) {
    g_atomic_int_inc(&tr_count.malformed);
    sb_verbose("%s: textroom: request refused on channel %u: %s", c->name, channel, msg);
  }
  if (rc == 0) {
    switch (q.type) {
    case TR_REQ_JOIN:
      rc = do_join(c, channel, &q, res, &msg);
      break;
    case TR_REQ_MESSAGE:
      rc = do_message(c, &q, res, &msg);
      break;
    case TR_REQ_LEAVE:
      rc = do_leave(c, &q, &msg);
      break;
    case TR_REQ_LIST:
      rc = do_list(&q, res, &msg);
      break;
    case TR_REQ_KICK:
      rc = do_kick(c, &q, &msg);
      break;
    }
  }
  json_t *reply;
  if (rc == 0) {
    reply = tr_success(q.transaction);
    json_object_update(reply, res);
  } else {
    reply = tr_error(q.transaction, rc, msg);
  }
  json_decref(res);
  g_free(msg);
  tr_request_clear(&q);
  send_json(c, channel, reply);
}
