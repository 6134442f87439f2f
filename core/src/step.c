/* step.c: one step of the whole network, in the fixed order of sk_net.h:
 *   inputs (ring slot + stimuli + injected currents) -> model steps -> forced spikes ->
 *   spike ids and history -> clear the consumed ring slot -> delivery -> recorders.
 *
 * Hot path. Nothing here allocates. The two heavy phases (model steps, delivery) run as
 * n_threads tasks when the caller lent a pool: model steps split every population into
 * neuron ranges; delivery splits every target population into ranges of target ids, and
 * each task walks all spikes but writes only its own targets. Each target therefore sums
 * its inputs in the same order (projection, source id, synapse) whatever the thread
 * count, and results are bit-identical to one thread.
 */
#include <string.h>

#include "internal.h"

/* [lo, hi) of part k of n items split into `parts`, boundaries on multiples of 16 neurons
 * (a cache line of floats) so tasks never share a line. */
static void part_range(uint32_t n, uint32_t k, uint32_t parts, uint32_t *lo, uint32_t *hi)
{
    uint64_t a = ((uint64_t)n * k / parts) & ~UINT64_C(15);
    uint64_t b = k + 1 == parts ? n : (((uint64_t)n * (k + 1) / parts) & ~UINT64_C(15));
    *lo = (uint32_t)(a < n ? a : n);
    *hi = (uint32_t)(b < n ? b : n);
    if (*hi < *lo)
        *hi = *lo;
}

typedef struct phase {
    sk_net_t *net;
    uint64_t t;
    uint32_t parts;
} phase_t;

static void models_task(void *arg, uint32_t part)
{
    const phase_t *ph = arg;
    sk_net_t *net = ph->net;
    for (uint32_t k = 0; k < net->n_pops; k++) {
        sk__pop_t *pop = &net->pops[k];
        const sk_model_t *m = pop->model;
        uint32_t lo, hi;
        part_range(pop->n, part, ph->parts, &lo, &hi);
        if (lo == hi)
            continue;
        float *s[SK_MODEL_MAX_STATE];
        const float *in[SK_MODEL_MAX_INPUTS];
        const float *slot = pop->ring + (size_t)(ph->t % pop->depth) * m->n_inputs * pop->n;
        for (uint32_t j = 0; j < m->n_state; j++)
            s[j] = pop->s[j] + lo;
        for (uint32_t c = 0; c < m->n_inputs; c++)
            in[c] = slot + (size_t)c * pop->n + lo;
        sk_step_args_t a = {
            .n = hi - lo,
            .step = ph->t,
            .dt = pop->dt,
            .p = pop->p,
            .d = pop->d,
            .s = s,
            .in = in,
            .spiked = pop->spiked + lo,
            .refrac = pop->refrac ? pop->refrac + lo : NULL,
            .refrac_steps = pop->refrac_steps,
        };
        m->step(&a);
    }
}

/* First position in [a, b) of cols with cols[k] >= x (cols ascending). */
static uint64_t lower_col(const uint32_t *cols, uint64_t a, uint64_t b, uint32_t x)
{
    while (a < b) {
        uint64_t mid = a + (b - a) / 2;
        if (cols[mid] < x)
            a = mid + 1;
        else
            b = mid;
    }
    return a;
}

static void deliver_dense(const sk__proj_t *p, const sk__pop_t *src, sk__pop_t *dst,
                          uint64_t t, uint32_t lo, uint32_t hi)
{
    const uint32_t slot = (uint32_t)((t + p->delay) % dst->depth);
    float *base = dst->ring + (size_t)slot * dst->model->n_inputs * dst->n;
    for (uint32_t s = 0; s < src->n_ids; s++) {
        const float *restrict row = p->w + (size_t)src->ids[s] * dst->n;
        if (p->channel >= 0) {
            float *restrict acc = base + (size_t)p->channel * dst->n;
            for (uint32_t j = lo; j < hi; j++)
                acc[j] += row[j];
            continue;
        }
        float *restrict exc = base, *restrict inh = base + dst->n;
        for (uint32_t j = lo; j < hi; j++) {
            const float w = row[j];
            exc[j] += w > 0.0f ? w : 0.0f;
            inh[j] += w < 0.0f ? -w : 0.0f;
        }
    }
}

