/* bench_http_client.c: load generators for spiked's server benchmarks (tests/bench/run-server).
 * Plain sockets and epoll, no HTTP library, so what is measured is the server, not the
 * client (a Python client would measure Python). Loopback only.
 *
 * bench_http_client rtt --port P --path PATH [--method M] [--body JSON | --body-file F]
 *                   [--n N | --seconds S] [--warmup N] [--json OUT]
 *     one keep-alive connection, one request at a time, as fast as the answers come; the
 *     round trip of each request (write of the request to the end of the answer).
 *     Counts the spike ids of step answers ("ids":[...]) when there are any.
 * bench_http_client fanout --port P --session NAME --subs N [--rate HZ] [--seconds S]
 *                   [--stuck K] [--pid PID] [--body JSON] [--json OUT]
 *     N subscribers of /v1/sessions/NAME/events on their own connections (plus K that set
 *     a 4 KiB receive buffer and never read), then one stepper posting BODY (default
 *     {"steps":1}) at HZ requests/s, paced on CLOCK_MONOTONIC, for S seconds. Each spike
 *     batch (SSE id = the step it ends at) is stamped on arrival against the time the step
 *     request that produced it was sent: an upper bound of publish-to-delivery latency
 *     (it includes the step itself). Lost batches are missing ids. With --rate 0 nobody
 *     steps (someone else does, e.g. wrk): losses are gaps in the ids, no latency.
 *     With --pid, the server's VmRSS and CPU time are sampled.
 * bench_http_client churn --port P --body-file F --seconds S [--steps K] [--pid PID]
 *                   [--json OUT]
 *     create (F with @NAME@ replaced), step K, delete, in a loop; the server's VmRSS every
 *     second, and its baseline after the first 10% of the run.
 * Answers are read by Content-Length (204 and 304 have no body); spiked and the bare server
 * send it on every answer that is not a stream.
 * Results are one JSON object (stdout, or --json OUT). Exit status 1 on errors.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- time, statistics ---- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Latency histogram: 1 us buckets below 100 ms, 100 us buckets from 100 ms to 10.1 s, one
 * overflow bucket above (the maximum is kept exactly). */
#define HIST_FINE   100000 /* 1 us buckets: [0, 100 ms) */
#define HIST_COARSE 100000 /* 100 us buckets: [100 ms, 10.1 s) */
typedef struct hist {
    uint32_t *b;
    uint64_t n, over, max_ns, sum_ns;
} hist_t;

static void hist_init(hist_t *h)
{
    memset(h, 0, sizeof *h);
    h->b = calloc(HIST_FINE + HIST_COARSE, sizeof *h->b);
    if (!h->b) {
        perror("calloc");
        exit(1);
    }
}

static void hist_add(hist_t *h, uint64_t ns)
{
    uint64_t us = ns / 1000;
    if (us < HIST_FINE)
        h->b[us]++;
    else if ((us - HIST_FINE) / 100 < HIST_COARSE)
        h->b[HIST_FINE + (us - HIST_FINE) / 100]++;
    else
        h->over++;
    h->n++;
    h->sum_ns += ns;
    if (ns > h->max_ns)
        h->max_ns = ns;
}

/* The q-quantile in us (bucket middle), or -1 without samples. */
static double hist_q(const hist_t *h, double q)
{
    if (!h->n)
        return -1;
    uint64_t want = (uint64_t)(q * (double)(h->n - 1)) + 1, seen = 0;
    for (uint32_t i = 0; i < HIST_FINE + HIST_COARSE; i++) {
        seen += h->b[i];
        if (seen >= want)
            return i < HIST_FINE ? i + 0.5 : HIST_FINE + (i - HIST_FINE) * 100.0 + 50.0;
    }
    return (double)h->max_ns / 1000.0;
}

