/* Switchboard — media workers. */
#include "core/worker.h"

#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/metrics.h"

#define MAX_WORKERS 256
#define MAX_EXIT_HOOKS 8
/* The health timer: how late it fires is the loop's lag (a loop busy with packets
 * or stuck in a callback fires it late); it also samples the thread's CPU time. */
#define HEALTH_INTERVAL_MS 500

struct sb_worker {
  int index;
  GThread *thread;
  GMainContext *ctx;
  GMainLoop *loop;
  gint load;
  GAsyncQueue *calls;      /* of worker_call*, drained by the wakeup source */
  GSource *wakeup;         /* a source whose ready time is set to "now" to wake the loop */
  GSource *health;         /* HEALTH_INTERVAL_MS timer on the worker */
  int64_t health_due_us;   /* worker: when the health timer should fire next */
  int64_t heartbeat_us;    /* monotonic time the health timer last ran (atomic) */
  sb_metric *m_lag;        /* switchboard_worker_loop_lag_seconds{worker} */
  sb_metric *m_cpu;        /* switchboard_worker_cpu_seconds_total{worker} */
  sb_metric *m_load;       /* switchboard_worker_load{worker} */
};

typedef struct worker_call {
  void (*fn)(void *data);
  void *data;
  void (*destroy)(void *data);
  /* For sync calls. */
  GMutex *mutex;
  GCond *cond;
  bool *done;
} worker_call;

static sb_worker *workers[MAX_WORKERS];
static int worker_n;
static gint round_robin;
static void (*exit_hooks[MAX_EXIT_HOOKS])(void);
static int exit_hook_n;
static __thread sb_worker *current_worker;

static void call_run(worker_call *c) {
  if (c->fn)
    c->fn(c->data);
  if (c->destroy)
    c->destroy(c->data);
  if (c->done) {
    g_mutex_lock(c->mutex);
    *c->done = true;
    g_cond_signal(c->cond);
    g_mutex_unlock(c->mutex);
  }
  g_free(c);
}

/* The queue is drained from a GSource woken with g_source_set_ready_time(0):
 * one allocation-free wakeup, FIFO order kept by the queue. */
