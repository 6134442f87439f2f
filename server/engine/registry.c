/* registry.c: name -> session table and admission (see registry.h). A plain array in
 * creation order, looked up by a linear scan (10,000 names: tens of microseconds); the
 * listing finds its cursor by binary search on the creation sequence. */
#include "engine/registry.h"

#include "engine/jobs.h"

#include <stdlib.h>
#include <string.h>

#include "base/srv.h"

int srv_registry_init(srv_registry_t *reg, uint32_t max_sessions, uint64_t max_memory)
{
    memset(reg, 0, sizeof *reg);
    reg->max = max_sessions;
    reg->mem_max = max_memory;
    reg->next_seq = 1;
    return 0;
}

void srv_registry_close(srv_registry_t *reg, int status, const char *code)
{
    while (reg->n) {
        srv_session_t *sess = reg->items[--reg->n];
        srv_session_close(sess, status, code);
        srv_session_unref(sess);
    }
    free(reg->items);
    reg->items = NULL;
    reg->cap = 0;
    for (uint32_t i = 0; i < reg->n_held; i++)
        free(reg->held[i]);
    free(reg->held);
    reg->held = NULL;
    reg->n_held = reg->cap_held = 0;
}

srv_session_t *srv_registry_find(const srv_registry_t *reg, const char *name)
{
    for (uint32_t i = 0; i < reg->n; i++)
        if (!strcmp(reg->items[i]->name, name))
            return reg->items[i];
    return NULL;
}

static int held(const srv_registry_t *reg, const char *name)
{
    for (uint32_t i = 0; i < reg->n_held; i++)
        if (!strcmp(reg->held[i], name))
            return 1;
    return 0;
}

int srv_registry_can_add(const srv_registry_t *reg, const char *name)
{
    if (srv_registry_find(reg, name))
        return SK_EEXIST;
    if (held(reg, name))
        return SRV_EHELD;
    if (reg->n >= reg->max)
        return SK_ELIMIT;
    return 0;
}

int srv_registry_admit(const srv_registry_t *reg, const char *name, uint64_t bytes)
{
    int rc = srv_registry_can_add(reg, name);
    if (rc)
        return rc;
    if (bytes > reg->mem_max)
        return SRV_ETOOBIG;
    uint64_t used = reg->mem_used + reg->mem_reserved;
    if (used > reg->mem_max || bytes > reg->mem_max - used)
        return SRV_ENOMEMORY;
    return 0;
}

void srv_registry_reserve(srv_registry_t *reg, uint64_t bytes)
{
    reg->mem_reserved += bytes;
}

void srv_registry_release(srv_registry_t *reg, uint64_t bytes)
{
    SRV_ASSERT(reg->mem_reserved >= bytes);
    reg->mem_reserved -= bytes;
}

int srv_registry_hold(srv_registry_t *reg, const char *name)
{
    if (reg->n_held == reg->cap_held) {
        uint32_t cap = reg->cap_held ? reg->cap_held * 2 : 8;
        char **h = realloc(reg->held, cap * sizeof *h);
        if (!h)
            return SK_ENOMEM;
        reg->held = h;
        reg->cap_held = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        return SK_ENOMEM;
    reg->held[reg->n_held++] = copy;
    return 0;
}

uint32_t srv_registry_after(const srv_registry_t *reg, uint64_t seq)
{
    uint32_t lo = 0, hi = reg->n; /* items are in ascending seq (appended, order kept) */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (reg->items[mid]->seq <= seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int srv_registry_add(srv_registry_t *reg, srv_session_t *sess)
{
    srv_hub_set_fill(&sess->hub, srv_spikes_fill, sess); /* its streams read its history */
    int rc = srv_registry_can_add(reg, sess->name);
    if (rc)
        return rc;
    if (reg->n == reg->cap) {
        uint32_t cap = reg->cap ? reg->cap * 2 : 16;
        srv_session_t **items = realloc(reg->items, cap * sizeof *items);
        if (!items)
            return SK_ENOMEM;
        reg->items = items;
        reg->cap = cap;
    }
    sess->seq = reg->next_seq++;
    reg->mem_used += sess->mem_charge;
    reg->items[reg->n++] = sess;
    return 0;
}

srv_session_t *srv_registry_remove(srv_registry_t *reg, const char *name)
{
    for (uint32_t i = 0; i < reg->n; i++)
        if (!strcmp(reg->items[i]->name, name)) {
            srv_session_t *sess = reg->items[i];
            memmove(reg->items + i, reg->items + i + 1, (reg->n - i - 1) * sizeof *reg->items);
            reg->n--;
            reg->mem_used -= sess->mem_charge;
            return sess;
        }
    return NULL;
}
