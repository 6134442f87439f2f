/* encode_data.c: data responses read from a network: step results, state slices and
 * recorder samples. Float32 values go out through sk_proto_float (exact, null when not
 * finite); spike lists through the collector of encode_spikes.c. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define DEFAULT_VALUES 10000000ull

static json_t *floats_json(const float *x, size_t n)
{
    json_t *a = json_array();
    for (size_t k = 0; a && k < n; k++)
        if (sk__append(a, sk_proto_float(x[k]))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static int counts_json(const sk_proto_net_view_t *v, const uint64_t *counts, json_t *o)
{
    json_t *c = json_object();
    for (uint32_t k = 0; c && k < v->n_pops; k++)
        if (sk__set(c, v->pops[k].name, json_integer((json_int_t)counts[k]))) {
            json_decref(c);
            c = NULL;
        }
    return sk__set(o, "spike_counts", c);
}

/* Per-population spike totals since from_step: from spikes_total, or from the history. */
static int step_counts(const sk_net_t *net, const sk_proto_net_view_t *v, uint64_t from,
                       const uint64_t *before, uint64_t *counts)
{
    if (!before) {
        sk__spikes_acc_t acc = {.pops = v->pops, .n_pops = v->n_pops, .pop = -1,
                                .counts = counts};
        return sk_net_spikes(net, from, v->step, NULL, sk__spikes_cb, &acc);
    }
    for (uint32_t k = 0; k < v->n_pops; k++) {
        sk_pop_info_t pi;
        int rc = sk_net_pop_info(net, k, &pi);
        if (rc)
            return rc;
        counts[k] = pi.spikes_total - before[k];
    }
    return 0;
}

int sk_proto_step_result_json(const sk_net_t *net, uint64_t from_step,
                              const uint64_t *spikes_before, int with_spikes,
                              uint64_t max_spikes, json_t **out)
{
    sk_proto_net_view_t v;
    json_t *o = NULL;
    int rc = sk_proto_net_view_init(&v, net);
    if (rc)
        return rc;
    uint64_t *counts = calloc(v.n_pops + 1, sizeof *counts);
    rc = counts ? step_counts(net, &v, from_step, spikes_before, counts) : SK_ENOMEM;
    if (rc == 0 && with_spikes)
        rc = sk__spike_page(net, &v, from_step, v.step, -1, max_spikes ? max_spikes : 1000000,
                            NULL, &o);
    else if (rc == 0)
        o = json_pack("{s:I, s:I}", "from_step", (json_int_t)from_step, "to_step",
                      (json_int_t)v.step);
    if (rc == 0 && !o)
        rc = SK_ENOMEM;
    if (rc == 0 && with_spikes) /* to_step of the step, not of the (possibly cut) page */
        rc = sk__set(o, "to_step", json_integer((json_int_t)v.step)) ? SK_ENOMEM : 0;
    if (rc == 0 && (sk__set(o, "time_ms", sk__real(sk__time_ms(v.step, v.dt_ms))) ||
                    counts_json(&v, counts, o)))
        rc = SK_ENOMEM;
    free(counts);
    sk_proto_net_view_close(&v);
    if (rc) {
        json_decref(o);
        return rc;
    }
    *out = o;
    return 0;
}

int sk_proto_state_json(const sk_net_t *net, const sk_proto_state_query_t *q, json_t **out,
                        sk_proto_error_t *e)
{
    sk_pop_info_t pi;
    sk_net_info_t ni;
    int rc = sk_net_pop_info(net, q->pop, &pi);
    if (rc == 0 && (q->count == 0 || q->first > pi.size || pi.size - q->first < q->count))
        rc = SK_ERANGE;
    json_t *vals = rc == 0 ? json_object() : NULL;
    if (rc == 0 && !vals)
        rc = SK_ENOMEM;
    for (uint32_t k = 0; rc == 0 && k < q->n_vars; k++) {
        const float *col;
        const char *name = q->vars[k] < pi.model->n_state ? pi.model->state[q->vars[k]].name : "";
        rc = sk_net_state(net, q->pop, name, &col);
        if (rc == 0 && sk__set(vals, name, floats_json(col + q->first, q->count)))
            rc = SK_ENOMEM;
    }
    if (rc) {
        json_decref(vals);
        sk_proto_error_from_core(e, rc, NULL, "");
        return rc;
    }
    sk_net_info(net, &ni);
    *out = json_pack("{s:I, s:s, s:I, s:I, s:o}", "step", (json_int_t)ni.step, "population",
                     pi.name, "first", (json_int_t)q->first, "count", (json_int_t)q->count,
                     "values", vals);
    if (!*out) {
        sk_proto_error_from_core(e, SK_ENOMEM, NULL, "");
        return SK_ENOMEM;
    }
    return 0;
}

