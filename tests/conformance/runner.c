/* runner.c: spiked-conformance, replays reference trajectories through the core's model API.
 *
 *   spiked-conformance [--threads=N] [--chunk=K] PATH...
 *                                   PATH = a golden JSON file or a directory of them;
 *                                   network files are stepped on N threads in chunks of K
 *                                   steps (default 1 and 1; transmissions are compared
 *                                   only with K = 1)
 *
 * Two file formats, told apart per file by the type of "inputs":
 *   an array   the Norse/BrainPy format (tests/conformance/golden/README.md), replayed here;
 *   an object  the NEST format ({"ex", "in", "current"}, tests/conformance/golden-nest/
 *              README.md), replayed by nest.c (mapping: golden-nest/README-spiked.md).
 * Network files ("kind": "network", golden-nest/README.md) are replayed by network.c
 * through the network API. Every file that cannot be replayed (unknown model, unknown
 * parameter, malformed) fails. Nothing is skipped.
 *
 * Norse/BrainPy format. Each file names a model, a variant, the parameters, the initial
 * state, the inputs of every step and the expected spikes and state after every step. The
 * runner knows no model: it looks the model up in the registry, fills
 * the parameters and state columns by name from the descriptor's tables, and feeds the
 * inputs through the descriptor's input channels:
 *   feed_forward   the file's input x[t][n] is the jump handed to the step; with one
 *                  channel it goes to that channel, with a sign-split model (coba_lif)
 *                  relu(x) goes to channel 0 and relu(-x) to channel 1;
 *   recurrent, recurrent_documented
 *                  per target n, one accumulator per channel sums input_weights[n][m]*x[m]
 *                  (m = 0..M-1) and then recurrent_weights[n][k]*z[k] (k = 0..N-1, the
 *                  spikes of the previous step), each term split by the sign of its weight
 *                  for sign-split models. This is the order spiked's network delivers
 *                  synaptic input in; Norse adds W_in x and W_rec z to i separately, so the
 *                  recurrent current-based files agree to float rounding, not bit for bit.
 * Spikes must be equal at every step; every state variable in "expected" must satisfy
 * |x - ref| <= 1e-4 * max(1, |ref|). Derived constants listed under
 * derived_constants.float32 must match the model's derive() exactly.
 * Prints one line per file with the largest absolute error per variable, then
 * "N passed, M failed"; exits 1 if any file failed, 2 on usage errors.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "conformance.h"

typedef struct golden {
    const sk_model_t *m;
    int recurrent;
    uint32_t n, n_in, n_steps;
    float dt;
    double p[SK_MODEL_MAX_PARAMS];
    const json_t *root; /* borrowed from the caller, as are the arrays below */
    json_t *inputs, *w_in, *w_rec, *expected, *init, *derived32;
} golden_t;

typedef struct replay {
    uint32_t spikes_ref, spikes_got, spike_mismatch;
    long first_bad_step;
    long first_bad_neuron;
    double max_abs[SK_MODEL_MAX_STATE];
    double max_scaled[SK_MODEL_MAX_STATE];
    int compared[SK_MODEL_MAX_STATE];
    uint32_t derived_checked;
} replay_t;

int conf_fail(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
    return -1;
}

/* Reads a JSON number as float32 the way the reference did: (float)strtod. */
static int num(const json_t *v, float *out)
{
    if (json_is_real(v))
        *out = (float)json_real_value(v);
    else if (json_is_integer(v))
        *out = (float)json_integer_value(v);
    else
        return -1;
    return 0;
}

static int get_count(const json_t *root, const char *key, uint32_t *out, char *why, size_t len)
{
    json_t *v = json_object_get(root, key);
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 100000000)
        return conf_fail(why, len, "malformed: \"%s\" must be an integer in [1, 1e8]", key);
    *out = (uint32_t)json_integer_value(v);
    return 0;
}

/* Checks that v is an array of `n` numbers. */
static int check_vector(const json_t *v, uint32_t n, const char *name, char *why, size_t len)
{
    if (!json_is_array(v) || json_array_size(v) != n)
        return conf_fail(why, len, "malformed: \"%s\" must be an array of %u numbers", name, n);
    for (uint32_t c = 0; c < n; c++) {
        float f;
        if (num(json_array_get(v, c), &f))
            return conf_fail(why, len, "malformed: %s[%u] is not a number", name, c);
    }
    return 0;
}

