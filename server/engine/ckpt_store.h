/* ckpt_store.h: checkpoints of sessions in the data directory.
 *
 * One file per session, <dir>/<name>.ckpt, holding the core's checkpoint bytes
 * (sk_net_checkpoint: versioned, checksummed). Writes are atomic: a temporary file
 * .<name>.ckpt.XXXXXX in the same directory, write, fsync, close, rename over the old
 * file, fsync of the directory. A crash leaves the old file or the new one, never a mix.
 * The rename is skipped when the session was deleted meanwhile (checked under the same
 * lock as the unlink of DELETE, so a deleted session never comes back on restart).
 *
 * On start every <name>.ckpt is restored under the ceilings a create gets (srv_session_caps:
 * --max-neurons, --max-session-bytes, --max-spike-history, ...; a saved limit above one is
 * lowered to it, and a network that then does not fit does not restore); a file that does
 * not restore is renamed
 * <name>.ckpt.bad, logged, counted (spiked_checkpoints_rejected_total) and skipped; stale
 * temporary files are removed.
 *
 * A failed write (a full disk: ENOSPC/EDQUOT, answered 507 insufficient_storage; any other
 * error: 500) removes its temporary file and leaves the previous checkpoint as it was.
 *
 * Test-only write faults (SPIKED_FAULT_CKPT, the test build only): fault.h.
 *
 * Threads: srv_ckpt_write runs on the pool; the rest on the loop thread.
 */
#ifndef SPIKED_SRV_CKPT_STORE_H
#define SPIKED_SRV_CKPT_STORE_H

#include <stdatomic.h>
#include <stddef.h>

#include "engine/session.h"

/* Creates dir if missing (one level). Returns 0 or -1 with a message. */
int srv_ckpt_dir_init(const char *dir, char *err, size_t errlen);

/* Writes a checkpoint (see above). path receives the final file name; on failure err the
 * reason and *sys_errno the errno of the failed call (0 when none). */
int srv_ckpt_write(const char *dir, const char *name, const void *buf, size_t len,
                   atomic_int *deleted, char *path, size_t path_cap, char *err, size_t errlen,
                   int *sys_errno);

/* Marks the session deleted and removes its file (if any). */
void srv_ckpt_remove(const char *dir, const char *name, atomic_int *deleted);

/* Restores every checkpoint of dir into sessions of s (startup). Returns the number of
 * sessions restored. */
int srv_ckpt_restore_all(srv_server_t *s);

/* The checkpoint operation of a session (POST .../checkpoint, shutdown). rq may be NULL. */
srv_op_t *srv_ckpt_op_new(srv_req_t *rq);
/* The same for a snapshot round (journal.h): done(arg, ok) is called exactly once, when the
 * operation ends (ok: the file holds the session's LSN), is aborted or is refused. */
srv_op_t *srv_ckpt_op_snapshot(void (*done)(void *arg, int ok), void *arg);

#endif
