/* jget.c: strict checks of JSON values at the current decoding path.
 *
 * Every helper either stores a converted value or fills the error with the path and a
 * sentence saying what was expected and what was found ("must be an integer in [1,
 * 4294967295] (got 0)"), then returns a negative SK_E* code. Integers are range-checked in
 * the JSON domain (json_int_t) before any cast; a real is accepted where an integer is
 * expected only if it is integral (1e6); reals are finite (jansson already refuses NaN and
 * infinities) and float32 fields must not overflow float32.
 */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "internal.h"

const char *sk__json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

int sk__want_object(sk__dec_t *d, const json_t *v)
{
    if (json_is_object(v))
        return 0;
    return sk__fail(d, SK_EINVAL, SK_PROTO_WRONG_TYPE, "must be an object (got %s)",
                    sk__json_type_name(v));
}

void sk__join(char *buf, size_t cap, const char *const *names, size_t n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < n && len + 1 < cap; k++) {
        int w = snprintf(buf + len, cap - len, "%s%s", k ? ", " : "", names[k]);
        if (w < 0 || (size_t)w >= cap - len) {
            if (cap > 4)
                memcpy(buf + cap - 4, "...", 4);
            return;
        }
        len += (size_t)w;
    }
}

void sk__join_fields(char *buf, size_t cap, const sk_field_t *f, size_t n)
{
    const char *names[SK_MODEL_MAX_PARAMS > SK_MODEL_MAX_STATE ? SK_MODEL_MAX_PARAMS
                                                               : SK_MODEL_MAX_STATE];
    size_t m = n < sizeof names / sizeof names[0] ? n : sizeof names / sizeof names[0];
    for (size_t k = 0; k < m; k++)
        names[k] = f[k].name;
    sk__join(buf, cap, names, m);
}

int sk__check_keys(sk__dec_t *d, const json_t *obj, const char *const *allowed)
{
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)obj, key, val) {
        size_t k = 0;
        while (allowed[k] && strcmp(allowed[k], key) != 0)
            k++;
        if (allowed[k])
            continue;
        size_t n = 0;
        while (allowed[n])
            n++;
        char list[160];
        sk__join(list, sizeof list, allowed, n);
        size_t mark = sk__path_key(&d->path, key);
        int rc = sk__fail(d, SK_EINVAL, SK_PROTO_UNKNOWN_FIELD, "unknown field (expected: %s)",
                          list);
        sk__path_pop(&d->path, mark);
        return rc;
    }
    return 0;
}

int sk__member(sk__dec_t *d, const json_t *obj, const char *key, int required,
               const json_t **out)
{
    *out = json_object_get(obj, key);
    if (*out || !required)
        return 0;
    size_t mark = sk__path_key(&d->path, key);
    int rc = sk__fail(d, SK_EINVAL, SK_PROTO_MISSING_FIELD, "required field is missing");
    sk__path_pop(&d->path, mark);
    return rc;
}

int sk__as_u64(sk__dec_t *d, const json_t *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
    if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);
        if (x >= 0 && (uint64_t)x >= lo && (uint64_t)x <= hi) {
            *out = (uint64_t)x;
            return 0;
        }
        return sk__fail(d, SK_ERANGE, SK_PROTO_INVALID_FIELD,
                        "must be an integer in [%" PRIu64 ", %" PRIu64 "] (got %" JSON_INTEGER_FORMAT
                        ")",
                        lo, hi, x);
    }
    if (json_is_real(v)) {
        double x = json_real_value(v);
        /* 2^64 is exact in double; every double below it converts without overflow. */
        if (x == floor(x) && x >= 0 && x < 18446744073709551616.0 && (uint64_t)x >= lo &&
            (uint64_t)x <= hi) {
            *out = (uint64_t)x;
            return 0;
        }
        return sk__fail(d, SK_ERANGE, SK_PROTO_INVALID_FIELD,
                        "must be an integer in [%" PRIu64 ", %" PRIu64 "] (got %g)", lo, hi, x);
    }
    return sk__fail(d, SK_EINVAL, SK_PROTO_WRONG_TYPE, "must be an integer (got %s)",
                    sk__json_type_name(v));
}

