/* test_sse_unit.c: the subscriber queues of server/events/sse.c, in-process, with a fake spike
 * history behind the hub's fill function: batches that do not fit are owed as a gap and
 * filled from the history when the reader gets there (never dropped because the queue is
 * full); what the history lost is reported as an exact dropped range; a busy network makes
 * the reader wait for the next chunk boundary; replay is a gap; reset and close; a partly
 * written frame is never cut (the byte stream stays well-formed); filters, heartbeats only
 * when idle, wake-ups, end of stream; the item ring's own bound, above the byte budget's. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/sse.h"

/* A spike batch event of steps [from, to). */
static char *batch(uint64_t from, uint64_t to)
{
    char *t = malloc(96);
    snprintf(t, 96, "id: %llu\nevent: spikes\ndata: {\"f\":%llu,\"t\":%llu}\n\n",
             (unsigned long long)to, (unsigned long long)from, (unsigned long long)to);
    return t;
}

static void publish(srv_hub_t *h, int32_t key, uint64_t from, uint64_t to)
{
    char *t = batch(from, to);
    cr_assert_eq(srv_hub_publish_spikes(h, key, from, to, t, strlen(t)), 0);
}

static void control(srv_hub_t *h, const char *text)
{
    char *t = strdup(text);
    cr_assert_eq(srv_hub_publish(h, t, strlen(t)), 0);
}

/* The fake history: steps [kept, ...) are available; fills make batches of `per` steps. */
typedef struct hist {
    uint64_t kept, per;
    int busy, calls;
} hist_t;

static int fill(void *ctx, srv_sub_t *sub)
{
    hist_t *h = ctx;
    h->calls++;
    int32_t filter;
    uint64_t from, to;
    size_t budget, used = 0;
    if (h->busy || !srv_sub_gap(sub, &filter, &from, &to, &budget))
        return 0;
    if (from < h->kept) {
        srv_sub_lose(sub, h->kept);
        from = h->kept < to ? h->kept : to;
    }
    while (from < to && (used == 0 || used < budget)) {
        uint64_t end = from + h->per < to ? from + h->per : to;
        char *t = batch(from, end);
        used += strlen(t);
        cr_assert_eq(srv_sub_fill(sub, t, strlen(t), end), 0);
        from = end;
    }
    return 1;
}

/* Reads everything that can be read now (in small pieces) into out. */
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

/* The batches' steps in out, as "f-t f-t ...", and dropped notices as "D(from-to:count)". */
static void summary(const char *text, char *out, size_t cap)
{
    size_t k = 0;
    out[0] = '\0';
    for (const char *p = text; (p = strstr(p, "event: ")); p++) {
        unsigned long long f, t, c;
        if (!strncmp(p, "event: spikes\ndata: ", 20) &&
            sscanf(p + 20, "{\"f\":%llu,\"t\":%llu}", &f, &t) == 2)
            k += (size_t)snprintf(out + k, cap - k, "%llu-%llu ", f, t);
        else if (!strncmp(p, "event: dropped\ndata: ", 21) &&
                 sscanf(p + 21, "{\"count\":%llu,\"from_step\":%llu,\"to_step\":%llu", &c, &f,
                        &t) == 3)
            k += (size_t)snprintf(out + k, cap - k, "D(%llu-%llu:%llu) ", f, t, c);
        else if (!strncmp(p, "event: dropped", 14))
            k += (size_t)snprintf(out + k, cap - k, "D? ");
    }
}

static int wakes;
static void on_wake(void *arg)
{
    (void)arg;
    wakes++;
}

static srv_sub_t *sub_at(srv_hub_t *h, int32_t filter, uint64_t now)
{
    int st = 0;
    srv_sub_t *s = srv_hub_subscribe(h, filter, NULL, now, now, now, &st);
    cr_assert_not_null(s);
    char out[256];
    drain(s, out, sizeof out, 256); /* the retry line */
    return s;
}

