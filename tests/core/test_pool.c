/* test_pool.c: core/pool/sk_pool.c — every task of a run runs exactly once, whatever the
 * thread and task counts, whether the workers spin or sleep at the fork; the caller runs
 * task 0 itself. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "sk_pool.h"

#define MAX_TASKS 12

typedef struct counts {
    atomic_uint ran[MAX_TASKS];
    pthread_t caller;
    atomic_int task0_elsewhere;
} counts_t;

static void count_task(void *arg, uint32_t k)
{
    counts_t *c = arg;
    atomic_fetch_add(&c->ran[k], 1u);
    if (k == 0 && !pthread_equal(pthread_self(), c->caller))
        atomic_store(&c->task0_elsewhere, 1);
}

static void runs(uint32_t threads, uint32_t n_tasks, int n_runs, long pause_ns)
{
    sk_pool_t *pool;
    cr_assert_eq(sk_pool_create(threads, &pool), 0);
    counts_t c;
    for (uint32_t k = 0; k < MAX_TASKS; k++)
        atomic_init(&c.ran[k], 0u);
    atomic_init(&c.task0_elsewhere, 0);
    c.caller = pthread_self();
    for (int r = 0; r < n_runs; r++) {
        sk_pool_run(pool, count_task, &c, n_tasks);
        if (pause_ns) {
            struct timespec ts = {0, pause_ns};
            nanosleep(&ts, NULL);
        }
    }
    sk_pool_destroy(pool);
    for (uint32_t k = 0; k < MAX_TASKS; k++)
        cr_expect_eq(atomic_load(&c.ran[k]), k < n_tasks ? (unsigned)n_runs : 0u,
                     "%u threads, %u tasks: task %u ran %u times in %d runs", threads, n_tasks, k,
                     atomic_load(&c.ran[k]), n_runs);
    cr_expect_not(atomic_load(&c.task0_elsewhere), "task 0 ran on a worker");
}

Test(pool, every_task_runs_once_per_run_for_any_thread_and_task_count)
{
    for (uint32_t threads = 1; threads <= 4; threads++)
        for (uint32_t n_tasks = 0; n_tasks <= 9; n_tasks++)
            runs(threads, n_tasks, 300, 0);
}

Test(pool, runs_after_the_workers_fell_asleep_run_every_task)
{
    /* 2 ms between runs: far past the workers' spin, so every fork wakes sleepers and the
     * caller takes the late workers' tasks */
    for (uint32_t threads = 2; threads <= 3; threads++)
        for (uint32_t n_tasks = 1; n_tasks <= 5; n_tasks++)
            runs(threads, n_tasks, 20, 2000000);
}

Test(pool, create_refuses_zero_threads)
{
    sk_pool_t *pool = NULL;
    cr_expect_eq(sk_pool_create(0, &pool), SK_EINVAL);
    cr_expect_null(pool);
    sk_pool_destroy(NULL);
}
