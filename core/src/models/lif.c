/* lif.c: leaky integrate-and-fire with exponential current synapse (Norse LIF).
 *
 * Reference: norse.torch.functional.lif, lif_feed_forward_step / lif_step (Norse v1.1.0-31,
 * spec/models.md section 1). Time unit: seconds (Norse's defaults assume dt = 0.001).
 *
 * Step, one float32 operation at a time, in the reference's order (x = input current of
 * this step, already summed over synapses, stimuli and injections):
 *     i_j = i + x
 *     v_d = v + (dt*tau_mem_inv) * ((v_leak - v) + i_j)
 *     i'  = i_j + ((-dt)*tau_syn_inv) * i_j
 *     z   = (v_d - v_th) > 0                       strict, Norse's heaviside
 *     v'  = z ? v_reset : v_d
 * The input jump comes before integration, so x(t) already moves v(t).
 * Initial state: v = v_leak, i = 0.
 */
#include "model_util.h"

enum { P_TAU_SYN_INV, P_TAU_MEM_INV, P_V_LEAK, P_V_TH, P_V_RESET };
enum { S_V, S_I };
enum { D_K_MEM, D_K_SYN };

static const sk_field_t params[] = {
    SK_NORSE_TAU_SYN_INV,
    SK_NORSE_TAU_MEM_INV,
    SK_NORSE_V_LEAK,
    SK_NORSE_V_TH,
    SK_NORSE_V_RESET,
};
static const sk_field_t state[] = {
    SK_STATE("v", "1", "membrane potential"),
    SK_STATE("i", "1", "synaptic input current"),
};
static const char *const inputs[] = {"current"};
static const char *const derived[] = {"k_mem", "k_syn"};

static void derive(const float *p, float dt, float *d)
{
    d[D_K_MEM] = dt * p[P_TAU_MEM_INV];
    d[D_K_SYN] = (-dt) * p[P_TAU_SYN_INV];
}

static void init(const float *p, float *const *s, uint32_t n)
{
    for (uint32_t j = 0; j < n; j++) {
        s[S_V][j] = p[P_V_LEAK];
        s[S_I][j] = 0.0f;
    }
}

static SK_ALWAYS_INLINE void step_loop(const sk_step_args_t *a, const int refrac)
{
    const float v_leak = a->p[P_V_LEAK], v_th = a->p[P_V_TH], v_reset = a->p[P_V_RESET];
    const float k_mem = a->d[D_K_MEM], k_syn = a->d[D_K_SYN];
    float *restrict v = a->s[S_V];
    float *restrict cur = a->s[S_I];
    const float *restrict x = a->in[0];
    uint8_t *restrict spiked = a->spiked;

    /* locals: stores through uint8_t* may alias *a */
    const uint32_t n = a->n;
    uint16_t *restrict ref = a->refrac;
    const uint16_t ref_steps = a->refrac_steps;
    SK_IVDEP
    for (uint32_t j = 0; j < n; j++) {
        const float v0 = v[j];
        /* integrate */
        const float i_j = cur[j] + x[j];
        const float v_d = v0 + k_mem * ((v_leak - v0) + i_j);
        const float i_n = i_j + k_syn * i_j;
        /* threshold and reset */
        int z = (v_d - v_th) > 0.0f;
        float v_n = z ? v_reset : v_d;
        if (refrac)
            z = sk_refrac_apply(ref, ref_steps, j, v0, &v_n, z);
        v[j] = v_n;
        cur[j] = i_n;
        spiked[j] = (uint8_t)z;
    }
}

SK_MODEL_LOOP(step)

const sk_model_t sk_model_lif = {
    .name = "lif",
    .summary = "leaky integrate-and-fire, exponential current synapse (Norse LIF)",
    .reference = "norse.torch.functional.lif.lif_feed_forward_step / lif_step (Norse v1.1.0)",
    .time_unit = "s",
    .time_scale = 1e-3,
    SK_MODEL_TABLES,
    .v_index = S_V,
    .derive = derive,
    .init = init,
    .step = step,
};
