/* internal.h: the network's data structures and the functions shared between core files.
 * Not installed; nothing outside core/src includes it.
 *
 * Memory map of a network (all allocated in sk_net_create / sk_net_restore, never in a step):
 *   populations  SoA state columns (64-byte aligned), a delay ring per population with
 *                `depth` slots x channels x size floats, spike flags, spike ids, refractory
 *                counters;
 *   projections  dense [n_pre][n_post] weights, or CSR by source (row offsets, target ids
 *                ascending within a row, weights unless constant, delays unless constant);
 *   stimuli      their own copies of neuron lists and schedules;
 *   recorders    a ring of samples each;
 *   history      a ring of spike ids and a ring of step records;
 *   injections   a queue sorted by step (the one structure that grows, between steps only,
 *                up to limits.max_pending).
 */
#ifndef SPIKED_CORE_INTERNAL_H
#define SPIKED_CORE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "spiked/sk_alloc.h"
#include "spiked/sk_assert.h"
#include "spiked/sk_error.h"
#include "spiked/sk_model.h"
#include "spiked/sk_net.h"
#include "spiked/sk_rng.h"
#include "spiked/sk_synapse.h"
#include <math.h>
#include <stdio.h>

#define SK__NAME_MAX 64

/* Default limits (sk_limits_t documents them). */
#define SK__DEF_MAX_NEURONS    UINT64_C(10000000)
#define SK__DEF_MAX_SYNAPSES   UINT64_C(200000000)
#define SK__DEF_MAX_BYTES      (UINT64_C(8) << 30)
#define SK__DEF_MAX_DELAY      10000u
#define SK__DEF_HISTORY_IDS    UINT64_C(1000000)
#define SK__DEF_HISTORY_STEPS  100000u
#define SK__DEF_MAX_PENDING    UINT64_C(1000000)
#define SK__DEF_RECORD_VALUES  UINT64_C(1000000)

/* RNG streams: kind in the top 4 bits, element index in the next 20, sub-stream in 8. */
enum { SK__RNG_INIT = 1, SK__RNG_CONNECT = 2, SK__RNG_WEIGHT = 3, SK__RNG_POISSON = 4,
       SK__RNG_SET_WEIGHT = 5 /* sk_net_set_weights_dist (synapse.c) */ };
static inline uint32_t sk__stream(uint32_t kind, uint32_t element, uint32_t sub)
{
    return (kind << 28) | ((element & 0xFFFFFu) << 8) | (sub & 0xFFu);
}

/* A copy of one sk_init_t. */
typedef struct sk__init {
    uint32_t var;     /* state index */
    uint32_t kind;    /* sk_init_kind_t */
    float a, b;
    float *values;    /* SK_INIT_VALUES: size floats, owned */
} sk__init_t;

/* The spike ids one part of the model phase collected at one step of an epoch: their number,
 * their offset in the part's id buffer, and where they go in the history's id ring (at:
 * index into sk__hist_t.ids), copied there at the start of the part's next model task or
 * when sk_net_step returns (step.c, "Publishing" and "Epochs"). */
typedef struct sk__seg {
    uint32_t n, off;
    uint64_t at;
} sk__seg_t;

typedef struct sk__pop {
    char name[SK__NAME_MAX + 1];
    const sk_model_t *model;
    uint32_t n;         /* neurons */
    uint32_t offset;    /* first global id */
    uint32_t index;     /* position in the description */
    double p[SK_MODEL_MAX_PARAMS];
    double d[SK_MODEL_MAX_DERIVED];
    double dt;          /* in the model's time unit (float models round it once) */
    float *s[SK_MODEL_MAX_STATE]; /* n floats each, aligned */
    uint32_t depth;     /* ring slots = 1 + largest delay into this population */
    float *ring;        /* depth x n_inputs x n floats; step t's input is in slot t % depth */
    uint8_t *spiked;    /* n */
    uint32_t *ids;      /* n x epoch_cap: each part of the model phase collects the spike ids
                           of its neurons, step after step of an epoch, at ids[part start x
                           epoch_cap] (segments), ascending within each step */
    sk__seg_t *seg;     /* [part start / 64 x epoch_cap + step of the epoch] (step.c) */
    uint8_t *written;   /* depth: 1 where a ring slot may hold input (something was delivered
                           or injected into it since it was last cleared); 0: all +0 */
    uint16_t *refrac;   /* n, or NULL */
    uint16_t refrac_steps;
    sk__init_t *init;   /* n_init, owned */
    uint32_t n_init;
    /* Spike trace for plastic projections onto this population (synapse.c): 0 / NULL unless
     * a SK_SYN_POST_TRACE projection targets it. Per neuron i a ring of tr_cap entries at
     * [i * tr_cap]; tr_n[i] spikes so far; tr_tau: index of tau_minus in p. Written by the
     * stepping thread between the history record and the delivery of each step. */
    uint32_t tr_cap;
    uint32_t tr_tau;
    uint64_t *tr_step;
    double *tr_k;
    uint64_t *tr_n;
    /* Written by the stepping thread every step: a cache line of their own (the array of
     * populations is 64-byte aligned), so the model phase's other threads, which read the
     * fields above, do not miss on them at every step. */
    _Alignas(64) uint32_t n_ids; /* spikes of the current step, in its segments */
    int forced;         /* spikes were forced this step: collect again from the flags */
    uint64_t spikes_total;
} sk__pop_t;

