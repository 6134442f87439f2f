/* test_network_replay.c: the shipped network (plasticity) vectors replayed on 1 and 2
 * threads in chunks of 1, 7 and 100 steps: every run passes the comparison with the
 * reference, and all six give the same spikes, weights and final state bit for bit (the
 * digest of conf_network_replay). */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "conformance.h"
#include "spiked/sk_model.h"

static void replay_everywhere(const char *name)
{
    char path[512], line[1024], why[512];
    snprintf(path, sizeof path, "%s/%s.json", SK_GOLDEN_NEST_DIR, name);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    cr_assert(root, "%s: %s", path, jerr.text);
    const uint32_t threads[] = {1, 2}, chunks[] = {1, 7, 100};
    uint64_t first = 0;
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 3; b++) {
            uint64_t d = 0;
            int ok = conf_network_replay(root, sk_model_find, threads[a], chunks[b], &d, line,
                                         sizeof line, why, sizeof why);
            cr_expect(ok, "%s threads %u chunk %u: %s -- %s", name, threads[a], chunks[b], line, why);
            if (a == 0 && b == 0)
                first = d;
            else
                cr_expect_eq(d, first, "%s threads %u chunk %u: digest %016llx, 1 x 1: %016llx",
                             name, threads[a], chunks[b], (unsigned long long)d,
                             (unsigned long long)first);
        }
    json_decref(root);
}

Test(network_replay, stdp_additive_is_identical_for_threads_and_chunks)
{
    replay_everywhere("stdp_additive");
}

Test(network_replay, stdp_multiplicative_is_identical_for_threads_and_chunks)
{
    replay_everywhere("stdp_multiplicative");
}

Test(network_replay, tsodyks_depressing_is_identical_for_threads_and_chunks)
{
    replay_everywhere("tsodyks_depressing");
}

Test(network_replay, tsodyks_facilitating_is_identical_for_threads_and_chunks)
{
    replay_everywhere("tsodyks_facilitating");
}

/* Replays a modified copy of stdp_additive.json; returns the result and leaves the reason. */
static char g_why[512];
static int replay_modified(void (*change)(json_t *root))
{
    char path[512], line[1024];
    snprintf(path, sizeof path, "%s/stdp_additive.json", SK_GOLDEN_NEST_DIR);
    json_t *root = json_load_file(path, 0, NULL);
    cr_assert(root);
    change(root);
    int ok = conf_network_replay(root, sk_model_find, 1, 1, NULL, line, sizeof line, g_why,
                                 sizeof g_why);
    json_decref(root);
    return ok;
}

static json_t *expected(json_t *root, const char *key)
{
    return json_object_get(json_object_get(root, "expected"), key);
}

static void drop_a_post_spike(json_t *root)
{
    json_array_remove(json_object_get(expected(root, "spikes"), "post"), 3);
}
static void shift_a_weight(json_t *root)
{
    json_t *row = json_array_get(json_object_get(json_object_get(expected(root, "weights"), "0"),
                                                 "values"), 2);
    json_array_set_new(row, 4, json_real(json_number_value(json_array_get(row, 4)) * 1.001));
}
static void drop_a_transmission(json_t *root)
{
    json_array_remove(json_object_get(expected(root, "transmitted"), "0"), 10);
}
static void add_a_transmission(json_t *root)
{
    json_array_append_new(json_object_get(expected(root, "transmitted"), "0"),
                          json_pack("[i, i, f]", 2999, 0, 50.0));
}
static void unknown_synapse(json_t *root)
{
    json_t *syn = json_object_get(json_array_get(json_object_get(root, "projections"), 0), "synapse");
    json_object_set_new(syn, "model", json_string("stdp_triplet_synapse"));
}
static void shift_a_state(json_t *root)
{
    json_t *row = json_array_get(json_object_get(json_object_get(expected(root, "state"), "post"),
                                                 "V_m"), 100);
    json_array_set_new(row, 1, json_real(json_number_value(json_array_get(row, 1)) + 0.01));
}
static void nudge_a_weight(json_t *root) /* 1e-6 relative: within the tolerance */
{
    json_t *row = json_array_get(json_object_get(json_object_get(expected(root, "weights"), "0"),
                                                 "values"), 2);
    json_array_set_new(row, 4, json_real(json_number_value(json_array_get(row, 4)) * (1 + 1e-6)));
}

Test(network_replay, corrupted_references_fail_with_the_reason_named)
{
    cr_expect_not(replay_modified(drop_a_post_spike));
    cr_expect(strstr(g_why, "population post") != NULL, "%s", g_why);
    cr_expect_not(replay_modified(shift_a_weight));
    cr_expect(strstr(g_why, "weight at step 1799, index 4: ") != NULL, "%s", g_why);
    cr_expect_not(replay_modified(drop_a_transmission));
    cr_expect(strstr(g_why, "transmi") != NULL, "%s", g_why);
    cr_expect_not(replay_modified(add_a_transmission));
    cr_expect(strstr(g_why, "no transmission of connection 0 at step 2999") != NULL, "%s", g_why);
    cr_expect_not(replay_modified(unknown_synapse));
    cr_expect(strstr(g_why, "synapse.model") != NULL, "%s", g_why);
    cr_expect_not(replay_modified(shift_a_state));
    cr_expect(strstr(g_why, "V_m at step 100, index 1") != NULL, "%s", g_why);
    cr_expect(replay_modified(nudge_a_weight), "%s", g_why);
}
