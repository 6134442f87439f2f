/* journal.h: the append-only journal of accepted operations (issue 17, "durability like
 * Redis's append-only file").
 *
 * With --data-dir, every change a client is told about is appended to <dir>/journal.log on
 * the loop thread before its answer is queued: create (the request body), the steps each
 * chunk took (jobs and the real-time pacer alike: {from, to}), injections (POST inputs and
 * a step body's inputs, as the core received them), population parameters, Poisson rates,
 * reset, fork and delete. The core is deterministic, so replaying these records on the
 * state of the session's last checkpoint reproduces the acknowledged state bit for bit.
 *
 * Records: [u32 length][u32 CRC-32 of the payload][payload], little-endian, the payload a
 * JSON object {"lsn":N, "op":..., "s":session, ...}. LSNs grow by one per record over the
 * server's life (restarts included). A checkpoint file carries the LSN of the last record
 * applied to its session (ckpt_store.c's header), so replay skips what it already holds.
 *
 * Start: checkpoints are restored first (srv_ckpt_restore_all), then srv_journal_open
 * replays the journal in order: a record whose length, CRC or JSON does not check is a torn
 * tail: it and everything after it is dropped (logged with its offset) and the file is cut
 * there before appending. A record that cannot be applied (its session missing, its step
 * not the session's) is logged and counted (/healthz journal_replay_errors).
 *
 * --fsync: always (fdatasync after each record, before the answer: nothing acknowledged is
 * lost to a power cut), everysec (default: fdatasync once a second on the pool: a power cut
 * or kernel crash loses at most the last second; kill -9 and the OOM killer lose nothing,
 * the records being in the page cache), no (the OS decides).
 *
 * Bounding replay: every --snapshot-every seconds a snapshot round rotates the journal to
 * journal.1.log, checkpoints every session whose checkpoint lacks some of its records, and
 * removes journal.1.log when all succeeded (journal.c, "snapshot rounds"); at start
 * journal.1.log, if present, is replayed first. After SIGTERM has checkpointed every session
 * successfully, the journal is emptied.
 *
 * Threads: loop thread only (the everysec fdatasync runs on the pool via uv_fs_fsync).
 */
#ifndef SPIKED_SRV_JOURNAL_H
#define SPIKED_SRV_JOURNAL_H

#include <stdint.h>

#include <jansson.h>

#include "engine/session.h"



/* Replays <dir>/journal.log into the server's sessions (after the checkpoints), cuts a
 * torn tail, opens the file for appending and starts the fsync policy. No-op without a
 * data directory. Returns 0 or -1 with a message (the file cannot be opened or written). */
int srv_journal_open(srv_server_t *s, char *err, size_t errlen);
/* fdatasync of the journal now (a second signal, before _exit). 0 done, 1 no journal, -1
 * failed. Async-signal context is not needed: signals arrive through libuv on the loop. */
int srv_journal_flush(srv_server_t *s);
/* Flushes and closes (shutdown). empty: every session was checkpointed, cut the file. */
void srv_journal_close(srv_server_t *s, int empty);

/* Appends rec (taken over; "lsn" is added) about session sess (its lsn is set) or NULL.
 * Returns 0, or -1 when the journal is on and the write failed (logged; the caller answers
 * 500/507: the change is applied but not durable). No-op (0) without a journal. */
int srv_journal_append(srv_server_t *s, srv_session_t *sess, json_t *rec);

/* Helpers for the operations (each a no-op without a journal). */
int srv_journal_step(srv_session_t *sess, uint64_t from, uint64_t to);
int srv_journal_inject(srv_session_t *sess, const sk_inject_t *inj, uint32_t n);

/* Snapshot rounds started and completed (the older journal file removed). */
void srv_journal_rounds(const srv_server_t *s, uint64_t *rounds, uint64_t *done);
/* Replay errors since start, records replayed, and the bytes of a dropped torn tail. */
void srv_journal_stats(const srv_server_t *s, uint64_t *replayed, uint64_t *errors,
                       uint64_t *torn_bytes);

#endif
