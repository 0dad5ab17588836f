/* Unit tests for core/metrics: counters, gauges, labelled series, per-thread
 * counter slots, histogram buckets, and the Prometheus text exposition
 * (HELP/TYPE lines, _total, _bucket/_sum/_count with cumulative le and +Inf,
 * escaping); and media/media_metrics' failure classification and state gauges. */
#include <glib.h>
#include <string.h>

#include "core/metrics.h"
#include "media/media_metrics.h"

static void test_metrics_counter_exposed_with_total_suffix(void) {
  sb_metric *m = sb_metric_get("ta_requests", "Requests served", false);
  sb_metric_add(m, 3);
  sb_metric_add_fast(m, 2);
  g_assert_cmpint(sb_metric_value(m), ==, 5);
  g_assert_true(sb_metric_get("ta_requests", "Requests served", false) == m);
  char *text = sb_metrics_format("ta_");
  g_assert_cmpstr(text, ==,
                  "# HELP ta_requests_total Requests served\n"
                  "# TYPE ta_requests_total counter\n"
                  "ta_requests_total 5\n");
  g_free(text);
}

static void test_metrics_gauge_set_and_add(void) {
  sb_metric *m = sb_metric_get("tb_peers", "Peers", true);
  sb_metric_set(m, 7);
  sb_metric_add(m, -2);
  g_assert_cmpint(sb_metrics_lookup("tb_peers"), ==, 5);
  char *text = sb_metrics_format("tb_");
  g_assert_cmpstr(text, ==, "# HELP tb_peers Peers\n# TYPE tb_peers gauge\ntb_peers 5\n");
  g_free(text);
}

static void test_metrics_labelled_series_group_under_one_family(void) {
  sb_metric *a = sb_metric_series("tc_rejected", "Refused", SB_METRIC_COUNTER, "reason", "too_big");
  /* Another family registered in between must not split tc_rejected. */
  sb_metric_get("tc_other", "Other", true);
  sb_metric *b = sb_metric_series("tc_rejected", "Refused", SB_METRIC_COUNTER, "reason", "slow");
  g_assert_true(a != b);
  g_assert_true(sb_metric_series("tc_rejected", "Refused", SB_METRIC_COUNTER, "reason", "too_big") == a);
  sb_metric_add(a, 1);
  sb_metric_add(b, 4);
  g_assert_cmpint(sb_metrics_lookup("tc_rejected"), ==, 5);
  g_assert_cmpint(sb_metrics_lookup_series("tc_rejected", "slow"), ==, 4);
  char *text = sb_metrics_format("tc_");
  g_assert_cmpstr(text, ==,
                  "# HELP tc_rejected_total Refused\n"
                  "# TYPE tc_rejected_total counter\n"
                  "tc_rejected_total{reason=\"too_big\"} 1\n"
                  "tc_rejected_total{reason=\"slow\"} 4\n"
                  "# HELP tc_other Other\n"
                  "# TYPE tc_other gauge\n"
                  "tc_other 0\n");
  g_free(text);
}

static void test_metrics_label_values_and_help_are_escaped(void) {
  char *e = sb_metrics_escape("a\"b\\c\nd", true);
  g_assert_cmpstr(e, ==, "a\\\"b\\\\c\\nd");
  g_free(e);
  e = sb_metrics_escape("say \"hi\"\\\n", false);
  g_assert_cmpstr(e, ==, "say \"hi\"\\\\\\n");
  g_free(e);
  sb_metric_series("td_x", "Help with \\ and\nnewline", SB_METRIC_GAUGE, "name", "q\"uote");
  char *text = sb_metrics_format("td_");
  g_assert_cmpstr(text, ==,
                  "# HELP td_x Help with \\\\ and\\nnewline\n"
                  "# TYPE td_x gauge\n"
                  "td_x{name=\"q\\\"uote\"} 0\n");
  g_free(text);
}

static void test_metrics_scaled_value_is_exposed_as_seconds(void) {
  sb_metric *m = sb_metric_series("te_cpu_seconds", "CPU", SB_METRIC_COUNTER, "worker", "0");
  sb_metric_set_scale(m, 1000000);
  sb_metric_add(m, 1500000);
  char *text = sb_metrics_format("te_");
  g_assert_nonnull(strstr(text, "te_cpu_seconds_total{worker=\"0\"} 1.5\n"));
  g_free(text);
}

