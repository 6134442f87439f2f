/* model_harness.h: drives a neuron model through its public descriptor only (sk_model_find,
 * ->derive, ->init, ->step), for the unit tests in tests/core/models/.
 *
 * mh_t owns one population: the parameters (defaults unless set), the derived constants, one
 * calloc'ed column per state variable and per input channel, the spike flags and a refractory
 * counter array that is only handed to the model after mh_refrac_on(). Setting a parameter
 * re-derives the constants; the state is left alone (call mh_reinit for the model's initial
 * state). mh_step() runs one step and advances the step counter.
 *
 * Also here: a small deterministic PRNG (splitmix64), float32 bit comparison, a bisection that
 * finds an input making a float32 expression hit a target exactly, a generic check of
 * sk_step_args_t.refrac, and a driver that compares a model bit for bit with a naive
 * per-neuron oracle written in the test file.
 *
 * Everything is static inline so that each test file is self-contained.
 */
#ifndef SPIKED_TESTS_MODEL_HARNESS_H
#define SPIKED_TESTS_MODEL_HARNESS_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "spiked/sk_model.h"

typedef struct mh {
    const sk_model_t *m;
    uint32_t n;
    double p[SK_MODEL_MAX_PARAMS];
    double d[SK_MODEL_MAX_DERIVED];
    float *s[SK_MODEL_MAX_STATE];
    float *in[SK_MODEL_MAX_INPUTS];
    uint8_t *spiked;
    uint16_t *refrac; /* always allocated; given to the model only after mh_refrac_on */
    sk_step_args_t a;
} mh_t;

/* ---- population ------------------------------------------------------------------------ */

static inline void mh_derive(mh_t *h)
{
    h->m->derive(h->p, h->a.dt, h->d);
}

static inline void mh_reinit(mh_t *h)
{
    h->m->init(h->p, h->s, h->n);
}

/* Opens a population of n neurons of `model` with its default parameters, the model's
 * initial state, zero inputs and dt = sk_model_dt(model, dt_ms). */
static inline void mh_open(mh_t *h, const char *model, uint32_t n, double dt_ms)
{
    memset(h, 0, sizeof *h);
    h->m = sk_model_find(model);
    cr_assert_not_null(h->m, "model %s is not registered", model);
    h->n = n;
    sk_model_defaults(h->m, h->p);
    for (uint32_t k = 0; k < h->m->n_state; k++)
        cr_assert_not_null(h->s[k] = calloc(n, sizeof(float)));
    for (uint32_t c = 0; c < h->m->n_inputs; c++)
        cr_assert_not_null(h->in[c] = calloc(n, sizeof(float)));
    cr_assert_not_null(h->spiked = calloc(n, 1));
    cr_assert_not_null(h->refrac = calloc(n, sizeof(uint16_t)));
    h->a.n = n;
    h->a.step = 0;
    h->a.dt = sk_model_dt(h->m, dt_ms);
    h->a.p = h->p;
    h->a.d = h->d;
    h->a.s = h->s;
    h->a.in = (const float *const *)h->in;
    h->a.spiked = h->spiked;
    h->a.refrac = NULL;
    mh_derive(h);
    mh_reinit(h);
}

static inline void mh_close(mh_t *h)
{
    for (uint32_t k = 0; k < SK_MODEL_MAX_STATE; k++)
        free(h->s[k]);
    for (uint32_t c = 0; c < SK_MODEL_MAX_INPUTS; c++)
        free(h->in[c]);
    free(h->spiked);
    free(h->refrac);
    memset(h, 0, sizeof *h);
}

static inline int mh_pidx(const mh_t *h, const char *name)
{
    int k = sk_model_param_index(h->m, name);
    cr_assert_geq(k, 0, "%s has no parameter %s", h->m->name, name);
    return k;
}

static inline float mh_param(const mh_t *h, const char *name)
{
    return (float)h->p[mh_pidx(h, name)];
}

/* Sets one parameter (which must pass sk_model_check_params) and re-derives. */
static inline void mh_set(mh_t *h, const char *name, float value)
{
    h->p[mh_pidx(h, name)] = value;
    sk_err_t err;
    int rc = sk_model_check_params(h->m, h->p, &err);
    cr_assert_eq(rc, 0, "%s: %s = %g rejected: %s: %s", h->m->name, name, (double)value, err.path,
                 err.msg);
    mh_derive(h);
}

/* Sets the step size (model time units) and re-derives. */
static inline void mh_set_dt(mh_t *h, float dt)
{
    h->a.dt = dt;
    mh_derive(h);
}

static inline float *mh_col(const mh_t *h, const char *name)
{
    int k = sk_model_state_index(h->m, name);
    cr_assert_geq(k, 0, "%s has no state variable %s", h->m->name, name);
    return h->s[k];
}

