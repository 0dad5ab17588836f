/* Switchboard — signaling server start-up. */
#include "signaling/server.h"

#include <glib.h>
#include <string.h>

#include "sbconfig.h"
#include "core/config.h"
#include "core/log.h"
#include "core/module.h"
#include "core/util.h"
#include "signaling/admission.h"
#include "signaling/resume.h"
#include "signaling/tls.h"

static sb_signaling_config config;
static struct lws_context *context;
static GThread *signaling_thread;
static int64_t started_us;
static struct lws_protocols protocols[2];
static struct lws_http_mount mount;
static struct lws_http_mount admin_page_mount;   /* /admin/ -> demos/admin.html */
static lws_retry_bo_t retry;
static GMainLoop *lws_loop;     /* a handle on the default context for lws; never run */
static sb_tls_config tls;       /* [http] tls_cert / tls_key: https:// and wss:// */

const sb_signaling_config *sb_signaling_get_config(void) { return &config; }
struct lws_context *sb_signaling_context(void) { return context; }
bool sb_signaling_on_thread(void) { return g_thread_self() == signaling_thread; }
int64_t sb_signaling_uptime_us(void) { return sb_now_us() - started_us; }

static void lws_log_emit(int level, const char *line) {
  char buf[512];
  g_strlcpy(buf, line, sizeof buf);
  g_strchomp(buf);
  /* lws prefixes its own timestamp; keep the text after "] ". */
  const char *text = strstr(buf, "] ");
  text = text ? text + 2 : buf;
  if (level & LLL_ERR)
    sb_warn("websocket: %s", text);
  else if (level & LLL_WARN)
    sb_verbose("websocket: %s", text);
  else
    sb_debug("websocket: %s", text);
}

static char *default_demos_dir(void) {
  if (g_file_test("demos", G_FILE_TEST_IS_DIR))
    return g_canonicalize_filename("demos", NULL);
  return g_build_filename(SB_DATADIR, "demos", NULL);
}

