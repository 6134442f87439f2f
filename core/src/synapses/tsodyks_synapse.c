/* tsodyks_synapse.c: NEST's tsodyks_synapse (Tsodyks-Markram short-term plasticity, the model
 * PyNN's TsodyksMarkramSynapse maps to), transcribed from
 * tests/conformance/golden-nest/README.md ("tsodyks_synapse, transcribed", citing
 * nest-simulator models/tsodyks_synapse.h L243-305). Written from that transcription.
 *
 * State: weight (the static scale), x (recovered), y (active), u (utilisation), t_last (ms).
 * tau_psc: the target's tau_syn_ex for a synapse of weight > 0 and tau_syn_in otherwise (as
 * NEST routes the event, and as PyNN sets it per receptor), unless the parameter tau_psc > 0
 * is given.
 */
#include <math.h>

#include "spiked/sk_synapse.h"

static const sk_field_t params[] = {
    {"U", "1", 0.5, 0.0, 1.0, 0, "utilisation increment per spike"},
    {"tau_rec", "ms", 800.0, 0.0, INFINITY, SK_FIELD_LO_OPEN, "recovery time constant"},
    {"tau_fac", "ms", 0.0, 0.0, INFINITY, 0, "facilitation time constant; 0: no facilitation"},
    {"tau_psc", "ms", 0.0, 0.0, INFINITY, 0, "time constant of y; 0: the target's tau_syn_ex "
                                             "(weight > 0) or tau_syn_in (weight <= 0)"},
};
enum { U, TAU_REC, TAU_FAC, TAU_PSC };

static const sk_field_t state[] = {
    {"weight", "pA", 0.0, -INFINITY, INFINITY, 0, "synaptic weight (the amplitude scale)"},
    {"x", "1", 1.0, 0.0, 1.0, 0, "fraction of resources recovered"},
    {"y", "1", 0.0, 0.0, 1.0, 0, "fraction of resources active"},
    {"u", "1", 0.0, 0.0, 1.0, 0, "utilisation"},
    {"t_last", "ms", 0.0, 0.0, INFINITY, 0, "stamp of the last presynaptic spike (0 before the first)"},
};
enum { W, X, Y, UU, T_LAST };

static const char *const post_params[] = {"tau_syn_ex", "tau_syn_in"};

static int check(const double *p, const double *post_p, const float *weights, uint64_t n,
                 float w_const, sk_err_t *err)
{
    for (uint64_t k = 0; k < (weights ? n : 1); k++) {
        const double w = weights ? weights[k] : w_const;
        const double psc = p[TAU_PSC] > 0.0 ? p[TAU_PSC] : w > 0.0 ? post_p[0] : post_p[1];
        if (psc == p[TAU_REC])
            return sk_err_set(err, SK_ERANGE, "params.tau_rec",
                              "must differ from tau_psc (%g ms): the propagator divides by "
                              "tau_psc - tau_rec", psc);
    }
    return 0;
}

static double on_pre(const sk_syn_pre_args_t *a, double *st, uint64_t *lost)
{
    (void)lost;
    const double *p = a->p;
    const double t_pre = 0.001 * (double)((int64_t)(a->step + 1) * a->tics);
    const double h = t_pre - st[T_LAST];
    const double tau_psc = p[TAU_PSC] > 0.0 ? p[TAU_PSC] : st[W] > 0.0 ? a->post_p[0] : a->post_p[1];
    const double Puu = p[TAU_FAC] == 0.0 ? 0.0 : exp(-h / p[TAU_FAC]);
    const double Pyy = exp(-h / tau_psc);
    const double Pzz = expm1(-h / p[TAU_REC]);
    const double Pxy = (Pzz * p[TAU_REC] - (Pyy - 1.0) * tau_psc) / (tau_psc - p[TAU_REC]);
    double x = st[X], y = st[Y], u = st[UU];
    const double z = 1.0 - x - y;
    u *= Puu;
    x += Pxy * y - Pzz * z;
    y *= Pyy;
    u += p[U] * (1.0 - u);
    const double dy = u * x;
    x -= dy;
    y += dy;
    st[X] = x;
    st[Y] = y;
    st[UU] = u;
    st[T_LAST] = t_pre;
    return dy * st[W];
}

const sk_synapse_t sk_synapse_tsodyks = {
    .name = "tsodyks_synapse",
    .summary = "Tsodyks-Markram short-term plasticity (NEST's tsodyks_synapse; PyNN's "
               "TsodyksMarkramSynapse)",
    .reference = "nest-simulator models/tsodyks_synapse.h L243-305",
    .flags = 0,
    .params = params,
    .n_params = sizeof params / sizeof params[0],
    .state = state,
    .n_state = sizeof state / sizeof state[0],
    .post_params = post_params,
    .n_post_params = 2,
    .check = check,
    .on_pre = on_pre,
};
