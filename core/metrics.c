/* Switchboard — metrics registry and the Prometheus exposition. */
#include "core/metrics.h"

#include <glib.h>
#include <string.h>

#define MAX_COLLECTORS 8

static GMutex lock;
static GPtrArray *metrics;  /* of sb_metric*, never shrinks: pointers stay valid */
typedef struct collector {
  void (*fn)(void *ud);
  void *ud;
} collector;
static collector collectors[MAX_COLLECTORS];
static int collector_count;
static gint shards_taken;

__thread int sb_metric_thread_shard;

int sb_metric_shard_assign(void) {
  int n = g_atomic_int_add(&shards_taken, 1);
  sb_metric_thread_shard = n < SB_METRIC_SHARDS ? n + 1 : -1;
  return sb_metric_thread_shard;
}

static bool same_label(const char *a, const char *b) {
  return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* Under lock. */
static sb_metric *find(const char *name, const char *value) {
  for (guint i = 0; metrics && i < metrics->len; i++) {
    sb_metric *m = g_ptr_array_index(metrics, i);
    if (strcmp(m->name, name) == 0 && same_label(m->label_value, value))
      return m;
  }
  return NULL;
}

static sb_metric *add(const char *name, const char *help, sb_metric_type type, const char *label,
                      const char *value) {
  sb_metric *m = g_new0(sb_metric, 1);
  m->name = name;
  m->help = help;
  m->type = type;
  m->gauge = type == SB_METRIC_GAUGE;
  m->label = value ? label : NULL;
  m->label_value = value ? g_strdup(value) : NULL;
  m->scale = 1;
  if (type == SB_METRIC_COUNTER)
    m->shards = g_aligned_alloc0(SB_METRIC_SHARDS, sizeof(sb_metric_shard), 64);
  if (metrics == NULL)
    metrics = g_ptr_array_new();
  g_ptr_array_add(metrics, m);
  return m;
}

sb_metric *sb_metric_series(const char *name, const char *help, sb_metric_type type,
                            const char *label, const char *value) {
  g_return_val_if_fail(type != SB_METRIC_HISTOGRAM, NULL);
  if (label == NULL)
    value = NULL;
  g_mutex_lock(&lock);
  sb_metric *m = find(name, value);
  if (m == NULL)
    m = add(name, help, type, label, value);
  g_mutex_unlock(&lock);
  return m;
}

sb_metric *sb_metric_get(const char *name, const char *help, bool gauge) {
  return sb_metric_series(name, help, gauge ? SB_METRIC_GAUGE : SB_METRIC_COUNTER, NULL, NULL);
}

sb_metric *sb_histogram_series(const char *name, const char *help, const double *bounds, int count,
                               const char *label, const char *value) {
  if (label == NULL)
    value = NULL;
  g_mutex_lock(&lock);
  sb_metric *m = find(name, value);
  if (m == NULL) {
    m = add(name, help, SB_METRIC_HISTOGRAM, label, value);
    m->bounds = bounds;
    m->bound_count = count;
    m->buckets = g_new0(int64_t, count + 1);
  }
  g_mutex_unlock(&lock);
  return m;
}

void sb_metric_set_scale(sb_metric *m, int64_t scale) { m->scale = scale > 0 ? scale : 1; }

int64_t sb_metric_value(const sb_metric *m) {
  if (m->type == SB_METRIC_HISTOGRAM)
    return sb_histogram_cumulative(m, m->bound_count);
  int64_t v = __atomic_load_n(&m->value, __ATOMIC_RELAXED);
  for (int i = 0; m->shards && i < SB_METRIC_SHARDS; i++)
    v += __atomic_load_n(&m->shards[i].v, __ATOMIC_RELAXED);
  return v;
}

void sb_histogram_observe(sb_metric *m, double v) {
  int i = 0;
  /* Prometheus buckets count observations <= their bound ("le"). */
  while (i < m->bound_count && v > m->bounds[i])
    i++;
  __atomic_fetch_add(&m->buckets[i], 1, __ATOMIC_RELAXED);
  uint64_t old = __atomic_load_n(&m->sum_bits, __ATOMIC_RELAXED), next;
  do {
    double d;
    memcpy(&d, &old, sizeof d);
    d += v;
    memcpy(&next, &d, sizeof next);
  } while (!__atomic_compare_exchange_n(&m->sum_bits, &old, next, true, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED));
}

double sb_histogram_sum(const sb_metric *m) {
  uint64_t bits = __atomic_load_n(&m->sum_bits, __ATOMIC_RELAXED);
  double d;
  memcpy(&d, &bits, sizeof d);
  return d;
}

int64_t sb_histogram_cumulative(const sb_metric *m, int i) {
  int64_t n = 0;
  for (int k = 0; k <= i && k <= m->bound_count; k++)
    n += __atomic_load_n(&m->buckets[k], __ATOMIC_RELAXED);
  return n;
}

sb_metric *sb_metrics_rejected(const char *reason) {
  return sb_metric_series("switchboard_rejected", "Connections, requests and messages refused, by reason",
                          SB_METRIC_COUNTER, "reason", reason);
}

void sb_metrics_reject(const char *reason) { sb_metric_add(sb_metrics_rejected(reason), 1); }

void sb_metrics_foreach(void (*fn)(const sb_metric *m, void *ud), void *ud) {
  g_mutex_lock(&lock);
  for (guint i = 0; metrics && i < metrics->len; i++)
    fn(g_ptr_array_index(metrics, i), ud);
  g_mutex_unlock(&lock);
}

int64_t sb_metrics_lookup(const char *name) {
  int64_t v = 0;
  g_mutex_lock(&lock);
  for (guint i = 0; metrics && i < metrics->len; i++) {
    sb_metric *m = g_ptr_array_index(metrics, i);
    if (strcmp(m->name, name) == 0)
      v += sb_metric_value(m);
  }
  g_mutex_unlock(&lock);
  return v;
}

int64_t sb_metrics_lookup_series(const char *name, const char *label_value) {
  g_mutex_lock(&lock);
  sb_metric *m = find(name, label_value);
  int64_t v = m ? sb_metric_value(m) : 0;
  g_mutex_unlock(&lock);
  return v;
}

void sb_metrics_add_collector(void (*fn)(void *ud), void *ud) {
  g_mutex_lock(&lock);
  g_assert(collector_count < MAX_COLLECTORS);
  collectors[collector_count].fn = fn;
  collectors[collector_count].ud = ud;
  collector_count++;
  g_mutex_unlock(&lock);
}

void sb_metrics_remove_collector(void (*fn)(void *ud), void *ud) {
  g_mutex_lock(&lock);
  for (int i = 0; i < collector_count; i++) {
    if (collectors[i].fn == fn && collectors[i].ud == ud) {
      memmove(&collectors[i], &collectors[i + 1], sizeof collectors[0] * (size_t)(collector_count - i - 1));
      collector_count--;
      break;
    }
  }
  g_mutex_unlock(&lock);
}

void sb_metrics_collect(void) {
  /* Copied out: a collector registers series, which takes the lock. */
  g_mutex_lock(&lock);
  int n = collector_count;
  collector copy[MAX_COLLECTORS];
  memcpy(copy, collectors, sizeof copy[0] * (size_t)n);
  g_mutex_unlock(&lock);
  for (int i = 0; i < n; i++)
    copy[i].fn(copy[i].ud);
}

/* --- exposition (https://prometheus.io/docs/instrumenting/exposition_formats/) --- */

char *sb_metrics_escape(const char *s, bool label) {
  GString *out = g_string_new(NULL);
  for (const char *p = s ? s : ""; *p; p++) {
    if (*p == '\\')
      g_string_append(out, "\\\\");
    else if (*p == '\n')
      g_string_append(out, "\\n");
    else if (*p == '"' && label)
      g_string_append(out, "\\\"");
    else
      g_string_append_c(out, *p);
  }
  return g_string_free(out, FALSE);
}

static void append_double(GString *out, double v) {
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  /* Locale-independent: always a '.' decimal point. */
  g_string_append(out, g_ascii_formatd(buf, sizeof buf, "%.9g", v));
}

static void append_value(GString *out, const sb_metric *m, int64_t v) {
  if (m->scale == 1)
    g_string_append_printf(out, "%" G_GINT64_FORMAT, v);
  else
    append_double(out, (double)v / (double)m->scale);
}

/* NAME{label="value"[,le="bound"]} */
static void append_series_name(GString *out, const sb_metric *m, const char *suffix, const char *le) {
  g_string_append(out, m->name);
  g_string_append(out, suffix);
  if (m->label == NULL && le == NULL)
    return;
  g_string_append_c(out, '{');
  if (m->label) {
    char *v = sb_metrics_escape(m->label_value, true);
    g_string_append_printf(out, "%s=\"%s\"", m->label, v);
    g_free(v);
  }
  if (le)
    g_string_append_printf(out, "%sle=\"%s\"", m->label ? "," : "", le);
  g_string_append_c(out, '}');
}

static void append_histogram(GString *out, const sb_metric *m) {
  int64_t cum = 0;
  for (int i = 0; i <= m->bound_count; i++) {
    cum += __atomic_load_n(&m->buckets[i], __ATOMIC_RELAXED);
    char le[G_ASCII_DTOSTR_BUF_SIZE];
    if (i < m->bound_count)
      g_ascii_formatd(le, sizeof le, "%g", m->bounds[i]);
    else
      g_strlcpy(le, "+Inf", sizeof le);
    append_series_name(out, m, "_bucket", le);
    g_string_append_printf(out, " %" G_GINT64_FORMAT "\n", cum);
  }
  append_series_name(out, m, "_sum", NULL);
  g_string_append_c(out, ' ');
  append_double(out, sb_histogram_sum(m));
  g_string_append_c(out, '\n');
  append_series_name(out, m, "_count", NULL);
  g_string_append_printf(out, " %" G_GINT64_FORMAT "\n", cum);
}

static void append_family(GString *out, const sb_metric *first) {
  static const char *const type_names[] = { "counter", "gauge", "histogram" };
  const char *suffix = first->type == SB_METRIC_COUNTER && !g_str_has_suffix(first->name, "_total")
                           ? "_total" : "";
  char *help = sb_metrics_escape(first->help, false);
  g_string_append_printf(out, "# HELP %s%s %s\n# TYPE %s%s %s\n", first->name, suffix, help,
                         first->name, suffix, type_names[first->type]);
  g_free(help);
  for (guint i = 0; i < metrics->len; i++) {
    const sb_metric *m = g_ptr_array_index(metrics, i);
    if (strcmp(m->name, first->name) != 0 || m->type != first->type)
      continue;
    if (m->type == SB_METRIC_HISTOGRAM) {
      append_histogram(out, m);
    } else {
      append_series_name(out, m, suffix, NULL);
      g_string_append_c(out, ' ');
      append_value(out, m, sb_metric_value(m));
      g_string_append_c(out, '\n');
    }
  }
}

char *sb_metrics_format(const char *prefix) {
  GString *out = g_string_new(NULL);
  g_mutex_lock(&lock);
  /* Families in the order of their first series; every series of a family together. */
  GHashTable *done = g_hash_table_new(g_str_hash, g_str_equal);
  for (guint i = 0; metrics && i < metrics->len; i++) {
    const sb_metric *m = g_ptr_array_index(metrics, i);
    if ((prefix && !g_str_has_prefix(m->name, prefix)) || g_hash_table_contains(done, m->name))
      continue;
    g_hash_table_add(done, (gpointer)m->name);
    append_family(out, m);
  }
  g_hash_table_destroy(done);
  g_mutex_unlock(&lock);
  return g_string_free(out, FALSE);
}

/* Metrics live for the whole process; freeing them at exit keeps leak checkers quiet. */
static void __attribute__((destructor)) metrics_free_all(void) {
  if (metrics == NULL)
    return;
  for (guint i = 0; i < metrics->len; i++) {
    sb_metric *m = g_ptr_array_index(metrics, i);
    g_free(m->label_value);
    g_aligned_free(m->shards);
    g_free(m->buckets);
    g_free(m);
  }
  g_ptr_array_free(metrics, TRUE);
  metrics = NULL;
}
