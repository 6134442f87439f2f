/* test_registry.c: the model registry and the descriptor tables (core/src/models/registry.c,
 * models.def, sk_model.h): every model is complete and consistent (unique names, units, table
 * bounds, defaults inside their ranges), lookups by name and index, range and finiteness
 * checks naming the parameter, the lif_ex/lif_adex exponent rule, dt conversion, and the
 * parameter names and defaults of the references (Norse *Parameters, BrainPy ALIFBellec2020;
 * Norse's `method`/`alpha` only choose a surrogate gradient and are not parameters here). */
#include <math.h>
#include <string.h>

#include <criterion/criterion.h>

#include "spiked/sk_model.h"

typedef struct {
    const char *name;
    double dflt;
} ref_param_t;

typedef struct {
    const char *model;
    const char *time_unit;
    const ref_param_t *params;
    uint32_t n_params;
    const char *const *state;
    uint32_t n_state;
    const char *v;
} ref_model_t;

/* clang-format off */
#define LIF_PARAMS                                                                                 \
    {"tau_syn_inv", 200.0}, {"tau_mem_inv", 100.0}, {"v_leak", 0.0}, {"v_th", 1.0},                \
    {"v_reset", 0.0}
/* clang-format on */

/* Norse LIFParameters (functional/lif.py L63-69) */
static const ref_param_t lif_p[] = {LIF_PARAMS};
/* Norse LIFRefracParameters(lif=LIFParameters(), rho_reset=5.0) */
static const ref_param_t lif_refrac_p[] = {LIF_PARAMS, {"rho_reset", 5.0}};
/* Norse LIFExParameters (functional/lif_ex.py L27-34) */
static const ref_param_t lif_ex_p[] = {{"delta_T", 0.5}, LIF_PARAMS};
/* Norse LIFAdExParameters (functional/lif_adex.py L35-45) */
static const ref_param_t lif_adex_p[] = {{"adaptation_current", 4.0},
                                         {"adaptation_spike", 0.02},
                                         {"delta_T", 0.5},
                                         {"tau_ada_inv", 2.0},
                                         LIF_PARAMS};
/* Norse CobaLIFParameters (functional/coba_lif.py L47-57) */
static const ref_param_t coba_lif_p[] = {
    {"tau_syn_exc_inv", 0.2}, {"tau_syn_inh_inv", 0.2}, {"c_m_inv", 5.0},  {"g_l", 0.25},
    {"e_rev_I", -100.0},      {"e_rev_E", 60.0},        {"v_rest", -20.0}, {"v_reset", -70.0},
    {"v_thresh", -10.0}};
/* Norse LSNNParameters (functional/lsnn.py L53-61) */
static const ref_param_t lsnn_p[] = {
    {"tau_syn_inv", 200.0}, {"tau_mem_inv", 100.0}, {"tau_adapt_inv", 1.0 / 800.0},
    {"v_leak", 0.0},        {"v_th", 1.0},          {"v_reset", 0.0},
    {"beta", 1.8}};
/* BrainPy ALIFBellec2020 constructor (reduced_models.py L1299-1326); tau_ref None -> 0 */
static const ref_param_t alif_p[] = {{"V_rest", -70.0}, {"V_th", -60.0}, {"R", 1.0},
                                     {"beta", 1.6},     {"tau", 20.0},   {"tau_a", 2000.0},
                                     {"tau_ref", 0.0}};

/* NEST's defaults (models/<model>.cpp Parameters_::Parameters_, nest-simulator @84b06d8), plus
 * the postsynaptic STDP trace time constant tau_minus (nestkernel/archiving_node.cpp) */
#define NEST_IAF_PARAMS                                                                            \
    {"E_L", -70.0}, {"C_m", 250.0}, {"tau_m", 10.0}, {"t_ref", 2.0}, {"V_th", -55.0},              \
    {"V_reset", -70.0}, {"I_e", 0.0}, {"tau_syn_ex", 2.0}, {"tau_syn_in", 2.0}, {"tau_minus", 20.0}
