/* session.c: the session object, its operation queue and its readers (see session.h).
 *
 * The driver: kick starts queued operations while the session is idle; an
 * operation that needs the pool makes the session busy until after_work, where, in this
 * order, (1) the operation's `after` records the item's result, (2) waiting readers are
 * served (the network is idle), (3) the operation either queues its next item or finishes
 * and the next operation starts. The session knows no kind of operation: jobs (jobs.c),
 * the pacer (pacer.c) and the rest (ops.c, ckpt_store.c) are its clients; it calls them only
 * through srv_op_vt_t and the cleanups they register.
 */
#include "engine/session.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "sk_pool.h"

#define PARALLEL_MIN_NEURONS 10000 /* smaller networks step faster on one thread */

int srv_session_create(srv_server_t *srv, const char *name, sk_net_t *net,
                       srv_session_t **out)
{
    srv_session_t *sess = calloc(1, sizeof *sess);
    if (!sess) {
        sk_net_destroy(net);
        return SK_ENOMEM;
    }
    snprintf(sess->name, sizeof sess->name, "%s", name);
    sess->srv = srv;
    sess->net = net;
    sess->refs = 1;
    sess->next_job_id = 1;
    sk_net_info_t ni;
    sk_net_info(net, &ni);
    sess->n_pops = (int)ni.n_pops;
    sess->mem_charge = ni.bytes;
    if (srv->cfg.step_threads > 1 && ni.n_neurons >= PARALLEL_MIN_NEURONS &&
        sk_pool_create((uint32_t)srv->cfg.step_threads, &sess->par) == 0) {
        sk_parallel_t par;
        sk_pool_parallel(sess->par, &par);
        par.clock = sk_pool_clock; /* a real clock: the core times the split and keeps the faster */
        sk_net_set_parallel(net, &par);
    }
    sess->step = ni.step;
    sess->dt_ms = ni.dt_ms;
    atomic_init(&sess->deleted, 0);
    srv_hub_init(&sess->hub, (uint32_t)srv->cfg.max_subscribers, srv->cfg.sub_queue_bytes,
                 &srv->metrics.events_dropped, &srv->metrics.events_published);
    uv_timer_init(srv->loop, &sess->pacer);
    sess->pacer.data = sess;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    sess->created_ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    *out = sess;
    return 0;
}

void srv_session_ref(srv_session_t *sess)
{
    sess->refs++;
}

static void on_closed(uv_handle_t *h)
{
    srv_session_t *sess = h->data;
    for (int k = 0; k < SRV_SESSION_CLEANUPS && sess->cleanup[k]; k++)
        sess->cleanup[k](sess);
    sk_net_destroy(sess->net);
    sk_pool_destroy(sess->par); /* after the network that used it */
    free(sess->info_text);
    free(sess);
}

void srv_session_unref(srv_session_t *sess)
{
    if (--sess->refs)
        return;
    srv_hub_close(&sess->hub, 0);
    /* Freed from the close callback: never inside the callback that dropped the last ref. */
    uv_close((uv_handle_t *)&sess->pacer, on_closed);
}

/* ---- answers ---- */

void srv_session_answer_error(srv_req_t *rq, int status, const char *code, const char *fmt, ...)
{
    if (!rq)
        return;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    srv_resp_t rs;
    srv_resp_init(&rs);
    srv_resp_error(&rs, status, code, "", "%s", msg);
    srv_req_finish(rq, &rs);
}

void srv_session_answer_json(srv_req_t *rq, int status, json_t *j)
{
    if (!rq) {
        json_decref(j);
        return;
    }
    srv_resp_t rs;
    srv_resp_init(&rs);
    size_t len = 0;
    char *body = j ? sk_proto_dumps(j, &len) : NULL;
    json_decref(j);
    if (body)
        srv_resp_take(&rs, status ? status : 200, "application/json", body, len);
    else
        srv_resp_error(&rs, 503, "unavailable", "", "out of memory");
    srv_req_finish(rq, &rs);
}

void srv_session_answer_proto(srv_req_t *rq, const sk_proto_error_t *e)
{
    if (!rq)
        return;
    srv_resp_t rs;
    srv_resp_init(&rs);
    srv_resp_error(&rs, e->status, e->code, e->path, "%s", e->message);
    srv_req_finish(rq, &rs);
}

int srv_session_on_free(srv_session_t *sess, srv_session_cleanup_fn fn)
{
    for (int k = 0; k < SRV_SESSION_CLEANUPS; k++) {
        if (sess->cleanup[k] == fn)
            return 0;
        if (!sess->cleanup[k]) {
            sess->cleanup[k] = fn;
            return 0;
        }
    }
    return -1;
}

