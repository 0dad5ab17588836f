/* Unit tests for media/stats.c: the 1 s rate window, RFC 3550 A.1 sequence
 * tracking, A.3 loss accounting, A.8 jitter and RTT from report blocks. */
#include <math.h>
#include <string.h>

#include <glib.h>

#include "media/stats.h"

#define VIDEO_RATE 90000
#define AUDIO_RATE 48000

/* ---- helpers ------------------------------------------------------------- */

/* Feeds a packet that arrives exactly when its timestamp says (constant transit). */
static sb_seq_verdict feed(sb_recv_stats *s, uint16_t seq, int64_t arrival_us) {
  return sb_recv_stats_update(s, seq, 0, arrival_us, 100, false);
}

static sb_seq_verdict feed_rtx(sb_recv_stats *s, uint16_t seq, int64_t arrival_us) {
  return sb_recv_stats_update(s, seq, 0, arrival_us, 100, true);
}

/* The middle 32 bits of an NTP time (RFC 3550 §4), from microseconds: 16 bits of
 * seconds and 16 bits of fraction. Local math so this test needs no rtcp.c. */
static uint32_t ntp_mid_from_us(int64_t us) {
  uint64_t sec = (uint64_t)(us / 1000000) + 2208988800u; /* 1900 to 1970 */
  uint64_t frac = ((uint64_t)(us % 1000000) << 32) / 1000000;
  uint64_t ntp = (sec << 32) | frac;
  return (uint32_t)(ntp >> 16);
}

/* ---- sb_rate ------------------------------------------------------------- */

static void test_rate_empty_reads_zero(void) {
  sb_rate r;
  sb_rate_init(&r);
  g_assert_cmpuint(sb_rate_bps(&r, 0), ==, 0);
  g_assert_cmpuint(sb_rate_bps(&r, 5000000), ==, 0);
}

static void test_rate_sums_last_second(void) {
  sb_rate r;
  sb_rate_init(&r);
  /* 1250 bytes every 10 ms = 125000 B/s = 1 Mbit/s, for 2 s. */
  for (int64_t t = 0; t < 2000000; t += 10000)
    sb_rate_add(&r, t, 1250);
  /* At the end of the slot [1.9 s, 2.0 s) the window holds ten full slots. */
  g_assert_cmpuint(sb_rate_bps(&r, 1999999), ==, 1000000);
  /* Just after the boundary the newest slot is empty and one slot has left. */
  g_assert_cmpuint(sb_rate_bps(&r, 2000000), ==, 900000);
}

static void test_rate_counts_first_partial_second(void) {
  sb_rate r;
  sb_rate_init(&r);
  sb_rate_add(&r, 3000000, 500);
  sb_rate_add(&r, 3050000, 500);
  /* Divided by a fixed 1 s, not by the 100 ms actually covered. */
  g_assert_cmpuint(sb_rate_bps(&r, 3099999), ==, 8000);
}

static void test_rate_in_first_second_of_clock(void) {
  sb_rate r;
  sb_rate_init(&r);
  sb_rate_add(&r, 0, 100);
  sb_rate_add(&r, 150000, 25);
  g_assert_cmpuint(sb_rate_bps(&r, 150000), ==, 125 * 8);
  g_assert_cmpuint(sb_rate_bps(&r, 0), ==, 100 * 8);
}

static void test_rate_expires_slots_older_than_a_second(void) {
  sb_rate r;
  sb_rate_init(&r);
  sb_rate_add(&r, 0, 100);         /* slot 0 */
  sb_rate_add(&r, 500000, 10);     /* slot 5 */
  g_assert_cmpuint(sb_rate_bps(&r, 999999), ==, 110 * 8);
  /* Slot 10 shares its ring position with slot 0: slot 0 must have been expired. */
  g_assert_cmpuint(sb_rate_bps(&r, 1000000), ==, 10 * 8);
  sb_rate_add(&r, 1000000, 50);    /* slot 10 */
  g_assert_cmpuint(sb_rate_bps(&r, 1000000), ==, 60 * 8);
  /* A stream that stops reads zero a second after its last slot. */
  g_assert_cmpuint(sb_rate_bps(&r, 2000000), ==, 0);
  /* A long silence, then traffic again: nothing from before survives. */
  sb_rate_add(&r, 9000000, 7);
  g_assert_cmpuint(sb_rate_bps(&r, 9000000), ==, 7 * 8);
}

