/* test_alif_bellec2020.c: BrainPy's ALIFBellec2020 (core/src/models/alif_bellec2020.c,
 * docs/models.md section 7): the float32 integrator constants of the spec (long and short
 * exprel branches), exponential decay of a and relaxation of V to V_rest + R*I, firing under
 * constant current as the double recursion predicts, the threshold V_th + beta*a with the
 * PREVIOUS a and >=, a += 1 and V -= V_th on a spike, tau_ref holding V for
 * floor(tau_ref/dt) steps (also from an initial t_last_spike), the default parameters'
 * runaway, generic refractoriness and a bit-exact comparison with a naive oracle. */
#include <float.h>
#include <math.h>

#include <criterion/criterion.h>

#include "model_harness.h"

static float prm(const float *p, const char *name)
{
    return p[sk_model_param_index(sk_model_find("alif_bellec2020"), name)];
}

static int sidx(const char *name)
{
    return sk_model_state_index(sk_model_find("alif_bellec2020"), name);
}

/* Bellec et al.'s regime: V_rest = 0, V_th = 1 (BrainPy's defaults are -70/-60). */
static void bellec(mh_t *h)
{
    mh_set(h, "V_rest", 0.0f);
    mh_set(h, "V_th", 1.0f);
    mh_reinit(h);
}

/* The spec's float32 exprel, written out as in section 7. */
static float exprel_spec(float y)
{
    if (fabsf(y) <= 1e-5f)
        return (1.0f + y / 2.0f) + (y * y) / 6.0f;
    return (expf(y) - 1.0f) / y;
}

/* derived_constants.float32 of alif_bellec2020.json (dt 0.1, tau 20, tau_a 2000): exact. */
Test(alif_bellec2020, derived_constants_match_the_spec_float32_values)
{
    mh_t h;
    mh_open(&h, "alif_bellec2020", 1, 0.1);
    cr_assert(mh_same((float)h.a.dt, 0.1f));
    cr_expect(mh_same(mh_derived(&h, "lin_V"), -0.0500000007f));
    cr_expect(mh_same(mh_derived(&h, "lin_a"), -0.000500000024f));
    cr_expect(mh_same(mh_derived(&h, "phi_V"), 0.997507513f), "phi_V = %.9g",
              (double)mh_derived(&h, "phi_V"));
    cr_expect(mh_same(mh_derived(&h, "phi_a"), 1.00016594f), "phi_a = %.9g",
              (double)mh_derived(&h, "phi_a"));
    cr_expect(mh_same(mh_derived(&h, "dtphi_V"), 0.0997507498f));
    cr_expect(mh_same(mh_derived(&h, "dtphi_a"), 0.100016594f));
    /* the float32 phi_a is 1.9e-4 above the exact exprel(-5e-5) = 0.999975: the spec's
     * (expf(y) - 1)/y, not expm1 */
    cr_expect(fabs((double)mh_derived(&h, "phi_a") - 0.999975) > 1.8e-4);
    mh_close(&h);
}

/* dt = 0.001 ms, tau = 200 ms: |y| = 5e-6 <= 1e-5 takes 1 + y/2 + y^2/6 (values of
 * alif_bellec2020_exprel_short.json), which differs from (expf(y) - 1)/y there; just above
 * |y| = 1e-5 the long branch is used. */
