/* sk_error.h: error codes of the spiked core and the error-detail record.
 *
 * Every core function that can fail returns 0 or a negative SK_E* code (libuv style) and
 * writes its results through out-parameters. Functions that validate user input also take an
 * optional `sk_err_t *` (may be NULL) that receives the path of the offending field
 * ("populations[2].params.tau_mem_inv") and a sentence saying what is wrong with it. The
 * record is owned by the caller; the core never allocates for it.
 */
#ifndef SPIKED_SK_ERROR_H
#define SPIKED_SK_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, value, message). Values are stable: they appear in checkpoints and logs. */
#define SK_ERRNO_MAP(X)                                                                       \
    X(EINVAL, -1, "invalid argument")                                                         \
    X(ENOMEM, -2, "out of memory")                                                            \
    X(ERANGE, -3, "value out of range")                                                       \
    X(ENOENT, -4, "no such element")                                                          \
    X(EOVERFLOW, -5, "size overflows")                                                        \
    X(ELIMIT, -6, "configured limit exceeded")                                                \
    X(ECORRUPT, -7, "corrupted or truncated data")                                            \
    X(EVERSION, -8, "unsupported format version")                                             \
    X(EEXIST, -9, "already exists")                                                           \
    X(EBUSY, -10, "busy")                                                                     \
    X(ECANCELED, -11, "canceled")

enum {
#define SK__ERR_ENUM(name, value, msg) SK_##name = (value),
    SK_ERRNO_MAP(SK__ERR_ENUM)
#undef SK__ERR_ENUM
};

/* Detail of a validation error. `path` names the field, relative to the object that was
 * validated; callers that embed the object prepend their own prefix. Both strings are
 * NUL-terminated and truncated to fit. */
typedef struct sk_err {
    int code;       /* the SK_E* code that was returned */
    char path[160]; /* "populations[2].params.tau_mem_inv", or "" if the whole input */
    char msg[240];  /* "must be > 0 (got -1)" */
} sk_err_t;

/* Static English message for an SK_E* code; "unknown error" for anything else. */
const char *sk_strerror(int code);
/* Static symbolic name ("SK_ERANGE") of an SK_E* code; "SK_UNKNOWN" for anything else. */
const char *sk_err_name(int code);

/* Fills *err (if not NULL) with code, path and a printf-formatted message; returns code,
 * so a validator can write `return sk_err_set(err, SK_ERANGE, "dt", "must be > 0")`. */
int sk_err_set(sk_err_t *err, int code, const char *path, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Prepends `prefix` to err->path, adding a '.' between non-empty parts unless the existing
 * path starts with '['. No-op when err is NULL. */
void sk_err_prefix(sk_err_t *err, const char *prefix);

#ifdef __cplusplus
}
#endif
#endif
