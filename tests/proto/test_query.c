/* test_query.c: query strings: splitting and percent-decoding, integers with overflow
 * checks, neuron ranges, and the state / spikes / recordings / events / create decoders. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "spiked/proto.h"
#include "view.h"

Test(query, split_decodes_in_place)
{
    char qs[] = "population=exc&variables=v%2Ci&neurons=0:5&flag&x=a+b&&";
    sk_proto_kv_t kv[8];
    size_t n;
    cr_assert(sk_proto_query_split(qs, kv, 8, &n, NULL) == 0);
    cr_assert_eq(n, 5);
    cr_expect_str_eq(kv[1].key, "variables");
    cr_expect_str_eq(kv[1].value, "v,i");
    cr_expect_str_eq(kv[3].key, "flag");
    cr_expect_str_eq(kv[3].value, "");
    cr_expect_str_eq(kv[4].value, "a b");
    char bad1[] = "a=%zz", bad2[] = "a=%00", bad3[] = "a=1&b=2&c=3";
    sk_proto_error_t e;
    cr_expect(sk_proto_query_split(bad1, kv, 8, &n, &e) < 0);
    cr_expect(sk_proto_query_split(bad2, kv, 8, &n, &e) < 0);
    cr_expect(sk_proto_query_split(bad3, kv, 2, &n, &e) < 0);
    char empty[] = "";
    cr_expect(sk_proto_query_split(empty, kv, 8, &n, &e) == 0 && n == 0);
}

Test(query, integers_with_overflow_checks)
{
    uint64_t x = 7;
    cr_expect(sk_proto_parse_u64("18446744073709551615", 0, UINT64_MAX, &x) == 0 &&
              x == UINT64_MAX);
    cr_expect(sk_proto_parse_u64("18446744073709551616", 0, UINT64_MAX, &x) == SK_EOVERFLOW);
    cr_expect(sk_proto_parse_u64("99999999999999999999", 0, UINT64_MAX, &x) == SK_EOVERFLOW);
    cr_expect(sk_proto_parse_u64("123456789012345678901", 0, UINT64_MAX, &x) < 0);
    cr_expect(sk_proto_parse_u64("-1", 0, 10, &x) < 0);
    cr_expect(sk_proto_parse_u64("+1", 0, 10, &x) < 0);
    cr_expect(sk_proto_parse_u64(" 1", 0, 10, &x) < 0);
    cr_expect(sk_proto_parse_u64("1e3", 0, 10000, &x) < 0);
    cr_expect(sk_proto_parse_u64("", 0, 10, &x) < 0);
    cr_expect(sk_proto_parse_u64("11", 0, 10, &x) == SK_ERANGE);
    cr_expect(sk_proto_parse_u64("007", 0, 10, &x) == 0 && x == 7);
}

Test(query, neuron_ranges)
{
    uint32_t a, n;
    cr_expect(sk_proto_parse_range("0:100", 100, &a, &n) == 0 && a == 0 && n == 100);
    cr_expect(sk_proto_parse_range("10:", 100, &a, &n) == 0 && a == 10 && n == 90);
    cr_expect(sk_proto_parse_range(":5", 100, &a, &n) == 0 && a == 0 && n == 5);
    cr_expect(sk_proto_parse_range("42", 100, &a, &n) == 0 && a == 42 && n == 1);
    cr_expect(sk_proto_parse_range("", 100, &a, &n) == 0 && a == 0 && n == 100);
    cr_expect(sk_proto_parse_range("0:101", 100, &a, &n) < 0);
    cr_expect(sk_proto_parse_range("5:5", 100, &a, &n) < 0);
    cr_expect(sk_proto_parse_range("6:5", 100, &a, &n) < 0);
    cr_expect(sk_proto_parse_range("100", 100, &a, &n) < 0);
    cr_expect(sk_proto_parse_range("4294967295:4294967296", UINT32_MAX, &a, &n) < 0);
    cr_expect(sk_proto_parse_range("a:b", 100, &a, &n) < 0);
    cr_expect(sk_proto_parse_range("1:2:3", 100, &a, &n) < 0);
    cr_expect(sk_proto_parse_range(NULL, 100, &a, &n) < 0);
}

#define KV(k, v) {(k), (v)}

Test(query, state_query)
{
    sk_proto_net_view_t v = test_view();
    sk_proto_state_query_t q;
    sk_proto_error_t e;
    sk_proto_kv_t kv[] = {KV("population", "inh"), KV("variables", "g_i,v"), KV("neurons", "1:3")};
    cr_assert(sk_proto_state_query_decode(kv, 3, &v, NULL, &q, &e) == 0, "%s", e.message);
    cr_expect(q.pop == 1 && q.n_vars == 2 && q.vars[0] == 2 && q.vars[1] == 0 && q.first == 1 &&
              q.count == 2);
    sk_proto_kv_t all[] = {KV("population", "exc")};
    cr_assert(sk_proto_state_query_decode(all, 1, &v, NULL, &q, &e) == 0);
    cr_expect(q.n_vars == 2 && q.first == 0 && q.count == 10);
    struct {
        sk_proto_kv_t kv[2];
        size_t n;
        const char *path;
        int status;
    } t[] = {
        {{KV("variables", "v")}, 1, "query.population", 400},
        {{KV("population", "out")}, 1, "query.population", 400},
        {{KV("population", "exc"), KV("variables", "v,u")}, 2, "query.variables", 400},
        {{KV("population", "exc"), KV("variables", "v,v")}, 2, "query.variables", 400},
        {{KV("population", "exc"), KV("variables", ",")}, 2, "query.variables", 400},
        {{KV("population", "exc"), KV("neurons", "0:11")}, 2, "query.neurons", 400},
        {{KV("population", "exc"), KV("population", "inh")}, 2, "query.population", 400},
        {{KV("population", "exc"), KV("step", "1")}, 2, "query.step", 400},
    };
    for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) {
        cr_expect(sk_proto_state_query_decode(t[k].kv, t[k].n, &v, NULL, &q, &e) < 0, "case %zu",
                  k);
        cr_expect_str_eq(e.path, t[k].path, "case %zu: %s", k, e.message);
        cr_expect_eq(e.status, t[k].status, "case %zu", k);
    }
    sk_proto_caps_t caps = {.max_values = 5};
    cr_expect(sk_proto_state_query_decode(all, 1, &v, &caps, &q, &e) < 0);
    cr_expect_eq(e.status, 413);
}

Test(query, spikes_query)
{
    sk_proto_net_view_t v = test_view();
    sk_proto_spikes_query_t q;
    sk_proto_error_t e;
    cr_assert(sk_proto_spikes_query_decode(NULL, 0, &v, NULL, &q, &e) == 0);
    cr_expect(q.pop == -1 && q.from == 0 && q.to == 100 && q.limit == 1000000);
    sk_proto_kv_t kv[] = {KV("population", "inh"), KV("from_step", "10"), KV("to_step", "20"),
                          KV("limit", "5")};
    cr_assert(sk_proto_spikes_query_decode(kv, 4, &v, NULL, &q, &e) == 0);
    cr_expect(q.pop == 1 && q.from == 10 && q.to == 20 && q.limit == 5);
    sk_proto_kv_t late[] = {KV("to_step", "101")};
    cr_expect(sk_proto_spikes_query_decode(late, 1, &v, NULL, &q, &e) < 0);
    cr_expect_str_eq(e.path, "query.to_step");
    sk_proto_kv_t rev[] = {KV("from_step", "30"), KV("to_step", "20")};
    cr_expect(sk_proto_spikes_query_decode(rev, 2, &v, NULL, &q, &e) < 0);
    cr_expect_str_eq(e.path, "query.from_step");
    sk_proto_kv_t big[] = {KV("limit", "18446744073709551616")};
    cr_expect(sk_proto_spikes_query_decode(big, 1, &v, NULL, &q, &e) < 0);
    cr_expect_str_eq(e.path, "query.limit");
    sk_proto_kv_t zero[] = {KV("limit", "0")};
    cr_expect(sk_proto_spikes_query_decode(zero, 1, &v, NULL, &q, &e) < 0);
}

Test(query, recordings_and_events_queries)
{
    sk_proto_net_view_t v = test_view();
    sk_proto_samples_query_t q;
    sk_proto_error_t e;
    cr_assert(sk_proto_samples_query_decode(NULL, 0, &v, &q, &e) == 0);
    cr_expect(q.from == 0 && q.to == 100 && q.limit == 0);
    sk_proto_kv_t kv[] = {KV("from_step", "3"), KV("limit", "2")};
    cr_assert(sk_proto_samples_query_decode(kv, 2, &v, &q, &e) == 0);
    cr_expect(q.from == 3 && q.limit == 2);
    sk_proto_kv_t bad[] = {KV("population", "exc")};
    cr_expect(sk_proto_samples_query_decode(bad, 1, &v, &q, &e) < 0);
    cr_expect_str_eq(e.code, "unknown_field");
    int32_t pop = 7;
    cr_expect(sk_proto_events_query_decode(NULL, 0, &v, &pop, &e) == 0 && pop == -1);
    cr_expect(sk_proto_events_query_decode(bad, 1, &v, &pop, &e) == 0 && pop == 0);
    sk_proto_kv_t nope[] = {KV("population", "\xff")};
    cr_expect(sk_proto_events_query_decode(nope, 1, &v, &pop, &e) < 0);
    char *body = sk_proto_error_body(&e, NULL);
    cr_expect(body != NULL, "error body must survive invalid UTF-8 in the query");
    free(body);
}

/* POST /v1/sessions?name= (the scale-out router's routing key): optional, a valid name, the
 * body's name, once, and nothing else. */
