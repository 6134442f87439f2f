/* sse.h: Server-Sent Events fan-out: a hub per session, a bounded queue per subscriber,
 * and spike batches pulled from the session's spike history when a subscriber is behind.
 *
 * A subscriber's queue holds, in the order things happened:
 *   FRAME  the text of one event, shared by reference between subscribers: a spike batch
 *          of steps [from, to) (encoded once per distinct filter by the step worker), or a
 *          control event (progress, lifecycle, ": ping");
 *   GAP    spike steps [from, to) this subscriber is owed but that are not held as text:
 *          read from the session's spike history when the reader reaches them;
 *   LOST   spike steps [from, to) it will never get (reset, or gone from the history).
 * Each subscriber has a cursor, `next`: the first step whose spikes it has not been given
 * (as a frame or a gap). A published batch that starts at the cursor and fits in the
 * queue's byte budget is queued as a frame; otherwise (queue full, or already behind) its
 * steps are added to a gap instead. Nothing is ever dropped from a queue because it is
 * full, so a reader that catches up gets every batch still in the session's spike history;
 * what the history no longer holds is reported exactly, as
 *     event: dropped   data: {"count": steps, "from_step": a, "to_step": b[, "events": n]}
 * before the next event (count = b - a; `events`: control events lost, see below).
 *
 * Filling. When the reader reaches a GAP it calls the hub's fill function (the session's:
 * it encodes batches from the core's history, up to the free queue budget and at most
 * SRV_FILL_MAX_BYTES, at least one batch: the loop thread's time per fill is bounded). The network
 * may only be read between work items; when it is busy the fill function returns 0, the subscriber
 * waits, and the session calls srv_hub_fill_waiting at the next chunk boundary. Replay after
 * Last-Event-ID is simply a GAP queued at subscribe time: it is pulled as the reader drains, never
 * encoded all at once.
 *
 * Bounds. Spike batches: at most queue_bytes of text per subscriber, plus one fill (<= its
 * budget and one batch). Items (frames, gaps, lost ranges): a ring that starts at
 * SRV_SUB_RING_MIN slots, doubles as needed up to the hub's max_items = queue_bytes /
 * SRV_SUB_ITEM_BYTES, within [SRV_SUB_ITEMS_MIN, SRV_SUB_ITEMS_MAX] (1,024 for queues up
 * to 64 KiB, as when the ring was fixed; 16,384 for the default 1 MiB), and is freed when
 * it drains after a backlog. Every spike batch is longer than SRV_SUB_ITEM_BYTES, so for
 * spikes the byte budget is the binding limit; the item limit bounds control events
 * (small: progress, lifecycle; pings go only to idle streams). Gaps merge; when the ring
 * is full anyway (a subscriber that reads nothing while many control events are
 * published), adjacent spike items merge into a gap, else the oldest control event is
 * dropped and counted as `events` in the next dropped notice.
 *
 * Reading is pull-driven: the transport calls srv_sub_read when the socket can take more.
 * It returns 0 when there is nothing to send now; the subscriber is then "waiting" and the
 * next push or fill calls its wake function once (the transport resumes the connection).
 *
 * Threads: loop thread only.
 */
#ifndef SPIKED_SRV_SSE_H
#define SPIKED_SRV_SSE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SRV_HUB_ALL     (-1) /* spike batches of every population */
#define SRV_HUB_CONTROL (-2) /* events every subscriber gets */

#define SRV_SUB_RING_MIN   16   /* item slots a subscriber's ring starts with */
#define SRV_SUB_ITEM_BYTES 64   /* queue bytes per item slot: the item limit */
#define SRV_SUB_ITEMS_MIN  1024 /* the item limit of small queues (was fixed) */
#define SRV_SUB_ITEMS_MAX  (1u << 20)
#define SRV_FILL_MAX_BYTES (256 * 1024) /* encoded per fill at most (plus one batch) */
#define SRV_HUB_FILTERS    16           /* distinct filters srv_hub_filters keeps */

typedef struct srv_sub srv_sub_t;
typedef void (*srv_sub_wake_fn)(void *arg);
/* Fills the GAP at the head of sub's queue (srv_sub_gap, srv_sub_lose, srv_sub_fill).
 * Returns 1 when it did (made progress), 0 when the network cannot be read now. */
typedef int (*srv_hub_fill_fn)(void *ctx, srv_sub_t *sub);

typedef struct srv_hub {
    uint32_t max_subscribers;
    size_t queue_bytes; /* per subscriber */
    uint32_t max_items; /* item slots per subscriber (see Bounds) */
    srv_sub_t *subs;    /* doubly linked */
    uint32_t n_subs;
    uint64_t *dropped_counter; /* optional global counter (metrics): steps + events lost */
    uint64_t *published_counter;
    uint64_t dropped_total; /* steps + events this hub's subscribers lost */
    srv_hub_fill_fn fill;   /* NULL: gaps are reported lost when reached */
    void *fill_ctx;
    int want_fill;                    /* some subscriber may wait for srv_hub_fill_waiting */
    int32_t filters[SRV_HUB_FILTERS]; /* srv_hub_filters, while filters_valid */
    uint32_t n_filters;
    int filters_valid;
} srv_hub_t;