static const double bounds[] = { 0.1, 0.5, 1 };

static void test_metrics_histogram_buckets_are_le_and_cumulative(void) {
  sb_metric *h = sb_histogram_series("tf_wait_seconds", "Wait", bounds, 3, NULL, NULL);
  sb_histogram_observe(h, 0.05);
  sb_histogram_observe(h, 0.1);   /* on the bound: counts in le="0.1" */
  sb_histogram_observe(h, 0.3);
  sb_histogram_observe(h, 2.0);   /* above every bound: +Inf only */
  g_assert_cmpint(sb_histogram_cumulative(h, 0), ==, 2);
  g_assert_cmpint(sb_histogram_cumulative(h, 1), ==, 3);
  g_assert_cmpint(sb_histogram_cumulative(h, 2), ==, 3);
  g_assert_cmpint(sb_histogram_cumulative(h, 3), ==, 4);
  g_assert_cmpint(sb_metric_value(h), ==, 4);
  g_assert_cmpfloat_with_epsilon(sb_histogram_sum(h), 2.45, 1e-9);
  char *text = sb_metrics_format("tf_");
  g_assert_cmpstr(text, ==,
                  "# HELP tf_wait_seconds Wait\n"
                  "# TYPE tf_wait_seconds histogram\n"
                  "tf_wait_seconds_bucket{le=\"0.1\"} 2\n"
                  "tf_wait_seconds_bucket{le=\"0.5\"} 3\n"
                  "tf_wait_seconds_bucket{le=\"1\"} 3\n"
                  "tf_wait_seconds_bucket{le=\"+Inf\"} 4\n"
                  "tf_wait_seconds_sum 2.45\n"
                  "tf_wait_seconds_count 4\n");
  g_free(text);
}

static void test_metrics_labelled_histogram_puts_le_last(void) {
  sb_metric *h = sb_histogram_series("tg_lag_seconds", "Lag", bounds, 3, "worker", "1");
  sb_histogram_observe(h, 0.7);
  char *text = sb_metrics_format("tg_");
  g_assert_nonnull(strstr(text, "tg_lag_seconds_bucket{worker=\"1\",le=\"0.5\"} 0\n"));
  g_assert_nonnull(strstr(text, "tg_lag_seconds_bucket{worker=\"1\",le=\"1\"} 1\n"));
  g_assert_nonnull(strstr(text, "tg_lag_seconds_bucket{worker=\"1\",le=\"+Inf\"} 1\n"));
  g_assert_nonnull(strstr(text, "tg_lag_seconds_count{worker=\"1\"} 1\n"));
  g_free(text);
}

static sb_metric *shared_counter;

static gpointer add_many(gpointer data) {
  for (int i = 0; i < 100000; i++)
    sb_metric_add_fast(shared_counter, 1);
  return NULL;
}

static void test_metrics_fast_adds_from_threads_sum_exactly(void) {
  shared_counter = sb_metric_get("th_packets", "Packets", false);
  GThread *t[4];
  for (int i = 0; i < 4; i++)
    t[i] = g_thread_new("adder", add_many, NULL);
  for (int i = 0; i < 4; i++)
    g_thread_join(t[i]);
  g_assert_cmpint(sb_metric_value(shared_counter), ==, 400000);
}

static void test_metrics_reject_counts_by_reason(void) {
  sb_metrics_rejected("rate_limit");
  g_assert_cmpint(sb_metrics_lookup_series("switchboard_rejected", "rate_limit"), ==, 0);
  sb_metrics_reject("rate_limit");
  sb_metrics_reject("rate_limit");
  sb_metrics_reject("conn_limit");
  g_assert_cmpint(sb_metrics_lookup_series("switchboard_rejected", "rate_limit"), ==, 2);
  g_assert_cmpint(sb_metrics_lookup("switchboard_rejected"), ==, 3);
  char *text = sb_metrics_format("switchboard_rejected");
  g_assert_nonnull(strstr(text, "# TYPE switchboard_rejected_total counter\n"));
  g_assert_nonnull(strstr(text, "switchboard_rejected_total{reason=\"conn_limit\"} 1\n"));
  g_free(text);
}

