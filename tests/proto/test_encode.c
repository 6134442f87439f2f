/* test_encode.c: responses built from the registry and from a real network: /v1/models,
 * session info, step results, state slices (float32 exact after text round trip), spike
 * pages with paging, recorder samples, SSE events. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "spiked/proto.h"

/* 4 lif neurons forced to spike at known steps; the state recorder samples v every 2. */
static const char *g_net =
    "{\"name\": \"enc\", \"seed\": 5, \"dt\": 0.5, \"network\": {"
    "\"populations\": [{\"name\": \"a\", \"model\": \"lif\", \"size\": 4,"
    "                  \"initial\": {\"v\": {\"uniform\": [0, 0.9]}}},"
    "                  {\"name\": \"b\", \"model\": \"coba_lif\", \"size\": 2,\"initial\": {\"v\": -20}}],"
    "\"projections\": [{\"source\": \"a\", \"target\": \"b\", \"rule\": {\"kind\": \"all_to_all\"},"
    "                  \"weight\": 0.5}],"
    "\"stimuli\": [{\"kind\": \"spike_times\", \"target\": \"a\", \"times\": [1, 1, 3, 6],"
    "              \"neurons\": [0, 2, 1, 3]}],"
    "\"recorders\": [{\"population\": \"a\", \"variables\": [\"i\", \"v\"], \"neurons\": [3, 1],"
    "                \"every\": 2}]}}";

static sk_net_t *make_net(void)
{
    json_error_t je;
    json_t *j = json_loads(g_net, 0, &je);
    cr_assert(j != NULL, "%s", je.text);
    sk_proto_session_t *s = NULL;
    sk_proto_error_t e;
    cr_assert(sk_proto_session_decode(j, NULL, &s, &e) == 0, "%s: %s", e.path, e.message);
    sk_net_t *net = NULL;
    sk_err_t err;
    cr_assert(sk_net_create(&s->spec, &net, &err) == 0, "%s: %s", err.path, err.msg);
    json_decref(j);
    sk_proto_session_free(s);
    return net;
}

/* Dumps j with sk_proto_dumps and parses it back (what a client sees). */
static json_t *wire(json_t *j)
{
    cr_assert(j != NULL);
    size_t len;
    char *s = sk_proto_dumps(j, &len);
    json_decref(j);
    json_error_t je;
    json_t *back = json_loadb(s, len, 0, &je);
    cr_assert(back != NULL, "%s: %s", je.text, s);
    free(s);
    return back;
}

static json_t *get(json_t *o, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *t = strtok(buf, "."); t && o; t = strtok(NULL, "."))
        o = (t[0] >= '0' && t[0] <= '9') ? json_array_get(o, (size_t)atoi(t)) : json_object_get(o, t);
    return o;
}

Test(encode, models_come_from_the_registry)
{
    json_t *j = wire(sk_proto_models_json());
    json_t *models = json_object_get(j, "models");
    cr_assert_eq(json_array_size(models), sk_model_count());
    for (uint32_t k = 0; k < sk_model_count(); k++) {
        const sk_model_t *m = sk_model_at(k);
        json_t *o = json_array_get(models, k);
        cr_expect_str_eq(json_string_value(json_object_get(o, "name")), m->name);
        cr_expect_str_eq(json_string_value(json_object_get(o, "time_unit")), m->time_unit);
        cr_expect_eq(json_integer_value(json_object_get(o, "version")), (json_int_t)m->version);
        char fp[17];
        snprintf(fp, sizeof fp, "%016llx", (unsigned long long)m->fingerprint);
        cr_expect_str_eq(json_string_value(json_object_get(o, "fingerprint")), fp);
        json_t *ps = json_object_get(o, "params");
        cr_assert_eq(json_array_size(ps), m->n_params);
        for (uint32_t i = 0; i < m->n_params; i++) {
            json_t *p = json_array_get(ps, i);
            const sk_field_t *f = &m->params[i];
            cr_expect_str_eq(json_string_value(json_object_get(p, "name")), f->name);
            cr_expect_str_eq(json_string_value(json_object_get(p, "unit")), f->unit);
            json_t *dflt = json_object_get(p, "default"); /* infinite defaults: null */
            cr_expect(isinf(f->dflt) ? json_is_null(dflt)
                                     : json_number_value(dflt) == f->dflt,
                      "%s.%s default", m->name, f->name);
            json_t *lo = json_object_get(p, "minimum");
            cr_expect(isinf(f->lo) ? json_is_null(lo) : json_number_value(lo) == f->lo);
            cr_expect(json_is_true(json_object_get(p, "exclusive_minimum")) ==
                      !!(f->flags & SK_FIELD_LO_OPEN));
        }
        cr_expect_eq(json_array_size(json_object_get(o, "state")), m->n_state);
        cr_expect_eq(json_array_size(json_object_get(o, "inputs")), m->n_inputs);
    }
    json_decref(j);
}

