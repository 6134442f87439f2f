/* test_examples.c: every network in examples/ is a valid POST /v1/sessions body that builds
 * and runs; the COBA example carries the Brette et al. (2007) mapping onto coba_lif; the
 * spike chain example fires exactly where its explicit delays say. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spiked/proto.h"

static sk_proto_session_t *decode_file(const char *name)
{
    char path[1024];
    json_error_t je;
    snprintf(path, sizeof path, "%s/%s", SK_EXAMPLES_DIR, name);
    json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    cr_assert(j != NULL, "%s: %s", path, je.text);
    sk_proto_session_t *s = NULL;
    sk_proto_error_t e = {0};
    int rc = sk_proto_session_decode(j, NULL, &s, &e);
    json_decref(j);
    cr_assert(rc == 0, "%s: %s: %s", name, e.path, e.message);
    return s;
}

static sk_net_t *build(const sk_proto_session_t *s)
{
    sk_net_t *net = NULL;
    sk_err_t err = {0};
    int rc = sk_net_create(&s->spec, &net, &err);
    cr_assert(rc == 0, "%s: sk_net_create: %s: %s", s->name, err.path, err.msg);
    return net;
}

Test(examples, every_example_decodes_builds_and_spikes)
{
    DIR *d = opendir(SK_EXAMPLES_DIR);
    cr_assert(d != NULL);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        sk_proto_session_t *s = decode_file(e->d_name);
        sk_net_t *net = build(s);
        cr_assert(sk_net_step(net, 200, NULL, NULL) == 0);
        sk_net_info_t ni;
        sk_net_info(net, &ni);
        cr_expect(ni.spikes_total > 0, "%s: no spike in 200 steps", e->d_name);
        sk_net_destroy(net);
        sk_proto_session_free(s);
        n++;
    }
    closedir(d);
    cr_assert(n >= 3, "only %d examples", n);
}

static double param(const sk_pop_info_t *pi, const char *name)
{
    int k = sk_model_param_index(pi->model, name);
    cr_assert(k >= 0, "no parameter %s", name);
    return pi->params[k];
}

Test(examples, coba_is_the_brette_2007_network_on_coba_lif)
{
    sk_proto_session_t *s = decode_file("coba.json");
    cr_expect(s->spec.dt_ms == 0.1);
    cr_assert_eq(s->spec.n_pops, 2);
    cr_expect_eq(s->spec.n_projs, 4);
    cr_expect_eq(s->spec.n_recs, 1);
    sk_net_t *net = build(s);
    static const char *const names[] = {"exc", "inh"};
    static const uint32_t sizes[] = {3200, 800};
    for (uint32_t k = 0; k < 2; k++) {
        sk_pop_info_t pi;
        cr_assert(sk_net_pop_info(net, k, &pi) == 0);
        cr_expect_str_eq(pi.name, names[k]);
        cr_expect_eq(pi.size, sizes[k]);
        cr_expect_str_eq(pi.model->name, "coba_lif");
        cr_expect_eq(pi.refractory_steps, 50);
        cr_expect(param(&pi, "tau_syn_exc_inv") == 200.0f);
        cr_expect(param(&pi, "tau_syn_inh_inv") == 100.0f);
        cr_expect(param(&pi, "c_m_inv") == 50.0f);
        cr_expect(param(&pi, "g_l") == 1.0f);
        cr_expect(param(&pi, "e_rev_E") == 0.0f);
        cr_expect(param(&pi, "e_rev_I") == -80.0f);
        cr_expect(param(&pi, "v_rest") == -60.0f);
        cr_expect(param(&pi, "v_reset") == -60.0f);
        cr_expect(param(&pi, "v_thresh") == -50.0f);
    }
    for (uint32_t k = 0; k < 4; k++) {
        const sk_proj_spec_t *p = &s->spec.projs[k];
        cr_expect(p->rule.kind == SK_RULE_FIXED_PROBABILITY && p->rule.p == 0.02);
        cr_expect_eq(p->delay_steps, 1);
        cr_expect(p->weight.a == (strcmp(p->source, "exc") == 0 ? 0.6f : -6.7f));
        sk_proj_info_t pj;
        cr_assert(sk_net_proj_info(net, k, &pj) == 0);
        cr_expect_eq(pj.channel, -1, "projection %u must use the sign split", k);
    }
    sk_net_destroy(net);
    sk_proto_session_free(s);
}

static int collect(void *ctx, uint64_t step, uint32_t pop, const uint32_t *ids, uint32_t n)
{
    char *out = ctx;
    (void)pop;
    for (uint32_t k = 0; k < n; k++)
        snprintf(out + strlen(out), 256 - strlen(out), "%llu:%u ", (unsigned long long)step,
                 ids[k]);
    return 0;
}

Test(examples, spike_chain_fires_along_its_explicit_delays)
{
    sk_proto_session_t *s = decode_file("spike_chain.json");
    sk_net_t *net = build(s);
    cr_assert(sk_net_step(net, 60, NULL, NULL) == 0);
    char got[256] = "";
    cr_assert(sk_net_spikes(net, 0, 60, NULL, collect, got) == 0);
    cr_expect_str_eq(got, "10:0 11:1 14:2 40:0 41:1 44:2 ");
    sk_net_destroy(net);
    sk_proto_session_free(s);
}
