/* Switchboard — logging: levels, timestamps, one line per event.
 *
 * Lines go to stderr as "2026-11-29 15:04:05.123 [info] worker-1: text", or with
 * [log] format = json as one JSON object per line for log shippers:
 * {"time":"2026-11-29T14:04:05.123Z","level":"info","thread":"worker-1","msg":"text"}
 * (time in UTC). The level is global and may change at run time. GLib's and libnice's g_log
 * messages are routed here too (libnice's debug output only when enabled). */
#ifndef SB_CORE_LOG_H
#define SB_CORE_LOG_H

#include <stdbool.h>
#include <stdint.h>

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

typedef enum {
  SB_LOG_FORMAT_TEXT = 0,
  SB_LOG_FORMAT_JSON,
} sb_log_format;
/* Parses "text" or "json"; -1 when unknown. */
int sb_log_format_parse(const char *s);
void sb_log_set_format(sb_log_format format);
sb_log_format sb_log_get_format(void);
/* One JSON line (no newline; g_free it): time (ISO 8601, UTC, milliseconds),
 * level, thread, msg, and, when event_json is given (the text of a JSON value),
 * that value as member "event". Strings are escaped; bytes that are not UTF-8
 * become U+FFFD, so every line parses. */
char *sb_log_json_line(int64_t unix_us, sb_log_level level, const char *thread, const char *msg,
                       const char *event_json);
/* A line carrying a JSON value (a lifecycle event): "msg json" in text format,
 * the value as member "event" in JSON format. */
void sb_log_write_json(sb_log_level level, const char *msg, const char *json);

void sb_log_write(sb_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define SB_LOG(level, ...) \
  do { if ((level) <= sb_log_get_level()) sb_log_write((level), __VA_ARGS__); } while (0)
#define sb_error(...) SB_LOG(SB_LOG_ERROR, __VA_ARGS__)
#define sb_warn(...) SB_LOG(SB_LOG_WARN, __VA_ARGS__)
#define sb_info(...) SB_LOG(SB_LOG_INFO, __VA_ARGS__)
#define sb_verbose(...) SB_LOG(SB_LOG_VERBOSE, __VA_ARGS__)
#define sb_debug(...) SB_LOG(SB_LOG_DEBUG, __VA_ARGS__)

#endif
