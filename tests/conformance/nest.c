/* nest.c: replays golden files of the NEST format (tests/conformance/golden-nest/README.md)
 * through a model of the registry, mapped by name only; the mapping is written down in
 * tests/conformance/golden-nest/README-spiked.md. Nothing here knows a particular model.
 *
 *   parameters     the file's "params" keys are the model's parameter names; each must exist
 *                  (gsl_error_tol may be absent from the model: it is ignored then); booleans
 *                  are 1/0; "inf"/"-inf" and +-1.7976931348623157e308 are +-INFINITY; null
 *                  keeps the model's default. The model's check then runs as in a network.
 *   state          the keys of initial_state and expected are the model's state variables
 *                  (refractory_steps_left and I_stim included, as ordinary floats); a key
 *                  the model lacks is accepted only if all its values are 0.
 *   inputs         channel "ex" gets inputs.ex[t], "in" gets -inputs.in[t] (>= 0: the
 *                  magnitude, as the network's SK_MODEL_SIGN_SPLIT delivers it), "current"
 *                  gets inputs.current[t]; a channel the model lacks must be all 0 in the file.
 *   dt             the file's dt is in ms; derive() and step() get sk_model_dt(m, dt), as in
 *                  a network.
 *   comparison     spikes equal at every step; refractory_steps_left equal; every other
 *                  state variable in expected within CONF_TOL_REL * max(1, |ref|) at every
 *                  step. derived.<name> is compared exactly with the model's derived constant
 *                  of that name when it has one (information otherwise).
 * The reference values are read as double; the model's state is float.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance.h"

enum { IN_EX, IN_IN, IN_CURRENT, N_IN };
static const char *const in_names[N_IN] = {"ex", "in", "current"};

typedef struct nest_file {
    const sk_model_t *m;
    uint32_t n, n_steps;
    double dt_ms;
    double p[SK_MODEL_MAX_PARAMS];
    const json_t *init, *spikes, *derived;
    const json_t *in[N_IN];                /* [T][N] each */
    int chan[N_IN];                        /* the model's channel, or -1 (file all zero) */
    const json_t *ref[SK_MODEL_MAX_STATE]; /* expected [T][N] per state variable, or NULL */
    int exact[SK_MODEL_MAX_STATE];         /* compared for equality (refractory counter) */
    char ignored[256];                     /* file variables the model lacks (all zero) */
} nest_file_t;

typedef struct nest_result {
    uint32_t spikes_ref, spikes_got, spike_mismatch;
    long spike_step, spike_neuron; /* first spike mismatch */
    double spike_want, spike_got;
    double max_abs[SK_MODEL_MAX_STATE], max_scaled[SK_MODEL_MAX_STATE];
    long worst_step[SK_MODEL_MAX_STATE], worst_neuron[SK_MODEL_MAX_STATE];
    uint32_t derived_checked;
} nest_result_t;

static int dnum(const json_t *v, double *out)
{
    if (json_is_real(v))
        *out = json_real_value(v);
    else if (json_is_integer(v))
        *out = (double)json_integer_value(v);
    else
        return -1;
    return 0;
}

/* Element [r][c] of a checked matrix. */
static double at2(const json_t *mat, uint32_t r, uint32_t c)
{
    double x = 0.0;
    dnum(json_array_get(json_array_get(mat, r), c), &x);
    return x;
}

static int count(const json_t *root, const char *key, uint32_t *out, char *why, size_t len)
{
    const json_t *v = json_object_get(root, key);
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 100000000)
        return conf_fail(why, len, "malformed: \"%s\" must be an integer in [1, 1e8]", key);
    *out = (uint32_t)json_integer_value(v);
    return 0;
}

/* Checks that v is an array of `cols` finite numbers. */
static int check_vector(const json_t *v, uint32_t cols, const char *name, char *why, size_t len)
{
    if (!json_is_array(v) || json_array_size(v) != cols)
        return conf_fail(why, len, "malformed: %s must be an array of %u numbers", name, cols);
    for (uint32_t c = 0; c < cols; c++) {
        double x;
        if (dnum(json_array_get(v, c), &x) || !isfinite(x))
            return conf_fail(why, len, "malformed: %s[%u] is not a finite number", name, c);
    }
    return 0;
}

