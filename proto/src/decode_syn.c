/* decode_syn.c: plastic synapses in the protocol. The "synapse" member of a projection
 * ({"model": "stdp_synapse", "params": {...}}), the PATCH of a projection's synapse
 * parameters (freeze learning with lambda = 0), weight updates, and a projection's
 * connections as data: a JSON page of columns and a little-endian binary form.
 *
 * Names and ranges come from the synapse descriptors (sk_synapse.h); nothing here names a
 * synapse model. Errors name the field: "network.projections[0].synapse.params.lambda".
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "spiked/sk_synapse.h"

static void join_synapses(char *buf, size_t cap)
{
    size_t pos = (size_t)snprintf(buf, cap, "static_synapse");
    for (uint32_t k = 0; k < sk_synapse_count() && pos < cap; k++)
        pos += (size_t)snprintf(buf + pos, cap - pos, ", %s", sk_synapse_at(k)->name);
}

/* params: {name: number}, each a parameter of syn within its range, into items[0..n). */
static int decode_syn_params(sk__dec_t *d, const json_t *p, const sk_synapse_t *syn,
                             sk_param_t *items, uint32_t *n)
{
    int rc = sk__want_object(d, p);
    if (rc)
        return rc;
    const char *key;
    json_t *val;
    *n = 0;
    json_object_foreach((json_t *)p, key, val) {
        size_t mark = sk__path_key(&d->path, key);
        uint32_t idx = 0;
        while (idx < syn->n_params && strcmp(syn->params[idx].name, key) != 0)
            idx++;
        if (idx == syn->n_params) {
            char list[200];
            sk__join_fields(list, sizeof list, syn->params, syn->n_params);
            return sk__fail(d, SK_EINVAL, SK_PROTO_UNKNOWN_FIELD,
                            "not a parameter of %s (parameters: %s)", syn->name, list);
        }
        double x;
        if ((rc = sk__as_param(d, val, &syn->params[idx], &x)) != 0)
            return rc;
        items[*n].name = syn->params[idx].name;
        items[(*n)++].value = x;
        sk__path_pop(&d->path, mark);
    }
    return 0;
}

int sk__decode_synapse(sk__dec_t *d, const json_t *proj, const sk_model_t *target,
                       sk_proj_spec_t *out)
{
    static const char *const keys[] = {"model", "params", NULL};
    const json_t *s = json_object_get(proj, "synapse"), *m, *p;
    if (!s)
        return 0;
    size_t mark = sk__path_key(&d->path, "synapse");
    const char *name;
    int rc = sk__want_object(d, s);
    if (rc == 0)
        rc = sk__check_keys(d, s, keys);
    if (rc == 0)
        rc = sk__member(d, s, "model", 1, &m);
    if (rc)
        return rc;
    size_t mm = sk__path_key(&d->path, "model");
    if ((rc = sk__as_string(d, m, SK_PROTO_NAME_MAX, &name)) != 0)
        return rc;
    const sk_synapse_t *syn = sk_synapse_find(name);
    if (!syn && strcmp(name, "static_synapse") != 0) {
        char list[200];
        join_synapses(list, sizeof list);
        return sk__fail(d, SK_ENOENT, SK_PROTO_INVALID_FIELD,
                        "unknown synapse model \"%s\" (models: %s)", name, list);
    }
    for (uint32_t k = 0; syn && k < syn->n_post_params; k++)
        if (sk_model_param_index(target, syn->post_params[k]) < 0)
            return sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD,
                            "%s needs the target neurons' parameter %s, which model %s lacks "
                            "(the NEST models have it)", syn->name, syn->post_params[k],
                            target->name);
    sk__path_pop(&d->path, mm);
    p = json_object_get(s, "params");
    if (p && !syn) {
        size_t mp = sk__path_key(&d->path, "params");
        if ((rc = sk__want_object(d, p)) != 0)
            return rc;
        if (json_object_size(p))
            return sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD,
                            "static_synapse has no parameters");
        sk__path_pop(&d->path, mp);
    }
    out->synapse = syn ? syn->name : NULL;
    if (syn && p) {
        sk_param_t *items = sk__arena_alloc(d->arena, SK_SYN_MAX_PARAMS, sizeof *items);
        if (!items)
            return sk__oom(d);
        size_t mp = sk__path_key(&d->path, "params");
        if ((rc = decode_syn_params(d, p, syn, items, &out->n_synapse_params)) != 0)
            return rc;
        sk__path_pop(&d->path, mp);
        out->synapse_params = items;
    }
    sk__path_pop(&d->path, mark);
    return 0;
}

