/* test_net.c: the network's contract: delays land on the right step, determinism across
 * step batching and thread counts, parameter changes all-or-nothing, reset, validation
 * errors naming the element, allocation failures handled at every allocation, injections,
 * the spike history's drop-oldest policy and state recorders. */
#include <math.h>
#include <stdlib.h>

#include <criterion/criterion.h>

#include "internal.h"
#include "netspec.h"
#include "sk_pool.h"

static sk_net_t *make(const sk_net_spec_t *spec)
{
    sk_net_t *net = NULL;
    sk_err_t err = {0};
    int rc = sk_net_create(spec, &net, &err);
    cr_assert_eq(rc, 0, "create: %s: %s", err.path, err.msg);
    return net;
}

/* ------------------------------------------------------------------------------------ */

Test(net, a_spike_through_delay_d_arrives_at_step_t_plus_d)
{
    /* source: never fires by itself (v_th huge), forced to spike at step 5 */
    sk_param_t silent[] = {{"v_th", 1e5f}};
    sk_pop_spec_t pops[2] = {pop_spec("src", "lif", 1), pop_spec("dst", "lif", 3)};
    pops[0].params = silent;
    pops[0].n_params = 1;
    uint64_t times[] = {5};
    uint32_t who[] = {0};
    sk_stim_spec_t st = {.kind = SK_STIM_SPIKE_TIMES, .target = "src", .times = times,
                         .spike_neurons = who, .n_times = 1};
    uint32_t pre[] = {0, 0, 0}, post[] = {0, 1, 2}, delay[] = {1, 3, 7};
    float w[] = {0.5f, 0.5f, 0.5f};
    sk_proj_spec_t pr = proj_spec("src", "dst", SK_RULE_EXPLICIT, 0, 1);
    pr.rule = (sk_rule_t){.kind = SK_RULE_EXPLICIT, .pre = pre, .post = post, .weight = w,
                          .delay = delay, .n = 3};
    sk_net_spec_t spec = {.dt_ms = 1, .pops = pops, .n_pops = 2, .projs = &pr, .n_projs = 1,
                          .stims = &st, .n_stims = 1};
    sk_net_t *net = make(&spec);
    for (uint64_t t = 0; t < 20; t++) {
        sk_net_step(net, 1, NULL, NULL);
        const float *cur;
        sk_net_state(net, 1, "i", &cur);
        for (uint32_t j = 0; j < 3; j++) {
            /* i_j = i + x, then decays by (1 - 0.2): first nonzero right at step 5 + delay */
            int arrived = t >= 5 + delay[j];
            cr_expect_eq(cur[j] != 0.0f, arrived, "neuron %u (delay %u) at step %llu: i = %g", j,
                         delay[j], (unsigned long long)t, (double)cur[j]);
            if (t == 5 + delay[j])
                cr_expect_eq(cur[j], 0.5f + -0.2f * 0.5f);
        }
    }
    sk_net_destroy(net);
}

/* A network with every feature: two populations, a sign-split target, delays, Poisson,
 * drawn weights, a recorder; used for the determinism and reset tests. */
static sk_param_t coba_params[] = {{"tau_syn_exc_inv", 200}, {"tau_syn_inh_inv", 100},
                                   {"c_m_inv", 50},          {"g_l", 1},
                                   {"e_rev_E", 0},           {"e_rev_I", -80},
                                   {"v_rest", -60},          {"v_reset", -60},
                                   {"v_thresh", -50}};
static sk_init_t coba_init[] = {{"v", SK_INIT_UNIFORM, -60, -50, NULL, 0},
                                {"g_e", SK_INIT_NORMAL, 4, 1.5f, NULL, 0}};
static const char *rec_vars[] = {"v", "g_e"};
static uint32_t rec_neurons[] = {0, 7, 99};

static void busy_spec(sk_net_spec_t *spec, sk_pop_spec_t *pops, sk_proj_spec_t *pr,
                      sk_stim_spec_t *st, sk_rec_spec_t *rec)
{
    pops[0] = pop_spec("exc", "coba_lif", 400);
    pops[0].params = coba_params;
    pops[0].n_params = 9;
    pops[0].init = coba_init;
    pops[0].n_init = 2;
    pops[0].refractory_steps = 20;
    pops[1] = pop_spec("inh", "lif", 100);
    pr[0] = proj_spec("exc", "exc", SK_RULE_FIXED_PROBABILITY, 0, 3);
    pr[0].rule.p = 0.05;
    pr[0].weight = (sk_dist_t){.kind = SK_DIST_NORMAL, .a = 0.3f, .b = 0.6f};
    pr[1] = proj_spec("exc", "inh", SK_RULE_FIXED_INDEGREE, 0.2f, 2);
    pr[1].rule.indegree = 10;
    pr[2] = proj_spec("inh", "exc", SK_RULE_ALL_TO_ALL, -0.4f, 1);
    st[0] = (sk_stim_spec_t){.kind = SK_STIM_POISSON, .target = "exc", .rate_hz = 800,
                             .weight = 0.5f, .n_sources = 4};
    st[1] = (sk_stim_spec_t){.kind = SK_STIM_CURRENT, .target = "inh", .amplitude = 30};
    *rec = (sk_rec_spec_t){.population = "exc", .variables = rec_vars, .n_variables = 2,
                           .neurons = rec_neurons, .n_neurons = 3, .every = 2};
    *spec = (sk_net_spec_t){.dt_ms = 0.1, .seed = 2024, .pops = pops, .n_pops = 2, .projs = pr,
                            .n_projs = 3, .stims = st, .n_stims = 2, .recs = rec, .n_recs = 1};
}