static void deliver_sparse(const sk__proj_t *p, const sk__pop_t *src, sk__pop_t *dst,
                           uint64_t t, uint32_t lo, uint32_t hi)
{
    const int whole = lo == 0 && hi == dst->n;
    for (uint32_t s = 0; s < src->n_ids; s++) {
        const uint32_t pre = src->ids[s];
        uint64_t a = p->row[pre], b = p->row[pre + 1];
        if (!whole) {
            a = lower_col(p->col, a, b, lo);
            b = lower_col(p->col, a, b, hi);
        }
        if (!p->delays && p->channel >= 0) { /* the common case: one delay, one channel */
            const uint32_t slot = (uint32_t)((t + p->delay) % dst->depth);
            float *restrict acc =
                dst->ring + ((size_t)slot * dst->model->n_inputs + (size_t)p->channel) * dst->n;
            for (uint64_t k = a; k < b; k++)
                acc[p->col[k]] += p->w ? p->w[k] : p->w_const;
            continue;
        }
        for (uint64_t k = a; k < b; k++) {
            uint32_t d = p->delays ? p->delays[k] : p->delay;
            sk__deliver(dst, (uint32_t)((t + d) % dst->depth), p->channel, p->col[k],
                        p->w ? p->w[k] : p->w_const);
        }
    }
}

static void deliver_task(void *arg, uint32_t part)
{
    const phase_t *ph = arg;
    sk_net_t *net = ph->net;
    for (uint32_t k = 0; k < net->n_projs; k++) {
        const sk__proj_t *p = &net->projs[k];
        const sk__pop_t *src = &net->pops[p->src];
        sk__pop_t *dst = &net->pops[p->dst];
        if (src->n_ids == 0)
            continue;
        uint32_t lo, hi;
        part_range(dst->n, part, ph->parts, &lo, &hi);
        if (lo == hi)
            continue;
        if (p->dense)
            deliver_dense(p, src, dst, ph->t, lo, hi);
        else
            deliver_sparse(p, src, dst, ph->t, lo, hi);
    }
}

static void run_phase(sk_net_t *net, sk_task_fn fn, phase_t *ph)
{
    if (ph->parts > 1)
        net->par.run(net->par.pool, fn, ph, ph->parts);
    else
        fn(ph, 0);
}

/* Spike flags -> ascending ids; counts. Activity is sparse, so whole 8-byte words of
 * zero flags are skipped. */
static void collect(sk_net_t *net)
{
    for (uint32_t k = 0; k < net->n_pops; k++) {
        sk__pop_t *pop = &net->pops[k];
        const uint8_t *z = pop->spiked;
        uint32_t *restrict ids = pop->ids;
        uint32_t n = 0, j = 0;
        for (; j + 8 <= pop->n; j += 8) {
            uint64_t word;
            memcpy(&word, z + j, 8);
            if (!word)
                continue;
            for (uint32_t b = 0; b < 8; b++) {
                ids[n] = j + b;
                n += z[j + b] != 0;
            }
        }
        for (; j < pop->n; j++) {
            ids[n] = j;
            n += z[j] != 0;
        }
        pop->n_ids = n;
        pop->spikes_total += n;
        net->spikes_total += n;
    }
}

void sk__step_once(sk_net_t *net)
{
    const uint64_t t = net->step;
    phase_t ph = {.net = net, .t = t, .parts = net->par.n_threads ? net->par.n_threads : 1};

    sk__stims_inputs(net, t);
    sk__queue_apply(net, t, SK_INJECT_CURRENT);
    run_phase(net, models_task, &ph);
    sk__stims_spikes(net, t);
    sk__queue_apply(net, t, SK_INJECT_SPIKE);
    sk__queue_pop(&net->queue, t);
    collect(net);
    sk__hist_append(net, t);
    for (uint32_t k = 0; k < net->n_pops; k++) {
        sk__pop_t *pop = &net->pops[k];
        size_t len = (size_t)pop->model->n_inputs * pop->n;
        memset(pop->ring + (size_t)(t % pop->depth) * len, 0, len * sizeof(float));
    }
    run_phase(net, deliver_task, &ph);
    for (uint32_t k = 0; k < net->n_recs; k++)
        if (t % net->recs[k].every == 0)
            sk__rec_sample(net, &net->recs[k], t);
    net->step = t + 1;
}
