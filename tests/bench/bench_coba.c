/* bench_coba.c: the Brette et al. (2007) COBA benchmark network on the core: wall time per
 * model second and synaptic events per second (the peer, Brian2, is brian_peer.py coba).
 *
 * Network (Brette's Brian script for the paper; conductances in units of the leak
 * conductance gl = 10 nS). Two coba_lif populations, exc (3200) and inh (800):
 *   tau_syn_exc_inv = 200/s (taue 5 ms), tau_syn_inh_inv = 100/s (taui 10 ms),
 *   c_m_inv = 50/s (1/taum, taum 20 ms), g_l = 1, e_rev_E = 0 mV, e_rev_I = -80 mV,
 *   v_rest = v_reset = -60 mV, v_thresh = -50 mV, dt = 0.1 ms (the model gets 1e-4 s).
 * Refractoriness: 5 ms. Brian computes not_refractory = timestep(t - lastspike) >= 50, so v
 * is held for the 49 steps after the spiking step and integrates again on the 50th; the
 * core's refractory_steps = R holds v for the R steps after the spike, so R = 49.
 * Initial state: v uniform in [-60, -50) mV, g_e normal(4, 1.5), g_i normal(20, 12) (Brette:
 * ge = (randn*1.5+4)*10 nS, gi = (randn*12+20)*10 nS; negative draws are kept, as in Brian).
 * Projections: exc -> exc, exc -> inh fixed_probability 0.02, weight 0.6 (the sign split sends
 * it to g_e); inh -> exc, inh -> inh p = 0.02, weight -6.7 (to g_i); delay 1 step. Self
 * connections are allowed (Brian's connect(p=0.02) within one group allows i -> i).
 * Update order: coba_lif (Norse) adds the input, decays the conductances, then moves v with
 * the decayed conductances; brian_peer.py writes Brian's equations to do the same. The
 * spike of step t moves v first at step t+1 in both (delay 1 here, Brian's delay 0).
 *
 * Synaptic events = spikes x mean out-degree of the source population (the same formula as
 * the peer's).
 */
#include "bench_util.h"

#define N_EXC 3200u
#define N_INH 800u

typedef struct opts {
    int reps;
    uint32_t threads;
    int spin;        /* step on the spin team instead of sk_pool (2 threads only) */
    double duration; /* model seconds */
    uint64_t seed;
    const char *json;
} opts_t;

static sk_net_t *make_net(uint64_t seed)
{
    static const sk_param_t params[] = {
        {"tau_syn_exc_inv", 200.0f}, {"tau_syn_inh_inv", 100.0f},
        {"c_m_inv", 50.0f},          {"g_l", 1.0f},
        {"e_rev_E", 0.0f},           {"e_rev_I", -80.0f},
        {"v_rest", -60.0f},          {"v_reset", -60.0f},
        {"v_thresh", -50.0f},
    };
    static const sk_init_t init[] = {
        {.var = "v", .kind = SK_INIT_UNIFORM, .a = -60.0f, .b = -50.0f},
        {.var = "g_e", .kind = SK_INIT_NORMAL, .a = 4.0f, .b = 1.5f},
        {.var = "g_i", .kind = SK_INIT_NORMAL, .a = 20.0f, .b = 12.0f},
    };
    const sk_pop_spec_t pops[2] = {
        {.name = "exc",
         .model = "coba_lif",
         .size = N_EXC,
         .params = params,
         .n_params = 9,
         .init = init,
         .n_init = 3,
         .refractory_steps = 49},
        {.name = "inh",
         .model = "coba_lif",
         .size = N_INH,
         .params = params,
         .n_params = 9,
         .init = init,
         .n_init = 3,
         .refractory_steps = 49},
    };
    sk_proj_spec_t projs[4];
    const char *src[4] = {"exc", "exc", "inh", "inh"}, *dst[4] = {"exc", "inh", "exc", "inh"};
    for (int k = 0; k < 4; k++) {
        projs[k] = (sk_proj_spec_t){.source = src[k], .target = dst[k], .delay_steps = 1};
        projs[k].rule.kind = SK_RULE_FIXED_PROBABILITY;
        projs[k].rule.p = 0.02;
        projs[k].rule.autapses = 1;
        projs[k].weight.a = k < 2 ? 0.6f : -6.7f;
    }
    sk_net_spec_t spec = {
        .dt_ms = 0.1, .seed = seed, .pops = pops, .n_pops = 2, .projs = projs, .n_projs = 4};
    sk_net_t *net = NULL;
    sk_err_t err;
    bench_check(sk_net_create(&spec, &net, &err), &err, "sk_net_create");
    return net;
}

