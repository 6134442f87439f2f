/* log.h: log lines on stderr. One line per event: "<iso time> <level> <message>".
 *
 * srv_log is safe from any thread (one fprintf per line; stdio locks the stream). Access
 * log lines are written by the HTTP adapter when a request completes, unless --quiet.
 * The adapter also routes libmicrohttpd's own messages here with a rate limit.
 */
#ifndef SPIKED_SRV_LOG_H
#define SPIKED_SRV_LOG_H

typedef enum srv_log_level { SRV_LOG_DEBUG = 0, SRV_LOG_INFO, SRV_LOG_WARN, SRV_LOG_ERROR } srv_log_level_t;

void srv_log(srv_log_level_t level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Lines below level are not written (default INFO). */
void srv_log_set_level(srv_log_level_t level);

#endif
