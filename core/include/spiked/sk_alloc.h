/* sk_alloc.h: the core's allocator hook.
 *
 * Every allocation of the core goes through these functions, so tests can make the n-th
 * allocation fail (SQLite's faultsim, jansson's json_set_alloc_funcs). The hook is the one
 * piece of process-wide state in the core: set it before creating any object and never
 * while another thread is inside the core.
 */
#ifndef SPIKED_SK_ALLOC_H
#define SPIKED_SK_ALLOC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void *(*sk_malloc_fn)(size_t size);
typedef void (*sk_free_fn)(void *ptr);

/* Replaces the allocator; NULL arguments restore malloc/free. */
void sk_set_allocator(sk_malloc_fn malloc_fn, sk_free_fn free_fn);

/* The current allocator. sk_malloc(0) returns a unique pointer or NULL; sk_free(NULL) is a
 * no-op. sk_calloc checks n*size for overflow and returns NULL on overflow. */
void *sk_malloc(size_t size);
void *sk_calloc(size_t n, size_t size);
void sk_free(void *ptr);

/* 64-byte aligned, zero-filled allocation of n*size bytes (NULL on overflow or failure);
 * release with sk_free_aligned. Used for state columns so per-neuron loops vectorise. */
void *sk_alloc_aligned(size_t n, size_t size);
void sk_free_aligned(void *ptr);

#ifdef __cplusplus
}
#endif
#endif
