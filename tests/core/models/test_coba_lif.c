/* test_coba_lif.c: conductance-based LIF (core/src/models/coba_lif.c, docs/models.md
 * section 5): the descriptor (two sign-split channels g_e, g_i), the all-zero initial state
 * that fires every neuron at step 0, conductance decay with tau_syn_exc_inv/tau_syn_inh_inv
 * and v relaxing to v_rest, channel 0/1 acting on g_e/g_i with e_rev_E/e_rev_I, the Euler
 * firing period under constant conductance, the strict threshold, generic refractoriness and
 * a bit-exact comparison with a naive oracle. (The sign split of weights is the network's.) */
#include <float.h>
#include <math.h>
#include <string.h>

#include <criterion/criterion.h>

#include "model_harness.h"

static float prm(const float *p, const char *name)
{
    return p[sk_model_param_index(sk_model_find("coba_lif"), name)];
}

static int sidx(const char *name)
{
    return sk_model_state_index(sk_model_find("coba_lif"), name);
}

Test(coba_lif, descriptor_has_sign_split_and_g_e_g_i_inputs)
{
    const sk_model_t *m = sk_model_find("coba_lif");
    cr_assert_not_null(m);
    cr_expect(m->flags & SK_MODEL_SIGN_SPLIT);
    cr_assert_eq(m->n_inputs, 2u);
    cr_expect_str_eq(m->inputs[0], "g_e");
    cr_expect_str_eq(m->inputs[1], "g_i");
    cr_expect_eq(sk_model_input_index(m, "g_e"), 0);
    cr_expect_eq(sk_model_input_index(m, "g_i"), 1);
    cr_expect_str_eq(m->state[m->v_index].name, "v");
    /* the other split models are NEST's, with channels ex, in (and current) */
    for (uint32_t k = 0; k < sk_model_count(); k++) {
        const sk_model_t *o = sk_model_at(k);
        if (o != m && (o->flags & SK_MODEL_SIGN_SPLIT))
            cr_expect(o->n_inputs >= 2 && strcmp(o->inputs[0], "ex") == 0 &&
                          strcmp(o->inputs[1], "in") == 0,
                      "%s", o->name);
    }
}

Test(coba_lif, derives_constants_from_dt)
{
    mh_t h;
    mh_open(&h, "coba_lif", 1, 1.0);
    cr_expect(mh_same(mh_derived(&h, "k_mem"), 0.001f * 5.0f));
    cr_expect(mh_same(mh_derived(&h, "k_exc"), (-0.001f) * 0.2f));
    cr_expect(mh_same(mh_derived(&h, "k_inh"), (-0.001f) * 0.2f));
    mh_close(&h);
}

/* CobaLIFCell: all zeros, v included; v = 0 > v_thresh = -10, so every neuron spikes at step 0
 * and is reset to -70, then relaxes towards v_rest = -20 without firing. */
Test(coba_lif, initial_state_is_all_zeros_so_every_neuron_spikes_at_step_0)
{
    const uint32_t n = 16;
    mh_t h;
    mh_open(&h, "coba_lif", n, 1.0);
    mh_set(&h, "v_rest", -30.0f); /* init must not read v_rest (or anything else) */
    mh_reinit(&h);
    for (uint32_t j = 0; j < n; j++)
        for (uint32_t k = 0; k < 3; k++)
            cr_assert(mh_same(h.s[k][j], 0.0f), "%s[%u] = %g", h.m->state[k].name, j,
                      (double)h.s[k][j]);
    mh_step(&h);
    cr_expect_eq(mh_count_spikes(&h), n);
    for (uint32_t j = 0; j < n; j++)
        cr_expect_eq(mh_col(&h, "v")[j], -70.0f);
    for (int t = 1; t < 100; t++) {
        mh_step(&h);
        cr_assert_eq(mh_count_spikes(&h), 0u);
    }
    mh_close(&h);
}

