/* common.c: helpers shared by the handlers (see common.h). */
#include "api/handlers/common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admit.h"

srv_session_t *h_session(srv_server_t *s, srv_req_t *rq, srv_resp_t *rs)
{
    sk_proto_error_t e;
    if (sk_proto_name_check(rq->params[0], "name", &e)) {
        h_error(rs, &e);
        return NULL;
    }
    srv_session_t *sess = srv_registry_find(s->reg, rq->params[0]);
    if (!sess)
        srv_resp_error(rs, 404, "not_found", "", "no session %s", rq->params[0]);
    return sess;
}

json_t *h_body(srv_server_t *s, srv_req_t *rq, srv_resp_t *rs)
{
    const char *ct = srv_req_header(rq, "Content-Type");
    /* A body without a type never gets here (srv_admit_body); an empty one with a wrong
     * type does. */
    if (ct && !srv_media_is_json(ct)) {
        srv_resp_error(rs, 415, "unsupported_media_type", "", "send application/json, not %.80s",
                       ct);
        return NULL;
    }
    sk_proto_caps_t caps;
    srv_session_caps(s, &caps);
    json_t *j = NULL;
    sk_proto_error_t e;
    if (sk_proto_parse(rq->body ? rq->body : "", rq->body_len, &caps, &j, &e)) {
        h_error(rs, &e);
        return NULL;
    }
    return j;
}

int h_query(const srv_req_t *rq, char *buf, size_t cap, sk_proto_kv_t *kv, size_t *n,
            sk_proto_error_t *e)
{
    size_t len = strlen(rq->query);
    if (len >= cap) {
        sk_proto_error_set(e, 400, SK_PROTO_INVALID_FIELD, "query", "query string too long");
        return -1;
    }
    memcpy(buf, rq->query, len + 1);
    sk_proto_kv_t all[H_MAX_QUERY + 1];
    size_t m = 0;
    if (sk_proto_query_split(buf, all, H_MAX_QUERY + 1, &m, e))
        return -1;
    *n = 0;
    for (size_t i = 0; i < m; i++)
        if (strcmp(all[i].key, "access_token"))
            kv[(*n)++] = all[i];
    return 0;
}

int h_json(srv_resp_t *rs, int status, json_t *j)
{
    size_t len = 0;
    char *body = j ? sk_proto_dumps(j, &len) : NULL;
    json_decref(j);
    if (body)
        srv_resp_take(rs, status, "application/json", body, len);
    else
        srv_resp_error(rs, 503, "unavailable", "", "out of memory");
    return SRV_DONE;
}

int h_error(srv_resp_t *rs, const sk_proto_error_t *e)
{
    srv_resp_error(rs, e->status, e->code, e->path, "%s", e->message);
    return SRV_DONE;
}

int h_submit(srv_session_t *sess, srv_op_t *op, srv_resp_t *rs)
{
    if (!op) {
        srv_resp_error(rs, 503, "unavailable", "", "out of memory");
        return SRV_DONE;
    }
    int rc = srv_session_submit(sess, op);
    if (rc == -429) {
        srv_resp_error(rs, 429, "too_many_requests", "",
                       "session %s has %u operations queued (--max-queue)", sess->name,
                       (unsigned)sess->srv->cfg.max_queue);
        srv_resp_header(rs, "Retry-After", "1");
        return SRV_DONE;
    }
    if (rc < 0) {
        srv_resp_error(rs, 404, "not_found", "", "session %s is being deleted", sess->name);
        return SRV_DONE;
    }
    return SRV_DEFERRED;
}

int h_read(srv_session_t *sess, srv_req_t *rq, srv_resp_t *rs, srv_read_fn fn, void *arg)
{
    if (srv_session_read(sess, rq, fn, arg) < 0) {
        srv_resp_error(rs, 503, "unavailable", "", "out of memory");
        return SRV_DONE;
    }
    return SRV_DEFERRED;
}

void h_closed(srv_session_t *sess, srv_req_t *rq)
{
    srv_session_answer_error(rq, 404, "not_found", "session %s was deleted", sess->name);
}
