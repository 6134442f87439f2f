/* ops.c: session operations (see ops.h). One generic operation record; each kind supplies
 * what runs at start (loop thread), on the pool (optional) and after the pool work. */
#include "engine/ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/journal.h"
#include "engine/pacer.h"
#include "engine/registry.h"

typedef struct gen_op gen_op_t;
struct gen_op {
    srv_op_t op;
    int (*run)(gen_op_t *g);    /* start: SRV_OP_DONE (answered) or SRV_OP_WORK */
    void (*work)(gen_op_t *g);  /* pool */
    void (*after)(gen_op_t *g); /* loop, after work: answers */
    json_t *body;
    char arg[SRV_PARAM_MAX + 1];
    uint32_t index;
    double num;
    sk_net_t *clone;
    uint64_t reserved; /* fork: bytes of --max-memory reserved until the copy registers */
    srv_registry_t *reg;
    int rc;
};

static int g_start(srv_op_t *op)
{
    return ((gen_op_t *)op)->run((gen_op_t *)op);
}

static void g_work(srv_op_t *op)
{
    gen_op_t *g = (gen_op_t *)op;
    g->work(g);
}

static int g_after(srv_op_t *op, int status)
{
    gen_op_t *g = (gen_op_t *)op;
    if (status < 0) {
        srv_session_answer_error(op->rq, 500, "internal", "work failed: %s", uv_strerror(status));
        op->rq = NULL;
        return SRV_OP_DONE;
    }
    g->after(g);
    op->rq = NULL;
    return SRV_OP_DONE;
}

static void g_abort(srv_op_t *op, int status, const char *code)
{
    srv_session_answer_error(op->rq, status, code, "session %s closed before the operation ran",
                             op->sess->name);
    op->rq = NULL;
}

static void g_destroy(srv_op_t *op)
{
    gen_op_t *g = (gen_op_t *)op;
    json_decref(g->body);
    sk_net_destroy(g->clone);
    if (g->reserved)
        srv_registry_release(g->reg, g->reserved);
    free(g);
}

static const srv_op_vt_t gen_vt = {"op",    g_start,   g_work, g_after,
                                   g_abort, g_destroy, NULL,   NULL};

static gen_op_t *gen_new(srv_req_t *rq, int (*run)(gen_op_t *), json_t *body)
{
    gen_op_t *g = calloc(1, sizeof *g);
    if (!g) {
        json_decref(body);
        return NULL;
    }
    g->op.vt = &gen_vt;
    g->op.rq = rq;
    g->run = run;
    g->body = body;
    return g;
}

/* The change is applied but its journal record could not be written (journal.h): 500. */
static int not_durable(gen_op_t *g)
{
    g->op.sess->srv->metrics.journal_failed++;
    srv_session_answer_error(g->op.rq, 500, "internal",
                             "applied, but not written to the journal: it may not survive a "
                             "restart");
    g->op.rq = NULL;
    return SRV_OP_DONE;
}

/* Answers with the core error rc (detail err, field prefix) and finishes the operation. */
static int answer_core(gen_op_t *g, int rc, const sk_err_t *err, const char *prefix)
{
    sk_proto_error_t e;
    sk_proto_error_from_core(&e, rc, err, prefix);
    srv_session_answer_proto(g->op.rq, &e);
    g->op.rq = NULL;
    return SRV_OP_DONE;
}

static int answer(gen_op_t *g, int status, json_t *j)
{
    srv_session_answer_json(g->op.rq, status, j);
    g->op.rq = NULL;
    return SRV_OP_DONE;
}

/* ---- inputs ---- */

static int run_inputs(gen_op_t *g)
{
    srv_session_t *sess = g->op.sess;
    sk_proto_caps_t caps;
    srv_session_caps(sess->srv, &caps);
    sk_proto_net_view_t v;
    int rc = sk_proto_net_view_init(&v, sess->net);
    if (rc)
        return answer_core(g, rc, NULL, "");
    sk_inject_t *inj = NULL;
    uint32_t n = 0;
    sk_proto_error_t e;
    rc = sk_proto_inputs_decode(g->body, &v, &caps, &inj, &n, &e);
    sk_proto_net_view_close(&v);
    if (rc) {
        srv_session_answer_proto(g->op.rq, &e);
        g->op.rq = NULL;
        return SRV_OP_DONE;
    }
    sk_err_t err = {0};
    rc = sk_net_inject(sess->net, inj, n, &err);
    if (!rc && srv_journal_inject(sess, inj, n) < 0) {
        free(inj);
        return not_durable(g);
    }
    free(inj);
    if (rc)
        return answer_core(g, rc, &err, "inputs");
    return answer(g, 200, json_pack("{s:I}", "queued", (json_int_t)n));
}

