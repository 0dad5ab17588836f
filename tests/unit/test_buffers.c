/* Unit tests for the forwarding path's buffers: media/pktbuf.c (pooled, shared
 * packet buffers), media/rtx_buffer.c (what a subscriber may ask for again) and
 * media/rewrite.c (continuous numbering across source changes). Run under ASan:
 * the pool teardown tests rely on it to catch a leak or a use after free. */
#include <string.h>

#include <glib.h>

#include "media/pktbuf.h"
#include "media/rewrite.h"
#include "media/rtx_buffer.h"

#define MS 1000 /* µs */

static sb_pktpool_stats pool_stats(const sb_pktpool *pool) {
  sb_pktpool_stats st;
  sb_pktpool_get_stats(pool, &st);
  return st;
}

/* ---- sb_pktbuf ------------------------------------------------------------ */

static void test_pktbuf_get_returns_fresh_buffer(void) {
  sb_pktpool *pool = sb_pktpool_new(8);
  sb_pktbuf *b = sb_pktbuf_get(pool);
  g_assert_nonnull(b);
  g_assert_cmpuint(b->refs, ==, 1);
  g_assert_cmpuint(b->len, ==, 0);
  g_assert_true(b->pool == pool);
  sb_pktpool_stats st = pool_stats(pool);
  g_assert_cmpuint(st.allocated, ==, 1);
  g_assert_cmpuint(st.reused, ==, 0);
  g_assert_cmpuint(st.in_use, ==, 1);
  g_assert_cmpuint(st.free_count, ==, 0);
  sb_pktbuf_unref(b);
  sb_pktpool_free(pool);
}

static void test_pktbuf_released_buffer_is_reused(void) {
  sb_pktpool *pool = sb_pktpool_new(8);
  sb_pktbuf *a = sb_pktbuf_get(pool);
  a->len = 1200;
  a->arrival_us = 42;
  memset(a->data, 0xab, a->len);
  sb_pktbuf_unref(a);
  sb_pktpool_stats st = pool_stats(pool);
  g_assert_cmpuint(st.in_use, ==, 0);
  g_assert_cmpuint(st.free_count, ==, 1);

  sb_pktbuf *b = sb_pktbuf_get(pool);
  g_assert_true(b == a);
  g_assert_cmpuint(b->refs, ==, 1);
  g_assert_cmpuint(b->len, ==, 0);
  g_assert_cmpint(b->arrival_us, ==, 0);
  st = pool_stats(pool);
  g_assert_cmpuint(st.allocated, ==, 1);
  g_assert_cmpuint(st.reused, ==, 1);
  g_assert_cmpuint(st.in_use, ==, 1);
  g_assert_cmpuint(st.free_count, ==, 0);
  sb_pktbuf_unref(b);
  sb_pktpool_free(pool);
}

static void test_pktbuf_shared_buffer_returns_on_last_unref(void) {
  sb_pktpool *pool = sb_pktpool_new(8);
  sb_pktbuf *b = sb_pktbuf_get(pool);
  g_assert_true(sb_pktbuf_ref(b) == b);
  sb_pktbuf_ref(b);
  g_assert_cmpuint(b->refs, ==, 3);
  sb_pktbuf_unref(b);
  sb_pktbuf_unref(b);
  g_assert_cmpuint(b->refs, ==, 1);
  g_assert_cmpuint(pool_stats(pool).in_use, ==, 1);
  g_assert_cmpuint(pool_stats(pool).free_count, ==, 0);
  sb_pktbuf_unref(b);
  g_assert_cmpuint(pool_stats(pool).in_use, ==, 0);
  g_assert_cmpuint(pool_stats(pool).free_count, ==, 1);
  sb_pktpool_free(pool);
}

