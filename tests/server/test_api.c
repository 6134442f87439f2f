/* test_api.c: the session API end to end on a real server: create, info, list, step,
 * state, spikes, inputs, parameter and rate changes, recordings, reset, fork (continues
 * identically), checkpoint without a data directory, delete, ?name= on create; the info
 * after each kind of change (it is cached); and the service endpoints. */
#include <criterion/criterion.h>
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

TestSuite(api, .init = up, .fini = down, .timeout = 60);

Test(api, healthz_models_openapi_metrics)
{
    json_t *j = t_ok(srv.port, "GET", "/healthz", NULL, 200);
    cr_assert_str_eq(json_string_value(json_object_get(j, "status")), "ok");
    json_decref(j);
    j = t_ok(srv.port, "GET", "/v1/models", NULL, 200);
    json_t *models = json_object_get(j, "models");
    cr_assert_geq(json_array_size(models), 7);
    int found = 0;
    size_t i;
    json_t *m;
    json_array_foreach(models, i, m) found += !strcmp(json_string_value(json_object_get(m, "name")), "coba_lif");
    cr_assert_eq(found, 1);
    json_decref(j);
    j = t_ok(srv.port, "GET", "/openapi.json", NULL, 200);
    cr_assert(json_is_object(json_object_get(j, "paths")));
    json_decref(j);
    hc_resp_t r;
    cr_assert_eq(hc_request(srv.port, "GET", "/metrics", NULL, NULL, &r), 0);
    cr_assert_eq(r.status, 200);
    cr_assert_not_null(strstr(r.body, "spiked_sessions 0"));
    cr_assert_not_null(strstr(r.body, "spiked_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"));
    cr_assert_not_null(strstr(r.body, "spiked_http_request_seconds_bucket"));
    hc_resp_free(&r);
}

Test(api, create_step_query_delete_round_trip)
{
    json_t *j = t_ok(srv.port, "POST", "/v1/sessions", t_net_lif("rt", 50, 7), 201);
    cr_assert_str_eq(json_string_value(json_object_get(j, "name")), "rt");
    cr_assert_eq(json_integer_value(json_object_get(j, "step")), 0);
    cr_assert_eq(json_integer_value(json_object_get(j, "n_neurons")), 50);
    json_decref(j);
    t_error(srv.port, "POST", "/v1/sessions", t_net_lif("rt", 50, 7), 409, "conflict", NULL);

    j = t_step(srv.port, "rt", 100, 1);
    cr_assert_eq(json_integer_value(json_object_get(j, "from_step")), 0);
    cr_assert_eq(json_integer_value(json_object_get(j, "to_step")), 100);
    long counted = json_integer_value(json_object_get(json_object_get(j, "spike_counts"), "lif"));
    cr_assert_gt(counted, 0, "the network should spike");
    char *from_step = calloc(1, 1);
    size_t len = 0;
    t_spikes_append(&from_step, &len, json_object_get(j, "spikes"));
    json_decref(j);
    char *paged = t_spikes_text(srv.port, "rt", 0, 100);
    cr_assert_str_eq(paged, from_step, "step result and GET /spikes disagree");
    long lines = 0;
    for (char *p = paged; *p; p++)
        lines += *p == '\n';
    cr_assert_eq(lines, counted);
    free(paged);
    free(from_step);

    j = t_ok(srv.port, "GET", "/v1/sessions/rt", NULL, 200);
    cr_assert_eq(json_integer_value(json_object_get(j, "step")), 100);
    cr_assert_eq(json_integer_value(json_object_get(j, "spikes_total")), counted);
    cr_assert_str_eq(json_string_value(json_object_get(j, "status")), "idle");
    json_decref(j);

    j = t_ok(srv.port, "GET", "/v1/sessions/rt/state?population=lif&variables=v,i&neurons=10:20",
             NULL, 200);
    cr_assert_eq(json_integer_value(json_object_get(j, "first")), 10);
    cr_assert_eq(json_array_size(json_object_get(json_object_get(j, "values"), "v")), 10);
    cr_assert_eq(json_array_size(json_object_get(json_object_get(j, "values"), "i")), 10);
    json_decref(j);

    j = t_ok(srv.port, "GET", "/v1/sessions", NULL, 200);
    cr_assert_eq(json_array_size(json_object_get(j, "sessions")), 1);
    json_decref(j);

    hc_resp_t r;
    cr_assert_eq(hc_request(srv.port, "DELETE", "/v1/sessions/rt", NULL, NULL, &r), 0);
    cr_assert_eq(r.status, 204);
    hc_resp_free(&r);
    t_error(srv.port, "GET", "/v1/sessions/rt", NULL, 404, "not_found", NULL);
    j = t_ok(srv.port, "GET", "/v1/sessions", NULL, 200);
    cr_assert_eq(json_array_size(json_object_get(j, "sessions")), 0);
    json_decref(j);
}

