/* step.c: the steps of the whole network, each in the fixed order of sk_net.h:
 *   injected currents into the ring slot -> per block of neurons: stimuli, model step, clear
 *   of the consumed slot, spike ids -> forced spikes -> history record -> delivery ->
 *   recorders;
 * one epoch of 1 to SK__EPOCH_MAX steps at a time (Epochs, below).
 *
 * Blocks. The model phase walks each population in blocks of SK__BLOCK neurons and does all
 * per-neuron work of the step on one block before the next (stimuli, the model, the clear
 * of the consumed slot, the spike ids), so the slot, the state and the flags of a block come
 * from memory once. Each neuron still sums its input in the documented order (synaptic input
 * already in the slot, injected currents, stimuli in description order); the slot of step t
 * is never a delivery target at step t (1 <= delay < depth), so clearing it early changes
 * nothing.
 *
 * Untouched slots. pop->written[slot] says whether anything (delivery, injection) wrote into
 * a slot since it was last cleared. A slot nobody wrote into holds only +0: the model phase
 * neither reads nor clears it, and the stimuli sum into a per-task scratch block instead, or
 * (a lone per-neuron current) are read in place; 0 + x == x makes that the same input bit
 * for bit (sk__block_inputs). A feed-forward population driven by stimuli alone then streams
 * only its state and its stimuli's data, not its ring.
 *
 * Hot path. Nothing here allocates. The two heavy phases (model steps, delivery) run as
 * n_threads tasks when the caller lent a pool: model steps split every population into
 * neuron ranges; delivery splits every target population into ranges of target ids, and
 * each task walks all spikes but writes only its own targets. Each target therefore sums
 * its inputs in the same order (projection, source id, synapse) whatever the thread
 * count, and results are bit-identical to one thread.
 *
 * Epochs. A split model phase costs a fork and a join, and the lines they pass between the
 * threads, whatever the work in it (0.3-0.5 us here: as much as 2000 lif updates). So one
 * model phase runs K steps when it can (epoch_len): each part steps its neurons K times in a
 * row, and the serial work of the K steps (history, delivery) follows it, step by step.
 * That is NEST's min-delay scheme: no spike reaches a target sooner than the network's shortest delay,
 * so with K no longer than that the deliveries of an epoch land after it, and the parts need
 * nothing from each other within it. An epoch also ends at the first step with queued
 * input, forced spikes or a recorder sample. Every neuron then sums the same inputs in the
 * same order as in single steps: the results are the same bit for bit, which
 * tests/core/test_net.c checks against one step per call. Networks without projections
 * (no delay at all) run SK__EPOCH_MAX steps per epoch; coupled ones with delay 1 run
 * single steps as before.
 *
 * Publishing. Each part of the model phase collects the spike ids of each step of its epoch
 * into its own segment of pop->ids (the part's buffer starts at its first neuron x
 * epoch_cap; pop->seg says where each step's ids are and how many), and nothing gathers
 * them: delivery walks the segments in order, which is ascending id order. The stepping
 * thread only counts them, reserves the steps' history records and writes each segment's
 * place in them; the part copies its segments there at the start of its next model task,
 * when its ids are still in its core's cache, and sk_net_step copies what is left
 * (publish_all) before it returns. So no thread reads another's ids, and between two model
 * phases the stepping thread works only on counts. The part ranges are the same in every
 * epoch of one sk_net_step call, so part k of the next epoch is the one that wrote the
 * segments.
 *
 * Tuning. Whether splitting the model phase pays depends on the machine more than on the
 * network: a split step passes a few cache lines between the threads (the fork, the join,
 * the spike counts and history positions), and what that costs varies tenfold with where the
 * host puts the threads and whether it preempts one of them (tests/bench/NOTES.md §2). So
 * when the grain allows a split, sk_net_step times short groups of epochs split and whole,
 * alternating, and runs the mode whose median group was faster until the next probe,
 * TUNE_EVERY steps later, twice as long after each probe that confirms the choice. Only
 * steps within one sk_net_step call are timed (the caller's time between calls is not the
 * network's). The choice changes no result, only speed. The core reads no clock itself: it
 * times through sk_parallel_t.clock, and without one never tunes (split when the grain
 * allows), so a test can force either choice with a fake clock (tests/core/test_net.c).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The caller's head start in the model phase, in neurons: it runs part 0 and starts at once,
 * while a worker sees the fork, and the lines the caller wrote for it, some 0.1-0.3 us later
 * (about 500 lif updates here; tests/bench/NOTES.md). Measured for single steps; with
 * epochs of 8 steps, heads of 0, 128 and 512 gave the same speed. */