#define NEST_COND_PARAMS                                                                           \
    {"E_L", -70.0}, {"C_m", 250.0}, {"t_ref", 2.0}, {"V_th", -55.0}, {"V_reset", -60.0},           \
    {"E_ex", 0.0}, {"E_in", -85.0}, {"g_L", 16.6667}, {"I_e", 0.0}, {"tau_syn_ex", 0.2},           \
    {"tau_syn_in", 2.0}, {"tau_minus", 20.0}
static const ref_param_t iaf_psc_exp_p[] = {NEST_IAF_PARAMS};
static const ref_param_t iaf_psc_alpha_p[] = {NEST_IAF_PARAMS, {"V_min", -INFINITY}};
static const ref_param_t iaf_cond_p[] = {NEST_COND_PARAMS};
static const ref_param_t aeif_p[] = {
    {"C_m", 281.0},  {"Delta_T", 2.0},    {"E_L", -70.6},    {"E_ex", 0.0},     {"E_in", -85.0},
    {"I_e", 0.0},    {"V_peak", 0.0},     {"V_reset", -60.0}, {"V_th", -50.4},  {"a", 4.0},
    {"b", 80.5},     {"g_L", 30.0},       {"t_ref", 0.0},    {"tau_syn_ex", 0.2}, {"tau_syn_in", 2.0},
    {"tau_w", 144.0}, {"tau_minus", 20.0}};
static const ref_param_t izh_p[] = {{"a", 0.02},      {"b", 0.2},       {"c", -65.0},
                                    {"d", 8.0},       {"I_e", 0.0},     {"V_th", 30.0},
                                    {"V_min", -INFINITY}, {"consistent_integration", 1.0},
                                    {"tau_minus", 20.0}};
/* state: NEST's names, then the low-order float32 parts of the float64 variables */
static const char *const st_psc_exp[] = {"V_m", "I_syn_ex", "I_syn_in", "I_stim",
                                         "refractory_steps_left", "V_m_lo", "I_syn_ex_lo",
                                         "I_syn_in_lo", "I_stim_lo", "refractory_steps_left_lo"};
static const char *const st_psc_alpha[] = {
    "V_m",    "I_syn_ex",    "dI_syn_ex",    "I_syn_in",    "dI_syn_in",    "I_stim",
    "refractory_steps_left", "V_m_lo", "I_syn_ex_lo", "dI_syn_ex_lo", "I_syn_in_lo",
    "dI_syn_in_lo", "I_stim_lo", "refractory_steps_left_lo"};
static const char *const st_cond_exp[] = {"V_m", "g_ex", "g_in", "I_stim", "refractory_steps_left",
                                          "V_m_lo", "g_ex_lo", "g_in_lo", "I_stim_lo", "refractory_steps_left_lo"};
static const char *const st_cond_alpha[] = {
    "V_m", "dg_ex", "g_ex", "dg_in", "g_in", "I_stim", "refractory_steps_left",
    "V_m_lo", "dg_ex_lo", "g_ex_lo", "dg_in_lo", "g_in_lo", "I_stim_lo", "refractory_steps_left_lo"};
static const char *const st_aeif[] = {"V_m", "g_ex", "g_in", "w", "I_stim", "refractory_steps_left",
                                      "V_m_lo", "g_ex_lo", "g_in_lo", "w_lo", "I_stim_lo", "refractory_steps_left_lo"};
static const char *const st_izh[] = {"V_m", "U_m", "I_stim", "V_m_lo", "U_m_lo", "I_stim_lo"};

static const char *const st_vi[] = {"v", "i"};
static const char *const st_vir[] = {"v", "i", "rho"};
static const char *const st_via[] = {"v", "i", "a"};
static const char *const st_coba[] = {"v", "g_e", "g_i"};
static const char *const st_vib[] = {"v", "i", "b"};
static const char *const st_alif[] = {"V", "a", "t_last_spike"};

#define N(a) ((uint32_t)(sizeof(a) / sizeof((a)[0])))