int sk__as_u32(sk__dec_t *d, const json_t *v, uint32_t lo, uint32_t hi, uint32_t *out)
{
    uint64_t x;
    int rc = sk__as_u64(d, v, lo, hi, &x);
    if (rc == 0)
        *out = (uint32_t)x;
    return rc;
}

int sk__as_double(sk__dec_t *d, const json_t *v, double lo, double hi, double *out)
{
    if (!json_is_number(v))
        return sk__fail(d, SK_EINVAL, SK_PROTO_WRONG_TYPE, "must be a number (got %s)",
                        sk__json_type_name(v));
    double x = json_number_value(v);
    if (!isfinite(x) || x < lo || x > hi)
        return sk__fail(d, SK_ERANGE, SK_PROTO_INVALID_FIELD, "must be in [%g, %g] (got %g)", lo,
                        hi, x);
    *out = x;
    return 0;
}

int sk__as_float(sk__dec_t *d, const json_t *v, float *out)
{
    double x;
    int rc = sk__as_double(d, v, -(double)FLT_MAX, (double)FLT_MAX, &x);
    if (rc == 0)
        *out = (float)x;
    return rc;
}

int sk__as_param(sk__dec_t *d, const json_t *v, const sk_field_t *f, double *out)
{
    double x;
    const char *s = json_string_value(v);
    if (s && (f->flags & SK_FIELD_INF_OK) && (strcmp(s, "inf") == 0 || strcmp(s, "-inf") == 0)) {
        x = s[0] == '-' ? -INFINITY : INFINITY;
    } else {
        int rc = sk__as_double(d, v, -(double)FLT_MAX, (double)FLT_MAX, &x);
        if (rc)
            return rc;
    }
    sk_err_t err = {0};
    if (sk_field_check(f, x, &err) != 0)
        return sk__fail(d, SK_ERANGE, SK_PROTO_INVALID_FIELD, "%s", err.msg);
    *out = x;
    return 0;
}

int sk__as_bool(sk__dec_t *d, const json_t *v, int *out)
{
    if (!json_is_boolean(v))
        return sk__fail(d, SK_EINVAL, SK_PROTO_WRONG_TYPE, "must be true or false (got %s)",
                        sk__json_type_name(v));
    *out = json_is_true(v);
    return 0;
}

int sk__as_string(sk__dec_t *d, const json_t *v, size_t max_len, const char **out)
{
    if (!json_is_string(v))
        return sk__fail(d, SK_EINVAL, SK_PROTO_WRONG_TYPE, "must be a string (got %s)",
                        sk__json_type_name(v));
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (n > max_len)
        return sk__fail(d, SK_ERANGE, SK_PROTO_INVALID_FIELD,
                        "must be at most %zu bytes long (got %zu)", max_len, n);
    if (strlen(s) != n)
        return sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD, "must not contain NUL characters");
    *out = s;
    return 0;
}

int sk__as_name(sk__dec_t *d, const json_t *v, const char **out)
{
    const char *s;
    int rc = sk__as_string(d, v, SK_PROTO_NAME_MAX, &s);
    if (rc)
        return rc;
    rc = sk_proto_name_check(s, d->path.buf, d->e);
    if (rc == 0)
        *out = s;
    return rc;
}

int sk__as_array(sk__dec_t *d, const json_t *v, size_t max, size_t *n)
{
    if (!json_is_array(v))
        return sk__fail(d, SK_EINVAL, SK_PROTO_WRONG_TYPE, "must be an array (got %s)",
                        sk__json_type_name(v));
    size_t m = json_array_size(v);
    if (m > max)
        return sk__fail(d, SK_ELIMIT, SK_PROTO_LIMIT_EXCEEDED,
                        "has %zu elements; at most %zu are allowed", m, max);
    *n = m;
    return 0;
}

int sk__as_enum(sk__dec_t *d, const json_t *v, const char *const *names, int *out)
{
    const char *s;
    int rc = sk__as_string(d, v, 64, &s);
    size_t n = 0;
    while (names[n])
        n++;
    for (size_t k = 0; rc == 0 && k < n; k++)
        if (strcmp(names[k], s) == 0) {
            *out = (int)k;
            return 0;
        }
    char list[160];
    sk__join(list, sizeof list, names, n);
    if (rc == 0 || json_is_string(v))
        return sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD, "must be one of: %s (got \"%.64s\")",
                        list, json_string_value(v));
    return rc;
}
