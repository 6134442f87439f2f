/* bench_util.h: what the benchmark programs share (header-only): a monotonic clock, sample
 * statistics (median and spread), peak memory, a deterministic generator for the inputs the
 * benchmarks draw themselves, aligned arrays, a two-thread "parallel for" over the core's
 * pool, and a small JSON writer (one object per program, on one line).
 *
 * Benchmarks are not tests: they print a table on stderr and one JSON object on stdout (or
 * into --json FILE); tests/bench/run gathers the objects into the report.
 */
#ifndef SK_BENCH_UTIL_H
#define SK_BENCH_UTIL_H

#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sk_pool.h"
#include "spiked/sk_net.h"

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---------------------------------------------------------------------------------------
 * Samples: every reported number is the median of its samples, with min and max.
 * ------------------------------------------------------------------------------------- */

#define BENCH_MAX_SAMPLES 64

typedef struct bench_stat {
    double x[BENCH_MAX_SAMPLES];
    int n;
} bench_stat_t;

static inline void stat_add(bench_stat_t *s, double x)
{
    if (s->n < BENCH_MAX_SAMPLES)
        s->x[s->n++] = x;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* k = 0: min, 1: median, 2: max. */
static inline double stat_q(const bench_stat_t *s, int k)
{
    double t[BENCH_MAX_SAMPLES];
    if (s->n == 0)
        return 0.0;
    memcpy(t, s->x, (size_t)s->n * sizeof(double));
    qsort(t, (size_t)s->n, sizeof(double), cmp_double);
    if (k == 0)
        return t[0];
    if (k == 2)
        return t[s->n - 1];
    return s->n % 2 ? t[s->n / 2] : 0.5 * (t[s->n / 2 - 1] + t[s->n / 2]);
}

static inline double stat_median(const bench_stat_t *s)
{
    return stat_q(s, 1);
}

/* ---------------------------------------------------------------------------------------
 * Memory: peak and current resident set size of this process, in bytes (Linux).
 * ------------------------------------------------------------------------------------- */

static inline uint64_t bench_status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    uint64_t kb = 0;
    size_t len = strlen(key);
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, len) == 0 && line[len] == ':')
            kb = strtoull(line + len + 1, NULL, 10);
    fclose(f);
    return kb * 1024u;
}

static inline uint64_t bench_peak_rss(void)
{
    return bench_status_kb("VmHWM");
}

static inline uint64_t bench_rss(void)
{
    return bench_status_kb("VmRSS");
}

/* Size of the last-level cache in bytes (sysfs), or `dflt`. */
static inline uint64_t bench_llc_bytes(uint64_t dflt)
{
    uint64_t best = 0;
    for (int k = 0; k < 8; k++) {
        char path[96], buf[64];
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", k);
        FILE *f = fopen(path, "r");
        if (!f)
            break;
        if (fgets(buf, sizeof buf, f)) {
            char *end;
            uint64_t v = strtoull(buf, &end, 10);
            v *= *end == 'M' ? 1024u * 1024u : (*end == 'K' ? 1024u : 1u);
            best = v > best ? v : best;
        }
        fclose(f);
    }
    return best ? best : dflt;
}

/* ---------------------------------------------------------------------------------------
 * Inputs: splitmix64, so every benchmark draws the same inputs on every run.
 * ------------------------------------------------------------------------------------- */

