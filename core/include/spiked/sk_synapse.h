/* sk_synapse.h: synapse-model descriptors (the synapse seam), the synapse registry, and
 * connections as data (read a projection's synapses, set their weights).
 *
 * A projection is static (NEST's static_synapse: a fixed weight per synapse, the default) or
 * plastic: it names a synapse model, whose descriptor says everything the network needs:
 * its parameters (name, unit, default, range), its per-synapse state (state[0] is always
 * "weight"), the postsynaptic parameters it reads from the target population
 * (stdp_synapse: tau_minus; tsodyks_synapse: tau_syn_ex, tau_syn_in), whether it needs the
 * target neurons' spike history, and its hooks. A new rule (Vogels-Sprekeler, triplet) is
 * one file in core/src/synapses/ and one line in the registry (synapse.c).
 *
 * Semantics (NEST's, docs/plasticity.md): a presynaptic spike emitted in step s over a
 * synapse of delay D steps calls on_pre once, in the delivery phase of step s, in the order
 * of the projection's synapses; on_pre updates the synapse's state and returns the value
 * the event carries, which reaches the target in step s + D. The whole delay is dendritic
 * (NEST's stdp_synapse): on_pre may read the target's spikes of steps <= s - D only, all of
 * which are known at step s whatever the batching of steps (D >= 1). Each synapse's state
 * is touched only by the part of the delivery phase that owns its target: results are
 * bit-identical for any thread count and any batching.
 *
 * Times in hooks follow NEST: a spike of step s has time stamp t = 0.001 * ((s + 1) * tics)
 * ms, tics = round(dt_ms * 1000) (NEST's 1000 tics per ms), and a delay of D steps is
 * d = D * (tics / 1000.0) ms. Synapse arithmetic is float64; the event enters the target's
 * float32 input ring.
 */
#ifndef SPIKED_SK_SYNAPSE_H
#define SPIKED_SK_SYNAPSE_H

#include <stdint.h>
#include "sk_error.h"
#include "sk_model.h"
#include "sk_net.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SK_SYN_MAX_PARAMS 12
#define SK_SYN_MAX_STATE  8
#define SK_SYN_MAX_POST   4

/* Spike history of one target neuron (flag SK_SYN_POST_TRACE): a ring of its last `cap`
 * spikes, each with NEST's Kminus just after it (archiving_node.cpp set_spiketime:
 * Kminus = Kminus * exp((t_last - t) / tau_minus) + 1, Kminus = 0 and t_last = -1 ms before
 * the first spike). Spike j (0-based, j in [n - min(n, cap), n)) is at index j % cap. */
typedef struct sk_syn_trace {
    const uint64_t *step;  /* the spike's step */
    const double *kminus;  /* Kminus just after it */
    uint32_t cap;
    uint64_t n;            /* spikes since step 0 */
} sk_syn_trace_t;

/* Arguments of one on_pre call. */
typedef struct sk_syn_pre_args {
    uint64_t step;         /* the step the presynaptic spike was emitted in */
    uint32_t delay;        /* the synapse's delay, steps (>= 1) */
    int64_t tics;          /* tics per step: round(dt_ms * 1000) */
    const double *p;       /* the projection's synapse parameters, descriptor order */
    const double *post_p;  /* the target population's values of the descriptor's post_params */
    sk_syn_trace_t post;   /* the target neuron's history (SK_SYN_POST_TRACE), else empty */
} sk_syn_pre_args_t;

/* sk_synapse_t.flags */
#define SK_SYN_POST_TRACE 0x1u /* on_pre reads the target neuron's spike history: the target
                                  population must have the post_params' first entry as its
                                  Kminus time constant (tau_minus) */

typedef struct sk_synapse {
    const char *name;      /* registry key: "stdp_synapse" */
    const char *summary;
    const char *reference; /* the code it reproduces, file:lines */
    unsigned flags;        /* SK_SYN_* */
    const sk_field_t *params;
    uint32_t n_params;
    const sk_field_t *state; /* state[0] is "weight"; dflt = the value a new synapse starts with
                                (the weight itself comes from the projection) */
    uint32_t n_state;
    const char *const *post_params; /* parameters of the target's model this rule reads; a
                                       target model without one of them is refused */
    uint32_t n_post_params;
    /* Rules between parameters and with the target's (ranges are checked before); weights
     * are the projection's built weights (n of them): sign rules go here. Returns 0 or
     * SK_ERANGE with err->path relative to the synapse ("params.Wmax", "weight"). */
    int (*check)(const double *p, const double *post_p, const float *weights, uint64_t n,
                 float w_const, sk_err_t *err);
    /* Processes one presynaptic spike: updates st (n_state doubles) and returns the value the
     * event carries to the target. *lost is incremented when the rule needed a target
     * spike older than the trace holds (the result is then inexact; see sk_proj_syn_info). */
    double (*on_pre)(const sk_syn_pre_args_t *a, double *st, uint64_t *lost);
} sk_synapse_t;

/* The registry: static_synapse is not in it (a projection without a synapse model). */
const sk_synapse_t *sk_synapse_find(const char *name);
uint32_t sk_synapse_count(void);
const sk_synapse_t *sk_synapse_at(uint32_t i);

/* Spikes a target neuron's trace holds by default (per neuron of a population that a
 * SK_SYN_POST_TRACE projection targets; sk_limits_t.trace_spikes). A rule that needs an
 * older one counts it as lost (sk_proj_syn_info_t.lost). */
#define SK_SYN_TRACE_CAP 128u

