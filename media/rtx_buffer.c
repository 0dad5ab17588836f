/* Switchboard — retransmission buffer of an outgoing stream.
 *
 * A direct-mapped ring: the slot of a sequence number is seq & (size - 1), so a
 * store and a lookup are one index each and the slot array is allocated once, at
 * init. Sequence numbers are sent in order, so a slot is overwritten exactly when
 * its number falls out of the last `size` sent; a slot remembers its own seq, so a
 * NACK for a number that was overwritten (or never sent) finds a mismatch. */
#include "media/rtx_buffer.h"

#include <string.h>

#include <glib.h>

#define MAX_SIZE 32768u

void sb_rtx_buffer_init(sb_rtx_buffer *b, uint16_t size, int64_t max_age_us) {
  memset(b, 0, sizeof *b);
  b->max_age_us = max_age_us;
  if (size == 0)
    return;
  uint32_t n = 1;
  while (n < size && n < MAX_SIZE)
    n <<= 1;
  b->size = (uint16_t)n;
  b->slots = g_new0(sb_rtx_entry, n);
}

void sb_rtx_buffer_clear(sb_rtx_buffer *b) {
  for (uint32_t i = 0; i < b->size; i++)
    sb_pktbuf_unref(b->slots[i].pkt);
  g_free(b->slots);
  b->slots = NULL;
  b->size = 0;
}

void sb_rtx_buffer_store(sb_rtx_buffer *b, sb_pktbuf *pkt, uint16_t seq, uint32_t ts,
                         int64_t now_us) {
  if (b->size == 0)
    return;
  sb_rtx_entry *e = &b->slots[seq & (b->size - 1)];
  /* Take the new reference before dropping the old one: they may be the same
   * buffer (one packet stored again under another number). */
  sb_pktbuf_ref(pkt);
  sb_pktbuf_unref(e->pkt);
  e->pkt = pkt;
  e->seq = seq;
  e->ts = ts;
  e->sent_us = now_us;
  e->resent_us = 0;
}

sb_rtx_entry *sb_rtx_buffer_get(sb_rtx_buffer *b, uint16_t seq, int64_t now_us) {
  if (b->size == 0)
    return NULL;
  sb_rtx_entry *e = &b->slots[seq & (b->size - 1)];
  if (!e->pkt || e->seq != seq)
    return NULL;
  /* Too old to help the receiver's jitter buffer; also guards against a number
   * that came round again after 2^16 packets without this slot being reused. */
  if (now_us - e->sent_us > b->max_age_us)
    return NULL;
  return e;
}
