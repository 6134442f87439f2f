/* network.c: replays the network (plasticity) files of golden-nest/README.md ("kind":
 * "network") through the core's network API, as a user would build them:
 *
 *   populations   "spike_source" -> model spike_source with a spike_times stimulus that
 *                 forces each listed step; any other model from the registry with the
 *                 file's params (each must be a parameter of the model) and its
 *                 initial_state as per-neuron values (SK_INIT_VALUES);
 *   projections   the explicit connection list (pre, post, weight, delay steps), sparse,
 *                 no channel (NEST routes each event by the sign of its weight, as the sign
 *                 split does); "synapse.model"/"params" become the projection's synapse;
 *   stepping      chunks of `chunk` steps (never past a record_weight_step), on a pool of
 *                 `threads` threads; with chunk 1 every step's post state is compared and
 *                 every transmission (sk_net_track_sent) against "transmitted";
 *   comparison    spikes of every population exactly (sk_net_spikes), post state and
 *                 weights/transmitted within CONF_TOL_REL * max(1, |ref|).
 * A file index of a connection is mapped to the projection's synapse index by (pre, post)
 * (the k-th occurrence of a pair to the k-th synapse of that pair).
 * The digest covers the spikes, the final post state and the weights at the record steps
 * (bits): runs with other thread counts and chunks must give the same digest.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance.h"
#include "sk_pool.h"
#include "spiked/sk_net.h"
#include "spiked/sk_synapse.h"

#define MAXP 8

typedef struct netfile {
    uint32_t n_pops, n_projs, n_steps;
    double dt;
    sk_pop_spec_t pops[MAXP];
    sk_param_t params[MAXP][SK_MODEL_MAX_PARAMS];
    sk_init_t init[MAXP][SK_MODEL_MAX_STATE];
    float *init_vals[MAXP][SK_MODEL_MAX_STATE];
    sk_stim_spec_t stims[MAXP];
    uint32_t n_stims;
    uint64_t *times[MAXP];
    uint32_t *sneur[MAXP];
    sk_proj_spec_t projs[MAXP];
    sk_param_t sparams[MAXP][SK_SYN_MAX_PARAMS];
    uint32_t *pre[MAXP], *post[MAXP], *delay[MAXP];
    float *w[MAXP];
    uint64_t *map[MAXP]; /* file connection index -> synapse index */
} netfile_t;

static void free_file(netfile_t *f)
{
    for (uint32_t k = 0; k < MAXP; k++) {
        for (uint32_t j = 0; j < SK_MODEL_MAX_STATE; j++)
            free(f->init_vals[k][j]);
        free(f->times[k]);
        free(f->sneur[k]);
        free(f->pre[k]);
        free(f->post[k]);
        free(f->delay[k]);
        free(f->w[k]);
        free(f->map[k]);
    }
}

static int dnum(const json_t *v, double *out)
{
    if (json_is_real(v))
        *out = json_real_value(v);
    else if (json_is_integer(v))
        *out = (double)json_integer_value(v);
    else if (json_is_true(v) || json_is_false(v))
        *out = json_is_true(v) ? 1.0 : 0.0;
    else if (json_is_string(v) && strcmp(json_string_value(v), "inf") == 0)
        *out = INFINITY;
    else if (json_is_string(v) && strcmp(json_string_value(v), "-inf") == 0)
        *out = -INFINITY;
    else
        return -1;
    return 0;
}