Test(sse, hello_then_events_in_order)
{
    srv_hub_t h;
    uint64_t dropped = 0, published = 0;
    srv_hub_init(&h, 4, 1 << 20, &dropped, &published);
    int st = 0;
    srv_sub_t *s = srv_hub_subscribe(&h, SRV_HUB_ALL, "{\"hi\":1}", 0, 0, 0, &st);
    cr_assert_not_null(s);
    for (uint64_t i = 0; i < 3; i++)
        publish(&h, SRV_HUB_ALL, i, i + 1);
    char out[4096];
    drain(s, out, sizeof out, 7);
    cr_assert_str_eq(out, "retry: 2000\n\nevent: hello\ndata: {\"hi\":1}\n\n"
                          "id: 1\nevent: spikes\ndata: {\"f\":0,\"t\":1}\n\n"
                          "id: 2\nevent: spikes\ndata: {\"f\":1,\"t\":2}\n\n"
                          "id: 3\nevent: spikes\ndata: {\"f\":2,\"t\":3}\n\n");
    cr_assert_eq(published, 3);
    cr_assert_eq(dropped, 0);
    srv_sub_close(s);
    srv_hub_close(&h, 0);
}

/* The heart of defect (a): nothing queued is dropped for space; what did not fit comes back
 * from the history, in order, after the frames already queued and before later events. */
Test(sse, batches_that_do_not_fit_are_filled_from_the_history)
{
    srv_hub_t h;
    uint64_t dropped = 0;
    hist_t hist = {.kept = 0, .per = 2};
    char *tmp = batch(10, 11);
    size_t one = strlen(tmp);
    free(tmp);
    srv_hub_init(&h, 4, 3 * one, &dropped, NULL);
    srv_hub_set_fill(&h, fill, &hist);
    srv_sub_t *s = sub_at(&h, SRV_HUB_ALL, 10);
    publish(&h, SRV_HUB_ALL, 10, 11);
    char part[8];
    cr_assert_eq(srv_sub_read(s, part, 5), 5); /* frame 10 is now partly written */
    for (uint64_t i = 11; i < 21; i++)
        publish(&h, SRV_HUB_ALL, i, i + 1);
    control(&h, "event: progress\ndata: {}\n\n");
    publish(&h, SRV_HUB_ALL, 21, 22);
    cr_assert_leq(srv_sub_queued_bytes(s), 3 * one + strlen("event: progress\ndata: {}\n\n"),
                  "spike batches keep to the byte budget (control events are bounded in number)");
    cr_assert_eq(hist.calls, 0, "nothing is read from the history before the reader gets there");
    char out[8192], sum[1024];
    drain(s, out, sizeof out, 3);
    const char *rest = "1\nevent: spikes\ndata: {\"f\":10,\"t\":11}\n\n";
    cr_assert(!strncmp(out, rest, strlen(rest)), "the partly written frame is finished first: %s",
              out);
    summary(out, sum, sizeof sum);
    cr_assert_str_eq(sum, "10-11 11-12 12-13 13-14 14-16 16-18 18-20 20-21 21-22 ");
    cr_assert_not_null(strstr(out, "{\"f\":20,\"t\":21}\n\nevent: progress"),
                       "the progress event stays after the steps before it");
    cr_assert_eq(dropped, 0);
    cr_assert_eq(srv_sub_dropped(s), 0);
    srv_sub_close(s);
    srv_hub_close(&h, 0);
}

Test(sse, steps_gone_from_the_history_are_an_exact_dropped_range)
{
    srv_hub_t h;
    uint64_t dropped = 0;
    hist_t hist = {.kept = 0, .per = 100};
    srv_hub_init(&h, 4, 200, &dropped, NULL);
    srv_hub_set_fill(&h, fill, &hist);
    srv_sub_t *s = sub_at(&h, SRV_HUB_ALL, 0);
    for (uint64_t i = 0; i < 50; i++)
        publish(&h, SRV_HUB_ALL, 10 * i, 10 * i + 10);
    hist.kept = 333; /* the history lost everything before step 333 meanwhile */
    char out[16384], sum[1024];
    drain(s, out, sizeof out, 4096);
    summary(out, sum, sizeof sum);
    /* four frames fitted in 200 bytes; the gap [40, 500) is 293 steps lost + 167 filled */
    cr_assert_str_eq(sum, "0-10 10-20 20-30 30-40 D(40-333:293) 333-433 433-500 ");
    cr_assert_eq(dropped, 293);
    cr_assert_eq(srv_sub_dropped(s), 293);
    srv_sub_close(s);
    srv_hub_close(&h, 0);
}

