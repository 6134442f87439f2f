/* sse.h: Server-Sent Events fan-out: a hub per session, a bounded queue per subscriber.
 *
 * A frame is one complete SSE event ("id: 7\nevent: spikes\ndata: {...}\n\n"), created
 * once and shared by reference between the hub's replay history and every subscriber
 * queue. Publishing never waits: each subscriber queue is bounded in frames and bytes, and
 * when a new frame does not fit the OLDEST queued frames are dropped (never the frame being
 * written) and counted; the subscriber then reads an "event: dropped" notice before the
 * next frame. The replay history is bounded the same way (drop oldest).
 *
 * Reading is pull-driven: the transport calls srv_sub_read when the socket can take more.
 * It returns 0 when the queue is empty; the subscriber is then "waiting" and the next
 * publish calls its wake function once (the transport resumes the connection).
 *
 * Threads: loop thread only. Memory per subscriber <= queue bytes + one frame in flight.
 */
#ifndef SPIKED_SRV_SSE_H
#define SPIKED_SRV_SSE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct srv_frame {
    uint32_t refs;
    uint64_t id;  /* event id; 0 for frames without one (heartbeats) */
    int32_t pop;  /* population the event is about; -1 = every subscriber gets it */
    size_t len;   /* bytes in data */
    char data[];  /* the full event text */
} srv_frame_t;

typedef struct srv_sub srv_sub_t;
typedef void (*srv_sub_wake_fn)(void *arg);

#define SRV_SUB_MAX_FILTER 16
#define SRV_SUB_QUEUE_FRAMES 1024

typedef struct srv_hub_limits {
    uint32_t max_subscribers;
    size_t queue_bytes;     /* per subscriber */
    uint32_t history_events;
    size_t history_bytes;
} srv_hub_limits_t;

typedef struct srv_hub {
    srv_hub_limits_t lim;
    srv_sub_t *subs; /* doubly linked */
    uint32_t n_subs;
    srv_frame_t **hist; /* ring of history_events slots */
    uint32_t hist_head, hist_count;
    size_t hist_bytes;
    uint64_t next_id;  /* id of the next event (ids start at 1) */
    uint64_t *dropped_counter; /* optional global counter (metrics) */
    uint64_t dropped_total;    /* frames dropped from this hub's subscriber queues */
    uint64_t published;        /* events published */
} srv_hub_t;

/* init/close: the hub is embedded in its owner. close ends every subscription (their
 * streams end once their queues drain) and frees the history. */
int srv_hub_init(srv_hub_t *hub, const srv_hub_limits_t *lim, uint64_t *dropped_counter);
void srv_hub_close(srv_hub_t *hub);

/* Publishes one event to every subscriber (whose filter accepts pop) and to the history.
 * data is the JSON of the event (copied). Returns the event id, or 0 on allocation
 * failure (then nothing was published). */
uint64_t srv_hub_publish(srv_hub_t *hub, int32_t pop, const char *event, const char *data,
                         size_t len);

/* Sends ": ping" to every subscriber with nothing queued (keeps idle streams alive). */
void srv_hub_heartbeat(srv_hub_t *hub);

/* Subscribes. filter: population indices (n_filter == 0: all). If has_last, events after
 * last_id still in the history are queued first (a gap is reported as "dropped").
 * hello: JSON of a first "hello" event (no id), may be NULL. Returns the subscriber, or
 * NULL with *status = 429 (too many subscribers) or 500. */
srv_sub_t *srv_hub_subscribe(srv_hub_t *hub, const int32_t *filter, uint32_t n_filter,
                             int has_last, uint64_t last_id, const char *hello, int *status);

/* Copies up to max bytes of queued event text into buf. Returns > 0 bytes, 0 when nothing
 * is queued (the subscriber is now waiting: wake will be called once something arrives),
 * -1 at the end of the stream (hub closed or subscriber ended, queue drained). */
ssize_t srv_sub_read(srv_sub_t *sub, char *buf, size_t max);

/* Sets the transport's wake-up (called at most once per srv_sub_read that returned 0). */
void srv_sub_set_wake(srv_sub_t *sub, srv_sub_wake_fn fn, void *arg);

/* Ends the stream after what is queued (shutdown). Wakes a waiting reader. */
void srv_sub_end(srv_sub_t *sub);

/* Unlinks and frees the subscriber (its stream is gone). */
void srv_sub_close(srv_sub_t *sub);

/* Counters of one subscriber. */
uint64_t srv_sub_dropped(const srv_sub_t *sub);
size_t srv_sub_queued_bytes(const srv_sub_t *sub);

#endif
