/* decode_pop.c: one element of network.populations, and the distributions shared with
 * projections ({"uniform": [a, b]}, {"normal": [mean, sd]}).
 *
 * Parameter names, state-variable names and ranges come from the model descriptor found in
 * the registry; the whole parameter vector (defaults + overrides) is then checked with the
 * model's cross-field rules, so a population that decodes is one sk_net_create accepts.
 */
#include <float.h>
#include <string.h>

#include "internal.h"

static const char *const g_pop_keys[] = {"name",    "model",           "size", "params",
                                         "initial", "refractory_steps", NULL};

static int find_model(sk__dec_t *d, const json_t *obj, const sk_model_t **out)
{
    const json_t *v;
    const char *name;
    int rc = sk__member(d, obj, "model", 1, &v);
    if (rc)
        return rc;
    size_t mark = sk__path_key(&d->path, "model");
    rc = sk__as_string(d, v, SK_PROTO_NAME_MAX, &name);
    if (rc)
        return rc;
    *out = sk_model_find(name);
    if (!*out) {
        const char *names[64];
        uint32_t n = sk_model_count();
        n = n < 64 ? n : 64;
        for (uint32_t k = 0; k < n; k++)
            names[k] = sk_model_at(k)->name;
        char list[200];
        sk__join(list, sizeof list, names, n);
        return sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD, "unknown model \"%s\" (models: %s)",
                        name, list);
    }
    sk__path_pop(&d->path, mark);
    return 0;
}

/* params: {name: number}; each checked against its field, then the whole vector. */
static int decode_params(sk__dec_t *d, const json_t *v, const sk_model_t *m, sk_pop_spec_t *out)
{
    int rc = sk__want_object(d, v);
    if (rc)
        return rc;
    sk_param_t *p = sk__arena_alloc(d->arena, json_object_size(v), sizeof *p);
    if (!p)
        return sk__oom(d);
    double full[SK_MODEL_MAX_PARAMS];
    sk_model_defaults(m, full);
    const char *key;
    json_t *val;
    uint32_t n = 0;
    json_object_foreach((json_t *)v, key, val) {
        size_t mark = sk__path_key(&d->path, key);
        int idx = sk_model_param_index(m, key);
        if (idx < 0) {
            char list[200];
            sk__join_fields(list, sizeof list, m->params, m->n_params);
            return sk__fail(d, SK_EINVAL, SK_PROTO_UNKNOWN_FIELD,
                            "not a parameter of model %s (parameters: %s)", m->name, list);
        }
        double x;
        if ((rc = sk__as_param(d, val, &m->params[idx], &x)) != 0)
            return rc;
        p[n].name = m->params[idx].name;
        p[n++].value = x;
        full[idx] = x;
        sk__path_pop(&d->path, mark);
    }
    sk_err_t err = {0};
    if (sk_model_check_params(m, full, &err) != 0) {
        size_t mark = sk__path_key(&d->path, err.path);
        rc = sk__fail(d, SK_ERANGE, SK_PROTO_INVALID_FIELD, "%s", err.msg);
        sk__path_pop(&d->path, mark);
        return rc;
    }
    out->params = p;
    out->n_params = n;
    return 0;
}

/* A pair [a, b] of finite float32 numbers. */
static int decode_pair(sk__dec_t *d, const json_t *v, float *a, float *b)
{
    size_t n;
    int rc = sk__as_array(d, v, SIZE_MAX, &n);
    if (rc == 0 && n != 2)
        rc = sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD, "must be a pair [a, b] (got %zu elements)",
                      n);
    for (size_t k = 0; rc == 0 && k < 2; k++) {
        size_t mark = sk__path_index(&d->path, k);
        rc = sk__as_float(d, json_array_get(v, k), k ? b : a);
        if (rc == 0)
            sk__path_pop(&d->path, mark);
    }
    return rc;
}

