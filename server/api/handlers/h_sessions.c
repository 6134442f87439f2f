/* h_sessions.c: the session resource: create, list, get, patch (real-time stepping),
 * delete, reset, fork, checkpoint.
 *
 * A create may repeat the body's name in the query (?name=, for a proxy routing by name);
 * the two must agree.
 *
 * Creation decodes on the loop thread (proto), then builds the network on the pool (a
 * large network takes seconds) and registers it when done; the name is checked before and
 * after the build (two creates of one name race: the second gets 409).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/ckpt_store.h"
#include "engine/journal.h"
#include "base/log.h"
#include "api/handlers/common.h"

typedef struct create_req {
    uv_work_t w;
    srv_server_t *s;
    srv_req_t *rq;
    sk_proto_session_t *ps;
    sk_net_t *net;
    json_t *body;      /* the request body, kept for the journal's create record */
    uint64_t reserved; /* bytes of --max-memory reserved for the build */
    int rc;
    sk_err_t err;
} create_req_t;

/* Admission (registry.h): fills rs with the refusal, if any, and returns its code. path
 * names the field a refused estimate comes from. Decided before any build work. */
static int admit(srv_server_t *s, const char *name, uint64_t bytes, const char *path,
                 srv_resp_t *rs)
{
    srv_registry_t *reg = s->reg;
    int rc = srv_registry_admit(reg, name, bytes);
    if (rc == SK_EEXIST)
        srv_resp_error(rs, 409, "conflict", "name", "session %s already exists", name);
    else if (rc == SRV_EHELD)
        srv_resp_error(rs, 409, "conflict", "name",
                       "a checkpoint of session %s did not restore at start (GET /healthz lists "
                       "it); the server keeps it and will not overwrite it",
                       name);
    else if (rc == SK_ELIMIT)
        srv_resp_error(rs, 429, "too_many_requests", "",
                       "the server holds its maximum of %u sessions (--max-sessions)",
                       (unsigned)s->cfg.max_sessions);
    else if (rc == SRV_ETOOBIG)
        srv_resp_error(rs, 413, "limit_exceeded", path,
                       "the session needs about %.4g MB, more than the server's whole memory "
                       "budget of %.4g MB (--max-memory)",
                       (double)bytes / 1e6, (double)reg->mem_max / 1e6);
    else if (rc == SRV_ENOMEMORY)
        srv_resp_error(rs, 507, "insufficient_storage", path,
                       "the session needs about %.4g MB; %.4g MB of the server's memory budget "
                       "(--max-memory %.4g MB) is left",
                       (double)bytes / 1e6,
                       (double)(reg->mem_max - (reg->mem_used + reg->mem_reserved <= reg->mem_max
                                                    ? reg->mem_used + reg->mem_reserved
                                                    : reg->mem_max)) / 1e6,
                       (double)reg->mem_max / 1e6);
    return rc;
}

static int name_taken(srv_server_t *s, const char *name, srv_resp_t *rs)
{
    return admit(s, name, 0, "", rs);
}

/* Answers 201 with the session's info and its Location. */
static void answer_created(srv_session_t *sess, srv_req_t *rq)
{
    srv_resp_t rs;
    srv_resp_init(&rs);
    h_json(&rs, 201, srv_session_info_json(sess));
    if (rs.status == 201)
        srv_resp_header(&rs, "Location", "/v1/sessions/%s", sess->name);
    srv_req_finish(rq, &rs);
}

static void create_work(uv_work_t *w)
{
    create_req_t *c = w->data;
    c->rc = sk_net_create(&c->ps->spec, &c->net, &c->err);
}