Test(encode, info_step_result_and_state)
{
    sk_net_t *net = make_net();
    sk_pop_info_t pi;
    uint64_t before[2];
    for (uint32_t k = 0; k < 2; k++) {
        cr_assert(sk_net_pop_info(net, k, &pi) == 0);
        before[k] = pi.spikes_total;
    }
    cr_assert(sk_net_step(net, 8, NULL, NULL) == 0);
    json_t *r = NULL;
    cr_assert(sk_proto_step_result_json(net, 0, before, 1, 0, &r) == 0);
    r = wire(r);
    cr_expect_eq(json_integer_value(get(r, "to_step")), 8);
    cr_expect(json_number_value(get(r, "time_ms")) == 4.0);
    cr_expect_eq(json_integer_value(get(r, "spike_counts.a")), 4);
    cr_expect_eq(json_integer_value(get(r, "spikes.0.step")), 1);
    cr_expect_eq(json_array_size(get(r, "spikes.0.ids")), 2);
    json_t *r2 = NULL;
    cr_assert(sk_proto_step_result_json(net, 0, NULL, 0, 0, &r2) == 0);
    cr_expect(json_equal(json_object_get(r2, "spike_counts"), json_object_get(r, "spike_counts")),
              "counts from the history must equal counts from the totals");
    cr_expect_null(json_object_get(r2, "spikes"));
    json_decref(r);
    json_decref(r2);

    sk_proto_session_extra_t x = {.name = "enc", .status = "idle"};
    json_t *info = NULL;
    cr_assert(sk_proto_info_json(net, &x, &info) == 0);
    info = wire(info);
    cr_expect_str_eq(json_string_value(get(info, "name")), "enc");
    cr_expect_eq(json_integer_value(get(info, "step")), 8);
    cr_expect_eq(json_integer_value(get(info, "seed")), 5);
    cr_expect_eq(json_integer_value(get(info, "n_neurons")), 6);
    cr_expect_eq(json_integer_value(get(info, "n_synapses")), 8);
    cr_expect_str_eq(json_string_value(get(info, "populations.1.model")), "coba_lif");
    cr_expect(json_number_value(get(info, "populations.0.params.tau_mem_inv")) == 100.0);
    cr_expect(json_is_null(get(info, "projections.0.channel")), "sign split");
    cr_expect_str_eq(json_string_value(get(info, "recorders.0.variables.1")), "v");
    json_decref(info);

    sk_proto_state_query_t q = {.pop = 0, .n_vars = 1, .vars = {0}, .first = 1, .count = 3};
    json_t *st = NULL;
    sk_proto_error_t e;
    cr_assert(sk_proto_state_json(net, &q, &st, &e) == 0);
    st = wire(st);
    const float *col;
    cr_assert(sk_net_state(net, 0, "v", &col) == 0);
    json_t *vals = get(st, "values.v");
    cr_assert_eq(json_array_size(vals), 3);
    for (size_t k = 0; k < 3; k++)
        cr_expect((float)json_number_value(json_array_get(vals, k)) == col[1 + k],
                  "v[%zu] = %a did not round-trip", 1 + k, (double)col[1 + k]);
    json_decref(st);
    q.count = 4;
    cr_expect(sk_proto_state_json(net, &q, &st, &e) < 0, "range past the population");
    sk_net_destroy(net);
}

