/* session.h: one named simulation: a core network, its ordered operation queue, its event
 * hub and its jobs.
 *
 * Ownership of the network. While a work item runs on the pool (`busy`), the worker owns
 * the network and the loop thread must not touch it. Otherwise the loop thread may read it
 * and change it. At most one work item per session is in flight, so one session's
 * operations run strictly in order; different sessions run in parallel on the pool.
 *
 * Operations (srv_op_t) are queued FIFO and started one at a time when the session is not
 * busy. An operation either finishes on the loop thread when started, or asks for work on
 * the pool (step chunks, checkpoints, forks) and is called back after each item. Reads
 * (info, state, spikes) do not queue: they are served at once when the session is idle, or
 * at the next chunk boundary (within one chunk, ~5-20 ms) when it is busy.
 *
 * Info cache. GET info is answered from the info JSON text kept in the session (built on
 * the first read, about 1 KB) until the session changes. Whatever the info shows changes
 * only (1) in an operation's start or a work item (every change to the network: the
 * contract above; job states; the step), both run by the driver in this file, or (2) by
 * srv_session_set_realtime (pacer.h) and srv_session_close/drain. Each of those calls
 * srv_session_changed, which drops the text: no operation or handler has to remember it.
 * While a job runs, the info is built for each read (its steps_per_s follows the clock).
 * Builds with SPIKED_ASSERTS check every cache hit against a fresh build.
 *
 * Lifetime: refcounted (registry, work in flight, handlers in progress). Deleting unlinks
 * the name at once, cancels and answers everything pending, ends the streams; the memory
 * goes when the last reference drops (never inside the callback that dropped it: freed
 * from a uv_close callback).
 *
 * Threads: everything here is loop-thread only, except op->vt->work, which runs on the
 * pool with the pinned session.
 */
#ifndef SPIKED_SRV_SESSION_H
#define SPIKED_SRV_SESSION_H

#include <stdatomic.h>
#include <stdint.h>

#include <uv.h>

#include "base/req.h"
#include "spiked/proto.h"
#include "spiked/sk_net.h"
#include "base/srv.h"
#include "events/sse.h"

typedef struct srv_op srv_op_t;
typedef struct srv_job srv_job_t;

/* srv_op_vt_t.start / .after results */
#define SRV_OP_DONE 0 /* the operation is finished (it answered its request) */
#define SRV_OP_WORK 1 /* run op->vt->work on the pool, then call after */

typedef struct srv_op_vt {
    const char *name;
    int (*start)(srv_op_t *op);             /* loop thread; session idle */
    void (*work)(srv_op_t *op);             /* pool thread; owns sess->net */
    int (*after)(srv_op_t *op, int status); /* loop thread; status < 0: work canceled */
    /* The session is going away before or between work items: answer the request with
     * status/code and release everything. Loop thread. */
    void (*abort)(srv_op_t *op, int status, const char *code);
    void (*destroy)(srv_op_t *op); /* frees op */
    /* Optional (NULL: not a job). view: fills *out and returns 1 while the operation is a
     * running job (the info and status show it), else 0. cancel: stop at the next work
     * item boundary (drain). Loop thread. */
    int (*view)(const srv_op_t *op, sk_proto_job_t *out);
    void (*cancel)(srv_op_t *op);
} srv_op_vt_t;

struct srv_op {
    const srv_op_vt_t *vt;
    srv_op_t *next;
    srv_session_t *sess; /* set by srv_session_submit (a reference is held) */
    srv_req_t *rq;       /* request to answer, or NULL */
};

/* A read waiting for the next chunk boundary. */
typedef struct srv_reader srv_reader_t;
typedef void (*srv_read_fn)(srv_session_t *sess, srv_req_t *rq, void *arg);
struct srv_reader {
    srv_reader_t *next;
    srv_read_fn fn;
    srv_req_t *rq;
    void *arg;
};

#define SRV_SESSION_CLEANUPS 4
typedef void (*srv_session_cleanup_fn)(srv_session_t *sess);

