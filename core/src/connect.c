/* connect.c: projections: validation and size estimates, connection rules, weight draws,
 * and the dense / CSR storage the step loop delivers spikes through.
 *
 * Every rule is a deterministic visit of its synapses (pre, post) that emits, for each
 * source neuron, its targets in ascending order:
 *   all_to_all         pre-major, every post (minus i -> i without autapses);
 *   one_to_one         i -> i;
 *   fixed_probability  pre-major; the gaps between targets are geometric, so the cost is
 *                      proportional to the synapses made, not to n_pre x n_post;
 *   fixed_indegree     post-major; each post draws `indegree` sources (Floyd's algorithm
 *                      without multapses, independent draws with them);
 *   explicit           the given pairs, stably sorted by (pre, post);
 *   fixed_total_number synapse k of `total` draws its (pre, post) from the four words of
 *                      (seed, stream, k) (multapses always, autapses as asked);
 *   fixed_outdegree    pre-major; each pre draws `outdegree` targets (Floyd's algorithm
 *                      without multapses, independent draws with them).
 * Randomness is keyed by (seed, projection, pre or post, draw): the visit is the same every
 * time it runs, so CSR is built in two passes (count, then fill) without storing pairs.
 * The last two rules do not emit a row's targets in order: their rows are sorted after the
 * fill ("slot-keyed" rules).
 * Drawn weights and delays are keyed by (pre, post), so dense and sparse storage hold the
 * same values; for the slot-keyed rules, where a pair may repeat, by (pre, slot in the sorted
 * row). A redraw (weights' sign redraw, delays' bounds) takes attempt r from the key
 * (pre + r * 2^32, post or slot): attempt 0 is the draw without redraw.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "spiked/sk_rng.h"

typedef struct visit {
    const sk_net_t *net;
    const sk_proj_spec_t *spec;
    uint32_t index; /* projection index: keys the RNG */
    uint32_t n_pre, n_post;
    int same;       /* source == target population */
    uint8_t *mark;  /* fixed_indegree without multapses: n_pre bits of scratch... */
    uint32_t *chosen; /* ...and the indegree sources chosen for one target */
    uint64_t *order; /* explicit: pair indices sorted by (pre, post) */
    int slot_keyed;  /* fixed_total_number / fixed_outdegree: rows sorted after the fill */
} visit_t;

/* Called once per synapse; k = index of the explicit pair, or UINT64_MAX. */
typedef void (*emit_fn)(void *ctx, uint32_t pre, uint32_t post, uint64_t k);

static int autapse_ok(const visit_t *v, uint32_t pre, uint32_t post)
{
    return !(v->same && pre == post && !v->spec->rule.autapses);
}

static void visit_all_to_all(const visit_t *v, emit_fn emit, void *ctx)
{
    for (uint32_t pre = 0; pre < v->n_pre; pre++)
        for (uint32_t post = 0; post < v->n_post; post++)
            if (autapse_ok(v, pre, post))
                emit(ctx, pre, post, UINT64_MAX);
}

static void visit_fixed_probability(const visit_t *v, emit_fn emit, void *ctx)
{
    const double p = v->spec->rule.p;
    if (p <= 0.0)
        return;
    if (p >= 1.0) {
        visit_all_to_all(v, emit, ctx);
        return;
    }
    const double log_q = log1p(-p);
    const uint32_t stream = sk__stream(SK__RNG_CONNECT, v->index, 0);
    for (uint32_t pre = 0; pre < v->n_pre; pre++) {
        double post = -1.0;
        for (uint32_t draw = 0;; draw++) {
            double u = sk_rng_uniform(v->net->seed, stream, pre, draw);
            post += floor(log1p(-u) / log_q) + 1.0;
            if (post >= (double)v->n_post)
                break;
            if (autapse_ok(v, pre, (uint32_t)post))
                emit(ctx, pre, (uint32_t)post, UINT64_MAX);
        }
    }
}

/* Source of draw k for target `post` among n candidates, skipping post itself when
 * autapses are excluded within one population. */
