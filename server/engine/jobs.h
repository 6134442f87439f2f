/* jobs.h: stepping. A step job is a session operation (srv_op_t) that runs in chunks on
 * the libuv pool; the real-time pacer (pacer.h) runs the same chunks when the queue is
 * empty. This module is a client of the session (session.h): it submits operations and
 * registers its teardown; the session never calls it by name, only through the
 * operation's vtable (srv_op_vt_t).
 *
 * Chunks. Each work item advances up to `n` steps, n chosen so one item takes ~10 ms from
 * the session's measured cost per step (first chunk: 8 steps). After each item, on the
 * loop thread: spike batches (encoded by the worker, once per distinct subscriber filter)
 * go to the session's event hub, counters and progress are updated, waiting readers are
 * served, and the job checks its cancel flag and wall-time limit before the next item.
 *
 * Answers. A job whose request did not ask for async and is expected (from the measured
 * cost) to finish within --sync-ms keeps its request suspended and answers 200 with the
 * step result; otherwise, or once it has run --sync-ms, it answers 202 with the job
 * (Location /v1/sessions/{name}/jobs/{id}) and goes on. Jobs can be polled and canceled;
 * each session keeps its last 16 finished jobs.
 *
 * Threads: srv_chunk_run runs on the pool (the session's network is owned by the worker
 * then); everything else on the loop thread.
 */
#ifndef SPIKED_SRV_JOBS_H
#define SPIKED_SRV_JOBS_H

#include <stdint.h>

#include <jansson.h>

#include "engine/session.h"

/* A job's state; the wire shows srv_job_state_name's words. Order matters: the finished
 * states follow SRV_JOB_RUNNING. */
typedef enum srv_job_state {
    SRV_JOB_QUEUED = 0,
    SRV_JOB_RUNNING,
    SRV_JOB_DONE,
    SRV_JOB_CANCELED,
    SRV_JOB_FAILED
} srv_job_state_t;

/* "queued", "running", "done", "canceled" or "failed". */
const char *srv_job_state_name(srv_job_state_t state);

#define SRV_MAX_FILTERS 16
#define SRV_JOBS_KEPT   16

typedef struct srv_text srv_text_t;
struct srv_text {
    srv_text_t *next;
    int32_t key;       /* hub key (SRV_HUB_ALL or population index) */
    uint64_t from, to; /* the batch's steps */
    size_t len;
    char *text;        /* a formatted SSE event */
};

typedef struct srv_chunk {
    uint64_t n;                         /* steps to take */
    int32_t filters[SRV_MAX_FILTERS];   /* hub filters to encode batches for */
    uint32_t n_filters;
    uint32_t resets;                    /* the session's reset epoch, for the event ids */
    /* results, written by the worker */
    int rc;
    uint64_t done, ns, step0, step1, spikes;
    srv_text_t *frames, **frames_tail;
} srv_chunk_t;

/* The SSE id of a spike batch ending at step: "<step>" while the session was never reset,
 * "<resets>:<step>" after (so a client resuming with an id from before a reset is told:
 * h_events.c). buf: at least 48 bytes. */
void srv_event_id(uint32_t resets, uint64_t step, char *buf, size_t cap);

/* Loop thread: sets c->n (<= max_steps, >= 1) from the session's cost per step, and
 * snapshots the hub's filters. */
void srv_chunk_prepare(srv_session_t *sess, srv_chunk_t *c, uint64_t max_steps);
/* Pool thread: steps and encodes the batches. */
void srv_chunk_run(sk_net_t *net, srv_chunk_t *c);
/* Loop thread: publishes the batches (subscribers left behind get gaps up to the new
 * step), updates counters and the cost per step, clears. */
void srv_chunk_publish(srv_session_t *sess, srv_chunk_t *c);
void srv_chunk_clear(srv_chunk_t *c);

/* One spike batch event of [from, to) for pop (-1 = all), cut after ~50,000 ids at a step
 * boundary: {from_step, to_step, first_kept, spikes, next_from_step?, t_ms}; *end = where
 * it stops. NULL when out of memory. Any thread that owns the network. */
json_t *srv_spike_batch(const sk_net_t *net, int32_t pop, uint64_t from, uint64_t to,
                        uint64_t *end);

/* The session's hub fill function (sse.h, srv_hub_fill_fn; ctx = the session): encodes the
 * gap at the head of sub's queue from the network's spike history, up to the sub's byte
 * budget, and reports what the history no longer holds as lost. Returns 0 while the
 * network is busy. Loop thread. */
int srv_spikes_fill(void *sess, srv_sub_t *sub);

/* Creates the step operation of POST .../step: body (a new reference, taken over) is
 * decoded when the job reaches the head of the queue. */
srv_op_t *srv_job_new(srv_session_t *sess, srv_req_t *rq, json_t *body);

/* The job with this id (running, queued or one of the kept finished ones), or NULL. */
srv_job_t *srv_job_find(srv_session_t *sess, uint64_t id);
/* The running job, or NULL. */
srv_job_t *srv_job_current(srv_session_t *sess);
/* Fills the proto view of a job (pointers valid while the job lives). */
void srv_job_view(const srv_job_t *job, sk_proto_job_t *out);
/* Requests cancellation: a queued job is canceled at once, a running one at the next chunk
 * boundary. Returns 0, or 1 when the job had already finished. */
int srv_job_cancel(srv_session_t *sess, srv_job_t *job);
/* Frees every finished job (session teardown). */
void srv_jobs_free(srv_session_t *sess);

#endif
