/* Switchboard — retransmission buffer of an outgoing stream.
 *
 * Remembers, for each recently sent sequence number (the subscriber's numbering),
 * the shared packet buffer it came from and how it was rewritten, so that a NACK
 * can be answered by rewriting the same packet again. Holds references, not
 * copies: a publisher's packet is stored once however many subscribers keep it. */
#ifndef SB_MEDIA_RTX_BUFFER_H
#define SB_MEDIA_RTX_BUFFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pktbuf.h"

typedef struct sb_rtx_entry {
  sb_pktbuf *pkt;            /* the source packet as received (plaintext), or NULL */
  uint16_t seq;              /* sequence number it was sent with */
  uint32_t ts;               /* timestamp it was sent with */
  int64_t sent_us;           /* monotonic time of the first send */
  int64_t resent_us;         /* monotonic time of the last retransmission, 0 if none */
} sb_rtx_entry;

typedef struct sb_rtx_buffer {
  sb_rtx_entry *slots;       /* size entries, indexed by seq % size; NULL when disabled */
  uint16_t size;             /* a power of two, at most 32768; 0 = disabled */
  int64_t max_age_us;        /* entries older than this are not resent */
} sb_rtx_buffer;

/* size is rounded up to a power of two, at most 32768 (0 disables the buffer:
 * store does nothing and get finds nothing). Allocates the slots once. */
void sb_rtx_buffer_init(sb_rtx_buffer *b, uint16_t size, int64_t max_age_us);
/* Drops every reference and frees the slots; the buffer is disabled until the
 * next init. Safe to call again. */
void sb_rtx_buffer_clear(sb_rtx_buffer *b);
/* Stores pkt (taking a new reference) as sent with seq/ts at now_us, replacing
 * whatever the slot held. */
void sb_rtx_buffer_store(sb_rtx_buffer *b, sb_pktbuf *pkt, uint16_t seq, uint32_t ts, int64_t now_us);
/* The entry sent with seq, if still held and not older than max_age; else NULL.
 * The caller may set resent_us on it; the entry stays valid until the next store
 * or clear. */
sb_rtx_entry *sb_rtx_buffer_get(sb_rtx_buffer *b, uint16_t seq, int64_t now_us);

#endif
