/* test_connect_nest.c: the connection features NEST networks are written with (issue 13):
 * fixed_total_number (multapses, autapses as asked, multinomial row counts), fixed_outdegree,
 * per-synapse delays in ms rounded to the nearest step with redraw bounds (a truncated
 * normal's mean), a delay that rounds below one step refused naming "delay_ms", and the
 * sign-preserving weight redraw beside the clipping sign. Reads the CSR arrays through
 * core/src/internal.h. */
#include <math.h>
#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif
#include <stdlib.h>

#include <criterion/criterion.h>

#include "internal.h"
#include "netspec.h"

static int create(sk_pop_spec_t *pops, uint32_t n_pops, sk_proj_spec_t *projs,
                  uint32_t n_projs, double dt, uint64_t seed, sk_net_t **net, sk_err_t *err)
{
    sk_net_spec_t spec = {.dt_ms = dt, .seed = seed, .pops = pops, .n_pops = n_pops,
                          .projs = projs, .n_projs = n_projs};
    return sk_net_create(&spec, net, err);
}

static sk_net_t *make(sk_pop_spec_t *pops, uint32_t n_pops, sk_proj_spec_t *projs,
                      uint32_t n_projs, double dt, uint64_t seed)
{
    sk_net_t *net = NULL;
    sk_err_t err = {0};
    int rc = create(pops, n_pops, projs, n_projs, dt, seed, &net, &err);
    cr_assert_eq(rc, 0, "create: %s: %s", err.path, err.msg);
    return net;
}

static void check_rows_sorted(const sk__proj_t *p, uint32_t n_pre)
{
    for (uint32_t pre = 0; pre < n_pre; pre++)
        for (uint64_t k = p->row[pre] + 1; k < p->row[pre + 1]; k++)
            cr_assert_geq(p->col[k], p->col[k - 1], "row %u not sorted", pre);
}

Test(connect_nest, fixed_total_number_makes_exactly_n_with_multapses_and_autapses)
{
    sk_pop_spec_t pop = pop_spec("a", "lif", 100);
    sk_proj_spec_t pr = proj_spec("a", "a", SK_RULE_FIXED_TOTAL_NUMBER, 0.5f, 1);
    pr.rule.total = 20000;
    pr.rule.autapses = 1;
    sk_net_t *net = make(&pop, 1, &pr, 1, 0.1, 7);
    const sk__proj_t *p = &net->projs[0];
    cr_assert_eq(p->n_syn, 20000);
    check_rows_sorted(p, 100);
    /* row counts ~ Binomial(20000, 1/100): mean 200, sd 14.07; autapses ~ 200 in all;
     * repeated pairs: 20000 draws over 10^4 pairs leave E[distinct] = 10^4 (1 - e^-2) */
    uint64_t self = 0, distinct = 0;
    double s2 = 0;
    for (uint32_t pre = 0; pre < 100; pre++) {
        double c = (double)(p->row[pre + 1] - p->row[pre]);
        s2 += (c - 200.0) * (c - 200.0);
        for (uint64_t k = p->row[pre]; k < p->row[pre + 1]; k++) {
            self += p->col[k] == pre;
            distinct += k == p->row[pre] || p->col[k] != p->col[k - 1];
        }
    }
    double sd = sqrt(s2 / 100.0);
    cr_expect(sd > 11.5 && sd < 16.5, "row count sd %.2f, expected ~14.07", sd);
    cr_expect(self > 150 && self < 250, "%llu autapses, expected ~200", (unsigned long long)self);
    double want = 1e4 * (1.0 - exp(-2.0));
    cr_expect(fabs((double)distinct - want) < 150.0, "%llu distinct pairs, expected %.0f",
              (unsigned long long)distinct, want);
    /* the same seed gives the same synapses */
    sk_net_t *again = make(&pop, 1, &pr, 1, 0.1, 7);
    cr_expect_eq(memcmp(again->projs[0].col, p->col, 20000 * sizeof(uint32_t)), 0);
    sk_net_destroy(again);
    sk_net_destroy(net);

    pr.rule.autapses = 0;
    net = make(&pop, 1, &pr, 1, 0.1, 7);
    p = &net->projs[0];
    cr_assert_eq(p->n_syn, 20000);
    for (uint32_t pre = 0; pre < 100; pre++)
        for (uint64_t k = p->row[pre]; k < p->row[pre + 1]; k++)
            cr_assert_neq(p->col[k], pre, "autapse %u", pre);
    sk_net_destroy(net);
}