static void hist_json(FILE *f, const char *name, const hist_t *h)
{
    fprintf(f,
            "\"%s\": {\"n\": %" PRIu64 ", \"mean_us\": %.1f, \"p50_us\": %.1f, \"p90_us\": %.1f, "
            "\"p99_us\": %.1f, \"p999_us\": %.1f, \"max_us\": %.1f}",
            name, h->n, h->n ? (double)h->sum_ns / (double)h->n / 1000.0 : -1, hist_q(h, 0.5),
            hist_q(h, 0.9), hist_q(h, 0.99), hist_q(h, 0.999), (double)h->max_ns / 1000.0);
}

static long rss_kb(int pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6))
            kb = strtol(line + 6, NULL, 10);
    fclose(f);
    return kb;
}

/* User + system CPU seconds of a process so far (/proc/PID/stat), or -1. */
static double cpu_s(int pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* comm may contain spaces */
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench_http_client: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

/* ---- connections and plain requests ---- */

static int conn_open(int port, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (rcvbuf)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
        die("connect 127.0.0.1:%d: %s", port, strerror(errno));
    return fd;
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            die("write: %s", strerror(errno));
        p += w;
        n -= (size_t)w;
    }
}

typedef struct conn {
    int fd, port;
    char *buf; /* the last answer: headers and body */
    size_t cap, len, body_off, body_len;
    int status;
} conn_t;

static void conn_init(conn_t *c, int port)
{
    memset(c, 0, sizeof *c);
    c->port = port;
    c->fd = conn_open(port, 0);
    c->cap = 1 << 16;
    c->buf = malloc(c->cap);
    if (!c->buf)
        die("out of memory");
}

/* One request, the whole answer read (Content-Length framing; spiked and the bare server
 * always send it for non-stream answers). Returns the status. */
static int request(conn_t *c, const char *method, const char *path, const char *body)
{
    char head[1024];
    size_t blen = body ? strlen(body) : 0;
    int hn;
    if (body)
        hn = snprintf(head, sizeof head,
                      "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                      "Content-Length: %zu\r\n\r\n",
                      method, path, blen);
    else
        hn = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", method,
                      path);
    write_all(c->fd, head, (size_t)hn);
    if (blen)
        write_all(c->fd, body, blen);
    c->len = 0;
    size_t need = SIZE_MAX;
    for (;;) {
        if (c->len == c->cap) {
            c->cap *= 2;
            c->buf = realloc(c->buf, c->cap);
            if (!c->buf)
                die("out of memory");
        }
        ssize_t r = read(c->fd, c->buf + c->len, c->cap - c->len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        c->len += (size_t)r;
        c->buf[c->len] = '\0';
        if (need == SIZE_MAX) {
            char *e = strstr(c->buf, "\r\n\r\n");
            if (!e)
                continue;
            c->body_off = (size_t)(e + 4 - c->buf);
            c->status = atoi(c->buf + 9);
            char *cl = strcasestr(c->buf, "\r\nContent-Length:");
            if (c->status == 204 || c->status == 304)
                c->body_len = 0;
            else if (!cl || cl > e)
                die("answer without Content-Length: %.200s", c->buf);
            else
                c->body_len = strtoul(cl + 17, NULL, 10);
            need = c->body_off + c->body_len;
        }
        if (c->len >= need)
            break;
    }
    if (c->len > need)
        die("unexpected bytes after an answer");
    return c->status;
}