static void test_rate_late_add_within_window_counts(void) {
  sb_rate r;
  sb_rate_init(&r);
  sb_rate_add(&r, 1500000, 10);
  sb_rate_add(&r, 1200000, 20);    /* a caller with a slightly older clock */
  sb_rate_add(&r, 0, 1000);        /* behind by more than the window: dropped */
  g_assert_cmpuint(sb_rate_bps(&r, 1500000), ==, 30 * 8);
}

/* ---- A.1 sequence tracking ------------------------------------------------ */

static void test_seq_first_packet_valid_without_probation(void) {
  sb_recv_stats s;
  sb_recv_stats_init(&s, VIDEO_RATE);
  g_assert_cmpint(feed(&s, 1000, 1000), ==, SB_SEQ_IN_ORDER);
  g_assert_true(s.started);
  g_assert_cmpuint(s.packets_unique, ==, 1);
  g_assert_cmpuint(sb_recv_stats_expected(&s), ==, 1);
  g_assert_cmpuint(sb_recv_stats_ext_max_seq(&s), ==, 1000);
  g_assert_cmpint(sb_recv_stats_cumulative_lost(&s), ==, 0);
}

static void test_seq_counts_in_order_packets(void) {
  sb_recv_stats s;
  sb_recv_stats_init(&s, VIDEO_RATE);
  for (uint16_t i = 0; i < 50; i++)
    g_assert_cmpint(feed(&s, 10 + i, i * 1000), ==, SB_SEQ_IN_ORDER);
  g_assert_cmpuint(s.packets, ==, 50);
  g_assert_cmpuint(s.bytes, ==, 5000);
  g_assert_cmpuint(s.packets_unique, ==, 50);
  g_assert_cmpuint(sb_recv_stats_expected(&s), ==, 50);
  g_assert_cmpint(sb_recv_stats_cumulative_lost(&s), ==, 0);
  g_assert_cmpint(s.last_packet_us, ==, 49000);
}

static void test_seq_gap_counts_as_lost(void) {
  sb_recv_stats s;
  sb_recv_stats_init(&s, VIDEO_RATE);
  for (uint16_t seq = 1; seq <= 10; seq++)
    if (seq != 5 && seq != 6)
      feed(&s, seq, seq * 1000);
  g_assert_cmpuint(sb_recv_stats_expected(&s), ==, 10);
  g_assert_cmpint(sb_recv_stats_cumulative_lost(&s), ==, 2);
}

static void test_seq_wraps_at_65535_into_next_cycle(void) {
  sb_recv_stats s;
  sb_recv_stats_init(&s, VIDEO_RATE);
  uint16_t seq = 65530;
  for (int i = 0; i < 16; i++, seq++)
    g_assert_cmpint(feed(&s, seq, i * 1000), ==, SB_SEQ_IN_ORDER);
  g_assert_cmpuint(s.cycles, ==, 65536);
  g_assert_cmpuint(s.max_seq, ==, 9);
  g_assert_cmpuint(sb_recv_stats_ext_max_seq(&s), ==, 65536 + 9);
  g_assert_cmpuint(sb_recv_stats_expected(&s), ==, 16);
  g_assert_cmpint(sb_recv_stats_cumulative_lost(&s), ==, 0);
}

static void test_seq_wrap_with_gap_across_zero(void) {
  sb_recv_stats s;
  sb_recv_stats_init(&s, VIDEO_RATE);
  feed(&s, 65534, 0);
  feed(&s, 2, 1000); /* 65535, 0 and 1 lost */
  g_assert_cmpuint(sb_recv_stats_ext_max_seq(&s), ==, 65536 + 2);
  g_assert_cmpint(sb_recv_stats_cumulative_lost(&s), ==, 3);
  /* One of them arrives late, across the wrap. */
  g_assert_cmpint(feed(&s, 65535, 2000), ==, SB_SEQ_REORDERED);
  g_assert_cmpint(sb_recv_stats_cumulative_lost(&s), ==, 2);
}

static void test_seq_duplicate_not_counted_as_received(void) {
  sb_recv_stats s;
  sb_recv_stats_init(&s, VIDEO_RATE);
  feed(&s, 1, 0);
  feed(&s, 2, 1000);
  feed(&s, 3, 2000);
  g_assert_cmpint(feed(&s, 3, 3000), ==, SB_SEQ_DUPLICATE); /* the newest again */
  g_assert_cmpint(feed(&s, 2, 4000), ==, SB_SEQ_DUPLICATE); /* an older one again */
  g_assert_cmpuint(s.packets, ==, 5);
  g_assert_cmpuint(s.packets_unique, ==, 3);
  g_assert_cmpuint(s.duplicates, ==, 2);
  g_assert_cmpuint(s.reordered, ==, 0);
  g_assert_cmpint(sb_recv_stats_cumulative_lost(&s), ==, 0);
}

