/* test_lif_refrac.c: LIF with a refractory counter (core/src/models/lif_refrac.c,
 * docs/models.md section 2): v held for ceil(rho_reset) steps after a spike, an initial
 * rho > 0 making the neuron refractory from step 0 with v held at its initial value while i
 * keeps integrating, rho_reset = 0 reducing to LIF, the strict threshold, generic
 * refractoriness on top of rho, and a bit-exact comparison with a naive oracle. */
#include <math.h>

#include <criterion/criterion.h>

#include "model_harness.h"

static float prm(const float *p, const char *name)
{
    return p[sk_model_param_index(sk_model_find("lif_refrac"), name)];
}

static int sidx(const char *name)
{
    return sk_model_state_index(sk_model_find("lif_refrac"), name);
}

Test(lif_refrac, init_sets_v_leak_and_zero_current_and_rho)
{
    mh_t h;
    mh_open(&h, "lif_refrac", 3, 1.0);
    mh_set(&h, "v_leak", 0.125f);
    mh_reinit(&h);
    for (uint32_t i = 0; i < 3; i++) {
        cr_expect_eq(mh_col(&h, "v")[i], 0.125f);
        cr_expect_eq(mh_col(&h, "i")[i], 0.0f);
        cr_expect_eq(mh_col(&h, "rho")[i], 0.0f);
    }
    mh_close(&h);
}

/* Constant current (tau_syn_inv = 0) from v_reset crosses v_th after P = 12 steps (the
 * closed form of test_lif.c: v_leak 0.2, I 1.3, v_reset -0.1, k_mem 0.1). After each spike
 * the next R = ceil(rho_reset) steps hold v at v_reset with rho = max(rho_reset - k, 0), so
 * the first spike is at step P-1 and the ISI is P + R, exactly. */
Test(lif_refrac, holds_v_for_ceil_rho_reset_steps)
{
    const float rho_resets[] = {1.0f, 2.5f, 3.0f, 5.0f, 0.3f, 7.0f};
    const int refractory[] = {1, 3, 3, 5, 1, 7};
    const int period = 12;
    for (unsigned c = 0; c < sizeof rho_resets / sizeof rho_resets[0]; c++) {
        const float rr = rho_resets[c], v_reset = -0.1f;
        const int isi = period + refractory[c];
        mh_t h;
        mh_open(&h, "lif_refrac", 1, 1.0);
        mh_set(&h, "tau_syn_inv", 0.0f);
        mh_set(&h, "v_leak", 0.2f);
        mh_set(&h, "v_reset", v_reset);
        mh_set(&h, "rho_reset", rr);
        mh_col(&h, "v")[0] = v_reset;
        mh_col(&h, "i")[0] = 1.3f;
        int last = -1, count = 0, since = -1; /* steps since the last spike */
        for (int t = 0; t < 1000; t++) {
            mh_step(&h);
            const float v = mh_col(&h, "v")[0], rho = mh_col(&h, "rho")[0];
            if (since >= 0)
                since++;
            if (h.spiked[0]) {
                cr_assert_eq(t - last, last < 0 ? period : isi,
                             "rho_reset %g: spike at step %d, previous %d", (double)rr, t, last);
                cr_assert_eq(v, v_reset);
                cr_assert_eq(rho, rr);
                last = t;
                since = 0;
                count++;
            } else if (since >= 1 && since <= refractory[c]) {
                cr_assert_eq(v, v_reset, "rho_reset %g: v not held %d steps after a spike",
                             (double)rr, since);
                cr_assert_eq(rho, fmaxf(rr - (float)since, 0.0f));
            } else {
                cr_assert_eq(rho, 0.0f);
            }
        }
        cr_expect_eq(count, 1 + (1000 - period) / isi, "rho_reset %g: %d spikes", (double)rr,
                     count);
        mh_close(&h);
    }
}

/* An initial rho > 0 is refractory from step 0 for ceil(rho) steps: v stays at its initial
 * value, here above v_th, without a spike; i integrates exactly as in plain LIF (compared
 * with a lif population fed the same inputs); the first free step spikes. */
