/* req.c: building responses and reading requests (req.h), MHD-free; srv_req_finish, where
 * every deferred answer leaves.
 *
 * Error bodies have one shape everywhere: {"error":{"status":N,"code":"snake_case",
 * "path":"field.path","message":"sentence"}}. Header values are copied into the
 * response's fixed buffer; a response that runs out of header space keeps its body and
 * loses the extra header (logged), it never overflows.
 */
#include "base/req.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "base/log.h"
#include "events/sse.h"

void srv_resp_init(srv_resp_t *rs)
{
    memset(rs, 0, sizeof *rs);
    rs->status = 500;
    rs->route = -1;
}

void srv_resp_clear(srv_resp_t *rs)
{
    free(rs->body);
    if (rs->stream)
        srv_sub_close(rs->stream);
    int route = rs->route;
    srv_resp_init(rs);
    rs->route = route;
}

int srv_resp_header(srv_resp_t *rs, const char *name, const char *fmt, ...)
{
    if (rs->n_headers == SRV_RESP_HEADERS)
        goto full;
    size_t room = sizeof rs->hbuf - rs->hbuf_used;
    char *v = rs->hbuf + rs->hbuf_used;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(v, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room)
        goto full;
    rs->headers[rs->n_headers].name = name;
    rs->headers[rs->n_headers++].off = (uint32_t)rs->hbuf_used;
    rs->hbuf_used += (size_t)n + 1;
    return 0;
full:
    srv_log(SRV_LOG_WARN, "response header %s dropped: no room", name);
    return -1;
}

const char *srv_resp_get_header(const srv_resp_t *rs, const char *name)
{
    for (uint32_t i = 0; i < rs->n_headers; i++)
        if (!strcasecmp(rs->headers[i].name, name))
            return srv_resp_header_value(rs, i);
    return NULL;
}

void srv_resp_take(srv_resp_t *rs, int status, const char *content_type, char *body, size_t len)
{
    free(rs->body);
    rs->kind = SRV_RESP_BODY;
    rs->status = status;
    rs->content_type = content_type;
    rs->body = body;
    rs->body_len = body ? len : 0;
}

int srv_resp_copy(srv_resp_t *rs, int status, const char *content_type, const void *body,
                  size_t len)
{
    char *b = malloc(len ? len : 1);
    if (!b) {
        srv_resp_take(rs, 500, NULL, NULL, 0);
        return -1;
    }
    if (len)
        memcpy(b, body, len);
    srv_resp_take(rs, status, content_type, b, len);
    return 0;
}

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlong forms, no surrogates,
 * at most U+10FFFF), or 0 when it is not one. */
static size_t utf8_seq(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t n = s[0] >= 0xC2 && s[0] <= 0xDF ? 2 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3
             : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : 0;
    for (size_t k = 1; k < n; k++)
        if ((s[k] & 0xC0) != 0x80)
            return 0;
    if ((n == 3 && s[0] == 0xE0 && s[1] < 0xA0) || (n == 3 && s[0] == 0xED && s[1] > 0x9F) ||
        (n == 4 && s[0] == 0xF0 && s[1] < 0x90) || (n == 4 && s[0] == 0xF4 && s[1] > 0x8F))
        return 0;
    return n;
}

/* Replaces every byte that is not part of valid UTF-8 with '?' (client text echoed in a
 * message, or a message cut inside a character, would make jansson refuse the body). */
static void utf8_clean(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        size_t n = utf8_seq(p);
        if (n) {
            p += n;
        } else {
            *p++ = '?';
        }
    }
}

