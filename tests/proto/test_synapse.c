/* test_synapse.c: plastic synapses in the protocol (proto/src/decode_syn.c): the projection's
 * "synapse" member decoded into the spec and built by the core, errors naming the field,
 * the synapse-parameter PATCH (freezing learning), weight updates, and the connections page
 * in JSON and little-endian binary agreeing with the core. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "spiked/proto.h"
#include "spiked/sk_synapse.h"

static const char *net_text(const char *synapse, const char *target_model)
{
    static char buf[2048];
    snprintf(buf, sizeof buf,
             "{\"name\": \"s\", \"dt\": 0.1, \"network\": {\"populations\": ["
             "{\"name\": \"pre\", \"model\": \"iaf_psc_exp\", \"size\": 3},"
             "{\"name\": \"post\", \"model\": \"%s\", \"size\": 2}],"
             "\"projections\": [{\"source\": \"pre\", \"target\": \"post\","
             " \"rule\": {\"kind\": \"all_to_all\"}, \"weight\": 40, \"delay_steps\": 2%s%s}]}}",
             target_model, synapse ? ", \"synapse\": " : "", synapse ? synapse : "");
    return buf;
}

static int decode(const char *text, sk_proto_session_t **s, sk_proto_error_t *e)
{
    json_error_t je;
    json_t *body = json_loads(text, 0, &je);
    cr_assert(body, "%s", je.text);
    int rc = sk_proto_session_decode(body, NULL, s, e);
    json_decref(body);
    return rc;
}

Test(proto_synapse, a_synapse_member_reaches_the_core_with_its_parameters)
{
    sk_proto_session_t *s = NULL;
    sk_proto_error_t e;
    cr_assert_eq(decode(net_text("{\"model\": \"stdp_synapse\", \"params\": {\"lambda\": 0.05, "
                                 "\"Wmax\": 90}}", "iaf_psc_exp"), &s, &e), 0, "%s: %s", e.path,
                 e.message);
    const sk_proj_spec_t *p = &s->spec.projs[0];
    cr_assert_str_eq(p->synapse, "stdp_synapse");
    cr_assert_eq(p->n_synapse_params, 2);
    sk_net_t *net = NULL;
    sk_err_t err;
    cr_assert_eq(sk_net_create(&s->spec, &net, &err), 0, "%s %s", err.path, err.msg);
    sk_proj_syn_info_t si;
    cr_assert_eq(sk_net_proj_syn(net, 0, &si), 0);
    cr_assert_not_null(si.syn);
    cr_expect_eq(si.params[1], 0.05); /* lambda */
    cr_expect_eq(si.params[5], 90.0); /* Wmax */
    sk_net_destroy(net);
    sk_proto_session_free(s);
}

Test(proto_synapse, bad_synapse_members_name_the_field)
{
    struct {
        const char *syn, *target, *path, *code;
    } cases[] = {
        {"{\"model\": \"hebb\"}", "iaf_psc_exp", "network.projections[0].synapse.model",
         SK_PROTO_INVALID_FIELD},
        {"{\"model\": \"stdp_synapse\"}", "lif", "network.projections[0].synapse.model",
         SK_PROTO_INVALID_FIELD},
        {"{\"model\": \"stdp_synapse\", \"params\": {\"lambda\": -1}}", "iaf_psc_exp",
         "network.projections[0].synapse.params.lambda", SK_PROTO_INVALID_FIELD},
        {"{\"model\": \"stdp_synapse\", \"params\": {\"A_plus\": 1}}", "iaf_psc_exp",
         "network.projections[0].synapse.params.A_plus", SK_PROTO_UNKNOWN_FIELD},
        {"{\"model\": \"tsodyks_synapse\", \"params\": {\"U\": \"x\"}}", "iaf_psc_exp",
         "network.projections[0].synapse.params.U", SK_PROTO_WRONG_TYPE},
        {"{\"model\": \"stdp_synapse\", \"rule\": 1}", "iaf_psc_exp",
         "network.projections[0].synapse.rule", SK_PROTO_UNKNOWN_FIELD},
        {"{\"model\": \"static_synapse\", \"params\": {\"lambda\": 1}}", "iaf_psc_exp",
         "network.projections[0].synapse.params", SK_PROTO_INVALID_FIELD},
        {"3", "iaf_psc_exp", "network.projections[0].synapse", SK_PROTO_WRONG_TYPE},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        sk_proto_session_t *s = NULL;
        sk_proto_error_t e;
        cr_expect_neq(decode(net_text(cases[k].syn, cases[k].target), &s, &e), 0, "case %zu", k);
        cr_expect_eq(e.status, 400, "case %zu", k);
        cr_expect_str_eq(e.path, cases[k].path, "case %zu: %s", k, e.message);
        cr_expect_str_eq(e.code, cases[k].code, "case %zu: %s", k, e.message);
        cr_expect_null(s);
    }
}

