/* Switchboard — the admin REST API (docs/admin-openapi.yaml) on a listener of its
 * own, [admin] address:port (default 127.0.0.1:7088).
 *
 * It is a second lws vhost in signaling's context, so its requests run on the
 * main thread through http.c's exchanges like the plugins' routes (body limits,
 * CORS preflight, answers from any thread): the vhost's protocol names one route
 * that takes every path. Here a request is authenticated (Authorization: Bearer
 * <[admin] token>, compared in constant time), matched against admin_route.c's
 * table, and served either by signaling itself (info, log level) or by a
 * plugin's admin method (core/plugin.h) through an internal sb_request whose
 * answer becomes the HTTP response. Every error is JSON:
 * {"error": {"code": <HTTP status>, "message": "..."}}. With an empty token the
 * listener is not opened at all. */
#include <glib.h>
#include <stdarg.h>
#include <string.h>

#include "sbconfig.h"
#include "core/config.h"
#include "core/http.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/module.h"
#include "core/plugin.h"
#include "core/worker.h"
#include "signaling/admin_route.h"
#include "signaling/server.h"
#include "signaling/tls.h"

#define TOKEN_MAX 512

static struct {
  bool on;
  char *address;
  int port;
  char *token;
  char *config_path;
  sb_tls_config tls;           /* [admin] tls_cert / tls_key: https:// */
} admin;

static void admin_handle(sb_http_request *r, void *ud);

static const sb_http_route admin_route = {
  .prefix = "/",
  /* Every method reaches admin_handle, which answers 405 per path. */
  .methods = "GET, POST, PUT, DELETE, PATCH",
  .handler = admin_handle,
};

/* Static: lws keeps pointers to them until the context is destroyed, after this
 * module stopped. */
static struct lws_protocols admin_protocols[2];

/* --- answers --- */

static void reply_json(sb_http_request *r, int status, json_t *body, const char *const *headers,
                       size_t header_count) {
  char *text = json_dumps(body, JSON_COMPACT);
  json_decref(body);
  sb_http_reply(r, status, "application/json", headers, header_count, text, text ? strlen(text) : 0);
  free(text);
}

static void reply_error(sb_http_request *r, int status, const char *const *headers,
                        size_t header_count, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void reply_error(sb_http_request *r, int status, const char *const *headers,
                        size_t header_count, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *message = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  reply_json(r, status, json_pack("{s:{s:i, s:s}}", "error", "code", status, "message", message),
             headers, header_count);
  g_free(message);
}

/* The HTTP status of a plugin's JSON-RPC error code. */
static int status_of(int code) {
  switch (code) {
  case SB_ERR_INVALID_PARAMS:
    return 400;
  case SB_ERR_NO_ROOM:
  case SB_ERR_NO_PARTICIPANT:
  case SB_ERR_NO_TRACK:
  case SB_ERR_NOT_IN_ROOM:
    return 404;
  case SB_ERR_ROOM_EXISTS:
  case SB_ERR_BUSY:
  case SB_ERR_ROOM_FULL:
    return 409;
  default:
    return 500;
  }
}

typedef struct admin_call {
  sb_http_request *http;
  int status;                /* of a success */
} admin_call;

/* sb_request_done of a plugin's admin method: any thread, once. */
static void admin_done(void *ud, json_t *result, int code, const char *message, json_t *data) {
  admin_call *c = ud;
  if (code == 0) {
    reply_json(c->http, c->status, json_incref(result), NULL, 0);
  } else {
    int status = status_of(code);
    json_t *err = json_pack("{s:{s:i, s:s, s:i}}", "error", "code", status, "message", message,
                            "rpc_code", code);
    if (data)
      json_object_set(json_object_get(err, "error"), "data", data);
    reply_json(c->http, status, err, NULL, 0);
  }
  g_free(c);
}

/* --- signaling's own actions --- */

static json_t *build_json(void) {
  char glib[32];
  g_snprintf(glib, sizeof glib, "%u.%u.%u", glib_major_version, glib_minor_version, glib_micro_version);
#if defined(__SANITIZE_ADDRESS__)
  const bool sanitizers = true;
#else
  const bool sanitizers = false;
#endif
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "compiler", __VERSION__, "date", __DATE__,
                   "libwebsockets", lws_get_library_version(), "jansson", JANSSON_VERSION, "glib",
                   glib, "sanitizers", sanitizers);
}

