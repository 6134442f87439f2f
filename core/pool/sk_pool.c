/* sk_pool.c: the thread pool of sk_pool.h.
 *
 * A network step runs two short phases, so a fork/join must cost far less than a step. A run
 * publishes (task, arg, n_tasks) and then bumps an atomic generation number (release);
 * workers spin on it for a few microseconds before sleeping on a condition variable, and
 * the caller spins on the count of busy workers before sleeping on another (on a shared
 * machine a worker can be descheduled; spinning then only delays it). Tasks are claimed with an atomic counter,
 * which is fine for determinism: the network's tasks write disjoint data.
 * Sleeping workers are woken under the mutex, so a worker that saw the old generation and
 * is about to sleep cannot miss the broadcast.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "sk_pool.h"

#define SPIN_ROUNDS 4000 /* about 10-40 us of pause instructions before sleeping */

struct sk_pool {
    pthread_mutex_t mu;
    pthread_cond_t wake; /* workers sleep on it between runs */
    pthread_cond_t done; /* the caller sleeps on it when the join outlasts its spin */
    pthread_t *threads;
    uint32_t n_workers;
    atomic_uint_fast64_t generation;
    atomic_uint busy;  /* workers still in the current generation */
    atomic_int stop;
    sk_task_fn task;   /* written before the generation is bumped, read after */
    void *arg;
    uint32_t n_tasks;
    atomic_uint next;  /* next task to claim */
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void drain(sk_pool_t *p)
{
    for (;;) {
        uint32_t k = atomic_fetch_add(&p->next, 1u);
        if (k >= p->n_tasks)
            return;
        p->task(p->arg, k);
    }
}

/* Waits until the generation differs from `seen` or the pool stops; returns the new one. */
static uint64_t await_generation(sk_pool_t *p, uint64_t seen)
{
    for (int spin = 0; spin < SPIN_ROUNDS; spin++) {
        uint64_t g = atomic_load_explicit(&p->generation, memory_order_acquire);
        if (g != seen || atomic_load(&p->stop))
            return g;
        cpu_relax();
    }
    pthread_mutex_lock(&p->mu);
    uint64_t g;
    while ((g = atomic_load_explicit(&p->generation, memory_order_acquire)) == seen &&
           !atomic_load(&p->stop))
        pthread_cond_wait(&p->wake, &p->mu);
    pthread_mutex_unlock(&p->mu);
    return g;
}

static void *worker(void *arg)
{
    sk_pool_t *p = arg;
    uint64_t seen = 0;
    for (;;) {
        seen = await_generation(p, seen);
        if (atomic_load(&p->stop))
            return NULL;
        drain(p);
        if (atomic_fetch_sub_explicit(&p->busy, 1u, memory_order_acq_rel) == 1u) {
            pthread_mutex_lock(&p->mu); /* the last worker wakes a caller that sleeps */
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
    }
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
    atomic_init(&p->generation, 0);
    atomic_init(&p->busy, 0u);
    atomic_init(&p->stop, 0);
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
    atomic_store(&p->stop, 1);
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
    p->task = task;
    p->arg = arg;
    p->n_tasks = n_tasks;
    atomic_store_explicit(&p->next, 0u, memory_order_relaxed);
    atomic_store_explicit(&p->busy, p->n_workers, memory_order_relaxed);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    drain(p);
    /* join: spin briefly, then sleep (a worker may share this core and be descheduled) */
    for (int spin = 0; spin < SPIN_ROUNDS; spin++) {
        if (!atomic_load_explicit(&p->busy, memory_order_acquire))
            return;
        cpu_relax();
    }
    pthread_mutex_lock(&p->mu);
    while (atomic_load_explicit(&p->busy, memory_order_acquire))
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

void sk_pool_parallel(sk_pool_t *pool, sk_parallel_t *par)
{
    par->run = sk_pool_run;
    par->pool = pool;
    par->n_threads = pool->n_workers + 1;
    par->grain = 0;
}
