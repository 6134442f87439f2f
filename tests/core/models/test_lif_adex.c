/* test_lif_adex.c: adaptive exponential integrate-and-fire (core/src/models/lif_adex.c,
 * docs/models.md section 3): decay of a with tau_ada_inv (closed forms), the spike jump of
 * exactly adaptation_spike after the decay, spike-frequency adaptation and regular firing
 * under constant current as the double-precision recursion predicts, the strict threshold,
 * generic refractoriness and a bit-exact comparison with a naive oracle. */
#include <float.h>
#include <math.h>

#include <criterion/criterion.h>

#include "model_harness.h"

static float prm(const float *p, const char *name)
{
    return p[sk_model_param_index(sk_model_find("lif_adex"), name)];
}

static int sidx(const char *name)
{
    return sk_model_state_index(sk_model_find("lif_adex"), name);
}

Test(lif_adex, derives_constants_and_inits_v_leak_zero_i_and_a)
{
    mh_t h;
    mh_open(&h, "lif_adex", 2, 1.0);
    cr_expect(mh_same(mh_derived(&h, "k_mem"), 0.001f * 100.0f));
    cr_expect(mh_same(mh_derived(&h, "k_syn"), (-0.001f) * 200.0f));
    cr_expect(mh_same(mh_derived(&h, "k_ada"), 0.001f * 2.0f));
    mh_set(&h, "v_leak", 0.25f);
    mh_reinit(&h);
    cr_expect_eq(mh_col(&h, "v")[1], 0.25f);
    cr_expect_eq(mh_col(&h, "i")[1], 0.0f);
    cr_expect_eq(mh_col(&h, "a")[1], 0.0f);
    mh_close(&h);
}

/* adaptation_current = 0 decouples a from v: a_n = a0 (1 - k_ada)^n, k_ada = dt*tau_ada_inv
 * (relative 2n eps: float32 rounding per step). */
Test(lif_adex, adaptation_decays_with_tau_ada_inv)
{
    mh_t h;
    mh_open(&h, "lif_adex", 2, 1.0);
    mh_set(&h, "adaptation_current", 0.0f);
    mh_set(&h, "tau_ada_inv", 50.0f);
    const float a0[2] = {0.7f, -0.4f};
    for (int j = 0; j < 2; j++)
        mh_col(&h, "a")[j] = a0[j];
    const double m = 1.0 - (double)mh_derived(&h, "k_ada");
    cr_assert(fabs(m - 0.95) < 1e-7);
    for (int n = 1; n <= 500; n++) {
        mh_step(&h);
        for (int j = 0; j < 2; j++) {
            cr_assert_eq(h.spiked[j], 0);
            double exp_a = a0[j] * pow(m, n), got = mh_col(&h, "a")[j];
            cr_assert(fabs(got - exp_a) <= 2.0 * n * FLT_EPSILON * fabs(exp_a) + 1e-30,
                      "n=%d a=%.9g expected %.9g", n, got, exp_a);
        }
    }
    mh_close(&h);
}

/* tau_mem_inv = 0 freezes v at v0 (v_d = v0 + 0*(...)), so a relaxes to
 * a* = adaptation_current (v0 - v_leak): a_n = a* + (a0 - a*)(1 - k_ada)^n (4e-6 absolute:
 * float32 rounding, contracting). */
Test(lif_adex, adaptation_relaxes_to_adaptation_current_times_v_minus_v_leak)
{
    mh_t h;
    mh_open(&h, "lif_adex", 1, 1.0);
    mh_set(&h, "tau_mem_inv", 0.0f);
    mh_set(&h, "tau_ada_inv", 50.0f);
    mh_set(&h, "v_leak", 0.1f);
    mh_col(&h, "v")[0] = 0.5f;
    mh_col(&h, "a")[0] = -0.3f;
    const double m = 1.0 - (double)mh_derived(&h, "k_ada");
    const double a_inf = 4.0 * ((double)0.5f - (double)0.1f), a0 = -0.3f;
    for (int n = 1; n <= 500; n++) {
        mh_step(&h);
        cr_assert_eq(mh_col(&h, "v")[0], 0.5f, "v frozen");
        double exp_a = a_inf + (a0 - a_inf) * pow(m, n), got = mh_col(&h, "a")[0];
        cr_assert(fabs(got - exp_a) <= 4e-6, "n=%d a=%.9g expected %.9g", n, got, exp_a);
    }
    cr_expect(fabs(mh_col(&h, "a")[0] - 1.6) < 1e-5);
    mh_close(&h);
}

