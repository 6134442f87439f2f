/* encode_misc.c: responses that need no network: /v1/models (from the registry only), jobs,
 * stimulus patches, SSE lifecycle and dropped events, and the SSE text framing. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* A bound of a field: a number, or null when infinite. */
static json_t *bound(double x)
{
    return isinf(x) ? json_null() : sk__real(x);
}

static json_t *param_json(const sk_field_t *f)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int bad = sk__set(o, "name", json_string(f->name)) || sk__set(o, "unit", json_string(f->unit)) ||
              sk__set(o, "default", bound(f->dflt)) || sk__set(o, "minimum", bound(f->lo)) ||
              sk__set(o, "maximum", bound(f->hi)) ||
              sk__set(o, "exclusive_minimum", json_boolean(f->flags & SK_FIELD_LO_OPEN)) ||
              sk__set(o, "exclusive_maximum", json_boolean(f->flags & SK_FIELD_HI_OPEN)) ||
              sk__set(o, "doc", json_string(f->doc ? f->doc : ""));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *state_json(const sk_field_t *f)
{
    json_t *o = json_pack("{s:s, s:s, s:s}", "name", f->name, "unit", f->unit, "doc",
                          f->doc ? f->doc : "");
    if (o && (f->flags & SK_FIELD_LO_PART)) { /* "V_m_lo" is the low part of "V_m" */
        const size_t len = strlen(f->name);
        if (len > 3 && sk__set(o, "low_part_of", json_stringn(f->name, len - 3))) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

json_t *sk_proto_model_json(const sk_model_t *m)
{
    json_t *params = json_array(), *state = json_array(), *inputs = json_array();
    int bad = !params || !state || !inputs;
    for (uint32_t k = 0; !bad && k < m->n_params; k++)
        bad = sk__append(params, param_json(&m->params[k]));
    for (uint32_t k = 0; !bad && k < m->n_state; k++)
        bad = sk__append(state, state_json(&m->state[k]));
    for (uint32_t k = 0; !bad && k < m->n_inputs; k++)
        bad = sk__append(inputs, json_string(m->inputs[k]));
    if (bad) {
        json_decref(params);
        json_decref(state);
        json_decref(inputs);
        return NULL;
    }
    char fp[17];
    snprintf(fp, sizeof fp, "%016llx", (unsigned long long)m->fingerprint);
    /* a model whose state has low parts (SK_FIELD_LO_PART) computes in float64 */
    int f64 = 0;
    for (uint32_t k = 0; k < m->n_state; k++)
        f64 |= (m->state[k].flags & SK_FIELD_LO_PART) != 0;
    json_t *current = m->current_input >= 0 ? json_string(m->inputs[m->current_input]) : json_null();
    return json_pack("{s:s, s:s, s:s, s:s, s:b, s:o, s:o, s:o, s:i, s:s, s:s, s:o}", "name", m->name,
                     "summary", m->summary ? m->summary : "", "reference",
                     m->reference ? m->reference : "", "time_unit", m->time_unit, "sign_split",
                     (m->flags & SK_MODEL_SIGN_SPLIT) != 0, "inputs", inputs, "params", params,
                     "state", state, "version", (json_int_t)m->version, "fingerprint", fp,
                     "precision", f64 ? "float64" : "float32", "current_input", current);
}

json_t *sk_proto_models_json(void)
{
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    for (uint32_t k = 0; k < sk_model_count(); k++)
        if (sk__append(arr, sk_proto_model_json(sk_model_at(k)))) {
            json_decref(arr);
            return NULL;
        }
    return json_pack("{s:o}", "models", arr);
}

json_t *sk_proto_job_json(const sk_proto_job_t *job)
{
    json_t *o = json_pack("{s:I, s:s, s:I, s:I, s:o}", "id", (json_int_t)job->id, "state",
                          job->state ? job->state : "queued", "done", (json_int_t)job->done,
                          "total", (json_int_t)job->total, "steps_per_s", sk__real(job->steps_per_s));
    if (o && job->error && sk__set(o, "error", json_string(job->error))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *sk_proto_stimulus_json(uint32_t index, double rate_hz)
{
    return json_pack("{s:I, s:o}", "index", (json_int_t)index, "rate_hz", sk__real(rate_hz));
}

json_t *sk_proto_lifecycle_json(const char *event, const char *session, uint64_t step)
{
    return json_pack("{s:s, s:s, s:I}", "event", event ? event : "", "session",
                     session ? session : "", "step", (json_int_t)step);
}

json_t *sk_proto_dropped_json(uint64_t from_step, uint64_t to_step, uint64_t count,
                              uint64_t events)
{
    json_t *j = json_pack("{s:I}", "count", (json_int_t)count);
    if (j && count &&
        (sk__set(j, "from_step", json_integer((json_int_t)from_step)) ||
         sk__set(j, "to_step", json_integer((json_int_t)to_step)))) {
        json_decref(j);
        return NULL;
    }
    if (j && events && sk__set(j, "events", json_integer((json_int_t)events))) {
        json_decref(j);
        return NULL;
    }
    return j;
}

char *sk_proto_sse_format(const char *event, const char *id, const json_t *data, size_t *len)
{
    size_t n;
    char *body = sk_proto_dumps(data, &n);
    if (!body || !event || strpbrk(event, "\r\n") || (id && strpbrk(id, "\r\n"))) {
        free(body);
        return NULL;
    }
    size_t cap = n + strlen(event) + (id ? strlen(id) : 0) + 32;
    char *out = malloc(cap);
    if (out) {
        int w = id ? snprintf(out, cap, "id: %s\nevent: %s\ndata: %s\n\n", id, event, body)
                   : snprintf(out, cap, "event: %s\ndata: %s\n\n", event, body);
        if (len)
            *len = (size_t)w;
    }
    free(body);
    return out;
}
