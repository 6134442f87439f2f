/* loop.c: the MHD pump under libuv (see loop.h; docs/SERVER-NOTES.md "Checked by running it"). */
#include "http/loop.h"

#include "base/log.h"

static void on_idle(uv_idle_t *h)
{
    srv_loop_pump(h->data);
}

static void on_timer(uv_timer_t *h)
{
    srv_loop_pump(h->data);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    (void)events;
    if (status < 0)
        srv_log(SRV_LOG_WARN, "poll on the MHD epoll fd: %s", uv_strerror(status));
    srv_loop_pump(h->data);
}

void srv_loop_pump(srv_loop_t *l)
{
    if (l->pumping) { /* never re-enter MHD: pump again at the next iteration */
        l->kicked = 1;
        return;
    }
    l->pumping = 1;
    l->kicked = 0;
    if (l->before_run)
        l->before_run(l->arg);
    MHD_run(l->d);
    MHD_UNSIGNED_LONG_LONG to = 0;
    int has = MHD_get_timeout(l->d, &to) == MHD_YES;
    if (l->after_run)
        l->after_run(l->arg, has && to == 0);
    l->pumping = 0;
    if (l->kicked || (has && to == 0)) {
        uv_timer_stop(&l->timer);
        uv_idle_start(&l->idle, on_idle);
    } else if (has) {
        uv_idle_stop(&l->idle);
        uv_timer_start(&l->timer, on_timer, to, 0);
    } else {
        uv_idle_stop(&l->idle);
        uv_timer_stop(&l->timer);
    }
}

static void on_later(uv_timer_t *h)
{
    srv_loop_t *l = h->data;
    l->later_due = 0;
    srv_loop_pump(l);
}

void srv_loop_pump_in(srv_loop_t *l, uint64_t ms)
{
    uint64_t due = uv_now(l->later.loop) + (ms ? ms : 1);
    if (l->later_due && l->later_due <= due)
        return;
    l->later_due = due;
    uv_timer_start(&l->later, on_later, ms ? ms : 1, 0);
}

void srv_loop_kick(srv_loop_t *l)
{
    l->kicked = 1;
    if (!l->pumping)
        uv_idle_start(&l->idle, on_idle);
}

int srv_loop_start(srv_loop_t *l, uv_loop_t *loop, struct MHD_Daemon *d, void (*before_run)(void *),
                   void (*after_run)(void *, int), void *arg)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD);
    if (!info)
        return -1;
    l->d = d;
    l->before_run = before_run;
    l->after_run = after_run;
    l->arg = arg;
    l->later_due = 0;
    l->kicked = l->pumping = 0;
    int rc = uv_poll_init(loop, &l->poll, info->epoll_fd);
    if (rc < 0)
        return rc;
    uv_timer_init(loop, &l->timer);
    uv_idle_init(loop, &l->idle);
    uv_timer_init(loop, &l->safety);
    uv_timer_init(loop, &l->later);
    l->poll.data = l->timer.data = l->idle.data = l->safety.data = l->later.data = l;
    l->n_open = 5;
    uv_poll_start(&l->poll, UV_READABLE, on_poll);
    uv_timer_start(&l->safety, on_timer, 500, 500);
    srv_loop_pump(l);
    return 0;
}

static void on_close(uv_handle_t *h)
{
    srv_loop_t *l = h->data;
    if (--l->n_open == 0 && l->on_closed)
        l->on_closed(l->arg);
}

void srv_loop_close(srv_loop_t *l, void (*on_closed)(void *))
{
    l->on_closed = on_closed;
    uv_close((uv_handle_t *)&l->poll, on_close);
    uv_close((uv_handle_t *)&l->timer, on_close);
    uv_close((uv_handle_t *)&l->idle, on_close);
    uv_close((uv_handle_t *)&l->safety, on_close);
    uv_close((uv_handle_t *)&l->later, on_close);
}
