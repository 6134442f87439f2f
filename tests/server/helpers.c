/* helpers.c: see helpers.h. */

#include "helpers.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void t_start(sp_proc_t *p, const char *const *args)
{
    cr_assert_eq(sp_start(p, args, NULL), 0, "spiked did not start");
}

void t_stop(sp_proc_t *p)
{
    int st = sp_stop(p, SIGTERM, 10000);
    cr_assert_eq(st, 0, "spiked exit status %d after SIGTERM", st);
}

json_t *t_req_h(int port, const char *method, const char *path, const char *headers,
                const char *body, int *status)
{
    hc_resp_t r;
    char h[2048];
    snprintf(h, sizeof h, "%s%s", body ? "Content-Type: application/json\r\n" : "",
             headers ? headers : "");
    int rc = hc_request(port, method, path, h, body, &r);
    cr_assert_eq(rc, 0, "%s %s: no response", method, path);
    *status = r.status;
    json_t *j = r.len ? json_loads(r.body, 0, NULL) : NULL;
    hc_resp_free(&r);
    return j;
}

json_t *t_req(int port, const char *method, const char *path, const char *body, int *status)
{
    return t_req_h(port, method, path, NULL, body, status);
}

json_t *t_ok(int port, const char *method, const char *path, const char *body, int status)
{
    int st = 0;
    json_t *j = t_req(port, method, path, body, &st);
    if (st != status) {
        char *d = j ? json_dumps(j, 0) : NULL;
        cr_assert_fail("%s %s: status %d, expected %d: %s", method, path, st, status, d ? d : "");
    }
    return j;
}

void t_error(int port, const char *method, const char *path, const char *body, int status,
             const char *code, const char *err_path)
{
    int st = 0;
    json_t *j = t_req(port, method, path, body, &st);
    char *d = j ? json_dumps(j, 0) : strdup("(no body)");
    cr_assert_eq(st, status, "%s %s %s: status %d, expected %d: %s", method, path,
                 body ? body : "", st, status, d);
    json_t *e = json_object_get(j, "error");
    cr_assert(json_is_object(e), "no error object: %s", d);
    cr_assert_eq(json_integer_value(json_object_get(e, "status")), status, "%s", d);
    if (code)
        cr_assert_str_eq(json_string_value(json_object_get(e, "code")), code, "%s", d);
    cr_assert(json_is_string(json_object_get(e, "message")), "%s", d);
    cr_assert(json_is_string(json_object_get(e, "path")), "%s", d);
    if (err_path)
        cr_assert_str_eq(json_string_value(json_object_get(e, "path")), err_path, "%s", d);
    free(d);
    json_decref(j);
}

const char *t_net_lif(const char *name, int n, int seed)
{
    static char buf[2048];
    snprintf(buf, sizeof buf,
             "{\"name\":\"%s\",\"seed\":%d,\"dt\":1,\"network\":{"
             "\"populations\":[{\"name\":\"lif\",\"model\":\"lif\",\"size\":%d}],"
             "\"projections\":[{\"source\":\"lif\",\"target\":\"lif\","
             "\"rule\":{\"kind\":\"fixed_probability\",\"p\":0.1},\"weight\":0.1,"
             "\"delay_steps\":2}],"
             "\"stimuli\":[{\"kind\":\"poisson\",\"target\":\"lif\",\"rate_hz\":60,"
             "\"weight\":1.2}]}}",
             name, seed, n);
    return buf;
}

void t_create(int port, const char *name, int n, int seed)
{
    json_decref(t_ok(port, "POST", "/v1/sessions", t_net_lif(name, n, seed), 201));
}

json_t *t_step(int port, const char *name, long steps, int return_spikes)
{
    char path[256], body[128];
    snprintf(path, sizeof path, "/v1/sessions/%s/step", name);
    snprintf(body, sizeof body, "{\"steps\":%ld,\"return_spikes\":%s}", steps,
             return_spikes ? "true" : "false");
    return t_ok(port, "POST", path, body, 200);
}

void t_spikes_append(char **text, size_t *len, const json_t *spikes)
{
    size_t i;
    json_t *e;
    json_array_foreach(spikes, i, e)
    {
        json_t *ids = json_object_get(e, "ids");
        size_t k;
        json_t *id;
        json_array_foreach(ids, k, id)
        {
            char line[128];
            int n = snprintf(line, sizeof line, "%lld:%s:%lld\n",
                             json_integer_value(json_object_get(e, "step")),
                             json_string_value(json_object_get(e, "population")),
                             json_integer_value(id));
            size_t cap = malloc_usable_size(*text);
            if (*len + (size_t)n + 1 > cap) { /* geometric growth: linear total cost */
                size_t want = cap < 64 ? 64 : cap;
                while (want < *len + (size_t)n + 1)
                    want *= 2;
                *text = realloc(*text, want);
                cr_assert_not_null(*text);
            }
            memcpy(*text + *len, line, (size_t)n + 1);
            *len += (size_t)n;
        }
    }
}

char *t_spikes_text(int port, const char *name, long from, long to)
{
    char *text = calloc(1, 1);
    size_t len = 0;
    while (from < to) {
        char path[256];
        snprintf(path, sizeof path, "/v1/sessions/%s/spikes?from_step=%ld&to_step=%ld", name,
                 from, to);
        json_t *j = t_ok(port, "GET", path, NULL, 200);
        t_spikes_append(&text, &len, json_object_get(j, "spikes"));
        json_t *next = json_object_get(j, "next_from_step");
        from = next ? (long)json_integer_value(next) : to;
        json_decref(j);
    }
    return text;
}

void t_tmpdir(char *out, size_t cap)
{
    snprintf(out, cap, "/tmp/spiked-test-XXXXXX");
    cr_assert_not_null(mkdtemp(out));
}

void t_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

long t_metric(int port, const char *name)
{
    hc_resp_t r;
    cr_assert_eq(hc_request(port, "GET", "/metrics", NULL, NULL, &r), 0);
    char key[128];
    snprintf(key, sizeof key, "\n%s ", name);
    const char *p = strstr(r.body, key);
    long v = p ? atol(p + strlen(key)) : -1;
    hc_resp_free(&r);
    return v;
}