int sk_proto_syn_params_decode(const json_t *body, const sk_synapse_t *syn,
                               sk_proto_syn_params_t *out, sk_proto_error_t *e)
{
    static const char *const keys[] = {"synapse", NULL}, *const skeys[] = {"params", NULL};
    sk__dec_t d;
    const json_t *s, *p;
    sk__dec_init(&d, "", NULL, e);
    int rc = sk__want_object(&d, body);
    if (rc == 0)
        rc = sk__check_keys(&d, body, keys);
    if (rc == 0)
        rc = sk__member(&d, body, "synapse", 1, &s);
    if (rc)
        return rc;
    sk__path_key(&d.path, "synapse");
    if (!syn)
        return sk__fail(&d, SK_EINVAL, SK_PROTO_INVALID_FIELD,
                        "the projection is a static_synapse: it has no synapse parameters");
    if ((rc = sk__want_object(&d, s)) != 0 || (rc = sk__check_keys(&d, s, skeys)) != 0 ||
        (rc = sk__member(&d, s, "params", 1, &p)) != 0)
        return rc;
    sk__path_key(&d.path, "params");
    if (json_is_object(p) && json_object_size(p) == 0)
        return sk__fail(&d, SK_EINVAL, SK_PROTO_INVALID_FIELD, "must name at least one parameter");
    sk_proto_syn_params_t r = {.n = 0};
    if ((rc = decode_syn_params(&d, p, syn, r.items, &r.n)) != 0)
        return rc;
    *out = r;
    return 0;
}

