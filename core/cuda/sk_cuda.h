/* sk_cuda.h: the CUDA step of the neuron models (optional, -DSPIKED_CUDA=ON).
 *
 * Each model's kernel is generated from its description (core/models/<name>.yaml, the same
 * text as the CPU loop: core/models/gen.py) into core/cuda/models/<name>.cu; one thread
 * updates one neuron. The arithmetic is the CPU's: float models in float32, NEST models in
 * float64 with the two-column float64 state; the build passes -fmad=false, so no
 * contraction, and IEEE division and square root. Where a step uses no transcendental
 * function (lif, lif_refrac, lsnn, coba_lif, alif_bellec2020, iaf_psc_*, izhikevich) the GPU
 * reproduces the CPU bit for bit; where it does (expf in lif_ex/lif_adex, exp in aeif's
 * right-hand side, pow in the ODE models' step-size control) CUDA's libm differs by an ulp
 * or two and results agree within the conformance tolerance; spikes were identical in every
 * model on an H200 (docs/models.md "The CUDA backend", tests/cuda/test_cuda_parity.cu).
 *
 * This is the model layer of the GPU backend only: sessions do not run on the GPU yet.
 */
#ifndef SPIKED_SK_CUDA_H
#define SPIKED_SK_CUDA_H

#include <stdint.h>

#include "spiked/sk_model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One step of one population, by value into the kernel: every pointer is device memory. */
typedef struct sk_cuda_args {
    uint32_t n;
    uint64_t step;
    double dt;                           /* in the model's time unit, as sk_step_args_t.dt */
    double p[SK_MODEL_MAX_PARAMS];       /* parameters */
    double d[SK_MODEL_MAX_DERIVED];      /* derived constants (model->derive, on the host) */
    float *s[SK_MODEL_MAX_STATE];        /* state columns */
    const float *in[SK_MODEL_MAX_INPUTS];
    const double *in64[SK_MODEL_MAX_INPUTS]; /* used when has_in64 (float64 models) */
    int has_in64;
    uint8_t *spiked;
    uint16_t *refrac;
    uint16_t refrac_steps;
} sk_cuda_args_t;

/* The GPU step of model m; NULL when the build has none for it. The function launches one
 * step of a->n neurons on `stream` (a cudaStream_t; NULL: the default stream) and returns 0
 * or a CUDA error code of the launch. refrac: apply generic refractoriness (a->refrac). */
typedef int (*sk_cuda_step_fn)(const sk_cuda_args_t *a, int refrac, void *stream);
sk_cuda_step_fn sk_cuda_step_of(const sk_model_t *m);

#ifdef __cplusplus
}
#endif
#endif