static void test_pktbuf_free_list_capped_at_max_free(void) {
  sb_pktpool *pool = sb_pktpool_new(2);
  sb_pktbuf *b[5];
  for (int i = 0; i < 5; i++)
    b[i] = sb_pktbuf_get(pool);
  for (int i = 0; i < 5; i++)
    sb_pktbuf_unref(b[i]);
  sb_pktpool_stats st = pool_stats(pool);
  g_assert_cmpuint(st.allocated, ==, 5);
  g_assert_cmpuint(st.free_count, ==, 2);
  g_assert_cmpuint(st.in_use, ==, 0);

  /* Two come back from the list, the third is a new allocation. */
  for (int i = 0; i < 3; i++)
    b[i] = sb_pktbuf_get(pool);
  st = pool_stats(pool);
  g_assert_cmpuint(st.reused, ==, 2);
  g_assert_cmpuint(st.allocated, ==, 6);
  for (int i = 0; i < 3; i++)
    sb_pktbuf_unref(b[i]);
  sb_pktpool_free(pool);
}

static void test_pktbuf_pool_without_free_list(void) {
  sb_pktpool *pool = sb_pktpool_new(0);
  sb_pktbuf *b = sb_pktbuf_get(pool);
  sb_pktbuf_unref(b);
  g_assert_cmpuint(pool_stats(pool).free_count, ==, 0);
  b = sb_pktbuf_get(pool);
  g_assert_cmpuint(pool_stats(pool).allocated, ==, 2);
  sb_pktbuf_unref(b);
  sb_pktpool_free(pool);
}

static void test_pktbuf_pool_freed_with_outstanding_buffers(void) {
  sb_pktpool *pool = sb_pktpool_new(8);
  sb_pktbuf *b[4];
  for (int i = 0; i < 4; i++)
    b[i] = sb_pktbuf_get(pool);
  sb_pktbuf_unref(b[0]); /* into the free list, freed with the pool */
  sb_pktbuf_ref(b[1]);   /* two owners, like two subscribers' rtx buffers */

  sb_pktpool_free(pool);

  /* The outstanding buffers stay fully usable ... */
  for (int i = 1; i < 4; i++) {
    memset(b[i]->data, i, SB_PKTBUF_DATA);
    b[i]->len = SB_PKTBUF_DATA;
  }
  sb_pktbuf_ref(b[2]);
  sb_pktbuf_unref(b[2]);
  /* ... and the last unrefs free them and then the pool's struct: ASan and
   * LeakSanitizer report any use after free or anything left behind. */
  sb_pktbuf_unref(b[1]);
  sb_pktbuf_unref(b[3]);
  sb_pktbuf_unref(b[2]);
  g_assert_cmpuint(b[1]->refs, ==, 1);
  g_assert_cmpuint(b[1]->data[0], ==, 1);
  sb_pktbuf_unref(b[1]);
}

static void test_pktbuf_pool_freed_when_idle(void) {
  sb_pktpool *pool = sb_pktpool_new(8);
  sb_pktbuf *b = sb_pktbuf_get(pool);
  sb_pktbuf_unref(b);
  sb_pktpool_free(pool);
  sb_pktpool_free(NULL);
  sb_pktbuf_unref(NULL);
}

/* ---- sb_rtx_buffer -------------------------------------------------------- */

static void test_rtx_size_rounded_to_power_of_two(void) {
  static const struct {
    uint16_t asked;
    uint16_t size;
  } cases[] = {{1, 1}, {2, 2}, {3, 4}, {100, 128}, {512, 512}, {1000, 1024},
               {32768, 32768}, {40000, 32768}, {65535, 32768}};
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    sb_rtx_buffer b;
    sb_rtx_buffer_init(&b, cases[i].asked, 1000 * MS);
    g_assert_cmpuint(b.size, ==, cases[i].size);
    g_assert_nonnull(b.slots);
    sb_rtx_buffer_clear(&b);
  }
}

