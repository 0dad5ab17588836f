/* Switchboard — process-wide counters and gauges.
 *
 * A metric is registered once (at start-up) and then updated lock-free from any
 * thread. The registry is what server.status and, later, /metrics read. */
#ifndef SB_CORE_METRICS_H
#define SB_CORE_METRICS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct sb_metric {
  const char *name;          /* "switchboard_peers" */
  const char *help;
  bool gauge;                /* false: a counter that only goes up */
  int64_t value;             /* use the accessors below */
} sb_metric;

/* Returns the metric with this name, registering it on first use. name and help
 * must be string literals (kept by reference). */
sb_metric *sb_metric_get(const char *name, const char *help, bool gauge);

static inline void sb_metric_add(sb_metric *m, int64_t delta) {
  __atomic_fetch_add(&m->value, delta, __ATOMIC_RELAXED);
}
static inline int64_t sb_metric_value(const sb_metric *m) {
  return __atomic_load_n(&m->value, __ATOMIC_RELAXED);
}

/* Calls fn for every metric, in registration order. */
void sb_metrics_foreach(void (*fn)(const sb_metric *m, void *ud), void *ud);
/* The value of a metric by name, 0 when not registered. */
int64_t sb_metrics_lookup(const char *name);

#endif
