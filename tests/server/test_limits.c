/* test_limits.c: the per-session ceilings (--max-session-bytes, --max-spike-history,
 * --max-history-steps, --max-record-values, --max-pending and their SPIKED_* variables).
 * A create asking for more than a ceiling gets 413 limit_exceeded naming limits.<field>
 * before anything is allocated (the server's resident memory does not move); a session
 * whose defaults would need more than --max-session-bytes is refused the same way; a
 * ceiling below the core's default lowers the default instead of refusing every session;
 * a checkpoint with limits above the core's defaults (and within the ceilings) restores. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "helpers.h"

TestSuite(limits, .timeout = 90);

#define NET10 "\"network\":{\"populations\":[{\"name\":\"p\",\"model\":\"lif\",\"size\":10}]}"

static const char *body_with(const char *name, const char *limits)
{
    static char buf[1024];
    snprintf(buf, sizeof buf, "{\"name\":\"%s\",%s%s%s" NET10 "}", name,
             limits ? "\"limits\":{" : "", limits ? limits : "", limits ? "}," : "");
    return buf;
}

/* Creates with one limit at ceiling + 1: 413 naming it. */
static void over(int port, const char *field, unsigned long long ceiling)
{
    char lim[128], path[64];
    snprintf(lim, sizeof lim, "\"%s\":%llu", field, ceiling + 1);
    snprintf(path, sizeof path, "limits.%s", field);
    t_error(port, "POST", "/v1/sessions", body_with("over", lim), 413, "limit_exceeded", path);
}

/* over(), then a create at the ceiling: accepted (small ceilings only: it allocates). */
static void over_and_at(int port, const char *field, unsigned long long ceiling)
{
    char lim[128];
    over(port, field, ceiling);
    snprintf(lim, sizeof lim, "\"%s\":%llu", field, ceiling);
    int st = 0;
    json_t *j = t_req(port, "POST", "/v1/sessions", body_with("at", lim), &st);
    char *d = j ? json_dumps(j, 0) : NULL;
    /* at the ceiling the request is valid; it may still need more than --max-session-bytes */
    cr_expect(st == 201 || st == 413, "%s at its ceiling: %d %s", field, st, d ? d : "");
    free(d);
    json_decref(j);
    if (st == 201)
        json_decref(t_ok(port, "DELETE", "/v1/sessions/at", NULL, 204));
}

Test(limits, the_measured_gap_is_closed_before_allocating)
{
    sp_proc_t p;
    t_start(&p, NULL);
    long before = sp_rss_kb(&p);
    /* SECURITY.md gap 1: this took 15.6 GB of resident memory */
    t_error(p.port, "POST", "/v1/sessions",
            body_with("g", "\"spike_history\":4000000000,\"max_bytes\":100000000000"), 413,
            "limit_exceeded", "limits.max_bytes");
    t_error(p.port, "POST", "/v1/sessions", body_with("g", "\"spike_history\":4000000000"), 413,
            "limit_exceeded", "limits.spike_history");
    long after = sp_rss_kb(&p);
    cr_expect(before > 0 && after - before < 64 * 1024, "RSS went from %ld to %ld KiB", before,
              after);
    t_stop(&p);
}

Test(limits, default_ceilings)
{
    sp_proc_t p;
    t_start(&p, NULL);
    over(p.port, "max_bytes", 2ull << 30);
    over(p.port, "spike_history", 100000000);
    over(p.port, "history_steps", 10000000);
    over(p.port, "max_record_values", 100000000);
    over(p.port, "max_pending", 10000000);
    t_stop(&p);
}

