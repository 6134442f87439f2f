/* net.c: building a network from its description, its lifetime, and the operations between
 * steps (inspection, parameter and state changes, reset).
 *
 * sk_net_create validates the whole description first (every element, every size against
 * the limits, the memory estimate against limits.max_bytes) and only then allocates, so a
 * rejected description allocates nothing big and names the offending element. Building
 * then allocates everything the network will need; stepping (step.c) allocates nothing.
 */
#include <math.h>
#include <string.h>

#include "internal.h"

/* ------------------------------------------------------------------------------------ */
/* Small helpers                                                                         */

void sk__limits_resolve(const sk_limits_t *in, sk_limits_t *out)
{
    sk_limits_t z = {0};
    const sk_limits_t *l = in ? in : &z;
    out->max_neurons = l->max_neurons ? l->max_neurons : SK__DEF_MAX_NEURONS;
    out->max_synapses = l->max_synapses ? l->max_synapses : SK__DEF_MAX_SYNAPSES;
    out->max_bytes = l->max_bytes ? l->max_bytes : SK__DEF_MAX_BYTES;
    out->max_delay = l->max_delay ? l->max_delay : SK__DEF_MAX_DELAY;
    if (out->max_delay > 65535u)
        out->max_delay = 65535u; /* per-synapse delays are stored as uint16 */
    out->spike_history = l->spike_history ? l->spike_history : SK__DEF_HISTORY_IDS;
    out->history_steps = l->history_steps ? l->history_steps : SK__DEF_HISTORY_STEPS;
    out->max_pending = l->max_pending ? l->max_pending : SK__DEF_MAX_PENDING;
    out->max_record_values = l->max_record_values ? l->max_record_values : SK__DEF_RECORD_VALUES;
    out->trace_spikes = l->trace_spikes ? l->trace_spikes : SK_SYN_TRACE_CAP;
    if (out->trace_spikes > 65536u)
        out->trace_spikes = 65536u;
}

int sk__valid_name(const char *s)
{
    if (!s || !*s)
        return 0;
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '-';
        if (!ok || n >= SK__NAME_MAX)
            return 0;
    }
    return 1;
}

int32_t sk__resolve_channel(const sk_model_t *m, const char *channel, int current)
{
    if (!channel && current && m->current_input >= 0)
        return m->current_input; /* NEST's models: currents have a channel of their own */
    if (!channel)
        return (m->flags & SK_MODEL_SIGN_SPLIT) ? -1 : 0;
    return sk_model_input_index(m, channel);
}

static int find_pop(const sk_net_spec_t *spec, const char *name)
{
    if (!name)
        return SK_ENOENT;
    for (uint32_t k = 0; k < spec->n_pops; k++)
        if (spec->pops[k].name && strcmp(spec->pops[k].name, name) == 0)
            return (int)k;
    return SK_ENOENT;
}

/* err path "what[k].rest" */
static int elem_err(sk_err_t *err, int code, const char *what, uint32_t k, const char *rest,
                    const char *msg)
{
    char path[sizeof err->path];
    snprintf(path, sizeof path, "%s[%u]%s%s", what, k, rest && *rest ? "." : "", rest ? rest : "");
    return sk_err_set(err, code, path, "%s", msg);
}

/* ------------------------------------------------------------------------------------ */
/* Validation of populations, stimuli and recorders (projections: connect.c)             */

static int check_init(const sk_pop_spec_t *ps, const sk_model_t *m, uint32_t k, sk_err_t *err)
{
    for (uint32_t j = 0; j < ps->n_init; j++) {
        const sk_init_t *in = &ps->init[j];
        char rest[80];
        snprintf(rest, sizeof rest, "initial.%s", in->var ? in->var : "?");
        if (sk_model_state_index(m, in->var) < 0)
            return elem_err(err, SK_ENOENT, "populations", k, rest,
                            "is not a state variable of the model");
        for (uint32_t i = 0; i < j; i++)
            if (strcmp(ps->init[i].var, in->var) == 0)
                return elem_err(err, SK_EINVAL, "populations", k, rest, "is given twice");
        int finite = isfinite(in->a) && isfinite(in->b);
        switch (in->kind) {
        case SK_INIT_CONST:
            if (!isfinite(in->a))
                return elem_err(err, SK_ERANGE, "populations", k, rest, "must be finite");
            break;
        case SK_INIT_UNIFORM:
            if (!finite || !(in->a <= in->b))
                return elem_err(err, SK_ERANGE, "populations", k, rest,
                                "uniform bounds must be finite with low <= high");
            break;
        case SK_INIT_NORMAL:
            if (!finite || !(in->b >= 0.0f))
                return elem_err(err, SK_ERANGE, "populations", k, rest,
                                "normal needs a finite mean and a finite sd >= 0");
            break;
        case SK_INIT_VALUES:
            if (!in->values || in->n_values != ps->size)
                return elem_err(err, SK_EINVAL, "populations", k, rest,
                                "needs exactly one value per neuron");
            for (uint32_t i = 0; i < in->n_values; i++)
                if (!isfinite(in->values[i]))
                    return elem_err(err, SK_ERANGE, "populations", k, rest,
                                    "values must be finite");
            break;
        default:
            return elem_err(err, SK_EINVAL, "populations", k, rest, "unknown kind");
        }
    }
    return 0;
}

