/* test_auth.c: bearer token on and off (from --token-file, SPIKED_TOKEN_FILE and
 * SPIKED_TOKEN), the open routes (/healthz, /openapi.json, preflights), ?access_token= for
 * GET (EventSource), no open server on a non-loopback address without --insecure-no-auth,
 * and CORS: exact-match allow-list, echoed origin, Vary: Origin, preflight answers. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

/* One timeout for every test of the file: Criterion 2.4.1 leaks in its runner when
 * tests with different timeouts run in parallel. */
TestSuite(auth, .timeout = 90);
TestSuite(cors, .timeout = 90);
TestSuite(browser, .timeout = 90);

#define TOKEN "s3cret-token-0123456789"
#define AUTH  "Authorization: Bearer " TOKEN "\r\n"

static void check_auth(int port)
{
    int st = 0;
    json_t *j = t_req(port, "GET", "/v1/sessions", NULL, &st);
    cr_assert_eq(st, 401);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "error"), "code")),
                     "unauthorized");
    json_decref(j);
    hc_resp_t r;
    cr_assert_eq(hc_request(port, "GET", "/v1/sessions", NULL, NULL, &r), 0);
    char v[64];
    cr_assert_not_null(hc_header(&r, "WWW-Authenticate", v, sizeof v));
    hc_resp_free(&r);
    json_decref(t_req_h(port, "GET", "/v1/sessions", "Authorization: Bearer wrong\r\n", NULL, &st));
    cr_assert_eq(st, 401);
    json_decref(t_req_h(port, "GET", "/v1/sessions", "Authorization: Bearer " TOKEN "x\r\n", NULL,
                        &st));
    cr_assert_eq(st, 401);
    json_decref(t_req_h(port, "GET", "/v1/sessions", "Authorization: Basic " TOKEN "\r\n", NULL,
                        &st));
    cr_assert_eq(st, 401);
    json_decref(t_req_h(port, "GET", "/v1/sessions", AUTH, NULL, &st));
    cr_assert_eq(st, 200);
    json_decref(t_req_h(port, "POST", "/v1/sessions", AUTH, t_net_lif("a", 5, 1), &st));
    cr_assert_eq(st, 201);
    json_decref(t_req(port, "POST", "/v1/sessions/a/step", "{\"steps\":1}", &st));
    cr_assert_eq(st, 401);
    /* open routes */
    json_decref(t_req(port, "GET", "/healthz", NULL, &st));
    cr_assert_eq(st, 200);
    json_decref(t_req(port, "GET", "/openapi.json", NULL, &st));
    cr_assert_eq(st, 200);
    /* access_token for GET only (EventSource cannot send headers) */
    json_decref(t_req(port, "GET", "/v1/sessions/a?access_token=" TOKEN, NULL, &st));
    cr_assert_eq(st, 200);
    json_decref(t_req(port, "GET", "/v1/sessions/a?access_token=nope", NULL, &st));
    cr_assert_eq(st, 401);
    json_decref(t_req(port, "POST", "/v1/sessions/a/step?access_token=" TOKEN, "{\"steps\":1}",
                      &st));
    cr_assert_eq(st, 401);
    hc_sse_t *s = NULL;
    cr_assert_eq(hc_sse_open(&s, port, "/v1/sessions/a/events?access_token=" TOKEN, NULL, &st), 0);
    hc_sse_close(s);
}

Test(auth, token_from_file)
{
    char dir[128], file[256];
    t_tmpdir(dir, sizeof dir);
    snprintf(file, sizeof file, "%s/token", dir);
    FILE *f = fopen(file, "w");
    fputs(TOKEN "\n", f);
    fclose(f);
    sp_proc_t p;
    const char *args[] = {"--token-file", file, NULL};
    t_start(&p, args);
    check_auth(p.port);
    t_stop(&p);
    t_rmdir(dir);
}

Test(auth, token_from_environment)
{
    sp_proc_t p;
    const char *env[] = {"SPIKED_TOKEN=" TOKEN, NULL};
    cr_assert_eq(sp_start(&p, NULL, env), 0);
    check_auth(p.port);
    t_stop(&p);
}

Test(auth, off_by_default)
{
    sp_proc_t p;
    t_start(&p, NULL);
    json_decref(t_ok(p.port, "GET", "/v1/sessions", NULL, 200));
    t_stop(&p);
}

Test(auth, unreadable_token_file_is_a_usage_error)
{
    sp_proc_t p;
    const char *args[] = {"--token-file", "/nonexistent/token", NULL};
    cr_assert_eq(sp_start(&p, args, NULL), -1);
}