Test(sse, a_busy_network_makes_the_reader_wait_for_the_next_boundary)
{
    srv_hub_t h;
    hist_t hist = {.kept = 0, .per = 1000, .busy = 1};
    srv_hub_init(&h, 4, 1, NULL, NULL); /* one byte: every batch after the first is a gap */
    srv_hub_set_fill(&h, fill, &hist);
    srv_sub_t *s = sub_at(&h, SRV_HUB_ALL, 0);
    srv_sub_set_wake(s, on_wake, NULL);
    publish(&h, SRV_HUB_ALL, 0, 5);
    publish(&h, SRV_HUB_ALL, 5, 9);
    char out[4096], sum[256];
    drain(s, out, sizeof out, 4096);
    summary(out, sum, sizeof sum);
    cr_assert_str_eq(sum, "0-5 ", "the gap waits while the network is busy");
    wakes = 0;
    cr_assert_eq(srv_sub_read(s, out, 100), 0, "waiting");
    srv_hub_fill_waiting(&h); /* still busy: nothing happens */
    cr_assert_eq(wakes, 0);
    hist.busy = 0;
    srv_hub_fill_waiting(&h); /* the chunk boundary */
    cr_assert_eq(wakes, 1, "the filled reader is woken");
    drain(s, out, sizeof out, 4096);
    summary(out, sum, sizeof sum);
    cr_assert_str_eq(sum, "5-9 ");
    srv_sub_close(s);
    srv_hub_close(&h, 0);
}

/* Defect (b): the replay is a gap pulled as the reader drains, budget by budget. */
Test(sse, replay_is_pulled_from_the_history_as_the_reader_drains)
{
    srv_hub_t h;
    hist_t hist = {.kept = 0, .per = 10};
    srv_hub_init(&h, 4, 120, NULL, NULL);
    srv_hub_set_fill(&h, fill, &hist);
    int st = 0;
    srv_sub_t *s = srv_hub_subscribe(&h, SRV_HUB_ALL, NULL, 0, 0, 1000, &st);
    cr_assert_eq(hist.calls, 0, "nothing is encoded at subscribe time");
    publish(&h, SRV_HUB_ALL, 1000, 1010); /* live, after the replay */
    char *out = malloc(1 << 16), sum[16384];
    drain(s, out, 1 << 16, 1000);
    summary(out, sum, sizeof sum);
    char want[16384];
    size_t k = 0;
    for (int i = 0; i < 101; i++)
        k += (size_t)snprintf(want + k, sizeof want - k, "%d-%d ", 10 * i, 10 * i + 10);
    cr_assert_str_eq(sum, want);
    cr_assert_gt(hist.calls, 25, "filled piece by piece (budget of 120 bytes): %d calls",
                 hist.calls);
    free(out);
    /* a replay window: [lost_from, from) is reported, not replayed */
    srv_sub_t *w = srv_hub_subscribe(&h, SRV_HUB_ALL, NULL, 100, 990, 1010, &st);
    out = malloc(4096);
    drain(w, out, 4096, 4096);
    summary(out, sum, sizeof sum);
    cr_assert_str_eq(sum, "D(100-990:890) 990-1000 1000-1010 ");
    free(out);
    srv_sub_close(w);
    srv_sub_close(s);
    srv_hub_close(&h, 0);
}