/* Validates population k; writes its parameters into p. */
static int check_pop(const sk_net_spec_t *spec, uint32_t k, double *p, sk_err_t *err)
{
    const sk_pop_spec_t *ps = &spec->pops[k];
    if (!sk__valid_name(ps->name))
        return elem_err(err, SK_EINVAL, "populations", k, "name",
                        "must be 1-64 characters of [A-Za-z0-9_-]");
    for (uint32_t j = 0; j < k; j++)
        if (strcmp(spec->pops[j].name, ps->name) == 0)
            return elem_err(err, SK_EEXIST, "populations", k, "name", "is used twice");
    const sk_model_t *m = sk_model_find(ps->model);
    if (!m)
        return elem_err(err, SK_ENOENT, "populations", k, "model", "is not a known model");
    if (ps->size < 1)
        return elem_err(err, SK_ERANGE, "populations", k, "size", "must be >= 1");
    if (m->dt_quantum_ms > 0.0) { /* NEST's models: times are whole tics */
        const double q = spec->dt_ms / m->dt_quantum_ms;
        if (q < 0.5 || fabs(q - floor(q + 0.5)) > 1e-9 * q)
            return sk_err_set(err, SK_ERANGE, "dt", "must be a whole multiple of %g ms for model "
                              "%s (population %s), as NEST's time grid requires (got %g)",
                              m->dt_quantum_ms, m->name, ps->name, spec->dt_ms);
    }
    sk_model_defaults(m, p);
    for (uint32_t j = 0; j < ps->n_params; j++) {
        int idx = sk_model_param_index(m, ps->params[j].name);
        char rest[80];
        snprintf(rest, sizeof rest, "params.%s", ps->params[j].name ? ps->params[j].name : "?");
        if (idx < 0)
            return elem_err(err, SK_ENOENT, "populations", k, rest,
                            "is not a parameter of the model");
        p[idx] = ps->params[j].value;
    }
    int rc = sk_model_check_params(m, p, err);
    if (rc) {
        char prefix[48];
        snprintf(prefix, sizeof prefix, "populations[%u].params", k);
        sk_err_prefix(err, prefix);
        return rc;
    }
    if (ps->refractory_steps > 65535u)
        return elem_err(err, SK_ERANGE, "populations", k, "refractory_steps", "must be <= 65535");
    if (ps->refractory_steps && m->n_state == 0)
        return elem_err(err, SK_EINVAL, "populations", k, "refractory_steps",
                        "needs a model with a membrane potential");
    if (ps->refractory_steps && (m->flags & SK_MODEL_NO_REFRAC))
        return elem_err(err, SK_EINVAL, "populations", k, "refractory_steps",
                        "is not for this model: it has its own refractory period (params.t_ref)");
    return check_init(ps, m, k, err);
}

static int check_neurons(const uint32_t *ids, uint32_t n, uint32_t size, const char *what,
                         uint32_t k, sk_err_t *err)
{
    if (n && !ids)
        return elem_err(err, SK_EINVAL, what, k, "neurons", "missing list");
    for (uint32_t j = 0; j < n; j++)
        if (ids[j] >= size) {
            char msg[96];
            snprintf(msg, sizeof msg, "neuron %u is out of range (population size %u)", ids[j],
                     size);
            return elem_err(err, SK_ERANGE, what, k, "neurons", msg);
        }
    return 0;
}

static int check_rec(const sk_net_spec_t *spec, uint32_t k, sk_err_t *err)
{
    const sk_rec_spec_t *rs = &spec->recs[k];
    int p = find_pop(spec, rs->population);
    if (p < 0)
        return elem_err(err, SK_ENOENT, "recorders", k, "population", "is not a population");
    const sk_model_t *m = sk_model_find(spec->pops[p].model);
    if (rs->n_variables < 1 || !rs->variables)
        return elem_err(err, SK_EINVAL, "recorders", k, "variables", "must name >= 1 variable");
    for (uint32_t j = 0; j < rs->n_variables; j++)
        if (sk_model_state_index(m, rs->variables[j]) < 0)
            return elem_err(err, SK_ENOENT, "recorders", k, "variables",
                            "names a variable the model does not have");
    return check_neurons(rs->neurons, rs->n_neurons, spec->pops[p].size, "recorders", k, err);
}

/* ------------------------------------------------------------------------------------ */
/* Allocation                                                                            */

int sk__pop_alloc(sk__pop_t *pop, uint64_t *bytes)
{
    const sk_model_t *m = pop->model;
    size_t n = pop->n;
    for (uint32_t k = 0; k < m->n_state; k++)
        if (!(pop->s[k] = sk_alloc_aligned(n, sizeof(float))))
            return SK_ENOMEM;
    size_t ring = (size_t)pop->depth * m->n_inputs;
    pop->ring = sk_alloc_aligned(ring * n, sizeof(float));
    pop->spiked = sk_alloc_aligned(n, 1);
    pop->written = sk_calloc(pop->depth, 1); /* the ring starts zeroed */
    if (!pop->ring || !pop->spiked || !pop->written)
        return SK_ENOMEM;
    if (pop->refrac_steps && !(pop->refrac = sk_alloc_aligned(n, sizeof(uint16_t))))
        return SK_ENOMEM;
    *bytes += n * (4u * m->n_state + 4u * ring + 1u + (pop->refrac ? 2u : 0u));
    return 0;
}

