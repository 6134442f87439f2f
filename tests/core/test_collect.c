/* test_collect.c: spike collection (core/src/collect.c). Every variant this CPU runs gives
 * exactly the set flags of [lo, hi), ascending, for any density and any block bounds
 * (partial vectors at both ends), and writes nothing outside ids[0, hi - lo). */
#include <stdlib.h>

#include <criterion/criterion.h>

#include "internal.h"

static uint32_t naive(const uint8_t *z, uint32_t lo, uint32_t hi, uint32_t *ids)
{
    uint32_t n = 0;
    for (uint32_t j = lo; j < hi; j++)
        if (z[j])
            ids[n++] = j;
    return n;
}

Test(collect, ids_are_the_set_flags_in_ascending_order)
{
    enum { N = 4096, GUARD = 32 };
    uint8_t *z = malloc(N);
    uint32_t *got = malloc((N + 2 * GUARD) * sizeof(uint32_t)), *want = malloc(N * sizeof *want);
    static const uint32_t per_mille[] = {0, 1, 20, 300, 999, 1000};
    static const uint32_t bounds[][2] = {{0, N},  {0, 1},     {5, 5},       {0, 63},
                                         {1, 64}, {16, 2064}, {2048, 4096}, {17, 4001}};
    uint64_t r = 7;
    int ran = 0;
    for (int v = SK__COLLECT_BASE; v <= SK__COLLECT_VBMI2; v++) {
        if (!sk__collect_runs((sk__collect_variant_t)v))
            continue;
        ran++;
        for (size_t d = 0; d < sizeof per_mille / sizeof per_mille[0]; d++) {
            for (uint32_t j = 0; j < N; j++) {
                r = r * 6364136223846793005u + 1442695040888963407u;
                z[j] = (uint8_t)((r >> 33) % 1000u < per_mille[d]);
            }
            cr_assert_eq(sk__collect(z, 0, N, got), naive(z, 0, N, want)); /* the pick */
            for (size_t b = 0; b < sizeof bounds / sizeof bounds[0]; b++) {
                const uint32_t lo = bounds[b][0], hi = bounds[b][1];
                for (uint32_t k = 0; k < N + 2 * GUARD; k++)
                    got[k] = 0xDEADBEEFu;
                uint32_t n = sk__collect_with((sk__collect_variant_t)v, z, lo, hi, got + GUARD);
                uint32_t m = naive(z, lo, hi, want);
                cr_assert_eq(n, m, "variant %d, density %u/1000, [%u, %u): %u ids, expected %u", v,
                             per_mille[d], lo, hi, n, m);
                for (uint32_t k = 0; k < n; k++)
                    cr_assert_eq(got[GUARD + k], want[k], "id %u of [%u, %u)", k, lo, hi);
                for (uint32_t k = 0; k < GUARD; k++)
                    cr_assert_eq(got[k], 0xDEADBEEFu, "written before ids");
                for (uint32_t k = GUARD + (hi - lo); k < N + 2 * GUARD; k++)
                    cr_assert_eq(got[k], 0xDEADBEEFu, "written past ids[hi - lo]");
            }
        }
    }
    cr_expect_geq(ran, 1);
    free(z);
    free(got);
    free(want);
}