Test(alif_bellec2020, derive_takes_the_short_exprel_branch_for_tiny_y)
{
    mh_t h;
    mh_open(&h, "alif_bellec2020", 1, 0.001);
    mh_set(&h, "tau", 200.0f);
    cr_assert(mh_same((float)h.a.dt, 0.001f));
    cr_expect(mh_same(mh_derived(&h, "lin_V"), -0.00499999989f));
    cr_expect(mh_same(mh_derived(&h, "phi_V"), 0.999997497f), "phi_V = %.9g",
              (double)mh_derived(&h, "phi_V"));
    cr_expect(mh_same(mh_derived(&h, "phi_a"), 0.999999762f), "phi_a = %.9g",
              (double)mh_derived(&h, "phi_a"));
    cr_expect(mh_same(mh_derived(&h, "dtphi_V"), 0.000999997486f));
    cr_expect(mh_same(mh_derived(&h, "dtphi_a"), 0.000999999815f));
    const float y = 0.001f * -(1.0f / 200.0f);
    cr_assert(fabsf(y) <= 1e-5f);
    cr_expect(!mh_same(mh_derived(&h, "phi_V"), (expf(y) - 1.0f) / y),
              "the branches coincide here; the test would not tell them apart");
    /* long branch just above the switch: dt 0.1, tau 9990 -> |y| = 1.001e-5 */
    mh_set_dt(&h, 0.1f);
    mh_set(&h, "tau", 9990.0f);
    const float y2 = 0.1f * -(1.0f / 9990.0f);
    cr_assert(fabsf(y2) > 1e-5f);
    cr_expect(mh_same(mh_derived(&h, "phi_V"), (expf(y2) - 1.0f) / y2));
    cr_expect(mh_same(mh_derived(&h, "phi_V"), exprel_spec(y2)));
    mh_close(&h);
}

Test(alif_bellec2020, init_sets_v_rest_zero_a_and_t_last_spike_far_in_the_past)
{
    mh_t h;
    mh_open(&h, "alif_bellec2020", 3, 0.1);
    for (uint32_t j = 0; j < 3; j++) {
        cr_expect_eq(mh_col(&h, "V")[j], -70.0f);
        cr_expect_eq(mh_col(&h, "a")[j], 0.0f);
        cr_expect_eq(mh_col(&h, "t_last_spike")[j], -1e7f);
    }
    mh_close(&h);
}

/* da = -a/tau_a by exponential Euler, exact for a linear ODE: a_n = a0 exp(-n dt/tau_a), up
 * to the float32 rounding of phi (per step the multiplier 1 - dtphi_a/tau_a misses
 * exp(-dt/tau_a) by delta) and of the update (eps): |a_n - a0 e^{-n dt/tau_a}| <=
 * a0 n (delta + eps). tau_a = 50 ms, 2000 steps = 4 tau_a. */
Test(alif_bellec2020, a_decays_exponentially_with_tau_a)
{
    mh_t h;
    mh_open(&h, "alif_bellec2020", 1, 0.1);
    bellec(&h);
    mh_set(&h, "tau_a", 50.0f);
    const double a0 = 3.0;
    mh_col(&h, "a")[0] = (float)a0;
    const double m_f = 1.0 - (double)mh_derived(&h, "dtphi_a") / 50.0;
    const double delta = fabs(m_f - exp(-0.1 / 50.0));
    cr_assert_lt(delta, 1e-8, "phi_a rounding %g", delta);
    for (int n = 1; n <= 2000; n++) {
        mh_step(&h);
        cr_assert_eq(h.spiked[0], 0);
        double want = a0 * exp(-n * (double)0.1f / 50.0);
        double got = mh_col(&h, "a")[0];
        cr_assert(fabs(got - want) <= a0 * n * (delta + FLT_EPSILON), "n=%d a=%.9g vs %.9g", n, got,
                  want);
    }
    cr_expect(fabs(mh_col(&h, "a")[0] - a0 * exp(-4.0)) < 1e-4);
    mh_close(&h);
}

/* dV = (-(V - V_rest) + R I)/tau: V_n = V* + (V0 - V*) exp(-n dt/tau), V* = V_rest + R I.
 * Tolerance: phi rounding as for a, plus float32 rounding of V (|V| <= 1: 6e-8 per step,
 * contracting by dt/tau = 0.005 per step: < 2e-5). R = 2, I = 0.3: V* = 0.6 < V_th. */
