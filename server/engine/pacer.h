/* pacer.h: real-time pacing (the demo): model time follows wall time while nothing else is
 * queued on the session.
 *
 * A client of the session, never called by it: a 10 ms timer (the session's `pacer` handle)
 * submits a pacer operation when the session is idle, its queue is empty and steps are due;
 * the operation runs chunks (jobs.h) of the steps due, one work item each, and ends when it
 * has caught up, when an operation is queued (it yields at the next chunk boundary) or when
 * pacing is switched off. More than 1 s behind, it gives up catching up and follows from
 * where it is. The session's realtime, rt_wall0_ns and rt_step0 are this module's.
 *
 * Threads: loop thread; the chunk's work runs on the pool like any operation's.
 */
#ifndef SPIKED_SRV_PACER_H
#define SPIKED_SRV_PACER_H

#include "engine/session.h"

/* Real-time pacing on or off (on: model time restarts from now). Drops the info cache. */
void srv_session_set_realtime(srv_session_t *sess, int on);

#endif
