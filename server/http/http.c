/* http.c: the libmicrohttpd adapter (see http.h).
 *
 * Objects:
 *   hreq_t   one HTTP request: created by the URI-log callback, freed by NOTIFY_COMPLETED
 *            (or, if the connection died while its answer was still owed, when the owner
 *            finally calls srv_req_finish: `gone`);
 *   stream_t one event stream: created when a handler answers with a subscriber, freed by
 *            the response's free callback, which also closes the subscriber;
 *   conn_t   one TCP connection (MHD's socket context): when its current request began
 *            to arrive. A request must arrive whole within --request-timeout: MHD's own
 *            timeout only measures inactivity, so a client dribbling a byte at a time
 *            (slowloris) would hold its connection forever. Each pump sweeps the
 *            connections still receiving a request and shuts down (shutdown(2); MHD then
 *            closes it as usual) those past their deadline. A connection whose request is
 *            being answered (deferred, streaming) has no deadline; after its answer, the
 *            wait for the next request on it starts a new window.
 * Lists (all intrusive, loop thread only): live requests, requests with a ready answer,
 * streams, streams to resume. The `ready` and `wake` lists are drained at the start of
 * every pump, before MHD_run, so MHD_queue_response/MHD_resume_connection are never called
 * from inside another connection's callback.
 *
 * Stream flushes. Every write to a stream is a socket send (several microseconds on
 * loopback), so with many subscribers the writes, not the events, are the cost. A stream
 * whose last read emptied its queue does not read again on its own: its reader suspends it,
 * and what was published meanwhile waits for the next flush, which resumes every stream
 * with something to send at once (a stream with more than one block queued keeps reading:
 * a catching-up reader is never slowed down). A flush lasts from the resumes to the end of
 * its second MHD_run (libmicrohttpd calls the readers in one run and sends in the next),
 * or of the first after which MHD has nothing left to do. The next flush waits until the
 * last one has been over for FLUSH_WAIT_PCT % of its duration (at most FLUSH_MAX_NS), so
 * flushing takes at most about 2/3 of the loop's time, the rest is left to requests and
 * stepping, and each write carries everything published meanwhile. Durations are wall
 * time: when other processes take the CPU a flush lasts longer and the loop keeps its
 * share. A wait under FLUSH_MIN_NS is skipped (flushes under 2 ms: a few hundred
 * subscribers on this machine), so small fan-outs keep their latency; a thousand
 * subscribers (about 6.5 ms per flush here) get their events in fewer, bigger writes,
 * about every 10 ms. REST answers never wait.
 *
 * Closed streams. libmicrohttpd does not watch a suspended connection, so a subscriber
 * that disconnects from an idle session would hold its --max-subscribers slot until the
 * next heartbeat write fails. Every CLOSED_CHECK_NS the suspended streams are checked
 * with a non-blocking MSG_PEEK read: an event-stream client sends nothing after its
 * request, so end-of-file or a socket error means it is gone (a peer that only shut down
 * its sending side counts as gone too); the stream is resumed and its reader ends it with
 * an error, which closes the connection and frees the subscriber.
 */
#include "http/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "base/log.h"
#include "http/loop.h"
#include "api/router.h"
#include "events/sse.h"

#define MAX_HEADERS      64
#define STREAM_BLOCK     (16 * 1024)
#define CONN_MEMORY      (32 * 1024)
#define DISCARD_SLACK    (64 * 1024)
#define FLUSH_WAIT_PCT   50          /* a flush waits >= this % of the last one's duration */
#define FLUSH_MAX_NS     10000000u   /* ... at most 10 ms */
#define FLUSH_MIN_NS     1000000u    /* a shorter wait: flush at once */
#define CLOSED_CHECK_NS  1000000000u /* suspended streams checked for a closed peer */

typedef struct hreq hreq_t;
typedef struct stream stream_t;
typedef struct conn conn_t;

