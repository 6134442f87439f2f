/* test_errors.c: every kind of bad input gets the documented JSON error, never a crash or
 * a hang: malformed JSON, wrong types, unknown fields, sizes over the limits, bad names,
 * unknown sessions and paths, wrong methods (405 with Allow), bodies over the size limit
 * (413, by Content-Length and chunked), ambiguous framing, wrong content type, queries,
 * and the session limit. The server must still answer afterwards. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

static sp_proc_t srv;

static void up(void)
{
    const char *args[] = {"--max-sessions", "3", "--max-body-bytes", "64k", NULL};
    t_start(&srv, args);
    t_create(srv.port, "x", 10, 1);
}

static void down(void)
{
    json_t *j = t_ok(srv.port, "GET", "/healthz", NULL, 200); /* still alive */
    json_decref(j);
    t_stop(&srv);
}

TestSuite(errors, .init = up, .fini = down, .timeout = 30);

Test(errors, bodies)
{
    t_error(srv.port, "POST", "/v1/sessions", "{", 400, "invalid_json", "");
    t_error(srv.port, "POST", "/v1/sessions", "{\"a\":1} x", 400, "invalid_json", "");
    t_error(srv.port, "POST", "/v1/sessions", "{\"a\":1,\"a\":2}", 400, "invalid_json", "");
    t_error(srv.port, "POST", "/v1/sessions", "[1]", 400, "wrong_type", "");
    t_error(srv.port, "POST", "/v1/sessions", "{\"name\":5}", 400, "wrong_type", "name");
    t_error(srv.port, "POST", "/v1/sessions", "{\"name\":\"y\",\"bogus\":1,\"network\":{}}", 400,
            "unknown_field", "bogus");
    t_error(srv.port, "POST", "/v1/sessions/x/step", "", 400, "invalid_json", "");
    t_error(srv.port, "POST", "/v1/sessions/x/step", "{}", 400, "missing_field", "steps");
    t_error(srv.port, "POST", "/v1/sessions/x/step", "{\"steps\":0}", 400, "invalid_field",
            "steps");
    t_error(srv.port, "POST", "/v1/sessions/x/step", "{\"steps\":\"1\"}", 400, "wrong_type",
            "steps");
    /* above --max-steps (default 10,000,000): a limit, 413 */
    t_error(srv.port, "POST", "/v1/sessions/x/step", "{\"steps\":10000001}", 413,
            "limit_exceeded", "steps");
    t_error(srv.port, "POST", "/v1/sessions/x/step", "{\"duration_ms\":1e12}", 413,
            "limit_exceeded", "duration_ms");
    t_error(srv.port, "POST", "/v1/sessions/x/step", "{\"steps\":1,\"duration_ms\":1}", 400,
            "invalid_field", "duration_ms");
    t_error(srv.port, "POST", "/v1/sessions/x/step", "{\"steps\":1,\"x\":1}", 400,
            "unknown_field", "x");
    t_error(srv.port, "POST", "/v1/sessions/x/inputs", "{\"inputs\":[]}", 400, "invalid_field",
            "inputs");
    t_error(srv.port, "POST", "/v1/sessions/x/inputs",
            "{\"inputs\":[{\"population\":\"lif\",\"kind\":\"current\",\"neurons\":[99],"
            "\"value\":1}]}",
            400, "invalid_field", "inputs[0].neurons[0]");
    t_error(srv.port, "POST", "/v1/sessions/x/inputs",
            "{\"inputs\":[{\"population\":\"zz\",\"kind\":\"spike\"}]}", 400, "invalid_field",
            NULL);
    t_error(srv.port, "PATCH", "/v1/sessions/x/populations/lif", "{\"params\":{\"v_th\":\"a\"}}",
            400, "wrong_type", NULL);
    t_error(srv.port, "POST", "/v1/sessions/x/fork", "{\"name\":\"../y\"}", 400, "invalid_field",
            "name");
    t_error(srv.port, "POST", "/v1/sessions/x/fork", "{}", 400, "missing_field", "name");
    /* a bad step changes nothing */
    json_t *j = t_ok(srv.port, "GET", "/v1/sessions/x", NULL, 200);
    cr_assert_eq(json_integer_value(json_object_get(j, "step")), 0);
    json_decref(j);
}