int sk_proto_weights_decode(const json_t *body, uint64_t n_synapses, sk_proto_weights_t *out,
                            sk_proto_error_t *e)
{
    static const char *const keys[] = {"weights", "index", "first", "draw", NULL};
    sk__dec_t d;
    const json_t *w, *ix;
    sk__dec_init(&d, "", NULL, e);
    sk_proto_weights_t r = {0};
    int rc = sk__want_object(&d, body);
    if (rc == 0)
        rc = sk__check_keys(&d, body, keys);
    if (rc == 0)
        rc = sk__member(&d, body, "weights", 1, &w);
    if (rc == 0)
        rc = sk__get_u64(&d, body, "first", 0, 0, n_synapses, &r.first);
    if (rc == 0)
        rc = sk__get_u32(&d, body, "draw", 0, 0, UINT32_MAX, &r.draw);
    if (rc)
        return rc;
    ix = json_object_get(body, "index");
    if (ix && json_object_get(body, "first")) {
        sk__path_key(&d.path, "first");
        return sk__fail(&d, SK_EINVAL, SK_PROTO_INVALID_FIELD, "give \"index\" or \"first\", not both");
    }
    if (ix) {
        size_t mark = sk__path_key(&d.path, "index"), n;
        if ((rc = sk__as_array(&d, ix, n_synapses ? n_synapses : 1, &n)) != 0)
            return rc;
        if (!(r.index = malloc((n ? n : 1) * sizeof *r.index)))
            return sk__oom(&d);
        for (size_t k = 0; k < n; k++) {
            size_t mk = sk__path_index(&d.path, k);
            if ((rc = sk__as_u64(&d, json_array_get(ix, k), 0, n_synapses ? n_synapses - 1 : 0,
                                 &r.index[k])) != 0 || n_synapses == 0) {
                free(r.index);
                return rc ? rc : sk__fail(&d, SK_ERANGE, SK_PROTO_INVALID_FIELD, "no synapses");
            }
            sk__path_pop(&d.path, mk);
        }
        r.n = n;
        sk__path_pop(&d.path, mark);
    } else {
        r.n = n_synapses - r.first;
    }
    size_t mark = sk__path_key(&d.path, "weights");
    if (json_is_object(w)) {
        r.has_dist = 1;
        rc = sk__decode_dist(&d, w, 1, &r.dist);
    } else if (json_is_number(w)) {
        r.n_w = 1;
        r.w = malloc(sizeof *r.w);
        if (!r.w) {
            free(r.index);
            return sk__oom(&d);
        }
        rc = sk__as_double(&d, w, -3.4e38, 3.4e38, &r.w[0]);
    } else {
        size_t n = 0;
        rc = sk__as_array(&d, w, r.n, &n);
        if (rc == 0 && n != r.n)
            rc = sk__fail(&d, SK_EINVAL, SK_PROTO_INVALID_FIELD,
                          "needs one weight or %llu (one per synapse addressed), got %zu",
                          (unsigned long long)r.n, n);
        if (rc == 0 && !(r.w = malloc((n ? n : 1) * sizeof *r.w)))
            rc = sk__oom(&d);
        for (size_t k = 0; rc == 0 && k < n; k++) {
            size_t mk = sk__path_index(&d.path, k);
            rc = sk__as_double(&d, json_array_get(w, k), -3.4e38, 3.4e38, &r.w[k]);
            if (rc == 0)
                sk__path_pop(&d.path, mk);
        }
        r.n_w = n;
    }
    if (rc) {
        free(r.index);
        free(r.w);
        return rc;
    }
    sk__path_pop(&d.path, mark);
    *out = r;
    return 0;
}

void sk_proto_weights_close(sk_proto_weights_t *w)
{
    if (!w)
        return;
    free(w->index);
    free(w->w);
    memset(w, 0, sizeof *w);
}

/* ------------------------------------------------------------------------------------ */
/* Connections as data                                                                   */

#define CONN_PAGE 4096u /* connections read from the core at a time */

int sk_proto_connections_encode(const sk_net_t *net, uint32_t proj, uint64_t first,
                                uint64_t count, json_t **out)
{
    sk_proj_info_t pi;
    sk_proj_syn_info_t si;
    if (sk_net_proj_info(net, proj, &pi) || sk_net_proj_syn(net, proj, &si))
        return SK_ENOENT;
    const uint64_t total = pi.n_synapses;
    const uint64_t n = first >= total ? 0 : total - first < count ? total - first : count;
    const uint32_t ns = si.syn ? si.syn->n_state : 1;
    json_t *o = json_object(), *pre = json_array(), *post = json_array(), *delay = json_array(),
           *state[SK_SYN_MAX_STATE] = {0}, *st = json_object();
    int bad = !o || !pre || !post || !delay || !st;
    for (uint32_t j = 0; j < ns; j++)
        bad |= !(state[j] = json_array());
    sk_conn_t *buf = bad ? NULL : malloc(CONN_PAGE * sizeof *buf);
    bad |= !buf;
    for (uint64_t at = 0; !bad && at < n; at += CONN_PAGE) {
        uint64_t got = 0, want = n - at < CONN_PAGE ? n - at : CONN_PAGE;
        sk_net_conns(net, proj, first + at, want, buf, &got);
        for (uint64_t k = 0; !bad && k < got; k++) {
            bad |= sk__append(pre, json_integer(buf[k].pre)) ||
                   sk__append(post, json_integer(buf[k].post)) ||
                   sk__append(delay, json_integer(buf[k].delay));
            for (uint32_t j = 0; !bad && j < ns; j++)
                bad |= sk__append(state[j], sk__real(buf[k].state[j]));
        }
    }
    free(buf);
    if (!bad)
        bad = sk__set(o, "projection", json_integer(proj)) ||
              sk__set(o, "synapse", json_string(si.syn ? si.syn->name : "static_synapse")) ||
              sk__set(o, "total", json_integer((json_int_t)total)) ||
              sk__set(o, "first", json_integer((json_int_t)first)) ||
              sk__set(o, "count", json_integer((json_int_t)n)) ||
              sk__set(o, "lost_updates", json_integer((json_int_t)si.lost));
    if (!bad) {
        bad = sk__set(o, "pre", pre) || sk__set(o, "post", post) || sk__set(o, "delay", delay);
        pre = post = delay = NULL;
    }
    for (uint32_t j = 0; !bad && j < ns; j++) { /* weight at the top, the rest under state */
        json_t *col = state[j];
        state[j] = NULL;
        bad = j == 0 ? sk__set(o, "weight", col)
                     : sk__set(st, si.syn->state[j].name, col);
    }
    if (!bad) {
        bad = sk__set(o, "state", st);
        st = NULL;
    }
    json_decref(pre);
    json_decref(post);
    json_decref(delay);
    json_decref(st);
    for (uint32_t j = 0; j < ns; j++)
        json_decref(state[j]);
    if (bad) {
        json_decref(o);
        return SK_ENOMEM;
    }
    *out = o;
    return 0;
}

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

