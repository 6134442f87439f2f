/* handlers.h: prototypes of every request handler, generated from routes.def.
 *
 * A handler runs on the loop thread inside srv_api_handle: decode (proto) -> answer or
 * enqueue on the session -> encode (proto). It returns SRV_DONE with *rs filled, or
 * SRV_DEFERRED after handing the request to a session operation that will call
 * srv_req_finish. Path parameters are in rq->params in pattern order.
 */
#ifndef SPIKED_SRV_HANDLERS_H
#define SPIKED_SRV_HANDLERS_H

#include "base/req.h"

#define X(method, pattern, handler) int handler(srv_server_t *s, srv_req_t *rq, srv_resp_t *rs);
#include "base/routes.def"
#undef X

/* Static files of the dashboard (static.c): answers GET/HEAD of paths outside the API.
 * Returns SRV_DONE with a response, or -1 when no file matches (the caller answers 404). */
int srv_static_serve(srv_server_t *s, srv_req_t *rq, srv_resp_t *rs);

#endif
