/* Switchboard — media module start-up and configuration. */
#include "media/media.h"
#include "media/sctp.h"

#include <glib.h>
#include <nice/debug.h>
#include <string.h>

#include "core/config.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/module.h"
#include "core/worker.h"
#include "media/dtls.h"
#include "media/srtp.h"

static sb_media_settings settings;
static __thread sb_pktpool *thread_pool;
static sb_metric *peers_metric;

const sb_media_settings *sb_media_get_settings(void) { return &settings; }

sb_pktpool *sb_media_pool(void) {
  if (thread_pool == NULL)
    thread_pool = sb_pktpool_new(4096);
  return thread_pool;
}

static void pool_release(void) {
  if (thread_pool) {
    sb_pktpool_free(thread_pool);
    thread_pool = NULL;
  }
}

int sb_media_peer_count(void) { return peers_metric ? (int)sb_metric_value(peers_metric) : 0; }
void sb_media_peer_count_add(int delta) {
  if (peers_metric)
    sb_metric_add(peers_metric, delta);
}

static void read_server(sb_config *cfg, const char *key, sb_ice_server *out, bool turn) {
  char *v = sb_config_get_string(cfg, "media", key, NULL);
  if (v == NULL || *v == '\0') {
    g_free(v);
    return;
  }
  /* host[:port] */
  char *colon = strrchr(v, ':');
  out->port = 3478;
  if (colon && strchr(v, ':') == colon) {
    out->port = (unsigned)g_ascii_strtoull(colon + 1, NULL, 10);
    *colon = '\0';
  }
  out->host = g_strdup(v);
  out->turn = turn;
  g_free(v);
}

static int media_start(sb_config *cfg) {
  if (sb_srtp_global_init() != 0) {
    sb_error("media: libsrtp failed to initialise");
    return -1;
  }
  char *cert = sb_config_get_string(cfg, "media", "dtls_certificate", NULL);
  char *key = sb_config_get_string(cfg, "media", "dtls_key", NULL);
  int rc = sb_dtls_global_init(cert, key);
  g_free(cert);
  g_free(key);
  if (rc != 0)
    return -1;

  settings.ice.addresses = sb_config_get_list(cfg, "media", "addresses");
  settings.ice.interfaces = sb_config_get_list(cfg, "media", "interfaces");
  settings.ice.ipv6 = sb_config_get_bool(cfg, "media", "ipv6", false);
  settings.ice.port_min = (unsigned)sb_config_get_int_range(cfg, "media", "port_min", 20000, 0, 65535);
  settings.ice.port_max = (unsigned)sb_config_get_int_range(cfg, "media", "port_max", 40000, 0, 65535);
  if (settings.ice.port_min > settings.ice.port_max) {
    sb_error("media: port_min %u is above port_max %u", settings.ice.port_min, settings.ice.port_max);
    return -1;
  }
  read_server(cfg, "stun_server", &settings.ice.stun, false);
  read_server(cfg, "turn_server", &settings.ice.turn, true);
  if (settings.ice.turn.host) {
    settings.ice.turn.username = sb_config_get_string(cfg, "media", "turn_username", NULL);
    settings.ice.turn.password = sb_config_get_string(cfg, "media", "turn_password", NULL);
    char *t = sb_config_get_string(cfg, "media", "turn_transport", "udp");
    settings.ice.turn.tcp = g_ascii_strcasecmp(t, "tcp") == 0;
    g_free(t);
  }
  settings.connect_timeout_us =
      sb_config_get_int_range(cfg, "media", "connect_timeout", 30, 1, 3600) * G_USEC_PER_SEC;
  settings.consent_timeout_us =
      sb_config_get_int_range(cfg, "media", "consent_timeout", 25, 5, 30) * G_USEC_PER_SEC;
  settings.rtx_buffer_video =
      (uint16_t)sb_config_get_int_range(cfg, "media", "nack_buffer_video", 1024, 0, 32768);
  settings.rtx_buffer_audio =
      (uint16_t)sb_config_get_int_range(cfg, "media", "nack_buffer_audio", 256, 0, 32768);
  settings.replay_window =
      (unsigned)sb_config_get_int_range(cfg, "media", "srtp_replay_window", 1024, 64, 32768);
  if (sb_config_get_bool(cfg, "general", "ice_debug", false))
    nice_debug_enable(TRUE);
  else
    nice_debug_disable(TRUE);

  peers_metric = sb_metric_get("switchboard_peers", "PeerConnections alive", true);
  sb_worker_add_exit_hook(pool_release);
  char *addrs = settings.ice.addresses ? g_strjoinv(",", settings.ice.addresses) : g_strdup("auto");
  sb_info("media: ICE addresses %s, UDP ports %u-%u%s%s", addrs, settings.ice.port_min,
          settings.ice.port_max, settings.ice.stun.host ? ", STUN " : "",
          settings.ice.stun.host ? settings.ice.stun.host : "");
  g_free(addrs);
  return 0;
}

static void server_clear(sb_ice_server *s) {
  g_free(s->host);
  g_free(s->username);
  g_free(s->password);
  memset(s, 0, sizeof *s);
}

static void media_stop(void) {
  if (sb_media_peer_count() > 0)
    sb_warn("media: %d peer(s) still alive at shutdown", sb_media_peer_count());
  g_strfreev(settings.ice.addresses);
  g_strfreev(settings.ice.interfaces);
  server_clear(&settings.ice.stun);
  server_clear(&settings.ice.turn);
  memset(&settings, 0, sizeof settings);
  if (sb_sctp_live_count() > 0)
    sb_warn("media: %d SCTP association(s) still alive at shutdown", sb_sctp_live_count());
  sb_sctp_global_cleanup();
  sb_dtls_global_cleanup();
  sb_srtp_global_cleanup();
}

static const sb_module media_module = {
  .name = "media",
  .order = SB_ORDER_MEDIA,
  .start = media_start,
  .stop = media_stop,
};
SB_MODULE_REGISTER(media_module)
