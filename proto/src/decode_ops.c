/* decode_ops.c: bodies of the per-session operations: step, parameter patch, fork, session
 * and stimulus patches; and the network view those decoders resolve names against. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int sk_proto_view_pop(const sk_proto_net_view_t *v, const char *name)
{
    for (uint32_t k = 0; name && k < v->n_pops; k++)
        if (strcmp(v->pops[k].name, name) == 0)
            return (int)k;
    return SK_ENOENT;
}

/* duration_ms -> steps: must be a whole number of steps (within rounding of dt). */
static int duration_steps(sk__dec_t *d, const json_t *body, double dt, uint64_t *steps)
{
    double ms;
    int rc = sk__get_double(d, body, "duration_ms", 1, 0.0, 1e300, &ms);
    if (rc)
        return rc;
    size_t mark = sk__path_key(&d->path, "duration_ms");
    double r = ms / dt, n = nearbyint(r);
    if (fabs(r - n) > 1e-9 * (n > 1 ? n : 1))
        return sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD,
                        "must be a whole number of steps of dt = %g ms (got %g ms)", dt, ms);
    if (n < 1)
        return sk__fail(d, SK_ERANGE, SK_PROTO_INVALID_FIELD,
                        "must be at least one step of dt = %g ms (got %g ms)", dt, ms);
    if (n > (double)d->caps.max_steps) /* a limit of the server, not a bad value: 413 */
        return sk__fail(d, SK_ELIMIT, SK_PROTO_LIMIT_EXCEEDED,
                        "%g steps of dt = %g ms; at most %llu steps per request", n, dt,
                        (unsigned long long)d->caps.max_steps);
    *steps = (uint64_t)n;
    sk__path_pop(&d->path, mark);
    return 0;
}

/* steps: an integer >= 1 (400 otherwise); above caps.max_steps it is a limit breach, 413. */
static int get_steps(sk__dec_t *d, const json_t *body, uint64_t *steps)
{
    int rc = sk__get_u64(d, body, "steps", 1, 1, UINT64_MAX, steps);
    if (rc || *steps <= d->caps.max_steps)
        return rc;
    size_t mark = sk__path_key(&d->path, "steps");
    rc = sk__fail(d, SK_ELIMIT, SK_PROTO_LIMIT_EXCEEDED,
                  "%llu steps; at most %llu steps per request", (unsigned long long)*steps,
                  (unsigned long long)d->caps.max_steps);
    sk__path_pop(&d->path, mark);
    return rc;
}

static int step_decode(sk__dec_t *d, const json_t *body, const sk_proto_net_view_t *v,
                       sk_proto_step_t *out)
{
    static const char *const keys[] = {"steps", "duration_ms", "inputs", "return_spikes",
                                       "async", NULL};
    int rc = sk__want_object(d, body);
    if (rc == 0)
        rc = sk__check_keys(d, body, keys);
    if (rc)
        return rc;
    int has_steps = json_object_get(body, "steps") != NULL;
    int has_dur = json_object_get(body, "duration_ms") != NULL;
    if (has_steps == has_dur) {
        size_t mark = sk__path_key(&d->path, has_steps ? "duration_ms" : "steps");
        rc = sk__fail(d, SK_EINVAL, has_steps ? SK_PROTO_INVALID_FIELD : SK_PROTO_MISSING_FIELD,
                      "give exactly one of steps and duration_ms");
        sk__path_pop(&d->path, mark);
        return rc;
    }
    rc = has_steps ? get_steps(d, body, &out->steps)
                   : duration_steps(d, body, v->dt_ms, &out->steps);
    if (rc == 0)
        rc = sk__get_bool(d, body, "return_spikes", 0, &out->return_spikes);
    if (rc == 0)
        rc = sk__get_bool(d, body, "async", 0, &out->async);
    const json_t *in = json_object_get(body, "inputs");
    if (rc == 0 && in) {
        size_t mark = sk__path_key(&d->path, "inputs");
        rc = sk__decode_inputs(d, in, v, &out->inputs, &out->n_inputs);
        if (rc == 0)
            sk__path_pop(&d->path, mark);
    }
    return rc;
}