/* Integer after "key": in the body of the last answer, or -1. */
static long long body_int(const conn_t *c, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(c->buf + c->body_off, pat);
    return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

/* Number of ids in every "ids":[...] of the last answer. */
static uint64_t count_ids(const conn_t *c)
{
    uint64_t n = 0;
    const char *p = c->buf + c->body_off;
    while ((p = strstr(p, "\"ids\":["))) {
        p += 7;
        if (*p == ']')
            continue;
        n++;
        for (; *p && *p != ']'; p++)
            n += *p == ',';
    }
    return n;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("%s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (!s || fread(s, 1, (size_t)n, f) != (size_t)n)
        die("%s: read failed", path);
    s[n] = '\0';
    fclose(f);
    return s;
}

static char *replace_name(const char *tmpl, const char *name)
{
    const char *at = strstr(tmpl, "@NAME@");
    if (!at)
        die("body template without @NAME@");
    size_t a = (size_t)(at - tmpl), nl = strlen(name), rest = strlen(at + 6);
    char *s = malloc(a + nl + rest + 1);
    memcpy(s, tmpl, a);
    memcpy(s + a, name, nl);
    memcpy(s + a + nl, at + 6, rest + 1);
    return s;
}

/* ---- options ---- */

typedef struct opts {
    int port, pid, subs, stuck, steps;
    const char *method, *path, *body, *session, *json;
    double seconds, rate;
    long n, warmup;
} opts_t;

static FILE *out_open(const opts_t *o)
{
    if (!o->json)
        return stdout;
    FILE *f = fopen(o->json, "w");
    if (!f)
        die("%s: %s", o->json, strerror(errno));
    return f;
}

/* ---- rtt ---- */

static int mode_rtt(const opts_t *o)
{
    conn_t c;
    conn_init(&c, o->port);
    hist_t h;
    hist_init(&h);
    uint64_t errors = 0, ids = 0, ok = 0;
    long long last_to = -1, step_gaps = 0;
    for (long i = 0; i < o->warmup; i++)
        request(&c, o->method, o->path, o->body);
    uint64_t t0 = now_ns(), end = t0 + (uint64_t)(o->seconds * 1e9);
    for (long i = 0; o->n ? i < o->n : now_ns() < end; i++) {
        uint64_t a = now_ns();
        int st = request(&c, o->method, o->path, o->body);
        uint64_t b = now_ns();
        if (st < 0) {
            close(c.fd);
            c.fd = conn_open(o->port, 0);
            errors++;
            continue;
        }
        if (st < 200 || st > 299) {
            errors++;
            if (errors < 5)
                fprintf(stderr, "status %d: %.300s\n", st, c.buf + c.body_off);
            continue;
        }
        hist_add(&h, b - a);
        ok++;
        ids += count_ids(&c);
        long long to = body_int(&c, "to_step"), from = body_int(&c, "from_step");
        if (to >= 0) {
            step_gaps += last_to >= 0 && from != last_to;
            last_to = to;
        }
    }
    double secs = (double)(now_ns() - t0) / 1e9;
    FILE *f = out_open(o);
    fprintf(f, "{\"mode\": \"rtt\", \"method\": \"%s\", \"path\": \"%s\", \"seconds\": %.3f, "
               "\"requests\": %" PRIu64 ", \"errors\": %" PRIu64 ", \"rps\": %.1f, "
               "\"spike_ids\": %" PRIu64 ", \"step_gaps\": %lld, ",
            o->method, o->path, secs, ok, errors, (double)ok / secs, ids, step_gaps);
    hist_json(f, "rtt", &h);
    fprintf(f, "}\n");
    if (f != stdout)
        fclose(f);
    close(c.fd);
    free(c.buf);
    free(h.b);
    return errors || step_gaps ? 1 : 0;
}

/* ---- SSE subscribers ---- */

enum { S_HEAD, S_SIZE, S_DATA, S_CRLF, S_RAW, S_END };

typedef struct sub {
    int fd, stuck, state, chunked, ok;
    char head[4096];
    size_t head_len;
    uint64_t chunk_left;
    char size_line[32];
    size_t size_len;
    char line[256]; /* the first bytes of the current line */
    size_t line_len;
    long long cur_id, cur_from;
    char cur_event[32];
    long long hello_step, last_id, first_id;
    uint64_t batches, lost, dropped_events, dropped_count, bytes, progress;
} sub_t;

typedef struct fan {
    const opts_t *o;
    sub_t *subs;
    int n;
    hist_t lat;
    _Atomic uint64_t *t_send; /* [k]: when the k-th step request was sent (1-based) */
    uint64_t cap;
    _Atomic long long base; /* the session's step before the first request; -1 unknown */
    _Atomic uint64_t sent;
    _Atomic int stop_stepper, stepper_done;
    hist_t step_rtt;
    uint64_t step_errors, late;
    double step_seconds;
    uint64_t t_arrival;
} fan_t;

static void sse_event(fan_t *F, sub_t *s)
{
    if (!strcmp(s->cur_event, "spikes") && s->cur_id >= 0) {
        /* A batch covers steps [from_step, id): steps missing between two batches are lost
         * (a batch per step when stepped one step per request). */
        if (s->first_id < 0)
            s->first_id = s->cur_id;
        else if (s->cur_from > s->last_id)
            s->lost += (uint64_t)(s->cur_from - s->last_id);
        if (s->cur_id > s->last_id)
            s->last_id = s->cur_id;
        s->batches++;
        long long base = F->base;
        if (base >= 0 && F->t_send) {
            long long k = s->cur_id - base;
            uint64_t sent = F->sent;
            if (k >= 1 && (uint64_t)k <= sent && (uint64_t)k < F->cap) {
                uint64_t ts = F->t_send[k];
                if (ts && F->t_arrival > ts)
                    hist_add(&F->lat, F->t_arrival - ts);
            }
        }
    } else if (!strcmp(s->cur_event, "dropped")) {
        s->dropped_events++;
    } else if (!strcmp(s->cur_event, "progress")) {
        s->progress++;
    }
    s->cur_id = s->cur_from = -1;
    s->cur_event[0] = '\0';
}

static void sse_line(fan_t *F, sub_t *s)
{
    char *l = s->line;
    size_t n = s->line_len < sizeof s->line ? s->line_len : sizeof s->line - 1;
    l[n] = '\0';
    if (n && l[n - 1] == '\r')
        l[--n] = '\0';
    if (!n) {
        sse_event(F, s);
    } else if (!strncmp(l, "id: ", 4)) {
        s->cur_id = strtoll(l + 4, NULL, 10);
    } else if (!strncmp(l, "event: ", 7)) {
        snprintf(s->cur_event, sizeof s->cur_event, "%s", l + 7);
    } else if (!strncmp(l, "data: ", 6)) {
        if (!strcmp(s->cur_event, "hello")) {
            const char *p = strstr(l, "\"step\":");
            s->hello_step = p ? strtoll(p + 7, NULL, 10) : -1;
            s->ok = 1;
        } else if (!strcmp(s->cur_event, "spikes")) {
            const char *p = strstr(l, "\"from_step\":");
            s->cur_from = p ? strtoll(p + 12, NULL, 10) : -1;
        } else if (!strcmp(s->cur_event, "dropped")) {
            const char *p = strstr(l, "\"count\":");
            if (p)
                s->dropped_count += strtoull(p + 8, NULL, 10);
        }
    }
    s->line_len = 0;
}

static void sse_bytes(fan_t *F, sub_t *s, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n') {
            sse_line(F, s);
            continue;
        }
        if (s->line_len < sizeof s->line - 1)
            s->line[s->line_len] = p[i];
        s->line_len++;
    }
}

