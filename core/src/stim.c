/* stim.c: stimuli — Poisson input, constant and step currents, spike-time arrays.
 *
 * Input stimuli (poisson, current, step_current) add into the target's ring slot of the
 * current step, block by block just before the model steps that block (step.c); subsets of
 * neurons are kept sorted by id (stably) so a block finds its targets by binary search.
 * spike_times forces spikes after the models ran.
 * Poisson: each target neuron receives an independent Poisson count with mean
 * lambda = n_sources * rate_hz * dt per step (NEST's poisson_generator per step), drawn by
 * inversion from one uniform keyed by (seed, stimulus, step, neuron); for lambda >= 30 a
 * rounded normal approximation is used. Each event adds `weight` to the channel.
 */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "spiked/sk_rng.h"

#define POISSON_NORMAL_FROM 30.0

int sk__stim_check(const sk_stim_spec_t *s, uint32_t size, const sk_model_t *m, sk_err_t *err)
{
    if (s->kind > SK_STIM_SPIKE_TIMES)
        return sk_err_set(err, SK_EINVAL, "kind", "unknown stimulus kind");
    if (s->n_neurons && !s->neurons)
        return sk_err_set(err, SK_EINVAL, "neurons", "missing list");
    for (uint32_t j = 0; j < s->n_neurons; j++)
        if (s->neurons[j] >= size)
            return sk_err_set(err, SK_ERANGE, "neurons", "neuron %u is out of range "
                              "(population size %u)", s->neurons[j], size);
    if (s->kind != SK_STIM_SPIKE_TIMES) {
        if (m->n_inputs == 0)
            return sk_err_set(err, SK_EINVAL, "target", "the target's model takes no input");
        if (s->channel && sk_model_input_index(m, s->channel) < 0)
            return sk_err_set(err, SK_ENOENT, "channel", "is not an input channel of the "
                              "target's model");
    }
    switch (s->kind) {
    case SK_STIM_POISSON:
        if (!(s->rate_hz >= 0.0 && s->rate_hz <= 1e6))
            return sk_err_set(err, SK_ERANGE, "rate_hz", "must be in [0, 1e6] Hz");
        if (s->n_sources > 1000000u)
            return sk_err_set(err, SK_ERANGE, "n_sources", "must be <= 1e6");
        if (!isfinite(s->weight))
            return sk_err_set(err, SK_ERANGE, "weight", "must be finite");
        return 0;
    case SK_STIM_CURRENT:
        if (!isfinite(s->amplitude))
            return sk_err_set(err, SK_ERANGE, "amplitude", "must be finite");
        for (uint32_t k = 0; s->amplitudes && k < (s->neurons ? s->n_neurons : size); k++)
            if (!isfinite(s->amplitudes[k]))
                return sk_err_set(err, SK_ERANGE, "amplitudes", "must be finite");
        if (s->stop && s->stop < s->start)
            return sk_err_set(err, SK_ERANGE, "stop_step", "must be >= start_step");
        return 0;
    case SK_STIM_STEP_CURRENT:
        if (!s->n_times || !s->times || !s->amplitudes)
            return sk_err_set(err, SK_EINVAL, "times", "needs times and amplitudes");
        for (uint32_t k = 0; k < s->n_times; k++) {
            if (k && s->times[k] <= s->times[k - 1])
                return sk_err_set(err, SK_EINVAL, "times", "must be strictly increasing");
            if (!isfinite(s->amplitudes[k]))
                return sk_err_set(err, SK_ERANGE, "amplitudes", "must be finite");
        }
        return 0;
    default:
        if (s->n_times && (!s->times || !s->spike_neurons))
            return sk_err_set(err, SK_EINVAL, "times", "needs times and neurons");
        for (uint32_t k = 0; k < s->n_times; k++)
            if (s->spike_neurons[k] >= size)
                return sk_err_set(err, SK_ERANGE, "neurons", "neuron %u is out of range "
                                  "(population size %u)", s->spike_neurons[k], size);
        return 0;
    }
}

void sk__stim_set_rate(sk__stim_t *stim, double rate_hz, double dt_ms)
{
    stim->rate_hz = rate_hz;
    stim->lambda = (double)stim->n_sources * rate_hz * dt_ms * 1e-3;
    stim->exp_neg_lambda = exp(-stim->lambda);
}

