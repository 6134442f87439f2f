/* sse.c: hub, subscriber queues and history fills (see sse.h).
 *
 * Invariants of a subscriber:
 *   - the ring holds items not yet started, in event order; `cur` is the frame being
 *     written (cur_off bytes of it already copied out), `fill_*` the frames filled from
 *     the history for the gap at the head of the ring, which come before it;
 *   - cursor = the end of the last spike item given (frame, gap or lost);
 *   - q_bytes = text bytes in the ring, fill_bytes = text bytes in the fill list;
 *   - a pending dropped notice (lost_*) is written before anything else that follows, and
 *     notices are written only between frames, so the byte stream stays well-formed;
 *   - want_fill: the reader stopped at a gap the hub could not fill (network busy).
 */
#include "events/sse.h"

#include <stdlib.h>
#include <string.h>

#include "spiked/proto.h"
#include "spiked/sk_assert.h"

enum { IT_CONTROL = 0, IT_SPIKES, IT_GAP, IT_LOST };

typedef struct frame frame_t;
struct frame {
    uint32_t refs;
    int kind;
    uint64_t from, to; /* spike steps (IT_SPIKES, IT_GAP, IT_LOST) */
    size_t len;
    char *text;    /* NULL for gaps and lost ranges */
    frame_t *next; /* fill list (private frames only) */
};

struct srv_sub {
    /* what every publish touches first: kept together (the hub walks every subscriber at
     * every chunk; the notice buffer goes last) */
    srv_sub_t *next;
    srv_hub_t *hub; /* NULL once the hub closed */
    frame_t **q;    /* ring of q_cap slots (grows up to the hub's max_items; NULL when 0) */
    uint32_t q_head, q_count, q_cap;
    int32_t filter;
    uint64_t cursor;
    size_t q_bytes, fill_bytes;
    int ended;   /* no more items: the stream ends once drained */
    int waiting; /* the last read returned 0: call wake on the next push or fill */
    srv_sub_wake_fn wake;
    void *wake_arg;
    int want_fill; /* stopped at a gap the network could not fill then */
    srv_sub_t *prev;
    frame_t *fill_head, *fill_tail;
    frame_t *cur;
    size_t cur_off;
    int lost_pending;
    uint64_t lost_from, lost_to, lost_steps, lost_events; /* the next dropped notice */
    uint64_t dropped_total;
    size_t notice_len, notice_off;
    char notice[1024]; /* text to write before the next frame */
};

#define AT(s, i) ((s)->q[((s)->q_head + (i)) % (s)->q_cap])

/* ---- items ---- */

static frame_t *item_new(int kind, uint64_t from, uint64_t to, char *text, size_t len)
{
    frame_t *f = calloc(1, sizeof *f);
    if (!f) {
        free(text);
        return NULL;
    }
    f->refs = 1;
    f->kind = kind;
    f->from = from;
    f->to = to;
    f->len = text ? len : 0;
    f->text = text;
    return f;
}

static void item_unref(frame_t *f)
{
    if (f && --f->refs == 0) {
        free(f->text);
        free(f);
    }
}

static int is_steps(const frame_t *f)
{
    return f->kind == IT_SPIKES || f->kind == IT_GAP;
}

/* Makes sure the ring has a free slot, growing it (doubling) up to the hub's item limit.
 * Returns 0, or -1 at the limit (or out of memory). */
static int ring_reserve(srv_sub_t *s)
{
    if (s->q_count < s->q_cap)
        return 0;
    uint32_t limit = s->hub ? s->hub->max_items : s->q_cap;
    if (s->q_cap >= limit)
        return -1;
    uint32_t cap = s->q_cap ? s->q_cap * 2 : SRV_SUB_RING_MIN;
    cap = cap < limit ? cap : limit;
    frame_t **q = malloc((size_t)cap * sizeof *q);
    if (!q)
        return -1;
    for (uint32_t i = 0; i < s->q_count; i++)
        q[i] = AT(s, i);
    free(s->q);
    s->q = q;
    s->q_cap = cap;
    s->q_head = 0;
    return 0;
}

/* Call after ring_reserve. */
static void ring_push(srv_sub_t *s, frame_t *f)
{
    SK_ASSERT(s->q_count < s->q_cap && s->q_head < s->q_cap);
    s->q[(s->q_head + s->q_count) % s->q_cap] = f;
    s->q_count++;
    s->q_bytes += f->len;
}

