/* journal.c: the append-only journal of accepted operations and its replay (journal.h). */
#include "engine/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/log.h"
#include "engine/ckpt_store.h"
#include "engine/registry.h"

#define JOURNAL_FILE "journal.log"
#define JOURNAL_OLD  "journal.1.log" /* the file before the last rotation (snapshots) */
#define REC_MAX (1u << 30) /* a record longer than this is a torn or foreign length */

struct srv_journal {
    int fd;
    int policy;           /* 0 no, 1 everysec, 2 always */
    int dirty, syncing;   /* everysec: written since the last fdatasync / one in flight */
    int closed;           /* srv_journal_close done: the last of timer close and fsync frees */
    int open_timers;      /* timers whose close callback has not run yet */
    uint64_t next_lsn;
    uint64_t replayed, errors, torn_bytes;
    uv_timer_t timer;
    uv_fs_t fsync_req;
    char path[1024], old_path[1024];
    /* snapshot rounds */
    srv_server_t *srv;
    uv_timer_t snap_timer;
    int old_exists;       /* JOURNAL_OLD holds records some checkpoint may still lack */
    uint32_t pending;     /* snapshot checkpoints of the current round not yet ended */
    int round_failed;
    uint64_t rounds, rounds_done;
};

/* ---- CRC-32 (IEEE, reflected), table built on first use ---- */

static uint32_t crc_table[256];

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++)
        c = crc_table[(c ^ p[i]) & 0xFFu] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int k = 0; k < 4; k++)
        p[k] = (unsigned char)(v >> (8 * k));
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- replay ---- */

static void replay_error(srv_journal_t *j, uint64_t lsn, const char *op, const char *name,
                         const char *why)
{
    j->errors++;
    srv_log(SRV_LOG_ERROR, "journal record %" PRIu64 " (%s of session %s) not replayed: %s", lsn,
            op, name, why);
}

static int replay_create(srv_server_t *s, json_t *body, const char *name, srv_session_t **out)
{
    sk_proto_caps_t caps;
    srv_session_caps(s, &caps);
    sk_proto_session_t *ps = NULL;
    sk_proto_error_t e;
    if (sk_proto_session_decode(body, &caps, &ps, &e))
        return -1;
    sk_net_t *net = NULL;
    sk_err_t err = {0};
    int rc = sk_net_create(&ps->spec, &net, &err);
    sk_proto_session_free(ps);
    if (rc)
        return -1;
    srv_session_t *sess = NULL;
    if (srv_session_create(s, name, net, &sess) || srv_registry_add(s->reg, sess)) {
        if (sess)
            srv_session_unref(sess);
        return -1;
    }
    *out = sess;
    return 0;
}

static int replay_inject(srv_session_t *sess, json_t *items)
{
    size_t n = json_array_size(items);
    sk_inject_t *inj = calloc(n ? n : 1, sizeof *inj);
    if (!inj)
        return -1;
    for (size_t k = 0; k < n; k++) {
        json_t *it = json_array_get(items, k);
        inj[k].kind = (sk_inject_kind_t)json_integer_value(json_array_get(it, 0));
        inj[k].pop = (uint32_t)json_integer_value(json_array_get(it, 1));
        inj[k].channel = (int32_t)json_integer_value(json_array_get(it, 2));
        inj[k].neuron = (uint32_t)json_integer_value(json_array_get(it, 3));
        inj[k].step = (uint64_t)json_integer_value(json_array_get(it, 4));
        inj[k].value = (float)json_number_value(json_array_get(it, 5));
    }
    sk_err_t err = {0};
    int rc = sk_net_inject(sess->net, inj, (uint32_t)n, &err);
    free(inj);
    return rc ? -1 : 0;
}

static int replay_params(srv_session_t *sess, uint32_t pop, json_t *p)
{
    size_t n = json_object_size(p), k = 0;
    sk_param_t *items = calloc(n ? n : 1, sizeof *items);
    if (!items)
        return -1;
    const char *key;
    json_t *v;
    json_object_foreach(p, key, v)
    {
        items[k].name = key;
        items[k].value = json_number_value(v);
        k++;
    }
    sk_err_t err = {0};
    int rc = sk_net_set_params(sess->net, pop, items, (uint32_t)n, &err);
    free(items);
    return rc ? -1 : 0;
}

/* Applies one record. Records at or below the session's LSN (its checkpoint holds them) are
 * skipped. */