static int load(const json_t *root, conf_find_fn find, netfile_t *f, char *why, size_t len)
{
    const json_t *pops = json_object_get(root, "populations");
    const json_t *projs = json_object_get(root, "projections");
    const json_t *steps = json_object_get(root, "n_steps");
    if (dnum(json_object_get(root, "dt"), &f->dt) || !(f->dt > 0))
        return conf_fail(why, len, "malformed: \"dt\"");
    if (!json_is_integer(steps) || json_integer_value(steps) < 1 ||
        json_integer_value(steps) > 100000000)
        return conf_fail(why, len, "malformed: \"n_steps\"");
    f->n_steps = (uint32_t)json_integer_value(steps);
    if (!json_is_array(pops) || json_array_size(pops) < 1 || json_array_size(pops) > MAXP)
        return conf_fail(why, len, "malformed: \"populations\" (1 to %d)", MAXP);
    if (!json_is_array(projs) || json_array_size(projs) > MAXP)
        return conf_fail(why, len, "malformed: \"projections\" (at most %d)", MAXP);
    f->n_pops = (uint32_t)json_array_size(pops);
    for (uint32_t k = 0; k < f->n_pops; k++) {
        const json_t *p = json_array_get(pops, k);
        sk_pop_spec_t *ps = &f->pops[k];
        ps->name = json_string_value(json_object_get(p, "name"));
        ps->model = json_string_value(json_object_get(p, "model"));
        if (!ps->name || !ps->model)
            return conf_fail(why, len, "malformed: populations[%u] needs name and model", k);
        if (strcmp(ps->model, "spike_source") == 0) {
            const json_t *ss = json_object_get(p, "spike_steps");
            if (!json_is_array(ss) || json_array_size(ss) < 1)
                return conf_fail(why, len, "malformed: populations[%u].spike_steps", k);
            ps->size = (uint32_t)json_array_size(ss);
            size_t total = 0;
            for (size_t i = 0; i < json_array_size(ss); i++)
                total += json_array_size(json_array_get(ss, i));
            f->times[k] = calloc(total + 1, sizeof(uint64_t));
            f->sneur[k] = calloc(total + 1, sizeof(uint32_t));
            if (!f->times[k] || !f->sneur[k])
                return conf_fail(why, len, "out of memory");
            size_t n = 0;
            for (size_t i = 0; i < json_array_size(ss); i++) {
                const json_t *row = json_array_get(ss, i);
                for (size_t j = 0; j < json_array_size(row); j++) {
                    const json_t *v = json_array_get(row, j);
                    if (!json_is_integer(v) || json_integer_value(v) < 0)
                        return conf_fail(why, len, "malformed: populations[%u].spike_steps", k);
                    f->times[k][n] = (uint64_t)json_integer_value(v);
                    f->sneur[k][n++] = (uint32_t)i;
                }
            }
            if (n) {
                sk_stim_spec_t *st = &f->stims[f->n_stims++];
                st->kind = SK_STIM_SPIKE_TIMES;
                st->target = ps->name;
                st->times = f->times[k];
                st->spike_neurons = f->sneur[k];
                st->n_times = (uint32_t)n;
            }
            continue;
        }
        const sk_model_t *m = find(ps->model);
        if (!m)
            return conf_fail(why, len, "unknown model \"%s\"", ps->model);
        const json_t *par = json_object_get(p, "params"), *init = json_object_get(p, "initial_state");
        const char *key;
        const json_t *v;
        json_object_foreach((json_t *)par, key, v) {
            if (ps->n_params >= SK_MODEL_MAX_PARAMS)
                return conf_fail(why, len, "too many params");
            double x;
            if (dnum(v, &x))
                return conf_fail(why, len, "malformed: populations[%u].params.%s", k, key);
            f->params[k][ps->n_params].name = key;
            f->params[k][ps->n_params++].value = x;
        }
        ps->params = f->params[k];
        ps->size = 0;
        json_object_foreach((json_t *)init, key, v) {
            if (!json_is_array(v) || json_array_size(v) < 1)
                return conf_fail(why, len, "malformed: populations[%u].initial_state.%s", k, key);
            if (ps->size && ps->size != json_array_size(v))
                return conf_fail(why, len, "populations[%u].initial_state: sizes differ", k);
            ps->size = (uint32_t)json_array_size(v);
            if (ps->n_init >= SK_MODEL_MAX_STATE)
                return conf_fail(why, len, "too many state variables");
            float *vals = calloc(ps->size, sizeof(float));
            if (!vals)
                return conf_fail(why, len, "out of memory");
            f->init_vals[k][ps->n_init] = vals;
            for (uint32_t i = 0; i < ps->size; i++) {
                double x = 0;
                if (dnum(json_array_get(v, i), &x))
                    return conf_fail(why, len, "malformed: initial_state.%s", key);
                vals[i] = (float)x;
            }
            sk_init_t *in = &f->init[k][ps->n_init++];
            in->var = key;
            in->kind = SK_INIT_VALUES;
            in->values = vals;
            in->n_values = ps->size;
        }
        ps->init = f->init[k];
        if (!ps->size)
            return conf_fail(why, len, "populations[%u]: initial_state gives no size", k);
    }
    f->n_projs = (uint32_t)json_array_size(projs);
    for (uint32_t k = 0; k < f->n_projs; k++) {
        const json_t *p = json_array_get(projs, k);
        sk_proj_spec_t *ps = &f->projs[k];
        const json_t *conns = json_object_get(p, "connections");
        const json_t *syn = json_object_get(p, "synapse");
        ps->source = json_string_value(json_object_get(p, "source"));
        ps->target = json_string_value(json_object_get(p, "target"));
        if (!ps->source || !ps->target || !json_is_array(conns) || json_array_size(conns) < 1)
            return conf_fail(why, len, "malformed: projections[%u]", k);
        const size_t n = json_array_size(conns);
        f->pre[k] = calloc(n, 4);
        f->post[k] = calloc(n, 4);
        f->delay[k] = calloc(n, 4);
        f->w[k] = calloc(n, 4);
        f->map[k] = calloc(n, 8);
        if (!f->pre[k] || !f->post[k] || !f->delay[k] || !f->w[k] || !f->map[k])
            return conf_fail(why, len, "out of memory");
        for (size_t i = 0; i < n; i++) {
            const json_t *c = json_array_get(conns, i);
            double a, b, w, d;
            if (json_array_size(c) != 4 || dnum(json_array_get(c, 0), &a) ||
                dnum(json_array_get(c, 1), &b) || dnum(json_array_get(c, 2), &w) ||
                dnum(json_array_get(c, 3), &d) || a < 0 || b < 0 || d < 1)
                return conf_fail(why, len, "malformed: projections[%u].connections[%zu]", k, i);
            f->pre[k][i] = (uint32_t)a;
            f->post[k][i] = (uint32_t)b;
            f->w[k][i] = (float)w;
            f->delay[k][i] = (uint32_t)d;
        }
        ps->rule.kind = SK_RULE_EXPLICIT;
        ps->rule.pre = f->pre[k];
        ps->rule.post = f->post[k];
        ps->rule.weight = f->w[k];
        ps->rule.delay = f->delay[k];
        ps->rule.n = n;
        ps->rule.autapses = 1;
        ps->rule.multapses = 1;
        ps->storage = SK_STORAGE_SPARSE;
        const char *model = json_string_value(json_object_get(syn, "model"));
        ps->synapse = model;
        const char *key;
        const json_t *v;
        json_object_foreach(json_object_get(syn, "params"), key, v) {
            if (ps->n_synapse_params >= SK_SYN_MAX_PARAMS)
                return conf_fail(why, len, "too many synapse params");
            double x;
            if (dnum(v, &x))
                return conf_fail(why, len, "malformed: projections[%u].synapse.params.%s", k, key);
            f->sparams[k][ps->n_synapse_params].name = key;
            f->sparams[k][ps->n_synapse_params++].value = x;
        }
        ps->synapse_params = f->sparams[k];
    }
    return 0;
}

