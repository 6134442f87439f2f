/* test_router_unit.c: the API driven in-process through srv_api_handle, without sockets or
 * libmicrohttpd: matching and path parameters, 404/405/Allow, auth, preflight, HEAD, the
 * admission rules (body media type, Host), and a request answered through the deferred
 * path (srv_req_finish). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "engine/registry.h"
#include "api/router.h"

static srv_server_t s;
static srv_resp_t done_resp;
static int done_calls;

static void on_done(srv_req_t *rq, srv_resp_t *rs)
{
    (void)rq;
    done_resp = *rs;
    srv_resp_init(rs);
    done_calls++;
}

static void setup(void)
{
    char err[256];
    cr_assert_eq(srv_config_load(&s.cfg, 0, NULL, err, sizeof err), 0, "%s", err);
    s.loop = uv_default_loop();
    s.reg = calloc(1, sizeof *s.reg);
    srv_registry_init(s.reg, 4, UINT64_MAX);
    srv_metrics_init(&s.metrics);
}

static void teardown(void)
{
    srv_registry_close(s.reg, 503, "unavailable");
    free(s.reg);
    uv_run(s.loop, UV_RUN_DEFAULT); /* close callbacks */
}

TestSuite(router, .init = setup, .fini = teardown);

/* Runs one request; returns the status (deferred answers included). */
static int call(srv_method_t m, const char *path, const char *query, const srv_header_t *h,
                uint32_t nh, const char *body, srv_resp_t *out)
{
    srv_req_t rq;
    memset(&rq, 0, sizeof rq);
    rq.method = m;
    rq.path = path;
    rq.query = query ? query : "";
    rq.headers = h;
    rq.n_headers = nh;
    rq.body = body;
    rq.body_len = body ? strlen(body) : 0;
    rq.done = on_done;
    done_calls = 0;
    int rc = srv_api_handle(&s, &rq, out);
    if (rc == SRV_DEFERRED) {
        cr_assert_eq(done_calls, 1, "a deferred request on an idle server answers at once");
        srv_resp_clear(out);
        *out = done_resp;
    }
    return out->status;
}

Test(router, match_params_and_errors)
{
    srv_resp_t rs;
    srv_req_t rq;
    memset(&rq, 0, sizeof rq);
    unsigned allow = 0;
    rq.method = SRV_DELETE;
    rq.path = "/v1/sessions/a%2Db/jobs/17";
    int r = srv_route_match(&rq, &allow);
    cr_assert_geq(r, 0);
    cr_assert_str_eq(srv_routes[r].handler_name, "h_jobs_cancel");
    cr_assert_str_eq(rq.params[0], "a-b");
    cr_assert_str_eq(rq.params[1], "17");
    rq.path = "/v1/sessions/a%2Fb";
    rq.method = SRV_GET;
    cr_assert_geq(srv_route_match(&rq, &allow), 0, "an encoded '/' stays in its segment");
    cr_assert_str_eq(rq.params[0], "a/b");
    cr_assert_eq(call(SRV_GET, "/v1/sessions/a%2Fb", NULL, NULL, 0, NULL, &rs), 400);
    srv_resp_clear(&rs);
    cr_assert_eq(call(SRV_GET, "/nope", NULL, NULL, 0, NULL, &rs), 404);
    srv_resp_clear(&rs);
    cr_assert_eq(call(SRV_PUT, "/v1/models", NULL, NULL, 0, NULL, &rs), 405);
    cr_assert_str_eq(srv_resp_get_header(&rs, "Allow"), "GET, HEAD");
    cr_assert_not_null(strstr(rs.body, "\"method_not_allowed\""));
    srv_resp_clear(&rs);
    cr_assert_eq(call(SRV_HEAD, "/healthz", NULL, NULL, 0, NULL, &rs), 200);
    srv_resp_clear(&rs);
    cr_assert_eq(call(SRV_GET, "v1/models", NULL, NULL, 0, NULL, &rs), 404);
    srv_resp_clear(&rs);
    cr_assert_eq(call(SRV_OPTIONS, "/v1/sessions", NULL, NULL, 0, NULL, &rs), 204);
    cr_assert_str_eq(srv_resp_get_header(&rs, "Allow"), "GET, HEAD, POST, OPTIONS");
    srv_resp_clear(&rs);
}

Test(router, sessions_in_process)
{
    srv_resp_t rs;
    cr_assert_eq(call(SRV_GET, "/v1/sessions", NULL, NULL, 0, NULL, &rs), 200);
    cr_assert_str_eq(rs.body, "{\"sessions\":[],\"next_cursor\":null}");
    srv_resp_clear(&rs);
    cr_assert_eq(call(SRV_GET, "/v1/sessions/zz", NULL, NULL, 0, NULL, &rs), 404);
    srv_resp_clear(&rs);
    srv_header_t json = {"Content-Type", "application/json"};
    cr_assert_eq(call(SRV_POST, "/v1/sessions", NULL, &json, 1, "{\"name\":1}", &rs), 400);
    srv_resp_clear(&rs);
}