/* HTTP framing of a stream: headers, then chunks (or raw bytes for a close-delimited body). */
static void sub_bytes(fan_t *F, sub_t *s, const char *p, size_t n)
{
    s->bytes += n;
    while (n) {
        switch (s->state) {
        case S_HEAD: {
            size_t k = sizeof s->head - 1 - s->head_len;
            k = k < n ? k : n;
            memcpy(s->head + s->head_len, p, k);
            s->head_len += k;
            s->head[s->head_len] = '\0';
            char *e = strstr(s->head, "\r\n\r\n");
            if (!e) {
                if (s->head_len == sizeof s->head - 1)
                    die("stream headers too long");
                return;
            }
            if (strncmp(s->head, "HTTP/1.1 200", 12) && strncmp(s->head, "HTTP/1.0 200", 12))
                die("subscribe: %.200s", s->head);
            s->chunked = strcasestr(s->head, "transfer-encoding: chunked") != NULL;
            size_t used = (size_t)(e + 4 - s->head) - (s->head_len - k);
            p += used;
            n -= used;
            s->state = s->chunked ? S_SIZE : S_RAW;
            break;
        }
        case S_SIZE:
            if (*p == '\n') {
                s->size_line[s->size_len < sizeof s->size_line ? s->size_len : 0] = '\0';
                s->chunk_left = strtoull(s->size_line, NULL, 16);
                s->size_len = 0;
                s->state = s->chunk_left ? S_DATA : S_END;
            } else if (s->size_len < sizeof s->size_line - 1) {
                s->size_line[s->size_len++] = *p;
            }
            p++;
            n--;
            break;
        case S_DATA: {
            size_t k = s->chunk_left < n ? (size_t)s->chunk_left : n;
            sse_bytes(F, s, p, k);
            s->chunk_left -= k;
            p += k;
            n -= k;
            if (!s->chunk_left)
                s->state = S_CRLF;
            break;
        }
        case S_CRLF:
            if (*p == '\n')
                s->state = S_SIZE;
            p++;
            n--;
            break;
        case S_RAW:
            sse_bytes(F, s, p, n);
            return;
        default:
            return;
        }
    }
}

