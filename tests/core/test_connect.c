/* test_connect.c: connection rules (counts within binomial bounds for fixed seeds, exact
 * in-degrees, autapses and multapses, explicit lists), weight draws (ranges, moments, sign
 * clipping, same weights in dense and sparse storage), and the limits checked before any
 * allocation. Reads the CSR arrays through core/src/internal.h. */
#include <math.h>
#include <stdlib.h>

#include <criterion/criterion.h>

#include "internal.h"
#include "netspec.h"

static sk_net_t *make(sk_pop_spec_t *pops, uint32_t n_pops, sk_proj_spec_t *projs,
                      uint32_t n_projs, uint64_t seed)
{
    sk_net_spec_t spec = {.dt_ms = 1.0, .seed = seed, .pops = pops, .n_pops = n_pops,
                          .projs = projs, .n_projs = n_projs};
    sk_net_t *net = NULL;
    sk_err_t err = {0};
    int rc = sk_net_create(&spec, &net, &err);
    cr_assert_eq(rc, 0, "create: %s: %s", err.path, err.msg);
    return net;
}

static int create_err(sk_pop_spec_t *pops, uint32_t n_pops, sk_proj_spec_t *projs,
                      uint32_t n_projs, sk_err_t *err)
{
    sk_net_spec_t spec = {.dt_ms = 1.0, .seed = 1, .pops = pops, .n_pops = n_pops,
                          .projs = projs, .n_projs = n_projs};
    sk_net_t *net = NULL;
    int rc = sk_net_create(&spec, &net, err);
    cr_assert_null(net);
    return rc;
}

Test(connect, fixed_probability_count_is_within_binomial_bounds)
{
    sk_pop_spec_t pop = pop_spec("a", "lif", 1000);
    sk_proj_spec_t pr = proj_spec("a", "a", SK_RULE_FIXED_PROBABILITY, 0.5f, 1);
    pr.rule.p = 0.1;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        sk_net_t *net = make(&pop, 1, &pr, 1, seed);
        const sk__proj_t *p = &net->projs[0];
        double pairs = 1000.0 * 999.0, mean = pairs * 0.1, sd = sqrt(pairs * 0.1 * 0.9);
        cr_expect(fabs((double)p->n_syn - mean) < 5 * sd, "seed %llu: %llu synapses, expected "
                  "%.0f +- %.0f", (unsigned long long)seed, (unsigned long long)p->n_syn, mean, sd);
        /* no autapses, targets ascending in each row, per-target in-degree ~ Binomial */
        uint32_t *indeg = calloc(1000, 4);
        for (uint32_t pre = 0; pre < 1000; pre++)
            for (uint64_t k = p->row[pre]; k < p->row[pre + 1]; k++) {
                cr_assert_neq(p->col[k], pre, "autapse %u", pre);
                if (k > p->row[pre])
                    cr_assert_gt(p->col[k], p->col[k - 1]);
                indeg[p->col[k]]++;
            }
        double s = 0, s2 = 0;
        for (uint32_t j = 0; j < 1000; j++) {
            s += indeg[j];
            s2 += (double)indeg[j] * indeg[j];
        }
        double var = s2 / 1000 - (s / 1000) * (s / 1000);
        cr_expect(fabs(var - 999 * 0.1 * 0.9) < 0.25 * 999 * 0.1 * 0.9, "in-degree variance %g",
                  var);
        free(indeg);
        sk_net_destroy(net);
    }
}

Test(connect, fixed_probability_extremes_and_other_population)
{
    sk_pop_spec_t pops[2] = {pop_spec("a", "lif", 50), pop_spec("b", "lif", 70)};
    sk_proj_spec_t pr[3] = {proj_spec("a", "b", SK_RULE_FIXED_PROBABILITY, 1, 1),
                            proj_spec("a", "b", SK_RULE_FIXED_PROBABILITY, 1, 1),
                            proj_spec("a", "a", SK_RULE_FIXED_PROBABILITY, 1, 1)};
    pr[0].rule.p = 0.0;
    pr[1].rule.p = 1.0;
    pr[2].rule.p = 1.0;
    pr[2].rule.autapses = 1;
    sk_net_t *net = make(pops, 2, pr, 3, 9);
    cr_expect_eq(net->projs[0].n_syn, 0);
    cr_expect_eq(net->projs[1].n_syn, 50 * 70);
    cr_expect_eq(net->projs[2].n_syn, 50 * 50);
    sk_net_destroy(net);
}

