/* sk_net.h: a network of populations, projections, stimuli and recorders, built once from a
 * plain C description, then stepped, read, changed between steps, saved and restored.
 *
 * Lifetime. sk_net_create allocates everything the network will ever need; sk_net_step
 * allocates nothing. Functions that queue client input (sk_net_inject_*) may allocate, never
 * during a step. A network is not thread-safe: one caller at a time (the server serialises
 * a session's operations); with sk_net_set_parallel the network itself fans work out over a
 * caller-provided thread pool and joins before returning.
 *
 * Time. dt is in milliseconds; step k covers [k*dt, (k+1)*dt). Each model receives dt in its
 * own time unit (sk_model.h). Delays are integers in steps, >= 1: a spike emitted at step t
 * through a projection of delay d is part of the target's input at step t + d.
 *
 * Order inside one step t (fixed; every result below depends on it):
 *   1. each population's input for step t = its delay ring slot for t (synaptic input that
 *      arrived), plus injected currents for t (in the order queued), plus stimuli (in
 *      description order);
 *   2. every population runs its model step (description order);
 *   3. forced spikes (spike_times stimuli, injected spikes) are added to the model's spikes;
 *   4. the spikes of step t are appended to the spike history (ids ascending);
 *   5. every projection (description order) delivers the spikes of its source, in ascending
 *      source id, to slot t + delay of its target's ring, synapses in ascending target id;
 *   6. state recorders sample (after the step) when t % every == 0.
 * Summation order is therefore fixed: results are bit-identical whatever the thread count and
 * however steps are batched (1000 x 1 or 1 x 1000).
 *
 * Randomness. Every random number is a pure function of (seed, stream, counter): connection
 * rules, drawn weights, initial states and Poisson input (sk_rng.h).
 *
 * Errors. Functions return 0 or a negative SK_E* code. Validation errors fill an optional
 * sk_err_t whose path names the element: "populations[2].params.tau_mem_inv",
 * "projections[0].rule.p", "stimuli[1].target".
 */
#ifndef SPIKED_SK_NET_H
#define SPIKED_SK_NET_H

#include <stddef.h>
#include <stdint.h>

#include "sk_error.h"
#include "sk_model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------
 * Description. All pointers are borrowed for the duration of sk_net_create; the network
 * copies what it keeps. Zero-initialise a struct to get every default.
 * ------------------------------------------------------------------------------------- */

/* Limits checked before any allocation. A zero field means "use the default" given here. */
typedef struct sk_limits {
    uint64_t max_neurons;   /* total over populations; default 10,000,000 */
    uint64_t max_synapses;  /* total over projections; default 200,000,000 */
    uint64_t max_bytes;     /* estimated memory of the whole network; default 8 GiB */
    uint32_t max_delay;     /* steps; default 10,000 */
    uint64_t spike_history; /* spike ids kept for sk_net_spikes; default max(1,000,000, 4 x
                               neurons); never less than the neuron count */
    uint32_t history_steps; /* step records kept in the spike history; default 100,000 */
    uint64_t max_pending;   /* queued injections; default 1,000,000 */
    uint64_t max_record_values; /* floats kept per state recorder; default 10,000,000 */
    uint32_t trace_spikes;  /* spikes kept per neuron targeted by stdp_synapse (sk_synapse.h);
                               default 128, at most 65536 */
} sk_limits_t;

typedef struct sk_param {
    const char *name; /* a parameter of the population's model */
    double value;
} sk_param_t;

typedef enum sk_init_kind {
    SK_INIT_CONST = 0, /* every neuron: a */
    SK_INIT_UNIFORM,   /* uniform in [a, b) */
    SK_INIT_NORMAL,    /* normal, mean a, standard deviation b */
    SK_INIT_VALUES     /* values[i] for neuron i; n_values must equal the population size */
} sk_init_kind_t;

/* Initial value of one state variable; variables not named keep the model's init(). */
typedef struct sk_init {
    const char *var;
    sk_init_kind_t kind;
    float a, b;
    const float *values;
    uint32_t n_values;
} sk_init_t;

typedef struct sk_pop_spec {
    const char *name;         /* unique, [A-Za-z0-9_-]{1,64} */
    const char *model;        /* registry name */
    uint32_t size;            /* >= 1 */
    const sk_param_t *params; /* overrides of the model's defaults */
    uint32_t n_params;
    const sk_init_t *init;
    uint32_t n_init;
    uint32_t refractory_steps; /* generic refractoriness (sk_refrac_apply), 0 = off, <= 65535 */
} sk_pop_spec_t;

