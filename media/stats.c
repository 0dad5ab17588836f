/* Switchboard — per-stream QoS statistics.
 *
 * Receive side: RFC 3550 Appendix A.1 (sequence validation and extended highest
 * sequence number), A.3 (expected, lost, fraction lost per interval) and A.8
 * (interarrival jitter), with two additions the RFC leaves to the implementer:
 * a 1024-entry bitmap of recently seen sequence numbers, so that duplicates are
 * recognised and not counted as received, and a reordering counter.
 *
 * Deviations from A.1, on purpose:
 *  - No probation. A.1 holds a new source back until MIN_SEQUENTIAL (2) packets
 *    arrive in sequence, to reject stray packets on a shared multicast port. A
 *    WebRTC stream arrives on an ICE/DTLS-SRTP association and its SSRC was
 *    signalled; every packet has passed SRTP authentication, so the first one is
 *    valid and the stream's stats start with it.
 *  - Retransmissions (rtx) may be up to 1023 sequence numbers late. A.1 treats a
 *    packet more than MAX_MISORDER (100) behind as a possible restart, and two
 *    consecutive ones as a confirmed restart. A NACK burst answered for a high
 *    bitrate stream is routinely that late and consecutive, and would reset the
 *    stream's loss accounting; libwebrtc widens its reordering threshold to 450
 *    when NACK is on for the same reason. Packets that are not retransmissions
 *    follow A.1 exactly. */
#include "media/stats.h"

#include <string.h>

#define RTP_SEQ_MOD (1u << 16)
/* RFC 3550 A.1 */
#define MAX_DROPOUT 3000
#define MAX_MISORDER 100
/* The duplicate bitmap covers this many sequence numbers up to max_seq. */
#define SEEN_WINDOW 1024

/* ---- sb_rate ---------------------------------------------------------- */

static int64_t rate_slot(int64_t now_us) {
  return now_us > 0 ? now_us / SB_RATE_SLOT_US : 0;
}

void sb_rate_init(sb_rate *r) {
  memset(r->slot_bytes, 0, sizeof r->slot_bytes);
  r->slot_index = -1;
}

void sb_rate_add(sb_rate *r, int64_t now_us, uint64_t bytes) {
  int64_t idx = rate_slot(now_us);

  if (r->slot_index < 0 || idx - r->slot_index >= SB_RATE_SLOTS) {
    /* Empty, or every slot is more than a window old. */
    memset(r->slot_bytes, 0, sizeof r->slot_bytes);
    r->slot_index = idx;
  } else if (idx > r->slot_index) {
    /* Expire the slots that fall out of the window as it moves forward. */
    for (int64_t k = r->slot_index + 1; k <= idx; k++)
      r->slot_bytes[k % SB_RATE_SLOTS] = 0;
    r->slot_index = idx;
  } else if (r->slot_index - idx >= SB_RATE_SLOTS) {
    /* A caller's clock behind the newest slot by more than the window. */
    return;
  }
  r->slot_bytes[idx % SB_RATE_SLOTS] += bytes;
}

uint64_t sb_rate_bps(const sb_rate *r, int64_t now_us) {
  if (r->slot_index < 0)
    return 0;
  int64_t idx = rate_slot(now_us);
  /* Sum the slots that are both in the window ending at idx and still held. */
  int64_t hi = idx < r->slot_index ? idx : r->slot_index;
  int64_t lo = (idx > r->slot_index ? idx : r->slot_index) - (SB_RATE_SLOTS - 1);
  if (lo < 0)
    lo = 0; /* the first second of the clock: there are no slots before 0 */
  uint64_t bytes = 0;
  for (int64_t k = lo; k <= hi; k++)
    bytes += r->slot_bytes[k % SB_RATE_SLOTS];
  /* The window is 1 s long, so bytes * 8 is already bits per second. */
  return bytes * 8;
}

/* ---- receive statistics ------------------------------------------------ */

static void seen_set(sb_recv_stats *s, uint16_t seq) {
  unsigned bit = seq % SEEN_WINDOW;
  s->seen_bitmap[bit / 64] |= UINT64_C(1) << (bit % 64);
}

static bool seen_test(const sb_recv_stats *s, uint16_t seq) {
  unsigned bit = seq % SEEN_WINDOW;
  return (s->seen_bitmap[bit / 64] >> (bit % 64)) & 1;
}

/* max_seq moves forward by delta: the numbers it passes over have not been seen
 * (yet), and their bits still describe numbers SEEN_WINDOW older. */
static void seen_advance(sb_recv_stats *s, uint16_t old_max, uint16_t delta) {
  if (delta >= SEEN_WINDOW) {
    memset(s->seen_bitmap, 0, sizeof s->seen_bitmap);
    return;
  }
  for (uint16_t i = 1; i <= delta; i++) {
    unsigned bit = (uint16_t)(old_max + i) % SEEN_WINDOW;
    s->seen_bitmap[bit / 64] &= ~(UINT64_C(1) << (bit % 64));
  }
}

