/* Switchboard — packet buffers for the forwarding path.
 *
 * A received packet is decrypted once into an sb_pktbuf taken from its worker's
 * pool; the buffer is then shared, by reference count, by every subscriber's
 * retransmission buffer that may need to send it again. Nothing on the hot path
 * calls malloc: buffers come from and return to a free list.
 *
 * A pool and its buffers belong to one worker thread; reference counts are not
 * atomic and must only be touched on that thread. */
#ifndef SB_MEDIA_PKTBUF_H
#define SB_MEDIA_PKTBUF_H

#include <stddef.h>
#include <stdint.h>

/* Largest datagram the media path accepts (an Ethernet MTU and then some). */
#define SB_PKTBUF_DATA 1600

typedef struct sb_pktpool sb_pktpool;

typedef struct sb_pktbuf {
  uint32_t refs;             /* owners; the buffer returns to its pool at zero */
  uint16_t len;              /* bytes used in data */
  sb_pktpool *pool;          /* the pool it returns to */
  struct sb_pktbuf *next;    /* free-list link while in the pool */
  int64_t arrival_us;        /* monotonic time the packet was received */
  uint8_t data[SB_PKTBUF_DATA];
} sb_pktbuf;

/* A pool keeps at most max_free released buffers for reuse and frees the rest. */
sb_pktpool *sb_pktpool_new(size_t max_free);
/* Frees the pool's free list. Buffers still referenced stay valid; when their last
 * reference goes they are freed directly, and the pool's own struct goes with the
 * last of them. The caller must not use pool afterwards (get, stats). NULL is a no-op. */
void sb_pktpool_free(sb_pktpool *pool);

/* A buffer with refs = 1 and len = 0. Never returns NULL (aborts on OOM like GLib). */
sb_pktbuf *sb_pktbuf_get(sb_pktpool *pool);
sb_pktbuf *sb_pktbuf_ref(sb_pktbuf *b);
/* Drops one reference; at zero the buffer goes back to the free list (or is freed
 * when the list is full or the pool was freed). NULL is a no-op. */
void sb_pktbuf_unref(sb_pktbuf *b);

/* Counters for tests and metrics. */
typedef struct sb_pktpool_stats {
  uint64_t allocated;        /* buffers malloc'd over the pool's life */
  uint64_t reused;           /* gets served from the free list */
  size_t free_count;         /* buffers in the free list now */
  size_t in_use;             /* buffers handed out and not yet returned */
} sb_pktpool_stats;
void sb_pktpool_get_stats(const sb_pktpool *pool, sb_pktpool_stats *out);

#endif