static sk_net_t *busy_net(void)
{
    sk_net_spec_t spec;
    sk_pop_spec_t pops[2];
    sk_proj_spec_t pr[3];
    sk_stim_spec_t st[2];
    sk_rec_spec_t rec;
    busy_spec(&spec, pops, pr, st, &rec);
    return make(&spec);
}

Test(net, stepping_1000_x_1_equals_1_x_1000)
{
    sk_net_t *a = busy_net(), *b = busy_net();
    cr_assert(nets_equal(a, b), "two builds from one description differ");
    for (int k = 0; k < 1000; k++)
        sk_net_step(a, 1, NULL, NULL);
    sk_net_step(b, 1000, NULL, NULL);
    sk_net_info_t ia;
    sk_net_info(a, &ia);
    cr_assert_gt(ia.spikes_total, 1000, "the test network should be active (%llu spikes)",
                 (unsigned long long)ia.spikes_total);
    cr_expect(nets_equal(a, b));
    sk_net_destroy(a);
    sk_net_destroy(b);
}

Test(net, parallel_stepping_is_bit_identical_to_one_thread)
{
    sk_net_t *seq = busy_net();
    sk_net_step(seq, 600, NULL, NULL);
    for (uint32_t threads = 2; threads <= 4; threads++) {
        sk_pool_t *pool;
        cr_assert_eq(sk_pool_create(threads, &pool), 0);
        sk_parallel_t par;
        sk_pool_parallel(pool, &par);
        par.grain = 1; /* split even this small network */
        sk_net_t *net = busy_net();
        sk_net_set_parallel(net, &par);
        sk_net_step(net, 250, NULL, NULL);
        sk_net_set_parallel(net, NULL);
        sk_net_step(net, 100, NULL, NULL);
        sk_net_set_parallel(net, &par);
        sk_net_step(net, 250, NULL, NULL);
        cr_expect(nets_equal(seq, net), "%u threads differ from one", threads);
        sk_net_destroy(net);
        sk_pool_destroy(pool);
    }
    sk_net_destroy(seq);
}

/* Steps a network from make_net() on 2, 3 and 4 threads (grain 1: even tiny networks
 * split) in the given chunks of steps and expects it equal to seq, stepped on one. */
static void expect_same_on_threads(sk_net_t *(*make_net)(void), const sk_net_t *seq,
                                   const uint64_t *chunks, size_t n_chunks)
{
    for (uint32_t threads = 2; threads <= 4; threads++) {
        sk_pool_t *pool;
        cr_assert_eq(sk_pool_create(threads, &pool), 0);
        sk_parallel_t par;
        sk_pool_parallel(pool, &par);
        par.grain = 1;
        sk_net_t *net = make_net();
        sk_net_set_parallel(net, &par);
        for (size_t k = 0; k < n_chunks; k++)
            sk_net_step(net, chunks[k], NULL, NULL);
        cr_expect(nets_equal(seq, net), "%u threads differ from one", threads);
        sk_net_destroy(net);
        sk_pool_destroy(pool);
    }
}

/* Populations smaller than the parts they are split into: some parts are empty and start
 * where the next part starts; the spikes each part collected must still all be kept. */
static sk_net_t *tiny_net(void)
{
    static float amps[33];
    for (uint32_t j = 0; j < 33; j++)
        amps[j] = 0.15f + 0.01f * (float)j;
    sk_pop_spec_t pops[3] = {pop_spec("a", "lif", 10), pop_spec("b", "lif", 33),
                             pop_spec("c", "lif", 1)};
    sk_stim_spec_t st[3] = {{.kind = SK_STIM_CURRENT, .target = "a", .amplitudes = amps},
                            {.kind = SK_STIM_CURRENT, .target = "b", .amplitudes = amps},
                            {.kind = SK_STIM_CURRENT, .target = "c", .amplitude = 0.4f}};
    sk_net_spec_t spec = {.dt_ms = 1, .seed = 3, .pops = pops, .n_pops = 3, .stims = st,
                          .n_stims = 3};
    return make(&spec);
}

Test(net, parallel_stepping_of_populations_smaller_than_the_parts_keeps_every_spike)
{
    sk_net_t *seq = tiny_net();
    sk_net_step(seq, 200, NULL, NULL);
    sk_net_info_t info;
    sk_net_info(seq, &info);
    cr_assert_gt(info.spikes_total, 500, "the test network should spike");
    static const uint64_t chunks[] = {200};
    expect_same_on_threads(tiny_net, seq, chunks, 1);
    sk_net_destroy(seq);
}

/* A fake pool and clock for the split decision (sk_parallel_t.clock). The run function
 * runs the tasks in order and counts its calls (each is a split phase); the clock is read in
 * pairs around a timed group and advances by split_s if the group split, else by whole_s. */
typedef struct fake_par {
    uint64_t runs, runs_at_start, clock_calls;
    double now, split_s, whole_s;
} fake_par_t;

static void fake_run(void *pool, sk_task_fn task, void *arg, uint32_t n_tasks)
{
    fake_par_t *f = pool;
    f->runs++;
    for (uint32_t k = 0; k < n_tasks; k++)
        task(arg, k);
}

static double fake_clock(void *arg)
{
    fake_par_t *f = arg;
    if (f->clock_calls++ % 2 == 0)
        f->runs_at_start = f->runs;
    else
        f->now += f->runs > f->runs_at_start ? f->split_s : f->whole_s;
    return f->now;
}

