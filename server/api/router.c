/* router.c: route table, path matching, CORS, bearer auth and dispatch (see router.h).
 *
 * Matching walks the table in order; patterns and paths are compared segment by segment on
 * the raw (still percent-encoded) path, so an encoded '/' can never split a segment.
 * Parameter segments are decoded into rq->params (<= SRV_PARAM_MAX bytes, no NUL).
 * HEAD is served by the GET route of the same path (libmicrohttpd omits the body).
 */
#include "api/router.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/admit.h"
#include "api/handlers/handlers.h"
#include "base/log.h"

const srv_route_t srv_routes[] = {
#define X(method, pattern, handler) {SRV_##method, pattern, handler, #handler},
#include "base/routes.def"
#undef X
};
const int srv_n_routes = (int)(sizeof srv_routes / sizeof srv_routes[0]);

/* Compares one route pattern with a raw path in one pass: literal characters must be
 * equal; a {param} takes one non-empty path segment (up to the next '/'). Parameter
 * segments are only located while walking and decoded into params once the whole pattern
 * matches (a segment that does not decode, e.g. a bad escape or %00, makes the route not
 * match). Returns 1 on a match. */
static int match_one(const char *pat, const char *path, char params[][SRV_PARAM_MAX + 1])
{
    const char *seg[SRV_MAX_PARAMS];
    size_t seg_len[SRV_MAX_PARAMS];
    int np = 0;
    while (*pat) {
        if (*pat == '{') {
            const char *se = path;
            while (*se && *se != '/')
                se++;
            if (se == path || np == SRV_MAX_PARAMS)
                return 0;
            seg[np] = path;
            seg_len[np++] = (size_t)(se - path);
            while (*pat && *pat != '/')
                pat++;
            path = se;
        } else if (*pat++ != *path++) {
            return 0;
        }
    }
    if (*path)
        return 0;
    for (int k = 0; k < np; k++)
        if (srv_url_decode(seg[k], seg_len[k], params[k], SRV_PARAM_MAX + 1, 0) < 0)
            return 0;
    for (int k = np; k < SRV_MAX_PARAMS; k++)
        params[k][0] = '\0';
    return 1;
}

int srv_route_match(srv_req_t *rq, unsigned *allow)
{
    char params[SRV_MAX_PARAMS][SRV_PARAM_MAX + 1];
    srv_method_t m = rq->method == SRV_HEAD ? SRV_GET : rq->method;
    int found = -1;
    *allow = 0;
    for (int i = 0; i < srv_n_routes; i++) {
        if (!match_one(srv_routes[i].pattern, rq->path, params))
            continue;
        *allow |= 1u << srv_routes[i].method;
        if (srv_routes[i].method == m && found < 0) {
            found = i;
            memset(rq->params, 0, sizeof rq->params); /* cleared on a match only */
            for (int k = 0; k < SRV_MAX_PARAMS; k++)
                memcpy(rq->params[k], params[k], strlen(params[k]) + 1);
        }
    }
    if (*allow & (1u << SRV_GET))
        *allow |= 1u << SRV_HEAD;
    return found;
}

static void allow_list(unsigned allow, char *out, size_t cap)
{
    size_t k = 0;
    out[0] = '\0';
    for (int m = 0; m < SRV_OTHER; m++)
        if (allow & (1u << m))
            k += (size_t)snprintf(out + k, k < cap ? cap - k : 0, "%s%s", k ? ", " : "",
                                  srv_method_name((srv_method_t)m));
}

/* Constant-time comparison: the running time depends on the length of the secret only. */
static int ct_equal(const char *given, size_t glen, const char *secret, size_t slen)
{
    volatile unsigned char d = (unsigned char)(glen != slen);
    for (size_t i = 0; i < slen; i++)
        d |= (unsigned char)((i < glen ? (unsigned char)given[i] : 0u) ^
                             (unsigned char)secret[i]);
    return d == 0;
}

static int authorized(const srv_server_t *s, const srv_req_t *rq)
{
    const char *tok = s->cfg.token;
    if (!tok[0])
        return 1;
    const char *h = srv_req_header(rq, "Authorization");
    if (h) {
        if (strncasecmp(h, "Bearer ", 7))
            return 0;
        h += 7;
        while (*h == ' ')
            h++;
        return ct_equal(h, strlen(h), tok, strlen(tok));
    }
    char q[256];
    if ((rq->method == SRV_GET || rq->method == SRV_HEAD) &&
        srv_query_get(rq->query, "access_token", q, sizeof q) == 1)
        return ct_equal(q, strlen(q), tok, strlen(tok));
    return 0;
}

