/* http.h: libmicrohttpd adapter. Turns MHD connections into srv_req_t / srv_resp_t for
 * srv_api_handle, and back.
 *
 *   - listen socket created here (bind address + port, 0 = ephemeral), handed to MHD;
 *   - MHD in external epoll mode with suspend/resume, driven by loop.c;
 *   - first handler call: header checks only (duplicate Content-Length, Transfer-Encoding
 *     with Content-Length -> 400; Content-Length above the body limit -> 413, connection
 *     closed); the response is queued on a later call, which keeps keep-alive;
 *   - body accumulated with a running total (chunked uploads over the limit -> 413);
 *   - deferred requests are suspended; srv_req_finish queues the response on the next pump
 *     (never inside another connection's callback) and resumes;
 *   - event streams: a content reader over srv_sub_read that suspends when the queue is
 *     empty and is resumed by the subscriber's wake-up; finite per-stream timeout.
 *
 * Threads: loop thread only.
 */
#ifndef SPIKED_SRV_HTTP_H
#define SPIKED_SRV_HTTP_H

#include <stdint.h>

#include "base/srv.h"

/* Creates the listen socket and starts MHD on s->loop. *port receives the bound port. */
int srv_http_start(srv_server_t *s, srv_http_t **out, uint16_t *port, char *err, size_t errlen);

/* Shutdown steps (see main.c): stop accepting; end every event stream; count what is
 * still open; stop the daemon and close the handles (on_closed runs when done). */
void srv_http_quiesce(srv_http_t *h);
void srv_http_end_streams(srv_http_t *h);
uint32_t srv_http_open_requests(const srv_http_t *h);
uint32_t srv_http_open_streams(const srv_http_t *h);
void srv_http_stop(srv_http_t *h, void (*on_closed)(void *), void *arg);

#endif
