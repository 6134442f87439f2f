/* synapse.c: the synapse registry, plastic projections' state (built, reset, freed), the
 * target populations' spike traces, and connections as data (sk_synapse.h).
 *
 * Where things happen: validation of a projection's synapse model (name, parameters and
 * ranges, the target model's post_params) runs in sk_net_create before anything is built
 * (sk__syn_check); the model's own check runs on the built weights (sk__syn_build); the
 * stepping (step.c) calls on_pre in the delivery phase and appends each step's spikes of
 * traced populations to their traces between the history record and the delivery; the
 * checkpoint (ckpt.c, section SYN1) carries parameters, state, traces and lost counts.
 */
#include <math.h>
#include <string.h>

#include "internal.h"

extern const sk_synapse_t sk_synapse_stdp, sk_synapse_tsodyks;
static const sk_synapse_t *const registry[] = {&sk_synapse_stdp, &sk_synapse_tsodyks};
#define N_SYN (sizeof registry / sizeof registry[0])

const sk_synapse_t *sk_synapse_find(const char *name)
{
    for (uint32_t k = 0; name && k < N_SYN; k++)
        if (strcmp(registry[k]->name, name) == 0)
            return registry[k];
    return NULL;
}

uint32_t sk_synapse_count(void)
{
    return (uint32_t)N_SYN;
}

const sk_synapse_t *sk_synapse_at(uint32_t i)
{
    return i < N_SYN ? registry[i] : NULL;
}

static int is_static(const char *name)
{
    return !name || strcmp(name, "static_synapse") == 0;
}

static int model_param(const sk_model_t *m, const char *name)
{
    for (uint32_t k = 0; k < m->n_params; k++)
        if (strcmp(m->params[k].name, name) == 0)
            return (int)k;
    return -1;
}

static int in_range(const sk_field_t *f, double v)
{
    if (isnan(v) || (isinf(v) && !(f->flags & SK_FIELD_INF_OK)))
        return 0;
    if ((f->flags & SK_FIELD_LO_OPEN) ? !(v > f->lo) : !(v >= f->lo))
        return 0;
    if ((f->flags & SK_FIELD_HI_OPEN) ? !(v < f->hi) : !(v <= f->hi))
        return 0;
    return 1;
}

int sk__syn_params_ok(const sk_synapse_t *syn, const double *p)
{
    for (uint32_t k = 0; k < syn->n_params; k++)
        if (!in_range(&syn->params[k], p[k]))
            return 0;
    return 1;
}

/* p = the defaults of syn with the overrides applied, checked against the ranges. */
static int resolve_params(const sk_synapse_t *syn, const double *base, const sk_param_t *ov,
                          uint32_t n, double *p, sk_err_t *err)
{
    for (uint32_t k = 0; k < syn->n_params; k++)
        p[k] = base ? base[k] : syn->params[k].dflt;
    for (uint32_t j = 0; j < n; j++) {
        char path[96];
        snprintf(path, sizeof path, "synapse.params.%.60s", ov[j].name ? ov[j].name : "");
        uint32_t k = 0;
        while (k < syn->n_params && (!ov[j].name || strcmp(syn->params[k].name, ov[j].name)))
            k++;
        if (k == syn->n_params)
            return sk_err_set(err, SK_ENOENT, path, "is not a parameter of %s", syn->name);
        const sk_field_t *f = &syn->params[k];
        if (!in_range(f, ov[j].value))
            return sk_err_set(err, SK_ERANGE, path, "must be in %s%g, %g%s (got %g)",
                              (f->flags & SK_FIELD_LO_OPEN) ? "(" : "[", f->lo, f->hi,
                              (f->flags & SK_FIELD_HI_OPEN) ? ")" : "]", ov[j].value);
        p[k] = ov[j].value;
    }
    return 0;
}

