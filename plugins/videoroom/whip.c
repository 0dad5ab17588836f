/* Switchboard — videoroom over HTTP: WHIP (RFC 9725) ingest and WHEP egress.
 *
 * A WHIP session is a participant that only publishes, a WHEP session one that
 * only receives (it offers, we answer with another participant's tracks). Each is
 * an HTTP resource, /whip/<room>/<id> or /whep/<room>/<id>, that PATCH trickles
 * candidates to and DELETE ends. The resource table lives on the signaling
 * thread; the media work runs on the room's worker like everything else. */
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "plugins/videoroom/room.h"

typedef struct resource {
  char id[17];
  bool whep;
  vr_participant *p;           /* a reference */
} resource;

static GHashTable *resources;  /* id -> resource* */

static void resource_free(gpointer data) {
  resource *r = data;
  vr_participant_unref(r->p);
  g_free(r);
}

static const char *prefix_of(bool whep) { return whep ? "/whep/" : "/whip/"; }

static int http_status(int rc) {
  switch (rc) {
  case SB_ERR_NO_ROOM:
  case SB_ERR_NO_TRACK:
    return 404;
  case SB_ERR_ROOM_FULL:
  case SB_ERR_ROOM_LOCKED:
  case SB_ERR_MAX_PUBLISHERS:
  case SB_ERR_BUSY:
    return 409;
  case SB_ERR_MEDIA:
  case SB_ERR_TOO_MANY_ROOMS:
    return 503;
  default:
    return 400;
  }
}

