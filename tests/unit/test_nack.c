/* Unit tests for media/nack.c: which sequence numbers are requested, when, and
 * when the generator gives up or asks for a keyframe instead. */
#include <glib.h>

#include "media/nack.h"

#define MS 1000 /* µs */

/* Default config: reorder 10 ms, retry >= 20 ms, max age 1 s, 10 tries. */
static sb_nack_gen *new_gen(void) {
  sb_nack_gen *g = g_new(sb_nack_gen, 1);
  sb_nack_gen_init(g, NULL);
  return g;
}

static size_t collect(sb_nack_gen *g, int64_t now_us, int64_t rtt_us, uint16_t *seqs) {
  return sb_nack_gen_collect(g, now_us, rtt_us, seqs, SB_NACK_MAX_MISSING);
}

static void test_defaults(void) {
  g_autofree sb_nack_gen *g = new_gen();
  g_assert_cmpint(g->cfg.reorder_delay_us, ==, 10 * MS);
  g_assert_cmpint(g->cfg.min_retry_us, ==, 20 * MS);
  g_assert_cmpint(g->cfg.max_age_us, ==, 1000 * MS);
  g_assert_cmpuint(g->cfg.max_tries, ==, 10);
  g_assert_false(g->started);
  g_assert_cmpuint(g->count, ==, 0);
}

static void test_in_order_stream_requests_nothing(void) {
  g_autofree sb_nack_gen *g = new_gen();
  uint16_t seqs[SB_NACK_MAX_MISSING];
  for (uint16_t seq = 100; seq < 200; seq++)
    g_assert_false(sb_nack_gen_on_packet(g, seq, seq * MS));
  g_assert_cmpuint(collect(g, 500 * MS, 0, seqs), ==, 0);
  g_assert_false(sb_nack_gen_take_keyframe_request(g));
}

static void test_requests_missing_seq_after_reorder_delay(void) {
  g_autofree sb_nack_gen *g = new_gen();
  uint16_t seqs[SB_NACK_MAX_MISSING];
  sb_nack_gen_on_packet(g, 10, 0);
  sb_nack_gen_on_packet(g, 13, 100 * MS); /* 11 and 12 missing from t = 100 ms */
  g_assert_cmpuint(g->count, ==, 2);

  /* Not before the reorder delay: the gap may still close on its own. */
  g_assert_cmpuint(collect(g, 100 * MS, 0, seqs), ==, 0);
  g_assert_cmpuint(collect(g, 109 * MS, 0, seqs), ==, 0);

  g_assert_cmpuint(collect(g, 110 * MS, 0, seqs), ==, 2);
  g_assert_cmpuint(seqs[0], ==, 11);
  g_assert_cmpuint(seqs[1], ==, 12);
  g_assert_cmpuint(g->entries[0].tries, ==, 1);
  g_assert_cmpint(g->entries[0].last_sent_us, ==, 110 * MS);

  /* Requested once: not again straight away. */
  g_assert_cmpuint(collect(g, 111 * MS, 0, seqs), ==, 0);
}

static void test_reordered_packet_within_delay_never_requested(void) {
  g_autofree sb_nack_gen *g = new_gen();
  uint16_t seqs[SB_NACK_MAX_MISSING];
  sb_nack_gen_on_packet(g, 1, 0);
  sb_nack_gen_on_packet(g, 3, 20 * MS);
  g_assert_true(sb_nack_gen_on_packet(g, 2, 25 * MS));
  g_assert_cmpuint(collect(g, 100 * MS, 0, seqs), ==, 0);
  g_assert_cmpuint(g->count, ==, 0);
}

static void test_retry_waits_for_min_retry_interval(void) {
  g_autofree sb_nack_gen *g = new_gen();
  uint16_t seqs[SB_NACK_MAX_MISSING];
  sb_nack_gen_on_packet(g, 1, 0);
  sb_nack_gen_on_packet(g, 3, 0);
  g_assert_cmpuint(collect(g, 10 * MS, 0, seqs), ==, 1);
  /* RTT unknown (0) or shorter than min_retry: retry after 20 ms. */
  g_assert_cmpuint(collect(g, 29 * MS, 5 * MS, seqs), ==, 0);
  g_assert_cmpuint(collect(g, 30 * MS, 5 * MS, seqs), ==, 1);
  g_assert_cmpuint(seqs[0], ==, 2);
  g_assert_cmpuint(g->entries[0].tries, ==, 2);
}