typedef enum sk_rule_kind {
    SK_RULE_ALL_TO_ALL = 0,
    SK_RULE_ONE_TO_ONE,       /* source and target sizes must be equal */
    SK_RULE_FIXED_PROBABILITY, /* each (pre, post) pair independently with probability p */
    SK_RULE_FIXED_INDEGREE,   /* each target gets `indegree` sources drawn uniformly */
    SK_RULE_EXPLICIT,         /* the lists pre/post (and optionally weight/delay) */
    SK_RULE_FIXED_TOTAL_NUMBER, /* `total` synapses, each (pre, post) drawn uniformly and
                                   independently: multapses always allowed (NEST's default);
                                   autapses as `autapses` */
    SK_RULE_FIXED_OUTDEGREE   /* each source gets `outdegree` targets drawn uniformly */
} sk_rule_kind_t;

typedef struct sk_rule {
    sk_rule_kind_t kind;
    int autapses;       /* source == target only: allow i -> i (default 0 = no) */
    int multapses;      /* fixed_indegree / fixed_outdegree: allow a pair twice (default 0) */
    double p;           /* fixed_probability, in [0, 1] */
    uint32_t indegree;  /* fixed_indegree */
    uint32_t outdegree; /* fixed_outdegree */
    uint64_t total;     /* fixed_total_number */
    const uint32_t *pre, *post; /* explicit: n pairs */
    const float *weight;        /* explicit: n weights, or NULL to use the weight distribution */
    const uint32_t *delay;      /* explicit: n delays in steps, or NULL to use delay_steps */
    uint64_t n;
} sk_rule_t;

typedef enum sk_dist_kind {
    SK_DIST_CONST = 0, /* a */
    SK_DIST_UNIFORM,   /* [a, b) */
    SK_DIST_NORMAL     /* mean a, sd b */
} sk_dist_kind_t;

/* A weight: constant or drawn per synapse. sign > 0 clips drawn values to >= 0, sign < 0 to
 * <= 0 (Dale's law); 0 leaves them as drawn. With redraw (and a sign), a value of the wrong
 * sign is drawn again instead of clipped, as NEST's nest.math.redraw(..., min=0) or
 * (max=0): the result is the distribution truncated to one side of 0. A redraw of a
 * distribution with (almost) no mass on the allowed side is refused (see connect.c). */
typedef struct sk_dist {
    sk_dist_kind_t kind;
    float a, b;
    int sign;
    int redraw;
} sk_dist_t;

typedef enum sk_storage {
    SK_STORAGE_AUTO = 0, /* dense for all_to_all, sparse otherwise */
    SK_STORAGE_DENSE,    /* [n_pre][n_post] weights; needs one delay and no multapses */
    SK_STORAGE_SPARSE    /* CSR by source neuron, targets ascending within a row */
} sk_storage_t;

typedef struct sk_proj_spec {
    const char *source, *target; /* population names */
    sk_rule_t rule;
    sk_dist_t weight;
    uint32_t delay_steps; /* >= 1 (0 means the default, 1) */
    /* Per-synapse delays in ms (set delay_ms.kind != SK_DIST_CONST, or a constant a > 0, to
     * use them instead of delay_steps). Each drawn value is redrawn while outside
     * [delay_min_ms, delay_max_ms] (NEST's nest.math.redraw), then rounded to the nearest
     * step, floor(d / dt + 0.5), as NEST's Time does. delay_max_ms = 0 means: uniform, its
     * upper end; normal, mean + 8 sd. Every value that can come out must round to at least
     * one step and at most the delay limit, else the network is refused naming "delay_ms". */
    sk_dist_t delay_ms;
    double delay_min_ms, delay_max_ms;
    const char *channel;  /* an input channel of the target's model, or NULL: channel 0, or
                             the sign split for SK_MODEL_SIGN_SPLIT models */
    sk_storage_t storage;
    /* The synapse model (sk_synapse.h): NULL or "static_synapse" for fixed weights, else a
     * registry name ("stdp_synapse", "tsodyks_synapse") with overrides of its parameters. */
    const char *synapse;
    const sk_param_t *synapse_params;
    uint32_t n_synapse_params;
} sk_proj_spec_t;

