/* fuzz_router.c: libFuzzer harness for the server's API layer (router, auth, CORS,
 * handlers, session operations, jobs, event streams), driven in-process through
 * srv_api_handle without sockets or libmicrohttpd, on a libuv loop run by the harness.
 *
 * Input: up to 8 requests separated by a line "~~~". Each request is
 *     METHOD SP TARGET LF          (TARGET = path[?query], raw as a client sends it)
 *     Name: value LF ...           (headers, up to an empty line)
 *     body                         (the rest, bytes as they are)
 * Every input starts from the same state: a server with small limits (4 sessions, 2000
 * neurons, 1000 steps per request, a bearer token "t" that the input may or may not send,
 * one allowed CORS origin, the dashboard's folder) holding one session "s" (a small
 * recurrent LIF network with Poisson input and a recorder). Deferred answers are awaited
 * by running the loop; event streams are read after every request and closed at the end;
 * then every session is closed and the loop drained, so each input is independent and
 * leaks show up.
 *
 * Invariants (abort() = a finding): every answer is 2xx, 4xx or 503; an error answer has
 * a JSON body {"error": {"status" (= the HTTP status), "code", "path", "message"}}; a 405
 * says Allow; a JSON answer parses; a deferred request is always answered (never lost);
 * no static file outside the dashboard's folder is served.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz_util.h"
#include "base/log.h"
#include "engine/registry.h"
#include "api/router.h"
#include "engine/session.h"
#include "spiked/proto.h"

#define MAX_REQS    8
#define MAX_HDRS    16
#define MAX_STREAMS 4

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static srv_server_t S;
static char g_err[256];

static const char BASE_NET[] =
    "{\"name\":\"s\",\"seed\":3,\"dt\":1,\"network\":{\"populations\":[{\"name\":\"p\","
    "\"model\":\"lif\",\"size\":20}],\"projections\":[{\"source\":\"p\",\"target\":\"p\","
    "\"rule\":{\"kind\":\"fixed_probability\",\"p\":0.2},\"weight\":0.3,\"delay_steps\":2}],"
    "\"stimuli\":[{\"kind\":\"poisson\",\"target\":\"p\",\"rate_hz\":400,\"weight\":0.5}],"
    "\"recorders\":[{\"population\":\"p\",\"variables\":[\"v\"],\"neurons\":[0,1]}]},"
    "\"limits\":{\"spike_history\":20000,\"history_steps\":2000,\"max_record_values\":4000}}";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    json_object_seed(1);
    srv_log_set_level(SRV_LOG_ERROR); /* the access log and session notes would drown it */
    memset(&S, 0, sizeof S);
    if (srv_config_load(&S.cfg, 0, NULL, g_err, sizeof g_err) < 0)
        fuzz_fail("config: %s", g_err);
    S.cfg.max_sessions = 4;
    S.cfg.max_neurons = 2000;
    S.cfg.max_synapses = 50000;
    S.cfg.max_steps = 1000;
    S.cfg.max_subscribers = 2;
    S.cfg.sub_queue_bytes = 4096;
    S.cfg.max_queue = 4;
    S.cfg.replay_steps = 500;
    S.cfg.sync_ms = 60000;
    S.cfg.max_run_ms = 10000;
    S.cfg.data_dir[0] = '\0';
    snprintf(S.cfg.token, sizeof S.cfg.token, "t");
    snprintf(S.cfg.cors_list[0], sizeof S.cfg.cors_list[0], "http://ok.example");
    S.cfg.n_cors = 1;
    if (!realpath(SPIKED_SOURCE_DIR "/clients/web", S.cfg.static_dir))
        S.cfg.static_dir[0] = '\0';
    S.loop = uv_default_loop();
    S.phase = SRV_RUNNING;
    srv_metrics_init(&S.metrics);
    S.reg = calloc(1, sizeof *S.reg);
    if (!S.reg)
        fuzz_fail("out of memory");
    return 0;
}

/* ---- one input's state ---- */

static void add_base_session(void)
{
    sk_proto_caps_t caps;
    srv_session_caps(&S, &caps);
    json_t *j = NULL;
    sk_proto_session_t *ps = NULL;
    sk_net_t *net = NULL;
    srv_session_t *sess = NULL;
    if (sk_proto_parse(BASE_NET, strlen(BASE_NET), &caps, &j, NULL) ||
        sk_proto_session_decode(j, &caps, &ps, NULL) || sk_net_create(&ps->spec, &net, NULL) ||
        srv_session_create(&S, "s", net, &sess) || srv_registry_add(S.reg, sess))
        fuzz_fail("cannot build the base session");
    json_decref(j);
    sk_proto_session_free(ps);
}

/* Runs the loop until nothing is left to do (every work item and close callback). */
static void drain(void)
{
    while (uv_loop_alive(S.loop))
        uv_run(S.loop, UV_RUN_ONCE);
}

/* ---- checks ---- */