static int collected;
static void collector(void *ud) { collected += GPOINTER_TO_INT(ud); }

static void test_metrics_collectors_run_until_removed(void) {
  sb_metrics_add_collector(collector, GINT_TO_POINTER(2));
  sb_metrics_collect();
  g_assert_cmpint(collected, ==, 2);
  sb_metrics_remove_collector(collector, GINT_TO_POINTER(2));
  sb_metrics_collect();
  g_assert_cmpint(collected, ==, 2);
}

static void test_media_failure_reasons_are_classified(void) {
  g_assert_cmpint(sb_peer_failure_kind("ICE consent expired (remote gone)"), ==, SB_PEER_FAIL_CONSENT);
  g_assert_cmpint(sb_peer_failure_kind("ICE connectivity checks failed"), ==, SB_PEER_FAIL_ICE);
  g_assert_cmpint(sb_peer_failure_kind("DTLS failed: bad fingerprint"), ==, SB_PEER_FAIL_DTLS);
  g_assert_cmpint(sb_peer_failure_kind("SRTP set-up failed"), ==, SB_PEER_FAIL_SRTP);
  g_assert_cmpint(sb_peer_failure_kind("not connected in time (ICE/DTLS timeout)"), ==,
                  SB_PEER_FAIL_TIMEOUT);
  g_assert_cmpint(sb_peer_failure_kind("SCTP association lost"), ==, SB_PEER_FAIL_OTHER);
  g_assert_cmpint(sb_peer_failure_kind(NULL), ==, SB_PEER_FAIL_OTHER);
}

static void test_media_state_gauges_move_one_peer(void) {
  int8_t ice = -1;
  sb_mm_move(sb_mm.ice_state, SB_MM_ICE_STATES, &ice, 0);
  sb_mm_move(sb_mm.ice_state, SB_MM_ICE_STATES, &ice, 3);
  sb_mm_move(sb_mm.ice_state, SB_MM_ICE_STATES, &ice, 3);
  g_assert_cmpint(sb_metric_value(sb_mm.ice_state[0]), ==, 0);
  g_assert_cmpint(sb_metric_value(sb_mm.ice_state[3]), ==, 1);
  sb_mm_move(sb_mm.ice_state, SB_MM_ICE_STATES, &ice, -1);
  g_assert_cmpint(sb_metric_value(sb_mm.ice_state[3]), ==, 0);
  g_assert_cmpint(ice, ==, -1);
  char *text = sb_metrics_format("switchboard_peers_ice_state");
  g_assert_nonnull(strstr(text, "switchboard_peers_ice_state{state=\"connected\"} 0\n"));
  g_free(text);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/metrics/counter-exposed-with-total-suffix",
                  test_metrics_counter_exposed_with_total_suffix);
  g_test_add_func("/metrics/gauge-set-and-add", test_metrics_gauge_set_and_add);
  g_test_add_func("/metrics/labelled-series-group-under-one-family",
                  test_metrics_labelled_series_group_under_one_family);
  g_test_add_func("/metrics/label-values-and-help-are-escaped",
                  test_metrics_label_values_and_help_are_escaped);
  g_test_add_func("/metrics/scaled-value-is-exposed-as-seconds",
                  test_metrics_scaled_value_is_exposed_as_seconds);
  g_test_add_func("/metrics/histogram-buckets-are-le-and-cumulative",
                  test_metrics_histogram_buckets_are_le_and_cumulative);
  g_test_add_func("/metrics/labelled-histogram-puts-le-last",
                  test_metrics_labelled_histogram_puts_le_last);
  g_test_add_func("/metrics/fast-adds-from-threads-sum-exactly",
                  test_metrics_fast_adds_from_threads_sum_exactly);
  g_test_add_func("/metrics/reject-counts-by-reason", test_metrics_reject_counts_by_reason);
  g_test_add_func("/metrics/collectors-run-until-removed", test_metrics_collectors_run_until_removed);
  g_test_add_func("/metrics/media-failure-reasons-are-classified",
                  test_media_failure_reasons_are_classified);
  g_test_add_func("/metrics/media-state-gauges-move-one-peer", test_media_state_gauges_move_one_peer);
  return g_test_run();
}