static void test_rtx_size_zero_disables(void) {
  sb_pktpool *pool = sb_pktpool_new(8);
  sb_pktbuf *p = sb_pktbuf_get(pool);
  sb_rtx_buffer b;
  sb_rtx_buffer_init(&b, 0, 1000 * MS);
  g_assert_null(b.slots);
  sb_rtx_buffer_store(&b, p, 1, 0, 0);
  g_assert_cmpuint(p->refs, ==, 1);
  g_assert_null(sb_rtx_buffer_get(&b, 1, 0));
  sb_rtx_buffer_clear(&b);
  sb_pktbuf_unref(p);
  sb_pktpool_free(pool);
}

static void test_rtx_store_and_get(void) {
  sb_pktpool *pool = sb_pktpool_new(8);
  sb_rtx_buffer b;
  sb_rtx_buffer_init(&b, 256, 1000 * MS);
  sb_pktbuf *p = sb_pktbuf_get(pool);
  p->len = 3;
  memcpy(p->data, "abc", 3);

  sb_rtx_buffer_store(&b, p, 5000, 90000, 10 * MS);
  g_assert_cmpuint(p->refs, ==, 2);
  sb_pktbuf_unref(p); /* the buffer's reference keeps it */

  sb_rtx_entry *e = sb_rtx_buffer_get(&b, 5000, 15 * MS);
  g_assert_nonnull(e);
  g_assert_true(e->pkt == p);
  g_assert_cmpuint(e->pkt->refs, ==, 1);
  g_assert_cmpmem(e->pkt->data, e->pkt->len, "abc", 3);
  g_assert_cmpuint(e->seq, ==, 5000);
  g_assert_cmpuint(e->ts, ==, 90000);
  g_assert_cmpint(e->sent_us, ==, 10 * MS);
  g_assert_cmpint(e->resent_us, ==, 0);
  e->resent_us = 15 * MS;

  /* Never sent, or a slot's neighbour: nothing. */
  g_assert_null(sb_rtx_buffer_get(&b, 5001, 15 * MS));
  g_assert_null(sb_rtx_buffer_get(&b, 4999, 15 * MS));
  /* The same slot index but another number (5000 + 256). */
  g_assert_null(sb_rtx_buffer_get(&b, 5256, 15 * MS));

  sb_rtx_buffer_clear(&b);
  g_assert_cmpuint(pool_stats(pool).in_use, ==, 0);
  sb_pktpool_free(pool);
}

static void test_rtx_overwritten_slot_releases_old_packet(void) {
  sb_pktpool *pool = sb_pktpool_new(16);
  sb_rtx_buffer b;
  sb_rtx_buffer_init(&b, 4, 1000 * MS);
  for (uint16_t seq = 65534; seq != 3; seq++) { /* 65534, 65535, 0, 1, 2 */
    sb_pktbuf *p = sb_pktbuf_get(pool);
    p->data[0] = (uint8_t)seq;
    sb_rtx_buffer_store(&b, p, seq, seq * 3000u, seq);
    sb_pktbuf_unref(p);
  }
  /* 2 took 65534's slot: that packet went back to the pool. */
  g_assert_cmpuint(pool_stats(pool).in_use, ==, 4);
  g_assert_cmpuint(pool_stats(pool).free_count, ==, 1);
  g_assert_null(sb_rtx_buffer_get(&b, 65534, 10));
  sb_rtx_entry *e = sb_rtx_buffer_get(&b, 2, 10);
  g_assert_nonnull(e);
  g_assert_cmpuint(e->pkt->data[0], ==, 2);
  e = sb_rtx_buffer_get(&b, 65535, 10);
  g_assert_nonnull(e);
  g_assert_cmpuint(e->pkt->data[0], ==, 0xff);

  sb_rtx_buffer_clear(&b);
  g_assert_cmpuint(pool_stats(pool).in_use, ==, 0);
  sb_pktpool_free(pool);
}

