/* Switchboard — the admin API's route table and its matcher (no I/O). */
#include "signaling/admin_route.h"

#include <glib.h>
#include <string.h>

#define P "/admin/v1"

static const sb_admin_route routes[] = {
  { "GET", P "/info", "server.info", 200 },
  { "GET", P "/loglevel", "loglevel.get", 200 },
  { "PUT", P "/loglevel", "loglevel.set", 200 },
  { "GET", P "/rooms", "rooms.list", 200 },
  { "POST", P "/rooms", "rooms.create", 201 },
  { "GET", P "/rooms/{room}", "rooms.get", 200 },
  { "DELETE", P "/rooms/{room}", "rooms.destroy", 200 },
  { "GET", P "/rooms/{room}/participants/{participant}", "participants.get", 200 },
  { "POST", P "/rooms/{room}/participants/{participant}/kick", "participants.kick", 200 },
  { "POST", P "/rooms/{room}/participants/{participant}/mute", "participants.mute", 200 },
};

int sb_admin_route_count(void) { return (int)G_N_ELEMENTS(routes); }

const sb_admin_route *sb_admin_route_get(int index) {
  return index >= 0 && index < sb_admin_route_count() ? &routes[index] : NULL;
}

/* Whether path fits pattern segment by segment; captures (when given) get the
 * "{name}" segments. */
static bool path_fits(const char *pattern, char **segs, json_t *captures) {
  char **pat = g_strsplit(pattern, "/", -1);
  bool ok = g_strv_length(pat) == g_strv_length(segs);
  for (guint i = 0; ok && pat[i]; i++) {
    size_t n = strlen(pat[i]);
    if (n > 2 && pat[i][0] == '{' && pat[i][n - 1] == '}') {
      ok = segs[i][0] != '\0';
      if (ok && captures) {
        char *name = g_strndup(pat[i] + 1, n - 2);
        json_object_set_new(captures, name, json_string(segs[i]));
        g_free(name);
      }
    } else {
      ok = strcmp(pat[i], segs[i]) == 0;
    }
  }
  g_strfreev(pat);
  return ok;
}

int sb_admin_route_match(const char *method, const char *path, json_t *captures, char *allow,
                         size_t allow_len) {
  char *p = g_strdup(path);
  size_t n = strlen(p);
  if (n > 1 && p[n - 1] == '/')
    p[n - 1] = '\0';
  char **segs = g_strsplit(p, "/", -1);
  g_free(p);
  int found = SB_ADMIN_NO_PATH;
  GString *methods = g_string_new(NULL);
  for (int i = 0; i < sb_admin_route_count() && found < 0; i++) {
    if (!path_fits(routes[i].pattern, segs, NULL))
      continue;
    if (strcmp(routes[i].method, method) == 0) {
      found = i;
      if (captures)
        path_fits(routes[i].pattern, segs, captures);
    } else {
      found = SB_ADMIN_BAD_METHOD;
      g_string_append_printf(methods, "%s%s", methods->len ? ", " : "", routes[i].method);
    }
  }
  if (found == SB_ADMIN_BAD_METHOD && allow && allow_len)
    g_strlcpy(allow, methods->str, allow_len);
  g_string_free(methods, TRUE);
  g_strfreev(segs);
  return found;
}

bool sb_admin_token_equal(const char *presented, const char *expected) {
  if (presented == NULL || expected == NULL || *expected == '\0')
    return false;
  /* Compare digests, so neither length nor a common prefix shows in the time. */
  guint8 a[32], b[32];
  gsize la = sizeof a, lb = sizeof b;
  GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);
  g_checksum_update(c, (const guchar *)presented, -1);
  g_checksum_get_digest(c, a, &la);
  g_checksum_reset(c);
  g_checksum_update(c, (const guchar *)expected, -1);
  g_checksum_get_digest(c, b, &lb);
  g_checksum_free(c);
  volatile guint8 diff = 0;
  for (size_t i = 0; i < sizeof a; i++)
    diff |= a[i] ^ b[i];
  return diff == 0;
}

bool sb_admin_bearer_token(const char *header, char *out, size_t out_len) {
  if (header == NULL)
    return false;
  while (*header == ' ' || *header == '\t')
    header++;
  if (g_ascii_strncasecmp(header, "Bearer", 6) != 0 || (header[6] != ' ' && header[6] != '\t'))
    return false;
  const char *t = header + 6;
  while (*t == ' ' || *t == '\t')
    t++;
  size_t n = strlen(t);
  while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t'))
    n--;
  if (n == 0 || n >= out_len)
    return false;
  memcpy(out, t, n);
  out[n] = '\0';
  return true;
}
