/* alif_bellec2020.c: adaptive LIF after Bellec et al. 2020, BrainPy's ALIFBellec2020.
 *
 * Reference: brainpy.neurons.ALIFBellec2020.update, NonBatchingMode, method='exp_auto'
 * (BrainPy V2.8.2, dynold/neurons/reduced_models.py L1267-1429); the float32 arithmetic of
 * spec/models.md section 7 is normative. Time unit: ms (BrainPy's convention).
 *
 * ODEs dV = (-(V - V_rest) + R*I)/tau, da = -a/tau_a, integrated by exponential Euler from
 * the old values: x' = x + (dt*phi) * f(x), phi = exprel(dt*L), L = -1/tau. The constants
 * are computed once in derive(), in float32, exactly as BrainPy's exprel does (no expm1):
 *     lin = -(1/tau);  y = dt*lin
 *     phi = |y| <= 1e-5 ? (1 + y/2) + (y*y)/6 : (exp(y) - 1)/y;   dtphi = dt*phi
 * Per step n, t = float(n)*dt (t = 0 at the first step), I = 0 + x:
 *     f_V = (-(V - V_rest) + R*I) / tau;       f_a = -a / tau_a
 *     V_i = V + dtphi_V*f_V;                   a_i = a + dtphi_a*f_a
 *     if tau_ref > 0 and (t - t_last_spike) <= tau_ref:  V_i = V       (V held)
 *     s   = V_i >= V_th + beta*a                 >=, and the PREVIOUS a
 *     if tau_ref > 0 and s: t_last_spike = t
 *     V'  = V_i - V_th*s                         reset by subtracting V_th
 *     a'  = a_i + s
 * tau_ref = 0 means no refractory period (BrainPy's tau_ref=None). Time is float32 as in
 * the reference: after 2^24 steps t loses whole steps, which matters only with tau_ref.
 * With BrainPy's default V_th = -60 the reset adds 60 mV and a neuron, once it fired, fires
 * forever; the model is meant for V_th > 0, V_rest = 0 (kept as the reference does).
 * Initial state: V = V_rest, a = 0, t_last_spike = -1e7 ms.
 */
#include "model_util.h"

enum { P_V_REST, P_V_TH, P_R, P_BETA, P_TAU, P_TAU_A, P_TAU_REF };
enum { S_V, S_A, S_T_LAST };
enum { D_LIN_V, D_LIN_A, D_PHI_V, D_PHI_A, D_DTPHI_V, D_DTPHI_A };

static const sk_field_t params[] = {
    SK_FIELD("V_rest", "mV", -70.0f, -SK_BIG_V, SK_BIG_V, 0, "resting potential"),
    SK_FIELD("V_th", "mV", -60.0f, -SK_BIG_V, SK_BIG_V, 0,
             "baseline threshold; also the amount subtracted on a spike"),
    SK_FIELD("R", "1", 1.0f, 0.0f, SK_BIG_V, 0, "membrane resistance"),
    SK_FIELD("beta", "mV", 1.6f, -SK_BIG_V, SK_BIG_V, 0, "threshold increase per unit of a"),
    SK_FIELD("tau", "ms", 20.0f, 1e-6f, 1e9f, 0, "membrane time constant"),
    SK_FIELD("tau_a", "ms", 2000.0f, 1e-6f, 1e9f, 0, "adaptation time constant"),
    SK_FIELD("tau_ref", "ms", 0.0f, 0.0f, 1e9f, 0, "refractory period; 0 = none (None)"),
};
static const sk_field_t state[] = {
    SK_STATE("V", "mV", "membrane potential"),
    SK_STATE("a", "1", "adaptation variable"),
    SK_STATE("t_last_spike", "ms", "time of the last spike (with tau_ref)"),
};
static const char *const inputs[] = {"current"};
static const char *const derived[] = {"lin_V", "lin_a", "phi_V", "phi_a", "dtphi_V", "dtphi_a"};