static void test_seq_duplicate_detected_across_wrap(void) {
  sb_recv_stats s;
  sb_recv_stats_init(&s, VIDEO_RATE);
  feed(&s, 65534, 0);
  feed(&s, 65535, 1000);
  feed(&s, 0, 2000);
  feed(&s, 1, 3000);
  g_assert_cmpint(feed(&s, 65535, 4000), ==, SB_SEQ_DUPLICATE);
  g_assert_cmpuint(s.packets_unique, ==, 4);
}

static void test_seq_bitmap_forgets_numbers_passed_over(void) {
  sb_recv_stats s;
  sb_recv_stats_init(&s, VIDEO_RATE);
  /* seq 5 is seen; 1024 numbers later its bit is reused by 1029, which is then
   * skipped over: a late 1029 must not look like a duplicate of 5. */
  feed(&s, 5, 0);
  for (uint16_t seq = 6; seq < 1029; seq++)
    feed(&s, seq, seq);
  feed(&s, 1030, 2000);
  g_assert_cmpint(feed(&s, 1029, 3000), ==, SB_SEQ_REORDERED);
  g_assert_cmpint(sb_recv_stats_cumulative_lost(&s), ==, 0);
}

static void test_seq_reordered_packet_fills_gap(void) {
  sb_recv_stats s;
  sb_recv_stats_init(&s, VIDEO_RATE);
  feed(&s, 1, 0);
  feed(&s, 2, 1000);
  feed(&s, 4, 2000);
  g_assert_cmpint(sb_recv_stats_cumulative_lost(&s), ==, 1);
  g_assert_cmpint(feed(&s, 3, 3000), ==, SB_SEQ_REORDERED);
  g_assert_cmpuint(s.reordered, ==, 1);
  g_assert_cmpuint(s.max_seq, ==, 4);
  g_assert_cmpint(sb_recv_stats_cumulative_lost(&s), ==, 0);
}

static void test_seq_large_jump_restarts_after_two_sequential(void) {
  sb_recv_stats s;
  sb_recv_stats_init(&s, VIDEO_RATE);
  for (uint16_t seq = 100; seq <= 110; seq++)
    feed(&s, seq, seq * 1000);
  /* A.1: a jump of MAX_DROPOUT or more is held back ... */
  g_assert_cmpint(feed(&s, 40000, 200000), ==, SB_SEQ_PROBATION);
  g_assert_cmpuint(s.max_seq, ==, 110);
  g_assert_cmpuint(s.packets_unique, ==, 11);
  /* ... and the next sequential packet confirms the sender restarted. */
  g_assert_cmpint(feed(&s, 40001, 201000), ==, SB_SEQ_RESTART);
  g_assert_cmpuint(s.base_seq, ==, 40001);
  g_assert_cmpuint(s.packets_unique, ==, 1);
  g_assert_cmpint(feed(&s, 40002, 202000), ==, SB_SEQ_IN_ORDER);
  g_assert_cmpuint(sb_recv_stats_expected(&s), ==, 2);
  g_assert_cmpint(sb_recv_stats_cumulative_lost(&s), ==, 0);
  /* Every packet still counts as traffic. */
  g_assert_cmpuint(s.packets, ==, 14);
}

static void test_seq_stray_packet_does_not_restart(void) {
  sb_recv_stats s;
  sb_recv_stats_init(&s, VIDEO_RATE);
  for (uint16_t seq = 100; seq <= 110; seq++)
    feed(&s, seq, seq * 1000);
  g_assert_cmpint(feed(&s, 30000, 120000), ==, SB_SEQ_PROBATION);
  g_assert_cmpint(feed(&s, 111, 121000), ==, SB_SEQ_IN_ORDER);
  g_assert_cmpuint(s.base_seq, ==, 100);
  g_assert_cmpint(sb_recv_stats_cumulative_lost(&s), ==, 0);
}

static void test_seq_jump_below_max_dropout_is_a_gap(void) {
  sb_recv_stats s;
  sb_recv_stats_init(&s, VIDEO_RATE);
  feed(&s, 0, 0);
  g_assert_cmpint(feed(&s, 2999, 1000), ==, SB_SEQ_IN_ORDER);
  g_assert_cmpint(sb_recv_stats_cumulative_lost(&s), ==, 2998);
}

