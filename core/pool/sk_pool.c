/* sk_pool.c: the thread pool of sk_pool.h. Workers sleep on a condition variable between
 * runs; a run publishes (task, arg, n_tasks) under the mutex with a new generation number,
 * tasks are claimed with an atomic counter, and the caller waits until every worker has
 * finished the generation. Tasks are claimed dynamically, which is fine for determinism:
 * the network's tasks write disjoint data. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "sk_pool.h"

struct sk_pool {
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    pthread_t *threads;
    uint32_t n_workers;
    uint64_t generation;
    uint32_t busy;     /* workers still in the current generation */
    int stop;
    sk_task_fn task;
    void *arg;
    uint32_t n_tasks;
    atomic_uint next;  /* next task to claim */
};

static void drain(sk_pool_t *p)
{
    for (;;) {
        uint32_t k = atomic_fetch_add(&p->next, 1u);
        if (k >= p->n_tasks)
            return;
        p->task(p->arg, k);
    }
}

static void *worker(void *arg)
{
    sk_pool_t *p = arg;
    uint64_t seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->generation == seen)
            pthread_cond_wait(&p->wake, &p->mu);
        if (p->stop)
            break;
        seen = p->generation;
        pthread_mutex_unlock(&p->mu);
        drain(p);
        pthread_mutex_lock(&p->mu);
        if (--p->busy == 0)
            pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int sk_pool_create(uint32_t n_threads, sk_pool_t **out)
{
    if (n_threads < 1 || !out)
        return SK_EINVAL;
    sk_pool_t *p = calloc(1, sizeof *p);
    if (!p)
        return SK_ENOMEM;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    atomic_init(&p->next, 0u);
    p->threads = calloc(n_threads, sizeof *p->threads);
    if (!p->threads) {
        sk_pool_destroy(p);
        return SK_ENOMEM;
    }
    for (uint32_t k = 0; k + 1 < n_threads; k++) {
        if (pthread_create(&p->threads[k], NULL, worker, p) != 0) {
            sk_pool_destroy(p);
            return SK_ENOMEM;
        }
        p->n_workers++;
    }
    *out = p;
    return 0;
}

void sk_pool_destroy(sk_pool_t *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (uint32_t k = 0; k < p->n_workers; k++)
        pthread_join(p->threads[k], NULL);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    free(p->threads);
    free(p);
}

void sk_pool_run(void *pool, sk_task_fn task, void *arg, uint32_t n_tasks)
{
    sk_pool_t *p = pool;
    if (p->n_workers == 0 || n_tasks <= 1) {
        for (uint32_t k = 0; k < n_tasks; k++)
            task(arg, k);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->task = task;
    p->arg = arg;
    p->n_tasks = n_tasks;
    atomic_store(&p->next, 0u);
    p->busy = p->n_workers;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    drain(p);
    pthread_mutex_lock(&p->mu);
    while (p->busy)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

void sk_pool_parallel(sk_pool_t *pool, sk_parallel_t *par)
{
    par->run = sk_pool_run;
    par->pool = pool;
    par->n_threads = pool->n_workers + 1;
}
