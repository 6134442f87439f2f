/* lif_refrac.c: LIF with an absolute refractory period counted in steps (Norse LIFRefrac).
 *
 * Reference: norse.torch.functional.lif_refrac, lif_refrac_feed_forward_step /
 * lif_refrac_step with compute_refractory_update (spec/models.md section 2). Time unit: s.
 *
 * Step: the LIF step (lif.c) gives z_l, v_l and i'; then, with rho of the PREVIOUS state:
 *     m    = rho > 0                      refractory
 *     v'   = m ? v_prev : v_l             v is HELD, not set to v_reset
 *     z    = m ? 0 : z_l
 *     rho' = z ? rho_reset : relu(rho - m)
 *     i'   = unchanged: current and input jumps keep integrating
 * rho counts steps: after a spike exactly ceil(rho_reset) steps are refractory, whatever dt.
 * Initial state: v = v_leak, i = 0, rho = 0.
 */
#include "model_util.h"

enum { P_TAU_SYN_INV, P_TAU_MEM_INV, P_V_LEAK, P_V_TH, P_V_RESET, P_RHO_RESET };
enum { S_V, S_I, S_RHO };
enum { D_K_MEM, D_K_SYN };

static const sk_field_t params[] = {
    SK_NORSE_TAU_SYN_INV,
    SK_NORSE_TAU_MEM_INV,
    SK_NORSE_V_LEAK,
    SK_NORSE_V_TH,
    SK_NORSE_V_RESET,
    SK_FIELD("rho_reset", "steps", 5.0f, 0.0f, 65535.0f, 0,
             "refractory steps after a spike (ceil(rho_reset) steps)"),
};
static const sk_field_t state[] = {
    SK_STATE("v", "1", "membrane potential"),
    SK_STATE("i", "1", "synaptic input current"),
    SK_STATE("rho", "steps", "refractory steps left"),
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
        s[S_RHO][j] = 0.0f;
    }
}

static SK_ALWAYS_INLINE void step_loop(const sk_step_args_t *a, const int refrac)
{
    const float v_leak = a->p[P_V_LEAK], v_th = a->p[P_V_TH], v_reset = a->p[P_V_RESET];
    const float rho_reset = a->p[P_RHO_RESET];
    const float k_mem = a->d[D_K_MEM], k_syn = a->d[D_K_SYN];
    float *restrict v = a->s[S_V];
    float *restrict cur = a->s[S_I];
    float *restrict rho = a->s[S_RHO];
    const float *restrict x = a->in[0];
    uint8_t *restrict spiked = a->spiked;

    /* locals: stores through uint8_t* may alias *a */
    const uint32_t n = a->n;
    uint16_t *restrict ref = a->refrac;
    const uint16_t ref_steps = a->refrac_steps;
    SK_IVDEP
    for (uint32_t j = 0; j < n; j++) {
        const float v0 = v[j], rho0 = rho[j];
        /* integrate (plain LIF) */
        const float i_j = cur[j] + x[j];
        const float v_d = v0 + k_mem * ((v_leak - v0) + i_j);
        const float i_n = i_j + k_syn * i_j;
        const int z_l = (v_d - v_th) > 0.0f;
        const float v_l = z_l ? v_reset : v_d;
        /* refractory mask from the previous rho */
        const int m = rho0 > 0.0f;
        float v_n = m ? v0 : v_l;
        int z = m ? 0 : z_l;
        /* generic refractoriness before the spike-triggered rho reset (sk_model.h) */
        if (refrac)
            z = sk_refrac_apply(ref, ref_steps, j, v0, &v_n, z);
        const float rho_dec = rho0 - (m ? 1.0f : 0.0f);
        const float rho_n = z ? rho_reset : (rho_dec > 0.0f ? rho_dec : 0.0f);
        v[j] = v_n;
        cur[j] = i_n;
        rho[j] = rho_n;
        spiked[j] = (uint8_t)z;
    }
}

SK_MODEL_LOOP(step)

const sk_model_t sk_model_lif_refrac = {
    .name = "lif_refrac",
    .summary = "LIF with an absolute refractory period counted in steps (Norse LIFRefrac)",
    .reference = "norse.torch.functional.lif_refrac.lif_refrac_feed_forward_step / "
                 "lif_refrac_step (Norse v1.1.0)",
    .time_unit = "s",
    .time_scale = 1e-3,
    SK_MODEL_TABLES,
    .v_index = S_V,
    .derive = derive,
    .init = init,
    .step = step,
};
