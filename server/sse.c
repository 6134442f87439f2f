/* sse.c: hub and subscriber queues (see sse.h).
 *
 * Invariants:
 *   - a subscriber's ring holds frames not yet started; `cur` is the frame being written,
 *     cur_off bytes of it already copied out. Drop-oldest pops the ring head only, so a
 *     partly written frame is never dropped and the byte stream stays well-formed;
 *   - q_bytes = sum of len over the ring (cur excluded) <= queue_bytes, except a single
 *     frame larger than the limit, which is queued alone;
 *   - notices (retry/hello, dropped) are written only between frames.
 */
#include "sse.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct srv_sub {
    srv_hub_t *hub; /* NULL once the hub closed */
    srv_sub_t *prev, *next;
    srv_frame_t *q[SRV_SUB_QUEUE_FRAMES];
    uint32_t q_head, q_count;
    size_t q_bytes;
    srv_frame_t *cur;
    size_t cur_off;
    int32_t filter[SRV_SUB_MAX_FILTER];
    uint32_t n_filter;
    uint64_t dropped_pending, dropped_total;
    char notice[1024]; /* text to write before the next frame */
    size_t notice_len, notice_off;
    int ended;   /* no more frames: the stream ends once drained */
    int waiting; /* the last read returned 0: call wake on the next push */
    srv_sub_wake_fn wake;
    void *wake_arg;
};

static srv_frame_t *frame_new(uint64_t id, int32_t pop, const char *event, const char *data,
                              size_t len)
{
    char head[96];
    int hl = id ? snprintf(head, sizeof head, "id: %" PRIu64 "\nevent: %s\ndata: ", id, event)
                : snprintf(head, sizeof head, "event: %s\ndata: ", event);
    if (hl < 0 || (size_t)hl >= sizeof head)
        return NULL;
    srv_frame_t *f = malloc(sizeof *f + (size_t)hl + len + 2);
    if (!f)
        return NULL;
    f->refs = 1;
    f->id = id;
    f->pop = pop;
    memcpy(f->data, head, (size_t)hl);
    memcpy(f->data + hl, data, len);
    /* data must be one line: JSON from jansson's compact dump never contains '\n'. */
    f->data[(size_t)hl + len] = '\n';
    f->data[(size_t)hl + len + 1] = '\n';
    f->len = (size_t)hl + len + 2;
    return f;
}

static srv_frame_t *frame_comment(const char *text)
{
    size_t n = strlen(text);
    srv_frame_t *f = malloc(sizeof *f + n);
    if (!f)
        return NULL;
    f->refs = 1;
    f->id = 0;
    f->pop = -1;
    f->len = n;
    memcpy(f->data, text, n);
    return f;
}

static void frame_unref(srv_frame_t *f)
{
    if (f && --f->refs == 0)
        free(f);
}

int srv_hub_init(srv_hub_t *hub, const srv_hub_limits_t *lim, uint64_t *dropped_counter)
{
    memset(hub, 0, sizeof *hub);
    hub->lim = *lim;
    hub->next_id = 1;
    hub->dropped_counter = dropped_counter;
    if (hub->lim.history_events) {
        hub->hist = calloc(hub->lim.history_events, sizeof *hub->hist);
        if (!hub->hist)
            return -1;
    }
    return 0;
}

static void wake(srv_sub_t *sub)
{
    if (sub->waiting && sub->wake) {
        sub->waiting = 0;
        sub->wake(sub->wake_arg);
    }
}

void srv_hub_close(srv_hub_t *hub)
{
    while (hub->subs) {
        srv_sub_t *s = hub->subs;
        hub->subs = s->next;
        s->hub = NULL;
        s->prev = s->next = NULL;
        s->ended = 1;
        wake(s);
    }
    hub->n_subs = 0;
    for (uint32_t i = 0; i < hub->hist_count; i++)
        frame_unref(hub->hist[(hub->hist_head + i) % hub->lim.history_events]);
    free(hub->hist);
    hub->hist = NULL;
    hub->hist_count = 0;
}

