/* sk_model.h: neuron-model descriptors and the model registry.
 *
 * A neuron model is described once, in core/models/<name>.yaml (format: core/models/README.md);
 * core/models/gen.py generates core/src/models/<name>.c from it, which exports one
 * `const sk_model_t`. The descriptor is data: the parameter and state tables (name, unit, default, valid range),
 * the input channels, and four functions (check, derive, init, step). Everything outside
 * the model files (network builder, protocol layer, server, docs) reads these tables and
 * never names a model.
 *
 * Time. A session's dt is in milliseconds. Each model declares the time unit of its own
 * rate parameters (`time_unit`, "s" for the Norse models whose defaults assume seconds,
 * "ms" for BrainPy's ALIF) and receives dt in that unit: dt_model = (float)(dt_ms *
 * time_scale). So a Norse user pastes LIFParameters(tau_mem_inv=100) (per second) and a
 * BrainPy user ALIFBellec2020(tau=20) (ms) into the same network, without conversion, and
 * dt = 1 ms reproduces Norse's dt = 0.001 bit for bit.
 *
 * Arithmetic. Step functions compute in float32 in the exact operation order of the
 * reference (docs/models.md) and must be compiled with -ffp-contract=off and without
 * -ffast-math; the build does this for every project target.
 */
#ifndef SPIKED_SK_MODEL_H
#define SPIKED_SK_MODEL_H

#include <stdint.h>
#include "sk_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Upper bounds on the tables, so callers can use fixed-size arrays. */
#define SK_MODEL_MAX_PARAMS  24
#define SK_MODEL_MAX_STATE   16
#define SK_MODEL_MAX_INPUTS  3
#define SK_MODEL_MAX_DERIVED 24

/* sk_field_t.flags */
#define SK_FIELD_LO_OPEN 0x1u /* the lower bound is excluded: value > lo */
#define SK_FIELD_HI_OPEN 0x2u /* the upper bound is excluded: value < hi */
#define SK_FIELD_LO_PART 0x8u /* state: the low-order float32 part of the float64 variable
                                 named without the "_lo" suffix (value = hi + lo); set with
                                 the variable to 0 whenever the variable is set from outside */
