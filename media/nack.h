/* Switchboard — NACK generation for an incoming stream (RFC 4585 §6.2.1).
 *
 * The generator watches sequence numbers as they arrive, remembers the missing
 * ones, and says which to ask for now: first after a short reordering delay, then
 * again every retry interval (at least one RTT), up to a number of tries and a
 * maximum age, after which a lost packet is given up. When too much is missing
 * (a burst longer than the window) it asks for a keyframe instead. Fixed memory,
 * no allocation. */
#ifndef SB_MEDIA_NACK_H
#define SB_MEDIA_NACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SB_NACK_MAX_MISSING 256     /* sequence numbers tracked at once */

typedef struct sb_nack_config {
  int64_t reorder_delay_us;   /* wait before the first request (default 10 ms) */
  int64_t min_retry_us;       /* floor of the retry interval (default 20 ms) */
  int64_t max_age_us;         /* give up a packet after this long (default 1 s) */
  uint8_t max_tries;          /* requests per packet (default 10) */
} sb_nack_config;

typedef struct sb_nack_entry {
  uint16_t seq;
  uint8_t tries;
  int64_t first_missing_us;
  int64_t last_sent_us;       /* 0 before the first request */
} sb_nack_entry;

typedef struct sb_nack_gen {
  sb_nack_config cfg;
  bool started;
  uint16_t newest_seq;
  size_t count;               /* entries in use, ordered oldest first */
  sb_nack_entry entries[SB_NACK_MAX_MISSING];
  bool keyframe_needed;       /* set when a gap overflowed the window */
  uint64_t recovered;         /* missing packets that later arrived */
  uint64_t given_up;          /* dropped: max_age, max_tries, pushed out of a full
                                 window, or abandoned for a keyframe */
} sb_nack_gen;

/* cfg may be NULL for the defaults. */
void sb_nack_gen_init(sb_nack_gen *g, const sb_nack_config *cfg);
/* Accounts an arriving sequence number (original numbering, after RTX unwrap).
 * Returns true when the packet was one we were missing. A gap longer than
 * SB_NACK_MAX_MISSING sets keyframe_needed and forgets the missing list; a shorter
 * gap that does not fit in the free entries pushes the oldest ones out. */
bool sb_nack_gen_on_packet(sb_nack_gen *g, uint16_t seq, int64_t now_us);
/* Writes (at most max) the sequence numbers to request now and marks them sent.
 * rtt_us <= 0 means unknown. Entries past max age, or whose last try has gone
 * unanswered for a retry interval, are dropped here. Oldest first: when more are
 * due than max, the rest are due at the next call. */
size_t sb_nack_gen_collect(sb_nack_gen *g, int64_t now_us, int64_t rtt_us, uint16_t *seqs,
                           size_t max);
/* True once if a keyframe should be requested instead of NACKs (clears the flag). */
bool sb_nack_gen_take_keyframe_request(sb_nack_gen *g);
/* Forget all missing packets (e.g. after a keyframe made them useless). A pending
 * keyframe request stays pending. */
void sb_nack_gen_reset(sb_nack_gen *g);

#endif