/* An epoch's records, at most epoch_cap x n_neurons ids and one record's waste where the ring
 * wraps, must fit in the history ring beside each other, so that the parts' copies of one
 * epoch never land on each other (step.c, "Epochs"). */
uint32_t sk__epoch_cap(uint64_t n_neurons, uint64_t cap_ids, uint32_t cap_recs)
{
    uint64_t e = SK__EPOCH_MAX;
    if (n_neurons && e > SK__EPOCH_IDS / n_neurons)
        e = SK__EPOCH_IDS / n_neurons;
    if (n_neurons && e > cap_ids / n_neurons - 1) /* cap_ids >= n_neurons */
        e = cap_ids / n_neurons - 1;
    if (e >= cap_recs)
        e = cap_recs ? cap_recs - 1 : 0;
    return e ? (uint32_t)e : 1u;
}

int sk__net_alloc_ids(sk_net_t *net)
{
    uint32_t e = sk__epoch_cap(net->n_neurons, net->hist.cap_ids, net->hist.cap_recs);
    for (uint32_t k = 0; k < net->n_projs; k++) { /* no longer than the shortest delay */
        const sk__proj_t *p = &net->projs[k];
        uint32_t d = p->delays ? UINT32_MAX : p->delay;
        for (uint64_t j = 0; p->delays && j < p->n_syn; j++)
            d = p->delays[j] < d ? p->delays[j] : d;
        e = d < e ? d : e;
    }
    uint64_t bytes = 0;
    net->epoch_cap = e;
    for (uint32_t k = 0; k < net->n_pops; k++)
        bytes += (uint64_t)net->pops[k].n * 4u * e + (net->pops[k].n / 64 + 1) * e * sizeof(sk__seg_t);
    if (net->bytes + bytes > net->limits.max_bytes)
        return SK_ELIMIT;
    for (uint32_t k = 0; k < net->n_pops; k++) {
        sk__pop_t *pop = &net->pops[k];
        pop->ids = sk_alloc_aligned((size_t)pop->n * e, sizeof(uint32_t));
        pop->seg = sk_calloc((size_t)(pop->n / 64 + 1) * e, sizeof(sk__seg_t));
        if (!pop->ids || !pop->seg)
            return SK_ENOMEM;
    }
    net->bytes += bytes;
    return 0;
}

int sk__hist_alloc(sk__hist_t *h, uint32_t n_pops)
{
    h->ids = sk_alloc_aligned(h->cap_ids, sizeof(uint32_t));
    h->rec_step = sk_calloc(h->cap_recs, sizeof(uint64_t));
    h->rec_pos = sk_calloc(h->cap_recs, sizeof(uint64_t));
    h->rec_count = sk_calloc((size_t)h->cap_recs * n_pops, sizeof(uint32_t));
    return (h->ids && h->rec_step && h->rec_pos && h->rec_count) ? 0 : SK_ENOMEM;
}

int sk__rec_alloc(sk__rec_t *r)
{
    r->steps = sk_calloc(r->cap, sizeof(uint64_t));
    r->buf = sk_alloc_aligned(r->cap * r->n_vars, (size_t)r->n_neurons * sizeof(float));
    return (r->steps && r->buf) ? 0 : SK_ENOMEM;
}

static uint64_t rec_cap(const sk_limits_t *l, uint64_t width)
{
    uint64_t cap = l->max_record_values / (width ? width : 1);
    return cap ? cap : 1;
}

static uint64_t hist_ids(const sk_limits_t *l, uint64_t n_neurons)
{
    return l->spike_history > n_neurons ? l->spike_history : n_neurons;
}

/* ------------------------------------------------------------------------------------ */
/* Create                                                                                */

typedef struct plan {
    double p[SK_MODEL_MAX_PARAMS];
    uint32_t depth;
} plan_t;

/* Conductances are not negative: on a sign-split model (coba_lif) a weight or amplitude
 * sent to an explicit channel (g_e or g_i) must be >= 0; without a channel the sign split
 * sends a negative value to the inhibitory conductance as |w|, which is physical. These
 * return the offending field, or NULL when none can be negative. */
static const char *negative_proj_weight(const sk_proj_spec_t *ps)
{
    if (ps->rule.kind == SK_RULE_EXPLICIT && ps->rule.weight) {
        for (uint64_t j = 0; j < ps->rule.n; j++)
            if (ps->rule.weight[j] < 0.0f)
                return "rule.weights";
        return NULL;
    }
    const sk_dist_t *w = &ps->weight;
    if (w->sign > 0)
        return NULL; /* drawn values clipped to >= 0 */
    if (w->sign < 0 || w->a < 0.0f || (w->kind == SK_DIST_NORMAL && w->b > 0.0f))
        return "weight";
    return NULL;
}

