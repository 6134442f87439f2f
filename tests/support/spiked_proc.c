/* spiked_proc.c: start and stop a spiked process for tests (see spiked_proc.h). */

#include "spiked_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "http_client.h"

#ifndef SPIKED_BIN
#error "SPIKED_BIN must name the spiked binary"
#endif

static void child(int out_fd, const char *const *args, const char *const *env)
{
    const char *argv[64];
    int n = 0;
    argv[n++] = SPIKED_BIN;
    argv[n++] = "--port";
    argv[n++] = "0";
    argv[n++] = "--quiet";
    for (int i = 0; args && args[i] && n < 62; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    for (int i = 0; env && env[i]; i++)
        putenv((char *)env[i]);
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a test that crashed or timed out */
    dup2(out_fd, 1);
    /* Inherit nothing else (the test runner's own pipes and sockets in particular). */
    for (int fd = 3; fd < 1024; fd++)
        close(fd);
    execv(SPIKED_BIN, (char *const *)argv);
    _exit(127);
}

int sp_start(sp_proc_t *p, const char *const *args, const char *const *env)
{
    int fds[2];
    memset(p, 0, sizeof *p);
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -1;
    p->pid = fork();
    if (p->pid < 0)
        return -1;
    if (p->pid == 0) {
        close(fds[0]);
        child(fds[1], args, env);
    }
    close(fds[1]);
    char buf[256];
    size_t have = 0;
    long long deadline = hc_now_ms() + 10000;
    while (hc_now_ms() < deadline && have < sizeof buf - 1) {
        struct pollfd pf = {.fd = fds[0], .events = POLLIN};
        if (poll(&pf, 1, 100) <= 0)
            continue;
        ssize_t r = read(fds[0], buf + have, sizeof buf - 1 - have);
        if (r <= 0)
            break;
        have += (size_t)r;
        buf[have] = '\0';
        char *l = strstr(buf, "port=");
        if (l && strchr(l, '\n')) {
            p->port = atoi(l + 5);
            break;
        }
    }
    close(fds[0]); /* later stdout writes go nowhere (SIGPIPE is ignored by the server) */
    if (p->port <= 0) {
        sp_stop(p, SIGKILL, 2000);
        return -1;
    }
    return 0;
}

int sp_stop(sp_proc_t *p, int sig, int timeout_ms)
{
    if (p->pid <= 0)
        return -1;
    kill(p->pid, sig);
    long long deadline = hc_now_ms() + timeout_ms;
    int st = 0;
    for (;;) {
        pid_t r = waitpid(p->pid, &st, WNOHANG);
        if (r == p->pid)
            break;
        if (hc_now_ms() > deadline) {
            kill(p->pid, SIGKILL);
            waitpid(p->pid, &st, 0);
            p->pid = 0;
            return -1;
        }
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    p->pid = 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int sp_run(const char *const *args, const char *const *env, char *err, size_t cap, int timeout_ms)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        const char *argv[64];
        int n = 0;
        argv[n++] = SPIKED_BIN;
        for (int i = 0; args && args[i] && n < 63; i++)
            argv[n++] = args[i];
        argv[n] = NULL;
        for (int i = 0; env && env[i]; i++)
            putenv((char *)env[i]);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(fds[1], 2);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, 1);
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
        execv(SPIKED_BIN, (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    size_t have = 0;
    long long deadline = hc_now_ms() + timeout_ms;
    while (hc_now_ms() < deadline) {
        struct pollfd pf = {.fd = fds[0], .events = POLLIN};
        if (poll(&pf, 1, 50) <= 0)
            continue;
        char tmp[512];
        ssize_t r = read(fds[0], tmp, sizeof tmp);
        if (r <= 0)
            break; /* EOF: the process has exited (or closed stderr) */
        size_t k = (size_t)r < cap - 1 - have ? (size_t)r : cap - 1 - have;
        memcpy(err + have, tmp, k);
        have += k;
    }
    err[have] = '\0';
    close(fds[0]);
    sp_proc_t p = {.pid = pid};
    long long left = deadline - hc_now_ms();
    return sp_stop(&p, 0, left > 0 ? (int)left : 1);
}

long sp_rss_kb(const sp_proc_t *p)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)p->pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6))
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}