static const ref_model_t refs[] = {
    {"lif", "s", lif_p, N(lif_p), st_vi, N(st_vi), "v"},
    {"lif_refrac", "s", lif_refrac_p, N(lif_refrac_p), st_vir, N(st_vir), "v"},
    {"lif_ex", "s", lif_ex_p, N(lif_ex_p), st_vi, N(st_vi), "v"},
    {"lif_adex", "s", lif_adex_p, N(lif_adex_p), st_via, N(st_via), "v"},
    {"coba_lif", "s", coba_lif_p, N(coba_lif_p), st_coba, N(st_coba), "v"},
    {"lsnn", "s", lsnn_p, N(lsnn_p), st_vib, N(st_vib), "v"},
    {"alif_bellec2020", "ms", alif_p, N(alif_p), st_alif, N(st_alif), "V"},
    {"iaf_psc_exp", "ms", iaf_psc_exp_p, N(iaf_psc_exp_p), st_psc_exp, N(st_psc_exp), "V_m"},
    {"iaf_psc_alpha", "ms", iaf_psc_alpha_p, N(iaf_psc_alpha_p), st_psc_alpha, N(st_psc_alpha),
     "V_m"},
    {"iaf_cond_exp", "ms", iaf_cond_p, N(iaf_cond_p), st_cond_exp, N(st_cond_exp), "V_m"},
    {"iaf_cond_alpha", "ms", iaf_cond_p, N(iaf_cond_p), st_cond_alpha, N(st_cond_alpha), "V_m"},
    {"aeif_cond_exp", "ms", aeif_p, N(aeif_p), st_aeif, N(st_aeif), "V_m"},
    {"izhikevich", "ms", izh_p, N(izh_p), st_izh, N(st_izh), "V_m"},
};

static int nonempty(const char *s)
{
    return s && s[0];
}

/* Models without dynamics (input layers such as spike_source): no parameters, state or
 * input channels. */
static int input_layer(const sk_model_t *m)
{
    return m->n_state == 0;
}

Test(registry, registers_the_seed_and_nest_models_and_the_spike_source)
{
    cr_assert_eq(sk_model_count(), N(refs) + 1);
    const sk_model_t *src = sk_model_find("spike_source");
    cr_assert_not_null(src);
    cr_expect(input_layer(src));
    for (uint32_t k = 0; k < N(refs); k++) {
        const sk_model_t *m = sk_model_find(refs[k].model);
        cr_assert_not_null(m, "%s missing", refs[k].model);
        cr_expect_str_eq(m->name, refs[k].model);
    }
    for (uint32_t k = 0; k < sk_model_count(); k++)
        cr_expect_eq(sk_model_find(sk_model_at(k)->name), sk_model_at(k));
}

Test(registry, find_and_at_reject_unknown_null_and_out_of_range)
{
    cr_expect_null(sk_model_find(NULL));
    cr_expect_null(sk_model_find(""));
    cr_expect_null(sk_model_find("LIF"));
    cr_expect_null(sk_model_find("lif "));
    cr_expect_null(sk_model_find("li"));
    cr_expect_null(sk_model_find("hodgkin_huxley"));
    cr_expect_null(sk_model_at(sk_model_count()));
    cr_expect_null(sk_model_at(UINT32_MAX));
    cr_expect_not_null(sk_model_at(0));
}

static void check_table(const sk_model_t *m, const sk_field_t *f, uint32_t n, const char *what)
{
    for (uint32_t k = 0; k < n; k++) {
        cr_expect(nonempty(f[k].name), "%s: %s %u has no name", m->name, what, k);
        cr_expect(nonempty(f[k].unit), "%s.%s has no unit", m->name, f[k].name);
        cr_expect(nonempty(f[k].doc), "%s.%s has no doc", m->name, f[k].name);
        cr_expect_eq(f[k].flags & ~(SK_FIELD_LO_OPEN | SK_FIELD_HI_OPEN | SK_FIELD_INF_OK |
                                     SK_FIELD_LO_PART),
                     0u);
        for (uint32_t j = 0; j < k; j++)
            cr_expect(strcmp(f[j].name, f[k].name) != 0, "%s: %s %s twice", m->name, what,
                      f[k].name);
    }
}