/* The current operation's job view, when it is a running job (srv_op_vt_t.view). */
static int running_job(const srv_session_t *sess, sk_proto_job_t *out)
{
    const srv_op_t *op = sess->current;
    return op && op->vt->view && op->vt->view(op, out);
}

const char *srv_session_status(const srv_session_t *sess)
{
    sk_proto_job_t jv;
    if (sess->closing)
        return "closing";
    if (running_job(sess, &jv) || sess->realtime)
        return "running";
    return "idle";
}

json_t *srv_session_info_json(srv_session_t *sess)
{
    SRV_ASSERT(!sess->busy); /* session.h: loop thread, session not busy */
    sk_proto_job_t jv;
    const int job = running_job(sess, &jv);
    sk_proto_session_extra_t x = {sess->name, srv_session_status(sess), job ? &jv : NULL,
                                  sess->realtime};
    json_t *j = NULL;
    return sk_proto_info_json(sess->net, &x, &j) ? NULL : j;
}

void srv_session_changed(srv_session_t *sess)
{
    free(sess->info_text);
    sess->info_text = NULL;
    sess->info_len = 0;
}

/* The info as freshly built text (malloc'd), or NULL. */
static char *info_build(srv_session_t *sess, size_t *len)
{
    json_t *j = srv_session_info_json(sess);
    char *text = j ? sk_proto_dumps(j, len) : NULL;
    json_decref(j);
    return text;
}

static char *dup_text(const char *text, size_t len)
{
    char *copy = malloc(len + 1);
    if (copy)
        memcpy(copy, text, len + 1);
    return copy;
}

char *srv_session_info_text(srv_session_t *sess, size_t *len)
{
    SRV_ASSERT(!sess->busy); /* session.h: loop thread, session not busy */
    sk_proto_job_t jv;
    if (running_job(sess, &jv)) /* steps_per_s follows the clock: never cached */
        return info_build(sess, len);
    if (!sess->info_text) {
        sess->info_text = info_build(sess, &sess->info_len);
        if (!sess->info_text)
            return NULL;
    }
#ifdef SPIKED_ASSERTS
    { /* a change that did not call srv_session_changed shows up here, in every test */
        size_t n = 0;
        char *fresh = info_build(sess, &n);
        if (fresh && (n != sess->info_len || memcmp(fresh, sess->info_text, n))) {
            srv_log(SRV_LOG_ERROR, "session %s: stale cached info:\n  cached %s\n  fresh  %s",
                    sess->name, sess->info_text, fresh);
            abort();
        }
        free(fresh);
    }
#endif
    *len = sess->info_len;
    return dup_text(sess->info_text, sess->info_len);
}

void srv_session_lifecycle(srv_session_t *sess, const char *what, const char *extra_json)
{
    (void)extra_json;
    json_t *j = sk_proto_lifecycle_json(what, sess->name, sess->step);
    size_t len = 0;
    char *text = j ? sk_proto_sse_format("lifecycle", NULL, j, &len) : NULL;
    json_decref(j);
    if (text)
        srv_hub_publish(&sess->hub, text, len);
}

/* ---- the queue driver ---- */

static void after_work(uv_work_t *w, int status);
static void serve_readers(srv_session_t *sess);

void srv_session_caps(const srv_server_t *srv, sk_proto_caps_t *caps)
{
    const srv_config_t *c = &srv->cfg;
    sk_proto_caps_default(caps);
    caps->limits.max_neurons = c->max_neurons;
    caps->limits.max_synapses = c->max_synapses;
    caps->limits.max_bytes = c->max_session_bytes;
    caps->max_limits = (sk_limits_t){.max_neurons = c->max_neurons,
                                     .max_synapses = c->max_synapses,
                                     .max_bytes = c->max_session_bytes,
                                     .spike_history = c->max_spike_history,
                                     .history_steps = (uint32_t)c->max_history_steps,
                                     .max_pending = c->max_pending,
                                     .max_record_values = c->max_record_values};
    caps->max_steps = c->max_steps;
}

static void work_cb(uv_work_t *w)
{
    srv_session_t *sess = w->data;
    sess->current->vt->work(sess->current);
}

/* Puts the session's next work item on the pool (a reference is held while it runs). */
static void queue_work(srv_session_t *sess)
{
    SRV_ASSERT(!sess->busy); /* at most one work item per session in flight */
    sess->busy = 1;
    sess->work.data = sess;
    srv_session_ref(sess);
    int rc = uv_queue_work(sess->srv->loop, &sess->work, work_cb, after_work);
    if (rc < 0) { /* only with invalid arguments: report through the normal path */
        srv_log(SRV_LOG_ERROR, "uv_queue_work: %s", uv_strerror(rc));
        after_work(&sess->work, rc);
    }
}

