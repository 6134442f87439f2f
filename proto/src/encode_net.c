/* encode_net.c: everything in proto that reads an sk_net_t: the network view used by the
 * decoders, and the responses built from the network (info, step results, state slices,
 * spike pages, recorder samples, SSE spike batches). Borrowed core pointers are only used
 * inside each call (they are valid until the next step). */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define DEFAULT_VALUES 10000000ull

int sk_proto_net_view_init(sk_proto_net_view_t *v, const sk_net_t *net)
{
    sk_net_info_t ni;
    sk_net_info(net, &ni);
    memset(v, 0, sizeof *v);
    v->owned_ = calloc(ni.n_pops ? ni.n_pops : 1, sizeof *v->owned_);
    if (!v->owned_)
        return SK_ENOMEM;
    for (uint32_t k = 0; k < ni.n_pops; k++) {
        sk_pop_info_t pi;
        int rc = sk_net_pop_info(net, k, &pi);
        if (rc) {
            sk_proto_net_view_close(v);
            return rc;
        }
        v->owned_[k] = (sk_proto_pop_view_t){pi.name, pi.model, pi.size};
    }
    v->step = ni.step;
    v->dt_ms = ni.dt_ms;
    v->n_pops = ni.n_pops;
    v->pops = v->owned_;
    v->n_stims = ni.n_stims;
    v->n_recs = ni.n_recs;
    return 0;
}

void sk_proto_net_view_close(sk_proto_net_view_t *v)
{
    if (!v)
        return;
    free(v->owned_);
    memset(v, 0, sizeof *v);
}

static int fail_core(sk_proto_error_t *e, int rc)
{
    sk_proto_error_from_core(e, rc, NULL, "");
    return rc;
}

int sk_proto_info_json(const sk_net_t *net, const sk_proto_session_extra_t *x, json_t **out)
{
    sk_net_info_t ni;
    sk_net_info(net, &ni);
    sk_pop_info_t *pops = calloc(ni.n_pops + 1, sizeof *pops);
    sk_proj_info_t *projs = calloc(ni.n_projs + 1, sizeof *projs);
    sk_rec_info_t *recs = calloc(ni.n_recs + 1, sizeof *recs);
    int rc = (pops && projs && recs) ? 0 : SK_ENOMEM;
    for (uint32_t k = 0; rc == 0 && k < ni.n_pops; k++)
        rc = sk_net_pop_info(net, k, &pops[k]);
    for (uint32_t k = 0; rc == 0 && k < ni.n_projs; k++)
        rc = sk_net_proj_info(net, k, &projs[k]);
    for (uint32_t k = 0; rc == 0 && k < ni.n_recs; k++)
        rc = sk_net_rec_info(net, k, &recs[k]);
    json_t *j = rc == 0 ? sk__info_build(&ni, pops, projs, recs, x) : NULL;
    if (rc == 0 && !j)
        rc = SK_ENOMEM;
    free(pops);
    free(projs);
    free(recs);
    if (rc == 0)
        *out = j;
    return rc;
}

/* The spike list of [from, to) into a new object with from_step, to_step, first_kept,
 * spikes and next_from_step when cut. counts (optional) receive per-population totals. */
int sk__spike_page(const sk_net_t *net, const sk_proto_net_view_t *v, uint64_t from,
                      uint64_t to, int32_t pop, uint64_t limit, uint64_t *counts, json_t **out)
{
    sk__spikes_acc_t acc = {.pops = v->pops, .n_pops = v->n_pops, .pop = pop, .limit = limit,
                            .counts = counts, .dt_ms = v->dt_ms};
    uint64_t first_kept = 0;
    acc.list = json_array();
    if (!acc.list)
        return SK_ENOMEM;
    int rc = sk_net_spikes(net, from, to, &first_kept, sk__spikes_cb, &acc);
    if (acc.failed || (rc != 0 && !acc.cut)) {
        json_decref(acc.list);
        return acc.failed ? SK_ENOMEM : rc;
    }
    uint64_t end = acc.cut ? acc.next_from : to;
    json_t *o = json_pack("{s:I, s:I, s:I, s:o}", "from_step", (json_int_t)from, "to_step",
                          (json_int_t)end, "first_kept", (json_int_t)first_kept, "spikes",
                          acc.list);
    if (o && acc.cut && sk__set(o, "next_from_step", json_integer((json_int_t)acc.next_from))) {
        json_decref(o);
        o = NULL;
    }
    *out = o;
    return o ? 0 : SK_ENOMEM;
}

int sk_proto_spikes_json(const sk_net_t *net, const sk_proto_spikes_query_t *q, json_t **out,
                         sk_proto_error_t *e)
{
    sk_proto_net_view_t v;
    int rc = sk_proto_net_view_init(&v, net);
    if (rc)
        return fail_core(e, rc);
    rc = sk__spike_page(net, &v, q->from, q->to, q->pop, q->limit ? q->limit : 1000000, NULL, out);
    sk_proto_net_view_close(&v);
    return rc ? fail_core(e, rc) : 0;
}

int sk_proto_sse_spikes_json(const sk_net_t *net, uint64_t from, uint64_t to, int32_t pop,
                             json_t **out)
{
    sk_proto_net_view_t v;
    json_t *o = NULL;
    int rc = sk_proto_net_view_init(&v, net);
    if (rc == 0)
        rc = sk__spike_page(net, &v, from, to, pop, 1000000, NULL, &o);
    if (rc == 0 && sk__set(o, "t_ms", sk__real(sk__time_ms(to, v.dt_ms))))
        rc = SK_ENOMEM;
    sk_proto_net_view_close(&v);
    if (rc) {
        json_decref(o);
        return rc;
    }
    *out = o;
    return 0;
}
