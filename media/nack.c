/* Switchboard — NACK generation for an incoming stream (RFC 4585 §6.2.1).
 *
 * The missing sequence numbers live in a compact array, oldest first: a gap is
 * appended in increasing order after the newest number seen, so the array stays
 * sorted by age and by sequence (modulo 2^16) without any sorting. With at most
 * SB_NACK_MAX_MISSING (256) entries, linear scans and memmove are cheaper than any
 * cleverer structure, and the memory is fixed inside sb_nack_gen.
 *
 * Timing, in the spirit of libwebrtc's NackRequester:
 *  - first request once a number has been missing for reorder_delay: most gaps
 *    are reordering and close on their own within a few milliseconds;
 *  - then again every max(min_retry, RTT): asking sooner than a round trip only
 *    duplicates a retransmission that is already on its way;
 *  - given up after max_age (a packet that late is useless to a jitter buffer) or
 *    once max_tries requests have each had a retry interval to be answered. */
#include "media/nack.h"

#include <string.h>

#define DEFAULT_REORDER_DELAY_US 10000
#define DEFAULT_MIN_RETRY_US 20000
#define DEFAULT_MAX_AGE_US 1000000
#define DEFAULT_MAX_TRIES 10

void sb_nack_gen_init(sb_nack_gen *g, const sb_nack_config *cfg) {
  memset(g, 0, sizeof *g);
  if (cfg) {
    g->cfg = *cfg;
  } else {
    g->cfg.reorder_delay_us = DEFAULT_REORDER_DELAY_US;
    g->cfg.min_retry_us = DEFAULT_MIN_RETRY_US;
    g->cfg.max_age_us = DEFAULT_MAX_AGE_US;
    g->cfg.max_tries = DEFAULT_MAX_TRIES;
  }
}

static void remove_entry(sb_nack_gen *g, size_t i) {
  memmove(&g->entries[i], &g->entries[i + 1], (g->count - i - 1) * sizeof g->entries[0]);
  g->count--;
}

/* Makes room for n more entries by dropping the oldest ones: they are the least
 * likely to arrive in time to be of use. */
static void make_room(sb_nack_gen *g, size_t n) {
  size_t free_slots = SB_NACK_MAX_MISSING - g->count;
  if (n <= free_slots)
    return;
  size_t drop = n - free_slots;
  memmove(&g->entries[0], &g->entries[drop], (g->count - drop) * sizeof g->entries[0]);
  g->count -= drop;
  g->given_up += drop;
}

bool sb_nack_gen_on_packet(sb_nack_gen *g, uint16_t seq, int64_t now_us) {
  if (!g->started) {
    g->started = true;
    g->newest_seq = seq;
    return false;
  }

  uint16_t ahead = (uint16_t)(seq - g->newest_seq);
  if (ahead == 0)
    return false;

  if (ahead < 0x8000) {
    /* Newer than anything so far: the numbers in between are missing. */
    size_t gap = (size_t)ahead - 1;
    if (gap > SB_NACK_MAX_MISSING) {
      /* A burst longer than the window: the packets that could be tracked would
       * not make the stream decodable anyway. Ask for a keyframe instead and
       * start afresh from this packet. */
      g->given_up += g->count;
      g->count = 0;
      g->keyframe_needed = true;
    } else if (gap > 0) {
      make_room(g, gap);
      for (size_t i = 1; i <= gap; i++) {
        sb_nack_entry *e = &g->entries[g->count++];
        e->seq = (uint16_t)(g->newest_seq + i);
        e->tries = 0;
        e->first_missing_us = now_us;
        e->last_sent_us = 0;
      }
    }
    g->newest_seq = seq;
    return false;
  }

  /* Older than the newest: either one we miss, or a duplicate / late arrival of a
   * number we gave up or never missed. */
  for (size_t i = 0; i < g->count; i++) {
    if (g->entries[i].seq == seq) {
      remove_entry(g, i);
      g->recovered++;
      return true;
    }
  }
  return false;
}

size_t sb_nack_gen_collect(sb_nack_gen *g, int64_t now_us, int64_t rtt_us, uint16_t *seqs,
                           size_t max) {
  int64_t retry_us = rtt_us > g->cfg.min_retry_us ? rtt_us : g->cfg.min_retry_us;
  size_t n = 0;
  size_t kept = 0;

  /* One pass: drop expired entries, compacting the array in place, and pick the
   * ones due for a request. */
  for (size_t i = 0; i < g->count; i++) {
    sb_nack_entry e = g->entries[i];
    bool too_old = now_us - e.first_missing_us >= g->cfg.max_age_us;
    bool tries_spent = e.tries >= g->cfg.max_tries && now_us - e.last_sent_us >= retry_us;
    if (too_old || tries_spent) {
      g->given_up++;
      continue;
    }
    bool due = e.tries == 0 ? now_us - e.first_missing_us >= g->cfg.reorder_delay_us
                            : now_us - e.last_sent_us >= retry_us;
    if (due && e.tries < g->cfg.max_tries && n < max) {
      seqs[n++] = e.seq;
      e.tries++;
      e.last_sent_us = now_us;
    }
    g->entries[kept++] = e;
  }
  g->count = kept;
  return n;
}

bool sb_nack_gen_take_keyframe_request(sb_nack_gen *g) {
  bool needed = g->keyframe_needed;
  g->keyframe_needed = false;
  return needed;
}

void sb_nack_gen_reset(sb_nack_gen *g) {
  g->count = 0;
}