static void replay_one(srv_server_t *s, srv_journal_t *j, json_t *rec)
{
    uint64_t lsn = (uint64_t)json_integer_value(json_object_get(rec, "lsn"));
    const char *op = json_string_value(json_object_get(rec, "op"));
    const char *name = json_string_value(json_object_get(rec, "s"));
    if (lsn >= j->next_lsn)
        j->next_lsn = lsn + 1;
    if (!op || !name)
        return replay_error(j, lsn, op ? op : "?", "?", "malformed record");
    srv_session_t *sess = srv_registry_find(s->reg, name);
    if (sess && lsn <= sess->lsn)
        return; /* its checkpoint already holds this */
    if (!strcmp(op, "create")) {
        if (sess)
            return replay_error(j, lsn, op, name, "the session exists");
        if (replay_create(s, json_object_get(rec, "body"), name, &sess))
            return replay_error(j, lsn, op, name, "the network does not build");
        sess->lsn = lsn;
        j->replayed++;
        return;
    }
    if (!sess)
        return replay_error(j, lsn, op, name, "no such session");
    if (sess->busy) /* replay runs before anything is queued */
        return replay_error(j, lsn, op, name, "session busy");
    int rc = 0;
    if (!strcmp(op, "step")) {
        uint64_t from = (uint64_t)json_integer_value(json_object_get(rec, "from"));
        uint64_t to = (uint64_t)json_integer_value(json_object_get(rec, "to"));
        sk_net_info_t ni;
        sk_net_info(sess->net, &ni);
        if (ni.step != from || to < from) {
            char why[96];
            snprintf(why, sizeof why, "the session is at step %" PRIu64 ", the record from %" PRIu64,
                     ni.step, from);
            return replay_error(j, lsn, op, name, why);
        }
        uint64_t done = 0;
        rc = sk_net_step(sess->net, to - from, NULL, &done);
        sess->step = from + done;
    } else if (!strcmp(op, "inject")) {
        rc = replay_inject(sess, json_object_get(rec, "i"));
    } else if (!strcmp(op, "params")) {
        rc = replay_params(sess, (uint32_t)json_integer_value(json_object_get(rec, "pop")),
                           json_object_get(rec, "p"));
    } else if (!strcmp(op, "rate")) {
        sk_err_t err = {0};
        rc = sk_net_set_poisson_rate(sess->net,
                                     (uint32_t)json_integer_value(json_object_get(rec, "stim")),
                                     json_number_value(json_object_get(rec, "hz")), &err);
    } else if (!strcmp(op, "reset")) {
        sk_net_reset(sess->net);
        sess->step = 0;
        sess->resets++;
    } else if (!strcmp(op, "fork")) {
        const char *to = json_string_value(json_object_get(rec, "to"));
        srv_session_t *copy = to ? srv_registry_find(s->reg, to) : NULL;
        if (!to)
            return replay_error(j, lsn, op, name, "malformed record");
        if (copy && lsn <= copy->lsn) {
            sess->lsn = lsn;
            return; /* the copy's own checkpoint holds it */
        }
        if (copy)
            return replay_error(j, lsn, op, name, "the copy exists");
        sk_net_t *net = NULL;
        if (sk_net_clone(sess->net, &net) || srv_session_create(s, to, net, &copy) ||
            srv_registry_add(s->reg, copy)) {
            if (copy)
                srv_session_unref(copy);
            return replay_error(j, lsn, op, name, "the copy cannot be made");
        }
        copy->lsn = lsn;
    } else if (!strcmp(op, "delete")) {
        srv_session_t *gone = srv_registry_remove(s->reg, name);
        srv_session_close(gone, 404, "not_found");
        srv_session_unref(gone);
        j->replayed++;
        return;
    } else {
        return replay_error(j, lsn, op, name, "unknown operation");
    }
    if (rc)
        return replay_error(j, lsn, op, name, sk_strerror(rc));
    sess->lsn = lsn;
    j->replayed++;
}

