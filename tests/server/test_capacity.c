/* test_capacity.c: admission against a real server (issue 17). The server-wide memory
 * budget (--max-memory) refuses a create or a fork whose estimate does not fit (507) or
 * exceeds the whole budget (413) before building, and frees its share on delete; refusals
 * known in advance answer at once; the listing is paged. 10,000 sessions, restarted, all
 * back (more than the old fixed table of 4,096): test_ten_thousand.py (label slow). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

TestSuite(capacity, .timeout = 90);

static long health(int port, const char *field)
{
    json_t *j = t_ok(port, "GET", "/healthz", NULL, 200);
    long v = (long)json_integer_value(json_object_get(j, field));
    json_decref(j);
    return v;
}

Test(capacity, memory_budget_refuses_before_building_and_frees_on_delete)
{
    /* a 10-neuron session with the default history limits is estimated at ~6 MB */
    const char *args[] = {"--max-memory", "20M", NULL};
    sp_proc_t a;
    t_start(&a, args);
    cr_assert_eq(health(a.port, "memory_max"), 20L << 20);
    cr_assert_eq(health(a.port, "memory_used"), 0);
    t_create(a.port, "a", 10, 1);
    long one = health(a.port, "memory_used");
    cr_assert(one > 1000000 && one < (20L << 20) / 3, "one session charges %ld bytes", one);
    t_create(a.port, "b", 10, 1);
    t_create(a.port, "c", 10, 1);
    cr_assert_eq(health(a.port, "memory_used"), 3 * one);
    /* the fourth does not fit what is left: 507 naming the network, nothing built */
    t_error(a.port, "POST", "/v1/sessions", t_net_lif("d", 10, 1), 507, "insufficient_storage",
            "network");
    t_error(a.port, "POST", "/v1/sessions/a/fork", "{\"name\":\"d\"}", 507,
            "insufficient_storage", NULL);
    /* one that could never fit: 413 */
    t_error(a.port, "POST", "/v1/sessions", t_net_lif("big", 20000, 1), 413, "limit_exceeded",
            "network");
    cr_assert_eq(health(a.port, "memory_used"), 3 * one, "refusals charge nothing");
    t_error(a.port, "GET", "/v1/sessions/d", NULL, 404, "not_found", NULL);
    /* a delete returns its share: the fork now fits */
    t_ok(a.port, "DELETE", "/v1/sessions/c", NULL, 204);
    cr_assert_eq(health(a.port, "memory_used"), 2 * one);
    json_decref(t_ok(a.port, "POST", "/v1/sessions/a/fork", "{\"name\":\"d\"}", 201));
    cr_assert_eq(health(a.port, "memory_used"), 3 * one);
    t_stop(&a);
}

Test(capacity, refusals_known_in_advance_cost_no_build)
{
    /* a name taken or a full server is answered before the (large) network is built: the
     * answer comes back well before a build of this size could finish */
    const char *args[] = {"--max-sessions", "1", NULL};
    sp_proc_t a;
    t_start(&a, args);
    t_create(a.port, "a", 10, 1);
    t_error(a.port, "POST", "/v1/sessions", t_net_lif("a", 10, 1), 409, "conflict", "name");
    t_error(a.port, "POST", "/v1/sessions", t_net_lif("b", 10, 1), 429, "too_many_requests",
            NULL);
    cr_assert_eq(health(a.port, "sessions"), 1);
    t_stop(&a);
}

Test(capacity, listing_is_paged_in_creation_order)
{
    const char *args[] = {"--max-sessions", "10", NULL};
    sp_proc_t a;
    t_start(&a, args);
    const char *names[] = {"s0", "s1", "s2", "s3", "s4", "s5", "s6"};
    for (int i = 0; i < 7; i++)
        t_create(a.port, names[i], 10, i);
    t_ok(a.port, "DELETE", "/v1/sessions/s1", NULL, 204);
    /* walk with limit 2: s0 s2 | s3 s4 | s5 s6 | end; a create during the walk shows up */
    const char *want[] = {"s0", "s2", "s3", "s4", "s5", "s6", "s7"};
    char path[128] = "/v1/sessions?limit=2";
    int seen = 0, pages = 0;
    for (;;) {
        json_t *j = t_ok(a.port, "GET", path, NULL, 200);
        json_t *arr = json_object_get(j, "sessions");
        cr_assert_leq(json_array_size(arr), 2);
        for (size_t k = 0; k < json_array_size(arr); k++, seen++)
            cr_assert_str_eq(json_string_value(json_object_get(json_array_get(arr, k), "name")),
                             want[seen]);
        pages++;
        if (pages == 1)
            t_create(a.port, "s7", 10, 7);
        json_t *next = json_object_get(j, "next_cursor");
        if (json_is_null(next)) {
            json_decref(j);
            break;
        }
        snprintf(path, sizeof path, "/v1/sessions?limit=2&cursor=%s", json_string_value(next));
        json_decref(j);
        cr_assert_lt(pages, 10);
    }
    cr_assert_eq(seen, 7);
    cr_assert_eq(pages, 4);
    /* without a limit: every session (up to 100) and a null cursor */
    json_t *j = t_ok(a.port, "GET", "/v1/sessions", NULL, 200);
    cr_assert_eq(json_array_size(json_object_get(j, "sessions")), 7);
    cr_assert(json_is_null(json_object_get(j, "next_cursor")));
    json_decref(j);
    t_error(a.port, "GET", "/v1/sessions?limit=0", NULL, 400, "invalid_field", "query.limit");
    t_error(a.port, "GET", "/v1/sessions?limit=101", NULL, 400, "invalid_field", "query.limit");
    t_error(a.port, "GET", "/v1/sessions?cursor=x", NULL, 400, "invalid_field", "query.cursor");
    t_error(a.port, "GET", "/v1/sessions?page=2", NULL, 400, "unknown_field", "query.page");
    t_stop(&a);
}
