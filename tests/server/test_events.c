/* test_events.c: the Server-Sent Events stream: several subscribers each get every spike
 * in order, equal to GET /spikes; population filter; Last-Event-ID replay from the spike
 * history; progress events for jobs answered 202 (none for a step of one chunk) and
 * lifecycle events; heartbeats; the subscriber limit; a closed stream's slot freed on an
 * idle session; a subscriber that never reads loses the oldest batches with a "dropped"
 * event while the server's memory stays bounded. */
#include <criterion/criterion.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "helpers.h"

/* One timeout for every test of the file: Criterion 2.4.1 leaks in its runner when
 * tests with different timeouts run in parallel. */
TestSuite(events, .timeout = 90);

/* Reads spike batches until one ends at to_step `end`; returns the spikes as text and
 * checks ids (= to_step) increase and batches are contiguous from `from`. */
static char *read_until(hc_sse_t *s, long from, long end, int *progress, int *lifecycle)
{
    char *text = calloc(1, 1);
    size_t len = 0;
    long expect_from = from;
    while (expect_from < end) {
        hc_event_t ev;
        int rc = hc_sse_next(s, &ev, 10000);
        cr_assert_eq(rc, 1, "stream ended or timed out at step %ld (of %ld)", expect_from, end);
        cr_assert_str_neq(ev.event, "dropped", "dropped at step %ld: %s", expect_from, ev.data);
        if (!strcmp(ev.event, "spikes")) {
            json_t *j = json_loads(ev.data, 0, NULL);
            cr_assert_not_null(j);
            long f = (long)json_integer_value(json_object_get(j, "from_step"));
            long t = (long)json_integer_value(json_object_get(j, "to_step"));
            cr_assert_eq(f, expect_from, "batch starts at %ld, expected %ld", f, expect_from);
            cr_assert_eq(atol(ev.id), t, "event id %s is not the batch's to_step %ld", ev.id, t);
            t_spikes_append(&text, &len, json_object_get(j, "spikes"));
            expect_from = t;
            json_decref(j);
        } else if (!strcmp(ev.event, "progress") && progress) {
            (*progress)++;
        } else if (!strcmp(ev.event, "lifecycle") && lifecycle) {
            (*lifecycle)++;
        }
        hc_event_free(&ev);
    }
    return text;
}

/* Opens a stream and waits for its hello; returns the hello's step. */
static hc_sse_t *open_stream(int port, const char *path, const char *headers, long *step)
{
    hc_sse_t *s = NULL;
    int status = 0;
    cr_assert_eq(hc_sse_open(&s, port, path, headers, &status), 0, "status %d", status);
    hc_event_t ev;
    cr_assert_eq(hc_sse_next(s, &ev, 5000), 1);
    cr_assert_str_eq(ev.event, "hello");
    json_t *j = json_loads(ev.data, 0, NULL);
    if (step)
        *step = (long)json_integer_value(json_object_get(j, "step"));
    json_decref(j);
    hc_event_free(&ev);
    return s;
}

Test(events, every_subscriber_gets_every_spike_in_order)
{
    sp_proc_t p;
    t_start(&p, NULL);
    t_create(p.port, "s", 200, 5);
    json_decref(t_step(p.port, "s", 10, 0));
    hc_sse_t *sub[3];
    for (int k = 0; k < 3; k++) {
        long step = -1;
        sub[k] = open_stream(p.port, "/v1/sessions/s/events", NULL, &step);
        cr_assert_eq(step, 10);
    }
    for (int k = 0; k < 5; k++)
        json_decref(t_step(p.port, "s", 300 + 7 * k, 0));
    long end = 10 + 5 * 300 + 7 * 10;
    char *want = t_spikes_text(p.port, "s", 10, end);
    cr_assert_gt(strlen(want), 1000);
    for (int k = 0; k < 3; k++) {
        char *got = read_until(sub[k], 10, end, NULL, NULL);
        cr_assert_str_eq(got, want, "subscriber %d differs from GET /spikes", k);
        free(got);
        hc_sse_close(sub[k]);
    }
    free(want);
    t_stop(&p);
}

