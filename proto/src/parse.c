/* parse.c: request bodies to JSON (strict jansson flags, nesting limit), names, and the
 * caps with their defaults. */
#include <string.h>

#include "internal.h"

void sk_proto_caps_default(sk_proto_caps_t *caps)
{
    memset(caps, 0, sizeof *caps);
    sk__caps_resolve(caps, caps);
}

void sk__caps_resolve(const sk_proto_caps_t *in, sk_proto_caps_t *out)
{
    sk_proto_caps_t c;
    if (in)
        c = *in;
    else
        memset(&c, 0, sizeof c);
#define DEFAULT(f, v)                                                                          \
    if (c.f == 0)                                                                              \
    c.f = (v)
    DEFAULT(max_depth, 32);
    DEFAULT(max_populations, 1024);
    DEFAULT(max_projections, 4096);
    DEFAULT(max_stimuli, 4096);
    DEFAULT(max_recorders, 1024);
    DEFAULT(max_steps, 10000000ull);
    DEFAULT(max_inputs, 1000000ull);
    DEFAULT(max_spikes, 1000000ull);
    DEFAULT(max_values, 10000000ull);
#undef DEFAULT
    *out = c;
}

void sk__dec_init(sk__dec_t *d, const char *root, const sk_proto_caps_t *caps,
                  sk_proto_error_t *e)
{
    sk__path_init(&d->path, root);
    d->e = e;
    sk__caps_resolve(caps, &d->caps);
    d->arena = NULL;
}

/* Depth of nesting of v (a scalar is 0, [] is 1); stops counting past `limit`. */
static uint32_t depth(const json_t *v, uint32_t limit)
{
    if (limit == 0) /* the caller is at the limit: any container is one level too many */
        return (json_is_array(v) || json_is_object(v)) ? 1 : 0;
    uint32_t best = 0;
    if (json_is_array(v)) {
        for (size_t k = 0; k < json_array_size(v); k++) {
            uint32_t x = depth(json_array_get(v, k), limit - 1);
            best = x > best ? x : best;
        }
        return best + 1;
    }
    if (json_is_object(v)) {
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)v, key, val) {
            uint32_t x = depth(val, limit - 1);
            best = x > best ? x : best;
        }
        return best + 1;
    }
    return 0;
}

int sk_proto_parse(const void *body, size_t len, const sk_proto_caps_t *caps, json_t **out,
                   sk_proto_error_t *e)
{
    sk_proto_caps_t c;
    sk__caps_resolve(caps, &c);
    if (!body || len == 0) {
        sk_proto_error_set(e, 400, SK_PROTO_INVALID_JSON, "", "the request body is empty");
        return SK_EINVAL;
    }
    json_error_t je;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        sk_proto_error_set(e, 400, SK_PROTO_INVALID_JSON, "", "line %d, column %d: %s", je.line,
                           je.column, je.text);
        return SK_EINVAL;
    }
    if (!json_is_object(j)) {
        sk_proto_error_set(e, 400, SK_PROTO_WRONG_TYPE, "", "the body must be a JSON object");
        json_decref(j);
        return SK_EINVAL;
    }
    if (depth(j, c.max_depth) > c.max_depth) {
        sk_proto_error_set(e, 400, SK_PROTO_INVALID_JSON, "",
                           "nesting deeper than %u levels", c.max_depth);
        json_decref(j);
        return SK_EINVAL;
    }
    *out = j;
    return 0;
}

static int name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
}

int sk_proto_name_check(const char *name, const char *path, sk_proto_error_t *e)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > SK_PROTO_NAME_MAX) {
        sk_proto_error_set(e, 400, SK_PROTO_INVALID_FIELD, path,
                           "must be 1 to %d characters long (got %zu)", SK_PROTO_NAME_MAX, n);
        return SK_EINVAL;
    }
    for (size_t k = 0; k < n; k++)
        if (!name_char(name[k])) {
            sk_proto_error_set(e, 400, SK_PROTO_INVALID_FIELD, path,
                               "may only contain A-Z, a-z, 0-9, '_' and '-' (got \"%s\")", name);
            return SK_EINVAL;
        }
    return 0;
}
