/* test_demo.c: `spiked --demo` starts the session "demo" (examples/coba.json, compiled
 * in) stepping in real time: its stream shows spikes at once, and its model time follows
 * the wall clock (it never runs ahead of it). PATCH {"realtime": false|true} pauses and
 * resumes it with --demo-pausable (and makes any session real-time); without that flag a
 * client cannot pause the shared demo (403, path realtime). */
#include <criterion/criterion.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

TestSuite(demo, .timeout = 60);

static double model_ms_of(int port, const char *name, const char *status)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/sessions/%s", name);
    json_t *j = t_ok(port, "GET", path, NULL, 200);
    cr_assert_str_eq(json_string_value(json_object_get(j, "status")), status);
    cr_assert_eq(json_is_true(json_object_get(j, "realtime")), !strcmp(status, "running"));
    double t = json_number_value(json_object_get(j, "time_ms"));
    json_decref(j);
    return t;
}

static double model_ms(int port)
{
    return model_ms_of(port, "demo", "running");
}

Test(demo, streams_spikes_in_real_time)
{
    sp_proc_t p;
    const char *args[] = {"--demo", NULL};
    long long t0 = hc_now_ms();
    t_start(&p, args);
    hc_sse_t *s = NULL;
    int st = 0;
    cr_assert_eq(hc_sse_open(&s, p.port, "/v1/sessions/demo/events", NULL, &st), 0);
    int spikes = 0;
    long long deadline = hc_now_ms() + 10000;
    while (!spikes && hc_now_ms() < deadline) {
        hc_event_t ev;
        if (hc_sse_next(s, &ev, 2000) != 1)
            break;
        if (!strcmp(ev.event, "spikes") && strstr(ev.data, "\"ids\":["))
            spikes = 1;
        hc_event_free(&ev);
    }
    cr_assert(spikes, "no spikes on the demo stream");
    hc_sse_close(s);
    double a = model_ms(p.port);
    cr_assert_leq(a, (double)(hc_now_ms() - t0) + 20, "model time ahead of the wall clock");
    poll(NULL, 0, 300);
    double b = model_ms(p.port);
    cr_assert_gt(b, a, "model time does not advance");
    cr_assert_leq(b, (double)(hc_now_ms() - t0) + 20, "model time ahead of the wall clock");
    /* the network is the compiled-in example */
    json_t *j = t_ok(p.port, "GET", "/v1/sessions/demo", NULL, 200);
    cr_assert_eq(json_integer_value(json_object_get(j, "n_neurons")), 4000);
    json_decref(j);
    t_stop(&p);
}

/* Regression (defect c): nothing could stop the demo's real-time stepping (PATCH answered
 * 405), so a dashboard's Pause could not pause it. */
/* Issue 19 item 4: one visitor's Pause stopped the shared demo for everyone. */
Test(demo, a_client_cannot_pause_the_shared_demo)
{
    sp_proc_t p;
    const char *args[] = {"--demo", NULL};
    t_start(&p, args);
    double a = model_ms(p.port);
    t_error(p.port, "PATCH", "/v1/sessions/demo", "{\"realtime\":false}", 403, "forbidden",
            "realtime");
    long long deadline = hc_now_ms() + 5000;
    while (model_ms(p.port) <= a && hc_now_ms() < deadline)
        poll(NULL, 0, 20);
    cr_assert_gt(model_ms(p.port), a, "still running after the refused pause");
    /* resuming what runs is harmless, and other sessions pause as before */
    json_decref(t_ok(p.port, "PATCH", "/v1/sessions/demo", "{\"realtime\":true}", 200));
    t_create(p.port, "mine", 20, 3);
    json_decref(t_ok(p.port, "PATCH", "/v1/sessions/mine", "{\"realtime\":true}", 200));
    json_decref(t_ok(p.port, "PATCH", "/v1/sessions/mine", "{\"realtime\":false}", 200));
    t_stop(&p);
}

/* With --demo-pausable (the operator's choice) the demo pauses and resumes. */
Test(demo, pause_and_resume_real_time)
{
    sp_proc_t p;
    const char *args[] = {"--demo", "--demo-pausable", NULL};
    t_start(&p, args);
    double a = model_ms(p.port);
    long long deadline = hc_now_ms() + 5000;
    while (model_ms(p.port) <= a && hc_now_ms() < deadline)
        poll(NULL, 0, 20);
    json_t *j = t_ok(p.port, "PATCH", "/v1/sessions/demo", "{\"realtime\":false}", 200);
    cr_assert(json_is_false(json_object_get(j, "realtime")));
    cr_assert_str_eq(json_string_value(json_object_get(j, "status")), "idle");
    double paused = json_number_value(json_object_get(j, "time_ms"));
    json_decref(j);
    cr_assert_gt(paused, a, "it was running before the pause");
    poll(NULL, 0, 300); /* the pacer ticks every 10 ms: 30 chances to step */
    cr_assert_eq(model_ms_of(p.port, "demo", "idle"), paused, "paused, yet model time moved");
    /* paused, it still steps when asked */
    json_decref(t_ok(p.port, "POST", "/v1/sessions/demo/step", "{\"steps\":10}", 200));
    double stepped = model_ms_of(p.port, "demo", "idle");
    cr_assert_gt(stepped, paused);
    j = t_ok(p.port, "PATCH", "/v1/sessions/demo", "{\"realtime\":true}", 200);
    cr_assert(json_is_true(json_object_get(j, "realtime")));
    json_decref(j);
    deadline = hc_now_ms() + 5000;
    while (model_ms(p.port) <= stepped && hc_now_ms() < deadline)
        poll(NULL, 0, 20);
    cr_assert_gt(model_ms(p.port), stepped, "resumed, yet model time does not move");
    /* any session can be made real-time; bad bodies change nothing */
    t_create(p.port, "other", 20, 3);
    t_error(p.port, "PATCH", "/v1/sessions/other", "{\"realtime\":\"yes\"}", 400, "wrong_type",
            "realtime");
    t_error(p.port, "PATCH", "/v1/sessions/other", "{}", 400, "missing_field", "realtime");
    t_error(p.port, "PATCH", "/v1/sessions/nope", "{\"realtime\":true}", 404, "not_found", NULL);
    double o = model_ms_of(p.port, "other", "idle");
    json_decref(t_ok(p.port, "PATCH", "/v1/sessions/other", "{\"realtime\":true}", 200));
    deadline = hc_now_ms() + 5000;
    while (model_ms_of(p.port, "other", "running") <= o && hc_now_ms() < deadline)
        poll(NULL, 0, 20);
    cr_assert_gt(model_ms_of(p.port, "other", "running"), o);
    json_decref(t_ok(p.port, "PATCH", "/v1/sessions/other", "{\"realtime\":false}", 200));
    t_stop(&p);
}