static const char *negative_stim_input(const sk_stim_spec_t *s, uint32_t size)
{
    if (s->kind == SK_STIM_POISSON)
        return s->weight < 0.0f ? "weight" : NULL;
    if (s->kind == SK_STIM_CURRENT && s->amplitude < 0.0f)
        return "amplitude";
    if (s->kind == SK_STIM_CURRENT || s->kind == SK_STIM_STEP_CURRENT) {
        uint32_t n = s->kind == SK_STIM_STEP_CURRENT ? s->n_times : 0;
        if (s->kind == SK_STIM_CURRENT && s->amplitudes)
            n = s->neurons ? s->n_neurons : size;
        for (uint32_t k = 0; s->amplitudes && k < n; k++)
            if (s->amplitudes[k] < 0.0f)
                return "amplitudes";
    }
    return NULL;
}

/* Validates everything and estimates sizes; fills plan[k] for each population. */
static int validate(const sk_net_spec_t *spec, const sk_limits_t *lim, plan_t *plan,
                    uint64_t *bytes_out, sk_err_t *err)
{
    if (!(spec->dt_ms > 0.0 && spec->dt_ms <= 1000.0))
        return sk_err_set(err, SK_ERANGE, "dt", "must be in (0, 1000] ms");
    if (spec->n_pops < 1 || !spec->pops)
        return sk_err_set(err, SK_EINVAL, "populations", "needs at least one population");
    uint64_t neurons = 0, bytes = 0, synapses = 0;
    for (uint32_t k = 0; k < spec->n_pops; k++) {
        int rc = check_pop(spec, k, plan[k].p, err);
        if (rc)
            return rc;
        plan[k].depth = 1;
        neurons += spec->pops[k].size;
        if (neurons > lim->max_neurons)
            return elem_err(err, SK_ELIMIT, "populations", k, "size",
                            "the network exceeds the neuron limit");
    }
    for (uint32_t k = 0; k < spec->n_projs; k++) {
        const sk_proj_spec_t *ps = &spec->projs[k];
        int src = find_pop(spec, ps->source), dst = find_pop(spec, ps->target);
        if (src < 0)
            return elem_err(err, SK_ENOENT, "projections", k, "source", "is not a population");
        if (dst < 0)
            return elem_err(err, SK_ENOENT, "projections", k, "target", "is not a population");
        const sk_model_t *m = sk_model_find(spec->pops[dst].model);
        if (m->n_inputs == 0)
            return elem_err(err, SK_EINVAL, "projections", k, "target",
                            "the target's model takes no input");
        if (ps->channel && sk_model_input_index(m, ps->channel) < 0)
            return elem_err(err, SK_ENOENT, "projections", k, "channel",
                            "is not an input channel of the target's model");
        int src_rc = sk__syn_check(ps, m, err);
        if (src_rc) {
            char prefix[32];
            snprintf(prefix, sizeof prefix, "projections[%u]", k);
            sk_err_prefix(err, prefix);
            return src_rc;
        }
        const char *neg = ps->channel && (m->flags & SK_MODEL_SIGN_SPLIT)
                              ? negative_proj_weight(ps) : NULL;
        if (neg)
            return elem_err(err, SK_ERANGE, "projections", k, neg,
                            "a conductance channel takes no negative weight (without "
                            "\"channel\", a negative weight feeds the inhibitory conductance)");
        uint32_t delay = ps->delay_steps ? ps->delay_steps : 1, delay_lo = 1;
        if (delay > lim->max_delay)
            return elem_err(err, SK_ELIMIT, "projections", k, "delay_steps",
                            "exceeds the delay limit");
        uint64_t n_syn = 0, b = 0;
        int rc = sk__proj_estimate(ps, spec->pops[src].size, spec->pops[dst].size, src == dst,
                                   &n_syn, &b, err);
        if (rc == 0)
            rc = sk_proj_delay_range(ps, spec->dt_ms, lim->max_delay, &delay_lo, &delay, err);
        if (rc) {
            char prefix[32];
            snprintf(prefix, sizeof prefix, "projections[%u]", k);
            sk_err_prefix(err, prefix);
            return rc;
        }
        uint32_t maxd = delay;
        if (ps->rule.kind == SK_RULE_EXPLICIT && ps->rule.delay)
            for (uint64_t j = 0; j < ps->rule.n; j++) {
                if (ps->rule.delay[j] < 1 || ps->rule.delay[j] > lim->max_delay)
                    return elem_err(err, SK_ERANGE, "projections", k, "rule.delays",
                                    "every delay must be in [1, the delay limit]");
                if (ps->rule.delay[j] > maxd)
                    maxd = ps->rule.delay[j];
            }
        if (maxd + 1 > plan[dst].depth)
            plan[dst].depth = maxd + 1;
        synapses += n_syn;
        bytes += b;
        if (synapses > lim->max_synapses)
            return elem_err(err, SK_ELIMIT, "projections", k, "rule",
                            "the network exceeds the synapse limit");
    }
    for (uint32_t k = 0; k < spec->n_stims; k++) {
        const sk_stim_spec_t *ss = &spec->stims[k];
        int p = find_pop(spec, ss->target);
        if (p < 0)
            return elem_err(err, SK_ENOENT, "stimuli", k, "target", "is not a population");
        const sk_model_t *tm = sk_model_find(spec->pops[p].model);
        const char *neg = ss->channel && (tm->flags & SK_MODEL_SIGN_SPLIT)
                              ? negative_stim_input(ss, spec->pops[p].size) : NULL;
        if (neg)
            return elem_err(err, SK_ERANGE, "stimuli", k, neg,
                            "a conductance channel takes no negative input (without "
                            "\"channel\", a negative value feeds the inhibitory conductance)");
        int rc = sk__stim_check(ss, spec->pops[p].size, tm, err);
        if (rc) {
            char prefix[32];
            snprintf(prefix, sizeof prefix, "stimuli[%u]", k);
            sk_err_prefix(err, prefix);
            return rc;
        }
    }
    for (uint32_t k = 0; k < spec->n_recs; k++) {
        int rc = check_rec(spec, k, err);
        if (rc)
            return rc;
    }
    /* memory estimate of everything but the projections (already in bytes) */
    for (uint32_t k = 0; k < spec->n_pops; k++) {
        const sk_model_t *m = sk_model_find(spec->pops[k].model);
        bytes += (uint64_t)spec->pops[k].size *
                 (4u * m->n_state + 4u * (uint64_t)plan[k].depth * m->n_inputs + 9u);
    }
    /* the spike ids beyond the 4 bytes per neuron above, and the segments (sk__net_alloc_ids) */
    const uint64_t epoch = sk__epoch_cap(neurons, hist_ids(lim, neurons), lim->history_steps);
    bytes += neurons * 4u * (epoch - 1u) + (neurons / 64u + spec->n_pops) * epoch * sizeof(sk__seg_t);
    bytes += hist_ids(lim, neurons) * 4u + (uint64_t)lim->history_steps * (16u + 4u * spec->n_pops);
    for (uint32_t k = 0; k < spec->n_recs; k++) {
        const sk_rec_spec_t *rs = &spec->recs[k];
        int p = find_pop(spec, rs->population);
        uint64_t w = (uint64_t)rs->n_variables * (rs->neurons ? rs->n_neurons : spec->pops[p].size);
        uint64_t cap = rec_cap(lim, w);
        bytes += cap * (8u + 4u * w);
    }
    if (bytes > lim->max_bytes)
        return sk_err_set(err, SK_ELIMIT, "", "the network needs about %.3g GB, above the limit "
                          "of %.3g GB", (double)bytes / 1e9, (double)lim->max_bytes / 1e9);
    if (bytes_out)
        *bytes_out = bytes;
    return 0;
}