typedef struct sk__proj {
    uint32_t src, dst;  /* population indices */
    int32_t channel;    /* input channel of dst, or -1 for the sign split */
    int dense;
    uint32_t delay;     /* the delay of every synapse, or 0 when `delays` holds them */
    uint32_t max_delay;
    uint64_t n_syn;
    float w_const;      /* the weight of every synapse when w == NULL (sparse only) */
    float *w;           /* dense: n_pre*n_post; sparse: n_syn, or NULL */
    uint64_t *row;      /* sparse: n_pre + 1 offsets */
    uint32_t *col;      /* sparse: n_syn target ids, ascending within a row */
    uint16_t *delays;   /* sparse: n_syn delays, or NULL */
    /* Plastic projections (synapse.c): syn == NULL for static ones. st: n_syn x ns doubles,
     * synapse k's state at st[k * ns] (state[0] = weight); the built weights stay in w /
     * w_const (what reset restores). Synapse index k: sparse, the CSR position; dense,
     * pre * n_post + post. */
    const sk_synapse_t *syn;
    double sp[SK_SYN_MAX_PARAMS];
    uint32_t post_idx[SK_SYN_MAX_POST]; /* indices in the target's params of post_params */
    uint32_t ns;
    double *st;
    uint64_t lost;      /* on_pre calls that needed a trace entry already overwritten */
    float *w_built;     /* static projections whose weights were set: the built weights */
    double *sent;       /* sk_net_track_sent: n_syn values last transmitted, or NULL */
    uint64_t *sent_step; /* ... and the step each was emitted in (UINT64_MAX: none yet) */
} sk__proj_t;

typedef struct sk__stim {
    uint32_t kind;      /* sk_stim_kind_t */
    uint32_t pop;
    int32_t channel;    /* as sk__proj_t.channel */
    uint32_t *neurons;  /* owned, sorted by id (stably), or NULL = all */
    uint32_t n_neurons;
    double rate_hz;
    uint32_t n_sources;
    float weight;
    double lambda, exp_neg_lambda; /* Poisson: mean events per step, e^-lambda */
    float amplitude;
    uint64_t start, stop;
    uint64_t *times;    /* owned; step_current: increasing; spike_times: sorted with neurons */
    float *amplitudes;  /* step_current: n_times; current: NULL or one per target */
    uint32_t n_amplitudes; /* current with per-target amplitudes: their number */
    int in_place;       /* a current over the whole population with per-neuron amplitudes a,
                           each with 0.0f + a == a bit for bit (no -0, no NaN): a block whose
                           only input it is reads them in place (sk__stim_prepare) */
    uint32_t *spike_neurons;
    uint32_t n_times;
} sk__stim_t;

typedef struct sk__rec {
    uint32_t pop;
    uint32_t n_vars, n_neurons, every;
    uint32_t *vars, *neurons; /* owned */
    uint64_t cap;       /* samples */
    uint64_t head;      /* samples taken since step 0 (monotonic) */
    uint64_t *steps;    /* cap */
    float *buf;         /* cap x n_vars x n_neurons */
} sk__rec_t;

