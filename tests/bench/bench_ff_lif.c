/* bench_ff_lif.c: neuron updates per second of the core on N uncoupled LIF neurons, against
 * the two limits of this machine, measured in the same run (samples interleaved).
 *
 * Workload. One `lif` population (Norse defaults: tau_syn_inv 200/s, tau_mem_inv 100/s,
 * v_th 1, v_reset 0), dt = 1 ms, driven by one SK_STIM_CURRENT stimulus with one amplitude
 * per neuron drawn uniformly in [0, 0.3) (the random input: the third of the neurons above
 * 0.2 fire regularly, at up to ~90 Hz; about 2% of updates spike). No projections, so the
 * delay ring has one slot.
 *
 * Limits (compiled with the core's flags: -O3 -ffp-contract=off -fno-trapping-math, no
 * -march):
 *   bandwidth  a[i] = a[i]*0.5f + b[i] over two arrays of 256 MiB (8x the last-level cache),
 *              counted as 12 bytes per element (two reads, one in-place write: the write hits
 *              a line just read, so no extra read for ownership);
 *              bound (a) = bandwidth / bytes the core moves per update (see below); for
 *              DRAM-resident N a bandwidth sample is taken in every repetition, between the
 *              core's and the fused loop's, so the bound sees the same machine load;
 *   fused      the minimal fused float32 loop over SoA arrays v, i, amp, spiked with the
 *              core's lif arithmetic, one pass, 21 bytes per update, dispatched exactly like
 *              the core's model loops (SK_MODEL_CLONES: SSE2, AVX2 or AVX-512 picked at load
 *              time): bound (b). Its v is checked bit-identical to the core's at the end.
 *   base       the same loop at the baseline ISA only (SSE2), for reference: the bound the
 *              core had before its model loops were cloned.
 * The bound that applies: (b) when the core's working set (13 bytes per neuron: v, i, amp,
 * flags) fits in the last-level cache, (a) otherwise.
 *
 * Two threads. The core steps through sk_net_set_parallel on the shipped sk_pool (the number
 * that counts) and, for comparison, on a spinning fork/join (bench_team, bench_util.h). The
 * peers run on the spinning fork/join, one fork/join per step; the 2-thread bound (b) is the
 * better of the fused loop on 1 and on 2 threads (a sane runtime does not split tiny work).
 * "halves": two independent networks of N/2 neurons (the same amplitudes), each stepped by
 * one thread, one step per fork/join of the spinning team: what 2 threads give in lock-step
 * single steps when no data passes between them (the cost of the hand-offs of a split step,
 * the spike counts, history positions, the fork and join, depends on where the host puts the
 * two vCPUs). The core runs several steps per fork when nothing couples them (epochs,
 * core/src/step.c), so it can pass this column (tests/bench/NOTES.md §2).
 *
 * Bytes per update the core moves to and from memory, counted from core/src/step.c and
 * stim.c for N far larger than the cache. Nothing is delivered or injected here, so the ring
 * slot is never written: the model phase neither reads nor clears it, and the model reads
 * the current's amplitudes in place (sk__block_inputs). It works in blocks of 2048 neurons
 * (model step, spike collection), so the flags of a block are collected from L1:
 *   model      lif step: amplitude r, v r/w, i r/w, flag w        4 + 8 + 8 + 1 = 21
 *   collect    flags of the block, from L1                                       =  0
 *   spikes     per spike: id written (collect), copied to the history (r + w)     12 per spike
 * bytes_core = 21 + 12 * (spikes per update): the fused loop's 21 plus the spike ids.
 * (Earlier cores: 38 bytes with separate stimulus and clear passes, before main 723f443; 30
 * with the blocked step that still added the stimulus into the ring slot and cleared it,
 * main 723f443 to a8ec899.) Write-allocate reads of the flags are not counted, so bound (a)
 * is, if anything, generous to the core.
 */
#include <math.h>

#include "bench_util.h"

#define BYTES_CORE_BASE 21.0
#define BYTES_RESIDENT  13.0 /* per neuron: v, i, amp, flags */
#define BYTES_PER_SPIKE 12.0
#define BYTES_FUSED     21.0
#define BYTES_BW        12.0
#define AMP_MAX         0.3f