static void test_retry_waits_for_rtt_when_longer(void) {
  g_autofree sb_nack_gen *g = new_gen();
  uint16_t seqs[SB_NACK_MAX_MISSING];
  sb_nack_gen_on_packet(g, 1, 0);
  sb_nack_gen_on_packet(g, 3, 0);
  g_assert_cmpuint(collect(g, 10 * MS, 80 * MS, seqs), ==, 1);
  /* With an 80 ms round trip, asking again sooner would only duplicate the
   * retransmission already on its way. */
  g_assert_cmpuint(collect(g, 30 * MS, 80 * MS, seqs), ==, 0);
  g_assert_cmpuint(collect(g, 89 * MS, 80 * MS, seqs), ==, 0);
  g_assert_cmpuint(collect(g, 90 * MS, 80 * MS, seqs), ==, 1);
  g_assert_cmpuint(collect(g, 169 * MS, 80 * MS, seqs), ==, 0);
  g_assert_cmpuint(collect(g, 170 * MS, 80 * MS, seqs), ==, 1);
}

static void test_recovered_packet_not_requested_again(void) {
  g_autofree sb_nack_gen *g = new_gen();
  uint16_t seqs[SB_NACK_MAX_MISSING];
  sb_nack_gen_on_packet(g, 1, 0);
  sb_nack_gen_on_packet(g, 5, 0); /* 2, 3, 4 missing */
  g_assert_cmpuint(collect(g, 10 * MS, 0, seqs), ==, 3);

  g_assert_true(sb_nack_gen_on_packet(g, 3, 15 * MS));
  g_assert_cmpuint(g->recovered, ==, 1);
  g_assert_cmpuint(g->count, ==, 2);
  /* A second copy of it is not "recovered" again. */
  g_assert_false(sb_nack_gen_on_packet(g, 3, 16 * MS));
  g_assert_cmpuint(g->recovered, ==, 1);

  g_assert_cmpuint(collect(g, 30 * MS, 0, seqs), ==, 2);
  g_assert_cmpuint(seqs[0], ==, 2);
  g_assert_cmpuint(seqs[1], ==, 4);
}

static void test_gives_up_after_max_tries(void) {
  sb_nack_config cfg = {
    .reorder_delay_us = 0, .min_retry_us = 10 * MS, .max_age_us = 10000 * MS, .max_tries = 3};
  sb_nack_gen g;
  sb_nack_gen_init(&g, &cfg);
  uint16_t seqs[SB_NACK_MAX_MISSING];
  sb_nack_gen_on_packet(&g, 1, 0);
  sb_nack_gen_on_packet(&g, 3, 0);

  int64_t t = 0;
  for (int i = 0; i < 3; i++, t += 10 * MS)
    g_assert_cmpuint(collect(&g, t, 0, seqs), ==, 1);
  g_assert_cmpuint(g.entries[0].tries, ==, 3);
  /* The last try gets a retry interval to be answered, then the entry goes. */
  g_assert_cmpuint(collect(&g, t - 1, 0, seqs), ==, 0);
  g_assert_cmpuint(g.count, ==, 1);
  g_assert_cmpuint(g.given_up, ==, 0);
  g_assert_cmpuint(collect(&g, t, 0, seqs), ==, 0);
  g_assert_cmpuint(g.count, ==, 0);
  g_assert_cmpuint(g.given_up, ==, 1);
  /* Arriving after that is no recovery. */
  g_assert_false(sb_nack_gen_on_packet(&g, 2, t + 1));
  g_assert_cmpuint(g.recovered, ==, 0);
}

static void test_gives_up_after_max_age(void) {
  g_autofree sb_nack_gen *g = new_gen();
  uint16_t seqs[SB_NACK_MAX_MISSING];
  sb_nack_gen_on_packet(g, 1, 0);
  sb_nack_gen_on_packet(g, 3, 0);
  /* A 300 ms RTT leaves room for 4 tries within the 1 s max age. */
  int requests = 0;
  for (int64_t t = 0; t < 999 * MS; t += MS)
    requests += (int)collect(g, t, 300 * MS, seqs);
  g_assert_cmpint(requests, ==, 4);
  g_assert_cmpuint(g->count, ==, 1);
  g_assert_cmpuint(collect(g, 1000 * MS, 300 * MS, seqs), ==, 0);
  g_assert_cmpuint(g->count, ==, 0);
  g_assert_cmpuint(g->given_up, ==, 1);
}

