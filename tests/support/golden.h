/* golden.h: loads a golden trajectory file (tests/conformance/golden/README.md) into plain
 * arrays for tests that replay it through other paths than the conformance runner (the
 * network's self-projections, the server). Header-only; needs jansson. */
#ifndef SK_TEST_GOLDEN_H
#define SK_TEST_GOLDEN_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "spiked/sk_model.h"

#ifndef SK_GOLDEN_DIR
#define SK_GOLDEN_DIR "tests/conformance/golden"
#endif

typedef struct golden {
    const sk_model_t *m;
    int recurrent;
    uint32_t n, n_in, n_steps;
    double dt;             /* in the model's time unit, as in the file */
    char model[32];
    char param_names[SK_MODEL_MAX_PARAMS][32];
    float param_values[SK_MODEL_MAX_PARAMS];
    uint32_t n_params;
    float *init[SK_MODEL_MAX_STATE]; /* n each, or NULL when the file does not give it */
    float *z0;             /* recurrent: n spikes of step -1 (zeros if absent) */
    float *x;              /* n_steps x (recurrent ? n_in : n) */
    float *w_in, *w_rec;   /* n x n_in, n x n */
    uint8_t *spikes;       /* n_steps x n */
    float *expected[SK_MODEL_MAX_STATE]; /* n_steps x n, or NULL */
} golden_t;

static inline float gld_num(const json_t *v)
{
    return json_is_integer(v) ? (float)json_integer_value(v) : (float)json_real_value(v);
}

static inline float *gld_matrix(const json_t *m, uint32_t rows, uint32_t cols)
{
    float *out = calloc((size_t)rows * cols + 1, sizeof(float));
    for (uint32_t r = 0; r < rows; r++)
        for (uint32_t c = 0; c < cols; c++)
            out[(size_t)r * cols + c] = gld_num(json_array_get(json_array_get(m, r), c));
    return out;
}

static inline float *gld_vector(const json_t *v, uint32_t n)
{
    float *out = calloc((size_t)n + 1, sizeof(float));
    for (uint32_t c = 0; c < n; c++)
        out[c] = gld_num(json_array_get(v, c));
    return out;
}

/* Loads SK_GOLDEN_DIR/name into *g; returns 0 or -1. */
static inline int golden_load(const char *name, golden_t *g)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", SK_GOLDEN_DIR, name);
    memset(g, 0, sizeof *g);
    json_t *root = json_load_file(path, 0, NULL);
    if (!root)
        return -1;
    snprintf(g->model, sizeof g->model, "%s", json_string_value(json_object_get(root, "model")));
    g->m = sk_model_find(g->model);
    g->recurrent = strcmp(json_string_value(json_object_get(root, "variant")), "feed_forward") != 0;
    g->n = (uint32_t)json_integer_value(json_object_get(root, "n_neurons"));
    g->n_steps = (uint32_t)json_integer_value(json_object_get(root, "n_steps"));
    g->n_in = g->recurrent ? (uint32_t)json_integer_value(json_object_get(root, "n_inputs")) : g->n;
    g->dt = json_real_value(json_object_get(root, "dt"));
    const char *key;
    json_t *val;
    json_object_foreach(json_object_get(root, "params"), key, val)
    {
        if (json_is_null(val) || g->n_params >= SK_MODEL_MAX_PARAMS)
            continue;
        snprintf(g->param_names[g->n_params], 32, "%s", key);
        g->param_values[g->n_params++] = gld_num(val);
    }
    json_t *init = json_object_get(root, "initial_state");
    for (uint32_t k = 0; g->m && k < g->m->n_state; k++) {
        json_t *v = json_object_get(init, g->m->state[k].name);
        if (v)
            g->init[k] = gld_vector(v, g->n);
        json_t *e = json_object_get(json_object_get(root, "expected"), g->m->state[k].name);
        if (e)
            g->expected[k] = gld_matrix(e, g->n_steps, g->n);
    }
    g->z0 = json_object_get(init, "z") ? gld_vector(json_object_get(init, "z"), g->n)
                                       : calloc(g->n, sizeof(float));
    g->x = gld_matrix(json_object_get(root, "inputs"), g->n_steps, g->n_in);
    if (g->recurrent) {
        g->w_in = gld_matrix(json_object_get(root, "input_weights"), g->n, g->n_in);
        g->w_rec = gld_matrix(json_object_get(root, "recurrent_weights"), g->n, g->n);
    }
    float *sp = gld_matrix(json_object_get(json_object_get(root, "expected"), "spikes"),
                           g->n_steps, g->n);
    g->spikes = calloc((size_t)g->n_steps * g->n, 1);
    for (size_t k = 0; k < (size_t)g->n_steps * g->n; k++)
        g->spikes[k] = sp[k] != 0.0f;
    free(sp);
    json_decref(root);
    return g->m ? 0 : -1;
}

static inline void golden_free(golden_t *g)
{
    for (uint32_t k = 0; k < SK_MODEL_MAX_STATE; k++) {
        free(g->init[k]);
        free(g->expected[k]);
    }
    free(g->z0);
    free(g->x);
    free(g->w_in);
    free(g->w_rec);
    free(g->spikes);
}

#endif