static bool content_type_is(sb_http_request *r, const char *type) {
  const char *ct = sb_http_header(r, "content-type");
  if (ct == NULL)
    return false;
  size_t n = strlen(type);
  return g_ascii_strncasecmp(ct, type, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static char *body_text(sb_http_request *r) {
  size_t len;
  const uint8_t *b = sb_http_body(r, &len);
  return g_strndup((const char *)b, len);
}

/* --- jobs --- */

typedef struct http_job {
  sb_http_request *req;
  vr_participant *p;
  char *rid;                   /* resource id */
  char *sdp;
  char **candidates;
  bool end_of_candidates;
  bool whep;
  char *reason;                /* vr_http_close */
} http_job;

static void http_job_free(void *data) {
  http_job *j = data;
  vr_participant_unref(j->p);
  g_free(j->rid);
  g_free(j->sdp);
  g_strfreev(j->candidates);
  g_free(j->reason);
  g_free(j);
}

/* A failed POST takes its resource back out of the table (signaling thread). */
static void forget_resource(void *data) {
  char *rid = data;
  resource *r = resources ? g_hash_table_lookup(resources, rid) : NULL;
  if (r) {
    vr_room_release(r->p->room);
    g_hash_table_remove(resources, rid);
  }
}

static void post_on_worker(void *data) {
  http_job *j = data;
  char *answer = NULL, *msg = NULL;
  json_t *tracks = NULL;
  int rc = vr_join(j->p, &msg);
  if (rc == 0)
    rc = j->whep ? vr_whep_answer(j->p, j->sdp, &answer, &msg)
                 : vr_publish(j->p, j->sdp, &answer, &tracks, &msg);
  if (tracks)
    json_decref(tracks);
  if (rc != 0) {
    sb_info("room %s: %s refused: %s", j->p->room->name, j->whep ? "WHEP" : "WHIP", msg);
    vr_leave(j->p, "refused");
    sb_http_error(j->req, http_status(rc), "%s", msg);
    g_free(msg);
    sb_main_call(forget_resource, g_strdup(j->rid), g_free);
    return;
  }
  char location[160];
  g_snprintf(location, sizeof location, "Location: %s%s/%s", prefix_of(j->whep), j->p->room->name, j->rid);
  char etag[40];
  g_snprintf(etag, sizeof etag, "ETag: \"%s\"", j->rid);
  const char *headers[] = { location, etag };
  sb_http_reply(j->req, 201, "application/sdp", headers, G_N_ELEMENTS(headers), answer, strlen(answer));
  g_free(answer);
}

static void patch_on_worker(void *data) {
  http_job *j = data;
  sb_peer *peer = j->whep ? j->p->sub : j->p->pub;
  if (peer == NULL || j->p->left) {
    sb_http_error(j->req, 404, "this session has ended");
    return;
  }
  for (char **c = j->candidates; c && *c; c++) {
    char *msg = NULL;
    if (sb_peer_add_remote_candidate(peer, *c, &msg) != 0) {
      sb_http_error(j->req, 400, "%s", msg);
      g_free(msg);
      return;
    }
  }
  if (j->end_of_candidates)
    sb_peer_add_remote_candidate(peer, NULL, NULL);
  sb_http_reply(j->req, 204, NULL, NULL, 0, NULL, 0);
}

static void delete_on_worker(void *data) {
  http_job *j = data;
  vr_leave(j->p, j->whep ? "WHEP session deleted" : "WHIP session deleted");
  sb_http_reply(j->req, 200, NULL, NULL, 0, NULL, 0);
}

static void job_post(vr_participant *p, void (*fn)(void *), http_job *j) {
  j->p = vr_participant_ref(p);
  sb_worker_call(p->room->worker, fn, j, http_job_free);
}

/* --- requests --- */

static void handle_post(sb_http_request *r, bool whep, char **seg) {
  if (seg[0] == NULL || (seg[1] != NULL && (!whep || seg[2] != NULL))) {
    sb_http_error(r, 404, "POST to %s<room>%s", prefix_of(whep), whep ? " or /whep/<room>/<participant>" : "");
    return;
  }
  if (!content_type_is(r, "application/sdp")) {
    sb_http_error(r, 415, "the body must be an SDP offer (Content-Type: application/sdp)");
    return;
  }
  vr_room *room = NULL;
  char *msg = NULL;
  int rc = vr_room_acquire(seg[0], NULL, &room, &msg);
  if (rc != 0) {
    sb_http_error(r, http_status(rc), "%s", msg);
    g_free(msg);
    return;
  }
  vr_participant *p = vr_participant_new(room, whep ? VR_CLIENT_WHEP : VR_CLIENT_WHIP, NULL,
                                         whep ? "whep" : "whip");
  if (whep && seg[1])
    g_strlcpy(p->target, seg[1], sizeof p->target);
  resource *res = g_new0(resource, 1);
  sb_random_id(res->id, 16);
  res->whep = whep;
  res->p = p;
  g_hash_table_insert(resources, res->id, res);
  http_job *j = g_new0(http_job, 1);
  j->req = r;
  j->rid = g_strdup(res->id);
  j->sdp = body_text(r);
  j->whep = whep;
  sb_info("room %s: %s session %s from %s", room->name, whep ? "WHEP" : "WHIP", res->id, sb_http_remote(r));
  job_post(p, post_on_worker, j);
}

static resource *find_resource(sb_http_request *r, bool whep, char **seg) {
  resource *res = seg[0] && seg[1] && !seg[2] ? g_hash_table_lookup(resources, seg[1]) : NULL;
  if (res == NULL || res->whep != whep || strcmp(res->p->room->name, seg[0]) != 0) {
    sb_http_error(r, 404, "no such %s session", whep ? "WHEP" : "WHIP");
    return NULL;
  }
  return res;
}

/* RFC 8840 §9 sdpfrag: a=candidate lines and a=end-of-candidates. */
static void handle_patch(sb_http_request *r, bool whep, char **seg) {
  resource *res = find_resource(r, whep, seg);
  if (res == NULL)
    return;
  if (!content_type_is(r, "application/trickle-ice-sdpfrag")) {
    sb_http_error(r, 415, "PATCH takes Content-Type: application/trickle-ice-sdpfrag");
    return;
  }
  char *text = body_text(r);
  char **lines = g_strsplit_set(text, "\r\n", -1);
  GPtrArray *cands = g_ptr_array_new();
  http_job *j = g_new0(http_job, 1);
  for (char **l = lines; *l; l++) {
    if (g_str_has_prefix(*l, "a=candidate:"))
      g_ptr_array_add(cands, g_strdup(*l + 2));
    else if (strcmp(*l, "a=end-of-candidates") == 0)
      j->end_of_candidates = true;
  }
  g_ptr_array_add(cands, NULL);
  g_strfreev(lines);
  g_free(text);
  j->req = r;
  j->candidates = (char **)g_ptr_array_free(cands, FALSE);
  j->whep = whep;
  job_post(res->p, patch_on_worker, j);
}

static void handle_delete(sb_http_request *r, bool whep, char **seg) {
  resource *res = find_resource(r, whep, seg);
  if (res == NULL)
    return;
  http_job *j = g_new0(http_job, 1);
  j->req = r;
  j->whep = whep;
  job_post(res->p, delete_on_worker, j);
  vr_room_release(res->p->room);
  g_hash_table_remove(resources, res->id);
}

/* Every request carries a token for the room (RFC 9725 §4.5: the same one for
 * the POST, PATCH and DELETE): WHIP needs a user, WHEP a guest (core/auth.h).
 * false: answered, 401 (RFC 6750 §3) or 403. */
static bool authorized(sb_http_request *r, bool whep, const char *room) {
  sb_claims claims;
  char *msg = NULL;
  int rc = sb_auth_http(r, room, whep ? SB_ROLE_GUEST : SB_ROLE_USER, &claims, &msg);
  if (rc != 0)
    sb_info("%s %s refused from %s: %s", whep ? "WHEP" : "WHIP", sb_http_path(r), sb_http_remote(r), msg);
  if (rc == SB_ERR_UNAUTHORIZED) {
    static const char *const challenge[] = { "WWW-Authenticate: Bearer realm=\"switchboard\"" };
    sb_http_reply(r, 401, "text/plain", challenge, 1, msg, strlen(msg));
  } else if (rc != 0) {
    sb_http_error(r, 403, "%s", msg);
  }
  g_free(msg);
  return rc == 0;
}

static void http_handler(sb_http_request *r, void *ud) {
  bool whep = ud != NULL;
  char **seg = sb_http_path_segments(r, prefix_of(whep));
  const char *m = sb_http_method(r);
  if (!authorized(r, whep, seg[0]))
    return;
  if (strcmp(m, "POST") == 0)
    handle_post(r, whep, seg);
  else if (strcmp(m, "PATCH") == 0)
    handle_patch(r, whep, seg);
  else if (strcmp(m, "DELETE") == 0)
    handle_delete(r, whep, seg);
  else
    sb_http_error(r, 405, "%s is not allowed here", m);
}

void vr_http_init(void) {
  resources = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, resource_free);
  sb_http_route_add("/whip/", "POST, PATCH, DELETE", http_handler, NULL);
  sb_http_route_add("/whep/", "POST, PATCH, DELETE", http_handler, GINT_TO_POINTER(1));
}

static void leave_job(void *data) { vr_leave(data, "server shutting down"); }

static void close_on_worker(void *data) {
  http_job *j = data;
  vr_leave(j->p, j->reason);
}

bool vr_http_close(vr_participant *p, const char *reason) {
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init(&it, resources);
  while (g_hash_table_iter_next(&it, NULL, &v)) {
    resource *res = v;
    if (res->p != p)
      continue;
    http_job *j = g_new0(http_job, 1);
    j->reason = g_strdup(reason);
    job_post(p, close_on_worker, j);
    vr_room_release(p->room);
    g_hash_table_iter_remove(&it);
    return true;
  }
  return false;
}

void vr_http_shutdown(void) {
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init(&it, resources);
  while (g_hash_table_iter_next(&it, NULL, &v)) {
    resource *res = v;
    sb_worker_call(res->p->room->worker, leave_job, vr_participant_ref(res->p),
                   (void (*)(void *))vr_participant_unref);
    vr_room_release(res->p->room);
  }
  g_clear_pointer(&resources, g_hash_table_destroy);
  sb_http_routes_clear();
}