Test(events, population_filter_and_replay_after_last_event_id)
{
    sp_proc_t p;
    t_start(&p, NULL);
    const char *body =
        "{\"name\":\"two\",\"seed\":2,\"dt\":1,\"network\":{\"populations\":["
        "{\"name\":\"a\",\"model\":\"lif\",\"size\":30},{\"name\":\"b\",\"model\":\"lif\","
        "\"size\":30}],\"stimuli\":[{\"kind\":\"poisson\",\"target\":\"a\",\"rate_hz\":300,"
        "\"weight\":2},{\"kind\":\"poisson\",\"target\":\"b\",\"rate_hz\":300,\"weight\":2}]}}";
    json_decref(t_ok(p.port, "POST", "/v1/sessions", body, 201));
    json_decref(t_step(p.port, "two", 100, 0));
    /* replay: everything after step 40, from the history */
    hc_sse_t *r = open_stream(p.port, "/v1/sessions/two/events", "Last-Event-ID: 40\r\n", NULL);
    char *got = read_until(r, 40, 100, NULL, NULL);
    char *want = t_spikes_text(p.port, "two", 40, 100);
    cr_assert_str_eq(got, want, "replay differs");
    free(got);
    free(want);
    hc_sse_close(r);
    /* filter: only population b */
    hc_sse_t *f = open_stream(p.port, "/v1/sessions/two/events?population=b", NULL, NULL);
    json_decref(t_step(p.port, "two", 50, 0));
    got = read_until(f, 100, 150, NULL, NULL);
    cr_assert_gt(strlen(got), 0);
    cr_assert_null(strstr(got, ":a:"), "population a leaked through the filter");
    json_t *j = t_ok(p.port, "GET", "/v1/sessions/two/spikes?population=b&from_step=100", NULL,
                     200);
    char *only_b = calloc(1, 1);
    size_t len = 0;
    t_spikes_append(&only_b, &len, json_object_get(j, "spikes"));
    cr_assert_str_eq(got, only_b);
    json_decref(j);
    free(only_b);
    free(got);
    hc_sse_close(f);
    int st = 0;
    hc_sse_t *bad = NULL;
    cr_assert_eq(hc_sse_open(&bad, p.port, "/v1/sessions/two/events?population=zz", NULL, &st), -1);
    cr_assert_eq(st, 400);
    cr_assert_eq(hc_sse_open(&bad, p.port, "/v1/sessions/two/events", "Last-Event-ID: x\r\n", &st),
                 -1);
    cr_assert_eq(st, 400);
    t_stop(&p);
}

/* Regression (defect b): the whole replay used to be queued at subscribe time, so the part
 * over --subscriber-queue-bytes was dropped at once even for a fast reader (hello, dropped,
 * then batches from near the end). It is now pulled from the history as the reader drains:
 * a fast reader gets every retained step, equal to GET /spikes, and no dropped event. */