static void test_seq_late_retransmission_is_not_a_restart(void) {
  sb_recv_stats s;
  sb_recv_stats_init(&s, VIDEO_RATE);
  for (uint16_t seq = 0; seq <= 1000; seq++)
    if (seq != 500 && seq != 501)
      feed(&s, seq, seq * 1000);
  /* Retransmissions of two consecutive numbers, 500 behind: late, not a restart. */
  g_assert_cmpint(feed_rtx(&s, 500, 1100000), ==, SB_SEQ_REORDERED);
  g_assert_cmpint(feed_rtx(&s, 501, 1101000), ==, SB_SEQ_REORDERED);
  g_assert_cmpuint(s.base_seq, ==, 0);
  g_assert_cmpint(sb_recv_stats_cumulative_lost(&s), ==, 0);
  g_assert_cmpuint(s.retransmissions, ==, 2);
  g_assert_cmpuint(s.reordered, ==, 0); /* late on purpose, not network reordering */
  /* A retransmission of something already received is a duplicate, and an RTX
   * probe like that recovers nothing: it is not counted as a retransmission. */
  g_assert_cmpint(feed_rtx(&s, 700, 1102000), ==, SB_SEQ_DUPLICATE);
  g_assert_cmpuint(s.retransmissions, ==, 2);
}

static void test_seq_late_media_packets_follow_a1(void) {
  sb_recv_stats s;
  sb_recv_stats_init(&s, VIDEO_RATE);
  for (uint16_t seq = 0; seq <= 1000; seq++)
    if (seq != 500 && seq != 501)
      feed(&s, seq, seq * 1000);
  /* The same two numbers as plain media packets are beyond MAX_MISORDER: A.1
   * reads two sequential ones as a restart. */
  g_assert_cmpint(feed(&s, 500, 1100000), ==, SB_SEQ_PROBATION);
  g_assert_cmpint(feed(&s, 501, 1101000), ==, SB_SEQ_RESTART);
}

/* ---- A.3 report blocks ---------------------------------------------------- */

static void test_report_fraction_lost_per_interval(void) {
  sb_recv_stats s;
  sb_recv_stats_init(&s, VIDEO_RATE);
  sb_rtcp_report_block b;
  memset(&b, 0, sizeof b);
  b.ssrc = 0x1234;
  b.lsr = 0x5678;
  b.dlsr = 0x9abc;

  /* Interval 1: 1000 packets, every 20th lost = 5% → 0.05 * 256 = 12.8, which
   * A.3's integer division truncates to 12. */
  uint16_t seq = 0;
  for (int i = 0; i < 1000; i++, seq++)
    if (i % 20 != 10)
      feed(&s, seq, i * 1000);
  sb_recv_stats_report(&s, &b);
  g_assert_cmpuint(b.fraction_lost, ==, 12);
  g_assert_cmpuint(s.fraction_lost, ==, 12);
  g_assert_cmpint(b.cumulative_lost, ==, 50);
  g_assert_cmpuint(b.ext_highest_seq, ==, 999);
  /* The caller's fields are left alone. */
  g_assert_cmpuint(b.ssrc, ==, 0x1234);
  g_assert_cmpuint(b.lsr, ==, 0x5678);
  g_assert_cmpuint(b.dlsr, ==, 0x9abc);

  /* Interval 2: no loss. */
  for (int i = 0; i < 100; i++, seq++)
    feed(&s, seq, 1000000 + i * 1000);
  sb_recv_stats_report(&s, &b);
  g_assert_cmpuint(b.fraction_lost, ==, 0);
  g_assert_cmpint(b.cumulative_lost, ==, 50);

  /* Interval 3: 10 of 100 lost → 25.6 → 25. */
  for (int i = 0; i < 100; i++, seq++)
    if (i % 10 != 0)
      feed(&s, seq, 2000000 + i * 1000);
  sb_recv_stats_report(&s, &b);
  g_assert_cmpuint(b.fraction_lost, ==, 25);
  g_assert_cmpint(b.cumulative_lost, ==, 60);

  /* Interval 4: nothing arrived, nothing expected. */
  sb_recv_stats_report(&s, &b);
  g_assert_cmpuint(b.fraction_lost, ==, 0);
}

