/* buf.h: a growable byte buffer with a hard limit (docs/STYLE.md §3.12: every growing buffer has a
 * limit and a policy; here the policy is "fail the append and remember it").
 *
 * Once an append fails (limit or out of memory) the buffer stays failed: later appends are
 * no-ops and srv_buf_failed() is true, so callers check once at the end.
 */
#ifndef SPIKED_SRV_BUF_H
#define SPIKED_SRV_BUF_H

#include <stddef.h>

typedef struct srv_buf {
    char *data; /* NUL-terminated while not failed */
    size_t len, cap, limit;
    int failed;
} srv_buf_t;

void srv_buf_init(srv_buf_t *b, size_t limit);
void srv_buf_free(srv_buf_t *b);
int srv_buf_append(srv_buf_t *b, const void *data, size_t n);
int srv_buf_printf(srv_buf_t *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
int srv_buf_failed(const srv_buf_t *b);
/* Hands the data over (malloc'd, NUL-terminated); the buffer is reset. NULL if failed. */
char *srv_buf_steal(srv_buf_t *b, size_t *len);

#endif
