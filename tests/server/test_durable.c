/* test_durable.c: the journal against kill -9 (issue 17, engine/journal.h). A workload of
 * every journaled operation (create, step, inputs, step with inputs, population parameters,
 * Poisson rate, explicit checkpoint, fork, reset, delete, create again) runs on a server with
 * a data directory; the server is killed with SIGKILL after each acknowledged operation in
 * turn, restarted on the same directory, and the rest of the workload runs on the restarted
 * server. At the end every session's spikes (all steps) and state (v, i) must equal those of
 * a reference server that ran the workload without a kill, bit for bit (the JSON texts are
 * compared). Also: a kill -9 in the middle of a long asynchronous job restarts at a step the
 * journal recorded, in exactly the state an uninterrupted run has at that step; a torn tail
 * appended to the journal is dropped and reported, nothing else lost. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"

TestSuite(durable, .timeout = 240);

/* slow (sanitized) steps stay synchronous: 200, not 202 */
static const char *const sync_args[] = {"--sync-ms", "600000", NULL};

typedef struct wop {
    const char *method, *path, *body;
    int status;
} wop_t;

static char body_s[2048], body_t[2048], body_t2[2048];

static const wop_t *workload(size_t *n)
{
    snprintf(body_s, sizeof body_s, "%s", t_net_lif("s", 120, 17));
    snprintf(body_t, sizeof body_t, "%s", t_net_lif("t", 60, 5));
    snprintf(body_t2, sizeof body_t2, "%s", t_net_lif("t", 60, 9));
    static wop_t w[] = {
        {"POST", "/v1/sessions", body_s, 201},
        {"POST", "/v1/sessions/s/step", "{\"steps\":50}", 200},
        {"POST", "/v1/sessions/s/inputs",
         "{\"inputs\":[{\"population\":\"lif\",\"kind\":\"spike\",\"neurons\":[3,5],\"offset\":2},"
         "{\"population\":\"lif\",\"kind\":\"current\",\"value\":0.37}]}",
         200},
        {"POST", "/v1/sessions/s/step",
         "{\"steps\":30,\"inputs\":[{\"population\":\"lif\",\"kind\":\"spike\",\"neurons\":[7],"
         "\"offset\":4}]}",
         200},
        {"PATCH", "/v1/sessions/s/populations/lif", "{\"params\":{\"v_th\":0.9123456789}}", 200},
        {"POST", "/v1/sessions/s/checkpoint", NULL, 200},
        {"POST", "/v1/sessions/s/step", "{\"steps\":20}", 200},
        {"POST", "/v1/sessions", body_t, 201},
        {"POST", "/v1/sessions/s/fork", "{\"name\":\"f\"}", 201},
        {"POST", "/v1/sessions/f/step", "{\"steps\":40}", 200},
        {"POST", "/v1/sessions/t/step", "{\"steps\":15}", 200},
        {"POST", "/v1/sessions/t/reset", NULL, 200},
        {"POST", "/v1/sessions/t/step", "{\"steps\":25}", 200},
        {"PATCH", "/v1/sessions/s/stimuli/0", "{\"rate_hz\":91.5}", 200},
        {"POST", "/v1/sessions/s/step", "{\"steps\":35}", 200},
        {"DELETE", "/v1/sessions/t", NULL, 204},
        {"POST", "/v1/sessions", body_t2, 201},
        {"POST", "/v1/sessions/t/step", "{\"steps\":10}", 200},
    };
    *n = sizeof w / sizeof w[0];
    return w;
}

static void run_op(int port, const wop_t *op)
{
    hc_resp_t r;
    cr_assert_eq(hc_request(port, op->method, op->path,
                            op->body ? "Content-Type: application/json\r\n" : NULL, op->body, &r),
                 0);
    cr_assert_eq(r.status, op->status, "%s %s: %d %.*s", op->method, op->path, r.status,
                 (int)r.len, r.body);
    hc_resp_free(&r);
}

static char *state_text(int port, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "/v1/sessions/%s/state?variables=v,i", name);
    json_t *j = t_ok(port, "GET", path, NULL, 200);
    char *s = json_dumps(json_object_get(j, "values"), JSON_COMPACT);
    json_decref(j);
    return s;
}

static long step_of(int port, const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/sessions/%s", name);
    json_t *j = t_ok(port, "GET", path, NULL, 200);
    long st = (long)json_integer_value(json_object_get(j, "step"));
    json_decref(j);
    return st;
}

