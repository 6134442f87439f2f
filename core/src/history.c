/* history.c: the spike history and the state recorders, both bounded rings.
 *
 * Spike history. One record per step that had spikes: the step, the position of its first
 * id in the id ring, and a count per population; the ids of a record are contiguous (a
 * record that would straddle the end of the ring starts again at its beginning) and
 * grouped by population in description order, ascending within each. Overflow policy: the
 * oldest records are dropped when either the id ring (limits.spike_history ids, never
 * fewer than the neuron count, so one step always fits) or the record ring
 * (limits.history_steps) is full; `first_kept` then tells readers the oldest complete step.
 *
 * Recorders. A ring of `cap` samples per recorder (limits.max_record_values floats); the
 * oldest sample is overwritten when it is full, and counted as dropped.
 */
#include <string.h>

#include "internal.h"

void sk__hist_clear(sk__hist_t *h)
{
    h->rec_head = h->rec_tail = 0;
    h->id_head = h->id_tail = 0;
    h->first_kept = 0;
    h->unpublished = h->unpublished_steps = 0;
}

void sk__hist_free(sk__hist_t *h)
{
    sk_free_aligned(h->ids);
    sk_free(h->rec_step);
    sk_free(h->rec_pos);
    sk_free(h->rec_count);
}

static void drop_oldest(sk__hist_t *h, uint64_t next_pos)
{
    uint32_t r = (uint32_t)(h->rec_tail % h->cap_recs);
    h->first_kept = h->rec_step[r] + 1;
    h->rec_tail++;
    h->id_tail = h->rec_tail < h->rec_head ? h->rec_pos[h->rec_tail % h->cap_recs] : next_pos;
}

int sk__hist_reserve(sk_net_t *net, uint64_t t, uint64_t *at)
{
    sk__hist_t *h = &net->hist;
    uint64_t total = 0;
    for (uint32_t k = 0; k < net->n_pops; k++)
        total += net->pops[k].n_ids;
    if (total == 0)
        return 0;
    uint64_t pos = h->id_head, off = pos % h->cap_ids;
    if (off + total > h->cap_ids) { /* restart at the beginning of the ring */
        pos += h->cap_ids - off;
        off = 0;
    }
    while (h->rec_head > h->rec_tail &&
           (pos + total - h->id_tail > h->cap_ids || h->rec_head - h->rec_tail >= h->cap_recs))
        drop_oldest(h, pos);
    if (h->rec_head == h->rec_tail)
        h->id_tail = pos;
    uint32_t r = (uint32_t)(h->rec_head % h->cap_recs);
    h->rec_step[r] = t;
    h->rec_pos[r] = pos;
    for (uint32_t k = 0; k < net->n_pops; k++)
        h->rec_count[(size_t)r * net->n_pops + k] = net->pops[k].n_ids;
    h->id_head = pos + total;
    h->rec_head++;
    *at = off;
    return 1;
}

/* First live record index with step >= step. */
static uint64_t first_record(const sk__hist_t *h, uint64_t step)
{
    uint64_t lo = h->rec_tail, hi = h->rec_head;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (h->rec_step[mid % h->cap_recs] < step)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int sk_net_spikes(const sk_net_t *net, uint64_t from, uint64_t to, uint64_t *first_kept,
                  sk_spike_cb cb, void *ctx)
{
    const sk__hist_t *h = &net->hist;
    if (first_kept)
        *first_kept = h->first_kept;
    for (uint64_t rec = first_record(h, from); rec < h->rec_head; rec++) {
        uint32_t r = (uint32_t)(rec % h->cap_recs);
        uint64_t step = h->rec_step[r];
        if (step >= to)
            break;
        const uint32_t *ids = h->ids + h->rec_pos[r] % h->cap_ids;
        for (uint32_t k = 0; k < net->n_pops; k++) {
            uint32_t n = h->rec_count[(size_t)r * net->n_pops + k];
            if (n) {
                int rc = cb(ctx, step, k, ids, n);
                if (rc)
                    return rc;
            }
            ids += n;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------------------ */
/* Recorders                                                                             */

void sk__rec_clear(sk__rec_t *r)
{
    r->head = 0;
}

void sk__rec_free(sk__rec_t *r)
{
    sk_free(r->vars);
    sk_free(r->neurons);
    sk_free(r->steps);
    sk_free_aligned(r->buf);
}

void sk__rec_sample(sk_net_t *net, sk__rec_t *r, uint64_t t)
{
    const sk__pop_t *pop = &net->pops[r->pop];
    uint64_t slot = r->head % r->cap;
    float *dst = r->buf + slot * r->n_vars * r->n_neurons;
    for (uint32_t v = 0; v < r->n_vars; v++) {
        const float *col = pop->s[r->vars[v]];
        for (uint32_t j = 0; j < r->n_neurons; j++)
            *dst++ = col[r->neurons[j]];
    }
    r->steps[slot] = t;
    r->head++;
}

int sk_net_rec_info(const sk_net_t *net, uint32_t rec, sk_rec_info_t *out)
{
    if (rec >= net->n_recs)
        return SK_ENOENT;
    const sk__rec_t *r = &net->recs[rec];
    out->pop = r->pop;
    out->n_variables = r->n_vars;
    out->n_neurons = r->n_neurons;
    out->every = r->every;
    out->variables = r->vars;
    out->neurons = r->neurons;
    out->samples_kept = r->head < r->cap ? r->head : r->cap;
    out->samples_dropped = r->head - out->samples_kept;
    return 0;
}

int sk_net_samples(const sk_net_t *net, uint32_t rec, uint64_t from, uint64_t to,
                   uint64_t *first_kept, sk_sample_cb cb, void *ctx)
{
    if (rec >= net->n_recs)
        return SK_ENOENT;
    const sk__rec_t *r = &net->recs[rec];
    uint64_t kept = r->head < r->cap ? r->head : r->cap;
    uint64_t lo = r->head - kept, hi = r->head;
    if (first_kept)
        *first_kept = kept && r->head > r->cap ? r->steps[lo % r->cap] : 0;
    while (lo < hi) { /* first sample with step >= from */
        uint64_t mid = lo + (hi - lo) / 2;
        if (r->steps[mid % r->cap] < from)
            lo = mid + 1;
        else
            hi = mid;
    }
    const uint64_t width = (uint64_t)r->n_vars * r->n_neurons;
    for (uint64_t k = lo; k < r->head; k++) {
        uint64_t slot = k % r->cap;
        if (r->steps[slot] >= to)
            break;
        int rc = cb(ctx, r->steps[slot], r->buf + slot * width);
        if (rc)
            return rc;
    }
    return 0;
}