/* Checks that v is an array of `rows` arrays of `cols` numbers. */
static int check_matrix(const json_t *v, uint32_t rows, uint32_t cols, const char *name,
                        char *why, size_t len)
{
    if (!json_is_array(v) || json_array_size(v) != rows)
        return conf_fail(why, len, "malformed: \"%s\" must be an array of %u rows", name, rows);
    for (uint32_t r = 0; r < rows; r++) {
        const json_t *row = json_array_get(v, r);
        if (!json_is_array(row) || json_array_size(row) != cols)
            return conf_fail(why, len, "malformed: %s[%u] must have %u elements", name, r, cols);
        for (uint32_t c = 0; c < cols; c++) {
            float f;
            if (num(json_array_get(row, c), &f))
                return conf_fail(why, len, "malformed: %s[%u][%u] is not a number", name, r, c);
        }
    }
    return 0;
}

static int load_params(golden_t *g, char *why, size_t len)
{
    sk_model_defaults(g->m, g->p);
    json_t *params = json_object_get(g->root, "params");
    if (params && !json_is_object(params))
        return conf_fail(why, len, "malformed: \"params\" must be an object");
    const char *key;
    json_t *val;
    json_object_foreach(params, key, val)
    {
        int k = sk_model_param_index(g->m, key);
        if (k < 0)
            return conf_fail(why, len, "unknown parameter \"%s\" for model %s", key, g->m->name);
        if (json_is_null(val))
            continue; /* None in the reference: the descriptor's default means "absent" */
        float x; /* the float32 references took every parameter as float32 */
        if (num(val, &x))
            return conf_fail(why, len, "malformed: params.%s is not a number", key);
        g->p[k] = x;
    }
    sk_err_t err;
    if (sk_model_check_params(g->m, g->p, &err))
        return conf_fail(why, len, "invalid parameter %s: %s", err.path, err.msg);
    return 0;
}

static int load_shapes(golden_t *g, char *why, size_t len)
{
    const json_t *r = g->root;
    const char *variant = json_string_value(json_object_get(r, "variant"));
    if (!variant)
        return conf_fail(why, len, "malformed: missing \"variant\"");
    if (strcmp(variant, "feed_forward") == 0)
        g->recurrent = 0;
    else if (strcmp(variant, "recurrent") == 0 || strcmp(variant, "recurrent_documented") == 0)
        g->recurrent = 1;
    else
        return conf_fail(why, len, "unknown variant \"%s\"", variant);
    if (get_count(r, "n_neurons", &g->n, why, len) || get_count(r, "n_steps", &g->n_steps, why, len))
        return -1;
    if ((uint64_t)g->n * g->n_steps > 200000000u)
        return conf_fail(why, len, "too large: n_neurons * n_steps > 2e8");
    g->n_in = g->n;
    if (g->recurrent && get_count(r, "n_inputs", &g->n_in, why, len))
        return -1;
    float dt;
    if (num(json_object_get(r, "dt"), &dt) || !(dt > 0.0f) || !isfinite(dt))
        return conf_fail(why, len, "malformed: \"dt\" must be a positive number");
    g->dt = dt;

    g->inputs = json_object_get(r, "inputs");
    if (check_matrix(g->inputs, g->n_steps, g->n_in, "inputs", why, len))
        return -1;
    if (g->recurrent) {
        g->w_in = json_object_get(r, "input_weights");
        g->w_rec = json_object_get(r, "recurrent_weights");
        if (check_matrix(g->w_in, g->n, g->n_in, "input_weights", why, len) ||
            check_matrix(g->w_rec, g->n, g->n, "recurrent_weights", why, len))
            return -1;
    }
    g->expected = json_object_get(r, "expected");
    if (!json_is_object(g->expected))
        return conf_fail(why, len, "malformed: missing \"expected\"");
    const char *key;
    json_t *val;
    json_object_foreach(g->expected, key, val)
    {
        if (strcmp(key, "spikes") != 0 && sk_model_state_index(g->m, key) < 0)
            return conf_fail(why, len, "expected.%s is not a state variable of %s", key,
                             g->m->name);
        if (check_matrix(val, g->n_steps, g->n, key, why, len))
            return -1;
    }
    if (!json_object_get(g->expected, "spikes"))
        return conf_fail(why, len, "malformed: missing expected.spikes");
    g->init = json_object_get(r, "initial_state");
    if (g->init && !json_is_object(g->init))
        return conf_fail(why, len, "malformed: \"initial_state\" must be an object");
    json_object_foreach(g->init, key, val)
    {
        if (!(g->recurrent && strcmp(key, "z") == 0) && sk_model_state_index(g->m, key) < 0)
            return conf_fail(why, len, "initial_state.%s is not a state variable of %s", key,
                             g->m->name);
        if (check_vector(val, g->n, key, why, len))
            return -1;
    }
    g->derived32 = json_object_get(json_object_get(r, "derived_constants"), "float32");
    return 0;
}

