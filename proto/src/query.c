/* query.c: query strings of the GET routes (state, spikes, recordings, events) and of the
 * create (?name=).
 *
 * Values arrive percent-decoded (by libmicrohttpd, or by sk_proto_query_split). Each route
 * has a fixed set of keys; an unknown or repeated key is an error whose path is
 * "query.<key>". Integers are whole unsigned decimals with overflow checks.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Decodes %XX and '+' in place; 0, or -1 on a bad or NUL escape. */
static int unescape(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (*r == '+') {
            *w++ = ' ';
        } else if (*r == '%') {
            int hi = hexval(r[1]), lo = hi < 0 ? -1 : hexval(r[2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return -1;
            *w++ = (char)(hi * 16 + lo);
            r += 2;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
    return 0;
}

int sk_proto_query_split(char *qs, sk_proto_kv_t *kv, size_t cap, size_t *n, sk_proto_error_t *e)
{
    size_t m = 0;
    char *p = qs;
    while (p && *p) {
        char *amp = strchr(p, '&');
        if (amp)
            *amp = '\0';
        if (*p) {
            if (m == cap) {
                sk_proto_error_set(e, 400, SK_PROTO_INVALID_FIELD, "query",
                                   "more than %zu query parameters", cap);
                return SK_EINVAL;
            }
            char *eq = strchr(p, '=');
            if (eq)
                *eq = '\0';
            kv[m].key = p;
            kv[m].value = eq ? eq + 1 : "";
            if (unescape(p) || (eq && unescape(eq + 1))) {
                sk_proto_error_set(e, 400, SK_PROTO_INVALID_FIELD, "query",
                                   "bad percent-escape in the query string");
                return SK_EINVAL;
            }
            m++;
        }
        p = amp ? amp + 1 : NULL;
    }
    *n = m;
    return 0;
}

int sk_proto_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    uint64_t x = 0;
    if (!s || !*s || strlen(s) > 20)
        return SK_EINVAL;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return SK_EINVAL;
        if (__builtin_mul_overflow(x, 10u, &x) || __builtin_add_overflow(x, (uint64_t)(*p - '0'), &x))
            return SK_EOVERFLOW;
    }
    if (x < lo || x > hi)
        return SK_ERANGE;
    *out = x;
    return 0;
}

int sk_proto_parse_range(const char *s, uint32_t size, uint32_t *first, uint32_t *count)
{
    uint64_t a = 0, b = size;
    char tmp[48];
    if (!s || strlen(s) >= sizeof tmp)
        return SK_EINVAL;
    strcpy(tmp, s);
    char *colon = strchr(tmp, ':');
    if (colon) {
        *colon = '\0';
        if (tmp[0] && sk_proto_parse_u64(tmp, 0, UINT32_MAX, &a))
            return SK_EINVAL;
        if (colon[1] && sk_proto_parse_u64(colon + 1, 0, UINT32_MAX, &b))
            return SK_EINVAL;
    } else if (tmp[0]) {
        if (sk_proto_parse_u64(tmp, 0, UINT32_MAX, &a))
            return SK_EINVAL;
        b = a + 1;
    }
    if (a >= b || b > size)
        return SK_ERANGE;
    *first = (uint32_t)a;
    *count = (uint32_t)(b - a);
    return 0;
}

/* Looks up the allowed keys: vals[k] = value of keys[k] or NULL. */
static int query_keys(sk__dec_t *d, const sk_proto_kv_t *kv, size_t n, const char *const *keys,
                      const char **vals)
{
    size_t nk = 0;
    while (keys[nk])
        vals[nk++] = NULL;
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (keys[k] && strcmp(keys[k], kv[i].key) != 0)
            k++;
        size_t mark = sk__path_key(&d->path, kv[i].key);
        if (!keys[k]) {
            char list[120];
            sk__join(list, sizeof list, keys, nk);
            return sk__fail(d, SK_EINVAL, SK_PROTO_UNKNOWN_FIELD,
                            "unknown query parameter (expected: %s)", list);
        }
        if (vals[k])
            return sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD, "given more than once");
        vals[k] = kv[i].value;
        sk__path_pop(&d->path, mark);
    }
    return 0;
}

