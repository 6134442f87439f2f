/* config.c: the configuration table, its parser and the token file reader.
 *
 * CONFIG_TABLE(X): X(kind, field, flag, env, default, help). Kinds: STR (char array), NUM
 * (uint64_t, decimal, with an optional k/M/G binary suffix for sizes), FLAG (no argument,
 * sets 1; the environment accepts 1/0/true/false). The README's "Server" section mirrors
 * this table; keep them together.
 */
#include "base/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONFIG_TABLE(X)                                                                            \
    X(STR, bind, "--bind", "SPIKED_BIND", "127.0.0.1", "listen address (IPv4/IPv6 literal)")       \
    X(NUM, port, "--port", "SPIKED_PORT", "8080", "listen port; 0 = ephemeral")                    \
    X(STR, data_dir, "--data-dir", "SPIKED_DATA_DIR", "", "checkpoint directory")                  \
    X(STR, fsync, "--fsync", "SPIKED_FSYNC", "everysec",                                           \
      "journal flush with --data-dir: always | everysec | no")                                     \
    X(NUM, snapshot_every_s, "--snapshot-every", "SPIKED_SNAPSHOT_EVERY", "300",                   \
      "seconds between snapshot rounds (changed sessions checkpointed, journal rotated); 0 = off") \
    X(STR, token_file, "--token-file", "SPIKED_TOKEN_FILE", "", "file with the bearer token")      \
    X(STR, cors, "--cors-origins", "SPIKED_CORS_ORIGINS", "", "comma-separated origins")           \
    X(STR, static_dir, "--static-dir", "SPIKED_STATIC_DIR", "",                                    \
      "dashboard folder served at / (default: clients/web if found; '-' = off)")                   \
    X(NUM, max_sessions, "--max-sessions", "SPIKED_MAX_SESSIONS", "64", "sessions")                \
    X(NUM, max_neurons, "--max-neurons", "SPIKED_MAX_NEURONS", "1000000", "neurons per session")   \
    X(NUM, max_synapses, "--max-synapses", "SPIKED_MAX_SYNAPSES", "100000000",                     \
      "synapses per session")                                                                      \
    X(NUM, max_session_bytes, "--max-session-bytes", "SPIKED_MAX_SESSION_BYTES", "2G",             \
      "memory of one session's network, as the core estimates it before allocating")               \
    X(NUM, max_memory, "--max-memory", "SPIKED_MAX_MEMORY", "0",                                   \
      "sum of the sessions' estimates; creates, forks and restores beyond it are refused "         \
      "(0 = 3/4 of the machine's memory)")                                                         \
    X(NUM, max_spike_history, "--max-spike-history", "SPIKED_MAX_SPIKE_HISTORY", "100000000",      \
      "ceiling of a session's limits.spike_history (spike ids kept)")                              \
    X(NUM, max_history_steps, "--max-history-steps", "SPIKED_MAX_HISTORY_STEPS", "10000000",       \
      "ceiling of a session's limits.history_steps (steps kept in the spike history)")             \
    X(NUM, max_record_values, "--max-record-values", "SPIKED_MAX_RECORD_VALUES", "100000000",      \
      "ceiling of a session's limits.max_record_values (floats kept per recorder)")                \
    X(NUM, max_pending, "--max-pending", "SPIKED_MAX_PENDING", "10000000",                         \
      "ceiling of a session's limits.max_pending (injections queued)")                             \
    X(NUM, max_body, "--max-body-bytes", "SPIKED_MAX_BODY_BYTES", "16M",                           \
      "request body bytes (413 above)")                                                            \
    X(NUM, max_steps, "--max-steps", "SPIKED_MAX_STEPS", "10000000", "steps per request")          \
    X(NUM, max_subscribers, "--max-subscribers", "SPIKED_MAX_SUBSCRIBERS", "64",                   \
      "event-stream subscribers per session")                                                      \
    X(NUM, sub_queue_bytes, "--subscriber-queue-bytes", "SPIKED_SUBSCRIBER_QUEUE_BYTES", "1M",     \
      "bytes queued per subscriber; above, batches are read back from the history")                \
    X(NUM, max_run_ms, "--max-run-ms", "SPIKED_MAX_RUN_MS", "600000", "wall time of one step job") \
    X(NUM, sync_ms, "--sync-ms", "SPIKED_SYNC_MS", "2000",                                         \
      "step requests expected to take longer answer 202 with a job")                               \
    X(NUM, max_queue, "--max-queue", "SPIKED_MAX_QUEUE", "16", "operations queued per session")    \
    X(NUM, heartbeat_ms, "--heartbeat-ms", "SPIKED_HEARTBEAT_MS", "15000",                         \
      "event-stream heartbeat period")                                                             \
    X(NUM, stream_timeout_s, "--stream-timeout", "SPIKED_STREAM_TIMEOUT", "30",                    \
      "seconds before a stream whose client reads nothing is closed")                              \
    X(NUM, request_timeout_s, "--request-timeout", "SPIKED_REQUEST_TIMEOUT", "30",                 \
      "seconds a connection may be idle or take to send its request (slow clients closed)")        \
    X(NUM, replay_steps, "--replay-steps", "SPIKED_REPLAY_STEPS", "100000",                        \
      "most steps a Last-Event-ID replay covers (from the spike history)")                         \
    X(NUM, conn_limit, "--max-connections", "SPIKED_MAX_CONNECTIONS", "1024",                      \
      "concurrent HTTP connections")                                                               \
    X(NUM, pool_threads, "--pool-threads", "SPIKED_POOL_THREADS", "4",                             \
      "threads stepping sessions (UV_THREADPOOL_SIZE)")                                            \
    X(NUM, step_threads, "--step-threads", "SPIKED_STEP_THREADS", "1",                             \
      "threads stepping one large session (>= 10000 neurons); 1 = off")                            \
    X(FLAG, demo, "--demo", "SPIKED_DEMO", "0", "start the real-time session 'demo'")              \
    X(FLAG, demo_pausable, "--demo-pausable", "SPIKED_DEMO_PAUSABLE", "0",                         \
      "let clients pause the shared demo (PATCH realtime false); off: 403")                       \
    X(FLAG, quiet, "--quiet", "SPIKED_QUIET", "0", "log warnings and errors only")                 \
    X(FLAG, insecure_no_auth, "--insecure-no-auth", "SPIKED_INSECURE_NO_AUTH", "0",                \
      "serve a non-loopback --bind without a token (anyone who reaches it controls the server)")