/* No input: g_e = g_e0 (1 - dt*tau_syn_exc_inv)^n and g_i = g_i0 (1 - dt*tau_syn_inh_inv)^n
 * (different rates, so a swap shows; relative 2n eps); v follows the double recursion with
 * those conductances (1e-4 absolute on |v| <= 100); a neuron without conductance relaxes to
 * v_rest as v_rest + (v0 - v_rest)(1 - dt*c_m_inv*g_l)^n. */
Test(coba_lif, conductances_decay_with_their_time_constants_and_v_relaxes_to_v_rest)
{
    mh_t h;
    mh_open(&h, "coba_lif", 2, 1.0);
    mh_set(&h, "tau_syn_exc_inv", 200.0f);
    mh_set(&h, "tau_syn_inh_inv", 50.0f);
    mh_set(&h, "c_m_inv", 50.0f);
    mh_set(&h, "g_l", 1.0f);
    const float ge0 = 0.4f, gi0 = 0.3f, v0 = -50.0f;
    mh_col(&h, "v")[0] = v0;
    mh_col(&h, "g_e")[0] = ge0;
    mh_col(&h, "g_i")[0] = gi0;
    mh_col(&h, "v")[1] = v0;
    const double ce = 1.0 + (double)mh_derived(&h, "k_exc");
    const double ci = 1.0 + (double)mh_derived(&h, "k_inh");
    const double km = mh_derived(&h, "k_mem");
    cr_assert(fabs(ce - 0.8) < 1e-7 && fabs(ci - 0.95) < 1e-7);
    const double gl = 1.0, vr = -20.0, ee = 60.0, ei = -100.0;
    double v = v0;
    for (int n = 1; n <= 600; n++) {
        mh_step(&h);
        cr_assert_eq(mh_count_spikes(&h), 0u);
        double ge = ge0 * pow(ce, n), gi = gi0 * pow(ci, n);
        v = v + km * ((gl * (vr - v) + ge * (ee - v)) + gi * (ei - v));
        double got_ge = mh_col(&h, "g_e")[0], got_gi = mh_col(&h, "g_i")[0];
        cr_assert(fabs(got_ge - ge) <= 2.0 * n * FLT_EPSILON * ge + 1e-37, "n=%d g_e=%.9g vs %.9g",
                  n, got_ge, ge);
        cr_assert(fabs(got_gi - gi) <= 2.0 * n * FLT_EPSILON * gi + 1e-37, "n=%d g_i=%.9g vs %.9g",
                  n, got_gi, gi);
        cr_assert(fabs(mh_col(&h, "v")[0] - v) <= 1e-4, "n=%d v=%.9g vs %.9g", n,
                  (double)mh_col(&h, "v")[0], v);
        double v_free = vr + (v0 - vr) * pow(1.0 - km * gl, n);
        cr_assert(fabs(mh_col(&h, "v")[1] - v_free) <= 1e-4, "n=%d v=%.9g vs %.9g", n,
                  (double)mh_col(&h, "v")[1], v_free);
        cr_assert_eq(mh_col(&h, "g_e")[1], 0.0f);
        cr_assert_eq(mh_col(&h, "g_i")[1], 0.0f);
    }
    cr_expect(fabs(mh_col(&h, "v")[0] - vr) < 1e-3 && fabs(mh_col(&h, "v")[1] - vr) < 1e-3);
    mh_close(&h);
}

/* From v = v_rest (no leak current), one step with a jump of 0.5 on one channel:
 * channel 0 raises g_e only and pulls v up towards e_rev_E, channel 1 raises g_i only and
 * pulls v down towards e_rev_I; the new (decayed) conductance multiplies the old v. */
