/* decode_proj.c: one element of network.projections: endpoints, connection rule, weight,
 * delay, input channel and storage, plus an estimate of its synapse count so that a
 * network above the session's synapse limit is refused before anything is built.
 */
#include <math.h>
#include <string.h>

#include "internal.h"

enum { RULE_KEYS_MAX = 8 };

static const char *const g_proj_keys[] = {"source",   "target",  "rule",    "weight",
                                          "delay_steps", "delay_ms", "channel", "storage",
                                          "synapse", NULL};
static const char *const g_rule_names[] = {"all_to_all",         "one_to_one",
                                           "fixed_probability",  "fixed_indegree",
                                           "explicit",           "fixed_total_number",
                                           "fixed_outdegree",    NULL};
/* Keys allowed in a rule object, per kind (same order as sk_rule_kind_t). */
static const char *const g_rule_keys[][RULE_KEYS_MAX] = {
    {"kind", "autapses", NULL},
    {"kind", NULL},
    {"kind", "p", "autapses", NULL},
    {"kind", "indegree", "autapses", "multapses", NULL},
    {"kind", "pre", "post", "weights", "delays", NULL},
    {"kind", "n", "autapses", "multapses", NULL},
    {"kind", "outdegree", "autapses", "multapses", NULL},
};
static const char *const g_storage_names[] = {"auto", "dense", "sparse", NULL};

int sk__spec_pop(const sk_net_spec_t *net, const char *name)
{
    for (uint32_t k = 0; k < net->n_pops; k++)
        if (strcmp(net->pops[k].name, name) == 0)
            return (int)k;
    return -1;
}

int sk__get_pop_ref(sk__dec_t *d, const json_t *obj, const char *key, const sk_net_spec_t *net,
                    uint32_t *out)
{
    const json_t *v;
    const char *name;
    int rc = sk__member(d, obj, key, 1, &v);
    if (rc)
        return rc;
    size_t mark = sk__path_key(&d->path, key);
    if ((rc = sk__as_string(d, v, SK_PROTO_NAME_MAX, &name)) != 0)
        return rc;
    int idx = sk__spec_pop(net, name);
    if (idx < 0)
        return sk__fail(d, SK_ENOENT, SK_PROTO_INVALID_FIELD, "no population named \"%s\"", name);
    *out = (uint32_t)idx;
    sk__path_pop(&d->path, mark);
    return 0;
}

int sk__get_channel(sk__dec_t *d, const json_t *obj, const sk_model_t *model, const char **out)
{
    const json_t *v = json_object_get(obj, "channel");
    const char *name;
    *out = NULL;
    if (!v)
        return 0;
    size_t mark = sk__path_key(&d->path, "channel");
    int rc = sk__as_string(d, v, SK_PROTO_NAME_MAX, &name);
    if (rc)
        return rc;
    int idx = sk_model_input_index(model, name);
    if (idx < 0) {
        char list[120];
        sk__join(list, sizeof list, model->inputs, model->n_inputs);
        return sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD,
                        "\"%s\" is not an input channel of model %s (channels: %s)", name,
                        model->name, list);
    }
    *out = model->inputs[idx];
    sk__path_pop(&d->path, mark);
    return 0;
}

uint32_t sk__max_delay(const sk_limits_t *l)
{
    return l->max_delay ? l->max_delay : SK__CORE_MAX_DELAY;
}

static int decode_explicit(sk__dec_t *d, const json_t *r, const sk_pop_spec_t *src,
                           const sk_pop_spec_t *tgt, uint32_t max_delay, sk_rule_t *out)
{
    uint32_t *pre, *post, *delay = NULL;
    float *w = NULL;
    size_t n, m;
    int rc = sk__get_ids(d, r, "pre", 1, src->size, 0, SIZE_MAX, &pre, &n);
    if (rc == 0)
        rc = sk__get_ids(d, r, "post", 1, tgt->size, 0, n, &post, &m);
    if (rc == 0)
        rc = sk__get_floats(d, r, "weights", 0, n, &w, &m);
    if (rc == 0)
        rc = sk__get_ids(d, r, "delays", 0, max_delay + 1, 0, n, &delay, &m);
    if (rc)
        return rc;
    for (size_t k = 0; delay && k < n; k++)
        if (delay[k] == 0) {
            size_t mark = sk__path_key(&d->path, "delays");
            sk__path_index(&d->path, k);
            rc = sk__fail(d, SK_ERANGE, SK_PROTO_INVALID_FIELD, "must be in [1, %u] (got 0)",
                          max_delay);
            sk__path_pop(&d->path, mark);
            return rc;
        }
    out->pre = pre;
    out->post = post;
    out->weight = w;
    out->delay = delay;
    out->n = n;
    return 0;
}

