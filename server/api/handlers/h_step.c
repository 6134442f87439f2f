/* h_step.c: POST .../step, GET and DELETE .../jobs/{id}.
 *
 * The step body is parsed here (a malformed body answers at once) and decoded when the job
 * reaches the head of the session's queue (jobs.c), against the network as it is then.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "api/handlers/common.h"

int h_step_post(srv_server_t *s, srv_req_t *rq, srv_resp_t *rs)
{
    srv_session_t *sess = h_session(s, rq, rs);
    if (!sess)
        return SRV_DONE;
    json_t *body = h_body(s, rq, rs);
    if (!body)
        return SRV_DONE;
    return h_submit(sess, srv_job_new(sess, rq, body), rs);
}

/* The job named by path parameter 1, or NULL after answering 404. */
static srv_job_t *find_job(srv_server_t *s, srv_req_t *rq, srv_resp_t *rs, srv_session_t **out)
{
    srv_session_t *sess = h_session(s, rq, rs);
    if (!sess)
        return NULL;
    uint64_t id = 0;
    srv_job_t *job = NULL;
    if (sk_proto_parse_u64(rq->params[1], 0, UINT64_MAX, &id) == 0)
        job = srv_job_find(sess, id);
    if (!job)
        srv_resp_error(rs, 404, "not_found", "", "no job %.40s in session %s", rq->params[1],
                       sess->name);
    *out = sess;
    return job;
}

static json_t *job_json(const srv_job_t *job)
{
    sk_proto_job_t v;
    srv_job_view(job, &v);
    return sk_proto_job_json(&v);
}

int h_jobs_get(srv_server_t *s, srv_req_t *rq, srv_resp_t *rs)
{
    srv_session_t *sess;
    srv_job_t *job = find_job(s, rq, rs, &sess);
    return job ? h_json(rs, 200, job_json(job)) : SRV_DONE;
}

/* Runs at the chunk boundary after the cancel request: the job has stopped by then. */
static void cancel_read(srv_session_t *sess, srv_req_t *rq, void *arg)
{
    uint64_t id = *(uint64_t *)arg;
    free(arg);
    srv_job_t *job = srv_job_find(sess, id);
    if (!job)
        srv_session_answer_error(rq, 404, "not_found", "job %" PRIu64 " is gone", id);
    else
        srv_session_answer_json(rq, 200, job_json(job));
}

int h_jobs_cancel(srv_server_t *s, srv_req_t *rq, srv_resp_t *rs)
{
    srv_session_t *sess;
    srv_job_t *job = find_job(s, rq, rs, &sess);
    if (!job)
        return SRV_DONE;
    if (srv_job_cancel(sess, job))
        return h_json(rs, 200, job_json(job)); /* already finished */
    sk_proto_job_t v;
    srv_job_view(job, &v);
    uint64_t *id = malloc(sizeof *id);
    if (!id)
        return h_json(rs, 200, job_json(job));
    *id = v.id;
    if (srv_session_read(sess, rq, cancel_read, id) < 0) {
        free(id);
        return h_json(rs, 200, job_json(job));
    }
    return SRV_DEFERRED;
}