static void *stepper(void *arg)
{
    fan_t *F = arg;
    const opts_t *o = F->o;
    conn_t c;
    conn_init(&c, o->port);
    char path[256];
    snprintf(path, sizeof path, "/v1/sessions/%s/step", o->session);
    const char *body = o->body ? o->body : "{\"steps\":1}";
    uint64_t period = (uint64_t)(1e9 / o->rate), t0 = now_ns() + 20000000u;
    uint64_t end = t0 + (uint64_t)(o->seconds * 1e9);
    for (uint64_t k = 1; k < F->cap && !F->stop_stepper; k++) {
        uint64_t due = t0 + (k - 1) * period;
        uint64_t now = now_ns();
        if (due >= end || now >= end)
            break; /* S seconds of wall time, however many steps that was */
        if (now < due) {
            struct timespec ts = {(time_t)(due / 1000000000u), (long)(due % 1000000000u)};
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
                ;
        } else if (now > due + period) {
            F->late++;
        }
        uint64_t a = now_ns();
        F->t_send[k] = a;
        F->sent = k;
        int st = request(&c, "POST", path, body);
        uint64_t b = now_ns();
        if (st != 200) {
            F->step_errors++;
            if (F->step_errors < 5)
                fprintf(stderr, "step: status %d %.200s\n", st, st > 0 ? c.buf + c.body_off : "");
            if (st < 0)
                break;
            continue;
        }
        hist_add(&F->step_rtt, b - a);
        if (k == 1)
            F->base = body_int(&c, "from_step");
    }
    F->step_seconds = (double)(now_ns() - t0) / 1e9;
    close(c.fd);
    free(c.buf);
    F->stepper_done = 1;
    return NULL;
}

static void subscribe(fan_t *F, sub_t *s, int stuck)
{
    const opts_t *o = F->o;
    memset(s, 0, sizeof *s);
    s->stuck = stuck;
    s->fd = conn_open(o->port, stuck ? 4096 : 0);
    s->cur_id = s->cur_from = s->last_id = s->first_id = s->hello_step = -1;
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET /v1/sessions/%s/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Accept: text/event-stream\r\n\r\n",
                     o->session);
    write_all(s->fd, req, (size_t)n);
    fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK);
}

/* Reads what is there on every ready subscriber; returns when timeout_ms passed. */
static void pump_subs(fan_t *F, int ep, int timeout_ms, char *buf, size_t cap)
{
    struct epoll_event ev[256];
    int k = epoll_wait(ep, ev, 256, timeout_ms);
    F->t_arrival = now_ns();
    for (int i = 0; i < k; i++) {
        sub_t *s = ev[i].data.ptr;
        for (;;) {
            ssize_t r = read(s->fd, buf, cap);
            if (r > 0) {
                sub_bytes(F, s, buf, (size_t)r);
                if ((size_t)r < cap)
                    break;
                continue;
            }
            if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
                s->state = S_END;
            }
            break;
        }
    }
}