static void test_rtx_entry_older_than_max_age_not_returned(void) {
  sb_pktpool *pool = sb_pktpool_new(8);
  sb_rtx_buffer b;
  sb_rtx_buffer_init(&b, 64, 500 * MS);
  sb_pktbuf *p = sb_pktbuf_get(pool);
  sb_rtx_buffer_store(&b, p, 7, 0, 1000 * MS);
  g_assert_nonnull(sb_rtx_buffer_get(&b, 7, 1500 * MS));
  g_assert_null(sb_rtx_buffer_get(&b, 7, 1500 * MS + 1));
  /* Stored again (sent anew), it is fresh again. */
  sb_rtx_buffer_store(&b, p, 7, 0, 2000 * MS);
  g_assert_nonnull(sb_rtx_buffer_get(&b, 7, 2100 * MS));
  g_assert_cmpuint(p->refs, ==, 2);
  sb_rtx_buffer_clear(&b);
  g_assert_cmpuint(p->refs, ==, 1);
  sb_pktbuf_unref(p);
  sb_pktpool_free(pool);
}

static void test_rtx_same_packet_stored_twice(void) {
  sb_pktpool *pool = sb_pktpool_new(8);
  sb_rtx_buffer b;
  sb_rtx_buffer_init(&b, 16, 1000 * MS);
  sb_pktbuf *p = sb_pktbuf_get(pool);
  /* Into its own slot again: the reference is replaced, not lost or doubled. */
  sb_rtx_buffer_store(&b, p, 3, 0, 0);
  sb_rtx_buffer_store(&b, p, 3, 0, 1);
  g_assert_cmpuint(p->refs, ==, 2);
  /* Under a second number: a second reference. */
  sb_rtx_buffer_store(&b, p, 4, 0, 2);
  g_assert_cmpuint(p->refs, ==, 3);
  sb_pktbuf_unref(p);
  sb_rtx_buffer_clear(&b);
  g_assert_cmpuint(pool_stats(pool).in_use, ==, 0);

  /* Stored again from its own entry while the buffer holds the only reference
   * (sent once more under the same number): it must not be released midway. */
  sb_rtx_buffer_init(&b, 16, 1000 * MS);
  p = sb_pktbuf_get(pool);
  sb_rtx_buffer_store(&b, p, 3, 0, 0);
  sb_pktbuf_unref(p);
  g_assert_cmpuint(p->refs, ==, 1);
  sb_rtx_entry *e = sb_rtx_buffer_get(&b, 3, 3);
  g_assert_nonnull(e);
  sb_rtx_buffer_store(&b, e->pkt, 3, 0, 4);
  g_assert_cmpuint(p->refs, ==, 1);
  g_assert_cmpuint(pool_stats(pool).in_use, ==, 1);
  g_assert_cmpuint(pool_stats(pool).free_count, ==, 0);
  sb_rtx_buffer_clear(&b);
  g_assert_cmpuint(pool_stats(pool).in_use, ==, 0);
  sb_pktpool_free(pool);
}

static void test_rtx_clear_releases_references(void) {
  sb_pktpool *pool = sb_pktpool_new(64);
  sb_rtx_buffer b;
  sb_rtx_buffer_init(&b, 32, 1000 * MS);
  for (uint16_t seq = 0; seq < 20; seq++) {
    sb_pktbuf *p = sb_pktbuf_get(pool);
    sb_rtx_buffer_store(&b, p, seq, 0, 0);
    sb_pktbuf_unref(p);
  }
  g_assert_cmpuint(pool_stats(pool).in_use, ==, 20);
  sb_rtx_buffer_clear(&b);
  g_assert_cmpuint(pool_stats(pool).in_use, ==, 0);
  g_assert_cmpuint(pool_stats(pool).free_count, ==, 20);
  g_assert_null(b.slots);
  g_assert_cmpuint(b.size, ==, 0);
  sb_rtx_buffer_clear(&b);
  sb_pktpool_free(pool);
}

