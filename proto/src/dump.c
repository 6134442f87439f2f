/* dump.c: compact JSON text with exact numbers.
 *
 * jansson prints every real with one precision (17 digits by default), so float32 values
 * would come out as 0.10000000149011612. Here a real that is exactly a float32 is written
 * with the shortest decimal (%.6g to %.9g) that strtof reads back as the same float32; any
 * other real with the shortest decimal (%.15g to %.17g) that strtod reads back as the same
 * double. Integers are printed as integers, strings escaped per RFC 8259 (jansson strings
 * are valid UTF-8 already), object keys in insertion order.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct buf {
    char *p;
    size_t len, cap;
    int failed;
} buf_t;

static void put(buf_t *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->cap - b->len <= n) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len <= n) {
            if (cap > SIZE_MAX / 2) {
                b->failed = 1;
                return;
            }
            cap *= 2;
        }
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void puts_(buf_t *b, const char *s)
{
    put(b, s, strlen(s));
}

size_t sk__format_real(double x, char *buf)
{
    if (!isfinite(x)) {
        memcpy(buf, "null", 5);
        return 4;
    }
    float f = (float)x;
    if ((double)f == x) {
        for (int prec = 6; prec <= 9; prec++) {
            snprintf(buf, 32, "%.*g", prec, (double)f);
            if (strtof(buf, NULL) == f)
                break;
        }
    } else {
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(buf, 32, "%.*g", prec, x);
            if (strtod(buf, NULL) == x)
                break;
        }
    }
    return strlen(buf);
}

static void put_string(buf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    put(b, "\"", 1);
    size_t run = 0;
    for (size_t k = 0; k < n; k++) {
        unsigned char c = (unsigned char)s[k];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        put(b, s + run, k - run);
        run = k + 1;
        char esc[7] = {'\\', (char)c, 0};
        if (c == '\n')
            esc[1] = 'n';
        else if (c == '\t')
            esc[1] = 't';
        else if (c == '\r')
            esc[1] = 'r';
        else if (c < 0x20) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            esc[6] = 0;
        }
        puts_(b, esc);
    }
    put(b, s + run, n - run);
    put(b, "\"", 1);
}

static void put_value(buf_t *b, const json_t *j);

static void put_container(buf_t *b, const json_t *j)
{
    if (json_is_array(j)) {
        put(b, "[", 1);
        for (size_t k = 0; k < json_array_size(j); k++) {
            if (k)
                put(b, ",", 1);
            put_value(b, json_array_get(j, k));
        }
        put(b, "]", 1);
        return;
    }
    const char *key;
    json_t *val;
    int first = 1;
    put(b, "{", 1);
    json_object_foreach((json_t *)j, key, val) {
        if (!first)
            put(b, ",", 1);
        first = 0;
        put_string(b, key, strlen(key));
        put(b, ":", 1);
        put_value(b, val);
    }
    put(b, "}", 1);
}

static void put_value(buf_t *b, const json_t *j)
{
    char tmp[40];
    switch (json_typeof(j)) {
    case JSON_OBJECT:
    case JSON_ARRAY:
        put_container(b, j);
        break;
    case JSON_STRING:
        put_string(b, json_string_value(j), json_string_length(j));
        break;
    case JSON_INTEGER:
        snprintf(tmp, sizeof tmp, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
        puts_(b, tmp);
        break;
    case JSON_REAL:
        put(b, tmp, sk__format_real(json_real_value(j), tmp));
        break;
    case JSON_TRUE:
        puts_(b, "true");
        break;
    case JSON_FALSE:
        puts_(b, "false");
        break;
    default:
        puts_(b, "null");
        break;
    }
}

char *sk_proto_dumps(const json_t *j, size_t *len)
{
    buf_t b = {0};
    if (!j)
        return NULL;
    put_value(&b, j);
    if (b.failed) {
        free(b.p);
        return NULL;
    }
    if (len)
        *len = b.len;
    return b.p;
}

json_t *sk__real(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

json_t *sk_proto_float(float x)
{
    return sk__real((double)x);
}

int sk__set(json_t *obj, const char *key, json_t *value)
{
    return value ? json_object_set_new(obj, key, value) : -1;
}

int sk__append(json_t *arr, json_t *value)
{
    return value ? json_array_append_new(arr, value) : -1;
}