static void check_indegree(int multapses, int autapses)
{
    sk_pop_spec_t pop = pop_spec("a", "lif", 300);
    sk_proj_spec_t pr = proj_spec("a", "a", SK_RULE_FIXED_INDEGREE, 1, 1);
    pr.rule.indegree = 40;
    pr.rule.multapses = multapses;
    pr.rule.autapses = autapses;
    sk_net_t *net = make(&pop, 1, &pr, 1, 5);
    const sk__proj_t *p = &net->projs[0];
    cr_assert_eq(p->n_syn, 300u * 40u);
    uint32_t *count = calloc(300 * 300, 4);
    for (uint32_t pre = 0; pre < 300; pre++)
        for (uint64_t k = p->row[pre]; k < p->row[pre + 1]; k++)
            count[(size_t)p->col[k] * 300 + pre]++;
    int dup = 0, self = 0;
    for (uint32_t post = 0; post < 300; post++) {
        uint32_t total = 0;
        for (uint32_t pre = 0; pre < 300; pre++) {
            uint32_t c = count[(size_t)post * 300 + pre];
            total += c;
            dup |= c > 1;
            self |= pre == post && c > 0;
        }
        cr_assert_eq(total, 40, "target %u has in-degree %u", post, total);
    }
    if (!multapses)
        cr_expect_not(dup, "a source was drawn twice without multapses");
    if (!autapses)
        cr_expect_not(self, "an autapse was drawn");
    if (multapses)
        cr_expect(dup, "with multapses, 300 x 40 draws from 299 should repeat some source");
    free(count);
    sk_net_destroy(net);
}

Test(connect, fixed_indegree_gives_every_target_exactly_k_sources)
{
    check_indegree(0, 0);
    check_indegree(0, 1);
    check_indegree(1, 0);
}

Test(connect, all_to_all_and_one_to_one)
{
    sk_pop_spec_t pops[2] = {pop_spec("a", "lif", 20), pop_spec("b", "lif", 20)};
    sk_proj_spec_t pr[3] = {proj_spec("a", "a", SK_RULE_ALL_TO_ALL, 2, 1),
                            proj_spec("a", "b", SK_RULE_ONE_TO_ONE, 3, 1),
                            proj_spec("b", "b", SK_RULE_ALL_TO_ALL, 4, 1)};
    pr[2].rule.autapses = 1;
    sk_net_t *net = make(pops, 2, pr, 3, 1);
    cr_expect(net->projs[0].dense);
    cr_expect_eq(net->projs[0].n_syn, 20 * 19);
    for (uint32_t j = 0; j < 20; j++)
        cr_expect_eq(net->projs[0].w[j * 20 + j], 0.0f, "diagonal must be empty");
    cr_expect_eq(net->projs[0].w[1], 2.0f);
    cr_expect_not(net->projs[1].dense);
    cr_expect_eq(net->projs[1].n_syn, 20);
    for (uint32_t j = 0; j < 20; j++)
        cr_expect_eq(net->projs[1].col[net->projs[1].row[j]], j);
    cr_expect_eq(net->projs[2].n_syn, 400);
    sk_net_destroy(net);

    sk_pop_spec_t bad[2] = {pop_spec("a", "lif", 20), pop_spec("b", "lif", 21)};
    sk_proj_spec_t o2o = proj_spec("a", "b", SK_RULE_ONE_TO_ONE, 1, 1);
    sk_err_t err;
    cr_expect_eq(create_err(bad, 2, &o2o, 1, &err), SK_EINVAL);
    cr_expect_str_eq(err.path, "projections[0].rule");
}

