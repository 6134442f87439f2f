/* errors.c: the error record, the one table from SK_E* codes to HTTP statuses and machine
 * codes, the JSON error body, and the decoding context's failure helpers. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static const struct {
    int rc;
    int status;
    const char *code;
} g_table[] = {
    {SK_EINVAL, 400, SK_PROTO_INVALID_FIELD},
    {SK_ERANGE, 400, SK_PROTO_INVALID_FIELD},
    {SK_EOVERFLOW, 400, SK_PROTO_INVALID_FIELD},
    {SK_ENOENT, 404, SK_PROTO_NOT_FOUND},
    {SK_ELIMIT, 413, SK_PROTO_LIMIT_EXCEEDED},
    {SK_EEXIST, 409, SK_PROTO_CONFLICT},
    {SK_EBUSY, 409, SK_PROTO_CONFLICT},
    {SK_ECANCELED, 409, SK_PROTO_CONFLICT},
    {SK_ENOMEM, 503, SK_PROTO_UNAVAILABLE},
    {SK_ECORRUPT, 500, SK_PROTO_INTERNAL},
    {SK_EVERSION, 500, SK_PROTO_INTERNAL},
};

int sk_proto_http_status(int rc)
{
    for (size_t k = 0; k < sizeof g_table / sizeof g_table[0]; k++)
        if (g_table[k].rc == rc)
            return g_table[k].status;
    return 500;
}

const char *sk_proto_error_code(int rc)
{
    for (size_t k = 0; k < sizeof g_table / sizeof g_table[0]; k++)
        if (g_table[k].rc == rc)
            return g_table[k].code;
    return SK_PROTO_INTERNAL;
}

static void vset(sk_proto_error_t *e, int status, const char *code, const char *path,
                 const char *fmt, va_list ap)
{
    e->status = status;
    e->code = code ? code : SK_PROTO_INTERNAL;
    snprintf(e->path, sizeof e->path, "%s", path ? path : "");
    vsnprintf(e->message, sizeof e->message, fmt, ap);
}

void sk_proto_error_set(sk_proto_error_t *e, int status, const char *code, const char *path,
                        const char *fmt, ...)
{
    if (!e)
        return;
    va_list ap;
    va_start(ap, fmt);
    vset(e, status, code, path, fmt, ap);
    va_end(ap);
}

void sk_proto_error_from_core(sk_proto_error_t *e, int rc, const sk_err_t *detail,
                              const char *prefix)
{
    if (!e)
        return;
    int status = sk_proto_http_status(rc);
    const char *code = sk_proto_error_code(rc);
    int field = detail && detail->path[0] != '\0';
    if (field && (rc == SK_EINVAL || rc == SK_ERANGE || rc == SK_ENOENT || rc == SK_EOVERFLOW)) {
        status = 400;
        code = SK_PROTO_INVALID_FIELD;
    }
    sk_err_t tmp = {.code = rc};
    if (detail)
        tmp = *detail;
    tmp.path[sizeof tmp.path - 1] = '\0';
    tmp.msg[sizeof tmp.msg - 1] = '\0';
    /* sk_net_spec_t's dt and seed are top-level members of the create body, not of its
     * "network": the core's errors naming them keep their own path */
    const int top = prefix && strcmp(prefix, "network") == 0 &&
                    (strcmp(tmp.path, "dt") == 0 || strcmp(tmp.path, "seed") == 0);
    if (!field)
        snprintf(tmp.path, sizeof tmp.path, "%s", "");
    else if (!top)
        sk_err_prefix(&tmp, prefix);
    const char *msg = (detail && detail->msg[0]) ? tmp.msg : sk_strerror(rc);
    sk_proto_error_set(e, status, code, tmp.path, "%s", msg);
}

/* Replaces every byte that is not part of a well-formed UTF-8 sequence with '?': messages
 * quote client input (query strings are arbitrary bytes) and may be cut mid-character. */
static void utf8_sanitize(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        size_t n = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3
                                : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
        size_t k = 1;
        while (n > 1 && k < n && (p[k] & 0xC0) == 0x80)
            k++;
        /* Overlong forms, surrogates and code points above U+10FFFF. */
        int bad = n > 2 && ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F) ||
                            (c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] > 0x8F));
        if (n == 0 || k < n || bad) {
            *p++ = '?';
            continue;
        }
        p += n;
    }
}

json_t *sk_proto_error_json(const sk_proto_error_t *e)
{
    char path[SK_PROTO_PATH_MAX], msg[SK_PROTO_MSG_MAX];
    snprintf(path, sizeof path, "%s", e->path);
    snprintf(msg, sizeof msg, "%s", e->message);
    utf8_sanitize(path);
    utf8_sanitize(msg);
    return json_pack("{s:{s:i, s:s, s:s, s:s}}", "error", "status", e->status, "code",
                     e->code ? e->code : SK_PROTO_INTERNAL, "path", path, "message", msg);
}

char *sk_proto_error_body(const sk_proto_error_t *e, size_t *len)
{
    json_t *j = sk_proto_error_json(e);
    if (!j)
        return NULL;
    char *s = sk_proto_dumps(j, len);
    json_decref(j);
    return s;
}

int sk__fail(sk__dec_t *d, int rc, const char *code, const char *fmt, ...)
{
    if (!d->e)
        return rc;
    int status = 400;
    if (strcmp(code, SK_PROTO_LIMIT_EXCEEDED) == 0)
        status = 413;
    else if (rc == SK_ENOMEM)
        status = 503;
    va_list ap;
    va_start(ap, fmt);
    vset(d->e, status, code, d->path.buf, fmt, ap);
    va_end(ap);
    return rc;
}

int sk__oom(sk__dec_t *d)
{
    return sk__fail(d, SK_ENOMEM, SK_PROTO_UNAVAILABLE, "out of memory");
}
