/* test_runner_nest.c: spiked-conformance on the NEST format (nest.c, runner.c), before the NEST
 * models exist. A throw-away iaf_psc_exp, written here from golden-nest/README.md ("Step
 * semantics": double arithmetic, float state), stands in for the model; it is handed to the
 * runner through conf_run_file's lookup and never enters the registry.
 *
 * Checked: the two shipped iaf_psc_exp vectors pass through it, and the runner fails copies of
 * them with one spike flipped, one state value off by 1e-3 relative, a refractory count off by
 * one, an unknown parameter, a nonzero variable the model lacks, a wrong shape, a positive
 * "in", truncated JSON, an unknown model and a network file; a change of 1e-6 relative still
 * passes. Parameter conversion (booleans, "inf", DBL_MAX) is checked on nest.c's own helper,
 * which is why nest.c is included rather than linked (h2o's habit).
 */
#define _POSIX_C_SOURCE 200809L /* mkstemp */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "nest.c"

#ifndef SK_GOLDEN_NEST_DIR
#define SK_GOLDEN_NEST_DIR "tests/conformance/golden-nest"
#endif

/* ---- the stand-in model: NEST's iaf_psc_exp, as golden-nest/README.md transcribes it ---- */

enum { P_C_M, P_E_L, P_I_E, P_V_RESET, P_V_TH, P_T_REF, P_TAU_M, P_TAU_EX, P_TAU_IN };
enum { S_V_M, S_I_EX, S_I_IN, S_REFR, S_I_STIM };
enum { D_P11EX, D_P11IN, D_P22, D_P21EX, D_P21IN, D_P20, D_COUNTS };

static const sk_field_t fake_params[] = {
    {"C_m", "pF", 250.0f, 0.0f, 1e9f, SK_FIELD_LO_OPEN, "membrane capacitance"},
    {"E_L", "mV", -70.0f, -1e6f, 1e6f, 0, "resting potential"},
    {"I_e", "pA", 0.0f, -1e9f, 1e9f, 0, "constant input current"},
    {"V_reset", "mV", -70.0f, -1e6f, 1e6f, 0, "reset potential"},
    {"V_th", "mV", -55.0f, -1e6f, 1e6f, 0, "threshold"},
    {"t_ref", "ms", 2.0f, 0.0f, 1e6f, 0, "refractory period"},
    {"tau_m", "ms", 10.0f, 0.0f, 1e6f, SK_FIELD_LO_OPEN, "membrane time constant"},
    {"tau_syn_ex", "ms", 2.0f, 0.0f, 1e6f, SK_FIELD_LO_OPEN, "excitatory synaptic time constant"},
    {"tau_syn_in", "ms", 2.0f, 0.0f, 1e6f, SK_FIELD_LO_OPEN, "inhibitory synaptic time constant"},
};
static const sk_field_t fake_state[] = {
    {"V_m", "mV", 0.0f, -INFINITY, INFINITY, 0, "membrane potential"},
    {"I_syn_ex", "pA", 0.0f, -INFINITY, INFINITY, 0, "excitatory synaptic current"},
    {"I_syn_in", "pA", 0.0f, -INFINITY, INFINITY, 0, "inhibitory synaptic current"},
    {"refractory_steps_left", "1", 0.0f, -INFINITY, INFINITY, 0, "refractory steps left"},
    {"I_stim", "pA", 0.0f, -INFINITY, INFINITY, 0, "current input of the step"},
};
static const char *const fake_inputs[] = {"ex", "in", "current"};
static const char *const fake_derived[] = {
    "P11ex", "P11in", "P22", "P21ex", "P21in", "P20", "refractory_counts"};

/* P21 of the README: gamma*exp(-h/tau_syn)*expm1(h*(1/tau_syn - 1/tau_m)), or the singular
 * value h/C_m*exp(-h/tau_m) where that is not a normal positive number. */
static double p21(double tau_syn, double tau_m, double c_m, double h)
{
    double gamma = tau_syn * tau_m / (tau_m - tau_syn) / c_m;
    double v = gamma * exp(-h / tau_syn) * expm1(h * (1.0 / tau_syn - 1.0 / tau_m));
    return isnormal(v) && v > 0.0 ? v : h / c_m * exp(-h / tau_m);
}

