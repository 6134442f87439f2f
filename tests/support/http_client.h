/* http_client.h: a small blocking HTTP/1.1 client over a raw socket, for the server's
 * end-to-end tests: one request/response at a time on a keep-alive connection
 * (Content-Length or chunked bodies), and a Server-Sent Events reader (chunked stream,
 * events parsed line by line). Every read has a deadline: a test never hangs on a silent
 * server, it fails.
 */
#ifndef SPIKED_TEST_HTTP_CLIENT_H
#define SPIKED_TEST_HTTP_CLIENT_H

#include <stddef.h>

typedef struct hc_conn {
    int fd;
    char buf[1 << 16];
    size_t have, off; /* buffered bytes: buf[off..have) */
    int head;         /* the last request was HEAD: its response has no body */
} hc_conn_t;

typedef struct hc_resp {
    int status;
    char headers[8192]; /* raw header lines, "\r\n"-separated */
    char *body;         /* NUL-terminated (malloc) */
    size_t len;
} hc_resp_t;

/* 0 or -1. */
int hc_connect(hc_conn_t *c, int port);
/* SO_RCVBUF of the connections opened from now on (0 = the system default): a small one
 * makes a subscriber that does not read back-pressure the server quickly. */
void hc_set_rcvbuf(int bytes);
void hc_close(hc_conn_t *c);
/* headers: extra "Name: value\r\n" lines or NULL. body may be NULL. */
int hc_send(hc_conn_t *c, const char *method, const char *path, const char *headers,
            const char *body, size_t len);
/* Reads one whole response. 0, or -1 on timeout, error or close. */
int hc_recv(hc_conn_t *c, hc_resp_t *r, int timeout_ms);
/* Sends raw bytes as they are (malformed requests). */
int hc_send_raw(hc_conn_t *c, const char *bytes, size_t len);

/* connect + send + recv + close (10 s timeout). */
int hc_request(int port, const char *method, const char *path, const char *headers,
               const char *body, hc_resp_t *r);
/* The value of header name (case-insensitive) copied into out, or NULL. */
const char *hc_header(const hc_resp_t *r, const char *name, char *out, size_t cap);
void hc_resp_free(hc_resp_t *r);

/* ---- Server-Sent Events ---- */

typedef struct hc_sse {
    hc_conn_t c;
    int status;
    int chunked;
    size_t chunk_left;
    int eof;
    char *dec; /* decoded body bytes not yet consumed (malloc, grows) */
    size_t dec_have, dec_cap;
    unsigned long comments; /* ": ping" lines seen */
} hc_sse_t;

typedef struct hc_event {
    char id[64];
    char event[64];
    char *data; /* malloc, NUL-terminated ("" for none) */
} hc_event_t;

/* Opens a stream (GET path); *status = HTTP status. 0 when the stream is open (200), -1
 * otherwise (the connection is closed then; with a non-200 status). Heap-allocates *out. */
int hc_sse_open(hc_sse_t **out, int port, const char *path, const char *headers, int *status);
/* Next event: 1, 0 on timeout, -1 at the end of the stream or on error. Comment lines are
 * counted in s->comments, never returned. */
int hc_sse_next(hc_sse_t *s, hc_event_t *ev, int timeout_ms);
void hc_event_free(hc_event_t *ev);
void hc_sse_close(hc_sse_t *s);

/* Milliseconds of a monotonic clock. */
long long hc_now_ms(void);

#endif