Test(encode, spike_pages_never_split_a_step)
{
    sk_net_t *net = make_net();
    cr_assert(sk_net_step(net, 8, NULL, NULL) == 0);
    sk_proto_spikes_query_t q = {.pop = -1, .from = 0, .to = 8, .limit = 1};
    json_t *p = NULL;
    sk_proto_error_t e;
    cr_assert(sk_proto_spikes_json(net, &q, &p, &e) == 0);
    p = wire(p);
    cr_expect_eq(json_array_size(get(p, "spikes")), 1);
    cr_expect_eq(json_array_size(get(p, "spikes.0.ids")), 2, "step 1 kept whole");
    cr_expect_eq(json_integer_value(get(p, "next_from_step")), 3, "the next step with spikes");
    cr_expect_eq(json_integer_value(get(p, "to_step")), 3);
    json_decref(p);
    q.pop = 0;
    q.from = 2;
    q.limit = 100;
    cr_assert(sk_proto_spikes_json(net, &q, &p, &e) == 0);
    p = wire(p);
    cr_expect_null(get(p, "next_from_step"));
    cr_expect_eq(json_integer_value(get(p, "spikes.0.step")), 3);
    cr_expect_eq(json_integer_value(get(p, "spikes.1.ids.0")), 3);
    cr_expect_str_eq(json_string_value(get(p, "spikes.1.population")), "a");
    json_decref(p);
    json_t *b = NULL;
    cr_assert(sk_proto_sse_spikes_json(net, 0, 8, 0, &b) == 0);
    cr_expect(json_number_value(get(b, "t_ms")) == 4.0);
    size_t len;
    char *ev = sk_proto_sse_format("spikes", "8", b, &len);
    cr_assert(ev != NULL);
    cr_expect(strncmp(ev, "id: 8\nevent: spikes\ndata: {\"from_step\":0,", 41) == 0, "%s", ev);
    cr_expect(len == strlen(ev) && strcmp(ev + len - 2, "\n\n") == 0);
    cr_expect_null(sk_proto_sse_format("bad\nname", NULL, b, NULL));
    free(ev);
    json_decref(b);
    sk_net_destroy(net);
}

/* NEST's rule: a spike produced in step t has time (t + 1) * dt, in every list that carries
 * spikes (step results, pages, SSE batches); step fields stay as they were. */
Test(encode, spike_times_are_step_plus_one_times_dt)
{
    sk_net_t *net = make_net();
    cr_assert(sk_net_step(net, 8, NULL, NULL) == 0);
    json_t *lists[3] = {NULL, NULL, NULL};
    cr_assert(sk_proto_step_result_json(net, 0, NULL, 1, 0, &lists[0]) == 0);
    sk_proto_spikes_query_t q = {.pop = -1, .from = 0, .to = 8, .limit = 100};
    sk_proto_error_t e;
    cr_assert(sk_proto_spikes_json(net, &q, &lists[1], &e) == 0);
    cr_assert(sk_proto_sse_spikes_json(net, 0, 8, -1, &lists[2]) == 0);
    for (int k = 0; k < 3; k++) {
        json_t *l = get(lists[k] = wire(lists[k]), "spikes");
        cr_assert(json_array_size(l) >= 3, "list %d: the forced spikes of steps 1, 3, 6", k);
        /* the forced spikes of a: steps 1, 3, 6 at dt = 0.5 ms -> 1.0, 2.0, 3.5 ms */
        cr_expect_eq(json_integer_value(get(l, "0.step")), 1);
        cr_expect(json_number_value(get(l, "0.time_ms")) == 1.0, "list %d: %g", k,
                  json_number_value(get(l, "0.time_ms")));
        for (size_t i = 0; i < json_array_size(l); i++) {
            json_t *en = json_array_get(l, i);
            double step = (double)json_integer_value(json_object_get(en, "step"));
            cr_expect(json_number_value(json_object_get(en, "time_ms")) == (step + 1) * 0.5,
                      "list %d entry %zu: step %g", k, i, step);
        }
        json_decref(lists[k]);
    }
    sk_net_destroy(net);
}

/* time_ms of the info and of step results: no 22119.100000000002 for 221191 x 0.1 ms. */
Test(encode, time_ms_reads_as_the_decimal_a_person_expects)
{
    json_error_t je;
    json_t *j = json_loads("{\"name\": \"t\", \"dt\": 0.1, \"network\": {\"populations\": ["
                           "{\"name\": \"a\", \"model\": \"lif\", \"size\": 1}]}}", 0, &je);
    cr_assert(j != NULL, "%s", je.text);
    sk_proto_session_t *s = NULL;
    sk_proto_error_t e;
    cr_assert(sk_proto_session_decode(j, NULL, &s, &e) == 0, "%s: %s", e.path, e.message);
    sk_net_t *net = NULL;
    sk_err_t err;
    cr_assert(sk_net_create(&s->spec, &net, &err) == 0, "%s: %s", err.path, err.msg);
    json_decref(j);
    sk_proto_session_free(s);
    cr_assert(sk_net_step(net, 221191, NULL, NULL) == 0);
    sk_proto_session_extra_t x = {.name = "t", .status = "idle"};
    json_t *info = NULL;
    cr_assert(sk_proto_info_json(net, &x, &info) == 0);
    char *text = sk_proto_dumps(info, NULL);
    cr_assert(text != NULL);
    cr_expect(strstr(text, "\"time_ms\":22119.1,") != NULL, "%s", text);
    free(text);
    json_decref(info);
    json_t *r = NULL;
    cr_assert(sk_proto_step_result_json(net, 221190, NULL, 0, 0, &r) == 0);
    text = sk_proto_dumps(r, NULL);
    cr_expect(strstr(text, "\"time_ms\":22119.1") != NULL, "%s", text);
    free(text);
    json_decref(r);
    sk_net_destroy(net);
}