Test(coba_lif, channel_0_drives_g_e_towards_e_rev_E_and_channel_1_g_i_towards_e_rev_I)
{
    mh_t h;
    mh_open(&h, "coba_lif", 3, 1.0);
    mh_set(&h, "tau_syn_exc_inv", 100.0f);
    mh_set(&h, "tau_syn_inh_inv", 300.0f);
    for (int j = 0; j < 3; j++)
        mh_col(&h, "v")[j] = -20.0f;
    h.in[0][0] = 0.5f;
    h.in[1][1] = 0.5f;
    mh_step(&h);
    const double km = mh_derived(&h, "k_mem");
    const double ge = 0.5 * (1.0 - 0.1), gi = 0.5 * (1.0 - 0.3);
    cr_expect(fabs(mh_col(&h, "g_e")[0] - ge) < 1e-7);
    cr_expect_eq(mh_col(&h, "g_i")[0], 0.0f);
    cr_expect_eq(mh_col(&h, "g_e")[1], 0.0f);
    cr_expect(fabs(mh_col(&h, "g_i")[1] - gi) < 1e-7);
    const double v_e = -20.0 + km * ge * (60.0 - -20.0), v_i = -20.0 + km * gi * (-100.0 - -20.0);
    cr_expect(fabs(mh_col(&h, "v")[0] - v_e) < 1e-5, "v = %.9g, expected %.9g",
              (double)mh_col(&h, "v")[0], v_e);
    cr_expect(fabs(mh_col(&h, "v")[1] - v_i) < 1e-5, "v = %.9g, expected %.9g",
              (double)mh_col(&h, "v")[1], v_i);
    cr_expect(mh_col(&h, "v")[0] > -20.0f && mh_col(&h, "v")[1] < -20.0f);
    cr_expect_eq(mh_col(&h, "v")[2], -20.0f);
    mh_close(&h);
}

/* At v = e_rev_E = v_rest the excitatory channel has no driving force: v stays exactly where
 * it is whatever g_e, while g_i moves it; likewise at v = e_rev_I = v_rest for g_i. This pins
 * each channel to its own reversal potential. */
Test(coba_lif, reversal_potentials_zero_the_driving_force_of_their_own_channel)
{
    const char *rev[2] = {"e_rev_E", "e_rev_I"};
    for (int c = 0; c < 2; c++) {
        mh_t h;
        mh_open(&h, "coba_lif", 2, 1.0);
        mh_set(&h, "v_thresh", 100.0f);
        const float e = mh_param(&h, rev[c]);
        mh_set(&h, "v_rest", e);
        mh_col(&h, "v")[0] = mh_col(&h, "v")[1] = e;
        h.in[c][0] = 2.0f;     /* own channel */
        h.in[1 - c][1] = 2.0f; /* other channel */
        for (int t = 0; t < 5; t++) {
            mh_step(&h);
            cr_assert_eq(mh_col(&h, "v")[0], e, "%s: v moved by its own channel", rev[c]);
        }
        if (c == 0)
            cr_expect_lt(mh_col(&h, "v")[1], e, "g_i must pull v below e_rev_E");
        else
            cr_expect_gt(mh_col(&h, "v")[1], e, "g_e must pull v above e_rev_I");
        mh_close(&h);
    }
}

/* First n >= 1 with v_n > v_th for v_n = v_inf + (v_reset - v_inf) q^n, and the distance of
 * v_{n-1} and v_n from v_th. */
static int euler_period(double q, double v_inf, double v_reset, double v_th, double *margin)
{
    double n = ceil(log((v_th - v_inf) / (v_reset - v_inf)) / log(q));
    if (n < 1)
        n = 1;
    double vn = v_inf + (v_reset - v_inf) * pow(q, n);
    double vp = v_inf + (v_reset - v_inf) * pow(q, n - 1);
    if (vn <= v_th) {
        n += 1;
        vp = vn;
        vn = v_inf + (v_reset - v_inf) * pow(q, n);
    }
    *margin = fmin(vn - v_th, n > 1 ? v_th - vp : INFINITY);
    return (int)n;
}

/* With tau_syn_*_inv = 1e-30 (0 is refused) the decay g*(-dt*1e-30) is far below half an ulp
 * of g, so the conductances stay exactly constant and v is linear:
 * v_{n+1} = v_n + k (g_l (v_rest - v) + G_e (e_E - v) + G_i (e_I - v)), so from v_reset it
 * crosses v_thresh after P steps (closed form), is reset and starts over: spikes at P-1,
 * 2P-1, ... exactly. */