enum kind { STR, NUM, FLAG };

typedef struct opt {
    enum kind kind;
    size_t off, size;
    const char *flag, *env, *dflt, *help;
} opt_t;

static const opt_t opts[] = {
#define X(k, field, flag, env, dflt, help)                                                     \
    {k, offsetof(srv_config_t, field), sizeof(((srv_config_t *)0)->field), flag, env, dflt, help},
    CONFIG_TABLE(X)
#undef X
};
#define N_OPTS (sizeof opts / sizeof opts[0])

static int fail(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return -1;
}

/* Decimal with an optional k/M/G (x1024) suffix. */
static int parse_num(const char *s, uint64_t *out)
{
    if (!s || !isdigit((unsigned char)s[0]))
        return -1;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    unsigned shift = 0;
    if (*end == 'k' || *end == 'K')
        shift = 10;
    else if (*end == 'M')
        shift = 20;
    else if (*end == 'G')
        shift = 30;
    if (shift)
        end++;
    if (*end || (shift && v > (UINT64_MAX >> shift)))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

static int set_opt(srv_config_t *c, const opt_t *o, const char *val, int from_env, char *err,
                   size_t len)
{
    char *field = (char *)c + o->off;
    const char *who = from_env ? o->env : o->flag;
    if (o->kind == STR) {
        if (strlen(val) >= o->size)
            return fail(err, len, "%s: value too long (max %zu bytes)", who, o->size - 1);
        memcpy(field, val, strlen(val) + 1);
        return 0;
    }
    uint64_t v;
    if (o->kind == FLAG) {
        if (!strcmp(val, "1") || !strcmp(val, "true") || !strcmp(val, "yes"))
            v = 1;
        else if (!strcmp(val, "0") || !strcmp(val, "false") || !strcmp(val, "no") || !*val)
            v = 0;
        else
            return fail(err, len, "%s: expected 1/0/true/false, got '%s'", who, val);
    } else if (parse_num(val, &v) < 0) {
        return fail(err, len, "%s: expected a non-negative integer, got '%s'", who, val);
    }
    memcpy(field, &v, sizeof v);
    return 0;
}

static int read_token_file(srv_config_t *c, char *err, size_t len)
{
    FILE *f = fopen(c->token_file, "r");
    if (!f)
        return fail(err, len, "--token-file %s: %s", c->token_file, strerror(errno));
    size_t n = fread(c->token, 1, sizeof c->token - 1, f);
    int big = !feof(f) && fgetc(f) != EOF;
    fclose(f);
    if (big)
        return fail(err, len, "--token-file: token longer than %zu bytes", sizeof c->token - 1);
    c->token[n] = '\0';
    while (n && isspace((unsigned char)c->token[n - 1]))
        c->token[--n] = '\0';
    if (!n)
        return fail(err, len, "--token-file %s: empty", c->token_file);
    return 0;
}

static int split_cors(srv_config_t *c, char *err, size_t len)
{
    const char *p = c->cors;
    c->n_cors = 0;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        while (n && isspace((unsigned char)*p)) {
            p++;
            n--;
        }
        while (n && isspace((unsigned char)p[n - 1]))
            n--;
        if (n) {
            if (c->n_cors == SRV_MAX_CORS || n >= sizeof c->cors_list[0])
                return fail(err, len, "--cors-origins: too many or too long origins");
            memcpy(c->cors_list[c->n_cors], p, n);
            c->cors_list[c->n_cors++][n] = '\0';
        }
        p += e ? (size_t)(e - p) + 1 : strlen(p);
    }
    return 0;
}

