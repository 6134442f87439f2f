/* bench_microcircuit.c: the Potjans & Diesmann (2014) cortical microcircuit: build time,
 * memory, real-time factor, and the mean rate and ISI CV of each population.
 *
 * The network is the body examples/microcircuit.py writes (run with --scale S, --seed N,
 * --poisson), decoded by the protocol decoder and built by sk_net_create: the same network
 * a client would POST. Then t_presim ms (default 500, discarded: the initial transient) and
 * t_sim ms (default 10,000) are stepped in chunks of 100 ms without state recorders; after
 * each chunk the chunk's spikes are read from the spike history (it must still hold all of
 * them: a lost step is an error, never a silently low rate) into per-neuron counts and ISI
 * sums. Output, one JSON object:
 *   build_s     decode + sk_net_create (the generator's time is gen_s, apart)
 *   rtf         wall time of the sk_net_step calls over t_sim / t_sim (spike reading apart:
 *               read_s); cpu_rtf the same with the process's CPU time (all threads), which
 *               a machine shared with other work inflates less than wall time
 *   rates_hz    per population: spikes in t_sim / (neurons x t_sim), all neurons counted
 *   cv_isi      per population: mean over neurons with >= 3 spikes in t_sim of sd/mean of
 *               their inter-spike intervals (n_cv: how many neurons that is)
 *   peak_rss_bytes, network_bytes (the core's own estimate), neurons, synapses, threads.
 *
 * usage: bench_microcircuit [--scale S] [--t-sim MS] [--t-presim MS] [--threads T]
 *                           [--seed N] [--poisson] [--json FILE|-] [--generator PATH]
 */
#include <math.h>

#include <jansson.h>
#include <unistd.h>

#include "bench_util.h"
#include "spiked/proto.h"

#ifndef SK_EXAMPLES_DIR
#define SK_EXAMPLES_DIR "examples"
#endif

typedef struct opts {
    double scale, t_sim, t_presim;
    uint32_t threads;
    uint64_t seed;
    int poisson;
    const char *json, *generator, *python;
} opts_t;

typedef struct counts {
    uint32_t offset[64];
    uint32_t *n;            /* spikes per neuron in t_sim */
    uint64_t *last;         /* last spike step + 1 (0: none yet) */
    double *isi_s, *isi_s2; /* sums of ISIs and their squares (steps) */
} counts_t;

static int on_spikes(void *ctx, uint64_t step, uint32_t pop, const uint32_t *ids, uint32_t n)
{
    counts_t *c = ctx;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t g = c->offset[pop] + ids[k];
        if (c->last[g]) {
            double isi = (double)(step + 1 - c->last[g]);
            c->isi_s[g] += isi;
            c->isi_s2[g] += isi * isi;
        }
        c->last[g] = step + 1;
        c->n[g]++;
    }
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_microcircuit [--scale S] [--t-sim MS] [--t-presim MS] "
                    "[--threads T] [--seed N] [--poisson] [--json FILE|-] [--generator PATH]"
                    "\n");
    exit(2);
}

static void parse(int argc, char **argv, opts_t *o)
{
    *o = (opts_t){.scale = 1.0, .t_sim = 10000.0, .t_presim = 500.0, .threads = 1, .seed = 1,
                  .json = "-", .generator = SK_EXAMPLES_DIR "/microcircuit.py",
                  .python = "/usr/bin/python3"};
    for (int k = 1; k < argc; k++) {
        const char *a = argv[k], *v = k + 1 < argc ? argv[k + 1] : NULL;
        if (!strcmp(a, "--poisson"))
            o->poisson = 1;
        else if (v && !strcmp(a, "--scale") && ++k)
            o->scale = atof(v);
        else if (v && !strcmp(a, "--t-sim") && ++k)
            o->t_sim = atof(v);
        else if (v && !strcmp(a, "--t-presim") && ++k)
            o->t_presim = atof(v);
        else if (v && !strcmp(a, "--threads") && ++k)
            o->threads = (uint32_t)atoi(v);
        else if (v && !strcmp(a, "--seed") && ++k)
            o->seed = strtoull(v, NULL, 10);
        else if (v && !strcmp(a, "--json") && ++k)
            o->json = v;
        else if (v && !strcmp(a, "--generator") && ++k)
            o->generator = v;
        else
            usage();
    }
    if (!(o->scale > 0.0 && o->scale <= 1.0) || !(o->t_sim > 0.0) || !(o->t_presim >= 0.0) ||
        o->threads < 1 || o->threads > 64)
        usage();
}

