/* test_lsnn.c: Norse's LSNN, LIF with an adaptive threshold b (core/src/models/lsnn.c,
 * docs/models.md section 6): the zero-input decay of v and i and the relaxation of b towards
 * v_th (closed forms), the input acting one step later, the spike jump of b by beta after
 * the decay, the exact spike train of a neuron whose threshold climbs past its drive, the
 * strict threshold, generic refractoriness and a bit-exact comparison with a naive oracle. */
#include <float.h>
#include <math.h>

#include <criterion/criterion.h>

#include "model_harness.h"

static float prm(const float *p, const char *name)
{
    return p[sk_model_param_index(sk_model_find("lsnn"), name)];
}

static int sidx(const char *name)
{
    return sk_model_state_index(sk_model_find("lsnn"), name);
}

Test(lsnn, derives_constants_and_inits_b_to_v_th)
{
    mh_t h;
    mh_open(&h, "lsnn", 2, 1.0);
    cr_expect(mh_same(mh_derived(&h, "k_mem"), 0.001f * 100.0f));
    cr_expect(mh_same(mh_derived(&h, "k_syn"), (-0.001f) * 200.0f));
    cr_expect(mh_same(mh_derived(&h, "k_adapt"), 0.001f * (1.0f / 800.0f)));
    mh_set(&h, "v_th", 0.75f);
    mh_set(&h, "v_leak", -0.125f);
    mh_reinit(&h);
    cr_expect_eq(mh_col(&h, "v")[1], -0.125f);
    cr_expect_eq(mh_col(&h, "i")[1], 0.0f);
    cr_expect_eq(mh_col(&h, "b")[1], 0.75f);
    mh_close(&h);
}

/* x = 0: i_n = i0 c^n; u = v - v_leak follows u_{n+1} = q u_n + k i_n, the same closed form as
 * LIF (the old i drives v); b_n = v_th + (b0 - v_th)(1 - dt*tau_adapt_inv)^n. Tolerances:
 * float32 rounding (relative 2n eps on i, 2e-6 on v, 5e-6 on b, all contracting). */
Test(lsnn, zero_input_decays_v_and_i_and_relaxes_b_to_v_th)
{
    mh_t h;
    mh_open(&h, "lsnn", 1, 1.0);
    mh_set(&h, "tau_adapt_inv", 50.0f);
    mh_set(&h, "tau_syn_inv", 20.0f);
    mh_set(&h, "tau_mem_inv", 50.0f);
    const float v0 = 0.2f, i0 = 0.6f, b0 = 2.5f;
    mh_col(&h, "v")[0] = v0;
    mh_col(&h, "i")[0] = i0;
    mh_col(&h, "b")[0] = b0;
    const double k = mh_derived(&h, "k_mem"), c = 1.0 + (double)mh_derived(&h, "k_syn");
    const double q = 1.0 - k, ma = 1.0 - (double)mh_derived(&h, "k_adapt");
    cr_assert(fabs(ma - 0.95) < 1e-7);
    for (int n = 1; n <= 800; n++) {
        mh_step(&h);
        cr_assert_eq(h.spiked[0], 0);
        double i_exp = i0 * pow(c, n);
        double v_exp = pow(q, n) * v0 + k * i0 * (pow(c, n) - pow(q, n)) / (c - q);
        double b_exp = 1.0 + (b0 - 1.0) * pow(ma, n);
        cr_assert(fabs(mh_col(&h, "i")[0] - i_exp) <= 2.0 * n * FLT_EPSILON * i_exp + 1e-30,
                  "n=%d i", n);
        cr_assert(fabs(mh_col(&h, "v")[0] - v_exp) <= 2e-6, "n=%d v=%.9g vs %.9g", n,
                  (double)mh_col(&h, "v")[0], v_exp);
        cr_assert(fabs(mh_col(&h, "b")[0] - b_exp) <= 5e-6, "n=%d b=%.9g vs %.9g", n,
                  (double)mh_col(&h, "b")[0], b_exp);
    }
    /* float32 stalls once k_adapt*(b - v_th) < ulp(b)/2, i.e. about 10 ulps above v_th */
    cr_expect(fabs(mh_col(&h, "b")[0] - 1.0) < 2e-6, "b = %.9g", (double)mh_col(&h, "b")[0]);
    mh_close(&h);
}

