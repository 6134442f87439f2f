/* h_events.c: GET /v1/sessions/{name}/events, the Server-Sent Events stream.
 *
 * Subscribing is a session read (at a chunk boundary, so `step` is exact): the subscriber
 * gets "retry", a "hello" event {session, step, population}, then, with Last-Event-ID: S,
 * the spike batches of steps [S, now) still in the core's spike history (at most
 * --replay-steps; older steps are reported as `dropped`), pulled from the history as the
 * client reads (sse.h), then every new batch, progress and lifecycle event. The response
 * body is produced by the subscriber (sse.c) through the HTTP adapter.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers/common.h"

/* Last-Event-ID: "<step>" (epoch 0) or "<resets>:<step>" (jobs.h srv_event_id). 1 given,
 * 0 absent, -1 malformed. */
static int last_event_id(const srv_req_t *rq, uint64_t *epoch, uint64_t *out)
{
    const char *h = srv_req_header(rq, "Last-Event-ID");
    *epoch = 0;
    if (!h || !*h)
        return 0;
    const char *colon = strchr(h, ':');
    if (colon) {
        char e[24];
        size_t n = (size_t)(colon - h);
        if (n == 0 || n >= sizeof e)
            return -1;
        memcpy(e, h, n);
        e[n] = '\0';
        if (sk_proto_parse_u64(e, 1, UINT32_MAX, epoch))
            return -1;
        h = colon + 1;
    }
    return sk_proto_parse_u64(h, 0, UINT64_MAX, out) ? -1 : 1;
}

static int subscribe(srv_session_t *sess, srv_req_t *rq, int32_t pop, srv_resp_t *rs)
{
    uint64_t last = 0, epoch = 0;
    int has_last = last_event_id(rq, &epoch, &last);
    if (has_last < 0) {
        srv_resp_error(rs, 400, "invalid_field", "headers.Last-Event-ID",
                       "must be the id of an event of this session (a step number, or "
                       "resets:step after a reset)");
        return -1;
    }
    /* An id of another epoch (from before the last reset, or from before a restart that
     * lost the count): its steps are gone. The client is told with a `reset` event right
     * after the hello, and gets the current history from step 0 (older than
     * --replay-steps: reported dropped), never silently nothing. */
    int was_reset = has_last && epoch != sess->resets;
    if (was_reset)
        last = 0;
    sk_pop_info_t pi;
    json_t *hello = json_pack("{s:s, s:I, s:f, s:o}", "session", sess->name, "step",
                              (json_int_t)sess->step, "dt", sess->dt_ms, "population",
                              pop >= 0 && !sk_net_pop_info(sess->net, (uint32_t)pop, &pi)
                                  ? json_string(pi.name)
                                  : json_null());
    char *text = hello ? sk_proto_dumps(hello, NULL) : NULL;
    json_decref(hello);
    if (text && was_reset) {
        /* srv_hub_subscribe writes "event: hello\ndata: <text>\n\n": the reset event
         * follows the hello in the same notice */
        json_t *r = json_pack("{s:I, s:I, s:I}", "resets", (json_int_t)sess->resets,
                              "last_event_resets", (json_int_t)epoch, "step",
                              (json_int_t)sess->step);
        char *rt = r ? sk_proto_dumps(r, NULL) : NULL;
        json_decref(r);
        char *both = NULL;
        if (rt && asprintf(&both, "%s\n\nevent: reset\ndata: %s", text, rt) < 0)
            both = NULL;
        free(rt);
        free(text);
        text = both;
    }
    /* Replay [from, now) is pulled from the history as the reader drains (sse.h); steps
     * before the --replay-steps window are reported as dropped. */
    uint64_t now = sess->step, from = now, lost_from = now;
    if (has_last && last < now) {
        uint64_t span = sess->srv->cfg.replay_steps;
        lost_from = last;
        from = now - last > span ? now - span : last;
    }
    int status = 503;
    srv_sub_t *sub = text ? srv_hub_subscribe(&sess->hub, pop < 0 ? SRV_HUB_ALL : pop, text,
                                              lost_from, from, now, &status)
                          : NULL;
    free(text);
    if (!sub) {
        if (status == 429)
            srv_resp_error(rs, 429, "too_many_requests", "",
                           "session %s has its maximum of %u subscribers (--max-subscribers)",
                           sess->name, sess->hub.max_subscribers);
        else
            srv_resp_error(rs, 503, "unavailable", "", "out of memory");
        return -1;
    }
    rs->kind = SRV_RESP_STREAM;
    rs->status = 200;
    rs->stream = sub;
    return 0;
}

static void events_read(srv_session_t *sess, srv_req_t *rq, void *arg)
{
    (void)arg;
    if (sess->closing) {
        h_closed(sess, rq);
        return;
    }
    char buf[1024];
    sk_proto_kv_t kv[H_MAX_QUERY];
    size_t n = 0;
    sk_proto_error_t e;
    sk_proto_net_view_t v;
    int32_t pop = -1;
    srv_resp_t rs;
    srv_resp_init(&rs);
    if (h_query(rq, buf, sizeof buf, kv, &n, &e)) {
        h_error(&rs, &e);
    } else if (sk_proto_net_view_init(&v, sess->net)) {
        srv_resp_error(&rs, 503, "unavailable", "", "out of memory");
    } else {
        int rc = sk_proto_events_query_decode(kv, n, &v, &pop, &e);
        sk_proto_net_view_close(&v);
        if (rc)
            h_error(&rs, &e);
        else
            subscribe(sess, rq, pop, &rs);
    }
    srv_req_finish(rq, &rs);
}

int h_events_get(srv_server_t *s, srv_req_t *rq, srv_resp_t *rs)
{
    if (rq->method == SRV_HEAD) {
        srv_resp_error(rs, 405, "method_not_allowed", "", "HEAD is not allowed on a stream");
        srv_resp_header(rs, "Allow", "GET");
        return SRV_DONE;
    }
    srv_session_t *sess = h_session(s, rq, rs);
    return sess ? h_read(sess, rq, rs, events_read, NULL) : SRV_DONE;
}