static int build_pops(sk_net_t *net, const sk_net_spec_t *spec, const plan_t *plan)
{
    uint32_t offset = 0;
    for (uint32_t k = 0; k < spec->n_pops; k++) {
        const sk_pop_spec_t *ps = &spec->pops[k];
        sk__pop_t *pop = &net->pops[k];
        snprintf(pop->name, sizeof pop->name, "%s", ps->name);
        pop->model = sk_model_find(ps->model);
        pop->n = ps->size;
        pop->offset = offset;
        pop->index = k;
        offset += ps->size;
        memcpy(pop->p, plan[k].p, sizeof pop->p);
        pop->dt = sk_model_dt(pop->model, net->dt_ms);
        pop->model->derive(pop->p, pop->dt, pop->d);
        pop->depth = plan[k].depth;
        pop->refrac_steps = (uint16_t)ps->refractory_steps;
        int rc = sk__pop_alloc(pop, &net->bytes);
        if (rc)
            return rc;
        if (ps->n_init && !(pop->init = sk_calloc(ps->n_init, sizeof *pop->init)))
            return SK_ENOMEM;
        pop->n_init = ps->n_init;
        for (uint32_t j = 0; j < ps->n_init; j++) {
            const sk_init_t *in = &ps->init[j];
            sk__init_t *dst = &pop->init[j];
            dst->var = (uint32_t)sk_model_state_index(pop->model, in->var);
            dst->kind = in->kind;
            dst->a = in->a;
            dst->b = in->b;
            if (in->kind == SK_INIT_VALUES) {
                if (!(dst->values = sk_malloc((size_t)pop->n * sizeof(float))))
                    return SK_ENOMEM;
                memcpy(dst->values, in->values, (size_t)pop->n * sizeof(float));
            }
        }
        sk__pop_apply_init(net, pop);
    }
    net->n_neurons = offset;
    return 0;
}

