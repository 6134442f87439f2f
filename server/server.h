/* server.h: start-up and graceful shutdown of the whole server.
 *
 * Start: registry, data directory and restore of its checkpoints, the demo session, the
 * HTTP listener ("port=N" on stdout), signal handlers and periodic timers (metrics rates,
 * stream heartbeats).
 *
 * Shutdown (SIGTERM/SIGINT), driven by a 20 ms tick:
 *   DRAINING  stop accepting connections; pacers off; running jobs canceled (they stop at
 *             their next chunk boundary); queued operations answered 503;
 *             wait until no work is in flight;
 *   SAVING    with --data-dir, checkpoint every session; wait for the writes;
 *   CLOSING   close every session (streams get lifecycle "deleted" and end); wait until
 *             every stream and request is finished (at most 3 s);
 *   STOPPED   stop libmicrohttpd, close every handle; uv_run returns.
 * A second signal exits at once with status 1.
 */
#ifndef SPIKED_SRV_SERVER_H
#define SPIKED_SRV_SERVER_H

#include <stdint.h>

#include "base/srv.h"

int srv_server_init(srv_server_t *s, uv_loop_t *loop, const srv_config_t *cfg, char *err,
                    size_t errlen);
/* Starts listening; prints "port=N" on stdout. */
int srv_server_listen(srv_server_t *s, char *err, size_t errlen);
/* Begins the graceful shutdown. */
void srv_server_shutdown(srv_server_t *s);
/* After uv_run returned: frees what is left. */
void srv_server_free(srv_server_t *s);

#endif
