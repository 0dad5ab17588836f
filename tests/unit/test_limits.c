/* Unit tests for signaling/limits: the token bucket (refill, burst, disabled) and
 * the per-IP connection table (rate, concurrency, IPs independent, expiry, the
 * bounded size). The clock is passed in, so nothing here sleeps. */
#include <glib.h>

#include "signaling/limits.h"

#define S 1000000   /* one second in microseconds */

static void test_bucket_allows_burst_then_refuses(void) {
  sb_token_bucket b;
  sb_token_bucket_init(&b, 5, 0);
  for (int i = 0; i < 5; i++)
    g_assert_true(sb_token_bucket_take(&b, 1, 5, 0));
  g_assert_false(sb_token_bucket_take(&b, 1, 5, 0));
}

static void test_bucket_refills_at_rate(void) {
  sb_token_bucket b;
  sb_token_bucket_init(&b, 2, 0);
  g_assert_true(sb_token_bucket_take(&b, 10, 2, 0));
  g_assert_true(sb_token_bucket_take(&b, 10, 2, 0));
  g_assert_false(sb_token_bucket_take(&b, 10, 2, 0));
  /* 10/s: one token after 100 ms, not before. */
  g_assert_false(sb_token_bucket_take(&b, 10, 2, S / 10 - 1000));
  g_assert_true(sb_token_bucket_take(&b, 10, 2, S / 10));
  g_assert_false(sb_token_bucket_take(&b, 10, 2, S / 10));
  /* A long pause refills up to the burst only. */
  for (int i = 0; i < 2; i++)
    g_assert_true(sb_token_bucket_take(&b, 10, 2, 100 * S));
  g_assert_false(sb_token_bucket_take(&b, 10, 2, 100 * S));
}

static void test_bucket_sustains_its_rate(void) {
  sb_token_bucket b;
  sb_token_bucket_init(&b, 1, 0);
  int taken = 0;
  /* 1000 attempts a second for 10 s at 20/s with burst 1: ~200 pass. */
  for (int64_t t = 0; t < 10 * S; t += S / 1000)
    taken += sb_token_bucket_take(&b, 20, 1, t);
  g_assert_cmpint(taken, >=, 199);
  g_assert_cmpint(taken, <=, 201);
}

static void test_bucket_rate_zero_is_unlimited(void) {
  sb_token_bucket b;
  sb_token_bucket_init(&b, 1, 0);
  for (int i = 0; i < 1000; i++)
    g_assert_true(sb_token_bucket_take(&b, 0, 1, 0));
}

static void test_bucket_full_in(void) {
  sb_token_bucket b;
  sb_token_bucket_init(&b, 4, 0);
  g_assert_cmpint(sb_token_bucket_full_in_us(&b, 2, 4, 0), ==, 0);
  g_assert_true(sb_token_bucket_take(&b, 2, 4, 0));
  g_assert_true(sb_token_bucket_take(&b, 2, 4, 0));
  /* two tokens short at 2/s: one second */
  int64_t us = sb_token_bucket_full_in_us(&b, 2, 4, 0);
  g_assert_cmpint(us, >, S - 10);
  g_assert_cmpint(us, <=, S + 10);
  g_assert_cmpint(sb_token_bucket_full_in_us(&b, 2, 4, S + 1), ==, 0);
}

static void test_iplimits_rate_per_ip(void) {
  sb_iplimits_config cfg = { .rate = 1, .burst = 3, .max_concurrent = 0, .max_entries = 16 };
  sb_iplimits *t = sb_iplimits_new(&cfg);
  for (int i = 0; i < 3; i++) {
    g_assert_cmpint(sb_iplimits_connect(t, "10.0.0.1", 0), ==, SB_IPLIMIT_OK);
    sb_iplimits_disconnect(t, "10.0.0.1", 0);
  }
  g_assert_cmpint(sb_iplimits_connect(t, "10.0.0.1", 0), ==, SB_IPLIMIT_RATE);
  /* another address is not affected */
  g_assert_cmpint(sb_iplimits_connect(t, "10.0.0.2", 0), ==, SB_IPLIMIT_OK);
  /* one second later one more from the first */
  g_assert_cmpint(sb_iplimits_connect(t, "10.0.0.1", S), ==, SB_IPLIMIT_OK);
  g_assert_cmpint(sb_iplimits_connect(t, "10.0.0.1", S), ==, SB_IPLIMIT_RATE);
  g_assert_cmpstr(sb_iplimit_reason(SB_IPLIMIT_RATE), ==, "conn_rate");
  sb_iplimits_free(t);
}