srv_op_t *srv_op_inputs(srv_req_t *rq, json_t *body)
{
    gen_op_t *g = gen_new(rq, run_inputs, body);
    return g ? &g->op : NULL;
}

/* ---- population parameters ---- */

/* populations[idx] of the session's info. */
static json_t *pop_json(srv_session_t *sess, uint32_t idx)
{
    json_t *info = srv_session_info_json(sess);
    json_t *p = json_array_get(json_object_get(info, "populations"), idx);
    json_incref(p);
    json_decref(info);
    return p;
}

static int run_patch_pop(gen_op_t *g)
{
    srv_session_t *sess = g->op.sess;
    int idx = sk_net_pop_index(sess->net, g->arg);
    if (idx < 0) {
        srv_session_answer_error(g->op.rq, 404, "not_found", "no population %s in session %s",
                                 g->arg, sess->name);
        g->op.rq = NULL;
        return SRV_OP_DONE;
    }
    sk_pop_info_t pi;
    sk_net_pop_info(sess->net, (uint32_t)idx, &pi);
    sk_proto_params_t p;
    sk_proto_error_t e;
    if (sk_proto_params_decode(g->body, pi.model, &p, &e)) {
        srv_session_answer_proto(g->op.rq, &e);
        g->op.rq = NULL;
        return SRV_OP_DONE;
    }
    sk_err_t err = {0};
    int rc = sk_net_set_params(sess->net, (uint32_t)idx, p.items, p.n, &err);
    if (rc)
        return answer_core(g, rc, &err, "params");
    if (sess->srv->journal) {
        json_t *pj = json_object();
        for (uint32_t k = 0; pj && k < p.n; k++)
            json_object_set_new(pj, p.items[k].name, json_real(p.items[k].value));
        if (srv_journal_append(sess->srv, sess,
                               pj ? json_pack("{s:s, s:s, s:i, s:o}", "op", "params", "s",
                                              sess->name, "pop", idx, "p", pj)
                                  : NULL) < 0)
            return not_durable(g);
    }
    return answer(g, 200, pop_json(sess, (uint32_t)idx));
}

srv_op_t *srv_op_patch_pop(srv_req_t *rq, const char *pop, json_t *body)
{
    gen_op_t *g = gen_new(rq, run_patch_pop, body);
    if (g)
        snprintf(g->arg, sizeof g->arg, "%s", pop);
    return g ? &g->op : NULL;
}

/* ---- Poisson rates ---- */

static int run_patch_stim(gen_op_t *g)
{
    sk_err_t err = {0};
    int rc = sk_net_set_poisson_rate(g->op.sess->net, g->index, g->num, &err);
    if (rc == SK_ENOENT) {
        srv_session_answer_error(g->op.rq, 404, "not_found", "no stimulus %u in session %s",
                                 g->index, g->op.sess->name);
        g->op.rq = NULL;
        return SRV_OP_DONE;
    }
    if (rc)
        return answer_core(g, rc, &err, "");
    srv_session_t *sess = g->op.sess;
    if (sess->srv->journal &&
        srv_journal_append(sess->srv, sess,
                           json_pack("{s:s, s:s, s:I, s:f}", "op", "rate", "s", sess->name,
                                     "stim", (json_int_t)g->index, "hz", g->num)) < 0)
        return not_durable(g);
    return answer(g, 200, sk_proto_stimulus_json(g->index, g->num));
}

srv_op_t *srv_op_patch_stim(srv_req_t *rq, uint32_t index, double rate_hz)
{
    gen_op_t *g = gen_new(rq, run_patch_stim, NULL);
    if (g) {
        g->index = index;
        g->num = rate_hz;
    }
    return g ? &g->op : NULL;
}

/* ---- reset ---- */

static void work_reset(gen_op_t *g)
{
    sk_net_reset(g->op.sess->net);
}

static void after_reset(gen_op_t *g)
{
    srv_session_t *sess = g->op.sess;
    sess->step = 0;
    sess->resets++; /* a new epoch of event ids (jobs.h srv_event_id) */
    if (sess->srv->journal &&
        srv_journal_append(sess->srv, sess,
                           json_pack("{s:s, s:s}", "op", "reset", "s", sess->name)) < 0)
        sess->srv->metrics.journal_failed++;
    srv_hub_rebase(&sess->hub, 0); /* spikes still owed to streams went with the history */
    if (sess->realtime)
        srv_session_set_realtime(sess, 1); /* model time restarts from now */
    srv_session_lifecycle(sess, "reset", NULL);
    answer(g, 200, srv_session_info_json(sess));
}

