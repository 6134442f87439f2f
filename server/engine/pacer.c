/* pacer.c: the real-time pacer (see pacer.h): a timer that submits chunk operations. */
#include "engine/pacer.h"

#include <stdlib.h>

#include "base/log.h"
#include "engine/jobs.h"

#define PACER_MIN_NS  10000000.0 /* batches of at least 10 ms of model time */
#define PACER_TICK_MS 10

typedef struct pacer_op {
    srv_op_t op; /* first: the queue entry */
    srv_chunk_t chunk;
} pacer_op_t;

/* The steps due now (at least one batch), or 0; more than 1 s behind, follows from here. */
static uint64_t steps_due(srv_session_t *sess)
{
    double dt_ns = sess->dt_ms * 1e6;
    uint64_t now = srv_now_ns();
    uint64_t target = sess->rt_step0 + (uint64_t)((double)(now - sess->rt_wall0_ns) / dt_ns);
    uint64_t min_batch = (uint64_t)(PACER_MIN_NS / dt_ns); /* >= 10 ms of model time */
    if (target < sess->step + (min_batch ? min_batch : 1))
        return 0;
    uint64_t due = target - sess->step;
    uint64_t one_s = (uint64_t)(1e9 / dt_ns) + 1;
    if (due > one_s) { /* more than 1 s behind: give up catching up, follow from here */
        srv_log(SRV_LOG_WARN, "session %s: real-time pacing %.1f s behind; skipping ahead",
                sess->name, (double)due * dt_ns / 1e9);
        sess->rt_wall0_ns = now;
        sess->rt_step0 = sess->step;
        return 0;
    }
    return due;
}

/* Prepares the next chunk: SRV_OP_WORK, or SRV_OP_DONE when pacing should stop for now. */
static int next_chunk(pacer_op_t *p)
{
    srv_session_t *sess = p->op.sess;
    if (!sess->realtime || sess->closing || sess->q_head)
        return SRV_OP_DONE;
    uint64_t due = steps_due(sess);
    if (!due)
        return SRV_OP_DONE;
    srv_chunk_prepare(sess, &p->chunk, due);
    return SRV_OP_WORK;
}

static int pacer_start(srv_op_t *op)
{
    return next_chunk((pacer_op_t *)op);
}

static void pacer_work(srv_op_t *op)
{
    srv_chunk_run(op->sess->net, &((pacer_op_t *)op)->chunk);
}

static int pacer_after(srv_op_t *op, int status)
{
    pacer_op_t *p = (pacer_op_t *)op;
    srv_chunk_publish(op->sess, &p->chunk);
    return status < 0 ? SRV_OP_DONE : next_chunk(p);
}

static void pacer_abort(srv_op_t *op, int status, const char *code)
{
    (void)op; /* no request to answer */
    (void)status;
    (void)code;
}

static void pacer_destroy(srv_op_t *op)
{
    pacer_op_t *p = (pacer_op_t *)op;
    srv_chunk_clear(&p->chunk);
    free(p);
}

static const srv_op_vt_t pacer_vt = {"pacer",     pacer_start,   pacer_work, pacer_after,
                                     pacer_abort, pacer_destroy, NULL,       NULL};

static void on_tick(uv_timer_t *t)
{
    srv_session_t *sess = t->data;
    if (!sess->realtime || sess->closing || sess->busy || sess->current || sess->q_head)
        return;
    if (!steps_due(sess))
        return;
    pacer_op_t *p = calloc(1, sizeof *p);
    if (!p)
        return;
    p->op.vt = &pacer_vt;
    p->chunk.frames_tail = &p->chunk.frames;
    srv_session_submit(sess, &p->op); /* started at once: the session is idle */
}

void srv_session_set_realtime(srv_session_t *sess, int on)
{
    srv_session_changed(sess);
    if (on && !sess->closing) {
        sess->realtime = 1;
        sess->rt_wall0_ns = srv_now_ns();
        sess->rt_step0 = sess->step;
        uv_timer_start(&sess->pacer, on_tick, PACER_TICK_MS, PACER_TICK_MS);
    } else {
        sess->realtime = 0;
        uv_timer_stop(&sess->pacer);
    }
}