/* Decay first, jumps last: the input of step t lands in i after v was computed, so v moves
 * one step later than in LIF. */
Test(lsnn, input_acts_one_step_later)
{
    mh_t h;
    mh_open(&h, "lsnn", 2, 1.0);
    h.in[0][0] = 1.0f;
    mh_step(&h);
    cr_expect(mh_same(mh_col(&h, "v")[0], mh_col(&h, "v")[1]), "v moved in the same step");
    cr_expect_eq(mh_col(&h, "v")[0], 0.0f);
    cr_expect_eq(mh_col(&h, "i")[0], 1.0f);
    h.in[0][0] = 0.0f;
    mh_step(&h);
    cr_expect(mh_same(mh_col(&h, "v")[0], mh_derived(&h, "k_mem") * 1.0f), "v = %a",
              (double)mh_col(&h, "v")[0]);
    cr_expect_eq(mh_col(&h, "v")[1], 0.0f);
    mh_close(&h);
}

/* Same old b for both neurons; one spikes (large old i). b' = b_d without a spike and
 * b_d + beta with one, b_d = b + (dt*tau_adapt_inv)*(v_th - b) from the old b. */
Test(lsnn, spike_raises_b_by_beta_after_the_decay)
{
    mh_t h;
    mh_open(&h, "lsnn", 2, 1.0);
    mh_set(&h, "tau_adapt_inv", 50.0f);
    for (int j = 0; j < 2; j++) {
        mh_col(&h, "v")[j] = 0.9f;
        mh_col(&h, "b")[j] = 1.2f;
    }
    mh_col(&h, "i")[0] = 6.0f;
    const float b_d = 1.2f + (0.001f * 50.0f) * (1.0f - 1.2f);
    mh_step(&h);
    cr_assert_eq(h.spiked[0], 1);
    cr_assert_eq(h.spiked[1], 0);
    cr_expect(mh_same(mh_col(&h, "b")[1], b_d), "b = %a, b_d = %a", (double)mh_col(&h, "b")[1],
              (double)b_d);
    cr_expect(mh_same(mh_col(&h, "b")[0], b_d + 1.8f), "b = %a", (double)mh_col(&h, "b")[0]);
    cr_expect_eq(mh_col(&h, "v")[0], 0.0f);
    mh_close(&h);
}

/* tau_adapt_inv = 0 (b never relaxes), tau_syn_inv = 0 (i = I = 2.1 constant), beta = 0.25:
 * the thresholds are b_k = 1 + 0.25 k exactly; from v_reset = 0 the k-th ISI is the first n
 * with v_n = I (1 - q^n) > b_k (closed form, margin > 1e-4). b_0..b_4 lie below I, so the
 * neuron fires exactly 5 times and then never again (b = 2.25 > I). */
Test(lsnn, rising_threshold_gives_the_exact_adapting_spike_train_then_silence)
{
    mh_t h;
    mh_open(&h, "lsnn", 1, 1.0);
    mh_set(&h, "tau_adapt_inv", 0.0f);
    mh_set(&h, "tau_syn_inv", 0.0f);
    mh_set(&h, "beta", 0.25f);
    const double I = 2.1f, q = 1.0 - (double)mh_derived(&h, "k_mem");
    mh_col(&h, "i")[0] = (float)I;
    int expect[5], t_spike = -1;
    for (int k = 0; k < 5; k++) {
        double b = 1.0 + 0.25 * k;
        int n = (int)ceil(log(1.0 - b / I) / log(q));
        double vn = I * (1.0 - pow(q, n)), vp = I * (1.0 - pow(q, n - 1));
        cr_assert(vn - b > 1e-4 && b - vp > 1e-4, "spike %d: margin", k);
        t_spike += n;
        expect[k] = t_spike;
    }
    int got = 0;
    for (int t = 0; t < 1000; t++) {
        mh_step(&h);
        if (h.spiked[0]) {
            cr_assert_lt(got, 5, "spike after the threshold passed the drive (step %d)", t);
            cr_assert_eq(t, expect[got], "spike %d at step %d, expected %d", got, t, expect[got]);
            got++;
        }
    }
    cr_expect_eq(got, 5);
    cr_expect_eq(mh_col(&h, "b")[0], 2.25f);
    cr_expect(fabs(mh_col(&h, "v")[0] - I) < 1e-5, "v settles at I");
    mh_close(&h);
}