static void test_rtx_buffer_outlives_pool(void) {
  /* A subscriber's buffer may be cleared after the worker freed its pool. */
  sb_pktpool *pool = sb_pktpool_new(8);
  sb_rtx_buffer b;
  sb_rtx_buffer_init(&b, 8, 1000 * MS);
  for (uint16_t seq = 0; seq < 3; seq++) {
    sb_pktbuf *p = sb_pktbuf_get(pool);
    sb_rtx_buffer_store(&b, p, seq, 0, 0);
    sb_pktbuf_unref(p);
  }
  sb_pktpool_free(pool);
  g_assert_nonnull(sb_rtx_buffer_get(&b, 1, 0));
  sb_rtx_buffer_clear(&b);
}

/* ---- sb_rewriter ------------------------------------------------------------ */

#define SSRC_A 0xaaaa0001u
#define SSRC_B 0xbbbb0002u

typedef struct {
  uint16_t seq;
  uint32_t ts;
} out_pkt;

static out_pkt map_ok(sb_rewriter *r, uint32_t ssrc, uint16_t seq, uint32_t ts, int64_t now_us) {
  out_pkt o = {0, 0};
  g_assert_true(sb_rewriter_map(r, ssrc, seq, ts, now_us, &o.seq, &o.ts));
  return o;
}

static void test_rewrite_first_packet_gets_initial_seq_and_ts(void) {
  sb_rewriter r;
  sb_rewriter_init(&r, 90000, 1000, 5000000);
  g_assert_false(r.started);
  out_pkt o = map_ok(&r, SSRC_A, 40000, 777, 1000 * MS);
  g_assert_cmpuint(o.seq, ==, 1000);
  g_assert_cmpuint(o.ts, ==, 5000000);
  g_assert_true(r.started);
  g_assert_cmpuint(r.src_ssrc, ==, SSRC_A);
}

static void test_rewrite_switch_before_first_packet_changes_nothing(void) {
  sb_rewriter r;
  sb_rewriter_init(&r, 90000, 1000, 5000000);
  sb_rewriter_switch(&r);
  out_pkt o = map_ok(&r, SSRC_A, 1, 2, 1000 * MS);
  g_assert_cmpuint(o.seq, ==, 1000);
  g_assert_cmpuint(o.ts, ==, 5000000);
}

static void test_rewrite_same_source_keeps_offsets(void) {
  sb_rewriter r;
  sb_rewriter_init(&r, 90000, 1000, 5000000);
  map_ok(&r, SSRC_A, 40000, 777, 0);
  out_pkt o = map_ok(&r, SSRC_A, 40001, 3777, 33 * MS);
  g_assert_cmpuint(o.seq, ==, 1001);
  g_assert_cmpuint(o.ts, ==, 5003000);
  /* A gap in the source is a gap out: the subscriber can NACK it. */
  o = map_ok(&r, SSRC_A, 40005, 9777, 66 * MS);
  g_assert_cmpuint(o.seq, ==, 1005);
  g_assert_cmpuint(o.ts, ==, 5009000);
  g_assert_cmpuint(r.last_seq, ==, 1005);
}

static void test_rewrite_republish_continues_without_gap(void) {
  sb_rewriter r;
  sb_rewriter_init(&r, 90000, 1000, 5000000);
  int64_t t = 1000 * MS;
  for (uint16_t i = 0; i < 10; i++, t += 33 * MS)
    map_ok(&r, SSRC_A, 40000 + i, 777 + i * 3000u, t);
  g_assert_cmpuint(r.last_seq, ==, 1009);
  g_assert_cmpuint(r.last_ts, ==, 5027000);
  int64_t last_us = t - 33 * MS;

  /* The publisher comes back with a new SSRC, numbering and timestamp base,
   * 500 ms after the last packet sent. */
  out_pkt o = map_ok(&r, SSRC_B, 7, 123, last_us + 500 * MS);
  g_assert_cmpuint(o.seq, ==, 1010);
  g_assert_cmpuint(o.ts, ==, 5027000 + 45000);
  g_assert_cmpuint(r.src_ssrc, ==, SSRC_B);
  o = map_ok(&r, SSRC_B, 8, 3123, last_us + 533 * MS);
  g_assert_cmpuint(o.seq, ==, 1011);
  g_assert_cmpuint(o.ts, ==, 5027000 + 45000 + 3000);
}

