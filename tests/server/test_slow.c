/* test_slow.c: a subscriber that never reads. Stepping does not wait for it, the server's
 * memory stays bounded (what does not fit in its queue is owed as a gap, read back from the
 * session's spike history later), and once it reads again it gets every step still in the
 * history and an exact "dropped" range for the rest; the losses are counted in /metrics. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>

#include "helpers.h"

/* One timeout for every test of the file: Criterion 2.4.1 leaks in its runner when
 * tests with different timeouts run in parallel. */
TestSuite(slow, .timeout = 240);

#if defined(__SANITIZE_ADDRESS__)
/* ASan keeps freed memory in a 256 MiB quarantine and adds shadow pages: shrink the
 * quarantine so RSS measures the server, and allow for the shadow. */
#define RSS_SLACK_KB (64 * 1024)
static const char *asan_env(void)
{
    static char env[512];
    const char *old = getenv("ASAN_OPTIONS");
    snprintf(env, sizeof env, "ASAN_OPTIONS=%s%squarantine_size_mb=4", old ? old : "",
             old && *old ? ":" : "");
    return env;
}
#else
/* The server may be instrumented while this program is not (ThreadSanitizer builds, see
 * CMakeLists.txt): its shadow memory counts in its RSS. */
#define RSS_SLACK_KB (strstr(SK_SERVER_SANITIZE, "thread") ? 64 * 1024 : 24 * 1024)
static const char *asan_env(void)
{
    return NULL;
}
#endif

Test(slow, subscriber_drops_oldest_and_memory_stays_bounded)
{
    sp_proc_t p;
    /* --stream-timeout: the subscriber reads nothing for the whole run, which takes longer
     * than the default 30 s on a loaded machine under a sanitizer */
    const char *args[] = {"--subscriber-queue-bytes", "64k", "--stream-timeout", "300", NULL};
    const char *env[] = {asan_env(), NULL};
    cr_assert_eq(sp_start(&p, args, env), 0);
    const char *body =
        "{\"name\":\"busy\",\"seed\":9,\"dt\":1,\"network\":{\"populations\":[{\"name\":\"p\","
        "\"model\":\"lif\",\"size\":2000}],\"stimuli\":[{\"kind\":\"poisson\",\"target\":\"p\","
        "\"rate_hz\":2000,\"weight\":3}]}}";
    json_decref(t_ok(p.port, "POST", "/v1/sessions", body, 201));
    json_decref(t_step(p.port, "busy", 200, 0)); /* warm up: allocations that stay */
    hc_set_rcvbuf(4096);
    hc_sse_t *slow = NULL;
    int st = 0;
    cr_assert_eq(hc_sse_open(&slow, p.port, "/v1/sessions/busy/events", NULL, &st), 0);
    hc_set_rcvbuf(0);
    hc_event_t ev;
    cr_assert_eq(hc_sse_next(slow, &ev, 5000), 1);
    cr_assert_str_eq(ev.event, "hello");
    hc_event_free(&ev);
    long rss0 = sp_rss_kb(&p);

    long long t0 = hc_now_ms();
    json_t *j = t_ok(p.port, "POST", "/v1/sessions/busy/step",
                     "{\"steps\":8000,\"async\":true}", 202);
    long id = (long)json_integer_value(json_object_get(json_object_get(j, "job"), "id"));
    json_decref(j);
    char path[128];
    snprintf(path, sizeof path, "/v1/sessions/busy/jobs/%ld", id);
    long rss_max = rss0;
    for (;;) {
        j = t_ok(p.port, "GET", path, NULL, 200);
        int done = !strcmp(json_string_value(json_object_get(j, "state")), "done");
        json_decref(j);
        long rss = sp_rss_kb(&p);
        rss_max = rss > rss_max ? rss : rss_max;
        if (done)
            break;
        cr_assert_lt(hc_now_ms() - t0, 150000, "the job did not finish");
        poll(NULL, 0, 20); /* polling the job with a deadline; `slow` is never read here */
    }
    j = t_ok(p.port, "GET", "/v1/sessions/busy", NULL, 200);
    long spikes = (long)json_integer_value(json_object_get(j, "spikes_total"));
    json_decref(j);
    long produced_kb = spikes * 5 / 1024; /* >= 5 bytes of JSON per spike id */
    cr_log_info("spikes %ld (>= %ld KiB of events), RSS %ld -> max %ld KiB", spikes, produced_kb,
                rss0, rss_max);
    cr_assert_gt(produced_kb, 60000, "the run should produce far more than memory allows");
    cr_assert_lt(rss_max - rss0, RSS_SLACK_KB, "RSS grew by %ld KiB", rss_max - rss0);

    /* Now read: old batches (kernel buffers), then the notice. */
    long dropped = 0;
    long long deadline = hc_now_ms() + 20000;
    while (!dropped && hc_now_ms() < deadline) {
        if (hc_sse_next(slow, &ev, 2000) != 1)
            break;
        if (!strcmp(ev.event, "dropped")) {
            json_t *d = json_loads(ev.data, 0, NULL);
            dropped = (long)json_integer_value(json_object_get(d, "count"));
            json_decref(d);
        }
        hc_event_free(&ev);
    }
    cr_assert_gt(dropped, 0, "no dropped event");
    cr_assert_gt(t_metric(p.port, "spiked_subscriber_dropped_total"), 0);
    hc_sse_close(slow);
    t_stop(&p);
}