static void drop_oldest(srv_sub_t *sub)
{
    srv_frame_t *f = sub->q[sub->q_head];
    sub->q_head = (sub->q_head + 1) % SRV_SUB_QUEUE_FRAMES;
    sub->q_count--;
    sub->q_bytes -= f->len;
    frame_unref(f);
    sub->dropped_pending++;
    sub->dropped_total++;
    if (sub->hub) {
        sub->hub->dropped_total++;
        if (sub->hub->dropped_counter)
            (*sub->hub->dropped_counter)++;
    }
}

static int accepts(const srv_sub_t *sub, int32_t pop)
{
    if (pop < 0 || !sub->n_filter)
        return 1;
    for (uint32_t i = 0; i < sub->n_filter; i++)
        if (sub->filter[i] == pop)
            return 1;
    return 0;
}

static void sub_push(srv_sub_t *sub, srv_frame_t *f)
{
    if (sub->ended || !accepts(sub, f->pop))
        return;
    size_t lim = sub->hub ? sub->hub->lim.queue_bytes : SIZE_MAX;
    while (sub->q_count && (sub->q_count == SRV_SUB_QUEUE_FRAMES || sub->q_bytes + f->len > lim))
        drop_oldest(sub);
    f->refs++;
    sub->q[(sub->q_head + sub->q_count) % SRV_SUB_QUEUE_FRAMES] = f;
    sub->q_count++;
    sub->q_bytes += f->len;
    wake(sub);
}

static void hist_push(srv_hub_t *hub, srv_frame_t *f)
{
    uint32_t cap = hub->lim.history_events;
    if (!cap)
        return;
    while (hub->hist_count &&
           (hub->hist_count == cap || hub->hist_bytes + f->len > hub->lim.history_bytes)) {
        srv_frame_t *old = hub->hist[hub->hist_head];
        hub->hist_head = (hub->hist_head + 1) % cap;
        hub->hist_count--;
        hub->hist_bytes -= old->len;
        frame_unref(old);
    }
    f->refs++;
    hub->hist[(hub->hist_head + hub->hist_count) % cap] = f;
    hub->hist_count++;
    hub->hist_bytes += f->len;
}

uint64_t srv_hub_publish(srv_hub_t *hub, int32_t pop, const char *event, const char *data,
                         size_t len)
{
    srv_frame_t *f = frame_new(hub->next_id, pop, event, data, len);
    if (!f)
        return 0;
    hub->next_id++;
    hub->published++;
    hist_push(hub, f);
    for (srv_sub_t *s = hub->subs; s; s = s->next)
        sub_push(s, f);
    uint64_t id = f->id;
    frame_unref(f);
    return id;
}

void srv_hub_heartbeat(srv_hub_t *hub)
{
    srv_frame_t *f = NULL;
    for (srv_sub_t *s = hub->subs; s; s = s->next) {
        if (s->q_count || s->cur || s->notice_len)
            continue;
        if (!f && !(f = frame_comment(": ping\n\n")))
            return;
        sub_push(s, f);
    }
    frame_unref(f);
}

static void replay(srv_hub_t *hub, srv_sub_t *sub, uint64_t last_id)
{
    if (last_id >= hub->next_id)
        return; /* an id from before a restart: nothing to replay */
    uint32_t cap = hub->lim.history_events;
    uint64_t oldest = hub->hist_count ? hub->hist[hub->hist_head]->id : hub->next_id;
    if (last_id + 1 < oldest) {
        sub->dropped_pending += oldest - last_id - 1;
        sub->dropped_total += oldest - last_id - 1;
    }
    for (uint32_t i = 0; i < hub->hist_count; i++) {
        srv_frame_t *f = hub->hist[(hub->hist_head + i) % cap];
        if (f->id > last_id)
            sub_push(sub, f);
    }
}