/* Spikes of every step so far and the state, one text per session. */
static char *fingerprint(int port)
{
    const char *names[] = {"s", "f", "t"};
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    out[0] = '\0';
    for (int k = 0; k < 3; k++) {
        long st = step_of(port, names[k]);
        char *sp = t_spikes_text(port, names[k], 0, st), *state = state_text(port, names[k]);
        size_t need = strlen(sp) + strlen(state) + 64;
        if (len + need >= cap) {
            cap = 2 * (len + need);
            out = realloc(out, cap);
        }
        len += (size_t)sprintf(out + len, "%s@%ld\n%s\n%s\n", names[k], st, sp, state);
        free(sp);
        free(state);
    }
    return out;
}

Test(durable, kill9_after_each_operation_restores_the_acknowledged_state_bit_for_bit)
{
    size_t n;
    const wop_t *w = workload(&n);
    char ref_dir[128];
    t_tmpdir(ref_dir, sizeof ref_dir);
    const char *ref_args[] = {"--data-dir", ref_dir, "--sync-ms", "600000", NULL};
    sp_proc_t ref;
    t_start(&ref, ref_args);
    for (size_t i = 0; i < n; i++)
        run_op(ref.port, &w[i]);
    char *want = fingerprint(ref.port);
    t_stop(&ref);
    t_rmdir(ref_dir);
    cr_assert_gt(strlen(want), 2000);

    const char *fsyncs[] = {"everysec", "always", "no"};
    for (size_t kill_after = 0; kill_after < n; kill_after++) {
        char dir[128];
        t_tmpdir(dir, sizeof dir);
        const char *args[] = {"--data-dir", dir, "--fsync", fsyncs[kill_after % 3], "--sync-ms",
                              "600000", NULL};
        sp_proc_t a;
        t_start(&a, args);
        for (size_t i = 0; i <= kill_after; i++)
            run_op(a.port, &w[i]);
        cr_assert_eq(sp_stop(&a, SIGKILL, 5000), 128 + SIGKILL);
        t_start(&a, args);
        for (size_t i = kill_after + 1; i < n; i++)
            run_op(a.port, &w[i]);
        char *got = fingerprint(a.port);
        cr_assert(strcmp(got, want) == 0, "killed after operation %zu (%s %s): state differs",
                  kill_after, w[kill_after].method, w[kill_after].path);
        free(got);
        t_stop(&a);
        t_rmdir(dir);
    }
    free(want);
}

Test(durable, kill9_during_a_long_job_restarts_at_a_recorded_step_in_the_exact_state)
{
    char dir[128];
    t_tmpdir(dir, sizeof dir);
    const char *args[] = {"--data-dir", dir, "--sync-ms", "600000", NULL};
    sp_proc_t a, ref;
    t_start(&a, args);
    t_create(a.port, "s", 2000, 11);
    json_decref(t_ok(a.port, "POST", "/v1/sessions/s/step", "{\"steps\":100000,\"async\":true}",
                     202));
    long deadline = (long)hc_now_ms() + 30000;
    while (step_of(a.port, "s") < 200) /* a few chunks journaled */
        cr_assert_lt((long)hc_now_ms(), deadline);
    cr_assert_eq(sp_stop(&a, SIGKILL, 5000), 128 + SIGKILL);
    t_start(&a, args);
    long st = step_of(a.port, "s");
    cr_assert_geq(st, 200, "every chunk published before the kill was journaled");
    cr_assert_lt(st, 100000);
    t_start(&ref, sync_args);
    t_create(ref.port, "s", 2000, 11);
    char body[64];
    snprintf(body, sizeof body, "{\"steps\":%ld}", st);
    json_decref(t_ok(ref.port, "POST", "/v1/sessions/s/step", body, 200));
    char *sa = t_spikes_text(a.port, "s", 0, st), *sr = t_spikes_text(ref.port, "s", 0, st);
    char *xa = state_text(a.port, "s"), *xr = state_text(ref.port, "s");
    cr_assert_gt(strlen(sr), 1000);
    cr_assert_str_eq(sa, sr, "spikes differ at step %ld", st);
    cr_assert_str_eq(xa, xr, "state differs at step %ld", st);
    free(sa);
    free(sr);
    free(xa);
    free(xr);
    t_stop(&ref);
    t_stop(&a);
    t_rmdir(dir);
}

