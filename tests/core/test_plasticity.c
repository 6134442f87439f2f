/* test_plasticity.c: plastic projections in a network (core/src/synapse.c, the delivery in
 * step.c, section SYN1 of ckpt.c): refusals with the field named, bit-identical results for
 * thread counts and batching, checkpoint/restore/clone/reset carrying synapse state,
 * freezing learning, reading and setting weights. Conformance with NEST's numbers is
 * tests/conformance (network files). */
#define _GNU_SOURCE /* memmem */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "sk_pool.h"
#include "spiked/sk_alloc.h"
#include "spiked/sk_net.h"
#include "spiked/sk_synapse.h"

uint32_t sk__crc32c(uint32_t crc, const void *data, size_t len); /* ckpt.c */

#define N_PRE  120
#define N_POST 200

static uint32_t e_pre[N_PRE * 3], e_post[N_PRE * 3], e_delay[N_PRE * 3];
static float e_w[N_PRE * 3];

/* Poisson-driven iaf_psc_exp sources onto iaf_psc_exp targets: all-to-all (dense) STDP with
 * delay 3, and an explicit sparse tsodyks projection with delays 2..20. */
static int plastic_create(uint32_t stdp_delay, sk_net_t **out, sk_err_t *err)
{
    static sk_param_t stdp_p[] = {{"lambda", 0.02}, {"alpha", 1.05}, {"mu_plus", 0.0},
                                  {"mu_minus", 0.0}, {"Wmax", 60.0}, {"tau_plus", 16.8}};
    static sk_param_t tm_p[] = {{"U", 0.2}, {"tau_rec", 150.0}, {"tau_fac", 600.0}};
    static sk_param_t post_p[] = {{"tau_minus", 33.7}};
    for (uint32_t k = 0; k < N_PRE * 3; k++) {
        e_pre[k] = k / 3;
        e_post[k] = (k * 37u + 11u) % N_POST;
        e_delay[k] = 2 + k % 19;
        e_w[k] = 20.0f + (float)(k % 13);
    }
    sk_pop_spec_t pops[] = {{.name = "pre", .model = "iaf_psc_exp", .size = N_PRE},
                            {.name = "post", .model = "iaf_psc_exp", .size = N_POST,
                             .params = post_p, .n_params = 1}};
    sk_proj_spec_t pr[] = {
        {.source = "pre", .target = "post", .rule = {.kind = SK_RULE_ALL_TO_ALL},
         .weight = {.kind = SK_DIST_UNIFORM, .a = 5.0f, .b = 55.0f}, .delay_steps = stdp_delay,
         .synapse = "stdp_synapse", .synapse_params = stdp_p, .n_synapse_params = 6},
        {.source = "pre", .target = "post",
         .rule = {.kind = SK_RULE_EXPLICIT, .pre = e_pre, .post = e_post, .weight = e_w,
                  .delay = e_delay, .n = N_PRE * 3, .multapses = 1},
         .synapse = "tsodyks_synapse", .synapse_params = tm_p, .n_synapse_params = 3}};
    sk_stim_spec_t st[] = {
        {.kind = SK_STIM_POISSON, .target = "pre", .rate_hz = 1000, .n_sources = 10, .weight = 26},
        {.kind = SK_STIM_POISSON, .target = "post", .rate_hz = 1000, .n_sources = 10, .weight = 12}};
    sk_net_spec_t spec = {.dt_ms = 0.1, .seed = 42, .pops = pops, .n_pops = 2, .projs = pr,
                          .n_projs = 2, .stims = st, .n_stims = 2};
    return sk_net_create(&spec, out, err);
}

static sk_net_t *plastic_net(uint32_t stdp_delay)
{
    sk_net_t *net = NULL;
    sk_err_t err;
    cr_assert_eq(plastic_create(stdp_delay, &net, &err), 0, "%s: %s", err.path, err.msg);
    return net;
}

static uint64_t n_syn(const sk_net_t *net, uint32_t proj)
{
    sk_proj_info_t pi;
    sk_net_proj_info(net, proj, &pi);
    return pi.n_synapses;
}

