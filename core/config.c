/* Switchboard — configuration. */
#include "core/config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

struct sb_config {
  GKeyFile *kf;
  char *path;
  GHashTable *read;   /* "section.key" that a getter asked for */
  int errors;
};

static sb_config *config_wrap(GKeyFile *kf, const char *path) {
  sb_config *cfg = g_new0(sb_config, 1);
  cfg->kf = kf;
  cfg->path = g_strdup(path);
  cfg->read = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  return cfg;
}

sb_config *sb_config_new(void) { return config_wrap(g_key_file_new(), NULL); }

sb_config *sb_config_load(const char *path, char **error) {
  GKeyFile *kf = g_key_file_new();
  GError *err = NULL;
  if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &err)) {
    if (error)
      *error = g_strdup_printf("cannot load %s: %s", path, err->message);
    g_error_free(err);
    g_key_file_free(kf);
    return NULL;
  }
  return config_wrap(kf, path);
}

sb_config *sb_config_load_data(const char *data, char **error) {
  GKeyFile *kf = g_key_file_new();
  GError *err = NULL;
  if (!g_key_file_load_from_data(kf, data, (gsize)-1, G_KEY_FILE_NONE, &err)) {
    if (error)
      *error = g_strdup(err->message);
    g_error_free(err);
    g_key_file_free(kf);
    return NULL;
  }
  return config_wrap(kf, NULL);
}

void sb_config_free(sb_config *cfg) {
  if (cfg == NULL)
    return;
  g_key_file_free(cfg->kf);
  g_hash_table_destroy(cfg->read);
  g_free(cfg->path);
  g_free(cfg);
}

const char *sb_config_path(const sb_config *cfg) { return cfg->path; }
int sb_config_errors(const sb_config *cfg) { return cfg->errors; }

/* A group or key name GKeyFile can hold: g_key_file_set_value refuses others with
 * a critical (fatal under G_DEBUG=fatal-criticals) and sets nothing. */
static bool config_name_ok(const char *s, size_t n) {
  if (n == 0 || s[0] == ' ' || s[n - 1] == ' ')
    return false;
  for (size_t i = 0; i < n; i++)
    if (s[i] == '[' || s[i] == ']' || g_ascii_iscntrl(s[i]))
      return false;
  return true;
}

bool sb_config_set_override(sb_config *cfg, const char *assignment, char **error) {
  const char *dot = strchr(assignment, '.');
  const char *eq = strchr(assignment, '=');
  if (dot == NULL || eq == NULL || dot > eq ||
      !config_name_ok(assignment, (size_t)(dot - assignment)) ||
      !config_name_ok(dot + 1, (size_t)(eq - dot - 1))) {
    if (error)
      *error = g_strdup_printf("override '%s' is not of the form section.key=value", assignment);
    return false;
  }
  char *section = g_strndup(assignment, (gsize)(dot - assignment));
  char *key = g_strndup(dot + 1, (gsize)(eq - dot - 1));
  g_key_file_set_value(cfg->kf, section, key, eq + 1);
  g_free(section);
  g_free(key);
  return true;
}

/* Returns the raw value (owned by the caller) and remembers that the key was read. */
static char *config_raw(sb_config *cfg, const char *section, const char *key) {
  g_hash_table_add(cfg->read, g_strdup_printf("%s.%s", section, key));
  char *v = g_key_file_get_value(cfg->kf, section, key, NULL);
  if (v != NULL)
    g_strstrip(v);
  return v;
}

char *sb_config_get_string(sb_config *cfg, const char *section, const char *key, const char *def) {
  char *v = config_raw(cfg, section, key);
  if (v == NULL)
    return g_strdup(def);
  /* GKeyFile keeps quotes literally; accept "value" as a convenience. */
  size_t n = strlen(v);
  if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
    memmove(v, v + 1, n - 2);
    v[n - 2] = '\0';
  }
  return v;
}

int64_t sb_config_get_int(sb_config *cfg, const char *section, const char *key, int64_t def) {
  char *v = config_raw(cfg, section, key);
  if (v == NULL || *v == '\0') {
    g_free(v);
    return def;
  }
  char *end = NULL;
  errno = 0;
  long long n = strtoll(v, &end, 0);
  if (errno != 0 || end == v || *end != '\0') {
    sb_error("config: [%s] %s = '%s' is not an integer; using %lld", section, key, v,
             (long long)def);
    cfg->errors++;
    g_free(v);
    return def;
  }
  g_free(v);
  return n;
}

int64_t sb_config_get_int_range(sb_config *cfg, const char *section, const char *key, int64_t def,
                                int64_t min, int64_t max) {
  int64_t n = sb_config_get_int(cfg, section, key, def);
  if (n < min || n > max) {
    int64_t c = n < min ? min : max;
    sb_warn("config: [%s] %s = %lld is outside %lld..%lld; using %lld", section, key,
            (long long)n, (long long)min, (long long)max, (long long)c);
    cfg->errors++;
    return c;
  }
  return n;
}

bool sb_config_get_bool(sb_config *cfg, const char *section, const char *key, bool def) {
  char *v = config_raw(cfg, section, key);
  if (v == NULL || *v == '\0') {
    g_free(v);
    return def;
  }
  bool r = def;
  if (!g_ascii_strcasecmp(v, "true") || !g_ascii_strcasecmp(v, "yes") ||
      !g_ascii_strcasecmp(v, "on") || !strcmp(v, "1"))
    r = true;
  else if (!g_ascii_strcasecmp(v, "false") || !g_ascii_strcasecmp(v, "no") ||
           !g_ascii_strcasecmp(v, "off") || !strcmp(v, "0"))
    r = false;
  else {
    sb_error("config: [%s] %s = '%s' is not a boolean; using %s", section, key, v,
             def ? "true" : "false");
    cfg->errors++;
  }
  g_free(v);
  return r;
}

char **sb_config_get_list(sb_config *cfg, const char *section, const char *key) {
  char *v = config_raw(cfg, section, key);
  if (v == NULL)
    return NULL;
  char **parts = g_strsplit(v, ",", -1);
  g_free(v);
  /* Drop empty items and surrounding spaces. */
  GPtrArray *out = g_ptr_array_new();
  for (char **p = parts; *p; p++) {
    g_strstrip(*p);
    if (**p)
      g_ptr_array_add(out, g_strdup(*p));
  }
  g_strfreev(parts);
  g_ptr_array_add(out, NULL);
  return (char **)g_ptr_array_free(out, FALSE);
}

int sb_config_warn_unused(sb_config *cfg) {
  int unused = 0;
  char **groups = g_key_file_get_groups(cfg->kf, NULL);
  for (char **g = groups; *g; g++) {
    char **keys = g_key_file_get_keys(cfg->kf, *g, NULL, NULL);
    for (char **k = keys; k && *k; k++) {
      char *name = g_strdup_printf("%s.%s", *g, *k);
      if (!g_hash_table_contains(cfg->read, name)) {
        sb_warn("config: unknown option [%s] %s (ignored)", *g, *k);
        unused++;
      }
      g_free(name);
    }
    g_strfreev(keys);
  }
  g_strfreev(groups);
  return unused;
}
