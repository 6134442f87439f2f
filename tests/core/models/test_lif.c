/* test_lif.c: the LIF model (core/src/models/lif.c, docs/models.md section 1) through its
 * descriptor: derived constants and initial state, the closed form of the zero-input decay,
 * the Euler firing period under constant current, the strict threshold, generic
 * refractoriness, and a bit-exact comparison with a naive per-neuron oracle. */
#include <float.h>
#include <math.h>

#include <criterion/criterion.h>

#include "model_harness.h"

static float prm(const float *p, const char *name)
{
    return p[sk_model_param_index(sk_model_find("lif"), name)];
}

static int sidx(const char *name)
{
    return sk_model_state_index(sk_model_find("lif"), name);
}

Test(lif, derives_k_mem_and_k_syn_from_dt_and_rates)
{
    mh_t h;
    mh_open(&h, "lif", 1, 1.0);
    cr_assert(mh_same((float)h.a.dt, 0.001f));
    cr_expect(mh_same(mh_derived(&h, "k_mem"), 0.001f * 100.0f));
    cr_expect(mh_same(mh_derived(&h, "k_syn"), (-0.001f) * 200.0f));
    mh_set(&h, "tau_mem_inv", 37.0f);
    mh_set(&h, "tau_syn_inv", 0.0f);
    cr_expect(mh_same(mh_derived(&h, "k_mem"), 0.001f * 37.0f));
    cr_expect_eq(mh_derived(&h, "k_syn"), 0.0f);
    mh_close(&h);
}

Test(lif, init_sets_v_to_v_leak_and_i_to_zero)
{
    mh_t h;
    mh_open(&h, "lif", 4, 1.0);
    mh_set(&h, "v_leak", -0.25f);
    mh_reinit(&h);
    for (uint32_t i = 0; i < 4; i++) {
        cr_expect_eq(mh_col(&h, "v")[i], -0.25f);
        cr_expect_eq(mh_col(&h, "i")[i], 0.0f);
    }
    mh_close(&h);
}

/* The input jump comes before the integration: x(t) already moves v(t). */
Test(lif, input_moves_v_in_the_same_step)
{
    mh_t h;
    mh_open(&h, "lif", 2, 1.0);
    h.in[0][0] = 1.0f;
    mh_step(&h);
    const float k_mem = mh_derived(&h, "k_mem"), k_syn = mh_derived(&h, "k_syn");
    cr_expect(mh_same(mh_col(&h, "v")[0], k_mem * 1.0f), "v = %a", (double)mh_col(&h, "v")[0]);
    cr_expect(mh_same(mh_col(&h, "i")[0], 1.0f + k_syn * 1.0f));
    cr_expect_eq(mh_col(&h, "v")[1], 0.0f);
    cr_expect_eq(mh_col(&h, "i")[1], 0.0f);
    cr_expect_eq(h.spiked[0], 0);
    mh_close(&h);
}

/* With x = 0: i_n = i0 c^n (c = 1 - dt*tau_syn_inv) and u = v - v_leak follows
 * u_{n+1} = q u_n + k i_n (q = 1 - k, k = dt*tau_mem_inv), whose closed form is
 * u_n = q^n u0 + k i0 (c^n - q^n) / (c - q). Tolerance: float32 rounding only, a few ulps per
 * step (relative 2n eps on i; 2e-6 absolute on v, where the recursion contracts). */