Test(connect, explicit_lists_keep_weights_and_delays_sorted_by_source_then_target)
{
    sk_pop_spec_t pops[2] = {pop_spec("a", "lif", 3), pop_spec("b", "lif", 4)};
    uint32_t pre[] = {2, 0, 2, 0, 1};
    uint32_t post[] = {3, 1, 0, 1, 2};
    float w[] = {0.5f, 0.25f, 0.75f, -1.0f, 2.0f};
    uint32_t d[] = {2, 1, 3, 4, 1};
    sk_proj_spec_t pr = proj_spec("a", "b", SK_RULE_EXPLICIT, 0, 1);
    pr.rule = (sk_rule_t){.kind = SK_RULE_EXPLICIT, .pre = pre, .post = post, .weight = w,
                          .delay = d, .n = 5};
    sk_net_t *net = make(pops, 2, &pr, 1, 1);
    const sk__proj_t *p = &net->projs[0];
    cr_assert_eq(p->n_syn, 5);
    uint32_t col[] = {1, 1, 2, 0, 3};      /* rows 0: (0,1) x2 in list order; 1: (1,2); 2: (2,0),(2,3) */
    float ww[] = {0.25f, -1.0f, 2.0f, 0.75f, 0.5f};
    uint16_t dd[] = {1, 4, 1, 3, 2};
    for (int k = 0; k < 5; k++) {
        cr_expect_eq(p->col[k], col[k], "col[%d]", k);
        cr_expect_eq(p->w[k], ww[k], "w[%d]", k);
        cr_expect_eq(p->delays[k], dd[k], "delay[%d]", k);
    }
    cr_expect_eq(p->max_delay, 4);
    cr_expect_eq(net->pops[1].depth, 5);
    sk_net_destroy(net);

    /* out of range, and a duplicate pair in dense storage */
    sk_err_t err;
    pre[1] = 3;
    cr_expect_eq(create_err(pops, 2, &pr, 1, &err), SK_ERANGE);
    cr_expect_str_eq(err.path, "projections[0].rule.pre");
    pre[1] = 0;
    pr.rule.delay = NULL;
    pr.storage = SK_STORAGE_DENSE;
    cr_expect_eq(create_err(pops, 2, &pr, 1, &err), SK_EINVAL);
    cr_expect_str_eq(err.path, "projections[0].rule");
}

Test(connect, drawn_weights_have_their_distribution_and_sign)
{
    sk_pop_spec_t pop = pop_spec("a", "lif", 400);
    sk_proj_spec_t pr[3] = {proj_spec("a", "a", SK_RULE_ALL_TO_ALL, 0, 1),
                            proj_spec("a", "a", SK_RULE_ALL_TO_ALL, 0, 1),
                            proj_spec("a", "a", SK_RULE_ALL_TO_ALL, 0, 1)};
    pr[0].weight = (sk_dist_t){.kind = SK_DIST_UNIFORM, .a = -1.0f, .b = 3.0f};
    pr[1].weight = (sk_dist_t){.kind = SK_DIST_NORMAL, .a = 0.5f, .b = 0.2f};
    pr[2].weight = (sk_dist_t){.kind = SK_DIST_NORMAL, .a = 0.0f, .b = 1.0f, .sign = 1};
    sk_net_t *net = make(&pop, 1, pr, 3, 3);
    double n = 400.0 * 399.0, s[3] = {0}, s2[3] = {0};
    float lo = 1e9f, hi = -1e9f, neg = 0;
    for (uint32_t pre = 0; pre < 400; pre++)
        for (uint32_t post = 0; post < 400; post++) {
            if (pre == post)
                continue;
            for (int k = 0; k < 3; k++) {
                double w = net->projs[k].w[pre * 400 + post];
                s[k] += w;
                s2[k] += w * w;
            }
            float u = net->projs[0].w[pre * 400 + post];
            lo = fminf(lo, u);
            hi = fmaxf(hi, u);
            neg += net->projs[2].w[pre * 400 + post] < 0.0f;
        }
    cr_expect(lo >= -1.0f && hi < 3.0f, "uniform range [%g, %g]", lo, hi);
    cr_expect(fabs(s[0] / n - 1.0) < 0.01, "uniform mean %g", s[0] / n);
    cr_expect(fabs(s[1] / n - 0.5) < 0.002, "normal mean %g", s[1] / n);
    cr_expect(fabs(sqrt(s2[1] / n - (s[1] / n) * (s[1] / n)) - 0.2) < 0.002, "normal sd");
    cr_expect_eq(neg, 0, "sign > 0 must clip negative draws");
    cr_expect(fabs(s[2] / n - 1.0 / sqrt(2 * 3.141592653589793)) < 0.01, "clipped normal mean %g", s[2] / n);
    sk_net_destroy(net);
}

