/* h_service.c: GET /healthz, GET /metrics, GET /openapi.json, GET /v1/models. */
#include <stdio.h>
#include <string.h>

#include "api/handlers/common.h"
#include "engine/journal.h"

int h_health_get(srv_server_t *s, srv_req_t *rq, srv_resp_t *rs)
{
    (void)rq;
    const char *st = s->phase == SRV_RUNNING ? "ok" : "stopping";
    /* checkpoints_not_restored: names whose checkpoint did not restore at start (kept on
     * disk, names refused: registry.h); the first 100, the count in full. */
    srv_registry_t *reg = s->reg;
    json_t *held = json_array();
    for (uint32_t i = 0; held && i < reg->n_held && i < 100; i++)
        json_array_append_new(held, json_string(reg->held[i]));
    json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:I, s:o?}", "status", st, "sessions",
                          (json_int_t)reg->n, "memory_used",
                          (json_int_t)(reg->mem_used + reg->mem_reserved), "memory_max",
                          (json_int_t)reg->mem_max, "checkpoints_not_restored_count",
                          (json_int_t)reg->n_held, "checkpoints_not_restored", held);
    if (j && s->journal) { /* journal.h: what the start's replay found */
        uint64_t replayed, errors, torn;
        srv_journal_stats(s, &replayed, &errors, &torn);
        json_object_set_new(j, "journal_replayed", json_integer((json_int_t)replayed));
        json_object_set_new(j, "journal_replay_errors", json_integer((json_int_t)errors));
        json_object_set_new(j, "journal_torn_bytes", json_integer((json_int_t)torn));
        uint64_t rounds, done;
        srv_journal_rounds(s, &rounds, &done);
        json_object_set_new(j, "snapshot_rounds", json_integer((json_int_t)rounds));
        json_object_set_new(j, "snapshot_rounds_done", json_integer((json_int_t)done));
    }
    return h_json(rs, s->phase == SRV_RUNNING ? 200 : 503, j);
}

static void gauge(srv_buf_t *b, const char *name, const char *help, double v)
{
    srv_buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n%s %.17g\n", name, help, name, name, v);
}

int h_metrics_get(srv_server_t *s, srv_req_t *rq, srv_resp_t *rs)
{
    (void)rq;
    srv_buf_t b;
    srv_buf_init(&b, 4u << 20);
    uint64_t subs = 0, running = 0, queued = 0, bytes = 0;
    for (uint32_t i = 0; i < s->reg->n; i++) {
        srv_session_t *sess = s->reg->items[i];
        subs += sess->hub.n_subs;
        running += srv_job_current(sess) != NULL || sess->realtime;
        queued += sess->q_len;
        if (!sess->busy) {
            sk_net_info_t ni;
            sk_net_info(sess->net, &ni);
            bytes += ni.bytes;
        }
    }
    gauge(&b, "spiked_sessions", "Sessions.", (double)s->reg->n);
    gauge(&b, "spiked_sessions_running", "Sessions stepping (job or real time).", (double)running);
    gauge(&b, "spiked_operations_queued", "Operations waiting in session queues.", (double)queued);
    gauge(&b, "spiked_subscribers", "Event-stream subscribers.", (double)subs);
    gauge(&b, "spiked_network_bytes", "Memory held by idle sessions' networks.", (double)bytes);
    gauge(&b, "spiked_uptime_seconds", "Seconds since start.",
          (double)(srv_now_ns() - s->started_ns) / 1e9);
    if (s->http)
        gauge(&b, "spiked_http_streams", "Open event streams.",
              (double)s->metrics.http_streams);
    srv_metrics_render(&s->metrics, &b);
    size_t len = 0;
    char *text = srv_buf_steal(&b, &len);
    if (!text) {
        srv_resp_error(rs, 503, "unavailable", "", "out of memory");
        return SRV_DONE;
    }
    srv_resp_take(rs, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    return SRV_DONE;
}

int h_openapi_get(srv_server_t *s, srv_req_t *rq, srv_resp_t *rs)
{
    (void)s;
    (void)rq;
    size_t len = 0;
    const char *doc = sk_proto_openapi_json(&len);
    srv_resp_copy(rs, 200, "application/json", doc, len);
    return SRV_DONE;
}

int h_models_list(srv_server_t *s, srv_req_t *rq, srv_resp_t *rs)
{
    (void)s;
    (void)rq;
    return h_json(rs, 200, sk_proto_models_json());
}