static gboolean wakeup_dispatch(GSource *source, GSourceFunc cb, gpointer user_data) {
  sb_worker *w = user_data;
  g_source_set_ready_time(source, -1);
  worker_call *c;
  while ((c = g_async_queue_try_pop(w->calls)) != NULL)
    call_run(c);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs wakeup_funcs = {
  .dispatch = wakeup_dispatch,
};

static gboolean health_tick(gpointer data) {
  sb_worker *w = data;
  int64_t now = g_get_monotonic_time();
  int64_t late = now - w->health_due_us;
  sb_histogram_observe(w->m_lag, late > 0 ? (double)late / 1e6 : 0.0);
  w->health_due_us = now + HEALTH_INTERVAL_MS * 1000;
  __atomic_store_n(&w->heartbeat_us, now, __ATOMIC_RELAXED);
  struct timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
    sb_metric_set(w->m_cpu, (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
  sb_metric_set(w->m_load, g_atomic_int_get(&w->load));
  return G_SOURCE_CONTINUE;
}

static void worker_metrics(sb_worker *w) {
  /* From "fine" (a timer's millisecond of rounding) to "a stalled loop". */
  static const double lag_bounds[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5 };
  char index[16];
  g_snprintf(index, sizeof index, "%d", w->index);
  w->m_lag = sb_histogram_series("switchboard_worker_loop_lag_seconds",
                                 "How late each media worker's 500 ms timer fired (event-loop lag)",
                                 lag_bounds, G_N_ELEMENTS(lag_bounds), "worker", index);
  w->m_cpu = sb_metric_series("switchboard_worker_cpu_seconds",
                              "CPU time used by each media worker thread (sampled every 500 ms)",
                              SB_METRIC_COUNTER, "worker", index);
  sb_metric_set_scale(w->m_cpu, 1000000);
  w->m_load = sb_metric_series("switchboard_worker_load",
                               "PeerConnections and rooms carried by each media worker",
                               SB_METRIC_GAUGE, "worker", index);
}

static gpointer worker_main(gpointer data) {
  sb_worker *w = data;
  char name[24];
  g_snprintf(name, sizeof name, "worker-%d", w->index);
  sb_log_set_thread_name(name);
  current_worker = w;
  g_main_context_push_thread_default(w->ctx);
  g_main_loop_run(w->loop);
  /* Calls queued before the stop request ran before the loop quit (FIFO); run the
   * exit hooks, then anything queued since, with the worker still current. */
  for (int i = 0; i < exit_hook_n; i++)
    exit_hooks[i]();
  worker_call *c;
  while ((c = g_async_queue_try_pop(w->calls)) != NULL)
    call_run(c);
  /* Let released objects finish (e.g. ICE agents dropped from idle callbacks);
   * bounded, so a source that stays ready cannot hold up shutdown. */
  for (int i = 0; i < 1000 && g_main_context_iteration(w->ctx, FALSE); i++)
    ;
  g_main_context_pop_thread_default(w->ctx);
  current_worker = NULL;
  return NULL;
}

int sb_workers_start(int n) {
  if (n <= 0)
    n = (int)sysconf(_SC_NPROCESSORS_ONLN);
  if (n <= 0)
    n = 1;
  if (n > MAX_WORKERS)
    n = MAX_WORKERS;
  for (int i = 0; i < n; i++) {
    sb_worker *w = g_new0(sb_worker, 1);
    w->index = i;
    w->ctx = g_main_context_new();
    w->loop = g_main_loop_new(w->ctx, FALSE);
    w->calls = g_async_queue_new();
    w->wakeup = g_source_new(&wakeup_funcs, sizeof(GSource));
    g_source_set_callback(w->wakeup, NULL, w, NULL);
    g_source_set_priority(w->wakeup, G_PRIORITY_DEFAULT);
    g_source_attach(w->wakeup, w->ctx);
    worker_metrics(w);
    w->heartbeat_us = g_get_monotonic_time();
    w->health_due_us = w->heartbeat_us + HEALTH_INTERVAL_MS * 1000;
    w->health = g_timeout_source_new(HEALTH_INTERVAL_MS);
    g_source_set_callback(w->health, health_tick, w, NULL);
    g_source_attach(w->health, w->ctx);
    char name[24];
    g_snprintf(name, sizeof name, "sb-worker-%d", i);
    w->thread = g_thread_new(name, worker_main, w);
    workers[i] = w;
  }
  worker_n = n;
  sb_info("started %d media worker%s", n, n == 1 ? "" : "s");
  return 0;
}

static void worker_quit(void *data) {
  sb_worker *w = data;
  g_main_loop_quit(w->loop);
}

void sb_workers_stop(void) {
  for (int i = 0; i < worker_n; i++)
    sb_worker_call(workers[i], worker_quit, workers[i], NULL);
  for (int i = 0; i < worker_n; i++) {
    sb_worker *w = workers[i];
    g_thread_join(w->thread);
    g_source_destroy(w->wakeup);
    g_source_unref(w->wakeup);
    g_source_destroy(w->health);
    g_source_unref(w->health);
    g_main_loop_unref(w->loop);
    g_main_context_unref(w->ctx);
    g_async_queue_unref(w->calls);
    g_free(w);
    workers[i] = NULL;
  }
  worker_n = 0;
  exit_hook_n = 0;
}

int sb_worker_count(void) { return worker_n; }

bool sb_workers_responsive(int64_t max_silence_us) {
  int64_t now = g_get_monotonic_time();
  for (int i = 0; i < worker_n; i++)
    if (now - __atomic_load_n(&workers[i]->heartbeat_us, __ATOMIC_RELAXED) > max_silence_us)
      return false;
  return worker_n > 0;
}
sb_worker *sb_worker_get(int index) { return index >= 0 && index < worker_n ? workers[index] : NULL; }
int sb_worker_index(const sb_worker *w) { return w->index; }
GMainContext *sb_worker_context(sb_worker *w) { return w->ctx; }
sb_worker *sb_worker_current(void) { return current_worker; }
void sb_worker_load_add(sb_worker *w, int delta) { g_atomic_int_add(&w->load, delta); }
int sb_worker_load(sb_worker *w) { return g_atomic_int_get(&w->load); }

sb_worker *sb_worker_pick(void) {
  g_return_val_if_fail(worker_n > 0, NULL);
  /* Least loaded; ties broken round-robin so idle workers fill evenly. */
  int start = (int)((unsigned)g_atomic_int_add(&round_robin, 1) % (unsigned)worker_n);
  sb_worker *best = NULL;
  for (int k = 0; k < worker_n; k++) {
    sb_worker *w = workers[(start + k) % worker_n];
    if (best == NULL || sb_worker_load(w) < sb_worker_load(best))
      best = w;
  }
  return best;
}

void sb_worker_call(sb_worker *w, void (*fn)(void *data), void *data, void (*destroy)(void *data)) {
  worker_call *c = g_new0(worker_call, 1);
  c->fn = fn;
  c->data = data;
  c->destroy = destroy;
  g_async_queue_push(w->calls, c);
  g_source_set_ready_time(w->wakeup, 0);
  g_main_context_wakeup(w->ctx);
}

void sb_worker_call_sync(sb_worker *w, void (*fn)(void *data), void *data) {
  g_return_if_fail(!sb_worker_is_current(w));
  GMutex mutex;
  GCond cond;
  bool done = false;
  g_mutex_init(&mutex);
  g_cond_init(&cond);
  worker_call *c = g_new0(worker_call, 1);
  c->fn = fn;
  c->data = data;
  c->mutex = &mutex;
  c->cond = &cond;
  c->done = &done;
  g_async_queue_push(w->calls, c);
  g_source_set_ready_time(w->wakeup, 0);
  g_main_context_wakeup(w->ctx);
  g_mutex_lock(&mutex);
  while (!done)
    g_cond_wait(&cond, &mutex);
  g_mutex_unlock(&mutex);
  g_mutex_clear(&mutex);
  g_cond_clear(&cond);
}

void sb_worker_add_exit_hook(void (*fn)(void)) {
  g_assert(exit_hook_n < MAX_EXIT_HOOKS);
  exit_hooks[exit_hook_n++] = fn;
}

typedef struct main_call {
  void (*fn)(void *data);
  void *data;
  void (*destroy)(void *data);
} main_call;

static gboolean main_call_run(gpointer p) {
  main_call *c = p;
  c->fn(c->data);
  return G_SOURCE_REMOVE;
}

static void main_call_free(gpointer p) {
  main_call *c = p;
  if (c->destroy)
    c->destroy(c->data);
  g_free(c);
}

void sb_main_call(void (*fn)(void *data), void *data, void (*destroy)(void *data)) {
  main_call *c = g_new0(main_call, 1);
  c->fn = fn;
  c->data = data;
  c->destroy = destroy;
  GSource *s = g_idle_source_new();
  g_source_set_priority(s, G_PRIORITY_DEFAULT);
  g_source_set_callback(s, main_call_run, c, main_call_free);
  g_source_attach(s, NULL);
  g_source_unref(s);
}
