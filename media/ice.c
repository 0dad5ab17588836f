/* Switchboard — ICE with libnice. */
#include "media/ice.h"

#include <agent.h>
#include <interfaces.h>
#include <gio/gio.h>
#include <string.h>

#include "core/log.h"

struct sb_ice {
  NiceAgent *agent;
  guint stream;
  GMainContext *ctx;
  sb_ice_state state;
  bool have_remote_creds;
  bool gathering;
  bool gathered;
  sb_ice_callbacks cb;
  void *ud;
  char *log_name;
  char *ufrag;
  char *pwd;
  gulong handlers[4];
  int in_callback;        /* >0 while libnice is calling us */
  bool dead;              /* freed from inside a callback; destroyed right after */
};

const char *sb_ice_state_name(sb_ice_state s) {
  static const char *const names[] = { "new", "gathering", "checking", "connected", "failed" };
  return (unsigned)s < G_N_ELEMENTS(names) ? names[s] : "?";
}

static void ice_set_state(sb_ice *ice, sb_ice_state s) {
  if (ice->state == s)
    return;
  sb_verbose("%s: ice %s -> %s", ice->log_name, sb_ice_state_name(ice->state), sb_ice_state_name(s));
  ice->state = s;
  if (ice->cb.state)
    ice->cb.state(ice->ud, s);
}

static void on_component_state(NiceAgent *agent, guint stream, guint component, guint state,
                               gpointer data) {
  sb_ice *ice = data;
  switch (state) {
  case NICE_COMPONENT_STATE_CONNECTING:
    ice_set_state(ice, SB_ICE_CHECKING);
    break;
  case NICE_COMPONENT_STATE_CONNECTED:
  case NICE_COMPONENT_STATE_READY:
    ice_set_state(ice, SB_ICE_CONNECTED);
    break;
  case NICE_COMPONENT_STATE_FAILED:
    ice_set_state(ice, SB_ICE_FAILED);
    break;
  default:
    break;
  }
}

static char *candidate_string(sb_ice *ice, NiceCandidate *c) {
  char *sdp = nice_agent_generate_local_candidate_sdp(ice->agent, c);
  if (sdp == NULL)
    return NULL;
  /* libnice writes "a=candidate:..."; signaling carries "candidate:...". */
  if (g_str_has_prefix(sdp, "a=")) {
    char *s = g_strdup(sdp + 2);
    g_free(sdp);
    return s;
  }
  return sdp;
}

static void on_new_candidate(NiceAgent *agent, NiceCandidate *c, gpointer data) {
  sb_ice *ice = data;
  if (ice->cb.candidate == NULL)
    return;
  char *s = candidate_string(ice, c);
  if (s) {
    ice->cb.candidate(ice->ud, s);
    g_free(s);
  }
}

static void on_gathering_done(NiceAgent *agent, guint stream, gpointer data) {
  sb_ice *ice = data;
  ice->gathered = true;
  if (ice->cb.gathering_done)
    ice->cb.gathering_done(ice->ud);
}

static void on_selected_pair(NiceAgent *agent, guint stream, guint component, NiceCandidate *l,
                             NiceCandidate *r, gpointer data) {
  sb_ice *ice = data;
  char la[NICE_ADDRESS_STRING_LEN], ra[NICE_ADDRESS_STRING_LEN];
  nice_address_to_string(&l->addr, la);
  nice_address_to_string(&r->addr, ra);
  sb_verbose("%s: ice selected pair %s:%u <-> %s:%u", ice->log_name, la,
             nice_address_get_port(&l->addr), ra, nice_address_get_port(&r->addr));
}

static void on_recv(NiceAgent *agent, guint stream, guint component, guint len, gchar *buf,
                    gpointer data) {
  sb_ice *ice = data;
  if (ice->cb.recv && !ice->dead) {
    ice->in_callback++;
    ice->cb.recv(ice->ud, (uint8_t *)buf, len);
    ice->in_callback--;
  }
}

static void add_local_address(sb_ice *ice, const char *ip) {
  NiceAddress addr;
  nice_address_init(&addr);
  if (!nice_address_set_from_string(&addr, ip)) {
    sb_warn("%s: ice: '%s' is not an IP address", ice->log_name, ip);
    return;
  }
  nice_agent_add_local_address(ice->agent, &addr);
}

/* libnice gathers every interface but loopback on its own; with explicit
 * addresses it gathers exactly those. Inside a test namespace only lo exists, so
 * with no usable interface we fall back to 127.0.0.1 (TESTING.md §5). */
