/* fault.h: test-only fault injection, for the tests that must see the server fail where a
 * real machine rarely does (tests/server/test_faults.c).
 *
 * fault.c is compiled twice (server/CMakeLists.txt): with SPIKED_FAULT_INJECTION into the
 * test build `spiked_faults`, which reads the variables below, and without it into the
 * release `spiked`, where every function answers "no fault" and nothing reads the
 * environment or pauses. Never set these in production; the release binary ignores them.
 *
 *   SPIKED_FAULT_CKPT="<kind>@<offset>[#<n>]"  the n-th checkpoint write of the process
 *       (default the first), once <offset> bytes of its temporary file are written (offset
 *       >= the size: after the data, before fsync): enospc, eio (the write fails with that
 *       errno), pause (the writer sleeps 60 s first; tests kill -9 the server meanwhile).
 *   SPIKED_FAULT_STEP="<kind>[#<n>]"  the n-th chunk of stepping of the process (default
 *       the first; jobs and pacer chunks count) fails after it stepped: internal (SK_EINVAL,
 *       as if the core refused what the server passed) or enomem (SK_ENOMEM).
 *
 * Threads: any (checkpoint writes and chunks run on the pool); settings are parsed once.
 */
#ifndef SPIKED_SRV_FAULT_H
#define SPIKED_SRV_FAULT_H

#include <stdint.h>

typedef struct srv_fault_ckpt {
    char kind[16]; /* "enospc", "eio", "pause" */
    uint64_t at;   /* bytes written before it strikes */
    long nth;      /* which write of the process */
} srv_fault_ckpt_t;

/* Counts a checkpoint write; returns its fault, or NULL (always in the release build). */
const srv_fault_ckpt_t *srv_fault_ckpt_next(void);
/* Strikes f: returns -1 with errno set, or 0 to go on (after a pause). */
int srv_fault_ckpt_strike(const srv_fault_ckpt_t *f);

/* Counts a chunk of stepping; returns the SK_E* code it fails with, or 0 (always in the
 * release build). */
int srv_fault_step(void);

#endif
