/* sk_pool.h: a small persistent thread pool that lends its threads to sk_net_set_parallel.
 *
 * Kept outside libspiked-core (which has no threads): target spiked::pool. The calling thread
 * takes part in every run, so a pool of n threads starts n - 1 workers. Runs are
 * synchronous: sk_pool_run returns when every task is done. One run at a time per pool.
 */
#ifndef SPIKED_SK_POOL_H
#define SPIKED_SK_POOL_H

#include <stdint.h>

#include "spiked/sk_net.h"

typedef struct sk_pool sk_pool_t;

/* Starts a pool of n_threads (>= 1) threads, counting the caller. Caller owns *out; release
 * with sk_pool_destroy. Returns 0, SK_EINVAL or SK_ENOMEM. */
int sk_pool_create(uint32_t n_threads, sk_pool_t **out);
/* Joins the workers and frees the pool. NULL is a no-op. Not during a run. */
void sk_pool_destroy(sk_pool_t *pool);
/* Runs task(arg, k) for k < n_tasks on the pool's threads and the caller; returns when all
 * are done. Matches sk_parallel_t.run (pool is an sk_pool_t *). */
void sk_pool_run(void *pool, sk_task_fn task, void *arg, uint32_t n_tasks);
/* Seconds on CLOCK_MONOTONIC; matches sk_parallel_t.clock (the argument is unused). */
double sk_pool_clock(void *unused);
/* Fills *par so that sk_net_set_parallel(net, par) steps on this pool, with sk_pool_clock as
 * its clock (the core tunes the split; set par->clock = NULL to never tune). */
void sk_pool_parallel(sk_pool_t *pool, sk_parallel_t *par);

#endif