/* Every connection's full state, both projections, in one array (caller frees). */
static sk_conn_t *all_conns(const sk_net_t *net, uint64_t *n)
{
    const uint64_t a = n_syn(net, 0), b = n_syn(net, 1);
    sk_conn_t *c = calloc(a + b, sizeof *c);
    uint64_t got = 0;
    sk_net_conns(net, 0, 0, a, c, &got);
    cr_assert_eq(got, a);
    sk_net_conns(net, 1, 0, b, c + a, &got);
    cr_assert_eq(got, b);
    *n = a + b;
    return c;
}

static void expect_same_conns(const sk_net_t *x, const sk_net_t *y, const char *what)
{
    uint64_t n, m;
    sk_conn_t *a = all_conns(x, &n), *b = all_conns(y, &m);
    cr_assert_eq(n, m);
    for (uint64_t k = 0; k < n; k++) {
        cr_assert_eq(a[k].n_state, b[k].n_state);
        cr_assert_eq(memcmp(a[k].state, b[k].state, a[k].n_state * sizeof(double)), 0,
                     "%s: synapse %llu differs (weight %.17g vs %.17g)", what,
                     (unsigned long long)k, a[k].state[0], b[k].state[0]);
    }
    free(a);
    free(b);
    sk_net_info_t ia, ib;
    sk_net_info(x, &ia);
    sk_net_info(y, &ib);
    cr_assert_eq(ia.spikes_total, ib.spikes_total, "%s: spike totals differ", what);
    const float *va, *vb;
    sk_net_state(x, 1, "V_m", &va);
    sk_net_state(y, 1, "V_m", &vb);
    cr_assert_eq(memcmp(va, vb, N_POST * sizeof(float)), 0, "%s: V_m differs", what);
}

static void step_in_chunks(sk_net_t *net, uint64_t steps, uint64_t chunk)
{
    for (uint64_t t = 0; t < steps; t += chunk)
        cr_assert_eq(sk_net_step(net, steps - t < chunk ? steps - t : chunk, NULL, NULL), 0);
}

Test(plasticity, learning_happens_and_loses_no_trace_entry)
{
    sk_net_t *net = plastic_net(3);
    uint64_t n;
    sk_conn_t *before = all_conns(net, &n);
    sk_net_step(net, 3000, NULL, NULL);
    sk_conn_t *after = all_conns(net, &n);
    sk_net_info_t info;
    sk_net_info(net, &info);
    cr_expect_gt(info.spikes_total, 2000, "the network is too quiet to test (%llu spikes)",
                 (unsigned long long)info.spikes_total);
    uint64_t changed = 0, stdp = n_syn(net, 0);
    for (uint64_t k = 0; k < stdp; k++)
        changed += fabs(after[k].state[0] - before[k].state[0]) > 1e-3;
    cr_expect_gt(changed, stdp / 2, "only %llu of %llu stdp weights changed",
                 (unsigned long long)changed, (unsigned long long)stdp);
    for (uint64_t k = stdp; k < n; k++) { /* tsodyks: x, y, u moved, weight did not */
        cr_expect_eq(after[k].state[0], before[k].state[0]);
        cr_expect(after[k].state[1] >= 0.0 && after[k].state[1] <= 1.0);
    }
    for (uint32_t p = 0; p < 2; p++) {
        sk_proj_syn_info_t si;
        cr_assert_eq(sk_net_proj_syn(net, p, &si), 0);
        cr_expect_eq(si.lost, 0);
    }
    free(before);
    free(after);
    sk_net_destroy(net);
}

Test(plasticity, results_are_bit_identical_for_threads_and_batching)
{
    sk_net_t *ref = plastic_net(3);
    step_in_chunks(ref, 1500, 1);
    const uint32_t threads[] = {1, 2, 3}, chunks[] = {7, 100, 1500};
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) {
            sk_net_t *net = plastic_net(3);
            sk_pool_t *pool = NULL;
            if (threads[a] > 1) {
                cr_assert_eq(sk_pool_create(threads[a], &pool), 0);
                sk_parallel_t par;
                sk_pool_parallel(pool, &par);
                par.grain = 1;
                sk_net_set_parallel(net, &par);
            }
            step_in_chunks(net, 1500, chunks[b]);
            char what[64];
            snprintf(what, sizeof what, "threads %u chunk %u", threads[a], chunks[b]);
            expect_same_conns(ref, net, what);
            sk_net_destroy(net);
            sk_pool_destroy(pool);
        }
    sk_net_destroy(ref);
}