Test(limits, flags_and_environment_set_the_ceilings)
{
    sp_proc_t p;
    const char *args[] = {"--max-spike-history",      "5000", "--max-history-steps", "300",
                          "--max-record-values=7000", NULL};
    const char *env[] = {"SPIKED_MAX_PENDING=40", "SPIKED_MAX_SESSION_BYTES=64M", NULL};
    cr_assert_eq(sp_start(&p, args, env), 0);
    over_and_at(p.port, "spike_history", 5000);
    over_and_at(p.port, "history_steps", 300);
    over_and_at(p.port, "max_record_values", 7000);
    over_and_at(p.port, "max_pending", 40);
    over_and_at(p.port, "max_bytes", 64ull << 20);
    /* a ceiling below the core's default lowers the default: this session holds about
     * 5000 ids and 300 step records, not the core's 1,000,000 and 100,000 */
    json_t *j = t_ok(p.port, "POST", "/v1/sessions", body_with("small", NULL), 201);
    json_int_t bytes = json_integer_value(json_object_get(j, "bytes"));
    cr_expect(bytes > 0 && bytes < 200 * 1024, "bytes = %lld", (long long)bytes);
    json_decref(j);
    /* pending injections stop at the ceiling: 5 entries x 10 neurons = 50 > 40 */
    char inputs[512] = "{\"inputs\":[";
    for (int k = 0; k < 5; k++)
        snprintf(inputs + strlen(inputs), sizeof inputs - strlen(inputs),
                 "%s{\"population\":\"p\",\"kind\":\"current\",\"step\":%d,\"value\":1}",
                 k ? "," : "", 10 + k);
    strcat(inputs, "]}");
    t_error(p.port, "POST", "/v1/sessions/small/inputs", inputs, 413, "limit_exceeded", NULL);
    t_stop(&p);
}

Test(limits, defaults_above_the_session_bytes_are_refused)
{
    sp_proc_t p;
    const char *args[] = {"--max-session-bytes", "1M", NULL};
    t_start(&p, args);
    long before = sp_rss_kb(&p);
    /* the core's default history alone (1,000,000 ids, 4 MB) is above 1 MiB */
    t_error(p.port, "POST", "/v1/sessions", body_with("d", NULL), 413, "limit_exceeded", NULL);
    /* asking for less fits */
    json_decref(t_ok(p.port, "POST", "/v1/sessions",
                     body_with("d", "\"spike_history\":1000,\"history_steps\":1000"), 201));
    long after = sp_rss_kb(&p);
    cr_expect(after - before < 64 * 1024, "RSS went from %ld to %ld KiB", before, after);
    t_stop(&p);
}

Test(limits, a_ceiling_must_be_positive_and_history_steps_fit_32_bits)
{
    char err[1024];
    const char *zero[] = {"--port", "0", "--max-session-bytes", "0", NULL};
    cr_expect_eq(sp_run(zero, NULL, err, sizeof err, 5000), 2, "%s", err);
    const char *big[] = {"--port", "0", "--max-history-steps", "4294967296", NULL};
    cr_expect_eq(sp_run(big, NULL, err, sizeof err, 5000), 2, "%s", err);
    cr_expect(strstr(err, "--max-history-steps") != NULL, "%s", err);
}

/* A session created with limits above the core's defaults (and within the server's
 * ceilings) used to be set aside as *.bad at restart: the restore capped its limits at the
 * core's defaults, below the history it had saved. */
Test(limits, a_checkpoint_above_the_core_defaults_restores)
{
    char dir[128], bad[256];
    t_tmpdir(dir, sizeof dir);
    const char *args[] = {"--data-dir", dir, NULL};
    sp_proc_t a;
    t_start(&a, args);
    json_decref(t_ok(a.port, "POST", "/v1/sessions",
                     body_with("h", "\"spike_history\":2000000,\"history_steps\":200000"), 201));
    json_decref(t_step(a.port, "h", 3, 0));
    t_stop(&a);
    t_start(&a, args);
    json_t *j = t_ok(a.port, "GET", "/v1/sessions/h", NULL, 200);
    cr_expect_eq(json_integer_value(json_object_get(j, "step")), 3);
    json_decref(j);
    snprintf(bad, sizeof bad, "%s/h.ckpt.bad", dir);
    struct stat st;
    cr_expect(stat(bad, &st) != 0, "the checkpoint was set aside");
    t_stop(&a);
    t_rmdir(dir);
}
