/*
 * work.c: the worker pool (work.h). One mutex guards a FIFO of queued jobs
 * and a list of finished ones; workers wait on a condition variable; a
 * finished job is announced to the loop by writing the pool's eventfd, which
 * the loop watches (no polling).
 */
#include "server/work.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/err.h"

struct job {
    work_run_fn run;
    work_done_fn done;
    void *arg;
    int cancelled;
    struct job *next;
};

struct work_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct job *qhead, *qtail; /* queued, FIFO */
    struct job *dhead, *dtail; /* finished, waiting for work_pool_complete */
    size_t nqueued, nrunning, max_queue;
    int stopping, stopped;
    int efd;
    unsigned nthreads;
    pthread_t threads[WORK_MAX_THREADS];
};

unsigned work_default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    return n > 4 ? 4u : (unsigned)n;
}

static void wake_loop(struct work_pool *p)
{
    uint64_t one = 1;
    while (write(p->efd, &one, sizeof one) < 0 && errno == EINTR)
        ;
}

/* With p->mu held. */
static void push_done(struct work_pool *p, struct job *j)
{
    j->next = NULL;
    if (p->dtail)
        p->dtail->next = j;
    else
        p->dhead = j;
    p->dtail = j;
}

static void *worker(void *vp)
{
    struct work_pool *p = vp;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->qhead && !p->stopping)
            pthread_cond_wait(&p->cv, &p->mu);
        if (!p->qhead)
            break;
        struct job *j = p->qhead;
        p->qhead = j->next;
        if (!p->qhead)
            p->qtail = NULL;
        p->nqueued--;
        p->nrunning++;
        pthread_mutex_unlock(&p->mu);
        j->run(j->arg);
        pthread_mutex_lock(&p->mu);
        p->nrunning--;
        push_done(p, j);
        wake_loop(p);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int work_pool_new(unsigned nthreads, size_t max_queue, struct work_pool **out)
{
    if (nthreads < 1 || nthreads > WORK_MAX_THREADS || max_queue < 1)
        return RG_EINVAL;
    struct work_pool *p = calloc(1, sizeof *p);
    if (!p)
        return RG_ENOMEM;
    p->max_queue = max_queue;
    p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (p->efd < 0) {
        free(p);
        return RG_EIO;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    for (unsigned i = 0; i < nthreads; i++) {
        if (pthread_create(&p->threads[i], NULL, worker, p)) {
            work_pool_free(p);
            return RG_EIO;
        }
        p->nthreads++;
    }
    *out = p;
    return 0;
}

int work_pool_fd(const struct work_pool *pool)
{
    return pool->efd;
}

int work_submit(struct work_pool *p, work_run_fn run, work_done_fn done, void *arg)
{
    struct job *j = malloc(sizeof *j);
    if (!j)
        return RG_ENOMEM;
    *j = (struct job){.run = run, .done = done, .arg = arg};
    pthread_mutex_lock(&p->mu);
    int rc = p->stopping ? RG_EINVAL : p->nqueued >= p->max_queue ? RG_ETOOBIG : 0;
    if (!rc) {
        if (p->qtail)
            p->qtail->next = j;
        else
            p->qhead = j;
        p->qtail = j;
        p->nqueued++;
        pthread_cond_signal(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    if (rc)
        free(j);
    return rc;
}

size_t work_pool_complete(struct work_pool *p)
{
    uint64_t n;
    while (read(p->efd, &n, sizeof n) < 0 && errno == EINTR)
        ;
    pthread_mutex_lock(&p->mu);
    struct job *j = p->dhead;
    p->dhead = p->dtail = NULL;
    pthread_mutex_unlock(&p->mu);
    size_t ran = 0;
    while (j) {
        struct job *next = j->next;
        j->done(j->arg, j->cancelled);
        free(j);
        j = next;
        ran++;
    }
    return ran;
}

size_t work_pool_busy(const struct work_pool *pool)
{
    struct work_pool *p = (struct work_pool *)pool;
    pthread_mutex_lock(&p->mu);
    size_t n = p->nqueued + p->nrunning;
    pthread_mutex_unlock(&p->mu);
    return n;
}

void work_pool_shutdown(struct work_pool *p)
{
    if (!p || p->stopped)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    /* queued jobs never run: they go to the finished list as cancelled */
    for (struct job *j = p->qhead, *next; j; j = next) {
        next = j->next;
        j->cancelled = 1;
        push_done(p, j);
    }
    p->qhead = p->qtail = NULL;
    p->nqueued = 0;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    p->stopped = 1;
    work_pool_complete(p);
}

void work_pool_free(struct work_pool *p)
{
    if (!p)
        return;
    work_pool_shutdown(p);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    close(p->efd);
    free(p);
}
