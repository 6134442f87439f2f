/* http_client.c: blocking HTTP/1.1 and SSE client for tests (see http_client.h). */

#include "http_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

long long hc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int rcvbuf;

void hc_set_rcvbuf(int bytes)
{
    rcvbuf = bytes;
}

int hc_connect(hc_conn_t *c, int port)
{
    memset(c, 0, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (rcvbuf > 0)
        setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    return 0;
}

void hc_close(hc_conn_t *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

int hc_send_raw(hc_conn_t *c, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int hc_send(hc_conn_t *c, const char *method, const char *path, const char *headers,
            const char *body, size_t len)
{
    char head[8192];
    int n = snprintf(head, sizeof head,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s", method, path,
                     headers ? headers : "", body ? "" : "\r\n");
    if (n < 0 || (size_t)n >= sizeof head)
        return -1;
    c->head = !strcmp(method, "HEAD");
    if (body) {
        int m = snprintf(head + n, sizeof head - (size_t)n, "Content-Length: %zu\r\n\r\n", len);
        if (m < 0 || (size_t)(n + m) >= sizeof head)
            return -1;
        n += m;
    }
    if (hc_send_raw(c, head, (size_t)n) < 0)
        return -1;
    return body && len ? hc_send_raw(c, body, len) : 0;
}

/* Reads more bytes into the buffer before the deadline. 0, or -1 on timeout/close. */
static int fill(hc_conn_t *c, long long deadline)
{
    if (c->off == c->have)
        c->off = c->have = 0;
    if (c->have == sizeof c->buf) {
        memmove(c->buf, c->buf + c->off, c->have - c->off);
        c->have -= c->off;
        c->off = 0;
        if (c->have == sizeof c->buf)
            return -1;
    }
    for (;;) {
        long long left = deadline - hc_now_ms();
        if (left <= 0)
            return -1;
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        int rc = poll(&p, 1, (int)left);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            return -1;
        ssize_t r = recv(c->fd, c->buf + c->have, sizeof c->buf - c->have, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        c->have += (size_t)r;
        return 0;
    }
}

/* One "\r\n"-terminated line (without it) into out. */
static int read_line(hc_conn_t *c, char *out, size_t cap, long long deadline)
{
    for (;;) {
        char *nl = memmem(c->buf + c->off, c->have - c->off, "\r\n", 2);
        if (nl) {
            size_t n = (size_t)(nl - (c->buf + c->off));
            if (n >= cap)
                return -1;
            memcpy(out, c->buf + c->off, n);
            out[n] = '\0';
            c->off += n + 2;
            return 0;
        }
        if (fill(c, deadline) < 0)
            return -1;
    }
}

static int read_exact(hc_conn_t *c, char *out, size_t n, long long deadline)
{
    while (n) {
        if (c->off == c->have && fill(c, deadline) < 0)
            return -1;
        size_t k = c->have - c->off < n ? c->have - c->off : n;
        memcpy(out, c->buf + c->off, k);
        c->off += k;
        out += k;
        n -= k;
    }
    return 0;
}

static int read_head(hc_conn_t *c, hc_resp_t *r, long long deadline)
{
    char line[4096];
    if (read_line(c, line, sizeof line, deadline) < 0 || sscanf(line, "HTTP/1.%*d %d", &r->status) != 1)
        return -1;
    size_t k = 0;
    for (;;) {
        if (read_line(c, line, sizeof line, deadline) < 0)
            return -1;
        if (!line[0])
            return 0;
        k += (size_t)snprintf(r->headers + k, k < sizeof r->headers ? sizeof r->headers - k : 0,
                              "%s\r\n", line);
    }
}

const char *hc_header(const hc_resp_t *r, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *p = r->headers; *p;) {
        const char *e = strstr(p, "\r\n");
        if (!e)
            break;
        if ((size_t)(e - p) > nl && !strncasecmp(p, name, nl) && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            size_t n = (size_t)(e - v) < cap - 1 ? (size_t)(e - v) : cap - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return out;
        }
        p = e + 2;
    }
    return NULL;
}

static int read_chunked(hc_conn_t *c, hc_resp_t *r, long long deadline)
{
    char line[128];
    for (;;) {
        if (read_line(c, line, sizeof line, deadline) < 0)
            return -1;
        size_t n = strtoul(line, NULL, 16);
        if (!n)
            return read_line(c, line, sizeof line, deadline);
        char *b = realloc(r->body, r->len + n + 1);
        if (!b)
            return -1;
        r->body = b;
        if (read_exact(c, r->body + r->len, n, deadline) < 0 ||
            read_line(c, line, sizeof line, deadline) < 0)
            return -1;
        r->len += n;
        r->body[r->len] = '\0';
    }
}

int hc_recv(hc_conn_t *c, hc_resp_t *r, int timeout_ms)
{
    memset(r, 0, sizeof *r);
    long long deadline = hc_now_ms() + timeout_ms;
    if (read_head(c, r, deadline) < 0)
        return -1;
    char v[64];
    r->body = calloc(1, 1);
    if (!r->body)
        return -1;
    if (c->head || r->status == 204 || r->status == 304)
        return 0;
    if (hc_header(r, "Transfer-Encoding", v, sizeof v) && !strcasecmp(v, "chunked"))
        return read_chunked(c, r, deadline);
    size_t n = hc_header(r, "Content-Length", v, sizeof v) ? strtoul(v, NULL, 10) : 0;
    char *b = realloc(r->body, n + 1);
    if (!b)
        return -1;
    r->body = b;
    r->len = n;
    r->body[n] = '\0';
    return read_exact(c, r->body, n, deadline);
}

/* How long hc_request waits for an answer: generous, because a sanitized server on a loaded
 * 2-core machine steps a large network 10-20x slower than a release build; a server that
 * never answers still fails the test, only later. */
#define HC_REPLY_TIMEOUT_MS 60000

int hc_request(int port, const char *method, const char *path, const char *headers,
               const char *body, hc_resp_t *r)
{
    hc_conn_t *c = malloc(sizeof *c);
    memset(r, 0, sizeof *r);
    if (!c || hc_connect(c, port) < 0) {
        free(c);
        return -1;
    }
    int rc = hc_send(c, method, path, headers, body, body ? strlen(body) : 0);
    if (rc == 0)
        rc = hc_recv(c, r, HC_REPLY_TIMEOUT_MS);
    hc_close(c);
    free(c);
    return rc;
}

void hc_resp_free(hc_resp_t *r)
{
    free(r->body);
    r->body = NULL;
}

/* ---- Server-Sent Events ---- */

int hc_sse_open(hc_sse_t **out, int port, const char *path, const char *headers, int *status)
{
    *status = 0;
    hc_sse_t *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    char h[2048];
    snprintf(h, sizeof h, "Accept: text/event-stream\r\n%s", headers ? headers : "");
    hc_resp_t r;
    memset(&r, 0, sizeof r);
    if (hc_connect(&s->c, port) < 0 || hc_send(&s->c, "GET", path, h, NULL, 0) < 0 ||
        read_head(&s->c, &r, hc_now_ms() + 10000) < 0) {
        hc_sse_close(s);
        return -1;
    }
    *status = r.status;
    char v[64];
    s->status = r.status;
    s->chunked = hc_header(&r, "Transfer-Encoding", v, sizeof v) && !strcasecmp(v, "chunked");
    if (r.status != 200) {
        hc_sse_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

static int dec_append(hc_sse_t *s, const char *p, size_t n)
{
    if (s->dec_have + n + 1 > s->dec_cap) {
        size_t cap = s->dec_cap ? s->dec_cap : 65536;
        while (cap < s->dec_have + n + 1)
            cap *= 2;
        char *d = realloc(s->dec, cap);
        if (!d)
            return -1;
        s->dec = d;
        s->dec_cap = cap;
    }
    memcpy(s->dec + s->dec_have, p, n);
    s->dec_have += n;
    s->dec[s->dec_have] = '\0';
    return 0;
}

/* Decodes more of the body (chunked or not) into s->dec. */
static int sse_more(hc_sse_t *s, long long deadline)
{
    hc_conn_t *c = &s->c;
    char line[64];
    if (s->eof)
        return -1;
    if (s->chunked && !s->chunk_left) {
        if (read_line(c, line, sizeof line, deadline) < 0)
            return -1;
        s->chunk_left = strtoul(line, NULL, 16);
        if (!s->chunk_left) {
            s->eof = 1;
            return -1;
        }
    }
    if (c->off == c->have && fill(c, deadline) < 0)
        return -1;
    size_t k = c->have - c->off;
    if (s->chunked && k > s->chunk_left)
        k = s->chunk_left;
    if (dec_append(s, c->buf + c->off, k) < 0)
        return -1;
    c->off += k;
    if (s->chunked && (s->chunk_left -= k) == 0 && read_line(c, line, sizeof line, deadline) < 0)
        return -1;
    return 0;
}

/* Parses one "\n\n"-terminated block; 1 when it was an event. */
static int parse_block(hc_sse_t *s, char *blk, hc_event_t *ev)
{
    int any = 0;
    for (char *line = strtok(blk, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == ':') {
            s->comments++;
            continue;
        }
        char *colon = strchr(line, ':');
        const char *val = colon ? colon + 1 + (colon[1] == ' ') : "";
        if (colon)
            *colon = '\0';
        if (!strcmp(line, "id"))
            snprintf(ev->id, sizeof ev->id, "%s", val);
        else if (!strcmp(line, "event"))
            snprintf(ev->event, sizeof ev->event, "%s", val);
        else if (!strcmp(line, "data")) {
            free(ev->data);
            ev->data = strdup(val);
        } else
            continue;
        any = 1;
    }
    return any && (ev->event[0] || ev->data);
}

int hc_sse_next(hc_sse_t *s, hc_event_t *ev, int timeout_ms)
{
    long long deadline = hc_now_ms() + timeout_ms;
    memset(ev, 0, sizeof *ev);
    for (;;) {
        char *end = s->dec ? strstr(s->dec, "\n\n") : NULL;
        if (end) {
            size_t n = (size_t)(end - s->dec) + 2;
            char *blk = strndup(s->dec, n - 2);
            memmove(s->dec, s->dec + n, s->dec_have - n + 1);
            s->dec_have -= n;
            int is_event = blk && parse_block(s, blk, ev);
            free(blk);
            if (is_event) {
                if (!ev->data)
                    ev->data = strdup("");
                return 1;
            }
            continue;
        }
        if (sse_more(s, deadline) < 0)
            return s->eof || hc_now_ms() < deadline ? -1 : 0;
    }
}

void hc_event_free(hc_event_t *ev)
{
    free(ev->data);
    ev->data = NULL;
}

void hc_sse_close(hc_sse_t *s)
{
    if (!s)
        return;
    hc_close(&s->c);
    free(s->dec);
    free(s);
}
