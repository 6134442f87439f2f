/* jobs.c: step jobs, the chunks they run in, and the real-time pacer (see jobs.h).
 *
 * A job's life: created by the handler (body kept as JSON) -> queued on the session ->
 * start: decoded against the network as it is then, inputs queued, listed with an id ->
 * chunks on the pool -> finished (done, canceled, failed) -> kept for polling until 16
 * newer jobs have finished. The request is answered exactly once: 200 with the result when
 * it finishes while still waited for, 202 with the job when async or slow, or an error: a
 * failed job with the status of its cause (413 limit_exceeded for --max-run-ms, 503
 * unavailable when out of memory, 500 internal for any other stepping failure).
 *
 * Progress events (SSE `progress`, a job) are for jobs someone may want to follow: a job
 * answered 202 is announced when it starts; a synchronous one once it outlives its first
 * chunk (~10 ms). An announced job then publishes at most every 250 ms and when it ends. A
 * synchronous step that ends within one chunk (the usual `{"steps":1}` at 1 kHz) publishes
 * none: its spike batch and its answer say everything, and a progress pair per step would
 * triple the events every subscriber is written.
 */
#include "engine/jobs.h"
#include "engine/journal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fault.h"
#include "base/log.h"

#define CHUNK_TARGET_NS  10000000.0 /* ~10 ms of work per item */
#define FIRST_CHUNK      8
#define CHUNK_SPIKES     100000.0 /* spikes per chunk at most (memory of its batches) */
#define BATCH_IDS        50000    /* spike ids per event: bounds the encoder's working set */
#define PROGRESS_NS      250000000u /* progress events at most every 250 ms per job */

struct srv_job {
    srv_op_t op; /* first: the queue entry */
    srv_job_t *next; /* session's job list, newest first */
    uint64_t id;
    srv_job_state_t state;
    int fail_status;       /* SRV_JOB_FAILED: the answer's HTTP status and error code */
    const char *fail_code;
    uint64_t total, done, from_step;
    uint64_t *before; /* spikes_total per population when the job started */
    int return_spikes, async, cancel, listed, answered;
    int announced; /* a progress event was published for it */
    json_t *body;
    srv_chunk_t chunk;
    uint64_t t_start_ns, t_end_ns, last_progress_ns;
    char error[200];
};

/* ---- chunks ---- */

void srv_chunk_prepare(srv_session_t *sess, srv_chunk_t *c, uint64_t max_steps)
{
    uint64_t n = FIRST_CHUNK;
    if (sess->ns_per_step > 0) {
        double k = CHUNK_TARGET_NS / sess->ns_per_step;
        n = k < 1 ? 1 : k > 1e9 ? 1000000000u : (uint64_t)k;
    }
    if (sess->spikes_per_step > 0) {
        double k = CHUNK_SPIKES / sess->spikes_per_step;
        uint64_t m = k < 1 ? 1 : k > 1e9 ? 1000000000u : (uint64_t)k;
        n = m < n ? m : n;
    }
    c->n = n < max_steps ? n : max_steps;
    if (!c->n)
        c->n = 1;
    c->n_filters = srv_hub_filters(&sess->hub, c->filters, SRV_MAX_FILTERS);
    c->resets = sess->resets;
    c->frames = NULL;
    c->frames_tail = &c->frames;
    c->rc = 0;
    c->done = c->ns = c->spikes = 0;
}

void srv_event_id(uint32_t resets, uint64_t step, char *buf, size_t cap)
{
    if (resets)
        snprintf(buf, cap, "%" PRIu32 ":%" PRIu64, resets, step);
    else
        snprintf(buf, cap, "%" PRIu64, step);
}

static int add_frame(srv_chunk_t *c, int32_t key, const json_t *batch, uint64_t from,
                     uint64_t id)
{
    char ids[48];
    srv_event_id(c->resets, id, ids, sizeof ids);
    srv_text_t *t = malloc(sizeof *t);
    if (!t)
        return -1;
    t->text = sk_proto_sse_format("spikes", ids, batch, &t->len);
    if (!t->text) {
        free(t);
        return -1;
    }
    t->key = key;
    t->from = from;
    t->to = id;
    t->next = NULL;
    *c->frames_tail = t;
    c->frames_tail = &t->next;
    return 0;
}