static void check_answer(const srv_req_t *rq, const srv_resp_t *rs)
{
    int st = rs->status;
    if (!((st >= 200 && st < 300) || (st >= 400 && st < 500) || st == 503))
        fuzz_fail("%s %s answered %d", srv_method_name(rq->method), rq->path, st);
    if (st == 405 && !srv_resp_get_header(rs, "Allow"))
        fuzz_fail("405 without Allow");
    if (rs->kind == SRV_RESP_STREAM) {
        if (st != 200 || !rs->stream)
            fuzz_fail("a stream answer with status %d", st);
        return;
    }
    int is_json = rs->content_type && !strncmp(rs->content_type, "application/json", 16);
    if (st >= 400 && !is_json)
        fuzz_fail("error %d is not JSON", st);
    if (!is_json || !rs->body_len)
        return;
    json_error_t je;
    json_t *j = json_loadb(rs->body, rs->body_len, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        fuzz_fail("%d answer is not JSON: %s: %.*s", st, je.text, (int)rs->body_len, rs->body);
    if (st >= 400) {
        json_t *e = json_object_get(j, "error");
        if (json_integer_value(json_object_get(e, "status")) != st ||
            !json_is_string(json_object_get(e, "code")) ||
            !json_is_string(json_object_get(e, "path")) ||
            !json_is_string(json_object_get(e, "message")))
            fuzz_fail("error %d body is not the contract's: %.*s", st, (int)rs->body_len, rs->body);
    }
    json_decref(j);
}

static void check_static(const srv_req_t *rq, const srv_resp_t *rs)
{
    if (rs->status == 200 && rq->route < 0 && rs->body && rs->body_len &&
        memmem(rs->body, rs->body_len, "root:x:0:0", 10))
        fuzz_fail("static file outside the dashboard served for %s", rq->path);
}

/* ---- requests ---- */

typedef struct req {
    srv_req_t rq;
    srv_header_t h[MAX_HDRS];
    char *line; /* owned: method, path, query and header strings point into it */
    srv_resp_t answer;
    int answered;
} req_t;

static void on_done(srv_req_t *rq, srv_resp_t *rs)
{
    req_t *r = (req_t *)rq; /* rq is the first member */
    if (r->answered)
        fuzz_fail("a request answered twice");
    r->answer = *rs;
    srv_resp_init(rs);
    r->answered = 1;
}

/* Splits one request out of [p, end): returns 0, or -1 when it has no request line. */
static int parse_req(const char *p, const char *end, req_t *r)
{
    const char *hdr_end = NULL;
    for (const char *q = p; q + 1 < end; q++)
        if (q[0] == '\n' && q[1] == '\n') {
            hdr_end = q + 1;
            break;
        }
    size_t head = (size_t)((hdr_end ? hdr_end : end) - p);
    r->line = malloc(head + 1);
    if (!r->line)
        return -1;
    memcpy(r->line, p, head);
    r->line[head] = '\0'; /* a NUL byte inside cuts the head short, as C strings do */
    char *nl = strchr(r->line, '\n');
    if (nl)
        *nl++ = '\0';
    char *sp = strchr(r->line, ' ');
    if (!sp)
        return -1;
    *sp = '\0';
    char *target = sp + 1, *q = strchr(target, '?');
    if (q)
        *q++ = '\0';
    r->rq.method = srv_method_parse(r->line);
    r->rq.path = target;
    r->rq.query = q ? q : "";
    while (nl && *nl && r->rq.n_headers < MAX_HDRS) {
        char *next = strchr(nl, '\n');
        if (next)
            *next++ = '\0';
        char *colon = strchr(nl, ':');
        if (colon) {
            *colon = '\0';
            char *v = colon + 1;
            while (*v == ' ')
                v++;
            r->h[r->rq.n_headers].name = nl;
            r->h[r->rq.n_headers++].value = v;
        }
        nl = next;
    }
    r->rq.headers = r->h;
    r->rq.body = hdr_end ? hdr_end + 1 : NULL;
    r->rq.body_len = hdr_end ? (size_t)(end - hdr_end - 1) : 0;
    if (r->rq.body_len > S.cfg.max_body) /* the transport answers 413 before routing */
        r->rq.body_len = (size_t)S.cfg.max_body;
    r->rq.done = on_done;
    return 0;
}

static srv_sub_t *streams[MAX_STREAMS];
static int n_streams;

static void read_streams(void)
{
    static char buf[16384];
    for (int i = 0; i < n_streams; i++)
        for (int k = 0; k < 8 && srv_sub_read(streams[i], buf, sizeof buf) > 0; k++)
            ;
}

static void run_one(const char *p, const char *end)
{
    req_t *r = calloc(1, sizeof *r);
    if (!r || parse_req(p, end, r) < 0) {
        if (r)
            free(r->line);
        free(r);
        return;
    }
    srv_resp_t rs;
    int rc = srv_api_handle(&S, &r->rq, &rs);
    if (rc == SRV_DONE) {
        if (r->answered)
            fuzz_fail("answered through srv_req_finish and returned SRV_DONE");
        r->answer = rs;
        r->answered = 1;
    } else {
        srv_resp_clear(&rs);
        while (!r->answered && uv_loop_alive(S.loop))
            uv_run(S.loop, UV_RUN_ONCE);
        if (!r->answered)
            fuzz_fail("%s %s: deferred and never answered", r->line, r->rq.path);
    }
    check_answer(&r->rq, &r->answer);
    check_static(&r->rq, &r->answer);
    if (r->answer.kind == SRV_RESP_STREAM && n_streams < MAX_STREAMS) {
        streams[n_streams++] = r->answer.stream;
        r->answer.stream = NULL;
    }
    srv_resp_clear(&r->answer);
    read_streams();
    free(r->line);
    free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (srv_registry_init(S.reg, (uint32_t)S.cfg.max_sessions, UINT64_MAX))
        fuzz_fail("registry");
    add_base_session();
    const char *p = (const char *)data, *end = p + size;
    for (int n = 0; n < MAX_REQS && p < end; n++) {
        const char *sep = memmem(p, (size_t)(end - p), "\n~~~\n", 5);
        const char *stop = sep ? sep : end;
        run_one(p, stop);
        p = sep ? sep + 5 : end;
    }
    read_streams();
    for (int i = 0; i < n_streams; i++)
        srv_sub_close(streams[i]);
    n_streams = 0;
    srv_registry_close(S.reg, 503, "unavailable");
    drain();
    return 0;
}
