/* test_cases.c: the data-driven protocol cases (jansson's habit).
 *
 *   cases/valid/<name>/input.json     a create-session body that must decode AND build
 *                                     (sk_net_create), with optional expect.json: any of
 *                                     name, dt, seed, seed_given, n_pops, n_projs, n_stims,
 *                                     n_recs, n_neurons, n_synapses
 *   cases/invalid/<name>/input.json   a body that must be refused, at parse, decode or
 *                     error.json      create time, with error.json {status, path, code?,
 *                                     message_contains?}
 *   either may hold caps.json         sk_proto_caps_t fields (limits and max_limits as
 *                                     objects)
 *
 * A new case is a new folder; no code changes.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spiked/proto.h"

#define MAX_CASES 512

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the sub-folders of dir; returns the count. */
static size_t list_cases(const char *dir, char **names)
{
    DIR *d = opendir(dir);
    cr_assert(d != NULL, "cannot open %s", dir);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < MAX_CASES)
        if (e->d_name[0] != '.')
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    return n;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    cr_assert(buf && fread(buf, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

static json_t *load_opt(const char *dir, const char *file)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    json_error_t je;
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    fclose(f);
    json_t *j = json_load_file(path, 0, &je);
    cr_assert(j != NULL, "%s: %s", path, je.text);
    return j;
}

/* An sk_limits_t object (absent fields and a NULL object: 0). */
static void load_limits(const json_t *l, sk_limits_t *out)
{
#define FIELD(f) out->f = (__typeof__(out->f))json_integer_value(json_object_get(l, #f))
    FIELD(max_neurons);
    FIELD(max_synapses);
    FIELD(max_bytes);
    FIELD(max_delay);
    FIELD(spike_history);
    FIELD(history_steps);
    FIELD(max_pending);
    FIELD(max_record_values);
#undef FIELD
}

static void load_caps(const char *dir, sk_proto_caps_t *caps)
{
    memset(caps, 0, sizeof *caps);
    json_t *c = load_opt(dir, "caps.json");
    if (!c)
        return;
    json_t *l = json_object_get(c, "limits");
    caps->max_populations = (uint32_t)json_integer_value(json_object_get(c, "max_populations"));
    caps->max_projections = (uint32_t)json_integer_value(json_object_get(c, "max_projections"));
    caps->max_stimuli = (uint32_t)json_integer_value(json_object_get(c, "max_stimuli"));
    caps->max_recorders = (uint32_t)json_integer_value(json_object_get(c, "max_recorders"));
    caps->max_depth = (uint32_t)json_integer_value(json_object_get(c, "max_depth"));
    load_limits(l, &caps->limits);
    load_limits(json_object_get(c, "max_limits"), &caps->max_limits);
    json_decref(c);
}

/* parse -> decode -> create. Returns 0, or the error in *e. *net_out (optional) keeps the
 * network. */
static int run_case(const char *dir, sk_proto_error_t *e, sk_proto_session_t **s_out,
                    sk_net_t **net_out)
{
    char path[1024];
    size_t len;
    sk_proto_caps_t caps;
    snprintf(path, sizeof path, "%s/input.json", dir);
    char *body = read_file(path, &len);
    cr_assert(body != NULL, "missing %s", path);
    load_caps(dir, &caps);
    json_t *j = NULL;
    sk_proto_session_t *s = NULL;
    sk_net_t *net = NULL;
    int rc = sk_proto_parse(body, len, &caps, &j, e);
    free(body);
    if (rc == 0)
        rc = sk_proto_session_decode(j, &caps, &s, e);
    json_decref(j);
    if (rc == 0) {
        sk_err_t err = {0};
        rc = sk_net_create(&s->spec, &net, &err);
        if (rc)
            sk_proto_error_from_core(e, rc, &err, "network");
    }
    if (rc == 0 && s_out && net_out) {
        *s_out = s;
        *net_out = net;
        return 0;
    }
    sk_net_destroy(net);
    sk_proto_session_free(s);
    return rc;
}

static void check_expect(const char *name, const json_t *x, const sk_proto_session_t *s,
                         const sk_net_t *net)
{
    sk_net_info_t ni;
    sk_net_info(net, &ni);
    struct {
        const char *key;
        double got;
    } f[] = {{"dt", s->spec.dt_ms},           {"seed", (double)s->spec.seed},
             {"seed_given", s->seed_given},   {"n_pops", s->spec.n_pops},
             {"n_projs", s->spec.n_projs},    {"n_stims", s->spec.n_stims},
             {"n_recs", s->spec.n_recs},      {"n_neurons", (double)ni.n_neurons},
             {"n_synapses", (double)ni.n_synapses}};
    for (size_t k = 0; k < sizeof f / sizeof f[0]; k++) {
        json_t *v = json_object_get(x, f[k].key);
        if (v)
            cr_expect(json_number_value(v) == f[k].got, "valid/%s: %s = %g, expected %g", name,
                      f[k].key, f[k].got, json_number_value(v));
    }
    json_t *n = json_object_get(x, "name");
    if (n)
        cr_expect_str_eq(s->name, json_string_value(n), "valid/%s: name", name);
}

Test(cases, valid_bodies_decode_and_build)
{
    char *names[MAX_CASES];
    size_t n = list_cases(SK_PROTO_CASES_DIR "/valid", names);
    cr_assert(n >= 10, "only %zu valid cases", n);
    for (size_t k = 0; k < n; k++) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/valid/%s", SK_PROTO_CASES_DIR, names[k]);
        sk_proto_error_t e = {0};
        sk_proto_session_t *s = NULL;
        sk_net_t *net = NULL;
        int rc = run_case(dir, &e, &s, &net);
        cr_expect(rc == 0, "valid/%s refused: %d %s at \"%s\": %s", names[k], e.status, e.code,
                  e.path, e.message);
        json_t *x = rc == 0 ? load_opt(dir, "expect.json") : NULL;
        if (x)
            check_expect(names[k], x, s, net);
        json_decref(x);
        sk_net_destroy(net);
        sk_proto_session_free(s);
        free(names[k]);
    }
}