typedef struct opts {
    int quick;
    const char *json;
    uint64_t only_n; /* 0: the whole list */
    int reps;        /* 0: per-N default */
    uint32_t steps;  /* 0: per-N default */
    int threads;     /* 0: 1 and 2 */
    int no_bw;
} opts_t;

/* Two independent networks stepped side by side (see "halves" above). */
typedef struct halves {
    sk_net_t *net[2];
} halves_t;

static void step_half(void *arg, uint32_t k)
{
    halves_t *h = arg;
    bench_check(sk_net_step(h->net[k], 1, NULL, NULL), NULL, "sk_net_step");
}

/* The runners: sequential (NULL), the core's pool, the spin team. */
typedef struct runners {
    sk_pool_t *pool;
    bench_team_t *team;
    sk_parallel_t par_pool, par_team;
} runners_t;

/* ---------------------------------------------------------------------------------------
 * The limits
 * ------------------------------------------------------------------------------------- */

typedef struct bw_ctx {
    float *a;
    const float *b;
} bw_ctx_t;

static void bw_range(void *ctx, size_t lo, size_t hi)
{
    const bw_ctx_t *c = ctx;
    float *restrict a = c->a;
    const float *restrict b = c->b;
    for (size_t j = lo; j < hi; j++)
        a[j] = a[j] * 0.5f + b[j];
}

typedef struct fused {
    float *v, *i;
    const float *amp;
    uint8_t *spiked;
    float k_mem, k_syn, v_leak, v_th, v_reset;
} fused_t;

/* The core's lif step (core/src/models/lif.c) with x = amp, fused into one pass. */
#define FUSED_BODY                                                                                 \
    const fused_t *f = ctx;                                                                        \
    float *restrict v = f->v;                                                                      \
    float *restrict cur = f->i;                                                                    \
    const float *restrict amp = f->amp;                                                            \
    uint8_t *restrict spiked = f->spiked;                                                          \
    const float k_mem = f->k_mem, k_syn = f->k_syn;                                                \
    const float v_leak = f->v_leak, v_th = f->v_th, v_reset = f->v_reset;                          \
    for (size_t j = lo; j < hi; j++) {                                                             \
        const float v0 = v[j];                                                                     \
        const float i_j = cur[j] + amp[j];                                                         \
        const float v_d = v0 + k_mem * ((v_leak - v0) + i_j);                                      \
        const float i_n = i_j + k_syn * i_j;                                                       \
        const int z = (v_d - v_th) > 0.0f;                                                         \
        v[j] = z ? v_reset : v_d;                                                                  \
        cur[j] = i_n;                                                                              \
        spiked[j] = (uint8_t)z;                                                                    \
    }

/* Bound (b): the loop dispatched exactly like the core's model loops (SK_MODEL_CLONES: SSE2,
 * AVX2 or AVX-512 chosen at load time on GCC/x86-64/Linux). */
SK_MODEL_CLONES static void fused_range(void *ctx, size_t lo, size_t hi)
{
    FUSED_BODY
}

/* The same loop at the baseline ISA only (SSE2 on x86-64), for reference. */
static void fused_base(void *ctx, size_t lo, size_t hi)
{
    FUSED_BODY
}

#define BW_N ((size_t)64 << 20) /* 64 Mi floats = 256 MiB per array */

static bw_ctx_t bw_arrays(void)
{
    bw_ctx_t c = {bench_alloc(BW_N, sizeof(float)), bench_alloc(BW_N, sizeof(float))};
    float *b = (float *)c.b;
    for (size_t j = 0; j < BW_N; j++)
        b[j] = (float)(j & 1023) * 1e-3f;
    return c;
}

/* One bandwidth sample in bytes/s: `passes` passes over the arrays. */
static double bw_sample(const sk_parallel_t *par, bw_ctx_t *c, int passes)
{
    double t0 = bench_now();
    for (int pass = 0; pass < passes; pass++)
        bench_par_for(par, bw_range, c, BW_N);
    return (double)passes * BYTES_BW * (double)BW_N / (bench_now() - t0);
}

static void measure_bw(const sk_parallel_t *par, bw_ctx_t *c, int reps, bench_stat_t *out)
{
    bw_sample(par, c, 1); /* warm-up */
    for (int r = 0; r < reps; r++)
        stat_add(out, bw_sample(par, c, 3));
}

