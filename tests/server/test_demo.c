/* test_demo.c: `spiked --demo` starts the session "demo" (examples/coba.json, compiled
 * in) stepping in real time: its stream shows spikes at once, and its model time follows
 * the wall clock (it never runs ahead of it). */
#include <criterion/criterion.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

TestSuite(demo, .timeout = 60);

static double model_ms(int port)
{
    json_t *j = t_ok(port, "GET", "/v1/sessions/demo", NULL, 200);
    cr_assert_str_eq(json_string_value(json_object_get(j, "status")), "running");
    double t = json_number_value(json_object_get(j, "time_ms"));
    json_decref(j);
    return t;
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
