/* Switchboard — continuity of an outgoing stream across source changes.
 *
 * Within a source the mapping is a constant offset, so reordering, loss and
 * retransmissions of the source show through unchanged: the subscriber's NACKs
 * name numbers the rtx buffer can find. At a source change the offsets are
 * recomputed so that the first packet of the new source gets the sequence number
 * after the newest one sent, and a timestamp advanced by the wall-clock time since
 * that packet: RTP timestamps keep tracking real time (RFC 3550 §5.1), so the
 * receiver's jitter buffer and A/V sync see a pause, never time going back.
 *
 * A packet older than the current source's first packet is refused: its number
 * would fall at or before the previous source's last one and reach the receiver
 * as a late duplicate of some other packet.
 *
 * A packet more than SB_REWRITE_MAX_JUMP from the source's newest one, either way,
 * is not refused but taken as the source having restarted its numbering on the
 * same SSRC without a sb_rewriter_switch: no real stream reorders by thousands of
 * packets, and refusing would silence a restarted source for good (RFC 3550 A.1
 * reasons the same way with MAX_DROPOUT). A source that restarts fewer than
 * SB_REWRITE_MAX_JUMP numbers below its newest is refused until it passes it
 * again; a republish is expected to call sb_rewriter_switch. */
#include "media/rewrite.h"

void sb_rewriter_init(sb_rewriter *r, uint32_t clock_rate, uint16_t initial_seq,
                      uint32_t initial_ts) {
  *r = (sb_rewriter){
    .clock_rate = clock_rate,
    /* The first source then starts at last_seq + 1 = initial_seq, and at last_ts
     * without any advance (nothing was sent before it). */
    .last_seq = (uint16_t)(initial_seq - 1),
    .last_ts = initial_ts,
  };
}

void sb_rewriter_switch(sb_rewriter *r) {
  r->switching = true;
}

/* Timestamp units in elapsed_us, at least 1 so that the new source's first frame
 * is strictly later than the last one sent, and less than 2^31 so that the
 * receiver cannot read the advance as a step backwards (modulo 2^32). */
static uint32_t ts_advance(uint32_t clock_rate, int64_t elapsed_us) {
  if (elapsed_us <= 0)
    return 1;
  uint64_t sec = (uint64_t)(elapsed_us / 1000000);
  uint64_t rem = (uint64_t)(elapsed_us % 1000000);
  uint64_t units = sec * clock_rate + rem * clock_rate / 1000000;
  if (units < 1)
    return 1;
  if (units > INT32_MAX)
    return INT32_MAX;
  return (uint32_t)units;
}

static void start_source(sb_rewriter *r, uint32_t src_ssrc, uint16_t src_seq, uint32_t src_ts,
                         int64_t now_us) {
  uint16_t out_seq = (uint16_t)(r->last_seq + 1);
  uint32_t out_ts = r->last_ts;
  if (r->started)
    out_ts += ts_advance(r->clock_rate, now_us - r->last_us);

  r->seq_offset = (uint16_t)(out_seq - src_seq);
  r->ts_offset = out_ts - src_ts;
  r->src_ssrc = src_ssrc;
  r->src_max_seq = src_seq;
  r->src_floor_seq = src_seq;
  r->started = true;
  r->switching = false;
}

bool sb_rewriter_map(sb_rewriter *r, uint32_t src_ssrc, uint16_t src_seq, uint32_t src_ts,
                     int64_t now_us, uint16_t *out_seq, uint32_t *out_ts) {
  if (!r->started || r->switching || src_ssrc != r->src_ssrc) {
    start_source(r, src_ssrc, src_seq, src_ts, now_us);
  } else {
    int16_t delta = (int16_t)(uint16_t)(src_seq - r->src_max_seq);
    if (delta > SB_REWRITE_MAX_JUMP || delta < -SB_REWRITE_MAX_JUMP) {
      start_source(r, src_ssrc, src_seq, src_ts, now_us);
    } else if (delta < 0) {
      uint16_t behind = (uint16_t)-delta;
      if (behind > (uint16_t)(r->src_max_seq - r->src_floor_seq))
        return false;
    } else if (delta > 0) {
      r->src_max_seq = src_seq;
      /* Keep the floor within the reordering window, so that the distance from
       * it stays meaningful however long the source runs. */
      if ((uint16_t)(r->src_max_seq - r->src_floor_seq) > SB_REWRITE_MAX_JUMP)
        r->src_floor_seq = (uint16_t)(r->src_max_seq - SB_REWRITE_MAX_JUMP);
    }
  }

  uint16_t seq = (uint16_t)(src_seq + r->seq_offset);
  uint32_t ts = src_ts + r->ts_offset;
  /* Only the newest packet moves the reference point of the next switch; a
   * reordered or retransmitted one must not pull it back. */
  if ((int16_t)(uint16_t)(seq - r->last_seq) > 0) {
    r->last_seq = seq;
    r->last_ts = ts;
    r->last_us = now_us;
  }
  *out_seq = seq;
  *out_ts = ts;
  return true;
}
