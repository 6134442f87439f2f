/* router.h: the API as a plain function of a request: no libmicrohttpd type appears here,
 * so the whole API can be driven in-process (tests) or by a fuzzer.
 *
 *   srv_api_handle(server, req, resp)
 *     0. Host: without a token, a Host that does not name this server -> 421 (admit.h).
 *     1. CORS: an allowed Origin is echoed with Vary: Origin; OPTIONS preflights answer 204.
 *     2. Auth: with a token configured, every route but GET /healthz (and preflights) needs
 *        "Authorization: Bearer <token>" (or ?access_token= on GET, RFC 6750 2.3, for
 *        EventSource), compared in constant time.
 *     3. Route: the routes.def table; no match -> 404, wrong method -> 405 with Allow.
 *     4. A body that is not application/json -> 415 (admit.h).
 *     5. Handler: returns SRV_DONE with *resp filled, or SRV_DEFERRED after taking the
 *        request over; it then calls srv_req_finish exactly once, from the loop thread.
 * Requests and responses themselves: base/req.h.
 */
#ifndef SPIKED_SRV_ROUTER_H
#define SPIKED_SRV_ROUTER_H

#include <stddef.h>
#include <stdint.h>

#include "base/req.h"
#include "base/srv.h"

/* ---- routing ---- */

typedef int (*srv_handler_fn)(srv_server_t *s, srv_req_t *rq, srv_resp_t *rs);

typedef struct srv_route {
    srv_method_t method;
    const char *pattern; /* "/v1/sessions/{name}/step" */
    srv_handler_fn handler;
    const char *handler_name;
} srv_route_t;

extern const srv_route_t srv_routes[];
extern const int srv_n_routes;

/* Matches path against the table: returns the route index for method, or -1 with *allow
 * set to a bit mask of the methods the path does accept (0 = no such path). On a match
 * fills rq->params (parameters the route does not have are ""); otherwise leaves them. */
int srv_route_match(srv_req_t *rq, unsigned *allow);

/* The whole API: see the top of this file. Returns SRV_DONE or SRV_DEFERRED. */
int srv_api_handle(srv_server_t *s, srv_req_t *rq, srv_resp_t *rs);

#endif