Test(coba_lif, constant_conductance_fires_at_the_euler_period)
{
    const float G_e[] = {0.5f, 1.5f, 0.8f}, G_i[] = {0.0f, 0.0f, 0.3f};
    for (int c = 0; c < 3; c++) {
        mh_t h;
        mh_open(&h, "coba_lif", 1, 1.0);
        mh_set(&h, "tau_syn_exc_inv", 1e-30f);
        mh_set(&h, "tau_syn_inh_inv", 1e-30f);
        mh_set(&h, "c_m_inv", 50.0f);
        mh_col(&h, "v")[0] = -70.0f;
        mh_col(&h, "g_e")[0] = G_e[c];
        mh_col(&h, "g_i")[0] = G_i[c];
        const double km = mh_derived(&h, "k_mem"), gl = 0.25f;
        const double gsum = gl + G_e[c] + G_i[c];
        const double v_inf = (gl * -20.0 + G_e[c] * 60.0 + G_i[c] * -100.0) / gsum;
        double margin;
        int period = euler_period(1.0 - km * gsum, v_inf, -70.0, -10.0, &margin);
        cr_assert_gt(margin, 1e-3, "case %d: margin %g", c, margin);
        cr_assert_gt(period, 1);
        int count = 0, last = -1;
        for (int t = 0; t < 2000; t++) {
            mh_step(&h);
            if (h.spiked[0]) {
                cr_assert_eq(t - last, period, "case %d: ISI %d at step %d, expected %d", c,
                             t - last, t, period);
                cr_assert_eq(mh_col(&h, "v")[0], -70.0f);
                last = t;
                count++;
            }
        }
        cr_expect_eq(count, 2000 / period);
        mh_close(&h);
    }
}

typedef struct {
    float v0, k_mem, k_exc;
} vd_ctx_t;

static float v_decayed(float x, const void *ctx)
{
    const vd_ctx_t *c = ctx;
    float g_e = 0.0f + x;
    g_e = g_e + c->k_exc * g_e;
    const float dv =
        c->k_mem * ((0.25f * (-20.0f - c->v0) + g_e * (60.0f - c->v0)) + 0.0f * (-100.0f - c->v0));
    return c->v0 + dv;
}

Test(coba_lif, v_decayed_equal_to_v_thresh_does_not_spike)
{
    mh_t h;
    mh_open(&h, "coba_lif", 2, 1.0);
    vd_ctx_t ctx = {-12.5f, mh_derived(&h, "k_mem"), mh_derived(&h, "k_exc")};
    float x_eq = mh_solve_ge(v_decayed, &ctx, -10.0f, 0.0f, 100.0f);
    float x_gt = mh_solve_ge(v_decayed, &ctx, nextafterf(-10.0f, INFINITY), 0.0f, 100.0f);
    cr_assert(v_decayed(x_eq, &ctx) == -10.0f, "no input hits v_thresh exactly");
    mh_col(&h, "v")[0] = mh_col(&h, "v")[1] = ctx.v0;
    h.in[0][0] = x_eq;
    h.in[0][1] = x_gt;
    mh_step(&h);
    cr_expect_eq(h.spiked[0], 0, "v_d - v_thresh == 0 must not spike");
    cr_expect(mh_same(mh_col(&h, "v")[0], -10.0f), "v = %a", (double)mh_col(&h, "v")[0]);
    cr_expect_eq(h.spiked[1], 1);
    cr_expect_eq(mh_col(&h, "v")[1], -70.0f);
    mh_close(&h);
}

static void refrac_setup(mh_t *h)
{
    for (uint32_t i = 0; i < h->n; i++) {
        mh_col(h, "v")[i] = -65.0f;
        h->in[0][i] = (i % 2) ? 0.6f : 200.0f; /* 200: fires on every free step */
        h->in[1][i] = (i % 3) ? 0.0f : 0.2f;
    }
}

Test(coba_lif, generic_refrac_holds_v_blocks_spikes_and_counts_down)
{
    mh_check_generic_refrac("coba_lif", 1.0, 12, refrac_setup, 80);
}

Test(coba_lif, refrac_null_is_off)
{
    mh_check_refrac_null_is_off("coba_lif", 1.0, 12, refrac_setup, 80);
}

/* ---- oracle ---------------------------------------------------------------------------- */

