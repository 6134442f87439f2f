/* encode_spikes.c: the spike-list collector behind every spike response (GET .../spikes,
 * step results, SSE batches): an sk_spike_cb that appends {step, time_ms, population, ids}
 * entries, filters by population, counts per population, and cuts the list at a step
 * boundary once `limit` ids are reached (a step is never split, so a page always makes
 * progress).
 *
 * Spike times (NEST's rule): a spike produced while stepping from step t to t + 1 carries
 * `step` = t and `time_ms` = (t + 1) * dt, the time at the end of that step, when the
 * threshold crossing is seen. A neuron driven from t = 0 that fires in its first step
 * therefore has time_ms = dt, never 0. */
#include <math.h>

#include "internal.h"

double sk__time_ms(uint64_t steps, double dt_ms)
{
    double t = (double)steps * dt_ms;
    /* Round to whole nanoseconds while that is exact in a double (|t| < 2^52 ns). */
    if (isfinite(t) && fabs(t) * 1e6 < 4503599627370496.0)
        t = round(t * 1e6) / 1e6;
    return t;
}

static json_t *ids_json(const uint32_t *ids, uint32_t n)
{
    json_t *a = json_array();
    for (uint32_t k = 0; a && k < n; k++)
        if (sk__append(a, json_integer((json_int_t)ids[k]))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

int sk__spikes_cb(void *ctx, uint64_t step, uint32_t pop, const uint32_t *ids, uint32_t n)
{
    sk__spikes_acc_t *acc = ctx;
    if (acc->pop >= 0 && pop != (uint32_t)acc->pop)
        return 0;
    if (acc->counts && pop < acc->n_pops)
        acc->counts[pop] += n;
    if (!acc->list || acc->cut || n == 0)
        return 0;
    if (acc->any && step != acc->last_step && acc->ids + n > acc->limit) {
        acc->cut = 1;
        acc->next_from = step;
        return acc->counts ? 0 : 1; /* keep counting when counts are wanted */
    }
    const char *name = pop < acc->n_pops ? acc->pops[pop].name : "?";
    json_t *e = json_pack("{s:I, s:s, s:o}", "step", (json_int_t)step, "population", name,
                          "ids", ids_json(ids, n));
    if (e && acc->dt_ms > 0 &&
        sk__set(e, "time_ms", sk__real(sk__time_ms(step + 1, acc->dt_ms)))) {
        json_decref(e);
        e = NULL;
    }
    if (sk__append(acc->list, e)) {
        acc->failed = 1;
        return 1;
    }
    acc->any = 1;
    acc->last_step = step;
    acc->ids += n;
    return 0;
}
