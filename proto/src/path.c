/* path.c: field paths for error messages ("network.populations[2].params.tau_mem_inv").
 *
 * A path is a fixed buffer that decoders extend while they descend and cut back when they
 * return; it is only read when an error is reported. Components that do not fit are
 * truncated (the buffer always stays NUL-terminated), never overflowed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static void append(sk__path_t *p, const char *s)
{
    size_t cap = sizeof p->buf - 1;
    while (*s && p->len < cap)
        p->buf[p->len++] = *s++;
    p->buf[p->len] = '\0';
}

void sk__path_init(sk__path_t *p, const char *root)
{
    p->len = 0;
    p->buf[0] = '\0';
    if (root)
        append(p, root);
}

size_t sk__path_key(sk__path_t *p, const char *key)
{
    size_t mark = p->len;
    if (p->len > 0)
        append(p, ".");
    append(p, key);
    return mark;
}

size_t sk__path_index(sk__path_t *p, uint64_t i)
{
    size_t mark = p->len;
    char tmp[32];
    snprintf(tmp, sizeof tmp, "[%" PRIu64 "]", i);
    append(p, tmp);
    return mark;
}

void sk__path_pop(sk__path_t *p, size_t mark)
{
    if (mark <= p->len) {
        p->len = mark;
        p->buf[mark] = '\0';
    }
}