/* Checks that v is an array of `rows` arrays of `cols` finite numbers. */
static int check_matrix(const json_t *v, uint32_t rows, uint32_t cols, const char *name, char *why,
                        size_t len)
{
    if (!json_is_array(v) || json_array_size(v) != rows)
        return conf_fail(why, len, "malformed: %s must be an array of %u rows", name, rows);
    for (uint32_t r = 0; r < rows; r++) {
        char row[128];
        snprintf(row, sizeof row, "%s[%u]", name, r);
        if (check_vector(json_array_get(v, r), cols, row, why, len))
            return -1;
    }
    return 0;
}

/* 1 if every number in a checked vector or matrix is 0. */
static int all_zero(const json_t *v)
{
    if (json_is_array(v)) {
        for (size_t k = 0; k < json_array_size(v); k++)
            if (!all_zero(json_array_get(v, k)))
                return 0;
        return 1;
    }
    double x = 1.0;
    return dnum(v, &x) == 0 && x == 0.0;
}

/* Converts a parameter value: number, boolean (1/0), "inf"/"-inf", +-DBL_MAX = +-INFINITY. */
static int param_value(const json_t *v, const char *key, double *out, char *why, size_t len)
{
    if (json_is_boolean(v)) {
        *out = json_is_true(v) ? 1.0 : 0.0;
        return 0;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (strcmp(s, "inf") == 0 || strcmp(s, "+inf") == 0)
            *out = INFINITY;
        else if (strcmp(s, "-inf") == 0)
            *out = -INFINITY;
        else
            return conf_fail(why, len,
                             "malformed: params.%s is the string \"%s\" (only \"inf\" "
                             "and \"-inf\" may be strings)",
                             key, s);
        return 0;
    }
    double x;
    if (dnum(v, &x))
        return conf_fail(why, len, "malformed: params.%s is not a number", key);
    if (x >= DBL_MAX)
        *out = INFINITY;
    else if (x <= -DBL_MAX)
        *out = -INFINITY;
    else
        *out = x; /* parameters are double in the core: exact */
    return 0;
}

static int load_params(const json_t *root, nest_file_t *f, char *why, size_t len)
{
    const sk_model_t *m = f->m;
    const json_t *params = json_object_get(root, "params");
    if (!json_is_object(params))
        return conf_fail(why, len, "malformed: missing \"params\" object");
    sk_model_defaults(m, f->p);
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)params, key, val)
    {
        int k = sk_model_param_index(m, key);
        if (k < 0 && strcmp(key, "gsl_error_tol") == 0)
            continue; /* GSL's tolerance: meaningless to a model without GSL */
        if (k < 0)
            return conf_fail(why, len, "params.%s: model %s has no parameter of that name", key,
                             m->name);
        if (!json_is_null(val) && param_value(val, key, &f->p[k], why, len))
            return -1;
    }
    sk_err_t err;
    if (sk_model_check_params(m, f->p, &err))
        return conf_fail(why, len, "params.%s rejected by model %s: %s", err.path, m->name,
                         err.msg);
    return 0;
}

/* Notes a file variable the model lacks: fine if all zero (listed), else a failure. */
static int lacking(nest_file_t *f, const char *where, const char *key, const json_t *v, char *why,
                   size_t len)
{
    if (!all_zero(v))
        return conf_fail(why, len,
                         "%s.%s: model %s has no %s of that name and the file's "
                         "values are not all zero",
                         where, key, f->m->name,
                         strcmp(where, "inputs") == 0 ? "input channel" : "state variable");
    if (!strstr(f->ignored, key)) {
        size_t used = strlen(f->ignored);
        snprintf(f->ignored + used, sizeof f->ignored - used, "%s%s", used ? ", " : "", key);
    }
    return 0;
}

