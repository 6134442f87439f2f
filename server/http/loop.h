/* loop.h: libmicrohttpd driven by the libuv loop (external epoll mode, no MHD threads).
 *
 * MHD's epoll fd is watched with a uv_poll_t. After EVERY MHD_run the pump re-arms from
 * MHD_get_timeout: timeout 0 -> uv_idle (runs once per loop iteration; a 0 ms uv_timer
 * would starve the loop on libuv 1.44), > 0 -> uv_timer, none -> both stopped. A 500 ms
 * safety timer also pumps (MHD re-adds its listen fd at the connection limit only at the
 * start of a run). srv_loop_kick asks for a pump at the next iteration: application code
 * (completions, resumes) never calls MHD_run itself, so MHD is never re-entered.
 * srv_loop_pump_in asks for a pump a few milliseconds from now (a separate timer: stream
 * flushes that wait for their turn, http.c). after_run, if set, runs after each MHD_run
 * with `more` = MHD has work for the next iteration already (its timeout is 0).
 *
 * Threads: loop thread only.
 */
#ifndef SPIKED_SRV_LOOP_H
#define SPIKED_SRV_LOOP_H

#include <stdint.h>

#include <microhttpd.h>
#include <uv.h>

typedef struct srv_loop {
    struct MHD_Daemon *d;
    uv_poll_t poll;
    uv_timer_t timer;
    uv_idle_t idle;
    uv_timer_t safety;
    uv_timer_t later;              /* srv_loop_pump_in */
    uint64_t later_due;            /* uv_now() when `later` fires; 0 = not armed */
    void (*before_run)(void *arg); /* called at the start of each pump, before MHD_run */
    void (*after_run)(void *arg, int more); /* called after each MHD_run (may be NULL) */
    void *arg;
    int kicked;  /* a pump was asked for while pumping */
    int pumping;
    int n_open;  /* handles not yet closed */
    void (*on_closed)(void *arg);
} srv_loop_t;

/* Starts watching the daemon. before_run and after_run (either may be NULL) run on each
 * pump, before and after MHD_run. */
int srv_loop_start(srv_loop_t *l, uv_loop_t *loop, struct MHD_Daemon *d, void (*before_run)(void *),
                   void (*after_run)(void *, int), void *arg);
/* One pump: before_run, MHD_run, re-arm. */
void srv_loop_pump(srv_loop_t *l);
/* Pump at the next loop iteration. */
void srv_loop_kick(srv_loop_t *l);
/* Pump in ms milliseconds (>= 1), unless a pump_in already due sooner is pending. */
void srv_loop_pump_in(srv_loop_t *l, uint64_t ms);
/* Closes the handles; on_closed(arg) runs once all are closed. */
void srv_loop_close(srv_loop_t *l, void (*on_closed)(void *));

#endif