Test(sse, reset_and_delete_report_owed_steps_shutdown_ends_before_them)
{
    srv_hub_t h;
    hist_t hist = {.kept = 0, .per = 100, .busy = 1};
    srv_hub_init(&h, 4, 1, NULL, NULL);
    srv_hub_set_fill(&h, fill, &hist);
    srv_sub_t *a = sub_at(&h, SRV_HUB_ALL, 0);
    srv_sub_t *b = sub_at(&h, SRV_HUB_ALL, 0);
    publish(&h, SRV_HUB_ALL, 0, 4);
    publish(&h, SRV_HUB_ALL, 4, 8); /* a gap for both */
    srv_hub_rebase(&h, 0);          /* reset: the gap is lost */
    control(&h, "event: lifecycle\ndata: {}\n\n");
    publish(&h, SRV_HUB_ALL, 0, 3); /* the new history: owed as a gap (queue full) */
    hist.busy = 0;
    char out[4096], sum[256];
    drain(a, out, sizeof out, 4096);
    summary(out, sum, sizeof sum);
    cr_assert_str_eq(sum, "0-4 D(4-8:4) 0-3 ");
    cr_assert_not_null(strstr(out, "\"to_step\":8}\n\nevent: lifecycle"));
    srv_sub_close(a);
    publish(&h, SRV_HUB_ALL, 3, 6); /* b has read nothing: its gap [0, 6) grows */
    control(&h, "event: lifecycle\ndata: {\"deleted\":1}\n\n");
    srv_hub_close(&h, 1); /* deleted: the gap is reported, then the stream ends */
    drain(b, out, sizeof out, 4096);
    summary(out, sum, sizeof sum);
    cr_assert_str_eq(sum, "0-4 D(4-8:4) D(0-6:6) ");
    cr_assert_not_null(strstr(out, "{\"deleted\":1}"));
    cr_assert_eq(srv_sub_read(b, out, 100), -1);
    srv_sub_close(b);
    /* shutdown: the stream ends before the first gap (the client resumes elsewhere) */
    srv_hub_init(&h, 4, 1, NULL, NULL);
    srv_hub_set_fill(&h, fill, &hist);
    srv_sub_t *c = sub_at(&h, SRV_HUB_ALL, 0);
    publish(&h, SRV_HUB_ALL, 0, 4);
    publish(&h, SRV_HUB_ALL, 4, 8);
    control(&h, "event: progress\ndata: {}\n\n");
    srv_hub_close(&h, 0);
    drain(c, out, sizeof out, 4096);
    summary(out, sum, sizeof sum);
    cr_assert_str_eq(sum, "0-4 ");
    cr_assert_null(strstr(out, "progress"));
    cr_assert_eq(srv_sub_read(c, out, 100), -1);
    srv_sub_close(c);
}

Test(sse, advance_owes_steps_of_filters_nobody_encoded)
{
    srv_hub_t h;
    hist_t hist = {.kept = 0, .per = 100};
    srv_hub_init(&h, 4, 1 << 20, NULL, NULL);
    srv_hub_set_fill(&h, fill, &hist);
    srv_sub_t *s = sub_at(&h, 3, 50); /* a population filter the next chunk did not encode */
    publish(&h, SRV_HUB_ALL, 50, 60);
    srv_hub_advance(&h, 60);
    publish(&h, 3, 60, 70);
    srv_hub_advance(&h, 70);
    char out[4096], sum[256];
    drain(s, out, sizeof out, 4096);
    summary(out, sum, sizeof sum);
    cr_assert_str_eq(sum, "50-70 ", "one gap, filled as one batch");
    srv_sub_close(s);
    srv_hub_close(&h, 0);
}

Test(sse, filters_heartbeats_wakeups_and_end)
{
    srv_hub_t h;
    srv_hub_init(&h, 2, 1 << 20, NULL, NULL);
    srv_sub_t *a = sub_at(&h, SRV_HUB_ALL, 0);
    srv_sub_t *b = sub_at(&h, 1, 0);
    int st = 0;
    cr_assert_null(srv_hub_subscribe(&h, 2, NULL, 0, 0, 0, &st));
    cr_assert_eq(st, 429);
    int32_t f[4];
    cr_assert_eq(srv_hub_filters(&h, f, 4), 2);
    char out[4096];
    srv_sub_set_wake(b, on_wake, NULL);
    wakes = 0;
    cr_assert_eq(srv_sub_read(b, out, 100), 0, "empty: waiting");
    publish(&h, SRV_HUB_ALL, 0, 1); /* b does not take "all" batches */
    cr_assert_eq(wakes, 0);
    publish(&h, 1, 0, 2);
    cr_assert_eq(wakes, 1);
    publish(&h, 1, 2, 3);
    cr_assert_eq(wakes, 1, "one wake-up per wait");
    drain(b, out, sizeof out, 4096);
    cr_assert_str_eq(out, "id: 2\nevent: spikes\ndata: {\"f\":0,\"t\":2}\n\n"
                          "id: 3\nevent: spikes\ndata: {\"f\":2,\"t\":3}\n\n");
    control(&h, "event: lifecycle\ndata: {}\n\n");
    srv_hub_heartbeat(&h); /* a has a batch and the control event queued: no ping */
    drain(b, out, sizeof out, 4096);
    cr_assert_str_eq(out, "event: lifecycle\ndata: {}\n\n");
    srv_hub_heartbeat(&h);
    drain(b, out, sizeof out, 4096);
    cr_assert_str_eq(out, ": ping\n\n");
    drain(a, out, sizeof out, 4096);
    cr_assert_str_eq(out, "id: 1\nevent: spikes\ndata: {\"f\":0,\"t\":1}\n\n"
                          "event: lifecycle\ndata: {}\n\n");
    srv_hub_close(&h, 0);
    cr_assert_eq(srv_sub_read(a, out, 100), -1, "hub closed: end of stream");
    srv_sub_close(a);
    srv_sub_close(b);
}

