/* test_rng.c: Philox4x32-10 against the Random123 known-answer vectors, and the properties
 * the network relies on (pure function of its key and counter; uniform and normal moments). */
#include <math.h>

#include <criterion/criterion.h>

#include "spiked/sk_rng.h"

static void kat(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0, uint32_t k1,
                uint32_t e0, uint32_t e1, uint32_t e2, uint32_t e3)
{
    const uint32_t ctr[4] = {c0, c1, c2, c3}, key[2] = {k0, k1};
    uint32_t out[4];
    sk_philox4x32(ctr, key, out);
    cr_expect_eq(out[0], e0, "word 0: %08x != %08x", out[0], e0);
    cr_expect_eq(out[1], e1, "word 1: %08x != %08x", out[1], e1);
    cr_expect_eq(out[2], e2, "word 2: %08x != %08x", out[2], e2);
    cr_expect_eq(out[3], e3, "word 3: %08x != %08x", out[3], e3);
}

Test(rng, philox4x32_10_matches_random123_known_answers)
{
    kat(0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8);
    kat(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d,
        0x41c83b0e, 0xa20bc7c6, 0x6d5451fd);
    kat(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09,
        0x94fdcceb, 0x5001e420, 0x24126ea1);
}

Test(rng, draws_are_a_pure_function_of_seed_stream_step_index)
{
    double a = sk_rng_uniform(42, 3, 1000, 7);
    (void)sk_rng_uniform(42, 3, 999, 7); /* no hidden state */
    cr_expect_eq(a, sk_rng_uniform(42, 3, 1000, 7));
    cr_expect_neq(a, sk_rng_uniform(43, 3, 1000, 7));
    cr_expect_neq(a, sk_rng_uniform(42, 4, 1000, 7));
    cr_expect_neq(a, sk_rng_uniform(42, 3, 1001, 7));
    cr_expect_neq(a, sk_rng_uniform(42, 3, 1000, 8));
    /* the high half of the step counter and of the seed matter */
    cr_expect_neq(a, sk_rng_uniform(42, 3, 1000 + (UINT64_C(1) << 32), 7));
    cr_expect_neq(a, sk_rng_uniform(42 + (UINT64_C(1) << 32), 3, 1000, 7));
}

Test(rng, uniform_and_normal_have_the_right_moments)
{
    const uint32_t n = 200000;
    double s1 = 0, s2 = 0, n1 = 0, n2 = 0, lo = 1, hi = 0;
    for (uint32_t i = 0; i < n; i++) {
        double u = sk_rng_uniform(7, 1, i / 1000, i % 1000);
        lo = fmin(lo, u);
        hi = fmax(hi, u);
        s1 += u;
        s2 += u * u;
        double z = sk_rng_normal(7, 2, i / 1000, i % 1000);
        n1 += z;
        n2 += z * z;
    }
    cr_expect(lo >= 0.0 && hi < 1.0);
    /* mean 1/2 with sd sqrt(1/12/n) ~ 6.5e-4; 5 sd */
    cr_expect(fabs(s1 / n - 0.5) < 5 * sqrt(1.0 / 12 / n), "uniform mean %g", s1 / n);
    cr_expect(fabs(s2 / n - 1.0 / 3) < 0.005, "uniform E[u^2] %g", s2 / n);
    cr_expect(fabs(n1 / n) < 5 / sqrt(n), "normal mean %g", n1 / n);
    cr_expect(fabs(n2 / n - 1.0) < 5 * sqrt(2.0 / n), "normal variance %g", n2 / n);
}
