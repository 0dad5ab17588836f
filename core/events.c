/* Switchboard — lifecycle events. */
#include "core/events.h"

#include <glib.h>

#include "core/util.h"

#define MAX_SINKS 8

static struct {
  sb_event_sink fn;
  void *ud;
} sinks[MAX_SINKS];
static int sink_count;
static GMutex lock;       /* one event at a time: sinks see them in seq order */
static uint64_t seq;

void sb_event_add_sink(sb_event_sink fn, void *ud) {
  g_mutex_lock(&lock);
  g_assert(sink_count < MAX_SINKS);
  sinks[sink_count].fn = fn;
  sinks[sink_count].ud = ud;
  sink_count++;
  g_mutex_unlock(&lock);
}

void sb_event_remove_sink(sb_event_sink fn, void *ud) {
  g_mutex_lock(&lock);
  for (int i = 0; i < sink_count; i++) {
    if (sinks[i].fn == fn && sinks[i].ud == ud) {
      for (int k = i; k + 1 < sink_count; k++)
        sinks[k] = sinks[k + 1];
      sink_count--;
      break;
    }
  }
  g_mutex_unlock(&lock);
}

void sb_event_clear_sinks(void) {
  g_mutex_lock(&lock);
  sink_count = 0;
  g_mutex_unlock(&lock);
}

void sb_event_emit(const char *type, json_t *data) {
  g_mutex_lock(&lock);
  if (sink_count > 0) {
    json_t *ev = json_pack("{s:s, s:I, s:I, s:o}", "type", type, "seq", (json_int_t)++seq, "time_ms",
                           (json_int_t)(sb_wall_us() / 1000), "data", data ? data : json_object());
    for (int i = 0; i < sink_count; i++)
      sinks[i].fn(ev, sinks[i].ud);
    json_decref(ev);
  } else if (data) {
    json_decref(data);
  }
  g_mutex_unlock(&lock);
}