/* RFC 3550 A.1 init_seq, plus the state this module keeps alongside. */
static void init_seq(sb_recv_stats *s, uint16_t seq) {
  s->base_seq = seq;
  s->max_seq = seq;
  s->bad_seq = RTP_SEQ_MOD + 1; /* so seq == bad_seq is false */
  s->cycles = 0;
  s->packets_unique = 0;
  s->lost_counted = 0;
  s->received_prior = 0;
  s->expected_prior = 0;
  memset(s->seen_bitmap, 0, sizeof s->seen_bitmap);
  seen_set(s, seq);
  /* A restarted sender may also have a new timestamp base: one transit
   * difference across the restart would be a jitter spike of nothing real. */
  s->have_transit = false;
}

void sb_recv_stats_init(sb_recv_stats *s, uint32_t clock_rate) {
  memset(s, 0, sizeof *s);
  s->clock_rate = clock_rate;
  s->bad_seq = RTP_SEQ_MOD + 1;
  sb_rate_init(&s->rate);
}

/* A packet at or behind max_seq, within the bitmap: a duplicate or a late one. */
static sb_seq_verdict account_old(sb_recv_stats *s, uint16_t seq, bool rtx) {
  if (seen_test(s, seq)) {
    s->duplicates++;
    return SB_SEQ_DUPLICATE;
  }
  seen_set(s, seq);
  s->packets_unique++;
  if (!rtx)
    s->reordered++;
  return SB_SEQ_REORDERED;
}

/* RFC 3550 A.1 update_seq, with the duplicate and retransmission handling
 * described at the top of this file. */
static sb_seq_verdict update_seq(sb_recv_stats *s, uint16_t seq, bool rtx) {
  if (!s->started) {
    s->started = true;
    init_seq(s, seq);
    s->packets_unique++;
    return SB_SEQ_IN_ORDER;
  }

  uint16_t udelta = (uint16_t)(seq - s->max_seq);
  if (udelta == 0)
    return account_old(s, seq, rtx);

  if (udelta < MAX_DROPOUT) {
    /* In order, with permissible gap. */
    seen_advance(s, s->max_seq, udelta);
    if (seq < s->max_seq)
      s->cycles += RTP_SEQ_MOD; /* sequence number wrapped */
    s->max_seq = seq;
    seen_set(s, seq);
    s->packets_unique++;
    return SB_SEQ_IN_ORDER;
  }

  bool late_rtx = rtx && udelta > RTP_SEQ_MOD - SEEN_WINDOW;
  if (udelta <= RTP_SEQ_MOD - MAX_MISORDER && !late_rtx) {
    /* The sequence number made a very large jump. */
    if (seq == s->bad_seq) {
      /* Two sequential packets: assume the other side restarted without telling
       * us, and re-sync as if this were the first packet. */
      init_seq(s, seq);
      s->packets_unique++;
      return SB_SEQ_RESTART;
    }
    s->bad_seq = (seq + 1u) & (RTP_SEQ_MOD - 1);
    return SB_SEQ_PROBATION;
  }

  /* Duplicate or reordered packet. */
  return account_old(s, seq, rtx);
}

/* Arrival time in RTP timestamp units, modulo 2^32 like the timestamps. Split in
 * seconds and remainder so that the product cannot overflow. */
static uint32_t arrival_ts(int64_t arrival_us, uint32_t clock_rate) {
  int64_t sec = arrival_us / 1000000;
  int64_t rem = arrival_us % 1000000;
  return (uint32_t)((uint64_t)sec * clock_rate + (uint64_t)(rem * clock_rate / 1000000));
}

/* RFC 3550 A.8: J += (|D(i-1,i)| - J) / 16, D from successive relative transit
 * times. The difference is taken modulo 2^32, so timestamp wraparound is fine. */
static void update_jitter(sb_recv_stats *s, uint32_t rtp_ts, int64_t arrival_us) {
  uint32_t transit = arrival_ts(arrival_us, s->clock_rate) - rtp_ts;
  if (s->have_transit) {
    int32_t d = (int32_t)(transit - (uint32_t)s->last_transit);
    double ad = d < 0 ? -(double)d : (double)d;
    s->jitter += (ad - s->jitter) / 16.0;
  }
  s->last_transit = transit;
  s->have_transit = true;
}

sb_seq_verdict sb_recv_stats_update(sb_recv_stats *s, uint16_t seq, uint32_t rtp_ts,
                                    int64_t arrival_us, uint32_t bytes, bool rtx) {
  s->packets++;
  s->bytes += bytes;
  s->last_packet_us = arrival_us;
  sb_rate_add(&s->rate, arrival_us, bytes);

  sb_seq_verdict v = update_seq(s, seq, rtx);
  /* Only an RTX packet that fills a hole recovers something; senders also use
   * RTX to probe bandwidth with packets the receiver already has. */
  if (rtx && v != SB_SEQ_DUPLICATE)
    s->retransmissions++;

  /* A retransmission was sent late on purpose and a duplicate is the same
   * packet again: neither says anything about the network's jitter. A packet A.1
   * did not accept (PROBATION) may come from a different timeline. */
  if (!rtx && s->clock_rate && (v == SB_SEQ_IN_ORDER || v == SB_SEQ_REORDERED ||
                                v == SB_SEQ_RESTART))
    update_jitter(s, rtp_ts, arrival_us);
  return v;
}