void sk__stim_prepare(sk__stim_t *stim)
{
    stim->in_place = stim->kind == SK_STIM_CURRENT && stim->amplitudes && !stim->neurons &&
                     stim->channel >= 0;
    for (uint32_t k = 0; stim->in_place && k < stim->n_amplitudes; k++) {
        const float a = stim->amplitudes[k], b = 0.0f + a;
        stim->in_place = memcmp(&a, &b, sizeof a) == 0; /* false for -0 and NaNs */
    }
}

static void *dup(const void *src, size_t n, size_t size)
{
    void *p = sk_calloc(n ? n : 1, size);
    if (p && n)
        memcpy(p, src, n * size);
    return p;
}

static int time_less(const void *ctx, uint64_t a, uint64_t b)
{
    const uint64_t *t = ctx;
    return t[a] < t[b];
}

static int id_less(const void *ctx, uint64_t a, uint64_t b)
{
    const uint32_t *id = ctx;
    return id[a] < id[b];
}

/* A subset of targets, in a stable order by neuron id; per-target amplitudes (current only:
 * a step_current's amplitudes are per time) follow their neuron. */
static int sort_targets(sk__stim_t *s)
{
    uint64_t *order;
    int per_target = s->kind == SK_STIM_CURRENT && s->amplitudes;
    uint32_t *ids = sk_calloc(s->n_neurons + 1u, sizeof *ids);
    float *amps = per_target ? sk_calloc(s->n_neurons + 1u, sizeof *amps) : NULL;
    if (!ids || (per_target && !amps) ||
        sk__stable_order(s->n_neurons, id_less, s->neurons, &order)) {
        sk_free(ids);
        sk_free(amps);
        return SK_ENOMEM;
    }
    for (uint32_t k = 0; k < s->n_neurons; k++) {
        ids[k] = s->neurons[order[k]];
        if (amps)
            amps[k] = s->amplitudes[order[k]];
    }
    sk_free(order);
    sk_free(s->neurons);
    s->neurons = ids;
    if (amps) {
        sk_free(s->amplitudes);
        s->amplitudes = amps;
    }
    return 0;
}

/* spike_times: the (time, neuron) pairs in a stable order by time. */
static int sort_spikes(sk__stim_t *s, const sk_stim_spec_t *spec)
{
    uint64_t *order;
    if (sk__stable_order(s->n_times, time_less, spec->times, &order))
        return SK_ENOMEM;
    for (uint32_t k = 0; k < s->n_times; k++) {
        s->times[k] = spec->times[order[k]];
        s->spike_neurons[k] = spec->spike_neurons[order[k]];
    }
    sk_free(order);
    return 0;
}

int sk__stim_build(const sk_net_t *net, const sk_stim_spec_t *spec, sk__stim_t *stim,
                   sk_err_t *err)
{
    int pop = sk_net_pop_index(net, spec->target);
    const sk_model_t *m = net->pops[pop].model;
    stim->kind = spec->kind;
    stim->pop = (uint32_t)pop;
    stim->channel = sk__resolve_channel(
        m, spec->channel, spec->kind == SK_STIM_CURRENT || spec->kind == SK_STIM_STEP_CURRENT);
    stim->n_sources = spec->n_sources ? spec->n_sources : 1;
    stim->weight = spec->weight;
    stim->amplitude = spec->amplitude;
    stim->start = spec->start;
    stim->stop = spec->stop;
    stim->n_neurons = spec->neurons ? spec->n_neurons : 0;
    stim->n_times = spec->n_times;
    sk__stim_set_rate(stim, spec->rate_hz, net->dt_ms);
    if (spec->neurons && !(stim->neurons = dup(spec->neurons, spec->n_neurons, sizeof(uint32_t))))
        goto nomem;
    if (spec->n_times && !(stim->times = dup(spec->times, spec->n_times, sizeof(uint64_t))))
        goto nomem;
    if (spec->kind == SK_STIM_STEP_CURRENT &&
        !(stim->amplitudes = dup(spec->amplitudes, spec->n_times, sizeof(float))))
        goto nomem;
    uint32_t targets = spec->neurons ? spec->n_neurons : net->pops[pop].n;
    if (spec->kind == SK_STIM_CURRENT && spec->amplitudes) {
        stim->n_amplitudes = targets;
        if (!(stim->amplitudes = dup(spec->amplitudes, targets, sizeof(float))))
            goto nomem;
    }
    if (stim->neurons && sort_targets(stim))
        goto nomem;
    if (spec->kind == SK_STIM_SPIKE_TIMES && spec->n_times) {
        if (!(stim->spike_neurons = dup(spec->spike_neurons, spec->n_times, sizeof(uint32_t))) ||
            sort_spikes(stim, spec))
            goto nomem;
    }
    sk__stim_prepare(stim);
    return 0;
nomem:
    return sk_err_set(err, SK_ENOMEM, "", "out of memory");
}