Test(lif_refrac, initial_rho_is_refractory_from_step_0_with_v_held_above_threshold)
{
    const float rho0[] = {3.0f, 2.5f, 0.3f, 1.0f};
    const int steps[] = {3, 3, 1, 1};
    const uint32_t n = 4;
    mh_t h, l;
    mh_open(&h, "lif_refrac", n, 1.0);
    mh_open(&l, "lif", n, 1.0);
    for (uint32_t j = 0; j < n; j++) {
        mh_col(&h, "v")[j] = mh_col(&l, "v")[j] = 1.5f;
        mh_col(&h, "i")[j] = mh_col(&l, "i")[j] = 0.4f;
        mh_col(&h, "rho")[j] = rho0[j];
        h.in[0][j] = l.in[0][j] = 0.1f;
    }
    for (int t = 0; t < 4; t++) {
        mh_step(&h);
        mh_step(&l);
        for (uint32_t j = 0; j < n; j++) {
            cr_assert(mh_same(mh_col(&h, "i")[j], mh_col(&l, "i")[j]), "i must integrate");
            if (t == 0) /* the lif twin, never refractory, spikes at once */
                cr_assert_eq(l.spiked[j], 1);
            if (t < steps[j]) {
                cr_assert_eq(h.spiked[j], 0, "rho0 %g: spike at step %d", (double)rho0[j], t);
                cr_assert_eq(mh_col(&h, "v")[j], 1.5f, "rho0 %g: v not held", (double)rho0[j]);
                cr_assert_eq(mh_col(&h, "rho")[j], fmaxf(rho0[j] - (float)(t + 1), 0.0f));
            } else if (t == steps[j]) {
                cr_assert_eq(h.spiked[j], 1, "rho0 %g: no spike at the first free step",
                             (double)rho0[j]);
                cr_assert_eq(mh_col(&h, "v")[j], mh_param(&h, "v_reset"));
                cr_assert_eq(mh_col(&h, "rho")[j], mh_param(&h, "rho_reset"));
            }
        }
    }
    mh_close(&h);
    mh_close(&l);
}

/* rho_reset = 0: a spike sets rho to 0, nothing is ever refractory: plain LIF, bit for bit. */
Test(lif_refrac, rho_reset_zero_is_plain_lif)
{
    const uint32_t n = 32;
    mh_t h, l;
    mh_open(&h, "lif_refrac", n, 1.0);
    mh_open(&l, "lif", n, 1.0);
    mh_set(&h, "rho_reset", 0.0f);
    mh_rng_t r = {7};
    for (uint32_t j = 0; j < n; j++) {
        mh_col(&h, "v")[j] = mh_col(&l, "v")[j] = mh_uniform(&r, -0.5f, 1.2f);
        mh_col(&h, "i")[j] = mh_col(&l, "i")[j] = mh_uniform(&r, 0.0f, 3.0f);
    }
    uint32_t spikes = 0;
    for (int t = 0; t < 300; t++) {
        for (uint32_t j = 0; j < n; j++)
            h.in[0][j] = l.in[0][j] = mh_uniform(&r, -0.2f, 1.0f);
        mh_step(&h);
        mh_step(&l);
        for (uint32_t j = 0; j < n; j++) {
            cr_assert_eq(h.spiked[j], l.spiked[j]);
            cr_assert(mh_same(mh_col(&h, "v")[j], mh_col(&l, "v")[j]));
            cr_assert(mh_same(mh_col(&h, "i")[j], mh_col(&l, "i")[j]));
            cr_assert_eq(mh_col(&h, "rho")[j], 0.0f);
            spikes += h.spiked[j];
        }
    }
    cr_expect_gt(spikes, 100u);
    mh_close(&h);
    mh_close(&l);
}

typedef struct {
    float v0, i0, v_leak, k_mem;
} vd_ctx_t;

static float v_decayed(float x, const void *ctx)
{
    const vd_ctx_t *c = ctx;
    const float i_j = c->i0 + x;
    return c->v0 + c->k_mem * ((c->v_leak - c->v0) + i_j);
}