static int load_inputs(const json_t *root, nest_file_t *f, char *why, size_t len)
{
    const sk_model_t *m = f->m;
    const json_t *inputs = json_object_get(root, "inputs");
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)inputs, key, val)
    {
        int c = 0;
        while (c < N_IN && strcmp(key, in_names[c]) != 0)
            c++;
        if (c == N_IN)
            return conf_fail(why, len, "malformed: inputs.%s is not one of ex, in, current", key);
    }
    for (int c = 0; c < N_IN; c++) {
        char name[32];
        snprintf(name, sizeof name, "inputs.%s", in_names[c]);
        f->in[c] = json_object_get(inputs, in_names[c]);
        if (!f->in[c])
            return conf_fail(why, len, "malformed: missing %s", name);
        if (check_matrix(f->in[c], f->n_steps, f->n, name, why, len))
            return -1;
        f->chan[c] = sk_model_input_index(m, in_names[c]);
        if (f->chan[c] < 0 && lacking(f, "inputs", in_names[c], f->in[c], why, len))
            return -1;
    }
    for (uint32_t t = 0; t < f->n_steps; t++)
        for (uint32_t j = 0; j < f->n; j++)
            if (at2(f->in[IN_IN], t, j) > 0.0)
                return conf_fail(why, len,
                                 "malformed: inputs.in[%u][%u] = %g is positive (it "
                                 "sums the weights <= 0)",
                                 t, j, at2(f->in[IN_IN], t, j));
    if (f->chan[IN_EX] >= 0 && f->chan[IN_IN] >= 0 &&
        !((m->flags & SK_MODEL_SIGN_SPLIT) && f->chan[IN_EX] == 0 && f->chan[IN_IN] == 1))
        return conf_fail(why, len,
                         "model %s: channels ex and in must be channels 0 and 1 of a "
                         "SK_MODEL_SIGN_SPLIT model (the network splits weights by sign)",
                         m->name);
    return 0;
}

static int load_states(const json_t *root, nest_file_t *f, char *why, size_t len)
{
    const sk_model_t *m = f->m;
    const char *key;
    json_t *val;
    f->init = json_object_get(root, "initial_state");
    if (!json_is_object(f->init))
        return conf_fail(why, len, "malformed: missing \"initial_state\" object");
    json_object_foreach((json_t *)f->init, key, val)
    {
        char name[96];
        snprintf(name, sizeof name, "initial_state.%s", key);
        if (check_vector(val, f->n, name, why, len))
            return -1;
        if (sk_model_state_index(m, key) < 0 && lacking(f, "initial_state", key, val, why, len))
            return -1;
    }
    const json_t *expected = json_object_get(root, "expected");
    if (!json_is_object(expected))
        return conf_fail(why, len, "malformed: missing \"expected\" object");
    f->spikes = json_object_get(expected, "spikes");
    if (!f->spikes)
        return conf_fail(why, len, "malformed: missing expected.spikes");
    json_object_foreach((json_t *)expected, key, val)
    {
        char name[96];
        snprintf(name, sizeof name, "expected.%s", key);
        if (check_matrix(val, f->n_steps, f->n, name, why, len))
            return -1;
        if (strcmp(key, "spikes") == 0)
            continue;
        int k = sk_model_state_index(m, key);
        if (k < 0 && lacking(f, "expected", key, val, why, len))
            return -1;
        if (k >= 0) {
            f->ref[k] = val;
            f->exact[k] = strcmp(key, "refractory_steps_left") == 0;
        }
    }
    return 0;
}

static int load_nest(const json_t *root, const sk_model_t *m, nest_file_t *f, char *why, size_t len)
{
    memset(f, 0, sizeof *f);
    f->m = m;
    if (count(root, "n_neurons", &f->n, why, len) || count(root, "n_steps", &f->n_steps, why, len))
        return -1;
    if ((uint64_t)f->n * f->n_steps > 200000000u)
        return conf_fail(why, len, "too large: n_neurons * n_steps > 2e8");
    if (dnum(json_object_get(root, "dt"), &f->dt_ms) || !(f->dt_ms > 0.0) || !isfinite(f->dt_ms))
        return conf_fail(why, len, "malformed: \"dt\" must be a positive number (ms)");
    f->derived = json_object_get(root, "derived");
    if (f->derived && !json_is_object(f->derived))
        return conf_fail(why, len, "malformed: \"derived\" must be an object");
    return load_params(root, f, why, len) || load_inputs(root, f, why, len) ||
                   load_states(root, f, why, len)
               ? -1
               : 0;
}