static int build_recs(sk_net_t *net, const sk_net_spec_t *spec)
{
    for (uint32_t k = 0; k < spec->n_recs; k++) {
        const sk_rec_spec_t *rs = &spec->recs[k];
        sk__rec_t *r = &net->recs[k];
        r->pop = (uint32_t)find_pop(spec, rs->population);
        const sk__pop_t *pop = &net->pops[r->pop];
        r->n_vars = rs->n_variables;
        r->n_neurons = rs->neurons ? rs->n_neurons : pop->n;
        r->every = rs->every ? rs->every : 1;
        r->vars = sk_calloc(r->n_vars, sizeof(uint32_t));
        r->neurons = sk_calloc(r->n_neurons, sizeof(uint32_t));
        if (!r->vars || !r->neurons)
            return SK_ENOMEM;
        for (uint32_t j = 0; j < r->n_vars; j++)
            r->vars[j] = (uint32_t)sk_model_state_index(pop->model, rs->variables[j]);
        for (uint32_t j = 0; j < r->n_neurons; j++)
            r->neurons[j] = rs->neurons ? rs->neurons[j] : j;
        r->cap = rec_cap(&net->limits, (uint64_t)r->n_vars * r->n_neurons);
        if (sk__rec_alloc(r))
            return SK_ENOMEM;
        net->bytes += r->cap * (8u + 4u * (uint64_t)r->n_vars * r->n_neurons);
    }
    return 0;
}

int sk_net_estimate(const sk_net_spec_t *spec, uint64_t *bytes, sk_err_t *err)
{
    if (!spec || !bytes)
        return sk_err_set(err, SK_EINVAL, "", "missing description");
    sk_limits_t lim;
    sk__limits_resolve(&spec->limits, &lim);
    plan_t *plan = sk_calloc(spec->n_pops ? spec->n_pops : 1, sizeof *plan);
    if (!plan)
        return sk_err_set(err, SK_ENOMEM, "", "out of memory");
    int rc = validate(spec, &lim, plan, bytes, err);
    sk_free(plan);
    return rc;
}

int sk_net_create(const sk_net_spec_t *spec, sk_net_t **out, sk_err_t *err)
{
    if (!spec || !out)
        return sk_err_set(err, SK_EINVAL, "", "missing description");
    sk_limits_t lim;
    sk__limits_resolve(&spec->limits, &lim);
    plan_t *plan = sk_calloc(spec->n_pops ? spec->n_pops : 1, sizeof *plan);
    if (!plan)
        return sk_err_set(err, SK_ENOMEM, "", "out of memory");
    int rc = validate(spec, &lim, plan, NULL, err);
    if (rc) {
        sk_free(plan);
        return rc;
    }
    sk_net_t *net = sk_alloc_aligned(1, sizeof *net);
    if (!net) {
        sk_free(plan);
        return sk_err_set(err, SK_ENOMEM, "", "out of memory");
    }
    net->dt_ms = spec->dt_ms;
    net->seed = spec->seed;
    net->limits = lim;
    net->par.n_threads = 1;
    net->pops = sk_alloc_aligned(spec->n_pops, sizeof *net->pops);
    net->projs = sk_calloc(spec->n_projs ? spec->n_projs : 1, sizeof *net->projs);
    net->stims = sk_calloc(spec->n_stims ? spec->n_stims : 1, sizeof *net->stims);
    net->recs = sk_calloc(spec->n_recs ? spec->n_recs : 1, sizeof *net->recs);
    if (!net->pops || !net->projs || !net->stims || !net->recs) {
        rc = SK_ENOMEM;
        goto fail;
    }
    net->n_pops = spec->n_pops;
    if ((rc = build_pops(net, spec, plan)))
        goto fail;
    /* each element is counted before it is built, so a failure frees its partial state */
    for (uint32_t k = 0; k < spec->n_projs; k++) {
        net->n_projs = k + 1;
        if ((rc = sk__proj_build(net, &spec->projs[k], k, &net->projs[k], err)) ||
            (rc = sk__syn_build(net, &spec->projs[k], &net->projs[k], err))) {
            char prefix[32];
            snprintf(prefix, sizeof prefix, "projections[%u]", k);
            sk_err_prefix(err, prefix);
            goto fail_detail;
        }
        net->n_synapses += net->projs[k].n_syn;
        net->bytes += sk__proj_bytes(net, &net->projs[k]);
    }
    for (uint32_t k = 0; k < spec->n_stims; k++) {
        net->n_stims = k + 1;
        if ((rc = sk__stim_build(net, &spec->stims[k], &net->stims[k], err))) {
            char prefix[32];
            snprintf(prefix, sizeof prefix, "stimuli[%u]", k);
            sk_err_prefix(err, prefix);
            goto fail_detail;
        }
    }
    net->n_recs = spec->n_recs;
    if ((rc = build_recs(net, spec)))
        goto fail;
    net->hist.cap_ids = hist_ids(&lim, net->n_neurons);
    net->hist.cap_recs = lim.history_steps;
    if ((rc = sk__hist_alloc(&net->hist, net->n_pops)))
        goto fail;
    net->bytes += net->hist.cap_ids * 4u + (uint64_t)net->hist.cap_recs * (16u + 4u * net->n_pops);
    if ((rc = sk__syn_alloc_traces(net)) || (rc = sk__net_alloc_ids(net)))
        goto fail;
    sk_free(plan);
    *out = net;
    return 0;
fail:
    sk_err_set(err, rc, "", "%s", sk_strerror(rc));
fail_detail:
    sk_free(plan);
    sk__net_free(net);
    return rc;
}

