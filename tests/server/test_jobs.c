/* test_jobs.c: long runs: 202 with a job and Location, polling, cancel at a chunk boundary,
 * the conversion of a slow synchronous request into a job (--sync-ms), the wall-time limit
 * (--max-run-ms), reads served while a job runs, and the per-session queue limit. */
#include <criterion/criterion.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

/* One timeout for every test of the file: Criterion 2.4.1 leaks in its runner when
 * tests with different timeouts run in parallel. */
TestSuite(jobs, .timeout = 90);

/* Polls a job (20 ms apart, 20 s deadline) until its state is not "running". */
static json_t *wait_job(int port, const char *path)
{
    long long deadline = hc_now_ms() + 20000;
    for (;;) {
        json_t *j = t_ok(port, "GET", path, NULL, 200);
        if (strcmp(json_string_value(json_object_get(j, "state")), "running"))
            return j;
        json_decref(j);
        cr_assert_lt(hc_now_ms(), deadline, "job %s still running", path);
        poll(NULL, 0, 20);
    }
}

Test(jobs, async_run_polls_and_cancels)
{
    sp_proc_t p;
    t_start(&p, NULL);
    t_create(p.port, "long", 100, 1);
    hc_resp_t r;
    cr_assert_eq(hc_request(p.port, "POST", "/v1/sessions/long/step",
                            "Content-Type: application/json\r\n",
                            "{\"steps\":10000000,\"async\":true}", &r),
                 0);
    cr_assert_eq(r.status, 202);
    char loc[128];
    cr_assert_not_null(hc_header(&r, "Location", loc, sizeof loc));
    cr_assert_str_eq(loc, "/v1/sessions/long/jobs/1");
    hc_resp_free(&r);
    /* reads are served at chunk boundaries while it runs */
    long long t0 = hc_now_ms();
    json_t *j = t_ok(p.port, "GET", "/v1/sessions/long", NULL, 200);
    cr_assert_lt(hc_now_ms() - t0, 1000);
    cr_assert_str_eq(json_string_value(json_object_get(j, "status")), "running");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "job"), "state")),
                     "running");
    json_decref(j);
    j = t_ok(p.port, "GET", "/v1/sessions/long/state?neurons=0:2", NULL, 200);
    json_decref(j);
    j = t_ok(p.port, "DELETE", loc, NULL, 200);
    cr_assert_str_eq(json_string_value(json_object_get(j, "state")), "canceled");
    long done = (long)json_integer_value(json_object_get(j, "done"));
    cr_assert_lt(done, 10000000);
    json_decref(j);
    j = t_ok(p.port, "GET", "/v1/sessions/long", NULL, 200);
    cr_assert_str_eq(json_string_value(json_object_get(j, "status")), "idle");
    cr_assert_eq(json_integer_value(json_object_get(j, "step")), done, "steps taken stay taken");
    json_decref(j);
    /* canceling a finished job answers it as it is */
    j = t_ok(p.port, "DELETE", loc, NULL, 200);
    cr_assert_str_eq(json_string_value(json_object_get(j, "state")), "canceled");
    json_decref(j);
    t_stop(&p);
}

Test(jobs, slow_sync_request_becomes_a_job)
{
    sp_proc_t p;
    const char *args[] = {"--sync-ms", "150", NULL};
    t_start(&p, args);
    t_create(p.port, "slow", 100, 1);
    long long t0 = hc_now_ms();
    json_t *j = t_ok(p.port, "POST", "/v1/sessions/slow/step", "{\"steps\":10000000}", 202);
    cr_assert_lt(hc_now_ms() - t0, 5000);
    json_t *job = json_object_get(j, "job");
    cr_assert_str_eq(json_string_value(json_object_get(job, "state")), "running");
    json_decref(j);
    /* now the server knows a step's cost: a long run answers 202 at once */
    t0 = hc_now_ms();
    json_decref(t_ok(p.port, "DELETE", "/v1/sessions/slow/jobs/1", NULL, 200));
    j = t_ok(p.port, "POST", "/v1/sessions/slow/step", "{\"steps\":10000000}", 202);
    cr_assert_lt(hc_now_ms() - t0, 1000);
    json_decref(j);
    json_decref(t_ok(p.port, "DELETE", "/v1/sessions/slow/jobs/2", NULL, 200));
    t_stop(&p);
}