/* Steps tiny_net (no projections: only the model phase can split) 300 steps, then 100 more
 * (too few to time again), on the fake pool with the given clock; returns the runs of the
 * last 100 steps and expects the result equal to sequential stepping. */
static uint64_t split_runs_after_tuning(fake_par_t *f, double (*clock)(void *))
{
    sk_net_t *seq = tiny_net(), *net = tiny_net();
    sk_net_step(seq, 400, NULL, NULL);
    sk_parallel_t par = {.run = fake_run, .pool = f, .n_threads = 2, .grain = 1,
                         .clock = clock, .clock_arg = f};
    sk_net_set_parallel(net, &par);
    cr_assert_eq(sk_net_step(net, 300, NULL, NULL), 0);
    const uint64_t before = f->runs;
    cr_assert_eq(sk_net_step(net, 100, NULL, NULL), 0);
    cr_expect(nets_equal(seq, net), "the split choice changed results");
    sk_net_destroy(net);
    sk_net_destroy(seq);
    return f->runs - before;
}

Test(net, tuning_keeps_the_model_phase_whole_when_the_clock_says_whole_is_faster)
{
    fake_par_t f = {.split_s = 2.0, .whole_s = 1.0};
    const uint64_t runs = split_runs_after_tuning(&f, fake_clock);
    cr_expect_eq(f.clock_calls, 24, "one probe: 12 groups, two reads each (got %llu)",
                 (unsigned long long)f.clock_calls);
    cr_expect_eq(runs, 0, "whole was faster, yet %llu phases split", (unsigned long long)runs);
}

Test(net, tuning_splits_the_model_phase_when_the_clock_says_split_is_faster)
{
    fake_par_t f = {.split_s = 1.0, .whole_s = 2.0};
    const uint64_t runs = split_runs_after_tuning(&f, fake_clock);
    cr_expect_eq(f.clock_calls, 24, "one probe: 12 groups, two reads each (got %llu)",
                 (unsigned long long)f.clock_calls);
    cr_expect_gt(runs, 0, "split was faster, yet no phase split");
}

Test(net, without_a_clock_the_core_never_tunes_and_splits_when_the_grain_allows)
{
    fake_par_t f = {.split_s = 2.0, .whole_s = 1.0};
    const uint64_t runs = split_runs_after_tuning(&f, NULL);
    cr_expect_eq(f.clock_calls, 0);
    cr_expect_gt(runs, 0, "no clock: every epoch's model phase should split");
}

Test(net, reset_replays_the_same_run)
{
    sk_net_t *a = busy_net(), *b = busy_net();
    sk_net_step(a, 300, NULL, NULL);
    sk_net_reset(a);
    cr_expect(nets_equal(a, b), "reset must restore the initial network");
    sk_net_step(a, 300, NULL, NULL);
    sk_net_step(b, 300, NULL, NULL);
    cr_expect(nets_equal(a, b));
    sk_net_destroy(a);
    sk_net_destroy(b);
}

Test(net, cancel_stops_between_steps)
{
    sk_net_t *net = busy_net();
    volatile int cancel = 1;
    uint64_t done = 99;
    cr_expect_eq(sk_net_step(net, 10, &cancel, &done), SK_ECANCELED);
    cr_expect_eq(done, 0);
    cancel = 0;
    cr_expect_eq(sk_net_step(net, 10, &cancel, &done), 0);
    cr_expect_eq(done, 10);
    sk_net_destroy(net);
}

Test(net, set_params_is_all_or_nothing)
{
    sk_net_t *net = busy_net();
    sk_pop_info_t before, after;
    sk_net_pop_info(net, 1, &before);
    float saved[SK_MODEL_MAX_PARAMS];
    memcpy(saved, before.params, sizeof saved);
    sk_param_t change[] = {{"v_th", 2.0f}, {"tau_mem_inv", -1.0f}};
    sk_err_t err;
    cr_expect_eq(sk_net_set_params(net, 1, change, 2, &err), SK_ERANGE);
    cr_expect_str_eq(err.path, "tau_mem_inv");
    sk_net_pop_info(net, 1, &after);
    cr_expect_eq(memcmp(saved, after.params, sizeof saved), 0, "a rejected change changed state");
    sk_param_t unknown[] = {{"v_th", 2.0f}, {"nope", 1.0f}};
    cr_expect_eq(sk_net_set_params(net, 1, unknown, 2, &err), SK_ENOENT);
    cr_expect_str_eq(err.path, "nope");
    sk_param_t nan[] = {{"v_th", NAN}};
    cr_expect_eq(sk_net_set_params(net, 1, nan, 1, &err), SK_ERANGE);
    cr_expect_eq(sk_net_set_params(net, 1, change, 1, &err), 0);
    sk_net_pop_info(net, 1, &after);
    cr_expect_eq(after.params[sk_model_param_index(after.model, "v_th")], 2.0f);
    /* derived constants follow the parameters */
    sk_param_t rate[] = {{"tau_mem_inv", 50.0f}};
    cr_expect_eq(sk_net_set_params(net, 1, rate, 1, &err), 0);
    cr_expect_eq(net->pops[1].d[0], (float)net->pops[1].dt * 50.0f);
    sk_net_destroy(net);
}

/* ------------------------------------------------------------------------------------ */
/* Validation: each bad element is named                                                 */