Test(registry, every_descriptor_is_complete_and_within_the_table_bounds)
{
    for (uint32_t k = 0; k < sk_model_count(); k++) {
        const sk_model_t *m = sk_model_at(k);
        cr_assert_not_null(m);
        cr_assert(nonempty(m->name));
        for (uint32_t j = 0; j < k; j++)
            cr_expect(strcmp(sk_model_at(j)->name, m->name) != 0, "%s registered twice", m->name);
        cr_expect(nonempty(m->summary), "%s: summary", m->name);
        cr_expect(nonempty(m->reference), "%s: reference", m->name);
        cr_assert(nonempty(m->time_unit));
        if (strcmp(m->time_unit, "s") == 0)
            cr_expect_eq(m->time_scale, 1e-3, "%s", m->name);
        else if (strcmp(m->time_unit, "ms") == 0)
            cr_expect_eq(m->time_scale, 1.0, "%s", m->name);
        else
            cr_expect_fail("%s: unknown time unit %s", m->name, m->time_unit);
        if (input_layer(m)) {
            cr_expect(m->n_params == 0 && m->n_inputs == 0 && m->n_derived == 0, "%s", m->name);
            cr_expect(m->derive && m->init && m->step, "%s: functions", m->name);
            continue;
        }
        cr_expect(m->n_params >= 1 && m->n_params <= SK_MODEL_MAX_PARAMS, "%s", m->name);
        cr_expect(m->n_state >= 1 && m->n_state <= SK_MODEL_MAX_STATE, "%s", m->name);
        cr_expect(m->n_inputs >= 1 && m->n_inputs <= SK_MODEL_MAX_INPUTS, "%s", m->name);
        cr_expect_leq(m->n_derived, SK_MODEL_MAX_DERIVED, "%s", m->name);
        cr_expect_lt(m->v_index, m->n_state, "%s", m->name);
        cr_expect_eq(m->flags & ~(SK_MODEL_SIGN_SPLIT | SK_MODEL_NO_REFRAC), 0u,
                     "%s: unknown flags", m->name);
        if (m->flags & SK_MODEL_SIGN_SPLIT)
            cr_expect_geq(m->n_inputs, 2u, "%s: a sign split needs two channels", m->name);
        cr_expect(m->current_input < (int32_t)m->n_inputs, "%s: current_input", m->name);
        cr_assert(m->params && m->state && m->inputs, "%s: tables", m->name);
        cr_assert(m->derive && m->init && m->step, "%s: functions", m->name);
        cr_expect(m->n_derived == 0 || m->derived, "%s: derived names", m->name);
        check_table(m, m->params, m->n_params, "parameter");
        check_table(m, m->state, m->n_state, "state variable");
        for (uint32_t c = 0; c < m->n_inputs; c++) {
            cr_expect(nonempty(m->inputs[c]), "%s: input %u", m->name, c);
            for (uint32_t j = 0; j < c; j++)
                cr_expect(strcmp(m->inputs[j], m->inputs[c]) != 0);
        }
        for (uint32_t d = 0; d < m->n_derived; d++) {
            cr_expect(nonempty(m->derived[d]), "%s: derived %u", m->name, d);
            for (uint32_t j = 0; j < d; j++)
                cr_expect(strcmp(m->derived[j], m->derived[d]) != 0);
        }
    }
}

Test(registry, defaults_lie_inside_their_own_ranges)
{
    for (uint32_t k = 0; k < sk_model_count(); k++) {
        const sk_model_t *m = sk_model_at(k);
        double p[SK_MODEL_MAX_PARAMS];
        sk_model_defaults(m, p);
        sk_err_t err = {0};
        cr_expect_eq(sk_model_check_params(m, p, &err), 0, "%s: default %s rejected: %s", m->name,
                     err.path, err.msg);
        for (uint32_t j = 0; j < m->n_params; j++) {
            const sk_field_t *f = &m->params[j];
            cr_expect(f->lo <= f->hi, "%s.%s: empty range", m->name, f->name);
            cr_expect(isfinite(f->dflt) || (f->flags & SK_FIELD_INF_OK), "%s.%s", m->name,
                      f->name);
            cr_expect_eq(sk_field_check(f, f->dflt, NULL), 0, "%s.%s", m->name, f->name);
        }
    }
}

