/* bare_server.c: the peer of spiked's HTTP benchmarks: libmicrohttpd 0.9.75 in external-epoll
 * mode driven by one libuv loop, exactly the pump docs/SERVER-NOTES.md recommends and spiked uses
 * (server/http/loop.c): MHD's epoll fd under a uv_poll_t, MHD_get_timeout re-armed after every
 * MHD_run (a uv_idle_t for a zero timeout, a uv_timer_t otherwise), a 500 ms safety pump,
 * the response queued on the second handler call (keep-alive). Same daemon options as
 * spiked (connection limit, 30 s timeout, 32 KiB connection memory). Every request gets the
 * same tiny JSON, so the difference to spiked is the application: routing, auth, session
 * lookup, JSON encoding, metrics and logging.
 *
 * usage: bench_bare_server [--port N]     prints "port=N" on stdout; SIGTERM/SIGINT stop it
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>
#include <uv.h>

static const char BODY[] = "{\"name\":\"bench\",\"status\":\"idle\",\"step\":0}";

typedef struct pump {
    struct MHD_Daemon *d;
    uv_poll_t poll;
    uv_timer_t timer, safety;
    uv_idle_t idle;
    uv_signal_t sig_term, sig_int;
    struct MHD_Response *resp;
} pump_t;

static void run_pump(pump_t *p);

static void on_idle(uv_idle_t *h)
{
    run_pump(h->data);
}

static void on_timer(uv_timer_t *h)
{
    run_pump(h->data);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    run_pump(h->data);
}

static void run_pump(pump_t *p)
{
    MHD_run(p->d);
    MHD_UNSIGNED_LONG_LONG to = 0;
    int has = MHD_get_timeout(p->d, &to) == MHD_YES;
    if (has && to == 0) {
        uv_timer_stop(&p->timer);
        uv_idle_start(&p->idle, on_idle);
    } else if (has) {
        uv_idle_stop(&p->idle);
        uv_timer_start(&p->timer, on_timer, to, 0);
    } else {
        uv_idle_stop(&p->idle);
        uv_timer_stop(&p->timer);
    }
}

static enum MHD_Result ahc(void *cls, struct MHD_Connection *c, const char *url,
                           const char *method, const char *version, const char *upload_data,
                           size_t *upload_size, void **con_cls)
{
    (void)url;
    (void)method;
    (void)version;
    (void)upload_data;
    pump_t *p = cls;
    static int marker;
    if (!*con_cls) { /* first call: headers only; answering now would cost keep-alive */
        *con_cls = &marker;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;
        return MHD_YES;
    }
    return MHD_queue_response(c, MHD_HTTP_OK, p->resp);
}

static void on_close(uv_handle_t *h)
{
    (void)h;
}

static void on_signal(uv_signal_t *h, int signum)
{
    (void)signum;
    pump_t *p = h->data;
    uv_close((uv_handle_t *)&p->poll, on_close);
    uv_close((uv_handle_t *)&p->timer, on_close);
    uv_close((uv_handle_t *)&p->safety, on_close);
    uv_close((uv_handle_t *)&p->idle, on_close);
    uv_close((uv_handle_t *)&p->sig_term, on_close);
    uv_close((uv_handle_t *)&p->sig_int, on_close);
}

int main(int argc, char **argv)
{
    unsigned port = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc)
            port = (unsigned)atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_bare_server [--port N]\n");
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    static pump_t p;
    p.resp = MHD_create_response_from_buffer(sizeof BODY - 1, (void *)BODY,
                                             MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(p.resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    p.d = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
                           (uint16_t)port, NULL, NULL, ahc, &p, MHD_OPTION_CONNECTION_LIMIT,
                           1024u, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
                           MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
                           MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
                           MHD_OPTION_SIGPIPE_HANDLED_BY_APP, 1, MHD_OPTION_END);
    if (!p.d) {
        fprintf(stderr, "bench_bare_server: MHD_start_daemon failed\n");
        return 1;
    }
    const union MHD_DaemonInfo *fd = MHD_get_daemon_info(p.d, MHD_DAEMON_INFO_EPOLL_FD);
    const union MHD_DaemonInfo *bound = MHD_get_daemon_info(p.d, MHD_DAEMON_INFO_BIND_PORT);
    uv_loop_t *loop = uv_default_loop();
    uv_poll_init(loop, &p.poll, fd->epoll_fd);
    uv_timer_init(loop, &p.timer);
    uv_timer_init(loop, &p.safety);
    uv_idle_init(loop, &p.idle);
    uv_signal_init(loop, &p.sig_term);
    uv_signal_init(loop, &p.sig_int);
    p.poll.data = p.timer.data = p.safety.data = p.idle.data = &p;
    p.sig_term.data = p.sig_int.data = &p;
    uv_poll_start(&p.poll, UV_READABLE, on_poll);
    uv_timer_start(&p.safety, on_timer, 500, 500);
    uv_signal_start(&p.sig_term, on_signal, SIGTERM);
    uv_signal_start(&p.sig_int, on_signal, SIGINT);
    printf("port=%u\n", (unsigned)bound->port);
    fflush(stdout);
    run_pump(&p);
    uv_run(loop, UV_RUN_DEFAULT);
    MHD_stop_daemon(p.d);
    MHD_destroy_response(p.resp);
    uv_loop_close(loop);
    return 0;
}