static void test_rewrite_explicit_switch_same_ssrc_restarted_seq(void) {
  sb_rewriter r;
  sb_rewriter_init(&r, 48000, 20, 0);
  for (uint16_t i = 0; i < 5; i++)
    map_ok(&r, SSRC_A, 30000 + i, 960u * i, i * 20 * MS);
  /* Republished with the same SSRC but numbering and timestamps from scratch. */
  sb_rewriter_switch(&r);
  out_pkt o = map_ok(&r, SSRC_A, 0, 0, 4 * 20 * MS + 100 * MS);
  g_assert_cmpuint(o.seq, ==, 25);
  g_assert_cmpuint(o.ts, ==, 4 * 960 + 4800);
  g_assert_false(r.switching);
  o = map_ok(&r, SSRC_A, 1, 960, 4 * 20 * MS + 120 * MS);
  g_assert_cmpuint(o.seq, ==, 26);
  g_assert_cmpuint(o.ts, ==, 4 * 960 + 4800 + 960);
}

static void test_rewrite_timestamp_advances_by_elapsed_wall_time(void) {
  sb_rewriter r;
  sb_rewriter_init(&r, 90000, 0, 1000);
  map_ok(&r, SSRC_A, 10, 50, 2000 * MS);

  /* 1.5 s later: 135000 units, whatever the new source's own timestamps say. */
  out_pkt o = map_ok(&r, SSRC_B, 10, 4000000000u, 3500 * MS);
  g_assert_cmpuint(o.ts, ==, 1000 + 135000);

  /* No time at all (or a clock step back): still strictly forward, by 1. */
  o = map_ok(&r, SSRC_A, 11, 50, 3500 * MS);
  g_assert_cmpuint(o.ts, ==, 1000 + 135000 + 1);
  o = map_ok(&r, SSRC_B, 11, 99, 3400 * MS);
  g_assert_cmpuint(o.ts, ==, 1000 + 135000 + 2);
  g_assert_cmpuint(o.seq, ==, 3);
}

static void test_rewrite_timestamp_advance_across_wrap(void) {
  sb_rewriter r;
  sb_rewriter_init(&r, 90000, 0, UINT32_MAX - 100);
  map_ok(&r, SSRC_A, 1, 0, 0);
  out_pkt o = map_ok(&r, SSRC_B, 1, 0, 10 * MS); /* + 900 */
  g_assert_cmpuint(o.ts, ==, 799);
}

static void test_rewrite_seq_wraps_through_65535(void) {
  sb_rewriter r;
  sb_rewriter_init(&r, 90000, 65534, 0);
  static const uint16_t expect[] = {65534, 65535, 0, 1};
  /* The source wraps at a different place than the output. */
  for (int i = 0; i < 4; i++) {
    out_pkt o = map_ok(&r, SSRC_A, (uint16_t)(65534 + 2 + i), 0, i);
    g_assert_cmpuint(o.seq, ==, expect[i]);
  }
  g_assert_cmpuint(r.last_seq, ==, 1);
  out_pkt o = map_ok(&r, SSRC_B, 500, 0, 10);
  g_assert_cmpuint(o.seq, ==, 2);
}

static void test_rewrite_reordered_packet_within_source(void) {
  sb_rewriter r;
  sb_rewriter_init(&r, 90000, 100, 0);
  map_ok(&r, SSRC_A, 10, 0, 0);
  map_ok(&r, SSRC_A, 11, 3000, 10 * MS);
  map_ok(&r, SSRC_A, 13, 9000, 30 * MS);
  /* 12 arrives late: same offset, and it does not pull last_* back. */
  out_pkt o = map_ok(&r, SSRC_A, 12, 6000, 100 * MS);
  g_assert_cmpuint(o.seq, ==, 102);
  g_assert_cmpuint(o.ts, ==, 6000);
  g_assert_cmpuint(r.last_seq, ==, 103);
  g_assert_cmpuint(r.last_ts, ==, 9000);
  g_assert_cmpint(r.last_us, ==, 30 * MS);
  /* So a switch follows 103, timed from when 103 went out. */
  o = map_ok(&r, SSRC_B, 1, 0, 130 * MS);
  g_assert_cmpuint(o.seq, ==, 104);
  g_assert_cmpuint(o.ts, ==, 9000 + 9000);
}

