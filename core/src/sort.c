/* sort.c: a stable order of n items by a caller's comparison (bottom-up merge sort of an
 * index permutation). Used where the core must keep the given order among equal keys:
 * explicit synapse lists, injection batches, spike-time arrays. O(n log n), allocates two
 * n-element index arrays (outside the step loop only). */
#include "internal.h"

int sk__stable_order(uint64_t n, sk__less_fn less, const void *ctx, uint64_t **out)
{
    uint64_t *a = sk_calloc(n ? n : 1, sizeof *a), *b = sk_calloc(n ? n : 1, sizeof *b);
    if (!a || !b) {
        sk_free(a);
        sk_free(b);
        return SK_ENOMEM;
    }
    for (uint64_t j = 0; j < n; j++)
        a[j] = j;
    for (uint64_t width = 1; width < n; width *= 2) {
        for (uint64_t lo = 0; lo < n; lo += 2 * width) {
            uint64_t mid = lo + width < n ? lo + width : n;
            uint64_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            uint64_t i = lo, j = mid, o = lo;
            while (i < mid && j < hi)
                b[o++] = less(ctx, a[j], a[i]) ? a[j++] : a[i++];
            while (i < mid)
                b[o++] = a[i++];
            while (j < hi)
                b[o++] = a[j++];
        }
        uint64_t *t = a;
        a = b;
        b = t;
    }
    sk_free(b);
    *out = a;
    return 0;
}
