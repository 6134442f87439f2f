/* decode_stim.c: one element of network.stimuli (poisson, current, step_current,
 * spike_times) and one element of network.recorders. Each stimulus kind has its own set of
 * allowed fields; neuron ids are checked against the target's size. */
#include <string.h>

#include "internal.h"

#define MAX_TIME ((uint64_t)INT64_MAX)

static const char *const g_kinds[] = {"poisson", "current", "step_current", "spike_times",
                                      NULL};
static const char *const g_stim_keys[][10] = {
    {"kind", "target", "rate_hz", "weight", "n_sources", "neurons", "channel", NULL},
    {"kind", "target", "amplitude", "amplitudes", "start_step", "stop_step", "neurons", "channel",
     NULL},
    {"kind", "target", "times", "amplitudes", "neurons", "channel", NULL},
    {"kind", "target", "times", "neurons", NULL},
};

/* A list of steps: strictly increasing when `increasing`. */
static int get_times(sk__dec_t *d, const json_t *obj, int increasing, uint64_t **out, size_t *n)
{
    const json_t *v;
    int rc = sk__member(d, obj, "times", 1, &v);
    if (rc)
        return rc;
    size_t mark = sk__path_key(&d->path, "times");
    if ((rc = sk__as_array(d, v, UINT32_MAX, n)) != 0)
        return rc;
    if (*n == 0)
        return sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD, "must not be empty");
    uint64_t *t = sk__arena_alloc(d->arena, *n, sizeof *t);
    if (!t)
        return sk__oom(d);
    for (size_t k = 0; k < *n; k++) {
        size_t m = sk__path_index(&d->path, k);
        if ((rc = sk__as_u64(d, json_array_get(v, k), 0, MAX_TIME, &t[k])) != 0)
            return rc;
        if (increasing && k > 0 && t[k] <= t[k - 1])
            return sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD,
                            "times must be strictly increasing (%llu after %llu)",
                            (unsigned long long)t[k], (unsigned long long)t[k - 1]);
        sk__path_pop(&d->path, m);
    }
    *out = t;
    sk__path_pop(&d->path, mark);
    return 0;
}

static int decode_poisson(sk__dec_t *d, const json_t *v, sk_stim_spec_t *out)
{
    out->n_sources = 1;
    out->weight = 1.0f;
    int rc = sk__get_double(d, v, "rate_hz", 1, 0.0, 1e6, &out->rate_hz);
    if (rc == 0)
        rc = sk__get_float(d, v, "weight", 0, &out->weight);
    if (rc == 0)
        rc = sk__get_u32(d, v, "n_sources", 0, 1, 1000000, &out->n_sources);
    return rc;
}

/* amplitude (every neuron) or amplitudes (one per target neuron), not both. */
static int decode_amplitude(sk__dec_t *d, const json_t *v, size_t n_target, sk_stim_spec_t *out)
{
    const json_t *many = json_object_get(v, "amplitudes");
    if (!many)
        return sk__get_float(d, v, "amplitude", 1, &out->amplitude);
    if (json_object_get(v, "amplitude")) {
        size_t mark = sk__path_key(&d->path, "amplitudes");
        int rc = sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD,
                          "give amplitude or amplitudes, not both");
        sk__path_pop(&d->path, mark);
        return rc;
    }
    float *x;
    size_t n;
    int rc = sk__get_floats(d, v, "amplitudes", 1, n_target, &x, &n);
    if (rc == 0)
        out->amplitudes = x;
    return rc;
}

static int decode_current(sk__dec_t *d, const json_t *v, size_t n_target, sk_stim_spec_t *out)
{
    int rc = decode_amplitude(d, v, n_target, out);
    if (rc == 0)
        rc = sk__get_u64(d, v, "start_step", 0, 0, MAX_TIME, &out->start);
    if (rc == 0)
        rc = sk__get_u64(d, v, "stop_step", 0, 0, MAX_TIME, &out->stop);
    if (rc == 0 && out->stop != 0 && out->stop <= out->start) {
        size_t mark = sk__path_key(&d->path, "stop_step");
        rc = sk__fail(d, SK_ERANGE, SK_PROTO_INVALID_FIELD,
                      "must be after start_step (%llu) or 0 for never (got %llu)",
                      (unsigned long long)out->start, (unsigned long long)out->stop);
        sk__path_pop(&d->path, mark);
    }
    return rc;
}

static int decode_kind(sk__dec_t *d, const json_t *v, const sk_pop_spec_t *tgt, int kind,
                       sk_stim_spec_t *out)
{
    uint64_t *times;
    float *amps;
    uint32_t *ids;
    size_t n, m;
    int rc;
    switch (kind) {
    case SK_STIM_POISSON:
        return decode_poisson(d, v, out);
    case SK_STIM_CURRENT:
        return decode_current(d, v, out->neurons ? out->n_neurons : tgt->size, out);
    case SK_STIM_STEP_CURRENT:
        rc = get_times(d, v, 1, &times, &n);
        if (rc == 0)
            rc = sk__get_floats(d, v, "amplitudes", 1, n, &amps, &m);
        if (rc == 0) {
            out->times = times;
            out->amplitudes = amps;
            out->n_times = (uint32_t)n;
        }
        return rc;
    default:
        rc = get_times(d, v, 0, &times, &n);
        if (rc == 0)
            rc = sk__get_ids(d, v, "neurons", 1, tgt->size, 0, n, &ids, &m);
        if (rc == 0) {
            out->times = times;
            out->spike_neurons = ids;
            out->n_times = (uint32_t)n;
        }
        return rc;
    }
}

static int decode_subset(sk__dec_t *d, const json_t *v, const sk_pop_spec_t *tgt,
                         sk_stim_spec_t *out);