typedef struct bad_case {
    const char *what;
    void (*mutate)(sk_net_spec_t *, sk_pop_spec_t *, sk_proj_spec_t *, sk_stim_spec_t *,
                   sk_rec_spec_t *);
    int code;
    const char *path;
} bad_case_t;

#define MUT(name, body)                                                                        \
    static void name(sk_net_spec_t *spec, sk_pop_spec_t *pops, sk_proj_spec_t *pr,            \
                     sk_stim_spec_t *st, sk_rec_spec_t *rec)                                   \
    {                                                                                          \
        (void)spec, (void)pops, (void)pr, (void)st, (void)rec;                                \
        body;                                                                                  \
    }

static sk_param_t bad_tau[] = {{"tau_mem_inv", -3.0f}};
static sk_param_t bad_name[] = {{"tau", 3.0f}};
static sk_init_t bad_init[] = {{"w", SK_INIT_CONST, 0, 0, NULL, 0}};
static sk_init_t bad_uniform[] = {{"v", SK_INIT_UNIFORM, 1, 0, NULL, 0}};
static uint32_t far_neuron[] = {100000};
static const char *bad_var[] = {"x"};
MUT(m_dt, spec->dt_ms = 0)
MUT(m_dt_nan, spec->dt_ms = NAN)
MUT(m_no_pops, spec->n_pops = 0)
MUT(m_name, pops[1].name = "bad/name")
MUT(m_dup, pops[1].name = "exc")
MUT(m_model, pops[1].model = "hodgkin")
MUT(m_size, pops[1].size = 0)
MUT(m_param, (pops[1].params = bad_tau, pops[1].n_params = 1))
MUT(m_param_name, (pops[1].params = bad_name, pops[1].n_params = 1))
MUT(m_init, (pops[1].init = bad_init, pops[1].n_init = 1))
MUT(m_uniform, (pops[1].init = bad_uniform, pops[1].n_init = 1))
MUT(m_refrac, pops[1].refractory_steps = 70000)
MUT(m_source, pr[1].source = "nowhere")
MUT(m_target, pr[2].target = "nowhere")
MUT(m_channel, pr[1].channel = "g_x")
MUT(m_delay, pr[0].delay_steps = 20000)
MUT(m_weight, pr[0].weight.b = -1)
MUT(m_stim_target, st[0].target = "nowhere")
MUT(m_stim_rate, st[0].rate_hz = -5)
MUT(m_stim_neurons, (st[1].neurons = far_neuron, st[1].n_neurons = 1))
MUT(m_rec_pop, rec->population = "nowhere")
MUT(m_rec_var, rec->variables = bad_var)
MUT(m_rec_neuron, rec->neurons = far_neuron)
MUT(m_neurons, spec->limits.max_neurons = 450)
MUT(m_bytes, spec->limits.max_bytes = 100000)

static const bad_case_t bad_cases[] = {
    {"dt 0", m_dt, SK_ERANGE, "dt"},
    {"dt NaN", m_dt_nan, SK_ERANGE, "dt"},
    {"no populations", m_no_pops, SK_EINVAL, "populations"},
    {"bad name", m_name, SK_EINVAL, "populations[1].name"},
    {"duplicate name", m_dup, SK_EEXIST, "populations[1].name"},
    {"unknown model", m_model, SK_ENOENT, "populations[1].model"},
    {"size 0", m_size, SK_ERANGE, "populations[1].size"},
    {"parameter out of range", m_param, SK_ERANGE, "populations[1].params.tau_mem_inv"},
    {"unknown parameter", m_param_name, SK_ENOENT, "populations[1].params.tau"},
    {"unknown state variable", m_init, SK_ENOENT, "populations[1].initial.w"},
    {"uniform low > high", m_uniform, SK_ERANGE, "populations[1].initial.v"},
    {"refractory too long", m_refrac, SK_ERANGE, "populations[1].refractory_steps"},
    {"unknown source", m_source, SK_ENOENT, "projections[1].source"},
    {"unknown target", m_target, SK_ENOENT, "projections[2].target"},
    {"unknown channel", m_channel, SK_ENOENT, "projections[1].channel"},
    {"delay over the limit", m_delay, SK_ELIMIT, "projections[0].delay_steps"},
    {"negative sd", m_weight, SK_ERANGE, "projections[0].weight"},
    {"unknown stimulus target", m_stim_target, SK_ENOENT, "stimuli[0].target"},
    {"negative rate", m_stim_rate, SK_ERANGE, "stimuli[0].rate_hz"},
    {"stimulus neuron out of range", m_stim_neurons, SK_ERANGE, "stimuli[1].neurons"},
    {"recorder population", m_rec_pop, SK_ENOENT, "recorders[0].population"},
    {"recorder variable", m_rec_var, SK_ENOENT, "recorders[0].variables"},
    {"recorder neuron", m_rec_neuron, SK_ERANGE, "recorders[0].neurons"},
    {"neuron limit", m_neurons, SK_ELIMIT, "populations[1].size"},
    {"memory limit", m_bytes, SK_ELIMIT, ""},
};

Test(net, every_invalid_element_is_rejected_with_its_path)
{
    for (size_t k = 0; k < sizeof bad_cases / sizeof bad_cases[0]; k++) {
        sk_net_spec_t spec;
        sk_pop_spec_t pops[2];
        sk_proj_spec_t pr[3];
        sk_stim_spec_t st[2];
        sk_rec_spec_t rec;
        busy_spec(&spec, pops, pr, st, &rec);
        bad_cases[k].mutate(&spec, pops, pr, st, &rec);
        sk_net_t *net = NULL;
        sk_err_t err = {0};
        int rc = sk_net_create(&spec, &net, &err);
        cr_expect_eq(rc, bad_cases[k].code, "%s: got %s (%s: %s)", bad_cases[k].what,
                     sk_err_name(rc), err.path, err.msg);
        cr_expect_str_eq(err.path, bad_cases[k].path, "%s", bad_cases[k].what);
        cr_expect_gt(strlen(err.msg), 5, "%s: empty message", bad_cases[k].what);
        cr_expect_null(net);
    }
}