Test(errors, networks)
{
    t_error(srv.port, "POST", "/v1/sessions",
            "{\"name\":\"a/b\",\"network\":{\"populations\":[{\"name\":\"p\",\"model\":\"lif\","
            "\"size\":1}]}}",
            400, "invalid_field", "name");
    t_error(srv.port, "POST", "/v1/sessions",
            "{\"name\":\"big\",\"network\":{\"populations\":[{\"name\":\"p\",\"model\":\"lif\","
            "\"size\":2000000}]}}",
            413, "limit_exceeded", "network.populations[0].size");
    t_error(srv.port, "POST", "/v1/sessions",
            "{\"name\":\"big\",\"network\":{\"populations\":[{\"name\":\"p\",\"model\":\"lif\","
            "\"size\":99999999999999999999}]}}",
            400, "invalid_json", NULL);
    t_error(srv.port, "POST", "/v1/sessions",
            "{\"name\":\"m\",\"network\":{\"populations\":[{\"name\":\"p\",\"model\":\"nope\","
            "\"size\":1}]}}",
            400, "invalid_field", "network.populations[0].model");
    t_error(srv.port, "POST", "/v1/sessions",
            "{\"name\":\"m\",\"network\":{\"populations\":[{\"name\":\"p\",\"model\":\"lif\","
            "\"size\":1,\"params\":{\"tau_mem_inv\":-1}}]}}",
            400, "invalid_field", "network.populations[0].params.tau_mem_inv");
}

Test(errors, names_sessions_paths_methods)
{
    t_error(srv.port, "GET", "/v1/sessions/bad.name", NULL, 400, "invalid_field", "name");
    t_error(srv.port, "GET", "/v1/sessions/nope", NULL, 404, "not_found", "");
    const char *paths[] = {"/v1/sessions/nope/state", "/v1/sessions/nope/spikes",
                           "/v1/sessions/nope/events", "/v1/sessions/nope/jobs/1",
                           "/v1/sessions/nope/recordings/0"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        t_error(srv.port, "GET", paths[i], NULL, 404, "not_found", NULL);
    t_error(srv.port, "POST", "/v1/sessions/nope/step", "{\"steps\":1}", 404, "not_found", NULL);
    t_error(srv.port, "DELETE", "/v1/sessions/nope", NULL, 404, "not_found", NULL);
    t_error(srv.port, "GET", "/v2/whatever", NULL, 404, "not_found", NULL);
    t_error(srv.port, "GET", "/v1/sessions/", NULL, 404, "not_found", NULL);
    t_error(srv.port, "GET", "/v1/sessions/x/state?bogus=1", NULL, 400, "unknown_field",
            "query.bogus");
    t_error(srv.port, "GET", "/v1/sessions/x/state?neurons=5:99", NULL, 400, "invalid_field",
            "query.neurons");
    t_error(srv.port, "GET", "/v1/sessions/x/spikes?to_step=99", NULL, 400, "invalid_field",
            "query.to_step");
    t_error(srv.port, "GET", "/v1/sessions/x/spikes?from_step=%zz", NULL, 400, NULL, NULL);
    struct {
        const char *method, *path, *allow;
    } m[] = {{"PUT", "/v1/sessions", "GET, HEAD, POST"},
             {"POST", "/v1/sessions/x", "GET, HEAD, PATCH, DELETE"},
             {"GET", "/v1/sessions/x/step", "POST"},
             {"DELETE", "/healthz", "GET, HEAD"},
             {"PATCH", "/v1/sessions/x/jobs/1", "GET, HEAD, DELETE"}};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        t_error(srv.port, m[i].method, m[i].path, NULL, 405, "method_not_allowed", "");
        hc_resp_t r;
        cr_assert_eq(hc_request(srv.port, m[i].method, m[i].path, NULL, NULL, &r), 0);
        char allow[128];
        cr_assert_not_null(hc_header(&r, "Allow", allow, sizeof allow));
        cr_assert_str_eq(allow, m[i].allow);
        hc_resp_free(&r);
    }
    hc_resp_t r;
    cr_assert_eq(hc_request(srv.port, "HEAD", "/v1/sessions/x", NULL, NULL, &r), 0);
    cr_assert_eq(r.status, 200);
    hc_resp_free(&r);
}