typedef struct {
    float v0, k_mem;
} vd_ctx_t;

static float v_decayed(float i0, const void *ctx)
{
    const vd_ctx_t *c = ctx;
    return c->v0 + c->k_mem * ((0.0f - c->v0) + i0);
}

/* v_d == b_d exactly (the old i is chosen for it; b_d computed as the spec does): no spike,
 * so v' = v_d and b' = b_d, which the test checks are equal bit for bit. */
Test(lsnn, v_decayed_equal_to_b_decayed_does_not_spike)
{
    mh_t h;
    mh_open(&h, "lsnn", 2, 1.0);
    mh_set(&h, "tau_adapt_inv", 50.0f);
    const float b_d = 1.3f + (0.001f * 50.0f) * (1.0f - 1.3f);
    vd_ctx_t ctx = {0.4f, mh_derived(&h, "k_mem")};
    float i_eq = mh_solve_ge(v_decayed, &ctx, b_d, 0.0f, 100.0f);
    float i_gt = mh_solve_ge(v_decayed, &ctx, nextafterf(b_d, INFINITY), 0.0f, 100.0f);
    cr_assert(v_decayed(i_eq, &ctx) == b_d, "no current hits b_d exactly");
    for (int j = 0; j < 2; j++) {
        mh_col(&h, "v")[j] = ctx.v0;
        mh_col(&h, "b")[j] = 1.3f;
    }
    mh_col(&h, "i")[0] = i_eq;
    mh_col(&h, "i")[1] = i_gt;
    mh_step(&h);
    cr_expect_eq(h.spiked[0], 0, "v_d - b_d == 0 must not spike");
    cr_expect(mh_same(mh_col(&h, "b")[0], b_d));
    cr_expect(mh_same(mh_col(&h, "v")[0], b_d), "v = %a, b = %a", (double)mh_col(&h, "v")[0],
              (double)mh_col(&h, "b")[0]);
    cr_expect_eq(h.spiked[1], 1);
    mh_close(&h);
}

static void refrac_setup(mh_t *h)
{
    mh_set(h, "beta", 0.0f); /* a fixed threshold, so strong drive fires on every free step */
    for (uint32_t i = 0; i < h->n; i++)
        h->in[0][i] = (i % 2) ? 3.0f : 40.0f;
}

Test(lsnn, generic_refrac_holds_v_blocks_spikes_and_counts_down)
{
    mh_check_generic_refrac("lsnn", 1.0, 10, refrac_setup, 80);
}

Test(lsnn, refrac_null_is_off)
{
    mh_check_refrac_null_is_off("lsnn", 1.0, 10, refrac_setup, 80);
}

/* A spike suppressed by the generic counter does not raise b. */
Test(lsnn, generic_refrac_suppressed_spike_does_not_raise_b)
{
    mh_t h;
    mh_open(&h, "lsnn", 1, 1.0);
    mh_refrac_on(&h, 3);
    h.refrac[0] = 1;
    mh_col(&h, "i")[0] = 40.0f;
    const float b_d = 1.0f + (0.001f * (1.0f / 800.0f)) * (1.0f - 1.0f);
    mh_step(&h);
    cr_assert_eq(h.spiked[0], 0);
    cr_expect(mh_same(mh_col(&h, "b")[0], b_d), "b = %a", (double)mh_col(&h, "b")[0]);
    cr_expect_eq(mh_col(&h, "v")[0], 0.0f);
    mh_step(&h);
    cr_expect_eq(h.spiked[0], 1);
    cr_expect(mh_same(mh_col(&h, "b")[0], b_d + 1.8f));
    mh_close(&h);
}