int sk__syn_check(const sk_proj_spec_t *spec, const sk_model_t *target, sk_err_t *err)
{
    if (is_static(spec->synapse)) {
        if (spec->n_synapse_params)
            return sk_err_set(err, SK_EINVAL, "synapse.params", "static_synapse has no parameters");
        return 0;
    }
    const sk_synapse_t *syn = sk_synapse_find(spec->synapse);
    if (!syn)
        return sk_err_set(err, SK_ENOENT, "synapse.model", "unknown synapse model \"%.60s\"",
                          spec->synapse);
    double p[SK_SYN_MAX_PARAMS];
    int rc = resolve_params(syn, NULL, spec->synapse_params, spec->n_synapse_params, p, err);
    if (rc)
        return rc;
    for (uint32_t k = 0; k < syn->n_post_params; k++)
        if (model_param(target, syn->post_params[k]) < 0)
            return sk_err_set(err, SK_EINVAL, "synapse.model",
                              "%s needs the target neurons' parameter %s, which model %s "
                              "lacks (the NEST models have it; plasticity onto the seed "
                              "models is not defined)",
                              syn->name, syn->post_params[k], target->name);
    return 0;
}

static uint64_t n_weights(const sk_net_t *net, const sk__proj_t *p)
{
    return p->dense ? (uint64_t)net->pops[p->src].n * net->pops[p->dst].n : p->n_syn;
}

static void post_values(const sk_net_t *net, const sk__proj_t *p, double *out)
{
    for (uint32_t k = 0; k < p->syn->n_post_params; k++)
        out[k] = net->pops[p->dst].p[p->post_idx[k]];
}

void sk__syn_init_state(const sk_net_t *net, sk__proj_t *p)
{
    if (!p->syn)
        return;
    const uint64_t n = n_weights(net, p);
    for (uint64_t k = 0; k < n; k++) {
        double *st = p->st + k * p->ns;
        st[0] = p->w ? (double)p->w[k] : (double)p->w_const;
        for (uint32_t j = 1; j < p->ns; j++)
            st[j] = p->syn->state[j].dflt;
    }
    p->lost = 0;
}

int sk__syn_build(sk_net_t *net, const sk_proj_spec_t *spec, sk__proj_t *p, sk_err_t *err)
{
    if (is_static(spec->synapse))
        return 0;
    const sk_synapse_t *syn = sk_synapse_find(spec->synapse);
    int rc = resolve_params(syn, NULL, spec->synapse_params, spec->n_synapse_params, p->sp, err);
    if (rc)
        return rc;
    const sk_model_t *m = net->pops[p->dst].model;
    for (uint32_t k = 0; k < syn->n_post_params; k++)
        p->post_idx[k] = (uint32_t)model_param(m, syn->post_params[k]);
    p->syn = syn;
    p->ns = syn->n_state;
    double post[SK_SYN_MAX_POST];
    post_values(net, p, post);
    const uint64_t n = n_weights(net, p);
    if (syn->check && (rc = syn->check(p->sp, post, p->w, n, p->w_const, err)))
        return rc;
    const uint64_t bytes = n * p->ns * sizeof(double);
    if (net->bytes + bytes > net->limits.max_bytes)
        return sk_err_set(err, SK_ELIMIT, "synapse", "the synapse state exceeds the memory limit");
    if (!(p->st = sk_calloc(n * p->ns, sizeof(double))))
        return sk_err_set(err, SK_ENOMEM, "", "out of memory");
    net->bytes += bytes;
    sk__syn_init_state(net, p);
    return 0;
}

int sk__syn_check_target(const sk_net_t *net, uint32_t pop, const double *p, sk_err_t *err)
{
    for (uint32_t k = 0; k < net->n_projs; k++) {
        const sk__proj_t *pr = &net->projs[k];
        if (!pr->syn || pr->dst != pop || !pr->syn->check)
            continue;
        double post[SK_SYN_MAX_POST];
        for (uint32_t j = 0; j < pr->syn->n_post_params; j++)
            post[j] = p[pr->post_idx[j]];
        for (uint64_t i = 0; i < n_weights(net, pr); i++) {
            const float f = (float)pr->st[i * pr->ns];
            sk_err_t e;
            if (pr->syn->check(pr->sp, post, &f, 1, f, &e))
                return sk_err_set(err, SK_ERANGE, "params",
                                  "refused by projection %u (%s): %s: %s", k, pr->syn->name,
                                  e.path, e.msg);
        }
    }
    return 0;
}