/* Two neurons with the same old v and a (a_d depends on nothing else): one spikes (large i),
 * one does not. a' = a_d without a spike and a_d + adaptation_spike with one, where
 * a_d = a + (dt*tau_ada_inv)*(adaptation_current*(v - v_leak) - a) from the OLD v and a;
 * jumping before the decay would differ by k_ada*adaptation_spike = 0.0125. */
Test(lif_adex, adaptation_jumps_by_adaptation_spike_after_the_decay)
{
    const float spikes[] = {0.02f, 0.25f};
    for (int c = 0; c < 2; c++) {
        mh_t h;
        mh_open(&h, "lif_adex", 2, 1.0);
        mh_set(&h, "tau_ada_inv", 50.0f);
        mh_set(&h, "adaptation_spike", spikes[c]);
        mh_set(&h, "v_leak", -0.1f);
        for (int j = 0; j < 2; j++) {
            mh_col(&h, "v")[j] = 0.9f;
            mh_col(&h, "a")[j] = 0.3f;
        }
        mh_col(&h, "i")[0] = 5.0f;
        mh_col(&h, "i")[1] = 0.0f;
        const float k_ada = 0.001f * 50.0f;
        const float a_d = 0.3f + k_ada * (4.0f * (0.9f - (-0.1f)) - 0.3f);
        mh_step(&h);
        cr_assert_eq(h.spiked[0], 1);
        cr_assert_eq(h.spiked[1], 0);
        cr_expect(mh_same(mh_col(&h, "a")[1], a_d), "a' = %a, expected a_d = %a",
                  (double)mh_col(&h, "a")[1], (double)a_d);
        cr_expect(mh_same(mh_col(&h, "a")[0], a_d + spikes[c]), "a' = %a, expected %a",
                  (double)mh_col(&h, "a")[0], (double)(a_d + spikes[c]));
        double jump = (double)mh_col(&h, "a")[0] - (double)mh_col(&h, "a")[1];
        cr_expect(fabs(jump - spikes[c]) <= 2 * FLT_EPSILON, "jump %.9g", jump);
        mh_close(&h);
    }
}

/* The whole recursion in double with the model's float constants, constant current
 * (tau_syn_inv = 0): spike steps and the smallest |v_d - v_th| met. */
static int double_run(const mh_t *h, double cur, int steps, int *spk, double *margin)
{
    const double k = mh_derived(h, "k_mem"), ka = mh_derived(h, "k_ada");
    const double ac = mh_param(h, "adaptation_current"), as = mh_param(h, "adaptation_spike");
    const double dT = mh_param(h, "delta_T"), vl = mh_param(h, "v_leak");
    const double vth = mh_param(h, "v_th"), vr = mh_param(h, "v_reset");
    double v = vr, a = 0.0;
    int count = 0;
    *margin = INFINITY;
    for (int t = 0; t < steps; t++) {
        double vd = v + k * ((((vl - v) + dT * exp((v - vth) / dT)) + cur) - a);
        double ad = a + ka * (ac * (v - vl) - a);
        *margin = fmin(*margin, fabs(vd - vth));
        if (vd > vth) {
            spk[count++] = t;
            v = vr;
            a = ad + as;
        } else {
            v = vd;
            a = ad;
        }
    }
    return count;
}

/* Constant current from v = v_reset, a = 0 (defaults, tau_syn_inv = 0): the spike steps are
 * exactly those of the double recursion (its margin > 1e-4 keeps float32 rounding from
 * flipping a spike). I = 5: ISIs lengthen from 3 to a regular 7 steps; I = 2: ISIs keep
 * lengthening (strong subthreshold adaptation). */