/* ------------------------------------------------------------------------------------ */
/* Allocation failures                                                                   */

static long fail_at, calls;
static void *failing_malloc(size_t n)
{
    return ++calls == fail_at ? NULL : malloc(n);
}

Test(net, every_allocation_failure_is_reported_and_leaks_nothing)
{
    int created = 0;
    for (fail_at = 1; fail_at < 400 && !created; fail_at++) {
        calls = 0;
        sk_set_allocator(failing_malloc, free);
        sk_net_spec_t spec;
        sk_pop_spec_t pops[2];
        sk_proj_spec_t pr[3];
        sk_stim_spec_t st[2];
        sk_rec_spec_t rec;
        busy_spec(&spec, pops, pr, st, &rec);
        sk_net_t *net = NULL;
        sk_err_t err;
        int rc = sk_net_create(&spec, &net, &err);
        sk_set_allocator(NULL, NULL);
        if (rc == 0) {
            created = 1;
            sk_net_step(net, 20, NULL, NULL);
            sk_net_destroy(net);
        } else {
            cr_expect_eq(rc, SK_ENOMEM, "failure at allocation %ld gave %s", fail_at,
                         sk_err_name(rc));
            cr_expect_null(net);
        }
    }
    cr_expect(created, "never succeeded");
    cr_expect_gt(fail_at, 10, "too few allocations were exercised");
}

/* ------------------------------------------------------------------------------------ */
/* Injections, history, recorders                                                        */

static int collect_ids(void *ctx, uint64_t step, uint32_t pop, const uint32_t *ids, uint32_t n)
{
    uint64_t *sum = ctx;
    (void)pop;
    for (uint32_t k = 0; k < n; k++)
        sum[0] += step * 1000 + ids[k], sum[1]++;
    return 0;
}

/* A network from spec with n injections queued. */
static sk_net_t *make_injected(const sk_net_spec_t *spec, const sk_inject_t *inj, uint32_t n)
{
    sk_net_t *net = make(spec);
    sk_err_t err;
    cr_assert_eq(sk_net_inject(net, inj, n, &err), 0, "%s", err.msg);
    return net;
}

/* Forced spikes (spike times, injected spikes) are collected again from the flags of the
 * whole population, across the parts' ranges; their projection must deliver them and the
 * history keep them, the same for any thread count and any chunking of the steps. */
static uint64_t forced_times[] = {3, 3, 3, 10, 40, 41, 90};
static uint32_t forced_who[] = {0, 250, 299, 130, 64, 65, 200};
static float forced_amps[300];

static int find_forced(void *ctx, uint64_t step, uint32_t pop, const uint32_t *ids, uint32_t n)
{
    uint32_t *found = ctx;
    for (uint32_t j = 0; j < n && pop == 0; j++)
        for (uint32_t k = 0; k < 3; k++)
            *found |= (uint32_t)(ids[j] == forced_who[k] && step == forced_times[k]) << k;
    return 0;
}

static sk_net_t *forced_net(void)
{
    for (uint32_t j = 0; j < 300; j++)
        forced_amps[j] = j % 3 == 0 ? 0.25f : 0.05f; /* a third fire by themselves */
    sk_pop_spec_t pops[2] = {pop_spec("src", "lif", 300), pop_spec("dst", "lif", 200)};
    sk_stim_spec_t st[2] = {{.kind = SK_STIM_CURRENT, .target = "src", .amplitudes = forced_amps},
                            {.kind = SK_STIM_SPIKE_TIMES,
                             .target = "src",
                             .times = forced_times,
                             .spike_neurons = forced_who,
                             .n_times = 7}};
    sk_proj_spec_t pr = proj_spec("src", "dst", SK_RULE_FIXED_PROBABILITY, 0.3f, 2);
    pr.rule.p = 0.1;
    sk_net_spec_t spec = {.dt_ms = 1,
                          .seed = 9,
                          .pops = pops,
                          .n_pops = 2,
                          .projs = &pr,
                          .n_projs = 1,
                          .stims = st,
                          .n_stims = 2};
    sk_inject_t inj[3] = {{.kind = SK_INJECT_SPIKE, .pop = 0, .neuron = 1, .step = 7},
                          {.kind = SK_INJECT_SPIKE, .pop = 0, .neuron = 290, .step = 7},
                          {.kind = SK_INJECT_SPIKE, .pop = 1, .neuron = 150, .step = 55}};
    return make_injected(&spec, inj, 3);
}

Test(net, parallel_stepping_with_forced_spikes_is_bit_identical_to_one_thread)
{
    static const uint64_t chunks[] = {1, 2, 1, 7, 50, 3, 36};
    sk_net_t *seq = forced_net();
    for (int k = 0; k < 100; k++) /* single steps: the others run in epochs (step.c) */
        sk_net_step(seq, 1, NULL, NULL);
    expect_same_on_threads(forced_net, seq, chunks, sizeof chunks / sizeof chunks[0]);
    uint32_t found = 0; /* bit k: forced_who[k] is in the history at step 3 */
    cr_assert_eq(sk_net_spikes(seq, 3, 4, NULL, find_forced, &found), 0);
    cr_expect_eq(found, 7u, "the spikes forced at step 3 are in the history (found %#x)", found);
    sk_net_destroy(seq);
}

