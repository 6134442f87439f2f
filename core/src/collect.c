/* collect.c: spike ids from spike flags, the step's spike collection (step.c).
 *
 * sk__collect turns the flags z[lo, hi) (each 0 or 1, written by a model) into the ids of
 * the neurons that spiked, ascending. It runs once per block of a model phase, on flags
 * still in L1, so it must cost little next to the model loop itself. Variants, widest first:
 *   vbmi2   64 flags tested into one mask that compresses the offsets of the set flags
 *           (vpcompressb); 16 ids stored per 64 flags unless more than 16 spiked;
 *   avx512  16 flags at a time compress 16 candidate ids (vpcompressd);
 *   base    64 flags become one bit mask (SSE2 movemask) read with count-trailing-zeros.
 * None branches per flag or per spike except base. The widest variant the CPU runs is picked
 * once, when the program loads (an ifunc, like the model loops' clones, sk_model.h); every
 * variant gives the same ids (tests/core/test_collect.c runs them all).
 * Measured alone on 2048 flags at 2% spikes (Zen 4): vbmi2 0.018 ns per flag, avx512 0.059;
 * the fused lif loop of bench_ff_lif takes 0.18 ns per neuron.
 */
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "internal.h"

/* Like SK_MODEL_CLONES (an ifunc picks the variant when the program loads): GCC or clang on
 * x86-64 Linux, off in instrumented builds (sanitizers, fuzzing coverage: the resolver runs
 * at relocation, before their runtimes exist, and crashed there under clang, whose ASan
 * does not define __SANITIZE_ADDRESS__), so those builds test the baseline. The build sets
 * SK_NO_IFUNC for them; __has_feature covers clang builds made elsewhere. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) ||                     \
    __has_feature(memory_sanitizer)
#define SK_NO_IFUNC 1
#endif
#endif
#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__) &&                          \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__) && !defined(SK_NO_IFUNC)
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
#define SK__TARGET_VBMI2 __attribute__((target("avx512f,avx512bw,avx512vbmi2,popcnt")))

/* Stores the ids base + off[k] of 16 byte offsets. */
SK__TARGET_VBMI2 static inline void store16(uint32_t *ids, __m512i base, __m128i off)
{
    _mm512_storeu_si512((void *)ids, _mm512_add_epi32(base, _mm512_cvtepu8_epi32(off)));
}

/* 64 flags at a time: tested into a 64-bit mask that compresses the byte offsets 0..63 of
 * the set flags (VBMI2); the first 16 become ids stored whole, the next 48 only when the 64
 * flags hold more than 16 spikes (rare at sparse rates). Stores stay within ids[0, hi - lo):
 * n + 64 <= j + 64 - lo <= hi - lo. */
SK__TARGET_VBMI2 static uint32_t collect_vbmi2(const uint8_t *z, uint32_t lo, uint32_t hi,
                                               uint32_t *restrict ids)
{
    uint32_t n = 0, j = lo;
    const __m512i iota = _mm512_set_epi8(
        63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42,
        41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20,
        19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    for (; j + 64 <= hi; j += 64) {
        __m512i f = _mm512_loadu_si512((const void *)(z + j));
        __mmask64 m = _mm512_test_epi8_mask(f, f);
        __m512i off = _mm512_maskz_compress_epi8(m, iota);
        __m512i base = _mm512_set1_epi32((int)j);
        uint32_t c = (uint32_t)__builtin_popcountll(m);
        store16(ids + n, base, _mm512_castsi512_si128(off));
        if (c > 16) {
            store16(ids + n + 16, base, _mm512_extracti32x4_epi32(off, 1));
            store16(ids + n + 32, base, _mm512_extracti32x4_epi32(off, 2));
            store16(ids + n + 48, base, _mm512_extracti32x4_epi32(off, 3));
        }
        n += c;
    }
    if (j < hi) { /* the last 1..63 flags: masked load, stores of the spikes only */
        const uint32_t rest = hi - j;
        __m512i f = _mm512_maskz_loadu_epi8((UINT64_C(1) << rest) - 1, (const void *)(z + j));
        __mmask64 m = _mm512_test_epi8_mask(f, f);
        __m512i off = _mm512_maskz_compress_epi8(m, iota);
        __m512i base = _mm512_set1_epi32((int)j);
        uint32_t c = (uint32_t)__builtin_popcountll(m);
        for (uint32_t q = 0; 16 * q < c; q++) {
            __m128i part = q == 0   ? _mm512_castsi512_si128(off)
                           : q == 1 ? _mm512_extracti32x4_epi32(off, 1)
                           : q == 2 ? _mm512_extracti32x4_epi32(off, 2)
                                    : _mm512_extracti32x4_epi32(off, 3);
            __mmask16 lanes = c - 16 * q >= 16 ? 0xFFFF : (__mmask16)((1u << (c - 16 * q)) - 1);
            _mm512_mask_storeu_epi32((void *)(ids + n + 16 * q), lanes,
                                     _mm512_add_epi32(base, _mm512_cvtepu8_epi32(part)));
        }
        n += c;
    }
    return n;
}
#endif

int sk__collect_runs(sk__collect_variant_t v)
{
#if defined(SK__X86_DISPATCH)
    __builtin_cpu_init(); /* may run in an ifunc resolver, before libgcc's constructor */
    switch (v) {
    case SK__COLLECT_VBMI2:
        return __builtin_cpu_supports("avx512vbmi2") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("popcnt");
    case SK__COLLECT_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("popcnt");
    default:
        return 1;
    }
#else
    return v == SK__COLLECT_BASE;
#endif
}

uint32_t sk__collect_with(sk__collect_variant_t v, const uint8_t *z, uint32_t lo, uint32_t hi,
                          uint32_t *restrict ids)
{
#if defined(SK__X86_DISPATCH)
    if (v == SK__COLLECT_VBMI2)
        return collect_vbmi2(z, lo, hi, ids);
    if (v == SK__COLLECT_AVX512)
        return collect_avx512(z, lo, hi, ids);
#endif
    (void)v;
    return collect_base(z, lo, hi, ids);
}

#if defined(SK__X86_DISPATCH)
typedef uint32_t (*collect_fn)(const uint8_t *, uint32_t, uint32_t, uint32_t *restrict);

/* Runs once, when the program loads (before constructors: the CPU model is read here). */
__attribute__((used)) static collect_fn resolve_collect(void)
{
    __builtin_cpu_init();
    if (sk__collect_runs(SK__COLLECT_VBMI2))
        return collect_vbmi2;
    if (sk__collect_runs(SK__COLLECT_AVX512))
        return collect_avx512;
    return collect_base;
}

uint32_t sk__collect(const uint8_t *z, uint32_t lo, uint32_t hi, uint32_t *restrict ids)
    __attribute__((ifunc("resolve_collect")));
#else
uint32_t sk__collect(const uint8_t *z, uint32_t lo, uint32_t hi, uint32_t *restrict ids)
{
    return collect_base(z, lo, hi, ids);
}
#endif