Test(cases, invalid_bodies_fail_naming_the_field)
{
    char *names[MAX_CASES];
    size_t n = list_cases(SK_PROTO_CASES_DIR "/invalid", names);
    cr_assert(n >= 40, "only %zu invalid cases", n);
    for (size_t k = 0; k < n; k++) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/invalid/%s", SK_PROTO_CASES_DIR, names[k]);
        json_t *want = load_opt(dir, "error.json");
        cr_assert(want != NULL, "invalid/%s has no error.json", names[k]);
        sk_proto_error_t e = {0};
        int rc = run_case(dir, &e, NULL, NULL);
        cr_expect(rc < 0, "invalid/%s was accepted", names[k]);
        int status = (int)json_integer_value(json_object_get(want, "status"));
        const char *path = json_string_value(json_object_get(want, "path"));
        const char *code = json_string_value(json_object_get(want, "code"));
        const char *msg = json_string_value(json_object_get(want, "message_contains"));
        cr_expect(e.status == status, "invalid/%s: status %d, expected %d (%s: %s)", names[k],
                  e.status, status, e.path, e.message);
        cr_expect(path && strcmp(e.path, path) == 0, "invalid/%s: path \"%s\", expected \"%s\" (%s)",
                  names[k], e.path, path ? path : "?", e.message);
        if (code)
            cr_expect(e.code && strcmp(e.code, code) == 0, "invalid/%s: code %s, expected %s",
                      names[k], e.code, code);
        if (msg)
            cr_expect(strstr(e.message, msg) != NULL, "invalid/%s: message \"%s\" lacks \"%s\"",
                      names[k], e.message, msg);
        cr_expect(e.message[0] != '\0', "invalid/%s: empty message", names[k]);
        json_decref(want);
        free(names[k]);
    }
}
