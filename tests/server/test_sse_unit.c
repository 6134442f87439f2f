/* test_sse_unit.c: the subscriber queues of server/sse.c, in-process: drop-oldest with an
 * explicit count, a partly written frame is never dropped (the byte stream stays
 * well-formed), filters, heartbeats only when idle, wake-ups, end of stream. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sse.h"

static char *ev(int i)
{
    char *t = malloc(64);
    snprintf(t, 64, "id: %d\nevent: spikes\ndata: {\"n\":%d}\n\n", i, i);
    return t;
}

static int publish(srv_hub_t *h, int32_t key, int i)
{
    char *t = ev(i);
    return srv_hub_publish(h, key, t, strlen(t));
}

/* Reads everything queued (in small pieces) into out. */
static size_t drain(srv_sub_t *s, char *out, size_t cap, size_t piece)
{
    size_t k = 0;
    for (;;) {
        ssize_t n = srv_sub_read(s, out + k, piece < cap - k ? piece : cap - k);
        if (n <= 0)
            break;
        k += (size_t)n;
    }
    out[k] = '\0';
    return k;
}

static int wakes;
static void on_wake(void *arg)
{
    (void)arg;
    wakes++;
}

Test(sse, hello_then_events_in_order)
{
    srv_hub_t h;
    uint64_t dropped = 0, published = 0;
    srv_hub_init(&h, 4, 1 << 20, &dropped, &published);
    int st = 0;
    srv_sub_t *s = srv_hub_subscribe(&h, SRV_HUB_ALL, "{\"hi\":1}", &st);
    cr_assert_not_null(s);
    for (int i = 1; i <= 3; i++)
        publish(&h, SRV_HUB_ALL, i);
    char out[4096];
    drain(s, out, sizeof out, 7);
    cr_assert_str_eq(out, "retry: 2000\n\nevent: hello\ndata: {\"hi\":1}\n\n"
                          "id: 1\nevent: spikes\ndata: {\"n\":1}\n\n"
                          "id: 2\nevent: spikes\ndata: {\"n\":2}\n\n"
                          "id: 3\nevent: spikes\ndata: {\"n\":3}\n\n");
    cr_assert_eq(published, 3);
    srv_sub_close(s);
    srv_hub_close(&h);
}

Test(sse, slow_reader_drops_oldest_and_is_told)
{
    srv_hub_t h;
    uint64_t dropped = 0;
    char *tmp = ev(10);
    size_t one = strlen(tmp);
    free(tmp);
    srv_hub_init(&h, 4, 3 * one, &dropped, NULL);
    int st = 0;
    srv_sub_t *s = srv_hub_subscribe(&h, SRV_HUB_ALL, NULL, &st);
    char out[4096];
    drain(s, out, sizeof out, 4096); /* the retry line */
    publish(&h, SRV_HUB_ALL, 10);
    char part[8];
    cr_assert_eq(srv_sub_read(s, part, 5), 5); /* frame 10 is now partly written */
    for (int i = 11; i <= 20; i++)
        publish(&h, SRV_HUB_ALL, i);
    cr_assert_leq(srv_sub_queued_bytes(s), 3 * one);
    drain(s, out, sizeof out, 3);
    /* the rest of frame 10, the notice, then the newest three */
    cr_assert_str_eq(out, "0\nevent: spikes\ndata: {\"n\":10}\n\n"
                          "event: dropped\ndata: {\"count\":7}\n\n"
                          "id: 18\nevent: spikes\ndata: {\"n\":18}\n\n"
                          "id: 19\nevent: spikes\ndata: {\"n\":19}\n\n"
                          "id: 20\nevent: spikes\ndata: {\"n\":20}\n\n");
    cr_assert_eq(dropped, 7);
    cr_assert_eq(srv_sub_dropped(s), 7);
    srv_sub_close(s);
    srv_hub_close(&h);
}

Test(sse, filters_heartbeats_wakeups_and_end)
{
    srv_hub_t h;
    srv_hub_init(&h, 2, 1 << 20, NULL, NULL);
    int st = 0;
    srv_sub_t *a = srv_hub_subscribe(&h, SRV_HUB_ALL, NULL, &st);
    srv_sub_t *b = srv_hub_subscribe(&h, 1, NULL, &st);
    cr_assert_null(srv_hub_subscribe(&h, 2, NULL, &st));
    cr_assert_eq(st, 429);
    int32_t f[4];
    cr_assert_eq(srv_hub_filters(&h, f, 4), 2);
    char out[4096];
    drain(a, out, sizeof out, 4096);
    drain(b, out, sizeof out, 4096);
    srv_sub_set_wake(b, on_wake, NULL);
    cr_assert_eq(srv_sub_read(b, out, 100), 0, "empty: waiting");
    publish(&h, SRV_HUB_ALL, 1); /* b does not take "all" batches */
    cr_assert_eq(wakes, 0);
    publish(&h, 1, 2);
    cr_assert_eq(wakes, 1);
    publish(&h, 1, 3);
    cr_assert_eq(wakes, 1, "one wake-up per wait");
    drain(b, out, sizeof out, 4096);
    cr_assert_str_eq(out, "id: 2\nevent: spikes\ndata: {\"n\":2}\n\n"
                          "id: 3\nevent: spikes\ndata: {\"n\":3}\n\n");
    char *ctl = strdup("event: lifecycle\ndata: {}\n\n");
    srv_hub_publish(&h, SRV_HUB_CONTROL, ctl, strlen(ctl));
    srv_hub_heartbeat(&h); /* a has the "all" batch and the control event queued: no ping */
    drain(b, out, sizeof out, 4096);
    cr_assert_str_eq(out, "event: lifecycle\ndata: {}\n\n");
    srv_hub_heartbeat(&h);
    drain(b, out, sizeof out, 4096);
    cr_assert_str_eq(out, ": ping\n\n");
    drain(a, out, sizeof out, 4096);
    cr_assert_str_eq(out, "id: 1\nevent: spikes\ndata: {\"n\":1}\n\nevent: lifecycle\ndata: {}\n\n");
    srv_hub_close(&h);
    cr_assert_eq(srv_sub_read(a, out, 100), -1, "hub closed: end of stream");
    srv_sub_close(a);
    srv_sub_close(b);
}