Test(api, inputs_force_spikes_and_currents)
{
    t_create(srv.port, "in", 20, 3);
    json_t *j = t_ok(srv.port, "POST", "/v1/sessions/in/inputs",
                     "{\"inputs\":[{\"population\":\"lif\",\"kind\":\"spike\",\"neurons\":[3,5],"
                     "\"offset\":1},{\"population\":\"lif\",\"kind\":\"current\",\"value\":0.5}]}",
                     200);
    cr_assert_eq(json_integer_value(json_object_get(j, "queued")), 22);
    json_decref(j);
    j = t_ok(srv.port, "GET", "/v1/sessions/in", NULL, 200);
    cr_assert_eq(json_integer_value(json_object_get(j, "pending_inputs")), 22);
    json_decref(j);
    json_decref(t_step(srv.port, "in", 3, 0));
    char *text = t_spikes_text(srv.port, "in", 1, 2);
    cr_assert_not_null(strstr(text, "1:lif:3\n"), "forced spike missing: %s", text);
    cr_assert_not_null(strstr(text, "1:lif:5\n"), "forced spike missing: %s", text);
    free(text);
}

Test(api, patch_population_and_stimulus_rate)
{
    t_create(srv.port, "pp", 10, 3);
    json_t *j = t_ok(srv.port, "PATCH", "/v1/sessions/pp/populations/lif",
                     "{\"params\":{\"v_th\":2.5}}", 200);
    cr_assert_float_eq(json_real_value(json_object_get(json_object_get(j, "params"), "v_th")),
                       2.5, 1e-6);
    json_decref(j);
    /* all-or-nothing: one bad parameter changes nothing */
    t_error(srv.port, "PATCH", "/v1/sessions/pp/populations/lif",
            "{\"params\":{\"v_th\":3,\"nope\":1}}", 400, "unknown_field", NULL);
    j = t_ok(srv.port, "GET", "/v1/sessions/pp", NULL, 200);
    json_t *p = json_object_get(json_array_get(json_object_get(j, "populations"), 0), "params");
    cr_assert_float_eq(json_number_value(json_object_get(p, "v_th")), 2.5, 1e-6);
    json_decref(j);
    t_error(srv.port, "PATCH", "/v1/sessions/pp/populations/nope", "{\"params\":{\"v_th\":3}}",
            404, "not_found", NULL);
    j = t_ok(srv.port, "PATCH", "/v1/sessions/pp/stimuli/0", "{\"rate_hz\":0}", 200);
    cr_assert_eq(json_integer_value(json_object_get(j, "index")), 0);
    json_decref(j);
    t_error(srv.port, "PATCH", "/v1/sessions/pp/stimuli/7", "{\"rate_hz\":1}", 404, "not_found",
            NULL);
    t_error(srv.port, "PATCH", "/v1/sessions/pp/stimuli/0", "{\"rate_hz\":-1}", 400,
            "invalid_field", NULL);
    /* no input at all now: nothing spikes */
    j = t_step(srv.port, "pp", 50, 0);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(j, "spike_counts"), "lif")), 0);
    json_decref(j);
}

