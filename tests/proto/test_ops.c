/* test_ops.c: decoders of the per-session bodies: inputs, step, parameter patch, fork and
 * stimulus patch, against a hand-built network view. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "spiked/proto.h"
#include "view.h"

static int inputs(const char *text, sk_inject_t **out, uint32_t *n, sk_proto_error_t *e)
{
    sk_proto_net_view_t v = test_view();
    json_t *j = js(text);
    int rc = sk_proto_inputs_decode(j, &v, NULL, out, n, e);
    json_decref(j);
    return rc;
}

Test(ops, inputs_expand_to_one_record_per_neuron)
{
    sk_inject_t *inj = NULL;
    uint32_t n = 0;
    sk_proto_error_t e = {0};
    int rc = inputs("{\"inputs\": [{\"population\": \"inh\", \"kind\": \"current\", \"channel\": "
                    "\"g_i\", \"neurons\": [4, 0], \"values\": [1.5, -2], \"offset\": 3},"
                    "{\"population\": \"exc\", \"kind\": \"spike\", \"neurons\": [7], \"step\": 100},"
                    "{\"population\": \"inh\", \"kind\": \"current\", \"value\": 0.25}]}",
                    &inj, &n, &e);
    cr_assert(rc == 0, "%s: %s", e.path, e.message);
    cr_assert_eq(n, 2 + 1 + 5);
    cr_expect(inj[0].kind == SK_INJECT_CURRENT && inj[0].pop == 1 && inj[0].channel == 1 &&
              inj[0].neuron == 4 && inj[0].step == 103 && inj[0].value == 1.5f);
    cr_expect(inj[1].neuron == 0 && inj[1].value == -2.0f);
    cr_expect(inj[2].kind == SK_INJECT_SPIKE && inj[2].pop == 0 && inj[2].neuron == 7 &&
              inj[2].step == 100);
    for (uint32_t k = 0; k < 5; k++)
        cr_expect(inj[3 + k].neuron == k && inj[3 + k].value == 0.25f && inj[3 + k].channel == -1 &&
                  inj[3 + k].step == 100);
    free(inj);
}

Test(ops, bad_inputs_name_the_field)
{
    struct {
        const char *body, *path;
    } t[] = {
        {"{}", "inputs"},
        {"{\"inputs\": []}", "inputs"},
        {"{\"inputs\": [{\"population\": \"x\", \"kind\": \"spike\"}]}", "inputs[0].population"},
        {"{\"inputs\": [{\"population\": \"exc\", \"kind\": \"pulse\"}]}", "inputs[0].kind"},
        {"{\"inputs\": [{\"population\": \"exc\", \"kind\": \"spike\", \"neurons\": [1, 10]}]}",
         "inputs[0].neurons[1]"},
        {"{\"inputs\": [{\"population\": \"exc\", \"kind\": \"spike\", \"value\": 1}]}",
         "inputs[0].value"},
        {"{\"inputs\": [{\"population\": \"exc\", \"kind\": \"current\"}]}", "inputs[0].value"},
        {"{\"inputs\": [{\"population\": \"exc\", \"kind\": \"current\", \"neurons\": [1], "
         "\"values\": [1, 2]}]}",
         "inputs[0].values"},
        {"{\"inputs\": [{\"population\": \"exc\", \"kind\": \"current\", \"value\": 1, "
         "\"channel\": \"g_e\"}]}",
         "inputs[0].channel"},
        {"{\"inputs\": [{\"population\": \"exc\", \"kind\": \"spike\", \"step\": 99}]}",
         "inputs[0].step"},
        {"{\"inputs\": [{\"population\": \"exc\", \"kind\": \"spike\", \"step\": 101, "
         "\"offset\": 1}]}",
         "inputs[0].offset"},
        {"{\"inputs\": [{\"population\": \"exc\", \"kind\": \"spike\", \"when\": 1}]}",
         "inputs[0].when"},
        {"{\"inputs\": [{\"population\": \"exc\", \"kind\": \"current\", \"value\": 1e39}]}",
         "inputs[0].value"},
        {"{\"inputs\": [1]}", "inputs[0]"},
    };
    for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) {
        sk_inject_t *inj = NULL;
        uint32_t n = 0;
        sk_proto_error_t e = {0};
        cr_expect(inputs(t[k].body, &inj, &n, &e) < 0, "accepted %s", t[k].body);
        cr_expect_eq(e.status, 400, "%s", t[k].body);
        cr_expect_str_eq(e.path, t[k].path, "%s: %s", t[k].body, e.message);
        cr_expect_null(inj);
    }
}

Test(ops, inputs_are_capped)
{
    sk_proto_net_view_t v = test_view();
    sk_proto_caps_t caps = {.max_inputs = 9};
    json_t *j = js("{\"inputs\": [{\"population\": \"exc\", \"kind\": \"spike\"}]}");
    sk_inject_t *inj = NULL;
    uint32_t n;
    sk_proto_error_t e;
    cr_expect(sk_proto_inputs_decode(j, &v, &caps, &inj, &n, &e) < 0);
    cr_expect_eq(e.status, 413);
    caps.max_inputs = 10;
    cr_expect(sk_proto_inputs_decode(j, &v, &caps, &inj, &n, &e) == 0);
    cr_expect_eq(n, 10);
    free(inj);
    json_decref(j);
}

static int step(const char *text, sk_proto_step_t *s, sk_proto_error_t *e)
{
    sk_proto_net_view_t v = test_view();
    sk_proto_caps_t caps = {.max_steps = 1000};
    json_t *j = js(text);
    int rc = sk_proto_step_decode(j, &v, &caps, s, e);
    json_decref(j);
    return rc;
}

Test(ops, step_bodies)
{
    sk_proto_step_t s;
    sk_proto_error_t e;
    cr_assert(step("{\"steps\": 10}", &s, &e) == 0);
    cr_expect(s.steps == 10 && !s.return_spikes && !s.async && s.n_inputs == 0);
    cr_assert(step("{\"duration_ms\": 0.3, \"return_spikes\": true, \"async\": true}", &s, &e) == 0,
              "%s", e.message);
    cr_expect(s.steps == 3 && s.return_spikes && s.async);
    cr_assert(step("{\"steps\": 1, \"inputs\": [{\"population\": \"exc\", \"kind\": \"spike\", "
                   "\"neurons\": [2]}]}",
                   &s, &e) == 0);
    cr_expect(s.n_inputs == 1 && s.inputs[0].neuron == 2);
    sk_proto_step_close(&s);
    cr_expect_null(s.inputs);
    sk_proto_step_close(NULL);
}

Test(ops, bad_step_bodies)
{
    struct {
        const char *body, *path;
        int status;
    } t[] = {
        {"{}", "steps", 400},
        {"{\"steps\": 1, \"duration_ms\": 1}", "duration_ms", 400},
        {"{\"steps\": 0}", "steps", 400},
        {"{\"steps\": 1001}", "steps", 413},
        {"{\"steps\": -1}", "steps", 400},
        {"{\"steps\": \"5\"}", "steps", 400},
        {"{\"duration_ms\": 0.25}", "duration_ms", 400},
        {"{\"duration_ms\": 1e9}", "duration_ms", 413},
        {"{\"steps\": 4294967296000}", "steps", 413},
        {"{\"duration_ms\": 0}", "duration_ms", 400},
        {"{\"steps\": 1, \"async\": 1}", "async", 400},
        {"{\"steps\": 1, \"stesp\": 1}", "stesp", 400},
        {"{\"steps\": 1, \"inputs\": [{\"population\": \"exc\", \"kind\": \"spike\", \"neurons\": [10]}]}",
         "inputs[0].neurons[0]", 400},
    };
    for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) {
        sk_proto_step_t s = {0};
        sk_proto_error_t e = {0};
        cr_expect(step(t[k].body, &s, &e) < 0, "accepted %s", t[k].body);
        cr_expect_eq(e.status, t[k].status, "%s", t[k].body);
        cr_expect_str_eq(e.path, t[k].path, "%s: %s", t[k].body, e.message);
        /* a limit breach is 413 limit_exceeded, every other bad value a 400 */
        cr_expect_str_eq(e.code, t[k].status == 413 ? "limit_exceeded" : e.code, "%s", t[k].body);
        cr_expect_null(s.inputs);
    }
}

