/* decode_inputs.c: client input queued between steps, {inputs: [{population, kind, channel?,
 * neurons?, values | value, step? | offset?}]}, into sk_inject_t records (one per neuron).
 *
 * Two passes: the first validates every entry and counts the records (overflow-checked,
 * against caps->max_inputs); the second fills one malloc'd array. Everything the core would
 * check is checked here (population, channel, neuron ids, step not in the past), so the
 * core can only refuse a valid request for its pending-input limit.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *const g_entry_keys[] = {"population", "kind", "channel", "neurons", "values",
                                           "value", "step", "offset", NULL};
static const char *const g_kinds[] = {"current", "spike", NULL};

typedef struct entry {
    uint32_t pop;
    int kind;
    int32_t channel;
    uint64_t step;
    const json_t *neurons; /* NULL: every neuron */
    const json_t *values;  /* NULL: `value` for all */
    float value;
    uint32_t n;            /* records this entry makes */
} entry_t;

static int entry_pop(sk__dec_t *d, const json_t *v, const sk_proto_net_view_t *view, entry_t *e)
{
    const json_t *x;
    const char *name;
    int rc = sk__member(d, v, "population", 1, &x);
    if (rc)
        return rc;
    size_t mark = sk__path_key(&d->path, "population");
    if ((rc = sk__as_string(d, x, SK_PROTO_NAME_MAX, &name)) != 0)
        return rc;
    int idx = sk_proto_view_pop(view, name);
    if (idx < 0)
        return sk__fail(d, SK_ENOENT, SK_PROTO_INVALID_FIELD, "no population named \"%s\"", name);
    e->pop = (uint32_t)idx;
    sk__path_pop(&d->path, mark);
    return 0;
}

/* When: "step" (absolute, not in the past) or "offset" (from now), not both. */
static int entry_step(sk__dec_t *d, const json_t *v, const sk_proto_net_view_t *view, entry_t *e)
{
    uint64_t off = 0;
    const json_t *s = json_object_get(v, "step");
    if (s && json_object_get(v, "offset")) {
        size_t mark = sk__path_key(&d->path, "offset");
        int rc = sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD, "give step or offset, not both");
        sk__path_pop(&d->path, mark);
        return rc;
    }
    if (s)
        return sk__get_u64(d, v, "step", 1, view->step, SK__JSON_SAFE_INT, &e->step);
    uint64_t most = view->step < SK__JSON_SAFE_INT ? SK__JSON_SAFE_INT - view->step : 0;
    int rc = sk__get_u64(d, v, "offset", 0, 0, most, &off);
    e->step = view->step + off;
    return rc;
}

/* What: values for kind current (values or value), nothing for kind spike. */
static int entry_values(sk__dec_t *d, const json_t *v, entry_t *e)
{
    const json_t *vals = json_object_get(v, "values"), *one = json_object_get(v, "value");
    const char *bad = NULL;
    if (e->kind == SK_INJECT_SPIKE)
        bad = vals ? "values" : one ? "value" : json_object_get(v, "channel") ? "channel" : NULL;
    else if (vals && one)
        bad = "value";
    if (bad) {
        size_t mark = sk__path_key(&d->path, bad);
        int rc = sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD, "%s",
                          e->kind == SK_INJECT_SPIKE ? "spike inputs take no values or channel"
                                                     : "give values or value, not both");
        sk__path_pop(&d->path, mark);
        return rc;
    }
    if (e->kind == SK_INJECT_SPIKE)
        return 0;
    if (!vals)
        return sk__get_float(d, v, "value", 1, &e->value);
    size_t n, mark = sk__path_key(&d->path, "values");
    int rc = sk__as_array(d, vals, UINT32_MAX, &n);
    if (rc == 0 && n != e->n)
        rc = sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD,
                      "must have one value per neuron (%u; got %zu)", e->n, n);
    for (size_t k = 0; rc == 0 && k < n; k++) {
        float x;
        size_t m = sk__path_index(&d->path, k);
        if ((rc = sk__as_float(d, json_array_get(vals, k), &x)) == 0)
            sk__path_pop(&d->path, m);
    }
    if (rc == 0)
        sk__path_pop(&d->path, mark);
    e->values = vals;
    return rc;
}

static int entry_neurons(sk__dec_t *d, const json_t *v, uint32_t size, entry_t *e)
{
    const json_t *ids = json_object_get(v, "neurons");
    e->neurons = ids;
    e->n = size;
    if (!ids)
        return 0;
    size_t n, mark = sk__path_key(&d->path, "neurons");
    int rc = sk__as_array(d, ids, UINT32_MAX, &n);
    if (rc == 0 && n == 0)
        rc = sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD,
                      "must not be empty (leave it out for every neuron)");
    for (size_t k = 0; rc == 0 && k < n; k++) {
        uint32_t id;
        size_t m = sk__path_index(&d->path, k);
        if ((rc = sk__as_u32(d, json_array_get(ids, k), 0, size - 1, &id)) == 0)
            sk__path_pop(&d->path, m);
    }
    if (rc == 0)
        sk__path_pop(&d->path, mark);
    e->n = (uint32_t)n;
    return rc;
}