Test(events, long_replay_reaches_a_fast_reader_whole)
{
    sp_proc_t p;
    const char *args[] = {"--subscriber-queue-bytes", "16k", "--sync-ms", "600000", NULL};
    t_start(&p, args);
    char path[600];
    snprintf(path, sizeof path, "%s/examples/coba.json", SK_SOURCE_DIR);
    json_error_t jerr;
    json_t *net = json_load_file(path, 0, &jerr);
    cr_assert_not_null(net, "%s", jerr.text);
    char *body = json_dumps(net, 0);
    json_decref(net);
    json_decref(t_ok(p.port, "POST", "/v1/sessions", body, 201));
    free(body);
    /* ~74,000 spikes: more than one batch (50,000 ids), each far larger than the queue. As
     * a job, polled: under ThreadSanitizer on a busy machine the run takes longer than the
     * client's 10 s wait for an answer. */
    json_t *job =
        t_ok(p.port, "POST", "/v1/sessions/coba/step", "{\"steps\":10000,\"async\":true}", 202);
    char jpath[96];
    snprintf(jpath, sizeof jpath, "/v1/sessions/coba/jobs/%lld",
             (long long)json_integer_value(json_object_get(json_object_get(job, "job"), "id")));
    json_decref(job);
    long long deadline = hc_now_ms() + 80000;
    for (;;) {
        job = t_ok(p.port, "GET", jpath, NULL, 200);
        int done = !strcmp(json_string_value(json_object_get(job, "state")), "done");
        json_decref(job);
        if (done)
            break;
        cr_assert_lt(hc_now_ms(), deadline, "the 10,000 steps did not finish");
        poll(NULL, 0, 50);
    }
    char *want = t_spikes_text(p.port, "coba", 0, 10000);
    cr_assert_gt(strlen(want), 256 * 1024, "the replay must be far larger than the queue");
    hc_sse_t *r = open_stream(p.port, "/v1/sessions/coba/events", "Last-Event-ID: 0\r\n", NULL);
    char *got = read_until(r, 0, 10000, NULL, NULL);
    cr_assert_str_eq(got, want, "replay differs from GET /spikes");
    free(got);
    /* and the stream goes on live afterwards */
    json_decref(t_step(p.port, "coba", 30, 0));
    got = read_until(r, 10000, 10030, NULL, NULL);
    free(got);
    hc_sse_close(r);
    free(want);
    t_stop(&p);
}

Test(events, heartbeat_and_deleted_lifecycle_end_the_stream)
{
    sp_proc_t p;
    const char *args[] = {"--heartbeat-ms", "50", "--stream-timeout", "1", NULL};
    t_start(&p, args);
    t_create(p.port, "h", 5, 1);
    hc_sse_t *s = open_stream(p.port, "/v1/sessions/h/events", NULL, NULL);
    hc_event_t ev;
    long long deadline = hc_now_ms() + 5000;
    while (s->comments < 3 && hc_now_ms() < deadline)
        cr_assert_eq(hc_sse_next(s, &ev, 200), 0, "no event expected before the delete");
    cr_assert_geq(s->comments, 3, "heartbeats: %lu", s->comments);
    hc_resp_t r;
    cr_assert_eq(hc_request(p.port, "DELETE", "/v1/sessions/h", NULL, NULL, &r), 0);
    hc_resp_free(&r);
    cr_assert_eq(hc_sse_next(s, &ev, 5000), 1);
    cr_assert_str_eq(ev.event, "lifecycle");
    cr_assert_not_null(strstr(ev.data, "\"deleted\""));
    hc_event_free(&ev);
    cr_assert_eq(hc_sse_next(s, &ev, 5000), -1, "the stream should end after deleted");
    hc_sse_close(s);
    t_stop(&p);
}

Test(events, subscriber_limit)
{
    sp_proc_t p;
    const char *args[] = {"--max-subscribers", "2", NULL};
    t_start(&p, args);
    t_create(p.port, "m", 5, 1);
    hc_sse_t *a = open_stream(p.port, "/v1/sessions/m/events", NULL, NULL);
    hc_sse_t *b = open_stream(p.port, "/v1/sessions/m/events", NULL, NULL);
    hc_sse_t *c = NULL;
    int st = 0;
    cr_assert_eq(hc_sse_open(&c, p.port, "/v1/sessions/m/events", NULL, &st), -1);
    cr_assert_eq(st, 429);
    hc_sse_close(a);
    /* the slot frees once the server notices the close (its next write fails) */
    long long deadline = hc_now_ms() + 5000;
    while (st == 429 && hc_now_ms() < deadline) {
        json_decref(t_step(p.port, "m", 1, 0));
        if (hc_sse_open(&c, p.port, "/v1/sessions/m/events", NULL, &st) == 0)
            break;
    }
    cr_assert_eq(st, 200);
    hc_sse_close(c);
    hc_sse_close(b);
    t_stop(&p);
}

/* Synchronous steps that end within one chunk publish no progress; a job answered 202
 * publishes "running" when it starts and its final state when it ends, in order with its
 * spike batches. */