#define SK__HEAD 512u

/* [lo, hi) of part k of n items split into `parts`, part 0 `head` items longer (at most twice
 * the others), boundaries on multiples of 64 neurons (a cache line of spike flags, four of
 * floats) so tasks never share a line. */
static void part_range(uint32_t n, uint32_t k, uint32_t parts, uint32_t head, uint32_t *lo,
                       uint32_t *hi)
{
    if (parts == 1) {
        *lo = 0;
        *hi = n;
        return;
    }
    const uint64_t h = head < n / parts ? head : n / parts, rest = n - h;
    uint64_t a = k == 0 ? 0 : (h + rest * k / parts) & ~UINT64_C(63);
    uint64_t b = k + 1 == parts ? n : ((h + rest * (k + 1) / parts) & ~UINT64_C(63));
    *lo = (uint32_t)(a < n ? a : n);
    *hi = (uint32_t)(b < n ? b : n);
    if (*hi < *lo)
        *hi = *lo;
}

typedef struct phase {
    sk_net_t *net;
    uint64_t t;       /* model phase: the epoch's first step; delivery: the step delivered */
    uint32_t steps;   /* model phase: the epoch's steps */
    uint32_t s;       /* delivery: t's place in the epoch (which segments to deliver) */
    uint32_t parts;   /* of the phase being run */
    uint32_t segs;    /* parts of the epoch's model phase: the segments of the spike ids */
    uint32_t publish; /* the model tasks first copy this many steps' segments (the last
                         epoch's) */
} phase_t;

/* The segment of step s of the epoch of the part that starts at neuron lo. */
static inline sk__seg_t *seg_at(const sk_net_t *net, const sk__pop_t *pop, uint32_t lo, uint32_t s)
{
    return &pop->seg[(size_t)(lo / 64) * net->epoch_cap + s];
}

/* Copies the segments of steps [0, steps) of part `part` (of `parts`) of population k into
 * their places in the history and empties them. */
static void publish_seg(sk_net_t *net, uint32_t k, uint32_t part, uint32_t parts, uint32_t steps)
{
    const sk__pop_t *pop = &net->pops[k];
    uint32_t lo, hi;
    part_range(pop->n, part, parts, SK__HEAD, &lo, &hi);
    for (uint32_t s = 0; lo < hi && s < steps; s++) {
        sk__seg_t *seg = seg_at(net, pop, lo, s);
        if (seg->n)
            memcpy(net->hist.ids + seg->at, pop->ids + (size_t)lo * net->epoch_cap + seg->off,
                   (size_t)seg->n * sizeof(uint32_t));
        seg->n = 0;
    }
}

/* Everything of step t for neurons [lo, hi) of population k before the spikes, and the
 * block's spike ids while its flags are in cache, written at ids (block starts are
 * multiples of 16); returns their number. A ring slot that nothing wrote into holds only
 * zeros: it is neither read nor cleared, and the stimuli go into scratch or are read in
 * place (sk__block_inputs). */