Test(registry, defaults_write_every_parameter_and_nothing_more)
{
    for (uint32_t k = 0; k < sk_model_count(); k++) {
        const sk_model_t *m = sk_model_at(k);
        double p[SK_MODEL_MAX_PARAMS + 1];
        for (uint32_t j = 0; j <= SK_MODEL_MAX_PARAMS; j++)
            p[j] = -12345.0f;
        sk_model_defaults(m, p);
        for (uint32_t j = 0; j < m->n_params; j++)
            cr_expect_eq(p[j], m->params[j].dflt);
        for (uint32_t j = m->n_params; j <= SK_MODEL_MAX_PARAMS; j++)
            cr_expect_eq(p[j], -12345.0f, "%s wrote p[%u]", m->name, j);
    }
}

Test(registry, index_lookups_find_every_field_and_reject_unknown_names)
{
    for (uint32_t k = 0; k < sk_model_count(); k++) {
        const sk_model_t *m = sk_model_at(k);
        for (uint32_t j = 0; j < m->n_params; j++)
            cr_expect_eq(sk_model_param_index(m, m->params[j].name), (int)j);
        for (uint32_t j = 0; j < m->n_state; j++)
            cr_expect_eq(sk_model_state_index(m, m->state[j].name), (int)j);
        for (uint32_t j = 0; j < m->n_inputs; j++)
            cr_expect_eq(sk_model_input_index(m, m->inputs[j]), (int)j);
        const char *bad[] = {"", "nope", "V_TH", "tau_mem_inv "};
        for (unsigned b = 0; b < 4; b++) {
            cr_expect_eq(sk_model_param_index(m, bad[b]), SK_ENOENT, "%s: %s", m->name, bad[b]);
            cr_expect_eq(sk_model_state_index(m, bad[b]), SK_ENOENT);
            cr_expect_eq(sk_model_input_index(m, bad[b]), SK_ENOENT);
        }
        cr_expect_eq(sk_model_param_index(m, NULL), SK_ENOENT);
        cr_expect_eq(sk_model_state_index(m, NULL), SK_ENOENT);
        cr_expect_eq(sk_model_input_index(m, NULL), SK_ENOENT);
        /* the tables are separate namespaces: a state name is not a parameter */
        if (!input_layer(m))
            cr_expect_eq(sk_model_param_index(m, m->state[m->v_index].name), SK_ENOENT, "%s",
                         m->name);
    }
}

static void expect_rejected(const sk_model_t *m, uint32_t j, double value)
{
    double p[SK_MODEL_MAX_PARAMS];
    sk_model_defaults(m, p);
    p[j] = value;
    sk_err_t err;
    memset(&err, 0, sizeof err);
    int rc = sk_model_check_params(m, p, &err);
    cr_expect_eq(rc, SK_ERANGE, "%s.%s = %g accepted", m->name, m->params[j].name, (double)value);
    cr_expect_eq(err.code, SK_ERANGE);
    cr_expect_str_eq(err.path, m->params[j].name, "%s: path '%s' for %s = %g", m->name, err.path,
                     m->params[j].name, (double)value);
    cr_expect(nonempty(err.msg), "%s.%s: no message", m->name, m->params[j].name);
    cr_expect_eq(sk_model_check_params(m, p, NULL), SK_ERANGE, "err == NULL must work");
    cr_expect_eq(sk_field_check(&m->params[j], value, NULL), SK_ERANGE);
}

/* Just outside each finite bound, an open bound itself, NaN and +-inf: SK_ERANGE, err.path =
 * the parameter, a message. A closed bound itself passes the per-field check. */
