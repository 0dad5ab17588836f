/* Switchboard — logging: levels, timestamps, one line per event.
 *
 * Lines go to stderr as "2026-11-29 15:04:05.123 [info] worker-1: text". The
 * level is global and may change at run time. GLib's and libnice's g_log
 * messages are routed here too (libnice's debug output only when enabled). */
#ifndef SB_CORE_LOG_H
#define SB_CORE_LOG_H

#include <stdbool.h>

typedef enum {
  SB_LOG_ERROR = 0,
  SB_LOG_WARN,
  SB_LOG_INFO,
  SB_LOG_VERBOSE,
  SB_LOG_DEBUG,
} sb_log_level;

/* Parses "error", "warn", "info", "verbose", "debug" (or 0..4). Returns -1 when unknown. */
int sb_log_level_parse(const char *s);
const char *sb_log_level_name(sb_log_level level);
void sb_log_set_level(sb_log_level level);
sb_log_level sb_log_get_level(void);
/* Installs the GLib log writer; libnice's own debug output is shown only when
 * ice_debug is true and the level is debug. */
void sb_log_init(sb_log_level level, bool ice_debug);
/* Names the calling thread in log lines ("main", "worker-2"). */
void sb_log_set_thread_name(const char *name);

void sb_log_write(sb_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define SB_LOG(level, ...) \
  do { if ((level) <= sb_log_get_level()) sb_log_write((level), __VA_ARGS__); } while (0)
#define sb_error(...) SB_LOG(SB_LOG_ERROR, __VA_ARGS__)
#define sb_warn(...) SB_LOG(SB_LOG_WARN, __VA_ARGS__)
#define sb_info(...) SB_LOG(SB_LOG_INFO, __VA_ARGS__)
#define sb_verbose(...) SB_LOG(SB_LOG_VERBOSE, __VA_ARGS__)
#define sb_debug(...) SB_LOG(SB_LOG_DEBUG, __VA_ARGS__)

#endif
