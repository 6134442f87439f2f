/* arena.c: the storage of a decoded session (sk_proto_session_t).
 *
 * A decoded network is many small arrays (populations, parameter lists, id lists, names)
 * that live exactly as long as the session object. They are carved from a chain of blocks
 * and released together by sk__arena_free. Every size is computed with overflow checks;
 * large requests get a block of their own.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define BLOCK_SIZE ((size_t)64 * 1024)
#define ALIGN      ((size_t)16)

typedef struct block {
    struct block *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
} block_t;

struct sk_proto_arena {
    block_t *head;
};

sk__arena_t *sk__arena_new(void)
{
    return calloc(1, sizeof(sk__arena_t));
}

static block_t *new_block(size_t cap)
{
    size_t total;
    if (__builtin_add_overflow(sizeof(block_t), cap, &total))
        return NULL;
    block_t *b = malloc(total);
    if (!b)
        return NULL;
    b->next = NULL;
    b->used = 0;
    b->cap = cap;
    return b;
}

void *sk__arena_alloc(sk__arena_t *a, size_t n, size_t size)
{
    size_t bytes;
    if (__builtin_mul_overflow(n, size, &bytes) || bytes > SIZE_MAX - ALIGN)
        return NULL;
    bytes = (bytes + ALIGN - 1) & ~(ALIGN - 1);
    if (bytes == 0)
        bytes = ALIGN;
    block_t *b = a->head;
    if (!b || b->cap - b->used < bytes) {
        block_t *nb = new_block(bytes > BLOCK_SIZE / 4 ? bytes : BLOCK_SIZE);
        if (!nb)
            return NULL;
        if (b && bytes > BLOCK_SIZE / 4) {
            /* A big allocation: keep filling the current block afterwards. */
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            a->head = nb;
        }
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += bytes;
    memset(p, 0, bytes);
    return p;
}

char *sk__arena_strdup(sk__arena_t *a, const char *s)
{
    size_t n = strlen(s) + 1;
    char *c = sk__arena_alloc(a, n, 1);
    if (c)
        memcpy(c, s, n);
    return c;
}

void sk__arena_free(sk__arena_t *a)
{
    if (!a)
        return;
    block_t *b = a->head;
    while (b) {
        block_t *next = b->next;
        free(b);
        b = next;
    }
    free(a);
}