static inline uint64_t bench_rand(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Uniform float in [0, 1). */
static inline float bench_rand01(uint64_t *state)
{
    return (float)(bench_rand(state) >> 40) * 0x1.0p-24f;
}

/* 64-byte aligned, zero-filled array of n elements of `size` bytes; exits on failure. */
static inline void *bench_alloc(size_t n, size_t size)
{
    size_t bytes = (n * size + 63u) & ~(size_t)63u;
    void *p = aligned_alloc(64, bytes ? bytes : 64);
    if (!p) {
        fprintf(stderr, "bench: out of memory (%zu bytes)\n", bytes);
        exit(2);
    }
    memset(p, 0, bytes);
    return p;
}

/* ---------------------------------------------------------------------------------------
 * Spin team: a fork/join of the caller and one helper thread that waits by spinning (then
 * yielding, then sleeping), as OpenMP runtimes do. It has the signature of sk_parallel_t.run, so
 * the core can step on it too. It is the peers' two-thread runner (the machine's limit, not the
 * core's pool) and a measurement of what a lower-latency pool would give the core.
 * ------------------------------------------------------------------------------------- */

typedef struct bench_team {
    pthread_t helper;
    atomic_uint_fast64_t go;   /* generation published by the caller */
    atomic_uint_fast64_t done; /* generation finished by the helper */
    atomic_int stop;
    sk_task_fn task;
    void *arg;
    uint32_t n_tasks;
} bench_team_t;

/* Waits while `cond` holds: spins (the fast path between back-to-back runs), then yields,
 * then sleeps 50 us at a time, so an idle helper does not take a core from the measurement
 * (or from other users of the machine). */
#define BENCH_WAIT_WHILE(cond)                                                                     \
    for (uint32_t spins_ = 0; (cond); spins_++) {                                                  \
        if (spins_ > (1u << 18)) {                                                                 \
            const struct timespec ts_ = {0, 50000};                                                \
            nanosleep(&ts_, NULL);                                                                 \
        } else if (spins_ > (1u << 16)) {                                                          \
            sched_yield();                                                                         \
        }                                                                                          \
    }

static void *bench_team_main(void *p)
{
    bench_team_t *t = p;
    uint_fast64_t seen = 0, g = 0;
    for (;;) {
        BENCH_WAIT_WHILE((g = atomic_load_explicit(&t->go, memory_order_acquire)) == seen &&
                         !atomic_load_explicit(&t->stop, memory_order_relaxed));
        if (g == seen)
            return NULL;
        seen = g;
        for (uint32_t k = 1; k < t->n_tasks; k++)
            t->task(t->arg, k);
        atomic_store_explicit(&t->done, seen, memory_order_release);
    }
}

static inline bench_team_t *bench_team_create(void)
{
    bench_team_t *t = calloc(1, sizeof *t);
    if (!t || pthread_create(&t->helper, NULL, bench_team_main, t) != 0) {
        fprintf(stderr, "bench: cannot start a thread\n");
        exit(2);
    }
    return t;
}

static inline void bench_team_destroy(bench_team_t *t)
{
    if (!t)
        return;
    atomic_store(&t->stop, 1);
    pthread_join(t->helper, NULL);
    free(t);
}

/* sk_parallel_t.run: task 0 on the caller, tasks 1.. on the helper. */
static inline void bench_team_run(void *team, sk_task_fn task, void *arg, uint32_t n_tasks)
{
    bench_team_t *t = team;
    t->task = task;
    t->arg = arg;
    t->n_tasks = n_tasks;
    uint_fast64_t g = atomic_load_explicit(&t->go, memory_order_relaxed) + 1;
    atomic_store_explicit(&t->go, g, memory_order_release);
    if (n_tasks)
        task(arg, 0);
    BENCH_WAIT_WHILE(atomic_load_explicit(&t->done, memory_order_acquire) != g);
}

/* ---------------------------------------------------------------------------------------
 * Parallel for: [0, n) cut into `parts` ranges on multiples of 16 items (as the core
 * cuts populations), run by an sk_parallel_t (the core's pool or the spin team; the caller
 * takes part). One run = one fork and one join, the minimum a parallel step needs.
 * ------------------------------------------------------------------------------------- */

typedef void (*bench_range_fn)(void *ctx, size_t lo, size_t hi);

typedef struct bench_par {
    bench_range_fn fn;
    void *ctx;
    size_t n;
    uint32_t parts;
} bench_par_t;

static void bench_par_task(void *arg, uint32_t k)
{
    const bench_par_t *p = arg;
    size_t lo = (size_t)((uint64_t)p->n * k / p->parts) & ~(size_t)15;
    size_t hi =
        k + 1 == p->parts ? p->n : ((size_t)((uint64_t)p->n * (k + 1) / p->parts) & ~(size_t)15);
    if (lo < hi)
        p->fn(p->ctx, lo, hi);
}

/* Runs fn over [0, n) in par->n_threads parts on par's runner (NULL or 1 thread: on the
 * caller alone). */
static inline void bench_par_for(const sk_parallel_t *par, bench_range_fn fn, void *ctx, size_t n)
{
    bench_par_t p = {fn, ctx, n, par ? par->n_threads : 1};
    if (p.parts <= 1)
        fn(ctx, 0, n);
    else
        par->run(par->pool, bench_par_task, &p, p.parts);
}

/* ---------------------------------------------------------------------------------------
 * JSON: a tiny writer for one flat-ish object. Keys and strings are ASCII without quotes.
 * ------------------------------------------------------------------------------------- */

typedef struct bench_json {
    char *buf;
    size_t len, cap;
    int first; /* no comma before the next member */
} bench_json_t;

static inline void json_raw(bench_json_t *j, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int k = vsnprintf(j->buf ? j->buf + j->len : NULL, j->buf ? j->cap - j->len : 0, fmt, ap);
        va_end(ap);
        if (k < 0)
            return;
        if (j->buf && j->len + (size_t)k < j->cap) {
            j->len += (size_t)k;
            return;
        }
        size_t cap = (j->cap ? 2 * j->cap : 4096) + (size_t)k;
        char *nb = realloc(j->buf, cap);
        if (!nb)
            exit(2);
        j->buf = nb;
        j->cap = cap;
    }
}