Test(lif_refrac, v_decayed_equal_to_v_th_does_not_spike)
{
    mh_t h;
    mh_open(&h, "lif_refrac", 2, 1.0);
    mh_set(&h, "v_th", 0.75f);
    const float v_th = 0.75f;
    vd_ctx_t ctx = {-0.2f, 0.1f, mh_param(&h, "v_leak"), mh_derived(&h, "k_mem")};
    float x_eq = mh_solve_ge(v_decayed, &ctx, v_th, 0.0f, 100.0f);
    float x_gt = mh_solve_ge(v_decayed, &ctx, nextafterf(v_th, INFINITY), 0.0f, 100.0f);
    cr_assert(v_decayed(x_eq, &ctx) == v_th, "no input hits v_th exactly");
    for (int j = 0; j < 2; j++) {
        mh_col(&h, "v")[j] = ctx.v0;
        mh_col(&h, "i")[j] = ctx.i0;
    }
    h.in[0][0] = x_eq;
    h.in[0][1] = x_gt;
    mh_step(&h);
    cr_expect_eq(h.spiked[0], 0, "v_d - v_th == 0 must not spike");
    cr_expect(mh_same(mh_col(&h, "v")[0], v_th));
    cr_expect_eq(mh_col(&h, "rho")[0], 0.0f);
    cr_expect_eq(h.spiked[1], 1);
    cr_expect_eq(mh_col(&h, "rho")[1], 5.0f);
    mh_close(&h);
}

static void refrac_setup(mh_t *h)
{
    mh_set(h, "rho_reset", 0.0f); /* so that the generic counter alone blocks spikes */
    for (uint32_t i = 0; i < h->n; i++)
        h->in[0][i] = (i % 2) ? 3.0f : 40.0f;
}

static void refrac_setup_rho(mh_t *h)
{
    mh_set(h, "rho_reset", 1.5f);
    for (uint32_t i = 0; i < h->n; i++)
        h->in[0][i] = (i % 2) ? 3.0f : 40.0f;
}

Test(lif_refrac, generic_refrac_holds_v_blocks_spikes_and_counts_down)
{
    mh_check_generic_refrac("lif_refrac", 1.0, 10, refrac_setup, 80);
}

Test(lif_refrac, refrac_null_is_off)
{
    mh_check_refrac_null_is_off("lif_refrac", 1.0, 10, refrac_setup, 80);
}

Test(lif_refrac, generic_refrac_combines_with_rho)
{
    mh_t h;
    mh_open(&h, "lif_refrac", 1, 1.0);
    refrac_setup_rho(&h);
    mh_refrac_on(&h, 2);
    /* spike at 0, then 2 generic steps (rho covers the first 2 as well), spike at 3, ... */
    for (int t = 0; t < 12; t++) {
        mh_step(&h);
        cr_assert_eq(h.spiked[0], t % 3 == 0, "step %d", t);
    }
    mh_close(&h);
    mh_check_generic_refrac("lif_refrac", 1.0, 10, refrac_setup_rho, 80);
}

/* A spike suppressed by the generic counter is no spike: like every other spike-triggered
 * jump (sk_model.h, sk_refrac_apply), the rho reset must not happen. */
Test(lif_refrac, generic_refrac_suppressed_spike_does_not_reset_rho)
{
    mh_t h;
    mh_open(&h, "lif_refrac", 1, 1.0);
    mh_refrac_on(&h, 3);
    h.refrac[0] = 1;
    h.in[0][0] = 40.0f; /* would spike at step 0 */
    mh_step(&h);
    cr_assert_eq(h.spiked[0], 0);
    cr_assert_eq(mh_col(&h, "v")[0], 0.0f, "v held");
    cr_expect_eq(mh_col(&h, "rho")[0], 0.0f, "rho set by a suppressed spike");
    cr_assert_eq(h.refrac[0], 0);
    mh_step(&h); /* free again: spikes */
    cr_expect_eq(h.spiked[0], 1);
    cr_expect_eq(mh_col(&h, "rho")[0], 5.0f);
    cr_expect_eq(h.refrac[0], 3);
    mh_close(&h);
}