/* ------------------------------------------------------------------------------------ */
/* Lifetime                                                                              */

void sk__net_free(sk_net_t *net)
{
    if (!net)
        return;
    for (uint32_t k = 0; net->pops && k < net->n_pops; k++) {
        sk__pop_t *pop = &net->pops[k];
        for (uint32_t j = 0; j < SK_MODEL_MAX_STATE; j++)
            sk_free_aligned(pop->s[j]);
        sk_free_aligned(pop->ring);
        sk_free_aligned(pop->spiked);
        sk_free_aligned(pop->ids);
        sk_free(pop->seg);
        sk_free(pop->written);
        sk_free_aligned(pop->refrac);
        sk__syn_free_traces(pop);
        for (uint32_t j = 0; pop->init && j < pop->n_init; j++)
            sk_free(pop->init[j].values);
        sk_free(pop->init);
    }
    for (uint32_t k = 0; net->projs && k < net->n_projs; k++) {
        sk__syn_free(&net->projs[k]);
        sk__proj_free(&net->projs[k]);
    }
    for (uint32_t k = 0; net->stims && k < net->n_stims; k++)
        sk__stim_free(&net->stims[k]);
    for (uint32_t k = 0; net->recs && k < net->n_recs; k++)
        sk__rec_free(&net->recs[k]);
    sk__hist_free(&net->hist);
    sk__queue_free(&net->queue);
    sk__wrec_free_all(net);
    sk_free_aligned(net->pops);
    sk_free(net->projs);
    sk_free(net->stims);
    sk_free(net->recs);
    sk_free_aligned(net);
}

void sk_net_destroy(sk_net_t *net)
{
    sk__net_free(net);
}

void sk__pop_apply_init(const sk_net_t *net, sk__pop_t *pop)
{
    pop->model->init(pop->p, pop->s, pop->n);
    for (uint32_t j = 0; j < pop->n_init; j++) {
        const sk__init_t *in = &pop->init[j];
        float *col = pop->s[in->var];
        uint32_t stream = sk__stream(SK__RNG_INIT, pop->index, in->var);
        for (uint32_t i = 0; i < pop->n; i++) {
            switch (in->kind) {
            case SK_INIT_CONST:
                col[i] = in->a;
                break;
            case SK_INIT_UNIFORM:
                col[i] = (float)((double)in->a + ((double)in->b - (double)in->a) *
                                                     sk_rng_uniform(net->seed, stream, 0, i));
                break;
            case SK_INIT_NORMAL:
                col[i] = (float)((double)in->a +
                                 (double)in->b * sk_rng_normal(net->seed, stream, 0, i));
                break;
            default:
                col[i] = in->values[i];
                break;
            }
        }
    }
    if (pop->refrac)
        memset(pop->refrac, 0, (size_t)pop->n * sizeof(uint16_t));
}

void sk_net_reset(sk_net_t *net)
{
    for (uint32_t k = 0; k < net->n_pops; k++) {
        sk__pop_t *pop = &net->pops[k];
        sk__pop_apply_init(net, pop);
        memset(pop->ring, 0, (size_t)pop->depth * pop->model->n_inputs * pop->n * sizeof(float));
        memset(pop->written, 0, pop->depth);
        memset(pop->spiked, 0, pop->n);
        pop->n_ids = 0;
        pop->forced = 0;
        pop->spikes_total = 0;
    }
    for (uint32_t k = 0; k < net->n_recs; k++)
        sk__rec_clear(&net->recs[k]);
    sk__syn_reset(net); /* the built weights, fresh synapse state, empty traces */
    sk__wrec_clear_all(net);
    sk__hist_clear(&net->hist);
    net->queue.head = net->queue.n = 0;
    net->step = 0;
    net->spikes_total = 0;
}

void sk_net_set_parallel(sk_net_t *net, const sk_parallel_t *par)
{
    if (!par || !par->run || par->n_threads <= 1) {
        memset(&net->par, 0, sizeof net->par);
        net->par.n_threads = 1;
        return;
    }
    if (par->n_threads != net->par.n_threads || par->clock != net->par.clock ||
        par->clock_arg != net->par.clock_arg) /* time both again (no clock: split) */
        memset(&net->tune, 0, sizeof net->tune);
    net->par = *par;
}

/* ------------------------------------------------------------------------------------ */
/* Inspection                                                                            */

void sk_net_info(const sk_net_t *net, sk_net_info_t *out)
{
    out->step = net->step;
    out->dt_ms = net->dt_ms;
    out->seed = net->seed;
    out->n_pops = net->n_pops;
    out->n_projs = net->n_projs;
    out->n_stims = net->n_stims;
    out->n_recs = net->n_recs;
    out->n_neurons = net->n_neurons;
    out->n_synapses = net->n_synapses;
    out->bytes = net->bytes;
    out->spikes_total = net->spikes_total;
    out->pending = net->queue.n - net->queue.head;
}

