/* test_parallel.c: sessions stepping at the same time on the thread pool give exactly the
 * results each gives alone, and the HTTP side keeps answering while they run. */
#include <criterion/criterion.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

/* One timeout for every test of the file: Criterion 2.4.1 leaks in its runner when
 * tests with different timeouts run in parallel. */
TestSuite(parallel, .timeout = 90);

#define N_SESS 4
#define STEPS  3000

static char *alone(int seed)
{
    sp_proc_t p;
    t_start(&p, NULL);
    t_create(p.port, "s", 300, seed);
    json_decref(t_step(p.port, "s", STEPS, 0));
    char *text = t_spikes_text(p.port, "s", 0, STEPS);
    t_stop(&p);
    return text;
}

Test(parallel, concurrent_sessions_equal_sessions_alone)
{
    sp_proc_t p;
    t_start(&p, NULL);
    char name[N_SESS][16], path[N_SESS][64];
    for (int k = 0; k < N_SESS; k++) {
        snprintf(name[k], sizeof name[k], "p%d", k);
        snprintf(path[k], sizeof path[k], "/v1/sessions/p%d/jobs/1", k);
        t_create(p.port, name[k], 300, 100 + k);
    }
    for (int k = 0; k < N_SESS; k++) {
        char url[128];
        snprintf(url, sizeof url, "/v1/sessions/%s/step", name[k]);
        json_decref(t_ok(p.port, "POST", url, "{\"steps\":3000,\"async\":true}", 202));
    }
    int running_seen = 0;
    long long deadline = hc_now_ms() + 60000;
    for (int left = N_SESS; left;) {
        left = 0;
        int running = 0;
        for (int k = 0; k < N_SESS; k++) {
            long long t0 = hc_now_ms();
            json_t *j = t_ok(p.port, "GET", path[k], NULL, 200);
            cr_assert_lt(hc_now_ms() - t0, 1000, "the server stalled while stepping");
            int r = !strcmp(json_string_value(json_object_get(j, "state")), "running");
            running += r;
            left += r;
            json_decref(j);
        }
        running_seen = running > running_seen ? running : running_seen;
        cr_assert_lt(hc_now_ms(), deadline);
        if (left)
            poll(NULL, 0, 5);
    }
    cr_log_info("at most %d sessions were seen running at once", running_seen);
    for (int k = 0; k < N_SESS; k++) {
        char *together = t_spikes_text(p.port, name[k], 0, STEPS);
        char *ref = alone(100 + k);
        cr_assert_gt(strlen(ref), 100);
        cr_assert_str_eq(together, ref, "session %d differs from its run alone", k);
        free(together);
        free(ref);
    }
    t_stop(&p);
}

/* The spikes and state of a 12000-neuron session after 300 steps, as text. */
static char *big_run(const char *const *args)
{
    sp_proc_t p;
    t_start(&p, args);
    json_decref(t_ok(p.port, "POST", "/v1/sessions",
                     "{\"name\":\"big\",\"seed\":3,\"dt\":1,\"network\":{\"populations\":[{\"name\":"
                     "\"p\",\"model\":\"lif\",\"size\":12000}],\"projections\":[{\"source\":\"p\","
                     "\"target\":\"p\",\"rule\":{\"kind\":\"fixed_indegree\",\"indegree\":20},"
                     "\"weight\":0.1,\"delay_steps\":3}],\"stimuli\":[{\"kind\":\"poisson\","
                     "\"target\":\"p\",\"rate_hz\":60,\"weight\":1.2}]}}",
                     201));
    json_decref(t_step(p.port, "big", 300, 0));
    char *spikes = t_spikes_text(p.port, "big", 0, 300);
    json_t *j = t_ok(p.port, "GET", "/v1/sessions/big/state?variables=v,i", NULL, 200);
    char *state = json_dumps(json_object_get(j, "values"), JSON_COMPACT);
    json_decref(j);
    t_stop(&p);
    size_t n = strlen(spikes) + strlen(state) + 2;
    char *all = malloc(n);
    snprintf(all, n, "%s|%s", spikes, state);
    free(spikes);
    free(state);
    return all;
}

Test(parallel, step_threads_give_the_same_results)
{
    /* --sync-ms: 300 steps may take seconds under ThreadSanitizer; the step stays a 200 */
    const char *threads[] = {"--step-threads", "3", "--sync-ms", "600000", NULL};
    const char *single[] = {"--sync-ms", "600000", NULL};
    char *one = big_run(single), *three = big_run(threads);
    cr_assert_gt(strlen(one), 10000);
    cr_assert(!strcmp(one, three), "--step-threads changed the results");
    free(one);
    free(three);
}