/* ---------------------------------------------------------------------------------------
 * Connections as data (between steps). Synapse k of a projection: sparse, in CSR order (by
 * source, targets ascending); dense, k = pre * n_post + post.
 * ------------------------------------------------------------------------------------- */

/* A projection's synapse model: NULL for static_synapse; params: its current values;
 * lost: on_pre calls that needed a target spike older than the trace holds (trace_spikes)
 * (0 means every update was exact). */
typedef struct sk_proj_syn_info {
    const sk_synapse_t *syn;
    const double *params;
    uint64_t lost;
} sk_proj_syn_info_t;
int sk_net_proj_syn(const sk_net_t *net, uint32_t proj, sk_proj_syn_info_t *out);

/* One connection. state[0..n_state) is the synapse model's state (state[0] = weight); a
 * static synapse has n_state = 1. */
typedef struct sk_conn {
    uint32_t pre, post;  /* ids local to the source and target populations */
    uint32_t delay;      /* steps */
    uint32_t n_state;
    double state[SK_SYN_MAX_STATE];
    uint64_t sent_step;  /* with sk_net_track_sent: the step of the last presynaptic spike */
    double sent;         /* ... and the value it carried (stdp: the new weight; tsodyks: the
                            PSC amplitude u*x*weight); sent_step = UINT64_MAX: none */
} sk_conn_t;

/* Connections [first, first + n) of projection proj into out[0..); *n_out (optional) gets
 * how many were written (fewer than n at the end; 0 when first >= the synapse count).
 * SK_ENOENT for a bad projection index. */
int sk_net_conns(const sk_net_t *net, uint32_t proj, uint64_t first, uint64_t n, sk_conn_t *out,
                 uint64_t *n_out);

/* Keeps, per synapse of plastic projection proj, the value its last event carried and the
 * step (sk_conn_t.sent, sent_step), from now on (on != 0) or no longer (on == 0): 16 bytes
 * per synapse while on. A diagnostic: not in checkpoints, cleared by reset. */
int sk_net_track_sent(sk_net_t *net, uint32_t proj, int on);

/* Sets weights, all or nothing: synapse index[j] (or first + j when index is NULL) gets
 * w[j], j < n; n_w == 1 sets every listed synapse to w[0]. Rejected: an index past the
 * synapse count, a non-finite weight, and for a plastic projection a weight its model's
 * check refuses (stdp_synapse: the sign of Wmax). A dense projection stores float32. The
 * weights a network was built with stay what sk_net_reset restores. */
int sk_net_set_weights(sk_net_t *net, uint32_t proj, const uint64_t *index, uint64_t first,
                       uint64_t n, const double *w, uint64_t n_w, sk_err_t *err);

/* Sets weights drawn from d (as sk_proj_spec_t.weight: constant, uniform [a, b), normal;
 * sign clips) for the same synapses as sk_net_set_weights, validated the same way. Synapse
 * k's value is a pure function of (seed, projection, draw, k): the same draw gives the same
 * weights, another draw others. */
int sk_net_set_weights_dist(sk_net_t *net, uint32_t proj, const uint64_t *index, uint64_t first,
                            uint64_t n, const sk_dist_t *d, uint32_t draw, sk_err_t *err);

/* Changes synapse parameters of a plastic projection (e.g. lambda = 0 freezes stdp_synapse,
 * and lambda back resumes it): validated like the description (range, then the model's
 * check against every synapse), all or nothing. */
int sk_net_set_syn_params(sk_net_t *net, uint32_t proj, const sk_param_t *params, uint32_t n,
                          sk_err_t *err);

/* ---------------------------------------------------------------------------------------
 * Weight recorders: the weights of chosen synapses of a projection every `every` steps, at
 * the end of steps every-1, 2*every-1, ... (the sample of step s holds the weights after
 * every presynaptic spike emitted in steps <= s was processed, as the golden files'
 * record_weight_steps). Bounded like the state recorders: at most max_values doubles are
 * kept; when full the oldest sample is dropped and counted (samples_dropped, first_kept),
 * never silently. Added between steps; cleared by reset; carried by checkpoints and clones.
 * ------------------------------------------------------------------------------------- */
typedef struct sk_wrec_spec {
    uint32_t proj;
    uint32_t every;          /* >= 1 */
    const uint64_t *index;   /* synapse indices, or NULL = all synapses */
    uint64_t n_index;
    uint64_t max_values;     /* 0 = limits.max_record_values; must hold one sample */
} sk_wrec_spec_t;
int sk_net_wrec_add(sk_net_t *net, const sk_wrec_spec_t *spec, uint32_t *id, sk_err_t *err);

typedef struct sk_wrec_info {
    uint32_t proj, every;
    uint64_t n_synapses;     /* weights per sample */
    uint64_t cap;            /* samples kept at most */
    uint64_t samples_kept, samples_dropped;
} sk_wrec_info_t;
int sk_net_wrec_info(const sk_net_t *net, uint32_t id, sk_wrec_info_t *out);

/* Samples of steps in [from, to), oldest first: cb(ctx, step, weights) with n_synapses
 * doubles; *first_kept (optional) = the oldest step still kept (UINT64_MAX if none). The
 * callback returns 0 to continue. */
typedef int (*sk_wsample_cb)(void *ctx, uint64_t step, const double *w);
int sk_net_wrec_samples(const sk_net_t *net, uint32_t id, uint64_t from, uint64_t to,
                        uint64_t *first_kept, sk_wsample_cb cb, void *ctx);

#ifdef __cplusplus
}
#endif
#endif