static inline float mh_derived(const mh_t *h, const char *name)
{
    for (uint32_t k = 0; k < h->m->n_derived; k++)
        if (strcmp(h->m->derived[k], name) == 0)
            return (float)h->d[k];
    cr_assert_fail("%s has no derived constant %s", h->m->name, name);
    return NAN;
}

static inline void mh_fill(float *col, uint32_t n, float value)
{
    for (uint32_t i = 0; i < n; i++)
        col[i] = value;
}

/* Hands the refractory counters (all zero) to the model. */
static inline void mh_refrac_on(mh_t *h, uint16_t refrac_steps)
{
    memset(h->refrac, 0, h->n * sizeof(uint16_t));
    h->a.refrac = h->refrac;
    h->a.refrac_steps = refrac_steps;
}

static inline void mh_step(mh_t *h)
{
    h->m->step(&h->a);
    h->a.step++;
}

static inline uint32_t mh_count_spikes(const mh_t *h)
{
    uint32_t c = 0;
    for (uint32_t i = 0; i < h->n; i++)
        c += h->spiked[i] != 0;
    return c;
}

/* ---- float32 helpers ------------------------------------------------------------------- */

static inline uint32_t mh_bits(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static inline int mh_same(float x, float y)
{
    return mh_bits(x) == mh_bits(y);
}

/* Monotone map of floats to integers: consecutive floats map to consecutive integers. */
static inline int64_t mh_ord(float x)
{
    int32_t i;
    memcpy(&i, &x, sizeof i);
    return i < 0 ? -(int64_t)(i & 0x7fffffff) : (int64_t)i;
}

static inline float mh_unord(int64_t k)
{
    int32_t i = k < 0 ? (int32_t)((uint32_t)(-k) | 0x80000000u) : (int32_t)k;
    float x;
    memcpy(&x, &i, sizeof x);
    return x;
}

/* Distance in units in the last place between two finite floats. */
static inline int64_t mh_ulps(float x, float y)
{
    int64_t d = mh_ord(x) - mh_ord(y);
    return d < 0 ? -d : d;
}

/* Smallest float x in [lo, hi] with f(x, ctx) >= target, for f non-decreasing in x (hi must
 * satisfy it). The caller checks whether f(x) == target exactly. */
static inline float mh_solve_ge(float (*f)(float, const void *), const void *ctx, float target,
                                float lo, float hi)
{
    int64_t a = mh_ord(lo), b = mh_ord(hi);
    cr_assert(f(hi, ctx) >= target, "mh_solve_ge: f(hi) < target");
    while (a < b) {
        int64_t mid = a + (b - a) / 2;
        if (f(mh_unord(mid), ctx) >= target)
            b = mid;
        else
            a = mid + 1;
    }
    return mh_unord(a);
}

/* ---- PRNG (splitmix64) ----------------------------------------------------------------- */

typedef struct mh_rng {
    uint64_t s;
} mh_rng_t;

static inline uint64_t mh_next(mh_rng_t *r)
{
    uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform float in [lo, hi). */
static inline float mh_uniform(mh_rng_t *r, float lo, float hi)
{
    double u = (double)(mh_next(r) >> 11) * 0x1.0p-53;
    return (float)((double)lo + ((double)hi - (double)lo) * u);
}

/* Uniform integer in [0, n). */
static inline uint32_t mh_below(mh_rng_t *r, uint32_t n)
{
    return (uint32_t)(mh_next(r) % n);
}

/* ---- generic refractoriness (sk_step_args_t.refrac) ------------------------------------ */

typedef struct mh_refrac_tally {
    uint32_t held, suppressed, spikes, free;
} mh_refrac_tally_t;

/* One neuron after one step of mh_check_generic_refrac: r (with counters) against f (the same
 * state stepped without). */
static inline void mh_refrac_compare(const mh_t *r, const mh_t *f, uint32_t i, int t,
                                     uint16_t before, float v_before, mh_refrac_tally_t *c)
{
    const char *model = r->m->name;
    const uint32_t vi = r->m->v_index, ns = r->m->n_state;
    if (before > 0) {
        c->held++;
        cr_assert_eq(r->spiked[i], 0, "%s: spike while refractory (step %d, n %u)", model, t, i);
        cr_assert(mh_same(r->s[vi][i], v_before), "%s: v not held (step %d, n %u): %a -> %a", model,
                  t, i, (double)v_before, (double)r->s[vi][i]);
        cr_assert_eq(r->refrac[i], before - 1, "%s: count not decremented", model);
        if (f->spiked[i]) {
            c->suppressed++;
            return;
        }
        for (uint32_t k = 0; k < ns; k++)
            if (k != vi)
                cr_assert(mh_same(r->s[k][i], f->s[k][i]),
                          "%s: %s changed by refractoriness (step %d, n %u)", model,
                          r->m->state[k].name, t, i);
        return;
    }
    c->free++;
    cr_assert_eq(r->spiked[i], f->spiked[i], "%s: spike differs (step %d, n %u)", model, t, i);
    for (uint32_t k = 0; k < ns; k++)
        cr_assert(mh_same(r->s[k][i], f->s[k][i]),
                  "%s: %s differs outside refractoriness (step %d, n %u)", model,
                  r->m->state[k].name, t, i);
    cr_assert_eq(r->refrac[i], r->spiked[i] ? r->a.refrac_steps : 0, "%s: count after step", model);
    c->spikes += r->spiked[i];
}

/* Checks the contract of sk_refrac_apply for one model. `setup` sets parameters, state and
 * constant inputs of a population of n neurons; it should drive some neurons hard enough to
 * spike whenever they are free. Two populations start alike: R with refractory counters
 * (initially i % 5, refrac_steps = 3) and F without (refrac = NULL). Before every step F gets
 * R's state, so each step of R is compared with what the model computes from the same state
 * without refractoriness:
 *   - refractory (count > 0): v keeps its previous value bit for bit, no spike, the count
 *     falls by one; where F does not spike either, every other variable equals F's;
 *   - not refractory: every variable and the spike equal F's; a spike sets the count to
 *     refrac_steps, otherwise it stays 0. */
static inline void mh_check_generic_refrac(const char *model, double dt_ms, uint32_t n,
                                           void (*setup)(mh_t *), int steps)
{
    mh_t r, f;
    mh_open(&r, model, n, dt_ms);
    mh_open(&f, model, n, dt_ms);
    setup(&r);
    setup(&f);
    mh_refrac_on(&r, 3);
    for (uint32_t i = 0; i < n; i++)
        r.refrac[i] = (uint16_t)(i % 5);
    const uint32_t vi = r.m->v_index;
    mh_refrac_tally_t tally = {0, 0, 0, 0};
    uint16_t *before = calloc(n, sizeof *before);
    float *v_before = calloc(n, sizeof *v_before);
    cr_assert(before && v_before);

    for (int t = 0; t < steps; t++) {
        for (uint32_t k = 0; k < r.m->n_state; k++)
            memcpy(f.s[k], r.s[k], n * sizeof(float));
        for (uint32_t c = 0; c < r.m->n_inputs; c++)
            memcpy(f.in[c], r.in[c], n * sizeof(float));
        memcpy(before, r.refrac, n * sizeof *before);
        memcpy(v_before, r.s[vi], n * sizeof *v_before);
        f.a.step = r.a.step;
        mh_step(&r);
        mh_step(&f);
        for (uint32_t i = 0; i < n; i++)
            mh_refrac_compare(&r, &f, i, t, before[i], v_before[i], &tally);
    }
    cr_assert_gt(tally.held, 0u, "%s: no refractory step was exercised", model);
    cr_assert_gt(tally.suppressed, 0u, "%s: no spike was suppressed", model);
    cr_assert_gt(tally.spikes, 0u, "%s: no spike outside refractoriness", model);
    cr_assert_gt(tally.free, 0u);
    free(before);
    free(v_before);
    mh_close(&r);
    mh_close(&f);
}

/* With refrac == NULL (off) nothing stops consecutive spikes: under the same `setup` as
 * mh_check_generic_refrac, some neuron spikes on two consecutive steps, which a population
 * with refractory counters never does. */
static inline void mh_check_refrac_null_is_off(const char *model, double dt_ms, uint32_t n,
                                               void (*setup)(mh_t *), int steps)
{
    mh_t f;
    mh_open(&f, model, n, dt_ms);
    setup(&f);
    uint8_t *prev = calloc(n, 1);
    cr_assert_not_null(prev);
    uint32_t consecutive = 0;
    for (int t = 0; t < steps; t++) {
        mh_step(&f);
        for (uint32_t i = 0; i < n; i++) {
            consecutive += prev[i] && f.spiked[i];
            prev[i] = f.spiked[i];
        }
    }
    cr_assert_gt(consecutive, 0u, "%s: no neuron spiked on consecutive steps", model);
    free(prev);
    mh_close(&f);
}

/* ---- oracle comparison ------------------------------------------------------------------ */

/* A naive per-neuron transcription of a model's spec: advances one neuron by one step.
 * st[k] is the neuron's state in the order of model->state, x[c] its inputs; refrac is NULL
 * (off) or the neuron's counter. Returns the spike (0/1). p are the parameters in the order of
 * model->params, dt in model time units, step the 0-based step index. */
typedef int (*mh_oracle_fn)(const float *p, float dt, uint64_t step, float *st, const float *x,
                            uint16_t *refrac, uint16_t refrac_steps);

typedef struct mh_oracle_case {
    const char *model;
    double dt_ms;
    uint32_t n, steps;
    uint64_t seed;
    int with_refrac; /* random initial counters in [0, 4], refrac_steps = 2 */
    /* parameters: p starts as the defaults; may be NULL */
    void (*params)(mh_t *h);
    /* random initial state of neuron i: st[k] in the order of model->state */
    void (*init)(mh_rng_t *r, const float *p, uint32_t i, float *st);
    /* random input of neuron i at step t: x[c] */
    void (*input)(mh_rng_t *r, const float *p, uint64_t t, uint32_t i, float *x);
    mh_oracle_fn oracle;
} mh_oracle_case_t;

/* Runs the model and the oracle side by side and requires identical spikes and identical
 * bits of every state variable after every step. Also requires some spikes (and, with
 * refractoriness, some refractory steps), so the case exercises the threshold. */
static inline void mh_check_oracle(const mh_oracle_case_t *c)
{
    mh_t h;
    mh_open(&h, c->model, c->n, c->dt_ms);
    if (c->params)
        c->params(&h);
    const uint32_t ns = h.m->n_state, nc = h.m->n_inputs, n = c->n;
    float *ost = calloc((size_t)n * ns, sizeof(float));
    uint16_t *oref = calloc(n, sizeof(uint16_t));
    cr_assert(ost && oref);
    mh_rng_t r = {c->seed};
    const uint16_t rs = 2;
    float pf[SK_MODEL_MAX_PARAMS]; /* the oracles are float32, as the seed models' references */
    for (uint32_t k = 0; k < h.m->n_params; k++)
        pf[k] = (float)h.p[k];
    if (c->with_refrac)
        mh_refrac_on(&h, rs);
    for (uint32_t i = 0; i < n; i++) {
        c->init(&r, pf, i, &ost[(size_t)i * ns]);
        for (uint32_t k = 0; k < ns; k++)
            h.s[k][i] = ost[(size_t)i * ns + k];
        if (c->with_refrac)
            oref[i] = h.refrac[i] = (uint16_t)mh_below(&r, 5);
    }
    uint64_t spikes = 0, refractory = 0;
    for (uint32_t t = 0; t < c->steps; t++) {
        float x[SK_MODEL_MAX_INPUTS];
        for (uint32_t i = 0; i < n; i++) {
            c->input(&r, pf, t, i, x);
            for (uint32_t ch = 0; ch < nc; ch++)
                h.in[ch][i] = x[ch];
        }
        mh_step(&h);
        for (uint32_t i = 0; i < n; i++) {
            float *st = &ost[(size_t)i * ns];
            float xi[SK_MODEL_MAX_INPUTS];
            for (uint32_t ch = 0; ch < nc; ch++)
                xi[ch] = h.in[ch][i];
            refractory += c->with_refrac && oref[i] > 0;
            int z = c->oracle(pf, (float)h.a.dt, t, st, xi, c->with_refrac ? &oref[i] : NULL, rs);
            spikes += (uint64_t)z;
            cr_assert_eq(h.spiked[i], z, "%s: spike differs at step %u neuron %u: model %d",
                         c->model, t, i, h.spiked[i]);
            for (uint32_t k = 0; k < ns; k++)
                cr_assert(mh_same(h.s[k][i], st[k]),
                          "%s: %s differs at step %u neuron %u: model %a, oracle %a", c->model,
                          h.m->state[k].name, t, i, (double)h.s[k][i], (double)st[k]);
            if (c->with_refrac)
                cr_assert_eq(h.refrac[i], oref[i], "%s: refractory count differs (step %u)",
                             c->model, t);
        }
    }
    cr_assert_gt(spikes, 0u, "%s: the oracle case produced no spikes", c->model);
    cr_assert(spikes < (uint64_t)n * c->steps, "%s: every neuron spiked on every step", c->model);
    if (c->with_refrac)
        cr_assert_gt(refractory, 0u);
    free(ost);
    free(oref);
    mh_close(&h);
}

/* The generic refractory rule of sk_model.h, for oracles: call with the candidate v and z
 * computed from v_old, before any spike-triggered jump; returns the final spike. */
static inline int mh_oracle_refrac(uint16_t *refrac, uint16_t refrac_steps, float v_old,
                                   float *v_new, int z)
{
    if (!refrac)
        return z;
    if (*refrac > 0) {
        *refrac = (uint16_t)(*refrac - 1);
        *v_new = v_old;
        return 0;
    }
    if (z)
        *refrac = refrac_steps;
    return z;
}

#endif