struct conn {
    conn_t *prev, *next;
    int fd;
    uint64_t since_ns; /* the current request (or the wait for it) began */
    int busy;          /* its request arrived and is being answered: no deadline */
    int cut;           /* shut down by the sweep */
};

struct hreq {
    srv_req_t rq;
    srv_http_t *h;
    struct MHD_Connection *c;
    hreq_t *prev, *next; /* live list */
    hreq_t *ready_next;
    char *uri; /* raw request target; path and query point into it */
    char *body;
    size_t body_len, body_cap;
    uint64_t discarded;
    srv_header_t hdrs[MAX_HEADERS];
    uint32_t n_hdrs;
    int phase;      /* 0 new, 1 headers seen, 2 dispatched */
    int too_large;  /* body over the limit: answer 413 at the end */
    int owed;       /* deferred: srv_req_finish not called yet */
    int suspended;
    int in_dispatch;
    int gone;       /* MHD finished with the connection while the answer was owed */
    srv_resp_t *ready; /* deferred answer waiting for the next pump */
    int status;
    char method[16];
};

struct stream {
    srv_http_t *h;
    struct MHD_Connection *c;
    int fd; /* the connection's socket (-1 unknown): closed-peer checks */
    srv_sub_t *sub;
    stream_t *prev, *next;
    stream_t *wake_next;
    int in_wake;
    int suspended;
    int drained; /* its last read emptied its queue: the next read waits for a flush */
    int gone;    /* the peer closed: the reader ends the stream with an error */
};

struct srv_http {
    srv_server_t *s;
    struct MHD_Daemon *d;
    srv_loop_t loop;
    int listen_fd; /* owned after MHD_quiesce_daemon */
    hreq_t *live;
    hreq_t *ready;
    stream_t *streams;
    stream_t *wakes;
    conn_t *conns;
    uint32_t n_live, n_streams, n_conns;
    uint64_t swept_ns; /* last deadline sweep */
    uint64_t checked_ns;                   /* last closed-stream check */
    uint64_t flush_start_ns, flush_end_ns; /* the last stream flush (srv_now_ns) */
    int flushing;                          /* MHD_runs of the flush under way (0: none) */
    uint64_t log_window_ms;
    uint32_t log_count;
    void (*on_closed)(void *);
    void *closed_arg;
};

/* ---- MHD log, rate-limited: at most 20 lines per 10 s ---- */

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    srv_http_t *h = cls;
    uint64_t now = srv_now_ms();
    if (now - h->log_window_ms > 10000) {
        h->log_window_ms = now;
        h->log_count = 0;
    }
    if (++h->log_count > 20)
        return;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    srv_log(SRV_LOG_DEBUG, "mhd: %s", msg);
}

/* ---- connections and their request deadline ---- */

static conn_t *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *i =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return i ? i->socket_context : NULL;
}

/* The request on c has arrived (or is being refused): answering it has no deadline. */
static void conn_busy(struct MHD_Connection *c, int busy)
{
    conn_t *k = conn_of(c);
    if (!k)
        return;
    k->busy = busy;
    k->since_ns = srv_now_ns();
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    srv_http_t *h = cls;
    conn_t *k = *socket_context;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *i =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        k = calloc(1, sizeof *k);
        if (!k || !i) { /* no deadline for it: MHD's inactivity timeout still applies */
            free(k);
            return;
        }
        k->fd = i->connect_fd;
        k->since_ns = srv_now_ns();
        k->next = h->conns;
        if (h->conns)
            h->conns->prev = k;
        h->conns = k;
        h->n_conns++;
        *socket_context = k;
        return;
    }
    if (!k)
        return;
    if (k->prev)
        k->prev->next = k->next;
    else
        h->conns = k->next;
    if (k->next)
        k->next->prev = k->prev;
    h->n_conns--;
    *socket_context = NULL;
    free(k);
}

