/* test_cuda_parity.cu: every model's generated CUDA step against its CPU step, on the same
 * inputs, step by step (label gpu; exits 77, a skip, where no GPU is present).
 *
 * For each model: 4096 neurons from the model's initial state, 400 steps of pseudo-random
 * inputs (non-negative on sign-split channels; float64 inputs too for float64 models), the
 * CPU step (model->step) and the GPU step (sk_cuda_step_of) side by side. Spikes must be
 * identical at every step. State must be bit-identical for the models whose step uses no
 * transcendental function; where it does (expf, exp) CUDA's libm differs from glibc by an
 * ulp or two, and the state must agree within 1e-4 * max(1, |x|) (the conformance rule).
 * Prints one line per model with the largest difference, then "N passed, M failed".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cuda_runtime.h>

#include "sk_cuda.h"

/* models whose step calls a transcendental function, where CUDA's libm and glibc may differ
 * in the last bit (bit-identity not expected): expf in lif_ex and lif_adex; exp in aeif's
 * right-hand side; pow in the step-size control of every ODE model (the iaf_cond_* models:
 * another sub-step sequence changes the float64 state's low part, not its float32 part) */
static int transcendental(const sk_model_t *m)
{
    int f64 = 0;
    for (uint32_t k = 0; k < m->n_state; k++)
        f64 |= (m->state[k].flags & SK_FIELD_LO_PART) != 0;
    return !strcmp(m->name, "lif_ex") || !strcmp(m->name, "lif_adex") ||
           (f64 && (!strncmp(m->name, "iaf_cond_", 9) || !strcmp(m->name, "aeif_cond_exp")));
}

static uint32_t rng_next(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

#define CK(x)                                                                                  \
    do {                                                                                       \
        cudaError_t e_ = (x);                                                                  \
        if (e_ != cudaSuccess) {                                                               \
            fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, cudaGetErrorString(e_));        \
            exit(2);                                                                           \
        }                                                                                      \
    } while (0)

