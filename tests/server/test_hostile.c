/* test_hostile.c: the hostile-input corpus (tests/server/hostile/, format in its README)
 * against a real server over raw sockets. Each request gets its documented answer (the
 * contract's JSON error with that status, code and field path; or libmicrohttpd's own
 * answer to malformed HTTP; or, for a request that never completes, the connection closed
 * by --request-timeout); requests that hang, dribble or never end are open at the same time
 * as the others are answered; the server stays up, and the session that existed before
 * (its step, spikes, state and spike history) is unchanged afterwards. Run under ASan, the
 * server's clean exit also checks that nothing leaked.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "helpers.h"

TestSuite(hostile, .timeout = 240);

#define TOKEN          "hostile-token"
#define AUTH           "Authorization: Bearer " TOKEN
#define REQ_TMO_S      2
#define MAX_CASES      400
#define CLOSE_SLACK_MS 4000 /* the sweep runs every 500 ms at worst; loaded CI machines */

typedef struct hcase {
    char name[128];
    char expect[200];
    int slow_ms; /* send one byte every slow_ms (0 = all at once) */
    char *bytes; /* the request on the wire */
    size_t len;
    /* expectations */
    int closed; /* the server must close without answering */
    int mhd;    /* libmicrohttpd's own answer (not JSON) */
    int status;
    char code[64], path[128];
    /* a connection that stays open (closed cases) */
    int fd;
    size_t sent;
    long long t0, next_ms, closed_ms;
} hcase_t;

/* ---- reading a case file ---- */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    cr_assert_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    b[n] = '\0';
    *len = (size_t)n;
    return b;
}

/* Appends n bytes to a growing buffer. */
static void put(char **buf, size_t *len, size_t *cap, const char *p, size_t n)
{
    if (*len + n + 1 > *cap) {
        while (*len + n + 1 > *cap)
            *cap = *cap ? *cap * 2 : 256;
        *buf = realloc(*buf, *cap);
        cr_assert_not_null(*buf);
    }
    memcpy(*buf + *len, p, n);
    *len += n;
    (*buf)[*len] = '\0';
}

/* Expands {{REPEAT:n:text}} (innermost first), then the escapes \r \n \t \0 \\ \xHH. */
static char *expand(const char *src, size_t n, size_t *out_len)
{
    char *s = malloc(n + 1);
    memcpy(s, src, n);
    s[n] = '\0';
    size_t slen = n;
    for (;;) {
        char *open = NULL;
        for (char *p = s; (p = strstr(p, "{{REPEAT:")); p++)
            open = p;
        if (!open)
            break;
        char *close = strstr(open, "}}");
        cr_assert_not_null(close, "unterminated REPEAT");
        char *colon = strchr(open + 9, ':');
        cr_assert(colon && colon < close, "REPEAT:n:text");
        long times = atol(open + 9);
        size_t tl = (size_t)(close - colon - 1);
        char *buf = NULL;
        size_t bl = 0, bc = 0;
        put(&buf, &bl, &bc, s, (size_t)(open - s));
        for (long k = 0; k < times; k++)
            put(&buf, &bl, &bc, colon + 1, tl);
        put(&buf, &bl, &bc, close + 2, slen - (size_t)(close + 2 - s));
        free(s);
        s = buf;
        slen = bl;
    }
    char *out = malloc(slen + 1);
    size_t k = 0;
    for (size_t i = 0; i < slen; i++) {
        if (s[i] != '\\' || i + 1 == slen) {
            out[k++] = s[i];
            continue;
        }
        char c = s[++i];
        if (c == 'r')
            out[k++] = '\r';
        else if (c == 'n')
            out[k++] = '\n';
        else if (c == 't')
            out[k++] = '\t';
        else if (c == '0')
            out[k++] = '\0';
        else if (c == 'x' && i + 2 < slen) {
            char hex[3] = {s[i + 1], s[i + 2], 0};
            out[k++] = (char)strtol(hex, NULL, 16);
            i += 2;
        } else
            out[k++] = c; /* \\ and anything else: the character itself */
    }
    free(s);
    *out_len = k;
    return out;
}

/* Builds the wire bytes of the request part (see the README): head lines joined by CRLF,
 * {{AUTH}} and {{LEN}} replaced, the body as written. */