/* The generator's JSON body for these options. The generator: --generator, else the
 * source tree's examples/microcircuit.py, else examples/microcircuit.py under the current
 * directory (a copied binary run from another checkout's root); the interpreter: Debian's
 * /usr/bin/python3 where it exists, else python3 on PATH. */
static json_t *generate(opts_t *o)
{
    char cmd[2048];
    if (access(o->generator, R_OK) != 0 && access("examples/microcircuit.py", R_OK) == 0)
        o->generator = "examples/microcircuit.py";
    if (access(o->python, X_OK) != 0)
        o->python = "python3";
    snprintf(cmd, sizeof cmd, "%s %s --scale %.17g --seed %llu%s -o -", o->python,
             o->generator, o->scale, (unsigned long long)o->seed,
             o->poisson ? " --poisson" : "");
    FILE *f = popen(cmd, "r");
    if (!f) {
        fprintf(stderr, "bench: cannot run %s\n", cmd);
        exit(2);
    }
    json_error_t je;
    json_t *j = json_loadf(f, 0, &je);
    if (pclose(f) != 0 || !j) {
        fprintf(stderr, "bench: %s failed (%s)\n", cmd, j ? "exit status" : je.text);
        exit(2);
    }
    return j;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The machine's 1-minute load average (a shared machine makes wall times long). */
static double load_avg(void)
{
    double l = -1.0;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1)
            l = -1.0;
        fclose(f);
    }
    return l;
}

static uint64_t ms_steps(double ms, double dt)
{
    return (uint64_t)floor(ms / dt + 0.5);
}