static uint32_t pick(const visit_t *v, uint32_t post, uint32_t draw, uint32_t n)
{
    const uint32_t stream = sk__stream(SK__RNG_CONNECT, v->index, 1);
    uint32_t r = (uint32_t)(sk_rng_uniform(v->net->seed, stream, post, draw) * n);
    return r < n ? r : n - 1;
}

static void visit_fixed_indegree(const visit_t *v, emit_fn emit, void *ctx)
{
    const uint32_t k_in = v->spec->rule.indegree;
    const int skip_self = v->same && !v->spec->rule.autapses;
    for (uint32_t post = 0; post < v->n_post; post++) {
        const uint32_t n = v->n_pre - (skip_self ? 1u : 0u);
        if (v->spec->rule.multapses) {
            for (uint32_t d = 0; d < k_in; d++) {
                uint32_t pre = pick(v, post, d, n);
                if (skip_self && pre >= post)
                    pre++;
                emit(ctx, pre, post, UINT64_MAX);
            }
            continue;
        }
        /* Floyd: for j = n-k .. n-1, take t in [0, j]; if t is taken, take j instead.
         * The order of the chosen sources does not matter: each lands in its own row. */
        for (uint32_t j = n - k_in, d = 0; j < n; j++, d++) {
            uint32_t t = pick(v, post, d, j + 1);
            uint32_t c = (v->mark[t >> 3] & (1u << (t & 7))) ? j : t;
            v->mark[c >> 3] |= (uint8_t)(1u << (c & 7));
            v->chosen[d] = c;
        }
        for (uint32_t d = 0; d < k_in; d++) {
            uint32_t c = v->chosen[d];
            v->mark[c >> 3] &= (uint8_t)~(1u << (c & 7));
            emit(ctx, (skip_self && c >= post) ? c + 1 : c, post, UINT64_MAX);
        }
    }
}

static void visit_fixed_total(const visit_t *v, emit_fn emit, void *ctx)
{
    const int skip_self = v->same && !v->spec->rule.autapses;
    const uint32_t n_post = v->n_post - (skip_self ? 1u : 0u);
    const uint32_t stream = sk__stream(SK__RNG_CONNECT, v->index, 2);
    for (uint64_t k = 0; k < v->spec->rule.total; k++) {
        uint32_t w[4];
        sk_rng_words(v->net->seed, stream, k, 0, w);
        uint32_t pre = (uint32_t)(sk_rng_u01(w[0], w[1]) * v->n_pre);
        uint32_t post = (uint32_t)(sk_rng_u01(w[2], w[3]) * n_post);
        pre = pre < v->n_pre ? pre : v->n_pre - 1;
        post = post < n_post ? post : n_post - 1;
        if (skip_self && post >= pre)
            post++;
        emit(ctx, pre, post, UINT64_MAX);
    }
}

/* fixed_indegree with the roles of pre and post exchanged (its own stream). */
static void visit_fixed_outdegree(const visit_t *v, emit_fn emit, void *ctx)
{
    const uint32_t k_out = v->spec->rule.outdegree;
    const int skip_self = v->same && !v->spec->rule.autapses;
    const uint32_t n = v->n_post - (skip_self ? 1u : 0u);
    const uint32_t stream = sk__stream(SK__RNG_CONNECT, v->index, 3);
    for (uint32_t pre = 0; pre < v->n_pre; pre++) {
        for (uint32_t j = v->spec->rule.multapses ? 0 : n - k_out, d = 0;
             v->spec->rule.multapses ? d < k_out : j < n; j++, d++) {
            uint32_t range = v->spec->rule.multapses ? n : j + 1;
            uint32_t t = (uint32_t)(sk_rng_uniform(v->net->seed, stream, pre, d) * range);
            t = t < range ? t : range - 1;
            if (!v->spec->rule.multapses) { /* Floyd, as in visit_fixed_indegree */
                t = (v->mark[t >> 3] & (1u << (t & 7))) ? j : t;
                v->mark[t >> 3] |= (uint8_t)(1u << (t & 7));
                v->chosen[d] = t;
                continue;
            }
            emit(ctx, pre, (skip_self && t >= pre) ? t + 1 : t, UINT64_MAX);
        }
        for (uint32_t d = 0; !v->spec->rule.multapses && d < k_out; d++) {
            uint32_t c = v->chosen[d];
            v->mark[c >> 3] &= (uint8_t)~(1u << (c & 7));
            emit(ctx, pre, (skip_self && c >= pre) ? c + 1 : c, UINT64_MAX);
        }
    }
}

