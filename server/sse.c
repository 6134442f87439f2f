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

typedef struct frame {
    uint32_t refs;
    int32_t key;
    size_t len;
    char *text;
} frame_t;

struct srv_sub {
    srv_hub_t *hub; /* NULL once the hub closed */
    srv_sub_t *prev, *next;
    frame_t *q[SRV_SUB_QUEUE_FRAMES];
    uint32_t q_head, q_count;
    size_t q_bytes;
    frame_t *cur;
    size_t cur_off;
    int32_t filter;
    uint64_t dropped_pending, dropped_total;
    char notice[1024]; /* text to write before the next frame */
    size_t notice_len, notice_off;
    int ended;   /* no more frames: the stream ends once drained */
    int waiting; /* the last read returned 0: call wake on the next push */
    srv_sub_wake_fn wake;
    void *wake_arg;
};

static frame_t *frame_new(int32_t key, char *text, size_t len)
{
    frame_t *f = malloc(sizeof *f);
    if (!f) {
        free(text);
        return NULL;
    }
    f->refs = 1;
    f->key = key;
    f->len = len;
    f->text = text;
    return f;
}

static void frame_unref(frame_t *f)
{
    if (f && --f->refs == 0) {
        free(f->text);
        free(f);
    }
}

void srv_hub_init(srv_hub_t *hub, uint32_t max_subscribers, size_t queue_bytes,
                  uint64_t *dropped_counter, uint64_t *published_counter)
{
    memset(hub, 0, sizeof *hub);
    hub->max_subscribers = max_subscribers;
    hub->queue_bytes = queue_bytes;
    hub->dropped_counter = dropped_counter;
    hub->published_counter = published_counter;
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
}

static void drop_oldest(srv_sub_t *sub)
{
    frame_t *f = sub->q[sub->q_head];
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

static void sub_push(srv_sub_t *sub, frame_t *f)
{
    if (sub->ended)
        return;
    size_t lim = sub->hub ? sub->hub->queue_bytes : SIZE_MAX;
    while (sub->q_count && (sub->q_count == SRV_SUB_QUEUE_FRAMES || sub->q_bytes + f->len > lim))
        drop_oldest(sub);
    f->refs++;
    sub->q[(sub->q_head + sub->q_count) % SRV_SUB_QUEUE_FRAMES] = f;
    sub->q_count++;
    sub->q_bytes += f->len;
    wake(sub);
}

int srv_hub_publish(srv_hub_t *hub, int32_t key, char *text, size_t len)
{
    frame_t *f = frame_new(key, text, len);
    if (!f)
        return -1;
    if (hub->published_counter)
        (*hub->published_counter)++;
    for (srv_sub_t *s = hub->subs; s; s = s->next)
        if (key == SRV_HUB_CONTROL || key == s->filter)
            sub_push(s, f);
    frame_unref(f);
    return 0;
}

uint32_t srv_hub_filters(const srv_hub_t *hub, int32_t *out, uint32_t cap)
{
    uint32_t n = 0;
    for (const srv_sub_t *s = hub->subs; s; s = s->next) {
        uint32_t k = 0;
        while (k < n && out[k] != s->filter)
            k++;
        if (k == n && n < cap)
            out[n++] = s->filter;
    }
    return n;
}

void srv_hub_heartbeat(srv_hub_t *hub)
{
    frame_t *f = NULL;
    for (srv_sub_t *s = hub->subs; s; s = s->next) {
        if (s->q_count || s->cur || s->notice_len)
            continue;
        if (!f) {
            char *t = strdup(": ping\n\n");
            if (!t || !(f = frame_new(SRV_HUB_CONTROL, t, strlen(t))))
                return;
        }
        sub_push(s, f);
    }
    frame_unref(f);
}

srv_sub_t *srv_hub_subscribe(srv_hub_t *hub, int32_t filter, const char *hello, int *status)
{
    if (hub->n_subs >= hub->max_subscribers) {
        *status = 429;
        return NULL;
    }
    srv_sub_t *sub = calloc(1, sizeof *sub);
    if (!sub) {
        *status = 503;
        return NULL;
    }
    sub->hub = hub;
    sub->filter = filter;
    int n = snprintf(sub->notice, sizeof sub->notice, "retry: 2000\n\n");
    if (hello && n >= 0 && (size_t)n < sizeof sub->notice)
        n += snprintf(sub->notice + n, sizeof sub->notice - (size_t)n,
                      "event: hello\ndata: %s\n\n", hello);
    sub->notice_len = n >= 0 && (size_t)n < sizeof sub->notice ? (size_t)n : 0;
    sub->next = hub->subs;
    if (hub->subs)
        hub->subs->prev = sub;
    hub->subs = sub;
    hub->n_subs++;
    return sub;
}

int srv_sub_push(srv_sub_t *sub, char *text, size_t len)
{
    frame_t *f = frame_new(SRV_HUB_CONTROL, text, len);
    if (!f)
        return -1;
    sub_push(sub, f);
    frame_unref(f);
    return 0;
}

static void load_next(srv_sub_t *sub)
{
    if (sub->dropped_pending) {
        int n = snprintf(sub->notice, sizeof sub->notice,
                         "event: dropped\ndata: {\"count\":%" PRIu64 "}\n\n", sub->dropped_pending);
        sub->notice_len = n > 0 ? (size_t)n : 0;
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

/* Copies from src[*off..len) into buf[k..max); returns the new k. */
static size_t copy_out(char *buf, size_t k, size_t max, const char *src, size_t len, size_t *off)
{
    size_t n = len - *off;
    n = n < max - k ? n : max - k;
    memcpy(buf + k, src + *off, n);
    *off += n;
    return k + n;
}

ssize_t srv_sub_read(srv_sub_t *sub, char *buf, size_t max)
{
    size_t k = 0;
    while (k < max) {
        if (sub->notice_off < sub->notice_len) {
            k = copy_out(buf, k, max, sub->notice, sub->notice_len, &sub->notice_off);
            continue;
        }
        sub->notice_len = sub->notice_off = 0;
        if (sub->cur) {
            k = copy_out(buf, k, max, sub->cur->text, sub->cur->len, &sub->cur_off);
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
