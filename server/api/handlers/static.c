/* static.c: the dashboard's files (clients/web/) at / and below.
 *
 * The folder is fixed at start (--static-dir, else clients/web next to the binary's
 * install prefix or in the source tree). A request path is percent-decoded, must consist of
 * segments of [A-Za-z0-9._-] not starting with '.', and is resolved with realpath, which
 * must stay inside the folder: no directory traversal, no hidden files, no symlinks out.
 * Files up to 16 MiB, read on the loop thread (they are small); content type by extension.
 * Static files need no token (they hold no data); the API they call does.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/handlers/common.h"

#define MAX_FILE (16u << 20)

static const struct {
    const char *ext, *type;
} types[] = {
    {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
    {".json", "application/json"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
    {".ico", "image/x-icon"}, {".txt", "text/plain; charset=utf-8"},
    {".map", "application/json"}, {".wasm", "application/wasm"}, {".woff2", "font/woff2"},
};

static const char *content_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(dot, types[i].ext))
            return types[i].type;
    return "application/octet-stream";
}

/* 1 if every segment of rel is [A-Za-z0-9._-]+ and does not start with '.'. */
static int safe_relative(const char *rel)
{
    int seg_start = 1;
    for (const char *p = rel; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '/') {
            if (seg_start)
                return 0; /* empty segment */
            seg_start = 1;
            continue;
        }
        if (seg_start && c == '.')
            return 0;
        if (!isalnum(c) && c != '.' && c != '_' && c != '-')
            return 0;
        seg_start = 0;
    }
    return !seg_start || !*rel;
}

int srv_static_serve(srv_server_t *s, srv_req_t *rq, srv_resp_t *rs)
{
    const char *root = s->cfg.static_dir;
    char rel[1024], full[PATH_MAX + 1100], real[PATH_MAX];
    if (!root[0] || srv_url_decode(rq->path + 1, strlen(rq->path + 1), rel, sizeof rel, 0) < 0)
        return -1;
    if (!rel[0] || rel[strlen(rel) - 1] == '/')
        strncat(rel, "index.html", sizeof rel - strlen(rel) - 1);
    if (!safe_relative(rel))
        return -1;
    snprintf(full, sizeof full, "%s/%s", root, rel);
    size_t rl = strlen(root);
    if (!realpath(full, real) || strncmp(real, root, rl) || real[rl] != '/')
        return -1;
    char *body = NULL;
    size_t len = 0;
    if (srv_read_file(real, MAX_FILE, &body, &len) < 0)
        return -1;
    srv_resp_take(rs, 200, content_type(real), body, len);
    srv_resp_header(rs, "Cache-Control", "no-cache");
    srv_resp_header(rs, "X-Content-Type-Options", "nosniff");
    return SRV_DONE;
}

int h_static_index(srv_server_t *s, srv_req_t *rq, srv_resp_t *rs)
{
    if (srv_static_serve(s, rq, rs) == SRV_DONE)
        return SRV_DONE;
    srv_resp_error(rs, 404, "not_found", "", "no dashboard installed (clients/web not found)");
    return SRV_DONE;
}
