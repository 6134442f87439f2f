/* bench_cuda_models.cu: neuron updates per second of the generated CUDA steps, uncoupled
 * (no projections: the model phase alone, what issue "A GPU backend" calls uncoupled LIF).
 *   bench_cuda_models [--n N] [--steps S]     (defaults: N = 1e7 and 1e8, 200 steps)
 * For lif (float32) and iaf_psc_exp (float64 state): every input channel holds a constant
 * drive, state starts from the model's initial state; the median of 5 timed runs of S
 * steps each (CUDA events) after 20 untimed steps. Prints one JSON object per line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cuda_runtime.h>

#include "sk_cuda.h"

static int cmp(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static void run(const char *model, uint32_t n, uint32_t steps)
{
    const sk_model_t *m = sk_model_find(model);
    sk_cuda_step_fn fn = sk_cuda_step_of(m);
    sk_cuda_args_t a;
    memset(&a, 0, sizeof a);
    sk_model_defaults(m, a.p);
    const double dt = sk_model_dt(m, strcmp(m->time_unit, "s") == 0 ? 1.0 : 0.1);
    m->derive(a.p, dt, a.d);
    a.n = n;
    a.dt = dt;
    size_t bytes = 0;
    for (uint32_t k = 0; k < m->n_state; k++) {
        if (cudaMalloc((void **)&a.s[k], n * sizeof(float)) != cudaSuccess) {
            printf("{\"model\": \"%s\", \"n\": %u, \"error\": \"out of GPU memory\"}\n", model, n);
            return;
        }
        bytes += 8u * n; /* read and written */
    }
    /* the model's initial state, made on the host and copied once */
    float *hs[SK_MODEL_MAX_STATE];
    for (uint32_t k = 0; k < m->n_state; k++)
        hs[k] = (float *)malloc(n * sizeof(float));
    m->init(a.p, hs, n);
    for (uint32_t k = 0; k < m->n_state; k++) {
        cudaMemcpy(a.s[k], hs[k], n * sizeof(float), cudaMemcpyHostToDevice);
        free(hs[k]);
    }
    for (uint32_t c = 0; c < m->n_inputs; c++) {
        float *x;
        cudaMalloc((void **)&x, n * sizeof(float));
        /* a drive that makes the neurons fire now and then */
        float v = m->time_scale < 0.01 ? 0.05f : 400.0f;
        float *h = (float *)malloc(n * sizeof(float));
        for (uint32_t j = 0; j < n; j++)
            h[j] = c == 1 ? 0.0f : v;
        cudaMemcpy(x, h, n * sizeof(float), cudaMemcpyHostToDevice);
        free(h);
        a.in[c] = x;
        bytes += 4u * n;
    }
    cudaMalloc((void **)&a.spiked, n);
    bytes += n;
    for (uint32_t t = 0; t < 20; t++) {
        a.step = t;
        fn(&a, 0, NULL);
    }
    cudaEvent_t e0, e1;
    cudaEventCreate(&e0);
    cudaEventCreate(&e1);
    float ms[5];
    for (int r = 0; r < 5; r++) {
        cudaEventRecord(e0);
        for (uint32_t t = 0; t < steps; t++) {
            a.step = 20 + (uint64_t)r * steps + t;
            fn(&a, 0, NULL);
        }
        cudaEventRecord(e1);
        cudaEventSynchronize(e1);
        cudaEventElapsedTime(&ms[r], e0, e1);
    }
    qsort(ms, 5, sizeof ms[0], cmp);
    const double s = ms[2] * 1e-3;
    printf("{\"model\": \"%s\", \"n\": %u, \"steps\": %u, \"median_s\": %.6f, "
           "\"updates_per_s\": %.4g, \"gbytes_per_s\": %.1f, \"min_s\": %.6f, \"max_s\": %.6f}\n",
           model, n, steps, s, (double)n * steps / s, (double)bytes * steps / s * 1e-9,
           ms[0] * 1e-3, ms[4] * 1e-3);
    for (uint32_t k = 0; k < m->n_state; k++)
        cudaFree(a.s[k]);
    for (uint32_t c = 0; c < m->n_inputs; c++)
        cudaFree((void *)a.in[c]);
    cudaFree(a.spiked);
}

int main(int argc, char **argv)
{
    uint32_t ns[2] = {10000000u, 100000000u}, n_ns = 2, steps = 200;
    for (int k = 1; k + 1 < argc; k += 2) {
        if (!strcmp(argv[k], "--n")) {
            ns[0] = (uint32_t)atof(argv[k + 1]);
            n_ns = 1;
        } else if (!strcmp(argv[k], "--steps")) {
            steps = (uint32_t)atoi(argv[k + 1]);
        }
    }
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
        fprintf(stderr, "no CUDA device\n");
        return 77;
    }
    for (uint32_t k = 0; k < n_ns; k++) {
        run("lif", ns[k], steps);
        run("iaf_psc_exp", ns[k], steps);
    }
    return 0;
}