Test(plasticity, checkpoint_restore_and_clone_continue_identically)
{
    sk_net_t *a = plastic_net(3);
    sk_net_step(a, 700, NULL, NULL);
    uint64_t size = sk_net_checkpoint_size(a), len = 0;
    void *buf = malloc(size);
    cr_assert_eq(sk_net_checkpoint(a, buf, size, &len), 0);
    sk_net_t *b = NULL, *c = NULL;
    sk_err_t err;
    cr_assert_eq(sk_net_restore(buf, len, NULL, &b, &err), 0, "%s", err.msg);
    cr_assert_eq(sk_net_clone(a, &c), 0);
    expect_same_conns(a, b, "restored");
    sk_net_step(a, 900, NULL, NULL);
    sk_net_step(b, 900, NULL, NULL);
    sk_net_step(c, 900, NULL, NULL);
    expect_same_conns(a, b, "restored, then 900 steps");
    expect_same_conns(a, c, "cloned, then 900 steps");
    free(buf);
    sk_net_destroy(a);
    sk_net_destroy(b);
    sk_net_destroy(c);
}

Test(plasticity, reset_restores_the_built_weights_and_replays_the_same_run)
{
    sk_net_t *a = plastic_net(3), *fresh = plastic_net(3);
    uint64_t n;
    sk_conn_t *built = all_conns(a, &n);
    sk_net_step(a, 800, NULL, NULL);
    cr_assert_eq(sk_net_set_weights(a, 1, NULL, 0, 1, (double[]){7.5}, 1, NULL), 0);
    sk_net_reset(a);
    sk_conn_t *again = all_conns(a, &n);
    for (uint64_t k = 0; k < n; k++)
        cr_assert_eq(memcmp(built[k].state, again[k].state, sizeof built[k].state), 0,
                     "synapse %llu not reset", (unsigned long long)k);
    sk_net_step(a, 800, NULL, NULL);
    sk_net_step(fresh, 800, NULL, NULL);
    expect_same_conns(a, fresh, "after reset");
    free(built);
    free(again);
    sk_net_destroy(a);
    sk_net_destroy(fresh);
}

Test(plasticity, lambda_zero_freezes_learning_and_lambda_back_resumes_it)
{
    sk_net_t *net = plastic_net(3);
    sk_net_step(net, 500, NULL, NULL);
    uint64_t n, stdp = n_syn(net, 0);
    sk_conn_t *w0 = all_conns(net, &n);
    cr_assert_eq(sk_net_set_syn_params(net, 0, (sk_param_t[]){{"lambda", 0.0}}, 1, NULL), 0);
    sk_net_step(net, 1000, NULL, NULL);
    sk_conn_t *w1 = all_conns(net, &n);
    for (uint64_t k = 0; k < stdp; k++) /* (w/Wmax)*Wmax may move the last bit, no more */
        cr_assert(fabs(w1[k].state[0] - w0[k].state[0]) <= 1e-13 * fabs(w0[k].state[0]),
                  "frozen weight %llu moved: %.17g -> %.17g", (unsigned long long)k,
                  w0[k].state[0], w1[k].state[0]);
    cr_assert_eq(sk_net_set_syn_params(net, 0, (sk_param_t[]){{"lambda", 0.02}}, 1, NULL), 0);
    sk_net_step(net, 1000, NULL, NULL);
    sk_conn_t *w2 = all_conns(net, &n);
    uint64_t moved = 0;
    for (uint64_t k = 0; k < stdp; k++)
        moved += fabs(w2[k].state[0] - w1[k].state[0]) > 1e-3;
    cr_expect_gt(moved, stdp / 2, "learning did not resume (%llu moved)", (unsigned long long)moved);
    sk_err_t err;
    cr_expect_eq(sk_net_set_syn_params(net, 0, (sk_param_t[]){{"lambda", -1.0}}, 1, &err),
                 SK_ERANGE);
    cr_expect_str_eq(err.path, "synapse.params.lambda");
    cr_expect_eq(sk_net_set_syn_params(net, 0, (sk_param_t[]){{"lamda", 0.0}}, 1, &err), SK_ENOENT);
    cr_expect_str_eq(err.path, "synapse.params.lamda");
    cr_expect_eq(sk_net_set_syn_params(net, 1, (sk_param_t[]){{"U", 1.5}}, 1, &err), SK_ERANGE);
    free(w0);
    free(w1);
    free(w2);
    sk_net_destroy(net);
}