/* Spike history: records for steps with at least one spike, oldest dropped first. */
typedef struct sk__hist {
    uint64_t cap_ids;
    uint32_t *ids;
    uint32_t cap_recs;
    uint64_t *rec_step; /* cap_recs */
    uint64_t *rec_pos;  /* cap_recs: monotonic position of the record's first id */
    uint32_t *rec_count; /* cap_recs x n_pops */
    uint64_t rec_head, rec_tail; /* monotonic record indices: live = [tail, head) */
    uint64_t id_head, id_tail;   /* monotonic id positions: live = [tail, head) */
    uint64_t first_kept;         /* smallest step whose spikes are all still here */
    uint32_t unpublished;        /* the newest records' ids are still in the populations'
                                    segments of this many parts (0: all in the ring) ... */
    uint32_t unpublished_steps;  /* ... for this many steps (the last epoch's) */
} sk__hist_t;

/* A weight recorder (synapse.c). */
typedef struct sk__wrec {
    uint32_t proj, every;
    uint64_t n;          /* synapses per sample */
    uint64_t *index;     /* n synapse indices, owned */
    uint64_t cap, head;  /* samples kept at most; taken since step 0 (monotonic) */
    uint64_t *steps;     /* cap */
    double *buf;         /* cap x n */
} sk__wrec_t;

typedef struct sk__queue {
    sk_inject_t *items; /* sorted by step, then by queueing order; live = [head, n) */
    uint64_t head, n, cap;
} sk__queue_t;

/* Whether the model phase splits when the grain allows it, chosen by timing both (step.c,
 * "Tuning"). Not part of the network's state: results are the same either way. */
typedef struct sk__tune {
    uint32_t whole;      /* 1: the model phase runs on the stepping thread alone */
    uint64_t next_probe; /* the step from which to time both again */
    uint64_t interval;   /* steps between probes; doubles while the choice holds */
} sk__tune_t;

struct sk_net {
    double dt_ms;
    uint64_t seed;
    sk_limits_t limits; /* resolved (no zero fields) */
    uint32_t n_pops, n_projs, n_stims, n_recs;
    sk__pop_t *pops;
    sk__proj_t *projs;
    sk__stim_t *stims;
    sk__rec_t *recs;
    uint64_t n_neurons, n_synapses, bytes;
    uint32_t epoch_cap; /* most steps per epoch (step.c, "Epochs"): what the id buffers hold,
                           never more than the shortest synaptic delay */
    sk_parallel_t par;
    /* Written by the stepping thread every step: lines of their own (the network is 64-byte
     * aligned), away from the fields above that the model phase's other threads read. */
    _Alignas(64) uint64_t step;
    sk__tune_t tune;
    uint64_t spikes_total;
    sk__hist_t hist;
    sk__queue_t queue;
    sk__wrec_t *wrecs;  /* weight recorders (synapse.c), added between steps */
    uint32_t n_wrecs;
};

/* net.c */
void sk__limits_resolve(const sk_limits_t *in, sk_limits_t *out);
int sk__valid_name(const char *s);
void sk__pop_apply_init(const sk_net_t *net, sk__pop_t *pop);
int sk__pop_alloc(sk__pop_t *pop, uint64_t *bytes);
int sk__hist_alloc(sk__hist_t *h, uint32_t n_pops);
/* Steps per epoch that the id buffers of a network of n_neurons are sized for, given its
 * history ring (cap_ids ids, cap_recs records); at least 1. */
uint32_t sk__epoch_cap(uint64_t n_neurons, uint64_t cap_ids, uint32_t cap_recs);
/* Sets epoch_cap (also bounded by the shortest delay) and allocates every population's ids and seg, counted in
 * net->bytes; the last step of building or restoring a network (after the projections and
 * the history). SK_ELIMIT if that passes limits.max_bytes, SK_ENOMEM. */
int sk__net_alloc_ids(sk_net_t *net);
int sk__rec_alloc(sk__rec_t *r);
/* The input channel named `channel` (or SK_ENOENT); with none: the model's current channel
 * for a current (current != 0) where the model has one, else channel 0, or -1 (the sign
 * split) for sign-split models. */
int32_t sk__resolve_channel(const sk_model_t *m, const char *channel, int current);

/* connect.c: builds one projection (dense or CSR) from its description. pre and post are
 * the populations; `index` is the projection's position (it keys the RNG streams). */
int sk__proj_build(const sk_net_t *net, const sk_proj_spec_t *spec, uint32_t index,
                   sk__proj_t *proj, sk_err_t *err);
