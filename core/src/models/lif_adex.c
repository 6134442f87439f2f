/* lif_adex.c: adaptive exponential integrate-and-fire (Norse LIFAdEx).
 *
 * Reference: norse.torch.functional.lif_adex, lif_adex_feed_forward_step / lif_adex_step
 * (spec/models.md section 3). Time unit: s.
 *
 * Step (OLD v and OLD a on every right-hand side):
 *     i_j = i + x
 *     e   = delta_T * exp((v - v_th) / delta_T)
 *     v_d = v + (dt*tau_mem_inv) * ((((v_leak - v) + e) + i_j) - a)
 *     i'  = i_j + ((-dt)*tau_syn_inv) * i_j
 *     a_d = a + (dt*tau_ada_inv) * (adaptation_current*(v - v_leak) - a)
 *     z   = (v_d - v_th) > 0;   v' = z ? v_reset : v_d
 *     a'  = a_d + z*adaptation_spike                  jump after the decay
 * There is no clamp on exp (as in Norse); check() keeps it finite after a reset.
 * Initial state: v = v_leak, i = a = 0.
 */
#include "model_util.h"

enum {
    P_ADAPTATION_CURRENT,
    P_ADAPTATION_SPIKE,
    P_DELTA_T,
    P_TAU_ADA_INV,
    P_TAU_SYN_INV,
    P_TAU_MEM_INV,
    P_V_LEAK,
    P_V_TH,
    P_V_RESET
};
enum { S_V, S_I, S_A };
enum { D_K_MEM, D_K_SYN, D_K_ADA };

static const sk_field_t params[] = {
    SK_FIELD("adaptation_current", "1", 4.0f, -SK_BIG_V, SK_BIG_V, 0,
             "subthreshold adaptation coupling"),
    SK_FIELD("adaptation_spike", "1", 0.02f, -SK_BIG_V, SK_BIG_V, 0,
             "adaptation jump on a spike"),
    SK_NORSE_DELTA_T,
    SK_FIELD("tau_ada_inv", "1/s", 2.0f, 0.0f, SK_BIG_RATE, 0, "inverse adaptation time constant"),
    SK_NORSE_TAU_SYN_INV,
    SK_NORSE_TAU_MEM_INV,
    SK_NORSE_V_LEAK,
    SK_NORSE_V_TH,
    SK_NORSE_V_RESET,
};
static const sk_field_t state[] = {
    SK_STATE("v", "1", "membrane potential"),
    SK_STATE("i", "1", "synaptic input current"),
    SK_STATE("a", "1", "adaptation current"),
};
static const char *const inputs[] = {"current"};
static const char *const derived[] = {"k_mem", "k_syn", "k_ada"};

static int check(const float *p, sk_err_t *err)
{
    /* delta_T * exp((v - v_th)/delta_T) right after a reset must stay far from FLT_MAX */
    const float x = (p[P_V_RESET] - p[P_V_TH]) / p[P_DELTA_T];
    if (x > 80.0f || !(p[P_DELTA_T] * expf(x) < 1e36f))
        return sk_err_set(err, SK_ERANGE, "v_reset", "must keep delta_T * exp((v_reset - v_th) "
                          "/ delta_T) below 1e36 (and the exponent <= 80), else v overflows");
    return 0;
}

static void derive(const float *p, float dt, float *d)
{
    d[D_K_MEM] = dt * p[P_TAU_MEM_INV];
    d[D_K_SYN] = (-dt) * p[P_TAU_SYN_INV];
    d[D_K_ADA] = dt * p[P_TAU_ADA_INV];
}

static void init(const float *p, float *const *s, uint32_t n)
{
    for (uint32_t j = 0; j < n; j++) {
        s[S_V][j] = p[P_V_LEAK];
        s[S_I][j] = 0.0f;
        s[S_A][j] = 0.0f;
    }
}

static SK_ALWAYS_INLINE void step_loop(const sk_step_args_t *a, const int refrac)
{
    const float v_leak = a->p[P_V_LEAK], v_th = a->p[P_V_TH], v_reset = a->p[P_V_RESET];
    const float delta_t = a->p[P_DELTA_T];
    const float ada_cur = a->p[P_ADAPTATION_CURRENT], ada_spike = a->p[P_ADAPTATION_SPIKE];
    const float k_mem = a->d[D_K_MEM], k_syn = a->d[D_K_SYN], k_ada = a->d[D_K_ADA];
    float *restrict v = a->s[S_V];
    float *restrict cur = a->s[S_I];
    float *restrict ada = a->s[S_A];
    const float *restrict x = a->in[0];
    uint8_t *restrict spiked = a->spiked;

    /* locals: stores through uint8_t* may alias *a */
    const uint32_t n = a->n;
    uint16_t *restrict ref = a->refrac;
    const uint16_t ref_steps = a->refrac_steps;
    SK_IVDEP
    for (uint32_t j = 0; j < n; j++) {
        const float v0 = v[j], a0 = ada[j];
        /* integrate */
        const float i_j = cur[j] + x[j];
        const float e = delta_t * expf((v0 - v_th) / delta_t);
        const float v_d = v0 + k_mem * ((((v_leak - v0) + e) + i_j) - a0);
        const float i_n = i_j + k_syn * i_j;
        const float a_d = a0 + k_ada * (ada_cur * (v0 - v_leak) - a0);
        /* threshold and reset */
        int z = (v_d - v_th) > 0.0f;
        float v_n = z ? v_reset : v_d;
        if (refrac)
            z = sk_refrac_apply(ref, ref_steps, j, v0, &v_n, z);
        v[j] = v_n;
        cur[j] = i_n;
        ada[j] = a_d + (float)z * ada_spike; /* Norse: a_decayed + z * adaptation_spike */
        spiked[j] = (uint8_t)z;
    }
}

SK_MODEL_LOOP(step)

const sk_model_t sk_model_lif_adex = {
    .name = "lif_adex",
    .summary = "adaptive exponential integrate-and-fire, current synapse (Norse LIFAdEx)",
    .reference = "norse.torch.functional.lif_adex.lif_adex_feed_forward_step / lif_adex_step "
                 "(Norse v1.1.0)",
    .time_unit = "s",
    .time_scale = 1e-3,
    SK_MODEL_TABLES,
    .v_index = S_V,
    .check = check,
    .derive = derive,
    .init = init,
    .step = step,
};