/* Reads and applies every whole record; returns the offset after the last good one. */
static off_t replay_file(srv_server_t *s, srv_journal_t *j, int fd, off_t size)
{
    off_t off = 0;
    unsigned char hdr[8];
    while (off < size) {
        if (size - off < 8 || pread(fd, hdr, 8, off) != 8)
            break;
        uint32_t len = get32(hdr), crc = get32(hdr + 4);
        if (len == 0 || len > REC_MAX || (off_t)len > size - off - 8)
            break;
        unsigned char *buf = malloc(len);
        if (!buf || pread(fd, buf, len, off + 8) != (ssize_t)len || crc32_of(buf, len) != crc) {
            free(buf);
            break;
        }
        json_error_t je;
        json_t *rec = json_loadb((const char *)buf, len, 0, &je);
        free(buf);
        if (!json_is_object(rec)) {
            json_decref(rec);
            break;
        }
        replay_one(s, j, rec);
        json_decref(rec);
        off += 8 + (off_t)len;
    }
    return off;
}

static void on_fsynced(uv_fs_t *req)
{
    srv_journal_t *j = req->data;
    if (req->result < 0)
        srv_log(SRV_LOG_ERROR, "journal fdatasync: %s", uv_strerror((int)req->result));
    uv_fs_req_cleanup(req);
    j->syncing = 0;
    if (j->closed == 2) /* the timer closed while this ran: last one out frees */
        free(j);
}

static void on_everysec(uv_timer_t *t)
{
    srv_journal_t *j = t->data;
    if (!j->dirty || j->syncing)
        return;
    j->dirty = 0;
    j->syncing = 1;
    j->fsync_req.data = j;
    if (uv_fs_fdatasync(t->loop, &j->fsync_req, j->fd, on_fsynced) < 0)
        j->syncing = 0;
}

/* ---- snapshot rounds ----
 *
 * Every --snapshot-every seconds: if no older file is pending, the journal is rotated
 * (fdatasync, rename to JOURNAL_OLD, a new empty journal, fsync of the directory); then every
 * session whose checkpoint lacks records (lsn > ckpt_lsn) is checkpointed. When all of them
 * succeeded, JOURNAL_OLD is removed: every record in it is held by a checkpoint (or was about
 * a session since deleted). A failed round keeps the file; the next round retries it without
 * rotating again. Not while checkpoints failed to restore or records failed to replay: their
 * records stay. */

