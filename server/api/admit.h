/* admit.h: the admission rules the router applies to a request before its handler, beside
 * the bearer token (router.c). Both close ways for a web page in a browser to drive a
 * server it should not reach:
 *
 *   Body media type. A request that carries a body must say Content-Type: application/json
 *   (parameters allowed: "; charset=utf-8"); otherwise 415 unsupported_media_type. A page
 *   can send a body without a preflight only as text/plain, a form or with no type at all,
 *   so none of those reaches a handler.
 *
 *   Host (DNS rebinding). Without a token, the Host header must name this server: localhost,
 *   a loopback address (127.0.0.0/8, [::1]) or the bind address, with any port; when bound
 *   to a wildcard address (0.0.0.0, ::) any address literal names it. Otherwise 421
 *   misdirected_request: a page whose host name was rebound to this server's address sends
 *   its own name. A request without Host (HTTP/1.0) is admitted. With a token, no Host
 *   check: the token is the access control.
 *
 *   Origin (cross-site requests). Without a token, a request of a method that changes
 *   something (not GET, HEAD or OPTIONS) whose Origin header is present must come from this
 *   server's own origin ("http://" + its Host) or from an origin of --cors-origins;
 *   otherwise 403 forbidden. A page can send a bodiless POST (reset, checkpoint) without a
 *   preflight, and browsers always send Origin with it; other clients send none. With a
 *   token, no Origin check: a page cannot attach the token.
 *
 * Loop thread.
 */
#ifndef SPIKED_SRV_ADMIT_H
#define SPIKED_SRV_ADMIT_H

#include "base/req.h"

/* 1 when ct is application/json, optionally followed by parameters; 0 otherwise (NULL
 * included). */
int srv_media_is_json(const char *ct);

/* 1 when host (a Host header value, "name[:port]" or "[v6][:port]") names the server
 * configured by c, as described above (without regard to the token); 0 otherwise. */
int srv_host_names_server(const srv_config_t *c, const char *host);

/* The Host rule: 0 when admitted (a token is configured, no Host header, or it names this
 * server), else -1 after filling rs with the 421 error. Applied first, to every request. */
int srv_admit_host(const srv_server_t *s, const srv_req_t *rq, srv_resp_t *rs);

/* The Origin rule: 0 when admitted, else -1 after filling rs with the 403 error. Applied
 * with the Host rule, before routing. */
int srv_admit_origin(const srv_server_t *s, const srv_req_t *rq, srv_resp_t *rs);

/* The body rule: 0 when rq carries no body or a JSON one, else -1 after filling rs with the
 * 415 error. Applied to requests that reach a handler (after auth, 404 and 405). */
int srv_admit_body(const srv_req_t *rq, srv_resp_t *rs);

#endif
