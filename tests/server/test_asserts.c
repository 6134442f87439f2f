/* test_asserts.c: the contract checks (SRV_ASSERT / SK_ASSERT, core/include/spiked/sk_assert.h)
 * fire: a false check aborts the process (death tests: Criterion expects SIGABRT), and a real
 * header-stated invariant, "loop thread, session not busy" for reading a session's info
 * (session.h), aborts when broken. This file is compiled with SPIKED_ASSERTS on whatever the
 * build's option; SPIKED_LIB_ASSERTS says whether the server library was (CMake sets it). */
#ifndef SPIKED_ASSERTS
#define SPIKED_ASSERTS 1
#endif
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>

#include "netspec.h"
#include "engine/session.h"

static srv_server_t s;

static void setup(void)
{
    char err[256];
    cr_assert_eq(srv_config_load(&s.cfg, 0, NULL, err, sizeof err), 0, "%s", err);
    s.loop = uv_default_loop();
    srv_metrics_init(&s.metrics);
}

TestSuite(asserts, .init = setup);

static srv_session_t *small_session(void)
{
    sk_pop_spec_t pop = pop_spec("a", "lif", 10);
    sk_net_spec_t spec = {.dt_ms = 1, .seed = 1, .pops = &pop, .n_pops = 1};
    sk_net_t *net = NULL;
    cr_assert_eq(sk_net_create(&spec, &net, NULL), 0);
    srv_session_t *sess = NULL;
    cr_assert_eq(srv_session_create(&s, "a", net, &sess), 0);
    return sess;
}

Test(asserts, a_false_srv_assert_aborts, .signal = SIGABRT)
{
    volatile int two = 2;
    SRV_ASSERT(two + two == 5);
}

Test(asserts, a_true_srv_assert_lets_the_program_go_on)
{
    volatile int two = 2;
    SRV_ASSERT(two + two == 4);
    cr_assert_eq(two, 2);
}

Test(asserts, the_info_of_an_idle_session_is_read_without_abort)
{
    srv_session_t *sess = small_session();
    size_t len = 0;
    char *text = srv_session_info_text(sess, &len);
    cr_assert_not_null(text);
    cr_assert_gt(len, 10);
    free(text);
    srv_session_close(sess, 410, "gone");
    srv_session_unref(sess);
    uv_run(s.loop, UV_RUN_DEFAULT);
}

#if SPIKED_LIB_ASSERTS
Test(asserts, reading_the_info_of_a_busy_session_aborts, .signal = SIGABRT)
{
    srv_session_t *sess = small_session();
    sess->busy = 1; /* as while a work item runs on the pool */
    size_t len = 0;
    free(srv_session_info_text(sess, &len));
}
#else
Test(asserts, reading_the_info_of_a_busy_session_aborts)
{
    cr_skip_test("the server library was built without SPIKED_ASSERTS");
}
#endif
