/* test_stim.c: stimuli. Poisson counts per step have mean lambda = n_sources * rate * dt
 * (inversion and normal regimes) and are independent across neurons and steps; currents
 * follow their schedule exactly; spike-time arrays force spikes on their steps; Poisson
 * rates change between steps. Input is observed through a LIF that only integrates
 * (tau_syn_inv = 0, v_th huge): its i is the running sum of every input it received. */
#include <math.h>

#include <criterion/criterion.h>

#include "netspec.h"

static sk_param_t integrator[] = {{"tau_syn_inv", 0.0f}, {"tau_mem_inv", 0.0f}, {"v_th", 1e6f}};

static sk_net_t *make_one(uint32_t size, sk_stim_spec_t *st, uint32_t n_stims, double dt)
{
    sk_pop_spec_t pop = pop_spec("p", "lif", size);
    pop.params = integrator;
    pop.n_params = 3;
    sk_net_spec_t spec = {.dt_ms = dt, .seed = 42, .pops = &pop, .n_pops = 1, .stims = st,
                          .n_stims = n_stims};
    sk_net_t *net = NULL;
    sk_err_t err;
    cr_assert_eq(sk_net_create(&spec, &net, &err), 0, "%s: %s", err.path, err.msg);
    return net;
}

static double total_input(const sk_net_t *net, uint32_t n)
{
    const float *i;
    sk_net_state(net, 0, "i", &i);
    double s = 0;
    for (uint32_t j = 0; j < n; j++)
        s += i[j];
    return s;
}

static void check_rate(double rate, uint32_t sources, double dt, uint32_t steps)
{
    sk_stim_spec_t st = {.kind = SK_STIM_POISSON, .target = "p", .rate_hz = rate,
                         .n_sources = sources, .weight = 1.0f};
    sk_net_t *net = make_one(1000, &st, 1, dt);
    sk_net_step(net, steps, NULL, NULL);
    double lambda = sources * rate * dt * 1e-3, mean = lambda * steps * 1000;
    double got = total_input(net, 1000);
    cr_expect(fabs(got - mean) <= 5 * sqrt(mean), "rate %g Hz x %u sources: %g events, expected "
              "%g +- %g", rate, sources, got, mean, sqrt(mean));
    sk_net_destroy(net);
}

Test(stim, poisson_counts_have_the_expected_mean)
{
    check_rate(20, 1, 1.0, 1000);    /* lambda 0.02: inversion */
    check_rate(5, 100, 0.1, 2000);   /* lambda 0.05 */
    check_rate(50, 1000, 1.0, 200);  /* lambda 50: normal approximation */
    check_rate(0, 1, 1.0, 100);
}

Test(stim, poisson_trains_of_different_neurons_are_independent)
{
    sk_stim_spec_t st = {.kind = SK_STIM_POISSON, .target = "p", .rate_hz = 100, .weight = 1};
    sk_net_t *net = make_one(2, &st, 1, 1.0);
    /* per-step events of neuron 0 and 1: correlation over 20000 steps must be ~0 */
    double s0 = 0, s1 = 0, s01 = 0, prev0 = 0, prev1 = 0;
    const uint32_t n = 20000;
    for (uint32_t t = 0; t < n; t++) {
        sk_net_step(net, 1, NULL, NULL);
        const float *i;
        sk_net_state(net, 0, "i", &i);
        double e0 = i[0] - prev0, e1 = i[1] - prev1;
        prev0 = i[0];
        prev1 = i[1];
        s0 += e0;
        s1 += e1;
        s01 += e0 * e1;
    }
    double cov = s01 / n - (s0 / n) * (s1 / n);
    cr_expect(fabs(cov) < 5 * 0.1 / sqrt(n), "covariance %g", cov);
    sk_net_destroy(net);
}

