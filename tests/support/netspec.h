/* netspec.h: small builders for network descriptions in tests (header-only). */
#ifndef SK_TEST_NETSPEC_H
#define SK_TEST_NETSPEC_H

#include <string.h>

#include "spiked/sk_net.h"

/* A population with defaults and no overrides. */
static inline sk_pop_spec_t pop_spec(const char *name, const char *model, uint32_t size)
{
    sk_pop_spec_t p;
    memset(&p, 0, sizeof p);
    p.name = name;
    p.model = model;
    p.size = size;
    return p;
}

static inline sk_proj_spec_t proj_spec(const char *src, const char *dst, sk_rule_kind_t kind,
                                       float weight, uint32_t delay)
{
    sk_proj_spec_t p;
    memset(&p, 0, sizeof p);
    p.source = src;
    p.target = dst;
    p.rule.kind = kind;
    p.weight.a = weight;
    p.delay_steps = delay;
    return p;
}

/* Byte-exact comparison of two networks: their checkpoints must be equal. */
static inline int nets_equal(const sk_net_t *a, const sk_net_t *b)
{
    uint64_t na = sk_net_checkpoint_size(a), nb = sk_net_checkpoint_size(b);
    if (na != nb)
        return 0;
    void *ba = malloc(na), *bb = malloc(nb);
    uint64_t la = 0, lb = 0;
    sk_net_checkpoint(a, ba, na, &la);
    sk_net_checkpoint(b, bb, nb, &lb);
    int eq = la == lb && memcmp(ba, bb, la) == 0;
    free(ba);
    free(bb);
    return eq;
}

#endif