static int check_values(srv_config_t *c, char *err, size_t len)
{
    if (c->port > 65535)
        return fail(err, len, "--port: must be <= 65535");
    if (strcmp(c->fsync, "always") && strcmp(c->fsync, "everysec") && strcmp(c->fsync, "no"))
        return fail(err, len, "--fsync: must be always, everysec or no");
    if (!c->max_memory) { /* 3/4 of the physical memory */
        long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
        c->max_memory = pages > 0 && page > 0 ? (uint64_t)pages / 4u * 3u * (uint64_t)page
                                              : (uint64_t)1 << 32;
    }
    if (!c->max_session_bytes || !c->max_spike_history || !c->max_history_steps ||
        !c->max_record_values || !c->max_pending)
        return fail(err, len, "limits must be > 0");
    if (c->max_history_steps > UINT32_MAX)
        return fail(err, len, "--max-history-steps: must be <= %u", UINT32_MAX);
    if (!c->max_sessions || !c->max_neurons || !c->max_body || !c->max_steps ||
        !c->sub_queue_bytes || !c->max_run_ms || !c->heartbeat_ms || !c->conn_limit ||
        !c->request_timeout_s || c->request_timeout_s > 86400)
        return fail(err, len, "limits must be > 0");
    if (c->pool_threads < 1 || c->pool_threads > 128)
        return fail(err, len, "--pool-threads: must be in [1, 128]");
    if (c->step_threads < 1 || c->step_threads > 64)
        return fail(err, len, "--step-threads: must be in [1, 64]");
    if (c->heartbeat_ms >= c->stream_timeout_s * 1000)
        return fail(err, len, "--heartbeat-ms must be shorter than --stream-timeout");
    if (c->conn_limit > 65536 || c->max_subscribers >= c->conn_limit)
        return fail(err, len, "--max-subscribers must stay below --max-connections (<= 65536)");
    return 0;
}

int srv_addr_loopback(const char *addr)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, addr, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, addr, &a6) != 1)
        return -1;
    if (IN6_IS_ADDR_LOOPBACK(&a6))
        return 1;
    return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
}

