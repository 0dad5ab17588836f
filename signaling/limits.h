/* Switchboard — abuse limits: token buckets and the per-IP connection table.
 *
 * Pure bookkeeping with the clock passed in (unit-tested in tests/unit/
 * test_limits.c); signaling calls it on its own thread: ws.c checks every new TCP
 * connection against the table (LWS_CALLBACK_FILTER_NETWORK_CONNECTION, before
 * anything is read) and every JSON-RPC message against its connection's bucket. */
#ifndef SB_SIGNALING_LIMITS_H
#define SB_SIGNALING_LIMITS_H

#include <stdbool.h>
#include <stdint.h>

/* A token bucket: `rate` tokens a second refill it up to `burst`; every event
 * takes one. rate 0 disables the limit (take always succeeds). */
typedef struct sb_token_bucket {
  double tokens;             /* available now (fractional while refilling) */
  int64_t last_us;           /* when tokens was last brought up to date */
} sb_token_bucket;

/* Starts full. */
void sb_token_bucket_init(sb_token_bucket *b, double burst, int64_t now_us);
/* Takes one token if there is one; false when the bucket is empty. */
bool sb_token_bucket_take(sb_token_bucket *b, double rate, double burst, int64_t now_us);
/* Microseconds until the bucket would be full again (0: full). */
int64_t sb_token_bucket_full_in_us(const sb_token_bucket *b, double rate, double burst, int64_t now_us);

typedef struct sb_iplimits_config {
  double rate;               /* new connections a second per IP (0: unlimited) */
  double burst;              /* new connections at once per IP */
  int max_concurrent;        /* open connections per IP (0: unlimited) */
  int max_entries;           /* IPs tracked at most (the table is bounded) */
} sb_iplimits_config;

typedef enum {
  SB_IPLIMIT_OK = 0,         /* accepted and counted as open */
  SB_IPLIMIT_RATE,           /* too many new connections from this IP */
  SB_IPLIMIT_CONCURRENT,     /* too many open connections from this IP */
  SB_IPLIMIT_TABLE_FULL,     /* max_entries IPs are active: refuse a new one */
} sb_iplimit_verdict;

typedef struct sb_iplimits sb_iplimits;

sb_iplimits *sb_iplimits_new(const sb_iplimits_config *cfg);
void sb_iplimits_free(sb_iplimits *t);
/* A new connection from ip (a textual address): counted as open on SB_IPLIMIT_OK,
 * and then the caller must call sb_iplimits_disconnect when it closes. A refused
 * attempt still spends nothing but is remembered (the entry stays). */
sb_iplimit_verdict sb_iplimits_connect(sb_iplimits *t, const char *ip, int64_t now_us);
/* Counts one more open connection for ip, which sb_iplimits_connect has just
 * refused for its rate (the caller lets it in only to answer 429); released with
 * sb_iplimits_disconnect like any other. */
void sb_iplimits_hold(sb_iplimits *t, const char *ip);
/* One connection accepted from ip has closed. */
void sb_iplimits_disconnect(sb_iplimits *t, const char *ip, int64_t now_us);
/* Drops the entries that carry no information any more: no open connection and a
 * bucket that has refilled. Returns how many were dropped. Called when the table
 * is full and from a periodic sweep. */
int sb_iplimits_expire(sb_iplimits *t, int64_t now_us);
int sb_iplimits_size(const sb_iplimits *t);
/* Open connections counted for ip (0 when unknown). */
int sb_iplimits_open(const sb_iplimits *t, const char *ip);
/* A short name for a verdict, the metrics' reject reason: "conn_rate"… */
const char *sb_iplimit_reason(sb_iplimit_verdict v);

#endif