/* Shuts down the connections whose request has not arrived within --request-timeout. */
static void sweep(srv_http_t *h)
{
    uint64_t now = srv_now_ns(), limit = h->s->cfg.request_timeout_s * 1000000000ull;
    if (now - h->swept_ns < 100000000u) /* at most every 100 ms */
        return;
    h->swept_ns = now;
    for (conn_t *k = h->conns; k; k = k->next)
        if (!k->busy && !k->cut && now - k->since_ns > limit) {
            k->cut = 1;
            shutdown(k->fd, SHUT_RDWR);
            srv_log(SRV_LOG_DEBUG, "connection %d: no whole request within %llu s; closed", k->fd,
                    (unsigned long long)h->s->cfg.request_timeout_s);
        }
}

/* ---- request objects ---- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    srv_http_t *h = cls;
    hreq_t *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->uri = strdup(uri ? uri : "");
    if (!r->uri) {
        free(r);
        return NULL;
    }
    r->h = h;
    r->c = c;
    r->rq.t_start_ns = srv_now_ns();
    r->rq.route = -1;
    r->next = h->live;
    if (h->live)
        h->live->prev = r;
    h->live = r;
    h->n_live++;
    return r;
}

static void hreq_free(hreq_t *r)
{
    srv_http_t *h = r->h;
    if (r->prev)
        r->prev->next = r->next;
    else if (h->live == r)
        h->live = r->next;
    if (r->next)
        r->next->prev = r->prev;
    h->n_live--;
    if (r->ready) {
        srv_resp_clear(r->ready);
        free(r->ready);
    }
    free(r->body);
    free(r->uri);
    free(r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    srv_http_t *h = cls;
    hreq_t *r = *con_cls;
    if (!r)
        return;
    *con_cls = NULL;
    uint64_t ns = srv_now_ns() - r->rq.t_start_ns;
    if (r->status)
        srv_metrics_request(&h->s->metrics, r->rq.route, r->status, ns);
    if (!h->s->cfg.quiet && r->status) {
        char path[200];
        snprintf(path, sizeof path, "%s", r->uri);
        char *q = strchr(path, '?');
        if (q)
            *q = '\0'; /* the query may carry an access token: never logged */
        srv_log(SRV_LOG_INFO, "%s %s %d %.3fms%s", r->method, path, r->status,
                (double)ns / 1e6,
                toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (connection ended)");
    }
    if (c)
        conn_busy(c, 0); /* waiting for the next request on this connection */
    if (r->owed) {
        r->gone = 1; /* freed when the owner finishes it */
        return;
    }
    hreq_free(r);
}

/* ---- responses ---- */

static void add_headers(struct MHD_Response *mr, const srv_resp_t *rs)
{
    if (rs->content_type)
        MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, rs->content_type);
    for (uint32_t i = 0; i < rs->n_headers; i++)
        MHD_add_response_header(mr, rs->headers[i].name, srv_resp_header_value(rs, i));
}

static void stream_unwake(stream_t *st)
{
    if (!st->in_wake)
        return;
    for (stream_t **p = &st->h->wakes; *p; p = &(*p)->wake_next)
        if (*p == st) {
            *p = st->wake_next;
            break;
        }
    st->in_wake = 0;
}

static void stream_free(void *cls)
{
    stream_t *st = cls;
    srv_http_t *h = st->h;
    stream_unwake(st);
    if (st->prev)
        st->prev->next = st->next;
    else
        h->streams = st->next;
    if (st->next)
        st->next->prev = st->prev;
    h->n_streams--;
    h->s->metrics.http_streams = h->n_streams;
    srv_sub_close(st->sub);
    free(st);
}