int sk__syn_alloc_traces(sk_net_t *net)
{
    for (uint32_t k = 0; k < net->n_projs; k++) {
        const sk__proj_t *p = &net->projs[k];
        sk__pop_t *pop = &net->pops[p->dst];
        if (!p->syn || !(p->syn->flags & SK_SYN_POST_TRACE) || pop->tr_cap)
            continue;
        const uint32_t cap = net->limits.trace_spikes ? net->limits.trace_spikes : SK_SYN_TRACE_CAP;
        const uint64_t bytes = (uint64_t)pop->n * (cap * 16u + 8u);
        if (net->bytes + bytes > net->limits.max_bytes)
            return SK_ELIMIT;
        pop->tr_step = sk_calloc((size_t)pop->n * cap, sizeof(uint64_t));
        pop->tr_k = sk_calloc((size_t)pop->n * cap, sizeof(double));
        pop->tr_n = sk_calloc(pop->n, sizeof(uint64_t));
        pop->tr_cap = cap;
        pop->tr_tau = p->post_idx[0];
        if (!pop->tr_step || !pop->tr_k || !pop->tr_n)
            return SK_ENOMEM;
        net->bytes += bytes;
    }
    return 0;
}

void sk__syn_reset(sk_net_t *net)
{
    for (uint32_t k = 0; k < net->n_projs; k++) {
        sk__proj_t *p = &net->projs[k];
        if (p->w_built) /* static weights that were set: back to the built ones */
            memcpy(p->w, p->w_built, (size_t)n_weights(net, p) * sizeof(float));
        sk__syn_init_state(net, p);
        for (uint64_t j = 0; p->sent_step && j < n_weights(net, p); j++)
            p->sent_step[j] = UINT64_MAX;
    }
    for (uint32_t k = 0; k < net->n_pops; k++)
        if (net->pops[k].tr_n)
            memset(net->pops[k].tr_n, 0, (size_t)net->pops[k].n * sizeof(uint64_t));
}

void sk__syn_free(sk__proj_t *p)
{
    sk_free(p->sent);
    sk_free(p->sent_step);
    p->sent = NULL;
    p->sent_step = NULL;
    sk_free(p->st);
    sk_free(p->w_built);
    p->st = NULL;
    p->w_built = NULL;
}

void sk__syn_free_traces(sk__pop_t *pop)
{
    sk_free(pop->tr_step);
    sk_free(pop->tr_k);
    sk_free(pop->tr_n);
    pop->tr_step = NULL;
    pop->tr_k = NULL;
    pop->tr_n = NULL;
    pop->tr_cap = 0;
}

/* ------------------------------------------------------------------------------------ */
/* Connections as data                                                                   */

int sk_net_proj_syn(const sk_net_t *net, uint32_t proj, sk_proj_syn_info_t *out)
{
    if (proj >= net->n_projs)
        return SK_ENOENT;
    const sk__proj_t *p = &net->projs[proj];
    out->syn = p->syn;
    out->params = p->syn ? p->sp : NULL;
    out->lost = p->lost;
    return 0;
}

int sk_net_conns(const sk_net_t *net, uint32_t proj, uint64_t first, uint64_t n, sk_conn_t *out,
                 uint64_t *n_out)
{
    if (proj >= net->n_projs)
        return SK_ENOENT;
    const sk__proj_t *p = &net->projs[proj];
    const uint32_t n_post = net->pops[p->dst].n;
    const uint64_t total = n_weights(net, p);
    uint64_t got = 0;
    if (first < total && n > 0) {
        got = total - first < n ? total - first : n;
        uint32_t pre = 0;
        if (!p->dense) { /* the row holding synapse `first` */
            uint32_t lo = 0, hi = net->pops[p->src].n;
            while (hi - lo > 1) {
                uint32_t mid = lo + (hi - lo) / 2;
                if (p->row[mid] <= first)
                    lo = mid;
                else
                    hi = mid;
            }
            pre = lo;
        }
        for (uint64_t j = 0; j < got; j++) {
            const uint64_t k = first + j;
            sk_conn_t *c = &out[j];
            memset(c, 0, sizeof *c);
            if (p->dense) {
                c->pre = (uint32_t)(k / n_post);
                c->post = (uint32_t)(k % n_post);
                c->delay = p->delay;
            } else {
                while (p->row[pre + 1] <= k)
                    pre++;
                c->pre = pre;
                c->post = p->col[k];
                c->delay = p->delays ? p->delays[k] : p->delay;
            }
            c->n_state = p->syn ? p->ns : 1;
            c->sent_step = p->sent_step ? p->sent_step[k] : UINT64_MAX;
            c->sent = p->sent ? p->sent[k] : 0.0;
            if (p->syn)
                memcpy(c->state, p->st + k * p->ns, p->ns * sizeof(double));
            else
                c->state[0] = sk__syn_weight(p, k);
        }
    }
    if (n_out)
        *n_out = got;
    return 0;
}