srv_sub_t *srv_hub_subscribe(srv_hub_t *hub, const int32_t *filter, uint32_t n_filter,
                             int has_last, uint64_t last_id, const char *hello, int *status)
{
    if (hub->n_subs >= hub->lim.max_subscribers || n_filter > SRV_SUB_MAX_FILTER) {
        *status = 429;
        return NULL;
    }
    srv_sub_t *sub = calloc(1, sizeof *sub);
    if (!sub) {
        *status = 500;
        return NULL;
    }
    sub->hub = hub;
    memcpy(sub->filter, filter, n_filter * sizeof *filter);
    sub->n_filter = n_filter;
    int n = snprintf(sub->notice, sizeof sub->notice, "retry: 2000\n");
    if (hello)
        n += snprintf(sub->notice + n, sizeof sub->notice - (size_t)n,
                      "event: hello\ndata: %s\n\n", hello);
    sub->notice_len = (size_t)n < sizeof sub->notice ? (size_t)n : sizeof sub->notice - 1;
    sub->next = hub->subs;
    if (hub->subs)
        hub->subs->prev = sub;
    hub->subs = sub;
    hub->n_subs++;
    if (has_last)
        replay(hub, sub, last_id);
    return sub;
}

static void load_next(srv_sub_t *sub)
{
    if (sub->dropped_pending) {
        int n = snprintf(sub->notice, sizeof sub->notice,
                         "event: dropped\ndata: {\"dropped\":%" PRIu64 ",\"total\":%" PRIu64
                         "}\n\n",
                         sub->dropped_pending, sub->dropped_total);
        sub->notice_len = (size_t)n;
        sub->notice_off = 0;
        sub->dropped_pending = 0;
        return;
    }
    if (!sub->q_count)
        return;
    sub->cur = sub->q[sub->q_head];
    sub->cur_off = 0;
    sub->q_head = (sub->q_head + 1) % SRV_SUB_QUEUE_FRAMES;
    sub->q_count--;
    sub->q_bytes -= sub->cur->len;
}

ssize_t srv_sub_read(srv_sub_t *sub, char *buf, size_t max)
{
    size_t k = 0;
    while (k < max) {
        if (sub->notice_off < sub->notice_len) {
            size_t n = sub->notice_len - sub->notice_off;
            n = n < max - k ? n : max - k;
            memcpy(buf + k, sub->notice + sub->notice_off, n);
            sub->notice_off += n;
            k += n;
            continue;
        }
        sub->notice_len = sub->notice_off = 0;
        if (sub->cur) {
            size_t n = sub->cur->len - sub->cur_off;
            n = n < max - k ? n : max - k;
            memcpy(buf + k, sub->cur->data + sub->cur_off, n);
            sub->cur_off += n;
            k += n;
            if (sub->cur_off == sub->cur->len) {
                frame_unref(sub->cur);
                sub->cur = NULL;
            }
            continue;
        }
        load_next(sub);
        if (!sub->cur && !sub->notice_len)
            break;
    }
    if (k)
        return (ssize_t)k;
    if (sub->ended || !sub->hub)
        return -1;
    sub->waiting = 1;
    return 0;
}

void srv_sub_set_wake(srv_sub_t *sub, srv_sub_wake_fn fn, void *arg)
{
    sub->wake = fn;
    sub->wake_arg = arg;
}

void srv_sub_end(srv_sub_t *sub)
{
    sub->ended = 1;
    wake(sub);
}

void srv_sub_close(srv_sub_t *sub)
{
    if (!sub)
        return;
    srv_hub_t *hub = sub->hub;
    if (hub) {
        if (sub->prev)
            sub->prev->next = sub->next;
        else
            hub->subs = sub->next;
        if (sub->next)
            sub->next->prev = sub->prev;
        hub->n_subs--;
    }
    while (sub->q_count) {
        frame_unref(sub->q[sub->q_head]);
        sub->q_head = (sub->q_head + 1) % SRV_SUB_QUEUE_FRAMES;
        sub->q_count--;
    }
    frame_unref(sub->cur);
    free(sub);
}

uint64_t srv_sub_dropped(const srv_sub_t *sub)
{
    return sub->dropped_total;
}

size_t srv_sub_queued_bytes(const srv_sub_t *sub)
{
    return sub->q_bytes;
}