Test(alif_bellec2020, constant_input_relaxes_v_to_v_rest_plus_r_i)
{
    mh_t h;
    mh_open(&h, "alif_bellec2020", 2, 0.1);
    bellec(&h);
    mh_set(&h, "R", 2.0f);
    h.in[0][0] = h.in[0][1] = 0.3f;
    mh_col(&h, "V")[1] = 0.9f;
    const double vs = 2.0 * (double)0.3f, v0[2] = {0.0, (double)0.9f};
    for (int n = 1; n <= 2000; n++) {
        mh_step(&h);
        for (int j = 0; j < 2; j++) {
            cr_assert_eq(h.spiked[j], 0);
            double want = vs + (v0[j] - vs) * exp(-n * (double)0.1f / 20.0);
            cr_assert(fabs(mh_col(&h, "V")[j] - want) <= 2e-5, "n=%d V=%.9g vs %.9g", n,
                      (double)mh_col(&h, "V")[j], want);
        }
    }
    cr_expect(fabs(mh_col(&h, "V")[0] - vs) < 1e-4 && fabs(mh_col(&h, "V")[1] - vs) < 1e-4);
    /* BrainPy's defaults: V_rest = -70, relaxes to -70 + 1*6 = -64 < V_th = -60 */
    mh_close(&h);
    mh_open(&h, "alif_bellec2020", 1, 0.1);
    h.in[0][0] = 6.0f;
    for (int n = 0; n < 4000; n++) {
        mh_step(&h);
        cr_assert_eq(h.spiked[0], 0);
    }
    cr_expect(fabs(mh_col(&h, "V")[0] - -64.0) < 1e-3, "V = %.9g", (double)mh_col(&h, "V")[0]);
    mh_close(&h);
}

/* The full recursion in double with the model's float constants, constant I, from V = 0,
 * a = 0: spike steps and the smallest |V_i - thr| met. */
static int double_run(const mh_t *h, double cur, int steps, int *spk, double *margin)
{
    const double dv = mh_derived(h, "dtphi_V"), da = mh_derived(h, "dtphi_a");
    const double tau = mh_param(h, "tau"), tau_a = mh_param(h, "tau_a");
    const double beta = mh_param(h, "beta"), vth = mh_param(h, "V_th");
    const double vrest = mh_param(h, "V_rest"), r = mh_param(h, "R");
    double v = 0.0, a = 0.0;
    int count = 0;
    *margin = INFINITY;
    for (int t = 0; t < steps; t++) {
        double vi = v + dv * ((-(v - vrest) + r * cur) / tau);
        double ai = a + da * (-a / tau_a);
        double thr = vth + beta * a;
        *margin = fmin(*margin, fabs(vi - thr));
        int s = vi >= thr;
        if (s)
            spk[count++] = t;
        v = s ? vi - vth : vi;
        a = s ? ai + 1.0 : ai;
    }
    return count;
}

/* Constant current, reset by subtraction: the spike steps are exactly those of the double
 * recursion (margin > 1e-4). beta = 0: I = 1.5 fires every 220 steps, I = 3 alternates
 * 81/82-step ISIs (the subtraction keeps the overshoot); beta = 0.05: ISIs lengthen. */
Test(alif_bellec2020, constant_current_fires_as_the_double_recursion_predicts)
{
    struct {
        float cur, beta;
    } cases[] = {{1.5f, 0.0f}, {3.0f, 0.0f}, {3.0f, 0.05f}};
    const int steps = 5000;
    static int expect[5000], got[5000];
    for (int c = 0; c < 3; c++) {
        mh_t h;
        mh_open(&h, "alif_bellec2020", 1, 0.1);
        bellec(&h);
        mh_set(&h, "beta", cases[c].beta);
        mh_col(&h, "V")[0] = 0.0f;
        h.in[0][0] = cases[c].cur;
        double margin;
        int ne = double_run(&h, cases[c].cur, steps, expect, &margin);
        cr_assert_gt(margin, 1e-4, "case %d: margin %g", c, margin);
        int ng = 0;
        for (int t = 0; t < steps; t++) {
            mh_step(&h);
            if (h.spiked[0])
                got[ng++] = t;
        }
        cr_assert_eq(ng, ne, "case %d: %d spikes, expected %d", c, ng, ne);
        for (int k = 0; k < ng; k++)
            cr_assert_eq(got[k], expect[k], "case %d: spike %d at %d, expected %d", c, k, got[k],
                         expect[k]);
        cr_assert_gt(ng, 10);
        if (c == 0)
            for (int k = 1; k < ng; k++)
                cr_assert_eq(got[k] - got[k - 1], 220);
        if (c == 2)
            cr_expect_gt(got[ng - 1] - got[ng - 2], got[1] - got[0] + 50, "no adaptation");
        mh_close(&h);
    }
}