/* file connection i of projection k -> synapse index, by (pre, post) occurrence */
static int build_map(sk_net_t *net, netfile_t *f, uint32_t k, char *why, size_t len)
{
    sk_proj_info_t pi;
    sk_net_proj_info(net, k, &pi);
    const uint64_t n = f->projs[k].rule.n;
    if (pi.n_synapses != n)
        return conf_fail(why, len, "projection %u: %llu synapses built for %llu connections", k,
                         (unsigned long long)pi.n_synapses, (unsigned long long)n);
    sk_conn_t *c = calloc(n, sizeof *c);
    uint8_t *used = calloc(n, 1);
    if (!c || !used) {
        free(c);
        free(used);
        return conf_fail(why, len, "out of memory");
    }
    sk_net_conns(net, k, 0, n, c, NULL);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t j = 0;
        while (j < n && (used[j] || c[j].pre != f->pre[k][i] || c[j].post != f->post[k][i]))
            j++;
        if (j == n) {
            free(c);
            free(used);
            return conf_fail(why, len, "projection %u: connection %llu not built", k,
                             (unsigned long long)i);
        }
        used[j] = 1;
        f->map[k][i] = j;
        if (c[j].delay != f->delay[k][i] || c[j].state[0] != (double)f->w[k][i]) {
            free(c);
            free(used);
            return conf_fail(why, len, "projection %u: connection %llu built with another "
                             "delay or weight", k, (unsigned long long)i);
        }
    }
    free(c);
    free(used);
    return 0;
}

typedef struct cmp {
    double max_w, max_tx, max_state;
    uint64_t n_w, n_tx, n_state;
    int bad;
    char why[256];
} cmp_t;