static void build(hcase_t *c, const char *req, size_t n)
{
    const char *split = NULL;
    for (size_t i = 0; i + 1 < n; i++)
        if (req[i] == '\n' && req[i + 1] == '\n') {
            split = req + i;
            break;
        }
    size_t blen = 0;
    char *body = split ? expand(split + 2, n - (size_t)(split + 2 - req), &blen) : NULL;
    char *out = NULL;
    size_t len = 0, cap = 0;
    const char *p = req, *end = split ? split : req + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        char line[128];
        if (le - p == 8 && !memcmp(p, "{{AUTH}}", 8)) {
            put(&out, &len, &cap, AUTH, strlen(AUTH));
        } else if (le - p == 7 && !memcmp(p, "{{LEN}}", 7)) {
            snprintf(line, sizeof line, "Content-Length: %zu", blen);
            put(&out, &len, &cap, line, strlen(line));
        } else {
            size_t el = 0;
            char *e = expand(p, (size_t)(le - p), &el);
            put(&out, &len, &cap, e, el);
            free(e);
        }
        if (nl || split) /* a line that ended in the file ends with CRLF on the wire */
            put(&out, &len, &cap, "\r\n", 2);
        p = nl ? nl + 1 : end;
    }
    if (split) {
        put(&out, &len, &cap, "\r\n", 2); /* the empty line ending the head */
        put(&out, &len, &cap, body, blen);
    }
    free(body);
    c->bytes = out;
    c->len = len;
}

static void load_case(hcase_t *c, const char *dir, const char *file)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    size_t n;
    char *text = slurp(path, &n); /* byte-exact: a final newline is part of the body */
    memset(c, 0, sizeof *c);
    c->fd = -1;
    snprintf(c->name, sizeof c->name, "%s", file);
    char *p = text;
    for (;;) {
        char *nl = strchr(p, '\n');
        cr_assert_not_null(nl, "%s: no --- line", file);
        *nl = '\0';
        if (!strcmp(p, "---")) {
            p = nl + 1;
            break;
        }
        if (!strncmp(p, "expect: ", 8))
            snprintf(c->expect, sizeof c->expect, "%s", p + 8);
        else if (!strncmp(p, "send: slow ", 11))
            c->slow_ms = atoi(p + 11);
        else
            cr_assert(p[0] == '#' || !p[0], "%s: unknown directive %s", file, p);
        p = nl + 1;
    }
    build(c, p, n - (size_t)(p - text));
    free(text);
    char a[64] = "", b[64] = "", d[128] = "";
    int k = sscanf(c->expect, "%63s %63s %127s", a, b, d);
    cr_assert_geq(k, 1, "%s: no expectation", file);
    if (!strcmp(a, "closed")) {
        c->closed = 1;
    } else if (!strcmp(a, "mhd")) {
        c->mhd = 1;
        c->status = atoi(b);
    } else {
        c->status = atoi(a);
        if (k >= 2)
            snprintf(c->code, sizeof c->code, "%s", b);
        if (k >= 3)
            snprintf(c->path, sizeof c->path, "%s", d);
    }
    cr_assert(c->closed || c->status >= 100, "%s: bad expectation '%s'", file, c->expect);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_all(hcase_t *cases)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s/tests/server/hostile", SK_SOURCE_DIR);
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "%s", dir);
    char *names[MAX_CASES];
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t l = strlen(e->d_name);
        if (l > 4 && !strcmp(e->d_name + l - 4, ".req")) {
            cr_assert_lt(n, MAX_CASES);
            names[n++] = strdup(e->d_name);
        }
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], by_name);
    for (int i = 0; i < n; i++) {
        load_case(&cases[i], dir, names[i]);
        free(names[i]);
    }
    return n;
}

/* ---- the server and its pre-existing session ---- */

static json_t *authed(int port, const char *method, const char *path, const char *body, int want)
{
    int st = 0;
    json_t *j = t_req_h(port, method, path, AUTH "\r\n", body, &st);
    cr_assert_eq(st, want, "%s %s: %d", method, path, st);
    return j;
}

/* Everything observable about session "base", as one string (malloc). */
static char *snapshot(int port)
{
    hc_resp_t r;
    char *out = NULL;
    size_t len = 0, cap = 0;
    const char *paths[] = {"/v1/sessions/base", "/v1/sessions/base/state",
                           "/v1/sessions/base/spikes", "/v1/sessions/base/recordings/0",
                           "/v1/sessions"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        cr_assert_eq(hc_request(port, "GET", paths[i], AUTH "\r\n", NULL, &r), 0);
        cr_assert_eq(r.status, 200, "%s: %d %s", paths[i], r.status, r.body);
        put(&out, &len, &cap, r.body, r.len);
        put(&out, &len, &cap, "\n", 1);
        hc_resp_free(&r);
    }
    return out;
}

/* ---- sending and checking ---- */

static int open_conn(int port)
{
    hc_conn_t c;
    cr_assert_eq(hc_connect(&c, port), 0);
    return c.fd;
}