/* With a0 = 1, beta = 0.5, V_th = 1 the threshold is 1.5 with the previous a but 1.45 with
 * a_i (tau_a = 1 ms decays a by 9.5% per step). V held near 1.48 (tau = 1e9 ms) must not
 * spike; V near 1.51 must. */
Test(alif_bellec2020, threshold_uses_the_previous_a)
{
    mh_t h;
    mh_open(&h, "alif_bellec2020", 2, 0.1);
    bellec(&h);
    mh_set(&h, "beta", 0.5f);
    mh_set(&h, "tau_a", 1.0f);
    mh_set(&h, "tau", 1e9f);
    mh_col(&h, "V")[0] = 1.48f;
    mh_col(&h, "V")[1] = 1.51f;
    mh_col(&h, "a")[0] = mh_col(&h, "a")[1] = 1.0f;
    mh_step(&h);
    const float a_i = 1.0f + mh_derived(&h, "dtphi_a") * (-1.0f / 1.0f);
    cr_assert_lt(1.0f + 0.5f * a_i, 1.46f, "a_i = %g does not separate the cases", (double)a_i);
    cr_expect_eq(h.spiked[0], 0, "threshold used the decayed a");
    cr_expect_eq(h.spiked[1], 1);
    cr_expect(mh_same(mh_col(&h, "a")[0], a_i));
    cr_expect(mh_same(mh_col(&h, "a")[1], a_i + 1.0f));
    mh_close(&h);
}

/* Twin neurons with the same a: the spiking one ends with a_i + 1 (a_i = the other's a'), and
 * V' = V_i - V_th (reset by subtraction, not to V_rest), V_i as the spec computes it. */
Test(alif_bellec2020, spike_adds_one_to_a_and_subtracts_v_th_from_v)
{
    mh_t h;
    mh_open(&h, "alif_bellec2020", 2, 0.1);
    bellec(&h);
    mh_set(&h, "V_th", 0.8f);
    mh_col(&h, "V")[0] = 3.0f;
    mh_col(&h, "V")[1] = 0.2f;
    mh_col(&h, "a")[0] = mh_col(&h, "a")[1] = 0.4f;
    h.in[0][0] = h.in[0][1] = 0.5f;
    mh_step(&h);
    cr_assert_eq(h.spiked[0], 1);
    cr_assert_eq(h.spiked[1], 0);
    cr_expect(mh_same(mh_col(&h, "a")[0], mh_col(&h, "a")[1] + 1.0f));
    const float dtphi_v = mh_derived(&h, "dtphi_V");
    const float cur = 0.0f + 0.5f;
    const float v_i = 3.0f + dtphi_v * ((-(3.0f - 0.0f) + 1.0f * cur) / 20.0f);
    cr_expect(mh_same(mh_col(&h, "V")[0], v_i - 0.8f), "V' = %.9g, V_i = %.9g",
              (double)mh_col(&h, "V")[0], (double)v_i);
    cr_expect(fabs(mh_col(&h, "V")[0] - (3.0 - 0.8 + 0.1 * (-2.5) / 20.0)) < 1e-3);
    mh_close(&h);
}

/* With tau_ref the k-th step after a spike is refractory iff k*dt <= tau_ref: V is held for
 * floor(tau_ref/dt) steps (2.05 at dt 0.1 -> 20, 0.35 -> 3; at dt 0.25, tau_ref 1.0 is an
 * exact tie, k*dt == tau_ref, which `<=` counts: 4 steps), a keeps decaying, then V integrates
 * again. Strong drive so the neuron fires again right after. */
