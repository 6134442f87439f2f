/* ckpt_store.c: atomic checkpoint files and restore on start (see ckpt_store.h).
 *
 * Threads: srv_ckpt_write runs on pool threads (several sessions may save at once). The
 * test-only write faults live in fault.c.
 */
#include "engine/ckpt_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fault.h"
#include "base/log.h"
#include "engine/registry.h"

#define SUFFIX ".ckpt"

/* The server's header before the core's checkpoint bytes (issue 17): 8 bytes of magic, then
 * the little-endian LSN of the last journal record the checkpoint holds (journal.h). A file
 * without it (written before the journal existed) restores with LSN 0: every journal
 * record of its session is newer. */
#define HDR_MAGIC "SKSRVJ01"
#define HDR_LEN   16u

/* Orders "check deleted + rename" (pool) against "set deleted + unlink" (loop). */
static pthread_mutex_t rename_lock = PTHREAD_MUTEX_INITIALIZER;

int srv_ckpt_dir_init(const char *dir, char *err, size_t len)
{
    struct stat st;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        snprintf(err, len, "--data-dir %s: %s", dir, strerror(errno));
        return -1;
    }
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || access(dir, W_OK) < 0) {
        snprintf(err, len, "--data-dir %s: not a writable directory", dir);
        return -1;
    }
    return 0;
}