/* A network without projections whose steps have forced spikes (spike times, an injected
 * spike), injected currents and recorder samples at scattered steps, Poisson input and a
 * step current: the same on 2-4 threads as on one, in any chunking of the steps. */
static uint64_t ff_times[] = {5, 6, 31, 32, 33, 80};
static uint32_t ff_who[] = {3, 700, 64, 65, 1000, 1199};
static uint64_t ff_step_times[] = {0, 17, 60};
static float ff_step_amps[] = {0.1f, 0.3f, 0.05f};
static uint32_t ff_rec_neurons[] = {0, 640, 1199};
static const char *ff_rec_vars[] = {"v"};

static sk_net_t *ff_net(void)
{
    sk_pop_spec_t pops[2] = {pop_spec("a", "lif", 1200), pop_spec("b", "lif_refrac", 700)};
    sk_stim_spec_t st[3] = {
        {.kind = SK_STIM_POISSON, .target = "a", .rate_hz = 900, .n_sources = 2, .weight = 0.4f},
        {.kind = SK_STIM_STEP_CURRENT,
         .target = "b",
         .times = ff_step_times,
         .amplitudes = ff_step_amps,
         .n_times = 3},
        {.kind = SK_STIM_SPIKE_TIMES,
         .target = "a",
         .times = ff_times,
         .spike_neurons = ff_who,
         .n_times = 6}};
    sk_rec_spec_t rec = {.population = "a",
                         .variables = ff_rec_vars,
                         .n_variables = 1,
                         .neurons = ff_rec_neurons,
                         .n_neurons = 3,
                         .every = 7};
    sk_net_spec_t spec = {.dt_ms = 1,
                          .seed = 77,
                          .pops = pops,
                          .n_pops = 2,
                          .stims = st,
                          .n_stims = 3,
                          .recs = &rec,
                          .n_recs = 1};
    sk_inject_t inj[4] = {{.kind = SK_INJECT_CURRENT,
                           .pop = 1,
                           .channel = -1,
                           .neuron = 9,
                           .step = 12,
                           .value = 2.0f},
                          {.kind = SK_INJECT_CURRENT,
                           .pop = 0,
                           .channel = -1,
                           .neuron = 800,
                           .step = 45,
                           .value = 3.0f},
                          {.kind = SK_INJECT_SPIKE, .pop = 1, .neuron = 699, .step = 52},
                          {.kind = SK_INJECT_SPIKE, .pop = 0, .neuron = 0, .step = 99}};
    return make_injected(&spec, inj, 4);
}

Test(net, parallel_stepping_without_projections_is_bit_identical_to_one_thread)
{
    static const uint64_t chunks[] = {1, 2, 3, 1, 9, 40, 4, 1, 59, 2, 178};
    sk_net_t *seq = ff_net();
    for (int k = 0; k < 300; k++) /* single steps: the others run in epochs (step.c) */
        sk_net_step(seq, 1, NULL, NULL);
    sk_net_info_t info;
    sk_net_info(seq, &info);
    cr_assert_gt(info.spikes_total, 1000, "the test network should spike (%llu)",
                 (unsigned long long)info.spikes_total);
    expect_same_on_threads(ff_net, seq, chunks, sizeof chunks / sizeof chunks[0]);
    /* and as one call, long enough for the tuning to time both modes (step.c, Tuning) */
    static const uint64_t whole[] = {300};
    expect_same_on_threads(ff_net, seq, whole, 1);
    sk_net_destroy(seq);
}

/* Epochs (step.c): with every delay >= 3 the model phase runs up to 3 steps per fork, ended
 * early by queued input, forced spikes and recorder samples. Per-synapse delays 3-7, a dense
 * sign-split projection, Poisson, spike times, injections and a recorder at scattered steps:
 * the same results, bit for bit, as one step per call, in any chunking and on 1-4 threads. */
static uint64_t ep_times[] = {10, 11, 25, 26, 27, 70, 71};
static uint32_t ep_who[] = {5, 6, 300, 301, 599, 0, 1};
static uint32_t ep_pre[64], ep_post[64], ep_delay[64];
static float ep_amps[600];
static const char *ep_vars[] = {"v"};
static uint32_t ep_rec_neurons[] = {0, 150, 299};