static int run_model(const sk_model_t *m)
{
    const uint32_t n = 4096, steps = 400;
    sk_cuda_step_fn gpu = sk_cuda_step_of(m);
    if (!gpu) {
        printf("FAIL %s: no CUDA step\n", m->name);
        return 0;
    }
    int f64 = 0;
    for (uint32_t k = 0; k < m->n_state; k++)
        f64 |= (m->state[k].flags & SK_FIELD_LO_PART) != 0;
    sk_cuda_args_t ga;
    memset(&ga, 0, sizeof ga);
    sk_model_defaults(m, ga.p);
    const double dt = sk_model_dt(m, strcmp(m->time_unit, "s") == 0 ? 1.0 : 0.1);
    m->derive(ga.p, dt, ga.d);
    float *s[SK_MODEL_MAX_STATE], *in[SK_MODEL_MAX_INPUTS];
    double *in64[SK_MODEL_MAX_INPUTS];
    for (uint32_t k = 0; k < m->n_state; k++) {
        s[k] = (float *)calloc(n, sizeof(float));
        CK(cudaMalloc((void **)&ga.s[k], n * sizeof(float)));
    }
    for (uint32_t c = 0; c < m->n_inputs; c++) {
        in[c] = (float *)calloc(n, sizeof(float));
        in64[c] = (double *)calloc(n, sizeof(double));
        CK(cudaMalloc((void **)&ga.in[c], n * sizeof(float)));
        CK(cudaMalloc((void **)&ga.in64[c], n * sizeof(double)));
    }
    m->init(ga.p, s, n);
    for (uint32_t k = 0; k < m->n_state; k++)
        CK(cudaMemcpy(ga.s[k], s[k], n * sizeof(float), cudaMemcpyHostToDevice));
    uint8_t *spk = (uint8_t *)calloc(n, 1), *gspk_h = (uint8_t *)calloc(n, 1);
    CK(cudaMalloc((void **)&ga.spiked, n));
    float *back = (float *)calloc(n, sizeof(float));
    ga.n = n;
    ga.dt = dt;
    ga.has_in64 = f64;
    /* input scale: the seed models' units are per-step jumps of order 1; NEST's pA/nS */
    const double scale = m->time_scale < 0.01 ? 0.6 : (f64 ? 300.0 : 3.0);
    uint32_t seed = 12345;
    double worst = 0.0;
    unsigned long long spikes = 0, spike_mismatch = 0, bit_diffs = 0;
    for (uint32_t t = 0; t < steps; t++) {
        for (uint32_t c = 0; c < m->n_inputs; c++)
            for (uint32_t j = 0; j < n; j++) {
                double x = (rng_next(&seed) / 16777216.0) * scale;
                if (f64 && c == 2)
                    x = (x - 0.3 * scale) * 2.0; /* currents of both signs */
                in64[c][j] = x;
                in[c][j] = (float)x;
            }
        sk_step_args_t a;
        memset(&a, 0, sizeof a);
        a.n = n;
        a.step = t;
        a.dt = dt;
        a.p = ga.p;
        a.d = ga.d;
        a.s = s;
        a.in = (const float *const *)in;
        a.in64 = f64 ? (const double *const *)in64 : NULL;
        a.spiked = spk;
        m->step(&a);
        for (uint32_t c = 0; c < m->n_inputs; c++) {
            CK(cudaMemcpy((void *)ga.in[c], in[c], n * sizeof(float), cudaMemcpyHostToDevice));
            CK(cudaMemcpy((void *)ga.in64[c], in64[c], n * sizeof(double), cudaMemcpyHostToDevice));
        }
        ga.step = t;
        CK((cudaError_t)gpu(&ga, 0, NULL));
        CK(cudaMemcpy(gspk_h, ga.spiked, n, cudaMemcpyDeviceToHost));
        for (uint32_t j = 0; j < n; j++) {
            spikes += spk[j];
            spike_mismatch += spk[j] != gspk_h[j];
        }
        for (uint32_t k = 0; k < m->n_state; k++) {
            CK(cudaMemcpy(back, ga.s[k], n * sizeof(float), cudaMemcpyDeviceToHost));
            for (uint32_t j = 0; j < n; j++) {
                if (memcmp(&back[j], &s[k][j], sizeof(float)) != 0)
                    bit_diffs++;
                if (m->state[k].flags & SK_FIELD_LO_PART)
                    continue; /* compared through its variable */
                double x = s[k][j], y = back[j];
                double e = fabs(x - y) / fmax(1.0, fabs(x));
                if (!(e <= worst))
                    worst = e;
            }
            /* keep the GPU on its own trajectory: no copy back of the CPU's state */
        }
    }
    const int exact = !transcendental(m);
    const int ok = spike_mismatch == 0 && (exact ? bit_diffs == 0 : worst <= 1e-4);
    printf("%s %-16s spikes %llu, mismatched %llu, state values differing in any bit %llu, "
           "largest scaled difference %.3g (%s)\n",
           ok ? "PASS" : "FAIL", m->name, spikes, spike_mismatch, bit_diffs, worst,
           exact ? "bit-identical required" : "within 1e-4 required");
    for (uint32_t k = 0; k < m->n_state; k++) {
        cudaFree(ga.s[k]);
        free(s[k]);
    }
    for (uint32_t c = 0; c < m->n_inputs; c++) {
        cudaFree((void *)ga.in[c]);
        cudaFree((void *)ga.in64[c]);
        free(in[c]);
        free(in64[c]);
    }
    cudaFree(ga.spiked);
    free(spk);
    free(gspk_h);
    free(back);
    return ok;
}

int main(void)
{
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
        printf("no CUDA device: skipped\n");
        return 77;
    }
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    printf("device: %s\n", prop.name);
    int passed = 0, failed = 0;
    for (uint32_t k = 0; k < sk_model_count(); k++) {
        const sk_model_t *m = sk_model_at(k);
        if (m->n_state == 0)
            continue; /* spike_source: nothing to compare */
        if (run_model(m))
            passed++;
        else
            failed++;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