static void empty_task(void *arg, uint32_t k)
{
    (void)arg;
    (void)k;
}

/* Seconds per fork/join of 2 empty tasks: reps samples of 2000 runs. */
static void measure_latency(const sk_parallel_t *par, int reps, bench_stat_t *out)
{
    for (int r = 0; r < reps; r++) {
        double t0 = bench_now();
        for (int k = 0; k < 2000; k++)
            par->run(par->pool, empty_task, NULL, 2);
        stat_add(out, (bench_now() - t0) / 2000.0);
    }
}

/* ---------------------------------------------------------------------------------------
 * One N
 * ------------------------------------------------------------------------------------- */

static sk_net_t *make_net(uint32_t n, const float *amp)
{
    sk_pop_spec_t pop = {.name = "ff", .model = "lif", .size = n};
    sk_stim_spec_t st = {.kind = SK_STIM_CURRENT, .target = "ff", .amplitudes = amp};
    sk_net_spec_t spec = {
        .dt_ms = 1.0, .seed = 1, .pops = &pop, .n_pops = 1, .stims = &st, .n_stims = 1};
    spec.limits.max_neurons = n;
    sk_net_t *net = NULL;
    sk_err_t err;
    bench_check(sk_net_create(&spec, &net, &err), &err, "sk_net_create");
    return net;
}

typedef struct row {
    uint64_t n;
    uint32_t steps, threads;
    bench_stat_t core, core_team, fused, base; /* updates per second */
    bench_stat_t halves;                       /* 2 threads: two networks of N/2, no data shared */
    bench_stat_t bw; /* DRAM-resident N: bandwidth samples interleaved with the others */
    double spikes_per_update;
    int identical; /* fused v == core v, bit for bit */
} row_t;

static double time_core(sk_net_t *net, const sk_parallel_t *par, uint32_t steps)
{
    sk_net_set_parallel(net, par);
    double t0 = bench_now();
    bench_check(sk_net_step(net, steps, NULL, NULL), NULL, "sk_net_step");
    return bench_now() - t0;
}

static double time_loop(const sk_parallel_t *par, bench_range_fn fn, fused_t *f, size_t n,
                        uint32_t steps)
{
    double t0 = bench_now();
    for (uint32_t s = 0; s < steps; s++)
        bench_par_for(par, fn, f, n);
    return bench_now() - t0;
}

static double time_halves(const sk_parallel_t *team, halves_t *h, uint32_t steps)
{
    double t0 = bench_now();
    for (uint32_t s = 0; s < steps; s++)
        team->run(team->pool, step_half, h, 2);
    return bench_now() - t0;
}