Test(stim, currents_follow_their_schedule)
{
    uint64_t times[] = {3, 5, 9};
    float amps[] = {1.0f, -2.0f, 0.5f};
    uint32_t only[] = {1};
    sk_stim_spec_t st[2] = {
        {.kind = SK_STIM_STEP_CURRENT, .target = "p", .times = times, .amplitudes = amps,
         .n_times = 3},
        {.kind = SK_STIM_CURRENT, .target = "p", .amplitude = 0.125f, .start = 4, .stop = 6,
         .neurons = only, .n_neurons = 1},
    };
    sk_net_t *net = make_one(2, st, 2, 1.0);
    double want0 = 0, want1 = 0;
    for (uint64_t t = 0; t < 12; t++) {
        sk_net_step(net, 1, NULL, NULL);
        double a = t < 3 ? 0 : t < 5 ? 1 : t < 9 ? -2 : 0.5;
        want0 += a;
        want1 += a + (t >= 4 && t < 6 ? 0.125 : 0);
        const float *i;
        sk_net_state(net, 0, "i", &i);
        cr_expect_eq(i[0], (float)want0, "step %llu", (unsigned long long)t);
        cr_expect_eq(i[1], (float)want1, "step %llu", (unsigned long long)t);
    }
    sk_net_destroy(net);
}

static int count_spikes(void *ctx, uint64_t step, uint32_t pop, const uint32_t *ids, uint32_t n)
{
    uint64_t *acc = ctx;
    (void)pop;
    for (uint32_t k = 0; k < n; k++)
        acc[0] += (step + 1) * 100 + ids[k], acc[1]++;
    return 0;
}

Test(stim, spike_times_force_spikes_on_their_steps)
{
    uint64_t times[] = {7, 2, 7, 0};
    uint32_t who[] = {3, 1, 0, 2};
    sk_stim_spec_t st = {.kind = SK_STIM_SPIKE_TIMES, .target = "p", .times = times,
                         .spike_neurons = who, .n_times = 4};
    sk_net_t *net = make_one(4, &st, 1, 1.0);
    sk_net_step(net, 10, NULL, NULL);
    uint64_t acc[2] = {0};
    sk_net_spikes(net, 0, 10, NULL, count_spikes, acc);
    cr_expect_eq(acc[1], 4);
    cr_expect_eq(acc[0], (8 * 100 + 3) + (3 * 100 + 1) + (8 * 100 + 0) + (1 * 100 + 2));
    sk_net_destroy(net);
}

Test(stim, poisson_rate_changes_between_steps)
{
    sk_stim_spec_t st[2] = {{.kind = SK_STIM_POISSON, .target = "p", .rate_hz = 0, .weight = 1},
                            {.kind = SK_STIM_CURRENT, .target = "p", .amplitude = 0}};
    sk_net_t *net = make_one(1000, st, 2, 1.0);
    sk_net_step(net, 100, NULL, NULL);
    cr_expect_eq(total_input(net, 1000), 0.0);
    sk_err_t err;
    cr_expect_eq(sk_net_set_poisson_rate(net, 0, 50, &err), 0);
    sk_net_step(net, 100, NULL, NULL);
    double got = total_input(net, 1000), mean = 0.05 * 100 * 1000;
    cr_expect(fabs(got - mean) < 5 * sqrt(mean), "%g events, expected %g", got, mean);
    cr_expect_eq(sk_net_set_poisson_rate(net, 1, 5, &err), SK_EINVAL);
    cr_expect_eq(sk_net_set_poisson_rate(net, 0, -1, &err), SK_ERANGE);
    cr_expect_eq(sk_net_set_poisson_rate(net, 7, 1, &err), SK_ENOENT);
    sk_net_destroy(net);
}

/* Found by the fuzz corpus replay under ASan (tests/proto/cases/valid/all_stimuli): a
 * step_current on a list of neurons had its per-time amplitudes reordered as if they were
 * per-neuron (and read past their end after the last time). */
Test(stim, a_step_current_on_some_neurons_keeps_its_schedule)
{
    uint64_t times[] = {3, 5, 9};
    float amps[] = {1.0f, -2.0f, 0.5f};
    uint32_t some[] = {2, 0}; /* unsorted: the core sorts targets by id */
    sk_stim_spec_t st = {.kind = SK_STIM_STEP_CURRENT, .target = "p", .times = times,
                         .amplitudes = amps, .n_times = 3, .neurons = some, .n_neurons = 2};
    sk_net_t *net = make_one(3, &st, 1, 1.0);
    double want = 0;
    for (uint64_t t = 0; t < 12; t++) {
        sk_net_step(net, 1, NULL, NULL);
        want += t < 3 ? 0 : t < 5 ? 1 : t < 9 ? -2 : 0.5;
        const float *i;
        sk_net_state(net, 0, "i", &i);
        cr_expect_eq(i[0], (float)want, "step %llu", (unsigned long long)t);
        cr_expect_eq(i[1], 0.0f, "step %llu: not a target", (unsigned long long)t);
        cr_expect_eq(i[2], (float)want, "step %llu", (unsigned long long)t);
    }
    sk_net_t *copy = NULL;
    cr_assert_eq(sk_net_clone(net, &copy), 0);
    cr_expect(nets_equal(net, copy));
    sk_net_destroy(copy);
    sk_net_destroy(net);
}

