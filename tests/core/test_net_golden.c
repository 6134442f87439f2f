/* test_net_golden.c: every golden vector replayed through the NETWORK API (not the model
 * API the conformance runner uses): one population per file, its recurrent weights as an
 * explicit self-projection with delay 1 (sparse, and dense), the input as injected
 * currents (W_in x computed here for the recurrent files, split by sign into g_e/g_i for
 * sign-split models), the initial z(-1) as currents injected at step 0.
 * Spikes must be equal at every step, states within 1e-4 * max(1, |ref|). */
#include <math.h>
#include <stdio.h>

#include <criterion/criterion.h>

#include "golden.h"
#include "spiked/sk_net.h"

static void add(sk_inject_t *inj, uint32_t *n, uint64_t step, int32_t ch, uint32_t j, float v)
{
    inj[(*n)++] = (sk_inject_t){.kind = SK_INJECT_CURRENT, .pop = 0, .channel = ch,
                                .neuron = j, .step = step, .value = v};
}

/* Queues sum_m w[j][m] * x[m] for every neuron j at `step` (split by sign if needed). */
static void queue_weighted(const golden_t *g, const float *w, const float *x, uint32_t m_in,
                           uint64_t step, sk_inject_t *inj, uint32_t *n)
{
    int split = (g->m->flags & SK_MODEL_SIGN_SPLIT) != 0;
    for (uint32_t j = 0; j < g->n; j++) {
        float e = 0.0f, i = 0.0f;
        for (uint32_t m = 0; m < m_in; m++) {
            float wm = w[(size_t)j * m_in + m];
            if (split) {
                e += (wm > 0.0f ? wm : 0.0f) * x[m];
                i += (wm < 0.0f ? -wm : 0.0f) * x[m];
            } else {
                e += wm * x[m];
            }
        }
        add(inj, n, step, 0, j, e);
        if (split)
            add(inj, n, step, 1, j, i);
    }
}

typedef struct seen {
    uint8_t *z;
    uint64_t step;
} seen_t;

static int on_spikes(void *ctx, uint64_t step, uint32_t pop, const uint32_t *ids, uint32_t n)
{
    seen_t *s = ctx;
    (void)pop;
    cr_assert_eq(step, s->step);
    for (uint32_t k = 0; k < n; k++)
        s->z[ids[k]] = 1;
    return 0;
}

