/* main.c: `spiked`: parse the configuration, size the thread pool, start the server on
 * the default libuv loop, run until the graceful shutdown completes. Exit status: 0 after
 * a clean shutdown, 1 on a start-up failure, 2 on a usage error.
 *
 * `spiked --healthcheck [options]` loads the same configuration and probes the server it
 * describes instead of starting one (healthcheck.h): exit 0 when it answers GET /healthz
 * with 200, 1 for anything else, configuration errors included (Docker reserves 2). */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "healthcheck.h"
#include "base/log.h"
#include "server.h"

/* More descriptors for connections: raise the soft limit to the hard one. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* Blocks of 256 KiB and more are mapped from the kernel (zeroed, backed only once written):
 * a session's history rings then cost what they hold, not their limit (issue 17). A fixed
 * threshold also stops glibc from raising it after a free, which would move such blocks to
 * the heap, where calloc must clear them. */
static void large_blocks_mapped(void)
{
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
}

int main(int argc, char **argv)
{
    static srv_config_t cfg;
    static srv_server_t s;
    char err[512];
    signal(SIGPIPE, SIG_IGN);
    int probe = srv_healthcheck_take_flag(&argc, argv);
    int rc = srv_config_load(&cfg, argc, argv, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "spiked%s: %s\n", probe ? " " SRV_HEALTHCHECK_FLAG : "", err);
        return probe ? 1 : 2;
    }
    if (rc > 0)
        return 0;
    if (probe) {
        if (srv_healthcheck(&cfg, err, sizeof err) == 0)
            return 0;
        fprintf(stderr, "spiked " SRV_HEALTHCHECK_FLAG ": %s\n", err);
        return 1;
    }
    if (cfg.quiet)
        srv_log_set_level(SRV_LOG_WARN);
    if (!cfg.token[0] && srv_addr_loopback(cfg.bind) == 0)
        srv_log(SRV_LOG_WARN,
                "auth off on %s (--insecure-no-auth): anyone who can reach the "
                "port controls every session",
                cfg.bind);
    /* Before the first use of the pool: the pool is sized once, on first use. */
    char threads[16];
    snprintf(threads, sizeof threads, "%u", (unsigned)cfg.pool_threads);
    setenv("UV_THREADPOOL_SIZE", threads, 1);
    raise_nofile();
    large_blocks_mapped();
    uv_loop_t *loop = uv_default_loop();
    if (srv_server_init(&s, loop, &cfg, err, sizeof err) < 0 ||
        srv_server_listen(&s, err, sizeof err) < 0) {
        srv_log(SRV_LOG_ERROR, "%s", err);
        srv_server_free(&s);
        uv_run(loop, UV_RUN_NOWAIT); /* close callbacks of what was created */
        return 1;
    }
    uv_run(loop, UV_RUN_DEFAULT);
    srv_server_free(&s);
    uv_run(loop, UV_RUN_DEFAULT);
    if (uv_loop_close(loop) != 0)
        srv_log(SRV_LOG_WARN, "loop closed with handles still open");
    srv_log(SRV_LOG_INFO, "bye");
    return s.exit_code;
}