Test(query, create_query)
{
    sk_proto_error_t e;
    sk_proto_kv_t same[] = {{"name", "net-1"}}, other[] = {{"name", "net-2"}},
                  bad[] = {{"name", "../x"}}, empty[] = {{"name", ""}},
                  twice[] = {{"name", "net-1"}, {"name", "net-1"}},
                  unknown[] = {{"name", "net-1"}, {"seed", "3"}};
    cr_expect(sk_proto_create_query_decode(NULL, 0, "net-1", &e) == 0);
    cr_expect(sk_proto_create_query_decode(same, 1, "net-1", &e) == 0);
    const struct {
        const sk_proto_kv_t *kv;
        size_t n;
        const char *path, *code;
    } no[] = {{other, 1, "query.name", "invalid_field"},
              {bad, 1, "query.name", "invalid_field"},
              {empty, 1, "query.name", "invalid_field"},
              {twice, 2, "query.name", "invalid_field"},
              {unknown, 2, "query.seed", "unknown_field"}};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        memset(&e, 0, sizeof e);
        cr_expect(sk_proto_create_query_decode(no[i].kv, no[i].n, "net-1", &e) < 0, "case %zu", i);
        cr_expect_eq(e.status, 400, "case %zu", i);
        cr_expect_str_eq(e.path, no[i].path, "case %zu", i);
        cr_expect_str_eq(e.code, no[i].code, "case %zu", i);
    }
    sk_proto_create_query_decode(other, 1, "net-1", &e);
    cr_expect(strstr(e.message, "net-2") && strstr(e.message, "net-1"), "%s", e.message);
}