Test(registry, out_of_range_and_non_finite_parameters_are_rejected_naming_the_parameter)
{
    uint32_t checked = 0;
    for (uint32_t k = 0; k < sk_model_count(); k++) {
        const sk_model_t *m = sk_model_at(k);
        for (uint32_t j = 0; j < m->n_params; j++) {
            const sk_field_t *f = &m->params[j];
            expect_rejected(m, j, NAN);
            expect_rejected(m, j, INFINITY);
            if ((f->flags & SK_FIELD_INF_OK) && f->lo == -INFINITY) /* NEST's V_min = -inf */
                cr_expect_eq(sk_field_check(f, -INFINITY, NULL), 0, "%s.%s", m->name, f->name);
            else
                expect_rejected(m, j, -INFINITY);
            if (isfinite(f->lo)) {
                expect_rejected(m, j, nextafter(f->lo, -INFINITY));
                if (f->flags & SK_FIELD_LO_OPEN)
                    expect_rejected(m, j, f->lo);
                else
                    cr_expect_eq(sk_field_check(f, f->lo, NULL), 0, "%s.%s = lo", m->name, f->name);
                checked++;
            }
            if (isfinite(f->hi)) {
                expect_rejected(m, j, nextafter(f->hi, INFINITY));
                if (f->flags & SK_FIELD_HI_OPEN)
                    expect_rejected(m, j, f->hi);
                else
                    cr_expect_eq(sk_field_check(f, f->hi, NULL), 0, "%s.%s = hi", m->name, f->name);
                checked++;
            }
        }
    }
    cr_expect_gt(checked, 50u);
}

Test(registry, field_check_message_names_the_range_and_value)
{
    const sk_model_t *m = sk_model_find("lif");
    int j = sk_model_param_index(m, "tau_mem_inv");
    sk_err_t err;
    cr_assert_eq(sk_field_check(&m->params[j], -1.0f, &err), SK_ERANGE);
    cr_expect_str_eq(err.path, "tau_mem_inv");
    cr_expect(strstr(err.msg, "-1") != NULL, "message: %s", err.msg);
    cr_expect(strstr(err.msg, "1/s") != NULL, "message: %s", err.msg);
    cr_assert_eq(sk_field_check(&m->params[j], NAN, &err), SK_ERANGE);
    cr_expect_str_eq(err.path, "tau_mem_inv");
    cr_expect(nonempty(err.msg));
    /* non-finite values are rejected even by a field whose range is unbounded */
    const sk_field_t open = {"x", "1", 0.0f, -INFINITY, INFINITY, 0u, "unbounded"};
    cr_expect_eq(sk_field_check(&open, 1e30f, NULL), 0);
    cr_expect_eq(sk_field_check(&open, INFINITY, &err), SK_ERANGE);
    cr_expect_str_eq(err.path, "x");
    cr_expect_eq(sk_field_check(&open, -INFINITY, NULL), SK_ERANGE);
    cr_expect_eq(sk_field_check(&open, NAN, NULL), SK_ERANGE);
}

/* exp((v - v_th)/delta_T) right after a reset: (v_reset - v_th)/delta_T > 80 is rejected,
 * naming v_reset; 80 itself passes. Models without the exponential have no such rule. */
Test(registry, lif_ex_and_lif_adex_reject_an_exponent_above_80_after_reset_naming_v_reset)
{
    const char *names[] = {"lif_ex", "lif_adex"};
    for (int k = 0; k < 2; k++) {
        const sk_model_t *m = sk_model_find(names[k]);
        double p[SK_MODEL_MAX_PARAMS];
        sk_model_defaults(m, p);
        const int vr = sk_model_param_index(m, "v_reset"), dT = sk_model_param_index(m, "delta_T");
        sk_err_t err;
        p[vr] = 41.0f; /* (41 - 1)/0.5 = 80 */
        cr_expect_eq(sk_model_check_params(m, p, &err), 0, "%s: %s", names[k], err.msg);
        p[vr] = 41.5f; /* 81 */
        memset(&err, 0, sizeof err);
        cr_expect_eq(sk_model_check_params(m, p, &err), SK_ERANGE, "%s", names[k]);
        cr_expect_str_eq(err.path, "v_reset");
        cr_expect(nonempty(err.msg));
        p[vr] = 1.81f; /* 0.81/0.01 = 81: a small delta_T */
        p[dT] = 0.01f;
        cr_expect_eq(sk_model_check_params(m, p, &err), SK_ERANGE, "%s", names[k]);
        cr_expect_str_eq(err.path, "v_reset");
        p[vr] = -1000.0f; /* far below v_th: fine */
        cr_expect_eq(sk_model_check_params(m, p, NULL), 0);
    }
    const sk_model_t *lif = sk_model_find("lif");
    double p[SK_MODEL_MAX_PARAMS];
    sk_model_defaults(lif, p);
    p[sk_model_param_index(lif, "v_reset")] = 41.5f;
    cr_expect_eq(sk_model_check_params(lif, p, NULL), 0);
}