static sk_net_t *build(const char *syn)
{
    sk_proto_session_t *s = NULL;
    sk_proto_error_t e;
    cr_assert_eq(decode(net_text(syn, "iaf_psc_exp"), &s, &e), 0, "%s", e.message);
    sk_net_t *net = NULL;
    cr_assert_eq(sk_net_create(&s->spec, &net, NULL), 0);
    sk_proto_session_free(s);
    return net;
}

Test(proto_synapse, a_parameter_patch_freezes_learning_and_names_bad_fields)
{
    sk_net_t *net = build("{\"model\": \"stdp_synapse\"}");
    sk_proj_syn_info_t si;
    sk_net_proj_syn(net, 0, &si);
    sk_proto_syn_params_t p;
    sk_proto_error_t e;
    json_t *body = json_loads("{\"synapse\": {\"params\": {\"lambda\": 0}}}", 0, NULL);
    cr_assert_eq(sk_proto_syn_params_decode(body, si.syn, &p, &e), 0, "%s", e.message);
    cr_assert_eq(p.n, 1);
    cr_assert_eq(sk_net_set_syn_params(net, 0, p.items, p.n, NULL), 0);
    sk_net_proj_syn(net, 0, &si);
    cr_expect_eq(si.params[1], 0.0);
    json_decref(body);
    body = json_loads("{\"synapse\": {\"params\": {\"lambda\": -2}}}", 0, NULL);
    cr_expect_neq(sk_proto_syn_params_decode(body, si.syn, &p, &e), 0);
    cr_expect_str_eq(e.path, "synapse.params.lambda");
    json_decref(body);
    body = json_loads("{\"synapse\": {\"params\": {}}}", 0, NULL);
    cr_expect_neq(sk_proto_syn_params_decode(body, si.syn, &p, &e), 0);
    cr_expect_str_eq(e.path, "synapse.params");
    cr_expect_neq(sk_proto_syn_params_decode(body, NULL, &p, &e), 0); /* static projection */
    cr_expect_str_eq(e.path, "synapse");
    json_decref(body);
    sk_net_destroy(net);
}

Test(proto_synapse, weight_bodies_decode_and_bad_ones_name_the_field)
{
    sk_proto_weights_t w;
    sk_proto_error_t e;
    json_t *body = json_loads("{\"weights\": [1.5, 2.5], \"index\": [4, 0]}", 0, NULL);
    cr_assert_eq(sk_proto_weights_decode(body, 6, &w, &e), 0, "%s", e.message);
    cr_expect(w.n == 2 && w.n_w == 2 && w.index[0] == 4 && w.index[1] == 0 && w.w[1] == 2.5);
    sk_net_t *net = build("{\"model\": \"stdp_synapse\"}");
    cr_assert_eq(sk_net_set_weights(net, 0, w.index, w.first, w.n, w.w, w.n_w, NULL), 0);
    sk_conn_t c;
    sk_net_conns(net, 0, 4, 1, &c, NULL);
    cr_expect_eq(c.state[0], 1.5);
    sk_proto_weights_close(&w);
    json_decref(body);
    body = json_loads("{\"weights\": 7, \"first\": 2}", 0, NULL);
    cr_assert_eq(sk_proto_weights_decode(body, 6, &w, &e), 0);
    cr_expect(w.index == NULL && w.first == 2 && w.n == 4 && w.n_w == 1 && w.w[0] == 7.0);
    sk_proto_weights_close(&w);
    json_decref(body);
    const char *bad[][2] = {{"{\"weights\": [1, 2]}", "weights"},
                            {"{\"weights\": 1, \"index\": [6]}", "index[0]"},
                            {"{\"weights\": [1, \"a\"], \"index\": [1, 2]}", "weights[1]"},
                            {"{\"weights\": 1, \"first\": 7}", "first"},
                            {"{\"weights\": 1, \"first\": 0, \"index\": [1]}", "first"},
                            {"{\"weight\": 1}", "weight"}};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        body = json_loads(bad[k][0], 0, NULL);
        cr_expect_neq(sk_proto_weights_decode(body, 6, &w, &e), 0, "case %zu", k);
        cr_expect_str_eq(e.path, bad[k][1], "case %zu: %s", k, e.message);
        json_decref(body);
    }
    sk_net_destroy(net);
}

