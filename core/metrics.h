/* Switchboard — process-wide metrics: counters, gauges and histograms.
 *
 * A series is registered once (at start-up, or on first use) and then updated
 * lock-free from any thread. A family is every series of one name; a series may
 * carry one label (worker="0", reason="body_too_large"). GET /metrics writes the
 * registry in the Prometheus text format (sb_metrics_format); server.status reads
 * single values. Names follow Prometheus: "switchboard_" prefix, base units
 * (seconds, bytes), and a counter is registered without "_total", which the
 * exposition adds. */
#ifndef SB_CORE_METRICS_H
#define SB_CORE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
  SB_METRIC_COUNTER = 0,     /* only goes up */
  SB_METRIC_GAUGE,           /* goes up and down, or is set */
  SB_METRIC_HISTOGRAM,       /* observations counted in fixed buckets, with their sum */
} sb_metric_type;

/* Per-thread slots of a counter (sb_metric_add_fast): a worker adds to its own
 * cache line with a plain store, readers sum the slots. Threads beyond this many
 * fall back to an atomic add. */
#define SB_METRIC_SHARDS 32

typedef struct sb_metric_shard {
  int64_t v;
  char pad[56];              /* one cache line per slot: no false sharing */
} sb_metric_shard;

typedef struct sb_metric {
  const char *name;          /* family: "switchboard_peers" (a literal, kept by reference) */
  const char *help;          /* one line (a literal) */
  bool gauge;                /* type == SB_METRIC_GAUGE, for older callers */
  int64_t value;             /* counters and gauges: use the accessors; histograms: unused */
  sb_metric_type type;
  const char *label;         /* the label's name (a literal), or NULL */
  char *label_value;         /* its value (owned), or NULL */
  int64_t scale;             /* exposed value = value / scale: 1, or 1000000 for µs as seconds */
  sb_metric_shard *shards;   /* counters: SB_METRIC_SHARDS slots summed with value */
  const double *bounds;      /* histograms: bucket upper bounds, ascending (kept by reference) */
  int bound_count;
  int64_t *buckets;          /* bound_count + 1 counts, the last for +Inf; not cumulative */
  uint64_t sum_bits;         /* the sum of observations, a double's bits (CAS-updated) */
} sb_metric;

/* Returns the unlabelled counter or gauge of this name, registering it on first
 * use. name and help must be string literals (kept by reference). */
sb_metric *sb_metric_get(const char *name, const char *help, bool gauge);
/* A counter or gauge series, label = value (both may be NULL for none): the
 * existing one when registered before. value is copied. */
sb_metric *sb_metric_series(const char *name, const char *help, sb_metric_type type,
                            const char *label, const char *value);
/* A histogram series with these bucket upper bounds (ascending; a static array,
 * kept by reference; +Inf is implied). */
sb_metric *sb_histogram_series(const char *name, const char *help, const double *bounds, int count,
                               const char *label, const char *value);
/* Values are stored as integers; the exposition divides by scale (e.g. microseconds
 * stored, seconds exposed with scale 1000000). Set it once after registering. */
void sb_metric_set_scale(sb_metric *m, int64_t scale);

extern __thread int sb_metric_thread_shard;   /* 0: none yet; -1: none left */
int sb_metric_shard_assign(void);

static inline void sb_metric_add(sb_metric *m, int64_t delta) {
  __atomic_fetch_add(&m->value, delta, __ATOMIC_RELAXED);
}
/* For the packet path: no locked instruction, no shared cache line. Counters only
 * (gauges have no slots and take the atomic path). */
static inline void sb_metric_add_fast(sb_metric *m, int64_t delta) {
  int s = sb_metric_thread_shard;
  if (__builtin_expect(s == 0, 0))
    s = sb_metric_shard_assign();
  if (s < 0 || m->shards == NULL) {
    sb_metric_add(m, delta);
    return;
  }
  int64_t *slot = &m->shards[s - 1].v;
  __atomic_store_n(slot, __atomic_load_n(slot, __ATOMIC_RELAXED) + delta, __ATOMIC_RELAXED);
}
static inline void sb_metric_set(sb_metric *m, int64_t v) {
  __atomic_store_n(&m->value, v, __ATOMIC_RELAXED);
}
/* A counter's or gauge's value (slots included); a histogram's observation count. */
int64_t sb_metric_value(const sb_metric *m);

void sb_histogram_observe(sb_metric *m, double v);
/* The sum of a histogram's observations. */
double sb_histogram_sum(const sb_metric *m);
/* Observations <= bounds[i] (cumulative, as exposed); i == bound_count: all. */
int64_t sb_histogram_cumulative(const sb_metric *m, int i);

/* Counts one refusal in switchboard_rejected_total{reason}: a connection,
 * request or message turned away ("body_too_large", "rate_limit"…). Any thread;
 * takes the registry lock (refusals are not the packet path). */
void sb_metrics_reject(const char *reason);
/* That series (registered at 0 if new: declare the reasons a module counts). */
sb_metric *sb_metrics_rejected(const char *reason);

/* Calls fn for every series, in registration order. */
void sb_metrics_foreach(void (*fn)(const sb_metric *m, void *ud), void *ud);
/* The value of a family by name (summed over its series), 0 when not registered. */
int64_t sb_metrics_lookup(const char *name);
/* The value of one series, 0 when not registered. */
int64_t sb_metrics_lookup_series(const char *name, const char *label_value);

/* Functions that bring gauges up to date (session counts…) before an exposition.
 * Register at start-up; sb_metrics_collect runs them (the caller's thread). */
void sb_metrics_add_collector(void (*fn)(void *ud), void *ud);
void sb_metrics_remove_collector(void (*fn)(void *ud), void *ud);
void sb_metrics_collect(void);

/* The registry in the Prometheus text exposition format 0.0.4: per family "# HELP"
 * and "# TYPE" lines, then its series; counters as NAME_total, histograms as
 * NAME_bucket{le="…"} (cumulative, ending with +Inf), NAME_sum and NAME_count.
 * Families whose name starts with prefix only (NULL: all). g_free the result. */
char *sb_metrics_format(const char *prefix);
/* A label value or HELP text escaped for the exposition (backslash, newline, and
 * for labels the double quote). g_free the result. */
char *sb_metrics_escape(const char *s, bool label);

#endif