json_t *srv_spike_batch(const sk_net_t *net, int32_t pop, uint64_t from, uint64_t to,
                        uint64_t *end)
{
    sk_proto_spikes_query_t q = {pop, from, to, BATCH_IDS};
    json_t *j = NULL;
    sk_net_info_t ni;
    sk_net_info(net, &ni);
    if (sk_proto_spikes_json(net, &q, &j, NULL))
        return NULL;
    json_t *next = json_object_get(j, "next_from_step");
    *end = next ? (uint64_t)json_integer_value(next) : to;
    if (json_object_set_new(j, "t_ms", json_real((double)*end * ni.dt_ms))) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* One or more batches (pages of at most BATCH_IDS ids) of [from, to) for one filter. */
static void encode_batches(sk_net_t *net, srv_chunk_t *c, int32_t pop, uint64_t from,
                           uint64_t to)
{
    while (from < to) {
        uint64_t end = to;
        json_t *j = srv_spike_batch(net, pop, from, to, &end);
        if (!j)
            return;
        int rc = add_frame(c, pop, j, from, end);
        json_decref(j);
        if (rc || end <= from)
            return;
        from = end;
    }
}

void srv_chunk_run(sk_net_t *net, srv_chunk_t *c)
{
    sk_net_info_t a, b;
    sk_net_info(net, &a);
    uint64_t t0 = uv_hrtime();
    c->rc = sk_net_step(net, c->n, NULL, &c->done);
    if (!c->rc)
        c->rc = srv_fault_step(); /* 0 but in the test build (fault.h) */
    c->ns = uv_hrtime() - t0;
    sk_net_info(net, &b);
    c->step0 = a.step;
    c->step1 = b.step;
    c->spikes = b.spikes_total - a.spikes_total;
    for (uint32_t k = 0; k < c->n_filters; k++)
        encode_batches(net, c, c->filters[k], c->step0, c->step1);
}

void srv_chunk_clear(srv_chunk_t *c)
{
    while (c->frames) {
        srv_text_t *t = c->frames;
        c->frames = t->next;
        free(t->text);
        free(t);
    }
    c->frames_tail = &c->frames;
}

void srv_chunk_publish(srv_session_t *sess, srv_chunk_t *c)
{
    srv_metrics_t *m = &sess->srv->metrics;
    /* journal.h: the steps taken are recorded before anything is published or answered */
    if (c->step1 > c->step0 && srv_journal_step(sess, c->step0, c->step1) < 0)
        m->journal_failed++;
    sess->step = c->step1;
    sess->steps_run += c->done;
    sess->spikes_run += c->spikes;
    m->steps_total += c->done;
    m->spikes_total += c->spikes;
    if (c->done) {
        double per = (double)c->ns / (double)c->done;
        double sp = (double)c->spikes / (double)c->done;
        sess->ns_per_step = sess->ns_per_step > 0 ? 0.7 * sess->ns_per_step + 0.3 * per : per;
        sess->spikes_per_step = 0.7 * sess->spikes_per_step + 0.3 * sp;
    }
    while (c->frames) {
        srv_text_t *t = c->frames;
        c->frames = t->next;
        srv_hub_publish_spikes(&sess->hub, t->key, t->from, t->to, t->text, t->len);
        free(t);
    }
    c->frames_tail = &c->frames;
    srv_hub_advance(&sess->hub, sess->step); /* filters that had no batch encoded */
}

/* ---- history fills for subscribers that are behind ---- */

static int no_spikes(void *ctx, uint64_t step, uint32_t pop, const uint32_t *ids, uint32_t n)
{
    (void)ctx;
    (void)step;
    (void)pop;
    (void)ids;
    (void)n;
    return 0;
}

int srv_spikes_fill(void *ctx, srv_sub_t *sub)
{
    srv_session_t *sess = ctx;
    int32_t filter;
    uint64_t from, to, kept = 0;
    size_t budget, used = 0;
    if (sess->busy || !srv_sub_gap(sub, &filter, &from, &to, &budget))
        return 0;
    sk_net_spikes(sess->net, 0, 0, &kept, no_spikes, NULL); /* the oldest step kept */
    if (from < kept) {
        srv_sub_lose(sub, kept);
        from = kept < to ? kept : to;
    }
    while (from < to && (used == 0 || used < budget)) {
        uint64_t end = to;
        json_t *j = srv_spike_batch(sess->net, filter, from, to, &end);
        char ids[48];
        srv_event_id(sess->resets, end, ids, sizeof ids);
        size_t len = 0;
        char *text = j && end > from ? sk_proto_sse_format("spikes", ids, j, &len) : NULL;
        json_decref(j);
        if (!text) { /* out of memory: report the gap lost rather than stall the stream */
            srv_sub_lose(sub, to);
            break;
        }
        if (srv_sub_fill(sub, text, len, end))
            break;
        used += len;
        from = end;
    }
    return 1;
}

/* ---- job list ---- */

srv_job_t *srv_job_find(srv_session_t *sess, uint64_t id)
{
    for (srv_job_t *j = sess->jobs; j; j = j->next)
        if (j->id == id)
            return j;
    return NULL;
}

srv_job_t *srv_job_current(srv_session_t *sess)
{
    for (srv_job_t *j = sess->jobs; j; j = j->next)
        if (j->state == SRV_JOB_RUNNING)
            return j;
    return NULL;
}

void srv_job_view(const srv_job_t *job, sk_proto_job_t *out)
{
    uint64_t end = job->t_end_ns ? job->t_end_ns : srv_now_ns();
    double s = job->t_start_ns && end > job->t_start_ns ? (double)(end - job->t_start_ns) / 1e9
                                                        : 0;
    out->id = job->id;
    out->state = srv_job_state_name(job->state);
    out->done = job->done;
    out->total = job->total;
    out->steps_per_s = s > 0 ? (double)job->done / s : 0;
    out->error = job->error[0] ? job->error : NULL;
}

static void job_free(srv_job_t *job)
{
    json_decref(job->body);
    srv_chunk_clear(&job->chunk);
    free(job->before);
    free(job);
}

/* Keeps the running job and the SRV_JOBS_KEPT newest finished ones. */
static void prune(srv_session_t *sess)
{
    int kept = 0;
    for (srv_job_t **p = &sess->jobs; *p;) {
        srv_job_t *j = *p;
        int finished = j->state != SRV_JOB_RUNNING;
        if (finished && ++kept > SRV_JOBS_KEPT && j->answered) {
            *p = j->next;
            job_free(j);
            continue;
        }
        p = &j->next;
    }
}

void srv_jobs_free(srv_session_t *sess)
{
    while (sess->jobs) {
        srv_job_t *j = sess->jobs;
        sess->jobs = j->next;
        job_free(j);
    }
}

int srv_job_cancel(srv_session_t *sess, srv_job_t *job)
{
    (void)sess;
    if (job->state != SRV_JOB_RUNNING)
        return 1;
    job->cancel = 1;
    return 0;
}

/* ---- answers and events ---- */

static void publish_progress(srv_session_t *sess, srv_job_t *job)
{
    sk_proto_job_t v;
    srv_job_view(job, &v);
    json_t *j = sk_proto_job_json(&v);
    size_t len = 0;
    char *text = j ? sk_proto_sse_format("progress", NULL, j, &len) : NULL;
    json_decref(j);
    if (text)
        srv_hub_publish(&sess->hub, text, len);
    job->last_progress_ns = srv_now_ns();
    job->announced = 1;
}

static void answer_accepted(srv_session_t *sess, srv_job_t *job)
{
    srv_req_t *rq = job->op.rq;
    job->op.rq = NULL;
    job->answered = 1;
    if (!rq)
        return;
    sk_proto_job_t v;
    srv_job_view(job, &v);
    json_t *j = json_pack("{s:o}", "job", sk_proto_job_json(&v));
    srv_resp_t rs;
    srv_resp_init(&rs);
    size_t len = 0;
    char *body = j ? sk_proto_dumps(j, &len) : NULL;
    json_decref(j);
    if (!body) {
        srv_resp_error(&rs, 503, "unavailable", "", "out of memory");
    } else {
        srv_resp_take(&rs, 202, "application/json", body, len);
        srv_resp_header(&rs, "Location", "/v1/sessions/%s/jobs/%" PRIu64, sess->name, job->id);
    }
    srv_req_finish(rq, &rs);
}

/* Final answer of a job still waited for: the result, or why it stopped. */
static void answer_final(srv_session_t *sess, srv_job_t *job)
{
    srv_req_t *rq = job->op.rq;
    job->op.rq = NULL;
    job->answered = 1;
    if (!rq)
        return;
    if (job->state == SRV_JOB_DONE) {
        sk_proto_caps_t caps;
        srv_session_caps(sess->srv, &caps);
        json_t *j = NULL;
        int rc = sk_proto_step_result_json(sess->net, job->from_step, job->before,
                                           job->return_spikes, caps.max_spikes, &j);
        if (rc)
            srv_session_answer_error(rq, 503, "unavailable", "encoding the result: %s",
                                     sk_strerror(rc));
        else
            srv_session_answer_json(rq, 200, j);
    } else if (sess->srv->phase != SRV_RUNNING) {
        srv_session_answer_error(rq, 503, "unavailable",
                                 "the server is shutting down; job %" PRIu64 " stopped after %" PRIu64
                                 " of %" PRIu64 " steps",
                                 job->id, job->done, job->total);
    } else if (sess->closing) {
        srv_session_answer_error(rq, sess->close_status, sess->close_code,
                                 "session %s closed after %" PRIu64 " of %" PRIu64 " steps",
                                 sess->name, job->done, job->total);
    } else if (job->state == SRV_JOB_CANCELED) {
        srv_session_answer_error(rq, 409, "conflict",
                                 "job %" PRIu64 " canceled after %" PRIu64 " of %" PRIu64
                                 " steps",
                                 job->id, job->done, job->total);
    } else {
        srv_session_answer_error(rq, job->fail_status, job->fail_code, "%s", job->error);
    }
}

/* ---- the step operation ---- */

/* Decodes the body against the network as it is now and queues its inputs. */
static int job_decode(srv_session_t *sess, srv_job_t *job, sk_proto_error_t *e)
{
    sk_proto_caps_t caps;
    srv_session_caps(sess->srv, &caps);
    sk_proto_net_view_t v;
    int rc = sk_proto_net_view_init(&v, sess->net);
    if (rc) {
        sk_proto_error_from_core(e, rc, NULL, "");
        return rc;
    }
    sk_proto_step_t st;
    rc = sk_proto_step_decode(job->body, &v, &caps, &st, e);
    uint32_t n_pops = v.n_pops;
    sk_proto_net_view_close(&v);
    if (rc)
        return rc;
    sk_err_t err = {0};
    if (st.n_inputs && (rc = sk_net_inject(sess->net, st.inputs, st.n_inputs, &err)) != 0)
        sk_proto_error_from_core(e, rc, &err, "inputs");
    else if (st.n_inputs && srv_journal_inject(sess, st.inputs, st.n_inputs) < 0)
        sess->srv->metrics.journal_failed++;
    job->total = st.steps;
    job->return_spikes = st.return_spikes;
    job->async = st.async;
    sk_proto_step_close(&st);
    if (rc)
        return rc;
    job->before = calloc(n_pops ? n_pops : 1, sizeof *job->before);
    if (!job->before) {
        sk_proto_error_from_core(e, SK_ENOMEM, NULL, "");
        return SK_ENOMEM;
    }
    for (uint32_t k = 0; k < n_pops; k++) {
        sk_pop_info_t pi;
        if (sk_net_pop_info(sess->net, k, &pi) == 0)
            job->before[k] = pi.spikes_total;
    }
    return 0;
}

static int job_start(srv_op_t *op)
{
    srv_session_t *sess = op->sess;
    srv_job_t *job = (srv_job_t *)op;
    sk_proto_error_t e;
    if (job_decode(sess, job, &e)) {
        srv_session_answer_proto(op->rq, &e);
        op->rq = NULL;
        return SRV_OP_DONE;
    }
    job->id = sess->next_job_id++;
    job->state = SRV_JOB_RUNNING;
    job->from_step = sess->step;
    job->t_start_ns = srv_now_ns();
    job->next = sess->jobs;
    sess->jobs = job;
    job->listed = 1;
    sess->srv->metrics.jobs_started++;
    double est_ms = sess->ns_per_step * (double)job->total / 1e6;
    if (job->async || (sess->ns_per_step > 0 && est_ms > (double)sess->srv->cfg.sync_ms)) {
        answer_accepted(sess, job);
        publish_progress(sess, job); /* a 202 job: announced at once */
    }
    srv_chunk_prepare(sess, &job->chunk, job->total);
    return SRV_OP_WORK;
}

static void job_work(srv_op_t *op)
{
    srv_job_t *job = (srv_job_t *)op;
    srv_chunk_run(op->sess->net, &job->chunk);
}

static int job_finish(srv_session_t *sess, srv_job_t *job, srv_job_state_t state)
{
    srv_metrics_t *m = &sess->srv->metrics;
    SRV_ASSERT(job->state == SRV_JOB_RUNNING && state > SRV_JOB_RUNNING);
    job->state = state;
    job->t_end_ns = srv_now_ns();
    if (state == SRV_JOB_DONE)
        m->jobs_finished++;
    else if (state == SRV_JOB_CANCELED)
        m->jobs_canceled++;
    else
        m->jobs_failed++;
    if (job->announced)
        publish_progress(sess, job);
    answer_final(sess, job);
    prune(sess);
    return SRV_OP_DONE;
}

static int job_after(srv_op_t *op, int status)
{
    srv_session_t *sess = op->sess;
    srv_job_t *job = (srv_job_t *)op;
    srv_chunk_publish(sess, &job->chunk);
    job->done += job->chunk.done;
    const srv_config_t *cfg = &sess->srv->cfg;
    uint64_t now = srv_now_ns(), ran_ms = (now - job->t_start_ns) / 1000000u;
    if (status < 0 || (job->chunk.rc < 0 && job->chunk.rc != SK_ECANCELED)) {
        snprintf(job->error, sizeof job->error, "stepping failed: %s",
                 status < 0 ? uv_strerror(status) : sk_strerror(job->chunk.rc));
        /* out of memory: 503 as everywhere; anything else is the server's fault: 500 */
        const int oom = status >= 0 && job->chunk.rc == SK_ENOMEM;
        job->fail_status = oom ? 503 : 500;
        job->fail_code = oom ? "unavailable" : "internal";
        return job_finish(sess, job, SRV_JOB_FAILED);
    }
    if (job->cancel)
        return job_finish(sess, job, SRV_JOB_CANCELED);
    if (job->done >= job->total)
        return job_finish(sess, job, SRV_JOB_DONE);
    if (ran_ms > cfg->max_run_ms) {
        snprintf(job->error, sizeof job->error,
                 "wall-time limit of %" PRIu64 " ms (--max-run-ms) reached after %" PRIu64
                 " of %" PRIu64 " steps",
                 cfg->max_run_ms, job->done, job->total);
        job->fail_status = 413;
        job->fail_code = "limit_exceeded";
        return job_finish(sess, job, SRV_JOB_FAILED);
    }
    if (!job->answered && ran_ms > cfg->sync_ms)
        answer_accepted(sess, job);
    if (!job->announced || now - job->last_progress_ns > PROGRESS_NS)
        publish_progress(sess, job); /* first: it outlived its first chunk */
    srv_chunk_prepare(sess, &job->chunk, job->total - job->done);
    return SRV_OP_WORK;
}

static void job_abort(srv_op_t *op, int status, const char *code)
{
    srv_session_answer_error(op->rq, status, code, "session %s closed before the job started",
                             op->sess ? op->sess->name : "?");
    op->rq = NULL;
}

static void job_destroy(srv_op_t *op)
{
    srv_job_t *job = (srv_job_t *)op;
    json_decref(job->body);
    job->body = NULL;
    if (!job->listed)
        job_free(job);
}

/* srv_op_vt_t.view: the running job's view for the session's info and status. */
static int job_view_op(const srv_op_t *op, sk_proto_job_t *out)
{
    const srv_job_t *job = (const srv_job_t *)op;
    if (job->state != SRV_JOB_RUNNING)
        return 0;
    srv_job_view(job, out);
    return 1;
}

/* srv_op_vt_t.cancel: stop at the next chunk boundary (session drain). */
static void job_cancel_op(srv_op_t *op)
{
    srv_job_cancel(op->sess, (srv_job_t *)op);
}

static const srv_op_vt_t job_vt = {"step",     job_start,  job_work,    job_after,
                                   job_abort,  job_destroy, job_view_op, job_cancel_op};

srv_op_t *srv_job_new(srv_session_t *sess, srv_req_t *rq, json_t *body)
{
    srv_job_t *job = calloc(1, sizeof *job);
    if (!job || srv_session_on_free(sess, srv_jobs_free)) {
        free(job);
        json_decref(body);
        return NULL;
    }
    job->op.vt = &job_vt;
    job->op.rq = rq;
    job->body = body;
    job->state = SRV_JOB_QUEUED;
    job->chunk.frames_tail = &job->chunk.frames;
    return &job->op;
}

const char *srv_job_state_name(srv_job_state_t state)
{
    static const char *const names[] = {"queued", "running", "done", "canceled", "failed"};
    SRV_ASSERT((unsigned)state < sizeof names / sizeof names[0]);
    return names[state];
}