static void create_after(uv_work_t *w, int status)
{
    create_req_t *c = w->data;
    srv_server_t *s = c->s;
    srv_resp_t rs;
    srv_resp_init(&rs);
    srv_session_t *sess = NULL;
    s->creating--;
    srv_registry_release(s->reg, c->reserved); /* the session charges its own bytes */
    if (status < 0 || c->rc) {
        sk_proto_error_t e;
        sk_proto_error_from_core(&e, status < 0 ? SK_ENOMEM : c->rc, &c->err, "network");
        h_error(&rs, &e);
    } else if (s->phase != SRV_RUNNING) {
        srv_resp_error(&rs, 503, "unavailable", "", "the server is shutting down");
    } else if (!name_taken(s, c->ps->name, &rs)) {
        sk_net_t *net = c->net;
        c->net = NULL;
        if (srv_session_create(s, c->ps->name, net, &sess) || srv_registry_add(s->reg, sess)) {
            if (sess)
                srv_session_unref(sess);
            sess = NULL;
            srv_resp_error(&rs, 503, "unavailable", "", "out of memory");
        }
    }
    if (sess && s->journal) { /* journal.h: recorded before the 201 */
        json_t *rec = json_pack("{s:s, s:s, s:O}", "op", "create", "s", sess->name, "body", c->body);
        if (srv_journal_append(s, sess, rec) < 0) {
            s->metrics.journal_failed++;
            srv_session_t *gone = srv_registry_remove(s->reg, sess->name);
            srv_session_close(gone, 500, "internal");
            srv_session_unref(gone);
            sess = NULL;
            srv_resp_error(&rs, 500, "internal", "", "the journal could not be written");
        }
    }
    if (sess) {
        srv_log(SRV_LOG_INFO, "session %s created", sess->name);
        srv_session_lifecycle(sess, "created", NULL);
        answer_created(sess, c->rq);
    } else {
        srv_req_finish(c->rq, &rs);
    }
    sk_net_destroy(c->net);
    sk_proto_session_free(c->ps);
    json_decref(c->body);
    free(c);
}

int h_sessions_create(srv_server_t *s, srv_req_t *rq, srv_resp_t *rs)
{
    json_t *body = h_body(s, rq, rs);
    if (!body)
        return SRV_DONE;
    sk_proto_caps_t caps;
    srv_session_caps(s, &caps);
    sk_proto_session_t *ps = NULL;
    sk_proto_error_t e;
    int rc = sk_proto_session_decode(body, &caps, &ps, &e);
    if (rc || !s->journal) { /* kept for the journal's create record */
        json_decref(body);
        body = NULL;
    }
    char qbuf[512];
    sk_proto_kv_t kv[H_MAX_QUERY];
    size_t nkv = 0;
    if (rc == 0 && (h_query(rq, qbuf, sizeof qbuf, kv, &nkv, &e) ||
                    sk_proto_create_query_decode(kv, nkv, ps->name, &e)))
        rc = -1;
    if (rc) {
        sk_proto_session_free(ps);
        json_decref(body);
        return h_error(rs, &e);
    }
    uint64_t est = 0;
    sk_err_t ee = {0};
    if ((rc = sk_net_estimate(&ps->spec, &est, &ee))) { /* what the build would refuse */
        sk_proto_session_free(ps);
        json_decref(body);
        sk_proto_error_from_core(&e, rc, &ee, "network");
        return h_error(rs, &e);
    }
    create_req_t *c = NULL;
    if (admit(s, ps->name, est, "network", rs) || !(c = calloc(1, sizeof *c))) {
        if (!rs->body)
            srv_resp_error(rs, 503, "unavailable", "", "out of memory");
        sk_proto_session_free(ps);
        json_decref(body);
        return SRV_DONE;
    }
    c->s = s;
    c->body = body;
    c->rq = rq;
    c->ps = ps;
    c->w.data = c;
    c->reserved = est;
    srv_registry_reserve(s->reg, est);
    s->creating++;
    uv_queue_work(s->loop, &c->w, create_work, create_after);
    return SRV_DEFERRED;
}

/* ---- list: one page, one reader per session of the page, answered when the last has run --
 *
 * Paged (issue 17): ?limit= (1..LIST_MAX, default LIST_MAX) sessions in creation order from
 * ?cursor= (the next_cursor of the previous page: the creation sequence of its last
 * session, found by binary search), so one request costs the loop at most LIST_MAX info
 * encodings however many sessions the server holds. A session created during a walk
 * appears on a later page; one deleted is skipped. */