static int signaling_start(sb_config *cfg) {
  signaling_thread = g_thread_self();
  started_us = sb_now_us();
  config.address = sb_config_get_string(cfg, "http", "address", "0.0.0.0");
  config.port = (int)sb_config_get_int_range(cfg, "http", "port", 8088, 1, 65535);
  char *demos = sb_config_get_string(cfg, "http", "demos_dir", NULL);
  config.demos_dir = demos ? g_canonicalize_filename(demos, NULL) : default_demos_dir();
  g_free(demos);
  config.ws_path = sb_config_get_string(cfg, "http", "ws_path", "/ws");
  config.max_message_size =
      (size_t)sb_config_get_int_range(cfg, "http", "max_message_size", 256 * 1024, 1024, 64 << 20);
  config.max_queue_bytes =
      (size_t)sb_config_get_int_range(cfg, "http", "max_queue_bytes", 8 << 20, 64 * 1024, 1 << 30);
  config.max_body_size =
      (size_t)sb_config_get_int_range(cfg, "http", "max_body_size", 256 * 1024, 1024, 64 << 20);
  config.ping_interval_s = (int)sb_config_get_int_range(cfg, "http", "ping_interval", 20, 1, 3600);
  config.ping_timeout_s = (int)sb_config_get_int_range(cfg, "http", "ping_timeout", 60, 2, 7200);
  if (config.ping_timeout_s <= config.ping_interval_s)
    config.ping_timeout_s = config.ping_interval_s * 2;
  /* [limits] (admission.c) and [signaling] resume (resume.c). */
  if (sb_admission_start(cfg) != 0 || sb_resume_start(cfg) != 0)
    return -1;
  char *tls_error = NULL;
  if (sb_tls_config_read(cfg, "http", &tls, &tls_error) != 0) {
    sb_error("signaling: %s", tls_error);
    g_free(tls_error);
    return -1;
  }
  /* With TLS: plain HTTP is "off" (not listened for) or "redirect" (plain_port). */
  char *plain = sb_config_get_string(cfg, "http", "plain", "off");
  int plain_port = (int)sb_config_get_int_range(cfg, "http", "plain_port", 8080, 1, 65535);
  bool redirect = strcmp(plain, "redirect") == 0;
  if (!redirect && strcmp(plain, "off") != 0) {
    sb_error("signaling: [http] plain is \"off\" or \"redirect\", not \"%s\"", plain);
    g_free(plain);
    return -1;
  }
  g_free(plain);
  if (redirect && !sb_tls_on(&tls))
    sb_warn("signaling: [http] plain = redirect needs TLS (tls_cert, tls_key): ignored");
  redirect = redirect && sb_tls_on(&tls);

  lws_set_log_level(LLL_ERR | LLL_WARN | (sb_log_get_level() >= SB_LOG_DEBUG ? LLL_NOTICE : 0),
                    lws_log_emit);

  /* One protocol for everything: a WebSocket upgrade with or without the
   * "switchboard" subprotocol lands here, and so do the plain HTTP requests for
   * the plugins' routes (http.c mounts them); the rest is served by the mount. */
  protocols[0] = (struct lws_protocols){
    .name = "switchboard",
    .callback = sb_ws_callback,
    .per_session_data_size = sb_ws_conn_size(),
    .rx_buffer_size = 65536,
  };
  mount = (struct lws_http_mount){
    .mountpoint = "/",
    .mountpoint_len = 1,
    .origin = config.demos_dir,
    .def = "index.html",
    .origin_protocol = LWSMPRO_FILE,
    .mount_next = &admin_page_mount,
  };
  /* The admin dashboard (it calls the admin API on its own listener, admin.c). */
  admin_page_mount = (struct lws_http_mount){
    .mountpoint = "/admin",
    .mountpoint_len = 6,
    .origin = config.demos_dir,
    .def = "admin.html",
    .origin_protocol = LWSMPRO_FILE,
  };
  retry = (lws_retry_bo_t){
    .secs_since_valid_ping = (uint16_t)config.ping_interval_s,
    .secs_since_valid_hangup = (uint16_t)config.ping_timeout_s,
  };

  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  void *loops[1] = { NULL };
  info.port = config.port;
  info.iface = (config.address && *config.address && strcmp(config.address, "0.0.0.0") != 0)
                   ? config.address
                   : NULL;
  info.protocols = protocols;
  info.mounts = sb_http_start(protocols[0].name, &mount);
  info.retry_and_idle_policy = &retry;
  /* SSL global init even without TLS here: the admin vhost may have its own. */
  info.options = LWS_SERVER_OPTION_GLIB | LWS_SERVER_OPTION_VALIDATE_UTF8 |
                 LWS_SERVER_OPTION_DISABLE_IPV6 | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  sb_tls_apply(&tls, &info);
  info.foreign_loops = loops;
  info.server_string = "switchboard";
  /* libwebsockets on the default GMainContext, which the main thread runs. */
  lws_loop = g_main_loop_new(NULL, FALSE);
  loops[0] = lws_loop;
  context = lws_create_context(&info);
  if (context == NULL) {
    sb_error("signaling: cannot listen on %s:%d (in use, or no permission?)",
             config.address ? config.address : "*", config.port);
    sb_tls_config_clear(&tls);
    return -1;
  }
  sb_info("signaling: %s://%s:%d/ (WebSocket %s, demos from %s)", sb_tls_on(&tls) ? "https" : "http",
          info.iface ? info.iface : "0.0.0.0", config.port, config.ws_path, config.demos_dir);
  if (redirect && sb_tls_redirect_start(context, info.iface, plain_port, config.port) != 0) {
    lws_context_destroy(context);
    context = NULL;
    sb_tls_config_clear(&tls);
    return -1;
  }
  return 0;
}

static void signaling_stop(void) {
  sb_resume_stop();             /* held sessions end now, before the plugins stop */
  if (context && sb_ws_connection_count() > 0) {
    /* Say goodbye properly, but never wait more than half a second for it. */
    sb_ws_close_all();
    int64_t deadline = sb_now_us() + 500000;
    while (sb_ws_connection_count() > 0 && sb_now_us() < deadline) {
      if (!g_main_context_iteration(NULL, FALSE))
        g_usleep(1000);
    }
  }
  if (context) {
    lws_context_destroy(context);
    context = NULL;
  }
  sb_http_stop();
  sb_resume_free();
  sb_admission_stop();
  sb_tls_config_clear(&tls);
  g_clear_pointer(&lws_loop, g_main_loop_unref);
  g_free(config.address);
  g_free(config.demos_dir);
  g_free(config.ws_path);
  memset(&config, 0, sizeof config);
}

static const sb_module signaling_module = {
  .name = "signaling",
  .order = SB_ORDER_SIGNALING,
  .start = signaling_start,
  .stop = signaling_stop,
};
SB_MODULE_REGISTER(signaling_module)