static void visit(const visit_t *v, emit_fn emit, void *ctx)
{
    const sk_rule_t *r = &v->spec->rule;
    switch (r->kind) {
    case SK_RULE_ALL_TO_ALL:
        visit_all_to_all(v, emit, ctx);
        break;
    case SK_RULE_ONE_TO_ONE:
        for (uint32_t i = 0; i < v->n_pre; i++)
            emit(ctx, i, i, UINT64_MAX);
        break;
    case SK_RULE_FIXED_PROBABILITY:
        visit_fixed_probability(v, emit, ctx);
        break;
    case SK_RULE_FIXED_INDEGREE:
        visit_fixed_indegree(v, emit, ctx);
        break;
    case SK_RULE_FIXED_TOTAL_NUMBER:
        visit_fixed_total(v, emit, ctx);
        break;
    case SK_RULE_FIXED_OUTDEGREE:
        visit_fixed_outdegree(v, emit, ctx);
        break;
    default:
        for (uint64_t j = 0; j < r->n; j++) {
            uint64_t k = v->order[j];
            emit(ctx, r->pre[k], r->post[k], k);
        }
        break;
    }
}

/* ------------------------------------------------------------------------------------ */
/* Validation and estimates                                                              */

static int check_dist(const sk_dist_t *d, sk_err_t *err)
{
    if (!isfinite(d->a) || !isfinite(d->b))
        return sk_err_set(err, SK_ERANGE, "weight", "must be finite");
    if (d->kind == SK_DIST_UNIFORM && !(d->a <= d->b))
        return sk_err_set(err, SK_ERANGE, "weight", "uniform needs low <= high");
    if (d->kind == SK_DIST_NORMAL && !(d->b >= 0.0f))
        return sk_err_set(err, SK_ERANGE, "weight", "normal needs sd >= 0");
    if (d->kind > SK_DIST_NORMAL)
        return sk_err_set(err, SK_EINVAL, "weight", "unknown distribution");
    if (d->redraw && d->kind != SK_DIST_CONST) {
        /* the allowed side must hold a fair share of the mass, or redraws would not end */
        double hi = d->kind == SK_DIST_UNIFORM ? d->b : d->a + 3.0 * d->b;
        double lo = d->kind == SK_DIST_UNIFORM ? d->a : d->a - 3.0 * d->b;
        if (d->sign == 0)
            return sk_err_set(err, SK_EINVAL, "weight.redraw", "needs a sign");
        if ((d->sign > 0 && !(hi > 0.0)) || (d->sign < 0 && !(lo < 0.0)))
            return sk_err_set(err, SK_ERANGE, "weight.redraw", "the distribution has almost "
                              "no mass of the required sign");
    }
    return 0;
}

static int uses_ms_delays(const sk_proj_spec_t *s)
{
    return s->delay_ms.kind != SK_DIST_CONST || s->delay_ms.a > 0.0f;
}

static uint32_t ms_to_steps(double ms, double dt_ms)
{
    double x = floor(ms / dt_ms + 0.5);
    return x < 1.0 ? 0u : x > 4e9 ? UINT32_MAX : (uint32_t)x;
}

/* The interval [lo, hi] in ms that drawn delays are redrawn into. */
static void delay_bounds_ms(const sk_proj_spec_t *s, double *lo, double *hi)
{
    const sk_dist_t *d = &s->delay_ms;
    *lo = d->kind == SK_DIST_UNIFORM ? d->a : d->kind == SK_DIST_NORMAL ? -INFINITY : d->a;
    *hi = d->kind == SK_DIST_UNIFORM ? d->b : d->kind == SK_DIST_NORMAL ? d->a + 8.0 * d->b
                                                                          : d->a;
    if (d->kind != SK_DIST_CONST && s->delay_min_ms > *lo)
        *lo = s->delay_min_ms;
    if (d->kind != SK_DIST_CONST && s->delay_max_ms > 0.0 && s->delay_max_ms < *hi)
        *hi = s->delay_max_ms;
}