struct srv_session {
    char name[SRV_NAME_MAX + 1];
    srv_server_t *srv;
    sk_net_t *net;      /* owned; see "Ownership of the network" */
    uint32_t refs;
    int busy;           /* a work item is on the pool */
    int closing;        /* deleted or server stopping: accepts nothing new */
    atomic_int deleted; /* read by checkpoint workers before renaming their file */
    srv_op_t *q_head, *q_tail;
    uint32_t q_len;
    srv_op_t *current;  /* started, not finished */
    srv_reader_t *readers;
    uv_work_t work;
    uv_timer_t pacer;   /* the pacer's timer (pacer.c starts it; its close frees the session) */
    int realtime;       /* pacer.c's: real-time stepping (demo) */
    uint64_t rt_wall0_ns, rt_step0; /* pacer.c's: wall clock and step when pacing (re)started */
    srv_hub_t hub;
    int n_pops;         /* populations (fixed for the life of the network) */
    uint64_t step;      /* the network's step as of the last boundary (readable while busy) */
    double dt_ms;
    int close_status;   /* why it closed: answers owed afterwards use these */
    const char *close_code;
    /* jobs */
    uint64_t next_job_id;
    srv_job_t *jobs;    /* newest first: running, queued, then up to 16 finished */
    /* stepping statistics */
    double ns_per_step; /* moving average of the wall time of one step; 0 = unknown */
    double spikes_per_step; /* moving average */
    uint64_t steps_run, spikes_run; /* counters since creation/restore */
    uint64_t created_ms;            /* wall clock (ms since epoch) */
    int kicking;        /* inside the driver's kick (session.c) */
    char *info_text;    /* cached info JSON (see "Info cache"), or NULL */
    size_t info_len;
    struct sk_pool *par; /* threads lent to the network (--step-threads), or NULL */
    srv_session_cleanup_fn cleanup[SRV_SESSION_CLEANUPS]; /* srv_session_on_free */
    uint64_t mem_charge; /* the network's estimate (sk_net_info bytes) charged to --max-memory */
    uint64_t seq;        /* creation sequence (registry.c): listing cursors */
    uint64_t lsn;        /* journal.h: LSN of the last record about this session */
    uint64_t ckpt_lsn;   /* the LSN its checkpoint file holds (0: none, or written before) */
    uint32_t resets;     /* resets since creation/restore: the epoch of event ids (jobs.h) */
};

/* Creates a session around net (taken over, destroyed on failure too). */
int srv_session_create(srv_server_t *srv, const char *name, sk_net_t *net,
                       srv_session_t **out);
void srv_session_ref(srv_session_t *sess);
void srv_session_unref(srv_session_t *sess);

/* Queues op (taken over). Returns SRV_DEFERRED when queued or started, or a negative HTTP
 * status after answering nothing (429 queue full, 410 closing); op is destroyed then. */
int srv_session_submit(srv_session_t *sess, srv_op_t *op);

/* Calls fn(sess, rq, arg) when the network may be read: at once when idle, else at the next
 * chunk boundary. fn must answer rq with srv_req_finish (rq may be NULL for internal
 * readers). If the session closes first, fn is called with sess->closing set (it must
 * answer without reading the network). Returns SRV_DEFERRED, or -1 when out of memory
 * (nothing called). */
int srv_session_read(srv_session_t *sess, srv_req_t *rq, srv_read_fn fn, void *arg);

/* Closes the session: cancels the running job, aborts queued operations (status 410,
 * code), answers waiting readers, publishes a final lifecycle event and ends the streams.
 * The registry has already unlinked the name. */
void srv_session_close(srv_session_t *sess, int status, const char *code);

/* Stops stepping (pacer off, running job canceled at its next boundary) and aborts queued
 * operations with status/code; the session stays open (shutdown, before checkpoints). */
void srv_session_drain(srv_session_t *sess, int status, const char *code);

/* Registers fn to run when the session's memory goes (after the last reference, before the
 * network is destroyed): how a client frees what it hangs on the session (jobs.c: the job
 * list). Registering the same fn again does nothing. Returns 0, or -1 when full. */
int srv_session_on_free(srv_session_t *sess, srv_session_cleanup_fn fn);

/* Publishes a lifecycle event {"event":what, ...extra} (extra: JSON object text or NULL). */
void srv_session_lifecycle(srv_session_t *sess, const char *what, const char *extra_json);


/* The protocol caps of this server's configuration. caps->max_limits holds every per-session
 * ceiling (--max-neurons, --max-synapses, --max-session-bytes, --max-spike-history, ...);
 * caps->limits the defaults a session gets for the limits it does not request: the neuron,
 * synapse and byte ceilings, else the core's own. Restoring a checkpoint uses the same
 * ceilings (ckpt_store.c). */
void srv_session_caps(const srv_server_t *srv, sk_proto_caps_t *caps);

/* Answers rq (if any) with an error and status. */
void srv_session_answer_error(srv_req_t *rq, int status, const char *code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/* Answers rq (if any) with a JSON value (taken over). status 0 -> 200. */
void srv_session_answer_json(srv_req_t *rq, int status, json_t *j);
/* Answers rq (if any) with a proto error. */
void srv_session_answer_proto(srv_req_t *rq, const sk_proto_error_t *e);

/* The session's info JSON (loop thread, session not busy). NULL when out of memory. */
json_t *srv_session_info_json(srv_session_t *sess);
/* The same as text: a malloc'd copy of the cached text (built first if needed), *len set.
 * Loop thread, session not busy. NULL when out of memory. */
char *srv_session_info_text(srv_session_t *sess, size_t *len);
/* Something the info shows may have changed: drops the cached text. Called by the driver
 * and the status changes of this file (see "Info cache"); loop thread. */
void srv_session_changed(srv_session_t *sess);
/* "idle", "running" or "closing". */
const char *srv_session_status(const srv_session_t *sess);

#endif
