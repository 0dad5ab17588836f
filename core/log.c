/* Switchboard — logging. */
#include "core/log.h"

#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/time.h>

static volatile int log_level = SB_LOG_INFO;
static volatile int log_format = SB_LOG_FORMAT_TEXT;
static bool log_ice_debug;
static __thread char thread_name[24] = "main";
static GMutex log_lock;

static const char *const level_names[] = { "error", "warn", "info", "verbose", "debug" };

int sb_log_level_parse(const char *s) {
  if (s == NULL)
    return -1;
  for (int i = 0; i < (int)G_N_ELEMENTS(level_names); i++)
    if (g_ascii_strcasecmp(s, level_names[i]) == 0)
      return i;
  if (s[0] >= '0' && s[0] <= '4' && s[1] == '\0')
    return s[0] - '0';
  if (g_ascii_strcasecmp(s, "warning") == 0)
    return SB_LOG_WARN;
  return -1;
}

const char *sb_log_level_name(sb_log_level level) {
  return (unsigned)level < G_N_ELEMENTS(level_names) ? level_names[level] : "?";
}

void sb_log_set_level(sb_log_level level) { g_atomic_int_set(&log_level, (int)level); }
sb_log_level sb_log_get_level(void) { return (sb_log_level)g_atomic_int_get(&log_level); }

void sb_log_set_thread_name(const char *name) {
  g_strlcpy(thread_name, name, sizeof thread_name);
}

int sb_log_format_parse(const char *s) {
  if (s && g_ascii_strcasecmp(s, "text") == 0)
    return SB_LOG_FORMAT_TEXT;
  if (s && g_ascii_strcasecmp(s, "json") == 0)
    return SB_LOG_FORMAT_JSON;
  return -1;
}

void sb_log_set_format(sb_log_format format) { g_atomic_int_set(&log_format, (int)format); }
sb_log_format sb_log_get_format(void) { return (sb_log_format)g_atomic_int_get(&log_format); }

/* A JSON string (RFC 8259 §7): quotes, backslash and control characters escaped;
 * a byte that does not start a valid UTF-8 sequence becomes U+FFFD. */
static void append_json_string(GString *out, const char *s) {
  g_string_append_c(out, '"');
  const char *p = s ? s : "", *end = p + strlen(p);
  while (p < end) {
    unsigned char c = (unsigned char)*p;
    if (c < 0x80) {
      if (c == '"' || c == '\\')
        g_string_append_printf(out, "\\%c", c);
      else if (c == '\n')
        g_string_append(out, "\\n");
      else if (c == '\r')
        g_string_append(out, "\\r");
      else if (c == '\t')
        g_string_append(out, "\\t");
      else if (c < 0x20 || c == 0x7f)
        g_string_append_printf(out, "\\u%04x", c);
      else
        g_string_append_c(out, (char)c);
      p++;
      continue;
    }
    gunichar u = g_utf8_get_char_validated(p, end - p);
    if (u == (gunichar)-1 || u == (gunichar)-2) {
      g_string_append(out, "\\ufffd");
      p++;
    } else {
      const char *next = g_utf8_next_char(p);
      g_string_append_len(out, p, next - p);
      p = next;
    }
  }
  g_string_append_c(out, '"');
}

char *sb_log_json_line(int64_t unix_us, sb_log_level level, const char *thread, const char *msg,
                       const char *event_json) {
  time_t secs = (time_t)(unix_us / 1000000);
  struct tm tm;
  char stamp[40];
  gmtime_r(&secs, &tm);
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  GString *out = g_string_new(NULL);
  g_string_append_printf(out, "{\"time\":\"%s.%03dZ\",\"level\":", stamp,
                         (int)(unix_us / 1000 % 1000));
  append_json_string(out, sb_log_level_name(level));
  g_string_append(out, ",\"thread\":");
  append_json_string(out, thread);
  g_string_append(out, ",\"msg\":");
  append_json_string(out, msg);
  if (event_json && *event_json) {
    g_string_append(out, ",\"event\":");
    g_string_append(out, event_json);
  }
  g_string_append_c(out, '}');
  return g_string_free(out, FALSE);
}

static void log_emit_json(sb_log_level level, const char *text, const char *event_json) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  char *line = sb_log_json_line((int64_t)tv.tv_sec * 1000000 + tv.tv_usec, level, thread_name, text,
                                event_json);
  g_mutex_lock(&log_lock);
  fprintf(stderr, "%s\n", line);
  fflush(stderr);
  g_mutex_unlock(&log_lock);
  g_free(line);
}

static void log_emit(sb_log_level level, const char *text) {
  if (sb_log_get_format() == SB_LOG_FORMAT_JSON) {
    log_emit_json(level, text, NULL);
    return;
  }
  struct timeval tv;
  struct tm tm;
  char stamp[32];
  gettimeofday(&tv, NULL);
  localtime_r(&tv.tv_sec, &tm);
  strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
  /* One fprintf per line under a lock, so lines from workers never interleave. */
  g_mutex_lock(&log_lock);
  fprintf(stderr, "%s.%03d [%s] %s: %s\n", stamp, (int)(tv.tv_usec / 1000),
          sb_log_level_name(level), thread_name, text);
  fflush(stderr);
  g_mutex_unlock(&log_lock);
}

void sb_log_write(sb_log_level level, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  log_emit(level, buf);
}

void sb_log_write_json(sb_log_level level, const char *msg, const char *json) {
  if (level > sb_log_get_level())
    return;
  if (sb_log_get_format() == SB_LOG_FORMAT_JSON) {
    log_emit_json(level, msg, json);
  } else {
    char *text = g_strdup_printf("%s %s", msg, json ? json : "");
    log_emit(level, text);
    g_free(text);
  }
}

static GLogWriterOutput glib_writer(GLogLevelFlags flags, const GLogField *fields, gsize n,
                                    gpointer user_data) {
  const char *domain = NULL, *message = NULL;
  for (gsize i = 0; i < n; i++) {
    if (strcmp(fields[i].key, "GLIB_DOMAIN") == 0)
      domain = fields[i].value;
    else if (strcmp(fields[i].key, "MESSAGE") == 0)
      message = fields[i].value;
  }
  sb_log_level level;
  if (flags & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
    level = SB_LOG_ERROR;
  else if (flags & G_LOG_LEVEL_WARNING)
    level = SB_LOG_WARN;
  else if (flags & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
    level = SB_LOG_VERBOSE;
  else
    level = SB_LOG_DEBUG;
  /* libnice logs every STUN transaction at debug level: only on request. */
  if (level == SB_LOG_DEBUG && domain && g_str_has_prefix(domain, "libnice") && !log_ice_debug)
    return G_LOG_WRITER_HANDLED;
  if (level <= sb_log_get_level()) {
    char buf[1024];
    snprintf(buf, sizeof buf, "%s%s%s", domain ? domain : "", domain ? ": " : "",
             message ? message : "");
    log_emit(level, buf);
  }
  return G_LOG_WRITER_HANDLED;
}

void sb_log_init(sb_log_level level, bool ice_debug) {
  sb_log_set_level(level);
  log_ice_debug = ice_debug;
  /* GLib allows one writer per process, set once. */
  static gsize writer_set;
  if (g_once_init_enter(&writer_set))
    g_once_init_leave(&writer_set, (g_log_set_writer_func(glib_writer, NULL, NULL), 1));
  if (ice_debug && level >= SB_LOG_DEBUG)
    g_setenv("G_MESSAGES_DEBUG", "all", TRUE);
}
