/*
 * test_work.c: unit tests of server/work.c: a job runs on a worker and its
 * done() runs on the thread that calls work_pool_complete, after the pool's
 * fd turned readable; a full queue refuses; shutdown cancels queued jobs
 * (done with cancelled=1, run never called), lets the running one finish,
 * and refuses later submits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "server/work.h"

struct job {
    pthread_t ran_on, done_on;
    int ran, done, cancelled;
    sem_t *gate; /* when set, run waits on it */
    sem_t *started;
};

static void run(void *arg)
{
    struct job *j = arg;
    j->ran_on = pthread_self();
    if (j->started)
        sem_post(j->started);
    if (j->gate)
        sem_wait(j->gate);
    j->ran = 1;
}

static void done(void *arg, int cancelled)
{
    struct job *j = arg;
    j->done_on = pthread_self();
    j->done++;
    j->cancelled = cancelled;
}

/* Waits for the pool's fd as the loop would, then completes. */
static size_t complete_when_ready(struct work_pool *p)
{
    struct pollfd pfd = {.fd = work_pool_fd(p), .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, 5000), 1);
    return work_pool_complete(p);
}

static void test_submit_and_complete_on_loop(void **state)
{
    (void)state;
    struct work_pool *p = NULL;
    assert_int_equal(work_pool_new(2, 16, &p), 0);
    struct job jobs[8];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < 8; i++)
        assert_int_equal(work_submit(p, run, done, &jobs[i]), 0);
    size_t n = 0;
    while (n < 8)
        n += complete_when_ready(p);
    assert_int_equal(n, 8);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(jobs[i].ran, 1);
        assert_int_equal(jobs[i].done, 1);
        assert_int_equal(jobs[i].cancelled, 0);
        assert_false(pthread_equal(jobs[i].ran_on, pthread_self()));
        assert_true(pthread_equal(jobs[i].done_on, pthread_self()));
    }
    assert_int_equal(work_pool_busy(p), 0);
    assert_int_equal(work_pool_complete(p), 0); /* nothing left: never blocks */
    work_pool_free(p);
}

struct opener {
    struct work_pool *pool;
    sem_t *gate;
};

/* Opens the gate once shutdown has taken the queued jobs off (only the running one is left). */
static void *open_gate_after_cancel(void *arg)
{
    struct opener *o = arg;
    while (work_pool_busy(o->pool) != 1)
        sched_yield();
    sem_post(o->gate);
    return NULL;
}

static void test_queue_full_and_shutdown_cancels(void **state)
{
    (void)state;
    struct work_pool *p = NULL;
    assert_int_equal(work_pool_new(1, 2, &p), 0);
    sem_t gate, started;
    sem_init(&gate, 0, 0);
    sem_init(&started, 0, 0);
    struct job first = {.gate = &gate, .started = &started}, q1 = {0}, q2 = {0}, q3 = {0};
    assert_int_equal(work_submit(p, run, done, &first), 0);
    sem_wait(&started); /* the only worker is busy with first */
    assert_int_equal(work_submit(p, run, done, &q1), 0);
    assert_int_equal(work_submit(p, run, done, &q2), 0);
    assert_int_equal(work_submit(p, run, done, &q3), RG_ETOOBIG); /* done is never called for it */
    assert_int_equal(work_pool_busy(p), 3);
    struct opener o = {p, &gate};
    pthread_t helper;
    assert_int_equal(pthread_create(&helper, NULL, open_gate_after_cancel, &o), 0);
    work_pool_shutdown(p); /* cancels q1 and q2, then waits for the running job */
    pthread_join(helper, NULL);
    assert_int_equal(first.ran, 1);
    assert_int_equal(first.done, 1);
    assert_int_equal(first.cancelled, 0);
    for (struct job *j = &q1; j != &q3; j = j == &q1 ? &q2 : &q3) {
        assert_int_equal(j->ran, 0);
        assert_int_equal(j->done, 1);
        assert_int_equal(j->cancelled, 1);
    }
    assert_int_equal(q3.done, 0);
    assert_int_equal(work_submit(p, run, done, &q3), RG_EINVAL);
    work_pool_shutdown(p); /* idempotent */
    work_pool_free(p);
    sem_destroy(&gate);
    sem_destroy(&started);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    struct work_pool *p = NULL;
    assert_int_equal(work_pool_new(0, 4, &p), RG_EINVAL);
    assert_int_equal(work_pool_new(WORK_MAX_THREADS + 1, 4, &p), RG_EINVAL);
    assert_int_equal(work_pool_new(1, 0, &p), RG_EINVAL);
    unsigned n = work_default_threads();
    assert_true(n >= 1 && n <= 4);
    work_pool_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_submit_and_complete_on_loop),
        cmocka_unit_test(test_queue_full_and_shutdown_cancels),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
