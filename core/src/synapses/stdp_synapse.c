/* stdp_synapse.c: NEST's stdp_synapse (pair-based STDP, whole delay dendritic), transcribed
 * from tests/conformance/golden-nest/README.md ("stdp_synapse, transcribed"), which cites
 * nest-simulator models/stdp_synapse.h L186-198 (facilitate_, depress_), L222-275 (send) and
 * nestkernel/archiving_node.cpp L86-113 (get_K_value), L153-179 (get_history). Written from
 * that transcription, not copied.
 *
 * State: weight, Kplus (the presynaptic trace), t_last (ms, the previous presynaptic spike's
 * stamp). The postsynaptic side (Kminus at each target spike, the target's tau_minus) is the
 * network's trace (sk_syn_trace_t), kept per target neuron.
 */
#include <math.h>

#include "spiked/sk_synapse.h"

#define EPS 1e-6 /* NEST's stdp_eps, ms */

static const sk_field_t params[] = {
    {"tau_plus", "ms", 20.0, 0.0, INFINITY, SK_FIELD_LO_OPEN, "time constant of the presynaptic trace Kplus"},
    {"lambda", "1", 0.01, 0.0, INFINITY, 0, "step size; 0 freezes learning"},
    {"alpha", "1", 1.0, 0.0, INFINITY, 0, "asymmetry: depression relative to facilitation"},
    {"mu_plus", "1", 1.0, 0.0, INFINITY, 0, "weight dependence of facilitation: 0 additive, 1 multiplicative"},
    {"mu_minus", "1", 1.0, 0.0, INFINITY, 0, "weight dependence of depression: 0 additive, 1 multiplicative"},
    {"Wmax", "pA", 100.0, -INFINITY, INFINITY, 0, "largest weight (same sign as the weights; nS onto conductance models)"},
};
enum { TAU_PLUS, LAMBDA, ALPHA, MU_PLUS, MU_MINUS, WMAX };

static const sk_field_t state[] = {
    {"weight", "pA", 0.0, -INFINITY, INFINITY, 0, "synaptic weight"},
    {"Kplus", "1", 0.0, 0.0, INFINITY, 0, "presynaptic trace just after the last presynaptic spike"},
    {"t_last", "ms", 0.0, 0.0, INFINITY, 0, "stamp of the last presynaptic spike (0 before the first)"},
};
enum { W, KPLUS, T_LAST };

static const char *const post_params[] = {"tau_minus"};

static int check(const double *p, const double *post_p, const float *weights, uint64_t n,
                 float w_const, sk_err_t *err)
{
    (void)post_p;
    if (p[WMAX] == 0.0)
        return sk_err_set(err, SK_ERANGE, "params.Wmax", "must not be 0");
    for (uint64_t k = 0; k < (weights ? n : 1); k++) {
        const double w = weights ? weights[k] : w_const;
        if ((w < 0.0 && p[WMAX] > 0.0) || (w > 0.0 && p[WMAX] < 0.0))
            return sk_err_set(err, SK_ERANGE, "weight",
                              "every weight must have the sign of Wmax (NEST: "
                              "\"Weight and Wmax must have same sign\"; got %g with Wmax %g)",
                              w, p[WMAX]);
    }
    return 0;
}

/* pow(x, mu), with the exact results of pow for mu = 0 (1) and mu = 1 (x) taken directly:
 * the additive and multiplicative rules then call no pow at all. */
static inline double power(double x, double mu)
{
    return mu == 0.0 ? 1.0 : mu == 1.0 ? x : pow(x, mu);
}

static double facilitate(const double *p, double w, double k)
{
    const double nw = w / p[WMAX] + p[LAMBDA] * power(1.0 - w / p[WMAX], p[MU_PLUS]) * k;
    return nw < 1.0 ? nw * p[WMAX] : p[WMAX];
}

static double depress(const double *p, double w, double k)
{
    const double nw = w / p[WMAX] - p[ALPHA] * p[LAMBDA] * power(w / p[WMAX], p[MU_MINUS]) * k;
    return nw > 0.0 ? nw * p[WMAX] : 0.0;
}

static double stamp(uint64_t step, int64_t tics)
{
    return 0.001 * (double)((int64_t)(step + 1) * tics);
}

static double on_pre(const sk_syn_pre_args_t *a, double *st, uint64_t *lost)
{
    const double *p = a->p, tau_minus = a->post_p[0];
    const double t_pre = stamp(a->step, a->tics);
    const double d = (double)a->delay * ((double)a->tics / 1000.0);
    const double t_last = st[T_LAST], kplus = st[KPLUS];
    double w = st[W];
    const sk_syn_trace_t *h = &a->post;
    const uint64_t first = h->n > h->cap ? h->n - h->cap : 0;
    /* the history's entries with t_last - d < t_post <= t_pre - d (get_history's limits,
     * each + eps), oldest first */
    const double lo = t_last - d + EPS, hi = t_pre - d + EPS;
    uint64_t j = h->n;
    while (j > first && stamp(h->step[(j - 1) % h->cap], a->tics) >= lo)
        j--;
    if (j == first && first > 0 && kplus > 0.0)
        ++*lost; /* an older spike may have been in the window (with Kplus = 0, before the
                    synapse's first presynaptic spike, it would not change the weight) */
    for (; j < h->n; j++) {
        const double t_post = stamp(h->step[j % h->cap], a->tics);
        if (t_post >= hi)
            break;
        w = facilitate(p, w, kplus * exp((t_last - (t_post + d)) / p[TAU_PLUS]));
    }
    /* get_K_value(t_pre - d): the last spike with t_pre - d - t_post > eps */
    const double tk = t_pre - d;
    double k = 0.0;
    for (uint64_t i = h->n; i > first; i--) {
        const double t_post = stamp(h->step[(i - 1) % h->cap], a->tics);
        if (tk - t_post > EPS) {
            k = h->kminus[(i - 1) % h->cap] * exp((t_post - tk) / tau_minus);
            break;
        }
    }
    w = depress(p, w, k);
    st[W] = w;
    st[KPLUS] = kplus * exp((t_last - t_pre) / p[TAU_PLUS]) + 1.0;
    st[T_LAST] = t_pre;
    return w;
}

const sk_synapse_t sk_synapse_stdp = {
    .name = "stdp_synapse",
    .summary = "pair-based STDP with NEST's rule (whole delay dendritic, Kplus/Kminus traces)",
    .reference = "nest-simulator models/stdp_synapse.h L186-198, L222-275; "
                 "nestkernel/archiving_node.cpp L86-113, L153-220",
    .flags = SK_SYN_POST_TRACE,
    .params = params,
    .n_params = sizeof params / sizeof params[0],
    .state = state,
    .n_state = sizeof state / sizeof state[0],
    .post_params = post_params,
    .n_post_params = 1,
    .check = check,
    .on_pre = on_pre,
};
