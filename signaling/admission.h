/* Switchboard — who may connect and how fast they may talk ([limits]).
 *
 * Signaling thread. Every TCP connection to the main listener is checked against
 * its IP's token bucket and open-connection count before lws reads a byte from it
 * (LWS_CALLBACK_FILTER_NETWORK_CONNECTION), and counted in
 * switchboard_rejected_total ("conn_rate", "conn_limit", "conn_table_full") when
 * refused. A connection over the rate is answered "429 Too Many Requests" with
 * Retry-After while a server-wide reply budget lasts (REPLY_RATE); the rest, and
 * every connection over the open-connection cap, are closed unanswered (under a
 * flood, reading requests would be the attacker's win). WebSocket upgrades are refused past [limits] max_sessions
 * ("session_cap"). Every JSON-RPC message spends a token of its connection's
 * bucket; without one it is answered with error 1050 ("message_rate"), and a
 * connection that keeps sending while refused is closed (1008). */
#ifndef SB_SIGNALING_ADMISSION_H
#define SB_SIGNALING_ADMISSION_H

#include <libwebsockets.h>
#include <stdbool.h>

#include "core/config.h"
#include "signaling/limits.h"

int sb_admission_start(sb_config *cfg);
void sb_admission_stop(void);

/* LWS_CALLBACK_FILTER_NETWORK_CONNECTION: args is its struct
 * lws_filter_network_conn_args. 0 to accept, -1 to refuse (lws closes the socket). */
int sb_admission_filter_connection(void *args);
/* LWS_CALLBACK_WSI_CREATE / _DESTROY of the listener's vhost: the accepted
 * connection is tied to its IP until it is destroyed. */
void sb_admission_wsi_created(struct lws *wsi);
void sb_admission_wsi_destroyed(struct lws *wsi);
/* A WebSocket upgrade: false past max_sessions (counted). */
bool sb_admission_session_ok(void);
/* Whether this connection was let in only to be answered 429 (then call
 * sb_admission_refuse_429 and close it). */
bool sb_admission_is_limited(struct lws *wsi);
/* Writes the 429 answer; returns -1 (close the connection). */
int sb_admission_refuse_429(struct lws *wsi);

/* One connection's message budget. */
typedef struct sb_msg_limiter {
  sb_token_bucket bucket;
  int refused;               /* messages refused since the last one accepted */
} sb_msg_limiter;

typedef enum {
  SB_MSG_ACCEPT = 0,
  SB_MSG_REFUSE,             /* answer error 1050 */
  SB_MSG_CLOSE,              /* sustained abuse: close the connection */
} sb_msg_verdict;

void sb_msg_limiter_init(sb_msg_limiter *l);
/* Spends a token for one message (counts a refusal). */
sb_msg_verdict sb_msg_limiter_check(sb_msg_limiter *l);

#endif
