/* test_golden.c: a network created over HTTP reproduces a reference trajectory through
 * injected inputs. tests/conformance/golden/lif_feed_forward.json (Norse
 * lif_feed_forward_step, 16 neurons, default parameters, dt = 0.001 s): the session is one
 * lif population of 16 with default parameters and dt = 1 ms; every step is one
 * POST .../step {"steps":1, "inputs": [the step's currents], "return_spikes": true} (the
 * closed-loop form), then GET .../state. Spikes must be equal at every step, v and i within
 * 1e-4 * max(1, |ref|) (the golden README's tolerance). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

static sp_proc_t srv;

static void up(void)
{
    t_start(&srv, NULL);
}

static void down(void)
{
    t_stop(&srv);
}

TestSuite(golden, .init = up, .fini = down, .timeout = 60);

static void check_state(const json_t *values, const char *var, const json_t *ref, int t)
{
    json_t *got = json_object_get(values, var);
    cr_assert_eq(json_array_size(got), json_array_size(ref));
    for (size_t n = 0; n < json_array_size(ref); n++) {
        double r = json_number_value(json_array_get(ref, n));
        double g = json_number_value(json_array_get(got, n));
        double tol = 1e-4 * fmax(1.0, fabs(r));
        cr_assert(fabs(g - r) <= tol, "step %d neuron %zu %s: got %.9g, reference %.9g", t, n,
                  var, g, r);
    }
}

Test(golden, lif_feed_forward_through_injected_inputs)
{
    json_error_t err;
    json_t *g = json_load_file(SK_GOLDEN_DIR "/lif_feed_forward.json", 0, &err);
    cr_assert_not_null(g, "%s", err.text);
    cr_assert_str_eq(json_string_value(json_object_get(g, "model")), "lif");
    size_t n = (size_t)json_integer_value(json_object_get(g, "n_neurons"));
    json_t *inputs = json_object_get(g, "inputs"), *exp = json_object_get(g, "expected");
    json_decref(t_ok(srv.port, "POST", "/v1/sessions",
                     "{\"name\":\"g\",\"dt\":1,\"network\":{\"populations\":[{\"name\":\"p\","
                     "\"model\":\"lif\",\"size\":16}]}}",
                     201));
    cr_assert_eq(n, 16);
    int spikes_seen = 0;
    for (size_t t = 0; t < json_array_size(inputs); t++) {
        json_t *req = json_pack("{s:I, s:b, s:[{s:s, s:s, s:O}]}", "steps", (json_int_t)1,
                                "return_spikes", 1, "inputs", "population", "p", "kind",
                                "current", "values", json_array_get(inputs, t));
        char *body = json_dumps(req, JSON_COMPACT | JSON_REAL_PRECISION(17));
        json_decref(req);
        json_t *res = t_ok(srv.port, "POST", "/v1/sessions/g/step", body, 200);
        free(body);
        int got[16] = {0};
        json_t *sp = json_object_get(res, "spikes");
        for (size_t k = 0; k < json_array_size(sp); k++) {
            json_t *e = json_array_get(sp, k);
            cr_assert_eq(json_integer_value(json_object_get(e, "step")), (json_int_t)t);
            json_t *ids = json_object_get(e, "ids");
            for (size_t m = 0; m < json_array_size(ids); m++)
                got[json_integer_value(json_array_get(ids, m))] = 1;
        }
        json_decref(res);
        json_t *ref = json_array_get(json_object_get(exp, "spikes"), t);
        for (size_t k = 0; k < n; k++) {
            int want = (int)json_integer_value(json_array_get(ref, k));
            cr_assert_eq(got[k], want, "step %zu neuron %zu: spike %d, reference %d", t, k,
                         got[k], want);
            spikes_seen += want;
        }
        json_t *st = t_ok(srv.port, "GET", "/v1/sessions/g/state?variables=v,i", NULL, 200);
        json_t *values = json_object_get(st, "values");
        check_state(values, "v", json_array_get(json_object_get(exp, "v"), t), (int)t);
        check_state(values, "i", json_array_get(json_object_get(exp, "i"), t), (int)t);
        json_decref(st);
    }
    cr_assert_eq(spikes_seen, json_integer_value(json_object_get(g, "spike_count")));
    json_decref(g);
}