static int load_golden(const json_t *root, const sk_model_t *m, golden_t *g, char *why,
                       size_t len)
{
    memset(g, 0, sizeof *g);
    g->root = root;
    g->m = m;
    if (load_params(g, why, len))
        return -1;
    return load_shapes(g, why, len);
}

static float at(const json_t *mat, uint32_t r, uint32_t c)
{
    float f = 0.0f;
    num(json_array_get(json_array_get(mat, r), c), &f);
    return f;
}

/* Adds w*x to the channel accumulators of neuron n, split by sign if the model says so. */
static void accumulate(const sk_model_t *m, float *const *in, uint32_t n, float w, float x)
{
    if (m->flags & SK_MODEL_SIGN_SPLIT) {
        in[0][n] += (w > 0.0f ? w : 0.0f) * x;
        in[1][n] += (w < 0.0f ? -w : 0.0f) * x;
    } else {
        in[0][n] += w * x;
    }
}

static void fill_inputs(const golden_t *g, uint32_t t, const float *z, float *const *in)
{
    const sk_model_t *m = g->m;
    const json_t *xt = json_array_get(g->inputs, t);
    for (uint32_t c = 0; c < m->n_inputs; c++)
        memset(in[c], 0, g->n * sizeof(float));
    for (uint32_t n = 0; n < g->n; n++) {
        if (!g->recurrent) {
            float x = 0.0f;
            num(json_array_get(xt, n), &x);
            if (m->flags & SK_MODEL_SIGN_SPLIT) {
                in[0][n] = x > 0.0f ? x : 0.0f;
                in[1][n] = x < 0.0f ? -x : 0.0f;
            } else {
                in[0][n] = x;
            }
            continue;
        }
        for (uint32_t k = 0; k < g->n_in; k++) {
            float x = 0.0f;
            num(json_array_get(xt, k), &x);
            accumulate(m, in, n, at(g->w_in, n, k), x);
        }
        for (uint32_t k = 0; k < g->n; k++)
            accumulate(m, in, n, at(g->w_rec, n, k), z[k]);
    }
}

static void compare_step(const golden_t *g, uint32_t t, float *const *s, const uint8_t *spiked,
                         replay_t *r)
{
    const json_t *zt = json_array_get(json_object_get(g->expected, "spikes"), t);
    for (uint32_t n = 0; n < g->n; n++) {
        float zr = 0.0f;
        num(json_array_get(zt, n), &zr);
        r->spikes_ref += zr != 0.0f;
        r->spikes_got += spiked[n];
        if ((zr != 0.0f) != (spiked[n] != 0) && r->spike_mismatch++ == 0) {
            r->first_bad_step = t;
            r->first_bad_neuron = n;
        }
    }
    for (uint32_t k = 0; k < g->m->n_state; k++) {
        const json_t *var = json_object_get(g->expected, g->m->state[k].name);
        if (!var)
            continue;
        r->compared[k] = 1;
        for (uint32_t n = 0; n < g->n; n++) {
            double ref = at(var, t, n);
            double d = fabs((double)s[k][n] - ref);
            double scaled = d / (fabs(ref) > 1.0 ? fabs(ref) : 1.0);
            if (!(d <= r->max_abs[k]))
                r->max_abs[k] = d; /* also catches NaN */
            if (!(scaled <= r->max_scaled[k]))
                r->max_scaled[k] = scaled;
        }
    }
}

/* Checks derived_constants.float32 against derive(); returns the number of mismatches. */
static int check_derived(const golden_t *g, const double *d, replay_t *r, char *why, size_t len)
{
    const char *key;
    json_t *val;
    json_object_foreach(g->derived32, key, val)
    {
        uint32_t k = 0;
        while (k < g->m->n_derived && strcmp(g->m->derived[k], key) != 0)
            k++;
        float want;
        if (k == g->m->n_derived || num(val, &want))
            return conf_fail(why, len, "derived constant \"%s\" unknown to %s", key, g->m->name);
        const float got = (float)d[k]; /* float models store float values in double */
        if (memcmp(&want, &got, sizeof want) != 0 || (double)got != d[k])
            return conf_fail(why, len, "derived constant %s = %.9g, reference %.9g", key, d[k],
                             (double)want);
        r->derived_checked++;
    }
    return 0;
}

