/* test_contract.c: the embedded contract: openapi.json is valid JSON with every route of the
 * API, its routes table matches its paths, every $ref resolves, and every schema is JSON. */
#include <criterion/criterion.h>
#include <string.h>

#include "spiked/proto.h"

static const char *const g_routes[][2] = {
    {"GET", "/healthz"},
    {"GET", "/metrics"},
    {"GET", "/openapi.json"},
    {"GET", "/"},
    {"GET", "/v1/models"},
    {"POST", "/v1/sessions"},
    {"GET", "/v1/sessions"},
    {"GET", "/v1/sessions/{name}"},
    {"PATCH", "/v1/sessions/{name}"},
    {"DELETE", "/v1/sessions/{name}"},
    {"POST", "/v1/sessions/{name}/reset"},
    {"POST", "/v1/sessions/{name}/fork"},
    {"POST", "/v1/sessions/{name}/checkpoint"},
    {"POST", "/v1/sessions/{name}/step"},
    {"GET", "/v1/sessions/{name}/jobs/{id}"},
    {"DELETE", "/v1/sessions/{name}/jobs/{id}"},
    {"POST", "/v1/sessions/{name}/inputs"},
    {"PATCH", "/v1/sessions/{name}/populations/{pop}"},
    {"PATCH", "/v1/sessions/{name}/stimuli/{index}"},
    {"GET", "/v1/sessions/{name}/state"},
    {"GET", "/v1/sessions/{name}/spikes"},
    {"GET", "/v1/sessions/{name}/recordings/{index}"},
    {"GET", "/v1/sessions/{name}/events"},
};
#define N_ROUTES (sizeof g_routes / sizeof g_routes[0])

static json_t *openapi(void)
{
    size_t len;
    const char *text = sk_proto_openapi_json(&len);
    cr_assert(text != NULL && len == strlen(text));
    json_error_t je;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    cr_assert(j != NULL, "openapi.json: %s at %d", je.text, je.position);
    return j;
}

static void lower(const char *in, char *out)
{
    size_t k = 0;
    for (; in[k]; k++)
        out[k] = (char)(in[k] >= 'A' && in[k] <= 'Z' ? in[k] + 32 : in[k]);
    out[k] = '\0';
}

Test(contract, openapi_is_json_with_every_route)
{
    json_t *j = openapi();
    cr_expect_str_eq(json_string_value(json_object_get(j, "openapi")), "3.1.0");
    json_t *paths = json_object_get(j, "paths");
    for (size_t k = 0; k < N_ROUTES; k++) {
        char m[16];
        lower(g_routes[k][0], m);
        json_t *op = json_object_get(json_object_get(paths, g_routes[k][1]), m);
        cr_expect(json_is_object(op), "missing %s %s", g_routes[k][0], g_routes[k][1]);
        cr_expect(json_is_object(json_object_get(op, "responses")), "%s %s: no responses",
                  g_routes[k][0], g_routes[k][1]);
    }
    json_decref(j);
}

Test(contract, routes_table_is_exactly_the_api)
{
    const sk_proto_route_t *r;
    size_t n = sk_proto_routes(&r);
    cr_expect_eq(n, N_ROUTES);
    for (size_t k = 0; k < N_ROUTES; k++) {
        int found = 0;
        for (size_t i = 0; i < n; i++)
            found += strcmp(r[i].method, g_routes[k][0]) == 0 && strcmp(r[i].path, g_routes[k][1]) == 0;
        cr_expect_eq(found, 1, "%s %s listed %d times", g_routes[k][0], g_routes[k][1], found);
    }
}

/* Resolves a local "#/a/b" reference in doc. */
static json_t *resolve(json_t *doc, const char *ref)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", ref + 2);
    json_t *node = doc;
    for (char *tok = strtok(buf, "/"); tok && node; tok = strtok(NULL, "/"))
        node = json_object_get(node, tok);
    return node;
}

static int check_refs(json_t *doc, json_t *node)
{
    int n = 0;
    if (json_is_object(node)) {
        const char *key;
        json_t *v;
        json_object_foreach(node, key, v) {
            if (strcmp(key, "$ref") == 0 && json_is_string(v)) {
                const char *ref = json_string_value(v);
                cr_expect(strncmp(ref, "#/", 2) == 0 && resolve(doc, ref) != NULL,
                          "dangling $ref %s", ref);
                n++;
            } else {
                n += check_refs(doc, v);
            }
        }
    } else if (json_is_array(node)) {
        for (size_t k = 0; k < json_array_size(node); k++)
            n += check_refs(doc, json_array_get(node, k));
    }
    return n;
}

Test(contract, every_ref_resolves_inside_the_document)
{
    json_t *j = openapi();
    cr_expect(check_refs(j, j) > 20);
    json_t *schemas = json_object_get(json_object_get(j, "components"), "schemas");
    static const char *const inlined[] = {"session", "network", "population", "projection",
                                          "stimulus", "recorder", "error"};
    for (size_t k = 0; k < sizeof inlined / sizeof inlined[0]; k++)
        cr_expect(json_is_object(json_object_get(schemas, inlined[k])), "%s not inlined",
                  inlined[k]);
    json_decref(j);
}

Test(contract, schemas_are_json_and_unknown_names_are_null)
{
    static const char *const names[] = {"session", "network", "population", "projection",
                                        "stimulus", "recorder", "error"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        size_t len = 0;
        const char *text = sk_proto_schema(names[k], &len);
        cr_assert(text != NULL, "no schema %s", names[k]);
        json_error_t je;
        json_t *j = json_loadb(text, len, 0, &je);
        cr_expect(json_is_object(j), "%s: %s", names[k], je.text);
        json_decref(j);
    }
    cr_expect_null(sk_proto_schema("nope", NULL));
    cr_expect_null(sk_proto_schema(NULL, NULL));
}