int sk_proj_delay_range(const sk_proj_spec_t *s, double dt_ms, uint32_t max_delay,
                        uint32_t *lo, uint32_t *hi, sk_err_t *err)
{
    if (!uses_ms_delays(s)) {
        *lo = *hi = s->delay_steps ? s->delay_steps : 1;
        return 0;
    }
    const sk_dist_t *d = &s->delay_ms;
    double a, b;
    if (!isfinite(d->a) || !isfinite(d->b) || !isfinite(s->delay_min_ms) ||
        !isfinite(s->delay_max_ms) || d->kind > SK_DIST_NORMAL)
        return sk_err_set(err, SK_ERANGE, "delay_ms", "must be finite");
    if (d->kind == SK_DIST_UNIFORM && !(d->a < d->b))
        return sk_err_set(err, SK_ERANGE, "delay_ms", "uniform needs low < high");
    if (d->kind == SK_DIST_NORMAL && !(d->b >= 0.0f))
        return sk_err_set(err, SK_ERANGE, "delay_ms", "normal needs sd >= 0");
    delay_bounds_ms(s, &a, &b);
    if (!(a <= b))
        return sk_err_set(err, SK_ERANGE, "delay_ms", "the redraw bounds [%g, %g] ms leave "
                          "no value", a, b);
    if (d->kind == SK_DIST_NORMAL && (a > d->a + 3.0 * d->b || b < d->a - 3.0 * d->b))
        return sk_err_set(err, SK_ERANGE, "delay_ms", "the redraw bounds [%g, %g] ms hold "
                          "almost none of the distribution", a, b);
    *lo = ms_to_steps(a, dt_ms);
    *hi = ms_to_steps(b, dt_ms);
    if (*lo < 1)
        return sk_err_set(err, SK_ERANGE, "delay_ms", "%s %g ms rounds to 0 steps of %g ms; "
                          "a delay must be at least one step%s",
                          d->kind == SK_DIST_CONST ? "the delay" : "the smallest delay", a,
                          dt_ms, d->kind == SK_DIST_NORMAL ? " (set a redraw bound min)" : "");
    if (*hi > max_delay)
        return sk_err_set(err, SK_ELIMIT, "delay_ms", "the largest delay, %g ms, exceeds the "
                          "delay limit of %u steps", b, max_delay);
    return 0;
}

static int check_explicit(const sk_rule_t *r, uint32_t n_pre, uint32_t n_post, sk_err_t *err)
{
    if (r->n && (!r->pre || !r->post))
        return sk_err_set(err, SK_EINVAL, "rule", "explicit needs pre and post lists");
    for (uint64_t j = 0; j < r->n; j++) {
        if (r->pre[j] >= n_pre)
            return sk_err_set(err, SK_ERANGE, "rule.pre", "entry %llu (%u) is out of range "
                              "(source size %u)", (unsigned long long)j, r->pre[j], n_pre);
        if (r->post[j] >= n_post)
            return sk_err_set(err, SK_ERANGE, "rule.post", "entry %llu (%u) is out of range "
                              "(target size %u)", (unsigned long long)j, r->post[j], n_post);
        if (r->weight && !isfinite(r->weight[j]))
            return sk_err_set(err, SK_ERANGE, "rule.weights", "entry %llu is not finite",
                              (unsigned long long)j);
    }
    return 0;
}