static void run_n(uint32_t n, uint32_t steps, int reps, uint32_t threads, const runners_t *rn,
                  bw_ctx_t *bw, row_t *row)
{
    uint64_t rng = 12345;
    float *amp = bench_alloc(n, sizeof(float));
    for (uint32_t j = 0; j < n; j++)
        amp[j] = AMP_MAX * bench_rand01(&rng);
    sk_net_t *net = make_net(n, amp);
    sk_pop_info_t pi;
    sk_net_pop_info(net, 0, &pi);
    const float dt = (float)sk_model_dt(pi.model, 1.0); /* the model's own float32 values */
    fused_t f = {.v = bench_alloc(n, 4),
                 .i = bench_alloc(n, 4),
                 .amp = amp,
                 .spiked = bench_alloc(n, 1),
                 .k_mem = dt * (float)pi.params[1],
                 .k_syn = (-dt) * (float)pi.params[0],
                 .v_leak = (float)pi.params[2],
                 .v_th = (float)pi.params[3],
                 .v_reset = (float)pi.params[4]};
    fused_t w = f; /* the baseline-ISA loop gets its own state */
    w.v = bench_alloc(n, 4);
    w.i = bench_alloc(n, 4);
    w.spiked = bench_alloc(n, 1);
    const sk_parallel_t *core_par = threads > 1 ? &rn->par_pool : NULL;
    const sk_parallel_t *team_par = threads > 1 ? &rn->par_team : NULL;
    halves_t halves = {{NULL, NULL}};
    if (threads > 1) {
        halves.net[0] = make_net(n / 2, amp);
        halves.net[1] = make_net(n - n / 2, amp + n / 2);
        time_halves(team_par, &halves, steps);
    }

    /* warm-up: first touch of every page, caches, branch history */
    time_core(net, core_par, steps);
    if (threads > 1)
        time_core(net, team_par, steps);
    time_loop(team_par, fused_range, &f, n, threads > 1 ? 2 * steps : steps);
    time_loop(team_par, fused_base, &w, n, steps);
    sk_net_info_t before, after;
    sk_net_info(net, &before);
    memset(row, 0, sizeof *row);
    const double work = (double)n * steps;
    for (int r = 0; r < reps; r++) {
        stat_add(&row->core, work / time_core(net, core_par, steps));
        if (threads > 1) {
            stat_add(&row->core_team, work / time_core(net, team_par, steps));
            stat_add(&row->halves, work / time_halves(team_par, &halves, steps));
        }
        stat_add(&row->fused, work / time_loop(team_par, fused_range, &f, n, steps));
        if (threads > 1) /* keep the fused state in step with the core's */
            time_loop(team_par, fused_range, &f, n, steps);
        stat_add(&row->base, work / time_loop(team_par, fused_base, &w, n, steps));
        if (bw)
            stat_add(&row->bw, bw_sample(team_par, bw, 2));
    }
    sk_net_info(net, &after);
    row->n = n;
    row->steps = steps;
    row->threads = threads;
    row->spikes_per_update =
        (double)(after.spikes_total - before.spikes_total) / (work * reps * (threads > 1 ? 2 : 1));
    const float *v;
    sk_net_state(net, 0, "v", &v);
    row->identical = memcmp(v, f.v, (size_t)n * sizeof(float)) == 0;
    sk_net_destroy(net);
    sk_net_destroy(halves.net[0]);
    sk_net_destroy(halves.net[1]);
    free(f.v);
    free(f.i);
    free(f.spiked);
    free(w.v);
    free(w.i);
    free(w.spiked);
    free(amp);
}

/* ---------------------------------------------------------------------------------------
 * Report
 * ------------------------------------------------------------------------------------- */

typedef struct limits {
    bench_stat_t bw[3];              /* bytes/s, by thread count */
    bench_stat_t lat_pool, lat_team; /* seconds per fork/join */
    uint64_t llc;
    double fused1; /* fused median on 1 thread for the current N, or 0 */
} limits_t;

static void print_row(const row_t *r, const limits_t *lim, bench_json_t *j)
{
    const double bytes = BYTES_CORE_BASE + BYTES_PER_SPIKE * r->spikes_per_update;
    const double core = stat_median(&r->core), fused = stat_median(&r->fused);
    const double bound_b = r->threads > 1 && lim->fused1 > fused ? lim->fused1 : fused;
    const bench_stat_t *bw = r->bw.n ? &r->bw : &lim->bw[r->threads];
    const double bound_a = bw->n ? stat_median(bw) / bytes : 0.0;
    const int cached = (double)r->n * BYTES_RESIDENT <= (double)lim->llc;
    const double bound = cached || bound_a == 0.0 ? bound_b : bound_a;
    fprintf(stderr,
            "%9llu %5u %2u | %6.3f [%6.3f %6.3f] | %6.3f [%6.3f %6.3f] | %6.3f | %6.3f |"
            " %5.1f%% %5.1f%% | %-5s %5.1f%% | %6.3f %6.3f | %4.1f %4.1f | %s\n",
            (unsigned long long)r->n, r->steps, r->threads, core * 1e-9, stat_q(&r->core, 0) * 1e-9,
            stat_q(&r->core, 2) * 1e-9, fused * 1e-9, stat_q(&r->fused, 0) * 1e-9,
            stat_q(&r->fused, 2) * 1e-9, bound_b * 1e-9, bound_a * 1e-9, 100.0 * core / bound_b,
            bound_a > 0 ? 100.0 * core / bound_a : 0.0, cached ? "cache" : "dram",
            100.0 * core / bound, stat_median(&r->base) * 1e-9,
            r->core_team.n ? stat_median(&r->core_team) * 1e-9 : 0.0, core * bytes * 1e-9,
            1e3 * r->spikes_per_update, r->identical ? "yes" : "NO");
    json_open(j, NULL, '{');
    json_num(j, "n", (double)r->n);
    json_num(j, "steps", r->steps);
    json_num(j, "threads", r->threads);
    json_num(j, "reps", r->core.n);
    json_stat(j, "core", &r->core, 1.0);
    if (r->core_team.n)
        json_stat(j, "core_spin_team", &r->core_team, 1.0);
    if (r->halves.n)
        json_stat(j, "core_halves", &r->halves, 1.0);
    json_stat(j, "fused", &r->fused, 1.0);
    json_stat(j, "fused_baseline_isa", &r->base, 1.0);
    json_num(j, "bound_fused", bound_b);
    json_num(j, "bound_bw", bound_a);
    json_stat(j, "bandwidth_bytes_per_s", bw, 1.0);
    json_num(j, "bytes_per_update_core", bytes);
    json_num(j, "bytes_per_update_fused", BYTES_FUSED);
    json_num(j, "spikes_per_update", r->spikes_per_update);
    json_num(j, "rate_hz", 1e3 * r->spikes_per_update);
    json_str(j, "resident", cached ? "cache" : "dram");
    json_num(j, "ratio_to_fused", core / bound_b);
    json_num(j, "ratio_to_bw", bound_a > 0 ? core / bound_a : 0.0);
    json_num(j, "ratio_to_bound", core / bound);
    json_num(j, "core_effective_gb_per_s", core * bytes * 1e-9);
    json_num(j, "fused_effective_gb_per_s", fused * BYTES_FUSED * 1e-9);
    json_num(j, "fused_v_identical", r->identical);
    json_close(j, '}');
}

