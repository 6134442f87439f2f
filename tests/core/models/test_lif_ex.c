/* test_lif_ex.c: exponential integrate-and-fire (core/src/models/lif_ex.c, docs/models.md
 * section 4): the zero-input relaxation of i (closed form) and of v (double-precision
 * iteration of the same recursion, and its exponential fixed point), regular firing under
 * constant current with the ISI the double recursion predicts (also below the LIF rheobase,
 * driven by the exponential term), the strict threshold, generic refractoriness and a
 * bit-exact comparison with a naive oracle (expf as in the model). */
#include <float.h>
#include <math.h>

#include <criterion/criterion.h>

#include "model_harness.h"

static float prm(const float *p, const char *name)
{
    return p[sk_model_param_index(sk_model_find("lif_ex"), name)];
}

static int sidx(const char *name)
{
    return sk_model_state_index(sk_model_find("lif_ex"), name);
}

Test(lif_ex, derives_constants_and_inits_v_leak)
{
    mh_t h;
    mh_open(&h, "lif_ex", 2, 1.0);
    cr_expect(mh_same(mh_derived(&h, "k_mem"), 0.001f * 100.0f));
    cr_expect(mh_same(mh_derived(&h, "k_syn"), (-0.001f) * 200.0f));
    mh_set(&h, "v_leak", -0.5f);
    mh_reinit(&h);
    cr_expect_eq(mh_col(&h, "v")[1], -0.5f);
    cr_expect_eq(mh_col(&h, "i")[1], 0.0f);
    mh_close(&h);
}

/* One step of the recursion in double, with the model's float constants. */
static double step_double(double v, double cur, double k_mem, double v_leak, double v_th,
                          double delta_t)
{
    return v + k_mem * ((v_leak - v) + delta_t * exp((v - v_th) / delta_t) + cur);
}

/* x = 0: i_n = i0 c^n as in LIF; v follows the double recursion (2e-6: float32 rounding
 * only, the recursion contracts) and settles on the lower root of
 * v - v_leak = delta_T exp((v - v_th)/delta_T), above v_leak (0.0792 with the defaults). */
Test(lif_ex, zero_input_relaxes_to_the_exponential_fixed_point)
{
    mh_t h;
    mh_open(&h, "lif_ex", 2, 1.0);
    const float v0[2] = {-0.4f, 0.6f}, i0[2] = {0.3f, -0.2f};
    for (int j = 0; j < 2; j++) {
        mh_col(&h, "v")[j] = v0[j];
        mh_col(&h, "i")[j] = i0[j];
    }
    const double k = mh_derived(&h, "k_mem"), c = 1.0 + (double)mh_derived(&h, "k_syn");
    double vd[2] = {v0[0], v0[1]};
    for (int n = 1; n <= 800; n++) {
        mh_step(&h);
        for (int j = 0; j < 2; j++) {
            vd[j] = step_double(vd[j], i0[j] * pow(c, n - 1), k, 0.0, 1.0, 0.5);
            double i_exp = i0[j] * pow(c, n);
            double i_got = mh_col(&h, "i")[j], v_got = mh_col(&h, "v")[j];
            cr_assert_eq(h.spiked[j], 0);
            cr_assert(fabs(i_got - i_exp) <= 2.0 * n * FLT_EPSILON * fabs(i_exp) + 1e-30,
                      "n=%d i=%.9g expected %.9g", n, i_got, i_exp);
            cr_assert(fabs(v_got - vd[j]) <= 2e-6, "n=%d v=%.9g expected %.9g", n, v_got, vd[j]);
        }
    }
    /* the fixed point, by Newton on g(v) = v - 0.5 exp(2 (v - 1)) */
    double vs = 0.0;
    for (int it = 0; it < 50; it++)
        vs -= (vs - 0.5 * exp(2.0 * (vs - 1.0))) / (1.0 - exp(2.0 * (vs - 1.0)));
    cr_assert(fabs(vs - 0.0792) < 1e-3, "fixed point %g", vs);
    for (int j = 0; j < 2; j++)
        cr_expect(fabs(mh_col(&h, "v")[j] - vs) < 1e-5, "v = %.9g, fixed point %.9g",
                  (double)mh_col(&h, "v")[j], vs);
    mh_close(&h);
}