static int fsync_dir_of(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static void round_end(srv_journal_t *j)
{
    srv_server_t *s = j->srv;
    if (j->round_failed || s->reg->n_held || j->errors) {
        srv_log(SRV_LOG_WARN, "snapshot round %" PRIu64 ": %s; %s kept", j->rounds,
                j->round_failed ? "a checkpoint failed" : "unrestored checkpoints or replay errors",
                j->old_path);
        return;
    }
    if (j->old_exists && unlink(j->old_path) < 0 && errno != ENOENT) {
        srv_log(SRV_LOG_ERROR, "snapshot: remove %s: %s", j->old_path, strerror(errno));
        return;
    }
    j->old_exists = 0;
    j->rounds_done++;
}

static void snap_done(void *arg, int ok)
{
    srv_journal_t *j = arg;
    if (!ok)
        j->round_failed = 1;
    if (--j->pending == 0)
        round_end(j);
}

static int rotate(srv_journal_t *j)
{
    if (fdatasync(j->fd) < 0 || rename(j->path, j->old_path) < 0)
        return -1;
    int fd = open(j->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) { /* put it back: appends go on where they were */
        if (rename(j->old_path, j->path) < 0)
            srv_log(SRV_LOG_ERROR, "journal: %s: %s", j->old_path, strerror(errno));
        return -1;
    }
    close(j->fd);
    j->fd = fd;
    j->old_exists = 1;
    return fsync_dir_of(j->srv->cfg.data_dir) < 0 ? -1 : 0;
}

static void on_snapshot(uv_timer_t *t)
{
    srv_journal_t *j = t->data;
    srv_server_t *s = j->srv;
    if (j->pending || s->phase != SRV_RUNNING)
        return;
    if (!j->old_exists && rotate(j) < 0) {
        srv_log(SRV_LOG_ERROR, "snapshot: rotating %s: %s", j->path, strerror(errno));
        return;
    }
    j->rounds++;
    j->round_failed = 0;
    j->pending = 1; /* held until every checkpoint is submitted */
    for (uint32_t i = 0; i < s->reg->n; i++) {
        srv_session_t *sess = s->reg->items[i];
        if (sess->lsn <= sess->ckpt_lsn)
            continue; /* its checkpoint holds every record about it */
        srv_op_t *op = srv_ckpt_op_snapshot(snap_done, j);
        if (!op) {
            j->round_failed = 1;
            continue;
        }
        j->pending++;
        srv_session_submit(sess, op); /* refused: destroyed, snap_done(0) */
    }
    snap_done(j, 1);
}

int srv_journal_open(srv_server_t *s, char *err, size_t errlen)
{
    if (!s->cfg.data_dir[0])
        return 0;
    crc_init();
    srv_journal_t *j = calloc(1, sizeof *j);
    if (!j) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    j->policy = !strcmp(s->cfg.fsync, "always") ? 2 : !strcmp(s->cfg.fsync, "no") ? 0 : 1;
    j->next_lsn = 1;
    for (uint32_t i = 0; i < s->reg->n; i++) /* checkpoints carry LSNs: never reuse one */
        if (s->reg->items[i]->lsn >= j->next_lsn)
            j->next_lsn = s->reg->items[i]->lsn + 1;
    snprintf(j->path, sizeof j->path, "%s/" JOURNAL_FILE, s->cfg.data_dir);
    snprintf(j->old_path, sizeof j->old_path, "%s/" JOURNAL_OLD, s->cfg.data_dir);
    j->srv = s;
    uint64_t t0 = srv_now_ns();
    int ofd = open(j->old_path, O_RDONLY | O_CLOEXEC);
    if (ofd >= 0) { /* a round that did not finish: its records first */
        struct stat ost;
        if (fstat(ofd, &ost) == 0) {
            off_t good = replay_file(s, j, ofd, ost.st_size);
            if (good < ost.st_size)
                srv_log(SRV_LOG_ERROR, "journal %s: %lld bytes after offset %lld do not check; "
                        "not replayed", j->old_path, (long long)(ost.st_size - good), (long long)good);
        }
        close(ofd);
        j->old_exists = 1;
    }
    j->fd = open(j->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    struct stat st;
    if (j->fd < 0 || fstat(j->fd, &st) < 0) {
        snprintf(err, errlen, "journal %s: %s", j->path, strerror(errno));
        if (j->fd >= 0)
            close(j->fd);
        free(j);
        return -1;
    }
    off_t good = replay_file(s, j, j->fd, st.st_size);
    if (good < st.st_size) {
        j->torn_bytes = (uint64_t)(st.st_size - good);
        srv_log(SRV_LOG_WARN,
                "journal %s: torn or corrupt tail of %" PRIu64 " bytes at offset %lld dropped "
                "(a record whose length or CRC does not check: never acknowledged with --fsync "
                "always, else at most the last second)",
                j->path, j->torn_bytes, (long long)good);
        if (ftruncate(j->fd, good) < 0) {
            snprintf(err, errlen, "journal %s: cut at %lld: %s", j->path, (long long)good,
                     strerror(errno));
            close(j->fd);
            free(j);
            return -1;
        }
    }
    if (lseek(j->fd, good, SEEK_SET) < 0) {
        snprintf(err, errlen, "journal %s: %s", j->path, strerror(errno));
        close(j->fd);
        free(j);
        return -1;
    }
    srv_log(SRV_LOG_INFO, "journal %s: %" PRIu64 " records replayed in %.1f ms, %" PRIu64
            " not replayable, next LSN %" PRIu64,
            j->path, j->replayed, (double)(srv_now_ns() - t0) / 1e6, j->errors, j->next_lsn);
    uv_timer_init(s->loop, &j->timer);
    j->timer.data = j;
    if (j->policy == 1)
        uv_timer_start(&j->timer, on_everysec, 1000, 1000);
    uv_timer_init(s->loop, &j->snap_timer);
    j->snap_timer.data = j;
    if (s->cfg.snapshot_every_s)
        uv_timer_start(&j->snap_timer, on_snapshot, s->cfg.snapshot_every_s * 1000,
                       s->cfg.snapshot_every_s * 1000);
    s->journal = j;
    return 0;
}

/* Both timers' close callbacks come here; the last of them and an fdatasync in flight frees. */
static void on_timer_closed(uv_handle_t *h)
{
    srv_journal_t *j = h->data;
    if (--j->open_timers)
        return;
    if (j->syncing)
        j->closed = 2; /* on_fsynced frees */
    else
        free(j);
}

int srv_journal_flush(srv_server_t *s)
{
    if (!s->journal)
        return 1;
    return fdatasync(s->journal->fd) < 0 ? -1 : 0;
}

void srv_journal_close(srv_server_t *s, int empty)
{
    srv_journal_t *j = s->journal;
    if (!j)
        return;
    s->journal = NULL;
    j->closed = 1;
    if (empty && ftruncate(j->fd, 0) == 0) {
        srv_log(SRV_LOG_INFO, "journal %s emptied: every session is in its checkpoint", j->path);
        if (j->old_exists && unlink(j->old_path) < 0 && errno != ENOENT)
            srv_log(SRV_LOG_ERROR, "remove %s: %s", j->old_path, strerror(errno));
    }
    if (fdatasync(j->fd) < 0)
        srv_log(SRV_LOG_ERROR, "journal fdatasync: %s", strerror(errno));
    close(j->fd); /* an everysec fdatasync still in flight fails with EBADF: harmless */
    uv_timer_stop(&j->snap_timer);
    j->open_timers = 2;
    uv_close((uv_handle_t *)&j->snap_timer, on_timer_closed);
    uv_timer_stop(&j->timer);
    uv_close((uv_handle_t *)&j->timer, on_timer_closed);
}

int srv_journal_append(srv_server_t *s, srv_session_t *sess, json_t *rec)
{
    srv_journal_t *j = s->journal;
    if (!j || !rec) {
        json_decref(rec);
        return j ? -1 : 0;
    }
    uint64_t lsn = j->next_lsn;
    json_object_set_new(rec, "lsn", json_integer((json_int_t)lsn));
    char *text = json_dumps(rec, JSON_COMPACT);
    json_decref(rec);
    if (!text)
        return -1;
    size_t len = strlen(text);
    unsigned char hdr[8];
    put32(hdr, (uint32_t)len);
    put32(hdr + 4, crc32_of((const unsigned char *)text, len));
    struct iovec iov[2] = {{hdr, 8}, {text, len}};
    ssize_t want = (ssize_t)(8 + len), w;
    do
        w = writev(j->fd, iov, 2);
    while (w < 0 && errno == EINTR);
    free(text);
    if (w != want) {
        srv_log(SRV_LOG_ERROR, "journal %s: write of record %" PRIu64 ": %s", j->path, lsn,
                w < 0 ? strerror(errno) : "short write");
        if (w > 0) { /* take the partial record back: the next one must start clean */
            off_t end = lseek(j->fd, 0, SEEK_CUR);
            if (end >= w && ftruncate(j->fd, end - w) == 0)
                lseek(j->fd, end - w, SEEK_SET);
        }
        return -1;
    }
    if (j->policy == 2 && fdatasync(j->fd) < 0) {
        srv_log(SRV_LOG_ERROR, "journal fdatasync: %s", strerror(errno));
        return -1;
    }
    j->dirty = 1;
    j->next_lsn++;
    if (sess)
        sess->lsn = lsn;
    return 0;
}

int srv_journal_step(srv_session_t *sess, uint64_t from, uint64_t to)
{
    if (!sess->srv->journal || to == from)
        return 0;
    return srv_journal_append(sess->srv, sess,
                              json_pack("{s:s, s:s, s:I, s:I}", "op", "step", "s", sess->name,
                                        "from", (json_int_t)from, "to", (json_int_t)to));
}

int srv_journal_inject(srv_session_t *sess, const sk_inject_t *inj, uint32_t n)
{
    if (!sess->srv->journal || !n)
        return 0;
    json_t *items = json_array();
    for (uint32_t k = 0; items && k < n; k++)
        json_array_append_new(items, json_pack("[i, I, i, I, I, f]", (int)inj[k].kind,
                                               (json_int_t)inj[k].pop, (int)inj[k].channel,
                                               (json_int_t)inj[k].neuron, (json_int_t)inj[k].step,
                                               (double)inj[k].value));
    return srv_journal_append(sess->srv, sess,
                              items ? json_pack("{s:s, s:s, s:o}", "op", "inject", "s", sess->name,
                                                "i", items)
                                    : NULL);
}

void srv_journal_rounds(const srv_server_t *s, uint64_t *rounds, uint64_t *done)
{
    *rounds = s->journal ? s->journal->rounds : 0;
    *done = s->journal ? s->journal->rounds_done : 0;
}

void srv_journal_stats(const srv_server_t *s, uint64_t *replayed, uint64_t *errors,
                       uint64_t *torn_bytes)
{
    const srv_journal_t *j = s->journal;
    *replayed = j ? j->replayed : 0;
    *errors = j ? j->errors : 0;
    *torn_bytes = j ? j->torn_bytes : 0;
}