static int dist_params(sk__dec_t *d, const json_t *v, sk_dist_t *out)
{
    const char *key = out->kind == SK_DIST_UNIFORM ? "uniform" : "normal";
    size_t mark = sk__path_key(&d->path, key);
    int rc = decode_pair(d, v, &out->a, &out->b);
    if (rc)
        return rc;
    if (out->kind == SK_DIST_UNIFORM && !(out->a <= out->b))
        return sk__fail(d, SK_ERANGE, SK_PROTO_INVALID_FIELD,
                        "the lower bound must not exceed the upper bound (got [%g, %g])",
                        (double)out->a, (double)out->b);
    if (out->kind == SK_DIST_NORMAL && !(out->b >= 0))
        return sk__fail(d, SK_ERANGE, SK_PROTO_INVALID_FIELD,
                        "the standard deviation must be >= 0 (got %g)", (double)out->b);
    sk__path_pop(&d->path, mark);
    return 0;
}

int sk__decode_dist(sk__dec_t *d, const json_t *v, int allow_sign, sk_dist_t *out)
{
    static const char *const keys_sign[] = {"uniform", "normal", "sign", "redraw", NULL};
    static const char *const signs[] = {"positive", "negative", NULL};
    int rc = sk__want_object(d, v);
    if (rc == 0)
        rc = sk__check_keys(d, v, allow_sign ? keys_sign : keys_sign + 0);
    if (rc == 0 && !allow_sign && json_object_get(v, "sign")) {
        size_t mark = sk__path_key(&d->path, "sign");
        rc = sk__fail(d, SK_EINVAL, SK_PROTO_UNKNOWN_FIELD, "only weights take a sign");
        sk__path_pop(&d->path, mark);
    }
    if (rc)
        return rc;
    const json_t *u = json_object_get(v, "uniform"), *g = json_object_get(v, "normal");
    if ((u != NULL) == (g != NULL))
        return sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD,
                        "must have exactly one of \"uniform\" and \"normal\"");
    memset(out, 0, sizeof *out);
    out->kind = u ? SK_DIST_UNIFORM : SK_DIST_NORMAL;
    if ((rc = dist_params(d, u ? u : g, out)) != 0)
        return rc;
    int sign = -1;
    if ((rc = sk__get_enum(d, v, "sign", 0, signs, &sign)) != 0)
        return rc;
    out->sign = sign == 0 ? 1 : sign == 1 ? -1 : 0;
    /* "redraw": true: values of the wrong sign are drawn again (NEST's nest.math.redraw)
     * instead of clipped to 0 */
    if (json_object_get(v, "redraw")) {
        size_t mark = sk__path_key(&d->path, "redraw");
        if (!allow_sign)
            return sk__fail(d, SK_EINVAL, SK_PROTO_UNKNOWN_FIELD, "only weights take a redraw");
        if ((rc = sk__as_bool(d, json_object_get(v, "redraw"), &out->redraw)) != 0)
            return rc;
        if (out->redraw && out->sign == 0)
            return sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD,
                            "redraw needs a sign (\"positive\" or \"negative\")");
        if (out->redraw) {
            double hi = out->kind == SK_DIST_UNIFORM ? out->b : out->a + 3.0 * out->b;
            double lo = out->kind == SK_DIST_UNIFORM ? out->a : out->a - 3.0 * out->b;
            if ((out->sign > 0 && !(hi > 0.0)) || (out->sign < 0 && !(lo < 0.0)))
                return sk__fail(d, SK_ERANGE, SK_PROTO_INVALID_FIELD,
                                "the distribution has almost no mass of the required sign");
        }
        sk__path_pop(&d->path, mark);
    }
    return 0;
}

/* One initial value: a number, [size numbers], {"uniform": [a, b]} or {"normal": [m, sd]}. */
static int decode_init(sk__dec_t *d, const json_t *v, uint32_t size, sk_init_t *out)
{
    int rc;
    if (json_is_number(v)) {
        out->kind = SK_INIT_CONST;
        return sk__as_float(d, v, &out->a);
    }
    if (json_is_array(v)) {
        size_t n;
        float *x;
        if ((rc = sk__as_floats(d, v, size, &x, &n)) != 0)
            return rc;
        out->kind = SK_INIT_VALUES;
        out->values = x;
        out->n_values = (uint32_t)n;
        return 0;
    }
    if (json_is_object(v)) {
        sk_dist_t dist;
        if ((rc = sk__decode_dist(d, v, 0, &dist)) != 0)
            return rc;
        out->kind = dist.kind == SK_DIST_UNIFORM ? SK_INIT_UNIFORM : SK_INIT_NORMAL;
        out->a = dist.a;
        out->b = dist.b;
        return 0;
    }
    return sk__fail(d, SK_EINVAL, SK_PROTO_WRONG_TYPE,
                    "must be a number, an array of %u numbers, {\"uniform\": [a, b]} or "
                    "{\"normal\": [mean, sd]} (got %s)",
                    size, sk__json_type_name(v));
}