static int run_reset(gen_op_t *g)
{
    g->work = work_reset;
    g->after = after_reset;
    return SRV_OP_WORK;
}

srv_op_t *srv_op_reset(srv_req_t *rq)
{
    gen_op_t *g = gen_new(rq, run_reset, NULL);
    return g ? &g->op : NULL;
}

/* ---- fork ---- */

/* Admission of the copy (registry.h): name, count, and the source's estimate against
 * --max-memory. Answers and returns nonzero when refused. */
static int name_check(gen_op_t *g)
{
    srv_registry_t *reg = g->op.sess->srv->reg;
    uint64_t bytes = g->reserved ? 0 : g->op.sess->mem_charge; /* once reserved, it fits */
    int rc = srv_registry_admit(reg, g->arg, bytes);
    if (rc == SK_EEXIST)
        srv_session_answer_error(g->op.rq, 409, "conflict", "session %s already exists", g->arg);
    else if (rc == SRV_EHELD)
        srv_session_answer_error(g->op.rq, 409, "conflict",
                                 "a checkpoint of session %s did not restore at start; the "
                                 "server keeps it and will not overwrite it", g->arg);
    else if (rc == SRV_ETOOBIG || rc == SRV_ENOMEMORY)
        srv_session_answer_error(g->op.rq, rc == SRV_ETOOBIG ? 413 : 507,
                                 rc == SRV_ETOOBIG ? "limit_exceeded" : "insufficient_storage",
                                 "the copy needs about %.4g MB, beyond the server's memory budget "
                                 "(--max-memory %.4g MB)",
                                 (double)bytes / 1e6, (double)reg->mem_max / 1e6);
    else if (rc)
        srv_session_answer_error(g->op.rq, 429, "too_many_requests",
                                 "the server holds its maximum of sessions (--max-sessions)");
    if (rc)
        g->op.rq = NULL;
    return rc;
}

static void work_fork(gen_op_t *g)
{
    g->rc = sk_net_clone(g->op.sess->net, &g->clone);
}

static void after_fork(gen_op_t *g)
{
    srv_session_t *src = g->op.sess, *copy = NULL;
    if (g->rc) {
        answer_core(g, g->rc, NULL, "");
        return;
    }
    if (src->srv->phase != SRV_RUNNING) {
        srv_session_answer_error(g->op.rq, 503, "unavailable", "the server is shutting down");
        return;
    }
    if (name_check(g))
        return;
    srv_registry_release(g->reg, g->reserved); /* the copy charges its own bytes */
    g->reserved = 0;
    sk_net_t *net = g->clone;
    g->clone = NULL;
    if (srv_session_create(src->srv, g->arg, net, &copy) ||
        srv_registry_add(src->srv->reg, copy)) {
        if (copy)
            srv_session_unref(copy);
        srv_session_answer_error(g->op.rq, 503, "unavailable", "out of memory");
        return;
    }
    copy->ns_per_step = src->ns_per_step;
    if (src->srv->journal) {
        if (srv_journal_append(src->srv, src,
                               json_pack("{s:s, s:s, s:s}", "op", "fork", "s", src->name, "to",
                                         copy->name)) < 0)
            src->srv->metrics.journal_failed++;
        copy->lsn = src->lsn;
    }
    srv_session_lifecycle(src, "forked", NULL);
    srv_session_lifecycle(copy, "created", NULL);
    srv_req_t *rq = g->op.rq;
    if (!rq)
        return;
    srv_resp_t rs;
    srv_resp_init(&rs);
    json_t *info = srv_session_info_json(copy);
    size_t len = 0;
    char *body = info ? sk_proto_dumps(info, &len) : NULL;
    json_decref(info);
    if (body) {
        srv_resp_take(&rs, 201, "application/json", body, len);
        srv_resp_header(&rs, "Location", "/v1/sessions/%s", copy->name);
    } else {
        srv_resp_error(&rs, 503, "unavailable", "", "out of memory");
    }
    srv_req_finish(rq, &rs);
}

static int run_fork(gen_op_t *g)
{
    if (name_check(g))
        return SRV_OP_DONE;
    g->reg = g->op.sess->srv->reg;
    g->reserved = g->op.sess->mem_charge ? g->op.sess->mem_charge : 1;
    srv_registry_reserve(g->reg, g->reserved);
    g->work = work_fork;
    g->after = after_fork;
    return SRV_OP_WORK;
}

srv_op_t *srv_op_fork(srv_req_t *rq, const char *new_name)
{
    gen_op_t *g = gen_new(rq, run_fork, NULL);
    if (g)
        snprintf(g->arg, sizeof g->arg, "%s", new_name);
    return g ? &g->op : NULL;
}
