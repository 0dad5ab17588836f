/* Switchboard — modules: the parts of the process that start and stop.
 *
 * Each layer above core (media, plugins, signaling) registers a module from a
 * constructor, so main() starts them without depending on them: lower order
 * starts first and stops last. */
#ifndef SB_CORE_MODULE_H
#define SB_CORE_MODULE_H

#include "core/config.h"

enum {
  SB_ORDER_AUTH = 5,            /* core/auth.c: [auth] keys, before anything takes requests */
  SB_ORDER_MEDIA = 10,
  SB_ORDER_PLUGINS = 20,
  SB_ORDER_SIGNALING = 30,
};

typedef struct sb_module {
  const char *name;
  int order;
  int (*start)(sb_config *cfg);   /* 0 on success */
  void (*stop)(void);             /* may be NULL */
} sb_module;

void sb_module_register(const sb_module *m);
/* Starts every module in order; on a failure stops those started and returns -1. */
int sb_modules_start(sb_config *cfg);
/* Stops the started modules in reverse order. */
void sb_modules_stop(void);
/* True once every module has started, false again from the start of
 * sb_modules_stop (shutting down): readiness. Any thread. */
bool sb_modules_running(void);

#define SB_MODULE_REGISTER(m) \
  static void __attribute__((constructor)) sb_module_ctor_##m(void) { sb_module_register(&(m)); }

#endif