Test(api, recordings_pages)
{
    const char *body =
        "{\"name\":\"rec\",\"seed\":1,\"dt\":1,\"network\":{\"populations\":[{\"name\":\"p\","
        "\"model\":\"lif\",\"size\":4}],\"stimuli\":[{\"kind\":\"current\",\"target\":\"p\","
        "\"amplitude\":0.5}],\"recorders\":[{\"population\":\"p\",\"variables\":[\"v\"],"
        "\"neurons\":[0,2],\"every\":2}]}}";
    json_decref(t_ok(srv.port, "POST", "/v1/sessions", body, 201));
    json_decref(t_step(srv.port, "rec", 10, 0));
    json_t *j = t_ok(srv.port, "GET", "/v1/sessions/rec/recordings/0?limit=3", NULL, 200);
    cr_assert_eq(json_array_size(json_object_get(j, "samples")), 3);
    cr_assert(json_is_integer(json_object_get(j, "next_from_step")));
    json_t *s0 = json_array_get(json_object_get(j, "samples"), 0);
    cr_assert_eq(json_array_size(json_object_get(json_object_get(s0, "values"), "v")), 2);
    json_decref(j);
    t_error(srv.port, "GET", "/v1/sessions/rec/recordings/1", NULL, 404, "not_found", NULL);
}

Test(api, fork_continues_identically_and_reset_repeats)
{
    t_create(srv.port, "a", 40, 11);
    json_decref(t_step(srv.port, "a", 30, 0));
    json_t *j = t_ok(srv.port, "POST", "/v1/sessions/a/fork", "{\"name\":\"b\"}", 201);
    cr_assert_eq(json_integer_value(json_object_get(j, "step")), 30);
    json_decref(j);
    t_error(srv.port, "POST", "/v1/sessions/a/fork", "{\"name\":\"b\"}", 409, "conflict", NULL);
    json_decref(t_step(srv.port, "a", 70, 0));
    json_decref(t_step(srv.port, "b", 70, 0));
    char *sa = t_spikes_text(srv.port, "a", 30, 100), *sb = t_spikes_text(srv.port, "b", 30, 100);
    cr_assert(strlen(sa) > 0);
    cr_assert_str_eq(sa, sb, "the fork diverged");
    char *first = t_spikes_text(srv.port, "a", 0, 100);
    j = t_ok(srv.port, "POST", "/v1/sessions/a/reset", NULL, 200);
    cr_assert_eq(json_integer_value(json_object_get(j, "step")), 0);
    json_decref(j);
    json_decref(t_step(srv.port, "a", 100, 0));
    char *again = t_spikes_text(srv.port, "a", 0, 100);
    cr_assert_str_eq(first, again, "reset did not repeat the run");
    free(sa);
    free(sb);
    free(first);
    free(again);
}

Test(api, checkpoint_needs_a_data_dir)
{
    t_create(srv.port, "c", 5, 1);
    t_error(srv.port, "POST", "/v1/sessions/c/checkpoint", NULL, 409, "conflict", NULL);
}

Test(api, duration_steps_and_jobs)
{
    t_create(srv.port, "d", 5, 1);
    json_t *j = t_ok(srv.port, "POST", "/v1/sessions/d/step", "{\"duration_ms\":25}", 200);
    cr_assert_eq(json_integer_value(json_object_get(j, "to_step")), 25);
    json_decref(j);
    j = t_ok(srv.port, "GET", "/v1/sessions/d/jobs/1", NULL, 200);
    cr_assert_str_eq(json_string_value(json_object_get(j, "state")), "done");
    cr_assert_eq(json_integer_value(json_object_get(j, "done")), 25);
    json_decref(j);
    t_error(srv.port, "GET", "/v1/sessions/d/jobs/99", NULL, 404, "not_found", NULL);
    t_error(srv.port, "GET", "/v1/sessions/d/jobs/x", NULL, 404, "not_found", NULL);
}

/* POST /v1/sessions?name=<name>: the scale-out router routes a create by this copy of the
 * body's name; the two must agree. */