static int mode_fanout(const opts_t *o)
{
    fan_t F;
    memset(&F, 0, sizeof F);
    F.o = o;
    F.n = o->subs + o->stuck;
    F.subs = calloc((size_t)F.n + 1, sizeof *F.subs);
    hist_init(&F.lat);
    hist_init(&F.step_rtt);
    F.base = -1;
    F.cap = o->rate > 0 ? (uint64_t)(o->rate * o->seconds * 1.2) + 1000 : 0;

    if (F.cap && !(F.t_send = calloc(F.cap, sizeof *F.t_send)))
        die("out of memory");
    int ep = epoll_create1(EPOLL_CLOEXEC);
    size_t cap = 1 << 16;
    char *buf = malloc(cap);
    /* Stuck subscribers first: they never read after this. */
    for (int i = 0; i < F.n; i++) {
        sub_t *s = &F.subs[i];
        subscribe(&F, s, i < o->stuck);
        if (!s->stuck) {
            struct epoll_event e = {.events = EPOLLIN, .data.ptr = s};
            epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &e);
        }
        if (i % 50 == 49)
            pump_subs(&F, ep, 0, buf, cap);
    }
    uint64_t t_wait = now_ns();
    for (;;) {
        int ready = 0;
        for (int i = o->stuck; i < F.n; i++)
            ready += F.subs[i].ok;
        if (ready == o->subs)
            break;
        if (now_ns() - t_wait > 10000000000ull)
            die("only %d of %d subscribers got their hello in 10 s", ready, o->subs);
        pump_subs(&F, ep, 10, buf, cap);
    }
    uint64_t t_subscribed = now_ns();
    long rss0 = o->pid ? rss_kb(o->pid) : -1;
    char rss_series[8192];
    size_t rl = 0;
    rss_series[0] = '\0';
    pthread_t th;
    int stepping = o->rate > 0;
    if (stepping && pthread_create(&th, NULL, stepper, &F))
        die("pthread_create failed");
    uint64_t t0 = now_ns(), next_rss = t0, end = t0 + (uint64_t)(o->seconds * 1e9);
    long rss_max = rss0;
    double cpu0 = o->pid ? cpu_s(o->pid) : -1, self0 = cpu_s(getpid());
    /* Keep reading while the stepper runs (its last request may end after S seconds). */
    while (now_ns() < end + 20000000u || (stepping && !F.stepper_done)) {
        pump_subs(&F, ep, 5, buf, cap);
        if (o->pid && now_ns() >= next_rss) {
            long kb = rss_kb(o->pid);
            rss_max = kb > rss_max ? kb : rss_max;
            if (rl < sizeof rss_series - 32)
                rl += (size_t)snprintf(rss_series + rl, sizeof rss_series - rl, "%s[%.1f, %ld]",
                                       rl ? ", " : "", (double)(now_ns() - t0) / 1e9, kb);
            next_rss += 1000000000u;
        }
    }
    if (stepping)
        pthread_join(th, NULL);
    /* Drain: up to 2 s for the last batches. */
    long long last = F.base >= 0 ? F.base + (long long)F.sent : -1;
    uint64_t t_drain = now_ns();
    while (now_ns() - t_drain < 2000000000u) {
        int behind = 0;
        for (int i = o->stuck; i < F.n; i++)
            behind += last >= 0 && F.subs[i].last_id < last;
        if (!behind && stepping)
            break;
        pump_subs(&F, ep, 10, buf, cap);
    }
    double run_s = (double)(now_ns() - t0) / 1e9;
    double cpu_server = o->pid ? (cpu_s(o->pid) - cpu0) / run_s : -1;
    double cpu_client = (cpu_s(getpid()) - self0) / run_s;
    long rss_end = o->pid ? rss_kb(o->pid) : -1;
    uint64_t batches = 0, lost = 0, dropped = 0, dropped_events = 0, bytes = 0, short_subs = 0;
    for (int i = o->stuck; i < F.n; i++) {
        sub_t *s = &F.subs[i];
        /* Missing ids: inside the received range (gaps), plus any after the last received
         * one up to the last step sent. */
        uint64_t tail = last >= 0 && s->last_id < last ? (uint64_t)(last - s->last_id) : 0;
        uint64_t head = F.base >= 0 && s->first_id > F.base + 1
                            ? (uint64_t)(s->first_id - F.base - 1)
                            : 0;
        lost += s->lost + tail + (stepping ? head : 0);
        short_subs += tail > 0;
        batches += s->batches;
        dropped += s->dropped_count;
        dropped_events += s->dropped_events;
        bytes += s->bytes;
    }
    uint64_t stuck_bytes = 0;
    for (int i = 0; i < o->stuck; i++)
        stuck_bytes += F.subs[i].bytes;
    FILE *f = out_open(o);
    fprintf(f,
            "{\"mode\": \"fanout\", \"subs\": %d, \"stuck\": %d, \"rate\": %.1f, "
            "\"seconds\": %.3f, \"subscribe_seconds\": %.3f, \"steps_sent\": %" PRIu64 ", "
            "\"step_errors\": %" PRIu64 ", \"late_sends\": %" PRIu64 ", "
            "\"achieved_rate\": %.1f, \"batches_received\": %" PRIu64 ", "
            "\"batches_expected\": %" PRIu64 ", \"lost\": %" PRIu64 ", "
            "\"subs_short\": %" PRIu64 ", \"dropped_reported\": %" PRIu64 ", "
            "\"dropped_events\": %" PRIu64 ", \"bytes\": %" PRIu64 ", "
            "\"stuck_bytes_read\": %" PRIu64 ", \"rss_kb_start\": %ld, \"rss_kb_max\": %ld, "
            "\"rss_kb_end\": %ld, \"rss_series\": [%s], \"server_cpu\": %.3f, "
            "\"client_cpu\": %.3f, ",
            o->subs, o->stuck, o->rate, o->seconds,
            (double)(t0 - t_subscribed) / 1e9 +
                (double)(t_subscribed - t_wait) / 1e9,
            (uint64_t)F.sent, F.step_errors, F.late,
            F.step_seconds > 0 ? (double)F.sent / F.step_seconds : 0, batches,
            stepping ? (uint64_t)F.sent * (uint64_t)o->subs : 0, lost, short_subs, dropped,
            dropped_events, bytes, stuck_bytes, rss0, rss_max, rss_end, rss_series, cpu_server,
            cpu_client);
    hist_json(f, "latency", &F.lat);
    fprintf(f, ", ");
    hist_json(f, "step_rtt", &F.step_rtt);
    fprintf(f, "}\n");
    if (f != stdout)
        fclose(f);
    for (int i = 0; i < F.n; i++)
        close(F.subs[i].fd);
    close(ep);
    free(buf);
    free(F.subs);
    free((void *)F.t_send);
    free(F.lat.b);
    free(F.step_rtt.b);
    return F.step_errors ? 1 : 0;
}