#define LIST_MAX 100

typedef struct list_ctx list_ctx_t;
typedef struct list_slot {
    list_ctx_t *ctx;
    uint32_t i;
    json_t *item;
} list_slot_t;

struct list_ctx {
    srv_req_t *rq;
    uint32_t pending, n;
    uint64_t next; /* next_cursor, 0 = last page */
    list_slot_t slots[]; /* owned: deferred readers point at them */
};

static void list_done(list_ctx_t *ctx)
{
    json_t *arr = json_array();
    for (uint32_t i = 0; i < ctx->n; i++)
        if (ctx->slots[i].item) {
            if (arr)
                json_array_append(arr, ctx->slots[i].item);
            json_decref(ctx->slots[i].item);
        }
    char cur[24];
    snprintf(cur, sizeof cur, "%llu", (unsigned long long)ctx->next);
    json_t *next = ctx->next ? json_string(cur) : json_null();
    srv_session_answer_json(ctx->rq, 200,
                            arr ? json_pack("{s:o, s:o}", "sessions", arr, "next_cursor", next)
                                : NULL);
    free(ctx);
}

static void list_read(srv_session_t *sess, srv_req_t *rq, void *arg)
{
    (void)rq;
    list_slot_t *slot = arg;
    list_ctx_t *ctx = slot->ctx;
    if (!sess->closing)
        slot->item = srv_session_info_json(sess);
    if (--ctx->pending == 0)
        list_done(ctx);
}

int h_sessions_list(srv_server_t *s, srv_req_t *rq, srv_resp_t *rs)
{
    char qbuf[512];
    sk_proto_kv_t kv[H_MAX_QUERY];
    size_t nkv = 0;
    sk_proto_error_t e;
    uint64_t limit = 0, cursor = 0;
    if (h_query(rq, qbuf, sizeof qbuf, kv, &nkv, &e) ||
        sk_proto_list_query_decode(kv, nkv, LIST_MAX, &limit, &cursor, &e))
        return h_error(rs, &e);
    srv_registry_t *reg = s->reg;
    uint32_t first = srv_registry_after(reg, cursor);
    uint32_t n = reg->n - first < limit ? reg->n - first : (uint32_t)limit;
    list_ctx_t *ctx = calloc(1, sizeof *ctx + (size_t)n * sizeof(list_slot_t));
    if (!ctx) {
        srv_resp_error(rs, 503, "unavailable", "", "out of memory");
        return SRV_DONE;
    }
    ctx->rq = rq;
    ctx->n = n;
    ctx->next = first + n < reg->n && n ? reg->items[first + n - 1]->seq : 0;
    ctx->pending = n + 1; /* +1 until every reader is registered */
    for (uint32_t i = 0; i < n; i++) {
        ctx->slots[i] = (list_slot_t){ctx, i, NULL};
        if (srv_session_read(reg->items[first + i], NULL, list_read, &ctx->slots[i]) < 0)
            ctx->pending--;
    }
    if (--ctx->pending == 0)
        list_done(ctx);
    return SRV_DEFERRED;
}

/* ---- one session ---- */

/* Fills rs with the session's info (from the session's cache: session.h). */
static int info_answer(srv_session_t *sess, srv_resp_t *rs)
{
    size_t len = 0;
    char *text = srv_session_info_text(sess, &len);
    if (text)
        srv_resp_take(rs, 200, "application/json", text, len);
    else
        srv_resp_error(rs, 503, "unavailable", "", "out of memory");
    return SRV_DONE;
}

static void get_read(srv_session_t *sess, srv_req_t *rq, void *arg)
{
    (void)arg;
    if (sess->closing) {
        h_closed(sess, rq);
        return;
    }
    srv_resp_t rs;
    srv_resp_init(&rs);
    info_answer(sess, &rs);
    srv_req_finish(rq, &rs);
}