Test(registry, model_dt_converts_milliseconds_to_the_model_time_unit)
{
    for (uint32_t k = 0; k < sk_model_count(); k++) {
        const sk_model_t *m = sk_model_at(k);
        if (strcmp(m->time_unit, "s") == 0) {
            cr_expect_eq((float)sk_model_dt(m, 1.0), 0.001f, "%s", m->name);
            cr_expect_eq((float)sk_model_dt(m, 0.5), 0.0005f, "%s", m->name);
            /* rounded once from double: 0.1 ms is 1e-4f, not 0.1f * 0.001f = 1.00000005e-4 */
            cr_expect_eq((float)sk_model_dt(m, 0.1), (float)1e-4, "%s", m->name);
            cr_expect_neq((float)sk_model_dt(m, 0.1), 0.1f * 0.001f);
        } else {
            cr_expect_eq((float)sk_model_dt(m, 0.1), 0.1f, "%s", m->name);
            cr_expect_eq((float)sk_model_dt(m, 1.0), 1.0f, "%s", m->name);
        }
    }
    cr_expect_str_eq(sk_model_find("alif_bellec2020")->time_unit, "ms");
}

Test(registry, parameter_and_state_names_and_defaults_match_the_reference)
{
    for (uint32_t k = 0; k < N(refs); k++) {
        const ref_model_t *r = &refs[k];
        const sk_model_t *m = sk_model_find(r->model);
        cr_assert_not_null(m);
        cr_expect_str_eq(m->time_unit, r->time_unit, "%s", r->model);
        cr_expect_eq(m->n_params, r->n_params, "%s: %u parameters", r->model, m->n_params);
        for (uint32_t j = 0; j < r->n_params; j++) {
            int idx = sk_model_param_index(m, r->params[j].name);
            cr_expect_geq(idx, 0, "%s lacks %s", r->model, r->params[j].name);
            if (idx >= 0)
                cr_expect_eq(m->params[idx].dflt, r->params[j].dflt,
                             "%s.%s default %.9g, reference %.9g", r->model, r->params[j].name,
                             (double)m->params[idx].dflt, r->params[j].dflt);
        }
        cr_expect_eq(m->n_state, r->n_state, "%s", r->model);
        for (uint32_t j = 0; j < r->n_state; j++)
            cr_expect_geq(sk_model_state_index(m, r->state[j]), 0, "%s lacks state %s", r->model,
                          r->state[j]);
        cr_expect_str_eq(m->state[m->v_index].name, r->v, "%s: v_index", r->model);
        if (!(m->flags & SK_MODEL_SIGN_SPLIT)) {
            cr_expect_eq(m->n_inputs, 1u, "%s", r->model);
            cr_expect_str_eq(m->inputs[0], "current", "%s", r->model);
        } else if (strcmp(r->time_unit, "ms") == 0) { /* NEST's: receptor by the weight's sign */
            cr_expect_eq(m->n_inputs, 3u, "%s", r->model);
            cr_expect_str_eq(m->inputs[2], "current", "%s", r->model);
            cr_expect_eq(m->current_input, 2, "%s", r->model);
            cr_expect(m->flags & SK_MODEL_NO_REFRAC, "%s", r->model);
        }
    }
}

/* derive writes exactly n_derived finite constants; init writes every state column for
 * exactly n neurons; step writes n spike flags and n values per column, nothing beyond. */