static void fake_derive(const double *p, double dt, double *d)
{
    double h = dt, tau_m = p[P_TAU_M], c_m = p[P_C_M];
    d[D_P11EX] = (float)exp(-h / p[P_TAU_EX]);
    d[D_P11IN] = (float)exp(-h / p[P_TAU_IN]);
    d[D_P22] = (float)exp(-h / tau_m);
    d[D_P21EX] = (float)p21(p[P_TAU_EX], tau_m, c_m, h);
    d[D_P21IN] = (float)p21(p[P_TAU_IN], tau_m, c_m, h);
    d[D_P20] = (float)(tau_m / c_m * -expm1(-h / tau_m));
    /* t_ref to tics (1000 per ms, rounded), then up to whole steps */
    long tics = (long)((double)p[P_T_REF] * 1000.0 + 0.5), step = (long)(h * 1000.0 + 0.5);
    d[D_COUNTS] = (float)((tics + step - 1) / step);
}

static void fake_init(const double *p, float *const *s, uint32_t n)
{
    for (uint32_t j = 0; j < n; j++) {
        s[S_V_M][j] = (float)p[P_E_L];
        s[S_I_EX][j] = s[S_I_IN][j] = s[S_REFR][j] = s[S_I_STIM][j] = 0.0f;
    }
}

static void fake_step(const sk_step_args_t *a)
{
    const double *p = a->p, *d = a->d;
    for (uint32_t j = 0; j < a->n; j++) {
        double v = (double)a->s[S_V_M][j] - p[P_E_L], i_ex = a->s[S_I_EX][j];
        double i_in = a->s[S_I_IN][j], r = a->s[S_REFR][j], i_0 = a->s[S_I_STIM][j];
        if (r == 0.0)
            v = v * d[D_P22] + i_ex * d[D_P21EX] + i_in * d[D_P21IN] +
                ((double)p[P_I_E] + i_0) * d[D_P20];
        else
            r -= 1.0;
        i_ex = i_ex * d[D_P11EX] + a->in[0][j];
        i_in = i_in * d[D_P11IN] - a->in[1][j]; /* channel 1 holds the magnitude */
        a->spiked[j] = v >= (double)p[P_V_TH] - p[P_E_L];
        if (a->spiked[j]) {
            r = d[D_COUNTS];
            v = (double)p[P_V_RESET] - p[P_E_L];
        }
        a->s[S_V_M][j] = (float)(v + p[P_E_L]);
        a->s[S_I_EX][j] = (float)i_ex;
        a->s[S_I_IN][j] = (float)i_in;
        a->s[S_REFR][j] = (float)r;
        a->s[S_I_STIM][j] = a->in[2][j];
    }
}

static const sk_model_t fake_iaf_psc_exp = {
    .name = "iaf_psc_exp",
    .summary = "test stand-in for NEST's iaf_psc_exp",
    .reference = "tests/conformance/golden-nest/README.md",
    .time_unit = "ms",
    .time_scale = 1.0,
    .flags = SK_MODEL_SIGN_SPLIT,
    .params = fake_params,
    .n_params = sizeof fake_params / sizeof fake_params[0],
    .state = fake_state,
    .n_state = sizeof fake_state / sizeof fake_state[0],
    .inputs = fake_inputs,
    .n_inputs = 3,
    .derived = fake_derived,
    .n_derived = sizeof fake_derived / sizeof fake_derived[0],
    .derive = fake_derive,
    .init = fake_init,
    .step = fake_step,
};

static const sk_model_t *fake_find(const char *name)
{
    return strcmp(name, "iaf_psc_exp") == 0 ? &fake_iaf_psc_exp : sk_model_find(name);
}

/* ---- helpers ---- */

static char g_line[1024], g_why[512];

static int run(const char *path)
{
    return conf_run_file(path, fake_find, g_line, sizeof g_line, g_why, sizeof g_why);
}

static json_t *load(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", SK_GOLDEN_NEST_DIR, name);
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    cr_assert_not_null(root, "%s: %s", path, err.text);
    return root;
}