static void check_val(cmp_t *r, double got, double ref, double *max, uint64_t *n, const char *what,
                      uint64_t step, uint64_t idx)
{
    const double err = fabs(got - ref), scaled = err / fmax(1.0, fabs(ref));
    ++*n;
    if (scaled > *max)
        *max = scaled;
    if (!(scaled <= CONF_TOL_REL) && !r->bad) {
        r->bad = 1;
        snprintf(r->why, sizeof r->why, "%s at step %llu, index %llu: %.17g, reference %.17g",
                 what, (unsigned long long)step, (unsigned long long)idx, got, ref);
    }
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static int cmp_pair(const void *a, const void *b)
{
    const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
    for (size_t i = 0; i < 2; i++) {
        json_int_t u = json_integer_value(json_array_get(x, i)),
                   v = json_integer_value(json_array_get(y, i));
        if (u != v)
            return u < v ? -1 : 1;
    }
    return 0;
}

/* A new array holding list's [step, index, ...] entries sorted by (step, index): the
 * reference's order within a step is not part of the format. */
static json_t *sorted(const json_t *list)
{
    const size_t n = json_array_size(list);
    json_t **v = malloc((n ? n : 1) * sizeof *v), *out = json_array();
    if (!v || !out) {
        free(v);
        json_decref(out);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        v[i] = json_array_get(list, i);
    qsort(v, n, sizeof *v, cmp_pair);
    for (size_t i = 0; i < n; i++)
        json_array_append(out, v[i]);
    free(v);
    return out;
}

/* expected.spikes / expected.transmitted with every list sorted (new object). */
static json_t *sorted_lists(const json_t *obj)
{
    json_t *out = json_object();
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        json_t *s = sorted(v);
        if (!s || json_object_set_new(out, key, s)) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

typedef struct spk_ctx {
    const json_t *exp;   /* expected.spikes */
    const netfile_t *f;
    size_t *pos;         /* per population: next expected entry */
    int bad;
    char why[256];
    uint64_t digest, count;
} spk_ctx_t;

static int spike_cb(void *ctx, uint64_t step, uint32_t pop, const uint32_t *ids, uint32_t n)
{
    spk_ctx_t *c = ctx;
    const json_t *list = json_object_get(c->exp, c->f->pops[pop].name);
    for (uint32_t i = 0; i < n; i++) {
        c->digest = fnv(fnv(fnv(c->digest, &step, 8), &pop, 4), &ids[i], 4);
        c->count++;
        const json_t *e = json_array_get(list, c->pos[pop]++);
        if (!c->bad && (!e || json_integer_value(json_array_get(e, 0)) != (json_int_t)step ||
                        json_integer_value(json_array_get(e, 1)) != (json_int_t)ids[i])) {
            c->bad = 1;
            snprintf(c->why, sizeof c->why, "population %s: spike of neuron %u at step %llu "
                     "not in the reference (its next: %s)", c->f->pops[pop].name, ids[i],
                     (unsigned long long)step, e ? "another" : "none");
        }
    }
    return 0;
}

int conf_network_replay(const json_t *root, conf_find_fn find, uint32_t threads, uint32_t chunk,
                        uint64_t *digest, char *line, size_t line_len, char *why, size_t why_len)
{
    netfile_t *f = calloc(1, sizeof *f);
    if (!f)
        return conf_fail(why, why_len, "out of memory"), 0;
    int ok = 0;
    sk_net_t *net = NULL;
    sk_pool_t *pool = NULL;
    json_t *txs = NULL, *spk = NULL;
    if (load(root, find, f, why, why_len))
        goto out;
    sk_net_spec_t spec = {.dt_ms = f->dt, .seed = 1, .pops = f->pops, .n_pops = f->n_pops,
                          .projs = f->projs, .n_projs = f->n_projs, .stims = f->stims,
                          .n_stims = f->n_stims};
    sk_err_t err;
    if (sk_net_create(&spec, &net, &err)) {
        conf_fail(why, why_len, "sk_net_create: %s: %s", err.path, err.msg);
        goto out;
    }
    for (uint32_t k = 0; k < f->n_projs; k++) {
        if (build_map(net, f, k, why, why_len))
            goto out;
        sk_proj_syn_info_t si;
        sk_net_proj_syn(net, k, &si);
        if (si.syn && chunk == 1 && sk_net_track_sent(net, k, 1)) {
            conf_fail(why, why_len, "out of memory");
            goto out;
        }
    }
    if (threads > 1) {
        if (sk_pool_create(threads, &pool)) {
            conf_fail(why, why_len, "cannot start %u threads", threads);
            goto out;
        }
        sk_parallel_t par;
        sk_pool_parallel(pool, &par);
        par.grain = 1; /* split even these small populations */
        sk_net_set_parallel(net, &par);
    }
    const json_t *exp = json_object_get(root, "expected");
    const json_t *wexp = json_object_get(exp, "weights");
    txs = sorted_lists(json_object_get(exp, "transmitted"));
    spk = sorted_lists(json_object_get(exp, "spikes"));
    if (!txs || !spk) {
        conf_fail(why, why_len, "out of memory");
        goto out;
    }
    const json_t *tx = txs;
    const json_t *sexp = json_object_get(exp, "state");
    const json_t *rws = json_object_get(root, "record_weight_steps");
    int post = -1;
    for (uint32_t k = 0; k < f->n_pops; k++)
        if (json_object_get(sexp, f->pops[k].name))
            post = (int)k;
    cmp_t r = {0};
    uint64_t h = 1469598103934665603ull;
    size_t *tx_pos = calloc(f->n_projs + 1, sizeof(size_t));
    if (!tx_pos) {
        conf_fail(why, why_len, "out of memory");
        goto out;
    }
    size_t next_rw = 0;
    for (uint64_t t = 0; t < f->n_steps;) {
        uint64_t stop = t + chunk;
        const json_t *rw = json_array_get(rws, next_rw);
        if (rw && (uint64_t)json_integer_value(rw) + 1 < stop)
            stop = (uint64_t)json_integer_value(rw) + 1;
        if (stop > f->n_steps)
            stop = f->n_steps;
        sk_net_step(net, stop - t, NULL, NULL);
        t = stop;
        const uint64_t s = t - 1; /* the step just computed */
        if (post >= 0) {          /* state after step s */
            const json_t *vars = json_object_get(sexp, f->pops[post].name);
            const char *key;
            const json_t *v;
            json_object_foreach((json_t *)vars, key, v) {
                const float *col;
                if (sk_net_state(net, (uint32_t)post, key, &col)) {
                    if (!r.bad) {
                        r.bad = 1;
                        snprintf(r.why, sizeof r.why, "no state variable %s", key);
                    }
                    continue;
                }
                const json_t *row = json_array_get(v, s);
                for (uint32_t i = 0; i < f->pops[post].size; i++) {
                    double ref = 0;
                    dnum(json_array_get(row, i), &ref);
                    if (t == f->n_steps) /* the same in every chunking */
                        h = fnv(h, &col[i], 4);
                    check_val(&r, col[i], ref, &r.max_state, &r.n_state, key, s, i);
                }
            }
        }
        for (uint32_t k = 0; chunk == 1 && k < f->n_projs; k++) { /* transmissions of step s */
            char kk[16];
            snprintf(kk, sizeof kk, "%u", k);
            const json_t *list = json_object_get(tx, kk);
            sk_proj_syn_info_t si;
            sk_net_proj_syn(net, k, &si);
            if (!si.syn)
                continue;
            uint64_t expected_n = 0, sent_n = 0;
            for (uint64_t q = 0; q < f->projs[k].rule.n; q += 64) { /* every event of step s */
                sk_conn_t cs[64];
                uint64_t got = 0;
                sk_net_conns(net, k, q, 64, cs, &got);
                for (uint64_t i = 0; i < got; i++)
                    sent_n += cs[i].sent_step == s;
            }
            for (;;) {
                const json_t *e = json_array_get(list, tx_pos[k]);
                if (!e || (uint64_t)json_integer_value(json_array_get(e, 0)) != s)
                    break;
                const uint64_t ci = (uint64_t)json_integer_value(json_array_get(e, 1));
                double ref = 0;
                dnum(json_array_get(e, 2), &ref);
                sk_conn_t c;
                uint64_t got = 0;
                if (ci < f->projs[k].rule.n)
                    sk_net_conns(net, k, f->map[k][ci], 1, &c, &got);
                if (!got || c.sent_step != s) {
                    if (!r.bad) {
                        r.bad = 1;
                        snprintf(r.why, sizeof r.why, "projection %u: no transmission of "
                                 "connection %llu at step %llu", k, (unsigned long long)ci,
                                 (unsigned long long)s);
                    }
                } else {
                    check_val(&r, c.sent, ref, &r.max_tx, &r.n_tx, "transmitted", s, ci);
                }
                tx_pos[k]++;
                expected_n++;
            }
            if (sent_n != expected_n && !r.bad) {
                r.bad = 1;
                snprintf(r.why, sizeof r.why, "projection %u: %llu transmissions at step %llu, "
                         "reference %llu", k, (unsigned long long)sent_n, (unsigned long long)s,
                         (unsigned long long)expected_n);
            }
        }
        if (rw && (uint64_t)json_integer_value(rw) == s) { /* weights after step s */
            const char *key;
            const json_t *v;
            json_object_foreach((json_t *)wexp, key, v) {
                const uint32_t k = (uint32_t)atoi(key);
                const json_t *steps = json_object_get(v, "steps"), *vals = json_object_get(v, "values");
                if (k >= f->n_projs)
                    continue;
                for (size_t q = 0; q < json_array_size(steps); q++) {
                    if ((uint64_t)json_integer_value(json_array_get(steps, q)) != s)
                        continue;
                    const json_t *row = json_array_get(vals, q);
                    for (size_t i = 0; i < json_array_size(row); i++) {
                        sk_conn_t c;
                        uint64_t got = 0;
                        double ref = 0;
                        dnum(json_array_get(row, i), &ref);
                        if (i < f->projs[k].rule.n)
                            sk_net_conns(net, k, f->map[k][i], 1, &c, &got);
                        if (!got) {
                            r.bad = 1;
                            snprintf(r.why, sizeof r.why, "weights: no connection %zu", i);
                            continue;
                        }
                        h = fnv(h, &c.state[0], 8);
                        check_val(&r, c.state[0], ref, &r.max_w, &r.n_w, "weight", s, i);
                    }
                }
            }
            next_rw++;
        }
    }
    for (uint32_t k = 0; chunk == 1 && k < f->n_projs; k++) { /* every transmission seen */
        char kk[16];
        snprintf(kk, sizeof kk, "%u", k);
        const json_t *list = json_object_get(tx, kk);
        if (list && tx_pos[k] != json_array_size(list) && !r.bad) {
            r.bad = 1;
            snprintf(r.why, sizeof r.why, "projection %u: %zu of %zu transmissions replayed", k,
                     tx_pos[k], json_array_size(list));
        }
    }
    free(tx_pos);
    for (uint32_t k = 0; k < f->n_projs; k++) {
        sk_proj_syn_info_t si;
        sk_net_proj_syn(net, k, &si);
        if (si.lost && !r.bad) {
            r.bad = 1;
            snprintf(r.why, sizeof r.why, "projection %u: %llu updates lost trace entries", k,
                     (unsigned long long)si.lost);
        }
    }
    size_t pos[MAXP] = {0};
    spk_ctx_t sc = {.exp = spk, .f = f, .pos = pos,
                    .digest = h};
    uint64_t first_kept = 0;
    sk_net_spikes(net, 0, f->n_steps, &first_kept, spike_cb, &sc);
    uint64_t ref_count = 0;
    for (uint32_t k = 0; k < f->n_pops; k++) {
        const json_t *list = json_object_get(sc.exp, f->pops[k].name);
        ref_count += json_array_size(list);
        if (!sc.bad && pos[k] != json_array_size(list)) {
            sc.bad = 1;
            snprintf(sc.why, sizeof sc.why, "population %s: %zu spikes, reference %zu",
                     f->pops[k].name, pos[k], json_array_size(list));
        }
    }
    if (first_kept != 0 && !sc.bad) {
        sc.bad = 1;
        snprintf(sc.why, sizeof sc.why, "the spike history dropped steps");
    }
    if (digest)
        *digest = sc.digest;
    snprintf(line, line_len, "network %s: %llu spikes (ref %llu), threads %u, chunk %u; max "
             "rel err: weights %.3g (%llu), transmitted %.3g (%llu), state %.3g (%llu)",
             json_string_value(json_object_get(root, "name")) ? json_string_value(json_object_get(root, "name")) : "?",
             (unsigned long long)sc.count, (unsigned long long)ref_count, threads, chunk,
             r.max_w, (unsigned long long)r.n_w, r.max_tx, (unsigned long long)r.n_tx,
             r.max_state, (unsigned long long)r.n_state);
    if (sc.bad)
        conf_fail(why, why_len, "%s", sc.why);
    else if (r.bad)
        conf_fail(why, why_len, "%s", r.why);
    else if (chunk == 1 && r.n_tx == 0 && json_object_size(tx) > 0)
        conf_fail(why, why_len, "no transmission compared");
    else
        ok = 1;
out:
    json_decref(txs);
    json_decref(spk);
    sk_net_destroy(net);
    sk_pool_destroy(pool);
    free_file(f);
    free(f);
    return ok;
}
