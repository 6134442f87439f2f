/* srv.h: the server object and the few definitions every server file shares.
 *
 * One libuv loop owns all server state (docs/STYLE.md §3.10): the registry of sessions, the HTTP
 * adapter, the metrics. Only the loop thread reads or writes anything reachable from
 * srv_server_t; pool workers get a pinned session and a private work record and hand
 * their results back in after_work_cb.
 *
 * Naming: server symbols use the srv_ prefix; request handlers are h_<resource>_<verb>.
 * Functions return 0 or a negative code (SRV_E* below, or a core SK_E*).
 */
#ifndef SPIKED_SRV_H
#define SPIKED_SRV_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "base/config.h"
#include "base/metrics.h"
#include "spiked/sk_assert.h"

/* Contract checks of the server (core/include/spiked/sk_assert.h; CMake SPIKED_ASSERTS). */
#define SRV_ASSERT(cond) SK_ASSERT(cond)

typedef struct srv_server srv_server_t;
typedef struct srv_http srv_http_t;
typedef struct srv_registry srv_registry_t;
typedef struct srv_session srv_session_t;
typedef struct srv_journal srv_journal_t;

/* Handler results: the response is ready, or the handler took over the request and will
 * complete it later with srv_req_finish (from the loop thread). */
#define SRV_DONE     0
#define SRV_DEFERRED 1

/* Lifecycle of the whole server. */
typedef enum srv_phase {
    SRV_RUNNING = 0, /* serving */
    SRV_DRAINING,    /* SIGTERM seen: no new work, running chunks finish */
    SRV_SAVING,      /* checkpoints being written */
    SRV_CLOSING,     /* streams closing, MHD draining */
    SRV_STOPPED
} srv_phase_t;

struct srv_server {
    srv_config_t cfg;      /* read-only after start */
    uv_loop_t *loop;       /* the one loop */
    srv_http_t *http;      /* NULL when the API is driven in-process (tests) */
    srv_registry_t *reg;   /* sessions by name */
    srv_metrics_t metrics; /* counters, loop thread only */
    srv_phase_t phase;
    uint32_t creating;     /* session builds running on the pool */
    srv_journal_t *journal; /* engine/journal.h; NULL without --data-dir */
    uint64_t started_ns;   /* uv_hrtime() at start */
    int exit_code;
    /* server.c */
    uv_timer_t t_rates, t_heartbeat, t_shutdown;
    uv_signal_t sig_term, sig_int;
    uint64_t phase_ns;     /* when the current shutdown phase began */
    int n_handles;         /* handles of server.c still open */
    int signals;           /* signals received */
    uint64_t save_ns;      /* when the shutdown save began */
    uint64_t save_failed;  /* checkpoints_failed when the shutdown save began (UINT64_MAX: a
                              session could not be submitted) */
};

/* Monotonic time in nanoseconds / milliseconds (uv_hrtime). */
uint64_t srv_now_ns(void);
uint64_t srv_now_ms(void);

/* Session and population names: [A-Za-z0-9_-]{1,64} (used in file names: never '/' or '.').
 * Returns 1 when valid. */
int srv_name_valid(const char *name);
/* Reads the whole file at path into a new buffer (*out: caller frees; *len bytes). Refuses
 * (-1) what is not a regular file or is larger than max_bytes; -1 on any I/O error. */
int srv_read_file(const char *path, uint64_t max_bytes, char **out, size_t *len);
#define SRV_NAME_MAX 64

#endif
