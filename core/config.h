/* Switchboard — configuration: an INI file (GKeyFile) plus command-line overrides.
 *
 * Every getter takes the default to use when the key is absent, so safe defaults
 * live next to the code that uses them (and in conf/switchboard.conf, which
 * documents every option). Keys that are set but never read are reported once at
 * start-up: a typo in the config should not pass silently. Read at start-up
 * only; not thread-safe afterwards. */
#ifndef SB_CORE_CONFIG_H
#define SB_CORE_CONFIG_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct sb_config sb_config;

/* An empty configuration (all defaults). */
sb_config *sb_config_new(void);
/* Loads path. Returns NULL and sets *error (g_malloc'd) on failure. */
sb_config *sb_config_load(const char *path, char **error);
/* Loads INI text (for tests). */
sb_config *sb_config_load_data(const char *data, char **error);
void sb_config_free(sb_config *cfg);

/* Applies "section.key=value". Returns false (and sets *error) when malformed. */
bool sb_config_set_override(sb_config *cfg, const char *assignment, char **error);

/* Getters; a value that is present but not of the type is reported as an error
 * once and the default is used. The returned strings belong to the caller. */
char *sb_config_get_string(sb_config *cfg, const char *section, const char *key, const char *def);
int64_t sb_config_get_int(sb_config *cfg, const char *section, const char *key, int64_t def);
/* Like get_int, clamped to [min, max] with a warning when outside. */
int64_t sb_config_get_int_range(sb_config *cfg, const char *section, const char *key, int64_t def,
                                int64_t min, int64_t max);
bool sb_config_get_bool(sb_config *cfg, const char *section, const char *key, bool def);
/* A comma-separated list; NULL-terminated, free with g_strfreev. NULL when absent. */
char **sb_config_get_list(sb_config *cfg, const char *section, const char *key);

/* Path of the file loaded, or NULL. */
const char *sb_config_path(const sb_config *cfg);
/* Logs a warning for each key present in the file but never read; returns their count. */
int sb_config_warn_unused(sb_config *cfg);
/* Number of type or range errors met by the getters. */
int sb_config_errors(const sb_config *cfg);

#endif
