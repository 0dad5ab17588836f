/* Switchboard — lifecycle events: rooms created and closed, participants joining
 * and leaving, tracks published and unpublished. Plugins emit them; sinks (the
 * webhook sender, the JSON log) receive them in order. Any thread may emit; sinks
 * run on the emitting thread and must only queue. */
#ifndef SB_CORE_EVENTS_H
#define SB_CORE_EVENTS_H

#include <jansson.h>

/* Emits {"type": type, "seq": n, "time_ms": unix ms, "data": data}; data is stolen.
 * seq grows by one per event, process-wide, so receivers can order and spot gaps. */
void sb_event_emit(const char *type, json_t *data);

typedef void (*sb_event_sink)(const json_t *event, void *ud);
/* Registers a sink at start-up (before events flow). */
void sb_event_add_sink(sb_event_sink fn, void *ud);
/* Unregisters one; once it returns, that sink is not running and never runs again. */
void sb_event_remove_sink(sb_event_sink fn, void *ud);
void sb_event_clear_sinks(void);

#endif
