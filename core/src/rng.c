/* rng.c: Philox4x32-10 and the derived uniform / normal draws (sk_rng.h). The constants are
 * those of the Random123 reference; tests/core/test_rng.c checks its known-answer vectors. */
#include <math.h>

#include "spiked/sk_rng.h"

#define PHILOX_M0 UINT32_C(0xD2511F53)
#define PHILOX_M1 UINT32_C(0xCD9E8D57)
#define PHILOX_W0 UINT32_C(0x9E3779B9)
#define PHILOX_W1 UINT32_C(0xBB67AE85)

void sk_philox4x32(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; r++) {
        if (r) {
            k0 += PHILOX_W0;
            k1 += PHILOX_W1;
        }
        uint64_t p0 = (uint64_t)PHILOX_M0 * c0;
        uint64_t p1 = (uint64_t)PHILOX_M1 * c2;
        uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

void sk_rng_words(uint64_t seed, uint32_t stream, uint64_t step, uint32_t index, uint32_t out[4])
{
    const uint32_t ctr[4] = {index, stream, (uint32_t)step, (uint32_t)(step >> 32)};
    const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    sk_philox4x32(ctr, key, out);
}

double sk_rng_uniform(uint64_t seed, uint32_t stream, uint64_t step, uint32_t index)
{
    uint32_t w[4];
    sk_rng_words(seed, stream, step, index, w);
    return sk_rng_u01(w[0], w[1]);
}

double sk_rng_normal(uint64_t seed, uint32_t stream, uint64_t step, uint32_t index)
{
    uint32_t w[4];
    sk_rng_words(seed, stream, step, index, w);
    double u1 = 1.0 - sk_rng_u01(w[0], w[1]); /* (0, 1]: log is finite */
    double u2 = sk_rng_u01(w[2], w[3]);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