Test(alif_bellec2020, tau_ref_holds_v_for_floor_tau_ref_over_dt_steps)
{
    const double dt_ms[] = {0.1, 0.1, 0.25};
    const float tau_ref[] = {2.05f, 0.35f, 1.0f};
    const int held[] = {20, 3, 4};
    for (int c = 0; c < 3; c++) {
        mh_t h;
        mh_open(&h, "alif_bellec2020", 1, dt_ms[c]);
        bellec(&h);
        mh_set(&h, "beta", 0.0f);
        mh_set(&h, "tau_ref", tau_ref[c]);
        mh_col(&h, "V")[0] = 0.0f;
        h.in[0][0] = 20.0f;
        int last = -1, spikes = 0;
        float v_prev = 0.0f, a_prev = 0.0f;
        for (int t = 0; t < 600; t++) {
            mh_step(&h);
            const float v = mh_col(&h, "V")[0], a = mh_col(&h, "a")[0];
            if (last >= 0 && t - last <= held[c]) {
                cr_assert_eq(h.spiked[0], 0);
                cr_assert(mh_same(v, v_prev), "tau_ref %g: V not held %d steps after a spike",
                          (double)tau_ref[c], t - last);
                cr_assert_lt(a, a_prev, "a must keep decaying");
            } else if (last >= 0 && t - last == held[c] + 1) {
                cr_assert(!mh_same(v, v_prev) || h.spiked[0],
                          "tau_ref %g: V must integrate "
                          "again",
                          (double)tau_ref[c]);
            }
            if (h.spiked[0]) {
                cr_assert_eq(mh_col(&h, "t_last_spike")[0], (float)t * (float)h.a.dt);
                if (last >= 0)
                    cr_assert_gt(t - last, held[c]);
                last = t;
                spikes++;
            }
            v_prev = v;
            a_prev = a;
        }
        cr_expect_gt(spikes, 10);
        mh_close(&h);
    }
}

/* An initial t_last_spike = -k*dt (a spike k steps before step 0) makes steps
 * 0..floor(tau_ref/dt)-k refractory: with -0.5 ms and tau_ref 2.05, steps 0..15. A neuron
 * whose held V is at or above threshold still spikes while refractory (and is reset by
 * -V_th), then stays held at the reset value. */
Test(alif_bellec2020, initial_t_last_spike_is_refractory_and_held_v_above_threshold_spikes)
{
    mh_t h;
    mh_open(&h, "alif_bellec2020", 2, 0.1);
    bellec(&h);
    mh_set(&h, "beta", 0.0f);
    mh_set(&h, "tau_ref", 2.05f);
    mh_col(&h, "V")[0] = 0.5f;
    mh_col(&h, "t_last_spike")[0] = -0.5f;
    mh_col(&h, "V")[1] = 1.5f;
    mh_col(&h, "t_last_spike")[1] = -0.1f;
    h.in[0][0] = h.in[0][1] = 50.0f;
    for (int t = 0; t < 40; t++) {
        mh_step(&h);
        if (t <= 15) {
            cr_assert_eq(mh_col(&h, "V")[0], 0.5f, "step %d: V not held", t);
            cr_assert_eq(h.spiked[0], 0);
        } else if (t == 16) {
            cr_assert_gt(mh_col(&h, "V")[0], 0.5f, "step 16 must integrate");
        }
        if (t == 0) {
            cr_assert_eq(h.spiked[1], 1, "held V = 1.5 >= V_th must spike");
            cr_assert_eq(mh_col(&h, "V")[1], 0.5f);
            cr_assert_eq(mh_col(&h, "t_last_spike")[1], 0.0f);
        } else if (t <= 20) {
            cr_assert_eq(h.spiked[1], 0);
            cr_assert_eq(mh_col(&h, "V")[1], 0.5f, "step %d: V not held", t);
        }
    }
    mh_close(&h);
}

typedef struct {
    float v0, dtphi_v;
} vi_ctx_t;

static float v_integrated(float x, const void *ctx)
{
    const vi_ctx_t *c = ctx;
    const float cur = 0.0f + x;
    return c->v0 + c->dtphi_v * ((-(c->v0 - 0.0f) + 1.0f * cur) / 20.0f);
}

/* The comparison is >=: V_i == V_th + beta*a exactly spikes, V_i one step of x below does
 * not. With a = 0 the threshold is V_th and V' = V_i - V_th = 0 proves V_i == V_th in the
 * model's own arithmetic; with a = 0.25, beta = 0.4 the threshold is fl(V_th + beta*a). */