Test(ops, session_patch_sets_realtime)
{
    sk_proto_session_patch_t p = {-1};
    sk_proto_error_t e;
    json_t *j = js("{\"realtime\": false}");
    cr_assert_eq(sk_proto_session_patch_decode(j, &p, &e), 0);
    cr_expect_eq(p.realtime, 0);
    json_decref(j);
    j = js("{\"realtime\": true}");
    cr_assert_eq(sk_proto_session_patch_decode(j, &p, &e), 0);
    cr_expect_eq(p.realtime, 1);
    json_decref(j);
    struct {
        const char *body, *path, *code;
    } t[] = {{"{}", "realtime", "missing_field"},
             {"{\"realtime\": 1}", "realtime", "wrong_type"},
             {"{\"realtime\": null}", "realtime", "wrong_type"},
             {"{\"realtime\": true, \"paused\": true}", "paused", "unknown_field"},
             {"[true]", "", "wrong_type"}};
    for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) {
        sk_proto_session_patch_t q = {7};
        j = js(t[k].body);
        cr_expect_lt(sk_proto_session_patch_decode(j, &q, &e), 0, "accepted %s", t[k].body);
        cr_expect_eq(q.realtime, 7, "a rejected patch changes nothing");
        cr_expect_eq(e.status, 400);
        cr_expect_str_eq(e.path, t[k].path, "%s", t[k].body);
        cr_expect_str_eq(e.code, t[k].code, "%s", t[k].body);
        json_decref(j);
    }
}