static void test_rewrite_old_packet_across_switch_refused(void) {
  sb_rewriter r;
  sb_rewriter_init(&r, 90000, 0, 0);
  for (uint16_t seq = 10; seq <= 20; seq++)
    map_ok(&r, SSRC_A, seq, seq * 3000u, seq * MS);
  g_assert_cmpuint(r.last_seq, ==, 10);

  out_pkt o = map_ok(&r, SSRC_B, 500, 0, 30 * MS);
  g_assert_cmpuint(o.seq, ==, 11);
  /* B's packet 499 was sent before 500 but arrives after it: mapped, it would be
   * 10, the number A's last packet already went out with. */
  uint16_t seq = 0;
  uint32_t ts = 0;
  g_assert_false(sb_rewriter_map(&r, SSRC_B, 499, 0, 31 * MS, &seq, &ts));
  g_assert_false(sb_rewriter_map(&r, SSRC_B, 400, 0, 31 * MS, &seq, &ts));
  g_assert_cmpuint(r.last_seq, ==, 11);
  /* B's own reordering after its start is fine. */
  o = map_ok(&r, SSRC_B, 502, 6000, 32 * MS);
  g_assert_cmpuint(o.seq, ==, 13);
  o = map_ok(&r, SSRC_B, 501, 3000, 33 * MS);
  g_assert_cmpuint(o.seq, ==, 12);
  o = map_ok(&r, SSRC_B, 500, 0, 34 * MS); /* a duplicate of the first */
  g_assert_cmpuint(o.seq, ==, 11);
}

static void test_rewrite_same_ssrc_jump_starts_new_source(void) {
  sb_rewriter r;
  sb_rewriter_init(&r, 90000, 0, 0);
  for (uint16_t seq = 20000; seq < 20010; seq++)
    map_ok(&r, SSRC_A, seq, 0, 0);
  /* The sender restarted its numbering far below without a signalled switch:
   * not refused for ever, but continued. */
  out_pkt o = map_ok(&r, SSRC_A, 5, 0, 20 * MS);
  g_assert_cmpuint(o.seq, ==, 10);
  g_assert_cmpuint(o.ts, ==, 1800);
  o = map_ok(&r, SSRC_A, 6, 0, 20 * MS);
  g_assert_cmpuint(o.seq, ==, 11);
  /* Far ahead: also a new start, not a gap of thousands. */
  o = map_ok(&r, SSRC_A, 6 + SB_REWRITE_MAX_JUMP + 1, 0, 40 * MS);
  g_assert_cmpuint(o.seq, ==, 12);
  /* Up to the limit it is a gap within the source. */
  o = map_ok(&r, SSRC_A, 6 + 2 * SB_REWRITE_MAX_JUMP + 1, 0, 60 * MS);
  g_assert_cmpuint(o.seq, ==, 12 + SB_REWRITE_MAX_JUMP);
}

