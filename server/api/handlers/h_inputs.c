/* h_inputs.c: changes between steps: POST .../inputs, PATCH .../populations/{pop},
 * PATCH .../stimuli/{index}. Each is a session operation (ops.c), so it applies after
 * everything queued before it, and all-or-nothing. */
#include "api/handlers/common.h"

int h_inputs_post(srv_server_t *s, srv_req_t *rq, srv_resp_t *rs)
{
    srv_session_t *sess = h_session(s, rq, rs);
    if (!sess)
        return SRV_DONE;
    json_t *body = h_body(s, rq, rs);
    return body ? h_submit(sess, srv_op_inputs(rq, body), rs) : SRV_DONE;
}

int h_populations_patch(srv_server_t *s, srv_req_t *rq, srv_resp_t *rs)
{
    srv_session_t *sess = h_session(s, rq, rs);
    if (!sess)
        return SRV_DONE;
    sk_proto_error_t e;
    if (sk_proto_name_check(rq->params[1], "pop", &e)) {
        srv_resp_error(rs, 404, "not_found", "", "no population %.64s", rq->params[1]);
        return SRV_DONE;
    }
    json_t *body = h_body(s, rq, rs);
    return body ? h_submit(sess, srv_op_patch_pop(rq, rq->params[1], body), rs) : SRV_DONE;
}

int h_stimuli_patch(srv_server_t *s, srv_req_t *rq, srv_resp_t *rs)
{
    srv_session_t *sess = h_session(s, rq, rs);
    if (!sess)
        return SRV_DONE;
    uint64_t index = 0;
    if (sk_proto_parse_u64(rq->params[1], 0, UINT32_MAX, &index)) {
        srv_resp_error(rs, 404, "not_found", "", "no stimulus %.40s", rq->params[1]);
        return SRV_DONE;
    }
    json_t *body = h_body(s, rq, rs);
    if (!body)
        return SRV_DONE;
    double rate = 0;
    sk_proto_error_t e;
    int rc = sk_proto_stimulus_patch_decode(body, &rate, &e);
    json_decref(body);
    if (rc)
        return h_error(rs, &e);
    return h_submit(sess, srv_op_patch_stim(rq, (uint32_t)index, rate), rs);
}