Test(lif_adex, constant_current_adapts_then_fires_regularly_as_the_double_recursion_predicts)
{
    const float cur[] = {5.0f, 2.0f};
    const int steps = 3000;
    static int expect[3000], got[3000];
    for (int c = 0; c < 2; c++) {
        mh_t h;
        mh_open(&h, "lif_adex", 1, 1.0);
        mh_set(&h, "tau_syn_inv", 0.0f);
        mh_col(&h, "i")[0] = cur[c];
        double margin;
        int ne = double_run(&h, cur[c], steps, expect, &margin);
        cr_assert_gt(margin, 1e-4, "I = %g: margin %g", (double)cur[c], margin);
        int ng = 0;
        for (int t = 0; t < steps; t++) {
            mh_step(&h);
            if (h.spiked[0])
                got[ng++] = t;
            cr_assert_eq(mh_col(&h, "i")[0], cur[c]);
        }
        cr_assert_eq(ng, ne, "I = %g: %d spikes, expected %d", (double)cur[c], ng, ne);
        for (int k = 0; k < ng; k++)
            cr_assert_eq(got[k], expect[k], "I = %g: spike %d at %d, expected %d", (double)cur[c],
                         k, got[k], expect[k]);
        cr_assert_gt(ng, 20);
        cr_expect_gt(got[ng - 1] - got[ng - 2], got[1] - got[0], "no adaptation");
        if (c == 0)
            for (int k = ng - 20; k < ng; k++)
                cr_expect_eq(got[k] - got[k - 1], 7, "I = 5: irregular ISI at spike %d", k);
        mh_close(&h);
    }
}

typedef struct {
    float v0, i0, a0, k_mem;
} vd_ctx_t;

static float v_decayed(float x, const void *ctx)
{
    const vd_ctx_t *c = ctx;
    const float i_j = c->i0 + x;
    const float e = 0.5f * expf((c->v0 - 1.0f) / 0.5f);
    return c->v0 + c->k_mem * ((((0.0f - c->v0) + e) + i_j) - c->a0);
}

Test(lif_adex, v_decayed_equal_to_v_th_does_not_spike)
{
    mh_t h;
    mh_open(&h, "lif_adex", 2, 1.0);
    vd_ctx_t ctx = {0.45f, 0.25f, 0.35f, mh_derived(&h, "k_mem")};
    float x_eq = mh_solve_ge(v_decayed, &ctx, 1.0f, 0.0f, 100.0f);
    float x_gt = mh_solve_ge(v_decayed, &ctx, nextafterf(1.0f, INFINITY), 0.0f, 100.0f);
    cr_assert(v_decayed(x_eq, &ctx) == 1.0f, "no input hits v_th exactly");
    for (int j = 0; j < 2; j++) {
        mh_col(&h, "v")[j] = ctx.v0;
        mh_col(&h, "i")[j] = ctx.i0;
        mh_col(&h, "a")[j] = ctx.a0;
    }
    h.in[0][0] = x_eq;
    h.in[0][1] = x_gt;
    mh_step(&h);
    cr_expect_eq(h.spiked[0], 0, "v_d - v_th == 0 must not spike");
    cr_expect(mh_same(mh_col(&h, "v")[0], 1.0f), "v = %a", (double)mh_col(&h, "v")[0]);
    cr_expect_eq(h.spiked[1], 1);
    cr_expect_eq(mh_col(&h, "v")[1], 0.0f);
    mh_close(&h);
}

static void refrac_setup(mh_t *h)
{
    for (uint32_t i = 0; i < h->n; i++)
        h->in[0][i] = (i % 2) ? 3.0f : 60.0f;
}

Test(lif_adex, generic_refrac_holds_v_blocks_spikes_and_counts_down)
{
    mh_check_generic_refrac("lif_adex", 1.0, 10, refrac_setup, 80);
}

Test(lif_adex, refrac_null_is_off)
{
    mh_check_refrac_null_is_off("lif_adex", 1.0, 10, refrac_setup, 80);
}

/* While the generic counter suppresses a spike, a only decays: no adaptation_spike jump. */
Test(lif_adex, generic_refrac_suppressed_spike_does_not_jump_a)
{
    mh_t h;
    mh_open(&h, "lif_adex", 1, 1.0);
    mh_refrac_on(&h, 3);
    h.refrac[0] = 1;
    mh_col(&h, "a")[0] = 0.5f;
    h.in[0][0] = 60.0f;
    const float a_d = 0.5f + (0.001f * 2.0f) * (4.0f * (0.0f - 0.0f) - 0.5f);
    mh_step(&h);
    cr_assert_eq(h.spiked[0], 0);
    cr_expect(mh_same(mh_col(&h, "a")[0], a_d), "a = %a", (double)mh_col(&h, "a")[0]);
    mh_close(&h);
}