Test(alif_bellec2020, v_integrated_equal_to_threshold_spikes)
{
    const float a0[] = {0.0f, 0.25f};
    for (int c = 0; c < 2; c++) {
        mh_t h;
        mh_open(&h, "alif_bellec2020", 2, 0.1);
        bellec(&h);
        mh_set(&h, "beta", 0.4f);
        const float thr = 1.0f + 0.4f * a0[c];
        vi_ctx_t ctx = {0.7f, mh_derived(&h, "dtphi_V")};
        float x_eq = mh_solve_ge(v_integrated, &ctx, thr, 0.0f, 1000.0f);
        cr_assert(v_integrated(x_eq, &ctx) == thr, "no input hits the threshold exactly");
        float x_lt = nextafterf(x_eq, -INFINITY);
        cr_assert(v_integrated(x_lt, &ctx) < thr);
        for (int j = 0; j < 2; j++) {
            mh_col(&h, "V")[j] = ctx.v0;
            mh_col(&h, "a")[j] = a0[c];
        }
        h.in[0][0] = x_eq;
        h.in[0][1] = x_lt;
        mh_step(&h);
        cr_expect_eq(h.spiked[0], 1, "a = %g: V_i == threshold must spike", (double)a0[c]);
        cr_expect(mh_same(mh_col(&h, "V")[0], thr - 1.0f), "V' = %a", (double)mh_col(&h, "V")[0]);
        cr_expect_eq(h.spiked[1], 0);
        cr_expect(mh_same(mh_col(&h, "V")[1], v_integrated(x_lt, &ctx)));
        mh_close(&h);
    }
}

/* BrainPy's defaults (V_th = -60): a spike ADDS 60 mV, and the neuron then fires on every
 * step with V growing without bound (spec section 7, alif_bellec2020_defaults.json). */
Test(alif_bellec2020, default_v_th_makes_a_fired_neuron_fire_forever)
{
    mh_t h;
    mh_open(&h, "alif_bellec2020", 1, 0.1);
    mh_col(&h, "V")[0] = -59.0f;
    float v_prev = -59.0f;
    for (int t = 0; t < 20; t++) {
        mh_step(&h);
        cr_assert_eq(h.spiked[0], 1, "step %d", t);
        cr_assert_gt(mh_col(&h, "V")[0], v_prev + 50.0f);
        v_prev = mh_col(&h, "V")[0];
    }
    cr_expect_gt(mh_col(&h, "V")[0], 1000.0f);
    mh_close(&h);
}

static void refrac_setup(mh_t *h)
{
    bellec(h);
    mh_set(h, "beta", 0.0f);
    for (uint32_t i = 0; i < h->n; i++)
        h->in[0][i] = (i % 2) ? 25.0f : 400.0f; /* 400: fires on every free step */
}

Test(alif_bellec2020, generic_refrac_holds_v_blocks_spikes_and_counts_down)
{
    mh_check_generic_refrac("alif_bellec2020", 0.1, 10, refrac_setup, 200);
}

Test(alif_bellec2020, refrac_null_is_off)
{
    mh_check_refrac_null_is_off("alif_bellec2020", 0.1, 10, refrac_setup, 200);
}

/* A spike suppressed by the generic counter neither raises a nor records t_last_spike. */
Test(alif_bellec2020, generic_refrac_suppressed_spike_does_not_jump_a_or_t_last_spike)
{
    mh_t h;
    mh_open(&h, "alif_bellec2020", 1, 0.1);
    bellec(&h);
    mh_set(&h, "tau_ref", 1.0f);
    mh_refrac_on(&h, 2);
    h.refrac[0] = 1;
    mh_col(&h, "V")[0] = 2.0f;
    mh_step(&h);
    cr_assert_eq(h.spiked[0], 0);
    cr_expect_eq(mh_col(&h, "V")[0], 2.0f);
    cr_expect_eq(mh_col(&h, "a")[0], 0.0f);
    cr_expect_eq(mh_col(&h, "t_last_spike")[0], -1e7f);
    mh_close(&h);
}

/* ---- oracle ---------------------------------------------------------------------------- */