void srv_resp_error(srv_resp_t *rs, int status, const char *code, const char *path,
                    const char *fmt, ...)
{
    char msg[512], where[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(where, sizeof where, "%s", path ? path : "");
    utf8_clean(msg);
    utf8_clean(where);
    json_t *e = json_pack("{s:{s:i, s:s, s:s, s:s}}", "error", "status", status, "code", code,
                          "path", where, "message", msg);
    char *body = e ? json_dumps(e, JSON_COMPACT) : NULL;
    json_decref(e);
    if (!body) { /* out of memory: still the contract's shape */
        char tmp[160];
        int n = snprintf(tmp, sizeof tmp,
                         "{\"error\":{\"status\":%d,\"code\":\"%s\",\"path\":\"\","
                         "\"message\":\"out of memory\"}}",
                         status, code);
        body = n > 0 ? strdup(tmp) : NULL;
    }
    srv_resp_take(rs, status, "application/json", body, body ? strlen(body) : 0);
}

void srv_req_finish(srv_req_t *rq, srv_resp_t *rs)
{
    rs->route = rq->route;
    srv_api_decorate(rq, rs);
    rq->done(rq, rs);
}

const char *srv_req_header(const srv_req_t *rq, const char *name)
{
    for (uint32_t i = 0; i < rq->n_headers; i++)
        if (!strcasecmp(rq->headers[i].name, name))
            return rq->headers[i].value;
    return NULL;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

long srv_url_decode(const char *src, size_t n, char *out, size_t cap, int plus_space)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)src[i];
        if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int hi = hexval((unsigned char)src[i + 1]);
            int lo = hexval((unsigned char)src[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = hi * 16 + lo;
            i += 2;
        } else if (c == '+' && plus_space) {
            c = ' ';
        }
        if (c == 0 || k + 1 >= cap)
            return -1;
        out[k++] = (char)c;
    }
    if (k >= cap)
        return -1;
    out[k] = '\0';
    return (long)k;
}

/* Calls fn(key, klen, val, vlen) for each k=v pair of the raw query. */
static int query_each(const char *q, int (*fn)(void *, const char *, size_t, const char *, size_t),
                      void *arg)
{
    while (q && *q) {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        const char *eq = memchr(q, '=', len);
        size_t kl = eq ? (size_t)(eq - q) : len;
        const char *v = eq ? eq + 1 : q + len;
        size_t vl = eq ? len - kl - 1 : 0;
        if (len) {
            int rc = fn(arg, q, kl, v, vl);
            if (rc)
                return rc;
        }
        q += len + (amp ? 1 : 0);
    }
    return 0;
}

typedef struct qget {
    const char *key;
    char *out;
    size_t cap;
} qget_t;

static int qget_fn(void *arg, const char *k, size_t kl, const char *v, size_t vl)
{
    qget_t *g = arg;
    char key[64];
    if (srv_url_decode(k, kl, key, sizeof key, 1) < 0 || strcmp(key, g->key))
        return 0;
    return srv_url_decode(v, vl, g->out, g->cap, 1) < 0 ? -1 : 1;
}

int srv_query_get(const char *query, const char *key, char *out, size_t cap)
{
    qget_t g = {key, out, cap};
    return query_each(query, qget_fn, &g);
}

static const char *const method_names[SRV_N_METHODS] = {"GET",   "HEAD",   "POST",    "PUT",
                                                        "PATCH", "DELETE", "OPTIONS", "OTHER"};

const char *srv_method_name(srv_method_t m)
{
    return (unsigned)m < SRV_N_METHODS ? method_names[m] : "OTHER";
}

srv_method_t srv_method_parse(const char *m)
{
    for (int i = 0; i < SRV_OTHER; i++)
        if (!strcmp(m, method_names[i]))
            return (srv_method_t)i;
    return SRV_OTHER;
}

void srv_api_decorate(const srv_req_t *rq, srv_resp_t *rs)
{
    if (rq->origin && !srv_resp_get_header(rs, "Access-Control-Allow-Origin")) {
        srv_resp_header(rs, "Access-Control-Allow-Origin", "%s", rq->origin);
        srv_resp_header(rs, "Access-Control-Expose-Headers", "Location, Retry-After");
    }
    if (srv_req_header(rq, "Origin") && !srv_resp_get_header(rs, "Vary"))
        srv_resp_header(rs, "Vary", "Origin");
}