Test(api, create_may_repeat_the_name_in_the_query)
{
    json_decref(t_ok(srv.port, "POST", "/v1/sessions?name=qn", t_net_lif("qn", 10, 1), 201));
    t_error(srv.port, "POST", "/v1/sessions?name=other", t_net_lif("qn2", 10, 1), 400,
            "invalid_field", "query.name");
    t_error(srv.port, "POST", "/v1/sessions?name=..%2Fx", t_net_lif("qn2", 10, 1), 400,
            "invalid_field", "query.name");
    t_error(srv.port, "POST", "/v1/sessions?name=qn2&name=qn2", t_net_lif("qn2", 10, 1), 400,
            "invalid_field", "query.name");
    t_error(srv.port, "POST", "/v1/sessions?name=qn2&seed=1", t_net_lif("qn2", 10, 1), 400,
            "unknown_field", "query.seed");
    /* nothing was created by the refused ones */
    t_error(srv.port, "GET", "/v1/sessions/qn2", NULL, 404, "not_found", NULL);
    json_decref(t_ok(srv.port, "DELETE", "/v1/sessions/qn", NULL, 204));
}

/* GET info is served from a cache kept until the session changes (server/engine/session.h, "Info
 * cache"). Each change below comes right after a GET that filled the cache, and the next
 * GET must show it: a missing invalidation for any kind of change fails here. */
static json_t *info(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/sessions/%s", name);
    return t_ok(srv.port, "GET", path, NULL, 200);
}

static long long info_int(const char *name, const char *key)
{
    json_t *j = info(name);
    long long v = json_integer_value(json_object_get(j, key));
    json_decref(j);
    return v;
}

static const char *info_str(const char *name, const char *key, char *out, size_t cap)
{
    json_t *j = info(name);
    snprintf(out, cap, "%s", json_string_value(json_object_get(j, key)));
    json_decref(j);
    return out;
}

static double pop_param(const char *name, const char *param)
{
    json_t *j = info(name);
    json_t *p = json_object_get(json_array_get(json_object_get(j, "populations"), 0), "params");
    double v = json_number_value(json_object_get(p, param));
    json_decref(j);
    return v;
}