/* init/close: the hub is embedded in its owner. close ends every subscription: each
 * stream ends once its queue is drained; gaps still queued are reported as lost when
 * report_gaps, else the stream ends before the first of them (a client resuming with
 * Last-Event-ID elsewhere gets them from there). */
void srv_hub_init(srv_hub_t *hub, uint32_t max_subscribers, size_t queue_bytes,
                  uint64_t *dropped_counter, uint64_t *published_counter);
void srv_hub_set_fill(srv_hub_t *hub, srv_hub_fill_fn fn, void *ctx);
void srv_hub_close(srv_hub_t *hub, int report_gaps);

/* Publishes a control event (text malloc'd, taken over, freed even on failure) to every
 * subscriber. Returns 0 or -1 (out of memory). */
int srv_hub_publish(srv_hub_t *hub, char *text, size_t len);
/* Publishes the spike batch of steps [from, to) encoded for filter key (text taken over)
 * to the subscribers with that filter. Returns 0 or -1 (out of memory). */
int srv_hub_publish_spikes(srv_hub_t *hub, int32_t key, uint64_t from, uint64_t to, char *text,
                           size_t len);
/* The session has computed every step before `step`: subscribers whose cursor is behind it
 * (their filter had no batch encoded) get a gap up to it. Call after publishing a chunk. */
void srv_hub_advance(srv_hub_t *hub, uint64_t step);
/* The spike history restarted at `step` (reset): every gap still queued is lost; cursors
 * move to step. */
void srv_hub_rebase(srv_hub_t *hub, uint64_t step);
/* Fills every subscriber that waits for the network (call when it may be read: at a chunk
 * boundary) and wakes it. */
void srv_hub_fill_waiting(srv_hub_t *hub);

/* The distinct filters of the current subscribers (SRV_HUB_ALL or population indices),
 * at most cap of them, in the order of the subscriber list (kept between calls while
 * nobody subscribes or leaves). */
uint32_t srv_hub_filters(srv_hub_t *hub, int32_t *out, uint32_t cap);

/* Sends ": ping" to every subscriber with nothing queued (keeps idle streams alive and
 * lets the transport notice dead peers). */
void srv_hub_heartbeat(srv_hub_t *hub);

/* Subscribes with filter (SRV_HUB_ALL or a population index) at step `now` (the cursor).
 * hello: JSON text of a first "hello" event (no id; copied), may be NULL. from < now
 * queues the replay of [from, now) first; lost_from < from reports [lost_from, from) as
 * lost (beyond the replay window). Returns the subscriber, or NULL with *status = 429
 * (too many subscribers) or 503 (out of memory). */
srv_sub_t *srv_hub_subscribe(srv_hub_t *hub, int32_t filter, const char *hello, uint64_t lost_from,
                             uint64_t from, uint64_t now, int *status);

/* Copies up to max bytes of event text into buf. Returns > 0 bytes, 0 when nothing can be
 * sent now (the subscriber is waiting: wake will be called), -1 at the end of the stream
 * (hub closed or srv_sub_end, queue drained). */
ssize_t srv_sub_read(srv_sub_t *sub, char *buf, size_t max);

/* The transport will not read now (it paces its writes): returns 1 when something is
 * ready to be read (the transport schedules the read itself), else 0, and then the next
 * push or fill calls wake, as after a srv_sub_read that returned 0. */
int srv_sub_defer(srv_sub_t *sub);

/* Sets the transport's wake-up (called at most once per srv_sub_read that returned 0). */
void srv_sub_set_wake(srv_sub_t *sub, srv_sub_wake_fn fn, void *arg);

/* Ends the stream after what is queued (shutdown). Wakes a waiting reader. */
void srv_sub_end(srv_sub_t *sub);

/* Unlinks and frees the subscriber (its stream is gone). NULL is a no-op. */
void srv_sub_close(srv_sub_t *sub);

/* ---- for fill functions (the head of the queue is a gap) ---- */

/* The gap at the head: its filter, steps [*from, *to) and the bytes the fill may add
 * (>= 1: one batch at least). Returns 1, or 0 when the head is not a gap. */
int srv_sub_gap(const srv_sub_t *sub, int32_t *filter, uint64_t *from, uint64_t *to,
                size_t *budget);
/* The steps [gap from, end) are not in the history any more: reported as lost. Call before
 * any srv_sub_fill of the same gap. */
void srv_sub_lose(srv_sub_t *sub, uint64_t end);
/* The batch of steps [gap from, end) as event text (malloc'd, taken over): delivered next;
 * the gap now starts at end. Returns 0, or -1 when out of memory (then lost). */
int srv_sub_fill(srv_sub_t *sub, char *text, size_t len, uint64_t end);

/* Counters of one subscriber. */
uint64_t srv_sub_dropped(const srv_sub_t *sub); /* steps + events lost */
size_t srv_sub_queued_bytes(const srv_sub_t *sub);

#endif
