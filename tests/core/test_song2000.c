/* test_song2000.c: the example of Song, Miller & Abbott (2000), Nat. Neurosci. 3:919, with
 * NEST's stdp_synapse: 1000 Poisson sources at 10 Hz (spike_times drawn here) onto one
 * iaf_psc_exp neuron through additive STDP (mu_plus = mu_minus = 0, lambda 0.003, alpha 1.05,
 * tau_plus = tau_minus = 20 ms: alpha * tau_minus > tau_plus), with Song's 200 static
 * inhibitory Poisson inputs at 10 Hz. Competition drives the weights to the bounds: after
 * 3000 s of model time at least 80% lie within 10% of Wmax of 0 or of Wmax, and some at Wmax.
 * Measured: 619 near 0, 288 near Wmax (90.7%), output 16 Hz, about 15 s of CPU. The paper's
 * A+ is 0.005; lambda 0.003 gives narrower peaks within the run (0.005 for 1500 s: 77%). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <criterion/criterion.h>

#include "spiked/sk_net.h"
#include "spiked/sk_synapse.h"

#ifndef SONG_N
#define SONG_N 1000
#endif
#define SONG_RATE_HZ 10.0
#define SONG_SECONDS 3000.0
#define SONG_DT      0.1
#define SONG_INH     -100.0
#define SONG_WMAX    100.0

static uint64_t xs(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

Test(song2000, additive_stdp_drives_the_weights_to_the_bounds, .timeout = 280)
{
    const uint64_t steps = (uint64_t)(SONG_SECONDS * 1000.0 / SONG_DT);
    const double p = SONG_RATE_HZ * SONG_DT * 1e-3;
    uint64_t cap = (uint64_t)(SONG_N * (double)steps * p * 1.2) + 1000, n = 0, seed = 88172645463325252ull;
    uint64_t *times = malloc(cap * sizeof *times);
    uint32_t *who = malloc(cap * sizeof *who);
    cr_assert(times && who);
    for (uint32_t i = 0; i < SONG_N; i++) { /* exponential intervals, rounded to steps */
        double t = 0.0;
        for (;;) {
            double u = ((double)(xs(&seed) >> 11) + 0.5) * 0x1.0p-53;
            t += -log(u) / p;
            if (t >= (double)steps || n == cap)
                break;
            times[n] = (uint64_t)t;
            who[n++] = i;
        }
    }
    sk_param_t stdp[] = {{"tau_plus", 20.0}, {"lambda", 0.003}, {"alpha", 1.05}, {"mu_plus", 0.0},
                         {"mu_minus", 0.0}, {"Wmax", SONG_WMAX}};
    sk_param_t post_p[] = {{"tau_minus", 20.0}};
    sk_pop_spec_t pops[] = {{.name = "in", .model = "spike_source", .size = SONG_N},
                            {.name = "out", .model = "iaf_psc_exp", .size = 1,
                             .params = post_p, .n_params = 1}};
    sk_proj_spec_t pr = {.source = "in", .target = "out", .rule = {.kind = SK_RULE_ALL_TO_ALL},
                         .weight = {.kind = SK_DIST_UNIFORM, .a = 0.0f, .b = (float)SONG_WMAX},
                         .delay_steps = 10, .synapse = "stdp_synapse", .synapse_params = stdp,
                         .n_synapse_params = 6};
    sk_stim_spec_t st[] = {
        {.kind = SK_STIM_SPIKE_TIMES, .target = "in", .times = times, .spike_neurons = who,
         .n_times = (uint32_t)n},
        /* Song's 200 inhibitory inputs at 10 Hz, static (negative: the inhibitory receptor) */
        {.kind = SK_STIM_POISSON, .target = "out", .rate_hz = 10.0, .n_sources = 200,
         .weight = (float)SONG_INH}};
    sk_net_spec_t spec = {.dt_ms = SONG_DT, .seed = 2000, .pops = pops, .n_pops = 2,
                          .projs = &pr, .n_projs = 1, .stims = st, .n_stims = 2,
                          .limits = {.trace_spikes = 1024}};
    sk_net_t *net = NULL;
    sk_err_t err;
    cr_assert_eq(sk_net_create(&spec, &net, &err), 0, "%s: %s", err.path, err.msg);
    cr_assert_eq(sk_net_step(net, steps, NULL, NULL), 0);
    sk_conn_t *c = calloc(SONG_N, sizeof *c);
    uint64_t got = 0;
    sk_net_conns(net, 0, 0, SONG_N, c, &got);
    cr_assert_eq(got, SONG_N);
    uint32_t low = 0, high = 0;
    for (uint32_t i = 0; i < SONG_N; i++) {
        low += c[i].state[0] <= 0.1 * SONG_WMAX;
        high += c[i].state[0] >= 0.9 * SONG_WMAX;
    }
    uint32_t hist[10] = {0};
    for (uint32_t i = 0; i < SONG_N; i++) {
        int b = (int)(c[i].state[0] / SONG_WMAX * 10.0);
        hist[b < 0 ? 0 : b > 9 ? 9 : b]++;
    }
    fprintf(stderr, "song2000: weight histogram (tenths of Wmax):");
    for (int b = 0; b < 10; b++)
        fprintf(stderr, " %u", hist[b]);
    fprintf(stderr, "\n");
    sk_pop_info_t pi;
    sk_net_pop_info(net, 1, &pi);
    sk_proj_syn_info_t si;
    sk_net_proj_syn(net, 0, &si);
    const double rate = (double)pi.spikes_total / SONG_SECONDS;
    cr_log_info("song2000: %u near 0, %u near Wmax of %u; output %.1f Hz; %llu input spikes",
                low, high, SONG_N, rate, (unsigned long long)n);
    fprintf(stderr, "song2000: %u near 0, %u near Wmax of %u; output %.1f Hz; lost %llu\n", low,
            high, SONG_N, rate, (unsigned long long)si.lost);
    cr_expect_eq(si.lost, 0);
    cr_expect_gt(rate, 0.5, "the output neuron went silent (%.2f Hz)", rate);
    cr_expect_geq(low + high, 0.8 * SONG_N, "only %u of %u weights near a bound", low + high,
                  SONG_N);
    cr_expect_gt(high, 0, "no weight at Wmax: no competition, only depression");
    free(c);
    free(times);
    free(who);
    sk_net_destroy(net);
}
