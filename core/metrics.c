/* Switchboard — metrics registry. */
#include "core/metrics.h"

#include <glib.h>
#include <string.h>

static GMutex lock;
static GPtrArray *metrics;  /* of sb_metric*, never shrinks: pointers stay valid */

sb_metric *sb_metric_get(const char *name, const char *help, bool gauge) {
  g_mutex_lock(&lock);
  if (metrics == NULL)
    metrics = g_ptr_array_new();
  sb_metric *found = NULL;
  for (guint i = 0; i < metrics->len && !found; i++) {
    sb_metric *m = g_ptr_array_index(metrics, i);
    if (strcmp(m->name, name) == 0)
      found = m;
  }
  if (found == NULL) {
    found = g_new0(sb_metric, 1);
    found->name = name;
    found->help = help;
    found->gauge = gauge;
    g_ptr_array_add(metrics, found);
  }
  g_mutex_unlock(&lock);
  return found;
}

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
      v = sb_metric_value(m);
  }
  g_mutex_unlock(&lock);
  return v;
}

/* Metrics live for the whole process; freeing them at exit keeps leak checkers quiet. */
static void __attribute__((destructor)) metrics_free_all(void) {
  if (metrics == NULL)
    return;
  for (guint i = 0; i < metrics->len; i++)
    g_free(g_ptr_array_index(metrics, i));
  g_ptr_array_free(metrics, TRUE);
  metrics = NULL;
}