static frame_t *ring_pop(srv_sub_t *s)
{
    SK_ASSERT(s->q_count > 0 && s->q_count <= s->q_cap && s->q_head < s->q_cap);
    frame_t *f = s->q[s->q_head];
    SK_ASSERT(s->q_bytes >= f->len);
    s->q_head = (s->q_head + 1) % s->q_cap;
    s->q_count--;
    s->q_bytes -= f->len;
    if (!s->q_count && s->q_cap > 4 * SRV_SUB_RING_MIN) { /* drained after a backlog */
        free(s->q);
        s->q = NULL;
        s->q_cap = s->q_head = 0;
    }
    return f;
}

/* Removes item i (unreferenced) and closes the hole. */
static void ring_remove(srv_sub_t *s, uint32_t i)
{
    SK_ASSERT(i < s->q_count && s->q_count <= s->q_cap);
    frame_t *f = AT(s, i);
    SK_ASSERT(s->q_bytes >= f->len);
    s->q_bytes -= f->len;
    for (uint32_t k = i; k + 1 < s->q_count; k++)
        AT(s, k) = AT(s, k + 1);
    s->q_count--;
    item_unref(f);
}

/* ---- losses ---- */

static void count_lost(srv_sub_t *s, uint64_t n)
{
    s->dropped_total += n;
    if (s->hub) {
        s->hub->dropped_total += n;
        if (s->hub->dropped_counter)
            *s->hub->dropped_counter += n;
    }
}

/* Adds [from, to) (and events) to the pending notice. Counting is done by the caller. */
static void note_lost(srv_sub_t *s, uint64_t from, uint64_t to, uint64_t events)
{
    if (to > from) {
        if (!s->lost_steps) {
            s->lost_from = from;
            s->lost_to = to;
        } else {
            s->lost_from = from < s->lost_from ? from : s->lost_from;
            s->lost_to = to > s->lost_to ? to : s->lost_to;
        }
        s->lost_steps += to - from;
    }
    s->lost_events += events;
    s->lost_pending = 1;
}

/* Writes the pending notice into s->notice. Returns 1 when there was one. */
static int emit_notice(srv_sub_t *s)
{
    if (!s->lost_pending)
        return 0;
    json_t *j = sk_proto_dropped_json(s->lost_from, s->lost_to, s->lost_steps, s->lost_events);
    size_t len = 0;
    char *text = j ? sk_proto_sse_format("dropped", NULL, j, &len) : NULL;
    json_decref(j);
    s->notice_len = s->notice_off = 0;
    if (text && len < sizeof s->notice) {
        memcpy(s->notice, text, len);
        s->notice_len = len;
    }
    free(text);
    s->lost_pending = 0;
    s->lost_steps = s->lost_events = 0;
    return s->notice_len > 0;
}

/* ---- room in the ring ---- */

/* Frees one slot: merges the newest pair of adjacent spike items (or lost ranges) that are
 * contiguous, else drops the oldest control event (counted). Returns 0 when impossible. */
static int make_room(srv_sub_t *s)
{
    for (uint32_t i = s->q_count; i-- > 1;) {
        frame_t *a = AT(s, i - 1), *b = AT(s, i);
        if (a->to != b->from)
            continue;
        if (a->kind == IT_LOST && b->kind == IT_LOST) {
            a->to = b->to;
            ring_remove(s, i);
            return 1;
        }
        if (!is_steps(a) || !is_steps(b))
            continue;
        frame_t *g = item_new(IT_GAP, a->from, b->to, NULL, 0);
        if (!g)
            return 0;
        s->q_bytes -= a->len;
        item_unref(a);
        AT(s, i - 1) = g;
        ring_remove(s, i);
        return 1;
    }
    for (uint32_t i = 0; i < s->q_count; i++)
        if (AT(s, i)->kind == IT_CONTROL) {
            ring_remove(s, i);
            count_lost(s, 1);
            note_lost(s, 0, 0, 1);
            return 1;
        }
    return 0;
}

static void wake(srv_sub_t *s)
{
    if (s->waiting && s->wake) {
        s->waiting = 0;
        s->wake(s->wake_arg);
    }
}

/* Owes [from, to) to s as a gap (merged into a gap at the tail when contiguous). */
static void add_gap(srv_sub_t *s, uint64_t from, uint64_t to)
{
    if (from >= to)
        return;
    frame_t *t = s->q_count ? AT(s, s->q_count - 1) : NULL;
    if (t && t->kind == IT_GAP && t->to == from) {
        t->to = to;
    } else {
        frame_t *g = NULL;
        if (ring_reserve(s) == 0 || make_room(s))
            g = item_new(IT_GAP, from, to, NULL, 0);
        if (g) {
            ring_push(s, g);
        } else { /* no slot and no memory: report the steps lost rather than stall */
            count_lost(s, to - from);
            note_lost(s, from, to, 0);
        }
    }
    s->cursor = to;
    wake(s);
}

