/* Switchboard — packet buffers for the forwarding path.
 *
 * A pool is a LIFO free list of released buffers (the most recently used one is
 * the most likely to still be in cache) plus counters. Buffers carry a pointer to
 * their pool so that the last unref, wherever it happens on the worker thread,
 * knows where to return them.
 *
 * Teardown: sb_pktpool_free cannot wait for every subscriber's retransmission
 * buffer to drop its references, so it frees the free list and marks the pool
 * dead. A dead pool keeps only its struct alive; each buffer released after that
 * is freed directly, and the struct itself is freed with the last of them
 * (in_use reaching 0). No buffer ever points at freed memory. */
#include "media/pktbuf.h"

#include <stdbool.h>

#include <glib.h>

struct sb_pktpool {
  sb_pktbuf *free_list;      /* released buffers, linked through next */
  size_t free_count;         /* length of free_list */
  size_t max_free;           /* free_list never grows beyond this */
  size_t in_use;             /* buffers handed out with refs > 0 */
  uint64_t allocated;        /* buffers malloc'd over the pool's life */
  uint64_t reused;           /* gets served from free_list */
  bool dead;                 /* sb_pktpool_free was called */
};

sb_pktpool *sb_pktpool_new(size_t max_free) {
  sb_pktpool *pool = g_new0(sb_pktpool, 1);
  pool->max_free = max_free;
  return pool;
}

void sb_pktpool_free(sb_pktpool *pool) {
  if (!pool)
    return;
  while (pool->free_list) {
    sb_pktbuf *b = pool->free_list;
    pool->free_list = b->next;
    g_free(b);
  }
  pool->free_count = 0;
  pool->dead = true;
  if (pool->in_use == 0)
    g_free(pool);
}

sb_pktbuf *sb_pktbuf_get(sb_pktpool *pool) {
  sb_pktbuf *b = pool->free_list;
  if (b) {
    pool->free_list = b->next;
    pool->free_count--;
    pool->reused++;
  } else {
    /* Not zeroed: data is written by the receive path before anyone reads it. */
    b = g_malloc(sizeof *b);
    b->pool = pool;
    pool->allocated++;
  }
  b->refs = 1;
  b->len = 0;
  b->next = NULL;
  b->arrival_us = 0;
  pool->in_use++;
  return b;
}

sb_pktbuf *sb_pktbuf_ref(sb_pktbuf *b) {
  b->refs++;
  return b;
}

void sb_pktbuf_unref(sb_pktbuf *b) {
  if (!b)
    return;
  g_return_if_fail(b->refs > 0);
  if (--b->refs > 0)
    return;

  sb_pktpool *pool = b->pool;
  pool->in_use--;
  if (pool->dead) {
    g_free(b);
    if (pool->in_use == 0)
      g_free(pool);
    return;
  }
  if (pool->free_count < pool->max_free) {
    b->next = pool->free_list;
    pool->free_list = b;
    pool->free_count++;
  } else {
    g_free(b);
  }
}

void sb_pktpool_get_stats(const sb_pktpool *pool, sb_pktpool_stats *out) {
  out->allocated = pool->allocated;
  out->reused = pool->reused;
  out->free_count = pool->free_count;
  out->in_use = pool->in_use;
}
