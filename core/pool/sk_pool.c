/* sk_pool.c: the thread pool of sk_pool.h.
 *
 * A network step runs two short phases, so a fork/join must cost far less than a step. A run
 * publishes (task, arg, n_tasks) and then bumps an atomic generation number (release);
 * workers spin on it for a few microseconds before sleeping on a condition variable, and
 * the caller spins on the count of busy workers before sleeping on another (on a shared
 * machine a worker can be descheduled; spinning then only delays it).
 *
 * Which thread runs which task does not matter for results (the network's tasks write
 * disjoint data) but does for speed: a network gives each thread the same neurons every
 * step, and a task that moves to another core finds its data in the other core's cache.
 * So task k < n_threads is "at home" on thread k (the caller is thread 0, worker w thread
 * w + 1). The caller always runs task 0 itself; worker w claims its home task first; tasks
 * past n_threads go to whoever asks first (an atomic counter); then a worker with nothing
 * left steals the workers' home tasks nobody has claimed yet, and so does the caller once a
 * worker is late (it was asleep at the fork, or the join outlasts a short spin), so a
 * worker that is asleep or descheduled delays nothing for long. A claim is a
 * compare-and-swap of the task's slot to the run's generation.
 *
 * Cache lines. At a few microseconds per step every line that moves between cores counts:
 * what the caller writes for a run shares the generation's line (a worker that sees the new
 * generation has the rest with it), the busy count has its own line, every home slot its
 * own, and nobody touches another thread's home slot unless that thread is late.
 * Sleeping workers are woken under the mutex, so a worker that saw the old generation and
 * is about to sleep cannot miss the broadcast.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sk_pool.h"

#define SPIN_ROUNDS 4000 /* about 10-40 us of pause instructions before sleeping */
#define STEAL_ROUNDS 400  /* about 1-4 us of a join's spin before the caller steals */

typedef struct worker_arg {
    sk_pool_t *pool;
    uint32_t self; /* thread index: 1 + worker index */
} worker_arg_t;

/* A home slot: the generation in which home task k was claimed, alone on its line. */
typedef struct home {
    _Alignas(64) atomic_uint_fast64_t gen;
} home_t;