Test(router, bearer_auth)
{
    strcpy(s.cfg.token, "tok");
    srv_resp_t rs;
    srv_header_t good = {"authorization", "bearer tok"}, bad = {"Authorization", "Bearer to"};
    cr_assert_eq(call(SRV_GET, "/v1/models", NULL, NULL, 0, NULL, &rs), 401);
    srv_resp_clear(&rs);
    cr_assert_eq(call(SRV_GET, "/v1/models", NULL, &bad, 1, NULL, &rs), 401);
    srv_resp_clear(&rs);
    cr_assert_eq(call(SRV_GET, "/v1/models", NULL, &good, 1, NULL, &rs), 200);
    srv_resp_clear(&rs);
    cr_assert_eq(call(SRV_GET, "/v1/models", "x=1&access_token=tok", NULL, 0, NULL, &rs), 200);
    srv_resp_clear(&rs);
    cr_assert_eq(call(SRV_GET, "/healthz", NULL, NULL, 0, NULL, &rs), 200);
    srv_resp_clear(&rs);
    cr_assert_eq(call(SRV_GET, "/nope", NULL, NULL, 0, NULL, &rs), 404, "404 before auth");
    srv_resp_clear(&rs);
    s.cfg.token[0] = '\0';
}

/* Found by the hostile corpus: a name or path with invalid UTF-8 (or a message cut inside a
 * multi-byte character) made the error body empty: jansson refuses such strings. Every
 * error must be the contract's JSON. */
Test(router, errors_about_invalid_utf8_are_json)
{
    const char *paths[] = {"/v1/sessions/%FF%FE", "/\xff\xfe", "/v1/sessions/a\xc0\xaf",
                           "/v1/sessions/x/jobs/\xed\xa0\x80"};
    char longp[1200];
    memset(longp, 'a', sizeof longp);
    memcpy(longp, "/\xc3\xa9", 3);
    for (size_t k = 3; k + 2 < sizeof longp; k += 2)
        memcpy(longp + k, "\xc3\xa9", 2); /* a message cut at 512 bytes may split one */
    longp[sizeof longp - 1] = '\0';
    for (size_t i = 0; i < sizeof paths / sizeof paths[0] + 1; i++) {
        const char *path = i < sizeof paths / sizeof paths[0] ? paths[i] : longp;
        srv_resp_t rs;
        int st = call(SRV_GET, path, NULL, NULL, 0, NULL, &rs);
        cr_assert(st == 400 || st == 404, "status %d", st);
        json_error_t je;
        json_t *j = json_loadb(rs.body ? rs.body : "", rs.body_len, 0, &je);
        cr_assert_not_null(j, "%zu: not JSON (%s): %.*s", i, je.text, (int)rs.body_len,
                           rs.body ? rs.body : "");
        cr_assert_eq(json_integer_value(json_object_get(json_object_get(j, "error"), "status")),
                     st);
        json_decref(j);
        srv_resp_clear(&rs);
    }
}

/* Found while building the hostile corpus: "application/jsonx" (or "application/json-seq")
 * passed the Content-Type check, which compared a prefix only; and OPTIONS * (the
 * server-wide preflight the router handles) was refused as a malformed path. */
Test(router, content_type_is_json_exactly_and_options_star)
{
    const char *bad[] = {"application/jsonx", "application/json-seq", "text/plain",
                         "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"};
    const char *good[] = {"application/json", "application/json; charset=utf-8",
                          "Application/JSON", "application/json ;charset=UTF-8"};
    srv_resp_t rs;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        srv_header_t h = {"Content-Type", bad[i]};
        cr_assert_eq(call(SRV_POST, "/v1/sessions", NULL, &h, 1, "{}", &rs), 415, "%s", bad[i]);
        srv_resp_clear(&rs);
    }
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        srv_header_t h = {"Content-Type", good[i]};
        cr_assert_eq(call(SRV_POST, "/v1/sessions", NULL, &h, 1, "{}", &rs), 400, "%s", good[i]);
        srv_resp_clear(&rs);
    }
    cr_assert_eq(call(SRV_OPTIONS, "*", NULL, NULL, 0, NULL, &rs), 204);
    srv_resp_clear(&rs);
    cr_assert_eq(call(SRV_GET, "*", NULL, NULL, 0, NULL, &rs), 404);
    srv_resp_clear(&rs);
}

/* SECURITY.md gap 3: a body without Content-Type was parsed as JSON, so a page in a browser
 * could send one without a preflight. Every request with a body needs the JSON type, on
 * every route, whether or not its handler reads the body. */
