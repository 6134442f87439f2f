/* jmember.c: member versions of the jget.c checks (push the key, decode, pop) and the
 * decoders of number and id arrays into arena memory. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Runs `call` on member `key` with the key pushed on the path; absent optional members
 * leave the output untouched. */
#define MEMBER(call)                                                                          \
    do {                                                                                      \
        const json_t *v;                                                                      \
        int rc_ = sk__member(d, obj, key, required, &v);                                      \
        if (rc_ || !v)                                                                        \
            return rc_;                                                                       \
        size_t mark_ = sk__path_key(&d->path, key);                                           \
        rc_ = (call);                                                                         \
        sk__path_pop(&d->path, mark_);                                                        \
        return rc_;                                                                           \
    } while (0)

int sk__get_u64(sk__dec_t *d, const json_t *obj, const char *key, int required, uint64_t lo,
                uint64_t hi, uint64_t *out)
{
    MEMBER(sk__as_u64(d, v, lo, hi, out));
}

int sk__get_u32(sk__dec_t *d, const json_t *obj, const char *key, int required, uint32_t lo,
                uint32_t hi, uint32_t *out)
{
    MEMBER(sk__as_u32(d, v, lo, hi, out));
}

static int over_limit(sk__dec_t *d, uint64_t x, uint64_t limit)
{
    return sk__fail(d, SK_ELIMIT, SK_PROTO_LIMIT_EXCEEDED, "%llu is above the limit of %llu",
                    (unsigned long long)x, (unsigned long long)limit);
}

static int as_u64_limit(sk__dec_t *d, const json_t *v, uint64_t lo, uint64_t limit, uint64_t *out)
{
    uint64_t x;
    int rc = sk__as_u64(d, v, lo, UINT64_MAX, &x);
    if (rc == 0 && x > limit)
        rc = over_limit(d, x, limit);
    if (rc == 0)
        *out = x;
    return rc;
}

static int as_u32_limit(sk__dec_t *d, const json_t *v, uint32_t lo, uint32_t limit, uint32_t *out)
{
    uint32_t x;
    int rc = sk__as_u32(d, v, lo, UINT32_MAX, &x);
    if (rc == 0 && x > limit)
        rc = over_limit(d, x, limit);
    if (rc == 0)
        *out = x;
    return rc;
}

int sk__get_u64_limit(sk__dec_t *d, const json_t *obj, const char *key, int required,
                      uint64_t lo, uint64_t limit, uint64_t *out)
{
    MEMBER(as_u64_limit(d, v, lo, limit, out));
}

int sk__get_u32_limit(sk__dec_t *d, const json_t *obj, const char *key, int required,
                      uint32_t lo, uint32_t limit, uint32_t *out)
{
    MEMBER(as_u32_limit(d, v, lo, limit, out));
}

int sk__get_double(sk__dec_t *d, const json_t *obj, const char *key, int required, double lo,
                   double hi, double *out)
{
    MEMBER(sk__as_double(d, v, lo, hi, out));
}

int sk__get_float(sk__dec_t *d, const json_t *obj, const char *key, int required, float *out)
{
    MEMBER(sk__as_float(d, v, out));
}

int sk__get_bool(sk__dec_t *d, const json_t *obj, const char *key, int required, int *out)
{
    MEMBER(sk__as_bool(d, v, out));
}

int sk__get_enum(sk__dec_t *d, const json_t *obj, const char *key, int required,
                 const char *const *names, int *out)
{
    MEMBER(sk__as_enum(d, v, names, out));
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Fails on the first repeated id (path: the array). Sorts a temporary copy. */
static int check_unique(sk__dec_t *d, const uint32_t *ids, size_t n)
{
    if (n < 2)
        return 0;
    uint32_t *tmp = malloc(n * sizeof *tmp);
    if (!tmp)
        return sk__oom(d);
    memcpy(tmp, ids, n * sizeof *tmp);
    qsort(tmp, n, sizeof *tmp, cmp_u32);
    int rc = 0;
    for (size_t k = 1; k < n && rc == 0; k++)
        if (tmp[k] == tmp[k - 1])
            rc = sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD, "neuron %u appears twice",
                          tmp[k]);
    free(tmp);
    return rc;
}

static int want_length(sk__dec_t *d, size_t n, size_t expect)
{
    if (expect == SIZE_MAX || n == expect)
        return 0;
    return sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD, "must have %zu elements (got %zu)",
                    expect, n);
}

int sk__as_ids(sk__dec_t *d, const json_t *v, uint32_t bound, int unique, size_t expect,
                  uint32_t **out, size_t *n)
{
    size_t m;
    int rc = sk__as_array(d, v, UINT32_MAX, &m);
    if (rc == 0)
        rc = want_length(d, m, expect);
    if (rc)
        return rc;
    if (bound == 0 && m > 0)
        return sk__fail(d, SK_ERANGE, SK_PROTO_INVALID_FIELD, "must be empty");
    uint32_t *ids = sk__arena_alloc(d->arena, m, sizeof *ids);
    if (!ids)
        return sk__oom(d);
    for (size_t k = 0; k < m; k++) {
        size_t mark = sk__path_index(&d->path, k);
        rc = sk__as_u32(d, json_array_get(v, k), 0, bound - 1, &ids[k]);
        if (rc)
            return rc;
        sk__path_pop(&d->path, mark);
    }
    if (unique && (rc = check_unique(d, ids, m)) != 0)
        return rc;
    *out = ids;
    *n = m;
    return 0;
}

int sk__get_ids(sk__dec_t *d, const json_t *obj, const char *key, int required, uint32_t bound,
                int unique, size_t expect, uint32_t **out, size_t *n)
{
    MEMBER(sk__as_ids(d, v, bound, unique, expect, out, n));
}

int sk__as_floats(sk__dec_t *d, const json_t *v, size_t expect, float **out, size_t *n)
{
    size_t m;
    int rc = sk__as_array(d, v, UINT32_MAX, &m);
    if (rc == 0)
        rc = want_length(d, m, expect);
    if (rc)
        return rc;
    float *x = sk__arena_alloc(d->arena, m, sizeof *x);
    if (!x)
        return sk__oom(d);
    for (size_t k = 0; k < m; k++) {
        size_t mark = sk__path_index(&d->path, k);
        rc = sk__as_float(d, json_array_get(v, k), &x[k]);
        if (rc)
            return rc;
        sk__path_pop(&d->path, mark);
    }
    *out = x;
    *n = m;
    return 0;
}

int sk__get_floats(sk__dec_t *d, const json_t *obj, const char *key, int required,
                   size_t expect, float **out, size_t *n)
{
    MEMBER(sk__as_floats(d, v, expect, out, n));
}