static int parse(int argc, char **argv, opts_t *o)
{
    memset(o, 0, sizeof *o);
    for (int k = 1; k < argc; k++) {
        const char *a = argv[k], *v = k + 1 < argc ? argv[k + 1] : NULL;
        if (!strcmp(a, "--quick"))
            o->quick = 1;
        else if (!strcmp(a, "--no-bw"))
            o->no_bw = 1;
        else if (v && !strcmp(a, "--json") && ++k)
            o->json = v;
        else if (v && !strcmp(a, "--n") && ++k)
            o->only_n = (uint64_t)strtod(v, NULL);
        else if (v && !strcmp(a, "--reps") && ++k)
            o->reps = atoi(v);
        else if (v && !strcmp(a, "--steps") && ++k)
            o->steps = (uint32_t)atoi(v);
        else if (v && !strcmp(a, "--threads") && ++k)
            o->threads = atoi(v);
        else {
            fprintf(stderr, "usage: bench_ff_lif [--quick] [--n N] [--steps S] [--reps R] "
                            "[--threads 1|2] [--no-bw] [--json FILE|-]\n");
            return 1;
        }
    }
    if (o->reps > BENCH_MAX_SAMPLES)
        o->reps = BENCH_MAX_SAMPLES;
    if (o->only_n > 100000000u) {
        fprintf(stderr, "bench_ff_lif: --n must be <= 1e8\n");
        return 1;
    }
    return 0;
}

static void measure_limits(const opts_t *o, const runners_t *rn, bw_ctx_t *bw, limits_t *lim,
                           bench_json_t *j)
{
    memset(lim, 0, sizeof *lim);
    lim->llc = bench_llc_bytes(32u << 20);
    for (uint32_t t = 1; t <= 2 && !o->no_bw; t++)
        if (!o->threads || o->threads == (int)t)
            measure_bw(t > 1 ? &rn->par_team : NULL, bw, o->quick ? 5 : 7, &lim->bw[t]);
    measure_latency(&rn->par_pool, 7, &lim->lat_pool);
    measure_latency(&rn->par_team, 7, &lim->lat_team);
    json_num(j, "llc_bytes", (double)lim->llc);
    json_num(j, "bytes_bw_element", BYTES_BW);
    json_open(j, "bandwidth_bytes_per_s", '{');
    for (uint32_t t = 1; t <= 2; t++)
        if (lim->bw[t].n)
            json_stat(j, t == 1 ? "1" : "2", &lim->bw[t], 1.0);
    json_close(j, '}');
    json_stat(j, "fork_join_s_pool", &lim->lat_pool, 1.0);
    json_stat(j, "fork_join_s_spin", &lim->lat_team, 1.0);
    for (uint32_t t = 1; t <= 2; t++)
        if (lim->bw[t].n)
            fprintf(stderr, "bandwidth, %u thread(s): %.2f GB/s [%.2f, %.2f] (12 B/element)\n", t,
                    stat_median(&lim->bw[t]) * 1e-9, stat_q(&lim->bw[t], 0) * 1e-9,
                    stat_q(&lim->bw[t], 2) * 1e-9);
    fprintf(stderr,
            "fork/join of 2 empty tasks: sk_pool %.2f us [%.2f, %.2f], spin %.2f us "
            "[%.2f, %.2f]\n",
            stat_median(&lim->lat_pool) * 1e6, stat_q(&lim->lat_pool, 0) * 1e6,
            stat_q(&lim->lat_pool, 2) * 1e6, stat_median(&lim->lat_team) * 1e6,
            stat_q(&lim->lat_team, 0) * 1e6, stat_q(&lim->lat_team, 2) * 1e6);
    fprintf(stderr, "\n        N steps th | core G/s [min    max]  | fused G/s [min   max]  | "
                    "bnd(b) | bnd(a) | /(b)   /(a)   | bound %%bound | base   spin   | GB/s sp/1k"
                    " | v==\n");
}