int sk_net_pop_info(const sk_net_t *net, uint32_t pop, sk_pop_info_t *out)
{
    if (pop >= net->n_pops)
        return SK_ENOENT;
    const sk__pop_t *p = &net->pops[pop];
    out->name = p->name;
    out->model = p->model;
    out->size = p->n;
    out->offset = p->offset;
    out->params = p->p;
    out->refractory_steps = p->refrac_steps;
    out->spikes_total = p->spikes_total;
    return 0;
}

int sk_net_stim_info(const sk_net_t *net, uint32_t stim, sk_stim_info_t *out)
{
    if (stim >= net->n_stims)
        return SK_ENOENT;
    const sk__stim_t *s = &net->stims[stim];
    out->kind = (sk_stim_kind_t)s->kind;
    out->target = s->pop;
    out->channel = s->channel;
    out->n_neurons = s->neurons ? s->n_neurons : 0;
    out->rate_hz = s->rate_hz;
    out->n_sources = s->n_sources;
    out->weight = s->weight;
    out->amplitude = s->amplitude;
    out->start = s->start;
    out->stop = s->stop;
    out->n_times = s->n_times;
    return 0;
}

int sk_net_proj_info(const sk_net_t *net, uint32_t proj, sk_proj_info_t *out)
{
    if (proj >= net->n_projs)
        return SK_ENOENT;
    const sk__proj_t *p = &net->projs[proj];
    out->source = p->src;
    out->target = p->dst;
    out->n_synapses = p->n_syn;
    out->max_delay = p->max_delay;
    out->dense = p->dense;
    out->channel = p->channel;
    return 0;
}

int sk_net_pop_index(const sk_net_t *net, const char *name)
{
    if (!name)
        return SK_ENOENT;
    for (uint32_t k = 0; k < net->n_pops; k++)
        if (strcmp(net->pops[k].name, name) == 0)
            return (int)k;
    return SK_ENOENT;
}

int sk_net_state(const sk_net_t *net, uint32_t pop, const char *var, const float **values)
{
    if (pop >= net->n_pops)
        return SK_ENOENT;
    int k = sk_model_state_index(net->pops[pop].model, var);
    if (k < 0)
        return SK_ENOENT;
    *values = net->pops[pop].s[k];
    return 0;
}

int sk_net_set_state(sk_net_t *net, uint32_t pop, const char *var, uint32_t first,
                     const float *values, uint32_t n, sk_err_t *err)
{
    if (pop >= net->n_pops)
        return sk_err_set(err, SK_ENOENT, "population", "no such population");
    sk__pop_t *p = &net->pops[pop];
    int k = sk_model_state_index(p->model, var);
    if (k < 0)
        return sk_err_set(err, SK_ENOENT, "variable", "is not a state variable of the model");
    if (first > p->n || n > p->n - first)
        return sk_err_set(err, SK_ERANGE, "neurons", "range exceeds the population size %u",
                          p->n);
    for (uint32_t i = 0; i < n; i++)
        if (!isfinite(values[i]))
            return sk_err_set(err, SK_ERANGE, "values", "value %u is not finite", i);
    memcpy(p->s[k] + first, values, (size_t)n * sizeof(float));
    const int lo = sk_model_state_lo(p->model, (uint32_t)k); /* a float64 variable's low part */
    if (lo >= 0)
        memset(p->s[lo] + first, 0, (size_t)n * sizeof(float));
    return 0;
}

/* ------------------------------------------------------------------------------------ */
/* Changes between steps                                                                 */

int sk_net_set_params(sk_net_t *net, uint32_t pop, const sk_param_t *params, uint32_t n,
                      sk_err_t *err)
{
    if (pop >= net->n_pops)
        return sk_err_set(err, SK_ENOENT, "population", "no such population");
    sk__pop_t *p = &net->pops[pop];
    double copy[SK_MODEL_MAX_PARAMS];
    memcpy(copy, p->p, sizeof copy);
    for (uint32_t j = 0; j < n; j++) {
        int idx = sk_model_param_index(p->model, params[j].name);
        if (idx < 0)
            return sk_err_set(err, SK_ENOENT, params[j].name ? params[j].name : "",
                              "is not a parameter of model %s", p->model->name);
        copy[idx] = params[j].value;
    }
    int rc = sk_model_check_params(p->model, copy, err);
    if (rc == 0)
        rc = sk__syn_check_target(net, pop, copy, err); /* tau_psc != tau_rec, ... */
    if (rc)
        return rc;
    memcpy(p->p, copy, sizeof copy);
    p->model->derive(p->p, p->dt, p->d);
    return 0;
}

int sk_net_set_poisson_rate(sk_net_t *net, uint32_t stim, double rate_hz, sk_err_t *err)
{
    if (stim >= net->n_stims)
        return sk_err_set(err, SK_ENOENT, "stimulus", "no such stimulus");
    sk__stim_t *s = &net->stims[stim];
    if (s->kind != SK_STIM_POISSON)
        return sk_err_set(err, SK_EINVAL, "stimulus", "is not a Poisson stimulus");
    if (!(rate_hz >= 0.0 && rate_hz <= 1e6))
        return sk_err_set(err, SK_ERANGE, "rate_hz", "must be in [0, 1e6] Hz");
    sk__stim_set_rate(s, rate_hz, net->dt_ms);
    return 0;
}