/* Follows a stream from step `next` until a spikes batch ends at `end`: every step must be
 * covered, in order, by a batch or by a dropped range {count, from_step, to_step}. Returns
 * the steps reported dropped; *resume = where the last dropped range ended (or from). */
static long account(hc_sse_t *s, long next, long end, long *resume, char **text)
{
    long dropped = 0;
    size_t len = 0;
    *resume = next;
    while (next < end) {
        hc_event_t ev;
        int rc = hc_sse_next(s, &ev, 20000);
        cr_assert_eq(rc, 1, "stream stalled at step %ld of %ld (%ld dropped so far)", next, end,
                     dropped);
        json_t *j = json_loads(ev.data, 0, NULL);
        if (!strcmp(ev.event, "dropped")) {
            long f = (long)json_integer_value(json_object_get(j, "from_step"));
            long t = (long)json_integer_value(json_object_get(j, "to_step"));
            long c = (long)json_integer_value(json_object_get(j, "count"));
            cr_assert_eq(f, next, "dropped range starts at %ld, expected %ld: %s", f, next,
                         ev.data);
            cr_assert(c == t - f && c > 0, "dropped count %ld for [%ld, %ld)", c, f, t);
            dropped += c;
            next = *resume = t;
            if (text) {
                **text = '\0';
                len = 0;
            }
        } else if (!strcmp(ev.event, "spikes")) {
            long f = (long)json_integer_value(json_object_get(j, "from_step"));
            long t = (long)json_integer_value(json_object_get(j, "to_step"));
            cr_assert_eq(f, next, "batch [%ld, %ld) after step %ld: a loss nobody reported", f,
                         t, next);
            if (text)
                t_spikes_append(text, &len, json_object_get(j, "spikes"));
            next = t;
        }
        json_decref(j);
        hc_event_free(&ev);
    }
    return dropped;
}

/* Regression (defect a): with a 4 KiB queue, a reader that read nothing during a long run
 * used to stop after a dropped notice (the newest batch had been evicted by a small
 * progress event) and later losses were invisible: one more step then arrived as id 300010
 * with no dropped notice for the steps in between. Now the reader, once it reads, gets a
 * dropped range for exactly the steps the history lost and every other batch, up to the
 * last step, equal to GET /spikes; then the stream continues live. */
Test(slow, a_reader_that_catches_up_gets_every_batch_or_an_exact_dropped_range)
{
    sp_proc_t p;
    const char *args[] = {"--subscriber-queue-bytes", "4k", "--stream-timeout", "300", NULL};
    cr_assert_eq(sp_start(&p, args, NULL), 0);
    char path[600];
    snprintf(path, sizeof path, "%s/examples/lif_poisson.json", SK_SOURCE_DIR);
    json_error_t jerr;
    json_t *net = json_load_file(path, 0, &jerr);
    cr_assert_not_null(net, "%s", jerr.text);
    char *body = json_dumps(net, 0);
    json_decref(net);
    json_decref(t_ok(p.port, "POST", "/v1/sessions", body, 201));
    free(body);
    hc_set_rcvbuf(4096);
    hc_sse_t *slow = NULL;
    int st = 0;
    cr_assert_eq(hc_sse_open(&slow, p.port, "/v1/sessions/lif-poisson/events", NULL, &st), 0);
    hc_set_rcvbuf(0);
    hc_event_t ev;
    cr_assert_eq(hc_sse_next(slow, &ev, 5000), 1);
    cr_assert_str_eq(ev.event, "hello");
    hc_event_free(&ev);

    const long total = 200000; /* more than the history keeps (100,000 steps with spikes) */
    json_t *j = t_ok(p.port, "POST", "/v1/sessions/lif-poisson/step",
                     "{\"steps\":200000,\"async\":true}", 202);
    long id = (long)json_integer_value(json_object_get(json_object_get(j, "job"), "id"));
    json_decref(j);
    char jpath[128];
    snprintf(jpath, sizeof jpath, "/v1/sessions/lif-poisson/jobs/%ld", id);
    long long t0 = hc_now_ms();
    for (;;) {
        j = t_ok(p.port, "GET", jpath, NULL, 200);
        int done = !strcmp(json_string_value(json_object_get(j, "state")), "done");
        json_decref(j);
        if (done)
            break;
        cr_assert_lt(hc_now_ms() - t0, 150000, "the job did not finish");
        poll(NULL, 0, 20); /* polling the job with a deadline; `slow` is not read meanwhile */
    }
    char *got = calloc(1, 1);
    long resume = 0;
    long dropped = account(slow, 0, total, &resume, &got);
    cr_log_info("dropped %ld steps, delivered [%ld, %ld) after the last loss", dropped, resume,
                total);
    cr_assert_gt(dropped, 0, "the history cannot hold the whole run: a loss was expected");
    cr_assert_lt(resume, total - 50000, "the steps still in the history must be delivered");
    cr_assert_geq(t_metric(p.port, "spiked_subscriber_dropped_total"), dropped);
    char *want = t_spikes_text(p.port, "lif-poisson", resume, total);
    cr_assert_str_eq(got, want, "the delivered batches differ from GET /spikes");
    free(want);
    free(got);
    /* caught up: the next step arrives right after the last one, nothing lost */
    json_decref(t_step(p.port, "lif-poisson", 10, 0));
    cr_assert_eq(account(slow, total, total + 10, &resume, NULL), 0);
    hc_sse_close(slow);
    t_stop(&p);
}
