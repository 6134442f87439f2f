/* metrics.c: request counters, latency histograms and step rates (see metrics.h). */
#include "base/metrics.h"

#include <string.h>

#include "base/req.h"

static const int statuses[SRV_METRICS_STATUSES - 1] = {200, 201, 202, 204, 304, 400, 401,
                                                        403, 404, 405, 409, 410, 413, 415,
                                                        422, 429, 500, 503, 504};
static const double bounds[SRV_METRICS_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                   0.05,   0.1,   0.25,   0.5,   1.0,  5.0};

void srv_metrics_init(srv_metrics_t *m)
{
    memset(m, 0, sizeof *m);
}

static int status_slot(int status)
{
    for (int i = 0; i < SRV_METRICS_STATUSES - 1; i++)
        if (statuses[i] == status)
            return i;
    return SRV_METRICS_STATUSES - 1;
}

void srv_metrics_request(srv_metrics_t *m, int route, int status, uint64_t ns)
{
    int r = route >= 0 && route < SRV_N_ROUTES ? route : SRV_N_ROUTES;
    m->requests[r][status_slot(status)]++;
    double s = (double)ns / 1e9;
    int b = 0;
    while (b < SRV_METRICS_BUCKETS && s > bounds[b])
        b++;
    m->latency[r][b]++;
    m->latency_sum[r] += s;
}

void srv_metrics_tick(srv_metrics_t *m, uint64_t now_ns)
{
    if (m->rate_t_ns && now_ns > m->rate_t_ns) {
        double dt = (double)(now_ns - m->rate_t_ns) / 1e9;
        double st = (double)(m->steps_total - m->rate_steps) / dt;
        double sp = (double)(m->spikes_total - m->rate_spikes) / dt;
        /* EWMA with a ~3 s horizon: smooth enough to read, quick enough to follow. */
        m->steps_per_s += (st - m->steps_per_s) * 0.3;
        m->spikes_per_s += (sp - m->spikes_per_s) * 0.3;
    }
    m->rate_t_ns = now_ns;
    m->rate_steps = m->steps_total;
    m->rate_spikes = m->spikes_total;
}

/* The routes' methods and patterns, in routes.def order (the router's table is above this
 * layer; the rows are the same). */
static const srv_method_t route_methods[SRV_N_ROUTES] = {
#define X(method, pattern, handler) SRV_##method,
#include "base/routes.def"
#undef X
};
static const char *const route_patterns[SRV_N_ROUTES] = {
#define X(method, pattern, handler) pattern,
#include "base/routes.def"
#undef X
};

static const char *route_label(int r)
{
    return r < SRV_N_ROUTES ? route_patterns[r] : "other";
}

static void render_requests(const srv_metrics_t *m, srv_buf_t *b)
{
    srv_buf_printf(b, "# HELP spiked_http_requests_total HTTP requests by route and status.\n"
                      "# TYPE spiked_http_requests_total counter\n");
    for (int r = 0; r <= SRV_N_ROUTES; r++)
        for (int k = 0; k < SRV_METRICS_STATUSES; k++)
            if (m->requests[r][k]) {
                const char *method = r < SRV_N_ROUTES ? srv_method_name(route_methods[r])
                                                      : "any";
                if (k < SRV_METRICS_STATUSES - 1)
                    srv_buf_printf(b,
                                   "spiked_http_requests_total{method=\"%s\",route=\"%s\","
                                   "status=\"%d\"} %llu\n",
                                   method, route_label(r), statuses[k],
                                   (unsigned long long)m->requests[r][k]);
                else
                    srv_buf_printf(b,
                                   "spiked_http_requests_total{method=\"%s\",route=\"%s\","
                                   "status=\"other\"} %llu\n",
                                   method, route_label(r), (unsigned long long)m->requests[r][k]);
            }
}

static void render_latency(const srv_metrics_t *m, srv_buf_t *b)
{
    srv_buf_printf(b, "# HELP spiked_http_request_seconds HTTP request latency by route.\n"
                      "# TYPE spiked_http_request_seconds histogram\n");
    for (int r = 0; r <= SRV_N_ROUTES; r++) {
        uint64_t cum = 0;
        for (int k = 0; k <= SRV_METRICS_BUCKETS; k++)
            cum += m->latency[r][k];
        if (!cum)
            continue;
        const char *method = r < SRV_N_ROUTES ? srv_method_name(route_methods[r]) : "any";
        uint64_t total = cum;
        cum = 0;
        for (int k = 0; k < SRV_METRICS_BUCKETS; k++) {
            cum += m->latency[r][k];
            srv_buf_printf(b,
                           "spiked_http_request_seconds_bucket{method=\"%s\",route=\"%s\","
                           "le=\"%g\"} %llu\n",
                           method, route_label(r), bounds[k], (unsigned long long)cum);
        }
        srv_buf_printf(b,
                       "spiked_http_request_seconds_bucket{method=\"%s\",route=\"%s\",le=\"+Inf\"} "
                       "%llu\n"
                       "spiked_http_request_seconds_sum{method=\"%s\",route=\"%s\"} %.6f\n"
                       "spiked_http_request_seconds_count{method=\"%s\",route=\"%s\"} %llu\n",
                       method, route_label(r), (unsigned long long)total, method, route_label(r),
                       m->latency_sum[r], method, route_label(r), (unsigned long long)total);
    }
}

static void counter(srv_buf_t *b, const char *name, const char *help, uint64_t v)
{
    srv_buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
                   (unsigned long long)v);
}

void srv_metrics_render(const srv_metrics_t *m, srv_buf_t *b)
{
    counter(b, "spiked_steps_total", "Simulation steps taken, all sessions.", m->steps_total);
    counter(b, "spiked_spikes_total", "Spikes emitted, all sessions.", m->spikes_total);
    srv_buf_printf(b,
                   "# HELP spiked_steps_per_second Steps per second (moving average).\n"
                   "# TYPE spiked_steps_per_second gauge\nspiked_steps_per_second %.1f\n"
                   "# HELP spiked_spikes_per_second Spikes per second (moving average).\n"
                   "# TYPE spiked_spikes_per_second gauge\nspiked_spikes_per_second %.1f\n",
                   m->steps_per_s, m->spikes_per_s);
    counter(b, "spiked_events_published_total", "Stream events published.",
            m->events_published);
    counter(b, "spiked_subscriber_dropped_total",
            "Spike steps (and control events) slow stream subscribers lost, reported to them "
            "as dropped events.", m->events_dropped);
    counter(b, "spiked_jobs_started_total", "Step jobs started.", m->jobs_started);
    counter(b, "spiked_jobs_finished_total", "Step jobs finished.", m->jobs_finished);
    counter(b, "spiked_jobs_canceled_total", "Step jobs canceled or timed out.",
            m->jobs_canceled);
    counter(b, "spiked_checkpoints_written_total", "Checkpoints written.",
            m->checkpoints_written);
    counter(b, "spiked_checkpoints_failed_total", "Checkpoints that failed.",
            m->checkpoints_failed);
    counter(b, "spiked_journal_failed_total",
            "Journal records that could not be written (the change may not survive a restart).",
            m->journal_failed);
    counter(b, "spiked_checkpoints_rejected_total",
            "Checkpoint files that did not restore at start (kept in place, names held).",
            m->checkpoints_rejected);
    render_requests(m, b);
    render_latency(m, b);
}
