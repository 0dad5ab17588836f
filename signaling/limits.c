/* Switchboard — token buckets and the per-IP connection table (limits.h). */
#include "signaling/limits.h"

#include <glib.h>

void sb_token_bucket_init(sb_token_bucket *b, double burst, int64_t now_us) {
  b->tokens = burst;
  b->last_us = now_us;
}

static void refill(sb_token_bucket *b, double rate, double burst, int64_t now_us) {
  if (now_us > b->last_us) {
    b->tokens += rate * (double)(now_us - b->last_us) / 1e6;
    if (b->tokens > burst)
      b->tokens = burst;
  }
  b->last_us = now_us;
}

bool sb_token_bucket_take(sb_token_bucket *b, double rate, double burst, int64_t now_us) {
  if (rate <= 0)
    return true;
  refill(b, rate, burst, now_us);
  if (b->tokens < 1.0)
    return false;
  b->tokens -= 1.0;
  return true;
}

int64_t sb_token_bucket_full_in_us(const sb_token_bucket *b, double rate, double burst, int64_t now_us) {
  if (rate <= 0)
    return 0;
  double tokens = b->tokens;
  if (now_us > b->last_us)
    tokens += rate * (double)(now_us - b->last_us) / 1e6;
  if (tokens >= burst)
    return 0;
  return (int64_t)((burst - tokens) / rate * 1e6) + 1;
}

typedef struct ip_entry {
  sb_token_bucket bucket;
  int open;                  /* connections accepted and not yet closed */
} ip_entry;

struct sb_iplimits {
  sb_iplimits_config cfg;
  GHashTable *ips;           /* textual address (owned) -> ip_entry* (owned) */
};

sb_iplimits *sb_iplimits_new(const sb_iplimits_config *cfg) {
  sb_iplimits *t = g_new0(sb_iplimits, 1);
  t->cfg = *cfg;
  if (t->cfg.max_entries <= 0)
    t->cfg.max_entries = 1;
  if (t->cfg.burst < 1)
    t->cfg.burst = 1;
  t->ips = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  return t;
}

void sb_iplimits_free(sb_iplimits *t) {
  if (t == NULL)
    return;
  g_hash_table_destroy(t->ips);
  g_free(t);
}

static bool entry_idle(const sb_iplimits *t, const ip_entry *e, int64_t now_us) {
  return e->open == 0 && sb_token_bucket_full_in_us(&e->bucket, t->cfg.rate, t->cfg.burst, now_us) == 0;
}

int sb_iplimits_expire(sb_iplimits *t, int64_t now_us) {
  GHashTableIter it;
  gpointer v;
  int n = 0;
  g_hash_table_iter_init(&it, t->ips);
  while (g_hash_table_iter_next(&it, NULL, &v)) {
    if (entry_idle(t, v, now_us)) {
      g_hash_table_iter_remove(&it);
      n++;
    }
  }
  return n;
}

sb_iplimit_verdict sb_iplimits_connect(sb_iplimits *t, const char *ip, int64_t now_us) {
  ip_entry *e = g_hash_table_lookup(t->ips, ip);
  if (e == NULL) {
    if ((int)g_hash_table_size(t->ips) >= t->cfg.max_entries &&
        (sb_iplimits_expire(t, now_us) == 0 || (int)g_hash_table_size(t->ips) >= t->cfg.max_entries))
      return SB_IPLIMIT_TABLE_FULL;
    e = g_new0(ip_entry, 1);
    sb_token_bucket_init(&e->bucket, t->cfg.burst, now_us);
    g_hash_table_insert(t->ips, g_strdup(ip), e);
  }
  /* Concurrency first: a refused attempt at the cap does not also drain the rate. */
  if (t->cfg.max_concurrent > 0 && e->open >= t->cfg.max_concurrent)
    return SB_IPLIMIT_CONCURRENT;
  if (!sb_token_bucket_take(&e->bucket, t->cfg.rate, t->cfg.burst, now_us))
    return SB_IPLIMIT_RATE;
  e->open++;
  return SB_IPLIMIT_OK;
}

void sb_iplimits_hold(sb_iplimits *t, const char *ip) {
  ip_entry *e = g_hash_table_lookup(t->ips, ip);
  if (e)
    e->open++;
}

void sb_iplimits_disconnect(sb_iplimits *t, const char *ip, int64_t now_us) {
  ip_entry *e = g_hash_table_lookup(t->ips, ip);
  if (e == NULL || e->open == 0)
    return;
  e->open--;
  if (entry_idle(t, e, now_us))
    g_hash_table_remove(t->ips, ip);
}

int sb_iplimits_size(const sb_iplimits *t) { return (int)g_hash_table_size(t->ips); }

int sb_iplimits_open(const sb_iplimits *t, const char *ip) {
  const ip_entry *e = g_hash_table_lookup(t->ips, ip);
  return e ? e->open : 0;
}

const char *sb_iplimit_reason(sb_iplimit_verdict v) {
  switch (v) {
  case SB_IPLIMIT_RATE:
    return "conn_rate";
  case SB_IPLIMIT_CONCURRENT:
    return "conn_limit";
  case SB_IPLIMIT_TABLE_FULL:
    return "conn_table_full";
  default:
    return "ok";
  }
}