static int decode_initial(sk__dec_t *d, const json_t *v, const sk_model_t *m, uint32_t size,
                          sk_pop_spec_t *out)
{
    int rc = sk__want_object(d, v);
    if (rc)
        return rc;
    sk_init_t *init = sk__arena_alloc(d->arena, json_object_size(v), sizeof *init);
    if (!init)
        return sk__oom(d);
    const char *key;
    json_t *val;
    uint32_t n = 0;
    json_object_foreach((json_t *)v, key, val) {
        size_t mark = sk__path_key(&d->path, key);
        int idx = sk_model_state_index(m, key);
        if (idx < 0) {
            char list[200];
            sk__join_fields(list, sizeof list, m->state, m->n_state);
            return sk__fail(d, SK_EINVAL, SK_PROTO_UNKNOWN_FIELD,
                            "not a state variable of model %s (state: %s)", m->name, list);
        }
        init[n].var = m->state[idx].name;
        if ((rc = decode_init(d, val, size, &init[n])) != 0)
            return rc;
        n++;
        sk__path_pop(&d->path, mark);
    }
    out->init = init;
    out->n_init = n;
    return 0;
}

int sk__decode_pop(sk__dec_t *d, const json_t *v, const sk_pop_spec_t *prev, uint32_t k,
                   sk_pop_spec_t *out)
{
    const char *name;
    const sk_model_t *m;
    const json_t *x;
    int rc = sk__want_object(d, v);
    if (rc == 0)
        rc = sk__check_keys(d, v, g_pop_keys);
    if (rc == 0)
        rc = sk__member(d, v, "name", 1, &x);
    if (rc)
        return rc;
    size_t mark = sk__path_key(&d->path, "name");
    if ((rc = sk__as_name(d, x, &name)) != 0)
        return rc;
    for (uint32_t j = 0; j < k; j++)
        if (strcmp(prev[j].name, name) == 0)
            return sk__fail(d, SK_EEXIST, SK_PROTO_INVALID_FIELD,
                            "duplicate population name \"%s\" (also populations[%u])", name, j);
    sk__path_pop(&d->path, mark);
    if ((out->name = sk__arena_strdup(d->arena, name)) == NULL)
        return sk__oom(d);
    if ((rc = find_model(d, v, &m)) != 0)
        return rc;
    out->model = m->name;
    if ((rc = sk__get_u32(d, v, "size", 1, 1, UINT32_MAX, &out->size)) != 0)
        return rc;
    if ((rc = sk__get_u32(d, v, "refractory_steps", 0, 0, 65535, &out->refractory_steps)) != 0)
        return rc;
    if ((x = json_object_get(v, "params")) != NULL) {
        mark = sk__path_key(&d->path, "params");
        if ((rc = decode_params(d, x, m, out)) != 0)
            return rc;
        sk__path_pop(&d->path, mark);
    } else {
        sk_err_t err = {0};
        double full[SK_MODEL_MAX_PARAMS];
        sk_model_defaults(m, full);
        if (sk_model_check_params(m, full, &err) != 0)
            return sk__fail(d, SK_ERANGE, SK_PROTO_INVALID_FIELD, "model defaults: %s", err.msg);
    }
    if ((x = json_object_get(v, "initial")) != NULL) {
        mark = sk__path_key(&d->path, "initial");
        if ((rc = decode_initial(d, x, m, out->size, out)) != 0)
            return rc;
        sk__path_pop(&d->path, mark);
    }
    return 0;
}
