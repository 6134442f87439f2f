/* registry.c: name -> session table (see registry.h). A plain array: at most a few hundred
 * sessions, looked up by a linear scan that costs nothing next to a request. */
#include "engine/registry.h"

#include "engine/jobs.h"

#include <stdlib.h>
#include <string.h>

int srv_registry_init(srv_registry_t *reg, uint32_t max_sessions)
{
    memset(reg, 0, sizeof *reg);
    reg->max = max_sessions;
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
}

srv_session_t *srv_registry_find(const srv_registry_t *reg, const char *name)
{
    for (uint32_t i = 0; i < reg->n; i++)
        if (!strcmp(reg->items[i]->name, name))
            return reg->items[i];
    return NULL;
}

int srv_registry_can_add(const srv_registry_t *reg, const char *name)
{
    if (srv_registry_find(reg, name))
        return SK_EEXIST;
    if (reg->n >= reg->max)
        return SK_ELIMIT;
    return 0;
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
            return sess;
        }
    return NULL;
}
