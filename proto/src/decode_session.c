/* decode_session.c: the body of POST /v1/sessions, {name, seed?, dt?, network, limits?},
 * into an sk_proto_session_t that owns its sk_net_spec_t.
 *
 * Order: the session's own fields and limits first (the limits bound what follows), then
 * populations (projections, stimuli and recorders refer to them by name), then the other
 * lists. Totals (neurons, estimated synapses) are summed with overflow checks and compared
 * with the session's limits, naming the element that crosses them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *const g_session_keys[] = {"name", "seed", "dt", "network", "limits", NULL};
static const char *const g_network_keys[] = {"populations", "projections", "stimuli",
                                             "recorders", NULL};

/* The limits a session gets when it asks for none: caps->limits, else the core's default,
 * lowered to the field's ceiling (below). */
static void default_limits(const sk_proto_caps_t *caps, sk_limits_t *out)
{
    const sk_limits_t *dflt = &caps->limits, *top = &caps->max_limits;
    *out = *dflt;
#define LOWER(f, core)                                                                             \
    if (top->f && (out->f ? out->f : (core)) > top->f)                                             \
    out->f = top->f
    LOWER(max_neurons, SK__CORE_MAX_NEURONS);
    LOWER(max_synapses, SK__CORE_MAX_SYNAPSES);
    LOWER(max_bytes, SK__CORE_DEF_MAX_BYTES);
    LOWER(max_delay, SK__CORE_MAX_DELAY);
    LOWER(spike_history, SK__CORE_DEF_HISTORY_IDS);
    LOWER(history_steps, SK__CORE_DEF_HISTORY_STEPS);
    LOWER(max_pending, SK__CORE_DEF_MAX_PENDING);
    LOWER(max_record_values, SK__CORE_DEF_RECORD_VALUES);
#undef LOWER
}

/* The limits a client may ask for, each at most its ceiling: caps->max_limits, else
 * caps->limits, when the server has one (above it: 413 limit_exceeded). */
