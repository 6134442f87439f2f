/* sk_rng.h: counter-based random numbers (Philox4x32-10, Salmon et al. 2011, "Parallel
 * random numbers: as easy as 1, 2, 3").
 *
 * A random number is a pure function of (seed, stream, step, index): no generator state,
 * no sequence. So results do not depend on thread count, on how steps are batched, or on
 * the order in which neurons are visited, and a checkpoint needs only the step counter.
 * Key = seed (64 bits); counter = (index, stream, step low, step high). Each call gives four
 * independent 32-bit words. The network assigns each consumer (connection rule, weight
 * draw, initial state, Poisson source) its own stream (core/src/internal.h).
 */
#ifndef SPIKED_SK_RNG_H
#define SPIKED_SK_RNG_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Philox4x32-10 of counter {c0, c1, c2, c3} under key {k0, k1}. */
void sk_philox4x32(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

/* The four words for (seed, stream, step, index). */
void sk_rng_words(uint64_t seed, uint32_t stream, uint64_t step, uint32_t index,
                  uint32_t out[4]);

/* Uniform double in [0, 1) from two words (53 random bits). */
static inline double sk_rng_u01(uint32_t hi, uint32_t lo)
{
    uint64_t bits = ((uint64_t)hi << 21) ^ (uint64_t)(lo >> 11);
    return (double)(bits & ((UINT64_C(1) << 53) - 1)) * 0x1.0p-53;
}

/* Uniform double in [0, 1) for (seed, stream, step, index), from words 0 and 1. */
double sk_rng_uniform(uint64_t seed, uint32_t stream, uint64_t step, uint32_t index);

/* Standard normal for (seed, stream, step, index) (Box-Muller on all four words). */
double sk_rng_normal(uint64_t seed, uint32_t stream, uint64_t step, uint32_t index);

#ifdef __cplusplus
}
#endif
#endif