/* Rule-specific fields; *syn receives the expected number of synapses. */
static int decode_rule_fields(sk__dec_t *d, const json_t *r, const sk_pop_spec_t *src,
                              const sk_pop_spec_t *tgt, int same, uint32_t max_delay,
                              sk_rule_t *out, double *syn)
{
    /* fixed_total_number: NEST's defaults, autapses and multapses allowed (and multapses
     * cannot be turned off: each synapse is an independent draw) */
    out->autapses = out->multapses = out->kind == SK_RULE_FIXED_TOTAL_NUMBER;
    int rc = sk__get_bool(d, r, "autapses", 0, &out->autapses);
    if (rc == 0)
        rc = sk__get_bool(d, r, "multapses", 0, &out->multapses);
    if (rc)
        return rc;
    if (out->kind == SK_RULE_FIXED_TOTAL_NUMBER && !out->multapses) {
        size_t mark = sk__path_key(&d->path, "multapses");
        rc = sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD, "fixed_total_number always allows "
                      "multapses (each synapse is an independent draw)");
        sk__path_pop(&d->path, mark);
        return rc;
    }
    double pairs = (double)src->size * (double)tgt->size;
    double self = (same && !out->autapses) ? (double)src->size : 0.0;
    switch (out->kind) {
    case SK_RULE_ALL_TO_ALL:
        *syn = pairs - self;
        return 0;
    case SK_RULE_ONE_TO_ONE:
        *syn = (double)src->size;
        if (src->size != tgt->size)
            return sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD,
                            "one_to_one needs populations of equal size (source %u, target %u)",
                            src->size, tgt->size);
        return 0;
    case SK_RULE_FIXED_PROBABILITY:
        rc = sk__get_double(d, r, "p", 1, 0.0, 1.0, &out->p);
        *syn = ceil((pairs - self) * out->p);
        return rc;
    case SK_RULE_FIXED_INDEGREE: {
        uint32_t most = out->multapses ? UINT32_MAX : src->size - (same && !out->autapses);
        if (most == 0)
            return sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD,
                            "fixed_indegree without autapses needs a source of 2 or more neurons");
        rc = sk__get_u32(d, r, "indegree", 1, 1, most, &out->indegree);
        *syn = (double)out->indegree * (double)tgt->size;
        return rc;
    }
    case SK_RULE_FIXED_TOTAL_NUMBER:
        if (same && !out->autapses && src->size < 2)
            return sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD,
                            "fixed_total_number without autapses needs a source of 2 or more "
                            "neurons");
        rc = sk__get_u64(d, r, "n", 1, 0, SK__JSON_SAFE_INT, &out->total);
        *syn = (double)out->total;
        return rc;
    case SK_RULE_FIXED_OUTDEGREE: {
        uint32_t most = out->multapses ? UINT32_MAX : tgt->size - (same && !out->autapses);
        if (most == 0)
            return sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD,
                            "fixed_outdegree without autapses needs a target of 2 or more "
                            "neurons");
        rc = sk__get_u32(d, r, "outdegree", 1, 1, most, &out->outdegree);
        *syn = (double)out->outdegree * (double)src->size;
        return rc;
    }
    default:
        rc = decode_explicit(d, r, src, tgt, max_delay, out);
        *syn = (double)out->n;
        return rc;
    }
}

static int decode_rule(sk__dec_t *d, const json_t *obj, const sk_net_spec_t *net, uint32_t s,
                       uint32_t t, double *syn, sk_rule_t *out)
{
    const json_t *r;
    int kind;
    int rc = sk__member(d, obj, "rule", 1, &r);
    if (rc)
        return rc;
    size_t mark = sk__path_key(&d->path, "rule");
    if ((rc = sk__want_object(d, r)) != 0)
        return rc;
    if ((rc = sk__get_enum(d, r, "kind", 1, g_rule_names, &kind)) != 0)
        return rc;
    out->kind = (sk_rule_kind_t)kind;
    if ((rc = sk__check_keys(d, r, g_rule_keys[kind])) != 0)
        return rc;
    rc = decode_rule_fields(d, r, &net->pops[s], &net->pops[t], s == t,
                            sk__max_delay(&net->limits), out, syn);
    if (rc == 0)
        sk__path_pop(&d->path, mark);
    return rc;
}

static int decode_weight(sk__dec_t *d, const json_t *obj, sk_dist_t *out)
{
    const json_t *w = json_object_get(obj, "weight");
    memset(out, 0, sizeof *out);
    out->kind = SK_DIST_CONST;
    out->a = 1.0f;
    if (!w)
        return 0;
    size_t mark = sk__path_key(&d->path, "weight");
    int rc = json_is_object(w) ? sk__decode_dist(d, w, 1, out)
             : json_is_number(w)
                 ? sk__as_float(d, w, &out->a)
                 : sk__fail(d, SK_EINVAL, SK_PROTO_WRONG_TYPE,
                            "must be a number, {\"uniform\": [lo, hi]} or {\"normal\": [mean, "
                            "sd]} (got %s)",
                            sk__json_type_name(w));
    if (rc == 0)
        sk__path_pop(&d->path, mark);
    return rc;
}