int sk_proto_connections_binary(const sk_net_t *net, uint32_t proj, uint64_t first,
                                uint64_t count, void **out, size_t *len)
{
    sk_proj_info_t pi;
    sk_proj_syn_info_t si;
    if (sk_net_proj_info(net, proj, &pi) || sk_net_proj_syn(net, proj, &si))
        return SK_ENOENT;
    const uint64_t total = pi.n_synapses;
    const uint64_t n = first >= total ? 0 : total - first < count ? total - first : count;
    const uint32_t ns = si.syn ? si.syn->n_state : 1;
    const size_t head = 8 + 8 + 8 + 8 + 4 + 4, size = head + (size_t)n * (12 + 8u * ns);
    uint8_t *b = malloc(size), *p;
    sk_conn_t *buf = malloc(CONN_PAGE * sizeof *buf);
    if (!b || !buf) {
        free(b);
        free(buf);
        return SK_ENOMEM;
    }
    memcpy(b, "SKCONN1\0", 8);
    put_le(b + 8, total, 8);
    put_le(b + 16, first, 8);
    put_le(b + 24, n, 8);
    put_le(b + 32, ns, 4);
    put_le(b + 36, 0, 4);
    for (uint64_t at = 0; at < n; at += CONN_PAGE) {
        uint64_t got = 0, want = n - at < CONN_PAGE ? n - at : CONN_PAGE;
        sk_net_conns(net, proj, first + at, want, buf, &got);
        for (uint64_t k = 0; k < got; k++) {
            const uint64_t i = at + k;
            put_le(b + head + 4 * i, buf[k].pre, 4);
            put_le(b + head + 4 * (n + i), buf[k].post, 4);
            put_le(b + head + 4 * (2 * n + i), buf[k].delay, 4);
            for (uint32_t j = 0; j < ns; j++) {
                uint64_t bits;
                memcpy(&bits, &buf[k].state[j], 8);
                p = b + head + 12 * n + 8 * ((size_t)j * n + i);
                put_le(p, bits, 8);
            }
        }
    }
    free(buf);
    *out = b;
    *len = size;
    return 0;
}

/* ------------------------------------------------------------------------------------ */
/* Weight recorders                                                                      */