uint32_t sb_recv_stats_ext_max_seq(const sb_recv_stats *s) {
  return s->cycles + s->max_seq;
}

uint32_t sb_recv_stats_expected(const sb_recv_stats *s) {
  if (!s->started)
    return 0;
  /* RFC 3550 A.3 */
  return sb_recv_stats_ext_max_seq(s) - s->base_seq + 1;
}

int64_t sb_recv_stats_cumulative_lost(const sb_recv_stats *s) {
  return (int64_t)sb_recv_stats_expected(s) - (int64_t)s->packets_unique;
}

double sb_recv_stats_jitter_ms(const sb_recv_stats *s) {
  if (!s->clock_rate)
    return 0.0;
  return s->jitter * 1000.0 / s->clock_rate;
}

uint64_t sb_recv_stats_take_lost(sb_recv_stats *s) {
  int64_t lost = sb_recv_stats_cumulative_lost(s);
  if (lost <= s->lost_counted)
    return 0;
  uint64_t grown = (uint64_t)(lost - s->lost_counted);
  s->lost_counted = lost;
  return grown;
}

void sb_recv_stats_report(sb_recv_stats *s, sb_rtcp_report_block *out) {
  /* RFC 3550 A.3 */
  uint32_t expected = sb_recv_stats_expected(s);
  uint32_t received = (uint32_t)s->packets_unique;

  uint32_t expected_interval = expected - s->expected_prior;
  s->expected_prior = expected;
  uint32_t received_interval = received - s->received_prior;
  s->received_prior = received;
  int64_t lost_interval = (int64_t)expected_interval - (int64_t)received_interval;

  uint32_t fraction = 0;
  if (expected_interval != 0 && lost_interval > 0)
    fraction = (uint32_t)(((uint64_t)lost_interval << 8) / expected_interval);
  s->fraction_lost = fraction > 255 ? 255 : (uint8_t)fraction;

  /* §6.4.1: cumulative number of packets lost is a signed 24-bit field. */
  int64_t lost = sb_recv_stats_cumulative_lost(s);
  if (lost > 0x7fffff)
    lost = 0x7fffff;
  else if (lost < -0x800000)
    lost = -0x800000;

  out->fraction_lost = s->fraction_lost;
  out->cumulative_lost = (int32_t)lost;
  out->ext_highest_seq = s->started ? sb_recv_stats_ext_max_seq(s) : 0;
  out->jitter = (uint32_t)s->jitter;
}

/* ---- send statistics ---------------------------------------------------- */

void sb_send_stats_init(sb_send_stats *s, uint32_t clock_rate) {
  memset(s, 0, sizeof *s);
  s->clock_rate = clock_rate;
  s->rtt_ms = -1;
  sb_rate_init(&s->rate);
}

void sb_send_stats_on_send(sb_send_stats *s, uint32_t rtp_ts, int64_t now_us, uint32_t bytes,
                           bool retransmission) {
  sb_rate_add(&s->rate, now_us, bytes);
  if (retransmission) {
    s->retransmissions++;
    s->retransmitted_bytes += bytes;
    return;
  }
  s->packets++;
  s->bytes += bytes;
  s->last_rtp_ts = rtp_ts;
  s->last_send_us = now_us;
}

void sb_send_stats_on_report(sb_send_stats *s, const sb_rtcp_report_block *b,
                             uint32_t now_ntp_mid) {
  s->remote_fraction_lost = b->fraction_lost;
  s->remote_cumulative_lost = b->cumulative_lost;
  s->remote_jitter = b->jitter;

  /* RFC 3550 §6.4.1: LSR = 0 means the receiver has had no SR from us yet. */
  if (b->lsr == 0)
    return;
  /* A - LSR is the time since our SR went out, in 1/65536 s; read modulo 2^32 it
   * must not be negative (a report from before the SR, or clocks gone wrong). */
  int32_t since_sr = (int32_t)(now_ntp_mid - b->lsr);
  if (since_sr < 0)
    return;
  int64_t rtt = (int64_t)since_sr - (int64_t)b->dlsr;
  if (rtt < 0)
    return;
  /* 1/65536 s to ms, rounded to nearest. */
  s->rtt_ms = (int32_t)((rtt * 1000 + 32768) >> 16);
}

double sb_send_stats_remote_jitter_ms(const sb_send_stats *s) {
  if (!s->clock_rate)
    return 0.0;
  return s->remote_jitter * 1000.0 / s->clock_rate;
}