/* First step count n with v_n > v_th from v_reset under constant current, by the double
 * recursion, with the smallest |v_k - v_th| on the way (0 if it never fires in max steps). */
static int double_period(double k, double cur, double v_leak, double v_th, double v_reset,
                         double delta_t, int max, double *margin)
{
    double v = v_reset;
    *margin = INFINITY;
    for (int n = 1; n <= max; n++) {
        v = step_double(v, cur, k, v_leak, v_th, delta_t);
        *margin = fmin(*margin, fabs(v - v_th));
        if (v > v_th)
            return n;
    }
    return 0;
}

/* tau_syn_inv = 0 keeps i = I; after a reset the state is the same as at the start, so the
 * neuron fires exactly every P steps, P from the double recursion (margin > 1e-4, far beyond
 * float32 rounding). I = 0.7 is below the LIF rheobase (v_leak + I < v_th) and fires only
 * through the exponential term; I = 0.3 has a stable fixed point and never fires. */
Test(lif_ex, constant_current_fires_with_the_period_of_the_double_recursion)
{
    const float cur[] = {1.2f, 0.7f, 3.0f, 0.3f};
    for (unsigned c = 0; c < 4; c++) {
        mh_t h;
        mh_open(&h, "lif_ex", 1, 1.0);
        mh_set(&h, "tau_syn_inv", 0.0f);
        mh_set(&h, "v_reset", -0.1f);
        mh_col(&h, "v")[0] = -0.1f;
        mh_col(&h, "i")[0] = cur[c];
        double margin;
        const int steps = 1000;
        int period =
            double_period(mh_derived(&h, "k_mem"), cur[c], 0.0, 1.0, -0.1, 0.5, steps, &margin);
        cr_assert_gt(margin, 1e-4, "I = %g: margin %g", (double)cur[c], margin);
        if (c < 3)
            cr_assert_gt(period, 1, "I = %g must fire", (double)cur[c]);
        else
            cr_assert_eq(period, 0, "I = 0.3 must not fire");
        int count = 0, last = -1;
        for (int t = 0; t < steps; t++) {
            mh_step(&h);
            if (h.spiked[0]) {
                cr_assert_eq(t - last, period, "I = %g: ISI %d at step %d (expected %d)",
                             (double)cur[c], t - last, t, period);
                last = t;
                count++;
            }
        }
        cr_expect_eq(count, period ? steps / period : 0, "I = %g: %d spikes", (double)cur[c],
                     count);
        mh_close(&h);
    }
}

typedef struct {
    float v0, i0, v_leak, v_th, delta_t, k_mem;
} vd_ctx_t;

static float v_decayed(float x, const void *ctx)
{
    const vd_ctx_t *c = ctx;
    const float i_j = c->i0 + x;
    const float e = c->delta_t * expf((c->v0 - c->v_th) / c->delta_t);
    return c->v0 + c->k_mem * (((c->v_leak - c->v0) + e) + i_j);
}

Test(lif_ex, v_decayed_equal_to_v_th_does_not_spike)
{
    mh_t h;
    mh_open(&h, "lif_ex", 2, 1.0);
    vd_ctx_t ctx = {0.55f, 0.25f, 0.0f, 1.0f, 0.5f, mh_derived(&h, "k_mem")};
    float x_eq = mh_solve_ge(v_decayed, &ctx, ctx.v_th, 0.0f, 100.0f);
    float x_gt = mh_solve_ge(v_decayed, &ctx, nextafterf(ctx.v_th, INFINITY), 0.0f, 100.0f);
    cr_assert(v_decayed(x_eq, &ctx) == ctx.v_th, "no input hits v_th exactly");
    for (int j = 0; j < 2; j++) {
        mh_col(&h, "v")[j] = ctx.v0;
        mh_col(&h, "i")[j] = ctx.i0;
    }
    h.in[0][0] = x_eq;
    h.in[0][1] = x_gt;
    mh_step(&h);
    cr_expect_eq(h.spiked[0], 0, "v_d - v_th == 0 must not spike");
    cr_expect(mh_same(mh_col(&h, "v")[0], ctx.v_th), "v = %a", (double)mh_col(&h, "v")[0]);
    cr_expect_eq(h.spiked[1], 1);
    cr_expect_eq(mh_col(&h, "v")[1], 0.0f);
    mh_close(&h);
}

