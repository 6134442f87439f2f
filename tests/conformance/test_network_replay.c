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