typedef enum sk_stim_kind {
    SK_STIM_POISSON = 0, /* independent Poisson trains into each target neuron */
    SK_STIM_CURRENT,     /* constant amplitude on [start, stop) */
    SK_STIM_STEP_CURRENT, /* amplitude[k] from step times[k] on, until the next time */
    SK_STIM_SPIKE_TIMES  /* target neuron `neurons[k]` is forced to spike at step times[k] */
} sk_stim_kind_t;

typedef struct sk_stim_spec {
    sk_stim_kind_t kind;
    const char *target;        /* population */
    const uint32_t *neurons;   /* subset of target neurons, or NULL = all (poisson, currents) */
    uint32_t n_neurons;
    const char *channel;       /* as in sk_proj_spec_t (not used by spike_times) */
    /* poisson */
    double rate_hz;            /* >= 0; per source */
    uint32_t n_sources;        /* independent sources per neuron (default 1) */
    float weight;              /* input per source spike */
    /* current */
    float amplitude;
    uint64_t start, stop;      /* steps; stop = 0 means forever */
    /* step_current (times strictly increasing) and spike_times (any order; pairs) */
    const uint64_t *times;
    const float *amplitudes;   /* step_current: n_times amplitudes; current: NULL, or one
                                  amplitude per target neuron (n_neurons, or the population
                                  size when neurons is NULL), replacing `amplitude` */
    const uint32_t *spike_neurons; /* spike_times: neuron of each time */
    uint32_t n_times;
} sk_stim_spec_t;

typedef struct sk_rec_spec {
    const char *population;
    const char *const *variables; /* state variable names */
    uint32_t n_variables;
    const uint32_t *neurons;      /* neuron ids, or NULL = all */
    uint32_t n_neurons;
    uint32_t every;               /* sample every k steps, >= 1 (0 means 1) */
} sk_rec_spec_t;

typedef struct sk_net_spec {
    double dt_ms;      /* > 0, <= 1000 */
    uint64_t seed;
    const sk_pop_spec_t *pops;
    uint32_t n_pops;
    const sk_proj_spec_t *projs;
    uint32_t n_projs;
    const sk_stim_spec_t *stims;
    uint32_t n_stims;
    const sk_rec_spec_t *recs;
    uint32_t n_recs;
    sk_limits_t limits;
} sk_net_spec_t;

/* ---------------------------------------------------------------------------------------
 * Lifetime
 * ------------------------------------------------------------------------------------- */

typedef struct sk_net sk_net_t;

/* Validates spec (every element, every size, every limit, before allocating), builds the
 * network and writes it to *out (owned by the caller; release with sk_net_destroy).
 * On error nothing is allocated, *out is untouched and *err names the element. */
int sk_net_create(const sk_net_spec_t *spec, sk_net_t **out, sk_err_t *err);

/* The delays of one projection in steps, [*lo, *hi], for a step of dt_ms: delay_steps, or
 * its delay_ms rounded to the nearest step (after the redraw bounds). Returns SK_ERANGE when
 * a value rounds below one step, SK_ELIMIT above max_delay; err's path is then "delay_ms".
 * sk_net_create runs the same check; decoders call it to name the field early. */
int sk_proj_delay_range(const sk_proj_spec_t *spec, double dt_ms, uint32_t max_delay,
                        uint32_t *lo, uint32_t *hi, sk_err_t *err);

/* Validates spec as sk_net_create does, without building: *bytes = the memory estimate the
 * network is checked against (limits.max_bytes), its history rings at their full limits.
 * Cheap next to a build (no connection is drawn). */
int sk_net_estimate(const sk_net_spec_t *spec, uint64_t *bytes, sk_err_t *err);

/* Frees the network. NULL is a no-op. */
void sk_net_destroy(sk_net_t *net);

/* Back to step 0: initial state (drawn again from the same keys, hence identical), empty
 * rings, history, recorders and injection queue. Parameters and connectivity are kept. */
void sk_net_reset(sk_net_t *net);

/* Deep copy that continues bit-identically (what the server's fork uses). */
int sk_net_clone(const sk_net_t *net, sk_net_t **out);

/* ---------------------------------------------------------------------------------------
 * Parallel stepping (optional). The core has no threads; the caller lends a pool.
 * ------------------------------------------------------------------------------------- */

/* Runs task(arg, k) for k = 0..n_tasks-1, possibly in parallel, and returns when all are
 * done. */
