/* bench_core_step.c: the direct core step, the peer of the HTTP step benchmarks
 * (tests/bench/run-server). Builds a network from a create-session body exactly as the
 * server does (sk_proto_parse, sk_proto_session_decode, sk_net_create) and times
 * sk_net_step(net, 1) one step at a time: what a POST .../step {"steps":1} costs without
 * the HTTP path.
 *
 * usage: bench_core_step --file BODY.json [--n 20000] [--warmup 1000] [--json OUT]
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spiked/proto.h"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    fclose(f);
    if (s)
        s[n] = '\0';
    *len = (size_t)n;
    return s;
}

int main(int argc, char **argv)
{
    const char *file = NULL, *out = NULL;
    long n = 20000, warm = 1000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--file"))
            file = argv[i + 1];
        else if (!strcmp(argv[i], "--json"))
            out = argv[i + 1];
        else if (!strcmp(argv[i], "--n"))
            n = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--warmup"))
            warm = atol(argv[i + 1]);
    }
    size_t len = 0;
    char *body = file ? slurp(file, &len) : NULL;
    if (!body || n < 1) {
        fprintf(stderr, "usage: bench_core_step --file BODY.json [--n N] [--warmup N] "
                        "[--json OUT]\n");
        return 2;
    }
    sk_proto_caps_t caps;
    sk_proto_caps_default(&caps);
    json_t *j = NULL;
    sk_proto_session_t *ps = NULL;
    sk_proto_error_t e;
    sk_net_t *net = NULL;
    sk_err_t ce = {0};
    if (sk_proto_parse(body, len, &caps, &j, &e) || sk_proto_session_decode(j, &caps, &ps, &e)) {
        fprintf(stderr, "bench_core_step: %s: %s: %s\n", file, e.path, e.message);
        return 1;
    }
    if (sk_net_create(&ps->spec, &net, &ce)) {
        fprintf(stderr, "bench_core_step: %s: %s: %s\n", file, ce.path, ce.msg);
        return 1;
    }
    uint64_t *t = malloc((size_t)n * sizeof *t);
    for (long i = 0; i < warm; i++)
        sk_net_step(net, 1, NULL, NULL);
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++) {
        uint64_t a = now_ns();
        sk_net_step(net, 1, NULL, NULL);
        t[i] = now_ns() - a;
    }
    double total = (double)(now_ns() - t0) / 1e9;
    sk_net_info_t ni;
    sk_net_info(net, &ni);
    qsort(t, (size_t)n, sizeof *t, cmp_u64);
    FILE *f = out ? fopen(out, "w") : stdout;
    if (!f)
        return 1;
    fprintf(f,
            "{\"mode\": \"core_step\", \"file\": \"%s\", \"steps\": %ld, \"neurons\": %" PRIu64
            ", \"spikes_per_step\": %.2f, \"p50_us\": %.3f, \"p90_us\": %.3f, "
            "\"p99_us\": %.3f, \"max_us\": %.3f, \"mean_us\": %.3f}\n",
            file, n, (uint64_t)ni.n_neurons, (double)ni.spikes_total / (double)(n + warm),
            (double)t[n / 2] / 1e3, (double)t[(size_t)(0.9 * (double)(n - 1))] / 1e3,
            (double)t[(size_t)(0.99 * (double)(n - 1))] / 1e3, (double)t[n - 1] / 1e3,
            total / (double)n * 1e6);
    if (f != stdout)
        fclose(f);
    free(t);
    sk_net_destroy(net);
    sk_proto_session_free(ps);
    json_decref(j);
    free(body);
    return 0;
}