static json_t *config_json(void) {
  const sb_signaling_config *sc = sb_signaling_get_config();
  json_t *plugins = json_array();
  for (int i = 0; i < sb_plugin_count(); i++)
    json_array_append_new(plugins, json_string(sb_plugin_get(i)->name));
  return json_pack("{s:s?, s:s, s:{s:s, s:i, s:s, s:s}, s:{s:s, s:i}, s:o}", "file",
                   admin.config_path, "log_level", sb_log_level_name(sb_log_get_level()), "http",
                   "address", sc->address ? sc->address : "0.0.0.0", "port", sc->port, "ws_path",
                   sc->ws_path, "demos_dir", sc->demos_dir, "admin", "address", admin.address,
                   "port", admin.port, "plugins", plugins);
}

static json_t *routes_json(void) {
  json_t *out = json_array();
  for (int i = 0; i < sb_admin_route_count(); i++) {
    const sb_admin_route *rt = sb_admin_route_get(i);
    json_array_append_new(out, json_sprintf("%s %s", rt->method, rt->pattern));
  }
  return out;
}

static void admin_info(sb_http_request *r) {
  json_t *workers = json_array();
  for (int i = 0; i < sb_worker_count(); i++)
    json_array_append_new(workers, json_pack("{s:i, s:i}", "index", i, "load",
                                             sb_worker_load(sb_worker_get(i))));
  json_t *out = json_pack("{s:s, s:s, s:I, s:i, s:o, s:i, s:I, s:o, s:o, s:o}", "server",
                          "switchboard", "version", PACKAGE_VERSION, "uptime_s",
                          (json_int_t)(sb_signaling_uptime_us() / G_USEC_PER_SEC), "workers",
                          sb_worker_count(), "worker_load", workers, "sessions", sb_session_count(),
                          "peers", (json_int_t)sb_metrics_lookup("switchboard_peers"), "build",
                          build_json(), "config", config_json(), "routes", routes_json());
  sb_plugins_status(out);
  reply_json(r, 200, out, NULL, 0);
}

static void admin_loglevel(sb_http_request *r, json_t *params, bool set) {
  const char *previous = sb_log_level_name(sb_log_get_level());
  if (set) {
    json_t *v = json_object_get(params, "level");
    int level = json_is_string(v) ? sb_log_level_parse(json_string_value(v)) : -1;
    if (level < 0) {
      reply_error(r, 400, NULL, 0, "give {\"level\": \"error\"|\"warn\"|\"info\"|\"verbose\"|\"debug\"}");
      return;
    }
    sb_log_set_level((sb_log_level)level);
    sb_info("admin: log level %s (was %s), from %s", sb_log_level_name((sb_log_level)level), previous,
            sb_http_remote(r));
  }
  reply_json(r, 200, json_pack("{s:s, s:s}", "level", sb_log_level_name(sb_log_get_level()),
                               "previous", previous), NULL, 0);
}

/* --- requests --- */

static bool authorized(sb_http_request *r) {
  char token[TOKEN_MAX];
  return admin.token && sb_admin_bearer_token(sb_http_header(r, "authorization"), token, sizeof token) &&
         sb_admin_token_equal(token, admin.token);
}

/* The request's parameters: its JSON body (an object, or nothing) with the path's
 * captures added. NULL when the body is not a JSON object (answered). */
static json_t *request_params(sb_http_request *r, json_t *captures) {
  size_t len = 0;
  const uint8_t *body = sb_http_body(r, &len);
  json_t *params;
  if (len == 0) {
    params = json_object();
  } else {
    json_error_t err;
    params = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &err);
    if (params == NULL || !json_is_object(params)) {
      reply_error(r, 400, NULL, 0, "the body must be a JSON object%s%s", params ? "" : ": ",
                  params ? "" : err.text);
      if (params)
        json_decref(params);
      return NULL;
    }
  }
  json_object_update(params, captures);
  return params;
}