Test(lif, zero_input_decays_with_tau_syn_and_tau_mem)
{
    mh_t h;
    mh_open(&h, "lif", 2, 1.0);
    mh_set(&h, "tau_syn_inv", 20.0f);
    mh_set(&h, "tau_mem_inv", 50.0f);
    mh_set(&h, "v_leak", -0.3f);
    const float v0[2] = {0.5f, -1.0f}, i0[2] = {0.8f, -0.4f};
    for (int j = 0; j < 2; j++) {
        mh_col(&h, "v")[j] = v0[j];
        mh_col(&h, "i")[j] = i0[j];
    }
    const double k = mh_derived(&h, "k_mem"), c = 1.0 + (double)mh_derived(&h, "k_syn");
    const double q = 1.0 - k, v_leak = -0.3f;
    for (int n = 1; n <= 800; n++) {
        mh_step(&h);
        for (int j = 0; j < 2; j++) {
            cr_assert_eq(h.spiked[j], 0);
            double i_exp = i0[j] * pow(c, n);
            double u_exp =
                pow(q, n) * (v0[j] - v_leak) + k * i0[j] * (pow(c, n) - pow(q, n)) / (c - q);
            double i_got = mh_col(&h, "i")[j], v_got = mh_col(&h, "v")[j];
            cr_assert(fabs(i_got - i_exp) <= 2.0 * n * FLT_EPSILON * fabs(i_exp) + 1e-30,
                      "n=%d i=%.9g expected %.9g", n, i_got, i_exp);
            cr_assert(fabs(v_got - (v_leak + u_exp)) <= 2e-6, "n=%d v=%.9g expected %.9g", n, v_got,
                      v_leak + u_exp);
        }
    }
    /* after 800 steps (16 tau_syn) both have relaxed to v_leak */
    for (int j = 0; j < 2; j++)
        cr_expect(fabs(mh_col(&h, "v")[j] - v_leak) < 1e-5);
    mh_close(&h);
}

/* First n >= 1 with v_n > v_th for v_n = v_inf + (v_reset - v_inf) q^n; also returns the
 * distance of v_{n-1} and v_n from v_th, so the caller can require a margin that float32
 * rounding cannot cross. */
static int euler_period(double q, double v_inf, double v_reset, double v_th, double *margin)
{
    double n = ceil(log((v_th - v_inf) / (v_reset - v_inf)) / log(q));
    if (n < 1)
        n = 1;
    double vn = v_inf + (v_reset - v_inf) * pow(q, n);
    double vp = v_inf + (v_reset - v_inf) * pow(q, n - 1);
    if (vn <= v_th) { /* log landed exactly on an integer */
        n += 1;
        vp = vn;
        vn = v_inf + (v_reset - v_inf) * pow(q, n);
    }
    *margin = fmin(vn - v_th, n > 1 ? v_th - vp : INFINITY);
    return (int)n;
}

/* tau_syn_inv = 0 keeps i constant at I; from v_reset the neuron needs P steps to cross
 * v_th, is reset to v_reset and starts over: spikes at steps P-1, 2P-1, ... exactly. */