static float relu(float x)
{
    return x > 0.0f ? x : 0.0f;
}

/* Norse's feed-forward step takes one signed jump x and splits it with relu; here the two
 * channels arrive already split (both >= 0), so relu is the identity on them. */
static int oracle(const float *p, float dt, uint64_t step, float *st, const float *x,
                  uint16_t *refrac, uint16_t refrac_steps)
{
    (void)step;
    const float tau_e = prm(p, "tau_syn_exc_inv"), tau_i = prm(p, "tau_syn_inh_inv");
    const float c_m_inv = prm(p, "c_m_inv"), g_l = prm(p, "g_l");
    const float e_rev_I = prm(p, "e_rev_I"), e_rev_E = prm(p, "e_rev_E");
    const float v_rest = prm(p, "v_rest"), v_reset = prm(p, "v_reset");
    const float v_thresh = prm(p, "v_thresh");
    const int iv = sidx("v"), ie = sidx("g_e"), ii = sidx("g_i");
    const float v = st[iv];
    float g_e = st[ie] + relu(x[0]);
    float g_i = st[ii] + relu(x[1]);
    g_e = g_e + ((-dt) * tau_e) * g_e;
    g_i = g_i + ((-dt) * tau_i) * g_i;
    const float dv =
        (dt * c_m_inv) * ((g_l * (v_rest - v) + g_e * (e_rev_E - v)) + g_i * (e_rev_I - v));
    const float v_d = v + dv;
    const float z = (v_d - v_thresh) > 0.0f ? 1.0f : 0.0f;
    float v_n = (1.0f - z) * v_d + z * v_reset;
    int zi = mh_oracle_refrac(refrac, refrac_steps, v, &v_n, z != 0.0f);
    st[iv] = v_n;
    st[ie] = g_e;
    st[ii] = g_i;
    return zi;
}

static void oracle_init(mh_rng_t *r, const float *p, uint32_t i, float *st)
{
    (void)p, (void)i;
    st[sidx("v")] = mh_uniform(r, -80.0f, 0.0f); /* some above v_thresh */
    st[sidx("g_e")] = mh_uniform(r, 0.0f, 0.5f);
    st[sidx("g_i")] = mh_uniform(r, 0.0f, 0.5f);
}

static void oracle_input(mh_rng_t *r, const float *p, uint64_t t, uint32_t i, float *x)
{
    (void)p, (void)t, (void)i;
    x[0] = mh_below(r, 2) ? 0.0f : mh_uniform(r, 0.0f, 0.4f);
    x[1] = mh_below(r, 2) ? 0.0f : mh_uniform(r, 0.0f, 0.3f);
}

static void other_params(mh_t *h)
{
    mh_set(h, "tau_syn_exc_inv", 200.0f);
    mh_set(h, "tau_syn_inh_inv", 100.0f);
    mh_set(h, "c_m_inv", 40.0f);
    mh_set(h, "g_l", 0.3f);
    mh_set(h, "e_rev_I", -80.0f);
    mh_set(h, "e_rev_E", 0.0f);
    mh_set(h, "v_rest", -65.0f);
    mh_set(h, "v_reset", -65.0f);
    mh_set(h, "v_thresh", -50.0f);
}

Test(coba_lif, matches_naive_oracle_bit_for_bit)
{
    mh_oracle_case_t c = {.model = "coba_lif",
                          .dt_ms = 1.0,
                          .n = 64,
                          .steps = 500,
                          .seed = 41,
                          .init = oracle_init,
                          .input = oracle_input,
                          .oracle = oracle};
    mh_check_oracle(&c);
    c.seed = 42;
    c.params = other_params;
    mh_check_oracle(&c);
}

Test(coba_lif, matches_naive_oracle_bit_for_bit_with_generic_refrac)
{
    mh_oracle_case_t c = {.model = "coba_lif",
                          .dt_ms = 1.0,
                          .n = 64,
                          .steps = 500,
                          .seed = 43,
                          .with_refrac = 1,
                          .params = other_params,
                          .init = oracle_init,
                          .input = oracle_input,
                          .oracle = oracle};
    mh_check_oracle(&c);
}
