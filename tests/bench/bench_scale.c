/* bench_scale.c: a network of 1e6 neurons and 1e8 synapses: build time, memory (peak resident
 * set size of the process, and the network's own count), and step rate on 1 and 2 threads.
 *
 * Network: the COBA network of bench_coba.c scaled up: coba_lif populations exc (800,000) and
 * inh (200,000) with the same parameters, refractoriness (49 steps) and random initial state,
 * four fixed_probability projections with p = 1e-4 (out-degree ~100, so 1e8 synapses in all),
 * constant weights 0.6 (exc) and -6.7 (inh), delay 1 step, dt = 0.1 ms. CSR storage with a
 * constant weight keeps 4 bytes per synapse (target id) plus 8 bytes per source row;
 * --drawn-weights draws each weight (normal, sd 10% of the mean, sign kept: Dale), which
 * stores 4 more bytes per synapse.
 * Stepping, for each thread count: back to step 0 (sk_net_reset: the same initial state), a
 * warm-up of `warm` steps (the initial transient), then `reps` samples of `steps` steps, each
 * starting where the last stopped. Results do not depend on the thread count, so both
 * thread counts step through exactly the same activity.
 * --quick builds the same 1e6 x 1e8 network (building is the point) and steps less.
 */
#include "bench_util.h"

typedef struct opts {
    int quick, drawn, reps;
    uint32_t n;
    double p;
    uint32_t steps, warm;
    uint32_t threads[16]; /* thread counts to run, in order (default 1, 2) */
    uint32_t n_threads;
    const char *json;
} opts_t;

static sk_net_t *make_net(const opts_t *o)
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
    const uint32_t n_exc = o->n / 5 * 4, n_inh = o->n - n_exc;
    const sk_pop_spec_t pops[2] = {
        {.name = "exc",
         .model = "coba_lif",
         .size = n_exc,
         .params = params,
         .n_params = 9,
         .init = init,
         .n_init = 3,
         .refractory_steps = 49},
        {.name = "inh",
         .model = "coba_lif",
         .size = n_inh,
         .params = params,
         .n_params = 9,
         .init = init,
         .n_init = 3,
         .refractory_steps = 49},
    };
    sk_proj_spec_t projs[4];
    const char *src[4] = {"exc", "exc", "inh", "inh"}, *dst[4] = {"exc", "inh", "exc", "inh"};
    for (int k = 0; k < 4; k++) {
        const float w = k < 2 ? 0.6f : -6.7f;
        projs[k] = (sk_proj_spec_t){.source = src[k], .target = dst[k], .delay_steps = 1};
        projs[k].rule.kind = SK_RULE_FIXED_PROBABILITY;
        projs[k].rule.p = o->p;
        projs[k].weight =
            o->drawn ? (sk_dist_t){SK_DIST_NORMAL, w, 0.1f * (w > 0 ? w : -w), w > 0 ? 1 : -1, 0}
                     : (sk_dist_t){SK_DIST_CONST, w, 0.0f, 0, 0};
    }
    sk_net_spec_t spec = {
        .dt_ms = 0.1, .seed = 1, .pops = pops, .n_pops = 2, .projs = projs, .n_projs = 4};
    spec.limits.max_neurons = o->n;
    spec.limits.max_synapses = UINT64_C(400000000);
    sk_net_t *net = NULL;
    sk_err_t err;
    bench_check(sk_net_create(&spec, &net, &err), &err, "sk_net_create");
    return net;
}

static int parse(int argc, char **argv, opts_t *o)
{
    *o = (opts_t){.reps = 5, .n = 1000000, .p = 1e-4, .steps = 100, .warm = 1000,
                  .threads = {1, 2}, .n_threads = 2};
    for (int k = 1; k < argc; k++) {
        const char *a = argv[k], *v = k + 1 < argc ? argv[k + 1] : NULL;
        if (!strcmp(a, "--quick"))
            o->quick = 1;
        else if (!strcmp(a, "--drawn-weights"))
            o->drawn = 1;
        else if (v && !strcmp(a, "--n") && ++k)
            o->n = (uint32_t)strtod(v, NULL);
        else if (v && !strcmp(a, "--p") && ++k)
            o->p = strtod(v, NULL);
        else if (v && !strcmp(a, "--steps") && ++k)
            o->steps = (uint32_t)atoi(v);
        else if (v && !strcmp(a, "--warm") && ++k)
            o->warm = (uint32_t)atoi(v);
        else if (v && !strcmp(a, "--reps") && ++k)
            o->reps = atoi(v);
        else if (v && !strcmp(a, "--threads") && ++k) { /* one count or a list: 1,2,4,8,16 */
            o->n_threads = 0;
            for (const char *c = v; *c && o->n_threads < 16; c += strcspn(c, ",") + (c[strcspn(c, ",")] != 0)) {
                int t = atoi(c);
                if (t < 1 || t > 256)
                    return fprintf(stderr, "bench_scale: --threads takes counts in [1, 256]\n"), 1;
                o->threads[o->n_threads++] = (uint32_t)t;
            }
        }
        else if (v && !strcmp(a, "--json") && ++k)
            o->json = v;
        else {
            fprintf(stderr, "usage: bench_scale [--quick] [--n N] [--p P] [--steps S] [--reps R]"
                            " [--warm W] [--threads T[,T...]] [--drawn-weights] [--json FILE|-]\n");
            return 1;
        }
    }
    if (o->quick) {
        o->warm = 200;
        o->steps = o->steps < 50 ? o->steps : 50;
        o->reps = o->reps < 3 ? o->reps : 3;
    }
    if (o->reps < 1 || o->reps > BENCH_MAX_SAMPLES || o->n < 5 || o->n > 10000000) {
        fprintf(stderr, "bench_scale: reps in [1, 64], n in [5, 1e7]\n");
        return 1;
    }
    return 0;
}

