/* server.c: start-up and graceful shutdown (see server.h). */
#include "server.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/ckpt_store.h"
#include "engine/journal.h"
#include "demo.h"
#include "http/http.h"
#include "base/log.h"
#include "engine/pacer.h"
#include "engine/registry.h"
#include "spiked/proto.h"

#define CLOSE_GRACE_NS 3000000000ull

static void on_rates(uv_timer_t *t)
{
    srv_server_t *s = t->data;
    srv_metrics_tick(&s->metrics, srv_now_ns());
}

static void on_heartbeat(uv_timer_t *t)
{
    srv_server_t *s = t->data;
    for (uint32_t i = 0; i < s->reg->n; i++)
        srv_hub_heartbeat(&s->reg->items[i]->hub);
}

static void on_signal(uv_signal_t *h, int signum)
{
    srv_server_t *s = h->data;
    if (++s->signals > 1) {
        /* Exits at once, losing nothing acknowledged: with --data-dir every acknowledged
         * change is in the journal (engine/journal.h), flushed here; checkpoints being
         * written are abandoned (their temporary files are removed at the next start,
         * the previous files stay) and the next start replays the journal on them. */
        int kept = srv_journal_flush(s);
        srv_log(SRV_LOG_WARN, "second signal %d: exiting now (%s)", signum,
                kept == 0 ? "the journal holds every acknowledged change"
                : kept > 0 ? "no data directory: nothing is kept"
                           : "the journal could not be flushed");
        _exit(1);
    }
    srv_log(SRV_LOG_INFO, "signal %d: shutting down", signum);
    srv_server_shutdown(s);
}

/* The dashboard folder: --static-dir, else the first of the usual places that exists. */
static void find_static(srv_config_t *c)
{
    char cand[3][PATH_MAX], exe[PATH_MAX], real[PATH_MAX];
    int n = 0;
    if (!strcmp(c->static_dir, "-")) {
        c->static_dir[0] = '\0';
        return;
    }
    if (c->static_dir[0]) {
        snprintf(cand[n++], PATH_MAX, "%s", c->static_dir);
    } else {
        ssize_t l = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (l > 0) {
            exe[l] = '\0';
            char *slash = strrchr(exe, '/');
            if (slash)
                *slash = '\0';
            snprintf(cand[n++], PATH_MAX, "%.3000s/../share/spiked/web", exe);
        }
        snprintf(cand[n++], PATH_MAX, "%s/clients/web", SPIKED_SOURCE_DIR);
    }
    c->static_dir[0] = '\0';
    for (int i = 0; i < n; i++) {
        struct stat st;
        if (realpath(cand[i], real) && !stat(real, &st) && S_ISDIR(st.st_mode) &&
            strlen(real) < sizeof c->static_dir) {
            memcpy(c->static_dir, real, strlen(real) + 1);
            return;
        }
    }
}

/* Creates (or, when restored, resumes) the real-time session "demo". */
static int start_demo(srv_server_t *s, char *err, size_t len)
{
    srv_session_t *sess = srv_registry_find(s->reg, "demo");
    if (!sess) {
        sk_proto_caps_t caps;
        srv_session_caps(s, &caps);
        json_t *j = NULL;
        sk_proto_session_t *ps = NULL;
        sk_proto_error_t e;
        sk_net_t *net = NULL;
        sk_err_t ce = {0};
        int rc = sk_proto_parse(srv_demo_json, srv_demo_json_len, &caps, &j, &e);
        if (!rc)
            rc = sk_proto_session_decode(j, &caps, &ps, &e);
        json_decref(j);
        if (!rc && (rc = sk_net_create(&ps->spec, &net, &ce)) != 0)
            snprintf(e.message, sizeof e.message, "%.60s: %.180s", ce.path, ce.msg);
        sk_proto_session_free(ps);
        if (rc || srv_session_create(s, "demo", net, &sess) || srv_registry_add(s->reg, sess)) {
            snprintf(err, len, "--demo: cannot build the demo network: %s",
                     rc ? e.message : "limits or memory");
            return -1;
        }
        srv_session_lifecycle(sess, "created", NULL);
    }
    srv_session_set_realtime(sess, 1);
    srv_log(SRV_LOG_INFO, "demo session 'demo' stepping in real time");
    return 0;
}

int srv_server_init(srv_server_t *s, uv_loop_t *loop, const srv_config_t *cfg, char *err,
                    size_t len)
{
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    s->loop = loop;
    s->started_ns = srv_now_ns();
    srv_metrics_init(&s->metrics);
    find_static(&s->cfg);
    s->reg = calloc(1, sizeof *s->reg);
    if (!s->reg || srv_registry_init(s->reg, (uint32_t)cfg->max_sessions, cfg->max_memory)) {
        snprintf(err, len, "out of memory");
        return -1;
    }
    if (cfg->data_dir[0]) {
        if (srv_ckpt_dir_init(cfg->data_dir, err, len) < 0)
            return -1;
        int n = srv_ckpt_restore_all(s);
        srv_log(SRV_LOG_INFO, "data directory %s: %d session(s) restored", cfg->data_dir, n);
        if (srv_journal_open(s, err, len) < 0) /* replays what followed the checkpoints */
            return -1;
    }
    if (cfg->demo && start_demo(s, err, len) < 0)
        return -1;
    return 0;
}

