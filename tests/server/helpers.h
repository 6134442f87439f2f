/* helpers.h: shared pieces of the server's end-to-end tests: a server process per test,
 * JSON requests, session creation, and waiting with a deadline (never a bare sleep).
 */
#ifndef SPIKED_TEST_SERVER_HELPERS_H
#define SPIKED_TEST_SERVER_HELPERS_H

#include <jansson.h>

#include "http_client.h"
#include "spiked_proc.h"

/* Starts a server (args NULL-terminated, may be NULL); the test fails if it cannot. */
void t_start(sp_proc_t *p, const char *const *args);
/* SIGTERM and expect exit status 0 within 10 s. */
void t_stop(sp_proc_t *p);

/* A JSON request: returns the parsed body (NULL when empty or not JSON); *status = HTTP
 * status. headers: extra header lines or NULL. body: JSON text or NULL. */
json_t *t_req(int port, const char *method, const char *path, const char *body, int *status);
json_t *t_req_h(int port, const char *method, const char *path, const char *headers,
                const char *body, int *status);
/* Expects status and returns the body. */
json_t *t_ok(int port, const char *method, const char *path, const char *body, int status);
/* Expects an error {"error":{status, code, path, message}} with this status and code (and
 * this path unless NULL). */
void t_error(int port, const char *method, const char *path, const char *body, int status,
             const char *code, const char *err_path);

/* A network of one lif population of n neurons fed by Poisson input with recurrent
 * connections (seeded): the JSON body of POST /v1/sessions. Static buffer. */
const char *t_net_lif(const char *name, int n, int seed);
/* Creates it (expects 201). */
void t_create(int port, const char *name, int n, int seed);

/* Steps a session synchronously (expects 200). */
json_t *t_step(int port, const char *name, long steps, int return_spikes);

/* Every spike of [from, to) as "step:pop:id" lines, ascending, following pages. malloc. */
char *t_spikes_text(int port, const char *name, long from, long to);
/* Appends the spikes of a batch or page's "spikes" array to text (malloc, grows). */
void t_spikes_append(char **text, size_t *len, const json_t *spikes);

/* A unique temporary directory (created); static buffer per call site. */
/* The value of an unlabelled metric in GET /metrics, or -1 when it is absent. */
long t_metric(int port, const char *name);

void t_tmpdir(char *out, size_t cap);
void t_rmdir(const char *dir);

#endif
