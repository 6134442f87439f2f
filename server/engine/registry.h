/* registry.h: the sessions of the server by name, in creation order, and admission.
 *
 * The registry holds one reference on each session. Removing a name hands that reference
 * to the caller, who closes the session (srv_session_close) and drops it; the session's
 * memory goes once every operation, reader and work item holding it has finished.
 * At most --max-sessions sessions. Threads: loop thread only.
 *
 * Admission (issue 17): a create, fork or restore is admitted only when its name is free,
 * the session count is below --max-sessions and its memory estimate fits the server-wide
 * budget (--max-memory): mem_used (the estimates of the registered sessions, the core's
 * sk_net_info bytes: history rings counted at their full limits) plus mem_reserved (builds
 * on the pool, reserved before they start, released when they end) plus the new estimate
 * must stay <= mem_max. Everything is decided before any build work.
 *
 * Held names: checkpoints in the data directory that did not restore at start. They stay
 * on disk as they are; their names are refused to creates and forks (the file would be
 * overwritten by the next save) and listed by /healthz until an operator moves the file.
 */
#ifndef SPIKED_SRV_REGISTRY_H
#define SPIKED_SRV_REGISTRY_H

#include <stdint.h>

#include "engine/session.h"

struct srv_registry {
    srv_session_t **items;
    uint32_t n, cap;
    uint32_t max;
    uint64_t mem_max, mem_used, mem_reserved; /* bytes: see "Admission" */
    char **held;        /* names of checkpoints not restored (malloc'd strings) */
    uint32_t n_held, cap_held;
    uint64_t next_seq;  /* creation sequence of the next session (listing cursors) */
};

/* Admission refusals beyond SK_EEXIST (name taken) and SK_ELIMIT (session count). */
#define SRV_EHELD     (-1001) /* a checkpoint of that name did not restore: kept, not reused */
#define SRV_ETOOBIG   (-1002) /* the estimate alone exceeds --max-memory */
#define SRV_ENOMEMORY (-1003) /* the estimate does not fit what is left of --max-memory */

int srv_registry_init(srv_registry_t *reg, uint32_t max_sessions, uint64_t max_memory);
/* Closes every session (status/code for answers still owed) and frees the table. */
void srv_registry_close(srv_registry_t *reg, int status, const char *code);

srv_session_t *srv_registry_find(const srv_registry_t *reg, const char *name);
/* Adds sess (takes its reference). SK_EEXIST when the name is taken, SK_ELIMIT when full:
 * then sess is untouched. */
int srv_registry_add(srv_registry_t *reg, srv_session_t *sess);
/* 0 when a session may be added under name, else SK_EEXIST / SRV_EHELD / SK_ELIMIT. */
int srv_registry_can_add(const srv_registry_t *reg, const char *name);
/* srv_registry_can_add, then whether bytes more fit the budget (SRV_ETOOBIG,
 * SRV_ENOMEMORY). */
int srv_registry_admit(const srv_registry_t *reg, const char *name, uint64_t bytes);
/* Reserves / releases bytes of the budget for a build on the pool. */
void srv_registry_reserve(srv_registry_t *reg, uint64_t bytes);
void srv_registry_release(srv_registry_t *reg, uint64_t bytes);
/* Holds name (a checkpoint that did not restore). 0 or SK_ENOMEM. */
int srv_registry_hold(srv_registry_t *reg, const char *name);
/* Index of the first session created after sequence seq (reg->n when none): O(log n). */
uint32_t srv_registry_after(const srv_registry_t *reg, uint64_t seq);
/* Unlinks name; returns the session with the registry's reference, or NULL. */
srv_session_t *srv_registry_remove(srv_registry_t *reg, const char *name);

#endif