Test(durable, a_torn_journal_tail_is_dropped_and_reported)
{
    char dir[128], path[256];
    t_tmpdir(dir, sizeof dir);
    const char *args[] = {"--data-dir", dir, "--sync-ms", "600000", NULL};
    sp_proc_t a;
    t_start(&a, args);
    t_create(a.port, "s", 50, 3);
    json_decref(t_step(a.port, "s", 70, 0));
    char *want = state_text(a.port, "s");
    cr_assert_eq(sp_stop(&a, SIGKILL, 5000), 128 + SIGKILL);
    snprintf(path, sizeof path, "%s/journal.log", dir);
    struct stat st0;
    cr_assert_eq(stat(path, &st0), 0);
    /* a record cut in the middle: a length that runs past the end, then a few bytes */
    FILE *f = fopen(path, "ab");
    const unsigned char torn[] = {0x40, 0, 0, 0, 0x12, 0x34, 0x56, 0x78, '{', '"', 'l'};
    fwrite(torn, 1, sizeof torn, f);
    fclose(f);
    t_start(&a, args);
    cr_assert_eq(step_of(a.port, "s"), 70);
    char *got = state_text(a.port, "s");
    cr_assert_str_eq(got, want);
    json_t *j = t_ok(a.port, "GET", "/healthz", NULL, 200);
    cr_assert_eq(json_integer_value(json_object_get(j, "journal_torn_bytes")), (long)sizeof torn);
    json_decref(j);
    struct stat st1;
    cr_assert_eq(stat(path, &st1), 0);
    cr_assert_eq(st1.st_size, st0.st_size, "the tail is cut before appending");
    json_decref(t_step(a.port, "s", 5, 0)); /* appends after the cut */
    cr_assert_eq(sp_stop(&a, SIGKILL, 5000), 128 + SIGKILL);
    t_start(&a, args);
    cr_assert_eq(step_of(a.port, "s"), 75);
    t_stop(&a);
    free(got);
    free(want);
    t_rmdir(dir);
}

static long health_int(int port, const char *field)
{
    json_t *j = t_ok(port, "GET", "/healthz", NULL, 200);
    long v = (long)json_integer_value(json_object_get(j, field));
    json_decref(j);
    return v;
}

/* Snapshot rounds bound replay: after a round the journal holds only what came after it
 * (journal.1.log removed, the sessions' checkpoints written); a kill -9 then restores the
 * acknowledged state from checkpoint + short journal, bit for bit. */
Test(durable, snapshot_rounds_rotate_the_journal_and_restore_bit_for_bit)
{
    char dir[128], path[256];
    t_tmpdir(dir, sizeof dir);
    const char *args[] = {"--data-dir", dir, "--snapshot-every", "1", "--sync-ms", "600000", NULL};
    sp_proc_t a, ref;
    t_start(&a, args);
    t_create(a.port, "s", 120, 17);
    json_decref(t_step(a.port, "s", 300, 0));
    snprintf(path, sizeof path, "%s/journal.log", dir);
    struct stat st0, st1;
    cr_assert_eq(stat(path, &st0), 0);
    long long deadline = hc_now_ms() + 20000;
    while (health_int(a.port, "snapshot_rounds_done") < 1) {
        cr_assert_lt(hc_now_ms(), deadline, "no snapshot round completed");
        usleep(50000);
    }
    snprintf(path, sizeof path, "%s/s.ckpt", dir);
    cr_assert_eq(stat(path, &st1), 0, "the round checkpointed the session");
    snprintf(path, sizeof path, "%s/journal.1.log", dir);
    cr_assert_neq(stat(path, &st1), 0, "the rotated journal is removed");
    json_decref(t_step(a.port, "s", 40, 0));
    snprintf(path, sizeof path, "%s/journal.log", dir);
    cr_assert_eq(stat(path, &st1), 0);
    cr_assert_lt(st1.st_size, st0.st_size, "only the records after the round: %ld bytes",
                 (long)st1.st_size);
    cr_assert_eq(sp_stop(&a, SIGKILL, 5000), 128 + SIGKILL);
    t_start(&a, args);
    cr_assert_eq(step_of(a.port, "s"), 340);
    t_start(&ref, sync_args);
    t_create(ref.port, "s", 120, 17);
    json_decref(t_step(ref.port, "s", 340, 0));
    char *ga = t_spikes_text(a.port, "s", 0, 340), *gr = t_spikes_text(ref.port, "s", 0, 340);
    char *xa = state_text(a.port, "s"), *xr = state_text(ref.port, "s");
    cr_assert_str_eq(ga, gr);
    cr_assert_str_eq(xa, xr);
    free(ga);
    free(gr);
    free(xa);
    free(xr);
    t_stop(&ref);
    t_stop(&a);
    t_rmdir(dir);
}
