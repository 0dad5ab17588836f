/* Switchboard — continuity of an outgoing stream across source changes.
 *
 * A subscriber's stream has one SSRC and continuous sequence numbers and
 * timestamps, whatever feeds it: a publisher that unpublishes and republishes,
 * a switch to another publisher or simulcast layer. The rewriter maps each
 * source packet's (seq, ts) into the outgoing numbering: within one source by a
 * fixed offset; at a switch, the new source's first packet follows the last one
 * sent (seq + 1, ts advanced by the wall-clock time elapsed), so the receiver
 * sees neither a gap nor a jump. */
#ifndef SB_MEDIA_REWRITE_H
#define SB_MEDIA_REWRITE_H

#include <stdbool.h>
#include <stdint.h>

/* A source packet more than this far from the source's newest sequence number,
 * either way, is taken as the source restarting its numbering (RFC 3550 A.1
 * MAX_DROPOUT): it starts a new source, as sb_rewriter_switch would. */
#define SB_REWRITE_MAX_JUMP 3000

typedef struct sb_rewriter {
  uint32_t clock_rate;
  bool started;               /* something has been mapped */
  bool switching;             /* the next packet starts a new source */
  uint32_t src_ssrc;          /* the current source */
  uint16_t seq_offset;        /* out = src + offset (mod 2^16) */
  uint32_t ts_offset;         /* out = src + offset (mod 2^32) */
  uint16_t last_seq;          /* newest outgoing sequence number (initial_seq - 1
                                 before the first packet) */
  uint32_t last_ts;           /* its timestamp (initial_ts before the first packet) */
  int64_t last_us;            /* monotonic time of that packet */
  uint16_t src_max_seq;       /* newest source sequence number seen */
  uint16_t src_floor_seq;     /* oldest source sequence number still mapped: the
                                 source's first packet, or src_max_seq -
                                 SB_REWRITE_MAX_JUMP once past that */
} sb_rewriter;

/* initial_seq / initial_ts: the first outgoing values (random per RFC 3550 §5.1). */
void sb_rewriter_init(sb_rewriter *r, uint32_t clock_rate, uint16_t initial_seq,
                      uint32_t initial_ts);
/* Marks the next packet as the start of a new source (even with the same SSRC,
 * e.g. a republish whose numbering starts afresh). */
void sb_rewriter_switch(sb_rewriter *r);
/* Maps one source packet. A packet from an SSRC other than the current source
 * starts a new source by itself, as does a sequence jump of more than
 * SB_REWRITE_MAX_JUMP. Returns false when the packet is older than the current
 * source's start (it must not be sent: it would go out of order across a switch).
 * Within a source, reordered packets and retransmissions map by the same offset
 * as the rest; only a packet newer than last_seq moves last_seq/last_ts/last_us. */
bool sb_rewriter_map(sb_rewriter *r, uint32_t src_ssrc, uint16_t src_seq, uint32_t src_ts,
                     int64_t now_us, uint16_t *out_seq, uint32_t *out_ts);

#endif