static uint32_t pop_block(sk_net_t *net, uint32_t k, uint64_t t, uint32_t lo, uint32_t hi,
                          float *scratch, uint32_t *ids)
{
    sk__pop_t *pop = &net->pops[k];
    const sk_model_t *m = pop->model;
    const uint32_t at = pop->depth > 1 ? (uint32_t)(t % pop->depth) : 0u;
    const int written = pop->written[at];
    float *slot = pop->ring + (size_t)at * m->n_inputs * pop->n;
    float *s[SK_MODEL_MAX_STATE], *acc[SK_MODEL_MAX_INPUTS];
    const float *in[SK_MODEL_MAX_INPUTS];
    for (uint32_t j = 0; j < m->n_state; j++)
        s[j] = pop->s[j] + lo;
    for (uint32_t c = 0; c < m->n_inputs; c++)
        acc[c] = slot + (size_t)c * pop->n + lo;
    sk__block_inputs(net, k, t, lo, hi, written ? acc : NULL, scratch, in);
    sk_step_args_t a = {
        .n = hi - lo,
        .step = t,
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
    for (uint32_t c = 0; written && c < m->n_inputs; c++)
        memset(acc[c], 0, (size_t)(hi - lo) * sizeof(float));
    return sk__collect(pop->spiked, lo, hi, ids);
}

/* Part `part` of every population for every step of the epoch: first the copy of its
 * segments of the last epoch (Publishing), then per step its blocks in ascending order,
 * which append their spike ids after the ids of the epoch's earlier steps (a block's
 * collection writes at most one id per neuron of the block, sk__collect, so a part of
 * h neurons stays within its h x epoch_cap ids). */
static void models_task(void *arg, uint32_t part)
{
    const phase_t *ph = arg;
    sk_net_t *net = ph->net;
    /* the stimuli's sums for a block whose ring slot holds only zeros (sk__block_inputs) */
    _Alignas(64) float scratch[SK_MODEL_MAX_INPUTS * SK__BLOCK];
    for (uint32_t k = 0; k < net->n_pops; k++) {
        sk__pop_t *pop = &net->pops[k];
        uint32_t lo, hi, off = 0;
        part_range(pop->n, part, ph->parts, SK__HEAD, &lo, &hi);
        if (lo == hi) /* an empty part may share its start with the next one */
            continue;
        if (ph->publish)
            publish_seg(net, k, part, ph->parts, ph->publish);
        uint32_t *ids = pop->ids + (size_t)lo * net->epoch_cap;
        for (uint32_t s = 0; s < ph->steps; s++) {
            uint32_t n = 0;
            for (uint32_t b = lo; b < hi; b += SK__BLOCK)
                n += pop_block(net, k, ph->t + s, b, hi - b > SK__BLOCK ? b + SK__BLOCK : hi,
                               scratch, ids + off + n);
            sk__seg_t *seg = seg_at(net, pop, lo, s);
            seg->n = n;
            seg->off = off;
            off += n;
        }
    }
}

/* Segment q (of `segs`) of the spike ids of population `pop` at step s of the epoch (a
 * population with forced spikes has all of them in segment 0, record()). */
static inline const uint32_t *segment(const sk_net_t *net, const sk__pop_t *pop, uint32_t q,
                                      uint32_t segs, uint32_t s, uint32_t *n)
{
    if (pop->forced) {
        *n = q == 0 ? pop->n_ids : 0;
        return pop->ids;
    }
    uint32_t lo, hi;
    part_range(pop->n, q, segs, SK__HEAD, &lo, &hi);
    if (lo == hi) {
        *n = 0;
        return pop->ids;
    }
    const sk__seg_t *seg = seg_at(net, pop, lo, s);
    *n = seg->n;
    return pop->ids + (size_t)lo * net->epoch_cap + seg->off;
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

static void deliver_dense(const sk__proj_t *p, const uint32_t *ids, uint32_t n_ids, sk__pop_t *dst,
                          uint64_t t, uint32_t lo, uint32_t hi)
{
    const uint32_t slot = (uint32_t)((t + p->delay) % dst->depth);
    float *base = dst->ring + (size_t)slot * dst->model->n_inputs * dst->n;
    for (uint32_t s = 0; s < n_ids; s++) {
        const float *restrict row = p->w + (size_t)ids[s] * dst->n;
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

static void deliver_sparse(const sk__proj_t *p, const uint32_t *ids, uint32_t n_ids, sk__pop_t *dst,
                           uint64_t t, uint32_t lo, uint32_t hi)
{
    const int whole = lo == 0 && hi == dst->n;
    for (uint32_t s = 0; s < n_ids; s++) {
        const uint32_t pre = ids[s];
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

/* A plastic projection (sk_synapse.h): each synapse of a spiking source whose target is in
 * [lo, hi) runs the model's on_pre, in the projection's synapse order, and its event goes
 * into the target's ring. Only this part touches these synapses' state and the targets'
 * slots; the traces are read only. */
static void deliver_plastic(const sk_net_t *net, sk__proj_t *p, const uint32_t *ids,
                            uint32_t n_ids, sk__pop_t *dst, uint64_t t, uint32_t lo, uint32_t hi)
{
    sk_syn_pre_args_t a = {.step = t, .tics = sk__tics(net), .p = p->sp};
    double post[SK_SYN_MAX_POST];
    for (uint32_t k = 0; k < p->syn->n_post_params; k++)
        post[k] = dst->p[p->post_idx[k]];
    a.post_p = post;
    uint64_t lost = 0;
    for (uint32_t s = 0; s < n_ids; s++) {
        const uint32_t pre = ids[s];
        uint64_t ka, kb;
        if (p->dense) {
            ka = (uint64_t)pre * dst->n + lo;
            kb = (uint64_t)pre * dst->n + hi;
        } else {
            ka = lower_col(p->col, p->row[pre], p->row[pre + 1], lo);
            kb = lower_col(p->col, ka, p->row[pre + 1], hi);
        }
        for (uint64_t k = ka; k < kb; k++) {
            const uint32_t j = p->dense ? (uint32_t)(k - (uint64_t)pre * dst->n) : p->col[k];
            a.delay = p->dense ? p->delay : p->delays ? p->delays[k] : p->delay;
            if (dst->tr_cap) {
                a.post.step = dst->tr_step + (size_t)j * dst->tr_cap;
                a.post.kminus = dst->tr_k + (size_t)j * dst->tr_cap;
                a.post.cap = dst->tr_cap;
                a.post.n = dst->tr_n[j];
            }
            const double w = p->syn->on_pre(&a, p->st + k * p->ns, &lost);
            if (p->sent) {
                p->sent[k] = w;
                p->sent_step[k] = t;
            }
            sk__deliver(dst, (uint32_t)((t + a.delay) % dst->depth), p->channel, j, (float)w);
        }
    }
    if (lost)
        __atomic_fetch_add(&p->lost, lost, __ATOMIC_RELAXED);
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
        part_range(dst->n, part, ph->parts, 0, &lo, &hi);
        if (lo == hi)
            continue;
        for (uint32_t q = 0; q < ph->segs; q++) { /* the segments in order: ascending ids */
            uint32_t n;
            const uint32_t *ids = segment(net, src, q, ph->segs, ph->s, &n);
            if (n && p->syn)
                deliver_plastic(net, (sk__proj_t *)p, ids, n, dst, ph->t, lo, hi);
            else if (n && p->dense)
                deliver_dense(p, ids, n, dst, ph->t, lo, hi);
            else if (n)
                deliver_sparse(p, ids, n, dst, ph->t, lo, hi);
        }
    }
}

/* Parallel grain (sk_parallel_t.grain): a phase is split only into parts of at least that
 * much work. The part count never changes results, only speed. Neurons: a split model step
 * hands 0.3-0.5 us of cache-line traffic between the threads here, about 1000 lif updates,
 * and 2 x 4096 neurons was the smallest split that paid (tests/bench/NOTES.md §2). Synaptic
 * events: the earlier value, not re-measured since. */
#define SK__GRAIN_NEURONS 4096u
#define SK__GRAIN_EVENTS  16384u

static uint32_t parts_for(const sk_net_t *net, uint64_t work, uint32_t grain)
{
    if (net->par.n_threads <= 1)
        return 1;
    uint64_t parts = work / (net->par.grain ? net->par.grain : grain);
    uint32_t threads = net->par.n_threads ? net->par.n_threads : 1;
    return parts < 1 ? 1u : parts > threads ? threads : (uint32_t)parts;
}

/* Synaptic events the delivery phase of this step will do (an estimate for the grain). */
static uint64_t delivery_work(const sk_net_t *net)
{
    uint64_t work = 0;
    for (uint32_t k = 0; k < net->n_projs; k++) {
        const sk__proj_t *p = &net->projs[k];
        const sk__pop_t *src = &net->pops[p->src];
        uint64_t per = p->dense ? net->pops[p->dst].n : p->n_syn / src->n;
        work += (uint64_t)src->n_ids * (per ? per : 1);
    }
    return work;
}

/* Marks the ring slots the delivery of step t will write into. */
static void mark_written(sk_net_t *net, uint64_t t)
{
    for (uint32_t k = 0; k < net->n_projs; k++) {
        const sk__proj_t *p = &net->projs[k];
        sk__pop_t *dst = &net->pops[p->dst];
        if (net->pops[p->src].n_ids == 0)
            continue;
        if (p->delays)
            for (uint32_t d = 1; d <= p->max_delay; d++)
                dst->written[(t + d) % dst->depth] = 1;
        else
            dst->written[(t + p->delay) % dst->depth] = 1;
    }
}

static void run_phase(sk_net_t *net, sk_task_fn fn, phase_t *ph)
{
    if (ph->parts > 1)
        net->par.run(net->par.pool, fn, ph, ph->parts);
    else
        fn(ph, 0);
}

/* Counts the spikes of step t (step s of its epoch) in the segments, reserves the step's
 * history record and writes each segment's place in it (Publishing). A population with forced
 * spikes (only ever at an epoch's last step) is collected again from its flags, all of it,
 * into pop->ids, over the part buffers: so the epoch's earlier segments of that population
 * are copied into their records first; the forced ids are copied into the record here and
 * its segments emptied; until the next epoch starts, `forced` says that its ids are all at
 * pop->ids (segment()). */
static void record(sk_net_t *net, uint64_t t, uint32_t s, uint32_t segs)
{
    for (uint32_t k = 0; k < net->n_pops; k++) {
        sk__pop_t *pop = &net->pops[k];
        uint32_t n = 0, c;
        for (uint32_t q = 0; !pop->forced && q < segs; q++) {
            segment(net, pop, q, segs, s, &c);
            n += c;
        }
        if (pop->forced) {
            for (uint32_t q = 0; q < segs; q++)
                publish_seg(net, k, q, segs, s);
            n = sk__collect(pop->spiked, 0, pop->n, pop->ids);
        }
        pop->n_ids = n;
        pop->spikes_total += n;
        net->spikes_total += n;
    }
    uint64_t at = 0;
    int kept = sk__hist_reserve(net, t, &at);
    for (uint32_t k = 0; k < net->n_pops; k++) {
        sk__pop_t *pop = &net->pops[k];
        if (pop->forced && kept)
            memcpy(net->hist.ids + at, pop->ids, (size_t)pop->n_ids * sizeof(uint32_t));
        if (pop->forced)
            at += pop->n_ids;
        for (uint32_t q = 0; q < segs; q++) {
            uint32_t lo, hi;
            part_range(pop->n, q, segs, SK__HEAD, &lo, &hi);
            if (lo == hi)
                continue;
            sk__seg_t *seg = seg_at(net, pop, lo, s);
            if (pop->forced)
                seg->n = 0;
            seg->at = at;
            at += seg->n;
        }
    }
}

/* Appends the spikes of step u (step s of the epoch) of every traced population to its
 * neurons' traces (sk_synapse.h), after its history record and before its delivery: on_pre
 * at step u reads target spikes of steps <= u - delay < u only, so a plastic projection
 * sees exactly NEST's history in an epoch of any length (epoch_cap <= the shortest delay). */
static void trace(sk_net_t *net, uint64_t u, uint32_t s, uint32_t segs)
{
    const int64_t tics = sk__tics(net);
    for (uint32_t k = 0; k < net->n_pops; k++) {
        sk__pop_t *pop = &net->pops[k];
        if (!pop->tr_cap || pop->n_ids == 0)
            continue;
        for (uint32_t q = 0; q < segs; q++) {
            uint32_t n;
            const uint32_t *ids = segment(net, pop, q, segs, s, &n);
            for (uint32_t i = 0; i < n; i++)
                sk__trace_add(pop, ids[i], u, tics);
        }
    }
}

/* Copies the ids of the last epoch still in the populations' segments into the history (what
 * the next epoch's model tasks would have done). */
static void publish_all(sk_net_t *net)
{
    const uint32_t segs = net->hist.unpublished;
    for (uint32_t k = 0; segs && k < net->n_pops; k++)
        for (uint32_t q = 0; q < segs; q++)
            publish_seg(net, k, q, segs, net->hist.unpublished_steps);
    net->hist.unpublished = net->hist.unpublished_steps = 0;
}

/* ------------------------------------------------------------------------------------ */
/* Epochs                                                                                */

/* Steps the next epoch may take, from step t, at most `left`: K steps can run in one model
 * phase, each part stepping its neurons K times in a row, when nothing between their model
 * phases reads or writes another part's neurons or needs the caller:
 *   - spikes reach their targets no sooner than K steps later (K <= the shortest delay,
 *     which epoch_cap never passes), so the epoch's deliveries, done after it step by step,
 *     land in slots it does not read;
 *   - no injected input is queued within the epoch (the current injections of its first
 *     step are applied before it), no spikes are forced (spike-time stimuli, injected
 *     spikes) and no recorder samples before its last step, whose serial work (forcing,
 *     recording) is done after the model phase as for a single step.
 * So every neuron gets the same input in the same order as in single steps, and results
 * are the same bit for bit; the id buffers bound K (epoch_cap). */
static uint32_t epoch_len(const sk_net_t *net, uint64_t t, uint64_t left)
{
    uint64_t k = net->epoch_cap < left ? net->epoch_cap : left; /* epoch_cap <= shortest delay */
    const sk__queue_t *q = &net->queue;
    if (k > 1 && q->head < q->n) { /* queued steps are >= t (sk_net_inject) */
        const uint64_t e = q->items[q->head].step;
        k = e <= t ? 1 : e - t < k ? e - t : k;
    }
    for (uint32_t r = 0; k > 1 && r < net->n_recs; r++) {
        const uint64_t every = net->recs[r].every, to_sample = (every - t % every) % every;
        k = to_sample + 1 < k ? to_sample + 1 : k;
    }
    for (uint32_t r = 0; k > 1 && r < net->n_wrecs; r++) { /* ends at steps every-1, ... */
        const uint64_t every = net->wrecs[r].every, to_sample = every - 1 - t % every;
        k = to_sample + 1 < k ? to_sample + 1 : k;
    }
    if (k > 1) {
        const uint64_t e = sk__stims_next_spike(net, t); /* >= t; UINT64_MAX: none */
        k = e != UINT64_MAX && e - t + 1 < k ? e - t + 1 : k;
    }
    return k ? (uint32_t)k : 1u;
}

/* Steps the network by one epoch of `steps` steps (epoch_len), in the order of sk_net.h for
 * each of them: injected currents of the first step -> model phase of every step (the
 * tasks) -> for each step: forced spikes (last step only), history record, delivery ->
 * recorders (last step only). */
static void epoch(sk_net_t *net, uint32_t steps)
{
    const uint64_t t = net->step, last = t + steps - 1;
    phase_t ph = {.net = net, .t = t, .steps = steps};
    /* epoch bounds (internal.h, SK__EPOCH_MAX; epoch_len): the id buffers hold epoch_cap */
    SK_ASSERT(steps >= 1 && steps <= SK__EPOCH_MAX && (steps == 1 || steps <= net->epoch_cap));

    for (uint32_t k = 0; k < net->n_pops; k++)
        net->pops[k].forced = 0;
    sk__queue_apply(net, t, SK_INJECT_CURRENT);
    ph.parts = net->tune.whole ? 1 : parts_for(net, net->n_neurons, SK__GRAIN_NEURONS);
    if (net->hist.unpublished && net->hist.unpublished != ph.parts)
        publish_all(net); /* the parts changed: the tasks would not find their segments */
    ph.segs = ph.parts;
    ph.publish = net->hist.unpublished ? net->hist.unpublished_steps : 0;
    run_phase(net, models_task, &ph);
    for (uint32_t k = 0; k < net->n_pops; k++) { /* the epoch's slots are clear again */
        uint8_t *written = net->pops[k].written; /* read by the tasks: written only if set */
        const uint32_t depth = net->pops[k].depth;
        for (uint64_t u = t; u <= last && u < t + depth; u++)
            if (written[u % depth])
                written[u % depth] = 0;
    }
    for (uint32_t s = 0; s < steps; s++) {
        const uint64_t u = t + s;
        if (u == last) {
            sk__stims_spikes(net, u);
            sk__queue_apply(net, u, SK_INJECT_SPIKE);
            sk__queue_pop(&net->queue, u);
        }
        record(net, u, s, ph.segs);
        trace(net, u, s, ph.segs);
        if (net->n_projs) {
            mark_written(net, u);
            ph.t = u;
            ph.s = s;
            ph.parts = parts_for(net, delivery_work(net), SK__GRAIN_EVENTS);
            run_phase(net, deliver_task, &ph);
        }
    }
    net->hist.unpublished = ph.segs;
    net->hist.unpublished_steps = steps;
    for (uint32_t k = 0; k < net->n_recs; k++)
        if (last % net->recs[k].every == 0)
            sk__rec_sample(net, &net->recs[k], last);
    if (net->n_wrecs)
        sk__wrec_sample(net, last);
    net->step = t + steps;
}

/* One epoch of at most `left` steps; returns its steps. */
static uint32_t advance(sk_net_t *net, uint64_t left)
{
    const uint32_t steps = epoch_len(net, net->step, left);
    epoch(net, steps);
    return steps;
}

/* ------------------------------------------------------------------------------------ */
/* Tuning                                                                                */

#define TUNE_GROUPS    6u    /* groups per mode and probe, the modes alternating */
#define TUNE_WARM      4u    /* untimed steps at the start of a group (the parts' data moves) */
#define TUNE_TIMED     16u   /* timed steps per group (two full epochs) */
#define TUNE_MARGIN    0.85  /* whole only when clearly faster: split is the usual winner */
#define TUNE_EVERY     8192u /* steps to the next probe after one that chose split */
#define TUNE_RECHECK   1024u /* ... that chose whole (contention passes) */
#define TUNE_EVERY_MAX (UINT64_C(1) << 20)

/* The caller's clock (sk_parallel_t.clock; set whenever probe runs). */
static double seconds(const sk_net_t *net)
{
    return net->par.clock(net->par.clock_arg);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Times the two modes: TUNE_GROUPS groups each, alternating, every group TUNE_WARM untimed
 * steps and TUNE_TIMED timed ones (in epochs), counted in *k. Sets tune.whole to the mode whose median
 * group was faster (a preempted thread spoils a group, not the choice). Returns -1 if
 * canceled (tune.whole unchanged), else 0. */
static int probe(sk_net_t *net, const volatile int *cancel, uint64_t *k)
{
    const uint32_t was = net->tune.whole;
    double t[2][TUNE_GROUPS];
    for (uint32_t g = 0; g < 2 * TUNE_GROUPS; g++) {
        net->tune.whole = g & 1u;
        double t0 = 0.0;
        for (uint32_t s = 0; s < TUNE_WARM + TUNE_TIMED;) {
            if (cancel && *cancel) {
                net->tune.whole = was;
                return -1;
            }
            if (s == TUNE_WARM)
                t0 = seconds(net);
            const uint32_t n = advance(net, (s < TUNE_WARM ? TUNE_WARM : TUNE_WARM + TUNE_TIMED) - s);
            s += n;
            *k += n;
        }
        t[g & 1u][g / 2] = seconds(net) - t0;
    }
    qsort(t[0], TUNE_GROUPS, sizeof(double), cmp_double);
    qsort(t[1], TUNE_GROUPS, sizeof(double), cmp_double);
    net->tune.whole = t[1][TUNE_GROUPS / 2] < TUNE_MARGIN * t[0][TUNE_GROUPS / 2];
    return 0;
}

int sk_net_step(sk_net_t *net, uint64_t n_steps, const volatile int *cancel, uint64_t *done)
{
    const uint64_t probe_steps = 2u * TUNE_GROUPS * (TUNE_WARM + TUNE_TIMED);
    const int tunable = net->par.clock && parts_for(net, net->n_neurons, SK__GRAIN_NEURONS) > 1;
    sk__tune_t *tu = &net->tune;
    uint64_t k = 0;
    int rc = 0;
    while (k < n_steps) {
        if (cancel && *cancel) {
            rc = SK_ECANCELED;
            break;
        }
        if (tunable && net->step >= tu->next_probe && n_steps - k >= probe_steps) {
            const uint32_t was = tu->whole;
            if (probe(net, cancel, &k))
                continue; /* canceled: reported above */
            tu->interval = tu->whole                          ? TUNE_RECHECK
                           : tu->whole == was && tu->interval ? tu->interval * 2
                                                              : TUNE_EVERY;
            if (tu->interval > TUNE_EVERY_MAX)
                tu->interval = TUNE_EVERY_MAX;
            tu->next_probe = net->step + tu->interval;
            continue;
        }
        k += advance(net, n_steps - k);
    }
    publish_all(net);
    if (done)
        *done = k;
    return rc;
}