Test(connect_nest, fixed_outdegree_gives_every_source_exactly_k_targets)
{
    sk_pop_spec_t pops[2] = {pop_spec("a", "lif", 50), pop_spec("b", "lif", 400)};
    sk_proj_spec_t pr[2] = {proj_spec("a", "b", SK_RULE_FIXED_OUTDEGREE, 0.5f, 1),
                            proj_spec("a", "a", SK_RULE_FIXED_OUTDEGREE, 0.5f, 1)};
    pr[0].rule.outdegree = 40;
    pr[1].rule.outdegree = 49; /* every other neuron: no autapses, no multapses */
    sk_net_t *net = make(pops, 2, pr, 2, 0.1, 3);
    const sk__proj_t *p = &net->projs[0];
    cr_assert_eq(p->n_syn, 50 * 40);
    uint32_t indeg[400] = {0};
    for (uint32_t pre = 0; pre < 50; pre++) {
        cr_assert_eq(p->row[pre + 1] - p->row[pre], 40);
        for (uint64_t k = p->row[pre] + 1; k < p->row[pre + 1]; k++)
            cr_assert_gt(p->col[k], p->col[k - 1], "row %u: repeated or unsorted", pre);
        for (uint64_t k = p->row[pre]; k < p->row[pre + 1]; k++)
            indeg[p->col[k]]++;
    }
    double s = 0;
    for (uint32_t j = 0; j < 400; j++)
        s += indeg[j];
    cr_expect_eq(s, 2000.0);
    p = &net->projs[1];
    for (uint32_t pre = 0; pre < 50; pre++) {
        cr_assert_eq(p->row[pre + 1] - p->row[pre], 49);
        for (uint64_t k = p->row[pre]; k < p->row[pre + 1]; k++)
            cr_assert_eq(p->col[k], (uint32_t)(k - p->row[pre]) + (k - p->row[pre] >= pre),
                         "row %u is not every other neuron", pre);
    }
    sk_net_destroy(net);

    pr[1].rule.outdegree = 50; /* one more than the possible targets */
    sk_err_t err = {0};
    net = NULL;
    cr_assert_eq(create(pops, 2, pr, 2, 0.1, 3, &net, &err), SK_ERANGE);
    cr_expect_str_eq(err.path, "projections[1].rule.outdegree");
}

Test(connect_nest, constant_delay_ms_rounds_to_the_nearest_step)
{
    sk_pop_spec_t pop = pop_spec("a", "lif", 10);
    sk_proj_spec_t pr = proj_spec("a", "a", SK_RULE_ONE_TO_ONE, 0.5f, 0);
    pr.delay_ms = (sk_dist_t){.kind = SK_DIST_CONST, .a = 1.46f};
    sk_net_t *net = make(&pop, 1, &pr, 1, 0.1, 1);
    cr_expect_eq(net->projs[0].delay, 15);
    cr_expect_null(net->projs[0].delays);
    sk_net_destroy(net);
    pr.delay_ms.a = 1.44f;
    net = make(&pop, 1, &pr, 1, 0.1, 1);
    cr_expect_eq(net->projs[0].delay, 14);
    sk_net_destroy(net);

    /* 0.04 ms is 0.4 steps: rounds to 0, refused naming the field */
    pr.delay_ms.a = 0.04f;
    sk_err_t err = {0};
    net = NULL;
    cr_assert_eq(create(&pop, 1, &pr, 1, 0.1, 1, &net, &err), SK_ERANGE);
    cr_expect_str_eq(err.path, "projections[0].delay_ms");
}

/* Mean of a normal (mu, sd) truncated below at lo. */
static double truncated_mean(double mu, double sd, double lo)
{
    double a = (lo - mu) / sd;
    double phi = exp(-0.5 * a * a) / sqrt(2.0 * M_PI), tail = 0.5 * erfc(a / sqrt(2.0));
    return mu + sd * phi / tail;
}

Test(connect_nest, normal_delays_are_redrawn_below_min_and_rounded_per_synapse)
{
    sk_pop_spec_t pop = pop_spec("a", "lif", 400);
    sk_proj_spec_t pr = proj_spec("a", "a", SK_RULE_FIXED_TOTAL_NUMBER, 0.5f, 0);
    pr.rule.total = 100000;
    pr.delay_ms = (sk_dist_t){.kind = SK_DIST_NORMAL, .a = 1.5f, .b = 0.75f};
    pr.delay_min_ms = 0.05; /* the microcircuit's redraw bound */
    sk_net_t *net = make(&pop, 1, &pr, 1, 0.1, 11);
    const sk__proj_t *p = &net->projs[0];
    cr_assert_not_null(p->delays);
    double s = 0;
    uint32_t lo = 1000, hi = 0;
    for (uint64_t k = 0; k < p->n_syn; k++) {
        s += p->delays[k];
        lo = p->delays[k] < lo ? p->delays[k] : lo;
        hi = p->delays[k] > hi ? p->delays[k] : hi;
    }
    /* the mean of the rounded values is the truncated mean in steps to within rounding
     * noise (sd 7.5 steps / sqrt(1e5) = 0.024) */
    double want = truncated_mean(1.5, 0.75, 0.05) * 10.0, got = s / (double)p->n_syn;
    cr_expect(fabs(got - want) < 0.1, "mean delay %.3f steps, expected %.3f", got, want);
    cr_expect_eq(lo, 1, "smallest delay %u steps", lo);
    cr_expect(hi >= 45 && hi <= 75, "largest delay %u steps (bound: mean + 8 sd = 75)", hi);
    cr_expect_eq(p->max_delay, hi);
    sk_net_destroy(net);

    /* without a redraw bound a normal delay can round to 0 steps: refused */
    pr.delay_min_ms = 0.0;
    sk_err_t err = {0};
    net = NULL;
    cr_assert_eq(create(&pop, 1, &pr, 1, 0.1, 1, &net, &err), SK_ERANGE);
    cr_expect_str_eq(err.path, "projections[0].delay_ms");
}