static sk_net_t *epoch_net_with(uint64_t spike_history)
{
    for (uint32_t j = 0; j < 64; j++) {
        ep_pre[j] = (j * 37u) % 300u;
        ep_post[j] = (j * 53u) % 600u;
        ep_delay[j] = 3u + j % 5u;
    }
    for (uint32_t j = 0; j < 600; j++)
        ep_amps[j] = 0.05f + 0.2f * (float)(j % 7) / 6.0f;
    sk_pop_spec_t pops[2] = {pop_spec("a", "lif", 600), pop_spec("b", "coba_lif", 300)};
    pops[1].params = coba_params;
    pops[1].n_params = 9;
    pops[1].init = coba_init;
    pops[1].n_init = 2;
    pops[1].refractory_steps = 5;
    sk_proj_spec_t pr[3] = {proj_spec("a", "b", SK_RULE_FIXED_PROBABILITY, 0.5f, 4),
                            proj_spec("b", "a", SK_RULE_EXPLICIT, 0.3f, 0),
                            proj_spec("b", "b", SK_RULE_ALL_TO_ALL, -0.05f, 5)};
    pr[0].rule.p = 0.1;
    pr[1].rule.pre = ep_pre;
    pr[1].rule.post = ep_post;
    pr[1].rule.delay = ep_delay;
    pr[1].rule.n = 64;
    sk_stim_spec_t st[3] = {
        {.kind = SK_STIM_POISSON, .target = "a", .rate_hz = 900, .n_sources = 2, .weight = 0.3f},
        {.kind = SK_STIM_CURRENT, .target = "a", .amplitudes = ep_amps},
        {.kind = SK_STIM_SPIKE_TIMES,
         .target = "a",
         .times = ep_times,
         .spike_neurons = ep_who,
         .n_times = 7}};
    sk_rec_spec_t rec = {.population = "b",
                         .variables = ep_vars,
                         .n_variables = 1,
                         .neurons = ep_rec_neurons,
                         .n_neurons = 3,
                         .every = 11};
    sk_net_spec_t spec = {.dt_ms = 1,
                          .seed = 5,
                          .pops = pops,
                          .n_pops = 2,
                          .projs = pr,
                          .n_projs = 3,
                          .stims = st,
                          .n_stims = 3,
                          .recs = &rec,
                          .n_recs = 1};
    spec.limits.spike_history = spike_history;
    sk_inject_t inj[4] = {
        {.kind = SK_INJECT_CURRENT, .pop = 0, .channel = -1, .neuron = 7, .step = 14, .value = 2},
        {.kind = SK_INJECT_SPIKE, .pop = 1, .neuron = 299, .step = 33},
        {.kind = SK_INJECT_SPIKE, .pop = 0, .neuron = 12, .step = 34},
        {.kind = SK_INJECT_CURRENT, .pop = 1, .channel = 1, .neuron = 0, .step = 61, .value = 1}};
    return make_injected(&spec, inj, 4);
}

static sk_net_t *epoch_net(void)
{
    return epoch_net_with(0);
}

Test(net, epochs_of_several_steps_equal_single_steps)
{
    sk_net_t *seq = epoch_net(), *one = epoch_net();
    for (int k = 0; k < 240; k++)
        sk_net_step(seq, 1, NULL, NULL);
    sk_net_info_t info;
    sk_net_info(seq, &info);
    cr_assert_gt(info.spikes_total, 3000, "the test network should spike (%llu)",
                 (unsigned long long)info.spikes_total);
    sk_pop_info_t b;
    sk_net_pop_info(seq, 1, &b);
    cr_assert_gt(b.spikes_total, 100, "b should spike (%llu)", (unsigned long long)b.spikes_total);
    sk_net_step(one, 240, NULL, NULL);
    cr_expect(nets_equal(seq, one), "one call of 240 steps differs from 240 calls of one");
    static const uint64_t chunks[] = {5, 1, 2, 17, 100, 77, 38};
    expect_same_on_threads(epoch_net, seq, chunks, sizeof chunks / sizeof chunks[0]);
    static const uint64_t all[] = {240};
    expect_same_on_threads(epoch_net, seq, all, 1);
    /* a history of one step's ids leaves no room for an epoch's: single steps, same state */
    sk_net_t *small = epoch_net_with(900);
    sk_net_step(small, 240, NULL, NULL);
    for (uint32_t k = 0; k < 2; k++) {
        const float *x, *y;
        cr_assert_eq(sk_net_state(seq, k, "v", &x), 0);
        cr_assert_eq(sk_net_state(small, k, "v", &y), 0);
        cr_expect_arr_eq(x, y, (k ? 300 : 600) * sizeof(float), "population %u's v differs", k);
    }
    sk_net_destroy(small);
    sk_net_destroy(one);
    sk_net_destroy(seq);
}

Test(net, injected_spikes_and_currents_land_on_their_step)
{
    sk_param_t silent[] = {{"v_th", 1e5f}, {"tau_syn_inv", 0.0f}};
    sk_pop_spec_t pop = pop_spec("p", "lif", 10);
    pop.params = silent;
    pop.n_params = 2;
    sk_net_spec_t spec = {.dt_ms = 1, .pops = &pop, .n_pops = 1};
    sk_net_t *net = make(&spec);
    sk_net_step(net, 3, NULL, NULL);
    sk_inject_t inj[] = {
        {.kind = SK_INJECT_SPIKE, .neuron = 4, .step = 7},
        {.kind = SK_INJECT_CURRENT, .channel = -1, .neuron = 2, .step = 5, .value = 1.5f},
        {.kind = SK_INJECT_CURRENT, .channel = 0, .neuron = 2, .step = 5, .value = 0.25f},
        {.kind = SK_INJECT_SPIKE, .neuron = 9, .step = 3},
    };
    sk_err_t err;
    cr_assert_eq(sk_net_inject(net, inj, 4, &err), 0, "%s %s", err.path, err.msg);
    sk_inject_t past = {.kind = SK_INJECT_SPIKE, .neuron = 1, .step = 2};
    cr_expect_eq(sk_net_inject(net, &past, 1, &err), SK_ERANGE);
    cr_expect_str_eq(err.path, "[0].step");
    sk_inject_t far = {.kind = SK_INJECT_SPIKE, .neuron = 10, .step = 9};
    cr_expect_eq(sk_net_inject(net, &far, 1, &err), SK_ERANGE);
    cr_expect_str_eq(err.path, "[0].neuron");
    sk_net_info_t info;
    sk_net_info(net, &info);
    cr_expect_eq(info.pending, 4, "rejected batches must not be queued");
    sk_net_step(net, 10, NULL, NULL);
    const float *cur;
    sk_net_state(net, 0, "i", &cur);
    cr_expect_eq(cur[2], 1.75f);
    uint64_t sum[2] = {0};
    sk_net_spikes(net, 0, 100, NULL, collect_ids, sum);
    cr_expect_eq(sum[1], 2);
    cr_expect_eq(sum[0], 3009 + 7004);
    sk_net_info(net, &info);
    cr_expect_eq(info.pending, 0);
    sk_net_destroy(net);
}