Test(encode, recorder_samples)
{
    sk_net_t *net = make_net();
    cr_assert(sk_net_step(net, 8, NULL, NULL) == 0);
    sk_proto_samples_query_t q = {.from = 0, .to = 8, .limit = 2};
    json_t *s = NULL;
    sk_proto_error_t e;
    cr_assert(sk_proto_samples_json(net, 0, &q, &s, &e) == 0);
    s = wire(s);
    cr_expect_eq(json_integer_value(get(s, "neurons.0")), 3);
    cr_expect_str_eq(json_string_value(get(s, "variables.0")), "i");
    cr_expect_eq(json_integer_value(get(s, "every")), 2);
    cr_expect_eq(json_array_size(get(s, "samples")), 2);
    cr_expect_eq(json_array_size(get(s, "samples.0.values.v")), 2);
    cr_expect(json_integer_value(get(s, "next_from_step")) == json_integer_value(get(s, "to_step")));
    cr_expect(json_integer_value(get(s, "samples.1.step")) < json_integer_value(get(s, "to_step")));
    json_decref(s);
    cr_expect(sk_proto_samples_json(net, 7, &q, &s, &e) < 0);
    cr_expect_eq(e.status, 404);
    sk_net_destroy(net);
}

Test(encode, small_payloads)
{
    sk_proto_job_t job = {.id = 3, .state = "failed", .done = 5, .total = 10, .steps_per_s = NAN,
                          .error = "boom"};
    char *s = sk_proto_dumps(json_incref(NULL), NULL);
    cr_expect_null(s);
    json_t *j = sk_proto_job_json(&job);
    s = sk_proto_dumps(j, NULL);
    cr_expect_str_eq(s, "{\"id\":3,\"state\":\"failed\",\"done\":5,\"total\":10,\"steps_per_s\":null,"
                        "\"error\":\"boom\"}");
    free(s);
    json_decref(j);
    j = sk_proto_lifecycle_json("reset", "enc", 0);
    s = sk_proto_sse_format("lifecycle", NULL, j, NULL);
    cr_expect_str_eq(s, "event: lifecycle\ndata: {\"event\":\"reset\",\"session\":\"enc\",\"step\":0}\n\n");
    free(s);
    json_decref(j);
    j = sk_proto_dropped_json(100, 112, 12, 0);
    s = sk_proto_dumps(j, NULL);
    cr_expect_str_eq(s, "{\"count\":12,\"from_step\":100,\"to_step\":112}");
    free(s);
    json_decref(j);
    j = sk_proto_dropped_json(0, 0, 0, 3);
    s = sk_proto_dumps(j, NULL);
    cr_expect_str_eq(s, "{\"count\":0,\"events\":3}");
    free(s);
    json_decref(j);
    j = sk_proto_stimulus_json(2, 7.5);
    s = sk_proto_dumps(j, NULL);
    cr_expect_str_eq(s, "{\"index\":2,\"rate_hz\":7.5}");
    free(s);
    json_decref(j);
}

Test(encode, models_say_their_precision_current_channel_and_low_parts)
{
    json_t *j = wire(sk_proto_models_json());
    json_t *models = json_object_get(j, "models");
    int seen = 0;
    for (size_t k = 0; k < json_array_size(models); k++) {
        json_t *o = json_array_get(models, k);
        const char *name = json_string_value(json_object_get(o, "name"));
        const char *prec = json_string_value(json_object_get(o, "precision"));
        json_t *cur = json_object_get(o, "current_input");
        if (strcmp(name, "iaf_psc_exp") == 0) {
            seen++;
            cr_expect_str_eq(prec, "float64");
            cr_expect_str_eq(json_string_value(cur), "current");
            json_t *st = json_object_get(o, "state");
            int lo = 0;
            for (size_t i = 0; i < json_array_size(st); i++) {
                json_t *v = json_array_get(st, i);
                if (strcmp(json_string_value(json_object_get(v, "name")), "V_m_lo") == 0) {
                    lo = 1;
                    cr_expect_str_eq(json_string_value(json_object_get(v, "low_part_of")), "V_m");
                }
            }
            cr_expect(lo, "iaf_psc_exp lists V_m_lo");
        } else if (strcmp(name, "lif") == 0) {
            seen++;
            cr_expect_str_eq(prec, "float32");
            cr_expect(json_is_null(cur));
        }
    }
    cr_expect_eq(seen, 2);
    json_decref(j);
}