Test(jobs, wall_time_limit_stops_a_run)
{
    sp_proc_t p;
    const char *args[] = {"--max-run-ms", "300", NULL};
    t_start(&p, args);
    t_create(p.port, "w", 100, 1);
    json_decref(t_ok(p.port, "POST", "/v1/sessions/w/step",
                     "{\"steps\":10000000,\"async\":true}", 202));
    json_t *j = wait_job(p.port, "/v1/sessions/w/jobs/1");
    cr_assert_str_eq(json_string_value(json_object_get(j, "state")), "failed");
    cr_assert_not_null(strstr(json_string_value(json_object_get(j, "error")), "--max-run-ms"));
    json_decref(j);
    /* a synchronous request that hits the limit gets a 413 naming it */
    const char *a2[] = {"--max-run-ms", "200", "--sync-ms", "100000", NULL};
    sp_proc_t q;
    t_start(&q, a2);
    t_create(q.port, "w", 100, 1);
    t_error(q.port, "POST", "/v1/sessions/w/step", "{\"steps\":10000000}", 413,
            "limit_exceeded", NULL);
    t_stop(&q);
    t_stop(&p);
}

Test(jobs, queue_limit_answers_429)
{
    sp_proc_t p;
    const char *args[] = {"--max-queue", "2", NULL};
    t_start(&p, args);
    t_create(p.port, "q", 100, 1);
    json_decref(t_ok(p.port, "POST", "/v1/sessions/q/step",
                     "{\"steps\":10000000,\"async\":true}", 202));
    /* two more wait behind the running job (their 202 comes when they start) */
    hc_conn_t *c[2];
    for (int k = 0; k < 2; k++) {
        c[k] = malloc(sizeof *c[k]);
        cr_assert_eq(hc_connect(c[k], p.port), 0);
        const char *b = "{\"steps\":10,\"async\":true}";
        cr_assert_eq(hc_send(c[k], "POST", "/v1/sessions/q/step",
                             "Content-Type: application/json\r\n", b, strlen(b)),
                     0);
    }
    long long deadline = hc_now_ms() + 5000;
    json_t *j = NULL;
    for (;;) { /* the two queued requests reach the server in their own time */
        j = t_ok(p.port, "GET", "/v1/sessions/q", NULL, 200);
        int queued = 0;
        hc_resp_t m;
        cr_assert_eq(hc_request(p.port, "GET", "/metrics", NULL, NULL, &m), 0);
        queued = strstr(m.body, "spiked_operations_queued 2\n") != NULL;
        hc_resp_free(&m);
        json_decref(j);
        if (queued)
            break;
        cr_assert_lt(hc_now_ms(), deadline, "the requests were not queued");
        poll(NULL, 0, 10);
    }
    t_error(p.port, "POST", "/v1/sessions/q/step", "{\"steps\":10}", 429, "too_many_requests",
            NULL);
    json_decref(t_ok(p.port, "DELETE", "/v1/sessions/q/jobs/1", NULL, 200));
    for (int k = 0; k < 2; k++) {
        hc_resp_t r;
        cr_assert_eq(hc_recv(c[k], &r, 10000), 0);
        cr_assert_eq(r.status, 202);
        hc_resp_free(&r);
        hc_close(c[k]);
        free(c[k]);
    }
    json_decref(wait_job(p.port, "/v1/sessions/q/jobs/3"));
    t_stop(&p);
}

Test(jobs, shutdown_answers_a_waiting_step_with_503)
{
    sp_proc_t p;
    const char *args[] = {"--sync-ms", "60000", NULL};
    t_start(&p, args);
    t_create(p.port, "sd", 100, 1);
    hc_conn_t *c = malloc(sizeof *c);
    cr_assert_eq(hc_connect(c, p.port), 0);
    const char *b = "{\"steps\":10000000}";
    cr_assert_eq(hc_send(c, "POST", "/v1/sessions/sd/step", "Content-Type: application/json\r\n",
                         b, strlen(b)),
                 0);
    long long deadline = hc_now_ms() + 10000;
    for (;;) { /* wait until the job runs */
        int st = 0;
        json_t *j = t_req(p.port, "GET", "/v1/sessions/sd/jobs/1", NULL, &st);
        json_decref(j);
        if (st == 200)
            break;
        cr_assert_lt(hc_now_ms(), deadline);
        poll(NULL, 0, 10);
    }
    kill(p.pid, SIGTERM);
    hc_resp_t r;
    cr_assert_eq(hc_recv(c, &r, 10000), 0);
    cr_assert_eq(r.status, 503, "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"unavailable\""));
    hc_resp_free(&r);
    hc_close(c);
    free(c);
    cr_assert_eq(sp_stop(&p, 0, 10000), 0, "exit status after SIGTERM");
}
