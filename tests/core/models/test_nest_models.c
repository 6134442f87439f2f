/* test_nest_models.c: NEST's models inside a network, beyond the conformance vectors (which
 * drive the model API directly, tests/conformance/golden-nest): the t_ref rule, the singular
 * propagator, I_e against a dc current (one step later, as NEST's CurrentEvent), receptors by
 * the sign of the weight, spike times, the float64 state's low parts. Values are computed
 * here from NEST's formulas (docs/models.md), not copied from the code under test. */
#include <math.h>
#include <string.h>

#include <criterion/criterion.h>

#include "netspec.h"
#include "spiked/sk_model.h"

static double derived(const char *model, const char *name, const double *p, double dt)
{
    const sk_model_t *m = sk_model_find(model);
    cr_assert_not_null(m);
    double d[SK_MODEL_MAX_DERIVED];
    m->derive(p, sk_model_dt(m, dt), d);
    for (uint32_t k = 0; k < m->n_derived; k++)
        if (strcmp(m->derived[k], name) == 0)
            return d[k];
    cr_assert_fail("%s has no derived constant %s", model, name);
    return NAN;
}

static double refractory_counts(double t_ref, double dt)
{
    const sk_model_t *m = sk_model_find("iaf_psc_exp");
    double p[SK_MODEL_MAX_PARAMS];
    sk_model_defaults(m, p);
    p[sk_model_param_index(m, "t_ref")] = t_ref;
    return derived("iaf_psc_exp", "RefractoryCounts", p, dt);
}

Test(nest_models, t_ref_is_rounded_to_tics_then_up_to_whole_steps)
{
    cr_expect_eq(refractory_counts(2.0, 0.1), 20.0);
    cr_expect_eq(refractory_counts(2.05, 0.1), 21.0); /* not round(20.5) = 20 */
    cr_expect_eq(refractory_counts(2.1, 0.25), 9.0);  /* 2100 tics / 250 = 8.4 -> 9 */
    cr_expect_eq(refractory_counts(0.0004, 0.1), 0.0); /* below half a tic: none */
    cr_expect_eq(refractory_counts(0.0006, 0.1), 1.0); /* one tic: a whole step */
    cr_expect_eq(refractory_counts(3.0, 1.0), 3.0);
}

Test(nest_models, equal_time_constants_use_the_singular_propagator)
{
    const sk_model_t *m = sk_model_find("iaf_psc_exp");
    double p[SK_MODEL_MAX_PARAMS];
    sk_model_defaults(m, p);
    p[sk_model_param_index(m, "tau_syn_ex")] = 10.0; /* == tau_m */
    const double h = 0.1, c_m = 250.0, tau = 10.0;
    const double p21 = derived("iaf_psc_exp", "P21ex", p, h);
    cr_expect(isfinite(p21));
    cr_expect(fabs(p21 - h / c_m * exp(-h / tau)) <= 1e-15 * p21, "P21ex = %.17g", p21);
    /* and the regular one elsewhere: beta/C_m * exp(-h/tau_s) * expm1(h/beta) */
    const double p21in = derived("iaf_psc_exp", "P21in", p, h), ts = 2.0;
    const double beta = ts * tau / (tau - ts);
    cr_expect(fabs(p21in - beta / c_m * exp(-h / ts) * expm1(h / beta)) <= 1e-15 * p21in);
}

/* One iaf_psc_exp neuron driven by I_e or by a dc current stimulus; returns the step of its
 * first spike (or UINT64_MAX). */
typedef struct first {
    uint64_t step;
} first_t;

static int on_spike(void *ctx, uint64_t step, uint32_t pop, const uint32_t *ids, uint32_t n)
{
    (void)pop, (void)ids;
    first_t *f = ctx;
    if (n && step < f->step)
        f->step = step;
    return 0;
}