/* ---- oracle ---------------------------------------------------------------------------- */

static int oracle(const float *p, float dt, uint64_t step, float *st, const float *x,
                  uint16_t *refrac, uint16_t refrac_steps)
{
    (void)step;
    const float tau_syn_inv = prm(p, "tau_syn_inv"), tau_mem_inv = prm(p, "tau_mem_inv");
    const float v_leak = prm(p, "v_leak"), v_th = prm(p, "v_th"), v_reset = prm(p, "v_reset");
    const float rho_reset = prm(p, "rho_reset");
    const int iv = sidx("v"), ii = sidx("i"), ir = sidx("rho");
    const float v = st[iv], i = st[ii], rho = st[ir];
    /* plain LIF */
    const float i_j = i + x[0];
    const float v_d = v + (dt * tau_mem_inv) * ((v_leak - v) + i_j);
    const float i_n = i_j + ((-dt) * tau_syn_inv) * i_j;
    const float z_l = (v_d - v_th) > 0.0f ? 1.0f : 0.0f;
    const float v_l = (1.0f - z_l) * v_d + z_l * v_reset;
    /* compute_refractory_update */
    const float m = rho > 0.0f ? 1.0f : 0.0f;
    float v_n = (1.0f - m) * v_l + m * v;
    float z = (1.0f - m) * z_l;
    z = (float)mh_oracle_refrac(refrac, refrac_steps, v, &v_n, z != 0.0f);
    const float rho_n = (1.0f - z) * fmaxf(rho - m, 0.0f) + z * rho_reset;
    st[iv] = v_n;
    st[ii] = i_n;
    st[ir] = rho_n;
    return z != 0.0f;
}

static void oracle_init(mh_rng_t *r, const float *p, uint32_t i, float *st)
{
    (void)i;
    static const float rhos[] = {0.0f, 0.0f, 0.0f, 0.0f, 0.3f, 1.0f, 2.5f, 3.0f, 5.0f};
    st[sidx("v")] = prm(p, "v_leak") + mh_uniform(r, -0.5f, 1.5f);
    st[sidx("i")] = mh_uniform(r, -1.0f, 3.0f);
    st[sidx("rho")] = rhos[mh_below(r, 9)];
}

static void oracle_input(mh_rng_t *r, const float *p, uint64_t t, uint32_t i, float *x)
{
    (void)p, (void)t, (void)i;
    x[0] = mh_below(r, 10) < 3 ? 0.0f : mh_uniform(r, -0.5f, 1.5f);
}

static void other_params(mh_t *h)
{
    mh_set(h, "tau_syn_inv", 150.0f);
    mh_set(h, "tau_mem_inv", 80.0f);
    mh_set(h, "v_leak", 0.1f);
    mh_set(h, "v_th", 0.8f);
    mh_set(h, "v_reset", -0.2f);
    mh_set(h, "rho_reset", 2.5f);
}

Test(lif_refrac, matches_naive_oracle_bit_for_bit)
{
    mh_oracle_case_t c = {.model = "lif_refrac",
                          .dt_ms = 1.0,
                          .n = 64,
                          .steps = 500,
                          .seed = 11,
                          .init = oracle_init,
                          .input = oracle_input,
                          .oracle = oracle};
    mh_check_oracle(&c);
    c.seed = 12;
    c.params = other_params;
    mh_check_oracle(&c);
}

Test(lif_refrac, matches_naive_oracle_bit_for_bit_with_generic_refrac)
{
    mh_oracle_case_t c = {.model = "lif_refrac",
                          .dt_ms = 1.0,
                          .n = 64,
                          .steps = 500,
                          .seed = 13,
                          .with_refrac = 1,
                          .params = other_params,
                          .init = oracle_init,
                          .input = oracle_input,
                          .oracle = oracle};
    mh_check_oracle(&c);
}