int srv_server_listen(srv_server_t *s, char *err, size_t len)
{
    uint16_t port = 0;
    if (srv_http_start(s, &s->http, &port, err, len) < 0)
        return -1;
    uv_timer_init(s->loop, &s->t_rates);
    uv_timer_init(s->loop, &s->t_heartbeat);
    uv_timer_init(s->loop, &s->t_shutdown);
    uv_signal_init(s->loop, &s->sig_term);
    uv_signal_init(s->loop, &s->sig_int);
    s->t_rates.data = s->t_heartbeat.data = s->t_shutdown.data = s;
    s->sig_term.data = s->sig_int.data = s;
    s->n_handles = 5;
    uv_timer_start(&s->t_rates, on_rates, 1000, 1000);
    uv_timer_start(&s->t_heartbeat, on_heartbeat, s->cfg.heartbeat_ms, s->cfg.heartbeat_ms);
    uv_signal_start(&s->sig_term, on_signal, SIGTERM);
    uv_signal_start(&s->sig_int, on_signal, SIGINT);
    srv_log(SRV_LOG_INFO, "spiked listening on %s port %u (auth %s, dashboard %s)", s->cfg.bind,
            (unsigned)port, s->cfg.token[0] ? "on" : "off",
            s->cfg.static_dir[0] ? s->cfg.static_dir : "off");
    printf("port=%u\n", (unsigned)port);
    fflush(stdout);
    return 0;
}

/* ---- shutdown ---- */

static int all_idle(const srv_server_t *s)
{
    if (s->creating)
        return 0;
    for (uint32_t i = 0; i < s->reg->n; i++) {
        const srv_session_t *sess = s->reg->items[i];
        if (sess->busy || sess->current || sess->q_head)
            return 0;
    }
    return 1;
}

static void on_handle_closed(uv_handle_t *h)
{
    srv_server_t *s = h->data;
    s->n_handles--;
}

static void http_closed(void *arg)
{
    srv_server_t *s = arg;
    s->http = NULL;
    s->phase = SRV_STOPPED;
    uv_close((uv_handle_t *)&s->t_rates, on_handle_closed);
    uv_close((uv_handle_t *)&s->t_heartbeat, on_handle_closed);
    uv_close((uv_handle_t *)&s->t_shutdown, on_handle_closed);
    uv_close((uv_handle_t *)&s->sig_term, on_handle_closed);
    uv_close((uv_handle_t *)&s->sig_int, on_handle_closed);
}

static void enter(srv_server_t *s, srv_phase_t phase)
{
    s->phase = phase;
    s->phase_ns = srv_now_ns();
}

static void save_all(srv_server_t *s)
{
    s->save_failed = s->metrics.checkpoints_failed;
    s->save_ns = srv_now_ns();
    for (uint32_t i = 0; i < s->reg->n; i++) {
        srv_session_t *sess = s->reg->items[i];
        srv_op_t *op = srv_ckpt_op_new(NULL);
        if (!op || srv_session_submit(sess, op) != SRV_DEFERRED)
        {
            srv_log(SRV_LOG_ERROR, "shutdown: cannot checkpoint session %s", sess->name);
            s->save_failed = UINT64_MAX;
        }
    }
}

static void on_shutdown_tick(uv_timer_t *t)
{
    srv_server_t *s = t->data;
    switch (s->phase) {
    case SRV_DRAINING:
        if (!all_idle(s))
            return;
        enter(s, SRV_SAVING);
        if (s->cfg.data_dir[0])
            save_all(s);
        return;
    case SRV_SAVING:
        if (!all_idle(s))
            return;
        if (s->cfg.data_dir[0])
            srv_log(SRV_LOG_INFO, "shutdown: %u session(s) saved in %.1f ms (%llu failed)",
                    (unsigned)s->reg->n, (double)(srv_now_ns() - s->save_ns) / 1e6,
                    (unsigned long long)(s->metrics.checkpoints_failed - s->save_failed));
        enter(s, SRV_CLOSING);
        {
            /* every session is in a checkpoint that holds its journal records: the journal
             * can start empty (not when a checkpoint failed or one was never restored) */
            uint64_t replayed, errors, torn;
            srv_journal_stats(s, &replayed, &errors, &torn);
            srv_journal_close(s, s->save_failed == s->metrics.checkpoints_failed &&
                                     !s->reg->n_held && !errors);
        }
        srv_registry_close(s->reg, 503, "unavailable");
        srv_http_end_streams(s->http);
        return;
    case SRV_CLOSING:
        if ((srv_http_open_streams(s->http) || srv_http_open_requests(s->http)) &&
            srv_now_ns() - s->phase_ns < CLOSE_GRACE_NS)
            return;
        uv_timer_stop(&s->t_shutdown);
        srv_log(SRV_LOG_INFO, "shutdown: stopping the HTTP server");
        srv_http_stop(s->http, http_closed, s);
        return;
    default:
        return;
    }
}

void srv_server_shutdown(srv_server_t *s)
{
    if (s->phase != SRV_RUNNING)
        return;
    enter(s, SRV_DRAINING);
    srv_http_quiesce(s->http);
    uv_timer_stop(&s->t_heartbeat);
    for (uint32_t i = 0; i < s->reg->n; i++)
        srv_session_drain(s->reg->items[i], 503, "unavailable");
    uv_timer_start(&s->t_shutdown, on_shutdown_tick, 0, 20);
}

void srv_server_free(srv_server_t *s)
{
    if (s->reg) {
        srv_registry_close(s->reg, 503, "unavailable");
        free(s->reg);
        s->reg = NULL;
    }
}