static int replay(const golden_t *g, replay_t *r, char *why, size_t len)
{
    const sk_model_t *m = g->m;
    uint32_t n = g->n;
    int rc = -1;
    float *cols = calloc((size_t)(m->n_state + m->n_inputs + 1) * n, sizeof(float));
    uint8_t *spiked = calloc(n, 1);
    if (!cols || !spiked) {
        conf_fail(why, len, "out of memory");
        goto done;
    }
    float *s[SK_MODEL_MAX_STATE], *in[SK_MODEL_MAX_INPUTS];
    for (uint32_t k = 0; k < m->n_state; k++)
        s[k] = cols + (size_t)k * n;
    for (uint32_t c = 0; c < m->n_inputs; c++)
        in[c] = cols + (size_t)(m->n_state + c) * n;
    float *z = cols + (size_t)(m->n_state + m->n_inputs) * n;

    double d[SK_MODEL_MAX_DERIVED];
    m->derive(g->p, g->dt, d);
    if (check_derived(g, d, r, why, len))
        goto done;
    m->init(g->p, s, n);
    const char *key;
    json_t *val;
    json_object_foreach(g->init, key, val)
    {
        float *dst = strcmp(key, "z") == 0 ? z : s[sk_model_state_index(m, key)];
        for (uint32_t j = 0; j < n; j++)
            num(json_array_get(val, j), &dst[j]);
    }
    sk_step_args_t a = {.n = n, .dt = g->dt, .p = g->p, .d = d, .s = s,
                        .in = (const float *const *)in, .spiked = spiked};
    for (uint32_t t = 0; t < g->n_steps; t++) {
        fill_inputs(g, t, z, in);
        a.step = t;
        m->step(&a);
        for (uint32_t j = 0; j < n; j++)
            z[j] = spiked[j];
        compare_step(g, t, s, spiked, r);
    }
    rc = 0;
done:
    free(cols);
    free(spiked);
    return rc;
}

/* Replays a parsed file of the Norse/BrainPy format through m (outputs as conf_run_file). */
static int norse_replay(const json_t *root, const sk_model_t *m, char *line, size_t line_len,
                        char *why, size_t why_len)
{
    golden_t g;
    replay_t r;
    memset(&r, 0, sizeof r);
    if (load_golden(root, m, &g, why, why_len) || replay(&g, &r, why, why_len))
        return 0;
    int ok = 1;
    size_t pos = 0;
    pos += (size_t)snprintf(line + pos, line_len - pos, "%s/%s %ux%u spikes %u/%u", m->name,
                            g.recurrent ? "recurrent" : "feed_forward", g.n, g.n_steps,
                            r.spikes_got, r.spikes_ref);
    if (r.spike_mismatch) {
        ok = 0;
        snprintf(why, why_len, "%u spike mismatches, first at step %ld neuron %ld",
                 r.spike_mismatch, r.first_bad_step, r.first_bad_neuron);
    }
    if (pos < line_len)
        pos += (size_t)snprintf(line + pos, line_len - pos, "  max|err|");
    for (uint32_t k = 0; k < m->n_state && pos < line_len; k++) {
        if (!r.compared[k])
            continue;
        pos += (size_t)snprintf(line + pos, line_len - pos, " %s=%.3g", m->state[k].name,
                                r.max_abs[k]);
        if (!(r.max_scaled[k] <= CONF_TOL_REL) && ok) {
            ok = 0;
            snprintf(why, why_len, "%s off by %.3g (relative %.3g > %g)", m->state[k].name,
                     r.max_abs[k], r.max_scaled[k], CONF_TOL_REL);
        }
    }
    if (r.derived_checked && pos < line_len)
        snprintf(line + pos, line_len - pos, "  derived %u/%u exact", r.derived_checked,
                 r.derived_checked);
    return ok;
}

/* The registry's model names, comma-separated, for the "unknown model" message. */
static void known_models(char *buf, size_t len)
{
    size_t pos = 0;
    buf[0] = '\0';
    for (uint32_t k = 0; k < sk_model_count() && pos < len; k++)
        pos += (size_t)snprintf(buf + pos, len - pos, "%s%s", k ? ", " : "",
                                sk_model_at(k)->name);
}

/* Threads and chunk of the network files (the command line's --threads, --chunk). */
static uint32_t g_net_threads = 1, g_net_chunk = 1;