static void test_gap_across_wraparound(void) {
  g_autofree sb_nack_gen *g = new_gen();
  uint16_t seqs[SB_NACK_MAX_MISSING];
  sb_nack_gen_on_packet(g, 65533, 0);
  sb_nack_gen_on_packet(g, 2, 0);
  g_assert_cmpuint(g->newest_seq, ==, 2);
  g_assert_cmpuint(collect(g, 10 * MS, 0, seqs), ==, 4);
  g_assert_cmpuint(seqs[0], ==, 65534);
  g_assert_cmpuint(seqs[1], ==, 65535);
  g_assert_cmpuint(seqs[2], ==, 0);
  g_assert_cmpuint(seqs[3], ==, 1);
  g_assert_true(sb_nack_gen_on_packet(g, 65535, 11 * MS));
  g_assert_true(sb_nack_gen_on_packet(g, 0, 11 * MS));
  g_assert_cmpuint(g->count, ==, 2);
}

static void test_huge_gap_requests_keyframe(void) {
  g_autofree sb_nack_gen *g = new_gen();
  uint16_t seqs[SB_NACK_MAX_MISSING];
  sb_nack_gen_on_packet(g, 1, 0);
  sb_nack_gen_on_packet(g, 4, 0); /* 2 and 3 missing */
  sb_nack_gen_on_packet(g, 1004, 5 * MS);
  g_assert_cmpuint(g->count, ==, 0);
  g_assert_cmpuint(g->given_up, ==, 2);
  g_assert_cmpuint(g->newest_seq, ==, 1004);
  g_assert_cmpuint(collect(g, 100 * MS, 0, seqs), ==, 0);
  g_assert_true(sb_nack_gen_take_keyframe_request(g));
  g_assert_false(sb_nack_gen_take_keyframe_request(g));
  /* Tracking goes on from the new packet. */
  sb_nack_gen_on_packet(g, 1006, 100 * MS);
  g_assert_cmpuint(collect(g, 110 * MS, 0, seqs), ==, 1);
  g_assert_cmpuint(seqs[0], ==, 1005);
}

static void test_gap_of_window_size_is_tracked(void) {
  g_autofree sb_nack_gen *g = new_gen();
  uint16_t seqs[SB_NACK_MAX_MISSING];
  sb_nack_gen_on_packet(g, 0, 0);
  sb_nack_gen_on_packet(g, SB_NACK_MAX_MISSING + 1, 0);
  g_assert_cmpuint(g->count, ==, SB_NACK_MAX_MISSING);
  g_assert_false(sb_nack_gen_take_keyframe_request(g));
  g_assert_cmpuint(collect(g, 10 * MS, 0, seqs), ==, SB_NACK_MAX_MISSING);

  /* One more than the window is a keyframe. */
  sb_nack_gen_init(g, NULL);
  sb_nack_gen_on_packet(g, 0, 0);
  sb_nack_gen_on_packet(g, SB_NACK_MAX_MISSING + 2, 0);
  g_assert_cmpuint(g->count, ==, 0);
  g_assert_true(sb_nack_gen_take_keyframe_request(g));
}

static void test_full_window_drops_oldest_for_new_gap(void) {
  g_autofree sb_nack_gen *g = new_gen();
  uint16_t seqs[SB_NACK_MAX_MISSING];
  sb_nack_gen_on_packet(g, 0, 0);
  sb_nack_gen_on_packet(g, 201, 0);      /* 1..200 missing */
  sb_nack_gen_on_packet(g, 302, 5 * MS); /* 202..301 missing: 44 too many */
  g_assert_cmpuint(g->count, ==, SB_NACK_MAX_MISSING);
  g_assert_cmpuint(g->given_up, ==, 44);
  g_assert_cmpuint(g->entries[0].seq, ==, 45);
  g_assert_cmpuint(g->entries[SB_NACK_MAX_MISSING - 1].seq, ==, 301);
  g_assert_false(sb_nack_gen_take_keyframe_request(g));
  /* Oldest first, and in sequence across both gaps. */
  g_assert_cmpuint(collect(g, 15 * MS, 0, seqs), ==, SB_NACK_MAX_MISSING);
  for (size_t i = 1; i < SB_NACK_MAX_MISSING; i++)
    g_assert_cmpuint((uint16_t)(seqs[i] - seqs[i - 1]), ==, seqs[i] == 202 ? 2 : 1);
}

