/* Switchboard — videoroom: moderators' methods (room.kick, room.mute of another
 * participant, room.create, room.destroy, room.lock, room.unlock).
 *
 * Each needs a moderator token for the room it acts on (core/auth.h): signaling
 * has checked the role and a "room" param before the handler runs; a method
 * that acts on the caller's own room checks that room here. Kicking, muting,
 * creating and destroying are the admin API's operations (admin.c), so a
 * moderator's kick is exactly an administrator's: room.kicked, then out as with
 * room.leave. Signaling thread. */
#include <string.h>

#include "core/auth.h"
#include "core/log.h"
#include "plugins/videoroom/room.h"

/* The room a method acts on: its "room" param, else the caller's room. NULL
 * when there is none or the caller may not moderate it (req answered). */
static const char *target_room(sb_request *req) {
  json_t *room = json_object_get(sb_request_params(req), "room");
  const char *name = NULL;
  if (room && !json_is_string(room)) {
    sb_request_error(req, SB_ERR_INVALID_PARAMS, "\"room\" must be a room name");
    return NULL;
  }
  if (room) {
    name = json_string_value(room);
  } else {
    vr_participant *me = vr_session_participant(sb_request_session(req));
    if (me == NULL) {
      sb_request_error(req, SB_ERR_NOT_IN_ROOM, "you are not in a room: give \"room\"");
      return NULL;
    }
    name = me->room->name;
  }
  return sb_auth_require(req, name, SB_ROLE_MODERATOR) ? name : NULL;
}

void vr_room_kick(sb_request *req) {
  const char *id = NULL, *reason = NULL, *name = NULL;
  if (!sb_request_unpack(req, "{s:s, s?s}", "participant", &id, "reason", &reason) || !(name = target_room(req)))
    return;
  vr_kick(req, name, id, reason ? reason : "removed by a moderator", "moderator");
}

void vr_room_mute_other(sb_request *req) {
  const char *name = target_room(req);
  /* As room.mute: without kind or tracks, every track. */
  if (name)
    vr_mute_other(req, name, -1, "moderator");
}

void vr_room_create_method(sb_request *req) {
  if (target_room(req))
    vr_admin_rooms_create(req);
}

void vr_room_destroy_method(sb_request *req) {
  if (target_room(req))
    vr_admin_rooms_destroy(req);
}

static void lock(sb_request *req, bool locked) {
  const char *name = target_room(req);
  if (name == NULL)
    return;
  vr_room *room = vr_room_find(name);
  if (room == NULL || room->closing) {
    sb_request_error(req, SB_ERR_NO_ROOM, "there is no room '%s'", name);
    return;
  }
  if (room->locked != locked)
    sb_info("room %s: %s by a moderator (session %s)", room->name, locked ? "locked" : "unlocked",
            sb_session_id(sb_request_session(req)));
  room->locked = locked;
  sb_request_reply(req, json_pack("{s:s, s:b}", "room", room->name, "locked", locked));
}

void vr_room_lock(sb_request *req) { lock(req, true); }
void vr_room_unlock(sb_request *req) { lock(req, false); }
