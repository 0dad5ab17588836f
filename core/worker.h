/* Switchboard — media workers.
 *
 * A worker is a thread running its own GMainContext. Everything of a peer (its
 * ICE agent, DTLS and SRTP state, timers) lives on one worker, and everything of
 * a room lives on the worker of the room, so the forwarding path needs no lock.
 * Other threads reach a worker only by message: sb_worker_call queues a function
 * to run on it. */
#ifndef SB_CORE_WORKER_H
#define SB_CORE_WORKER_H

#include <glib.h>
#include <stdbool.h>

typedef struct sb_worker sb_worker;

/* Starts n workers (n <= 0: one per online CPU). Returns 0 on success. */
int sb_workers_start(int n);
/* Runs the exit hooks on every worker, stops their loops and joins the threads. */
void sb_workers_stop(void);
int sb_worker_count(void);
/* Whether workers run and every one's loop has turned within max_silence_us (its
 * health timer fires every 500 ms): readiness. Main thread. */
bool sb_workers_responsive(int64_t max_silence_us);
sb_worker *sb_worker_get(int index);
/* The worker with the fewest assigned objects (see sb_worker_load_add). */
sb_worker *sb_worker_pick(void);
/* Tracks how many peers/rooms a worker carries, for sb_worker_pick. Any thread. */
void sb_worker_load_add(sb_worker *w, int delta);
int sb_worker_load(sb_worker *w);

int sb_worker_index(const sb_worker *w);
GMainContext *sb_worker_context(sb_worker *w);
/* The worker whose thread is calling, or NULL. */
sb_worker *sb_worker_current(void);
static inline bool sb_worker_is_current(sb_worker *w) { return sb_worker_current() == w; }

/* Queues fn(data) to run on w's thread, after the calls queued before it (FIFO);
 * never runs it synchronously, even when called on w. destroy(data), if given,
 * runs after fn (or instead of it when the worker has stopped). Any thread. */
void sb_worker_call(sb_worker *w, void (*fn)(void *data), void *data, void (*destroy)(void *data));
/* Like sb_worker_call but waits for fn to finish. Never call it on w itself, nor
 * while holding a lock fn may take. Meant for start-up and shutdown. */
void sb_worker_call_sync(sb_worker *w, void (*fn)(void *data), void *data);

/* Queues fn(data) on the main thread, which runs the default GMainContext (and
 * signaling on it). Any thread. */
void sb_main_call(void (*fn)(void *data), void *data, void (*destroy)(void *data));

/* Registers fn to run on every worker thread just before it exits (after the
 * last call queued). Register before sb_workers_stop. */
void sb_worker_add_exit_hook(void (*fn)(void));

#endif
