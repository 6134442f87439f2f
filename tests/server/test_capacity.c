/* test_capacity.c: admission against a real server (issue 17). The server-wide memory
 * budget (--max-memory) refuses a create or a fork whose estimate does not fit (507) or
 * exceeds the whole budget (413) before building, and frees its share on delete; a restart
 * restores more checkpoints than the old fixed table held (4,096) is covered by the slow
 * test (test_slow_capacity.c). */
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