Test(api, info_follows_every_change)
{
    const char *body =
        "{\"name\":\"ic\",\"seed\":3,\"dt\":1,\"network\":{\"populations\":[{\"name\":\"p\","
        "\"model\":\"lif\",\"size\":20}],\"stimuli\":[{\"kind\":\"poisson\",\"target\":\"p\","
        "\"rate_hz\":300,\"weight\":2}],\"recorders\":[{\"population\":\"p\",\"variables\":"
        "[\"v\"],\"neurons\":[0],\"every\":1}]}}";
    json_decref(t_ok(srv.port, "POST", "/v1/sessions", body, 201));
    char s[32];
    /* step: step, time, spike and recorder counters */
    cr_assert_eq(info_int("ic", "step"), 0);
    cr_assert_eq(info_int("ic", "spikes_total"), 0);
    json_decref(t_step(srv.port, "ic", 40, 0));
    json_t *j = info("ic");
    cr_assert_eq(json_integer_value(json_object_get(j, "step")), 40, "step after a step");
    cr_assert_float_eq(json_number_value(json_object_get(j, "time_ms")), 40.0, 1e-9);
    long long spikes = json_integer_value(json_object_get(j, "spikes_total"));
    cr_assert_gt(spikes, 0, "spikes_total after a step");
    json_t *rec = json_array_get(json_object_get(j, "recorders"), 0);
    cr_assert_eq(json_integer_value(json_object_get(rec, "samples_kept")), 40);
    json_decref(j);
    /* inputs: pending_inputs */
    json_decref(t_ok(srv.port, "POST", "/v1/sessions/ic/inputs",
                     "{\"inputs\":[{\"population\":\"p\",\"kind\":\"spike\",\"neurons\":[1,2]}]}",
                     200));
    cr_assert_eq(info_int("ic", "pending_inputs"), 2, "pending_inputs after POST inputs");
    /* a step with inputs (queued by the job itself) */
    json_decref(t_ok(srv.port, "POST", "/v1/sessions/ic/step",
                     "{\"steps\":1,\"inputs\":[{\"population\":\"p\",\"kind\":\"spike\","
                     "\"neurons\":[3],\"offset\":5}]}",
                     200));
    cr_assert_eq(info_int("ic", "pending_inputs"), 1, "the job's own input is pending");
    cr_assert_eq(info_int("ic", "step"), 41);
    /* population parameters */
    cr_assert_float_eq(pop_param("ic", "v_th"), 1.0, 1e-6);
    json_decref(t_ok(srv.port, "PATCH", "/v1/sessions/ic/populations/p",
                     "{\"params\":{\"v_th\":2.5}}", 200));
    cr_assert_float_eq(pop_param("ic", "v_th"), 2.5, 1e-6, "params after PATCH");
    /* a stimulus rate is not in the info, but the info stays right after it */
    json_decref(t_ok(srv.port, "PATCH", "/v1/sessions/ic/stimuli/0", "{\"rate_hz\":0}", 200));
    cr_assert_eq(info_int("ic", "step"), 41);
    /* reset */
    json_decref(t_ok(srv.port, "POST", "/v1/sessions/ic/reset", NULL, 200));
    j = info("ic");
    cr_assert_eq(json_integer_value(json_object_get(j, "step")), 0, "step after reset");
    cr_assert_eq(json_integer_value(json_object_get(j, "pending_inputs")), 0);
    rec = json_array_get(json_object_get(j, "recorders"), 0);
    cr_assert_eq(json_integer_value(json_object_get(rec, "samples_kept")), 0);
    json_decref(j);
    /* fork: the copy has its own info; the source's stays right */
    json_decref(t_ok(srv.port, "POST", "/v1/sessions/ic/fork", "{\"name\":\"ic2\"}", 201));
    cr_assert_str_eq(info_str("ic2", "name", s, sizeof s), "ic2");
    cr_assert_str_eq(info_str("ic", "name", s, sizeof s), "ic");
    /* real-time stepping: status, flag, and the step moving on with every paced chunk */
    cr_assert_str_eq(info_str("ic", "status", s, sizeof s), "idle");
    json_decref(t_ok(srv.port, "PATCH", "/v1/sessions/ic", "{\"realtime\":true}", 200));
    j = info("ic");
    cr_assert(json_is_true(json_object_get(j, "realtime")), "realtime after PATCH");
    cr_assert_str_eq(json_string_value(json_object_get(j, "status")), "running");
    long long step0 = json_integer_value(json_object_get(j, "step"));
    json_decref(j);
    long long deadline = hc_now_ms() + 5000;
    while (info_int("ic", "step") == step0)
        cr_assert_lt(hc_now_ms(), deadline, "the step never moved in real time");
    json_decref(t_ok(srv.port, "PATCH", "/v1/sessions/ic", "{\"realtime\":false}", 200));
    j = info("ic");
    cr_assert(json_is_false(json_object_get(j, "realtime")), "realtime after PATCH off");
    cr_assert_str_eq(json_string_value(json_object_get(j, "status")), "idle");
    long long step1 = json_integer_value(json_object_get(j, "step"));
    json_decref(j);
    /* an async job: running with its job, then idle again once canceled */
    json_decref(
        t_ok(srv.port, "POST", "/v1/sessions/ic/step", "{\"steps\":10000000,\"async\":true}", 202));
    j = info("ic");
    cr_assert_str_eq(json_string_value(json_object_get(j, "status")), "running");
    cr_assert_not_null(json_object_get(j, "job"));
    json_t *job = json_object_get(j, "job");
    char loc[64];
    snprintf(loc, sizeof loc, "/v1/sessions/ic/jobs/%lld",
             json_integer_value(json_object_get(job, "id")));
    json_decref(j);
    json_decref(t_ok(srv.port, "DELETE", loc, NULL, 200));
    j = info("ic");
    cr_assert_str_eq(json_string_value(json_object_get(j, "status")), "idle");
    cr_assert_null(json_object_get(j, "job"));
    cr_assert_gt(json_integer_value(json_object_get(j, "step")), step1);
    json_decref(j);
    /* a GET right after another answers the same bytes */
    hc_resp_t a, b;
    cr_assert_eq(hc_request(srv.port, "GET", "/v1/sessions/ic", NULL, NULL, &a), 0);
    cr_assert_eq(hc_request(srv.port, "GET", "/v1/sessions/ic", NULL, NULL, &b), 0);
    cr_assert_str_eq(a.body, b.body);
    hc_resp_free(&a);
    hc_resp_free(&b);
}