static void admin_handle(sb_http_request *r, void *ud) {
  if (!admin.on) {
    reply_error(r, 503, NULL, 0, "the admin API is shutting down");
    return;
  }
  if (!authorized(r)) {
    static const char *const h[] = { "WWW-Authenticate: Bearer realm=\"switchboard-admin\"" };
    sb_verbose("admin: %s %s from %s: not authorized", sb_http_method(r), sb_http_path(r),
               sb_http_remote(r));
    reply_error(r, 401, h, 1, "%s", sb_http_header(r, "authorization")
                                        ? "wrong token" : "send Authorization: Bearer <[admin] token>");
    return;
  }
  char allow[64] = "";
  json_t *captures = json_object();
  int i = sb_admin_route_match(sb_http_method(r), sb_http_path(r), captures, allow, sizeof allow);
  if (i == SB_ADMIN_NO_PATH) {
    reply_error(r, 404, NULL, 0, "no such admin resource: %s (see docs/admin-openapi.yaml)",
                sb_http_path(r));
  } else if (i == SB_ADMIN_BAD_METHOD) {
    char *h = g_strdup_printf("Allow: %s, OPTIONS", allow);
    const char *const hs[] = { h };
    reply_error(r, 405, hs, 1, "%s is not allowed on %s: use %s", sb_http_method(r), sb_http_path(r),
                allow);
    g_free(h);
  } else {
    const sb_admin_route *rt = sb_admin_route_get(i);
    json_t *params = request_params(r, captures);
    const sb_method *m = NULL;
    if (params == NULL) {
      /* answered */
    } else if (strcmp(rt->action, "server.info") == 0) {
      admin_info(r);
    } else if (g_str_has_prefix(rt->action, "loglevel.")) {
      admin_loglevel(r, params, strcmp(rt->action, "loglevel.set") == 0);
    } else if ((m = sb_plugin_find_admin_method(rt->action)) == NULL) {
      reply_error(r, 503, NULL, 0, "no running plugin serves %s (is videoroom enabled?)", rt->action);
    } else {
      admin_call *c = g_new0(admin_call, 1);
      c->http = r;
      c->status = rt->status;
      m->handler(sb_request_new_internal(rt->action, params, admin_done, c));
    }
    if (params)
      json_decref(params);
  }
  json_decref(captures);
}

/* --- start and stop --- */

/* The listener's protocol: plain HTTP only (a WebSocket upgrade is refused). */
static int admin_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                          size_t len) {
  if (reason == LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION)
    return -1;
  return sb_http_callback(wsi, reason, user, in, len);
}

static int admin_start(sb_config *cfg) {
  bool enabled = sb_config_get_bool(cfg, "admin", "enabled", true);
  admin.address = sb_config_get_string(cfg, "admin", "address", "127.0.0.1");
  admin.port = (int)sb_config_get_int_range(cfg, "admin", "port", 7088, 1, 65535);
  admin.token = sb_config_get_string(cfg, "admin", "token", "");
  admin.config_path = g_strdup(sb_config_path(cfg));
  if (!enabled) {
    sb_info("admin API disabled ([admin] enabled = false)");
    return 0;
  }
  char *tls_error = NULL;
  if (sb_tls_config_read(cfg, "admin", &admin.tls, &tls_error) != 0) {
    sb_error("admin: %s", tls_error);
    g_free(tls_error);
    return -1;
  }
  if (admin.token[0] == '\0') {
    sb_warn("admin API disabled: [admin] token is empty (set one to open %s:%d)", admin.address,
            admin.port);
    return 0;
  }
  admin_protocols[0] = (struct lws_protocols){
    .name = "switchboard-admin",
    .callback = admin_callback,
    .user = (void *)&admin_route,
  };
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.vhost_name = "admin";
  info.port = admin.port;
  info.iface = strcmp(admin.address, "0.0.0.0") != 0 && *admin.address ? admin.address : NULL;
  info.protocols = admin_protocols;
  info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_DISABLE_IPV6;
  info.server_string = "switchboard";
  sb_tls_apply(&admin.tls, &info);
  if (lws_create_vhost(sb_signaling_context(), &info) == NULL) {
    sb_error("admin: cannot listen on %s:%d (in use, or no permission?)", admin.address, admin.port);
    return -1;
  }
  admin.on = true;
  sb_info("admin API: %s://%s:%d/admin/v1/ (token from [admin] token)",
          sb_tls_on(&admin.tls) ? "https" : "http", admin.address, admin.port);
  return 0;
}

static void admin_stop(void) {
  /* The vhost goes with signaling's context, after this. */
  admin.on = false;
  g_clear_pointer(&admin.address, g_free);
  g_clear_pointer(&admin.token, g_free);
  g_clear_pointer(&admin.config_path, g_free);
  sb_tls_config_clear(&admin.tls);
}

static const sb_module admin_module = {
  .name = "admin",
  .order = SB_ORDER_SIGNALING + 1,
  .start = admin_start,
  .stop = admin_stop,
};
SB_MODULE_REGISTER(admin_module)