static void test_iplimits_concurrent_cap(void) {
  sb_iplimits_config cfg = { .rate = 0, .burst = 1, .max_concurrent = 2, .max_entries = 16 };
  sb_iplimits *t = sb_iplimits_new(&cfg);
  g_assert_cmpint(sb_iplimits_connect(t, "10.0.0.1", 0), ==, SB_IPLIMIT_OK);
  g_assert_cmpint(sb_iplimits_connect(t, "10.0.0.1", 0), ==, SB_IPLIMIT_OK);
  g_assert_cmpint(sb_iplimits_connect(t, "10.0.0.1", 0), ==, SB_IPLIMIT_CONCURRENT);
  g_assert_cmpint(sb_iplimits_open(t, "10.0.0.1"), ==, 2);
  sb_iplimits_disconnect(t, "10.0.0.1", 0);
  g_assert_cmpint(sb_iplimits_open(t, "10.0.0.1"), ==, 1);
  g_assert_cmpint(sb_iplimits_connect(t, "10.0.0.1", 0), ==, SB_IPLIMIT_OK);
  /* a disconnect of an unknown address or one too many changes nothing */
  sb_iplimits_disconnect(t, "10.9.9.9", 0);
  sb_iplimits_disconnect(t, "10.0.0.1", 0);
  sb_iplimits_disconnect(t, "10.0.0.1", 0);
  sb_iplimits_disconnect(t, "10.0.0.1", 0);
  g_assert_cmpint(sb_iplimits_open(t, "10.0.0.1"), ==, 0);
  sb_iplimits_free(t);
}

static void test_iplimits_refusal_at_cap_keeps_tokens(void) {
  sb_iplimits_config cfg = { .rate = 1, .burst = 2, .max_concurrent = 1, .max_entries = 16 };
  sb_iplimits *t = sb_iplimits_new(&cfg);
  g_assert_cmpint(sb_iplimits_connect(t, "a", 0), ==, SB_IPLIMIT_OK);
  for (int i = 0; i < 10; i++)
    g_assert_cmpint(sb_iplimits_connect(t, "a", 0), ==, SB_IPLIMIT_CONCURRENT);
  sb_iplimits_disconnect(t, "a", 0);
  /* the refusals at the cap spent no token: one is left */
  g_assert_cmpint(sb_iplimits_connect(t, "a", 0), ==, SB_IPLIMIT_OK);
  sb_iplimits_free(t);
}

static void test_iplimits_entries_expire(void) {
  sb_iplimits_config cfg = { .rate = 10, .burst = 10, .max_concurrent = 5, .max_entries = 16 };
  sb_iplimits *t = sb_iplimits_new(&cfg);
  g_assert_cmpint(sb_iplimits_connect(t, "a", 0), ==, SB_IPLIMIT_OK);
  g_assert_cmpint(sb_iplimits_connect(t, "b", 0), ==, SB_IPLIMIT_OK);
  sb_iplimits_disconnect(t, "b", 0);
  g_assert_cmpint(sb_iplimits_size(t), ==, 2);
  /* b's bucket is one token short for 100 ms; a has an open connection */
  g_assert_cmpint(sb_iplimits_expire(t, S / 20), ==, 0);
  g_assert_cmpint(sb_iplimits_expire(t, S / 10 + 1), ==, 1);
  g_assert_cmpint(sb_iplimits_size(t), ==, 1);
  /* a's last close after its bucket refilled drops it at once */
  sb_iplimits_disconnect(t, "a", S);
  g_assert_cmpint(sb_iplimits_size(t), ==, 0);
  sb_iplimits_free(t);
}