/* Synapse count of the rule: exact, or an upper bound (fixed_probability: mean + 8 sd). */
static int rule_count(const sk_rule_t *r, uint32_t n_pre, uint32_t n_post, int same,
                      uint64_t *n_syn, sk_err_t *err)
{
    uint64_t pairs = (uint64_t)n_pre * n_post;
    uint64_t self = (same && !r->autapses) ? n_pre : 0;
    switch (r->kind) {
    case SK_RULE_ALL_TO_ALL:
        *n_syn = pairs - self;
        return 0;
    case SK_RULE_ONE_TO_ONE:
        if (n_pre != n_post)
            return sk_err_set(err, SK_EINVAL, "rule", "one_to_one needs equal source and target "
                              "sizes (%u != %u)", n_pre, n_post);
        *n_syn = n_pre;
        return 0;
    case SK_RULE_FIXED_PROBABILITY: {
        if (!(r->p >= 0.0 && r->p <= 1.0))
            return sk_err_set(err, SK_ERANGE, "rule.p", "must be in [0, 1]");
        double mean = (double)(pairs - self) * r->p;
        double bound = mean + 8.0 * sqrt(mean * (1.0 - r->p)) + 16.0;
        *n_syn = bound >= (double)(pairs - self) ? pairs - self : (uint64_t)bound;
        return 0;
    }
    case SK_RULE_FIXED_INDEGREE: {
        uint64_t avail = n_pre - (same && !r->autapses ? 1u : 0u);
        if (!r->multapses && r->indegree > avail)
            return sk_err_set(err, SK_ERANGE, "rule.indegree", "is larger than the %llu "
                              "possible sources (allow multapses to draw with replacement)",
                              (unsigned long long)avail);
        if (r->multapses && r->indegree > 0 && avail == 0)
            return sk_err_set(err, SK_ERANGE, "rule.indegree", "no possible source");
        *n_syn = (uint64_t)r->indegree * n_post;
        return 0;
    }
    case SK_RULE_EXPLICIT: {
        int rc = check_explicit(r, n_pre, n_post, err);
        *n_syn = r->n;
        return rc;
    }
    case SK_RULE_FIXED_TOTAL_NUMBER:
        if (r->total > 0 && (n_pre == 0 || (same && !r->autapses && n_pre < 2)))
            return sk_err_set(err, SK_ERANGE, "rule.total", "no possible pair");
        *n_syn = r->total;
        return 0;
    case SK_RULE_FIXED_OUTDEGREE: {
        uint64_t avail = n_post - (same && !r->autapses ? 1u : 0u);
        if (!r->multapses && r->outdegree > avail)
            return sk_err_set(err, SK_ERANGE, "rule.outdegree", "is larger than the %llu "
                              "possible targets (allow multapses to draw with replacement)",
                              (unsigned long long)avail);
        if (r->outdegree > 0 && avail == 0)
            return sk_err_set(err, SK_ERANGE, "rule.outdegree", "no possible target");
        *n_syn = (uint64_t)r->outdegree * n_pre;
        return 0;
    }
    default:
        return sk_err_set(err, SK_EINVAL, "rule.kind", "unknown connection rule");
    }
}

static int stores_weights(const sk_proj_spec_t *s)
{
    return s->weight.kind != SK_DIST_CONST || (s->rule.kind == SK_RULE_EXPLICIT && s->rule.weight);
}

static int has_delay_array(const sk_proj_spec_t *s)
{
    return (s->rule.kind == SK_RULE_EXPLICIT && s->rule.delay) ||
           s->delay_ms.kind != SK_DIST_CONST;
}

static int use_dense(const sk_proj_spec_t *s)
{
    return s->storage == SK_STORAGE_DENSE ||
           (s->storage == SK_STORAGE_AUTO && s->rule.kind == SK_RULE_ALL_TO_ALL);
}

int sk__proj_estimate(const sk_proj_spec_t *spec, uint32_t n_pre, uint32_t n_post,
                      int same_pop, uint64_t *n_syn, uint64_t *bytes, sk_err_t *err)
{
    int rc = check_dist(&spec->weight, err);
    if (rc)
        return rc;
    if (spec->storage > SK_STORAGE_SPARSE)
        return sk_err_set(err, SK_EINVAL, "storage", "must be auto, dense or sparse");
    if ((rc = rule_count(&spec->rule, n_pre, n_post, same_pop, n_syn, err)))
        return rc;
    if (use_dense(spec)) {
        if (((spec->rule.kind == SK_RULE_FIXED_INDEGREE ||
              spec->rule.kind == SK_RULE_FIXED_OUTDEGREE) && spec->rule.multapses) ||
            spec->rule.kind == SK_RULE_FIXED_TOTAL_NUMBER)
            return sk_err_set(err, SK_EINVAL, "storage", "dense storage cannot hold multapses");
        if (spec->delay_ms.kind != SK_DIST_CONST)
            return sk_err_set(err, SK_EINVAL, "storage", "dense storage needs one delay for "
                              "all synapses");
        if (spec->rule.kind == SK_RULE_EXPLICIT && spec->rule.delay)
            return sk_err_set(err, SK_EINVAL, "storage", "dense storage needs one delay for "
                              "all synapses");
        if (__builtin_mul_overflow((uint64_t)n_pre * n_post, 4u, bytes))
            return sk_err_set(err, SK_EOVERFLOW, "storage", "dense matrix size overflows");
        return 0;
    }
    uint64_t per = 4u + (stores_weights(spec) ? 4u : 0u) +
                   (has_delay_array(spec) ? 2u : 0u);
    uint64_t b;
    if (__builtin_mul_overflow(*n_syn, per, &b) ||
        __builtin_add_overflow(b, ((uint64_t)n_pre + 1u) * 8u, bytes))
        return sk_err_set(err, SK_EOVERFLOW, "rule", "synapse storage size overflows");
    return 0;
}