Test(events, progress_events_follow_jobs_answered_202)
{
    sp_proc_t p;
    t_start(&p, NULL);
    t_create(p.port, "pj", 50, 3);
    hc_sse_t *s = open_stream(p.port, "/v1/sessions/pj/events", NULL, NULL);
    for (int k = 0; k < 3; k++)
        json_decref(t_step(p.port, "pj", 1, 0));
    json_t *j =
        t_ok(p.port, "POST", "/v1/sessions/pj/step", "{\"steps\":3000,\"async\":true}", 202);
    long id = (long)json_integer_value(json_object_get(json_object_get(j, "job"), "id"));
    json_decref(j);
    long last_to = 0;
    int running = 0, done = 0, before = 0;
    long long deadline = hc_now_ms() + 20000;
    while (!done) {
        hc_event_t ev;
        cr_assert_eq(hc_sse_next(s, &ev, 5000), 1, "stream ended or stalled at step %ld", last_to);
        if (!strcmp(ev.event, "spikes")) {
            last_to = atol(ev.id);
        } else if (!strcmp(ev.event, "progress")) {
            json_t *pj = json_loads(ev.data, 0, NULL);
            cr_assert_not_null(pj);
            cr_assert_eq(json_integer_value(json_object_get(pj, "id")), id,
                         "progress of another job: %s", ev.data);
            const char *state = json_string_value(json_object_get(pj, "state"));
            if (last_to < 3)
                before++;
            if (!strcmp(state, "running"))
                running++;
            else if (!strcmp(state, "done"))
                done = 1;
            json_decref(pj);
        }
        hc_event_free(&ev);
        cr_assert_lt(hc_now_ms(), deadline);
    }
    cr_assert_eq(before, 0, "progress before the async job: the one-step jobs published some");
    cr_assert_geq(running, 1, "no \"running\" progress for the 202 job");
    cr_assert_eq(last_to, 3 + 3000, "the final progress came before the job's last batch");
    hc_sse_close(s);
    t_stop(&p);
}

/* libmicrohttpd does not watch a suspended connection: a subscriber that goes away while
 * the session is idle must still give its slot back well before the 15 s heartbeat. */
Test(events, a_closed_stream_frees_its_slot_on_an_idle_session)
{
    sp_proc_t p;
    const char *args[] = {"--max-subscribers", "1", NULL};
    t_start(&p, args);
    t_create(p.port, "idle", 5, 1);
    hc_sse_t *a = open_stream(p.port, "/v1/sessions/idle/events", NULL, NULL);
    hc_sse_t *b = NULL;
    int st = 0;
    cr_assert_eq(hc_sse_open(&b, p.port, "/v1/sessions/idle/events", NULL, &st), -1);
    cr_assert_eq(st, 429);
    long long t0 = hc_now_ms();
    hc_sse_close(a);
    while (hc_now_ms() - t0 < 5000) { /* no step, no event: only the close itself */
        if (hc_sse_open(&b, p.port, "/v1/sessions/idle/events", NULL, &st) == 0)
            break;
        cr_assert_eq(st, 429);
        poll(NULL, 0, 100);
    }
    cr_assert_eq(st, 200, "the slot was not freed within 5 s of the close");
    hc_sse_close(b);
    t_stop(&p);
}

/* Enough subscribers that a flush costs more than a millisecond, so the server coalesces
 * writes (server/http/http.c, "Stream flushes"): every subscriber still gets every batch, in
 * order, equal to GET /spikes, with nothing dropped. */
Test(events, coalesced_flushes_keep_every_batch_in_order)
{
    enum { SUBS = 150, STEPS = 300 };
    sp_proc_t p;
    const char *args[] = {"--max-subscribers", "200", NULL};
    t_start(&p, args);
    t_create(p.port, "many", 100, 9);
    hc_sse_t **sub = calloc(SUBS, sizeof *sub);
    for (int k = 0; k < SUBS; k++)
        sub[k] = open_stream(p.port, "/v1/sessions/many/events", NULL, NULL);
    for (int k = 0; k < STEPS; k++)
        json_decref(t_step(p.port, "many", 1, 0));
    json_decref(t_step(p.port, "many", 50, 0));
    char *want = t_spikes_text(p.port, "many", 0, STEPS + 50);
    cr_assert_gt(strlen(want), 100);
    for (int k = 0; k < SUBS; k++) {
        char *got = read_until(sub[k], 0, STEPS + 50, NULL, NULL);
        cr_assert_str_eq(got, want, "subscriber %d differs from GET /spikes", k);
        free(got);
        hc_sse_close(sub[k]);
    }
    free(sub);
    free(want);
    t_stop(&p);
}