int main(int argc, char **argv)
{
    opts_t o;
    parse(argc, argv, &o);
    double t0 = bench_now();
    json_t *body = generate(&o);
    const double gen_s = bench_now() - t0;

    t0 = bench_now();
    sk_proto_session_t *s = NULL;
    sk_proto_error_t pe = {0};
    if (sk_proto_session_decode(body, NULL, &s, &pe) != 0) {
        fprintf(stderr, "bench: decode: %s: %s\n", pe.path, pe.message);
        return 2;
    }
    json_decref(body);
    sk_net_t *net = NULL;
    sk_err_t err = {0};
    bench_check(sk_net_create(&s->spec, &net, &err), &err, "sk_net_create");
    const double build_s = bench_now() - t0;
    const double dt = s->spec.dt_ms;
    sk_proto_session_free(s);

    sk_net_info_t info;
    sk_net_info(net, &info);
    fprintf(stderr, "microcircuit: scale %g, %llu neurons, %llu synapses, built in %.2f s\n",
            o.scale, (unsigned long long)info.n_neurons, (unsigned long long)info.n_synapses,
            build_s);
    sk_pool_t *pool = NULL;
    sk_parallel_t par;
    if (o.threads > 1) {
        bench_check(sk_pool_create(o.threads, &pool), NULL, "sk_pool_create");
        sk_pool_parallel(pool, &par);
        sk_net_set_parallel(net, &par);
    }

    const uint32_t n_pops = info.n_pops;
    if (n_pops > 64) {
        fprintf(stderr, "bench: too many populations\n");
        return 2;
    }
    counts_t c = {0};
    const char *names[64];
    uint32_t sizes[64];
    for (uint32_t p = 0; p < n_pops; p++) {
        sk_pop_info_t pi;
        bench_check(sk_net_pop_info(net, p, &pi), NULL, "sk_net_pop_info");
        c.offset[p] = pi.offset;
        names[p] = pi.name;
        sizes[p] = pi.size;
    }
    const size_t n = (size_t)info.n_neurons;
    c.n = bench_alloc(n, sizeof *c.n);
    c.last = bench_alloc(n, sizeof *c.last);
    c.isi_s = bench_alloc(n, sizeof *c.isi_s);
    c.isi_s2 = bench_alloc(n, sizeof *c.isi_s2);

    const uint64_t presim = ms_steps(o.t_presim, dt), sim = ms_steps(o.t_sim, dt);
    const uint64_t chunk = ms_steps(100.0, dt) ? ms_steps(100.0, dt) : 1;
    t0 = bench_now();
    bench_check(sk_net_step(net, presim, NULL, NULL), NULL, "sk_net_step (presim)");
    const double presim_s = bench_now() - t0;
    double step_s = 0.0, read_s = 0.0, cpu_s = 0.0;
    for (uint64_t done = 0; done < sim;) {
        uint64_t k = sim - done < chunk ? sim - done : chunk, from = presim + done, kept = 0;
        double c0 = cpu_now();
        t0 = bench_now();
        bench_check(sk_net_step(net, k, NULL, NULL), NULL, "sk_net_step");
        double t1 = bench_now();
        step_s += t1 - t0;
        cpu_s += cpu_now() - c0;
        bench_check(sk_net_spikes(net, from, from + k, &kept, on_spikes, &c), NULL,
                    "sk_net_spikes");
        if (kept > from) {
            fprintf(stderr, "bench: the spike history lost steps %llu..%llu (raise "
                            "limits.spike_history)\n",
                    (unsigned long long)from, (unsigned long long)kept);
            return 3;
        }
        read_s += bench_now() - t1;
        done += k;
    }

    bench_json_t j = {0};
    json_open(&j, NULL, '{');
    json_str(&j, "bench", "microcircuit");
    json_num(&j, "scale", o.scale);
    json_str(&j, "background", o.poisson ? "poisson" : "dc");
    json_num(&j, "seed", (double)o.seed);
    json_num(&j, "threads", o.threads);
    json_sep(&j); /* exact integers (json_num keeps 6 digits) */
    json_raw(&j, "\"neurons\":%llu", (unsigned long long)info.n_neurons);
    json_sep(&j);
    json_raw(&j, "\"synapses\":%llu", (unsigned long long)info.n_synapses);
    json_sep(&j);
    json_raw(&j, "\"network_bytes\":%llu", (unsigned long long)info.bytes);
    json_num(&j, "gen_s", gen_s);
    json_num(&j, "build_s", build_s);
    json_num(&j, "t_presim_ms", o.t_presim);
    json_num(&j, "t_sim_ms", o.t_sim);
    json_num(&j, "presim_s", presim_s);
    json_num(&j, "sim_s", step_s);
    json_num(&j, "read_s", read_s);
    json_num(&j, "rtf", step_s / (o.t_sim * 1e-3));
    json_num(&j, "cpu_rtf", cpu_s / (o.t_sim * 1e-3));
    json_num(&j, "load_avg_1min", load_avg());
    double tsim_s = (double)sim * dt * 1e-3;
    json_open(&j, "rates_hz", '{');
    for (uint32_t p = 0; p < n_pops; p++) {
        double total = 0;
        for (uint32_t i = 0; i < sizes[p]; i++)
            total += c.n[c.offset[p] + i];
        json_num(&j, names[p], total / ((double)sizes[p] * tsim_s));
    }
    json_close(&j, '}');
    uint32_t n_cv[64] = {0};
    json_open(&j, "cv_isi", '{');
    for (uint32_t p = 0; p < n_pops; p++) {
        double cv = 0;
        for (uint32_t i = 0; i < sizes[p]; i++) {
            uint32_t g = c.offset[p] + i;
            if (c.n[g] < 3)
                continue;
            double m = c.isi_s[g] / (c.n[g] - 1), v = c.isi_s2[g] / (c.n[g] - 1) - m * m;
            cv += sqrt(v > 0 ? v : 0) / m;
            n_cv[p]++;
        }
        if (n_cv[p]) {
            json_num(&j, names[p], cv / n_cv[p]);
        } else { /* no neuron spiked three times: no CV */
            json_sep(&j);
            json_raw(&j, "\"%s\":null", names[p]);
        }
    }
    json_close(&j, '}');
    json_open(&j, "n_cv", '{');
    for (uint32_t p = 0; p < n_pops; p++)
        json_num(&j, names[p], n_cv[p]);
    json_close(&j, '}');
    json_sep(&j);
    json_raw(&j, "\"peak_rss_bytes\":%llu", (unsigned long long)bench_peak_rss());
    json_close(&j, '}');
    sk_net_destroy(net);
    if (pool)
        sk_pool_destroy(pool);
    free(c.n);
    free(c.last);
    free(c.isi_s);
    free(c.isi_s2);
    return json_write(&j, o.json);
}
