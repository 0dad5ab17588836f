/* Switchboard — plugin registry, started as a module after media. */
#include "core/plugin.h"

#include <glib.h>
#include <string.h>

#include "core/log.h"
#include "core/module.h"

#define MAX_PLUGINS 16
#define PC_KEY "core.pcs"

static const sb_plugin *registered[MAX_PLUGINS];
static int registered_n;
static const sb_plugin *started[MAX_PLUGINS];
static int started_n;
static GHashTable *methods;  /* name -> const sb_method*, owner in method_owner */
static GHashTable *method_owner;

void sb_plugin_register(const sb_plugin *p) {
  g_assert(registered_n < MAX_PLUGINS);
  registered[registered_n++] = p;
}

static int plugins_start(sb_config *cfg) {
  methods = g_hash_table_new(g_str_hash, g_str_equal);
  method_owner = g_hash_table_new(g_str_hash, g_str_equal);
  for (int i = 0; i < registered_n; i++) {
    const sb_plugin *p = registered[i];
    if (!sb_config_get_bool(cfg, p->name, "enabled", true)) {
      sb_info("plugin %s disabled by configuration", p->name);
      continue;
    }
    if (p->init && p->init(cfg) != 0) {
      sb_error("plugin %s failed to start", p->name);
      return -1;
    }
    started[started_n++] = p;
    for (const sb_method *m = p->methods; m && m->name; m++) {
      if (m->role == SB_ROLE_UNDECLARED) {
        sb_error("plugin %s: method %s declares no role (sb_method.role, core/auth.h)", p->name, m->name);
        return -1;
      }
      if (g_hash_table_contains(methods, m->name)) {
        sb_error("plugin %s: method %s is already registered", p->name, m->name);
        return -1;
      }
      g_hash_table_insert(methods, (gpointer)m->name, (gpointer)m);
      g_hash_table_insert(method_owner, (gpointer)m->name, (gpointer)p);
    }
    sb_info("plugin %s started: %s", p->name, p->description);
  }
  return 0;
}

static void plugins_stop(void) {
  while (started_n > 0) {
    const sb_plugin *p = started[--started_n];
    if (p->destroy)
      p->destroy();
  }
  g_clear_pointer(&methods, g_hash_table_destroy);
  g_clear_pointer(&method_owner, g_hash_table_destroy);
}

static const sb_module plugins_module = {
  .name = "plugins",
  .order = SB_ORDER_PLUGINS,
  .start = plugins_start,
  .stop = plugins_stop,
};
SB_MODULE_REGISTER(plugins_module)

const sb_method *sb_plugin_find_method(const char *name, const sb_plugin **owner) {
  if (methods == NULL)
    return NULL;
  if (owner)
    *owner = g_hash_table_lookup(method_owner, name);
  return g_hash_table_lookup(methods, name);
}

const sb_method *sb_plugin_find_admin_method(const char *name) {
  for (int i = 0; i < started_n; i++)
    for (const sb_method *m = started[i]->admin_methods; m && m->name; m++)
      if (strcmp(m->name, name) == 0)
        return m;
  return NULL;
}

void sb_plugins_session_closed(sb_session *s) {
  for (int i = 0; i < started_n; i++)
    if (started[i]->session_closed)
      started[i]->session_closed(s);
  sb_session_set_data(s, PC_KEY, NULL, NULL);
}

void sb_plugins_status(json_t *out) {
  for (int i = 0; i < started_n; i++)
    if (started[i]->status)
      started[i]->status(out);
}

int sb_plugin_count(void) { return started_n; }
const sb_plugin *sb_plugin_get(int index) {
  return index >= 0 && index < started_n ? started[index] : NULL;
}

static GHashTable *session_pcs(sb_session *s, bool create) {
  GHashTable *pcs = sb_session_get_data(s, PC_KEY);
  if (pcs == NULL && create) {
    pcs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    sb_session_set_data(s, PC_KEY, pcs, (void (*)(void *))g_hash_table_destroy);
  }
  return pcs;
}

void sb_plugin_bind_pc(sb_session *s, const char *pc, const sb_plugin *owner) {
  g_hash_table_replace(session_pcs(s, true), g_strdup(pc), (gpointer)owner);
}

bool sb_plugin_session_has_pcs(sb_session *s) {
  GHashTable *pcs = session_pcs(s, false);
  return pcs && g_hash_table_size(pcs) > 0;
}

void sb_plugin_unbind_pc(sb_session *s, const char *pc) {
  GHashTable *pcs = session_pcs(s, false);
  if (pcs)
    g_hash_table_remove(pcs, pc);
}

const sb_plugin *sb_plugin_pc_owner(sb_session *s, const char *pc, const char **pc_out) {
  GHashTable *pcs = session_pcs(s, false);
  if (pcs == NULL)
    return NULL;
  if (pc) {
    if (pc_out)
      *pc_out = pc;
    return g_hash_table_lookup(pcs, pc);
  }
  if (g_hash_table_size(pcs) != 1)
    return NULL;
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init(&it, pcs);
  g_hash_table_iter_next(&it, &key, &value);
  if (pc_out)
    *pc_out = key;
  return value;
}

void sb_notify_peer_state(sb_session *s, const char *pc, const char *state, const char *reason) {
  if (s == NULL)
    return;
  json_t *params = json_pack("{s:s, s:s}", "pc", pc, "state", state);
  if (reason)
    json_object_set_new(params, "reason", json_string(reason));
  sb_session_notify(s, "peer.state", params);
}

void sb_notify_trickle(sb_session *s, const char *pc, const char *candidate, const char *mid, int mline) {
  if (s == NULL)
    return;
  json_t *params = candidate ? json_pack("{s:s, s:s, s:s?, s:i}", "pc", pc, "candidate", candidate,
                                         "sdpMid", mid, "sdpMLineIndex", mline)
                             : json_pack("{s:s, s:b}", "pc", pc, "completed", 1);
  sb_session_notify(s, "trickle", params);
}