typedef struct samples_acc {
    json_t *list;
    const sk_model_t *model;
    const sk_rec_info_t *ri;
    uint64_t limit, n;
    int cut, failed;
    uint64_t next_from;
} samples_acc_t;

static int sample_cb(void *ctx, uint64_t step, const float *values)
{
    samples_acc_t *a = ctx;
    if (a->n == a->limit) {
        a->cut = 1;
        a->next_from = step;
        return 1;
    }
    json_t *vals = json_object();
    for (uint32_t k = 0; vals && k < a->ri->n_variables; k++) {
        uint32_t var = a->ri->variables[k];
        const char *name = var < a->model->n_state ? a->model->state[var].name : "?";
        const float *x = values + (size_t)k * a->ri->n_neurons;
        if (sk__set(vals, name, floats_json(x, a->ri->n_neurons))) {
            json_decref(vals);
            vals = NULL;
        }
    }
    if (!vals || sk__append(a->list, json_pack("{s:I, s:o}", "step", (json_int_t)step,
                                               "values", vals))) {
        a->failed = 1;
        return 1;
    }
    a->n++;
    return 0;
}

/* {recorder, population, variables, neurons, every} of recorder rec. */
static json_t *samples_head(uint32_t rec, const sk_rec_info_t *ri, const sk_pop_info_t *pi)
{
    json_t *vars = json_array(), *ids = json_array();
    int bad = !vars || !ids;
    for (uint32_t k = 0; !bad && k < ri->n_variables; k++) {
        uint32_t var = ri->variables[k];
        bad = sk__append(vars, json_string(var < pi->model->n_state ? pi->model->state[var].name
                                                                    : "?"));
    }
    for (uint32_t k = 0; !bad && k < ri->n_neurons; k++)
        bad = sk__append(ids, json_integer((json_int_t)ri->neurons[k]));
    if (bad) {
        json_decref(vars);
        json_decref(ids);
        return NULL;
    }
    return json_pack("{s:I, s:s, s:o, s:o, s:I}", "recorder", (json_int_t)rec, "population",
                     pi->name, "variables", vars, "neurons", ids, "every", (json_int_t)ri->every);
}

int sk_proto_samples_json(const sk_net_t *net, uint32_t rec, const sk_proto_samples_query_t *q,
                          json_t **out, sk_proto_error_t *e)
{
    sk_rec_info_t ri;
    sk_pop_info_t pi;
    uint64_t first_kept = 0;
    int rc = sk_net_rec_info(net, rec, &ri);
    if (rc == 0)
        rc = sk_net_pop_info(net, ri.pop, &pi);
    if (rc) {
        sk_proto_error_set(e, 404, SK_PROTO_NOT_FOUND, "", "no recorder %u", rec);
        return rc;
    }
    uint64_t per = (uint64_t)ri.n_variables * ri.n_neurons;
    samples_acc_t a = {.model = pi.model, .ri = &ri, .list = json_array()};
    a.limit = q->limit ? q->limit : (per ? DEFAULT_VALUES / per : DEFAULT_VALUES);
    a.limit = a.limit ? a.limit : 1;
    json_t *o = a.list ? samples_head(rec, &ri, &pi) : NULL;
    rc = o ? sk_net_samples(net, rec, q->from, q->to, &first_kept, sample_cb, &a) : SK_ENOMEM;
    if (a.failed)
        rc = SK_ENOMEM;
    else if (a.cut)
        rc = 0;
    if (rc == 0 &&
        (sk__set(o, "from_step", json_integer((json_int_t)q->from)) ||
         sk__set(o, "to_step", json_integer((json_int_t)(a.cut ? a.next_from : q->to))) ||
         sk__set(o, "first_kept", json_integer((json_int_t)first_kept)) ||
         sk__set(o, "samples", json_incref(a.list)) ||
         (a.cut && sk__set(o, "next_from_step", json_integer((json_int_t)a.next_from)))))
        rc = SK_ENOMEM;
    json_decref(a.list);
    if (rc) {
        json_decref(o);
        sk_proto_error_from_core(e, rc, NULL, "");
        return rc;
    }
    *out = o;
    return 0;
}
