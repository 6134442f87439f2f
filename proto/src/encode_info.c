/* encode_info.c: a session's info (GET /v1/sessions/{name}) built from plain core views
 * (sk_net_info_t, sk_pop_info_t, sk_proj_info_t, sk_rec_info_t) plus the server's own
 * fields. Pure: encode_net.c gathers the views from an sk_net_t. */
#include "internal.h"

json_t *sk__pop_info_json(const sk_pop_info_t *pi)
{
    const sk_model_t *m = pi->model;
    json_t *params = json_object();
    for (uint32_t k = 0; params && k < m->n_params; k++)
        if (sk__set(params, m->params[k].name, sk__real(pi->params[k]))) {
            json_decref(params);
            params = NULL;
        }
    if (!params)
        return NULL;
    return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:o}", "name", pi->name, "model", m->name,
                     "size", (json_int_t)pi->size, "offset", (json_int_t)pi->offset,
                     "refractory_steps", (json_int_t)pi->refractory_steps, "spikes_total",
                     (json_int_t)pi->spikes_total, "params", params);
}

static json_t *proj_json(const sk_proj_info_t *p, const sk_pop_info_t *pops)
{
    const sk_model_t *tm = pops[p->target].model;
    json_t *ch = p->channel >= 0 && (uint32_t)p->channel < tm->n_inputs
                     ? json_string(tm->inputs[p->channel])
                     : json_null();
    return json_pack("{s:s, s:s, s:I, s:I, s:s, s:o}", "source", pops[p->source].name, "target",
                     pops[p->target].name, "n_synapses", (json_int_t)p->n_synapses, "max_delay",
                     (json_int_t)p->max_delay, "storage", p->dense ? "dense" : "sparse",
                     "channel", ch);
}

static json_t *rec_json(const sk_rec_info_t *r, const sk_pop_info_t *pops)
{
    const sk_model_t *m = pops[r->pop].model;
    json_t *vars = json_array();
    for (uint32_t k = 0; vars && k < r->n_variables; k++) {
        uint32_t v = r->variables[k];
        if (sk__append(vars, json_string(v < m->n_state ? m->state[v].name : "?"))) {
            json_decref(vars);
            vars = NULL;
        }
    }
    if (!vars)
        return NULL;
    return json_pack("{s:s, s:o, s:I, s:I, s:I, s:I}", "population", pops[r->pop].name,
                     "variables", vars, "n_neurons", (json_int_t)r->n_neurons, "every",
                     (json_int_t)r->every, "samples_kept", (json_int_t)r->samples_kept,
                     "samples_dropped", (json_int_t)r->samples_dropped);
}

static json_t *lists(const sk_net_info_t *ni, const sk_pop_info_t *pops,
                     const sk_proj_info_t *projs, const sk_rec_info_t *recs)
{
    json_t *ap = json_array(), *aj = json_array(), *ar = json_array();
    int bad = !ap || !aj || !ar;
    for (uint32_t k = 0; !bad && k < ni->n_pops; k++)
        bad = sk__append(ap, sk__pop_info_json(&pops[k]));
    for (uint32_t k = 0; !bad && k < ni->n_projs; k++)
        bad = sk__append(aj, proj_json(&projs[k], pops));
    for (uint32_t k = 0; !bad && k < ni->n_recs; k++)
        bad = sk__append(ar, rec_json(&recs[k], pops));
    if (bad) {
        json_decref(ap);
        json_decref(aj);
        json_decref(ar);
        return NULL;
    }
    return json_pack("{s:o, s:o, s:o}", "populations", ap, "projections", aj, "recorders", ar);
}

json_t *sk__info_build(const sk_net_info_t *ni, const sk_pop_info_t *pops,
                       const sk_proj_info_t *projs, const sk_rec_info_t *recs,
                       const sk_proto_session_extra_t *x)
{
    json_t *o = json_pack(
        "{s:s, s:s, s:I, s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "name",
        x && x->name ? x->name : "", "status", x && x->status ? x->status : "idle", "step",
        (json_int_t)ni->step, "time_ms", sk__real(sk__time_ms(ni->step, ni->dt_ms)), "dt",
        sk__real(ni->dt_ms), "seed", (json_int_t)ni->seed, "n_neurons", (json_int_t)ni->n_neurons,
        "n_synapses", (json_int_t)ni->n_synapses, "bytes", (json_int_t)ni->bytes, "spikes_total",
        (json_int_t)ni->spikes_total, "pending_inputs", (json_int_t)ni->pending, "n_stimuli",
        (json_int_t)ni->n_stims);
    json_t *l = o ? lists(ni, pops, projs, recs) : NULL;
    if (!l || json_object_update(o, l)) {
        json_decref(l);
        json_decref(o);
        return NULL;
    }
    json_decref(l);
    if (sk__set(o, "realtime", json_boolean(x && x->realtime))) {
        json_decref(o);
        return NULL;
    }
    if (x && x->job && sk__set(o, "job", sk_proto_job_json(x->job))) {
        json_decref(o);
        return NULL;
    }
    return o;
}