static void test_report_late_arrivals_make_interval_loss_zero(void) {
  sb_recv_stats s;
  sb_recv_stats_init(&s, VIDEO_RATE);
  sb_rtcp_report_block b;
  memset(&b, 0, sizeof b);
  feed(&s, 1, 0);
  feed(&s, 4, 1000);
  sb_recv_stats_report(&s, &b);
  g_assert_cmpuint(b.fraction_lost, ==, 128); /* 2 of 4 */
  /* Next interval: the two missing ones and one new one arrive: more received
   * than expected in the interval, which A.3 reports as 0, not negative. */
  feed(&s, 2, 2000);
  feed(&s, 3, 3000);
  feed(&s, 5, 4000);
  sb_recv_stats_report(&s, &b);
  g_assert_cmpuint(b.fraction_lost, ==, 0);
  g_assert_cmpint(b.cumulative_lost, ==, 0);
}

static void test_report_cumulative_lost_clamped_to_24_bits(void) {
  sb_recv_stats s;
  sb_recv_stats_init(&s, VIDEO_RATE);
  sb_rtcp_report_block b;
  memset(&b, 0, sizeof b);
  /* Jumps just under MAX_DROPOUT lose 2998 packets each. */
  uint16_t seq = 0;
  for (int i = 0; i < 3000; i++, seq += 2999)
    feed(&s, seq, i * 1000);
  g_assert_cmpint(sb_recv_stats_cumulative_lost(&s), >, 0x7fffff);
  sb_recv_stats_report(&s, &b);
  g_assert_cmpint(b.cumulative_lost, ==, 0x7fffff);
}

static void test_report_cumulative_lost_can_be_negative(void) {
  sb_recv_stats s;
  sb_recv_stats_init(&s, VIDEO_RATE);
  sb_rtcp_report_block b;
  memset(&b, 0, sizeof b);
  /* A packet from before the first one: received, but not expected (A.1 keeps
   * base_seq), so cumulative loss reads -1 as RFC 3550 §6.4.1 allows. */
  feed(&s, 100, 0);
  feed(&s, 99, 1000);
  sb_recv_stats_report(&s, &b);
  g_assert_cmpint(b.cumulative_lost, ==, -1);
}

static void test_report_before_any_packet_is_empty(void) {
  sb_recv_stats s;
  sb_recv_stats_init(&s, AUDIO_RATE);
  sb_rtcp_report_block b;
  memset(&b, 0xff, sizeof b);
  sb_recv_stats_report(&s, &b);
  g_assert_cmpuint(b.fraction_lost, ==, 0);
  g_assert_cmpint(b.cumulative_lost, ==, 0);
  g_assert_cmpuint(b.ext_highest_seq, ==, 0);
  g_assert_cmpuint(b.jitter, ==, 0);
}

/* ---- A.8 jitter ------------------------------------------------------------ */

static void test_jitter_zero_for_constant_transit(void) {
  sb_recv_stats s;
  sb_recv_stats_init(&s, VIDEO_RATE);
  /* 30 fps: 3000 timestamp units = 33333.3 µs; use arrival times that convert
   * exactly: 20 ms = 1800 units. The transit offset itself is arbitrary. */
  for (int i = 0; i < 100; i++)
    sb_recv_stats_update(&s, (uint16_t)i, 123456u + (uint32_t)i * 1800u, 7000000 + i * 20000,
                         1000, false);
  g_assert_cmpfloat(s.jitter, ==, 0.0);
  g_assert_cmpfloat(sb_recv_stats_jitter_ms(&s), ==, 0.0);
}

static void test_jitter_matches_rfc3550_a8_by_hand(void) {
  sb_recv_stats s;
  sb_recv_stats_init(&s, 8000);
  /* 8 kHz, packets every 20 ms (160 units). Arrival delays 0, +20 ms, +20 ms,
   * +10 ms give |D| = 160, 0, 80 units. By A.8, J += (|D| - J) / 16:
   *   J1 = 160/16 = 10
   *   J2 = 10 + (0 - 10)/16 = 9.375
   *   J3 = 9.375 + (80 - 9.375)/16 = 13.7890625 */
  const int64_t delay_us[] = {0, 20000, 20000, 10000};
  const double expect[] = {0.0, 10.0, 9.375, 13.7890625};
  for (int i = 0; i < 4; i++) {
    sb_recv_stats_update(&s, (uint16_t)i, (uint32_t)i * 160u, i * 20000 + delay_us[i], 172, false);
    g_assert_cmpfloat_with_epsilon(s.jitter, expect[i], 1e-9);
  }
  sb_rtcp_report_block b;
  memset(&b, 0, sizeof b);
  sb_recv_stats_report(&s, &b);
  g_assert_cmpuint(b.jitter, ==, 13); /* truncated to whole timestamp units */
  g_assert_cmpfloat_with_epsilon(sb_recv_stats_jitter_ms(&s), 13.7890625 / 8.0, 1e-9);
}