static void stream_wake(void *arg)
{
    stream_t *st = arg;
    if (!st->suspended || st->in_wake)
        return;
    st->in_wake = 1;
    st->wake_next = st->h->wakes;
    st->h->wakes = st;
    srv_loop_kick(&st->h->loop);
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    stream_t *st = cls;
    if (st->gone)
        return MHD_CONTENT_READER_END_WITH_ERROR; /* MHD closes the connection */
    if (st->drained) { /* what came since its last write waits for the next flush */
        st->drained = 0;
        st->suspended = 1;
        MHD_suspend_connection(st->c);
        if (srv_sub_defer(st->sub))
            stream_wake(st);
        return 0;
    }
    ssize_t n = srv_sub_read(st->sub, buf, max);
    if (n > 0) {
        st->drained = (size_t)n < max;
        return n;
    }
    if (n < 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    /* Empty: suspend, never return 0 without suspending (MHD would spin). */
    st->suspended = 1;
    MHD_suspend_connection(st->c);
    return 0;
}

static struct MHD_Response *stream_response(hreq_t *r, srv_resp_t *rs)
{
    stream_t *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    struct MHD_Response *mr =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK, stream_read, st,
                                          stream_free);
    if (!mr) {
        free(st);
        return NULL;
    }
    st->h = r->h;
    st->c = r->c;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->c, MHD_CONNECTION_INFO_CONNECTION_FD);
    st->fd = ci ? ci->connect_fd : -1;
    st->sub = rs->stream;
    rs->stream = NULL; /* now owned by the stream, closed in stream_free */
    srv_sub_set_wake(st->sub, stream_wake, st);
    st->next = r->h->streams;
    if (r->h->streams)
        r->h->streams->prev = st;
    r->h->streams = st;
    r->h->n_streams++;
    r->h->s->metrics.http_streams = r->h->n_streams;
    MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(mr, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(mr, "X-Accel-Buffering", "no");
    for (uint32_t i = 0; i < rs->n_headers; i++)
        MHD_add_response_header(mr, rs->headers[i].name, srv_resp_header_value(rs, i));
    MHD_set_connection_option(r->c, MHD_CONNECTION_OPTION_TIMEOUT,
                              (unsigned)r->h->s->cfg.stream_timeout_s);
    return mr;
}

/* Queues rs on r's connection; consumes rs. */
static enum MHD_Result queue(hreq_t *r, srv_resp_t *rs)
{
    struct MHD_Response *mr;
    if (rs->kind == SRV_RESP_STREAM) {
        mr = stream_response(r, rs);
    } else {
        mr = MHD_create_response_from_buffer(rs->body_len, rs->body ? rs->body : (void *)"",
                                             rs->body ? MHD_RESPMEM_MUST_FREE
                                                      : MHD_RESPMEM_PERSISTENT);
        if (mr)
            rs->body = NULL; /* MHD frees it */
    }
    if (!mr) {
        srv_resp_clear(rs);
        return MHD_NO;
    }
    if (rs->kind != SRV_RESP_STREAM)
        add_headers(mr, rs);
    r->status = rs->status;
    r->rq.route = rs->route;
    enum MHD_Result ok = MHD_queue_response(r->c, (unsigned)rs->status, mr);
    MHD_destroy_response(mr);
    srv_resp_clear(rs);
    return ok;
}

static enum MHD_Result queue_error(hreq_t *r, int status, const char *code, const char *msg)
{
    srv_resp_t rs;
    srv_resp_init(&rs);
    srv_resp_error(&rs, status, code, "", "%s", msg);
    return queue(r, &rs);
}

/* ---- deferred answers ---- */

static void http_done(srv_req_t *rq, srv_resp_t *rs)
{
    hreq_t *r = rq->transport;
    r->owed = 0;
    if (r->gone) {
        srv_resp_clear(rs);
        hreq_free(r);
        return;
    }
    srv_resp_t *copy = malloc(sizeof *copy);
    if (!copy) {
        srv_resp_clear(rs);
        srv_resp_error(rs, 503, "unavailable", "", "out of memory");
        copy = malloc(sizeof *copy);
        if (!copy) {
            srv_log(SRV_LOG_ERROR, "out of memory completing a request");
            abort(); /* a suspended connection can not be left behind (MHD_stop panics) */
        }
    }
    *copy = *rs;
    srv_resp_init(rs);
    r->ready = copy;
    if (r->in_dispatch)
        return; /* dispatch queues it when the handler returns */
    r->ready_next = r->h->ready;
    r->h->ready = r;
    srv_loop_kick(&r->h->loop);
}

