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
