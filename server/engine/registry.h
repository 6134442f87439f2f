/* registry.h: the sessions of the server by name, in creation order.
 *
 * The registry holds one reference on each session. Removing a name hands that reference
 * to the caller, who closes the session (srv_session_close) and drops it; the session's
 * memory goes once every operation, reader and work item holding it has finished.
 * At most --max-sessions sessions. Threads: loop thread only.
 */
#ifndef SPIKED_SRV_REGISTRY_H
#define SPIKED_SRV_REGISTRY_H

#include <stdint.h>

#include "engine/session.h"

struct srv_registry {
    srv_session_t **items;
    uint32_t n, cap;
    uint32_t max;
};

int srv_registry_init(srv_registry_t *reg, uint32_t max_sessions);
/* Closes every session (status/code for answers still owed) and frees the table. */
void srv_registry_close(srv_registry_t *reg, int status, const char *code);

srv_session_t *srv_registry_find(const srv_registry_t *reg, const char *name);
/* Adds sess (takes its reference). SK_EEXIST when the name is taken, SK_ELIMIT when full:
 * then sess is untouched. */
int srv_registry_add(srv_registry_t *reg, srv_session_t *sess);
/* 0 when a session may be added under name, else SK_EEXIST / SK_ELIMIT. */
int srv_registry_can_add(const srv_registry_t *reg, const char *name);
/* Unlinks name; returns the session with the registry's reference, or NULL. */
srv_session_t *srv_registry_remove(srv_registry_t *reg, const char *name);

#endif