/* f fits in the byte budget (a first item always does) and the ring has a slot for it. */
static int fits(srv_sub_t *s, const frame_t *f)
{
    size_t used = s->q_bytes + s->fill_bytes;
    size_t lim = s->hub ? s->hub->queue_bytes : 0;
    return (used == 0 || used + f->len <= lim) && ring_reserve(s) == 0;
}

static void push_spikes(srv_sub_t *s, frame_t *f)
{
    if (s->ended || f->to <= s->cursor)
        return;
    frame_t *t = s->q_count ? AT(s, s->q_count - 1) : NULL;
    if (f->from == s->cursor && fits(s, f) && !(t && t->kind == IT_GAP)) {
        f->refs++;
        ring_push(s, f);
        s->cursor = f->to;
        wake(s);
        return;
    }
    add_gap(s, s->cursor, f->to); /* behind or full: the history holds these steps */
}

static void push_control(srv_sub_t *s, frame_t *f)
{
    if (s->ended)
        return;
    if (ring_reserve(s) && !make_room(s)) {
        count_lost(s, 1);
        note_lost(s, 0, 0, 1);
        return;
    }
    f->refs++;
    ring_push(s, f);
    wake(s);
}

/* ---- the hub ---- */

void srv_hub_init(srv_hub_t *hub, uint32_t max_subscribers, size_t queue_bytes,
                  uint64_t *dropped_counter, uint64_t *published_counter)
{
    memset(hub, 0, sizeof *hub);
    hub->max_subscribers = max_subscribers;
    hub->queue_bytes = queue_bytes;
    size_t items = queue_bytes / SRV_SUB_ITEM_BYTES;
    items = items < SRV_SUB_ITEMS_MIN ? SRV_SUB_ITEMS_MIN : items;
    hub->max_items = (uint32_t)(items < SRV_SUB_ITEMS_MAX ? items : SRV_SUB_ITEMS_MAX);
    hub->dropped_counter = dropped_counter;
    hub->published_counter = published_counter;
}

void srv_hub_set_fill(srv_hub_t *hub, srv_hub_fill_fn fn, void *ctx)
{
    hub->fill = fn;
    hub->fill_ctx = ctx;
}

/* Every gap of s becomes a lost range (counted). */
static void gaps_lost(srv_sub_t *s)
{
    for (uint32_t i = 0; i < s->q_count; i++) {
        frame_t *f = AT(s, i);
        if (f->kind == IT_GAP) {
            f->kind = IT_LOST;
            count_lost(s, f->to - f->from);
        }
    }
    if (s->want_fill) {
        s->want_fill = 0;
        wake(s);
    }
}

void srv_hub_close(srv_hub_t *hub, int report_gaps)
{
    while (hub->subs) {
        srv_sub_t *s = hub->subs;
        if (report_gaps) {
            gaps_lost(s);
        } else {
            for (uint32_t i = 0; i < s->q_count; i++)
                if (AT(s, i)->kind == IT_GAP) {
                    while (s->q_count > i)
                        ring_remove(s, s->q_count - 1);
                    break;
                }
        }
        hub->subs = s->next;
        s->hub = NULL;
        s->prev = s->next = NULL;
        s->ended = 1;
        s->want_fill = 0;
        wake(s);
    }
    hub->n_subs = 0;
    hub->filters_valid = 0;
}

int srv_hub_publish(srv_hub_t *hub, char *text, size_t len)
{
    frame_t *f = item_new(IT_CONTROL, 0, 0, text, len);
    if (!f)
        return -1;
    if (hub->published_counter)
        (*hub->published_counter)++;
    for (srv_sub_t *s = hub->subs; s; s = s->next)
        push_control(s, f);
    item_unref(f);
    return 0;
}

int srv_hub_publish_spikes(srv_hub_t *hub, int32_t key, uint64_t from, uint64_t to, char *text,
                           size_t len)
{
    frame_t *f = item_new(IT_SPIKES, from, to, text, len);
    if (!f)
        return -1;
    if (hub->published_counter)
        (*hub->published_counter)++;
    for (srv_sub_t *s = hub->subs; s; s = s->next)
        if (s->filter == key)
            push_spikes(s, f);
    item_unref(f);
    return 0;
}