/* Compares derived.<name> with the model's derived constant of that name, where it has one. */
static int check_derived(const nest_file_t *f, const double *d, nest_result_t *r, char *why,
                         size_t len)
{
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)f->derived, key, val)
    {
        double want;
        uint32_t k = 0;
        while (k < f->m->n_derived && strcmp(f->m->derived[k], key) != 0)
            k++;
        if (k == f->m->n_derived || dnum(val, &want))
            continue; /* information only (null: not defined for this model) */
        if ((double)d[k] != want)
            return conf_fail(why, len, "derived.%s: model %s derives %.9g, the file says %.17g",
                             key, f->m->name, (double)d[k], want);
        r->derived_checked++;
    }
    return 0;
}

static void compare_step(const nest_file_t *f, uint32_t t, float *const *s, const uint8_t *spiked,
                         nest_result_t *r)
{
    for (uint32_t j = 0; j < f->n; j++) {
        double want = at2(f->spikes, t, j);
        r->spikes_ref += want > 0.0 ? (uint32_t)want : 0u;
        r->spikes_got += spiked[j];
        if ((double)spiked[j] != want && r->spike_mismatch++ == 0) {
            r->spike_step = t;
            r->spike_neuron = j;
            r->spike_want = want;
            r->spike_got = spiked[j];
        }
    }
    for (uint32_t k = 0; k < f->m->n_state; k++) {
        if (!f->ref[k])
            continue;
        /* a float64 variable is its float32 column plus its low part (SK_FIELD_LO_PART) */
        const int lo = sk_model_state_lo(f->m, k);
        for (uint32_t j = 0; j < f->n; j++) {
            double ref = at2(f->ref[k], t, j);
            double got = (double)s[k][j] + (lo >= 0 ? (double)s[lo][j] : 0.0);
            double d = fabs(got - ref);
            double scaled = d / (fabs(ref) > 1.0 ? fabs(ref) : 1.0);
            if (!(scaled <= r->max_scaled[k])) { /* also catches NaN */
                r->max_scaled[k] = scaled;
                r->worst_step[k] = t;
                r->worst_neuron[k] = j;
            }
            if (!(d <= r->max_abs[k]))
                r->max_abs[k] = d;
        }
    }
}

static int replay(const nest_file_t *f, nest_result_t *r, char *why, size_t len)
{
    const sk_model_t *m = f->m;
    const uint32_t n = f->n;
    int rc = -1;
    float *cols = calloc((size_t)(m->n_state + m->n_inputs) * n, sizeof(float));
    double *cols64 = calloc((size_t)m->n_inputs * n, sizeof(double));
    uint8_t *spiked = calloc(n, 1);
    if (!cols || !cols64 || !spiked) {
        conf_fail(why, len, "out of memory");
        goto done;
    }
    float *s[SK_MODEL_MAX_STATE], *in[SK_MODEL_MAX_INPUTS];
    double *in64[SK_MODEL_MAX_INPUTS];
    for (uint32_t k = 0; k < m->n_state; k++)
        s[k] = cols + (size_t)k * n;
    for (uint32_t c = 0; c < m->n_inputs; c++)
        in[c] = cols + (size_t)(m->n_state + c) * n;
    for (uint32_t c = 0; c < m->n_inputs; c++)
        in64[c] = cols64 + (size_t)c * n;
    const double dt = sk_model_dt(m, f->dt_ms);
    double d[SK_MODEL_MAX_DERIVED] = {0};
    m->derive(f->p, dt, d);
    if (check_derived(f, d, r, why, len))
        goto done;
    m->init(f->p, s, n);
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)f->init, key, val)
    {
        int k = sk_model_state_index(m, key);
        const int lo = k >= 0 ? sk_model_state_lo(m, (uint32_t)k) : -1;
        for (uint32_t j = 0; k >= 0 && j < n; j++) {
            const double x = json_number_value(json_array_get(val, j));
            s[k][j] = (float)x;
            if (lo >= 0) /* a float64 variable: the rest goes to its low part */
                s[lo][j] = (float)(x - (double)s[k][j]);
        }
    }
    sk_step_args_t a = {.n = n,
                        .dt = dt,
                        .p = f->p,
                        .d = d,
                        .s = s,
                        .in = (const float *const *)in,
                        .in64 = (const double *const *)in64,
                        .spiked = spiked};
    for (uint32_t t = 0; t < f->n_steps; t++) {
        for (int c = 0; c < N_IN; c++) {
            if (f->chan[c] < 0)
                continue;
            float *dst = in[f->chan[c]];
            double *dst64 = in64[f->chan[c]];
            for (uint32_t j = 0; j < n; j++) {
                double x = at2(f->in[c], t, j);
                dst64[j] = c == IN_IN ? 0.0 - x : x; /* in: the magnitude, >= 0 */
                dst[j] = (float)dst64[j];
            }
        }
        a.step = t;
        m->step(&a);
        compare_step(f, t, s, spiked, r);
    }
    rc = 0;