/* Issue 17: a client resuming with a Last-Event-ID from before a reset used to get the steps
 * after its id on the new timeline (or nothing), never told of the reset. It now gets a
 * `reset` event after the hello and every step of the new timeline from 0; ids after a
 * reset read "<resets>:<step>", and resuming with one of those replays as before. */
Test(events, resuming_from_before_a_reset_is_told_and_gets_the_new_steps)
{
    sp_proc_t p;
    t_start(&p, NULL);
    t_create(p.port, "r", 40, 4);
    json_decref(t_step(p.port, "r", 80, 0));
    json_decref(t_ok(p.port, "POST", "/v1/sessions/r/reset", NULL, 200));
    json_decref(t_step(p.port, "r", 30, 0));
    /* the client's last id was 60, of the first timeline */
    long step = -1;
    hc_sse_t *s = open_stream(p.port, "/v1/sessions/r/events", "Last-Event-ID: 60\r\n", &step);
    cr_assert_eq(step, 30);
    hc_event_t ev;
    cr_assert_eq(hc_sse_next(s, &ev, 5000), 1);
    cr_assert_str_eq(ev.event, "reset", "got %s: %s", ev.event, ev.data);
    json_t *j = json_loads(ev.data, 0, NULL);
    cr_assert_eq(json_integer_value(json_object_get(j, "resets")), 1);
    cr_assert_eq(json_integer_value(json_object_get(j, "last_event_resets")), 0);
    json_decref(j);
    hc_event_free(&ev);
    /* then the new timeline from step 0, ids "1:<to_step>" */
    char *text = calloc(1, 1);
    size_t len = 0;
    long expect = 0;
    while (expect < 30) {
        cr_assert_eq(hc_sse_next(s, &ev, 5000), 1);
        cr_assert_str_eq(ev.event, "spikes", "got %s: %s", ev.event, ev.data);
        j = json_loads(ev.data, 0, NULL);
        long f = (long)json_integer_value(json_object_get(j, "from_step"));
        long t = (long)json_integer_value(json_object_get(j, "to_step"));
        cr_assert_eq(f, expect);
        char want_id[32];
        snprintf(want_id, sizeof want_id, "1:%ld", t);
        cr_assert_str_eq(ev.id, want_id);
        t_spikes_append(&text, &len, json_object_get(j, "spikes"));
        json_decref(j);
        hc_event_free(&ev);
        expect = t;
    }
    char *want = t_spikes_text(p.port, "r", 0, 30);
    cr_assert_gt(strlen(want), 0);
    cr_assert_str_eq(text, want);
    free(want);
    free(text);
    hc_sse_close(s);
    /* resuming with an id of the current epoch replays from there, no reset event */
    s = open_stream(p.port, "/v1/sessions/r/events", "Last-Event-ID: 1:10\r\n", NULL);
    cr_assert_eq(hc_sse_next(s, &ev, 5000), 1);
    cr_assert_str_eq(ev.event, "spikes");
    j = json_loads(ev.data, 0, NULL);
    cr_assert_eq(json_integer_value(json_object_get(j, "from_step")), 10);
    json_decref(j);
    hc_event_free(&ev);
    hc_sse_close(s);
    int st = 0;
    hc_sse_t *bad = NULL;
    cr_assert_eq(hc_sse_open(&bad, p.port, "/v1/sessions/r/events", "Last-Event-ID: :5\r\n", &st),
                 -1);
    cr_assert_eq(st, 400);
    t_stop(&p);
}