/* Resumes the streams that have something to send, now or, when the last flush was
 * recent and costly, once its turn comes (see "Stream flushes" at the top). */
static void flush_streams(srv_http_t *h)
{
    if (!h->wakes || h->flushing) /* after a flush under way: after_run asks again */
        return;
    uint64_t now = srv_now_ns();
    uint64_t gap = (h->flush_end_ns - h->flush_start_ns) * FLUSH_WAIT_PCT / 100;
    gap = gap < FLUSH_MAX_NS ? gap : FLUSH_MAX_NS;
    if (gap >= FLUSH_MIN_NS && now < h->flush_end_ns + gap) {
        srv_loop_pump_in(&h->loop, (h->flush_end_ns + gap - now + 999999u) / 1000000u);
        return;
    }
    while (h->wakes) {
        stream_t *st = h->wakes;
        h->wakes = st->wake_next;
        st->in_wake = 0;
        if (st->suspended) {
            st->suspended = 0;
            MHD_resume_connection(st->c);
        }
    }
    h->flushing = 1;
    h->flush_start_ns = now;
}

/* Ends the suspended streams whose peer has closed (see "Closed streams" at the top). */
static void check_closed(srv_http_t *h)
{
    uint64_t now = srv_now_ns();
    if (now - h->checked_ns < CLOSED_CHECK_NS)
        return;
    h->checked_ns = now;
    for (stream_t *st = h->streams; st; st = st->next) {
        if (!st->suspended || st->fd < 0)
            continue;
        char c;
        ssize_t n = recv(st->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)))
            continue;
        st->gone = 1;
        st->suspended = 0;
        MHD_resume_connection(st->c);
    }
}

/* Before every MHD_run: queue ready answers and resume connections. */
static void before_run(void *arg)
{
    srv_http_t *h = arg;
    sweep(h);
    while (h->ready) {
        hreq_t *r = h->ready;
        h->ready = r->ready_next;
        srv_resp_t *rs = r->ready;
        r->ready = NULL;
        queue(r, rs);
        free(rs);
        if (r->suspended) {
            r->suspended = 0;
            MHD_resume_connection(r->c);
        }
    }
    check_closed(h);
    flush_streams(h);
}

/* After every MHD_run: the flush under way ends after its second run, or its first after
 * which MHD has no immediate work left. */
static void after_run(void *arg, int more)
{
    srv_http_t *h = arg;
    if (!h->flushing)
        return;
    if (more && ++h->flushing <= 2)
        return;
    h->flushing = 0;
    h->flush_end_ns = srv_now_ns();
    if (h->wakes) /* woken meanwhile: their flush is decided at the next pump */
        srv_loop_kick(&h->loop);
}

/* ---- the access handler ---- */

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    (void)kind;
    hreq_t *r = cls;
    if (r->n_hdrs < MAX_HEADERS) {
        r->hdrs[r->n_hdrs].name = key;
        r->hdrs[r->n_hdrs++].value = value ? value : "";
    }
    return MHD_YES;
}

static enum MHD_Result dispatch(hreq_t *r)
{
    conn_busy(r->c, 1);
    if (r->too_large)
        return queue_error(r, 413, "payload_too_large", "request body exceeds --max-body-bytes");
    char *q = strchr(r->uri, '?');
    if (q)
        *q++ = '\0';
    r->rq.method = srv_method_parse(r->method);
    r->rq.path = r->uri;
    r->rq.query = q ? q : "";
    MHD_get_connection_values(r->c, MHD_HEADER_KIND, collect, r);
    r->rq.headers = r->hdrs;
    r->rq.n_headers = r->n_hdrs;
    r->rq.body = r->body;
    r->rq.body_len = r->body_len;
    r->rq.done = http_done;
    r->rq.transport = r;
    srv_resp_t rs;
    r->owed = 1;
    r->in_dispatch = 1;
    int rc = srv_api_handle(r->h->s, &r->rq, &rs);
    r->in_dispatch = 0;
    if (rc == SRV_DONE) {
        r->owed = 0;
        return queue(r, &rs);
    }
    srv_resp_clear(&rs);
    if (r->ready) { /* finished while the handler ran */
        srv_resp_t *ready = r->ready;
        r->ready = NULL;
        enum MHD_Result ok = queue(r, ready);
        free(ready);
        return ok;
    }
    r->suspended = 1;
    MHD_suspend_connection(r->c);
    return MHD_YES;
}