typedef void (*sk_task_fn)(void *arg, uint32_t k);
typedef struct sk_parallel {
    void (*run)(void *pool, sk_task_fn task, void *arg, uint32_t n_tasks);
    void *pool;
    uint32_t n_threads; /* most parts a phase is split into; 1 = sequential */
    uint32_t grain;     /* least work per part (neurons, or synaptic events for delivery);
                           0 = 4096 neurons, 16384 events. A phase with less work than 2
                           grains runs on the caller alone: a fork/join costs about as much
                           as updating a few thousand neurons. Never changes results, only
                           speed. */
    /* Seconds on a monotonic clock (any origin), for the split decision below; NULL: never
       tune (the model phase splits whenever the grain allows). The core reads no clock of
       its own: a test passes a fake one to force either choice. */
    double (*clock)(void *clock_arg);
    void *clock_arg;
} sk_parallel_t;

/* Uses par for the following steps (NULL or n_threads <= 1: sequential). Results are
 * bit-identical to sequential stepping. par is copied; the pool must outlive its use.
 * With par->clock set, within an sk_net_step call of a few hundred steps or more, the core
 * times the model phase split and on the caller alone now and then through par->clock, and
 * keeps the faster (the cost of handing a step between threads depends on the machine's
 * load). Without it, it never times and always splits when the grain allows. */
void sk_net_set_parallel(sk_net_t *net, const sk_parallel_t *par);

/* ---------------------------------------------------------------------------------------
 * Stepping
 * ------------------------------------------------------------------------------------- */

/* Advances n_steps steps. Allocates nothing. If cancel is not NULL it is read between steps
 * (at most 8 apart: the core may run up to 8 steps' model updates in one pass when no spike
 * can reach a target within them) and a non-zero value stops early with SK_ECANCELED; *done
 * (optional) receives the number of steps taken either way. */
int sk_net_step(sk_net_t *net, uint64_t n_steps, const volatile int *cancel, uint64_t *done);

/* ---------------------------------------------------------------------------------------
 * Inspection. Returned pointers are borrowed: valid until the next sk_net_step,
 * sk_net_reset, sk_net_set_params or sk_net_destroy.
 * ------------------------------------------------------------------------------------- */

typedef struct sk_pop_info {
    const char *name;
    const sk_model_t *model;
    uint32_t size;
    uint32_t offset;           /* first global neuron id (populations in description order) */
    const double *params;      /* current parameters, model->params order */
    uint32_t refractory_steps;
    uint64_t spikes_total;     /* since step 0 */
} sk_pop_info_t;

typedef struct sk_proj_info {
    uint32_t source, target;   /* population indices */
    uint64_t n_synapses;
    uint32_t max_delay;
    int dense;
    int channel;               /* channel index, or -1 for the sign split */
} sk_proj_info_t;

typedef struct sk_net_info {
    uint64_t step;             /* steps taken: the next step to compute */
    double dt_ms;
    uint64_t seed;
    uint32_t n_pops, n_projs, n_stims, n_recs;
    uint64_t n_neurons, n_synapses;
    uint64_t bytes;            /* memory held by the network */
    uint64_t spikes_total;
    uint64_t pending;          /* queued injections */
} sk_net_info_t;

typedef struct sk_stim_info {
    sk_stim_kind_t kind;
    uint32_t target;           /* population index */
    int channel;               /* channel index, or -1 for the sign split */
    uint32_t n_neurons;        /* targets (0 = the whole population) */
    double rate_hz;            /* poisson */
    uint32_t n_sources;        /* poisson */
    float weight;              /* poisson */
    float amplitude;           /* current (when not per neuron) */
    uint64_t start, stop;      /* current */
    uint32_t n_times;          /* step_current, spike_times */
} sk_stim_info_t;

void sk_net_info(const sk_net_t *net, sk_net_info_t *out);
int sk_net_stim_info(const sk_net_t *net, uint32_t stim, sk_stim_info_t *out);
int sk_net_pop_info(const sk_net_t *net, uint32_t pop, sk_pop_info_t *out);
int sk_net_proj_info(const sk_net_t *net, uint32_t proj, sk_proj_info_t *out);
/* Index of a population by name, or SK_ENOENT. */
int sk_net_pop_index(const sk_net_t *net, const char *name);

/* The column of state variable `var` of population `pop`: *values gets `size` floats. */
int sk_net_state(const sk_net_t *net, uint32_t pop, const char *var, const float **values);