static void test_iplimits_table_is_bounded(void) {
  sb_iplimits_config cfg = { .rate = 1, .burst = 1, .max_concurrent = 0, .max_entries = 4 };
  sb_iplimits *t = sb_iplimits_new(&cfg);
  char ip[32];
  for (int i = 0; i < 4; i++) {
    g_snprintf(ip, sizeof ip, "10.0.0.%d", i);
    g_assert_cmpint(sb_iplimits_connect(t, ip, 0), ==, SB_IPLIMIT_OK);
  }
  /* full of active entries: a new address is refused, a known one still judged */
  g_assert_cmpint(sb_iplimits_connect(t, "10.0.1.1", 0), ==, SB_IPLIMIT_TABLE_FULL);
  g_assert_cmpint(sb_iplimits_size(t), ==, 4);
  sb_iplimits_disconnect(t, "10.0.0.0", 0);
  sb_iplimits_disconnect(t, "10.0.0.1", 0);
  /* once two have closed and refilled, they make room */
  g_assert_cmpint(sb_iplimits_connect(t, "10.0.1.1", 2 * S), ==, SB_IPLIMIT_OK);
  g_assert_cmpint(sb_iplimits_size(t), ==, 3);
  sb_iplimits_free(t);
}

static void test_iplimits_flood_from_one_ip(void) {
  /* The production defaults: 20/s, burst 40, 50 open. 2000 attempts over 5 s
   * (one each 2.5 ms, each held open): burst + 5 s of rate pass, capped at 50. */
  sb_iplimits_config cfg = { .rate = 20, .burst = 40, .max_concurrent = 50, .max_entries = 65536 };
  sb_iplimits *t = sb_iplimits_new(&cfg);
  int ok = 0, rate = 0, cap = 0;
  for (int i = 0; i < 2000; i++) {
    switch (sb_iplimits_connect(t, "127.0.0.2", (int64_t)i * 2500)) {
    case SB_IPLIMIT_OK: ok++; break;
    case SB_IPLIMIT_RATE: rate++; break;
    case SB_IPLIMIT_CONCURRENT: cap++; break;
    default: g_assert_not_reached();
    }
  }
  g_assert_cmpint(ok, ==, 50);
  g_assert_cmpint(rate + cap, ==, 1950);
  g_assert_cmpint(sb_iplimits_connect(t, "127.0.0.1", 5 * S), ==, SB_IPLIMIT_OK);
  sb_iplimits_free(t);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/limits/bucket_allows_burst_then_refuses", test_bucket_allows_burst_then_refuses);
  g_test_add_func("/limits/bucket_refills_at_rate", test_bucket_refills_at_rate);
  g_test_add_func("/limits/bucket_sustains_its_rate", test_bucket_sustains_its_rate);
  g_test_add_func("/limits/bucket_rate_zero_is_unlimited", test_bucket_rate_zero_is_unlimited);
  g_test_add_func("/limits/bucket_full_in", test_bucket_full_in);
  g_test_add_func("/limits/iplimits_rate_per_ip", test_iplimits_rate_per_ip);
  g_test_add_func("/limits/iplimits_concurrent_cap", test_iplimits_concurrent_cap);
  g_test_add_func("/limits/iplimits_refusal_at_cap_keeps_tokens", test_iplimits_refusal_at_cap_keeps_tokens);
  g_test_add_func("/limits/iplimits_entries_expire", test_iplimits_entries_expire);
  g_test_add_func("/limits/iplimits_table_is_bounded", test_iplimits_table_is_bounded);
  g_test_add_func("/limits/iplimits_flood_from_one_ip", test_iplimits_flood_from_one_ip);
  return g_test_run();
}