int sk_net_track_sent(sk_net_t *net, uint32_t proj, int on)
{
    if (proj >= net->n_projs)
        return SK_ENOENT;
    sk__proj_t *p = &net->projs[proj];
    if (!p->syn)
        return SK_EINVAL;
    if (!on || p->sent) {
        if (!on) {
            sk_free(p->sent);
            sk_free(p->sent_step);
            p->sent = NULL;
            p->sent_step = NULL;
        }
        return 0;
    }
    const uint64_t n = n_weights(net, p);
    p->sent = sk_calloc(n, sizeof(double));
    p->sent_step = sk_malloc((size_t)n * sizeof(uint64_t));
    if (!p->sent || !p->sent_step) {
        sk_free(p->sent);
        sk_free(p->sent_step);
        p->sent = NULL;
        p->sent_step = NULL;
        return SK_ENOMEM;
    }
    for (uint64_t k = 0; k < n; k++)
        p->sent_step[k] = UINT64_MAX;
    return 0;
}

int sk_net_set_weights(sk_net_t *net, uint32_t proj, const uint64_t *index, uint64_t first,
                       uint64_t n, const double *w, uint64_t n_w, sk_err_t *err)
{
    if (proj >= net->n_projs)
        return sk_err_set(err, SK_ENOENT, "projection", "no such projection");
    sk__proj_t *p = &net->projs[proj];
    const uint64_t total = n_weights(net, p);
    if (n_w != 1 && n_w != n)
        return sk_err_set(err, SK_EINVAL, "weights", "give one weight or one per synapse (%llu)",
                          (unsigned long long)n);
    if (!index && (first > total || n > total - first))
        return sk_err_set(err, SK_ERANGE, "first", "the range passes the %llu synapses",
                          (unsigned long long)total);
    for (uint64_t j = 0; j < n; j++) {
        const uint64_t k = index ? index[j] : first + j;
        const double v = w[n_w == 1 ? 0 : j];
        char path[48];
        if (k >= total) {
            snprintf(path, sizeof path, "index[%llu]", (unsigned long long)j);
            return sk_err_set(err, SK_ERANGE, path, "is not a synapse (the projection has %llu)",
                              (unsigned long long)total);
        }
        snprintf(path, sizeof path, "weights[%llu]", (unsigned long long)(n_w == 1 ? 0 : j));
        if (!isfinite(v) || fabs(v) > 3.4e38)
            return sk_err_set(err, SK_ERANGE, path, "must be a finite float32 (got %g)", v);
        if (p->syn && p->syn->check) {
            const float f = (float)v;
            double post[SK_SYN_MAX_POST];
            post_values(net, p, post);
            int rc = p->syn->check(p->sp, post, &f, 1, f, err);
            if (rc) {
                if (err)
                    snprintf(err->path, sizeof err->path, "%s", path);
                return rc;
            }
        }
    }
    if (!p->syn && !p->w_built) { /* keep the built weights for reset */
        const int owned = p->w != NULL;
        float *b = sk_malloc((size_t)total * sizeof(float));
        float *w_new = owned ? p->w : sk_malloc((size_t)total * sizeof(float));
        if (!b || !w_new) {
            sk_free(b);
            if (!owned)
                sk_free(w_new);
            return sk_err_set(err, SK_ENOMEM, "", "out of memory");
        }
        for (uint64_t k = 0; k < total; k++)
            b[k] = owned ? p->w[k] : p->w_const;
        if (!owned)
            memcpy(w_new, b, (size_t)total * sizeof(float));
        p->w_built = b;
        p->w = w_new;
        net->bytes += total * (owned ? 4u : 8u);
    }
    for (uint64_t j = 0; j < n; j++) {
        const uint64_t k = index ? index[j] : first + j;
        const double v = w[n_w == 1 ? 0 : j];
        if (p->syn)
            p->st[k * p->ns] = v;
        else
            p->w[k] = (float)v;
    }
    return 0;
}