Test(proto_synapse, the_connection_page_and_binary_form_agree_with_the_core)
{
    sk_net_t *net = build("{\"model\": \"tsodyks_synapse\", \"params\": {\"U\": 0.3}}");
    sk_net_set_weights(net, 0, NULL, 0, 6, (double[]){10, 20, 30, 40, 50, 60}, 6, NULL);
    json_t *page = NULL;
    cr_assert_eq(sk_proto_connections_encode(net, 0, 2, 3, &page), 0);
    cr_expect_eq(json_integer_value(json_object_get(page, "total")), 6);
    cr_expect_eq(json_integer_value(json_object_get(page, "count")), 3);
    cr_expect_str_eq(json_string_value(json_object_get(page, "synapse")), "tsodyks_synapse");
    const json_t *wt = json_object_get(page, "weight"), *x = json_object_get(
                                                           json_object_get(page, "state"), "x");
    cr_assert_eq(json_array_size(wt), 3);
    cr_expect_eq(json_real_value(json_array_get(wt, 0)), 30.0);
    cr_expect_eq(json_integer_value(json_array_get(json_object_get(page, "pre"), 2)), 2);
    cr_expect_eq(json_integer_value(json_array_get(json_object_get(page, "post"), 2)), 0);
    cr_expect_eq(json_integer_value(json_array_get(json_object_get(page, "delay"), 0)), 2);
    cr_expect_eq(json_real_value(json_array_get(x, 1)), 1.0);
    json_decref(page);
    void *buf = NULL;
    size_t len = 0;
    cr_assert_eq(sk_proto_connections_binary(net, 0, 1, 100, &buf, &len), 0);
    const unsigned char *b = buf;
    cr_assert_eq(len, 40 + 5 * (12 + 8 * 5));
    cr_expect_eq(memcmp(b, "SKCONN1", 8), 0);
    cr_expect_eq(b[24], 5); /* count */
    cr_expect_eq(b[32], 5); /* n_state */
    double w4;
    memcpy(&w4, b + 40 + 12 * 5 + 8 * 3, 8); /* state 0 (weight) of connection 1 + 3 */
    cr_expect_eq(w4, 50.0);
    cr_expect_eq(b[40 + 4 * 2], 1); /* pre of connection 3 */
    free(buf);
    cr_expect_eq(sk_proto_connections_encode(net, 5, 0, 1, &page), SK_ENOENT);
    sk_net_destroy(net);
}