static void refrac_setup(mh_t *h)
{
    for (uint32_t i = 0; i < h->n; i++)
        h->in[0][i] = (i % 2) ? 3.0f : 40.0f;
}

Test(lif_ex, generic_refrac_holds_v_blocks_spikes_and_counts_down)
{
    mh_check_generic_refrac("lif_ex", 1.0, 10, refrac_setup, 80);
}

Test(lif_ex, refrac_null_is_off)
{
    mh_check_refrac_null_is_off("lif_ex", 1.0, 10, refrac_setup, 80);
}

/* ---- oracle ---------------------------------------------------------------------------- */

static int oracle(const float *p, float dt, uint64_t step, float *st, const float *x,
                  uint16_t *refrac, uint16_t refrac_steps)
{
    (void)step;
    const float delta_t = prm(p, "delta_T");
    const float tau_syn_inv = prm(p, "tau_syn_inv"), tau_mem_inv = prm(p, "tau_mem_inv");
    const float v_leak = prm(p, "v_leak"), v_th = prm(p, "v_th"), v_reset = prm(p, "v_reset");
    const int iv = sidx("v"), ii = sidx("i");
    const float v = st[iv], i = st[ii];
    const float i_j = i + x[0];
    const float e = delta_t * expf((v - v_th) / delta_t);
    const float v_d = v + (dt * tau_mem_inv) * (((v_leak - v) + e) + i_j);
    const float i_n = i_j + ((-dt) * tau_syn_inv) * i_j;
    const float z = (v_d - v_th) > 0.0f ? 1.0f : 0.0f;
    float v_n = (1.0f - z) * v_d + z * v_reset;
    int zi = mh_oracle_refrac(refrac, refrac_steps, v, &v_n, z != 0.0f);
    st[iv] = v_n;
    st[ii] = i_n;
    return zi;
}

static void oracle_init(mh_rng_t *r, const float *p, uint32_t i, float *st)
{
    (void)i;
    st[sidx("v")] = prm(p, "v_leak") + mh_uniform(r, -0.5f, 1.5f); /* some above v_th */
    st[sidx("i")] = mh_uniform(r, -1.0f, 3.0f);
}

static void oracle_input(mh_rng_t *r, const float *p, uint64_t t, uint32_t i, float *x)
{
    (void)p, (void)t, (void)i;
    x[0] = mh_below(r, 10) < 3 ? 0.0f : mh_uniform(r, -0.5f, 1.5f);
}

static void other_params(mh_t *h)
{
    mh_set(h, "delta_T", 0.3f);
    mh_set(h, "tau_syn_inv", 150.0f);
    mh_set(h, "tau_mem_inv", 80.0f);
    mh_set(h, "v_leak", 0.05f);
    mh_set(h, "v_th", 0.9f);
    mh_set(h, "v_reset", -0.1f);
}

Test(lif_ex, matches_naive_oracle_bit_for_bit)
{
    mh_oracle_case_t c = {.model = "lif_ex",
                          .dt_ms = 1.0,
                          .n = 64,
                          .steps = 500,
                          .seed = 21,
                          .init = oracle_init,
                          .input = oracle_input,
                          .oracle = oracle};
    mh_check_oracle(&c);
    c.seed = 22;
    c.params = other_params;
    mh_check_oracle(&c);
}

Test(lif_ex, matches_naive_oracle_bit_for_bit_with_generic_refrac)
{
    mh_oracle_case_t c = {.model = "lif_ex",
                          .dt_ms = 1.0,
                          .n = 64,
                          .steps = 500,
                          .seed = 23,
                          .with_refrac = 1,
                          .params = other_params,
                          .init = oracle_init,
                          .input = oracle_input,
                          .oracle = oracle};
    mh_check_oracle(&c);
}