/* Overwrites state: values[k] into neuron first + k, k < n (all-or-nothing range check;
 * non-finite values are rejected). */
int sk_net_set_state(sk_net_t *net, uint32_t pop, const char *var, uint32_t first,
                     const float *values, uint32_t n, sk_err_t *err);

/* Spike history: calls cb once per (step, population) with spikes, in step order then
 * population order, for steps in [from, to). Ids are local to the population, ascending.
 * *first_kept (optional) receives the oldest step still in the history: steps before it
 * were dropped (oldest first) when the history reached its limits. The callback returns
 * 0 to continue, non-zero to stop (that value is returned). */
typedef int (*sk_spike_cb)(void *ctx, uint64_t step, uint32_t pop, const uint32_t *ids,
                           uint32_t n);
int sk_net_spikes(const sk_net_t *net, uint64_t from, uint64_t to, uint64_t *first_kept,
                  sk_spike_cb cb, void *ctx);

/* State recorders: samples in [from, to) of recorder `rec`. Each sample is the step it was
 * taken after and n_variables x n_neurons floats (variable-major). Same drop-oldest policy
 * and callback contract as the spike history. */
typedef struct sk_rec_info {
    uint32_t pop;
    uint32_t n_variables, n_neurons, every;
    const uint32_t *variables; /* state indices */
    const uint32_t *neurons;
    uint64_t samples_kept, samples_dropped;
} sk_rec_info_t;
int sk_net_rec_info(const sk_net_t *net, uint32_t rec, sk_rec_info_t *out);
typedef int (*sk_sample_cb)(void *ctx, uint64_t step, const float *values);
int sk_net_samples(const sk_net_t *net, uint32_t rec, uint64_t from, uint64_t to,
                   uint64_t *first_kept, sk_sample_cb cb, void *ctx);

/* ---------------------------------------------------------------------------------------
 * Changes between steps
 * ------------------------------------------------------------------------------------- */

/* One queued input: at step `step` (>= the current step), add `value` to input channel
 * `channel` of neuron `neuron` (SK_INJECT_CURRENT), or force the neuron to spike
 * (SK_INJECT_SPIKE; value and channel unused). channel -1 = the population's default
 * (channel 0, or the sign split). */
typedef enum sk_inject_kind { SK_INJECT_CURRENT = 0, SK_INJECT_SPIKE } sk_inject_kind_t;
typedef struct sk_inject {
    sk_inject_kind_t kind;
    uint32_t pop;
    int32_t channel;
    uint32_t neuron;
    uint64_t step;
    float value;
} sk_inject_t;

/* Queues n injections, all or nothing (err->path "[k].neuron" names the bad one). Several
 * injections for the same (step, neuron, channel) add up, in the order queued. */
int sk_net_inject(sk_net_t *net, const sk_inject_t *inj, uint32_t n, sk_err_t *err);

/* Changes parameters of population `pop`: validated on a copy against the model's ranges
 * and rules, then committed with new derived constants. A rejected change changes nothing. */
int sk_net_set_params(sk_net_t *net, uint32_t pop, const sk_param_t *params, uint32_t n,
                      sk_err_t *err);

/* Changes the rate of Poisson stimulus `stim` (index in the description). */
int sk_net_set_poisson_rate(sk_net_t *net, uint32_t stim, double rate_hz, sk_err_t *err);

/* ---------------------------------------------------------------------------------------
 * Checkpoints (the whole network: structure, parameters, state, RNG position, delay rings,
 * pending injections, spike history, recorders)
 * ------------------------------------------------------------------------------------- */

/* Size in bytes of the checkpoint of net. */
uint64_t sk_net_checkpoint_size(const sk_net_t *net);
/* Writes the checkpoint into buf (cap bytes, >= sk_net_checkpoint_size); *len = bytes written.
 * SK_ERANGE if cap is too small. */
int sk_net_checkpoint(const sk_net_t *net, void *buf, uint64_t cap, uint64_t *len);
/* Builds a network from a checkpoint. Corrupted, truncated or foreign bytes give SK_ECORRUPT
 * or SK_EVERSION with a message in *err, never a crash. limits (may be NULL = defaults) are
 * applied to the restored sizes. */
int sk_net_restore(const void *buf, uint64_t len, const sk_limits_t *limits, sk_net_t **out,
                   sk_err_t *err);

#ifdef __cplusplus
}
#endif
#endif