typedef struct framing {
    int n_cl, n_te;
} framing_t;

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    (void)value;
    framing_t *f = cls;
    if (!strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH))
        f->n_cl++;
    if (!strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING))
        f->n_te++;
    return MHD_YES;
}

/* First call: headers only. Errors are queued now (the body is then discarded and the
 * connection closed, which is what a framing error or an oversized body deserves). */
static enum MHD_Result first_call(hreq_t *r)
{
    framing_t f = {0, 0};
    MHD_get_connection_values(r->c, MHD_HEADER_KIND, count_framing, &f);
    if (f.n_cl > 1 || (f.n_cl && f.n_te)) {
        conn_busy(r->c, 1);
        return queue_error(r, 400, "invalid_field",
                           "duplicate Content-Length, or Content-Length with Transfer-Encoding");
    }
    const char *cl = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        char *end = NULL;
        errno = 0;
        unsigned long long n = strtoull(cl, &end, 10);
        if (errno || end == cl || *end || n > r->h->s->cfg.max_body) {
            conn_busy(r->c, 1);
            return queue_error(r, 413, "payload_too_large",
                               "request body exceeds --max-body-bytes");
        }
    }
    return MHD_YES;
}

static enum MHD_Result body_append(hreq_t *r, const char *data, size_t n)
{
    uint64_t max = r->h->s->cfg.max_body;
    if (r->too_large || r->body_len + n > max) {
        r->too_large = 1;
        free(r->body);
        r->body = NULL;
        r->discarded += r->body_len + n;
        r->body_len = r->body_cap = 0;
        /* Chunked upload far past the limit: stop reading it (connection closed). */
        return r->discarded > max + DISCARD_SLACK ? MHD_NO : MHD_YES;
    }
    if (r->body_len + n > r->body_cap) {
        size_t cap = r->body_cap ? r->body_cap : 4096;
        while (cap < r->body_len + n)
            cap *= 2;
        if (cap > max)
            cap = (size_t)max;
        char *b = realloc(r->body, cap);
        if (!b)
            return MHD_NO;
        r->body = b;
        r->body_cap = cap;
    }
    memcpy(r->body + r->body_len, data, n);
    r->body_len += n;
    return MHD_YES;
}

static enum MHD_Result ahc(void *cls, struct MHD_Connection *c, const char *url,
                           const char *method, const char *version, const char *upload_data,
                           size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)url;
    (void)version;
    hreq_t *r = *con_cls;
    if (!r)
        return MHD_NO; /* out of memory in on_uri */
    if (r->phase == 0) {
        r->phase = 1;
        r->c = c;
        snprintf(r->method, sizeof r->method, "%s", method);
        return first_call(r);
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        return body_append(r, upload_data, n);
    }
    if (r->phase == 1) {
        r->phase = 2;
        return dispatch(r);
    }
    return MHD_YES;
}

/* ---- start and stop ---- */

static int listen_on(const char *addr, uint16_t port, int *fd_out, int *v6, uint16_t *bound,
                     char *err, size_t len)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    socklen_t sl;
    if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons(port);
        sl = sizeof *a4;
        *v6 = 0;
    } else if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        sl = sizeof *a6;
        *v6 = 1;
    } else {
        snprintf(err, len, "--bind %s: not an IPv4 or IPv6 address", addr);
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 1024) < 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
        snprintf(err, len, "listen on %s:%u: %s", addr, (unsigned)port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *bound = ntohs(*v6 ? a6->sin6_port : a4->sin_port);
    *fd_out = fd;
    return 0;
}

