/* Switchboard — per-stream QoS statistics.
 *
 * sb_recv_stats follows one incoming RTP stream: RFC 3550 A.1 sequence tracking
 * (extended highest sequence, loss, duplicates, reordering), A.8 interarrival
 * jitter, A.3 fraction lost per report interval, and a 1 s bitrate window.
 * sb_send_stats follows one outgoing stream and what the receiver's reports say
 * of it (loss, jitter, RTT). Both are plain structs updated on the worker that
 * owns the stream; readers on other threads get copies. */
#ifndef SB_MEDIA_STATS_H
#define SB_MEDIA_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "rtcp.h"

/* Bytes over a sliding window of 1 s, kept as 10 slots of 100 ms. Slot k holds the
 * bytes added at times in [k * 100 ms, (k + 1) * 100 ms); times are monotonic and
 * not negative (g_get_monotonic_time). */
#define SB_RATE_SLOTS 10
#define SB_RATE_SLOT_US 100000

typedef struct sb_rate {
  uint64_t slot_bytes[SB_RATE_SLOTS];
  int64_t slot_index;        /* index (time / slot length) of the newest slot, -1 when empty */
} sb_rate;

void sb_rate_init(sb_rate *r);
void sb_rate_add(sb_rate *r, int64_t now_us, uint64_t bytes);
/* Bits per second over the last second ending at now_us: the bytes of the slot
 * holding now_us and of the nine before it, times 8, over a fixed 1 s. The current
 * slot is partly elapsed, so a steady stream reads up to 10% low just after a slot
 * boundary; a stream that stopped reads 0 one second later. */
uint64_t sb_rate_bps(const sb_rate *r, int64_t now_us);

/* What sb_recv_stats_update decided about a packet. */
typedef enum {
  SB_SEQ_IN_ORDER = 0,       /* newest so far (possibly after a gap) */
  SB_SEQ_REORDERED,          /* older than the newest, not seen before */
  SB_SEQ_DUPLICATE,          /* seen before (within the last 1024 sequence numbers) */
  SB_SEQ_RESTART,            /* a jump too large: stats restarted at this packet (A.1) */
  SB_SEQ_PROBATION,          /* after a very large jump: not counted until the next
                                packet confirms a restart (A.1 bad_seq). A stream is
                                valid from its first packet: no MIN_SEQUENTIAL wait */
} sb_seq_verdict;

typedef struct sb_recv_stats {
  uint32_t clock_rate;       /* RTP timestamp units per second */

  /* RFC 3550 A.1 */
  uint16_t max_seq;
  uint32_t cycles;           /* count of wraparounds << 16 */
  uint32_t base_seq;
  uint32_t bad_seq;          /* seq expected after a large jump, to confirm a restart */
  bool started;
  uint32_t expected_prior;   /* A.3 state for the next report */
  uint32_t received_prior;
  uint64_t seen_bitmap[16];  /* the last 1024 sequence numbers, for duplicates */

  /* RFC 3550 A.8 */
  double jitter;             /* timestamp units */
  int64_t last_transit;
  bool have_transit;

  /* counters */
  uint64_t packets;          /* every packet given to update: retransmissions, duplicates
                                and uncounted (PROBATION) ones included */
  uint64_t bytes;            /* RTP bytes (header and payload) of those packets */
  uint64_t packets_unique;   /* distinct sequence numbers received since the stream
                                (re)started (A.1 "received") */
  uint64_t duplicates;
  uint64_t reordered;        /* late, not seen before, not a retransmission */
  uint64_t retransmissions;  /* RTX packets that filled a hole (duplicates not counted) */
  uint64_t frames;           /* video: packets with the marker bit */
  uint64_t keyframes;
  uint64_t nacks_sent;       /* sequence numbers requested */
  uint64_t plis_sent;
  uint64_t firs_sent;
  uint8_t fraction_lost;     /* of the last report interval, /256 */
  int64_t last_packet_us;    /* monotonic time of the last packet, 0 before any */
  sb_rate rate;              /* bytes of every packet given to update */
  int64_t lost_counted;      /* the highest cumulative loss sb_recv_stats_take_lost gave out */
} sb_recv_stats;

void sb_recv_stats_init(sb_recv_stats *s, uint32_t clock_rate);
/* Accounts one packet (bytes of RTP). arrival_us is monotonic time. rtx is true for
 * a retransmission: its jitter is not sampled, it does not count as reordered, and
 * it may arrive up to 1023 sequence numbers late without looking like a restart. */
sb_seq_verdict sb_recv_stats_update(sb_recv_stats *s, uint16_t seq, uint32_t rtp_ts,
                                    int64_t arrival_us, uint32_t bytes, bool rtx);
uint32_t sb_recv_stats_ext_max_seq(const sb_recv_stats *s);
/* Expected minus received since the first packet (may be negative with duplicates). */
int64_t sb_recv_stats_cumulative_lost(const sb_recv_stats *s);
uint32_t sb_recv_stats_expected(const sb_recv_stats *s);
double sb_recv_stats_jitter_ms(const sb_recv_stats *s);
/* Loss not yet accounted for in a process-wide counter: the growth of the
 * cumulative loss since the last call, 0 when it did not grow (packets that
 * arrive late or are recovered lower it: they are not counted twice). Restarts
 * with the sequence (A.1 init_seq). */
uint64_t sb_recv_stats_take_lost(sb_recv_stats *s);
/* Fills a report block for an RR and starts a new A.3 interval: fraction_lost is
 * updated too. ssrc, lsr and dlsr are the caller's: they are left untouched. */
void sb_recv_stats_report(sb_recv_stats *s, sb_rtcp_report_block *out);

typedef struct sb_send_stats {
  uint32_t clock_rate;
  uint64_t packets;          /* media packets sent, retransmissions excluded */
  uint64_t bytes;            /* of those media packets */
  uint64_t retransmissions;  /* packets sent again (RTX or plain) */
  uint64_t retransmitted_bytes;
  uint64_t nacks_received;   /* sequence numbers asked for */
  uint64_t nacks_missed;     /* asked for but no longer (or never) held */
  uint64_t plis_received;
  uint64_t firs_received;
  uint64_t frames;
  uint64_t keyframes;
  uint32_t last_rtp_ts;      /* of the newest packet sent */
  int64_t last_send_us;      /* monotonic time of that packet, 0 before any */
  /* from the receiver's reports */
  uint8_t remote_fraction_lost;
  int32_t remote_cumulative_lost;
  uint32_t remote_jitter;    /* timestamp units */
  int32_t rtt_ms;            /* -1 until measured; the latest sample, not smoothed */
  uint64_t remb_bps;         /* last REMB that named this stream, 0 if none */
  sb_rate rate;              /* all bytes sent, retransmissions included */
} sb_send_stats;

void sb_send_stats_init(sb_send_stats *s, uint32_t clock_rate);
void sb_send_stats_on_send(sb_send_stats *s, uint32_t rtp_ts, int64_t now_us, uint32_t bytes,
                           bool retransmission);
/* Applies a report block about this stream. now_ntp_mid is the middle 32 bits of
 * the NTP time the report arrived (RFC 3550 §6.4.1: RTT = A - LSR - DLSR). The RTT
 * is left as it was when lsr is 0 (no SR received yet) or the result is negative. */
void sb_send_stats_on_report(sb_send_stats *s, const sb_rtcp_report_block *b, uint32_t now_ntp_mid);
double sb_send_stats_remote_jitter_ms(const sb_send_stats *s);

#endif