/* ------------------------------------------------------------------------------------ */
/* Building                                                                              */

enum { REDRAW_MAX = 100000 }; /* attempts; the checks above make reaching it ~impossible */

/* Draw `attempt` of distribution d under key (pre, b). */
static double draw_once(const visit_t *v, const sk_dist_t *d, uint32_t stream, uint32_t pre,
                        uint32_t b, uint32_t attempt)
{
    uint64_t step = (uint64_t)pre + ((uint64_t)attempt << 32);
    if (d->kind == SK_DIST_UNIFORM)
        return d->a + ((double)d->b - d->a) * sk_rng_uniform(v->net->seed, stream, step, b);
    return d->a + (double)d->b * sk_rng_normal(v->net->seed, stream, step, b);
}

/* A drawn weight for key (pre, b); sub 0 keys by post, sub 1 by slot. */
static float draw_weight_key(const visit_t *v, uint32_t sub, uint32_t pre, uint32_t b)
{
    const sk_dist_t *d = &v->spec->weight;
    if (d->kind == SK_DIST_CONST)
        return d->a;
    const uint32_t stream = sk__stream(SK__RNG_WEIGHT, v->index, sub);
    double w = draw_once(v, d, stream, pre, b, 0);
    for (uint32_t r = 1; d->redraw && r < REDRAW_MAX &&
                         ((d->sign > 0 && w < 0.0) || (d->sign < 0 && w > 0.0)); r++)
        w = draw_once(v, d, stream, pre, b, r);
    if ((d->sign > 0 && w < 0.0) || (d->sign < 0 && w > 0.0))
        w = 0.0;
    return (float)w;
}

static float draw_weight(const visit_t *v, uint32_t pre, uint32_t post, uint64_t k)
{
    if (k != UINT64_MAX && v->spec->rule.weight)
        return v->spec->rule.weight[k];
    return draw_weight_key(v, 0, pre, post);
}

/* A drawn delay in steps for key (pre, b); sub 2 keys by post, sub 3 by slot. Redrawn into
 * the bounds, then rounded; sk_proj_delay_range checked that the bounds round into
 * [1, the delay limit], so the result is always a valid delay. */
static uint16_t draw_delay_key(const visit_t *v, uint32_t sub, uint32_t pre, uint32_t b)
{
    const sk_proj_spec_t *s = v->spec;
    double lo, hi;
    delay_bounds_ms(s, &lo, &hi);
    const uint32_t stream = sk__stream(SK__RNG_WEIGHT, v->index, sub);
    double x = draw_once(v, &s->delay_ms, stream, pre, b, 0);
    for (uint32_t r = 1; r < REDRAW_MAX && (x < lo || x > hi); r++)
        x = draw_once(v, &s->delay_ms, stream, pre, b, r);
    x = x < lo ? lo : x > hi ? hi : x;
    return (uint16_t)ms_to_steps(x, v->net->dt_ms);
}

typedef struct fill {
    const visit_t *v;
    sk__proj_t *proj;
    uint64_t *cursor; /* sparse: next slot of each row; NULL in the counting pass */
    uint8_t *seen;    /* dense explicit: n_pre*n_post bits, to reject duplicates */
    int duplicate;
} fill_t;

