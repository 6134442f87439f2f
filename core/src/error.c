/* error.c: messages for SK_E* codes, the sk_err_t helpers and the failure of SK_ASSERT. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spiked/sk_assert.h"
#include "spiked/sk_error.h"

void sk_assert_fail(const char *expr, const char *file, int line, const char *func)
{
    fprintf(stderr, "spiked: assertion failed: %s (%s:%d, %s)\n", expr, file, line, func);
    fflush(stderr);
    abort();
}

const char *sk_strerror(int code)
{
    switch (code) {
#define SK__ERR_MSG(name, value, msg)                                                          \
    case SK_##name:                                                                            \
        return msg;
        SK_ERRNO_MAP(SK__ERR_MSG)
#undef SK__ERR_MSG
    case 0:
        return "success";
    default:
        return "unknown error";
    }
}

const char *sk_err_name(int code)
{
    switch (code) {
#define SK__ERR_NAME(name, value, msg)                                                         \
    case SK_##name:                                                                            \
        return "SK_" #name;
        SK_ERRNO_MAP(SK__ERR_NAME)
#undef SK__ERR_NAME
    case 0:
        return "SK_OK";
    default:
        return "SK_UNKNOWN";
    }
}

int sk_err_set(sk_err_t *err, int code, const char *path, const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    snprintf(err->path, sizeof err->path, "%s", path ? path : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

void sk_err_prefix(sk_err_t *err, const char *prefix)
{
    if (!err || !prefix || !*prefix)
        return;
    char old[sizeof err->path];
    memcpy(old, err->path, sizeof old);
    old[sizeof old - 1] = '\0';
    const char *sep = (old[0] == '\0' || old[0] == '[') ? "" : ".";
    size_t lp = strlen(prefix), ls = strlen(sep), lo = strlen(old);
    size_t cap = sizeof err->path - 1, k = 0;
    for (size_t j = 0; j < lp && k < cap; j++)
        err->path[k++] = prefix[j];
    for (size_t j = 0; j < ls && k < cap; j++)
        err->path[k++] = sep[j];
    for (size_t j = 0; j < lo && k < cap; j++)
        err->path[k++] = old[j];
    err->path[k] = '\0';
}