done:
    free(cols);
    free(cols64);
    free(spiked);
    return rc;
}

/* Writes the summary line; returns 1 if the replay met every rule, else 0 with *why set. */
static int verdict(const nest_file_t *f, const nest_result_t *r, char *line, size_t line_len,
                   char *why, size_t why_len)
{
    const sk_model_t *m = f->m;
    int ok = 1;
    size_t pos =
        (size_t)snprintf(line, line_len, "%s/nest %ux%u dt=%g ms spikes %u/%u  max|err|", m->name,
                         f->n, f->n_steps, f->dt_ms, r->spikes_got, r->spikes_ref);
    if (r->spike_mismatch) {
        ok = 0;
        snprintf(why, why_len,
                 "%u spike mismatches, first at step %ld neuron %ld (expected %g, "
                 "got %g)",
                 r->spike_mismatch, r->spike_step, r->spike_neuron, r->spike_want, r->spike_got);
    }
    for (uint32_t k = 0; k < m->n_state && pos < line_len; k++) {
        if (!f->ref[k])
            continue;
        const char *name = m->state[k].name;
        int bad = f->exact[k] ? !(r->max_abs[k] == 0.0) : !(r->max_scaled[k] <= CONF_TOL_REL);
        if (f->exact[k])
            pos += (size_t)snprintf(line + pos, line_len - pos, " %s=%.3g (exact)", name,
                                    r->max_abs[k]);
        else
            pos += (size_t)snprintf(line + pos, line_len - pos, " %s=%.3g (rel %.3g)", name,
                                    r->max_abs[k], r->max_scaled[k]);
        if (bad && ok) {
            ok = 0;
            snprintf(why, why_len,
                     "%s off by up to %.3g (relative %.3g, limit %s), worst at "
                     "step %ld neuron %ld",
                     name, r->max_abs[k], r->max_scaled[k], f->exact[k] ? "exact" : "1e-4",
                     r->worst_step[k], r->worst_neuron[k]);
        }
    }
    if (r->derived_checked && pos < line_len)
        pos +=
            (size_t)snprintf(line + pos, line_len - pos, "  derived %u exact", r->derived_checked);
    if (f->ignored[0] && pos < line_len)
        snprintf(line + pos, line_len - pos, "  not in the model, all zero: %s", f->ignored);
    return ok;
}

int conf_nest_replay(const json_t *root, const sk_model_t *m, char *line, size_t line_len,
                     char *why, size_t why_len)
{
    nest_file_t f;
    nest_result_t r;
    memset(&r, 0, sizeof r);
    if (load_nest(root, m, &f, why, why_len) || replay(&f, &r, why, why_len))
        return 0;
    return verdict(&f, &r, line, line_len, why, why_len);
}