Test(connect, dense_and_sparse_storage_hold_the_same_synapses)
{
    sk_pop_spec_t pops[2] = {pop_spec("a", "lif", 60), pop_spec("b", "lif", 90)};
    sk_proj_spec_t pr[2] = {proj_spec("a", "b", SK_RULE_FIXED_PROBABILITY, 0, 2),
                            proj_spec("a", "b", SK_RULE_FIXED_PROBABILITY, 0, 2)};
    for (int k = 0; k < 2; k++) {
        pr[k].rule.p = 0.3;
        pr[k].weight = (sk_dist_t){.kind = SK_DIST_NORMAL, .a = 1.0f, .b = 0.5f};
    }
    /* both projections share the RNG keys only if they have the same index: build twice */
    pr[0].storage = SK_STORAGE_SPARSE;
    sk_net_t *sparse = make(pops, 2, &pr[0], 1, 11);
    pr[0].storage = SK_STORAGE_DENSE;
    sk_net_t *dense = make(pops, 2, &pr[0], 1, 11);
    const sk__proj_t *s = &sparse->projs[0], *d = &dense->projs[0];
    cr_assert_eq(s->n_syn, d->n_syn);
    uint64_t nonzero = 0;
    for (uint32_t pre = 0; pre < 60; pre++) {
        for (uint64_t k = s->row[pre]; k < s->row[pre + 1]; k++)
            cr_assert_eq(s->w[k], d->w[pre * 90 + s->col[k]]);
        for (uint32_t post = 0; post < 90; post++)
            nonzero += d->w[pre * 90 + post] != 0.0f;
    }
    cr_expect_eq(nonzero, s->n_syn);
    sk_net_destroy(sparse);
    sk_net_destroy(dense);
}

Test(connect, same_seed_same_synapses_other_seed_others)
{
    sk_pop_spec_t pop = pop_spec("a", "lif", 200);
    sk_proj_spec_t pr = proj_spec("a", "a", SK_RULE_FIXED_PROBABILITY, 1, 1);
    pr.rule.p = 0.05;
    sk_net_t *a = make(&pop, 1, &pr, 1, 77), *b = make(&pop, 1, &pr, 1, 77),
             *c = make(&pop, 1, &pr, 1, 78);
    cr_assert_eq(a->projs[0].n_syn, b->projs[0].n_syn);
    cr_expect_eq(memcmp(a->projs[0].col, b->projs[0].col, a->projs[0].n_syn * 4), 0);
    cr_expect(a->projs[0].n_syn != c->projs[0].n_syn ||
              memcmp(a->projs[0].col, c->projs[0].col, a->projs[0].n_syn * 4) != 0);
    sk_net_destroy(a);
    sk_net_destroy(b);
    sk_net_destroy(c);
}

Test(connect, limits_are_checked_before_allocating)
{
    sk_pop_spec_t pops[2] = {pop_spec("a", "lif", 5000000), pop_spec("b", "lif", 5000000)};
    sk_proj_spec_t pr = proj_spec("a", "b", SK_RULE_ALL_TO_ALL, 1, 1); /* 2.5e13 synapses */
    sk_err_t err;
    cr_expect_eq(create_err(pops, 2, &pr, 1, &err), SK_ELIMIT);
    cr_expect_str_eq(err.path, "projections[0].rule");
    pr.rule.kind = SK_RULE_FIXED_INDEGREE;
    pr.rule.indegree = 100;           /* 5e8 > default 2e8 synapses */
    cr_expect_eq(create_err(pops, 2, &pr, 1, &err), SK_ELIMIT);
    pr.rule.indegree = 6000000;       /* more than the sources */
    cr_expect_eq(create_err(pops, 2, &pr, 1, &err), SK_ERANGE);
    cr_expect_str_eq(err.path, "projections[0].rule.indegree");
    pr.rule.kind = SK_RULE_FIXED_PROBABILITY;
    pr.rule.p = 1.5;
    cr_expect_eq(create_err(pops, 2, &pr, 1, &err), SK_ERANGE);
    cr_expect_str_eq(err.path, "projections[0].rule.p");
    pr.rule.p = 0.001;                /* 2.5e10 expected synapses */
    cr_expect_eq(create_err(pops, 2, &pr, 1, &err), SK_ELIMIT);
}

Test(connect, memory_accounting_includes_the_synapses)
{
    sk_pop_spec_t pop = pop_spec("a", "lif", 2000);
    sk_proj_spec_t pr = proj_spec("a", "a", SK_RULE_FIXED_INDEGREE, 1, 1);
    pr.rule.indegree = 100;
    sk_net_t *net = make(&pop, 1, &pr, 1, 1);
    sk_net_info_t info;
    sk_net_info(net, &info);
    cr_expect_eq(info.n_synapses, 200000);
    cr_expect_geq(info.bytes, 200000u * 4u + 2001u * 8u, "bytes %llu must count the synapses",
                  (unsigned long long)info.bytes);
    sk_net_t *copy = NULL;
    cr_assert_eq(sk_net_clone(net, &copy), 0);
    sk_net_info_t ci;
    sk_net_info(copy, &ci);
    cr_expect_eq(ci.bytes, info.bytes, "a restored network accounts the same bytes");
    sk_net_destroy(copy);
    sk_net_destroy(net);
}
