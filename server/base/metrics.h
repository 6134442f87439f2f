/* metrics.h: counters of the server, rendered as Prometheus text at GET /metrics.
 *
 * Requests are counted by (route, status) and timed by route in a fixed-bucket histogram.
 * Routes are the rows of routes.def (plus one row "other" for 404s and static files);
 * statuses are the codes the API can answer (plus "other"). Stepping adds steps and spikes;
 * a 1 s timer turns them into per-second rates (exponential moving average).
 *
 * Threads: loop thread only (workers report through after_work_cb).
 */
#ifndef SPIKED_SRV_METRICS_H
#define SPIKED_SRV_METRICS_H

#include <stdint.h>

#include "base/buf.h"

enum {
#define X(method, pattern, handler) SRV_ROUTE_##handler,
#include "base/routes.def"
#undef X
    SRV_N_ROUTES
};

#define SRV_METRICS_STATUSES 20
#define SRV_METRICS_BUCKETS  12

typedef struct srv_metrics {
    uint64_t requests[SRV_N_ROUTES + 1][SRV_METRICS_STATUSES];
    uint64_t latency[SRV_N_ROUTES + 1][SRV_METRICS_BUCKETS + 1]; /* last = +Inf */
    double latency_sum[SRV_N_ROUTES + 1];                         /* seconds */
    uint64_t steps_total, spikes_total;
    uint64_t events_published, events_dropped;
    uint64_t jobs_started, jobs_finished, jobs_canceled, jobs_failed;
    uint64_t checkpoints_written, checkpoints_failed;
    uint64_t journal_failed; /* journal records that could not be written (engine/journal.h) */
    uint64_t checkpoints_rejected; /* files set aside (*.bad) at start */
    uint32_t http_streams;         /* open event streams (kept by http/http.c) */
    double steps_per_s, spikes_per_s;
    uint64_t rate_steps, rate_spikes, rate_t_ns; /* last sample */
} srv_metrics_t;

void srv_metrics_init(srv_metrics_t *m);
/* One finished request: route index (-1 = none), HTTP status, wall time. */
void srv_metrics_request(srv_metrics_t *m, int route, int status, uint64_t ns);
/* Updates the per-second rates (called every second). */
void srv_metrics_tick(srv_metrics_t *m, uint64_t now_ns);
/* Appends the counters in Prometheus text format. */
void srv_metrics_render(const srv_metrics_t *m, srv_buf_t *b);

#endif
