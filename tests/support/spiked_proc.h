/* spiked_proc.h: runs a real `spiked` process for an end-to-end test: started on an
 * ephemeral loopback port (the test reads the "port=N" line it prints), stopped with a
 * signal and reaped with a deadline. The binary is SPIKED_BIN (set by CMake).
 */
#ifndef SPIKED_TEST_SPIKED_PROC_H
#define SPIKED_TEST_SPIKED_PROC_H

#include <stddef.h>
#include <sys/types.h>

typedef struct sp_proc {
    pid_t pid;
    int port;
} sp_proc_t;

/* Starts `spiked --port 0 --quiet args...` with extra environment entries env ("K=V",
 * NULL-terminated, may be NULL) and waits (10 s) for its port. 0 or -1. */
int sp_start(sp_proc_t *p, const char *const *args, const char *const *env);
/* Sends sig and waits (timeout_ms) for the exit; returns the exit status, 128+signal when
 * killed by one, or -1 on timeout (the process is then killed). */
int sp_stop(sp_proc_t *p, int sig, int timeout_ms);
/* Runs `spiked args...` (no implicit flags) with extra environment entries env until it
 * exits (a process expected to stop at once: a usage error, --healthcheck, --help), killed
 * after timeout_ms. Its stderr goes to err (cap bytes, NUL-terminated). Returns the exit
 * status, 128+signal, or -1 on timeout or failure to start. */
int sp_run(const char *const *args, const char *const *env, char *err, size_t cap, int timeout_ms);
/* Resident set size in KiB (from /proc), -1 if unknown. */
long sp_rss_kb(const sp_proc_t *p);

#endif