/* population=<name>: the index, or -1 when absent and `optional`. */
static int query_pop(sk__dec_t *d, const char *val, const sk_proto_net_view_t *v, int optional,
                     int32_t *out)
{
    size_t mark = sk__path_key(&d->path, "population");
    if (!val || !*val) {
        if (optional || v->n_pops == 1) {
            *out = optional ? -1 : 0;
            sk__path_pop(&d->path, mark);
            return 0;
        }
        return sk__fail(d, SK_EINVAL, SK_PROTO_MISSING_FIELD,
                        "required when the network has several populations");
    }
    int idx = sk_proto_view_pop(v, val);
    if (idx < 0)
        return sk__fail(d, SK_ENOENT, SK_PROTO_INVALID_FIELD, "no population named \"%.64s\"",
                        val);
    *out = idx;
    sk__path_pop(&d->path, mark);
    return 0;
}

static int query_u64(sk__dec_t *d, const char *key, const char *val, uint64_t lo, uint64_t hi,
                     uint64_t *out)
{
    if (!val)
        return 0;
    size_t mark = sk__path_key(&d->path, key);
    int rc = sk_proto_parse_u64(val, lo, hi, out);
    if (rc)
        return sk__fail(d, SK_ERANGE, SK_PROTO_INVALID_FIELD,
                        "must be an integer in [%llu, %llu] (got \"%.40s\")",
                        (unsigned long long)lo, (unsigned long long)hi, val);
    sk__path_pop(&d->path, mark);
    return 0;
}

/* variables=v,i: state indices of model m (default: all). */
static int query_vars(sk__dec_t *d, const char *val, const sk_model_t *m,
                      sk_proto_state_query_t *out)
{
    out->n_vars = 0;
    if (!val || !*val) {
        for (uint32_t k = 0; k < m->n_state && k < SK_MODEL_MAX_STATE; k++)
            out->vars[out->n_vars++] = k;
        return 0;
    }
    size_t mark = sk__path_key(&d->path, "variables");
    const char *p = val;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char name[SK_PROTO_NAME_MAX + 1];
        if (len == 0 || len > SK_PROTO_NAME_MAX)
            return sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD,
                            "must be a comma-separated list of state variables");
        memcpy(name, p, len);
        name[len] = '\0';
        int idx = sk_model_state_index(m, name);
        if (idx < 0) {
            char list[120];
            sk__join_fields(list, sizeof list, m->state, m->n_state);
            return sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD,
                            "\"%s\" is not a state variable of model %s (state: %s)", name,
                            m->name, list);
        }
        for (uint32_t k = 0; k < out->n_vars; k++)
            if (out->vars[k] == (uint32_t)idx)
                return sk__fail(d, SK_EINVAL, SK_PROTO_INVALID_FIELD, "\"%s\" appears twice", name);
        out->vars[out->n_vars++] = (uint32_t)idx;
        if (!comma)
            break;
        p = comma + 1;
    }
    sk__path_pop(&d->path, mark);
    return 0;
}

int sk_proto_state_query_decode(const sk_proto_kv_t *kv, size_t n, const sk_proto_net_view_t *v,
                                const sk_proto_caps_t *caps, sk_proto_state_query_t *out,
                                sk_proto_error_t *e)
{
    static const char *const keys[] = {"population", "variables", "neurons", NULL};
    const char *vals[3];
    sk__dec_t d;
    sk_proto_state_query_t q = {0};
    int32_t pop = 0;
    sk__dec_init(&d, "query", caps, e);
    int rc = query_keys(&d, kv, n, keys, vals);
    if (rc == 0)
        rc = query_pop(&d, vals[0], v, 0, &pop);
    if (rc)
        return rc;
    q.pop = (uint32_t)pop;
    const sk_proto_pop_view_t *pv = &v->pops[pop];
    if ((rc = query_vars(&d, vals[1], pv->model, &q)) != 0)
        return rc;
    sk__path_key(&d.path, "neurons");
    if (sk_proto_parse_range(vals[2] ? vals[2] : "", pv->size, &q.first, &q.count) != 0)
        return sk__fail(&d, SK_ERANGE, SK_PROTO_INVALID_FIELD,
                        "must be a:b, a:, :b or a with 0 <= a < b <= %u (got \"%.40s\")",
                        pv->size, vals[2]);
    uint64_t values = (uint64_t)q.count * q.n_vars;
    if (values > d.caps.max_values)
        return sk__fail(&d, SK_ELIMIT, SK_PROTO_LIMIT_EXCEEDED,
                        "asks for %llu values; at most %llu per request (narrow neurons)",
                        (unsigned long long)values, (unsigned long long)d.caps.max_values);
    *out = q;
    return 0;
}