static void replay(const char *file, sk_storage_t storage)
{
    golden_t g;
    cr_assert_eq(golden_load(file, &g), 0, "cannot load %s", file);
    sk_param_t params[SK_MODEL_MAX_PARAMS];
    for (uint32_t k = 0; k < g.n_params; k++)
        params[k] = (sk_param_t){g.param_names[k], g.param_values[k]};
    sk_init_t init[SK_MODEL_MAX_STATE];
    uint32_t n_init = 0;
    for (uint32_t k = 0; k < g.m->n_state; k++)
        if (g.init[k])
            init[n_init++] = (sk_init_t){.var = g.m->state[k].name, .kind = SK_INIT_VALUES,
                                         .values = g.init[k], .n_values = g.n};
    sk_pop_spec_t pop = {.name = "p", .model = g.model, .size = g.n, .params = params,
                         .n_params = g.n_params, .init = init, .n_init = n_init};
    uint32_t *pre = calloc((size_t)g.n * g.n, 4), *post = calloc((size_t)g.n * g.n, 4);
    float *w = calloc((size_t)g.n * g.n, 4);
    for (uint32_t a = 0; a < g.n; a++)
        for (uint32_t b = 0; b < g.n; b++) {
            size_t k = (size_t)a * g.n + b;
            pre[k] = b; /* recurrent_weights[a][b]: from b onto a */
            post[k] = a;
            w[k] = g.recurrent ? g.w_rec[k] : 0.0f;
        }
    sk_proj_spec_t proj = {.source = "p", .target = "p", .delay_steps = 1, .storage = storage,
                           .rule = {.kind = SK_RULE_EXPLICIT, .pre = pre, .post = post,
                                    .weight = w, .n = (uint64_t)g.n * g.n}};
    sk_net_spec_t spec = {.dt_ms = g.dt / g.m->time_scale, .seed = 1, .pops = &pop, .n_pops = 1,
                          .projs = &proj, .n_projs = g.recurrent ? 1u : 0u};
    sk_net_t *net = NULL;
    sk_err_t err = {0};
    cr_assert_eq(sk_net_create(&spec, &net, &err), 0, "%s: %s: %s", file, err.path, err.msg);

    sk_inject_t *inj = calloc((size_t)(g.n_steps + 1) * g.n * 2, sizeof *inj);
    uint32_t n_inj = 0;
    if (g.recurrent) {
        queue_weighted(&g, g.w_rec, g.z0, g.n, 0, inj, &n_inj);
        for (uint32_t t = 0; t < g.n_steps; t++)
            queue_weighted(&g, g.w_in, g.x + (size_t)t * g.n_in, g.n_in, t, inj, &n_inj);
    } else {
        for (uint32_t t = 0; t < g.n_steps; t++)
            for (uint32_t j = 0; j < g.n; j++)
                add(inj, &n_inj, t, -1, j, g.x[(size_t)t * g.n + j]);
    }
    cr_assert_eq(sk_net_inject(net, inj, n_inj, &err), 0, "%s: %s", err.path, err.msg);

    uint8_t *z = calloc(g.n, 1);
    double worst = 0.0;
    for (uint32_t t = 0; t < g.n_steps; t++) {
        cr_assert_eq(sk_net_step(net, 1, NULL, NULL), 0);
        memset(z, 0, g.n);
        seen_t s = {z, t};
        sk_net_spikes(net, t, t + 1, NULL, on_spikes, &s);
        for (uint32_t j = 0; j < g.n; j++)
            cr_assert_eq(z[j], g.spikes[(size_t)t * g.n + j], "%s: spike of neuron %u at step %u",
                         file, j, t);
        for (uint32_t k = 0; k < g.m->n_state; k++) {
            if (!g.expected[k])
                continue;
            const float *col;
            cr_assert_eq(sk_net_state(net, 0, g.m->state[k].name, &col), 0);
            for (uint32_t j = 0; j < g.n; j++) {
                double ref = g.expected[k][(size_t)t * g.n + j];
                double d = fabs((double)col[j] - ref) / fmax(1.0, fabs(ref));
                worst = fmax(worst, d);
                cr_assert(d <= 1e-4, "%s: %s[%u] at step %u: %.9g vs %.9g", file,
                          g.m->state[k].name, j, t, (double)col[j], ref);
            }
        }
    }
    cr_log_info("%s (%s): worst relative state error %.3g", file,
                storage == SK_STORAGE_DENSE ? "dense" : "sparse", worst);
    sk_net_destroy(net);
    free(z);
    free(inj);
    free(pre);
    free(post);
    free(w);
    golden_free(&g);
}

#define GOLDEN_CASE(name)                                                                      \
    Test(net_golden, name##_through_the_network)                                             \
    {                                                                                          \
        replay(#name ".json", SK_STORAGE_SPARSE);                                             \
        replay(#name ".json", SK_STORAGE_DENSE);                                              \
    }

GOLDEN_CASE(lif_recurrent)
GOLDEN_CASE(lif_recurrent_random_init)
GOLDEN_CASE(lif_refrac_recurrent)
GOLDEN_CASE(lif_refrac_recurrent_random_init)
GOLDEN_CASE(lif_ex_recurrent)
GOLDEN_CASE(lif_ex_recurrent_random_init)
GOLDEN_CASE(lif_adex_recurrent)
GOLDEN_CASE(lif_adex_recurrent_random_init)
GOLDEN_CASE(coba_lif_recurrent_documented)
GOLDEN_CASE(coba_lif_recurrent_documented_random_init)
GOLDEN_CASE(lsnn_recurrent)
GOLDEN_CASE(lsnn_recurrent_random_init)
GOLDEN_CASE(lif_feed_forward)
GOLDEN_CASE(lif_refrac_feed_forward_random_init)
GOLDEN_CASE(lif_adex_feed_forward_random_init)
GOLDEN_CASE(coba_lif_feed_forward_random_init)
GOLDEN_CASE(lsnn_feed_forward)
GOLDEN_CASE(alif_bellec2020_refrac_feed_forward_random_init)
GOLDEN_CASE(alif_bellec2020_exprel_short)