Test(stim, a_current_can_give_each_neuron_its_own_amplitude)
{
    float amps[] = {0.5f, -1.0f, 2.0f};
    uint32_t some[] = {2, 0};
    float two[] = {4.0f, 8.0f};
    sk_stim_spec_t st[2] = {{.kind = SK_STIM_CURRENT, .target = "p", .amplitudes = amps},
                            {.kind = SK_STIM_CURRENT, .target = "p", .neurons = some,
                             .n_neurons = 2, .amplitudes = two, .start = 1}};
    sk_net_t *net = make_one(3, st, 2, 1.0);
    sk_net_step(net, 3, NULL, NULL);
    const float *i;
    sk_net_state(net, 0, "i", &i);
    cr_expect_eq(i[0], 3 * 0.5f + 2 * 8.0f);
    cr_expect_eq(i[1], 3 * -1.0f);
    cr_expect_eq(i[2], 3 * 2.0f + 2 * 4.0f);
    sk_net_t *copy = NULL;
    cr_assert_eq(sk_net_clone(net, &copy), 0);
    cr_expect(nets_equal(net, copy));
    sk_net_step(copy, 1, NULL, NULL);
    sk_net_state(copy, 0, "i", &i);
    cr_expect_eq(i[1], 4 * -1.0f);
    sk_net_destroy(copy);
    sk_net_destroy(net);
}

Test(stim, stimulus_info_describes_each_stimulus)
{
    sk_stim_spec_t st[2] = {{.kind = SK_STIM_POISSON, .target = "p", .rate_hz = 12.5,
                             .n_sources = 3, .weight = 0.25f},
                            {.kind = SK_STIM_CURRENT, .target = "p", .amplitude = 2, .start = 4}};
    sk_net_t *net = make_one(5, st, 2, 1.0);
    sk_stim_info_t info;
    cr_assert_eq(sk_net_stim_info(net, 0, &info), 0);
    cr_expect_eq(info.kind, SK_STIM_POISSON);
    cr_expect_eq(info.rate_hz, 12.5);
    cr_expect_eq(info.n_sources, 3);
    cr_expect_eq(info.weight, 0.25f);
    sk_net_set_poisson_rate(net, 0, 40, NULL);
    sk_net_stim_info(net, 0, &info);
    cr_expect_eq(info.rate_hz, 40);
    cr_assert_eq(sk_net_stim_info(net, 1, &info), 0);
    cr_expect_eq(info.kind, SK_STIM_CURRENT);
    cr_expect_eq(info.amplitude, 2.0f);
    cr_expect_eq(info.start, 4);
    cr_expect_eq(sk_net_stim_info(net, 2, &info), SK_ENOENT);
    sk_net_destroy(net);
}

/* ------------------------------------------------------------------------------------ */
/* A block whose ring slot nothing wrote into takes its input from the stimuli alone
 * (sk__block_inputs: scratch, or a current's amplitudes read in place); one whose slot was
 * written sums into the slot. Both must give the same input bit for bit. Network b gets
 * the same stimuli plus an injected current of +0 at every step, which changes no sum but
 * marks its slots written. */