static void test_jitter_converges_for_alternating_delay(void) {
  sb_recv_stats s;
  sb_recv_stats_init(&s, VIDEO_RATE);
  /* Every other packet 10 ms late: each |D| is 900 units, so J tends to 900
   * (10 ms) with time constant 16 packets. */
  for (int i = 0; i < 300; i++) {
    int64_t arrival = i * 20000 + (i % 2 ? 10000 : 0);
    sb_recv_stats_update(&s, (uint16_t)i, (uint32_t)i * 1800u, arrival, 1000, false);
  }
  g_assert_cmpfloat_with_epsilon(s.jitter, 900.0, 1.0);
  g_assert_cmpfloat_with_epsilon(sb_recv_stats_jitter_ms(&s), 10.0, 0.02);
}

static void test_jitter_handles_timestamp_wrap(void) {
  sb_recv_stats s;
  sb_recv_stats_init(&s, VIDEO_RATE);
  uint32_t ts = UINT32_MAX - 5 * 1800u;
  for (int i = 0; i < 20; i++, ts += 1800u)
    sb_recv_stats_update(&s, (uint16_t)i, ts, i * 20000, 1000, false);
  g_assert_cmpfloat(s.jitter, ==, 0.0);
}

static void test_jitter_ignores_retransmissions_and_duplicates(void) {
  sb_recv_stats s;
  sb_recv_stats_init(&s, VIDEO_RATE);
  for (int i = 0; i < 10; i++)
    if (i != 5)
      sb_recv_stats_update(&s, (uint16_t)i, (uint32_t)i * 1800u, i * 20000, 1000, false);
  /* seq 5 retransmitted 150 ms late; seq 9 duplicated 80 ms late. */
  sb_recv_stats_update(&s, 5, 5 * 1800u, 5 * 20000 + 150000, 1000, true);
  sb_recv_stats_update(&s, 9, 9 * 1800u, 9 * 20000 + 80000, 1000, false);
  g_assert_cmpfloat(s.jitter, ==, 0.0);
  /* And the next regular packet does not see a transit jump either. */
  sb_recv_stats_update(&s, 10, 10 * 1800u, 10 * 20000, 1000, false);
  g_assert_cmpfloat(s.jitter, ==, 0.0);
}

static void test_jitter_not_disturbed_by_restart(void) {
  sb_recv_stats s;
  sb_recv_stats_init(&s, VIDEO_RATE);
  for (int i = 0; i < 10; i++)
    sb_recv_stats_update(&s, (uint16_t)i, (uint32_t)i * 1800u, i * 20000, 1000, false);
  /* The sender restarts with new sequence numbers and a new timestamp base. */
  uint32_t base = 0x80000000u;
  for (int i = 10; i < 20; i++)
    sb_recv_stats_update(&s, (uint16_t)(30000 + i), base + (uint32_t)i * 1800u, i * 20000,
                         1000, false);
  g_assert_cmpuint(s.base_seq, ==, 30011);
  g_assert_cmpfloat(s.jitter, ==, 0.0);
}

/* ---- send statistics -------------------------------------------------------- */

static void test_send_counts_media_and_retransmissions_apart(void) {
  sb_send_stats s;
  sb_send_stats_init(&s, VIDEO_RATE);
  g_assert_cmpint(s.rtt_ms, ==, -1);
  sb_send_stats_on_send(&s, 1000, 100000, 1200, false);
  sb_send_stats_on_send(&s, 4000, 133000, 1100, false);
  sb_send_stats_on_send(&s, 1000, 150000, 1200, true);
  g_assert_cmpuint(s.packets, ==, 2);
  g_assert_cmpuint(s.bytes, ==, 2300);
  g_assert_cmpuint(s.retransmissions, ==, 1);
  g_assert_cmpuint(s.retransmitted_bytes, ==, 1200);
  g_assert_cmpuint(s.last_rtp_ts, ==, 4000);
  g_assert_cmpint(s.last_send_us, ==, 133000);
  g_assert_cmpuint(sb_rate_bps(&s.rate, 150000), ==, 3500 * 8);
}

static void test_send_rtt_from_report_block(void) {
  sb_send_stats s;
  sb_send_stats_init(&s, VIDEO_RATE);
  /* Our SR left at T; the receiver held it 500 ms (DLSR) and its RR reached us
   * at T + 550 ms: RTT = A - LSR - DLSR = 50 ms (RFC 3550 §6.4.1). */
  int64_t t = INT64_C(1700000000) * 1000000 + 123456;
  sb_rtcp_report_block b;
  memset(&b, 0, sizeof b);
  b.lsr = ntp_mid_from_us(t);
  b.dlsr = 32768; /* 0.5 s in 1/65536 s */
  sb_send_stats_on_report(&s, &b, ntp_mid_from_us(t + 550000));
  g_assert_cmpint(s.rtt_ms, ==, 50);
}