int conf_run_file(const char *path, conf_find_fn find, char *line, size_t line_len, char *why,
                  size_t why_len)
{
    line[0] = '\0';
    why[0] = '\0';
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        conf_fail(why, why_len, "malformed JSON: %s (line %d, column %d)", jerr.text, jerr.line,
                  jerr.column);
        return 0;
    }
    int ok = 0;
    const char *model = json_string_value(json_object_get(root, "model"));
    const json_t *inputs = json_object_get(root, "inputs");
    if (!json_is_object(root)) {
        conf_fail(why, why_len, "malformed: the top level must be an object");
    } else if (json_object_get(root, "kind")) {
        const char *kind = json_string_value(json_object_get(root, "kind"));
        if (kind && strcmp(kind, "network") == 0)
            ok = conf_network_replay(root, find, g_net_threads, g_net_chunk, NULL, line,
                                     line_len, why, why_len);
        else
            conf_fail(why, why_len, "cannot replay a file of \"kind\": \"%s\" (known kinds: "
                      "network)", kind ? kind : "?");
    } else if (!model) {
        conf_fail(why, why_len, "malformed: missing \"model\"");
    } else if (!find(model)) {
        char names[256];
        known_models(names, sizeof names);
        conf_fail(why, why_len, "unknown model \"%s\": no model of that name in the registry "
                  "(known: %s)", model, names);
    } else if (json_is_object(inputs)) {
        ok = conf_nest_replay(root, find(model), line, line_len, why, why_len);
    } else {
        ok = norse_replay(root, find(model), line, line_len, why, why_len);
    }
    json_decref(root);
    return ok;
}

#ifndef SK_CONF_NO_MAIN /* the runner's test links this file without its command line */
/* Runs one file; prints its line; returns 1 if it passed. */
static int run_file(const char *path)
{
    char line[1024], why[512];
    int ok = conf_run_file(path, sk_model_find, line, sizeof line, why, sizeof why);
    printf("%s %s", ok ? "PASS" : "FAIL", path);
    if (line[0])
        printf("  %s", line);
    if (!ok)
        printf("  -- %s", why);
    printf("\n");
    return ok;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs a file, or every *.json under a directory (recursively, in sorted order). */
static void run_path(const char *path, int *passed, int *failed)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        printf("FAIL %s  -- cannot open: %s\n", path, strerror(errno));
        ++*failed;
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (run_file(path))
            ++*passed;
        else
            ++*failed;
        return;
    }
    DIR *dir = opendir(path);
    if (!dir) {
        printf("FAIL %s  -- cannot open directory: %s\n", path, strerror(errno));
        ++*failed;
        return;
    }
    char **names = NULL;
    size_t count = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
        size_t l = strlen(e->d_name);
        if (e->d_name[0] == '.')
            continue;
        char *full = malloc(strlen(path) + l + 2);
        if (!full)
            break;
        sprintf(full, "%s/%s", path, e->d_name);
        struct stat cst;
        int is_dir = stat(full, &cst) == 0 && S_ISDIR(cst.st_mode);
        if (!is_dir && (l < 5 || strcmp(e->d_name + l - 5, ".json") != 0)) {
            free(full);
            continue;
        }
        if (count == cap) {
            cap = cap ? 2 * cap : 64;
            char **grown = realloc(names, cap * sizeof *names);
            if (!grown) {
                free(full);
                break;
            }
            names = grown;
        }
        names[count++] = full;
    }
    closedir(dir);
    qsort(names, count, sizeof *names, cmp_str);
    for (size_t k = 0; k < count; k++) {
        run_path(names[k], passed, failed);
        free(names[k]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fprintf(stderr, "usage: %s PATH...   (golden JSON files or directories)\n", argv[0]);
        return 2;
    }
    int passed = 0, failed = 0, k = 1;
    for (; k < argc && strncmp(argv[k], "--", 2) == 0; k++) {
        unsigned long v = 0;
        if (sscanf(argv[k], "--threads=%lu", &v) == 1 && v >= 1 && v <= 256)
            g_net_threads = (uint32_t)v;
        else if (sscanf(argv[k], "--chunk=%lu", &v) == 1 && v >= 1 && v <= 1000000)
            g_net_chunk = (uint32_t)v;
        else {
            fprintf(stderr, "%s: unknown option %s\n", argv[0], argv[k]);
            return 2;
        }
    }
    for (; k < argc; k++)
        run_path(argv[k], &passed, &failed);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
#endif