/* Estimated synapse count and bytes of a projection before building it (upper bound). */
int sk__proj_estimate(const sk_proj_spec_t *spec, uint32_t n_pre, uint32_t n_post,
                      int same_pop, uint64_t *n_syn, uint64_t *bytes, sk_err_t *err);
void sk__proj_free(sk__proj_t *proj);
/* Bytes held by a built projection. */
uint64_t sk__proj_bytes(const sk_net_t *net, const sk__proj_t *proj);

/* synapse.c. Validation of a projection's synapse model against its target (before
 * building); building its state once the projection is built (weights known); the
 * target's trace; reset; freeing. Paths are relative to the projection. */
int sk__syn_check(const sk_proj_spec_t *spec, const sk_model_t *target, sk_err_t *err);
int sk__syn_build(sk_net_t *net, const sk_proj_spec_t *spec, sk__proj_t *proj, sk_err_t *err);
/* Whether every parameter of p is within syn's ranges (a restored checkpoint). */
int sk__syn_params_ok(const sk_synapse_t *syn, const double *p);
/* Allocates the traces of populations targeted by trace-reading projections (after every
 * projection is built or restored). */
int sk__syn_alloc_traces(sk_net_t *net);
/* Initial synapse state from the built weights (build, reset). */
void sk__syn_init_state(const sk_net_t *net, sk__proj_t *proj);
void sk__syn_reset(sk_net_t *net);
void sk__syn_free(sk__proj_t *proj);
void sk__syn_free_traces(sk__pop_t *pop);
/* The synapse models' checks of every plastic projection onto population `pop` with its
 * parameters p (a change of them, before it is committed). */
int sk__syn_check_target(const sk_net_t *net, uint32_t pop, const double *p, sk_err_t *err);
/* Weight recorders: samples due at the end of step t; clear (reset); free. */
void sk__wrec_sample(sk_net_t *net, uint64_t t);
void sk__wrec_clear_all(sk_net_t *net);
void sk__wrec_free_all(sk_net_t *net);
/* The weight of synapse k: the plastic state's, else the stored or constant one. */
static inline double sk__syn_weight(const sk__proj_t *p, uint64_t k)
{
    return p->syn ? p->st[k * p->ns] : p->w ? (double)p->w[k] : (double)p->w_const;
}
/* Appends spike `id` of step t to its trace (the stepping thread). */
static inline void sk__trace_add(sk__pop_t *pop, uint32_t id, uint64_t t, int64_t tics)
{
    const uint32_t cap = pop->tr_cap;
    uint64_t *n = &pop->tr_n[id];
    const double tau = pop->p[pop->tr_tau];
    const double t_post = 0.001 * (double)((int64_t)(t + 1) * tics);
    double k = 0.0, last = -1.0;
    if (*n) {
        const size_t at = (size_t)id * cap + (*n - 1) % cap;
        k = pop->tr_k[at];
        last = 0.001 * (double)((int64_t)(pop->tr_step[at] + 1) * tics);
    }
    const size_t at = (size_t)id * cap + *n % cap;
    pop->tr_k[at] = k * exp((last - t_post) / tau) + 1.0;
    pop->tr_step[at] = t;
    ++*n;
}
/* NEST's tics per step: round(dt_ms * 1000). */
static inline int64_t sk__tics(const sk_net_t *net)
{
    return (int64_t)(net->dt_ms * 1000.0 + 0.5);
}

/* stim.c: validation of one stimulus against its target (size, model), then building. */
int sk__stim_check(const sk_stim_spec_t *s, uint32_t size, const sk_model_t *m, sk_err_t *err);
int sk__stim_build(const sk_net_t *net, const sk_stim_spec_t *spec, sk__stim_t *stim,
                   sk_err_t *err);
void sk__stim_free(sk__stim_t *stim);
void sk__stim_set_rate(sk__stim_t *stim, double rate_hz, double dt_ms);
/* Sets the fields derived from a built or restored stimulus (in_place). */
void sk__stim_prepare(sk__stim_t *stim);
/* The input of step t for neurons [lo, hi) of population `pop` (hi - lo <= SK__BLOCK): on
 * return in[c] points at channel c's summed input of neuron lo, in the order of sk_net.h
 * (the ring slot, then the stimuli in description order). slot[c]: channel c's ring slot at
 * neuron lo, which the stimuli add into; NULL when the slot holds only +0 (nothing was
 * delivered or injected into it since it was cleared): then the stimuli add into scratch
 * (SK__BLOCK floats per channel, the caller's) or, for a lone in_place current, are read
 * where they are. The result is the same either way, bit for bit. Calls for disjoint ranges
 * of one population may run concurrently. */
