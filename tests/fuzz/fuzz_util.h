/* fuzz_util.h: helpers shared by the fuzz harnesses (header-only; each harness is one
 * program): failing loudly, CRC-32C for fixing up mutated checkpoints, and a checkpoint
 * round trip. A failure calls abort(), which libFuzzer and corpus_main.c both report with
 * the input that caused it.
 */
#ifndef SPIKED_FUZZ_UTIL_H
#define SPIKED_FUZZ_UTIL_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spiked/sk_net.h"

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2), noreturn))
#endif
static void
fuzz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FUZZ INVARIANT: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

/* CRC-32C (Castagnoli, reflected 0x82F63B78), bitwise: the checkpoint trailer. Written
 * independently of core/src/ckpt.c on purpose. */
static inline uint32_t fuzz_crc32c(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
    }
    return ~c;
}

/* The bytes of net's checkpoint (malloc'd), or NULL. */
static inline uint8_t *fuzz_ckpt(const sk_net_t *net, uint64_t *len)
{
    uint64_t cap = sk_net_checkpoint_size(net);
    uint8_t *buf = malloc(cap ? (size_t)cap : 1);
    if (!buf)
        return NULL;
    if (sk_net_checkpoint(net, buf, cap, len) != 0)
        fuzz_fail("sk_net_checkpoint failed with a buffer of sk_net_checkpoint_size bytes");
    return buf;
}

/* checkpoint -> restore -> checkpoint must give the same bytes. */
static inline void fuzz_ckpt_roundtrip(const sk_net_t *net)
{
    uint64_t n1 = 0, n2 = 0;
    uint8_t *a = fuzz_ckpt(net, &n1);
    if (!a)
        return;
    sk_net_t *copy = NULL;
    sk_err_t err = {0};
    int rc = sk_net_restore(a, n1, NULL, &copy, &err);
    if (rc)
        fuzz_fail("a fresh checkpoint does not restore: %s (%s: %s)", sk_strerror(rc), err.path,
                  err.msg);
    uint8_t *b = fuzz_ckpt(copy, &n2);
    if (b && (n1 != n2 || memcmp(a, b, (size_t)n1)))
        fuzz_fail("checkpoint(restore(checkpoint)) differs from checkpoint");
    free(b);
    free(a);
    sk_net_destroy(copy);
}

#endif
