/* Switchboard — module registry. */
#include "core/module.h"

#include <glib.h>

#include "core/log.h"

#define MAX_MODULES 16

static const sb_module *modules[MAX_MODULES];
static int module_count;
static int started_count;
static int running;          /* every module started, none stopping yet */

void sb_module_register(const sb_module *m) {
  g_assert(module_count < MAX_MODULES);
  /* Keep the table sorted by order (insertion sort: a handful of entries). */
  int i = module_count++;
  while (i > 0 && modules[i - 1]->order > m->order) {
    modules[i] = modules[i - 1];
    i--;
  }
  modules[i] = m;
}

int sb_modules_start(sb_config *cfg) {
  for (started_count = 0; started_count < module_count; started_count++) {
    const sb_module *m = modules[started_count];
    sb_verbose("starting %s", m->name);
    if (m->start(cfg) != 0) {
      sb_error("%s failed to start", m->name);
      sb_modules_stop();
      return -1;
    }
  }
  g_atomic_int_set(&running, 1);
  return 0;
}

bool sb_modules_running(void) { return g_atomic_int_get(&running) != 0; }

void sb_modules_stop(void) {
  g_atomic_int_set(&running, 0);
  while (started_count > 0) {
    const sb_module *m = modules[--started_count];
    sb_verbose("stopping %s", m->name);
    if (m->stop)
      m->stop();
  }
}