static uint64_t first_spike(int use_stimulus)
{
    sk_param_t ie[] = {{"I_e", 376.0}};
    sk_pop_spec_t pop = pop_spec("p", "iaf_psc_exp", 1);
    if (!use_stimulus) {
        pop.params = ie;
        pop.n_params = 1;
    }
    sk_stim_spec_t dc = {.kind = SK_STIM_CURRENT, .target = "p", .amplitude = 376.0f,
                         .start = 0, .stop = UINT64_MAX};
    sk_net_spec_t spec = {.dt_ms = 0.1, .seed = 1, .pops = &pop, .n_pops = 1,
                          .stims = &dc, .n_stims = use_stimulus ? 1 : 0};
    sk_net_t *net = NULL;
    sk_err_t err = {0};
    cr_assert_eq(sk_net_create(&spec, &net, &err), 0, "%s: %s", err.path, err.msg);
    cr_assert_eq(sk_net_step(net, 700, NULL, NULL), 0);
    first_t f = {UINT64_MAX};
    sk_net_spikes(net, 0, 700, NULL, on_spike, &f);
    sk_net_destroy(net);
    return f.step;
}

Test(nest_models, constant_drive_fires_at_the_analytic_time_and_a_dc_stimulus_one_step_later)
{
    /* V(t) - E_L = I_e tau_m / C_m (1 - exp(-t/tau_m)) reaches 15 mV at t = 10 ln(376) ms
     * = 59.295 ms: exact integration fires in the step covering it, step 592 ((592+1)*0.1 =
     * 59.3 ms). A dc_generator's CurrentEvent is read into i_0 at the END of a step, so it
     * acts from the next step on: the same neuron fires one step later. */
    const double t = 10.0 * log(376.0);
    cr_assert(t > 59.2 && t < 59.3);
    cr_expect_eq(first_spike(0), 592u);
    cr_expect_eq(first_spike(1), 593u);
}

Test(nest_models, negative_weights_feed_the_inhibitory_receptor)
{
    static uint64_t times[] = {0};
    static uint32_t who[] = {0};
    sk_pop_spec_t pops[2] = {pop_spec("src", "spike_source", 2), pop_spec("dst", "iaf_psc_exp", 1)};
    sk_proj_spec_t pr[2] = {proj_spec("src", "dst", SK_RULE_ALL_TO_ALL, -351.2f, 1),
                            proj_spec("src", "dst", SK_RULE_ALL_TO_ALL, 87.8f, 2)};
    sk_stim_spec_t st = {.kind = SK_STIM_SPIKE_TIMES, .target = "src", .times = times,
                         .spike_neurons = who, .n_times = 1};
    sk_net_spec_t spec = {.dt_ms = 0.1, .seed = 1, .pops = pops, .n_pops = 2, .projs = pr,
                          .n_projs = 2, .stims = &st, .n_stims = 1};
    sk_net_t *net = NULL;
    sk_err_t err = {0};
    cr_assert_eq(sk_net_create(&spec, &net, &err), 0, "%s: %s", err.path, err.msg);
    const float *ex, *in;
    cr_assert_eq(sk_net_step(net, 2, NULL, NULL), 0); /* the spike of step 0 arrives in step 1 */
    sk_net_state(net, 1, "I_syn_ex", &ex);
    sk_net_state(net, 1, "I_syn_in", &in);
    cr_expect_eq(in[0], -351.2f, "I_syn_in = %g", (double)in[0]);
    cr_expect_eq(ex[0], 0.0f);
    cr_assert_eq(sk_net_step(net, 1, NULL, NULL), 0); /* the excitatory one in step 2 */
    sk_net_state(net, 1, "I_syn_ex", &ex);
    sk_net_state(net, 1, "I_syn_in", &in);
    cr_expect_eq(ex[0], 87.8f, "I_syn_ex = %g", (double)ex[0]);
    const double p11 = exp(-0.1 / 2.0);
    cr_expect(fabs(in[0] - (-351.2f) * p11) < 1e-4, "I_syn_in decays by P11: %g", (double)in[0]);
    sk_net_destroy(net);
}