/* Writes root (stolen) to a fresh temporary file; returns its path (static buffer). */
static const char *save(json_t *root)
{
    static char path[64];
    strcpy(path, "/tmp/sk_conf_nest_XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    cr_assert_eq(json_dump_file(root, path, JSON_COMPACT), 0);
    json_decref(root);
    return path;
}

static const char *save_text(const char *text)
{
    static char path[64];
    strcpy(path, "/tmp/sk_conf_nest_XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static json_t *cell(json_t *root, const char *section, const char *key, size_t t, size_t n)
{
    json_t *v =
        json_array_get(json_array_get(json_object_get(json_object_get(root, section), key), t), n);
    cr_assert_not_null(v, "%s.%s[%zu][%zu]", section, key, t, n);
    return v;
}

/* Sets a JSON number to x, keeping its type (integer or real). */
static void set_num(json_t *v, double x)
{
    if (json_is_integer(v))
        cr_assert_eq(json_integer_set(v, (json_int_t)x), 0);
    else
        cr_assert_eq(json_real_set(v, x), 0);
}

/* Runs a mutated copy of iaf_psc_exp.json; it must fail with a reason containing `want`. */
static void expect_fail(json_t *root, const char *want)
{
    const char *path = save(root);
    int ok = run(path);
    unlink(path);
    cr_expect_not(ok, "the runner passed a file it should fail: %s", g_line);
    cr_expect(strstr(g_why, want) != NULL, "reason \"%s\" lacks \"%s\"", g_why, want);
}

/* ---- the shipped vectors through the stand-in ---- */

Test(runner_nest, shipped_iaf_psc_exp_vectors_pass_with_every_spike_and_small_errors)
{
    static const char *const files[] = {"iaf_psc_exp.json", "iaf_psc_exp_random_init.json"};
    static const char *const spikes[] = {"spikes 78/78", "spikes 42/42"};
    for (int k = 0; k < 2; k++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", SK_GOLDEN_NEST_DIR, files[k]);
        cr_expect(run(path), "%s: %s -- %s", files[k], g_line, g_why);
        cr_log_info("%s: %s", files[k], g_line);
        cr_expect(strstr(g_line, spikes[k]) != NULL, "%s", g_line);
        cr_expect(strstr(g_line, "refractory_steps_left=0 (exact)") != NULL, "%s", g_line);
        cr_expect(strstr(g_line, "derived 1 exact") != NULL, "%s", g_line);
        for (const char *v = "V_m\0I_syn_ex\0I_syn_in\0"; *v; v += strlen(v) + 1) {
            char key[32];
            snprintf(key, sizeof key, " %s=", v);
            cr_expect(strstr(g_line, key) != NULL, "%s lacks %s", g_line, key);
        }
    }
}

Test(runner_nest, one_flipped_spike_fails_naming_its_step_and_neuron)
{
    json_t *root = load("iaf_psc_exp.json");
    /* a step where neuron 3 spikes in the reference, and one where neuron 0 does not */
    const json_t *sp = json_object_get(json_object_get(root, "expected"), "spikes");
    size_t t = 0;
    while (t < json_array_size(sp) &&
           json_number_value(cell(root, "expected", "spikes", t, 3)) == 0)
        t++;
    cr_assert(t < json_array_size(sp));
    json_t *copy = json_deep_copy(root);
    set_num(cell(root, "expected", "spikes", t, 3), 0.0);
    char want[96];
    snprintf(want, sizeof want, "1 spike mismatches, first at step %zu neuron 3", t);
    expect_fail(root, want);
    cr_assert_eq(json_number_value(cell(copy, "expected", "spikes", 5, 0)), 0.0);
    set_num(cell(copy, "expected", "spikes", 5, 0), 1.0);
    expect_fail(copy, "first at step 5 neuron 0 (expected 1, got 0)");
}

Test(runner_nest, one_state_value_off_by_1e_minus_3_relative_fails)
{
    json_t *root = load("iaf_psc_exp.json");
    json_t *copy = json_deep_copy(root);
    json_t *v = cell(root, "expected", "V_m", 123, 7);
    set_num(v, json_number_value(v) * (1.0 + 1e-3));
    expect_fail(root, "V_m off by up to");
    cr_expect(strstr(g_why, "worst at step 123 neuron 7") != NULL, "%s", g_why);
    /* a synaptic current: find a nonzero value */
    size_t t = 1;
    while (json_number_value(cell(copy, "expected", "I_syn_ex", t, 2)) == 0.0)
        t++;
    v = cell(copy, "expected", "I_syn_ex", t, 2);
    set_num(v, json_number_value(v) * (1.0 + 1e-3));
    char want[64];
    snprintf(want, sizeof want, "worst at step %zu neuron 2", t);
    expect_fail(copy, want);
}

Test(runner_nest, a_change_well_inside_the_tolerance_still_passes)
{
    json_t *root = load("iaf_psc_exp.json");
    json_t *v = cell(root, "expected", "V_m", 123, 7);
    set_num(v, json_number_value(v) * (1.0 + 1e-6));
    const char *path = save(root);
    cr_expect(run(path), "%s -- %s", g_line, g_why);
    unlink(path);
}

Test(runner_nest, refractory_count_is_compared_exactly)
{
    json_t *root = load("iaf_psc_exp.json");
    size_t t = 0;
    while (json_number_value(cell(root, "expected", "refractory_steps_left", t, 3)) == 0.0)
        t++;
    json_t *v = cell(root, "expected", "refractory_steps_left", t, 3);
    set_num(v, json_number_value(v) - 1.0);
    expect_fail(root, "refractory_steps_left off by up to 1 ");
}

Test(runner_nest, wrong_derived_refractory_count_fails)
{
    json_t *root = load("iaf_psc_exp.json");
    json_object_set_new(json_object_get(root, "derived"), "refractory_counts", json_integer(21));
    expect_fail(root, "derived.refractory_counts: model iaf_psc_exp derives 20");
}

/* ---- files the runner cannot replay are failures ---- */

Test(runner_nest, a_parameter_unknown_to_the_model_fails_naming_it)
{
    json_t *root = load("iaf_psc_exp.json");
    json_object_set_new(json_object_get(root, "params"), "tau_bogus", json_real(3.0));
    expect_fail(root, "params.tau_bogus: model iaf_psc_exp has no parameter of that name");
}

Test(runner_nest, gsl_error_tol_is_accepted_without_a_model_parameter)
{
    json_t *root = load("iaf_psc_exp.json");
    json_object_set_new(json_object_get(root, "params"), "gsl_error_tol", json_real(1e-6));
    const char *path = save(root);
    cr_expect(run(path), "%s -- %s", g_line, g_why);
    unlink(path);
}

Test(runner_nest, a_parameter_out_of_the_models_range_fails)
{
    json_t *root = load("iaf_psc_exp.json");
    json_object_set_new(json_object_get(root, "params"), "tau_m", json_real(-1.0));
    expect_fail(root, "params.tau_m rejected by model iaf_psc_exp");
}

Test(runner_nest, a_state_variable_the_model_lacks_passes_only_when_all_zero)
{
    json_t *root = load("iaf_psc_exp.json");
    json_t *zeros = json_array(), *ones = json_array();
    for (int j = 0; j < 16; j++) {
        json_array_append_new(zeros, json_real(0.0));
        json_array_append_new(ones, json_real(j == 9 ? 1.0 : 0.0));
    }
    json_t *copy = json_deep_copy(root);
    json_object_set_new(json_object_get(root, "initial_state"), "w", zeros);
    const char *path = save(root);
    cr_expect(run(path), "%s -- %s", g_line, g_why);
    cr_expect(strstr(g_line, "not in the model, all zero: w") != NULL, "%s", g_line);
    unlink(path);
    json_object_set_new(json_object_get(copy, "initial_state"), "w", ones);
    expect_fail(copy, "initial_state.w: model iaf_psc_exp has no state variable of that name");
}

Test(runner_nest, malformed_files_fail_naming_the_field)
{
    json_t *root = load("iaf_psc_exp.json");
    json_t *short_ex = json_deep_copy(root), *pos_in = json_deep_copy(root);
    json_t *no_spikes = json_deep_copy(root), *bad_in = json_deep_copy(root);
    json_array_remove(json_object_get(json_object_get(short_ex, "inputs"), "ex"), 399);
    expect_fail(short_ex, "malformed: inputs.ex must be an array of 400 rows");
    set_num(cell(pos_in, "inputs", "in", 10, 4), 5.0);
    expect_fail(pos_in, "inputs.in[10][4] = 5 is positive");
    json_object_del(json_object_get(no_spikes, "expected"), "spikes");
    expect_fail(no_spikes, "malformed: missing expected.spikes");
    json_object_set_new(json_object_get(bad_in, "inputs"), "inh", json_array());
    expect_fail(bad_in, "inputs.inh is not one of ex, in, current");
    json_object_set_new(root, "dt", json_string("0.1"));
    expect_fail(root, "\"dt\" must be a positive number");
}

Test(runner_nest, truncated_json_fails)
{
    const char *path = save_text("{\"model\": \"iaf_psc_exp\", \"inputs\": {\"ex\": [[1, 2]");
    cr_expect_not(run(path));
    cr_expect(strstr(g_why, "malformed JSON") != NULL, "%s", g_why);
    unlink(path);
}

Test(runner_nest, an_unknown_model_fails_and_lists_the_registry)
{
    json_t *root = load("iaf_psc_exp.json");
    json_object_set_new(root, "model", json_string("iaf_psc_delta_nonexistent"));
    expect_fail(root, "unknown model \"iaf_psc_delta_nonexistent\": no model of that name in the "
                      "registry (known: lif");
}

Test(runner_nest, a_malformed_network_file_is_a_failure_not_a_skip)
{
    const char *path = save_text("{\"kind\": \"network\", \"name\": \"stdp\", \"dt\": 0.1, "
                                 "\"n_steps\": 10, \"populations\": []}");
    cr_expect_not(run(path));
    cr_expect(strstr(g_why, "malformed: \"populations\"") != NULL, "%s", g_why);
    unlink(path);
}

Test(runner_nest, an_unknown_kind_is_a_failure)
{
    const char *path = save_text("{\"kind\": \"layered\", \"name\": \"x\"}");
    cr_expect_not(run(path));
    cr_expect(strstr(g_why, "known kinds: network") != NULL, "%s", g_why);
    unlink(path);
}

Test(runner_nest, parameter_values_map_booleans_and_infinities_exactly)
{
    char why[256];
    double f = 0.0;
    json_t *v = json_true();
    cr_expect_eq(param_value(v, "consistent_integration", &f, why, sizeof why), 0);
    cr_expect_eq(f, 1.0f);
    cr_expect_eq(param_value(json_false(), "consistent_integration", &f, why, sizeof why), 0);
    cr_expect_eq(f, 0.0f);
    json_t *s = json_string("-inf");
    cr_expect_eq(param_value(s, "V_min", &f, why, sizeof why), 0);
    cr_expect(isinf(f) && f < 0.0f);
    json_string_set(s, "inf");
    cr_expect_eq(param_value(s, "V_min", &f, why, sizeof why), 0);
    cr_expect(isinf(f) && f > 0.0f);
    json_t *x = json_real(-DBL_MAX);
    cr_expect_eq(param_value(x, "V_min", &f, why, sizeof why), 0);
    cr_expect(isinf(f) && f < 0.0f);
    json_real_set(x, DBL_MAX);
    cr_expect_eq(param_value(x, "V_min", &f, why, sizeof why), 0);
    cr_expect(isinf(f) && f > 0.0f);
    json_real_set(x, 1e39); /* parameters are double: the model's range check decides */
    cr_expect_eq(param_value(x, "V_th", &f, why, sizeof why), 0);
    cr_expect_eq(f, 1e39);
    json_string_set(s, "-70");
    cr_expect_neq(param_value(s, "E_L", &f, why, sizeof why), 0);
    cr_expect(strstr(why, "params.E_L is the string \"-70\"") != NULL, "%s", why);
    json_real_set(x, -70.6);
    cr_expect_eq(param_value(x, "E_L", &f, why, sizeof why), 0);
    cr_expect_eq(f, -70.6); /* exactly the file's double */
    json_decref(s);
    json_decref(x);
}