void sk__stim_free(sk__stim_t *stim)
{
    sk_free(stim->neurons);
    sk_free(stim->times);
    sk_free(stim->amplitudes);
    sk_free(stim->spike_neurons);
}

/* First index k with times[k] >= t (times ascending). */
static uint32_t lower_bound(const uint64_t *times, uint32_t n, uint64_t t)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (times[mid] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Events of one step: by inversion of the Poisson CDF when x is a uniform deviate, or, for
 * lambda >= POISSON_NORMAL_FROM, round(lambda + sqrt(lambda) * x) when x is a standard
 * normal deviate (the caller draws the right kind). */
static uint32_t poisson_count(const sk__stim_t *s, double x)
{
    if (s->lambda >= POISSON_NORMAL_FROM) {
        double k = floor(s->lambda + sqrt(s->lambda) * x + 0.5);
        return k > 0.0 ? (uint32_t)k : 0u;
    }
    uint32_t k = 0;
    double pk = s->exp_neg_lambda, cdf = pk;
    while (x > cdf && k < 1000u) { /* the cap only guards against rounding near x = 1 */
        k++;
        pk *= s->lambda / k;
        cdf += pk;
    }
    return k;
}

/* The targets of s within neurons [lo, hi): positions [*first, *last) of its subset (sorted),
 * or the neurons themselves when it targets the whole population. */
static void target_range(const sk__stim_t *s, uint32_t lo, uint32_t hi, uint32_t *first,
                         uint32_t *last)
{
    if (!s->neurons) {
        *first = lo;
        *last = hi;
        return;
    }
    uint32_t a = 0, b = s->n_neurons;
    while (a < b) { /* first id >= lo */
        uint32_t mid = a + (b - a) / 2;
        if (s->neurons[mid] < lo)
            a = mid + 1;
        else
            b = mid;
    }
    *first = a;
    for (b = s->n_neurons; a < b;) { /* first id >= hi */
        uint32_t mid = a + (b - a) / 2;
        if (s->neurons[mid] < hi)
            a = mid + 1;
        else
            b = mid;
    }
    *last = a;
}

/* Adds w to neuron j's input on channel c (-1: the sign split) of a block whose first neuron
 * is lo: acc[c][j - lo]. */
static inline void add_input(float *const *acc, uint32_t lo, int32_t c, uint32_t j, float w)
{
    if (c >= 0)
        acc[c][j - lo] += w;
    else if (w > 0.0f)
        acc[0][j - lo] += w;
    else if (w < 0.0f)
        acc[1][j - lo] += -w;
}

static void poisson_inputs(const sk_net_t *net, const sk__stim_t *s, uint32_t index,
                           float *const *acc, uint32_t lo, uint64_t t, uint32_t first,
                           uint32_t last)
{
    const uint32_t stream = sk__stream(SK__RNG_POISSON, index, 0);
    const int normal = s->lambda >= POISSON_NORMAL_FROM;
    for (uint32_t k = first; k < last; k++) {
        uint32_t j = s->neurons ? s->neurons[k] : k;
        double u = normal ? sk_rng_normal(net->seed, stream, t, j)
                          : sk_rng_uniform(net->seed, stream, t, j);
        uint32_t events = poisson_count(s, u);
        if (events)
            add_input(acc, lo, s->channel, j, (float)events * s->weight);
    }
}

/* Adds amp (or per[k], when given) to the targets at positions [first, last). Cloned for wider
 * vectors like the model loops (sk_model.h). */
SK_MODEL_CLONES static void current_inputs(const sk__stim_t *s, float *const *acc, uint32_t lo,
                                           float amp, const float *per, uint32_t first,
                                           uint32_t last)
{
    if (!s->neurons && s->channel >= 0) { /* the dense case: one vectorisable pass */
        float *restrict x = acc[s->channel];
        const uint32_t n = last - first;
        if (per) {
            const float *restrict y = per + first;
            for (uint32_t k = 0; k < n; k++)
                x[k] += y[k];
        } else {
            for (uint32_t k = 0; k < n; k++)
                x[k] += amp;
        }
        return;
    }
    for (uint32_t k = first; k < last; k++)
        add_input(acc, lo, s->channel, s->neurons ? s->neurons[k] : k, per ? per[k] : amp);
}

/* Zeros, the input of a block that nothing adds to (read-only). */
static const float zeros[SK__BLOCK];

/* The block's channels as sums the stimuli can add into (acc[c]): a channel still read from
 * elsewhere (zeros, or amplitudes in place) is first copied into its scratch buffer. */
static void own_channels(const sk__pop_t *pop, int32_t channel, uint32_t n, float *scratch,
                         const float **in, float **acc)
{
    for (uint32_t c = 0; c < pop->model->n_inputs; c++) {
        if (acc[c] || (channel >= 0 && (uint32_t)channel != c))
            continue;
        acc[c] = scratch + (size_t)c * SK__BLOCK;
        if (in[c] == zeros)
            memset(acc[c], 0, (size_t)n * sizeof(float));
        else
            memcpy(acc[c], in[c], (size_t)n * sizeof(float));
        in[c] = acc[c];
    }
}

/* The amplitude of current-like stimulus s at step t, and whether it is on. */
static int current_now(const sk__stim_t *s, uint64_t t, float *amp, const float **per)
{
    if (s->kind == SK_STIM_CURRENT) {
        *amp = s->amplitude;
        *per = s->amplitudes;
        return t >= s->start && (s->stop == 0 || t < s->stop);
    }
    uint32_t at = lower_bound(s->times, s->n_times, t + 1); /* step_current: first time > t */
    *amp = at ? s->amplitudes[at - 1] : 0.0f;
    *per = NULL;
    return at > 0;
}

void sk__block_inputs(sk_net_t *net, uint32_t p, uint64_t t, uint32_t lo, uint32_t hi,
                      float *const *slot, float *scratch, const float **in)
{
    const sk__pop_t *pop = &net->pops[p];
    float *acc[SK_MODEL_MAX_INPUTS] = {NULL};
    for (uint32_t c = 0; c < pop->model->n_inputs; c++) {
        acc[c] = slot ? slot[c] : NULL;
        in[c] = slot ? slot[c] : zeros;
    }
    for (uint32_t k = 0; k < net->n_stims; k++) {
        const sk__stim_t *s = &net->stims[k];
        float amp = 0.0f;
        const float *per = NULL;
        if (s->pop != p || s->kind == SK_STIM_SPIKE_TIMES ||
            (s->kind == SK_STIM_POISSON ? s->lambda <= 0.0 : !current_now(s, t, &amp, &per)))
            continue;
        uint32_t first, last;
        target_range(s, lo, hi, &first, &last);
        if (first == last)
            continue;
        if (s->in_place && !acc[s->channel] && in[s->channel] == zeros) {
            in[s->channel] = per + lo; /* 0 + per[k] == per[k]: read them where they are */
            continue;
        }
        own_channels(pop, s->channel, hi - lo, scratch, in, acc);
        if (s->kind == SK_STIM_POISSON)
            poisson_inputs(net, s, k, acc, lo, t, first, last);
        else
            current_inputs(s, acc, lo, amp, per, first, last);
    }
}

void sk__stims_spikes(sk_net_t *net, uint64_t t)
{
    for (uint32_t k = 0; k < net->n_stims; k++) {
        const sk__stim_t *s = &net->stims[k];
        if (s->kind != SK_STIM_SPIKE_TIMES)
            continue;
        sk__pop_t *pop = &net->pops[s->pop];
        for (uint32_t j = lower_bound(s->times, s->n_times, t); j < s->n_times && s->times[j] == t;
             j++) {
            pop->spiked[s->spike_neurons[j]] = 1;
            pop->forced = 1;
        }
    }
}

uint64_t sk__stims_next_spike(const sk_net_t *net, uint64_t t)
{
    uint64_t next = UINT64_MAX;
    for (uint32_t k = 0; k < net->n_stims; k++) {
        const sk__stim_t *s = &net->stims[k];
        if (s->kind != SK_STIM_SPIKE_TIMES)
            continue;
        const uint32_t j = lower_bound(s->times, s->n_times, t);
        if (j < s->n_times && s->times[j] < next)
            next = s->times[j];
    }
    return next;
}