/* from_step and to_step: from <= to <= the current step. */
static int query_window(sk__dec_t *d, const char *from, const char *to,
                        const sk_proto_net_view_t *v, uint64_t *a, uint64_t *b)
{
    *a = 0;
    *b = v->step;
    int rc = query_u64(d, "to_step", to, 0, v->step, b);
    if (rc == 0)
        rc = query_u64(d, "from_step", from, 0, *b, a);
    return rc;
}

int sk_proto_spikes_query_decode(const sk_proto_kv_t *kv, size_t n, const sk_proto_net_view_t *v,
                                 const sk_proto_caps_t *caps, sk_proto_spikes_query_t *out,
                                 sk_proto_error_t *e)
{
    static const char *const keys[] = {"population", "from_step", "to_step", "limit", NULL};
    const char *vals[4];
    sk__dec_t d;
    sk_proto_spikes_query_t q = {0};
    sk__dec_init(&d, "query", caps, e);
    q.limit = d.caps.max_spikes;
    int rc = query_keys(&d, kv, n, keys, vals);
    if (rc == 0)
        rc = query_pop(&d, vals[0], v, 1, &q.pop);
    if (rc == 0)
        rc = query_window(&d, vals[1], vals[2], v, &q.from, &q.to);
    if (rc == 0)
        rc = query_u64(&d, "limit", vals[3], 1, d.caps.max_spikes, &q.limit);
    if (rc == 0)
        *out = q;
    return rc;
}

int sk_proto_samples_query_decode(const sk_proto_kv_t *kv, size_t n, const sk_proto_net_view_t *v,
                                  sk_proto_samples_query_t *out, sk_proto_error_t *e)
{
    static const char *const keys[] = {"from_step", "to_step", "limit", NULL};
    const char *vals[3];
    sk__dec_t d;
    sk_proto_samples_query_t q = {0};
    sk__dec_init(&d, "query", NULL, e);
    int rc = query_keys(&d, kv, n, keys, vals);
    if (rc == 0)
        rc = query_window(&d, vals[0], vals[1], v, &q.from, &q.to);
    if (rc == 0)
        rc = query_u64(&d, "limit", vals[2], 1, SK__JSON_SAFE_INT, &q.limit);
    if (rc == 0)
        *out = q;
    return rc;
}

int sk_proto_create_query_decode(const sk_proto_kv_t *kv, size_t n, const char *body_name,
                                 sk_proto_error_t *e)
{
    static const char *const keys[] = {"name", NULL};
    const char *vals[1];
    sk__dec_t d;
    sk__dec_init(&d, "query", NULL, e);
    int rc = query_keys(&d, kv, n, keys, vals);
    if (rc || !vals[0])
        return rc;
    if ((rc = sk_proto_name_check(vals[0], "query.name", e)) != 0)
        return rc;
    if (strcmp(vals[0], body_name) == 0)
        return 0;
    sk__path_key(&d.path, "name");
    return sk__fail(&d, SK_EINVAL, SK_PROTO_INVALID_FIELD,
                    "the query names session %s, the body %s: they must agree", vals[0], body_name);
}

int sk_proto_list_query_decode(const sk_proto_kv_t *kv, size_t n, uint64_t max_limit,
                               uint64_t *limit, uint64_t *cursor, sk_proto_error_t *e)
{
    static const char *const keys[] = {"limit", "cursor", NULL};
    const char *vals[2];
    sk__dec_t d;
    sk__dec_init(&d, "query", NULL, e);
    *limit = max_limit;
    *cursor = 0;
    int rc = query_keys(&d, kv, n, keys, vals);
    if (rc == 0)
        rc = query_u64(&d, "limit", vals[0], 1, max_limit, limit);
    if (rc == 0 && vals[1]) {
        size_t mark = sk__path_key(&d.path, "cursor");
        if (sk_proto_parse_u64(vals[1], 1, SK__JSON_SAFE_INT, cursor))
            return sk__fail(&d, SK_EINVAL, SK_PROTO_INVALID_FIELD,
                            "not a cursor this server gave (next_cursor of a previous page)");
        sk__path_pop(&d.path, mark);
    }
    return rc;
}

int sk_proto_events_query_decode(const sk_proto_kv_t *kv, size_t n, const sk_proto_net_view_t *v,
                                 int32_t *pop, sk_proto_error_t *e)
{
    static const char *const keys[] = {"population", NULL};
    const char *vals[1];
    sk__dec_t d;
    int32_t p = -1;
    sk__dec_init(&d, "query", NULL, e);
    int rc = query_keys(&d, kv, n, keys, vals);
    if (rc == 0)
        rc = query_pop(&d, vals[0], v, 1, &p);
    if (rc == 0)
        *pop = p;
    return rc;
}