int sk_net_set_weights_dist(sk_net_t *net, uint32_t proj, const uint64_t *index, uint64_t first,
                            uint64_t n, const sk_dist_t *d, uint32_t draw, sk_err_t *err)
{
    if (proj >= net->n_projs)
        return sk_err_set(err, SK_ENOENT, "projection", "no such projection");
    if (d->kind > SK_DIST_NORMAL || (d->kind == SK_DIST_UNIFORM && !(d->a <= d->b)) ||
        (d->kind == SK_DIST_NORMAL && !(d->b >= 0.0f)))
        return sk_err_set(err, SK_ERANGE, "weights", "bad distribution");
    double *w = sk_malloc((size_t)(n ? n : 1) * sizeof(double));
    if (!w)
        return sk_err_set(err, SK_ENOMEM, "", "out of memory");
    const uint32_t stream = sk__stream(SK__RNG_SET_WEIGHT, proj, 0);
    for (uint64_t j = 0; j < n; j++) {
        const uint64_t k = index ? index[j] : first + j;
        const uint64_t step = ((uint64_t)draw << 32) | (k >> 32);
        double v = d->a;
        if (d->kind == SK_DIST_UNIFORM)
            v = d->a + ((double)d->b - d->a) * sk_rng_uniform(net->seed, stream, step, (uint32_t)k);
        else if (d->kind == SK_DIST_NORMAL)
            v = d->a + (double)d->b * sk_rng_normal(net->seed, stream, step, (uint32_t)k);
        if ((d->sign > 0 && v < 0.0) || (d->sign < 0 && v > 0.0))
            v = 0.0;
        w[j] = (double)(float)v; /* the precision of built weights */
    }
    int rc = sk_net_set_weights(net, proj, index, first, n, w, n, err);
    sk_free(w);
    return rc;
}

int sk_net_set_syn_params(sk_net_t *net, uint32_t proj, const sk_param_t *params, uint32_t n,
                          sk_err_t *err)
{
    if (proj >= net->n_projs)
        return sk_err_set(err, SK_ENOENT, "projection", "no such projection");
    sk__proj_t *p = &net->projs[proj];
    if (!p->syn)
        return sk_err_set(err, SK_EINVAL, "synapse.params", "a static_synapse has no parameters");
    double np[SK_SYN_MAX_PARAMS], post[SK_SYN_MAX_POST];
    int rc = resolve_params(p->syn, p->sp, params, n, np, err);
    if (rc)
        return rc;
    post_values(net, p, post);
    const uint64_t total = n_weights(net, p);
    for (uint64_t k = 0; p->syn->check && k < total; k++) {
        const float f = (float)p->st[k * p->ns];
        if ((rc = p->syn->check(np, post, &f, 1, f, err)))
            return rc;
    }
    memcpy(p->sp, np, sizeof np);
    return 0;
}

/* ------------------------------------------------------------------------------------ */
/* Weight recorders                                                                      */