static int preflight(srv_server_t *s, srv_req_t *rq, srv_resp_t *rs, unsigned allow)
{
    char methods[96];
    allow_list(allow | (1u << SRV_OPTIONS), methods, sizeof methods);
    const char *origin = srv_req_header(rq, "Origin");
    if (!origin || !srv_req_header(rq, "Access-Control-Request-Method")) {
        srv_resp_take(rs, 204, NULL, NULL, 0);
        srv_resp_header(rs, "Allow", "%s", methods);
        return SRV_DONE;
    }
    if (!srv_config_cors_allowed(&s->cfg, origin)) {
        srv_resp_error(rs, 403, "forbidden", "", "origin %s is not allowed", origin);
        srv_resp_header(rs, "Vary", "Origin");
        return SRV_DONE;
    }
    srv_resp_take(rs, 204, NULL, NULL, 0);
    srv_resp_header(rs, "Access-Control-Allow-Origin", "%s", origin);
    srv_resp_header(rs, "Vary", "Origin");
    srv_resp_header(rs, "Access-Control-Allow-Methods", "%s", methods);
    srv_resp_header(rs, "Access-Control-Allow-Headers",
                    "Authorization, Content-Type, Last-Event-ID");
    srv_resp_header(rs, "Access-Control-Max-Age", "600");
    return SRV_DONE;
}

static int route_and_call(srv_server_t *s, srv_req_t *rq, srv_resp_t *rs)
{
    unsigned allow = 0;
    if (srv_admit_host(s, rq, rs) < 0 || srv_admit_origin(s, rq, rs) < 0)
        return SRV_DONE;
    rq->route = srv_route_match(rq, &allow);
    if (rq->method == SRV_OPTIONS && (allow || !strcmp(rq->path, "*")))
        return preflight(s, rq, rs, allow);
    /* Open routes (no token): liveness, the contract and the dashboard (openapi.yaml). */
    srv_handler_fn h = rq->route >= 0 ? srv_routes[rq->route].handler : NULL;
    int open = h == h_health_get || h == h_openapi_get || h == h_static_index;
    if (!open && allow && !authorized(s, rq)) {
        srv_resp_error(rs, 401, "unauthorized", "", "missing or wrong bearer token");
        srv_resp_header(rs, "WWW-Authenticate", "Bearer realm=\"spiked\"");
        return SRV_DONE;
    }
    if (rq->route < 0 && allow) {
        char methods[96];
        allow_list(allow, methods, sizeof methods);
        srv_resp_error(rs, 405, "method_not_allowed", "", "%s is not allowed on %s; use %s",
                       srv_method_name(rq->method), rq->path, methods);
        srv_resp_header(rs, "Allow", "%s", methods);
        return SRV_DONE;
    }
    if (rq->route < 0) {
        if ((rq->method == SRV_GET || rq->method == SRV_HEAD) &&
            srv_static_serve(s, rq, rs) == SRV_DONE)
            return SRV_DONE;
        srv_resp_error(rs, 404, "not_found", "", "no endpoint %s", rq->path);
        return SRV_DONE;
    }
    if (srv_admit_body(rq, rs) < 0)
        return SRV_DONE;
    if (s->phase != SRV_RUNNING && rq->method != SRV_GET && rq->method != SRV_HEAD) {
        srv_resp_error(rs, 503, "unavailable", "", "the server is shutting down");
        return SRV_DONE;
    }
    rs->route = rq->route;
    return srv_routes[rq->route].handler(s, rq, rs);
}

int srv_api_handle(srv_server_t *s, srv_req_t *rq, srv_resp_t *rs)
{
    const char *origin = srv_req_header(rq, "Origin");
    rq->origin = srv_config_cors_allowed(&s->cfg, origin) ? origin : NULL;
    rq->route = -1;
    srv_resp_init(rs);
    int rc;
    int star = rq->method == SRV_OPTIONS && rq->path && !strcmp(rq->path, "*");
    if (!rq->path || (rq->path[0] != '/' && !star) || strlen(rq->path) > 2048) {
        srv_resp_error(rs, 404, "not_found", "", "malformed request path");
        rc = SRV_DONE;
    } else {
        rc = route_and_call(s, rq, rs);
    }
    rs->route = rq->route;
    if (rc == SRV_DONE)
        srv_api_decorate(rq, rs);
    return rc;
}