Test(cors, allow_list_preflight_and_vary)
{
    sp_proc_t p;
    const char *args[] = {"--cors-origins", "http://dash.example, http://localhost:3000", NULL};
    const char *env[] = {"SPIKED_TOKEN=" TOKEN, NULL};
    cr_assert_eq(sp_start(&p, args, env), 0);
    hc_resp_t r;
    char v[256];
    /* allowed origin: echoed, with Vary */
    cr_assert_eq(hc_request(p.port, "GET", "/v1/sessions", AUTH "Origin: http://dash.example\r\n",
                            NULL, &r),
                 0);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(hc_header(&r, "Access-Control-Allow-Origin", v, sizeof v),
                     "http://dash.example");
    cr_assert_str_eq(hc_header(&r, "Vary", v, sizeof v), "Origin");
    hc_resp_free(&r);
    /* errors carry it too (the browser must be able to read them) */
    cr_assert_eq(hc_request(p.port, "GET", "/v1/sessions", "Origin: http://localhost:3000\r\n",
                            NULL, &r),
                 0);
    cr_assert_eq(r.status, 401);
    cr_assert_str_eq(hc_header(&r, "Access-Control-Allow-Origin", v, sizeof v),
                     "http://localhost:3000");
    hc_resp_free(&r);
    /* not allowed, or a near miss: no CORS header */
    const char *bad[] = {"http://dash.example.evil", "http://evil.example", "null",
                         "http://DASH.example"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char h[256];
        snprintf(h, sizeof h, AUTH "Origin: %s\r\n", bad[i]);
        cr_assert_eq(hc_request(p.port, "GET", "/v1/sessions", h, NULL, &r), 0);
        cr_assert_null(hc_header(&r, "Access-Control-Allow-Origin", v, sizeof v), "%s", bad[i]);
        cr_assert_str_eq(hc_header(&r, "Vary", v, sizeof v), "Origin");
        hc_resp_free(&r);
    }
    /* preflight: open (no token), 204, methods of the path */
    cr_assert_eq(hc_request(p.port, "OPTIONS", "/v1/sessions/x/step",
                            "Origin: http://dash.example\r\nAccess-Control-Request-Method: POST\r\n"
                            "Access-Control-Request-Headers: authorization, content-type\r\n",
                            NULL, &r),
                 0);
    cr_assert_eq(r.status, 204);
    cr_assert_str_eq(hc_header(&r, "Access-Control-Allow-Origin", v, sizeof v),
                     "http://dash.example");
    cr_assert_not_null(strstr(hc_header(&r, "Access-Control-Allow-Methods", v, sizeof v), "POST"));
    cr_assert_not_null(strstr(hc_header(&r, "Access-Control-Allow-Headers", v, sizeof v),
                              "Authorization"));
    cr_assert_str_eq(hc_header(&r, "Vary", v, sizeof v), "Origin");
    hc_resp_free(&r);
    cr_assert_eq(hc_request(p.port, "OPTIONS", "/v1/sessions",
                            "Origin: http://evil.example\r\nAccess-Control-Request-Method: POST\r\n",
                            NULL, &r),
                 0);
    cr_assert_eq(r.status, 403);
    cr_assert_null(hc_header(&r, "Access-Control-Allow-Origin", v, sizeof v));
    hc_resp_free(&r);
    t_stop(&p);
}

/* SECURITY.md gap 2: without a token, a bind address other than loopback is refused at
 * start (exit 2) unless asked for explicitly. */
Test(auth, open_non_loopback_bind_is_refused_at_start)
{
    char err[2048];
    const char *args[] = {"--port", "0", "--bind", "0.0.0.0", NULL};
    cr_assert_eq(sp_run(args, NULL, err, sizeof err, 5000), 2, "%s", err);
    cr_expect(strstr(err, "not a loopback address") && strstr(err, "--insecure-no-auth") &&
                  strstr(err, "SPIKED_INSECURE_NO_AUTH=1"),
              "%s", err);
    const char *env[] = {"SPIKED_BIND=0.0.0.0", NULL};
    const char *port0[] = {"--port", "0", NULL};
    cr_expect_eq(sp_run(port0, env, err, sizeof err, 5000), 2, "SPIKED_BIND: %s", err);
}

Test(auth, insecure_no_auth_serves_a_non_loopback_bind_without_token)
{
    sp_proc_t p;
    const char *args[] = {"--bind", "0.0.0.0", "--insecure-no-auth", NULL};
    t_start(&p, args);
    json_decref(t_ok(p.port, "GET", "/v1/sessions", NULL, 200));
    t_stop(&p);
    const char *env[] = {"SPIKED_BIND=0.0.0.0", "SPIKED_INSECURE_NO_AUTH=1", NULL};
    cr_assert_eq(sp_start(&p, NULL, env), 0);
    json_decref(t_ok(p.port, "GET", "/v1/sessions", NULL, 200));
    t_stop(&p);
}