int main(int argc, char **argv)
{
    opts_t o;
    if (parse(argc, argv, &o))
        return 1;
    static const uint64_t ns[] = {1000, 10000, 100000, 1000000, 10000000, 50000000};
    static const uint32_t steps_full[] = {1000, 1000, 1000, 1000, 100, 20};
    static const uint32_t steps_quick[] = {1000, 1000, 1000, 100, 10, 0};
    static const int reps_full[] = {21, 21, 11, 5, 5, 5};
    static const int reps_quick[] = {11, 11, 7, 5, 5, 0};
    runners_t rn;
    bench_check(sk_pool_create(2, &rn.pool), NULL, "sk_pool_create");
    sk_pool_parallel(rn.pool, &rn.par_pool);
    rn.team = bench_team_create();
    rn.par_team = (sk_parallel_t){.run = bench_team_run, .pool = rn.team, .n_threads = 2};

    bench_json_t j = {0};
    json_open(&j, NULL, '{');
    json_str(&j, "bench", "ff_lif");
    limits_t lim;
    bw_ctx_t bw = {NULL, NULL};
    if (!o.no_bw)
        bw = bw_arrays();
    measure_limits(&o, &rn, &bw, &lim, &j);
    json_open(&j, "rows", '[');
    const size_t count = sizeof ns / sizeof ns[0];
    int all_identical = 1;
    for (size_t k = 0; k <= count; k++) {
        uint64_t n;
        uint32_t steps;
        int reps;
        if (k == count) { /* an N off the list */
            if (!o.only_n)
                break;
            size_t m = 0;
            while (m < count && ns[m] != o.only_n)
                m++;
            if (m < count)
                break;
            n = o.only_n;
            steps = 100;
            reps = 5;
        } else {
            if (o.only_n && ns[k] != o.only_n)
                continue;
            n = ns[k];
            steps = o.quick && !o.only_n ? steps_quick[k] : steps_full[k];
            reps = o.quick && !o.only_n ? reps_quick[k] : reps_full[k];
        }
        if (!steps)
            continue;
        steps = o.steps ? o.steps : steps;
        reps = o.reps ? o.reps : reps;
        lim.fused1 = 0.0;
        for (uint32_t t = 1; t <= 2; t++) {
            if (o.threads && o.threads != (int)t)
                continue;
            row_t r;
            const int dram = (double)n * BYTES_RESIDENT > (double)lim.llc;
            run_n((uint32_t)n, steps, reps, t, &rn, dram && bw.a ? &bw : NULL, &r);
            print_row(&r, &lim, &j);
            all_identical &= r.identical;
            if (t == 1)
                lim.fused1 = stat_median(&r.fused);
        }
    }
    json_close(&j, ']');
    json_close(&j, '}');
    bench_team_destroy(rn.team);
    sk_pool_destroy(rn.pool);
    free(bw.a);
    free((float *)bw.b);
    if (!all_identical)
        fprintf(stderr, "bench_ff_lif: the core's v differs from the fused loop's\n");
    return json_write(&j, o.json) ? 1 : (all_identical ? 0 : 3);
}