/* ---- oracle ---------------------------------------------------------------------------- */

static int oracle(const float *p, float dt, uint64_t step, float *st, const float *x,
                  uint16_t *refrac, uint16_t refrac_steps)
{
    (void)step;
    const float ac = prm(p, "adaptation_current"), as = prm(p, "adaptation_spike");
    const float delta_t = prm(p, "delta_T"), tau_ada_inv = prm(p, "tau_ada_inv");
    const float tau_syn_inv = prm(p, "tau_syn_inv"), tau_mem_inv = prm(p, "tau_mem_inv");
    const float v_leak = prm(p, "v_leak"), v_th = prm(p, "v_th"), v_reset = prm(p, "v_reset");
    const int iv = sidx("v"), ii = sidx("i"), ia = sidx("a");
    const float v = st[iv], i = st[ii], a = st[ia];
    const float i_j = i + x[0];
    const float e = delta_t * expf((v - v_th) / delta_t);
    const float v_d = v + (dt * tau_mem_inv) * ((((v_leak - v) + e) + i_j) - a);
    const float i_n = i_j + ((-dt) * tau_syn_inv) * i_j;
    const float a_d = a + (dt * tau_ada_inv) * (ac * (v - v_leak) - a);
    const float z = (v_d - v_th) > 0.0f ? 1.0f : 0.0f;
    float v_n = (1.0f - z) * v_d + z * v_reset;
    const float zf = (float)mh_oracle_refrac(refrac, refrac_steps, v, &v_n, z != 0.0f);
    st[iv] = v_n;
    st[ii] = i_n;
    st[ia] = a_d + zf * as;
    return zf != 0.0f;
}

static void oracle_init(mh_rng_t *r, const float *p, uint32_t i, float *st)
{
    (void)i;
    st[sidx("v")] = prm(p, "v_leak") + mh_uniform(r, -0.5f, 1.5f); /* some above v_th */
    st[sidx("i")] = mh_uniform(r, -1.0f, 4.0f);
    st[sidx("a")] = mh_uniform(r, -0.5f, 2.0f);
}

static void oracle_input(mh_rng_t *r, const float *p, uint64_t t, uint32_t i, float *x)
{
    (void)p, (void)t, (void)i;
    x[0] = mh_below(r, 10) < 3 ? 0.0f : mh_uniform(r, -0.5f, 2.0f);
}

static void other_params(mh_t *h)
{
    mh_set(h, "adaptation_current", 1.5f);
    mh_set(h, "adaptation_spike", 0.3f);
    mh_set(h, "delta_T", 0.3f);
    mh_set(h, "tau_ada_inv", 20.0f);
    mh_set(h, "tau_syn_inv", 150.0f);
    mh_set(h, "tau_mem_inv", 80.0f);
    mh_set(h, "v_leak", 0.05f);
    mh_set(h, "v_th", 0.9f);
    mh_set(h, "v_reset", -0.1f);
}

Test(lif_adex, matches_naive_oracle_bit_for_bit)
{
    mh_oracle_case_t c = {.model = "lif_adex",
                          .dt_ms = 1.0,
                          .n = 64,
                          .steps = 500,
                          .seed = 31,
                          .init = oracle_init,
                          .input = oracle_input,
                          .oracle = oracle};
    mh_check_oracle(&c);
    c.seed = 32;
    c.params = other_params;
    mh_check_oracle(&c);
}

Test(lif_adex, matches_naive_oracle_bit_for_bit_with_generic_refrac)
{
    mh_oracle_case_t c = {.model = "lif_adex",
                          .dt_ms = 1.0,
                          .n = 64,
                          .steps = 500,
                          .seed = 33,
                          .with_refrac = 1,
                          .params = other_params,
                          .init = oracle_init,
                          .input = oracle_input,
                          .oracle = oracle};
    mh_check_oracle(&c);
}