static void emit_count(void *ctx, uint32_t pre, uint32_t post, uint64_t k)
{
    fill_t *f = ctx;
    (void)post;
    (void)k;
    f->proj->row[pre + 1]++;
}

static void emit_sparse(void *ctx, uint32_t pre, uint32_t post, uint64_t k)
{
    fill_t *f = ctx;
    sk__proj_t *p = f->proj;
    uint64_t at = f->cursor[pre]++;
    p->col[at] = post;
    if (f->v->slot_keyed)
        return; /* weights and delays are drawn after the rows are sorted */
    if (p->w)
        p->w[at] = draw_weight(f->v, pre, post, k);
    if (p->delays)
        p->delays[at] = k != UINT64_MAX && f->v->spec->rule.delay
                            ? (uint16_t)f->v->spec->rule.delay[k]
                            : draw_delay_key(f->v, 2, pre, post);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Slot-keyed rules: sort each row's targets, then draw weights and delays per slot. */
static void finish_slot_keyed(const visit_t *v, sk__proj_t *p)
{
    for (uint32_t pre = 0; pre < v->n_pre; pre++) {
        uint64_t at = p->row[pre], n = p->row[pre + 1] - at;
        qsort(p->col + at, n, sizeof(uint32_t), cmp_u32);
        for (uint64_t j = 0; j < n; j++) {
            if (p->w)
                p->w[at + j] = draw_weight_key(v, 1, pre, (uint32_t)j);
            if (p->delays)
                p->delays[at + j] = draw_delay_key(v, 3, pre, (uint32_t)j);
        }
    }
}

static void emit_dense(void *ctx, uint32_t pre, uint32_t post, uint64_t k)
{
    fill_t *f = ctx;
    uint64_t cell = (uint64_t)pre * f->v->n_post + post;
    if (f->seen) {
        if (f->seen[cell >> 3] & (1u << (cell & 7)))
            f->duplicate = 1;
        f->seen[cell >> 3] |= (uint8_t)(1u << (cell & 7));
    }
    f->proj->w[cell] = draw_weight(f->v, pre, post, k);
    f->proj->n_syn++;
}

/* Explicit pairs in a stable order by (pre, post). */
static int pair_less(const void *ctx, uint64_t a, uint64_t b)
{
    const sk_rule_t *r = ctx;
    return r->pre[a] < r->pre[b] || (r->pre[a] == r->pre[b] && r->post[a] < r->post[b]);
}

static int build_sparse(visit_t *v, sk__proj_t *p)
{
    const sk_proj_spec_t *s = v->spec;
    fill_t f = {.v = v, .proj = p};
    if (!(p->row = sk_calloc((size_t)v->n_pre + 1, sizeof(uint64_t))))
        return SK_ENOMEM;
    visit(v, emit_count, &f);
    for (uint32_t j = 0; j < v->n_pre; j++)
        p->row[j + 1] += p->row[j];
    p->n_syn = p->row[v->n_pre];
    if (p->n_syn > v->net->limits.max_synapses)
        return SK_ELIMIT;
    p->col = sk_calloc(p->n_syn ? p->n_syn : 1, sizeof(uint32_t));
    f.cursor = sk_calloc((size_t)v->n_pre + 1, sizeof(uint64_t));
    if (!p->col || !f.cursor) {
        sk_free(f.cursor);
        return SK_ENOMEM;
    }
    memcpy(f.cursor, p->row, (size_t)v->n_pre * sizeof(uint64_t));
    if (stores_weights(s) && !(p->w = sk_calloc(p->n_syn ? p->n_syn : 1, sizeof(float))))
        goto nomem;
    if (has_delay_array(s)) {
        if (!(p->delays = sk_calloc(p->n_syn ? p->n_syn : 1, sizeof(uint16_t))))
            goto nomem;
        p->delay = 0;
    }
    p->w_const = s->weight.a;
    visit(v, emit_sparse, &f);
    if (v->slot_keyed)
        finish_slot_keyed(v, p);
    sk_free(f.cursor);
    return 0;
nomem:
    sk_free(f.cursor);
    return SK_ENOMEM;
}

static int build_dense(visit_t *v, sk__proj_t *p)
{
    uint64_t cells = (uint64_t)v->n_pre * v->n_post;
    fill_t f = {.v = v, .proj = p};
    p->dense = 1;
    if (!(p->w = sk_alloc_aligned(cells, sizeof(float))))
        return SK_ENOMEM;
    if (v->spec->rule.kind == SK_RULE_EXPLICIT && !(f.seen = sk_calloc(cells / 8 + 1, 1)))
        return SK_ENOMEM;
    visit(v, emit_dense, &f);
    sk_free(f.seen);
    return f.duplicate ? SK_EINVAL : 0;
}

int sk__proj_build(const sk_net_t *net, const sk_proj_spec_t *spec, uint32_t index,
                   sk__proj_t *proj, sk_err_t *err)
{
    int src = sk_net_pop_index(net, spec->source), dst = sk_net_pop_index(net, spec->target);
    visit_t v = {.net = net, .spec = spec, .index = index};
    v.n_pre = net->pops[src].n;
    v.n_post = net->pops[dst].n;
    v.same = src == dst;
    proj->src = (uint32_t)src;
    proj->dst = (uint32_t)dst;
    proj->channel = sk__resolve_channel(net->pops[dst].model, spec->channel, 0);
    proj->delay = spec->delay_steps ? spec->delay_steps : 1;
    if (uses_ms_delays(spec)) /* a constant: its rounding; drawn: per synapse, below */
        proj->delay = ms_to_steps(spec->delay_ms.a, net->dt_ms);
    proj->max_delay = proj->delay;
    v.slot_keyed = spec->rule.kind == SK_RULE_FIXED_TOTAL_NUMBER ||
                   spec->rule.kind == SK_RULE_FIXED_OUTDEGREE;
    int rc = 0;
    if (spec->rule.kind == SK_RULE_EXPLICIT &&
        (rc = sk__stable_order(spec->rule.n, pair_less, &spec->rule, &v.order)))
        goto done;
    const int floyd_in = spec->rule.kind == SK_RULE_FIXED_INDEGREE && !spec->rule.multapses;
    const int floyd_out = spec->rule.kind == SK_RULE_FIXED_OUTDEGREE && !spec->rule.multapses;
    if ((floyd_in || floyd_out) &&
        (!(v.mark = sk_calloc((size_t)(floyd_in ? v.n_pre : v.n_post) / 8 + 1, 1)) ||
         !(v.chosen = sk_calloc((floyd_in ? spec->rule.indegree : spec->rule.outdegree) + 1u,
                                sizeof(uint32_t))))) {
        rc = SK_ENOMEM;
        goto done;
    }
    rc = use_dense(spec) ? build_dense(&v, proj) : build_sparse(&v, proj);
    if (rc == 0 && proj->delays) {
        proj->max_delay = 1;
        for (uint64_t k = 0; k < proj->n_syn; k++)
            if (proj->delays[k] > proj->max_delay)
                proj->max_delay = proj->delays[k];
    }
done:
    sk_free(v.order);
    sk_free(v.mark);
    sk_free(v.chosen);
    if (rc == SK_EINVAL)
        return sk_err_set(err, rc, "rule", "dense storage cannot hold a pair twice");
    if (rc == SK_ELIMIT)
        return sk_err_set(err, rc, "rule", "the projection exceeds the synapse limit");
    if (rc)
        return sk_err_set(err, rc, "", "%s", sk_strerror(rc));
    return 0;
}

uint64_t sk__proj_bytes(const sk_net_t *net, const sk__proj_t *p)
{
    uint64_t n_pre = net->pops[p->src].n, n_post = net->pops[p->dst].n;
    if (p->dense)
        return 4u * n_pre * n_post;
    return 8u * (n_pre + 1) + p->n_syn * (4u + (p->w ? 4u : 0u) + (p->delays ? 2u : 0u));
}

void sk__proj_free(sk__proj_t *proj)
{
    if (proj->dense)
        sk_free_aligned(proj->w);
    else
        sk_free(proj->w);
    sk_free(proj->row);
    sk_free(proj->col);
    sk_free(proj->delays);
}