static uint64_t spikes(const sk_net_t *net)
{
    sk_net_info_t info;
    sk_net_info(net, &info);
    return info.spikes_total;
}

int main(int argc, char **argv)
{
    opts_t o;
    if (parse(argc, argv, &o))
        return 1;
    const uint64_t rss0 = bench_rss();
    double t0 = bench_now();
    sk_net_t *net = make_net(&o);
    const double build_s = bench_now() - t0;
    const uint64_t peak_build = bench_peak_rss();
    sk_net_info_t info;
    sk_net_info(net, &info);
    fprintf(stderr,
            "scale: %llu neurons, %llu synapses: build %.2f s, peak RSS %.0f MB "
            "(network's count %.0f MB)\n",
            (unsigned long long)info.n_neurons, (unsigned long long)info.n_synapses, build_s,
            (double)peak_build / 1e6, (double)info.bytes / 1e6);


    bench_json_t j = {0};
    json_open(&j, NULL, '{');
    json_str(&j, "bench", "scale");
    json_num(&j, "neurons", (double)info.n_neurons);
    json_num(&j, "synapses", (double)info.n_synapses);
    json_num(&j, "drawn_weights", o.drawn);
    json_num(&j, "build_s", build_s);
    json_num(&j, "rss_before_build_bytes", (double)rss0);
    json_num(&j, "peak_rss_after_build_bytes", (double)peak_build);
    json_num(&j, "network_bytes", (double)info.bytes);
    json_num(&j, "dt_ms", 0.1);
    json_num(&j, "warm_steps", o.warm);
    json_open(&j, "runs", '[');
    for (uint32_t k = 0; k < o.n_threads; k++) {
        const uint32_t t = o.threads[k];
        sk_pool_t *pool = NULL; /* a pool of exactly t threads: no idle workers */
        sk_parallel_t par;
        if (t > 1) {
            bench_check(sk_pool_create(t, &pool), NULL, "sk_pool_create");
            sk_pool_parallel(pool, &par);
        }
        sk_net_set_parallel(net, t > 1 ? &par : NULL);
        sk_net_reset(net);
        bench_check(sk_net_step(net, o.warm, NULL, NULL), NULL, "sk_net_step");
        bench_stat_t rate = {{0}, 0};
        uint64_t s0 = spikes(net);
        for (int r = 0; r < o.reps; r++) {
            double ts = bench_now();
            bench_check(sk_net_step(net, o.steps, NULL, NULL), NULL, "sk_net_step");
            stat_add(&rate, o.steps / (bench_now() - ts));
        }
        const double hz =
            (double)(spikes(net) - s0) / (double)info.n_neurons / ((double)o.steps * o.reps * 1e-4);
        const double events = (double)(spikes(net) - s0) * (double)info.n_synapses /
                              (double)info.n_neurons / ((double)o.steps * o.reps);
        fprintf(stderr,
                "scale, %u thread(s): %.1f steps/s [%.1f, %.1f] = %.4f model s per wall s;"
                " %.1f Hz; %.1f M events/s\n",
                t, stat_median(&rate), stat_q(&rate, 0), stat_q(&rate, 2),
                stat_median(&rate) * 1e-4, hz, events * stat_median(&rate) * 1e-6);
        json_open(&j, NULL, '{');
        json_num(&j, "threads", t);
        json_num(&j, "steps", o.steps);
        json_stat(&j, "steps_per_s", &rate, 1.0);
        json_num(&j, "rate_hz", hz);
        json_num(&j, "events_per_step", events);
        json_num(&j, "events_per_s", events * stat_median(&rate));
        json_close(&j, '}');
        sk_net_set_parallel(net, NULL);
        sk_pool_destroy(pool);
    }
    json_close(&j, ']');
    json_num(&j, "peak_rss_bytes", (double)bench_peak_rss());
    json_close(&j, '}');
    fprintf(stderr, "scale: peak RSS after stepping %.0f MB\n", (double)bench_peak_rss() / 1e6);
    sk_net_destroy(net);
    return json_write(&j, o.json);
}
