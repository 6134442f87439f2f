/* h_data.c: reads of a session's data: GET .../state, .../spikes, .../recordings/{index}.
 *
 * Each is a session read: run at once when the session is idle, else at the next chunk
 * boundary, so it always sees a network between two steps. Query strings are decoded by
 * proto against the network as it is at that moment.
 */
#include "api/handlers/common.h"

enum what { STATE, SPIKES, RECORDINGS };

typedef struct query {
    sk_proto_kv_t kv[H_MAX_QUERY];
    size_t n;
    char buf[2048];
} query_t;

static int decode_and_encode(srv_session_t *sess, srv_req_t *rq, enum what what,
                             const query_t *q, const sk_proto_net_view_t *v, json_t **out,
                             sk_proto_error_t *e)
{
    sk_proto_caps_t caps;
    srv_session_caps(sess->srv, &caps);
    if (what == STATE) {
        sk_proto_state_query_t sq;
        if (sk_proto_state_query_decode(q->kv, q->n, v, &caps, &sq, e))
            return -1;
        return sk_proto_state_json(sess->net, &sq, out, e);
    }
    if (what == SPIKES) {
        sk_proto_spikes_query_t pq;
        if (sk_proto_spikes_query_decode(q->kv, q->n, v, &caps, &pq, e))
            return -1;
        return sk_proto_spikes_json(sess->net, &pq, out, e);
    }
    uint64_t rec = 0;
    if (sk_proto_parse_u64(rq->params[1], 0, UINT32_MAX, &rec) || rec >= v->n_recs) {
        sk_proto_error_set(e, 404, SK_PROTO_NOT_FOUND, "", "no recorder %.40s", rq->params[1]);
        return -1;
    }
    sk_proto_samples_query_t sq;
    if (sk_proto_samples_query_decode(q->kv, q->n, v, &sq, e))
        return -1;
    return sk_proto_samples_json(sess->net, (uint32_t)rec, &sq, out, e);
}

static void data_read(srv_session_t *sess, srv_req_t *rq, void *arg)
{
    enum what what = (enum what)(intptr_t)arg;
    if (sess->closing) {
        h_closed(sess, rq);
        return;
    }
    query_t q;
    sk_proto_error_t e;
    if (h_query(rq, q.buf, sizeof q.buf, q.kv, &q.n, &e)) {
        srv_session_answer_proto(rq, &e);
        return;
    }
    sk_proto_net_view_t v;
    int rc = sk_proto_net_view_init(&v, sess->net);
    if (rc) {
        sk_proto_error_from_core(&e, rc, NULL, "");
        srv_session_answer_proto(rq, &e);
        return;
    }
    json_t *j = NULL;
    if (decode_and_encode(sess, rq, what, &q, &v, &j, &e))
        srv_session_answer_proto(rq, &e);
    else
        srv_session_answer_json(rq, 200, j);
    sk_proto_net_view_close(&v);
}

static int start(srv_server_t *s, srv_req_t *rq, srv_resp_t *rs, enum what what)
{
    srv_session_t *sess = h_session(s, rq, rs);
    return sess ? h_read(sess, rq, rs, data_read, (void *)(intptr_t)what) : SRV_DONE;
}

int h_state_get(srv_server_t *s, srv_req_t *rq, srv_resp_t *rs)
{
    return start(s, rq, rs, STATE);
}

int h_spikes_get(srv_server_t *s, srv_req_t *rq, srv_resp_t *rs)
{
    return start(s, rq, rs, SPIKES);
}

int h_recordings_get(srv_server_t *s, srv_req_t *rq, srv_resp_t *rs)
{
    return start(s, rq, rs, RECORDINGS);
}
