/* collect.c: spike ids from spike flags, the step's spike collection (step.c).
 *
 * sk__collect turns the flags z[lo, hi) (each 0 or 1, written by a model) into the ids of
 * the neurons that spiked, ascending. It runs once per block of a model phase, on flags
 * still in L1, so it must cost little next to the model loop itself: with AVX-512 each 16
 * flags become 16 candidate ids compressed by the flags' mask (no branch per flag or per
 * spike); elsewhere 64 flags become one bit mask whose set bits are read with
 * count-trailing-zeros. The variant is picked per call from the CPU's features, like the
 * model loops' clones (sk_model.h); every variant gives the same ids.
 */
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "internal.h"

/* Like SK_MODEL_CLONES: off under sanitizers, so the sanitizer builds test the baseline. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__SANITIZE_ADDRESS__) &&              \
    !defined(__SANITIZE_THREAD__)
#define SK__X86_DISPATCH 1
#include <immintrin.h>
#endif

/* The flags z[0..64) as a bit mask. SSE2 (baseline x86-64): 16 flags per compare and
 * movemask. Elsewhere: x * 0x0102040810204080 gathers bit 0 of each byte of x into the top
 * byte. */
static inline uint64_t flags_mask64(const uint8_t *z)
{
    uint64_t mask = 0;
#if defined(__SSE2__)
    const __m128i zero = _mm_setzero_si128();
    for (uint32_t b = 0; b < 4; b++) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(z + 16 * b));
        uint32_t m = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, zero)) ^ 0xFFFFu;
        mask |= (uint64_t)m << (16 * b);
    }
#else
    for (uint32_t b = 0; b < 8; b++) {
        uint64_t word;
        memcpy(&word, z + 8 * b, 8);
        mask |= ((word * UINT64_C(0x0102040810204080)) >> 56) << (8 * b);
    }
#endif
    return mask;
}

/* The flags from j to hi one by one (the tail of a block): no branch per flag. */
static uint32_t collect_tail(const uint8_t *z, uint32_t j, uint32_t hi, uint32_t *restrict ids,
                             uint32_t n)
{
    for (; j < hi; j++) {
        ids[n] = j;
        n += z[j] != 0;
    }
    return n;
}

static uint32_t collect_base(const uint8_t *z, uint32_t lo, uint32_t hi, uint32_t *restrict ids)
{
    uint32_t n = 0, j = lo;
    for (; j + 64 <= hi; j += 64) {
        uint64_t mask = flags_mask64(z + j);
        while (mask) {
            ids[n++] = j + (uint32_t)__builtin_ctzll(mask);
            mask &= mask - 1;
        }
    }
    return collect_tail(z, j, hi, ids, n);
}

#if defined(SK__X86_DISPATCH)
/* 16 flags at a time: widened to 32 bits, tested into a 16-bit mask, and the ids j..j+15
 * compressed by it into one vector stored whole at ids + n (its lanes past the spikes are
 * overwritten by the next store, or lie in ids[n, hi - lo) which the caller does not read:
 * n + 16 <= j + 16 - lo <= hi - lo). */
__attribute__((target("avx512f,popcnt"))) static uint32_t
collect_avx512(const uint8_t *z, uint32_t lo, uint32_t hi, uint32_t *restrict ids)
{
    uint32_t n = 0, j = lo;
    __m512i id = _mm512_add_epi32(_mm512_set1_epi32((int)lo),
                                  _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
                                                    13, 14, 15));
    const __m512i sixteen = _mm512_set1_epi32(16);
    for (; j + 16 <= hi; j += 16) {
        __m512i f = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(const void *)(z + j)));
        __mmask16 m = _mm512_test_epi32_mask(f, f);
        _mm512_storeu_si512((void *)(ids + n), _mm512_maskz_compress_epi32(m, id));
        n += (uint32_t)__builtin_popcount((unsigned)m);
        id = _mm512_add_epi32(id, sixteen);
    }
    return collect_tail(z, j, hi, ids, n);
}
#endif

uint32_t sk__collect(const uint8_t *z, uint32_t lo, uint32_t hi, uint32_t *restrict ids)
{
#if defined(SK__X86_DISPATCH)
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("popcnt"))
        return collect_avx512(z, lo, hi, ids);
#endif
    return collect_base(z, lo, hi, ids);
}