Test(lif, constant_current_fires_at_the_euler_period)
{
    struct {
        float tau_mem_inv, v_leak, v_reset, cur;
        int period;
    } cases[] = {{100.0f, 0.2f, -0.1f, 1.3f, 12}, {37.0f, 0.3f, 0.0f, 0.9f, 48}};
    for (unsigned c = 0; c < 2; c++) {
        mh_t h;
        mh_open(&h, "lif", 1, 1.0);
        mh_set(&h, "tau_syn_inv", 0.0f);
        mh_set(&h, "tau_mem_inv", cases[c].tau_mem_inv);
        mh_set(&h, "v_leak", cases[c].v_leak);
        mh_set(&h, "v_reset", cases[c].v_reset);
        mh_col(&h, "v")[0] = cases[c].v_reset;
        mh_col(&h, "i")[0] = cases[c].cur;
        double margin;
        int period =
            euler_period(1.0 - (double)mh_derived(&h, "k_mem"),
                         (double)cases[c].v_leak + cases[c].cur, cases[c].v_reset, 1.0, &margin);
        cr_assert_eq(period, cases[c].period, "case %u: period %d", c, period);
        cr_assert_gt(margin, 1e-4, "case %u: threshold margin too small", c);
        const int steps = 1000;
        int count = 0, last = -1;
        for (int t = 0; t < steps; t++) {
            mh_step(&h);
            cr_assert_eq(mh_col(&h, "i")[0], cases[c].cur, "i must stay constant");
            if (h.spiked[0]) {
                cr_assert_eq(t - last, period, "case %u: ISI %d at step %d", c, t - last, t);
                cr_assert_eq(mh_col(&h, "v")[0], cases[c].v_reset);
                last = t;
                count++;
            }
        }
        cr_expect_eq(count, steps / period, "case %u: %d spikes", c, count);
        mh_close(&h);
    }
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

/* Norse's heaviside is strict: v_d == v_th gives no spike (and no reset). The input x is
 * chosen so that v_d == v_th exactly in float32; the model then keeps v = v_d = v_th. The
 * next larger v_d spikes. */
Test(lif, v_decayed_equal_to_v_th_does_not_spike)
{
    mh_t h;
    mh_open(&h, "lif", 2, 1.0);
    const float v_th = mh_param(&h, "v_th");
    vd_ctx_t ctx = {0.3f, 0.2f, mh_param(&h, "v_leak"), mh_derived(&h, "k_mem")};
    float x_eq = mh_solve_ge(v_decayed, &ctx, v_th, 0.0f, 100.0f);
    float x_gt = mh_solve_ge(v_decayed, &ctx, nextafterf(v_th, INFINITY), 0.0f, 100.0f);
    cr_assert(v_decayed(x_eq, &ctx) == v_th, "no input hits v_th exactly");
    cr_assert(v_decayed(x_gt, &ctx) > v_th);
    for (int j = 0; j < 2; j++) {
        mh_col(&h, "v")[j] = ctx.v0;
        mh_col(&h, "i")[j] = ctx.i0;
    }
    h.in[0][0] = x_eq;
    h.in[0][1] = x_gt;
    mh_step(&h);
    cr_expect_eq(h.spiked[0], 0, "v_d - v_th == 0 must not spike");
    cr_expect(mh_same(mh_col(&h, "v")[0], v_th), "v = %a", (double)mh_col(&h, "v")[0]);
    cr_expect_eq(h.spiked[1], 1);
    cr_expect_eq(mh_col(&h, "v")[1], mh_param(&h, "v_reset"));
    mh_close(&h);
}

static void refrac_setup(mh_t *h)
{
    for (uint32_t i = 0; i < h->n; i++)
        h->in[0][i] = (i % 2) ? 3.0f : 40.0f; /* 40: spikes on every step when free */
}

Test(lif, generic_refrac_holds_v_blocks_spikes_and_counts_down)
{
    mh_check_generic_refrac("lif", 1.0, 10, refrac_setup, 80);
}

Test(lif, refrac_null_is_off)
{
    mh_check_refrac_null_is_off("lif", 1.0, 10, refrac_setup, 80);
}

/* ---- oracle ---------------------------------------------------------------------------- */

static int oracle(const float *p, float dt, uint64_t step, float *st, const float *x,
                  uint16_t *refrac, uint16_t refrac_steps)
{
    (void)step;
    const float tau_syn_inv = prm(p, "tau_syn_inv"), tau_mem_inv = prm(p, "tau_mem_inv");
    const float v_leak = prm(p, "v_leak"), v_th = prm(p, "v_th"), v_reset = prm(p, "v_reset");
    const int iv = sidx("v"), ii = sidx("i");
    const float v = st[iv], i = st[ii];
    const float i_j = i + x[0];
    const float v_d = v + (dt * tau_mem_inv) * ((v_leak - v) + i_j);
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
    mh_set(h, "tau_syn_inv", 150.0f);
    mh_set(h, "tau_mem_inv", 80.0f);
    mh_set(h, "v_leak", 0.1f);
    mh_set(h, "v_th", 0.8f);
    mh_set(h, "v_reset", -0.2f);
}

Test(lif, matches_naive_oracle_bit_for_bit)
{
    mh_oracle_case_t c = {.model = "lif",
                          .dt_ms = 1.0,
                          .n = 64,
                          .steps = 500,
                          .seed = 1,
                          .init = oracle_init,
                          .input = oracle_input,
                          .oracle = oracle};
    mh_check_oracle(&c);
    c.seed = 2;
    c.params = other_params;
    c.dt_ms = 0.5;
    mh_check_oracle(&c);
}

Test(lif, matches_naive_oracle_bit_for_bit_with_generic_refrac)
{
    mh_oracle_case_t c = {.model = "lif",
                          .dt_ms = 1.0,
                          .n = 64,
                          .steps = 500,
                          .seed = 3,
                          .with_refrac = 1,
                          .params = other_params,
                          .init = oracle_init,
                          .input = oracle_input,
                          .oracle = oracle};
    mh_check_oracle(&c);
}