void srv_hub_advance(srv_hub_t *hub, uint64_t step)
{
    for (srv_sub_t *s = hub->subs; s; s = s->next)
        if (!s->ended && s->cursor < step)
            add_gap(s, s->cursor, step);
}

void srv_hub_rebase(srv_hub_t *hub, uint64_t step)
{
    for (srv_sub_t *s = hub->subs; s; s = s->next) {
        gaps_lost(s);
        s->cursor = step;
    }
}

void srv_hub_fill_waiting(srv_hub_t *hub)
{
    if (!hub->fill || !hub->want_fill) /* called at every chunk boundary: usually nobody */
        return;
    hub->want_fill = 0;
    for (srv_sub_t *s = hub->subs; s; s = s->next)
        if (s->want_fill) {
            s->want_fill = 0;
            if (hub->fill(hub->fill_ctx, s)) {
                wake(s);
            } else {
                s->want_fill = 1;
                hub->want_fill = 1;
            }
        }
}

static uint32_t filters_of(const srv_hub_t *hub, int32_t *out, uint32_t cap)
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

uint32_t srv_hub_filters(srv_hub_t *hub, int32_t *out, uint32_t cap)
{
    if (cap > SRV_HUB_FILTERS)
        return filters_of(hub, out, cap);
    if (!hub->filters_valid) { /* called for every chunk: recomputed only after (un)subscribes */
        hub->n_filters = filters_of(hub, hub->filters, SRV_HUB_FILTERS);
        hub->filters_valid = 1;
    }
    uint32_t n = hub->n_filters < cap ? hub->n_filters : cap;
    memcpy(out, hub->filters, n * sizeof *out);
    return n;
}

void srv_hub_heartbeat(srv_hub_t *hub)
{
    frame_t *f = NULL;
    for (srv_sub_t *s = hub->subs; s; s = s->next) {
        if (s->q_count || s->cur || s->notice_len || s->fill_head || s->lost_pending)
            continue;
        if (!f) {
            char *t = strdup(": ping\n\n");
            if (!t || !(f = item_new(IT_CONTROL, 0, 0, t, strlen(t))))
                return;
        }
        push_control(s, f);
    }
    item_unref(f);
}

srv_sub_t *srv_hub_subscribe(srv_hub_t *hub, int32_t filter, const char *hello, uint64_t lost_from,
                             uint64_t from, uint64_t now, int *status)
{
    if (hub->n_subs >= hub->max_subscribers) {
        *status = 429;
        return NULL;
    }
    srv_sub_t *s = calloc(1, sizeof *s);
    if (!s) {
        *status = 503;
        return NULL;
    }
    s->hub = hub;
    s->filter = filter;
    int n = snprintf(s->notice, sizeof s->notice, "retry: 2000\n\n");
    if (hello && n >= 0 && (size_t)n < sizeof s->notice)
        n += snprintf(s->notice + n, sizeof s->notice - (size_t)n, "event: hello\ndata: %s\n\n",
                      hello);
    s->notice_len = n >= 0 && (size_t)n < sizeof s->notice ? (size_t)n : 0;
    s->cursor = from < now ? from : now;
    if (lost_from < s->cursor) { /* before the replay window: reported, not replayed */
        count_lost(s, s->cursor - lost_from);
        note_lost(s, lost_from, s->cursor, 0);
    }
    add_gap(s, s->cursor, now);
    s->cursor = now;
    s->next = hub->subs;
    if (hub->subs)
        hub->subs->prev = s;
    hub->subs = s;
    hub->n_subs++;
    hub->filters_valid = 0;
    return s;
}

/* ---- reading ---- */

/* Moves the next thing to write into notice or cur. Returns 1, or 0 when nothing can be
 * written now. */