static void configure_addresses(sb_ice *ice, const sb_ice_config *cfg) {
  if (cfg->addresses && cfg->addresses[0]) {
    for (char **a = cfg->addresses; *a; a++)
      add_local_address(ice, *a);
    return;
  }
  int added = 0;
  if (cfg->interfaces && cfg->interfaces[0]) {
    for (char **i = cfg->interfaces; *i; i++) {
      char *ip = nice_interfaces_get_ip_for_interface(*i);
      if (ip) {
        add_local_address(ice, ip);
        added++;
      } else {
        sb_warn("%s: ice: interface %s has no IPv4 address", ice->log_name, *i);
      }
      g_free(ip);
    }
    if (added > 0)
      return;
  }
  GList *ips = nice_interfaces_get_local_ips(FALSE);
  for (GList *l = ips; l; l = l->next) {
    const char *ip = l->data;
    if (!cfg->ipv6 && strchr(ip, ':'))
      continue;
    if (g_str_has_prefix(ip, "fe80"))
      continue;
    add_local_address(ice, ip);
    added++;
  }
  g_list_free_full(ips, g_free);
  if (added == 0)
    add_local_address(ice, "127.0.0.1");
}

sb_ice *sb_ice_new(GMainContext *ctx, const sb_ice_config *cfg, bool controlling,
                   const sb_ice_callbacks *cb, void *ud, const char *log_name) {
  sb_ice *ice = g_new0(sb_ice, 1);
  ice->ctx = g_main_context_ref(ctx);
  ice->cb = *cb;
  ice->ud = ud;
  ice->log_name = g_strdup(log_name);
  /* Consent freshness (RFC 7675) is kept by the peer, not libnice: libnice stops
   * sending for good when one consent check goes unanswered (a ~7 s outage), where
   * a browser would recover. The peer ends a connection after consent_timeout
   * seconds without an authenticated packet from the remote instead. */
  ice->agent = nice_agent_new_full(ctx, NICE_COMPATIBILITY_RFC5245, NICE_AGENT_OPTION_ICE_TRICKLE);
  /* The offerer controls (RFC 8445 §6.1.1): the browser for its own offers, we
   * for the offers we make. */
  g_object_set(ice->agent, "controlling-mode", controlling, "ice-tcp", FALSE, "upnp", FALSE,
               "keepalive-conncheck", FALSE, NULL);
  nice_agent_set_software(ice->agent, "switchboard");
  if (cfg->stun.host) {
    g_object_set(ice->agent, "stun-server", cfg->stun.host, "stun-server-port",
                 cfg->stun.port ? cfg->stun.port : 3478, NULL);
  }
  configure_addresses(ice, cfg);
  ice->stream = nice_agent_add_stream(ice->agent, 1);
  nice_agent_set_stream_name(ice->agent, ice->stream, "application");
  if (cfg->port_min || cfg->port_max)
    nice_agent_set_port_range(ice->agent, ice->stream, 1, cfg->port_min, cfg->port_max);
  if (cfg->turn.host) {
    nice_agent_set_relay_info(ice->agent, ice->stream, 1, cfg->turn.host,
                              cfg->turn.port ? cfg->turn.port : 3478, cfg->turn.username,
                              cfg->turn.password,
                              cfg->turn.tcp ? NICE_RELAY_TYPE_TURN_TCP : NICE_RELAY_TYPE_TURN_UDP);
  }
  ice->handlers[0] = g_signal_connect(ice->agent, "component-state-changed",
                                      G_CALLBACK(on_component_state), ice);
  ice->handlers[1] = g_signal_connect(ice->agent, "new-candidate-full",
                                      G_CALLBACK(on_new_candidate), ice);
  ice->handlers[2] = g_signal_connect(ice->agent, "candidate-gathering-done",
                                      G_CALLBACK(on_gathering_done), ice);
  ice->handlers[3] = g_signal_connect(ice->agent, "new-selected-pair-full",
                                      G_CALLBACK(on_selected_pair), ice);
  nice_agent_attach_recv(ice->agent, ice->stream, 1, ctx, on_recv, ice);
  nice_agent_get_local_credentials(ice->agent, ice->stream, &ice->ufrag, &ice->pwd);
  return ice;
}

static gboolean agent_release(gpointer data) {
  g_object_unref(data);
  return G_SOURCE_REMOVE;
}

static void ice_destroy(sb_ice *ice) {
  for (size_t i = 0; i < G_N_ELEMENTS(ice->handlers); i++)
    if (ice->handlers[i])
      g_signal_handler_disconnect(ice->agent, ice->handlers[i]);
  nice_agent_attach_recv(ice->agent, ice->stream, 1, ice->ctx, NULL, NULL);
  /* Close the sockets now: a remote that keeps sending would otherwise keep the
   * socket source ready with nobody reading it. */
  nice_agent_remove_stream(ice->agent, ice->stream);
  /* The last reference goes from an idle of our own at high priority, so that
   * nothing busy on the context can starve it. */
  GSource *idle = g_idle_source_new();
  g_source_set_priority(idle, G_PRIORITY_HIGH);
  g_source_set_callback(idle, agent_release, ice->agent, NULL);
  g_source_attach(idle, ice->ctx);
  g_source_unref(idle);
  g_main_context_unref(ice->ctx);
  g_free(ice->log_name);
  g_free(ice->ufrag);
  g_free(ice->pwd);
  g_free(ice);
}

static gboolean ice_destroy_later(gpointer data) {
  ice_destroy(data);
  return G_SOURCE_REMOVE;
}