Test(router, a_body_needs_the_json_content_type)
{
    srv_resp_t rs;
    cr_assert_eq(call(SRV_POST, "/v1/sessions", NULL, NULL, 0, "{\"name\":1}", &rs), 415);
    cr_assert_not_null(strstr(rs.body, "\"unsupported_media_type\""));
    cr_assert_not_null(strstr(rs.body, "none was sent"));
    srv_resp_clear(&rs);
    cr_assert_eq(call(SRV_POST, "/v1/sessions/x/reset", NULL, NULL, 0, "{}", &rs), 415);
    srv_resp_clear(&rs);
    cr_assert_eq(call(SRV_GET, "/v1/models", NULL, NULL, 0, "x", &rs), 415);
    srv_resp_clear(&rs);
    /* no body, no type: the handler decides (no session here) */
    cr_assert_eq(call(SRV_POST, "/v1/sessions/x/reset", NULL, NULL, 0, NULL, &rs), 404);
    srv_resp_clear(&rs);
    /* auth, 404 and 405 come first */
    strcpy(s.cfg.token, "tok");
    cr_assert_eq(call(SRV_POST, "/v1/sessions", NULL, NULL, 0, "{}", &rs), 401);
    srv_resp_clear(&rs);
    s.cfg.token[0] = '\0';
    cr_assert_eq(call(SRV_PUT, "/v1/sessions", NULL, NULL, 0, "{}", &rs), 405);
    srv_resp_clear(&rs);
}

/* SECURITY.md gap 4 (DNS rebinding): without a token, Host must name this server. */
Test(router, host_must_name_the_server_without_a_token)
{
    const char *good[] = {"127.0.0.1",   "127.0.0.1:8080", "localhost",
                          "LocalHost:1", "localhost.",     "127.9.8.7:80",
                          "[::1]",       "[::1]:8080",     "localhost:"};
    const char *bad[] = {"evil.example",
                         "evil.example:8080",
                         "127.0.0.1.evil.example",
                         "localhost.evil",
                         "10.0.0.1",
                         "[::2]:80",
                         "::1",
                         "[::1",
                         "localhost:80:90",
                         "",
                         ":80",
                         "localhost:8o"};
    srv_resp_t rs;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        srv_header_t h = {"Host", good[i]};
        cr_assert_eq(call(SRV_GET, "/v1/models", NULL, &h, 1, NULL, &rs), 200, "%s", good[i]);
        srv_resp_clear(&rs);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        srv_header_t h = {"Host", bad[i]};
        cr_assert_eq(call(SRV_GET, "/v1/models", NULL, &h, 1, NULL, &rs), 421, "%s", bad[i]);
        cr_assert_not_null(strstr(rs.body, "\"misdirected_request\""), "%s", rs.body);
        srv_resp_clear(&rs);
        /* every route, open ones and preflights included */
        cr_assert_eq(call(SRV_GET, "/healthz", NULL, &h, 1, NULL, &rs), 421, "%s", bad[i]);
        srv_resp_clear(&rs);
    }
    /* no Host (HTTP/1.0) */
    cr_assert_eq(call(SRV_GET, "/v1/models", NULL, NULL, 0, NULL, &rs), 200);
    srv_resp_clear(&rs);
    /* the bind address; with a wildcard bind, any address literal */
    srv_header_t lan = {"Host", "192.0.2.7:8080"}, name = {"Host", "evil.example"};
    strcpy(s.cfg.bind, "192.0.2.7");
    cr_assert_eq(call(SRV_GET, "/v1/models", NULL, &lan, 1, NULL, &rs), 200);
    srv_resp_clear(&rs);
    strcpy(s.cfg.bind, "0.0.0.0");
    cr_assert_eq(call(SRV_GET, "/v1/models", NULL, &lan, 1, NULL, &rs), 200);
    srv_resp_clear(&rs);
    cr_assert_eq(call(SRV_GET, "/v1/models", NULL, &name, 1, NULL, &rs), 421);
    srv_resp_clear(&rs);
    strcpy(s.cfg.bind, "127.0.0.1");
    /* with a token the token is the access control: no Host check */
    strcpy(s.cfg.token, "tok");
    srv_header_t h[2] = {{"Host", "evil.example"}, {"Authorization", "Bearer tok"}};
    cr_assert_eq(call(SRV_GET, "/v1/models", NULL, h, 2, NULL, &rs), 200);
    srv_resp_clear(&rs);
    s.cfg.token[0] = '\0';
}

Test(router, query_and_url_decoding)
{
    char out[32];
    cr_assert_eq(srv_query_get("a=1&b=x%2Cy&c", "b", out, sizeof out), 1);
    cr_assert_str_eq(out, "x,y");
    cr_assert_eq(srv_query_get("a=1", "b", out, sizeof out), 0);
    cr_assert_eq(srv_query_get("b=%zz", "b", out, sizeof out), -1);
    cr_assert_eq(srv_query_get("b=%0", "b", out, sizeof out), -1);
    cr_assert_eq(srv_query_get("b=%00", "b", out, sizeof out), -1);
    cr_assert_eq(srv_url_decode("a+b", 3, out, sizeof out, 1), 3);
    cr_assert_str_eq(out, "a b");
    cr_assert_eq(srv_url_decode("abcdef", 6, out, 4, 0), -1);
}