static int decode_entry(sk__dec_t *d, const json_t *v, const sk_proto_net_view_t *view,
                        entry_t *e)
{
    const char *ch = NULL;
    int rc = sk__want_object(d, v);
    if (rc == 0)
        rc = sk__check_keys(d, v, g_entry_keys);
    if (rc == 0)
        rc = entry_pop(d, v, view, e);
    if (rc == 0)
        rc = sk__get_enum(d, v, "kind", 1, g_kinds, &e->kind);
    if (rc == 0 && e->kind == SK_INJECT_CURRENT && view->pops[e->pop].model->n_inputs == 0) {
        size_t mark = sk__path_key(&d->path, "kind");
        rc = sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD,
                      "model %s takes no input (only kind spike)", view->pops[e->pop].model->name);
        sk__path_pop(&d->path, mark);
    }
    if (rc == 0)
        rc = entry_neurons(d, v, view->pops[e->pop].size, e);
    if (rc == 0)
        rc = entry_values(d, v, e);
    if (rc == 0)
        rc = sk__get_channel(d, v, view->pops[e->pop].model, &ch);
    if (rc == 0)
        rc = entry_step(d, v, view, e);
    e->channel = ch ? sk_model_input_index(view->pops[e->pop].model, ch) : -1;
    return rc;
}

static void fill(const entry_t *e, sk_inject_t *out)
{
    for (uint32_t k = 0; k < e->n; k++) {
        out[k].kind = e->kind == 0 ? SK_INJECT_CURRENT : SK_INJECT_SPIKE;
        out[k].pop = e->pop;
        out[k].channel = e->channel;
        /* Ids were checked by entry_neurons: integers, or integral reals, < size. */
        out[k].neuron = e->neurons ? (uint32_t)json_number_value(json_array_get(e->neurons, k)) : k;
        out[k].step = e->step;
        out[k].value = e->kind ? 0.0f
                       : e->values ? (float)json_number_value(json_array_get(e->values, k))
                                   : e->value;
    }
}

int sk__decode_inputs(sk__dec_t *d, const json_t *arr, const sk_proto_net_view_t *v,
                      sk_inject_t **out, uint32_t *n)
{
    size_t m;
    int rc = sk__as_array(d, arr, d->caps.max_inputs, &m);
    if (rc == 0 && m == 0)
        rc = sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD, "must not be empty");
    if (rc)
        return rc;
    entry_t *es = calloc(m, sizeof *es);
    if (!es)
        return sk__oom(d);
    uint64_t total = 0, max = d->caps.max_inputs < UINT32_MAX ? d->caps.max_inputs : UINT32_MAX;
    for (size_t k = 0; rc == 0 && k < m; k++) {
        size_t mark = sk__path_index(&d->path, k);
        rc = decode_entry(d, json_array_get(arr, k), v, &es[k]);
        if (rc == 0 && (__builtin_add_overflow(total, es[k].n, &total) || total > max))
            rc = sk__fail(d, SK_ELIMIT, SK_PROTO_LIMIT_EXCEEDED,
                          "more than %llu inputs in one request", (unsigned long long)max);
        if (rc == 0)
            sk__path_pop(&d->path, mark);
    }
    sk_inject_t *inj = rc == 0 ? calloc(total, sizeof *inj) : NULL;
    if (rc == 0 && !inj)
        rc = sk__oom(d);
    for (size_t k = 0, at = 0; rc == 0 && k < m; at += es[k].n, k++)
        fill(&es[k], inj + at);
    free(es);
    if (rc == 0) {
        *out = inj;
        *n = (uint32_t)total;
    }
    return rc;
}

int sk_proto_inputs_decode(const json_t *body, const sk_proto_net_view_t *v,
                           const sk_proto_caps_t *caps, sk_inject_t **out, uint32_t *n,
                           sk_proto_error_t *e)
{
    static const char *const keys[] = {"inputs", NULL};
    sk__dec_t d;
    const json_t *arr;
    sk__dec_init(&d, "", caps, e);
    int rc = sk__want_object(&d, body);
    if (rc == 0)
        rc = sk__check_keys(&d, body, keys);
    if (rc == 0)
        rc = sk__member(&d, body, "inputs", 1, &arr);
    if (rc)
        return rc;
    sk__path_key(&d.path, "inputs");
    return sk__decode_inputs(&d, arr, v, out, n);
}