Test(registry, derive_init_and_step_write_exactly_their_outputs)
{
    enum { n = 5 };
    const float sentinel = -7777.0f;
    for (uint32_t k = 0; k < sk_model_count(); k++) {
        const sk_model_t *m = sk_model_at(k);
        double p[SK_MODEL_MAX_PARAMS];
        double d[SK_MODEL_MAX_DERIVED + 1];
        sk_model_defaults(m, p);
        for (uint32_t j = 0; j <= SK_MODEL_MAX_DERIVED; j++)
            d[j] = sentinel;
        const double dt = sk_model_dt(m, strcmp(m->time_unit, "s") == 0 ? 1.0 : 0.1);
        m->derive(p, dt, d);
        for (uint32_t j = 0; j < m->n_derived; j++)
            cr_expect(isfinite(d[j]) && d[j] != sentinel, "%s: %s", m->name, m->derived[j]);
        for (uint32_t j = m->n_derived; j <= SK_MODEL_MAX_DERIVED; j++)
            cr_expect_eq(d[j], sentinel, "%s: derive wrote d[%u]", m->name, j);

        float cols[SK_MODEL_MAX_STATE][n + 1], incol[SK_MODEL_MAX_INPUTS][n + 1];
        float *s[SK_MODEL_MAX_STATE];
        const float *in[SK_MODEL_MAX_INPUTS];
        for (uint32_t c = 0; c < SK_MODEL_MAX_STATE; c++) {
            for (uint32_t i = 0; i <= n; i++)
                cols[c][i] = sentinel;
            s[c] = cols[c];
        }
        for (uint32_t c = 0; c < SK_MODEL_MAX_INPUTS; c++) {
            for (uint32_t i = 0; i <= n; i++)
                incol[c][i] = i < n ? 0.5f : sentinel;
            in[c] = incol[c];
        }
        m->init(p, s, n);
        for (uint32_t c = 0; c < m->n_state; c++) {
            for (uint32_t i = 0; i < n; i++)
                cr_expect(isfinite(cols[c][i]) && cols[c][i] != sentinel, "%s: init %s[%u]",
                          m->name, m->state[c].name, i);
            cr_expect_eq(cols[c][n], sentinel, "%s: init wrote past n", m->name);
        }
        uint8_t spiked[n + 1];
        memset(spiked, 0xAA, sizeof spiked);
        sk_step_args_t a = {.n = n,
                            .step = 0,
                            .dt = dt,
                            .p = p,
                            .d = d,
                            .s = s,
                            .in = in,
                            .spiked = spiked,
                            .refrac = NULL,
                            .refrac_steps = 0};
        m->step(&a);
        for (uint32_t i = 0; i < n; i++)
            cr_expect(spiked[i] == 0 || spiked[i] == 1, "%s: spiked[%u] = %u", m->name, i,
                      spiked[i]);
        cr_expect_eq(spiked[n], 0xAA, "%s: step wrote past n", m->name);
        for (uint32_t c = 0; c < m->n_state; c++)
            cr_expect_eq(cols[c][n], sentinel, "%s: step wrote %s past n", m->name,
                         m->state[c].name);
    }
}

Test(registry, exponential_models_reject_a_huge_delta_t_that_overflows_after_reset)
{
    const char *names[] = {"lif_ex", "lif_adex"};
    for (int k = 0; k < 2; k++) {
        const sk_model_t *m = sk_model_find(names[k]);
        double p[SK_MODEL_MAX_PARAMS];
        sk_model_defaults(m, p);
        p[sk_model_param_index(m, "delta_T")] = 1e4f;
        p[sk_model_param_index(m, "v_th")] = 0.0f;
        p[sk_model_param_index(m, "v_reset")] = 8e5f; /* exponent 80 is fine; 1e4 * e^80 is not */
        sk_err_t err;
        cr_expect_eq(sk_model_check_params(m, p, &err), SK_ERANGE, "%s", names[k]);
        cr_expect_str_eq(err.path, "v_reset");
    }
}