static sk_net_t *mixed_net(float *amps_a, float *amps_b, uint32_t n)
{
    static uint64_t times[] = {3, 40, 90};
    static float levels[] = {0.1f, -0.05f, 0.2f};
    static uint32_t some[] = {4097, 7, 2048, 2047, 3};
    static float some_amps[] = {0.5f, -0.25f, 1.0f, 2.0f, 0.125f};
    sk_pop_spec_t pops[2] = {pop_spec("a", "lif", n), pop_spec("b", "coba_lif", n - 300)};
    sk_stim_spec_t st[] = {
        {.kind = SK_STIM_CURRENT, .target = "a", .amplitudes = amps_a},
        {.kind = SK_STIM_POISSON, .target = "a", .rate_hz = 200, .weight = 0.3f, .start = 0},
        {.kind = SK_STIM_STEP_CURRENT, .target = "a", .times = times, .amplitudes = levels,
         .n_times = 3},
        {.kind = SK_STIM_CURRENT, .target = "b", .channel = "g_e", .amplitudes = amps_b},
        {.kind = SK_STIM_CURRENT, .target = "b", .neurons = some, .n_neurons = 5,
         .amplitudes = some_amps, .start = 10, .stop = 60},
        {.kind = SK_STIM_POISSON, .target = "b", .rate_hz = 500, .weight = -0.7f},
    };
    sk_net_spec_t spec = {.dt_ms = 1.0, .seed = 9, .pops = pops, .n_pops = 2, .stims = st,
                          .n_stims = sizeof st / sizeof st[0]};
    sk_net_t *net = NULL;
    sk_err_t err;
    cr_assert_eq(sk_net_create(&spec, &net, &err), 0, "%s: %s", err.path, err.msg);
    return net;
}

static int hash_spikes(void *ctx, uint64_t step, uint32_t pop, const uint32_t *ids, uint32_t n)
{
    uint64_t *h = ctx;
    for (uint32_t k = 0; k < n; k++)
        h[0] = h[0] * 1000003u + step * 7919u + pop * 104729u + ids[k], h[1]++;
    return 0;
}

static void expect_same_state(const sk_net_t *x, const sk_net_t *y, uint32_t pop,
                              const char *const *vars, uint32_t n_vars, uint32_t n)
{
    for (uint32_t k = 0; k < n_vars; k++) {
        const float *a, *b;
        sk_net_state(x, pop, vars[k], &a);
        sk_net_state(y, pop, vars[k], &b);
        cr_expect(memcmp(a, b, n * sizeof(float)) == 0, "population %u, %s differs", pop,
                  vars[k]);
    }
}

Test(stim, a_block_gets_the_same_input_whether_its_ring_slot_was_written_or_not)
{
    const uint32_t n = 5000, steps = 120; /* blocks of 2048: two full, one partial */
    float *amps_a = malloc(n * sizeof(float)), *amps_b = malloc(n * sizeof(float));
    for (uint32_t j = 0; j < n; j++) {
        amps_a[j] = 0.3f * (float)((j * 2654435761u) % 1000u) / 1000.0f;
        amps_b[j] = 0.02f * (float)((j * 40503u) % 997u) / 997.0f;
    }
    amps_a[5] = -0.0f; /* not read in place: 0 + -0 is +0 */
    for (int in_place = 1; in_place >= 0; in_place--) {
        if (!in_place)
            amps_b[17] = -0.0f;
        sk_net_t *a = mixed_net(amps_a, amps_b, n), *b = mixed_net(amps_a, amps_b, n);
        sk_inject_t inj[2 * 120];
        for (uint32_t t = 0; t < steps; t++)
            for (uint32_t p = 0; p < 2; p++)
                inj[2 * t + p] = (sk_inject_t){.kind = SK_INJECT_CURRENT, .pop = p,
                                               .neuron = 11, .step = t, .value = 0.0f};
        cr_assert_eq(sk_net_inject(b, inj, 2 * steps, NULL), 0);
        sk_net_step(a, steps, NULL, NULL);
        sk_net_step(b, steps, NULL, NULL);
        static const char *const lif_vars[] = {"v", "i"};
        static const char *const coba_vars[] = {"v", "g_e", "g_i"};
        expect_same_state(a, b, 0, lif_vars, 2, n);
        expect_same_state(a, b, 1, coba_vars, 3, n - 300);
        uint64_t ha[2] = {0}, hb[2] = {0};
        sk_net_spikes(a, 0, steps, NULL, hash_spikes, ha);
        sk_net_spikes(b, 0, steps, NULL, hash_spikes, hb);
        cr_expect_gt(ha[1], 1000, "the test network should spike (%llu)",
                     (unsigned long long)ha[1]);
        cr_expect_eq(ha[0], hb[0]);
        cr_expect_eq(ha[1], hb[1]);
        sk_net_destroy(a);
        sk_net_destroy(b);
    }
    free(amps_a);
    free(amps_b);
}