/* Sends bytes; returns -1 when the server has closed the connection already. */
static int send_some(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* 1 when the peer closed (EOF or reset), 0 when still open, -1 when it sent data. */
static int peer_closed(int fd)
{
    struct pollfd pf = {fd, POLLIN, 0};
    if (poll(&pf, 1, 0) <= 0)
        return 0;
    char b[256];
    ssize_t n = recv(fd, b, sizeof b, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && (errno == ECONNRESET || errno == EPIPE)))
        return 1;
    return n > 0 ? -1 : 0;
}

static void check_answer(const hcase_t *c, const hc_resp_t *r)
{
    cr_expect_eq(r->status, c->status, "%s: status %d, expected %d: %.300s", c->name, r->status,
                 c->status, r->body);
    if (c->mhd || r->status < 400)
        return;
    json_error_t je;
    json_t *j = json_loadb(r->body, r->len, 0, &je);
    cr_assert_not_null(j, "%s: the error is not JSON: %.300s", c->name, r->body);
    json_t *e = json_object_get(j, "error");
    cr_expect_eq(json_integer_value(json_object_get(e, "status")), r->status, "%s", c->name);
    cr_expect(json_is_string(json_object_get(e, "message")), "%s", c->name);
    const char *code = json_string_value(json_object_get(e, "code"));
    const char *path = json_string_value(json_object_get(e, "path"));
    cr_expect(code && path, "%s: %s", c->name, r->body);
    if (c->code[0] && code)
        cr_expect_str_eq(code, c->code, "%s: %s", c->name, r->body);
    if (c->path[0] && path)
        cr_expect_str_eq(path, c->path, "%s: %s", c->name, r->body);
    json_decref(j);
}

/* An immediate case: one connection, the whole request, one answer. */
static void run_now(int port, const hcase_t *c)
{
    hc_conn_t *k = malloc(sizeof *k);
    cr_assert_eq(hc_connect(k, port), 0);
    k->head = !strncmp(c->bytes, "HEAD ", 5);
    int sent = send_some(k->fd, c->bytes, c->len);
    hc_resp_t r;
    int rc = hc_recv(k, &r, 10000);
    cr_assert_eq(rc, 0, "%s: no answer (sent %s), expected '%s'", c->name, sent ? "part" : "all",
                 c->expect);
    check_answer(c, &r);
    hc_resp_free(&r);
    hc_close(k);
    free(k);
}

/* Dribbles slow cases and notices closed connections; returns how many are still open. */
static int tend_open(hcase_t *cases, int n)
{
    int open = 0;
    long long now = hc_now_ms();
    for (int i = 0; i < n; i++) {
        hcase_t *c = &cases[i];
        if (c->fd < 0)
            continue;
        int pc = peer_closed(c->fd);
        cr_assert_geq(pc, 0, "%s: answered, expected the connection closed", c->name);
        if (!pc && c->slow_ms && c->sent < c->len && now >= c->next_ms) {
            if (send_some(c->fd, c->bytes + c->sent, 1) < 0)
                pc = 1;
            else
                c->sent++;
            c->next_ms = now + c->slow_ms;
        }
        if (pc) {
            c->closed_ms = now - c->t0;
            close(c->fd);
            c->fd = -1;
            continue;
        }
        cr_assert_lt(now - c->t0, REQ_TMO_S * 1000 + CLOSE_SLACK_MS,
                     "%s: still open after %lld ms (--request-timeout %d s)", c->name, now - c->t0,
                     REQ_TMO_S);
        open++;
    }
    return open;
}