Test(ops, params_patch_checks_names_and_ranges)
{
    const sk_model_t *m = sk_model_find("lif");
    sk_proto_params_t p;
    sk_proto_error_t e;
    json_t *j = js("{\"params\": {\"v_th\": 2, \"tau_mem_inv\": 50}}");
    cr_assert(sk_proto_params_decode(j, m, &p, &e) == 0);
    json_decref(j);
    cr_assert_eq(p.n, 2);
    cr_expect(strcmp(p.items[0].name, "v_th") == 0 && p.items[0].value == 2.0f);
    cr_expect(strcmp(p.items[1].name, "tau_mem_inv") == 0 && p.items[1].value == 50.0f);
    struct {
        const char *body, *path, *code;
    } t[] = {{"{\"params\": {\"v_thresh\": 1}}", "params.v_thresh", "unknown_field"},
             {"{\"params\": {\"tau_mem_inv\": -1}}", "params.tau_mem_inv", "invalid_field"},
             {"{\"params\": {\"v_th\": null}}", "params.v_th", "wrong_type"},
             {"{\"params\": {}}", "params", "invalid_field"},
             {"{\"params\": 1}", "params", "wrong_type"},
             {"{\"param\": {}}", "param", "unknown_field"},
             {"{}", "params", "missing_field"}};
    for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) {
        j = js(t[k].body);
        cr_expect(sk_proto_params_decode(j, m, &p, &e) < 0, "accepted %s", t[k].body);
        cr_expect_str_eq(e.path, t[k].path, "%s", t[k].body);
        cr_expect_str_eq(e.code, t[k].code, "%s", t[k].body);
        json_decref(j);
    }
}

Test(ops, fork_and_stimulus_patch)
{
    char name[SK_PROTO_NAME_MAX + 1];
    sk_proto_error_t e;
    json_t *j = js("{\"name\": \"copy-1\"}");
    cr_expect(sk_proto_fork_decode(j, name, &e) == 0);
    cr_expect_str_eq(name, "copy-1");
    json_decref(j);
    j = js("{\"name\": \"../etc\"}");
    cr_expect(sk_proto_fork_decode(j, name, &e) < 0);
    cr_expect_str_eq(e.path, "name");
    json_decref(j);
    double r = -1;
    j = js("{\"rate_hz\": 12.5}");
    cr_expect(sk_proto_stimulus_patch_decode(j, &r, &e) == 0 && r == 12.5);
    json_decref(j);
    j = js("{\"rate_hz\": -1}");
    cr_expect(sk_proto_stimulus_patch_decode(j, &r, &e) < 0);
    cr_expect_str_eq(e.path, "rate_hz");
    json_decref(j);
}

Test(ops, input_layers_take_only_spikes)
{
    sk_proto_pop_view_t pops[] = {{"src", sk_model_find("spike_source"), 3}};
    cr_assert(pops[0].model != NULL);
    sk_proto_net_view_t v = {.step = 0, .dt_ms = 1, .n_pops = 1, .pops = pops};
    sk_inject_t *inj = NULL;
    uint32_t n;
    sk_proto_error_t e;
    json_t *j = js("{\"inputs\": [{\"population\": \"src\", \"kind\": \"current\", \"value\": 1}]}");
    cr_expect(sk_proto_inputs_decode(j, &v, NULL, &inj, &n, &e) < 0);
    cr_expect_str_eq(e.path, "inputs[0].kind");
    json_decref(j);
    j = js("{\"inputs\": [{\"population\": \"src\", \"kind\": \"spike\", \"neurons\": [2]}]}");
    cr_expect(sk_proto_inputs_decode(j, &v, NULL, &inj, &n, &e) == 0 && n == 1);
    free(inj);
    json_decref(j);
}