static void test_rewrite_long_running_source_accepts_reordering(void) {
  sb_rewriter r;
  sb_rewriter_init(&r, 90000, 0, 0);
  /* More than 2^16 packets from one source, the source's first number long
   * behind: a late packet must still be measured from the newest, not the start. */
  int i = 0;
  for (uint16_t seq = 100; i < 65536 + 72; i++, seq++)
    if (i != 65536 + 70) /* 170 of the second round is late */
      map_ok(&r, SSRC_A, seq, 0, i);
  g_assert_cmpuint(r.src_max_seq, ==, 171);
  out_pkt o = map_ok(&r, SSRC_A, 170, 0, i);
  g_assert_cmpuint(o.seq, ==, (uint16_t)(170 - 100));
  /* As late as the reordering window allows, which reaches back across the wrap
   * to before the source's first number of this round. */
  o = map_ok(&r, SSRC_A, (uint16_t)(171 - SB_REWRITE_MAX_JUMP), 0, i + 1);
  g_assert_cmpuint(o.seq, ==, (uint16_t)(171 - SB_REWRITE_MAX_JUMP - 100));
  g_assert_cmpuint(r.last_seq, ==, 71);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);

  g_test_add_func("/pktbuf/get-returns-fresh-buffer", test_pktbuf_get_returns_fresh_buffer);
  g_test_add_func("/pktbuf/released-buffer-is-reused", test_pktbuf_released_buffer_is_reused);
  g_test_add_func("/pktbuf/shared-buffer-returns-on-last-unref",
                  test_pktbuf_shared_buffer_returns_on_last_unref);
  g_test_add_func("/pktbuf/free-list-capped-at-max-free", test_pktbuf_free_list_capped_at_max_free);
  g_test_add_func("/pktbuf/pool-without-free-list", test_pktbuf_pool_without_free_list);
  g_test_add_func("/pktbuf/pool-freed-with-outstanding-buffers",
                  test_pktbuf_pool_freed_with_outstanding_buffers);
  g_test_add_func("/pktbuf/pool-freed-when-idle", test_pktbuf_pool_freed_when_idle);

  g_test_add_func("/rtx/size-rounded-to-power-of-two", test_rtx_size_rounded_to_power_of_two);
  g_test_add_func("/rtx/size-zero-disables", test_rtx_size_zero_disables);
  g_test_add_func("/rtx/store-and-get", test_rtx_store_and_get);
  g_test_add_func("/rtx/overwritten-slot-releases-old-packet",
                  test_rtx_overwritten_slot_releases_old_packet);
  g_test_add_func("/rtx/entry-older-than-max-age-not-returned",
                  test_rtx_entry_older_than_max_age_not_returned);
  g_test_add_func("/rtx/same-packet-stored-twice", test_rtx_same_packet_stored_twice);
  g_test_add_func("/rtx/clear-releases-references", test_rtx_clear_releases_references);
  g_test_add_func("/rtx/buffer-outlives-pool", test_rtx_buffer_outlives_pool);

  g_test_add_func("/rewrite/first-packet-gets-initial-seq-and-ts",
                  test_rewrite_first_packet_gets_initial_seq_and_ts);
  g_test_add_func("/rewrite/switch-before-first-packet-changes-nothing",
                  test_rewrite_switch_before_first_packet_changes_nothing);
  g_test_add_func("/rewrite/same-source-keeps-offsets", test_rewrite_same_source_keeps_offsets);
  g_test_add_func("/rewrite/republish-continues-without-gap",
                  test_rewrite_republish_continues_without_gap);
  g_test_add_func("/rewrite/explicit-switch-same-ssrc-restarted-seq",
                  test_rewrite_explicit_switch_same_ssrc_restarted_seq);
  g_test_add_func("/rewrite/timestamp-advances-by-elapsed-wall-time",
                  test_rewrite_timestamp_advances_by_elapsed_wall_time);
  g_test_add_func("/rewrite/timestamp-advance-across-wrap",
                  test_rewrite_timestamp_advance_across_wrap);
  g_test_add_func("/rewrite/seq-wraps-through-65535", test_rewrite_seq_wraps_through_65535);
  g_test_add_func("/rewrite/reordered-packet-within-source",
                  test_rewrite_reordered_packet_within_source);
  g_test_add_func("/rewrite/old-packet-across-switch-refused",
                  test_rewrite_old_packet_across_switch_refused);
  g_test_add_func("/rewrite/same-ssrc-jump-starts-new-source",
                  test_rewrite_same_ssrc_jump_starts_new_source);
  g_test_add_func("/rewrite/long-running-source-accepts-reordering",
                  test_rewrite_long_running_source_accepts_reordering);

  return g_test_run();
}
