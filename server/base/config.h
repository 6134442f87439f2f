/* config.h: server configuration from command-line flags and environment variables.
 *
 * One table (config.c, CONFIG_TABLE) lists every knob with its flag, environment variable,
 * default and one-line help; --help and the README's "Server" section are written from it.
 * Precedence: flag > environment > default. The configuration is read-only once the
 * server starts.
 */
#ifndef SPIKED_SRV_CONFIG_H
#define SPIKED_SRV_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define SRV_MAX_CORS 16

typedef struct srv_config {
    char bind[64];            /* listen address, IPv4 or IPv6 literal */
    uint64_t port;            /* 0 = ephemeral (the bound port is printed as "port=N") */
    char data_dir[512];       /* checkpoint directory; "" = no persistence */
    char fsync[16];           /* journal flush: always | everysec | no (engine/journal.h) */
    uint64_t snapshot_every_s; /* snapshot rounds (engine/journal.h); 0 = off */
    char token_file[512];     /* file holding the bearer token */
    char token[256];          /* bearer token ("" = auth off) */
    char cors[1024];          /* comma-separated exact origins */
    char static_dir[512];     /* dashboard files served at / ("" = auto, "-" = off) */
    uint64_t max_sessions;    /* sessions per server */
    uint64_t max_neurons;     /* per session, passed to the core (sk_limits_t) */
    uint64_t max_synapses;    /* per session, passed to the core */
    uint64_t max_session_bytes; /* per session: the core's memory estimate of its network;
                                   default and ceiling of limits.max_bytes */
    uint64_t max_memory;      /* server-wide budget of the sessions' estimates (registry.h);
                                 0 in the table = 3/4 of the physical memory */
    uint64_t max_spike_history; /* ceiling of limits.spike_history (spike ids kept) */
    uint64_t max_history_steps; /* ceiling of limits.history_steps (<= 2^32 - 1) */
    uint64_t max_record_values; /* ceiling of limits.max_record_values (floats per recorder) */
    uint64_t max_pending;       /* ceiling of limits.max_pending (queued injections) */
    uint64_t max_body;        /* request body bytes (413 above) */
    uint64_t max_steps;       /* steps per step request */
    uint64_t max_subscribers; /* event-stream subscribers per session */
    uint64_t sub_queue_bytes; /* bytes queued per subscriber before the oldest is dropped */
    uint64_t max_run_ms;      /* wall time of one step job before it is stopped */
    uint64_t sync_ms;         /* a step request expected to take longer answers 202 */
    uint64_t max_queue;       /* operations queued per session (429 above) */
    uint64_t heartbeat_ms;    /* SSE heartbeat period; below stream_timeout */
    uint64_t stream_timeout_s; /* MHD timeout of a stream whose client reads nothing */
    uint64_t request_timeout_s; /* MHD timeout of other connections: idle or slow senders */
    uint64_t replay_steps;    /* most steps a Last-Event-ID replay covers */
    uint64_t conn_limit;      /* concurrent HTTP connections */
    uint64_t pool_threads;    /* UV_THREADPOOL_SIZE for stepping */
    uint64_t step_threads;    /* sk_net_set_parallel threads for one large session */
    uint64_t demo;            /* start with the real-time session "demo" */
    uint64_t demo_pausable;   /* clients may pause "demo" (PATCH realtime false); off: 403 */
    uint64_t quiet;           /* warnings and errors only (no access log) */
    uint64_t insecure_no_auth; /* allow a non-loopback bind without a token */
    /* derived */
    char cors_list[SRV_MAX_CORS][128];
    int n_cors;
} srv_config_t;

/* Fills *c from defaults, the environment, then argv. Returns 0, 1 when the caller should
 * exit successfully (--help, --version: text already printed), or -1 with a message in
 * err. Reads the token file if one is named. Refuses (-1) a bind address that is not
 * loopback when no token is configured, unless --insecure-no-auth. */
int srv_config_load(srv_config_t *c, int argc, char **argv, char *err, size_t errlen);

/* Prints the flag table (for --help) to stdout. */
void srv_config_usage(void);

/* Classifies an address literal: 1 loopback (127.0.0.0/8, ::1, ::ffff:127.x.y.z), 0 any
 * other IPv4 or IPv6 literal, -1 not an address literal (a name such as "localhost"). */
int srv_addr_loopback(const char *addr);

/* 1 if origin is in the CORS allow-list (exact match). */
int srv_config_cors_allowed(const srv_config_t *c, const char *origin);

#endif