struct sk_pool {
    pthread_mutex_t mu;
    pthread_cond_t wake; /* workers sleep on it between runs */
    pthread_cond_t done; /* the caller sleeps on it when the join outlasts its spin */
    pthread_t *threads;
    worker_arg_t *args; /* [n_workers] */
    uint32_t n_workers;
    home_t *home; /* [threads]; slot 0 unused (the caller always runs task 0) */
    /* The run: written by the caller before it bumps the generation, read by the workers
     * after they see the bump (one line). */
    _Alignas(64) atomic_uint_fast64_t generation;
    sk_task_fn task;
    void *arg;
    uint32_t n_tasks;
    uint32_t n_home;      /* min(n_tasks, threads): tasks with a home thread this run */
    atomic_uint sleepers; /* workers waiting on `wake` (or about to) */
    atomic_int stop;
    _Alignas(64) atomic_uint busy; /* workers still in the current generation */
    _Alignas(64) atomic_uint next; /* next task past the home tasks (offset by n_home) */
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static int claim_home(sk_pool_t *p, uint32_t k, uint64_t gen)
{
    uint_fast64_t seen = atomic_load_explicit(&p->home[k].gen, memory_order_relaxed);
    return seen != gen && atomic_compare_exchange_strong(&p->home[k].gen, &seen, gen);
}

/* The shared tail of a run: the tasks past the home tasks, to whoever asks first. */
static void tail(sk_pool_t *p)
{
    while (p->n_tasks > p->n_home) {
        uint32_t k = p->n_home + atomic_fetch_add(&p->next, 1u);
        if (k >= p->n_tasks)
            break;
        p->task(p->arg, k);
    }
}

/* The workers' home tasks of run `gen` nobody has claimed yet, except `self`'s. */
static void steal(sk_pool_t *p, uint32_t self, uint64_t gen)
{
    for (uint32_t k = 1; k < p->n_home; k++)
        if (k != self && claim_home(p, k, gen))
            p->task(p->arg, k);
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
    atomic_fetch_add(&p->sleepers, 1u); /* before the check below: see sk_pool_run */
    uint64_t g;
    while ((g = atomic_load(&p->generation)) == seen && !atomic_load(&p->stop))
        pthread_cond_wait(&p->wake, &p->mu);
    atomic_fetch_sub(&p->sleepers, 1u);
    pthread_mutex_unlock(&p->mu);
    return g;
}

static void *worker(void *arg)
{
    sk_pool_t *p = ((worker_arg_t *)arg)->pool;
    const uint32_t self = ((worker_arg_t *)arg)->self;
    uint64_t seen = 0;
    for (;;) {
        seen = await_generation(p, seen);
        if (atomic_load(&p->stop))
            return NULL;
        if (self < p->n_home && claim_home(p, self, seen))
            p->task(p->arg, self);
        tail(p);
        steal(p, self, seen);
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
    sk_pool_t *p = aligned_alloc(64, sizeof *p); /* its lines are laid out (see the top) */
    if (!p)
        return SK_ENOMEM;
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    atomic_init(&p->generation, 0);
    atomic_init(&p->busy, 0u);
    atomic_init(&p->sleepers, 0u);
    atomic_init(&p->stop, 0);
    atomic_init(&p->next, 0u);
    p->threads = calloc(n_threads, sizeof *p->threads);
    p->args = calloc(n_threads, sizeof *p->args);
    p->home = aligned_alloc(64, n_threads * sizeof *p->home);
    if (!p->threads || !p->args || !p->home) {
        sk_pool_destroy(p);
        return SK_ENOMEM;
    }
    for (uint32_t k = 0; k < n_threads; k++)
        atomic_init(&p->home[k].gen, 0);
    for (uint32_t k = 0; k + 1 < n_threads; k++) {
        p->args[k] = (worker_arg_t){.pool = p, .self = k + 1};
        if (pthread_create(&p->threads[k], NULL, worker, &p->args[k]) != 0) {
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
    free(p->args);
    free((void *)p->home);
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
    p->n_home = n_tasks < p->n_workers + 1 ? n_tasks : p->n_workers + 1;
    atomic_store_explicit(&p->next, 0u, memory_order_relaxed);
    atomic_store_explicit(&p->busy, p->n_workers, memory_order_relaxed);
    /* Spinning workers see the new generation by themselves; only sleeping ones need the
     * mutex and the broadcast. Both sides are sequentially consistent: a worker counts
     * itself in `sleepers` before it checks the generation, the caller bumps the generation
     * before it reads `sleepers`, so either the caller sees the sleeper or the sleeper sees
     * the new generation (and the broadcast under the mutex cannot fall between a
     * sleeper's check and its wait). */
    uint64_t gen = atomic_fetch_add(&p->generation, 1) + 1;
    const int late = atomic_load(&p->sleepers) != 0;
    if (late) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->mu);
    }
    p->task(p->arg, 0);
    tail(p);
    /* join: spin briefly, then take what is left (a worker that slept at the fork or is
     * slow to start), then spin and sleep (a worker may share this core and be descheduled) */
    for (int spin = 0; !late && spin < STEAL_ROUNDS; spin++) {
        if (!atomic_load_explicit(&p->busy, memory_order_acquire))
            return;
        cpu_relax();
    }
    steal(p, 0, gen);
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

double sk_pool_clock(void *unused)
{
    (void)unused;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void sk_pool_parallel(sk_pool_t *pool, sk_parallel_t *par)
{
    par->run = sk_pool_run;
    par->pool = pool;
    par->n_threads = pool->n_workers + 1;
    par->grain = 0;
    par->clock = sk_pool_clock;
    par->clock_arg = NULL;
}