void sk__block_inputs(sk_net_t *net, uint32_t pop, uint64_t t, uint32_t lo, uint32_t hi,
                      float *const *slot, float *scratch, const float **in);
/* Sets the forced spikes (spike_times) of step t in the populations' spike flags (and
 * marks those populations `forced`). */
void sk__stims_spikes(sk_net_t *net, uint64_t t);
/* The first step >= t at which a spike-times stimulus forces spikes, UINT64_MAX if none. */
uint64_t sk__stims_next_spike(const sk_net_t *net, uint64_t t);
/* Adds `w` to the input of neuron j of pop at ring slot `slot`, on channel c (-1 = split). */
static inline void sk__deliver(sk__pop_t *pop, uint32_t slot, int32_t c, uint32_t j, float w)
{
    float *base = pop->ring + (size_t)slot * pop->model->n_inputs * pop->n;
    if (c >= 0) {
        base[(size_t)c * pop->n + j] += w;
    } else if (w > 0.0f) {
        base[j] += w;
    } else if (w < 0.0f) {
        base[(size_t)pop->n + j] += -w;
    }
}

/* collect.c: the ids of the flags set in z[lo, hi), ascending, into ids[0..); returns their
 * number. May write ids[0, hi - lo) beyond the ids it returns. */
uint32_t sk__collect(const uint8_t *z, uint32_t lo, uint32_t hi, uint32_t *restrict ids);
/* Its variants, widest last, for tests: whether this CPU (and build) runs one, and a call
 * of one. sk__collect calls the widest that runs. */
typedef enum { SK__COLLECT_BASE, SK__COLLECT_AVX512, SK__COLLECT_VBMI2 } sk__collect_variant_t;
int sk__collect_runs(sk__collect_variant_t v);
uint32_t sk__collect_with(sk__collect_variant_t v, const uint8_t *z, uint32_t lo, uint32_t hi,
                          uint32_t *restrict ids);

/* step.c: the model phase walks populations in blocks of SK__BLOCK neurons, up to
 * SK__EPOCH_MAX steps per fork of the threads (an epoch); epochs longer than one step only
 * while the id buffers they need (epoch_cap ids per neuron) stay within SK__EPOCH_IDS ids
 * (4 MiB). */
#define SK__BLOCK     2048u
#define SK__EPOCH_MAX 8u
#define SK__EPOCH_IDS (UINT64_C(1) << 20)

/* history.c */
void sk__hist_clear(sk__hist_t *h);
void sk__hist_free(sk__hist_t *h);
/* Adds the record of step t (the pops' n_ids), dropping the oldest records, and sets *at to
 * the ring index of its first id: the caller copies the ids there (pops in order). Returns 0
 * when step t had no spikes (no record). */
int sk__hist_reserve(sk_net_t *net, uint64_t t, uint64_t *at);
void sk__rec_clear(sk__rec_t *r);
void sk__rec_free(sk__rec_t *r);
void sk__rec_sample(sk_net_t *net, sk__rec_t *r, uint64_t t);

/* inject.c */
void sk__queue_free(sk__queue_t *q);
/* Applies the queued currents of step t (into ring slots) or spikes (into spike flags). */
void sk__queue_apply(sk_net_t *net, uint64_t t, sk_inject_kind_t kind);
/* Drops the entries of steps <= t. */
void sk__queue_pop(sk__queue_t *q, uint64_t t);

/* ckpt.c */
uint32_t sk__crc32c(uint32_t crc, const void *data, size_t len);

/* sort.c: *out (owned, n indices) = a stable order of items 0..n-1 by less(ctx, a, b). */
typedef int (*sk__less_fn)(const void *ctx, uint64_t a, uint64_t b);
int sk__stable_order(uint64_t n, sk__less_fn less, const void *ctx, uint64_t **out);

/* Destroys everything a (possibly half-built) network owns. */
void sk__net_free(sk_net_t *net);

#endif