static void test_send_rtt_across_ntp_middle_wrap(void) {
  sb_send_stats s;
  sb_send_stats_init(&s, VIDEO_RATE);
  sb_rtcp_report_block b;
  memset(&b, 0, sizeof b);
  /* The 16-bit seconds part rolls over between the SR and the RR. */
  b.lsr = 0xffff8000u;     /* x.5 s */
  b.dlsr = 0x4000;         /* 0.25 s */
  sb_send_stats_on_report(&s, &b, 0x00004000u); /* 0.75 s later */
  g_assert_cmpint(s.rtt_ms, ==, 500);
}

static void test_send_rtt_ignored_without_sr_or_when_negative(void) {
  sb_send_stats s;
  sb_send_stats_init(&s, VIDEO_RATE);
  sb_rtcp_report_block b;
  memset(&b, 0, sizeof b);
  b.lsr = 0;
  b.dlsr = 0;
  sb_send_stats_on_report(&s, &b, 0x12345678u);
  g_assert_cmpint(s.rtt_ms, ==, -1);

  /* DLSR larger than the time since the SR: clocks disagree, no sample. */
  b.lsr = 0x10000000u;
  b.dlsr = 0x20000;
  sb_send_stats_on_report(&s, &b, 0x10010000u);
  g_assert_cmpint(s.rtt_ms, ==, -1);

  /* A report claiming an SR from the future: no sample. */
  b.dlsr = 0;
  sb_send_stats_on_report(&s, &b, 0x0fff0000u);
  g_assert_cmpint(s.rtt_ms, ==, -1);

  /* A good one after them is taken, and a bad one later keeps it. */
  b.dlsr = 0x8000;
  sb_send_stats_on_report(&s, &b, 0x10000000u + 0x8000u + 0x0666u); /* 25 ms */
  g_assert_cmpint(s.rtt_ms, ==, 25);
  b.lsr = 0;
  sb_send_stats_on_report(&s, &b, 0x20000000u);
  g_assert_cmpint(s.rtt_ms, ==, 25);
}

static void test_send_copies_remote_loss_and_jitter(void) {
  sb_send_stats s;
  sb_send_stats_init(&s, AUDIO_RATE);
  sb_rtcp_report_block b;
  memset(&b, 0, sizeof b);
  b.fraction_lost = 26;
  b.cumulative_lost = -3;
  b.jitter = 480;
  sb_send_stats_on_report(&s, &b, 0);
  g_assert_cmpuint(s.remote_fraction_lost, ==, 26);
  g_assert_cmpint(s.remote_cumulative_lost, ==, -3);
  g_assert_cmpuint(s.remote_jitter, ==, 480);
  g_assert_cmpfloat_with_epsilon(sb_send_stats_remote_jitter_ms(&s), 10.0, 1e-9);
}

/* The process-wide loss counter takes only growth: recovered packets lower the
 * cumulative loss but are not counted again when new loss follows. */