static int oracle(const float *p, float dt, uint64_t step, float *st, const float *x,
                  uint16_t *refrac, uint16_t refrac_steps)
{
    const float V_rest = prm(p, "V_rest"), V_th = prm(p, "V_th"), R = prm(p, "R");
    const float beta = prm(p, "beta"), tau = prm(p, "tau"), tau_a = prm(p, "tau_a");
    const float tau_ref = prm(p, "tau_ref");
    /* constants, as section 7 gives them */
    const float lin_V = -(1.0f / tau), lin_a = -(1.0f / tau_a);
    const float dtphi_V = dt * exprel_spec(dt * lin_V), dtphi_a = dt * exprel_spec(dt * lin_a);
    const int iv = sidx("V"), ia = sidx("a"), it = sidx("t_last_spike");
    const float V = st[iv], a = st[ia];
    const float t = (float)step * dt;
    const float I = 0.0f + x[0];
    const float f_V = (-(V - V_rest) + R * I) / tau;
    const float f_a = -a / tau_a;
    float V_i = V + dtphi_V * f_V;
    const float a_i = a + dtphi_a * f_a;
    if (tau_ref > 0.0f && (t - st[it]) <= tau_ref)
        V_i = V;
    const float thr = V_th + beta * a;
    float s = V_i >= thr ? 1.0f : 0.0f;
    float V_n = V_i - V_th * s;
    s = (float)mh_oracle_refrac(refrac, refrac_steps, V, &V_n, s != 0.0f);
    if (tau_ref > 0.0f && s != 0.0f)
        st[it] = t;
    st[iv] = V_n;
    st[ia] = a_i + s;
    return s != 0.0f;
}

static void oracle_init(mh_rng_t *r, const float *p, uint32_t i, float *st)
{
    (void)i;
    const float v_rest = prm(p, "V_rest"), v_th = prm(p, "V_th");
    st[sidx("V")] = mh_uniform(r, v_rest - 0.5f * (v_th - v_rest), v_th + 0.3f * (v_th - v_rest));
    st[sidx("a")] = mh_below(r, 3) ? mh_uniform(r, 0.0f, 1.5f) : 0.0f;
    /* a spike k steps before step 0, or none */
    uint32_t k = mh_below(r, 40);
    st[sidx("t_last_spike")] = k < 25 ? -(float)k * 0.1f : -1e7f;
}

static void oracle_input(mh_rng_t *r, const float *p, uint64_t t, uint32_t i, float *x)
{
    (void)t, (void)i;
    const float span = prm(p, "V_th") - prm(p, "V_rest");
    x[0] = mh_below(r, 10) < 2 ? 0.0f : mh_uniform(r, -0.5f * span, 4.0f * span);
}

static void bellec_params(mh_t *h)
{
    bellec(h);
}

static void bellec_tau_ref(mh_t *h)
{
    bellec(h);
    mh_set(h, "tau_ref", 2.05f);
    mh_set(h, "tau_a", 200.0f);
    mh_set(h, "beta", 0.3f);
    mh_set(h, "R", 1.5f);
}

Test(alif_bellec2020, matches_naive_oracle_bit_for_bit)
{
    mh_oracle_case_t c = {.model = "alif_bellec2020",
                          .dt_ms = 0.1,
                          .n = 64,
                          .steps = 500,
                          .seed = 61,
                          .params = bellec_params,
                          .init = oracle_init,
                          .input = oracle_input,
                          .oracle = oracle};
    mh_check_oracle(&c);
    c.seed = 62;
    c.params = bellec_tau_ref;
    mh_check_oracle(&c);
    c.seed = 63;
    c.params = NULL; /* BrainPy's defaults */
    mh_check_oracle(&c);
    c.seed = 64;
    c.params = bellec_params;
    c.dt_ms = 1.0;
    mh_check_oracle(&c);
}

Test(alif_bellec2020, matches_naive_oracle_bit_for_bit_with_generic_refrac)
{
    mh_oracle_case_t c = {.model = "alif_bellec2020",
                          .dt_ms = 0.1,
                          .n = 64,
                          .steps = 500,
                          .seed = 65,
                          .with_refrac = 1,
                          .params = bellec_tau_ref,
                          .init = oracle_init,
                          .input = oracle_input,
                          .oracle = oracle};
    mh_check_oracle(&c);
}