int sk__decode_stim(sk__dec_t *d, const json_t *v, const sk_net_spec_t *net, sk_stim_spec_t *out)
{
    int kind;
    uint32_t t;
    int rc = sk__want_object(d, v);
    if (rc == 0)
        rc = sk__get_enum(d, v, "kind", 1, g_kinds, &kind);
    if (rc == 0)
        rc = sk__check_keys(d, v, g_stim_keys[kind]);
    if (rc == 0)
        rc = sk__get_pop_ref(d, v, "target", net, &t);
    if (rc)
        return rc;
    out->kind = (sk_stim_kind_t)kind;
    out->target = net->pops[t].name;
    const sk_pop_spec_t *tgt = &net->pops[t];
    if (kind != SK_STIM_SPIKE_TIMES && (rc = decode_subset(d, v, tgt, out)) != 0)
        return rc;
    return decode_kind(d, v, tgt, kind, out);
}

/* neurons (a subset, no repeats) and channel of the stimuli that feed input. */
static int decode_subset(sk__dec_t *d, const json_t *v, const sk_pop_spec_t *tgt,
                         sk_stim_spec_t *out)
{
    const sk_model_t *m = sk_model_find(tgt->model);
    if (m->n_inputs == 0) {
        size_t mark = sk__path_key(&d->path, "target");
        int rc = sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD,
                          "model %s takes no input (use a spike_times stimulus)", m->name);
        sk__path_pop(&d->path, mark);
        return rc;
    }
    uint32_t *ids = NULL;
    size_t n = 0;
    int rc = sk__get_ids(d, v, "neurons", 0, tgt->size, 1, SIZE_MAX, &ids, &n);
    if (rc == 0 && ids && n == 0) {
        size_t mark = sk__path_key(&d->path, "neurons");
        rc = sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD,
                      "must not be empty (leave it out for every neuron)");
        sk__path_pop(&d->path, mark);
    }
    if (rc == 0)
        rc = sk__get_channel(d, v, m, &out->channel);
    out->neurons = ids;
    out->n_neurons = (uint32_t)n;
    return rc;
}

static const char *const g_rec_keys[] = {"population", "variables", "neurons", "every", NULL};

static int decode_variables(sk__dec_t *d, const json_t *v, const sk_model_t *m, sk_rec_spec_t *out)
{
    const json_t *a;
    size_t n;
    int rc = sk__member(d, v, "variables", 1, &a);
    if (rc)
        return rc;
    size_t mark = sk__path_key(&d->path, "variables");
    if ((rc = sk__as_array(d, a, UINT32_MAX, &n)) != 0)
        return rc;
    if (n == 0)
        return sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD, "must name at least one variable");
    const char **names = sk__arena_alloc(d->arena, n, sizeof *names);
    if (!names)
        return sk__oom(d);
    for (size_t k = 0; k < n; k++) {
        const char *s;
        size_t m2 = sk__path_index(&d->path, k);
        if ((rc = sk__as_string(d, json_array_get(a, k), SK_PROTO_NAME_MAX, &s)) != 0)
            return rc;
        int idx = sk_model_state_index(m, s);
        if (idx < 0) {
            char list[160];
            sk__join_fields(list, sizeof list, m->state, m->n_state);
            return sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD,
                            "\"%s\" is not a state variable of model %s (state: %s)", s, m->name,
                            list);
        }
        for (size_t j = 0; j < k; j++)
            if (strcmp(names[j], s) == 0)
                return sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD, "\"%s\" appears twice", s);
        names[k] = m->state[idx].name;
        sk__path_pop(&d->path, m2);
    }
    out->variables = names;
    out->n_variables = (uint32_t)n;
    sk__path_pop(&d->path, mark);
    return 0;
}

int sk__decode_rec(sk__dec_t *d, const json_t *v, const sk_net_spec_t *net, sk_rec_spec_t *out)
{
    uint32_t p;
    uint32_t *ids = NULL;
    size_t n = 0;
    int rc = sk__want_object(d, v);
    if (rc == 0)
        rc = sk__check_keys(d, v, g_rec_keys);
    if (rc == 0)
        rc = sk__get_pop_ref(d, v, "population", net, &p);
    if (rc)
        return rc;
    const sk_pop_spec_t *pop = &net->pops[p];
    out->population = pop->name;
    out->every = 1;
    if ((rc = decode_variables(d, v, sk_model_find(pop->model), out)) != 0)
        return rc;
    if ((rc = sk__get_ids(d, v, "neurons", 0, pop->size, 1, SIZE_MAX, &ids, &n)) != 0)
        return rc;
    if (ids && n == 0) {
        size_t mark = sk__path_key(&d->path, "neurons");
        rc = sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD,
                      "must not be empty (leave it out for every neuron)");
        sk__path_pop(&d->path, mark);
        return rc;
    }
    out->neurons = ids;
    out->n_neurons = (uint32_t)n;
    if ((rc = sk__get_u32(d, v, "every", 0, 1, UINT32_MAX, &out->every)) != 0)
        return rc;
    uint64_t per_sample, max = net->limits.max_record_values ? net->limits.max_record_values
                                                             : SK__CORE_MAX_RECORD_VALUES;
    uint64_t cnt = ids ? n : pop->size;
    if (__builtin_mul_overflow((uint64_t)out->n_variables, cnt, &per_sample) || per_sample > max)
        return sk__fail(d, SK_ELIMIT, SK_PROTO_LIMIT_EXCEEDED,
                        "one sample holds %u x %llu values; the limit is %llu", out->n_variables,
                        (unsigned long long)cnt, (unsigned long long)max);
    return 0;
}