Test(errors, framing_sizes_and_media_type)
{
    hc_conn_t *c = malloc(sizeof *c);
    hc_resp_t r;
    /* Content-Length over the limit: 413 at once, without reading the body */
    cr_assert_eq(hc_connect(c, srv.port), 0);
    const char *big = "POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      "Content-Length: 100000000\r\n\r\n{";
    cr_assert_eq(hc_send_raw(c, big, strlen(big)), 0);
    cr_assert_eq(hc_recv(c, &r, 5000), 0);
    cr_assert_eq(r.status, 413);
    cr_assert_not_null(strstr(r.body, "payload_too_large"));
    hc_resp_free(&r);
    hc_close(c);
    /* chunked upload over the limit */
    cr_assert_eq(hc_connect(c, srv.port), 0);
    const char *head = "POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n";
    cr_assert_eq(hc_send_raw(c, head, strlen(head)), 0);
    char chunk[8200];
    memset(chunk, ' ', sizeof chunk);
    int n = snprintf(chunk, sizeof chunk, "2000\r\n");
    chunk[n + 0x2000] = '\r';
    chunk[n + 0x2000 + 1] = '\n';
    for (int k = 0; k < 9; k++) /* 72 KiB > 64 KiB */
        cr_assert_eq(hc_send_raw(c, chunk, (size_t)n + 0x2000 + 2), 0);
    cr_assert_eq(hc_send_raw(c, "0\r\n\r\n", 5), 0);
    cr_assert_eq(hc_recv(c, &r, 5000), 0);
    cr_assert_eq(r.status, 413);
    hc_resp_free(&r);
    hc_close(c);
    /* two Content-Length headers, or Content-Length with Transfer-Encoding: 400 */
    const char *dup[] = {
        "POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}",
        "POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
        "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"};
    for (int k = 0; k < 2; k++) {
        cr_assert_eq(hc_connect(c, srv.port), 0);
        cr_assert_eq(hc_send_raw(c, dup[k], strlen(dup[k])), 0);
        cr_assert_eq(hc_recv(c, &r, 5000), 0);
        cr_assert_eq(r.status, 400, "case %d: %d", k, r.status);
        hc_resp_free(&r);
        hc_close(c);
    }
    /* wrong media type */
    cr_assert_eq(hc_request(srv.port, "POST", "/v1/sessions/x/step",
                            "Content-Type: text/plain\r\n", "{\"steps\":1}", &r),
                 0);
    cr_assert_eq(r.status, 415);
    cr_assert_not_null(strstr(r.body, "unsupported_media_type"));
    hc_resp_free(&r);
    /* keep-alive: several requests on one connection */
    cr_assert_eq(hc_connect(c, srv.port), 0);
    for (int k = 0; k < 5; k++) {
        cr_assert_eq(hc_send(c, "GET", "/healthz", NULL, NULL, 0), 0);
        cr_assert_eq(hc_recv(c, &r, 5000), 0);
        cr_assert_eq(r.status, 200);
        hc_resp_free(&r);
    }
    hc_close(c);
    free(c);
}

Test(errors, session_limit)
{
    t_create(srv.port, "y", 5, 1);
    t_create(srv.port, "z", 5, 1);
    t_error(srv.port, "POST", "/v1/sessions", t_net_lif("w", 5, 1), 429, "too_many_requests", NULL);
    t_error(srv.port, "POST", "/v1/sessions/x/fork", "{\"name\":\"w\"}", 429, "too_many_requests",
            NULL);
    hc_resp_t r;
    cr_assert_eq(hc_request(srv.port, "DELETE", "/v1/sessions/z", NULL, NULL, &r), 0);
    hc_resp_free(&r);
    t_create(srv.port, "w", 5, 1);
}
