/* Switchboard — ICE (RFC 8445) with libnice: one agent per peer, one stream and
 * one component (BUNDLE and rtcp-mux), full ICE in the controlled role with
 * trickle (RFC 8838), on the owning worker's GMainContext. Consent freshness
 * (RFC 7675) is judged by the peer from the traffic it receives (media/peer.c). */
#ifndef SB_MEDIA_ICE_H
#define SB_MEDIA_ICE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
  SB_ICE_NEW = 0,
  SB_ICE_GATHERING,
  SB_ICE_CHECKING,
  SB_ICE_CONNECTED,
  SB_ICE_FAILED,
} sb_ice_state;

typedef struct sb_ice_server {
  char *host;             /* STUN or TURN server address (IP or name) */
  unsigned port;
  char *username;         /* TURN only */
  char *password;
  bool turn;
  bool tcp;               /* TURN over TCP */
} sb_ice_server;

/* Transport settings shared by every agent (from the [media] config section). */
typedef struct sb_ice_config {
  char **addresses;       /* local IPs to gather on; NULL = see interfaces */
  char **interfaces;      /* interface names whose addresses to use; NULL = all but
                             loopback, or 127.0.0.1 when there is none */
  unsigned port_min;      /* 0 = any */
  unsigned port_max;
  bool ipv6;
  sb_ice_server stun;     /* host NULL when not used */
  sb_ice_server turn;
} sb_ice_config;

typedef struct sb_ice_callbacks {
  void (*candidate)(void *ud, const char *candidate);   /* "candidate:..." gathered */
  void (*gathering_done)(void *ud);
  void (*state)(void *ud, sb_ice_state state);
  void (*recv)(void *ud, uint8_t *buf, size_t len);     /* a non-STUN datagram */
} sb_ice_callbacks;

typedef struct sb_ice sb_ice;

/* Creates an agent on ctx (which must be the calling thread's worker context).
 * controlling: true when we made the offer (RFC 8445 §6.1.1). */
sb_ice *sb_ice_new(GMainContext *ctx, const sb_ice_config *cfg, bool controlling,
                   const sb_ice_callbacks *cb, void *ud, const char *log_name);
/* Stops callbacks at once; the agent itself is released from an idle callback,
 * so this may be called from inside any callback. */
void sb_ice_free(sb_ice *ice);

/* Starts gathering. The host candidates are available right after it returns
 * (sb_ice_local_candidates); server-reflexive and relayed ones arrive later
 * through the candidate callback. Returns 0 or -1. */
int sb_ice_gather(sb_ice *ice);
/* Local candidates gathered so far, as "candidate:..." strings (free with g_strfreev). */
char **sb_ice_local_candidates(sb_ice *ice);
const char *sb_ice_local_ufrag(sb_ice *ice);
const char *sb_ice_local_pwd(sb_ice *ice);

int sb_ice_set_remote_credentials(sb_ice *ice, const char *ufrag, const char *pwd);
/* ICE restart (RFC 8445 §2.4): new local credentials, the remote's candidates and
 * checks dropped, local candidates kept. Set the remote's new credentials and
 * candidates next. Returns 0 or -1. */
int sb_ice_restart(sb_ice *ice);
/* Adds one remote candidate ("candidate:..." with or without "a="). Returns 0,
 * 1 when it was skipped on purpose (RTCP component, TCP, mDNS .local name, an
 * address family not in use), or -1 when it does not parse. */
int sb_ice_add_remote_candidate(sb_ice *ice, const char *candidate);
/* The remote said end-of-candidates: failed checks can now fail the agent. */
void sb_ice_remote_gathering_done(sb_ice *ice);

/* Sends one datagram on the selected pair. Returns bytes sent or -1. */
int sb_ice_send(sb_ice *ice, const uint8_t *buf, size_t len);
sb_ice_state sb_ice_get_state(const sb_ice *ice);
/* True once local gathering has finished (host candidates only: right after
 * sb_ice_gather). */
bool sb_ice_is_gathered(const sb_ice *ice);
const char *sb_ice_state_name(sb_ice_state s);
/* "udp 127.0.0.1:20001 <-> 127.0.0.1:53211 (host/host)" or NULL before a pair is selected. */
char *sb_ice_selected_pair(sb_ice *ice);

#endif