static int load_next(srv_sub_t *s)
{
    for (;;) {
        while (!s->fill_head && s->q_count && AT(s, 0)->kind == IT_LOST) {
            frame_t *f = ring_pop(s);
            note_lost(s, f->from, f->to, 0); /* counted when it became lost */
            item_unref(f);
        }
        if (emit_notice(s))
            return 1;
        if (s->fill_head) {
            s->cur = s->fill_head;
            s->fill_head = s->cur->next;
            if (!s->fill_head)
                s->fill_tail = NULL;
            s->fill_bytes -= s->cur->len;
            s->cur_off = 0;
            return 1;
        }
        if (!s->q_count)
            return 0;
        frame_t *f = AT(s, 0);
        if (f->kind != IT_GAP) {
            s->cur = ring_pop(s);
            s->cur_off = 0;
            return 1;
        }
        if (f->from >= f->to) {
            item_unref(ring_pop(s));
            continue;
        }
        if (!s->hub || !s->hub->fill) {
            f->kind = IT_LOST;
            count_lost(s, f->to - f->from);
            continue;
        }
        if (!s->hub->fill(s->hub->fill_ctx, s)) {
            s->want_fill = 1;
            s->hub->want_fill = 1;
            return 0;
        }
    }
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

ssize_t srv_sub_read(srv_sub_t *s, char *buf, size_t max)
{
    size_t k = 0;
    while (k < max) {
        if (s->notice_off < s->notice_len) {
            k = copy_out(buf, k, max, s->notice, s->notice_len, &s->notice_off);
            continue;
        }
        s->notice_len = s->notice_off = 0;
        if (s->cur) {
            k = copy_out(buf, k, max, s->cur->text, s->cur->len, &s->cur_off);
            if (s->cur_off == s->cur->len) {
                item_unref(s->cur);
                s->cur = NULL;
            }
            continue;
        }
        if (!load_next(s))
            break;
    }
    if (k)
        return (ssize_t)k;
    if (!s->q_count && !s->fill_head && (s->ended || !s->hub))
        return -1;
    s->waiting = 1;
    return 0;
}

int srv_sub_defer(srv_sub_t *s)
{
    if (s->notice_off < s->notice_len || s->cur || s->fill_head || s->lost_pending || s->q_count ||
        s->ended || !s->hub)
        return 1; /* a read would give bytes, or the end of the stream */
    s->waiting = 1;
    return 0;
}

void srv_sub_set_wake(srv_sub_t *s, srv_sub_wake_fn fn, void *arg)
{
    s->wake = fn;
    s->wake_arg = arg;
}

void srv_sub_end(srv_sub_t *s)
{
    s->ended = 1;
    wake(s);
}

void srv_sub_close(srv_sub_t *s)
{
    if (!s)
        return;
    srv_hub_t *hub = s->hub;
    if (hub) {
        if (s->prev)
            s->prev->next = s->next;
        else
            hub->subs = s->next;
        if (s->next)
            s->next->prev = s->prev;
        hub->n_subs--;
        hub->filters_valid = 0;
    }
    while (s->q_count)
        item_unref(ring_pop(s));
    free(s->q);
    while (s->fill_head) {
        frame_t *f = s->fill_head;
        s->fill_head = f->next;
        item_unref(f);
    }
    item_unref(s->cur);
    free(s);
}

/* ---- fills ---- */

int srv_sub_gap(const srv_sub_t *s, int32_t *filter, uint64_t *from, uint64_t *to, size_t *budget)
{
    if (!s->q_count || AT(s, 0)->kind != IT_GAP)
        return 0;
    const frame_t *g = AT(s, 0);
    size_t used = s->q_bytes + s->fill_bytes, lim = s->hub ? s->hub->queue_bytes : 0;
    *filter = s->filter;
    *from = g->from;
    *to = g->to;
    *budget = used < lim ? lim - used : 1;
    if (*budget > SRV_FILL_MAX_BYTES)
        *budget = SRV_FILL_MAX_BYTES;
    return 1;
}

void srv_sub_lose(srv_sub_t *s, uint64_t end)
{
    if (!s->q_count || AT(s, 0)->kind != IT_GAP)
        return;
    frame_t *g = AT(s, 0);
    end = end < g->to ? end : g->to;
    if (end <= g->from)
        return;
    count_lost(s, end - g->from);
    note_lost(s, g->from, end, 0);
    g->from = end;
}

int srv_sub_fill(srv_sub_t *s, char *text, size_t len, uint64_t end)
{
    if (!s->q_count || AT(s, 0)->kind != IT_GAP) {
        free(text);
        return -1;
    }
    frame_t *g = AT(s, 0);
    end = end < g->to ? end : g->to;
    frame_t *f = end > g->from ? item_new(IT_SPIKES, g->from, end, text, len) : NULL;
    if (!f) {
        if (end > g->from)
            srv_sub_lose(s, end);
        else
            free(text);
        return -1;
    }
    if (s->fill_tail)
        s->fill_tail->next = f;
    else
        s->fill_head = f;
    s->fill_tail = f;
    s->fill_bytes += f->len;
    g->from = end;
    return 0;
}

uint64_t srv_sub_dropped(const srv_sub_t *s)
{
    return s->dropped_total;
}

size_t srv_sub_queued_bytes(const srv_sub_t *s)
{
    return s->q_bytes + s->fill_bytes;
}