/* A server that anyone who reaches it controls must be asked for explicitly. */
static int check_auth(const srv_config_t *c, char *err, size_t len)
{
    if (c->token[0] || c->insecure_no_auth || srv_addr_loopback(c->bind) != 0)
        return 0; /* a bind that is not an address literal fails at listen, with its reason */
    return fail(err, len,
                "--bind %s is not a loopback address and no token is set: anyone who can reach "
                "the port would control every session. Set a token (--token-file, "
                "SPIKED_TOKEN_FILE or SPIKED_TOKEN), bind 127.0.0.1, or run without auth "
                "anyway with --insecure-no-auth (SPIKED_INSECURE_NO_AUTH=1)",
                c->bind);
}

static const opt_t *find_flag(const char *arg, const char **val)
{
    for (size_t i = 0; i < N_OPTS; i++) {
        size_t n = strlen(opts[i].flag);
        if (!strncmp(arg, opts[i].flag, n) && (arg[n] == '\0' || arg[n] == '=')) {
            *val = arg[n] == '=' ? arg + n + 1 : NULL;
            return &opts[i];
        }
    }
    return NULL;
}

static int parse_argv(srv_config_t *c, int argc, char **argv, char *err, size_t len)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            srv_config_usage();
            return 1;
        }
        if (!strcmp(argv[i], "--version")) {
            printf("spiked 0.1.0\n");
            return 1;
        }
        const char *val = NULL;
        const opt_t *o = find_flag(argv[i], &val);
        if (!o)
            return fail(err, len, "unknown option '%s' (see --help)", argv[i]);
        if (o->kind == FLAG && !val)
            val = "1";
        if (!val) {
            if (i + 1 >= argc)
                return fail(err, len, "%s needs a value", o->flag);
            val = argv[++i];
        }
        if (set_opt(c, o, val, 0, err, len) < 0)
            return -1;
    }
    return 0;
}

int srv_config_load(srv_config_t *c, int argc, char **argv, char *err, size_t len)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < N_OPTS; i++)
        if (set_opt(c, &opts[i], opts[i].dflt, 0, err, len) < 0)
            return -1;
    for (size_t i = 0; i < N_OPTS; i++) {
        const char *v = getenv(opts[i].env);
        if (v && set_opt(c, &opts[i], v, 1, err, len) < 0)
            return -1;
    }
    const char *tok = getenv("SPIKED_TOKEN");
    int rc = parse_argv(c, argc, argv, err, len);
    if (rc)
        return rc;
    if (c->token_file[0]) {
        if (read_token_file(c, err, len) < 0)
            return -1;
    } else if (tok && *tok) {
        if (strlen(tok) >= sizeof c->token)
            return fail(err, len, "SPIKED_TOKEN: longer than %zu bytes", sizeof c->token - 1);
        memcpy(c->token, tok, strlen(tok) + 1);
    }
    if (split_cors(c, err, len) < 0 || check_auth(c, err, len) < 0)
        return -1;
    return check_values(c, err, len);
}

void srv_config_usage(void)
{
    printf("usage: spiked [options]\n\n"
           "Every option can also be set by its environment variable; flags win.\n"
           "The bearer token comes from --token-file, SPIKED_TOKEN_FILE or SPIKED_TOKEN.\n\n");
    for (size_t i = 0; i < N_OPTS; i++) {
        const opt_t *o = &opts[i];
        printf("  %-26s %-30s %s%s%s%s\n", o->flag, o->env, o->help, o->dflt[0] ? " [" : "",
               o->dflt, o->dflt[0] ? "]" : "");
    }
    printf("  %-26s %-30s %s\n", "--healthcheck", "(flag only)",
           "instead of serving, probe the server these options describe: GET /healthz on its "
           "port (loopback for a wildcard --bind), 2 s timeouts; exit 0 on 200, else 1");
}

int srv_config_cors_allowed(const srv_config_t *c, const char *origin)
{
    if (!origin)
        return 0;
    for (int i = 0; i < c->n_cors; i++)
        if (!strcmp(c->cors_list[i], origin))
            return 1;
    return 0;
}