Test(auth, a_token_or_a_loopback_bind_needs_no_flag)
{
    sp_proc_t p;
    const char *env[] = {"SPIKED_TOKEN=" TOKEN, NULL};
    const char *any[] = {"--bind", "0.0.0.0", NULL};
    cr_assert_eq(sp_start(&p, any, env), 0);
    int st = 0;
    json_decref(t_req(p.port, "GET", "/v1/sessions", NULL, &st));
    cr_expect_eq(st, 401);
    t_stop(&p);
    const char *lo[] = {"--bind", "127.0.0.2", NULL};
    t_start(&p, lo); /* all of 127.0.0.0/8 is loopback */
    t_stop(&p);
}

/* Sends raw request bytes on a new connection; returns the status (0: no answer). */
static int raw_status(int port, const char *req, char *body, size_t cap)
{
    hc_conn_t *c = malloc(sizeof *c);
    hc_resp_t r;
    int st = 0;
    if (hc_connect(c, port) == 0 && hc_send_raw(c, req, strlen(req)) == 0 &&
        hc_recv(c, &r, 5000) == 0) {
        st = r.status;
        snprintf(body, cap, "%s", r.body ? r.body : "");
        hc_resp_free(&r);
    }
    hc_close(c);
    free(c);
    return st;
}

/* SECURITY.md gaps 3 and 4 over real sockets: what a foreign page in a browser could send
 * to a server without a token. */
Test(browser, no_preflight_body_and_rebound_host_are_refused)
{
    sp_proc_t p;
    t_start(&p, NULL);
    char body[1024];
    /* a "simple" POST: a body with no Content-Type (or text/plain) */
    const char *net = "{\"name\":\"x\",\"network\":{\"populations\":[{\"name\":\"p\","
                      "\"model\":\"lif\",\"size\":3}]}}";
    char req[1024];
    snprintf(req, sizeof req,
             "POST /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %zu\r\n\r\n%s",
             strlen(net), net);
    cr_expect_eq(raw_status(p.port, req, body, sizeof body), 415, "%s", body);
    cr_expect(strstr(body, "\"unsupported_media_type\"") != NULL, "%s", body);
    /* DNS rebinding: the page's own host name */
    cr_expect_eq(raw_status(p.port,
                            "GET /v1/sessions HTTP/1.1\r\nHost: rebind.evil.example:8080\r\n\r\n",
                            body, sizeof body),
                 421, "%s", body);
    cr_expect(strstr(body, "\"misdirected_request\"") != NULL, "%s", body);
    /* the names of this server, and HTTP/1.0 without Host */
    const char *ok[] = {"GET /v1/sessions HTTP/1.1\r\nHost: localhost:1\r\n\r\n",
                        "GET /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                        "GET /v1/sessions HTTP/1.0\r\n\r\n"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        cr_expect_eq(raw_status(p.port, ok[i], body, sizeof body), 200, "%s: %s", ok[i], body);
    json_decref(t_ok(p.port, "POST", "/v1/sessions", net, 201)); /* with the type: created */
    t_stop(&p);
    /* with a token, Host is not checked (the token is the access control) */
    const char *env[] = {"SPIKED_TOKEN=" TOKEN, NULL};
    cr_assert_eq(sp_start(&p, NULL, env), 0);
    cr_expect_eq(raw_status(p.port,
                            "GET /v1/sessions HTTP/1.1\r\nHost: proxy.example\r\n" AUTH "\r\n",
                            body, sizeof body),
                 200, "%s", body);
    t_stop(&p);
}

/* The last cross-site hole without a token: a bodiless POST (reset, checkpoint) needs no
 * preflight. Browsers send Origin with it; spiked carries it out only from its own origin
 * or an allowed one. */
Test(browser, a_foreign_origin_cannot_change_a_server_without_token)
{
    sp_proc_t p;
    const char *args[] = {"--cors-origins", "http://good.example", NULL};
    t_start(&p, args);
    t_create(p.port, "x", 5, 1);
    char body[1024], req[512];
    const char *origins[] = {"http://evil.example", "null", "http://good.example",
                             "http://127.0.0.1"};
    const int want[] = {403, 403, 200, 200};
    for (size_t i = 0; i < 4; i++) {
        snprintf(req, sizeof req,
                 "POST /v1/sessions/x/reset HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: %s\r\n"
                 "Content-Length: 0\r\n\r\n",
                 origins[i]);
        cr_expect_eq(raw_status(p.port, req, body, sizeof body), want[i], "%s: %s",
                     origins[i], body);
    }
    /* reading stays open to every origin (the browser keeps the answer from the page) */
    cr_expect_eq(raw_status(p.port,
                            "GET /v1/sessions/x HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            "Origin: http://evil.example\r\n\r\n",
                            body, sizeof body),
                 200, "%s", body);
    t_stop(&p);
}
