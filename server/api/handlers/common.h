/* common.h: what the handlers share: session lookup, body parsing, query decoding and
 * answers, each mapping its failures to the contract's error codes. All loop thread.
 */
#ifndef SPIKED_SRV_HANDLERS_COMMON_H
#define SPIKED_SRV_HANDLERS_COMMON_H

#include <jansson.h>

#include "engine/jobs.h"
#include "engine/ops.h"
#include "engine/pacer.h"
#include "engine/registry.h"
#include "api/router.h"
#include "engine/session.h"
#include "api/handlers/handlers.h"
#include "spiked/proto.h"

#define H_MAX_QUERY 16

/* The session named by path parameter 0, or NULL after answering 400 (bad name) or 404. */
srv_session_t *h_session(srv_server_t *s, srv_req_t *rq, srv_resp_t *rs);

/* Parses the request body as one JSON object (415 when Content-Type is not JSON; the router
 * already refused a body without one). Returns the object (new reference), or NULL after
 * answering. */
json_t *h_body(srv_server_t *s, srv_req_t *rq, srv_resp_t *rs);

/* Splits the query into kv (strings in buf, cap bytes), dropping access_token. Returns 0,
 * or -1 after filling e. */
int h_query(const srv_req_t *rq, char *buf, size_t cap, sk_proto_kv_t *kv, size_t *n,
            sk_proto_error_t *e);

/* Immediate answers: JSON (taken over; NULL -> 503), proto error. Return SRV_DONE. */
int h_json(srv_resp_t *rs, int status, json_t *j);
int h_error(srv_resp_t *rs, const sk_proto_error_t *e);

/* Submits op to sess and maps the result (NULL op -> 503, queue full -> 429, closing ->
 * 404). Returns SRV_DONE or SRV_DEFERRED. */
int h_submit(srv_session_t *sess, srv_op_t *op, srv_resp_t *rs);

/* srv_session_read with the out-of-memory case answered. */
int h_read(srv_session_t *sess, srv_req_t *rq, srv_resp_t *rs, srv_read_fn fn, void *arg);

/* Answers a read whose session closed meanwhile. */
void h_closed(srv_session_t *sess, srv_req_t *rq);

#endif