int srv_http_start(srv_server_t *s, srv_http_t **out, uint16_t *port, char *err, size_t len)
{
    if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) != MHD_YES) {
        snprintf(err, len, "libmicrohttpd was built without epoll");
        return -1;
    }
    srv_http_t *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, len, "out of memory");
        return -1;
    }
    h->s = s;
    int v6 = 0;
    if (listen_on(s->cfg.bind, (uint16_t)s->cfg.port, &h->listen_fd, &v6, port, err, len) < 0) {
        free(h);
        return -1;
    }
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (v6)
        flags |= MHD_USE_IPv6;
    h->d = MHD_start_daemon(
        flags, 0, NULL, NULL, ahc, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
        MHD_OPTION_LISTEN_SOCKET, h->listen_fd, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)s->cfg.conn_limit, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)s->cfg.request_timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, h, MHD_OPTION_URI_LOG_CALLBACK, on_uri, h, MHD_OPTION_NOTIFY_CONNECTION,
        on_connection, h,
        MHD_OPTION_SIGPIPE_HANDLED_BY_APP, 1, MHD_OPTION_END);
    if (!h->d) {
        snprintf(err, len, "MHD_start_daemon failed");
        close(h->listen_fd);
        free(h);
        return -1;
    }
    if (srv_loop_start(&h->loop, s->loop, h->d, before_run, after_run, h) < 0) {
        snprintf(err, len, "cannot watch the MHD epoll fd");
        MHD_stop_daemon(h->d);
        free(h);
        return -1;
    }
    h->listen_fd = -1; /* MHD owns it until quiesced */
    *out = h;
    return 0;
}

void srv_http_quiesce(srv_http_t *h)
{
    MHD_socket fd = MHD_quiesce_daemon(h->d);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    srv_loop_kick(&h->loop);
}

void srv_http_end_streams(srv_http_t *h)
{
    for (stream_t *st = h->streams; st; st = st->next)
        srv_sub_end(st->sub);
    srv_loop_kick(&h->loop);
}

uint32_t srv_http_open_requests(const srv_http_t *h)
{
    uint32_t n = 0;
    for (const hreq_t *r = h->live; r; r = r->next)
        n += r->owed || r->suspended;
    return n;
}

uint32_t srv_http_open_streams(const srv_http_t *h)
{
    return h->n_streams;
}

static void http_closed(void *arg)
{
    srv_http_t *h = arg;
    void (*cb)(void *) = h->on_closed;
    void *cb_arg = h->closed_arg;
    free(h);
    if (cb)
        cb(cb_arg);
}

/* Forces every still-suspended connection to finish (MHD_stop_daemon panics otherwise). */
static void resume_all(srv_http_t *h)
{
    before_run(h);
    for (hreq_t *r = h->live; r; r = r->next)
        if (r->suspended) {
            srv_resp_t rs;
            srv_resp_init(&rs);
            srv_resp_error(&rs, 503, "unavailable", "", "the server is shutting down");
            queue(r, &rs);
            r->suspended = 0;
            MHD_resume_connection(r->c);
        }
    for (stream_t *st = h->streams; st; st = st->next) {
        srv_sub_end(st->sub);
        if (st->suspended) {
            st->suspended = 0;
            MHD_resume_connection(st->c);
        }
    }
    MHD_run(h->d);
}

void srv_http_stop(srv_http_t *h, void (*on_closed)(void *), void *arg)
{
    resume_all(h);
    MHD_stop_daemon(h->d);
    while (h->live) { /* requests whose answer is still owed: the owners are gone too */
        hreq_t *r = h->live;
        r->owed = 0;
        hreq_free(r);
    }
    while (h->conns) { /* MHD reports every close; nothing should be left */
        conn_t *k = h->conns;
        h->conns = k->next;
        free(k);
    }
    h->on_closed = on_closed;
    h->closed_arg = arg;
    srv_loop_close(&h->loop, http_closed);
}