static int decode_limits(sk__dec_t *d, const json_t *obj, sk_limits_t *out)
{
    static const char *const keys[] = {"max_neurons",   "max_synapses",  "max_bytes",
                                       "max_delay",     "spike_history", "history_steps",
                                       "max_pending",   "max_record_values", NULL};
    const sk_limits_t *cap = &d->caps.limits, *top = &d->caps.max_limits;
    default_limits(&d->caps, out);
    const json_t *l = json_object_get(obj, "limits");
    if (!l)
        return 0;
    size_t mark = sk__path_key(&d->path, "limits");
    int rc = sk__want_object(d, l);
    if (rc == 0)
        rc = sk__check_keys(d, l, keys);
#define CEIL(f, none) (top->f ? top->f : cap->f ? cap->f : (none))
#define LIMIT64(f)                                                                                 \
    if (rc == 0)                                                                                   \
    rc = sk__get_u64_limit(d, l, #f, 0, 1, CEIL(f, (uint64_t)INT64_MAX), &out->f)
#define LIMIT32(f)                                                                                 \
    if (rc == 0)                                                                                   \
    rc = sk__get_u32_limit(d, l, #f, 0, 1, CEIL(f, UINT32_MAX), &out->f)
    LIMIT64(max_neurons);
    LIMIT64(max_synapses);
    LIMIT64(max_bytes);
    LIMIT32(max_delay);
    LIMIT64(spike_history);
    LIMIT32(history_steps);
    LIMIT64(max_pending);
    LIMIT64(max_record_values);
#undef LIMIT64
#undef LIMIT32
#undef CEIL
    if (rc == 0)
        sk__path_pop(&d->path, mark);
    return rc;
}

/* A list member: an array of at most max elements (absent: *n = 0). */
static int list_member(sk__dec_t *d, const json_t *net, const char *key, int required,
                       size_t max, const json_t **arr, size_t *n)
{
    int rc = sk__member(d, net, key, required, arr);
    *n = 0;
    if (rc || !*arr)
        return rc;
    size_t mark = sk__path_key(&d->path, key);
    rc = sk__as_array(d, *arr, max, n);
    if (rc == 0 && required && *n == 0)
        rc = sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD, "must not be empty");
    if (rc == 0)
        sk__path_pop(&d->path, mark);
    return rc;
}

static int decode_pops(sk__dec_t *d, const json_t *net, sk_net_spec_t *spec)
{
    const json_t *arr;
    size_t n;
    int rc = list_member(d, net, "populations", 1, d->caps.max_populations, &arr, &n);
    if (rc)
        return rc;
    sk_pop_spec_t *pops = sk__arena_alloc(d->arena, n, sizeof *pops);
    if (!pops)
        return sk__oom(d);
    uint64_t max = spec->limits.max_neurons ? spec->limits.max_neurons : SK__CORE_MAX_NEURONS;
    uint64_t total = 0;
    size_t mark = sk__path_key(&d->path, "populations");
    for (size_t k = 0; k < n; k++) {
        size_t m = sk__path_index(&d->path, k);
        if ((rc = sk__decode_pop(d, json_array_get(arr, k), pops, (uint32_t)k, &pops[k])) != 0)
            return rc;
        if (__builtin_add_overflow(total, pops[k].size, &total) || total > max) {
            sk__path_key(&d->path, "size");
            return sk__fail(d, SK_ELIMIT, SK_PROTO_LIMIT_EXCEEDED,
                            "the network would have %llu neurons; the limit is %llu",
                            (unsigned long long)total, (unsigned long long)max);
        }
        sk__path_pop(&d->path, m);
    }
    sk__path_pop(&d->path, mark);
    spec->pops = pops;
    spec->n_pops = (uint32_t)n;
    return 0;
}

static int decode_projs(sk__dec_t *d, const json_t *net, sk_net_spec_t *spec)
{
    const json_t *arr;
    size_t n;
    int rc = list_member(d, net, "projections", 0, d->caps.max_projections, &arr, &n);
    if (rc || n == 0)
        return rc;
    sk_proj_spec_t *projs = sk__arena_alloc(d->arena, n, sizeof *projs);
    if (!projs)
        return sk__oom(d);
    uint64_t max = spec->limits.max_synapses ? spec->limits.max_synapses : SK__CORE_MAX_SYNAPSES;
    uint64_t total = 0, syn;
    size_t mark = sk__path_key(&d->path, "projections");
    for (size_t k = 0; k < n; k++) {
        size_t m = sk__path_index(&d->path, k);
        if ((rc = sk__decode_proj(d, json_array_get(arr, k), spec, &syn, &projs[k])) != 0)
            return rc;
        if (__builtin_add_overflow(total, syn, &total) || total > max)
            return sk__fail(d, SK_ELIMIT, SK_PROTO_LIMIT_EXCEEDED,
                            "the network would have about %llu synapses or more; the limit is %llu",
                            total < syn ? (unsigned long long)UINT64_MAX : (unsigned long long)total,
                            (unsigned long long)max);
        sk__path_pop(&d->path, m);
    }
    sk__path_pop(&d->path, mark);
    spec->projs = projs;
    spec->n_projs = (uint32_t)n;
    return 0;
}

static int decode_stims(sk__dec_t *d, const json_t *net, sk_net_spec_t *spec)
{
    const json_t *arr;
    size_t n;
    int rc = list_member(d, net, "stimuli", 0, d->caps.max_stimuli, &arr, &n);
    if (rc || n == 0)
        return rc;
    sk_stim_spec_t *stims = sk__arena_alloc(d->arena, n, sizeof *stims);
    if (!stims)
        return sk__oom(d);
    size_t mark = sk__path_key(&d->path, "stimuli");
    for (size_t k = 0; k < n; k++) {
        size_t m = sk__path_index(&d->path, k);
        if ((rc = sk__decode_stim(d, json_array_get(arr, k), spec, &stims[k])) != 0)
            return rc;
        sk__path_pop(&d->path, m);
    }
    sk__path_pop(&d->path, mark);
    spec->stims = stims;
    spec->n_stims = (uint32_t)n;
    return 0;
}

static int decode_recs(sk__dec_t *d, const json_t *net, sk_net_spec_t *spec)
{
    const json_t *arr;
    size_t n;
    int rc = list_member(d, net, "recorders", 0, d->caps.max_recorders, &arr, &n);
    if (rc || n == 0)
        return rc;
    sk_rec_spec_t *recs = sk__arena_alloc(d->arena, n, sizeof *recs);
    if (!recs)
        return sk__oom(d);
    size_t mark = sk__path_key(&d->path, "recorders");
    for (size_t k = 0; k < n; k++) {
        size_t m = sk__path_index(&d->path, k);
        if ((rc = sk__decode_rec(d, json_array_get(arr, k), spec, &recs[k])) != 0)
            return rc;
        sk__path_pop(&d->path, m);
    }
    sk__path_pop(&d->path, mark);
    spec->recs = recs;
    spec->n_recs = (uint32_t)n;
    return 0;
}

static int decode_network(sk__dec_t *d, const json_t *body, sk_net_spec_t *spec)
{
    const json_t *net;
    int rc = sk__member(d, body, "network", 1, &net);
    if (rc)
        return rc;
    size_t mark = sk__path_key(&d->path, "network");
    if ((rc = sk__want_object(d, net)) == 0)
        rc = sk__check_keys(d, net, g_network_keys);
    if (rc == 0)
        rc = decode_pops(d, net, spec);
    if (rc == 0)
        rc = decode_projs(d, net, spec);
    if (rc == 0)
        rc = decode_stims(d, net, spec);
    if (rc == 0)
        rc = decode_recs(d, net, spec);
    if (rc == 0)
        sk__path_pop(&d->path, mark);
    return rc;
}

static int decode_top(sk__dec_t *d, const json_t *body, sk_proto_session_t *s)
{
    const json_t *v;
    const char *name;
    int rc = sk__want_object(d, body);
    if (rc == 0)
        rc = sk__check_keys(d, body, g_session_keys);
    if (rc == 0)
        rc = sk__member(d, body, "name", 1, &v);
    if (rc)
        return rc;
    size_t mark = sk__path_key(&d->path, "name");
    if ((rc = sk__as_name(d, v, &name)) != 0)
        return rc;
    sk__path_pop(&d->path, mark);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->seed_given = json_object_get(body, "seed") != NULL;
    s->spec.dt_ms = 0.1;
    rc = sk__get_u64(d, body, "seed", 0, 0, SK__JSON_SAFE_INT, &s->spec.seed);
    if (rc == 0)
        rc = sk__get_double(d, body, "dt", 0, 1e-6, 1000.0, &s->spec.dt_ms);
    if (rc == 0)
        rc = decode_limits(d, body, &s->spec.limits);
    if (rc == 0)
        rc = decode_network(d, body, &s->spec);
    return rc;
}

int sk_proto_session_decode(const json_t *body, const sk_proto_caps_t *caps,
                            sk_proto_session_t **out, sk_proto_error_t *e)
{
    sk__dec_t d;
    sk__dec_init(&d, "", caps, e);
    sk_proto_session_t *s = calloc(1, sizeof *s);
    d.arena = s ? sk__arena_new() : NULL;
    if (!d.arena) {
        free(s);
        return sk__oom(&d);
    }
    s->arena_ = d.arena;
    int rc = decode_top(&d, body, s);
    if (rc) {
        sk_proto_session_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void sk_proto_session_free(sk_proto_session_t *s)
{
    if (!s)
        return;
    sk__arena_free(s->arena_);
    free(s);
}
