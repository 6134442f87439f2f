/* inject.c: currents and spikes queued by the client for coming steps.
 *
 * The queue is an array sorted by step and, within a step, by the order injections were
 * queued, so several injections into one neuron add up in a fixed order. It is the one
 * structure of a network that grows after creation: sk_net_inject merges a batch into a
 * new array (between steps only; never during a step), bounded by limits.max_pending.
 * A step consumes the entries of its own step from the head.
 */
#include <math.h>
#include <string.h>

#include "internal.h"

void sk__queue_free(sk__queue_t *q)
{
    sk_free(q->items);
    q->items = NULL;
    q->head = q->n = q->cap = 0;
}

static int check_one(const sk_net_t *net, const sk_inject_t *in, uint32_t k, sk_err_t *err)
{
    char path[48];
    if (in->pop >= net->n_pops) {
        snprintf(path, sizeof path, "[%u].population", k);
        return sk_err_set(err, SK_ENOENT, path, "no such population");
    }
    const sk__pop_t *pop = &net->pops[in->pop];
    if (in->neuron >= pop->n) {
        snprintf(path, sizeof path, "[%u].neuron", k);
        return sk_err_set(err, SK_ERANGE, path, "neuron %u is out of range (population size "
                          "%u)", in->neuron, pop->n);
    }
    if (in->step < net->step) {
        snprintf(path, sizeof path, "[%u].step", k);
        return sk_err_set(err, SK_ERANGE, path, "step %llu is in the past (the next step is "
                          "%llu)", (unsigned long long)in->step, (unsigned long long)net->step);
    }
    if (in->kind == SK_INJECT_SPIKE)
        return 0;
    if (in->kind != SK_INJECT_CURRENT) {
        snprintf(path, sizeof path, "[%u].kind", k);
        return sk_err_set(err, SK_EINVAL, path, "must be current or spike");
    }
    if (pop->model->n_inputs == 0 || in->channel < -1 ||
        in->channel >= (int32_t)pop->model->n_inputs) {
        snprintf(path, sizeof path, "[%u].channel", k);
        return sk_err_set(err, SK_ERANGE, path, "is not an input channel of the model");
    }
    if (!isfinite(in->value)) {
        snprintf(path, sizeof path, "[%u].value", k);
        return sk_err_set(err, SK_ERANGE, path, "must be finite");
    }
    return 0;
}

static int inject_less(const void *ctx, uint64_t a, uint64_t b)
{
    const sk_inject_t *in = ctx;
    return in[a].step < in[b].step;
}

/* The injection with its default channel resolved for the population's model. */
static sk_inject_t resolved(const sk_net_t *net, const sk_inject_t *in)
{
    sk_inject_t x = *in;
    if (x.kind == SK_INJECT_CURRENT && x.channel == -1)
        x.channel = sk__resolve_channel(net->pops[x.pop].model, NULL, 1);
    return x;
}

int sk_net_inject(sk_net_t *net, const sk_inject_t *inj, uint32_t n, sk_err_t *err)
{
    sk__queue_t *q = &net->queue;
    for (uint32_t k = 0; k < n; k++) {
        int rc = check_one(net, &inj[k], k, err);
        if (rc)
            return rc;
    }
    uint64_t live = q->n - q->head;
    if (live + n > net->limits.max_pending)
        return sk_err_set(err, SK_ELIMIT, "", "more than %llu pending injections",
                          (unsigned long long)net->limits.max_pending);
    if (n == 0)
        return 0;
    /* the batch in a stable order by step, merged after the live entries of equal step */
    uint64_t *order = NULL;
    sk_inject_t *merged = sk_calloc(live + n, sizeof *merged);
    if (!merged || sk__stable_order(n, inject_less, inj, &order)) {
        sk_free(merged);
        return sk_err_set(err, SK_ENOMEM, "", "out of memory");
    }
    uint64_t i = q->head, j = 0, o = 0;
    while (i < q->n && j < n)
        merged[o++] = q->items[i].step <= inj[order[j]].step ? q->items[i++]
                                                             : resolved(net, &inj[order[j++]]);
    while (i < q->n)
        merged[o++] = q->items[i++];
    while (j < n)
        merged[o++] = resolved(net, &inj[order[j++]]);
    sk_free(order);
    sk_free(q->items);
    q->items = merged;
    q->head = 0;
    q->n = q->cap = o;
    return 0;
}

void sk__queue_apply(sk_net_t *net, uint64_t t, sk_inject_kind_t kind)
{
    const sk__queue_t *q = &net->queue;
    for (uint64_t i = q->head; i < q->n && q->items[i].step <= t; i++) {
        const sk_inject_t *in = &q->items[i];
        if (in->step != t || in->kind != kind)
            continue;
        sk__pop_t *pop = &net->pops[in->pop];
        if (kind == SK_INJECT_SPIKE) {
            pop->spiked[in->neuron] = 1;
            pop->forced = 1;
        } else {
            sk__deliver(pop, (uint32_t)(t % pop->depth), in->channel, in->neuron, in->value);
            pop->written[t % pop->depth] = 1;
        }
    }
}

void sk__queue_pop(sk__queue_t *q, uint64_t t)
{
    while (q->head < q->n && q->items[q->head].step <= t)
        q->head++;
    if (q->head == q->n)
        q->head = q->n = 0;
}
