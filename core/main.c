/* Switchboard — the daemon: options, configuration, workers, modules, signals. */
#include <glib.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "sbconfig.h"
#include "core/config.h"
#include "core/log.h"
#include "core/module.h"
#include "core/worker.h"

static GMainLoop *main_loop;
static int stop_signals;

static gboolean on_stop_signal(gpointer data) {
  const char *name = data;
  if (++stop_signals == 1) {
    sb_info("%s received: shutting down", name);
    g_main_loop_quit(main_loop);
  } else {
    sb_warn("%s received again: exiting now", name);
    exit(1);
  }
  return G_SOURCE_CONTINUE;
}

/* The configuration to use when -c is not given: the one of a source checkout. */
static char *default_config_path(void) {
  static const char *const candidates[] = { "conf/switchboard.conf",
                                            "/etc/switchboard/switchboard.conf" };
  for (size_t i = 0; i < G_N_ELEMENTS(candidates); i++)
    if (g_file_test(candidates[i], G_FILE_TEST_IS_REGULAR))
      return g_strdup(candidates[i]);
  return NULL;
}

int main(int argc, char **argv) {
  char *config_path = NULL, *level_arg = NULL;
  char **overrides = NULL;
  gboolean version = FALSE, check_only = FALSE;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
      "Configuration file (default: conf/switchboard.conf, then /etc/switchboard/switchboard.conf)", "FILE" },
    { "log-level", 'l', 0, G_OPTION_ARG_STRING, &level_arg,
      "Log level: error, warn, info, verbose, debug (overrides [general] log_level)", "LEVEL" },
    { "option", 'o', 0, G_OPTION_ARG_STRING_ARRAY, &overrides,
      "Override one configuration value (repeatable)", "SECTION.KEY=VALUE" },
    { "check-config", 0, 0, G_OPTION_ARG_NONE, &check_only,
      "Load and validate the configuration, then exit", NULL },
    { "version", 'V', 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
  };
  GOptionContext *octx = g_option_context_new("- WebRTC media server");
  g_option_context_set_summary(octx,
      "Switchboard forwards audio, video and data among WebRTC peers (SFU) and\n"
      "speaks JSON-RPC over WebSocket to negotiate with them.");
  g_option_context_add_main_entries(octx, entries, NULL);
  GError *err = NULL;
  if (!g_option_context_parse(octx, &argc, &argv, &err)) {
    fprintf(stderr, "switchboard: %s (try --help)\n", err->message);
    g_error_free(err);
    g_option_context_free(octx);
    return 2;
  }
  g_option_context_free(octx);
  if (version) {
    printf("switchboard %s\n", PACKAGE_VERSION);
    return 0;
  }

  int rc = 1;
  sb_log_init(SB_LOG_INFO, false);
  if (config_path == NULL)
    config_path = default_config_path();
  char *cerr = NULL;
  sb_config *cfg = config_path ? sb_config_load(config_path, &cerr) : sb_config_new();
  if (cfg == NULL) {
    fprintf(stderr, "switchboard: %s\n", cerr);
    g_free(cerr);
    goto out;
  }
  for (char **o = overrides; o && *o; o++) {
    if (!sb_config_set_override(cfg, *o, &cerr)) {
      fprintf(stderr, "switchboard: %s\n", cerr);
      g_free(cerr);
      goto out;
    }
  }

  char *level_name = sb_config_get_string(cfg, "general", "log_level", "info");
  if (level_arg) {
    g_free(level_name);
    level_name = g_strdup(level_arg);
  }
  int level = sb_log_level_parse(level_name);
  if (level < 0) {
    fprintf(stderr, "switchboard: unknown log level '%s'\n", level_name);
    g_free(level_name);
    goto out;
  }
  g_free(level_name);
  char *format_name = sb_config_get_string(cfg, "log", "format", "text");
  int format = sb_log_format_parse(format_name);
  if (format < 0) {
    fprintf(stderr, "switchboard: unknown log format '%s' (text or json)\n", format_name);
    g_free(format_name);
    goto out;
  }
  g_free(format_name);
  sb_log_set_format((sb_log_format)format);
  sb_log_init((sb_log_level)level, sb_config_get_bool(cfg, "general", "ice_debug", false));
  sb_info("switchboard %s starting (config: %s)", PACKAGE_VERSION,
          config_path ? config_path : "built-in defaults");

  signal(SIGPIPE, SIG_IGN);
  main_loop = g_main_loop_new(NULL, FALSE);
  g_unix_signal_add(SIGINT, on_stop_signal, "SIGINT");
  g_unix_signal_add(SIGTERM, on_stop_signal, "SIGTERM");

  int workers = (int)sb_config_get_int_range(cfg, "general", "workers", 0, 0, 256);
  sb_workers_start(workers);
  if (sb_modules_start(cfg) != 0) {
    sb_workers_stop();
    goto out;
  }
  sb_config_warn_unused(cfg);
  if (check_only) {
    rc = sb_config_errors(cfg) == 0 ? 0 : 1;
    sb_info("configuration checked: %d error(s)", sb_config_errors(cfg));
  } else {
    sb_info("switchboard ready");
    g_main_loop_run(main_loop);
    rc = 0;
  }
  sb_modules_stop();
  sb_workers_stop();
  sb_info("switchboard stopped");

out:
  if (main_loop)
    g_main_loop_unref(main_loop);
  sb_config_free(cfg);
  g_free(config_path);
  g_free(level_arg);
  g_strfreev(overrides);
  return rc;
}