Test(hostile, corpus_gets_documented_errors_and_changes_nothing)
{
    static hcase_t cases[MAX_CASES];
    int n = load_all(cases);
    cr_assert_geq(n, 100, "the corpus has %d requests", n);
    sp_proc_t p;
    char tmo[16];
    snprintf(tmo, sizeof tmo, "%d", REQ_TMO_S);
    const char *args[] = {"--max-body-bytes",
                          "300k",
                          "--max-neurons",
                          "100000",
                          "--max-sessions",
                          "3",
                          "--request-timeout",
                          tmo,
                          "--cors-origins",
                          "http://ok.example",
                          NULL};
    const char *env[] = {"SPIKED_TOKEN=" TOKEN, NULL};
    cr_assert_eq(sp_start(&p, args, env), 0);
    const char *base =
        "{\"name\":\"base\",\"seed\":7,\"dt\":1,\"network\":{\"populations\":[{\"name\":\"lif\","
        "\"model\":\"lif\",\"size\":200}],\"projections\":[{\"source\":\"lif\",\"target\":\"lif\","
        "\"rule\":{\"kind\":\"fixed_probability\",\"p\":0.1},\"weight\":0.1,\"delay_steps\":2}],"
        "\"stimuli\":[{\"kind\":\"poisson\",\"target\":\"lif\",\"rate_hz\":60,\"weight\":1.2}],"
        "\"recorders\":[{\"population\":\"lif\",\"variables\":[\"v\",\"i\"],"
        "\"neurons\":[0,1,2,3]}]}}";
    json_decref(authed(p.port, "POST", "/v1/sessions", base, 201));
    json_decref(authed(p.port, "POST", "/v1/sessions/base/step",
                       "{\"steps\":300,\"inputs\":[{\"population\":\"lif\",\"kind\":\"spike\","
                       "\"neurons\":[1,2,3],\"offset\":400}]}",
                       200));
    char *before = snapshot(p.port);

    /* Requests that never complete go first and stay open while the others are answered. */
    int n_closed = 0;
    for (int i = 0; i < n; i++)
        if (cases[i].closed) {
            hcase_t *c = &cases[i];
            c->fd = open_conn(p.port);
            c->t0 = hc_now_ms();
            if (!c->slow_ms) {
                send_some(c->fd, c->bytes, c->len);
                c->sent = c->len;
            }
            n_closed++;
        }
    long long worst = 0;
    for (int i = 0; i < n; i++) {
        tend_open(cases, n);
        if (cases[i].closed)
            continue;
        long long t = hc_now_ms();
        run_now(p.port, &cases[i]);
        t = hc_now_ms() - t;
        worst = t > worst ? t : worst;
        if (i % 10 == 0)
            json_decref(t_ok(p.port, "GET", "/healthz", NULL, 200));
    }
    while (tend_open(cases, n))
        poll(NULL, 0, 10); /* dribbling a byte every slow_ms and waiting for the server */
    for (int i = 0; i < n; i++)
        if (cases[i].closed)
            cr_log_info("%s: closed after %lld ms", cases[i].name, cases[i].closed_ms);
    cr_log_info("%d requests, %d of them never complete; slowest answer %lld ms", n, n_closed,
                worst);
    cr_assert_geq(n_closed, 5);

    /* The server is up, and the session that was there is exactly as it was. */
    json_decref(t_ok(p.port, "GET", "/healthz", NULL, 200));
    char *after = snapshot(p.port);
    cr_assert_str_eq(after, before, "the pre-existing session changed");
    free(after);
    free(before);
    for (int i = 0; i < n; i++)
        free(cases[i].bytes);
    t_stop(&p);
}

/* Many slowloris connections at once do not keep anyone else waiting, and each is closed
 * once --request-timeout has passed since it connected. */
Test(hostile, slowloris_is_cut_without_blocking_others)
{
    sp_proc_t p;
    const char *args[] = {"--request-timeout", "2", NULL};
    t_start(&p, args);
    enum { N = 40 };
    int fd[N];
    long long t0 = hc_now_ms(), closed_at[N];
    const char *head = "GET /v1/sessions HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    for (int i = 0; i < N; i++) {
        fd[i] = open_conn(p.port);
        closed_at[i] = 0;
        cr_assert_eq(send_some(fd[i], head, strlen(head)), 0);
    }
    int open = N;
    long long worst = 0;
    while (open) {
        long long now = hc_now_ms();
        cr_assert_lt(now - t0, 2000 + CLOSE_SLACK_MS, "%d slow connections still open", open);
        for (int i = 0; i < N; i++)
            if (!closed_at[i] && (send_some(fd[i], "a", 1) < 0 || peer_closed(fd[i]))) {
                closed_at[i] = now - t0;
                open--;
            }
        long long t = hc_now_ms();
        json_decref(t_ok(p.port, "GET", "/healthz", NULL, 200)); /* others are served */
        t = hc_now_ms() - t;
        worst = t > worst ? t : worst;
        poll(NULL, 0, 100);
    }
    long long first = closed_at[0], last = closed_at[0];
    for (int i = 0; i < N; i++) {
        first = closed_at[i] < first ? closed_at[i] : first;
        last = closed_at[i] > last ? closed_at[i] : last;
        close(fd[i]);
    }
    cr_log_info("%d slowloris connections closed after %lld..%lld ms; /healthz meanwhile in "
                "at most %lld ms",
                N, first, last, worst);
    cr_assert_geq(first, 1900, "closed before the timeout");
    cr_assert_lt(worst, 1000, "a slow client delayed another one");
    t_stop(&p);
}