static inline void json_sep(bench_json_t *j)
{
    if (!j->first && j->len)
        json_raw(j, ",");
    j->first = 0;
}

static inline void json_open(bench_json_t *j, const char *key, char brace)
{
    json_sep(j);
    if (key)
        json_raw(j, "\"%s\":", key);
    json_raw(j, "%c", brace);
    j->first = 1;
}

static inline void json_close(bench_json_t *j, char brace)
{
    json_raw(j, "%c", brace);
    j->first = 0;
}

static inline void json_num(bench_json_t *j, const char *key, double v)
{
    json_sep(j);
    if (key)
        json_raw(j, "\"%s\":", key);
    json_raw(j, "%.6g", v);
}

static inline void json_str(bench_json_t *j, const char *key, const char *v)
{
    json_sep(j);
    json_raw(j, "\"%s\":\"%s\"", key, v);
}

/* {"median": m, "min": a, "max": b, "samples": [...]} of s scaled by `scale`. */
static inline void json_stat(bench_json_t *j, const char *key, const bench_stat_t *s, double scale)
{
    json_open(j, key, '{');
    json_num(j, "median", stat_median(s) * scale);
    json_num(j, "min", stat_q(s, 0) * scale);
    json_num(j, "max", stat_q(s, 2) * scale);
    json_open(j, "samples", '[');
    for (int k = 0; k < s->n; k++)
        json_num(j, NULL, s->x[k] * scale);
    json_close(j, ']');
    json_close(j, '}');
}

/* Writes the object to path ("-" or NULL: stdout) followed by a newline, and frees it. */
static inline int json_write(bench_json_t *j, const char *path)
{
    FILE *f = (!path || strcmp(path, "-") == 0) ? stdout : fopen(path, "w");
    if (!f) {
        perror(path);
        return 1;
    }
    fprintf(f, "%.*s\n", (int)j->len, j->buf ? j->buf : "");
    if (f != stdout)
        fclose(f);
    else
        fflush(f);
    free(j->buf);
    memset(j, 0, sizeof *j);
    return 0;
}

/* Exits with a message when a core call fails. */
static inline void bench_check(int rc, const sk_err_t *err, const char *what)
{
    if (rc) {
        fprintf(stderr, "bench: %s failed: %s (%s: %s)\n", what, sk_strerror(rc),
                err ? err->path : "", err ? err->msg : "");
        exit(2);
    }
}

#endif