/* Publishes n steps, each a spike batch and a control event, to a reader that reads
 * nothing; then drains it and checks: every step delivered exactly once, in order; every
 * control event delivered or counted as lost. Returns the control events lost. */
static uint64_t steps_and_controls(size_t queue_bytes, uint64_t n)
{
    srv_hub_t h;
    uint64_t dropped = 0;
    hist_t hist = {.kept = 0, .per = 1000};
    srv_hub_init(&h, 4, queue_bytes, &dropped, NULL);
    srv_hub_set_fill(&h, fill, &hist);
    srv_sub_t *s = sub_at(&h, SRV_HUB_ALL, 0);
    for (uint64_t i = 0; i < n; i++) {
        publish(&h, SRV_HUB_ALL, i, i + 1);
        control(&h, "event: progress\ndata: {}\n\n");
    }
    size_t cap = 8u << 20, scap = 1u << 20;
    char *out = malloc(cap), *sum = malloc(scap);
    drain(s, out, cap, 65536);
    summary(out, sum, scap);
    uint64_t progress = 0;
    for (const char *p = out; (p = strstr(p, "event: progress")); p++)
        progress++;
    cr_assert_eq(progress + dropped, n, "every control event delivered or counted");
    if (dropped)
        cr_assert_not_null(strstr(out, "\"events\":"), "the loss is reported");
    /* every step is delivered exactly once, in order */
    uint64_t next = 0;
    for (const char *p = sum; *p;) {
        unsigned long long f, t;
        int k = 0;
        if (sscanf(p, "%llu-%llu %n", &f, &t, &k) == 2) {
            cr_assert_eq(f, next);
            next = t;
            p += k;
        } else {
            p = strchr(p, ' ') + 1; /* D? (events only) */
        }
    }
    cr_assert_eq(next, n);
    free(out);
    free(sum);
    srv_sub_close(s);
    srv_hub_close(&h, 0);
    return dropped;
}

/* Three thousand steps of a batch and a progress event each (3 s at 1 kHz) fit in a 1 MiB
 * queue: the byte budget, not the number of items, decides when a reader falls behind. */
Test(sse, the_byte_budget_binds_before_the_item_ring)
{
    srv_hub_t h;
    srv_hub_init(&h, 4, 1 << 20, NULL, NULL);
    cr_assert_eq(h.max_items, (1u << 20) / SRV_SUB_ITEM_BYTES);
    cr_assert_eq(steps_and_controls(1 << 20, 3000), 0, "no control event lost");
}

/* A reader that reads nothing while thousands of control events are published: the item
 * ring stays bounded (a 64 KiB queue: 1024 items); adjacent spike items merge, and then the
 * oldest control events go, counted in the next dropped notice. */
Test(sse, the_item_ring_stays_bounded)
{
    srv_hub_t h;
    srv_hub_init(&h, 4, 64 << 10, NULL, NULL);
    cr_assert_eq(h.max_items, 1024);
    uint64_t lost = steps_and_controls(64 << 10, 5000);
    cr_assert_gt(lost, 3000, "at most 1024 items are held (%llu lost)", (unsigned long long)lost);
}