void sb_ice_free(sb_ice *ice) {
  if (ice == NULL || ice->dead)
    return;
  if (ice->in_callback == 0) {
    ice_destroy(ice);
    return;
  }
  /* Called from inside libnice's receive callback: tearing the stream down now
   * would pull the socket from under libnice. Go quiet and finish right after. */
  ice->dead = true;
  memset(&ice->cb, 0, sizeof ice->cb);
  GSource *idle = g_idle_source_new();
  g_source_set_priority(idle, G_PRIORITY_HIGH);
  g_source_set_callback(idle, ice_destroy_later, ice, NULL);
  g_source_attach(idle, ice->ctx);
  g_source_unref(idle);
}

int sb_ice_gather(sb_ice *ice) {
  ice->gathering = true;
  if (!nice_agent_gather_candidates(ice->agent, ice->stream)) {
    sb_error("%s: ice: gathering failed (no usable local address?)", ice->log_name);
    return -1;
  }
  if (ice->state == SB_ICE_NEW)
    ice->state = SB_ICE_GATHERING;
  return 0;
}

char **sb_ice_local_candidates(sb_ice *ice) {
  GSList *cands = nice_agent_get_local_candidates(ice->agent, ice->stream, 1);
  GPtrArray *out = g_ptr_array_new();
  for (GSList *l = cands; l; l = l->next) {
    char *s = candidate_string(ice, l->data);
    if (s)
      g_ptr_array_add(out, s);
  }
  g_slist_free_full(cands, (GDestroyNotify)nice_candidate_free);
  g_ptr_array_add(out, NULL);
  return (char **)g_ptr_array_free(out, FALSE);
}

const char *sb_ice_local_ufrag(sb_ice *ice) { return ice->ufrag; }
const char *sb_ice_local_pwd(sb_ice *ice) { return ice->pwd; }

int sb_ice_restart(sb_ice *ice) {
  if (!nice_agent_restart_stream(ice->agent, ice->stream))
    return -1;
  g_free(ice->ufrag);
  g_free(ice->pwd);
  ice->ufrag = ice->pwd = NULL;
  nice_agent_get_local_credentials(ice->agent, ice->stream, &ice->ufrag, &ice->pwd);
  ice->have_remote_creds = false;
  sb_info("%s: ICE restart: new local ufrag %s", ice->log_name, ice->ufrag);
  return 0;
}

int sb_ice_set_remote_credentials(sb_ice *ice, const char *ufrag, const char *pwd) {
  if (!nice_agent_set_remote_credentials(ice->agent, ice->stream, ufrag, pwd))
    return -1;
  ice->have_remote_creds = true;
  return 0;
}

int sb_ice_add_remote_candidate(sb_ice *ice, const char *candidate) {
  if (candidate == NULL || strlen(candidate) > 1024)
    return -1;
  char *line = g_str_has_prefix(candidate, "a=") ? g_strdup(candidate)
                                                 : g_strconcat("a=", candidate, NULL);
  NiceCandidate *c = nice_agent_parse_remote_candidate_sdp(ice->agent, ice->stream, line);
  g_free(line);
  if (c == NULL) {
    /* libnice refuses mDNS names and TCP types it does not do: say why. */
    if (strstr(candidate, ".local "))
      return 1;
    if (strstr(candidate, " tcp ") || strstr(candidate, " TCP "))
      return 1;
    return -1;
  }
  int rc = 0;
  if (c->component_id != 1 || c->transport != NICE_CANDIDATE_TRANSPORT_UDP) {
    rc = 1; /* rtcp-mux: the RTCP component is never used */
  } else {
    GSList *list = g_slist_append(NULL, c);
    if (nice_agent_set_remote_candidates(ice->agent, ice->stream, 1, list) < 0)
      rc = -1;
    g_slist_free(list);
  }
  nice_candidate_free(c);
  return rc;
}

void sb_ice_remote_gathering_done(sb_ice *ice) {
  nice_agent_peer_candidate_gathering_done(ice->agent, ice->stream);
}

int sb_ice_send(sb_ice *ice, const uint8_t *buf, size_t len) {
  return nice_agent_send(ice->agent, ice->stream, 1, (guint)len, (const gchar *)buf);
}

sb_ice_state sb_ice_get_state(const sb_ice *ice) { return ice->state; }
bool sb_ice_is_gathered(const sb_ice *ice) { return ice->gathered; }

char *sb_ice_selected_pair(sb_ice *ice) {
  NiceCandidate *l = NULL, *r = NULL;
  if (!nice_agent_get_selected_pair(ice->agent, ice->stream, 1, &l, &r) || !l || !r)
    return NULL;
  static const char *const types[] = { "host", "srflx", "prflx", "relay" };
  char la[NICE_ADDRESS_STRING_LEN], ra[NICE_ADDRESS_STRING_LEN];
  nice_address_to_string(&l->addr, la);
  nice_address_to_string(&r->addr, ra);
  return g_strdup_printf("udp %s:%u <-> %s:%u (%s/%s)", la, nice_address_get_port(&l->addr), ra,
                         nice_address_get_port(&r->addr),
                         l->type < 4 ? types[l->type] : "?", r->type < 4 ? types[r->type] : "?");
}
