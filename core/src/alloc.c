/* alloc.c: the pluggable allocator (sk_alloc.h). The only mutable process-wide state of the
 * core; it is written only by sk_set_allocator, before any object exists. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spiked/sk_alloc.h"

static sk_malloc_fn g_malloc = malloc;
static sk_free_fn g_free = free;

void sk_set_allocator(sk_malloc_fn malloc_fn, sk_free_fn free_fn)
{
    g_malloc = malloc_fn ? malloc_fn : malloc;
    g_free = free_fn ? free_fn : free;
}

void *sk_malloc(size_t size)
{
    return g_malloc(size ? size : 1);
}

void *sk_calloc(size_t n, size_t size)
{
    size_t bytes;
    if (__builtin_mul_overflow(n, size, &bytes))
        return NULL;
    if (g_malloc == malloc && g_free == free) /* fresh pages stay untouched: see below */
        return calloc(bytes ? bytes : 1, 1);
    void *p = sk_malloc(bytes);
    if (p)
        memset(p, 0, bytes ? bytes : 1);
    return p;
}

void sk_free(void *ptr)
{
    if (ptr)
        g_free(ptr);
}

/* Layout: [padding][original pointer][aligned block]. */
void *sk_alloc_aligned(size_t n, size_t size)
{
    size_t bytes, total;
    if (__builtin_mul_overflow(n, size, &bytes) ||
        __builtin_add_overflow(bytes, (size_t)64 + sizeof(void *), &total))
        return NULL;
    /* With the default allocator, calloc: a large block comes zeroed from the kernel and its
     * pages are only backed by memory once written, so a history ring sized for its limit
     * costs what has been written into it (an idle session stays small, issue 17). */
    int zeroed = g_malloc == malloc && g_free == free;
    unsigned char *raw = zeroed ? calloc(total, 1) : sk_malloc(total);
    if (!raw)
        return NULL;
    uintptr_t base = (uintptr_t)(raw + sizeof(void *));
    uintptr_t aligned = (base + 63u) & ~(uintptr_t)63u;
    unsigned char *p = (unsigned char *)aligned;
    memcpy(p - sizeof(void *), &raw, sizeof raw);
    if (!zeroed)
        memset(p, 0, bytes);
    return p;
}

void sk_free_aligned(void *ptr)
{
    if (!ptr)
        return;
    void *raw;
    memcpy(&raw, (unsigned char *)ptr - sizeof(void *), sizeof raw);
    sk_free(raw);
}
