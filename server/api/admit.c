/* admit.c: body media type, Host and Origin checks (see admit.h). */
#include "api/admit.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int srv_media_is_json(const char *ct)
{
    static const char json[] = "application/json";
    size_t n = sizeof json - 1;
    return ct && !strncasecmp(ct, json, n) && (ct[n] == '\0' || strchr("; \t", ct[n]));
}

/* Binary form of an address literal: family, and 4 or 16 bytes in out. 0, or -1. */
static int parse_addr(const char *text, int *family, unsigned char out[16])
{
    if (inet_pton(AF_INET, text, out) == 1) {
        *family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, text, out) == 1) {
        *family = AF_INET6;
        return 0;
    }
    return -1;
}

/* 1 when the literal names the bind address (or the bind is a wildcard). */
static int is_bind_addr(const char *bind, const char *lit)
{
    unsigned char b[16] = {0}, h[16] = {0}, zero[16] = {0};
    int fb, fh;
    if (parse_addr(bind, &fb, b) < 0 || parse_addr(lit, &fh, h) < 0)
        return 0;
    if (!memcmp(b, zero, fb == AF_INET ? 4 : 16))
        return 1; /* 0.0.0.0 or ::: every address of the machine */
    return fb == fh && !memcmp(b, h, fb == AF_INET ? 4 : 16);
}

int srv_host_names_server(const srv_config_t *c, const char *host)
{
    char name[64];
    const char *end, *port;
    if (host[0] == '[') { /* [v6]:port */
        end = strchr(host, ']');
        if (!end)
            return 0;
        host++;
        port = end + 1;
    } else {
        end = strchr(host, ':');
        if (end && strchr(end + 1, ':'))
            return 0; /* an IPv6 literal must be in brackets */
        port = end ? end : host + strlen(host);
        end = port;
    }
    if (*port == ':')
        port += 1 + strspn(port + 1, "0123456789");
    size_t n = (size_t)(end - host);
    if (*port || n == 0 || n >= sizeof name)
        return 0;
    memcpy(name, host, n);
    name[n] = '\0';
    if (!strcasecmp(name, "localhost") || !strcasecmp(name, "localhost."))
        return 1;
    return srv_addr_loopback(name) == 1 || is_bind_addr(c->bind, name);
}

int srv_admit_host(const srv_server_t *s, const srv_req_t *rq, srv_resp_t *rs)
{
    const char *host = srv_req_header(rq, "Host");
    if (s->cfg.token[0] || !host || srv_host_names_server(&s->cfg, host))
        return 0;
    srv_resp_error(rs, 421, "misdirected_request", "",
                   "Host %.100s is not this server: without a token spiked answers only "
                   "requests for localhost, a loopback address or its bind address "
                   "(DNS rebinding); use one of those, or set a token",
                   host);
    return -1;
}

int srv_admit_body(const srv_req_t *rq, srv_resp_t *rs)
{
    const char *ct = srv_req_header(rq, "Content-Type");
    if (rq->body_len == 0 || srv_media_is_json(ct))
        return 0;
    srv_resp_error(rs, 415, "unsupported_media_type", "",
                   "a request body needs Content-Type: application/json%s%.80s",
                   ct ? ", not " : " (none was sent)", ct ? ct : "");
    return -1;
}

int srv_admit_origin(const srv_server_t *s, const srv_req_t *rq, srv_resp_t *rs)
{
    const char *origin = srv_req_header(rq, "Origin");
    const char *host = srv_req_header(rq, "Host");
    if (s->cfg.token[0] || !origin || rq->method == SRV_GET || rq->method == SRV_HEAD ||
        rq->method == SRV_OPTIONS || srv_config_cors_allowed(&s->cfg, origin))
        return 0;
    /* same origin: the dashboard served by this server (its Host already passed) */
    if (host && !strncasecmp(origin, "http://", 7) && !strcasecmp(origin + 7, host))
        return 0;
    srv_resp_error(rs, 403, "forbidden", "",
                   "origin %.100s may not change this server: without a token spiked carries "
                   "out %s requests only from its own origin or --cors-origins",
                   origin, srv_method_name(rq->method));
    return -1;
}