#define SK_FIELD_INF_OK  0x4u /* an infinite value is accepted when the range includes it
                                 (NEST's V_min = -inf: no lower bound) */

/* One parameter or state variable. */
typedef struct sk_field {
    const char *name; /* JSON key, docs key, checkpoint key: exactly the reference's name */
    const char *unit; /* "1/s", "ms", "mV", "1" (dimensionless), ... */
    double dflt;      /* parameters: the reference default; state: unused (see init) */
    double lo, hi;    /* valid range, closed unless flags say otherwise; may be +-INFINITY */
    unsigned flags;   /* SK_FIELD_* */
    const char *doc;  /* one short sentence */
} sk_field_t;

/* sk_model_t.flags */
#define SK_MODEL_SIGN_SPLIT 0x1u /* two input channels; a synapse of weight w feeds channel 0
                                    with w if w > 0 and channel 1 with -w if w < 0 (Norse's
                                    relu split of CobaLIF conductances) */
#define SK_MODEL_NO_REFRAC 0x2u  /* the model has its own refractoriness (NEST's t_ref): the
                                    network refuses the generic `refractory_steps` for it */

/* Arguments of one step of one population. The network fills this once per population and
 * only updates `step` between steps. All arrays have `n` elements. */
typedef struct sk_step_args {
    uint32_t n;              /* neurons in the population */
    uint64_t step;           /* 0-based index of the step being computed; t = step * dt */
    double dt;               /* step size in the model's time_unit: dt_ms * time_scale, exact;
                                float models use (float)dt */
    const double *p;         /* parameters, in the order of model->params (double: NEST's
                                models need them exact; float models round once) */
    const double *d;         /* derived constants computed by model->derive (double: the NEST
                                models keep their propagators in double; float models store
                                float values, which double holds exactly) */
    float *const *s;         /* state columns s[k][i], k in the order of model->state */
    const float *const *in;  /* in[c][i]: summed input of channel c arriving at this step */
    const double *const *in64; /* optional (NULL = off): the same inputs in float64, read
                                  instead of `in` by float64 models (compute: double). The
                                  conformance runner passes the references' inputs exactly;
                                  the network's synaptic sums are float32 today */
    uint8_t *spiked;         /* out: 1 where neuron i spiked at this step, else 0 */
    uint16_t *refrac;        /* optional (NULL = off): steps of refractoriness left */
    uint16_t refrac_steps;   /* steps a spike makes refractory, when refrac != NULL */
} sk_step_args_t;

/* SK_HD marks what compiles for the CPU and, under nvcc, for the GPU too (core/cuda/);
 * SK_RESTRICT is C's restrict in C and its CUDA/C++ spelling there. */
#if defined(__CUDACC__)
#define SK_HD __host__ __device__
#else
#define SK_HD
#endif
#ifdef __cplusplus
#define SK_RESTRICT __restrict__
#else
#define SK_RESTRICT restrict
#endif

/* Generic refractoriness, available to every model through sk_step_args_t.refrac (the
 * semantics of Norse's lif_refrac, which wraps LIF the same way): while a neuron has
 * refractory steps left, its membrane variable (model->v_index) keeps its previous value
 * and it cannot spike; its other variables integrate as usual; one step is consumed per
 * step. A spike sets the count to refrac_steps. Models call this with a->refrac and
 * a->refrac_steps (only when a->refrac is not NULL) after computing their candidate v_new and spike z from the old value v_old,
 * before applying spike-triggered jumps; it returns the (possibly suppressed) spike and
 * updates *v_new. Branch-free, so the loop around it vectorises. */
static inline SK_HD int sk_refrac_apply(uint16_t *SK_RESTRICT refrac, uint16_t refrac_steps, uint32_t i,
                                  float v_old, float *v_new, int z)
{
    const uint16_t r = refrac[i];
    const int held = r != 0;
    *v_new = held ? v_old : *v_new;
    z = z & !held;
    refrac[i] = (uint16_t)(held ? r - 1 : (z ? refrac_steps : 0));
    return z;
}

/* SK_MODEL_LOOP(name) defines `static void name(const sk_step_args_t *a)` that calls
 * name##_loop(a, 0) or name##_loop(a, 1): a model writes its per-neuron loop once, as an
 * always-inlined function of a constant `refrac` flag, and gets one vectorisable loop
 * without refractoriness and one with it. */
#if defined(__GNUC__)
#define SK_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define SK_ALWAYS_INLINE inline
#endif
/* SK_IVDEP before a model's per-neuron loop: its columns are separate allocations, so the
 * iterations are independent. GCC's restrict on locals of an inlined function is too weak
 * to prove it once a loop touches many columns (coba_lif: 8 streams). */
#if defined(__GNUC__) && !defined(__clang__)
#define SK_IVDEP _Pragma("GCC ivdep")
#elif defined(__clang__)
#define SK_IVDEP _Pragma("clang loop vectorize(assume_safety)")
#else
#define SK_IVDEP
#endif
/* SK_MODEL_CLONES: with GCC on x86-64 Linux the step function is compiled three times
 * (baseline SSE2, AVX2, AVX-512F) and the widest one the CPU supports is picked when the
 * program loads (ifunc). Binaries stay portable and results stay bit-identical:
 * -ffp-contract=off forbids FMA in every clone, and each lane does the same float32
 * operations whatever the vector width (the oracle and conformance tests check the clone
 * the test machine picks). Off under sanitizers, whose runtimes do not support ifuncs well. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__) &&    \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define SK_MODEL_CLONES __attribute__((target_clones("default", "avx2", "avx512f")))
#else
#define SK_MODEL_CLONES
#endif
#define SK_MODEL_LOOP(name)                                                                    \
    SK_MODEL_CLONES static void name(const sk_step_args_t *a)                                  \
    {                                                                                          \
        if (a->refrac)                                                                         \
            name##_loop(a, 1);                                                                 \
        else                                                                                   \
            name##_loop(a, 0);                                                                 \
    }

typedef struct sk_model {
    const char *name;         /* registry key: "lif_adex" */
    const char *summary;      /* one line for listings */
    const char *reference;    /* the code it reproduces: "norse.torch.functional.lif_adex" */
    const char *time_unit;    /* unit of dt in step/derive and of every rate parameter */
    double time_scale;        /* model time units per millisecond (1e-3 for "s", 1 for "ms") */
    unsigned flags;           /* SK_MODEL_* */
    const sk_field_t *params; /* parameter table */
    uint32_t n_params;
    const sk_field_t *state; /* state-variable table */
    uint32_t n_state;
    const char *const *inputs; /* input channel names: {"current"} or {"g_e", "g_i"} */
    uint32_t n_inputs;
    uint32_t v_index;   /* index in state of the membrane potential (held while refractory);
                           unused when n_state == 0 */
    const char *const *derived; /* names of the constants derive() writes (for tests/docs) */
    uint32_t n_derived;         /* number of constants derive() writes */
    uint32_t version;     /* the description's version: raised when the semantics change */
    uint64_t fingerprint; /* hash of the description (core/models/<name>.yaml); checkpoints
                             store it and restore checks it */
    double dt_quantum_ms;  /* dt must be a whole multiple of this (ms), or 0: any dt. NEST's
                              models: 0.001 ms, NEST's tic (its times are whole tics) */
    int32_t current_input; /* the channel that current stimuli (dc, step current) feed when
                              they name none, or -1: channel 0 / the sign split */

    /* Cross-parameter rules beyond the per-field ranges (those are checked generically by
     * sk_model_check_params before this runs). Returns 0 or SK_ERANGE with *err naming the
     * parameter. May be NULL. */
    int (*check)(const double *p, sk_err_t *err);
    /* Computes the derived constants d[0..n_derived) from parameters and dt (model time
     * units), once per (parameters, dt), like NEST's pre_run_hook. */
    void (*derive)(const double *p, double dt, double *d);
    /* Writes the reference's initial state for n neurons into s[k][0..n). */
    void (*init)(const double *p, float *const *s, uint32_t n);
    /* Advances every neuron by one step. Pure: no allocation, no I/O, reads a->in, p, d and
     * s, writes s and a->spiked (and a->refrac). */
    void (*step)(const sk_step_args_t *a);
} sk_model_t;