static int parse(int argc, char **argv, opts_t *o)
{
    *o = (opts_t){.reps = 5, .threads = 1, .duration = 1.0, .seed = 1};
    for (int k = 1; k < argc; k++) {
        const char *a = argv[k], *v = k + 1 < argc ? argv[k + 1] : NULL;
        if (!strcmp(a, "--spin"))
            o->spin = 1;
        else if (v && !strcmp(a, "--reps") && ++k)
            o->reps = atoi(v);
        else if (v && !strcmp(a, "--threads") && ++k)
            o->threads = (uint32_t)atoi(v);
        else if (v && !strcmp(a, "--seed") && ++k)
            o->seed = strtoull(v, NULL, 10);
        else if (v && !strcmp(a, "--duration") && ++k)
            o->duration = strtod(v, NULL);
        else if (v && !strcmp(a, "--json") && ++k)
            o->json = v;
        else {
            fprintf(stderr, "usage: bench_coba [--reps R] [--threads 1|2] [--spin] "
                            "[--duration S] [--seed K] [--json FILE|-]\n");
            return 1;
        }
    }
    if (o->reps < 1 || o->reps > BENCH_MAX_SAMPLES || o->threads < 1 || o->threads > 2 ||
        !(o->duration > 0.0 && o->duration <= 100.0)) {
        fprintf(stderr, "bench_coba: reps in [1, 64], threads 1 or 2, duration in (0, 100] s\n");
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    opts_t o;
    if (parse(argc, argv, &o))
        return 1;
    const uint64_t steps = (uint64_t)(o.duration / 1e-4 + 0.5);
    double t0 = bench_now();
    sk_net_t *net = make_net(o.seed);
    const double build_s = bench_now() - t0;

    sk_pool_t *pool = NULL;
    bench_team_t *team = NULL;
    sk_parallel_t par = {0};
    if (o.threads > 1 && o.spin) {
        team = bench_team_create();
        par = (sk_parallel_t){.run = bench_team_run, .pool = team, .n_threads = 2};
    } else if (o.threads > 1) {
        bench_check(sk_pool_create(2, &pool), NULL, "sk_pool_create");
        sk_pool_parallel(pool, &par);
    }
    sk_net_set_parallel(net, o.threads > 1 ? &par : NULL);

    uint64_t syn[4];
    for (uint32_t k = 0; k < 4; k++) {
        sk_proj_info_t pi;
        sk_net_proj_info(net, k, &pi);
        syn[k] = pi.n_synapses;
    }
    const double out_exc = (double)(syn[0] + syn[1]) / N_EXC;
    const double out_inh = (double)(syn[2] + syn[3]) / N_INH;

    bench_stat_t wall = {{0}, 0}, events = {{0}, 0};
    uint64_t se = 0, si = 0;
    for (int r = -1; r < o.reps; r++) { /* r = -1: warm-up */
        sk_net_reset(net);
        double ts = bench_now();
        bench_check(sk_net_step(net, steps, NULL, NULL), NULL, "sk_net_step");
        double dt = bench_now() - ts;
        sk_pop_info_t pe, pi;
        sk_net_pop_info(net, 0, &pe);
        sk_net_pop_info(net, 1, &pi);
        se = pe.spikes_total;
        si = pi.spikes_total;
        if (r >= 0) {
            stat_add(&wall, dt / o.duration);
            stat_add(&events, ((double)se * out_exc + (double)si * out_inh) / dt);
        }
    }
    sk_net_info_t info;
    sk_net_info(net, &info);
    const char *runner = o.threads == 1 ? "sequential" : (o.spin ? "spin team" : "sk_pool");
    fprintf(stderr,
            "coba (spiked, %u thread(s), %s): %.4f s per model s [%.4f, %.4f], "
            "%.1f M events/s; rates exc %.2f Hz, inh %.2f Hz; %llu synapses; build %.3f s\n",
            o.threads, runner, stat_median(&wall), stat_q(&wall, 0), stat_q(&wall, 2),
            stat_median(&events) * 1e-6, (double)se / N_EXC / o.duration,
            (double)si / N_INH / o.duration, (unsigned long long)info.n_synapses, build_s);

    bench_json_t j = {0};
    json_open(&j, NULL, '{');
    json_str(&j, "bench", "coba");
    json_num(&j, "threads", o.threads);
    json_str(&j, "runner", runner);
    json_num(&j, "duration_s", o.duration);
    json_num(&j, "steps", (double)steps);
    json_num(&j, "build_s", build_s);
    json_num(&j, "synapses", (double)info.n_synapses);
    json_num(&j, "spikes_exc", (double)se);
    json_num(&j, "spikes_inh", (double)si);
    json_num(&j, "rate_exc_hz", (double)se / N_EXC / o.duration);
    json_num(&j, "rate_inh_hz", (double)si / N_INH / o.duration);
    json_num(&j, "events", (double)se * out_exc + (double)si * out_inh);
    json_stat(&j, "wall_per_model_s", &wall, 1.0);
    json_stat(&j, "events_per_s", &events, 1.0);
    json_close(&j, '}');
    sk_net_destroy(net);
    sk_pool_destroy(pool);
    bench_team_destroy(team);
    return json_write(&j, o.json);
}
