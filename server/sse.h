/* sse.h: Server-Sent Events fan-out: a hub per session, a bounded queue per subscriber.
 *
 * A frame is one complete SSE event as text (proto's sk_proto_sse_format), created once
 * and shared by reference between every subscriber queue it goes to. Each frame carries a
 * key: SRV_HUB_CONTROL frames (progress, lifecycle) go to everyone; spike batches are
 * encoded once per distinct subscriber filter (SRV_HUB_ALL = every population, or one
 * population index) and go to the subscribers with that filter.
 *
 * Publishing never waits: each subscriber queue is bounded in frames and bytes; when a new
 * frame does not fit, the OLDEST queued frames are dropped (never the frame being written)
 * and counted, and the subscriber reads "event: dropped" {"count": n} before the next
 * frame. Replay after Last-Event-ID is not kept here: event ids are step numbers and the
 * session replays from the core's spike history (bounded by the core's history limits).
 *
 * Reading is pull-driven: the transport calls srv_sub_read when the socket can take more.
 * It returns 0 when the queue is empty; the subscriber is then "waiting" and the next
 * push calls its wake function once (the transport resumes the connection).
 *
 * Threads: loop thread only. Memory per subscriber <= queue bytes + one frame in flight
 * (a single frame larger than the queue limit is queued alone).
 */
#ifndef SPIKED_SRV_SSE_H
#define SPIKED_SRV_SSE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SRV_HUB_ALL     (-1) /* spike batches of every population */
#define SRV_HUB_CONTROL (-2) /* events every subscriber gets */

#define SRV_SUB_QUEUE_FRAMES 1024

typedef struct srv_sub srv_sub_t;
typedef void (*srv_sub_wake_fn)(void *arg);

typedef struct srv_hub {
    uint32_t max_subscribers;
    size_t queue_bytes;        /* per subscriber */
    srv_sub_t *subs;           /* doubly linked */
    uint32_t n_subs;
    uint64_t *dropped_counter; /* optional global counter (metrics) */
    uint64_t *published_counter;
    uint64_t dropped_total;    /* frames dropped from this hub's subscriber queues */
} srv_hub_t;

/* init/close: the hub is embedded in its owner. close ends every subscription: each
 * stream ends once its queue is drained. */
void srv_hub_init(srv_hub_t *hub, uint32_t max_subscribers, size_t queue_bytes,
                  uint64_t *dropped_counter, uint64_t *published_counter);
void srv_hub_close(srv_hub_t *hub);

/* Publishes the event text (malloc'd; taken over, freed even on failure) to every
 * subscriber whose filter matches key. Returns 0 or -1 (out of memory). */
int srv_hub_publish(srv_hub_t *hub, int32_t key, char *text, size_t len);

/* The distinct filters of the current subscribers (SRV_HUB_ALL or population indices),
 * at most cap of them. */
uint32_t srv_hub_filters(const srv_hub_t *hub, int32_t *out, uint32_t cap);

/* Sends ": ping" to every subscriber with nothing queued (keeps idle streams alive and
 * lets the transport notice dead peers). */
void srv_hub_heartbeat(srv_hub_t *hub);

/* Subscribes with filter (SRV_HUB_ALL or a population index). hello: JSON text of a first
 * "hello" event (no id; copied), may be NULL. Returns the subscriber, or NULL with
 * *status = 429 (too many subscribers) or 503 (out of memory). */
srv_sub_t *srv_hub_subscribe(srv_hub_t *hub, int32_t filter, const char *hello, int *status);

/* Queues event text (taken over) to this subscriber only (replay). Same drop policy. */
int srv_sub_push(srv_sub_t *sub, char *text, size_t len);

/* Copies up to max bytes of queued event text into buf. Returns > 0 bytes, 0 when nothing
 * is queued (the subscriber is now waiting: wake will be called once something arrives),
 * -1 at the end of the stream (hub closed or srv_sub_end, queue drained). */
ssize_t srv_sub_read(srv_sub_t *sub, char *buf, size_t max);

/* Sets the transport's wake-up (called at most once per srv_sub_read that returned 0). */
void srv_sub_set_wake(srv_sub_t *sub, srv_sub_wake_fn fn, void *arg);

/* Ends the stream after what is queued (shutdown). Wakes a waiting reader. */
void srv_sub_end(srv_sub_t *sub);

/* Unlinks and frees the subscriber (its stream is gone). NULL is a no-op. */
void srv_sub_close(srv_sub_t *sub);

/* Counters of one subscriber. */
uint64_t srv_sub_dropped(const srv_sub_t *sub);
size_t srv_sub_queued_bytes(const srv_sub_t *sub);

#endif