Test(nest_models, setting_a_float64_variable_clears_its_low_part)
{
    sk_param_t el[] = {{"E_L", -70.6}};
    sk_pop_spec_t pop = pop_spec("p", "iaf_psc_exp", 3);
    pop.params = el;
    pop.n_params = 1;
    sk_net_spec_t spec = {.dt_ms = 0.1, .seed = 1, .pops = &pop, .n_pops = 1};
    sk_net_t *net = NULL;
    cr_assert_eq(sk_net_create(&spec, &net, NULL), 0);
    const float *v, *lo;
    sk_net_state(net, 0, "V_m", &v);
    sk_net_state(net, 0, "V_m_lo", &lo);
    /* the initial V_m = E_L = -70.6 exactly: float32 part plus the rest */
    cr_expect(fabs(((double)v[0] + (double)lo[0]) - -70.6) < 1e-12, "%.17g", (double)v[0] + lo[0]);
    cr_expect(fabs((double)v[0] - -70.6) > 1e-7); /* float32 alone would be off */
    cr_expect_neq(lo[0], 0.0f);
    const float set[] = {-65.0f};
    cr_assert_eq(sk_net_set_state(net, 0, "V_m", 1, set, 1, NULL), 0);
    cr_expect_eq(v[1], -65.0f);
    cr_expect_eq(lo[1], 0.0f);
    cr_expect_neq(lo[0], 0.0f); /* the others keep theirs */
    sk_net_destroy(net);
}

Test(nest_models, generic_refractoriness_is_refused)
{
    sk_pop_spec_t pop = pop_spec("p", "iaf_cond_exp", 3);
    pop.refractory_steps = 2;
    sk_net_spec_t spec = {.dt_ms = 0.1, .seed = 1, .pops = &pop, .n_pops = 1};
    sk_net_t *net = NULL;
    sk_err_t err = {0};
    cr_expect_eq(sk_net_create(&spec, &net, &err), SK_EINVAL);
    cr_expect_null(net);
    cr_expect(strstr(err.path, "refractory_steps") != NULL, "%s", err.path);
}

Test(nest_models, refractory_counts_above_2_to_the_24_count_down_exactly)
{
    /* t_ref = 20000 ms at dt = 0.001 ms: 2e7 steps, beyond float32's exact integers; the
     * count is float64 state (two float32 columns), so each step takes exactly one off */
    const sk_model_t *m = sk_model_find("iaf_psc_exp");
    double p[SK_MODEL_MAX_PARAMS], d[SK_MODEL_MAX_DERIVED];
    sk_model_defaults(m, p);
    p[sk_model_param_index(m, "t_ref")] = 20000.0;
    const double dt = sk_model_dt(m, 0.001);
    m->derive(p, dt, d);
    cr_assert_eq(derived("iaf_psc_exp", "RefractoryCounts", p, 0.001), 2e7);
    float cols[SK_MODEL_MAX_STATE] = {0}, in[3] = {0};
    float *s[SK_MODEL_MAX_STATE];
    for (uint32_t k = 0; k < m->n_state; k++)
        s[k] = &cols[k];
    m->init(p, s, 1);
    const int r = sk_model_state_index(m, "refractory_steps_left");
    const int lo = sk_model_state_lo(m, (uint32_t)r);
    cr_assert_geq(lo, 0);
    cols[r] = 2e7f;
    const float *inp[3] = {&in[0], &in[1], &in[2]};
    uint8_t spiked = 0;
    sk_step_args_t a = {.n = 1, .dt = dt, .p = p, .d = d, .s = s, .in = inp, .spiked = &spiked};
    for (uint32_t t = 0; t < 3; t++) {
        a.step = t;
        m->step(&a);
    }
    cr_expect_eq((double)cols[r] + (double)cols[lo], 2e7 - 3, "%.1f",
                 (double)cols[r] + (double)cols[lo]);
}

Test(nest_models, a_dt_off_nests_time_grid_is_refused_naming_dt)
{
    const double bad[] = {0.0001, 0.0015, 0.1000001};
    for (int k = 0; k < 3; k++) {
        sk_pop_spec_t pop = pop_spec("p", "iaf_psc_exp", 2);
        sk_net_spec_t spec = {.dt_ms = bad[k], .seed = 1, .pops = &pop, .n_pops = 1};
        sk_net_t *net = NULL;
        sk_err_t err = {0};
        cr_expect_eq(sk_net_create(&spec, &net, &err), SK_ERANGE, "dt %g", bad[k]);
        cr_expect_str_eq(err.path, "dt");
        cr_expect_null(net);
    }
    sk_pop_spec_t pop = pop_spec("p", "iaf_psc_exp", 2);
    sk_net_spec_t spec = {.dt_ms = 0.025, .seed = 1, .pops = &pop, .n_pops = 1};
    sk_net_t *net = NULL;
    cr_expect_eq(sk_net_create(&spec, &net, NULL), 0, "dt 0.025 is on the grid");
    sk_net_destroy(net);
}