/* ---- churn ---- */

static int mode_churn(const opts_t *o)
{
    char *tmpl = read_file(o->body);
    conn_t c;
    conn_init(&c, o->port);
    char step_body[64], path[256], name[64];
    snprintf(step_body, sizeof step_body, "{\"steps\":%d}", o->steps);
    uint64_t t0 = now_ns(), end = t0 + (uint64_t)(o->seconds * 1e9), next = t0;
    uint64_t iters = 0, errors = 0;
    long base = -1, mx = -1;
    char series[16384];
    size_t sl = 0;
    series[0] = '\0';
    hist_t h;
    hist_init(&h);
    while (now_ns() < end) {
        snprintf(name, sizeof name, "churn-%" PRIu64, iters);
        char *body = replace_name(tmpl, name);
        uint64_t a = now_ns();
        int st1 = request(&c, "POST", "/v1/sessions", body);
        snprintf(path, sizeof path, "/v1/sessions/%s/step", name);
        int st2 = request(&c, "POST", path, step_body);
        snprintf(path, sizeof path, "/v1/sessions/%s", name);
        int st3 = request(&c, "DELETE", path, NULL);
        hist_add(&h, now_ns() - a);
        free(body);
        if (st1 != 201 || st2 != 200 || (st3 != 200 && st3 != 204)) {
            errors++;
            if (errors < 5)
                fprintf(stderr, "churn: %d %d %d\n", st1, st2, st3);
        }
        iters++;
        uint64_t now = now_ns();
        if (now >= next) {
            long kb = rss_kb(o->pid);
            if (base < 0 && now - t0 >= (uint64_t)(o->seconds * 1e8))
                base = kb; /* baseline: after the first 10% of the run */
            mx = kb > mx ? kb : mx;
            if (sl < sizeof series - 40)
                sl += (size_t)snprintf(series + sl, sizeof series - sl,
                                       "%s[%.1f, %" PRIu64 ", %ld]", sl ? ", " : "",
                                       (double)(now - t0) / 1e9, iters, kb);
            next += 1000000000u;
        }
    }
    usleep(500000);
    long fin = rss_kb(o->pid);
    FILE *f = out_open(o);
    fprintf(f,
            "{\"mode\": \"churn\", \"seconds\": %.1f, \"iterations\": %" PRIu64
            ", \"errors\": %" PRIu64 ", \"rss_kb_baseline\": %ld, \"rss_kb_max\": %ld, "
            "\"rss_kb_end\": %ld, \"series\": [%s], ",
            (double)(now_ns() - t0) / 1e9, iters, errors, base, mx, fin, series);
    hist_json(f, "iteration", &h);
    fprintf(f, "}\n");
    if (f != stdout)
        fclose(f);
    free(tmpl);
    close(c.fd);
    free(c.buf);
    free(h.b);
    return errors ? 1 : 0;
}