Test(connect_nest, sign_redraw_truncates_where_sign_clips)
{
    sk_pop_spec_t pop = pop_spec("a", "lif", 300);
    sk_proj_spec_t pr[2] = {proj_spec("a", "a", SK_RULE_ALL_TO_ALL, 0.0f, 1),
                            proj_spec("a", "a", SK_RULE_FIXED_TOTAL_NUMBER, 0.0f, 1)};
    pr[0].storage = SK_STORAGE_SPARSE;
    pr[0].weight = (sk_dist_t){.kind = SK_DIST_NORMAL, .a = 0.0f, .b = 1.0f, .sign = -1,
                               .redraw = 1};
    pr[1].rule.total = 90000;
    pr[1].weight = (sk_dist_t){.kind = SK_DIST_NORMAL, .a = 0.0f, .b = 1.0f, .sign = 1};
    sk_net_t *net = make(&pop, 1, pr, 2, 0.1, 5);
    /* redraw: a half-normal, mean -sqrt(2/pi) = -0.798, no zeros */
    const sk__proj_t *p = &net->projs[0];
    double s = 0;
    uint64_t zeros = 0;
    for (uint64_t k = 0; k < p->n_syn; k++) {
        cr_assert_leq(p->w[k], 0.0f);
        zeros += p->w[k] == 0.0f;
        s += p->w[k];
    }
    cr_expect_eq(zeros, 0);
    cr_expect(fabs(s / (double)p->n_syn + sqrt(2.0 / M_PI)) < 0.01, "mean %.4f",
              s / (double)p->n_syn);
    /* clipping: half the weights are exactly 0, mean sqrt(2/pi)/2 */
    p = &net->projs[1];
    s = 0;
    zeros = 0;
    for (uint64_t k = 0; k < p->n_syn; k++) {
        cr_assert_geq(p->w[k], 0.0f);
        zeros += p->w[k] == 0.0f;
        s += p->w[k];
    }
    cr_expect(fabs((double)zeros / (double)p->n_syn - 0.5) < 0.01, "zeros %llu",
              (unsigned long long)zeros);
    cr_expect(fabs(s / (double)p->n_syn - 0.5 * sqrt(2.0 / M_PI)) < 0.01);
    sk_net_destroy(net);

    /* a redraw with no mass on the allowed side is refused */
    pr[1].weight = (sk_dist_t){.kind = SK_DIST_NORMAL, .a = -10.0f, .b = 1.0f, .sign = 1,
                               .redraw = 1};
    sk_err_t err = {0};
    net = NULL;
    cr_assert_eq(create(&pop, 1, pr, 2, 0.1, 1, &net, &err), SK_ERANGE);
    cr_expect_str_eq(err.path, "projections[1].weight.redraw");
}

Test(connect_nest, uniform_delays_cover_their_range_in_whole_steps)
{
    /* 200 synapses with delays uniform on [0.1, 2.0) ms: every one in [1, 20] steps, and
     * the draws spread over that range */
    sk_pop_spec_t pops[2] = {pop_spec("s", "lif", 1), pop_spec("t", "lif", 200)};
    sk_proj_spec_t pr = proj_spec("s", "t", SK_RULE_ALL_TO_ALL, 1.0f, 0);
    pr.storage = SK_STORAGE_SPARSE;
    pr.delay_ms = (sk_dist_t){.kind = SK_DIST_UNIFORM, .a = 0.1f, .b = 2.0f};
    sk_net_t *net = make(pops, 2, &pr, 1, 0.1, 9);
    const sk__proj_t *p = &net->projs[0];
    cr_assert_not_null(p->delays);
    uint32_t seen[21] = {0};
    for (uint64_t k = 0; k < p->n_syn; k++) {
        cr_assert(p->delays[k] >= 1 && p->delays[k] <= 20, "delay %u", p->delays[k]);
        seen[p->delays[k]]++;
    }
    uint32_t distinct = 0;
    for (int d = 1; d <= 20; d++)
        distinct += seen[d] > 0;
    cr_expect_geq(distinct, 15, "only %u distinct delays among 200 uniform draws", distinct);
    sk_net_destroy(net);
}