static void finish_current(srv_session_t *sess)
{
    srv_op_t *op = sess->current;
    sess->current = NULL;
    op->vt->destroy(op);
    srv_session_unref(sess); /* the queue's reference for op */
}

static void kick(srv_session_t *sess)
{
    if (sess->kicking)
        return;
    sess->kicking = 1;
    srv_session_ref(sess);
    while (!sess->busy && !sess->current && sess->q_head) {
        srv_op_t *op = sess->q_head;
        sess->q_head = op->next;
        if (!sess->q_head)
            sess->q_tail = NULL;
        sess->q_len--;
        op->next = NULL;
        sess->current = op;
        SRV_ASSERT(!sess->busy); /* srv_op_vt_t.start: session idle */
        int rc = op->vt->start(op);
        srv_session_changed(sess); /* starts change the network, the job list, ... */
        if (rc == SRV_OP_WORK)
            queue_work(sess);
        else
            finish_current(sess);
    }
    sess->kicking = 0;
    srv_session_unref(sess);
}

static void after_work(uv_work_t *w, int status)
{
    srv_session_t *sess = w->data;
    sess->busy = 0;
    srv_session_changed(sess); /* every work item may have changed the network */
    srv_op_t *op = sess->current;
    int rc = op->vt->after(op, status < 0 ? status : 0);
    srv_session_changed(sess); /* the step, the job's state, ... */
    serve_readers(sess);
    srv_hub_fill_waiting(&sess->hub); /* streams behind, while the network is idle */
    if (rc == SRV_OP_WORK && !sess->busy)
        queue_work(sess);
    else if (rc != SRV_OP_WORK)
        finish_current(sess);
    kick(sess);
    srv_session_unref(sess); /* the work item's reference */
}

int srv_session_submit(srv_session_t *sess, srv_op_t *op)
{
    if (sess->closing) {
        op->vt->destroy(op);
        return -410;
    }
    if (sess->q_len >= sess->srv->cfg.max_queue) {
        op->vt->destroy(op);
        return -429;
    }
    op->sess = sess;
    op->next = NULL;
    srv_session_ref(sess);
    if (sess->q_tail)
        sess->q_tail->next = op;
    else
        sess->q_head = op;
    sess->q_tail = op;
    sess->q_len++;
    kick(sess);
    return SRV_DEFERRED;
}

/* ---- readers ---- */

int srv_session_read(srv_session_t *sess, srv_req_t *rq, srv_read_fn fn, void *arg)
{
    if (!sess->busy) {
        srv_session_ref(sess);
        fn(sess, rq, arg);
        srv_session_unref(sess);
        return SRV_DEFERRED;
    }
    srv_reader_t *r = malloc(sizeof *r);
    if (!r)
        return -1;
    r->fn = fn;
    r->rq = rq;
    r->arg = arg;
    r->next = NULL;
    srv_reader_t **p = &sess->readers; /* FIFO: readers are answered in arrival order */
    while (*p)
        p = &(*p)->next;
    *p = r;
    srv_session_ref(sess);
    return SRV_DEFERRED;
}

static void serve_readers(srv_session_t *sess)
{
    srv_reader_t *r = sess->readers;
    sess->readers = NULL;
    while (r) {
        srv_reader_t *next = r->next;
        r->fn(sess, r->rq, r->arg);
        free(r);
        srv_session_unref(sess);
        r = next;
    }
}

/* ---- closing ---- */

void srv_session_drain(srv_session_t *sess, int status, const char *code)
{
    srv_session_ref(sess);
    srv_session_changed(sess);
    sess->realtime = 0; /* pacing off (pacer.h) */
    uv_timer_stop(&sess->pacer);
    if (sess->current && sess->current->vt->cancel)
        sess->current->vt->cancel(sess->current);
    while (sess->q_head) {
        srv_op_t *op = sess->q_head;
        sess->q_head = op->next;
        sess->q_len--;
        op->vt->abort(op, status, code);
        op->vt->destroy(op);
        srv_session_unref(sess);
    }
    sess->q_tail = NULL;
    srv_session_unref(sess);
}

void srv_session_close(srv_session_t *sess, int status, const char *code)
{
    if (sess->closing)
        return;
    srv_session_ref(sess);
    sess->closing = 1;
    srv_session_changed(sess);
    sess->close_status = status;
    sess->close_code = code;
    srv_session_drain(sess, status, code);
    if (!sess->busy)
        serve_readers(sess); /* they see `closing` and answer without the net */
    if (status == 404) /* deleted; on shutdown the streams just end (clients resume later) */
        srv_session_lifecycle(sess, "deleted", NULL);
    srv_hub_close(&sess->hub, status == 404); /* deleted: owed spikes are lost for good */
    srv_session_unref(sess);
}