int sk_net_wrec_add(sk_net_t *net, const sk_wrec_spec_t *spec, uint32_t *id, sk_err_t *err)
{
    if (spec->proj >= net->n_projs)
        return sk_err_set(err, SK_ENOENT, "projection", "no such projection");
    if (spec->every < 1)
        return sk_err_set(err, SK_ERANGE, "every", "must be >= 1");
    const sk__proj_t *p = &net->projs[spec->proj];
    const uint64_t total = n_weights(net, p), n = spec->index ? spec->n_index : total;
    if (n == 0)
        return sk_err_set(err, SK_EINVAL, "index", "records no synapse");
    for (uint64_t j = 0; spec->index && j < n; j++)
        if (spec->index[j] >= total) {
            char path[48];
            snprintf(path, sizeof path, "index[%llu]", (unsigned long long)j);
            return sk_err_set(err, SK_ERANGE, path, "is not a synapse (the projection has %llu)",
                              (unsigned long long)total);
        }
    const uint64_t max = spec->max_values ? spec->max_values : net->limits.max_record_values;
    if (max > net->limits.max_record_values)
        return sk_err_set(err, SK_ELIMIT, "max_values", "exceeds the recorder limit (%llu)",
                          (unsigned long long)net->limits.max_record_values);
    if (max < n)
        return sk_err_set(err, SK_ELIMIT, "max_values", "holds no sample of %llu weights",
                          (unsigned long long)n);
    const uint64_t cap = max / n, bytes = n * 8u + cap * (8u + 8u * n);
    if (net->bytes + bytes > net->limits.max_bytes)
        return sk_err_set(err, SK_ELIMIT, "max_values", "exceeds the memory limit");
    sk__wrec_t w = {.proj = spec->proj, .every = spec->every, .n = n, .cap = cap};
    w.index = sk_malloc((size_t)n * sizeof(uint64_t));
    w.steps = sk_malloc((size_t)cap * sizeof(uint64_t));
    w.buf = sk_malloc((size_t)(cap * n) * sizeof(double));
    sk__wrec_t *grown = sk_malloc((size_t)(net->n_wrecs + 1) * sizeof *grown);
    if (!w.index || !w.steps || !w.buf || !grown) {
        sk_free(w.index);
        sk_free(w.steps);
        sk_free(w.buf);
        sk_free(grown);
        return sk_err_set(err, SK_ENOMEM, "", "out of memory");
    }
    for (uint64_t j = 0; j < n; j++)
        w.index[j] = spec->index ? spec->index[j] : j;
    if (net->n_wrecs)
        memcpy(grown, net->wrecs, net->n_wrecs * sizeof *grown);
    grown[net->n_wrecs] = w;
    sk_free(net->wrecs);
    net->wrecs = grown;
    net->bytes += bytes;
    if (id)
        *id = net->n_wrecs;
    net->n_wrecs++;
    return 0;
}

void sk__wrec_sample(sk_net_t *net, uint64_t t)
{
    for (uint32_t r = 0; r < net->n_wrecs; r++) {
        sk__wrec_t *w = &net->wrecs[r];
        if ((t + 1) % w->every != 0)
            continue;
        const sk__proj_t *p = &net->projs[w->proj];
        const uint64_t at = w->head % w->cap;
        double *dst = w->buf + at * w->n;
        for (uint64_t j = 0; j < w->n; j++)
            dst[j] = sk__syn_weight(p, w->index[j]);
        w->steps[at] = t;
        w->head++;
    }
}

void sk__wrec_clear_all(sk_net_t *net)
{
    for (uint32_t r = 0; r < net->n_wrecs; r++)
        net->wrecs[r].head = 0;
}

void sk__wrec_free_all(sk_net_t *net)
{
    for (uint32_t r = 0; r < net->n_wrecs; r++) {
        sk_free(net->wrecs[r].index);
        sk_free(net->wrecs[r].steps);
        sk_free(net->wrecs[r].buf);
    }
    sk_free(net->wrecs);
    net->wrecs = NULL;
    net->n_wrecs = 0;
}

int sk_net_wrec_info(const sk_net_t *net, uint32_t id, sk_wrec_info_t *out)
{
    if (id >= net->n_wrecs)
        return SK_ENOENT;
    const sk__wrec_t *w = &net->wrecs[id];
    out->proj = w->proj;
    out->every = w->every;
    out->n_synapses = w->n;
    out->cap = w->cap;
    out->samples_kept = w->head < w->cap ? w->head : w->cap;
    out->samples_dropped = w->head - out->samples_kept;
    return 0;
}

int sk_net_wrec_samples(const sk_net_t *net, uint32_t id, uint64_t from, uint64_t to,
                        uint64_t *first_kept, sk_wsample_cb cb, void *ctx)
{
    if (id >= net->n_wrecs)
        return SK_ENOENT;
    const sk__wrec_t *w = &net->wrecs[id];
    const uint64_t lo = w->head > w->cap ? w->head - w->cap : 0;
    if (first_kept)
        *first_kept = w->head > lo ? w->steps[lo % w->cap] : UINT64_MAX;
    for (uint64_t i = lo; i < w->head; i++) {
        const uint64_t at = i % w->cap, s = w->steps[at];
        if (s < from || s >= to)
            continue;
        int rc = cb(ctx, s, w->buf + at * w->n);
        if (rc)
            return rc;
    }
    return 0;
}
