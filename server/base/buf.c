/* buf.c: growable buffer with a limit (see buf.h). */
#include "base/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void srv_buf_init(srv_buf_t *b, size_t limit)
{
    memset(b, 0, sizeof *b);
    b->limit = limit;
}

void srv_buf_free(srv_buf_t *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

static int reserve(srv_buf_t *b, size_t n)
{
    if (b->failed)
        return -1;
    if (n > b->limit || b->len + n + 1 > b->limit + 1) {
        b->failed = 1;
        return -1;
    }
    if (b->len + n + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1)
        cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) {
        b->failed = 1;
        return -1;
    }
    b->data = d;
    b->cap = cap;
    return 0;
}

int srv_buf_append(srv_buf_t *b, const void *data, size_t n)
{
    if (reserve(b, n) < 0)
        return -1;
    memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int srv_buf_printf(srv_buf_t *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return -1;
    }
    if ((size_t)n < sizeof small)
        return srv_buf_append(b, small, (size_t)n);
    if (reserve(b, (size_t)n) < 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

int srv_buf_failed(const srv_buf_t *b)
{
    return b->failed;
}

char *srv_buf_steal(srv_buf_t *b, size_t *len)
{
    if (b->failed) {
        srv_buf_free(b);
        return NULL;
    }
    if (!b->data && reserve(b, 0) < 0)
        return NULL;
    char *d = b->data;
    if (len)
        *len = b->len;
    size_t limit = b->limit;
    memset(b, 0, sizeof *b);
    b->limit = limit;
    return d;
}
