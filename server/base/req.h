/* req.h: a request and its response, as the API sees them: no libmicrohttpd type appears
 * here (the transport, http/http.c, fills a srv_req_t and takes the srv_resp_t), so every
 * layer above the transport can build and send answers without knowing it.
 *
 * Answers leave through one function: srv_req_finish (a deferred answer: it adds the CORS
 * headers and hands the response to the transport's done callback), or the return of a
 * handler with SRV_DONE (the router then decorates and the transport sends). Nothing else in
 * the server calls a transport.
 *
 * Lifetimes. Everything a request points to (path, query, headers, body) is owned by the
 * transport and stays valid until srv_req_finish is called (or the handler returns
 * SRV_DONE). A response owns its body (malloc) and header values (copied).
 */
#ifndef SPIKED_SRV_REQ_H
#define SPIKED_SRV_REQ_H

#include <stddef.h>
#include <stdint.h>

#include "base/srv.h"

typedef enum srv_method {
    SRV_GET = 0,
    SRV_HEAD,
    SRV_POST,
    SRV_PUT,
    SRV_PATCH,
    SRV_DELETE,
    SRV_OPTIONS,
    SRV_OTHER,
    SRV_N_METHODS
} srv_method_t;

typedef struct srv_header {
    const char *name, *value;
} srv_header_t;

#define SRV_MAX_PARAMS     2  /* path parameters per route: {name}, {pop} / {id} */
#define SRV_PARAM_MAX      128 /* bytes of one decoded path parameter */
#define SRV_RESP_HEADERS   10
#define SRV_RESP_HDR_BYTES 1024

typedef struct srv_resp srv_resp_t;
typedef struct srv_req srv_req_t;
typedef struct srv_sub srv_sub_t;

/* Called by srv_req_finish: the transport takes the response (it may move the body out). */
typedef void (*srv_done_fn)(srv_req_t *rq, srv_resp_t *rs);

struct srv_req {
    srv_method_t method;
    const char *path;  /* percent-decoded path, without the query */
    const char *query; /* raw query string without '?', "" if none */
    const srv_header_t *headers;
    uint32_t n_headers;
    const char *body; /* not NUL-terminated; may be NULL when body_len == 0 */
    size_t body_len;
    /* Set by the router. */
    int route;                                   /* index in routes.def, -1 if none */
    char params[SRV_MAX_PARAMS][SRV_PARAM_MAX + 1]; /* path parameters, decoded */
    const char *origin;                          /* allowed CORS origin, or NULL */
    /* Set by the transport. */
    srv_done_fn done;
    void *transport;
    uint64_t t_start_ns;
};

typedef enum srv_resp_kind {
    SRV_RESP_BODY = 0, /* status + body */
    SRV_RESP_STREAM    /* text/event-stream produced by `stream` */
} srv_resp_kind_t;

struct srv_resp {
    srv_resp_kind_t kind;
    int status;
    char *body; /* owned (malloc); NULL for an empty body */
    size_t body_len;
    const char *content_type; /* static string */
    struct {
        const char *name; /* static string */
        uint32_t off;     /* value = hbuf + off (offsets: a response may be copied) */
    } headers[SRV_RESP_HEADERS];
    uint32_t n_headers;
    char hbuf[SRV_RESP_HDR_BYTES];
    size_t hbuf_used;
    srv_sub_t *stream; /* SRV_RESP_STREAM: the subscriber, owned by the response */
    int route;         /* copied from the request, for metrics */
};

/* ---- responses (req.c) ---- */

void srv_resp_init(srv_resp_t *rs);
/* Frees the body, closes an unconsumed stream and resets *rs. */
void srv_resp_clear(srv_resp_t *rs);
/* Adds a header (name: a static string; value printf-formatted, copied). Returns 0 or -1
 * when full. Values are read back with srv_resp_header_value(rs, i). */
int srv_resp_header(srv_resp_t *rs, const char *name, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
const char *srv_resp_get_header(const srv_resp_t *rs, const char *name);
#define srv_resp_header_value(rs, i) ((rs)->hbuf + (rs)->headers[i].off)
/* Sets status and a body taken over from the caller (malloc'd, may be NULL). */
void srv_resp_take(srv_resp_t *rs, int status, const char *content_type, char *body, size_t len);
/* Copies a body. Returns 0 or -1 (then the response is a 500). */
int srv_resp_copy(srv_resp_t *rs, int status, const char *content_type, const void *body,
                  size_t len);
/* Error body {"error":{"status","code","path","message"}}; code is a snake_case word. */
void srv_resp_error(srv_resp_t *rs, int status, const char *code, const char *path,
                    const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* Completes a deferred request (loop thread). rs is consumed (moved into the transport). */
void srv_req_finish(srv_req_t *rq, srv_resp_t *rs);

/* ---- requests ---- */

/* Case-insensitive header lookup; NULL if absent. */
const char *srv_req_header(const srv_req_t *rq, const char *name);
/* Query parameter `key`, percent-decoded into out (cap bytes). Returns 1 found, 0 absent,
 * -1 malformed or too long. */
int srv_query_get(const char *query, const char *key, char *out, size_t cap);
/* Percent-decodes src[0..n) into out (cap bytes, NUL-terminated); '+' stays '+' unless
 * plus_space. Rejects %00 and malformed escapes. Returns length or -1. */
long srv_url_decode(const char *src, size_t n, char *out, size_t cap, int plus_space);

const char *srv_method_name(srv_method_t m);
srv_method_t srv_method_parse(const char *m);

/* Adds the CORS headers of the request's origin (rq->origin, set by the router) to a
 * response: done by srv_api_handle for immediate answers and by srv_req_finish for
 * deferred ones. */
void srv_api_decorate(const srv_req_t *rq, srv_resp_t *rs);

#endif
