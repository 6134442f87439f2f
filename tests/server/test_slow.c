/* test_slow.c: a subscriber that never reads. Stepping does not wait for it, the server's
 * memory stays bounded (its queue drops the oldest batches), and once it reads again it
 * gets an explicit "dropped" event; the drops are counted in /metrics. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>

#include "helpers.h"

/* One timeout for every test of the file: Criterion 2.4.1 leaks in its runner when
 * tests with different timeouts run in parallel. */
TestSuite(slow, .timeout = 90);

static long metric(int port, const char *name)
{
    hc_resp_t r;
    cr_assert_eq(hc_request(port, "GET", "/metrics", NULL, NULL, &r), 0);
    char key[128];
    snprintf(key, sizeof key, "\n%s ", name);
    const char *p = strstr(r.body, key);
    long v = p ? atol(p + strlen(key)) : -1;
    hc_resp_free(&r);
    return v;
}

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
    const char *args[] = {"--subscriber-queue-bytes", "64k", NULL};
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
                     "{\"steps\":20000,\"async\":true}", 202);
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
        cr_assert_lt(hc_now_ms() - t0, 60000, "the job did not finish");
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
    cr_assert_gt(metric(p.port, "spiked_subscriber_dropped_total"), 0);
    hc_sse_close(slow);
    t_stop(&p);
}
