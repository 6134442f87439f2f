/* test_robust.c: no input crashes the decoder. Every valid case is mutated many times, both
 * as text (bytes flipped, cut, inserted) and as a tree (one value replaced by a value of
 * another type or range); each result must either decode (and then build, under small
 * limits) or fail with a 4xx error that has a message. Deterministic (fixed seed). */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spiked/proto.h"

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(uint32_t n)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return n ? (uint32_t)(g_rng % n) : 0;
}

static const sk_proto_caps_t g_caps = {
    .limits = {.max_neurons = 20000, .max_synapses = 200000, .max_bytes = 64u << 20,
               .spike_history = 20000, .history_steps = 1000, .max_record_values = 100000}};

static void check_one(const char *text, size_t len)
{
    json_t *j = NULL;
    sk_proto_error_t e = {0};
    sk_proto_session_t *s = NULL;
    int rc = sk_proto_parse(text, len, &g_caps, &j, &e);
    if (rc == 0)
        rc = sk_proto_session_decode(j, &g_caps, &s, &e);
    json_decref(j);
    if (rc == 0) {
        sk_net_t *net = NULL;
        sk_err_t err = {0};
        rc = sk_net_create(&s->spec, &net, &err);
        if (rc)
            sk_proto_error_from_core(&e, rc, &err, "network");
        sk_net_destroy(net);
        sk_proto_session_free(s);
    }
    if (rc) {
        cr_assert(e.status >= 400 && e.status < 500, "status %d for %.200s", e.status, text);
        cr_assert(e.message[0] && e.code, "no message for %.200s", text);
        char *body = sk_proto_error_body(&e, NULL);
        cr_assert(body != NULL);
        free(body);
    }
}

static json_t *random_value(void)
{
    switch (rnd(10)) {
    case 0: return json_null();
    case 1: return json_integer(-1);
    case 2: return json_integer((json_int_t)rnd(4) * 2147483647LL);
    case 3: return json_real(1e30);
    case 4: return json_string("exc");
    case 5: return json_array();
    case 6: return json_object();
    case 7: return json_true();
    case 8: return json_pack("[i, i, i]", 0, 1, 70000);
    default: return json_pack("{s:[f, f]}", "uniform", 1.0, -1.0);
    }
}

/* Replaces the k-th value (depth-first) of the tree; returns the values left to skip. */
static int replace_nth(json_t *node, int k)
{
    size_t n = json_is_array(node) ? json_array_size(node) : json_is_object(node) ? json_object_size(node) : 0;
    void *it = json_is_object(node) ? json_object_iter(node) : NULL;
    for (size_t i = 0; i < n; i++) {
        json_t *child = json_is_array(node) ? json_array_get(node, i) : json_object_iter_value(it);
        if (k-- == 0) {
            if (json_is_array(node))
                json_array_set_new(node, i, random_value());
            else
                json_object_iter_set_new(node, it, random_value());
            return -1;
        }
        k = replace_nth(child, k);
        if (k < 0)
            return k;
        if (it)
            it = json_object_iter_next(node, it);
    }
    return k;
}

static void mutate_case(const char *path)
{
    json_error_t je;
    json_t *orig = json_load_file(path, 0, &je);
    cr_assert(orig != NULL, "%s", path);
    char *text = json_dumps(orig, JSON_COMPACT);
    size_t len = strlen(text);
    for (int round = 0; round < 1000; round++) {
        json_t *m = json_deep_copy(orig);
        replace_nth(m, (int)rnd(200));
        char *mt = json_dumps(m, JSON_COMPACT);
        check_one(mt, strlen(mt));
        free(mt);
        json_decref(m);
        char *b = malloc(len + 2);
        memcpy(b, text, len + 1);
        size_t at = rnd((uint32_t)len), blen = len;
        switch (rnd(3)) {
        case 0: b[at] = "{}[]\",:0-e.x"[rnd(12)]; break;
        case 1: blen = at; break;
        default: memmove(b + at + 1, b + at, len - at + 1); b[at] = "[{\"9"[rnd(4)]; blen++; break;
        }
        check_one(b, blen);
        free(b);
    }
    free(text);
    json_decref(orig);
}

Test(robust, mutated_bodies_never_crash, .timeout = 240)
{
    DIR *d = opendir(SK_PROTO_CASES_DIR "/valid");
    cr_assert(d != NULL);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/valid/%s/input.json", SK_PROTO_CASES_DIR, e->d_name);
        mutate_case(path);
        n++;
    }
    closedir(d);
    cr_assert(n > 0);
}
