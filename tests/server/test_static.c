/* test_static.c: the dashboard folder served at /: index.html at /, assets with their
 * content types, no directory traversal (.., encoded .., hidden files, symlinks out), and
 * no token needed for the files (the API they call needs it). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"

/* One timeout for every test of the file: Criterion 2.4.1 leaks in its runner when
 * tests with different timeouts run in parallel. */
TestSuite(static_files, .timeout = 90);

static void put(const char *dir, const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

static void expect(int port, const char *path, int status, const char *type, const char *body)
{
    hc_resp_t r;
    cr_assert_eq(hc_request(port, "GET", path, NULL, NULL, &r), 0);
    cr_assert_eq(r.status, status, "%s: %d", path, r.status);
    char v[128];
    if (type)
        cr_assert_str_eq(hc_header(&r, "Content-Type", v, sizeof v), type, "%s", path);
    if (body)
        cr_assert_str_eq(r.body, body, "%s", path);
    hc_resp_free(&r);
}

Test(static_files, served_typed_and_contained)
{
    char root[128], web[256], sub[300], secret[300], link[300];
    t_tmpdir(root, sizeof root);
    snprintf(web, sizeof web, "%s/web", root);
    snprintf(sub, sizeof sub, "%s/css", web);
    cr_assert_eq(mkdir(web, 0700), 0);
    cr_assert_eq(mkdir(sub, 0700), 0);
    put(web, "index.html", "<h1>spiked</h1>");
    put(web, "app.js", "console.log(1)");
    put(sub, "a.css", "body{}");
    put(web, ".env", "SECRET");
    put(root, "secret.txt", "SECRET");
    snprintf(secret, sizeof secret, "%s/secret.txt", root);
    snprintf(link, sizeof link, "%s/out.txt", web);
    cr_assert_eq(symlink(secret, link), 0);
    sp_proc_t p;
    const char *args[] = {"--static-dir", web, NULL};
    const char *env[] = {"SPIKED_TOKEN=tok", NULL};
    cr_assert_eq(sp_start(&p, args, env), 0);
    expect(p.port, "/", 200, "text/html; charset=utf-8", "<h1>spiked</h1>");
    expect(p.port, "/index.html", 200, "text/html; charset=utf-8", "<h1>spiked</h1>");
    expect(p.port, "/app.js", 200, "text/javascript; charset=utf-8", "console.log(1)");
    expect(p.port, "/css/a.css", 200, "text/css; charset=utf-8", "body{}");
    const char *no[] = {"/../secret.txt", "/%2e%2e/secret.txt", "/css/../../secret.txt",
                        "/.env", "/%2eenv", "/out.txt", "/nope.js", "/css//a.css",
                        "/app.js%00"};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        expect(p.port, no[i], 404, "application/json", NULL);
    /* the API still needs the token */
    expect(p.port, "/v1/sessions", 401, "application/json", NULL);
    t_stop(&p);
    unlink(link);
    t_rmdir(sub);
    t_rmdir(web);
    t_rmdir(root);
}

Test(static_files, off_without_a_folder)
{
    sp_proc_t p;
    const char *args[] = {"--static-dir", "-", NULL};
    t_start(&p, args);
    expect(p.port, "/", 404, "application/json", NULL);
    t_stop(&p);
}