/* "delay_ms": a number, {"uniform": [lo, hi]} or {"normal": [mean, sd], "min": x, "max": y}
 * (redraw bounds). Checked here as the core checks it (connect.c, sk_proj_delay_range):
 * every value that can come out must round to at least one step of dt. */
static int decode_delay_ms(sk__dec_t *d, const json_t *obj, double dt, uint32_t max_delay,
                           sk_proj_spec_t *out)
{
    static const char *const keys[] = {"uniform", "normal", "min", "max", NULL};
    const json_t *v = json_object_get(obj, "delay_ms");
    if (!v)
        return 0;
    size_t mark = sk__path_key(&d->path, "delay_ms");
    int rc = 0;
    if (json_object_get(obj, "delay_steps"))
        return sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD,
                        "give delay_steps or delay_ms, not both");
    if (json_is_number(v)) {
        out->delay_ms.kind = SK_DIST_CONST;
        rc = sk__as_float(d, v, &out->delay_ms.a);
        if (rc == 0 && !(out->delay_ms.a > 0.0f))
            return sk__fail(d, SK_ERANGE, SK_PROTO_INVALID_FIELD, "must be > 0 (got %g)",
                            (double)out->delay_ms.a);
    } else if (json_is_object(v)) {
        if ((rc = sk__check_keys(d, v, keys)) != 0)
            return rc;
        json_t *dist = json_copy((json_t *)v);
        if (!dist)
            return sk__oom(d);
        json_object_del(dist, "min");
        json_object_del(dist, "max");
        rc = sk__decode_dist(d, dist, 0, &out->delay_ms);
        json_decref(dist);
        if (rc == 0)
            rc = sk__get_double(d, v, "min", 0, 0.0, 1e9, &out->delay_min_ms);
        if (rc == 0)
            rc = sk__get_double(d, v, "max", 0, 0.0, 1e9, &out->delay_max_ms);
    } else {
        return sk__fail(d, SK_EINVAL, SK_PROTO_WRONG_TYPE,
                        "must be a number of ms, {\"uniform\": [lo, hi]} or {\"normal\": "
                        "[mean, sd], \"min\": ms, \"max\": ms} (got %s)",
                        sk__json_type_name(v));
    }
    if (rc)
        return rc;
    uint32_t lo, hi;
    sk_err_t err = {0};
    if ((rc = sk_proj_delay_range(out, dt, max_delay, &lo, &hi, &err)) != 0)
        return sk__fail(d, rc, rc == SK_ELIMIT ? SK_PROTO_LIMIT_EXCEEDED : SK_PROTO_INVALID_FIELD,
                        "%s", err.msg);
    sk__path_pop(&d->path, mark);
    return 0;
}

int sk__decode_proj(sk__dec_t *d, const json_t *v, const sk_net_spec_t *net, uint64_t *synapses,
                    sk_proj_spec_t *out)
{
    uint32_t s, t;
    int storage = 0;
    double syn = 0;
    int rc = sk__want_object(d, v);
    if (rc == 0)
        rc = sk__check_keys(d, v, g_proj_keys);
    if (rc == 0)
        rc = sk__get_pop_ref(d, v, "source", net, &s);
    if (rc == 0)
        rc = sk__get_pop_ref(d, v, "target", net, &t);
    if (rc == 0 && sk_model_find(net->pops[t].model)->n_inputs == 0) {
        size_t mark = sk__path_key(&d->path, "target");
        rc = sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD, "model %s takes no input",
                      net->pops[t].model);
        sk__path_pop(&d->path, mark);
    }
    if (rc == 0)
        rc = decode_rule(d, v, net, s, t, &syn, &out->rule);
    if (rc == 0)
        rc = decode_weight(d, v, &out->weight);
    out->delay_steps = 1;
    if (rc == 0)
        rc = sk__get_u32_limit(d, v, "delay_steps", 0, 1, sk__max_delay(&net->limits),
                               &out->delay_steps);
    if (rc == 0)
        rc = decode_delay_ms(d, v, net->dt_ms, sk__max_delay(&net->limits), out);
    if (rc == 0)
        rc = sk__get_channel(d, v, sk_model_find(net->pops[t].model), &out->channel);
    if (rc == 0)
        rc = sk__get_enum(d, v, "storage", 0, g_storage_names, &storage);
    if (rc == 0) /* plastic synapses: decode_syn.c */
        rc = sk__decode_synapse(d, v, sk_model_find(net->pops[t].model), out);
    if (rc)
        return rc;
    out->source = net->pops[s].name;
    out->target = net->pops[t].name;
    out->storage = (sk_storage_t)storage;
    *synapses = syn > 1.8e19 ? UINT64_MAX : (uint64_t)syn;
    return 0;
}
