/* healthcheck.c: `spiked --healthcheck` (see healthcheck.h): one blocking HTTP/1.0 request
 * to the configured port, with a deadline on the connect and one on the status line. */
#include "healthcheck.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/srv.h"

int srv_healthcheck_take_flag(int *argc, char **argv)
{
    int found = 0, k = 1;
    for (int i = 1; i < *argc; i++) {
        if (!strcmp(argv[i], SRV_HEALTHCHECK_FLAG))
            found = 1;
        else
            argv[k++] = argv[i];
    }
    argv[k] = NULL;
    *argc = k;
    return found;
}

/* The address to probe: the wildcard addresses become the loopback of their family. */
static int probe_addr(const srv_config_t *cfg, struct sockaddr_storage *ss, socklen_t *len,
                      char *text, size_t cap)
{
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    memset(ss, 0, sizeof *ss);
    if (inet_pton(AF_INET, cfg->bind, &a4->sin_addr) == 1) {
        if (a4->sin_addr.s_addr == htonl(INADDR_ANY))
            a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)cfg->port);
        *len = sizeof *a4;
        inet_ntop(AF_INET, &a4->sin_addr, text, (socklen_t)cap);
        return 0;
    }
    if (inet_pton(AF_INET6, cfg->bind, &a6->sin6_addr) == 1) {
        if (IN6_IS_ADDR_UNSPECIFIED(&a6->sin6_addr))
            a6->sin6_addr = in6addr_loopback;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)cfg->port);
        *len = sizeof *a6;
        inet_ntop(AF_INET6, &a6->sin6_addr, text, (socklen_t)cap);
        return 0;
    }
    return -1;
}

/* Waits until fd is ready for events (POLLIN/POLLOUT) or the deadline (ms, srv_now_ms)
 * passes. Returns 0, or -ETIMEDOUT / -errno. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
    for (;;) {
        uint64_t now = srv_now_ms();
        if (now >= deadline)
            return -ETIMEDOUT;
        struct pollfd p = {.fd = fd, .events = events};
        int rc = poll(&p, 1, (int)(deadline - now));
        if (rc > 0)
            return 0;
        if (rc == 0)
            return -ETIMEDOUT;
        if (errno != EINTR)
            return -errno;
    }
}

static int connect_within(int fd, const struct sockaddr_storage *ss, socklen_t len)
{
    if (connect(fd, (const struct sockaddr *)ss, len) == 0)
        return 0;
    if (errno != EINPROGRESS)
        return -errno;
    int rc = wait_fd(fd, POLLOUT, srv_now_ms() + SRV_HEALTHCHECK_MS);
    if (rc < 0)
        return rc;
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
        return -errno;
    return -soerr;
}

/* Sends the request and reads up to the end of the status line (or EOF) into buf. Returns
 * the bytes read (>= 0), or a negative errno. */
static int exchange(int fd, char *buf, size_t cap)
{
    static const char req[] = "GET /healthz HTTP/1.0\r\nAccept: application/json\r\n\r\n";
    uint64_t deadline = srv_now_ms() + SRV_HEALTHCHECK_MS;
    size_t sent = 0, got = 0;
    while (sent < sizeof req - 1) {
        ssize_t w = send(fd, req + sent, sizeof req - 1 - sent, MSG_NOSIGNAL);
        if (w > 0) {
            sent += (size_t)w;
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EINTR)
            return -errno;
        int rc = wait_fd(fd, POLLOUT, deadline);
        if (rc < 0)
            return rc;
    }
    while (got < cap - 1 && !memchr(buf, '\n', got)) {
        int rc = wait_fd(fd, POLLIN, deadline);
        if (rc < 0)
            return rc;
        ssize_t r = recv(fd, buf + got, cap - 1 - got, 0);
        if (r == 0)
            break;
        if (r < 0 && errno != EAGAIN && errno != EINTR)
            return -errno;
        if (r > 0)
            got += (size_t)r;
    }
    buf[got] = '\0';
    return (int)got;
}

int srv_healthcheck(const srv_config_t *cfg, char *err, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl = 0;
    char host[INET6_ADDRSTRLEN] = "";
    if (probe_addr(cfg, &ss, &sl, host, sizeof host) < 0) {
        snprintf(err, len, "--bind %s: not an IPv4 or IPv6 address", cfg->bind);
        return -1;
    }
    if (cfg->port == 0) {
        snprintf(err, len, "--port 0 (ephemeral): no port to probe");
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, len, "socket: %s", strerror(errno));
        return -1;
    }
    char line[256];
    int rc = connect_within(fd, &ss, sl);
    if (rc == 0)
        rc = exchange(fd, line, sizeof line);
    close(fd);
    const char *fmt = ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u";
    char where[INET6_ADDRSTRLEN + 16];
    snprintf(where, sizeof where, fmt, host, (unsigned)cfg->port);
    if (rc < 0) {
        snprintf(err, len, "%s: %s", where, rc == -ETIMEDOUT ? "timed out" : strerror(-rc));
        return -1;
    }
    line[strcspn(line, "\r\n")] = '\0';
    /* "HTTP/1.0 200 OK" or "HTTP/1.1 200 OK" */
    if (strncmp(line, "HTTP/1.", 7) || !line[7] || strncmp(line + 8, " 200", 4) ||
        (line[12] && line[12] != ' ')) {
        snprintf(err, len, "%s: answered '%.80s', not 200", where, line[0] ? line : "nothing");
        return -1;
    }
    return 0;
}
