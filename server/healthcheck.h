/* healthcheck.h: `spiked --healthcheck`, the probe behind the container's HEALTHCHECK
 * (docker/Dockerfile; the image has no curl).
 *
 * The probe runs instead of the server, with the configuration the server would load
 * (every flag and SPIKED_* variable, read by srv_config_load), and asks that server's own
 * `GET /healthz` (HTTP/1.0, no Host header) on its configured port:
 *   --bind 0.0.0.0 -> 127.0.0.1,  --bind :: -> ::1,  any other address -> that address
 *   (a loopback-specific bind such as 127.0.0.2 or ::1, or one interface's address).
 * Healthy means a status line `HTTP/1.x 200` within the timeouts: 2 s to connect, then 2 s
 * for the status line to arrive. Runs on the calling thread, blocking; no libuv, no MHD.
 */
#ifndef SPIKED_SRV_HEALTHCHECK_H
#define SPIKED_SRV_HEALTHCHECK_H

#include <stddef.h>

#include "base/config.h"

#define SRV_HEALTHCHECK_FLAG "--healthcheck"
#define SRV_HEALTHCHECK_MS   2000 /* connect timeout, then read timeout */

/* Removes every "--healthcheck" from argv (argv[*argc] stays NULL) so the rest is parsed as
 * the server would parse it. Returns 1 when the flag was there, else 0. */
int srv_healthcheck_take_flag(int *argc, char **argv);

/* Probes the server configured by cfg. Returns 0 when it answered 200, or -1 with the
 * reason in err ("127.0.0.1:8080: connection refused", "... answered 503"). */
int srv_healthcheck(const srv_config_t *cfg, char *err, size_t errlen);

#endif