Test(proto_synapse, a_weight_recorder_decodes_records_and_encodes_its_samples)
{
    sk_net_t *net = build("{\"model\": \"stdp_synapse\", \"params\": {\"Wmax\": 90}}");
    sk_proto_wrec_t w;
    sk_proto_error_t e;
    json_t *body = json_loads("{\"every\": 10, \"index\": [5, 1], \"max_values\": 6}", 0, NULL);
    cr_assert_eq(sk_proto_wrec_decode(body, 0, 6, &w, &e), 0, "%s", e.message);
    uint32_t id;
    sk_err_t err;
    cr_assert_eq(sk_net_wrec_add(net, &w.spec, &id, &err), 0, "%s", err.msg);
    sk_proto_wrec_close(&w);
    json_decref(body);
    sk_net_set_weights(net, 0, NULL, 0, 6, (double[]){1, 2, 3, 4, 5, 6}, 6, NULL);
    sk_net_step(net, 45, NULL, NULL); /* samples after steps 9, 19, 29, 39: 3 kept */
    json_t *o = NULL;
    cr_assert_eq(sk_proto_wrec_encode(net, id, 0, 1000, &o), 0);
    cr_expect_eq(json_integer_value(json_object_get(o, "samples_kept")), 3);
    cr_expect_eq(json_integer_value(json_object_get(o, "samples_dropped")), 1);
    cr_expect_eq(json_integer_value(json_object_get(o, "first_kept_step")), 19);
    const json_t *ws = json_object_get(o, "weights");
    cr_assert_eq(json_array_size(ws), 3);
    cr_expect_eq(json_real_value(json_array_get(json_array_get(ws, 2), 0)), 6.0);
    cr_expect_eq(json_real_value(json_array_get(json_array_get(ws, 2), 1)), 2.0);
    cr_expect_eq(json_integer_value(json_array_get(json_object_get(o, "steps"), 2)), 39);
    json_decref(o);
    const char *bad[][2] = {{"{\"index\": [1]}", "every"},
                            {"{\"every\": 0}", "every"},
                            {"{\"every\": 5, \"index\": [6]}", "index[0]"},
                            {"{\"every\": 5, \"index\": []}", "index"},
                            {"{\"every\": 5, \"when\": 1}", "when"}};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        body = json_loads(bad[k][0], 0, NULL);
        cr_expect_neq(sk_proto_wrec_decode(body, 0, 6, &w, &e), 0, "case %zu", k);
        cr_expect_str_eq(e.path, bad[k][1], "case %zu: %s", k, e.message);
        json_decref(body);
    }
    sk_net_destroy(net);
}

Test(proto_synapse, weights_from_a_distribution_decode)
{
    sk_proto_weights_t w;
    sk_proto_error_t e;
    json_t *body = json_loads("{\"weights\": {\"uniform\": [1, 3]}, \"draw\": 4}", 0, NULL);
    cr_assert_eq(sk_proto_weights_decode(body, 6, &w, &e), 0, "%s", e.message);
    cr_expect(w.has_dist && w.dist.kind == SK_DIST_UNIFORM && w.dist.a == 1.0f &&
              w.dist.b == 3.0f && w.draw == 4 && w.n == 6 && w.w == NULL);
    sk_net_t *net = build("{\"model\": \"stdp_synapse\"}");
    cr_assert_eq(sk_net_set_weights_dist(net, 0, w.index, w.first, w.n, &w.dist, w.draw, NULL), 0);
    sk_conn_t c;
    sk_net_conns(net, 0, 5, 1, &c, NULL);
    cr_expect(c.state[0] >= 1.0 && c.state[0] < 3.0);
    sk_proto_weights_close(&w);
    json_decref(body);
    body = json_loads("{\"weights\": {\"uniform\": [1, 3], \"normal\": [0, 1]}}", 0, NULL);
    cr_expect_neq(sk_proto_weights_decode(body, 6, &w, &e), 0);
    cr_expect_str_eq(e.path, "weights");
    json_decref(body);
    sk_net_destroy(net);
}

Test(proto_synapse, static_synapse_params_must_be_an_empty_object)
{
    sk_proto_session_t *s = NULL;
    sk_proto_error_t e;
    cr_expect_neq(decode(net_text("{\"model\": \"static_synapse\", \"params\": 5}", "iaf_psc_exp"),
                         &s, &e), 0);
    cr_expect_str_eq(e.path, "network.projections[0].synapse.params");
    cr_expect_str_eq(e.code, SK_PROTO_WRONG_TYPE);
    cr_expect_eq(decode(net_text("{\"model\": \"static_synapse\", \"params\": {}}", "iaf_psc_exp"),
                        &s, &e), 0, "%s", e.message);
    cr_expect_null(s->spec.projs[0].synapse);
    sk_proto_session_free(s);
}