Test(net, spike_history_drops_the_oldest_steps_first)
{
    sk_param_t fast[] = {{"tau_syn_inv", 0.0f}};
    sk_pop_spec_t pop = pop_spec("p", "lif", 8);
    pop.params = fast;
    pop.n_params = 1;
    sk_stim_spec_t st = {.kind = SK_STIM_CURRENT, .target = "p", .amplitude = 5};
    sk_net_spec_t spec = {.dt_ms = 1, .pops = &pop, .n_pops = 1, .stims = &st, .n_stims = 1,
                          .limits = {.spike_history = 20, .history_steps = 1000}};
    sk_net_t *net = make(&spec);
    sk_net_step(net, 200, NULL, NULL);
    uint64_t first = 0, sum[2] = {0};
    sk_net_spikes(net, 0, 200, &first, collect_ids, sum);
    cr_expect_gt(first, 150, "old steps should have been dropped (first kept %llu)",
                 (unsigned long long)first);
    cr_expect_leq(sum[1], 20, "the history holds at most its capacity");
    cr_expect_gt(sum[1], 8, "the history should hold more than one step");
    uint64_t again[2] = {0};
    sk_net_spikes(net, first, 200, NULL, collect_ids, again);
    cr_expect_eq(again[1], sum[1], "everything kept is at or after first_kept");
    sk_net_destroy(net);
}

typedef struct samples {
    uint64_t n, last_step;
    float v0;
} samples_t;

static int on_sample(void *ctx, uint64_t step, const float *values)
{
    samples_t *s = ctx;
    s->n++;
    s->last_step = step;
    s->v0 = values[0];
    return 0;
}

Test(net, recorders_sample_every_k_steps_and_keep_the_newest)
{
    sk_net_t *net = busy_net();
    sk_net_step(net, 101, NULL, NULL);
    samples_t s = {0};
    uint64_t first;
    cr_expect_eq(sk_net_samples(net, 0, 0, 1000, &first, on_sample, &s), 0);
    cr_expect_eq(s.n, 51); /* steps 0, 2, ..., 100 */
    cr_expect_eq(s.last_step, 100);
    const float *v;
    sk_net_state(net, 0, "v", &v);
    cr_expect_eq(s.v0, v[0]);
    sk_rec_info_t info;
    sk_net_rec_info(net, 0, &info);
    cr_expect_eq(info.samples_kept, 51);
    cr_expect_eq(info.samples_dropped, 0);
    sk_net_destroy(net);
}

Test(net, a_spike_source_emits_only_forced_spikes_and_takes_no_input)
{
    sk_pop_spec_t pops[2] = {pop_spec("in", "spike_source", 4), pop_spec("out", "lif", 4)};
    sk_proj_spec_t pr = proj_spec("in", "out", SK_RULE_ONE_TO_ONE, 0.75f, 2);
    uint64_t times[] = {1};
    uint32_t who[] = {3};
    sk_stim_spec_t st = {.kind = SK_STIM_SPIKE_TIMES, .target = "in", .times = times,
                         .spike_neurons = who, .n_times = 1};
    sk_net_spec_t spec = {.dt_ms = 1, .pops = pops, .n_pops = 2, .projs = &pr, .n_projs = 1,
                          .stims = &st, .n_stims = 1};
    sk_net_t *net = make(&spec);
    sk_inject_t inj = {.kind = SK_INJECT_SPIKE, .pop = 0, .neuron = 0, .step = 0};
    cr_assert_eq(sk_net_inject(net, &inj, 1, NULL), 0);
    sk_inject_t cur = {.kind = SK_INJECT_CURRENT, .pop = 0, .channel = -1, .neuron = 0};
    sk_err_t err;
    cr_expect_eq(sk_net_inject(net, &cur, 1, &err), SK_ERANGE, "a spike source takes no current");
    sk_net_step(net, 4, NULL, NULL);
    uint64_t sum[2] = {0};
    sk_net_spikes(net, 0, 4, NULL, collect_ids, sum);
    cr_expect_eq(sum[1], 2);
    cr_expect_eq(sum[0], 0 + 1003);
    const float *i;
    sk_net_state(net, 1, "i", &i);
    cr_expect_eq(i[0], 0.75f * (1 - 0.2f) * (1 - 0.2f), "spike of step 0 arrives at step 2");
    cr_expect_eq(i[3], 0.75f * (1 - 0.2f), "spike of step 1 arrives at step 3");
    cr_expect_eq(i[1], 0.0f);
    sk_net_destroy(net);

    sk_proj_spec_t into = proj_spec("out", "in", SK_RULE_ONE_TO_ONE, 1, 1);
    spec.projs = &into;
    spec.n_stims = 0;
    sk_net_t *bad = NULL;
    cr_expect_eq(sk_net_create(&spec, &bad, &err), SK_EINVAL);
    cr_expect_str_eq(err.path, "projections[0].target");
}