Test(plasticity, connections_read_in_pages_equal_one_read_and_weights_can_be_set)
{
    sk_net_t *net = plastic_net(3);
    sk_net_step(net, 300, NULL, NULL);
    const uint64_t n = n_syn(net, 1);
    cr_assert_eq(n, N_PRE * 3);
    sk_conn_t *whole = calloc(n, sizeof *whole), page[7];
    uint64_t got;
    cr_assert_eq(sk_net_conns(net, 1, 0, n + 10, whole, &got), 0);
    cr_assert_eq(got, n);
    for (uint64_t first = 0; first < n; first += 7) {
        cr_assert_eq(sk_net_conns(net, 1, first, 7, page, &got), 0);
        cr_assert_eq(got, n - first < 7 ? n - first : 7);
        cr_assert_eq(memcmp(page, whole + first, got * sizeof *page), 0, "page at %llu",
                     (unsigned long long)first);
    }
    cr_assert_eq(sk_net_conns(net, 1, n, 7, page, &got), 0);
    cr_assert_eq(got, 0);
    /* explicit connections come back with their pre, post, delay and weight */
    uint64_t found = 0;
    for (uint64_t k = 0; k < n; k++)
        for (uint64_t j = 0; j < n; j++)
            if (whole[k].pre == e_pre[j] && whole[k].post == e_post[j] &&
                whole[k].delay == e_delay[j] && whole[k].state[0] == e_w[j]) {
                found++;
                break;
            }
    cr_expect_eq(found, n);
    /* dense stdp: pre-major, post ascending */
    cr_assert_eq(sk_net_conns(net, 0, 2 * N_POST + 5, 1, page, &got), 0);
    cr_expect(page[0].pre == 2 && page[0].post == 5 && page[0].delay == 3 && page[0].n_state == 3);
    /* set by index and all */
    const uint64_t idx[] = {3, 0, 17};
    cr_assert_eq(sk_net_set_weights(net, 0, idx, 0, 3, (double[]){1.5, 2.5, 3.5}, 3, NULL), 0);
    sk_net_conns(net, 0, 0, 1, page, &got);
    cr_expect_eq(page[0].state[0], 2.5);
    sk_net_conns(net, 0, 17, 1, page, &got);
    cr_expect_eq(page[0].state[0], 3.5);
    cr_assert_eq(sk_net_set_weights(net, 1, NULL, 0, n, (double[]){-40.0}, 1, NULL), 0);
    sk_net_conns(net, 1, n - 1, 1, page, &got);
    cr_expect_eq(page[0].state[0], -40.0);
    sk_err_t err;
    cr_expect_eq(sk_net_set_weights(net, 0, NULL, 5, 1, (double[]){-1.0}, 1, &err), SK_ERANGE);
    cr_expect_str_eq(err.path, "weights[0]"); /* stdp: not the sign of Wmax */
    cr_expect_eq(sk_net_set_weights(net, 0, NULL, 0, 1, (double[]){NAN}, 1, &err), SK_ERANGE);
    const uint64_t bad[] = {1, 99999999};
    cr_expect_eq(sk_net_set_weights(net, 0, bad, 0, 2, (double[]){1.0}, 1, &err), SK_ERANGE);
    cr_expect_str_eq(err.path, "index[1]");
    sk_net_conns(net, 0, 1, 1, page, &got); /* all or nothing */
    cr_expect_neq(page[0].state[0], 1.0);
    free(whole);
    sk_net_destroy(net);
}

