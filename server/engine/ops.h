/* ops.h: the session operations other than stepping and checkpoints. Each is queued on its
 * session (srv_session_submit) so it runs in order with the session's other operations,
 * and answers its request itself:
 *   inputs      POST .../inputs               decode against the network, sk_net_inject
 *   patch_pop   PATCH .../populations/{pop}   decode with the model, sk_net_set_params
 *   patch_stim  PATCH .../stimuli/{index}     sk_net_set_poisson_rate
 *   reset       POST .../reset                sk_net_reset on the pool
 *   fork        POST .../fork                 sk_net_clone on the pool, new session
 * Bodies (json_t, new references) are taken over. Each returns NULL when out of memory.
 */
#ifndef SPIKED_SRV_OPS_H
#define SPIKED_SRV_OPS_H

#include <jansson.h>

#include "engine/session.h"

srv_op_t *srv_op_inputs(srv_req_t *rq, json_t *body);
srv_op_t *srv_op_patch_pop(srv_req_t *rq, const char *pop, json_t *body);
srv_op_t *srv_op_patch_stim(srv_req_t *rq, uint32_t index, double rate_hz);
srv_op_t *srv_op_reset(srv_req_t *rq);
srv_op_t *srv_op_fork(srv_req_t *rq, const char *new_name);

#endif