/* ---- main ---- */

int main(int argc, char **argv)
{
    if (argc < 2)
        die("usage: bench_http_client rtt|fanout|churn [options] (see the top of the source)");
    opts_t o = {.method = "GET", .seconds = 10, .rate = 1000, .steps = 100};
    const char *body_file = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            die("%s needs a value", a);
        i++;
        if (!strcmp(a, "--port"))
            o.port = atoi(v);
        else if (!strcmp(a, "--pid"))
            o.pid = atoi(v);
        else if (!strcmp(a, "--subs"))
            o.subs = atoi(v);
        else if (!strcmp(a, "--stuck"))
            o.stuck = atoi(v);
        else if (!strcmp(a, "--steps"))
            o.steps = atoi(v);
        else if (!strcmp(a, "--method"))
            o.method = v;
        else if (!strcmp(a, "--path"))
            o.path = v;
        else if (!strcmp(a, "--body"))
            o.body = v;
        else if (!strcmp(a, "--body-file"))
            body_file = v;
        else if (!strcmp(a, "--session"))
            o.session = v;
        else if (!strcmp(a, "--json"))
            o.json = v;
        else if (!strcmp(a, "--seconds"))
            o.seconds = atof(v);
        else if (!strcmp(a, "--rate"))
            o.rate = atof(v);
        else if (!strcmp(a, "--n"))
            o.n = atol(v);
        else if (!strcmp(a, "--warmup"))
            o.warmup = atol(v);
        else
            die("unknown option %s", a);
    }
    if (!o.port)
        die("--port is required");
    if (!strcmp(argv[1], "rtt")) {
        char *owned = body_file ? read_file(body_file) : NULL;
        if (owned)
            o.body = owned;
        if (!o.path)
            die("rtt needs --path");
        int rc = mode_rtt(&o);
        free(owned);
        return rc;
    }
    if (!strcmp(argv[1], "fanout")) {
        if (!o.session)
            die("fanout needs --session");
        return mode_fanout(&o);
    }
    if (!strcmp(argv[1], "churn")) {
        if (!body_file || !o.pid)
            die("churn needs --body-file and --pid");
        o.body = body_file;
        return mode_churn(&o);
    }
    die("unknown mode %s", argv[1]);
    return 2;
}
