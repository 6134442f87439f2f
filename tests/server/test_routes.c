/* test_routes.c: the route table (server/base/routes.def) and the contract (proto/openapi.yaml)
 * list exactly the same (method, path) pairs. In-process: no server needed. */
#include <criterion/criterion.h>
#include <string.h>

#include "api/router.h"
#include "spiked/proto.h"

static int in_contract(const char *method, const char *path)
{
    const sk_proto_route_t *r = NULL;
    size_t n = sk_proto_routes(&r);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(r[i].method, method) && !strcmp(r[i].path, path))
            return 1;
    return 0;
}

static int in_table(const char *method, const char *path)
{
    for (int i = 0; i < srv_n_routes; i++)
        if (!strcmp(srv_method_name(srv_routes[i].method), method) &&
            !strcmp(srv_routes[i].pattern, path))
            return 1;
    return 0;
}

Test(routes, every_route_is_in_the_contract)
{
    for (int i = 0; i < srv_n_routes; i++)
        cr_expect(in_contract(srv_method_name(srv_routes[i].method), srv_routes[i].pattern),
                  "%s %s is served but not in proto/openapi.yaml",
                  srv_method_name(srv_routes[i].method), srv_routes[i].pattern);
}

Test(routes, every_contract_route_is_served)
{
    const sk_proto_route_t *r = NULL;
    size_t n = sk_proto_routes(&r);
    cr_assert_gt(n, 10);
    for (size_t i = 0; i < n; i++)
        cr_expect(in_table(r[i].method, r[i].path), "%s %s is in the contract but not served",
                  r[i].method, r[i].path);
    cr_assert_eq((size_t)srv_n_routes, n, "duplicates in one of the lists");
}
