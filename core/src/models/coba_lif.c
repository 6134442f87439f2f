/* coba_lif.c: conductance-based LIF with exponential conductances (Norse CobaLIF).
 *
 * Reference: norse.torch.functional.coba_lif, coba_lif_feed_forward_step; recurrent
 * networks follow the DOCUMENTED semantics of module/coba_lif.py (input and recurrent
 * spikes both count), not the code as written, which discards input spikes (spec/models.md
 * section 5). Time unit: s (Norse's defaults: tau_syn = 5 s, C/g_l = 800 steps at 1 ms).
 *
 * Two input channels, both >= 0: g_e (sum of positive weights) and g_i (sum of magnitudes of
 * negative weights); the network splits each synapse by the sign of its weight
 * (SK_MODEL_SIGN_SPLIT), as Norse's relu(W)/relu(-W) does.
 * Step:
 *     g_e = g_e + x_e;   g_i = g_i + x_i
 *     g_e = g_e + ((-dt)*tau_syn_exc_inv) * g_e
 *     g_i = g_i + ((-dt)*tau_syn_inh_inv) * g_i
 *     dv  = (dt*c_m_inv) * ((g_l*(v_rest - v) + g_e*(e_rev_E - v)) + g_i*(e_rev_I - v))
 *     v_d = v + dv;   z = (v_d - v_thresh) > 0;   v' = z ? v_reset : v_d
 * The new conductances multiply the OLD v.
 * Initial state (CobaLIFCell): all zeros, v included, so with the defaults every neuron
 * spikes at step 0 (v = 0 > v_thresh = -10). Populations may set another initial state.
 */
#include "model_util.h"

enum {
    P_TAU_SYN_EXC_INV,
    P_TAU_SYN_INH_INV,
    P_C_M_INV,
    P_G_L,
    P_E_REV_I,
    P_E_REV_E,
    P_V_REST,
    P_V_RESET,
    P_V_THRESH
};
enum { S_V, S_G_E, S_G_I };
enum { D_K_MEM, D_K_EXC, D_K_INH };

static const sk_field_t params[] = {
    SK_FIELD("tau_syn_exc_inv", "1/s", 0.2f, 0.0f, SK_BIG_RATE, 0,
             "inverse excitatory conductance time constant"),
    SK_FIELD("tau_syn_inh_inv", "1/s", 0.2f, 0.0f, SK_BIG_RATE, 0,
             "inverse inhibitory conductance time constant"),
    SK_FIELD("c_m_inv", "1/(s*C)", 5.0f, 0.0f, SK_BIG_RATE, SK_FIELD_LO_OPEN,
             "inverse membrane capacitance"),
    SK_FIELD("g_l", "g", 0.25f, 0.0f, SK_BIG_V, 0, "leak conductance"),
    SK_FIELD("e_rev_I", "mV", -100.0f, -SK_BIG_V, SK_BIG_V, 0, "inhibitory reversal potential"),
    SK_FIELD("e_rev_E", "mV", 60.0f, -SK_BIG_V, SK_BIG_V, 0, "excitatory reversal potential"),
    SK_FIELD("v_rest", "mV", -20.0f, -SK_BIG_V, SK_BIG_V, 0, "resting potential"),
    SK_FIELD("v_reset", "mV", -70.0f, -SK_BIG_V, SK_BIG_V, 0, "reset potential"),
    SK_FIELD("v_thresh", "mV", -10.0f, -SK_BIG_V, SK_BIG_V, 0, "threshold potential"),
};
static const sk_field_t state[] = {
    SK_STATE("v", "mV", "membrane potential"),
    SK_STATE("g_e", "g", "excitatory conductance"),
    SK_STATE("g_i", "g", "inhibitory conductance"),
};
static const char *const inputs[] = {"g_e", "g_i"};
static const char *const derived[] = {"k_mem", "k_exc", "k_inh"};

static void derive(const float *p, float dt, float *d)
{
    d[D_K_MEM] = dt * p[P_C_M_INV];
    d[D_K_EXC] = (-dt) * p[P_TAU_SYN_EXC_INV];
    d[D_K_INH] = (-dt) * p[P_TAU_SYN_INH_INV];
}

static void init(const float *p, float *const *s, uint32_t n)
{
    (void)p;
    for (uint32_t j = 0; j < n; j++) {
        s[S_V][j] = 0.0f;
        s[S_G_E][j] = 0.0f;
        s[S_G_I][j] = 0.0f;
    }
}

static SK_ALWAYS_INLINE void step_loop(const sk_step_args_t *a, const int refrac)
{
    const float g_l = a->p[P_G_L], e_i = a->p[P_E_REV_I], e_e = a->p[P_E_REV_E];
    const float v_rest = a->p[P_V_REST], v_reset = a->p[P_V_RESET], v_th = a->p[P_V_THRESH];
    const float k_mem = a->d[D_K_MEM], k_exc = a->d[D_K_EXC], k_inh = a->d[D_K_INH];
    float *restrict v = a->s[S_V];
    float *restrict ge = a->s[S_G_E];
    float *restrict gi = a->s[S_G_I];
    const float *restrict x_e = a->in[0];
    const float *restrict x_i = a->in[1];
    uint8_t *restrict spiked = a->spiked;

    /* locals: stores through uint8_t* may alias *a */
    const uint32_t n = a->n;
    uint16_t *restrict ref = a->refrac;
    const uint16_t ref_steps = a->refrac_steps;
    SK_IVDEP
    for (uint32_t j = 0; j < n; j++) {
        const float v0 = v[j];
        /* conductance jumps, then decay */
        float g_e = ge[j] + x_e[j];
        float g_i = gi[j] + x_i[j];
        g_e = g_e + k_exc * g_e;
        g_i = g_i + k_inh * g_i;
        /* integrate with the new conductances and the old v */
        const float dv = k_mem * ((g_l * (v_rest - v0) + g_e * (e_e - v0)) + g_i * (e_i - v0));
        const float v_d = v0 + dv;
        /* threshold and reset */
        int z = (v_d - v_th) > 0.0f;
        float v_n = z ? v_reset : v_d;
        if (refrac)
            z = sk_refrac_apply(ref, ref_steps, j, v0, &v_n, z);
        v[j] = v_n;
        ge[j] = g_e;
        gi[j] = g_i;
        spiked[j] = (uint8_t)z;
    }
}

SK_MODEL_LOOP(step)

const sk_model_t sk_model_coba_lif = {
    .name = "coba_lif",
    .summary = "conductance-based LIF, exponential conductances (Norse CobaLIF, documented "
               "recurrent semantics)",
    .reference = "norse.torch.functional.coba_lif.coba_lif_feed_forward_step; recurrent: "
                 "module/coba_lif.py docstring (Norse v1.1.0)",
    .time_unit = "s",
    .time_scale = 1e-3,
    .flags = SK_MODEL_SIGN_SPLIT,
    SK_MODEL_TABLES,
    .v_index = S_V,
    .derive = derive,
    .init = init,
    .step = step,
};
