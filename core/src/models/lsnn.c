/* lsnn.c: LIF with an adaptive threshold, Norse's LSNN (Bellec et al. 2018 ALIF).
 *
 * Reference: norse.torch.functional.lsnn, lsnn_feed_forward_step / lsnn_step
 * (spec/models.md section 6). Time unit: s.
 *
 * The order differs from LIF: decay first, input jumps last (the input acts one step later).
 *     v_d = v + (dt*tau_mem_inv) * ((v_leak - v) + i)          OLD i
 *     i_d = i + ((-dt)*tau_syn_inv) * i
 *     b_d = b + (dt*tau_adapt_inv) * (v_th - b)                b is the whole threshold
 *     z   = (v_d - b_d) > 0;   v' = z ? v_reset : v_d
 *     i'  = i_d + x
 *     b'  = b_d + z*beta
 * Note: tau_adapt_inv = 1/800 at dt = 1 ms decays b by 1.25e-6 per step (Norse's default,
 * kept as is). Initial state: v = v_leak, i = 0, b = v_th.
 */
#include "model_util.h"

enum { P_TAU_SYN_INV, P_TAU_MEM_INV, P_TAU_ADAPT_INV, P_V_LEAK, P_V_TH, P_V_RESET, P_BETA };
enum { S_V, S_I, S_B };
enum { D_K_MEM, D_K_SYN, D_K_ADAPT };

static const sk_field_t params[] = {
    SK_NORSE_TAU_SYN_INV,
    SK_NORSE_TAU_MEM_INV,
    SK_FIELD("tau_adapt_inv", "1/s", 1.0f / 800.0f, 0.0f, SK_BIG_RATE, 0,
             "inverse threshold-adaptation time constant"),
    SK_NORSE_V_LEAK,
    SK_FIELD("v_th", "1", 1.0f, -SK_BIG_V, SK_BIG_V, 0, "baseline threshold"),
    SK_NORSE_V_RESET,
    SK_FIELD("beta", "1", 1.8f, -SK_BIG_V, SK_BIG_V, 0, "threshold jump on a spike"),
};
static const sk_field_t state[] = {
    SK_STATE("v", "1", "membrane potential"),
    SK_STATE("i", "1", "synaptic input current"),
    SK_STATE("b", "1", "adaptive threshold"),
};
static const char *const inputs[] = {"current"};
static const char *const derived[] = {"k_mem", "k_syn", "k_adapt"};

static void derive(const float *p, float dt, float *d)
{
    d[D_K_MEM] = dt * p[P_TAU_MEM_INV];
    d[D_K_SYN] = (-dt) * p[P_TAU_SYN_INV];
    d[D_K_ADAPT] = dt * p[P_TAU_ADAPT_INV];
}

static void init(const float *p, float *const *s, uint32_t n)
{
    for (uint32_t j = 0; j < n; j++) {
        s[S_V][j] = p[P_V_LEAK];
        s[S_I][j] = 0.0f;
        s[S_B][j] = p[P_V_TH];
    }
}

static SK_ALWAYS_INLINE void step_loop(const sk_step_args_t *a, const int refrac)
{
    const float v_leak = a->p[P_V_LEAK], v_th = a->p[P_V_TH], v_reset = a->p[P_V_RESET];
    const float beta = a->p[P_BETA];
    const float k_mem = a->d[D_K_MEM], k_syn = a->d[D_K_SYN], k_adapt = a->d[D_K_ADAPT];
    float *restrict v = a->s[S_V];
    float *restrict cur = a->s[S_I];
    float *restrict b = a->s[S_B];
    const float *restrict x = a->in[0];
    uint8_t *restrict spiked = a->spiked;

    /* locals: stores through uint8_t* may alias *a */
    const uint32_t n = a->n;
    uint16_t *restrict ref = a->refrac;
    const uint16_t ref_steps = a->refrac_steps;
    SK_IVDEP
    for (uint32_t j = 0; j < n; j++) {
        const float v0 = v[j], i0 = cur[j], b0 = b[j];
        /* decay */
        const float v_d = v0 + k_mem * ((v_leak - v0) + i0);
        const float i_d = i0 + k_syn * i0;
        const float b_d = b0 + k_adapt * (v_th - b0);
        /* threshold and reset */
        int z = (v_d - b_d) > 0.0f;
        float v_n = z ? v_reset : v_d;
        if (refrac)
            z = sk_refrac_apply(ref, ref_steps, j, v0, &v_n, z);
        /* jumps */
        v[j] = v_n;
        cur[j] = i_d + x[j];
        b[j] = b_d + (float)z * beta; /* Norse: b_decayed + z * beta */
        spiked[j] = (uint8_t)z;
    }
}

SK_MODEL_LOOP(step)

const sk_model_t sk_model_lsnn = {
    .name = "lsnn",
    .summary = "LIF with adaptive threshold (Norse LSNN)",
    .reference = "norse.torch.functional.lsnn.lsnn_feed_forward_step / lsnn_step (Norse v1.1.0)",
    .time_unit = "s",
    .time_scale = 1e-3,
    SK_MODEL_TABLES,
    .v_index = S_V,
    .derive = derive,
    .init = init,
    .step = step,
};