int sk_proto_step_decode(const json_t *body, const sk_proto_net_view_t *v,
                         const sk_proto_caps_t *caps, sk_proto_step_t *out, sk_proto_error_t *e)
{
    sk__dec_t d;
    sk__dec_init(&d, "", caps, e);
    sk_proto_step_t s = {0};
    int rc = step_decode(&d, body, v, &s);
    if (rc) {
        sk_proto_step_close(&s);
        return rc;
    }
    *out = s;
    return 0;
}

void sk_proto_step_close(sk_proto_step_t *s)
{
    if (!s)
        return;
    free(s->inputs);
    s->inputs = NULL;
    s->n_inputs = 0;
}

int sk_proto_params_decode(const json_t *body, const sk_model_t *model, sk_proto_params_t *out,
                           sk_proto_error_t *e)
{
    static const char *const keys[] = {"params", NULL};
    sk__dec_t d;
    const json_t *p;
    sk__dec_init(&d, "", NULL, e);
    int rc = sk__want_object(&d, body);
    if (rc == 0)
        rc = sk__check_keys(&d, body, keys);
    if (rc == 0)
        rc = sk__member(&d, body, "params", 1, &p);
    if (rc)
        return rc;
    sk__path_key(&d.path, "params");
    if ((rc = sk__want_object(&d, p)) != 0)
        return rc;
    if (json_object_size(p) == 0)
        return sk__fail(&d, SK_EINVAL, SK_PROTO_INVALID_FIELD, "must name at least one parameter");
    sk_proto_params_t r = {.n = 0};
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)p, key, val) {
        size_t mark = sk__path_key(&d.path, key);
        int idx = sk_model_param_index(model, key);
        if (idx < 0) {
            char list[200];
            sk__join_fields(list, sizeof list, model->params, model->n_params);
            return sk__fail(&d, SK_EINVAL, SK_PROTO_UNKNOWN_FIELD,
                            "not a parameter of model %s (parameters: %s)", model->name, list);
        }
        double x;
        if ((rc = sk__as_param(&d, val, &model->params[idx], &x)) != 0)
            return rc;
        r.items[r.n].name = model->params[idx].name;
        r.items[r.n++].value = x;
        sk__path_pop(&d.path, mark);
    }
    *out = r;
    return 0;
}

int sk_proto_fork_decode(const json_t *body, char name[SK_PROTO_NAME_MAX + 1],
                         sk_proto_error_t *e)
{
    static const char *const keys[] = {"name", NULL};
    sk__dec_t d;
    const json_t *v;
    const char *s;
    sk__dec_init(&d, "", NULL, e);
    int rc = sk__want_object(&d, body);
    if (rc == 0)
        rc = sk__check_keys(&d, body, keys);
    if (rc == 0)
        rc = sk__member(&d, body, "name", 1, &v);
    if (rc)
        return rc;
    sk__path_key(&d.path, "name");
    if ((rc = sk__as_name(&d, v, &s)) != 0)
        return rc;
    snprintf(name, SK_PROTO_NAME_MAX + 1, "%s", s);
    return 0;
}

int sk_proto_session_patch_decode(const json_t *body, sk_proto_session_patch_t *out,
                                  sk_proto_error_t *e)
{
    static const char *const keys[] = {"realtime", NULL};
    sk__dec_t d;
    sk__dec_init(&d, "", NULL, e);
    int realtime = 0;
    int rc = sk__want_object(&d, body);
    if (rc == 0)
        rc = sk__check_keys(&d, body, keys);
    if (rc == 0)
        rc = sk__get_bool(&d, body, "realtime", 1, &realtime);
    if (rc == 0)
        out->realtime = realtime;
    return rc;
}

int sk_proto_stimulus_patch_decode(const json_t *body, double *rate_hz, sk_proto_error_t *e)
{
    static const char *const keys[] = {"rate_hz", NULL};
    sk__dec_t d;
    sk__dec_init(&d, "", NULL, e);
    int rc = sk__want_object(&d, body);
    if (rc == 0)
        rc = sk__check_keys(&d, body, keys);
    if (rc == 0)
        rc = sk__get_double(&d, body, "rate_hz", 1, 0.0, 1e6, rate_hz);
    return rc;
}