int h_sessions_get(srv_server_t *s, srv_req_t *rq, srv_resp_t *rs)
{
    srv_session_t *sess = h_session(s, rq, rs);
    if (!sess)
        return SRV_DONE;
    if (!sess->busy && !sess->closing) /* readable now: answered at once */
        return info_answer(sess, rs);
    return h_read(sess, rq, rs, get_read, NULL);
}

/* PATCH {realtime}: applied at once (pausing stops the pacer; a chunk already on the pool
 * finishes), then answered with the info at the next chunk boundary. Pausing the shared
 * --demo session is refused (403, path realtime) unless --demo-pausable. */
int h_sessions_patch(srv_server_t *s, srv_req_t *rq, srv_resp_t *rs)
{
    srv_session_t *sess = h_session(s, rq, rs);
    if (!sess)
        return SRV_DONE;
    json_t *body = h_body(s, rq, rs);
    if (!body)
        return SRV_DONE;
    sk_proto_session_patch_t patch;
    sk_proto_error_t e;
    int rc = sk_proto_session_patch_decode(body, &patch, &e);
    json_decref(body);
    if (rc)
        return h_error(rs, &e);
    /* The --demo session is shared by every visitor: one of them must not stop it for all
     * (issue 19 item 4) unless the operator allows it with --demo-pausable. */
    if (!patch.realtime && sess->realtime && s->cfg.demo && !s->cfg.demo_pausable &&
        strcmp(sess->name, "demo") == 0) {
        srv_resp_error(rs, 403, "forbidden", "realtime",
                       "the shared demo session cannot be paused by a client (the server "
                       "allows it with --demo-pausable); a dashboard freezes its own view");
        return SRV_DONE;
    }
    if (patch.realtime != sess->realtime) {
        srv_log(SRV_LOG_INFO, "session %s: real-time stepping %s", sess->name,
                patch.realtime ? "on" : "off");
        srv_session_set_realtime(sess, patch.realtime);
    }
    return h_read(sess, rq, rs, get_read, NULL);
}

int h_sessions_delete(srv_server_t *s, srv_req_t *rq, srv_resp_t *rs)
{
    if (!h_session(s, rq, rs))
        return SRV_DONE;
    srv_session_t *sess = srv_registry_remove(s->reg, rq->params[0]);
    srv_ckpt_remove(s->cfg.data_dir, sess->name, &sess->deleted);
    if (s->journal && srv_journal_append(s, NULL, json_pack("{s:s, s:s}", "op", "delete", "s",
                                                            sess->name)) < 0)
        s->metrics.journal_failed++;
    srv_log(SRV_LOG_INFO, "session %s deleted", sess->name);
    srv_session_close(sess, 404, "not_found");
    srv_session_unref(sess);
    srv_resp_take(rs, 204, NULL, NULL, 0);
    return SRV_DONE;
}

int h_sessions_reset(srv_server_t *s, srv_req_t *rq, srv_resp_t *rs)
{
    srv_session_t *sess = h_session(s, rq, rs);
    return sess ? h_submit(sess, srv_op_reset(rq), rs) : SRV_DONE;
}

int h_sessions_fork(srv_server_t *s, srv_req_t *rq, srv_resp_t *rs)
{
    srv_session_t *sess = h_session(s, rq, rs);
    if (!sess)
        return SRV_DONE;
    json_t *body = h_body(s, rq, rs);
    if (!body)
        return SRV_DONE;
    char name[SK_PROTO_NAME_MAX + 1];
    sk_proto_error_t e;
    int rc = sk_proto_fork_decode(body, name, &e);
    json_decref(body);
    if (rc)
        return h_error(rs, &e);
    if (admit(s, name, sess->mem_charge, "", rs)) /* the copy: the source's estimate */
        return SRV_DONE;
    return h_submit(sess, srv_op_fork(rq, name), rs);
}

int h_sessions_checkpoint(srv_server_t *s, srv_req_t *rq, srv_resp_t *rs)
{
    srv_session_t *sess = h_session(s, rq, rs);
    return sess ? h_submit(sess, srv_ckpt_op_new(rq), rs) : SRV_DONE;
}