static void test_collect_respects_max_and_defers_rest(void) {
  g_autofree sb_nack_gen *g = new_gen();
  uint16_t seqs[4];
  sb_nack_gen_on_packet(g, 0, 0);
  sb_nack_gen_on_packet(g, 11, 0); /* 1..10 missing */
  g_assert_cmpuint(sb_nack_gen_collect(g, 10 * MS, 0, seqs, 4), ==, 4);
  g_assert_cmpuint(seqs[0], ==, 1);
  g_assert_cmpuint(seqs[3], ==, 4);
  g_assert_cmpuint(sb_nack_gen_collect(g, 11 * MS, 0, seqs, 4), ==, 4);
  g_assert_cmpuint(seqs[0], ==, 5);
  g_assert_cmpuint(sb_nack_gen_collect(g, 12 * MS, 0, seqs, 4), ==, 2);
  g_assert_cmpuint(seqs[1], ==, 10);
  g_assert_cmpuint(sb_nack_gen_collect(g, 13 * MS, 0, seqs, 4), ==, 0);
}

static void test_old_and_duplicate_packets_ignored(void) {
  g_autofree sb_nack_gen *g = new_gen();
  sb_nack_gen_on_packet(g, 100, 0);
  g_assert_false(sb_nack_gen_on_packet(g, 100, 1));
  g_assert_false(sb_nack_gen_on_packet(g, 90, 2));
  g_assert_cmpuint(g->newest_seq, ==, 100);
  g_assert_cmpuint(g->count, ==, 0);
  g_assert_cmpuint(g->recovered, ==, 0);
}

static void test_reset_forgets_missing(void) {
  g_autofree sb_nack_gen *g = new_gen();
  uint16_t seqs[SB_NACK_MAX_MISSING];
  sb_nack_gen_on_packet(g, 0, 0);
  sb_nack_gen_on_packet(g, 5, 0);
  sb_nack_gen_reset(g);
  g_assert_cmpuint(collect(g, 50 * MS, 0, seqs), ==, 0);
  /* The stream position is kept: the next gap is measured from seq 5. */
  sb_nack_gen_on_packet(g, 7, 60 * MS);
  g_assert_cmpuint(collect(g, 70 * MS, 0, seqs), ==, 1);
  g_assert_cmpuint(seqs[0], ==, 6);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);

  g_test_add_func("/nack/init-uses-defaults", test_defaults);
  g_test_add_func("/nack/in-order-stream-requests-nothing", test_in_order_stream_requests_nothing);
  g_test_add_func("/nack/requests-missing-seq-after-reorder-delay",
                  test_requests_missing_seq_after_reorder_delay);
  g_test_add_func("/nack/reordered-packet-within-delay-never-requested",
                  test_reordered_packet_within_delay_never_requested);
  g_test_add_func("/nack/retry-waits-for-min-retry-interval",
                  test_retry_waits_for_min_retry_interval);
  g_test_add_func("/nack/retry-waits-for-rtt-when-longer", test_retry_waits_for_rtt_when_longer);
  g_test_add_func("/nack/recovered-packet-not-requested-again",
                  test_recovered_packet_not_requested_again);
  g_test_add_func("/nack/gives-up-after-max-tries", test_gives_up_after_max_tries);
  g_test_add_func("/nack/gives-up-after-max-age", test_gives_up_after_max_age);
  g_test_add_func("/nack/gap-across-wraparound", test_gap_across_wraparound);
  g_test_add_func("/nack/huge-gap-requests-keyframe", test_huge_gap_requests_keyframe);
  g_test_add_func("/nack/gap-of-window-size-is-tracked", test_gap_of_window_size_is_tracked);
  g_test_add_func("/nack/full-window-drops-oldest-for-new-gap",
                  test_full_window_drops_oldest_for_new_gap);
  g_test_add_func("/nack/collect-respects-max-and-defers-rest",
                  test_collect_respects_max_and_defers_rest);
  g_test_add_func("/nack/old-and-duplicate-packets-ignored",
                  test_old_and_duplicate_packets_ignored);
  g_test_add_func("/nack/reset-forgets-missing", test_reset_forgets_missing);

  return g_test_run();
}