Test(plasticity, plastic_projections_onto_seed_models_and_bad_parameters_are_refused)
{
    sk_pop_spec_t pops[] = {{.name = "a", .model = "lif", .size = 4},
                            {.name = "b", .model = "lif", .size = 4},
                            {.name = "c", .model = "iaf_psc_exp", .size = 4}};
    sk_param_t bad_p[] = {{"tau_plus", -1.0}}, unknown[] = {{"Wmin", 0.0}},
               neg_wmax[] = {{"Wmax", -10.0}};
    struct {
        const char *target, *synapse;
        sk_param_t *p;
        uint32_t n;
        float w;
        int rc;
        const char *path;
    } cases[] = {
        {"b", "stdp_synapse", NULL, 0, 1.0f, SK_EINVAL, "projections[0].synapse.model"},
        {"b", "tsodyks_synapse", NULL, 0, 1.0f, SK_EINVAL, "projections[0].synapse.model"},
        {"c", "hebb_synapse", NULL, 0, 1.0f, SK_ENOENT, "projections[0].synapse.model"},
        {"c", "stdp_synapse", bad_p, 1, 1.0f, SK_ERANGE, "projections[0].synapse.params.tau_plus"},
        {"c", "stdp_synapse", unknown, 1, 1.0f, SK_ENOENT, "projections[0].synapse.params.Wmin"},
        {"c", "stdp_synapse", neg_wmax, 1, 1.0f, SK_ERANGE, "projections[0].weight"},
        {"c", "static_synapse", bad_p, 1, 1.0f, SK_EINVAL, "projections[0].synapse.params"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        sk_proj_spec_t pr = {.source = "a", .target = cases[k].target,
                             .rule = {.kind = SK_RULE_ALL_TO_ALL},
                             .weight = {.kind = SK_DIST_CONST, .a = cases[k].w},
                             .synapse = cases[k].synapse, .synapse_params = cases[k].p,
                             .n_synapse_params = cases[k].n};
        sk_net_spec_t spec = {.dt_ms = 0.1, .pops = pops, .n_pops = 3, .projs = &pr, .n_projs = 1};
        sk_net_t *net = NULL;
        sk_err_t err = {0};
        cr_expect_eq(sk_net_create(&spec, &net, &err), cases[k].rc, "case %zu: %s %s", k,
                     err.path, err.msg);
        cr_expect_str_eq(err.path, cases[k].path, "case %zu: %s", k, err.msg);
        cr_expect_null(net);
    }
}

typedef struct wctx {
    uint64_t n, steps[64];
    double w3[64];
} wctx_t;

static int take(void *ctx, uint64_t step, const double *w)
{
    wctx_t *c = ctx;
    c->steps[c->n] = step;
    c->w3[c->n++] = w[1]; /* the recorder's second synapse: index 3 */
    return 0;
}

Test(plasticity, a_weight_recorder_samples_at_interval_ends_and_counts_what_it_drops)
{
    sk_net_t *a = plastic_net(3), *b = plastic_net(3);
    const uint64_t idx[] = {0, 3, 9};
    sk_wrec_spec_t ws = {.proj = 0, .every = 100, .index = idx, .n_index = 3, .max_values = 15};
    uint32_t id = 9;
    sk_err_t err;
    cr_assert_eq(sk_net_wrec_add(a, &ws, &id, &err), 0, "%s %s", err.path, err.msg);
    cr_assert_eq(id, 0);
    step_in_chunks(a, 1000, 37); /* samples after steps 99, 199, ..., 999; 5 kept */
    sk_wrec_info_t wi;
    cr_assert_eq(sk_net_wrec_info(a, 0, &wi), 0);
    cr_expect_eq(wi.cap, 5);
    cr_expect_eq(wi.samples_kept, 5);
    cr_expect_eq(wi.samples_dropped, 5);
    wctx_t c = {0};
    uint64_t first = 0;
    cr_assert_eq(sk_net_wrec_samples(a, 0, 0, UINT64_MAX, &first, take, &c), 0);
    cr_expect_eq(first, 599);
    cr_assert_eq(c.n, 5);
    for (uint64_t k = 0; k < 5; k++) { /* the same weight, read from b stepped to there */
        cr_expect_eq(c.steps[k], 599 + 100 * k);
        sk_net_step(b, k == 0 ? 600 : 100, NULL, NULL);
        sk_conn_t conn;
        sk_net_conns(b, 0, 3, 1, &conn, NULL);
        cr_expect_eq(c.w3[k], conn.state[0], "sample %llu", (unsigned long long)k);
    }
    cr_expect_neq(c.w3[0], c.w3[4], "the recorded weight never changed");
    sk_net_t *c2 = NULL; /* the recorder and its samples survive a clone */
    cr_assert_eq(sk_net_clone(a, &c2), 0);
    wctx_t cc = {0};
    cr_assert_eq(sk_net_wrec_samples(c2, 0, 0, UINT64_MAX, NULL, take, &cc), 0);
    cr_expect_eq(cc.n, 5);
    cr_expect_eq(memcmp(cc.w3, c.w3, sizeof c.w3), 0);
    sk_net_step(c2, 100, NULL, NULL);
    sk_net_wrec_info(c2, 0, &wi);
    cr_expect_eq(wi.samples_dropped, 6);
    sk_net_destroy(c2);
    ws.max_values = 2;
    cr_expect_eq(sk_net_wrec_add(a, &ws, NULL, &err), SK_ELIMIT);
    cr_expect_str_eq(err.path, "max_values");
    const uint64_t bad[] = {1, 1u << 30};
    ws = (sk_wrec_spec_t){.proj = 0, .every = 10, .index = bad, .n_index = 2};
    cr_expect_eq(sk_net_wrec_add(a, &ws, NULL, &err), SK_ERANGE);
    cr_expect_str_eq(err.path, "index[1]");
    ws = (sk_wrec_spec_t){.proj = 0, .every = 0};
    cr_expect_eq(sk_net_wrec_add(a, &ws, NULL, &err), SK_ERANGE);
    sk_net_reset(a);
    sk_net_wrec_info(a, 0, &wi);
    cr_expect_eq(wi.samples_kept + wi.samples_dropped, 0);
    sk_net_destroy(a);
    sk_net_destroy(b);
}

static long fail_at, calls;
static void *failing_malloc(size_t n)
{
    return ++calls == fail_at ? NULL : malloc(n);
}

Test(plasticity, every_allocation_failure_of_create_and_restore_is_reported_and_leaks_nothing)
{
    sk_net_t *ref = plastic_net(3);
    sk_net_step(ref, 200, NULL, NULL);
    uint64_t size = sk_net_checkpoint_size(ref), len = 0;
    void *buf = malloc(size);
    cr_assert_eq(sk_net_checkpoint(ref, buf, size, &len), 0);
    for (int restore = 0; restore < 2; restore++) {
        int made = 0;
        for (fail_at = 1; fail_at < 400 && !made; fail_at++) {
            calls = 0;
            sk_set_allocator(failing_malloc, free);
            sk_net_t *net = NULL;
            sk_err_t err;
            int rc = restore ? sk_net_restore(buf, len, NULL, &net, &err)
                             : plastic_create(3, &net, &err);
            sk_set_allocator(NULL, NULL);
            if (rc == 0) {
                made = 1;
                sk_net_step(net, 10, NULL, NULL);
                sk_net_destroy(net);
            } else {
                cr_expect_eq(rc, SK_ENOMEM, "%s: failure at allocation %ld gave %s (%s)",
                             restore ? "restore" : "create", fail_at, sk_err_name(rc), err.msg);
                cr_expect_null(net);
            }
        }
        cr_expect(made, "never succeeded");
        cr_expect_gt(fail_at, 10);
    }
    free(buf);
    sk_net_destroy(ref);
}

Test(plasticity, a_target_parameter_change_that_breaks_a_synapse_is_refused)
{
    sk_net_t *net = plastic_net(3); /* tsodyks: tau_rec 150, tau_psc from tau_syn_ex */
    sk_err_t err;
    cr_expect_eq(sk_net_set_params(net, 1, (sk_param_t[]){{"tau_syn_ex", 150.0}}, 1, &err),
                 SK_ERANGE);
    cr_expect_str_eq(err.path, "params");
    cr_expect(strstr(err.msg, "tsodyks_synapse") != NULL, "%s", err.msg);
    sk_pop_info_t pi;
    sk_net_pop_info(net, 1, &pi);
    cr_expect_neq(pi.params[sk_model_param_index(pi.model, "tau_syn_ex")], 150.0);
    cr_expect_eq(sk_net_set_params(net, 1, (sk_param_t[]){{"tau_syn_ex", 3.0}}, 1, &err), 0);
    sk_net_destroy(net);
}

Test(plasticity, weights_drawn_from_a_distribution_are_reproducible_and_validated)
{
    sk_net_t *a = plastic_net(3), *b = plastic_net(3);
    const sk_dist_t u = {.kind = SK_DIST_UNIFORM, .a = 10.0f, .b = 50.0f};
    const uint64_t n = n_syn(a, 0);
    cr_assert_eq(sk_net_set_weights_dist(a, 0, NULL, 0, n, &u, 7, NULL), 0);
    cr_assert_eq(sk_net_set_weights_dist(b, 0, NULL, 0, n, &u, 7, NULL), 0);
    expect_same_conns(a, b, "the same draw");
    sk_conn_t *c = calloc(n, sizeof *c);
    sk_net_conns(a, 0, 0, n, c, NULL);
    double sum = 0.0, lo = 1e9, hi = -1e9;
    for (uint64_t k = 0; k < n; k++) {
        sum += c[k].state[0];
        lo = fmin(lo, c[k].state[0]);
        hi = fmax(hi, c[k].state[0]);
    }
    cr_expect(lo >= 10.0 && hi < 50.0 && fabs(sum / (double)n - 30.0) < 0.5,
              "range [%g, %g], mean %g", lo, hi, sum / (double)n);
    cr_assert_eq(sk_net_set_weights_dist(b, 0, NULL, 0, n, &u, 8, NULL), 0);
    sk_conn_t first;
    sk_net_conns(b, 0, 0, 1, &first, NULL);
    cr_expect_neq(first.state[0], c[0].state[0], "another draw gave the same weight");
    const sk_dist_t neg = {.kind = SK_DIST_NORMAL, .a = -5.0f, .b = 1.0f};
    sk_err_t err;
    cr_expect_eq(sk_net_set_weights_dist(b, 0, NULL, 0, n, &neg, 1, &err), SK_ERANGE);
    const sk_dist_t clipped = {.kind = SK_DIST_NORMAL, .a = -5.0f, .b = 1.0f, .sign = 1};
    cr_expect_eq(sk_net_set_weights_dist(b, 0, NULL, 0, n, &clipped, 1, &err), 0);
    free(c);
    sk_net_destroy(a);
    sk_net_destroy(b);
}

Test(plasticity, a_checkpoint_with_an_out_of_range_synapse_parameter_is_refused)
{
    sk_net_t *a = plastic_net(3);
    uint64_t size = sk_net_checkpoint_size(a), len = 0;
    uint8_t *buf = malloc(size);
    cr_assert_eq(sk_net_checkpoint(a, buf, size, &len), 0);
    /* stdp_synapse's parameters follow its name in section SYN1: set tau_plus to -1 */
    const char name[] = "stdp_synapse";
    uint8_t *at = memmem(buf, len, name, sizeof name - 1);
    cr_assert_not_null(at);
    const double bad = -1.0;
    memcpy(at + sizeof name - 1 + 4, &bad, 8); /* after the name: u32 n_params, tau_plus */
    const uint32_t crc = sk__crc32c(0, buf, (size_t)(len - 4));
    memcpy(buf + len - 4, &crc, 4);
    sk_net_t *b = NULL;
    sk_err_t err;
    cr_expect_eq(sk_net_restore(buf, len, NULL, &b, &err), SK_ECORRUPT);
    cr_expect(strstr(err.msg, "synapse parameter out of range") != NULL, "%s", err.msg);
    cr_expect_null(b);
    free(buf);
    sk_net_destroy(a);
}