int sk_proto_wrec_decode(const json_t *body, uint32_t proj, uint64_t n_synapses,
                         sk_proto_wrec_t *out, sk_proto_error_t *e)
{
    static const char *const keys[] = {"every", "index", "max_values", NULL};
    sk__dec_t d;
    sk__dec_init(&d, "", NULL, e);
    sk_proto_wrec_t r = {.spec = {.proj = proj}};
    const json_t *ix;
    int rc = sk__want_object(&d, body);
    if (rc == 0)
        rc = sk__check_keys(&d, body, keys);
    if (rc == 0)
        rc = sk__get_u32(&d, body, "every", 1, 1, UINT32_MAX, &r.spec.every);
    if (rc == 0)
        rc = sk__get_u64(&d, body, "max_values", 0, 1, UINT64_MAX, &r.spec.max_values);
    if (rc)
        return rc;
    if ((ix = json_object_get(body, "index")) != NULL) {
        size_t mark = sk__path_key(&d.path, "index"), n;
        if ((rc = sk__as_array(&d, ix, n_synapses ? n_synapses : 1, &n)) != 0)
            return rc;
        if (n == 0 || n_synapses == 0)
            return sk__fail(&d, SK_EINVAL, SK_PROTO_INVALID_FIELD, "must name a synapse");
        if (!(r.index_ = malloc(n * sizeof *r.index_)))
            return sk__oom(&d);
        for (size_t k = 0; k < n; k++) {
            size_t mk = sk__path_index(&d.path, k);
            if ((rc = sk__as_u64(&d, json_array_get(ix, k), 0, n_synapses - 1, &r.index_[k]))) {
                free(r.index_);
                return rc;
            }
            sk__path_pop(&d.path, mk);
        }
        sk__path_pop(&d.path, mark);
        r.spec.index = r.index_;
        r.spec.n_index = n;
    }
    *out = r;
    return 0;
}

void sk_proto_wrec_close(sk_proto_wrec_t *w)
{
    if (!w)
        return;
    free(w->index_);
    memset(w, 0, sizeof *w);
}

typedef struct wrec_acc {
    json_t *steps, *weights;
    uint64_t n;
    int bad;
} wrec_acc_t;

static int wrec_cb(void *ctx, uint64_t step, const double *w)
{
    wrec_acc_t *a = ctx;
    json_t *row = json_array();
    a->bad |= !row || sk__append(a->steps, json_integer((json_int_t)step));
    for (uint64_t k = 0; !a->bad && k < a->n; k++)
        a->bad |= sk__append(row, sk__real(w[k]));
    if (row && !a->bad)
        a->bad |= sk__append(a->weights, row);
    else
        json_decref(row);
    return a->bad;
}

int sk_proto_wrec_encode(const sk_net_t *net, uint32_t id, uint64_t from, uint64_t to,
                         json_t **out)
{
    sk_wrec_info_t wi;
    if (sk_net_wrec_info(net, id, &wi))
        return SK_ENOENT;
    wrec_acc_t a = {.steps = json_array(), .weights = json_array(), .n = wi.n_synapses};
    json_t *o = json_object();
    uint64_t first = UINT64_MAX;
    a.bad = !o || !a.steps || !a.weights;
    if (!a.bad)
        sk_net_wrec_samples(net, id, from, to, &first, wrec_cb, &a);
    if (!a.bad)
        a.bad = sk__set(o, "id", json_integer(id)) ||
                sk__set(o, "projection", json_integer(wi.proj)) ||
                sk__set(o, "every", json_integer(wi.every)) ||
                sk__set(o, "synapses", json_integer((json_int_t)wi.n_synapses)) ||
                sk__set(o, "capacity", json_integer((json_int_t)wi.cap)) ||
                sk__set(o, "samples_kept", json_integer((json_int_t)wi.samples_kept)) ||
                sk__set(o, "samples_dropped", json_integer((json_int_t)wi.samples_dropped)) ||
                sk__set(o, "first_kept_step",
                        first == UINT64_MAX ? json_null() : json_integer((json_int_t)first));
    if (!a.bad) {
        a.bad = sk__set(o, "steps", a.steps) || sk__set(o, "weights", a.weights);
        a.steps = a.weights = NULL;
    }
    json_decref(a.steps);
    json_decref(a.weights);
    if (a.bad) {
        json_decref(o);
        return SK_ENOMEM;
    }
    *out = o;
    return 0;
}