static int write_all(int fd, const char *p, size_t n, const srv_fault_ckpt_t *f)
{
    size_t done = 0;
    while (done < n) {
        size_t chunk = n - done;
        if (f && done < f->at && f->at < n && chunk > f->at - done)
            chunk = (size_t)(f->at - done); /* stop exactly at the fault's offset */
        if (f && done == f->at) {
            if (srv_fault_ckpt_strike(f) < 0)
                return -1;
            f = NULL;
            continue;
        }
        ssize_t w = write(fd, p + done, chunk);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return -1;
        }
        done += (size_t)w;
    }
    if (f && srv_fault_ckpt_strike(f) < 0) /* offset at or past the end: after the data */
        return -1;
    return 0;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int srv_ckpt_write(const char *dir, const char *name, const void *buf, size_t len,
                   atomic_int *deleted, char *path, size_t path_cap, char *err, size_t errlen,
                   int *sys_errno)
{
    char tmp[1024];
    *sys_errno = 0;
    const srv_fault_ckpt_t *f = srv_fault_ckpt_next();
    snprintf(path, path_cap, "%s/%s" SUFFIX, dir, name);
    snprintf(tmp, sizeof tmp, "%s/.%s" SUFFIX ".XXXXXX", dir, name);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        *sys_errno = errno;
        snprintf(err, errlen, "create %s: %s", tmp, strerror(errno));
        return -1;
    }
    if (write_all(fd, buf, len, f) < 0 || fsync(fd) < 0) {
        *sys_errno = errno;
        snprintf(err, errlen, "write %s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return -1;
    }
    if (close(fd) < 0) {
        *sys_errno = errno;
        snprintf(err, errlen, "close %s: %s", tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }
    pthread_mutex_lock(&rename_lock);
    int gone = atomic_load(deleted);
    int rc = gone ? unlink(tmp) : rename(tmp, path);
    int saved = errno;
    pthread_mutex_unlock(&rename_lock);
    if (rc < 0 || gone) {
        *sys_errno = gone ? 0 : saved;
        snprintf(err, errlen, gone ? "session deleted while saving" : "rename to %s: %s", path,
                 strerror(saved));
        if (!gone)
            unlink(tmp);
        return -1;
    }
    if (fsync_dir(dir) < 0) {
        *sys_errno = errno;
        snprintf(err, errlen, "fsync %s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

void srv_ckpt_remove(const char *dir, const char *name, atomic_int *deleted)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s" SUFFIX, dir, name);
    pthread_mutex_lock(&rename_lock);
    atomic_store(deleted, 1);
    int rc = dir[0] ? unlink(path) : 0;
    int saved = errno;
    pthread_mutex_unlock(&rename_lock);
    if (rc < 0 && saved != ENOENT)
        srv_log(SRV_LOG_WARN, "remove %s: %s", path, strerror(saved));
}

/* ---- restore on start ---- */

/* A checkpoint that does not restore stays where it is, untouched: it is logged, counted
 * (spiked_checkpoints_rejected_total) and its name held (registry.h), so no create or fork
 * reuses the name and no save overwrites the file; GET /healthz lists it. */
static void hold(srv_server_t *s, const char *name, const char *path, const char *why)
{
    s->metrics.checkpoints_rejected++;
    srv_log(SRV_LOG_ERROR,
            "checkpoint %s: %s; NOT restored, kept as it is, and the name %s is refused until "
            "the file is moved away (GET /healthz lists it)",
            path, why, name);
    if (srv_registry_hold(s->reg, name))
        srv_log(SRV_LOG_ERROR, "out of memory holding the name %s", name);
}

static int restore_one(srv_server_t *s, const char *dir, const char *file)
{
    char path[1024], name[SRV_NAME_MAX + 8];
    size_t fl = strlen(file), sl = strlen(SUFFIX);
    if (fl <= sl || fl - sl > SRV_NAME_MAX)
        return 0;
    memcpy(name, file, fl - sl);
    name[fl - sl] = '\0';
    snprintf(path, sizeof path, "%s/%s", dir, file);
    if (!srv_name_valid(name)) {
        srv_log(SRV_LOG_WARN, "checkpoint %s: not a session name; skipped", path);
        return 0;
    }
    char *buf = NULL;
    size_t len = 0;
    if (srv_read_file(path, UINT64_MAX, &buf, &len) < 0) {
        hold(s, name, path, strerror(errno));
        return 0;
    }
    sk_proto_caps_t caps; /* the ceilings a create gets: a checkpoint above them is refused */
    srv_session_caps(s, &caps);
    sk_net_t *net = NULL;
    sk_err_t err = {0};
    uint64_t lsn = 0;
    size_t skip = 0;
    if (len >= HDR_LEN && !memcmp(buf, HDR_MAGIC, 8)) {
        for (int k = 7; k >= 0; k--)
            lsn = lsn << 8 | (unsigned char)buf[8 + k];
        skip = HDR_LEN;
    }
    int rc = sk_net_restore(buf + skip, len - skip, &caps.max_limits, &net, &err);
    free(buf);
    if (rc) {
        char why[300];
        snprintf(why, sizeof why, "%s (%s)", sk_strerror(rc), err.msg);
        hold(s, name, path, why);
        return 0;
    }
    sk_net_info_t ni;
    sk_net_info(net, &ni);
    rc = srv_registry_admit(s->reg, name, ni.bytes);
    if (rc) {
        char why[300];
        snprintf(why, sizeof why, "%s (%.4g MB; --max-memory %.4g MB, %.4g MB in use)",
                 rc == SK_ELIMIT ? "above --max-sessions" : rc == SK_EEXIST ? "name taken"
                                                                            : "above --max-memory",
                 (double)ni.bytes / 1e6, (double)s->reg->mem_max / 1e6,
                 (double)s->reg->mem_used / 1e6);
        sk_net_destroy(net);
        hold(s, name, path, why);
        return 0;
    }
    srv_session_t *sess = NULL;
    if (srv_session_create(s, name, net, &sess) || srv_registry_add(s->reg, sess)) {
        if (sess)
            srv_session_unref(sess);
        hold(s, name, path, "out of memory adding the session");
        return 0;
    }
    sess->lsn = sess->ckpt_lsn = lsn;
    srv_log(SRV_LOG_INFO, "restored session %s at step %" PRIu64 " (journal LSN %" PRIu64 ") from %s",
            name, sess->step, lsn, path);
    srv_session_lifecycle(sess, "restored", NULL);
    return 1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int srv_ckpt_restore_all(srv_server_t *s)
{
    const char *dir = s->cfg.data_dir;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    char **names = NULL; /* every checkpoint, however many (no fixed table) */
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 256;
            char **nn = realloc(names, nc * sizeof *nn);
            if (!nn) {
                srv_log(SRV_LOG_ERROR, "%s: out of memory listing checkpoints", dir);
                break;
            }
            names = nn;
            cap = nc;
        }
        size_t l = strlen(e->d_name), sl = strlen(SUFFIX);
        if (e->d_name[0] == '.' && strstr(e->d_name, SUFFIX ".")) { /* stale temporary */
            char p[1024];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        } else if (l > sl && !strcmp(e->d_name + l - sl, SUFFIX) && (names[n] = strdup(e->d_name)))
            n++;
    }
    closedir(d);
    qsort(names, n, sizeof names[0], cmp_str);
    int restored = 0;
    for (size_t i = 0; i < n; i++) {
        restored += restore_one(s, dir, names[i]);
        free(names[i]);
    }
    free(names);
    return restored;
}

/* ---- the checkpoint operation ---- */

typedef struct ckpt_op {
    srv_op_t op;
    int rc, sys_errno;
    uint64_t bytes, step, lsn;
    char path[1024];
    char err[300];
    int ok;
    void (*done)(void *arg, int ok); /* snapshot rounds: called from destroy */
    void *done_arg;
} ckpt_op_t;

static int ckpt_start(srv_op_t *op)
{
    if (!op->sess->srv->cfg.data_dir[0]) {
        srv_session_answer_error(op->rq, 409, "conflict",
                                 "the server has no data directory (--data-dir)");
        op->rq = NULL;
        return SRV_OP_DONE;
    }
    ((ckpt_op_t *)op)->lsn = op->sess->lsn; /* serial: nothing changes it until work ends */
    return SRV_OP_WORK;
}

static void ckpt_work(srv_op_t *op)
{
    ckpt_op_t *c = (ckpt_op_t *)op;
    srv_session_t *sess = op->sess;
    sk_net_info_t ni;
    sk_net_info(sess->net, &ni);
    c->step = ni.step;
    uint64_t cap = sk_net_checkpoint_size(sess->net);
    unsigned char *buf = cap <= SIZE_MAX - HDR_LEN ? malloc((size_t)cap + HDR_LEN) : NULL;
    if (!buf) {
        c->rc = -1;
        snprintf(c->err, sizeof c->err, "out of memory for %" PRIu64 " bytes", cap);
        return;
    }
    memcpy(buf, HDR_MAGIC, 8);
    for (int k = 0; k < 8; k++)
        buf[8 + k] = (unsigned char)(c->lsn >> (8 * k));
    int rc = sk_net_checkpoint(sess->net, buf + HDR_LEN, cap, &c->bytes);
    if (!rc)
        c->bytes += HDR_LEN;
    if (rc) {
        c->rc = -1;
        snprintf(c->err, sizeof c->err, "serialising: %s", sk_strerror(rc));
    } else {
        c->rc = srv_ckpt_write(sess->srv->cfg.data_dir, sess->name, buf, (size_t)c->bytes,
                               &sess->deleted, c->path, sizeof c->path, c->err, sizeof c->err,
                               &c->sys_errno);
    }
    free(buf);
}

static int ckpt_after(srv_op_t *op, int status)
{
    ckpt_op_t *c = (ckpt_op_t *)op;
    srv_metrics_t *m = &op->sess->srv->metrics;
    if (status < 0 || c->rc < 0) {
        m->checkpoints_failed++;
        srv_log(SRV_LOG_ERROR, "checkpoint of %s failed: %s", op->sess->name,
                status < 0 ? uv_strerror(status) : c->err);
        int full = status >= 0 && (c->sys_errno == ENOSPC || c->sys_errno == EDQUOT);
        srv_session_answer_error(op->rq, full ? 507 : 500, full ? "insufficient_storage" : "internal",
                                 "checkpoint failed (the previous one is kept): %s",
                                 status < 0 ? uv_strerror(status) : c->err);
    } else {
        m->checkpoints_written++;
        c->ok = 1;
        if (c->lsn > op->sess->ckpt_lsn)
            op->sess->ckpt_lsn = c->lsn;
        srv_session_answer_json(op->rq, 200,
                                json_pack("{s:I, s:I, s:s}", "step", (json_int_t)c->step, "bytes",
                                          (json_int_t)c->bytes, "path", c->path));
    }
    op->rq = NULL;
    return SRV_OP_DONE;
}

static void ckpt_abort(srv_op_t *op, int status, const char *code)
{
    srv_session_answer_error(op->rq, status, code, "session closed before the checkpoint");
    op->rq = NULL;
}

static void ckpt_destroy(srv_op_t *op)
{
    ckpt_op_t *c = (ckpt_op_t *)op;
    if (c->done)
        c->done(c->done_arg, c->ok);
    free(op);
}

static const srv_op_vt_t ckpt_vt = {"checkpoint", ckpt_start, ckpt_work, ckpt_after, ckpt_abort,
                                    ckpt_destroy, NULL, NULL};

srv_op_t *srv_ckpt_op_new(srv_req_t *rq)
{
    ckpt_op_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->op.vt = &ckpt_vt;
    c->op.rq = rq;
    return &c->op;
}

srv_op_t *srv_ckpt_op_snapshot(void (*done)(void *arg, int ok), void *arg)
{
    srv_op_t *op = srv_ckpt_op_new(NULL);
    if (op) {
        ((ckpt_op_t *)op)->done = done;
        ((ckpt_op_t *)op)->done_arg = arg;
    }
    return op;
}