/* Registry (core/src/models/models.def). Returned descriptors are static and live forever. */
uint32_t sk_model_count(void);
const sk_model_t *sk_model_at(uint32_t index); /* NULL when index >= count */
const sk_model_t *sk_model_find(const char *name); /* NULL when unknown */

/* Index of a parameter / state variable / input channel by name, or SK_ENOENT. */
int sk_model_param_index(const sk_model_t *m, const char *name);
int sk_model_state_index(const sk_model_t *m, const char *name);
int sk_model_input_index(const sk_model_t *m, const char *name);

/* Index of the low-order part (SK_FIELD_LO_PART) of state variable k, or -1 when the
 * variable is float32 only. */
int sk_model_state_lo(const sk_model_t *m, uint32_t k);

/* Writes the defaults of every parameter into p[0..n_params). */
void sk_model_defaults(const sk_model_t *m, double *p);

/* Checks one value against a field's range: 0, or SK_ERANGE with *err = {field name,
 * "must be in [lo, hi] unit (got x)"}; non-finite values are always rejected. */
int sk_field_check(const sk_field_t *f, double value, sk_err_t *err);

/* Checks every parameter (range and finiteness) and then the model's cross-field rules.
 * Returns 0, or SK_ERANGE with err->path = the parameter name. */
int sk_model_check_params(const sk_model_t *m, const double *p, sk_err_t *err);

/* dt in the model's time unit for a session dt in milliseconds: (float)(dt_ms * scale). */
double sk_model_dt(const sk_model_t *m, double dt_ms);

#ifdef __cplusplus
}
#endif
#endif
