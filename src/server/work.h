/*
 * work.h: a small pool of worker threads for CPU-heavy work (password
 * hashing) so it never runs on the event loop.
 *
 * A job is (run, done, arg): run(arg) executes on a worker thread and must
 * touch only what arg owns (no SQLite, no h2o, no shared app state);
 * done(arg, cancelled) runs later on the thread that calls work_pool_complete
 * (the loop thread, woken through work_pool_fd), with cancelled = 1 when the
 * pool was shut down before run started (run was never called). done is
 * called exactly once for every job whose work_submit returned 0, and never
 * for one whose work_submit failed; done owns arg from then on.
 */
#ifndef RG_WORK_H
#define RG_WORK_H
#include <stddef.h>

struct work_pool;
typedef void (*work_run_fn)(void *arg);
typedef void (*work_done_fn)(void *arg, int cancelled);

#define WORK_MAX_THREADS 64

/* Default thread count: the number of online CPUs, capped at 4 (at least 1). */
unsigned work_default_threads(void);

/*
 * Starts nthreads (1..WORK_MAX_THREADS) workers with a queue of at most
 * max_queue jobs waiting. Returns 0, RG_EINVAL or RG_ENOMEM / RG_EIO.
 */
int work_pool_new(unsigned nthreads, size_t max_queue, struct work_pool **out);

/* An fd (eventfd) that becomes readable when finished jobs wait for work_pool_complete. Owned by the pool. */
int work_pool_fd(const struct work_pool *pool);

/* Queues a job. 0, or RG_ETOOBIG when the queue is full, RG_EINVAL after shutdown. Loop thread only. */
int work_submit(struct work_pool *pool, work_run_fn run, work_done_fn done, void *arg);

/* Runs done() of every finished job (loop thread); returns how many ran. Never blocks. */
size_t work_pool_complete(struct work_pool *pool);

/* Jobs queued or running right now (for metrics and tests). */
size_t work_pool_busy(const struct work_pool *pool);

/*
 * Stops the pool: queued jobs are cancelled (done(arg, 1)), running ones
 * finish and get done(arg, 0); all of it before this returns. Further
 * submits fail. Loop thread; idempotent.
 */
void work_pool_shutdown(struct work_pool *pool);

/* Shuts down (if not yet) and frees. NULL is fine. */
void work_pool_free(struct work_pool *pool);
#endif