static void test_recv_take_lost_counts_growth_once(void) {
  sb_recv_stats s;
  sb_recv_stats_init(&s, VIDEO_RATE);
  int64_t t = 1000000;
  feed(&s, 100, t);
  feed(&s, 101, t += 1000);
  feed(&s, 104, t += 1000);   /* 102 and 103 missing */
  g_assert_cmpuint(sb_recv_stats_take_lost(&s), ==, 2);
  g_assert_cmpuint(sb_recv_stats_take_lost(&s), ==, 0);
  feed_rtx(&s, 102, t += 1000); /* recovered: cumulative loss 1 */
  g_assert_cmpuint(sb_recv_stats_take_lost(&s), ==, 0);
  feed(&s, 106, t += 1000);   /* 105 missing: cumulative loss 2 again */
  g_assert_cmpuint(sb_recv_stats_take_lost(&s), ==, 0);
  feed(&s, 109, t += 1000);   /* 107, 108: cumulative loss 4 */
  g_assert_cmpuint(sb_recv_stats_take_lost(&s), ==, 2);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/stats/recv/take-lost-counts-growth-once", test_recv_take_lost_counts_growth_once);

  g_test_add_func("/stats/rate/empty-reads-zero", test_rate_empty_reads_zero);
  g_test_add_func("/stats/rate/sums-bytes-of-last-second", test_rate_sums_last_second);
  g_test_add_func("/stats/rate/first-partial-second-over-fixed-1s",
                  test_rate_counts_first_partial_second);
  g_test_add_func("/stats/rate/window-in-first-second-of-clock",
                  test_rate_in_first_second_of_clock);
  g_test_add_func("/stats/rate/expires-slots-older-than-a-second",
                  test_rate_expires_slots_older_than_a_second);
  g_test_add_func("/stats/rate/late-add-within-window-counts",
                  test_rate_late_add_within_window_counts);

  g_test_add_func("/stats/seq/first-packet-valid-without-probation",
                  test_seq_first_packet_valid_without_probation);
  g_test_add_func("/stats/seq/counts-in-order-packets", test_seq_counts_in_order_packets);
  g_test_add_func("/stats/seq/gap-counts-as-lost", test_seq_gap_counts_as_lost);
  g_test_add_func("/stats/seq/wraps-at-65535-into-next-cycle",
                  test_seq_wraps_at_65535_into_next_cycle);
  g_test_add_func("/stats/seq/wrap-with-gap-across-zero", test_seq_wrap_with_gap_across_zero);
  g_test_add_func("/stats/seq/duplicate-not-counted-as-received",
                  test_seq_duplicate_not_counted_as_received);
  g_test_add_func("/stats/seq/duplicate-detected-across-wrap",
                  test_seq_duplicate_detected_across_wrap);
  g_test_add_func("/stats/seq/bitmap-forgets-numbers-passed-over",
                  test_seq_bitmap_forgets_numbers_passed_over);
  g_test_add_func("/stats/seq/reordered-packet-fills-gap", test_seq_reordered_packet_fills_gap);
  g_test_add_func("/stats/seq/large-jump-restarts-after-two-sequential",
                  test_seq_large_jump_restarts_after_two_sequential);
  g_test_add_func("/stats/seq/stray-packet-does-not-restart",
                  test_seq_stray_packet_does_not_restart);
  g_test_add_func("/stats/seq/jump-below-max-dropout-is-a-gap",
                  test_seq_jump_below_max_dropout_is_a_gap);
  g_test_add_func("/stats/seq/late-retransmission-is-not-a-restart",
                  test_seq_late_retransmission_is_not_a_restart);
  g_test_add_func("/stats/seq/late-media-packets-follow-a1", test_seq_late_media_packets_follow_a1);

  g_test_add_func("/stats/report/fraction-lost-per-interval",
                  test_report_fraction_lost_per_interval);
  g_test_add_func("/stats/report/late-arrivals-make-interval-loss-zero",
                  test_report_late_arrivals_make_interval_loss_zero);
  g_test_add_func("/stats/report/cumulative-lost-clamped-to-24-bits",
                  test_report_cumulative_lost_clamped_to_24_bits);
  g_test_add_func("/stats/report/cumulative-lost-can-be-negative",
                  test_report_cumulative_lost_can_be_negative);
  g_test_add_func("/stats/report/before-any-packet-is-empty",
                  test_report_before_any_packet_is_empty);

  g_test_add_func("/stats/jitter/zero-for-constant-transit", test_jitter_zero_for_constant_transit);
  g_test_add_func("/stats/jitter/matches-rfc3550-a8-by-hand",
                  test_jitter_matches_rfc3550_a8_by_hand);
  g_test_add_func("/stats/jitter/converges-for-alternating-delay",
                  test_jitter_converges_for_alternating_delay);
  g_test_add_func("/stats/jitter/handles-timestamp-wrap", test_jitter_handles_timestamp_wrap);
  g_test_add_func("/stats/jitter/ignores-retransmissions-and-duplicates",
                  test_jitter_ignores_retransmissions_and_duplicates);
  g_test_add_func("/stats/jitter/not-disturbed-by-restart", test_jitter_not_disturbed_by_restart);

  g_test_add_func("/stats/send/counts-media-and-retransmissions-apart",
                  test_send_counts_media_and_retransmissions_apart);
  g_test_add_func("/stats/send/rtt-from-report-block", test_send_rtt_from_report_block);
  g_test_add_func("/stats/send/rtt-across-ntp-middle-wrap", test_send_rtt_across_ntp_middle_wrap);
  g_test_add_func("/stats/send/rtt-ignored-without-sr-or-when-negative",
                  test_send_rtt_ignored_without_sr_or_when_negative);
  g_test_add_func("/stats/send/copies-remote-loss-and-jitter",
                  test_send_copies_remote_loss_and_jitter);

  return g_test_run();
}