/* ---- oracle ---------------------------------------------------------------------------- */

static int oracle(const float *p, float dt, uint64_t step, float *st, const float *x,
                  uint16_t *refrac, uint16_t refrac_steps)
{
    (void)step;
    const float tau_syn_inv = prm(p, "tau_syn_inv"), tau_mem_inv = prm(p, "tau_mem_inv");
    const float tau_adapt_inv = prm(p, "tau_adapt_inv"), beta = prm(p, "beta");
    const float v_leak = prm(p, "v_leak"), v_th = prm(p, "v_th"), v_reset = prm(p, "v_reset");
    const int iv = sidx("v"), ii = sidx("i"), ib = sidx("b");
    const float v = st[iv], i = st[ii], b = st[ib];
    const float v_d = v + (dt * tau_mem_inv) * ((v_leak - v) + i);
    const float i_d = i + ((-dt) * tau_syn_inv) * i;
    const float b_d = b + (dt * tau_adapt_inv) * (v_th - b);
    const float z = (v_d - b_d) > 0.0f ? 1.0f : 0.0f;
    float v_n = (1.0f - z) * v_d + z * v_reset;
    const float zf = (float)mh_oracle_refrac(refrac, refrac_steps, v, &v_n, z != 0.0f);
    st[iv] = v_n;
    st[ii] = i_d + x[0];
    st[ib] = b_d + zf * beta;
    return zf != 0.0f;
}

static void oracle_init(mh_rng_t *r, const float *p, uint32_t i, float *st)
{
    (void)i;
    st[sidx("v")] = prm(p, "v_leak") + mh_uniform(r, -0.5f, 1.5f);
    st[sidx("i")] = mh_uniform(r, -1.0f, 4.0f);
    st[sidx("b")] = prm(p, "v_th") + mh_uniform(r, -0.3f, 2.0f); /* some v above b */
}

static void oracle_input(mh_rng_t *r, const float *p, uint64_t t, uint32_t i, float *x)
{
    (void)p, (void)t, (void)i;
    x[0] = mh_below(r, 10) < 3 ? 0.0f : mh_uniform(r, -0.5f, 2.0f);
}

static void other_params(mh_t *h)
{
    mh_set(h, "tau_syn_inv", 150.0f);
    mh_set(h, "tau_mem_inv", 80.0f);
    mh_set(h, "tau_adapt_inv", 30.0f);
    mh_set(h, "v_leak", 0.1f);
    mh_set(h, "v_th", 0.8f);
    mh_set(h, "v_reset", -0.2f);
    mh_set(h, "beta", 0.7f);
}

Test(lsnn, matches_naive_oracle_bit_for_bit)
{
    mh_oracle_case_t c = {.model = "lsnn",
                          .dt_ms = 1.0,
                          .n = 64,
                          .steps = 500,
                          .seed = 51,
                          .init = oracle_init,
                          .input = oracle_input,
                          .oracle = oracle};
    mh_check_oracle(&c);
    c.seed = 52;
    c.params = other_params;
    mh_check_oracle(&c);
}

Test(lsnn, matches_naive_oracle_bit_for_bit_with_generic_refrac)
{
    mh_oracle_case_t c = {.model = "lsnn",
                          .dt_ms = 1.0,
                          .n = 64,
                          .steps = 500,
                          .seed = 53,
                          .with_refrac = 1,
                          .params = other_params,
                          .init = oracle_init,
                          .input = oracle_input,
                          .oracle = oracle};
    mh_check_oracle(&c);
}