/* BrainPy's exprel in float32: jax.lax.select of the short series and (exp(y) - 1)/y. */
static float exprel32(float y)
{
    if (fabsf(y) <= 1e-5f)
        return (1.0f + y / 2.0f) + (y * y) / 6.0f;
    return (expf(y) - 1.0f) / y;
}

static void derive(const float *p, float dt, float *d)
{
    d[D_LIN_V] = -(1.0f / p[P_TAU]);
    d[D_LIN_A] = -(1.0f / p[P_TAU_A]);
    d[D_PHI_V] = exprel32(dt * d[D_LIN_V]);
    d[D_PHI_A] = exprel32(dt * d[D_LIN_A]);
    d[D_DTPHI_V] = dt * d[D_PHI_V];
    d[D_DTPHI_A] = dt * d[D_PHI_A];
}

static void init(const float *p, float *const *s, uint32_t n)
{
    for (uint32_t j = 0; j < n; j++) {
        s[S_V][j] = p[P_V_REST];
        s[S_A][j] = 0.0f;
        s[S_T_LAST][j] = -1e7f;
    }
}

static SK_ALWAYS_INLINE void step_loop(const sk_step_args_t *a, const int refrac)
{
    const float v_rest = a->p[P_V_REST], v_th = a->p[P_V_TH], r = a->p[P_R];
    const float beta = a->p[P_BETA], tau = a->p[P_TAU], tau_a = a->p[P_TAU_A];
    const float tau_ref = a->p[P_TAU_REF];
    const float dtphi_v = a->d[D_DTPHI_V], dtphi_a = a->d[D_DTPHI_A];
    const int has_ref = tau_ref > 0.0f;
    const float t = (float)a->step * a->dt;
    float *restrict vv = a->s[S_V];
    float *restrict aa = a->s[S_A];
    float *restrict t_last = a->s[S_T_LAST];
    const float *restrict x = a->in[0];
    uint8_t *restrict spiked = a->spiked;

    /* locals: stores through uint8_t* may alias *a */
    const uint32_t n = a->n;
    uint16_t *restrict ref = a->refrac;
    const uint16_t ref_steps = a->refrac_steps;
    SK_IVDEP
    for (uint32_t j = 0; j < n; j++) {
        const float v0 = vv[j], a0 = aa[j], t_l = t_last[j];
        /* integrate (exponential Euler, both from the old values) */
        const float cur = 0.0f + x[j];
        const float f_v = (-(v0 - v_rest) + r * cur) / tau;
        const float f_a = -a0 / tau_a;
        const int held = has_ref & ((t - t_l) <= tau_ref);
        const float v_i = held ? v0 : v0 + dtphi_v * f_v;
        const float a_i = a0 + dtphi_a * f_a;
        /* threshold (previous a, >=) and reset by subtracting V_th * spike */
        int s = v_i >= v_th + beta * a0;
        float v_n = v_i - v_th * (float)s;
        if (refrac)
            s = sk_refrac_apply(ref, ref_steps, j, v0, &v_n, s);
        t_last[j] = (has_ref & s) ? t : t_l;
        vv[j] = v_n;
        aa[j] = a_i + (float)s;
        spiked[j] = (uint8_t)s;
    }
}

SK_MODEL_LOOP(step)

const sk_model_t sk_model_alif_bellec2020 = {
    .name = "alif_bellec2020",
    .summary = "adaptive LIF after Bellec et al. 2020 (BrainPy ALIFBellec2020, exp_auto)",
    .reference = "brainpy.neurons.ALIFBellec2020.update (BrainPy V2.8.2), float32 per "
                 "spec/models.md section 7",
    .time_unit = "ms",
    .time_scale = 1.0,
    SK_MODEL_TABLES,
    .v_index = S_V,
    .derive = derive,
    .init = init,
    .step = step,
};
