/* proto.h: the spiked HTTP API contract in C: JSON request bodies and query strings decoded
 * into core structures (sk_net.h), core results encoded as JSON, and errors that name the
 * offending field ("network.populations[2].params.tau_mem_inv").
 *
 * The contract itself is proto/openapi.yaml (embedded: sk_proto_openapi_json) with the JSON
 * Schemas of proto/schema/ (sk_proto_schema). This layer has no sockets, threads, clock or
 * files; the server (server/) does all I/O and calls in here.
 *
 * Conventions (docs/STYLE.md section 3).
 * - Functions return 0 or a negative SK_E* code; results go through the last pointer
 *   arguments. A failed call leaves its outputs untouched (or NULL) and fills the optional
 *   sk_proto_error_t (may be NULL) with the HTTP status, a machine code, the field path and a
 *   sentence.
 * - JSON values: `json_t *` results are NEW references (release with json_decref); `const
 *   json_t *` arguments are borrowed and never modified.
 * - Memory returned as `char *`, `sk_inject_t *` is malloc'd: release with free().
 *   Objects with a `_decode`/`_free` or `_init`/`_close` pair are released with that pair.
 * - Nothing here names a model: parameters, state variables and input channels come from the
 *   model descriptors (sk_model.h) through the registry.
 *
 * Thread safety. Every function is reentrant: no mutable globals (the embedded contract and
 * the model registry are constant). Functions that read an sk_net_t must not run while
 * another thread steps or changes that network (the server serialises a session's ops).
 */
#ifndef SPIKED_PROTO_H
#define SPIKED_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "spiked/sk_error.h"
#include "spiked/sk_model.h"
#include "spiked/sk_net.h"
#include "spiked/sk_synapse.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SK_PROTO_NAME_MAX 64  /* session and population names: [A-Za-z0-9_-]{1,64} */
#define SK_PROTO_PATH_MAX 192 /* bytes of an error path, NUL included (truncated to fit) */
#define SK_PROTO_MSG_MAX  256 /* bytes of an error message, NUL included (truncated to fit) */

/* =======================================================================================
 * Errors. Every error response body is
 *   {"error": {"status": 400, "code": "invalid_field", "path": "network.populations[2].size",
 *              "message": "must be an integer in [1, 4294967295] (got 0)"}}
 * with path "" when the error is not about one field.
 * ===================================================================================== */

/* Machine codes (the `code` member; static strings, compare with strcmp). */
#define SK_PROTO_INVALID_JSON   "invalid_json"   /* 400: not JSON, trailing data, too deep */
#define SK_PROTO_WRONG_TYPE     "wrong_type"     /* 400: a field of the wrong JSON type */
#define SK_PROTO_MISSING_FIELD  "missing_field"  /* 400: a required field is absent */
#define SK_PROTO_UNKNOWN_FIELD  "unknown_field"  /* 400: a field the API does not define */
#define SK_PROTO_INVALID_FIELD  "invalid_field"  /* 400: a bad value: range, name, reference */
#define SK_PROTO_LIMIT_EXCEEDED "limit_exceeded" /* 413: a size above a configured limit */
#define SK_PROTO_NOT_FOUND      "not_found"      /* 404 */
#define SK_PROTO_CONFLICT       "conflict"       /* 409: already exists, busy, canceled */
#define SK_PROTO_UNAVAILABLE    "unavailable"    /* 503: out of memory */
#define SK_PROTO_INTERNAL       "internal"       /* 500: corrupt data, unexpected failure */

typedef struct sk_proto_error {
    int status;                      /* HTTP status, 400..599 */
    const char *code;                /* one of the SK_PROTO_* codes above (static) */
    char path[SK_PROTO_PATH_MAX];    /* "network.projections[0].rule.p", or "" */
    char message[SK_PROTO_MSG_MAX];  /* "must be in [0, 1] (got 2)" */
} sk_proto_error_t;

/* Fills *e (no-op when e is NULL). code must be a static string; path may be NULL (""). */
void sk_proto_error_set(sk_proto_error_t *e, int status, const char *code, const char *path,
                        const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* The one table from SK_E* codes to HTTP: status and machine code of a core return code
 * (EINVAL/ERANGE/EOVERFLOW 400 invalid_field, ENOENT 404 not_found, ELIMIT 413
 * limit_exceeded, EEXIST/EBUSY/ECANCELED 409 conflict, ENOMEM 503 unavailable, ECORRUPT,
 * EVERSION and anything else 500 internal). */
int sk_proto_http_status(int rc);
const char *sk_proto_error_code(int rc);

/* Turns a failed core call into *e: status and code from the table, except that a detail
 * naming a field (non-empty detail->path) with EINVAL/ERANGE/ENOENT/EOVERFLOW is a 400
 * invalid_field (a bad reference inside a request body is the client's error, not a 404).
 * path = prefix + detail->path ("network" + "projections[0].rule.p" ->
 * "network.projections[0].rule.p"); message = detail->msg, or sk_strerror(rc) when detail is
 * NULL or empty. Use prefix "network" after sk_net_create, "params" after sk_net_set_params. */
void sk_proto_error_from_core(sk_proto_error_t *e, int rc, const sk_err_t *detail,
                              const char *prefix);

/* The error body {"error": {...}}: a new reference (NULL only when out of memory). */
json_t *sk_proto_error_json(const sk_proto_error_t *e);

/* The error body as compact JSON text, malloc'd (free()), *len (optional) = strlen. NULL
 * only when out of memory. */
char *sk_proto_error_body(const sk_proto_error_t *e, size_t *len);

/* =======================================================================================
 * Caps: the server's limits on what one request may ask for. A zero field means the default
 * written next to it; a NULL `const sk_proto_caps_t *` means every default.
 * ===================================================================================== */
typedef struct sk_proto_caps {
    sk_limits_t limits;       /* the per-session "limits" a session gets for those it does
                                 not request (0 = the core's default), and the ceilings of
                                 requested ones where max_limits sets none (0 = no ceiling) */
    sk_limits_t max_limits;   /* ceilings of the per-session "limits" a client may request,
                                 apart from the defaults (0 = the value in `limits`, if any):
                                 a request above one is a 413 limit_exceeded naming
                                 limits.<field>; a default above its ceiling is lowered to
                                 it. Needed where the ceiling must not become the default:
                                 spike_history, history_steps and max_record_values size
                                 buffers allocated when the network is built */
    uint32_t max_depth;       /* JSON nesting of a body; default 32 */
    uint32_t max_populations; /* per network; default 1024 */
    uint32_t max_projections; /* per network; default 4096 */
    uint32_t max_stimuli;     /* per network; default 4096 */
    uint32_t max_recorders;   /* per network; default 1024 */
    uint64_t max_steps;       /* per step request; default 10,000,000 */
    uint64_t max_inputs;      /* injections (one per neuron) per request; default 1,000,000 */
    uint64_t max_spikes;      /* spike ids per response: default and ceiling of `limit`;
                                 default 1,000,000 */
    uint64_t max_values;      /* floats per state or recordings response; default 10,000,000 */
} sk_proto_caps_t;

/* Writes the defaults into *caps (every field non-zero). */
void sk_proto_caps_default(sk_proto_caps_t *caps);

/* =======================================================================================
 * Request bodies
 * ===================================================================================== */

/* Parses a request body: one JSON object, duplicate keys rejected, nothing after it, nesting
 * at most caps->max_depth. *out is a new reference. Errors: 400 invalid_json (path "",
 * message with line and column) or 400 wrong_type when the top level is not an object. */
int sk_proto_parse(const void *body, size_t len, const sk_proto_caps_t *caps, json_t **out,
                   sk_proto_error_t *e);

/* Checks a session or population name: [A-Za-z0-9_-]{1,64} (names reach file names: never
 * '/', '.' or ".."). path names the field in the error (e.g. "name"). */
int sk_proto_name_check(const char *name, const char *path, sk_proto_error_t *e);

/* A decoded POST /v1/sessions body. Every pointer inside `spec` points into memory owned by
 * this object; nothing points into the JSON it came from. Read-only for the caller, except
 * that the server may set spec.seed when seed_given is 0. */
typedef struct sk_proto_session {
    char name[SK_PROTO_NAME_MAX + 1]; /* the session name */
    int seed_given;                   /* 0: no "seed" in the body (spec.seed is 0) */
    sk_net_spec_t spec;               /* dt_ms, seed, limits and the whole network */
    struct sk_proto_arena *arena_;    /* private: the storage of spec */
} sk_proto_session_t;

/* Decodes and validates a create-session body {name, seed?, dt?, network, limits?} against
 * the model descriptors and caps; *out is owned by the caller (sk_proto_session_free).
 * Checks what can be checked without building the network: types, required and unknown
 * fields, names, references between elements, parameter ranges and cross-field rules,
 * neuron ids, list lengths, sizes and their products against the limits. sk_net_create may
 * still refuse (e.g. memory estimate); map its error with sk_proto_error_from_core(e, rc,
 * &err, "network"). Defaults: dt 0.1 ms, seed 0 (seed_given = 0). */
int sk_proto_session_decode(const json_t *body, const sk_proto_caps_t *caps,
                            sk_proto_session_t **out, sk_proto_error_t *e);

/* Frees a decoded session. NULL is a no-op. */
void sk_proto_session_free(sk_proto_session_t *s);

/* What the decoders of per-session requests need to know about a network: its current
 * step, dt and populations. Build it with sk_proto_net_view_init, or by hand (tests). */
typedef struct sk_proto_pop_view {
    const char *name;
    const sk_model_t *model;
    uint32_t size;
} sk_proto_pop_view_t;

typedef struct sk_proto_net_view {
    uint64_t step;                    /* the next step the network will compute */
    double dt_ms;
    uint32_t n_pops;
    const sk_proto_pop_view_t *pops;  /* n_pops entries, description order */
    uint32_t n_stims, n_recs;
    sk_proto_pop_view_t *owned_;      /* private */
} sk_proto_net_view_t;

/* Fills *v from net (allocates the population table; release with sk_proto_net_view_close).
 * Names are borrowed from net: the view is valid until the network is destroyed; `step` is
 * a snapshot (take a new view after stepping). */
int sk_proto_net_view_init(sk_proto_net_view_t *v, const sk_net_t *net);
void sk_proto_net_view_close(sk_proto_net_view_t *v);

/* Index of the population called name in v, or SK_ENOENT. */
int sk_proto_view_pop(const sk_proto_net_view_t *v, const char *name);

/* POST /v1/sessions/{name}/inputs {inputs: [{population, kind: "current"|"spike", channel?,
 * neurons: [ids], values: [x...] | value: x, step? | offset?}]}: one sk_inject_t per
 * (entry, neuron), in order. step is absolute (>= v->step), offset relative to v->step
 * (default 0). *out is malloc'd (free()), *n its length (>= 1). Everything is validated here
 * (ids, channels, steps), so sk_net_inject can only refuse for its pending limit. */
int sk_proto_inputs_decode(const json_t *body, const sk_proto_net_view_t *v,
                           const sk_proto_caps_t *caps, sk_inject_t **out, uint32_t *n,
                           sk_proto_error_t *e);

/* POST /v1/sessions/{name}/step {steps | duration_ms, inputs?, return_spikes?, async?}. */
typedef struct sk_proto_step {
    uint64_t steps;       /* 1..caps->max_steps (duration_ms / dt, which must be a multiple);
                             more is a 413 limit_exceeded */
    int return_spikes;    /* include the spike list in the result (default 0) */
    int async;            /* answer 202 with a job at once (default 0) */
    sk_inject_t *inputs;  /* to queue before stepping (malloc'd), or NULL */
    uint32_t n_inputs;
} sk_proto_step_t;

/* Decodes a step body into *out (zeroed first); release with sk_proto_step_close. An empty
 * object is not valid: steps or duration_ms is required. */
int sk_proto_step_decode(const json_t *body, const sk_proto_net_view_t *v,
                         const sk_proto_caps_t *caps, sk_proto_step_t *out, sk_proto_error_t *e);
void sk_proto_step_close(sk_proto_step_t *s);

/* PATCH /v1/sessions/{name}/populations/{pop} {params: {name: value}}: parameter names and
 * single-field ranges are checked against model (cross-field rules are sk_net_set_params's;
 * map its error with prefix "params"). Names point into the model's static tables. */
typedef struct sk_proto_params {
    sk_param_t items[SK_MODEL_MAX_PARAMS];
    uint32_t n;
} sk_proto_params_t;
int sk_proto_params_decode(const json_t *body, const sk_model_t *model, sk_proto_params_t *out,
                           sk_proto_error_t *e);

/* POST /v1/sessions/{name}/fork {name}: the new session's name, checked. */
int sk_proto_fork_decode(const json_t *body, char name[SK_PROTO_NAME_MAX + 1],
                         sk_proto_error_t *e);

/* PATCH /v1/sessions/{name} {realtime}: settings of the session itself (not of its
 * network). realtime: 1 = model time follows wall time (the server steps the session on
 * its own, like the --demo session), 0 = it only steps when asked. Required. */
typedef struct sk_proto_session_patch {
    int realtime; /* 0 or 1 */
} sk_proto_session_patch_t;
int sk_proto_session_patch_decode(const json_t *body, sk_proto_session_patch_t *out,
                                  sk_proto_error_t *e);

/* PATCH /v1/sessions/{name}/projections/{index} {"synapse": {"params": {name: value}}}:
 * names and ranges from the projection's synapse model (syn: sk_net_proj_syn; NULL, a
 * static projection, is a 400 at "synapse"). lambda = 0 freezes stdp_synapse. Then
 * sk_net_set_syn_params (its error with prefix "synapse.params" is already in its path). */
typedef struct sk_proto_syn_params {
    sk_param_t items[SK_SYN_MAX_PARAMS];
    uint32_t n;
} sk_proto_syn_params_t;
int sk_proto_syn_params_decode(const json_t *body, const sk_synapse_t *syn,
                               sk_proto_syn_params_t *out, sk_proto_error_t *e);

/* PATCH /v1/sessions/{name}/projections/{index}/weights {weights: number | [number] |
 * {"uniform": [a, b]} | {"normal": [m, sd]} (+ "sign"), index?: [synapse index], first?:
 * synapse index, draw?: u32}: without index, synapses first.. (first default 0) to the end;
 * one weight sets all of them. Then sk_net_set_weights(net, proj, index, first, n, w, n_w),
 * or with has_dist sk_net_set_weights_dist(net, proj, index, first, n, &dist, draw) (sign
 * rules of the synapse model are checked there). Release with sk_proto_weights_close. */
typedef struct sk_proto_weights {
    uint64_t *index; /* malloc'd, n entries, or NULL */
    uint64_t first, n;
    double *w;       /* malloc'd, n_w entries (1 or n); NULL with has_dist */
    uint64_t n_w;
    int has_dist;    /* weights is a distribution */
    sk_dist_t dist;
    uint32_t draw;   /* default 0 */
} sk_proto_weights_t;
int sk_proto_weights_decode(const json_t *body, uint64_t n_synapses, sk_proto_weights_t *out,
                            sk_proto_error_t *e);
void sk_proto_weights_close(sk_proto_weights_t *w);

/* GET /v1/sessions/{name}/projections/{index}/connections?first=&count=: a page of columns
 * {projection, synapse, total, first, count, lost_updates, pre: [], post: [], delay: [],
 * weight: [], state: {Kplus: [], t_last: [], ...}} (connections as sk_net_conns orders them).
 * The binary form (Accept: application/octet-stream), little-endian: "SKCONN1\0", u64 total,
 * u64 first, u64 count, u32 n_state, u32 0, then u32 pre[count], u32 post[count],
 * u32 delay[count], f64 state[n_state][count] (state 0 = weight); *out is malloc'd. */
int sk_proto_connections_encode(const sk_net_t *net, uint32_t proj, uint64_t first,
                                uint64_t count, json_t **out);
int sk_proto_connections_binary(const sk_net_t *net, uint32_t proj, uint64_t first,
                                uint64_t count, void **out, size_t *len);

/* POST /v1/sessions/{name}/projections/{index}/weight_recorders {every, index?: [synapse
 * index], max_values?}: a weight recorder's spec for sk_net_wrec_add (which checks the
 * limits); release with sk_proto_wrec_close. GET .../weight_recorders/{id}?from_step=&to_step=
 * answers sk_proto_wrec_encode: {id, projection, every, synapses, capacity, samples_kept,
 * samples_dropped, first_kept_step (null: none), steps: [s], weights: [[w per synapse]]}. */
typedef struct sk_proto_wrec {
    sk_wrec_spec_t spec;
    uint64_t *index_; /* private: the storage of spec.index */
} sk_proto_wrec_t;
int sk_proto_wrec_decode(const json_t *body, uint32_t proj, uint64_t n_synapses,
                         sk_proto_wrec_t *out, sk_proto_error_t *e);
void sk_proto_wrec_close(sk_proto_wrec_t *w);
int sk_proto_wrec_encode(const sk_net_t *net, uint32_t id, uint64_t from, uint64_t to,
                         json_t **out);

/* PATCH /v1/sessions/{name}/stimuli/{index} {rate_hz}: finite, >= 0. */
int sk_proto_stimulus_patch_decode(const json_t *body, double *rate_hz, sk_proto_error_t *e);

/* =======================================================================================
 * Query strings. Keys and values are already percent-decoded (libmicrohttpd does it; or use
 * sk_proto_query_split). Unknown and repeated keys are errors (path "query.<key>").
 * ===================================================================================== */
typedef struct sk_proto_kv {
    const char *key;
    const char *value; /* "" for "key" or "key=" */
} sk_proto_kv_t;

/* Splits a raw query string ("a=1&b=x%2Cy") in place into at most cap pairs, decoding %XX
 * and '+'. Pointers in kv point into qs. Errors: bad %-escape, NUL escapes, more than cap. */
int sk_proto_query_split(char *qs, sk_proto_kv_t *kv, size_t cap, size_t *n, sk_proto_error_t *e);

/* Parses a whole unsigned decimal integer in [lo, hi] (no sign, no spaces, no overflow). */
int sk_proto_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);

/* Parses a neuron range of a population of `size` neurons: "a:b" (half-open), "a:" (to the
 * end), ":b", "a" (one neuron) or "" (all). Requires a < b <= size. */
int sk_proto_parse_range(const char *s, uint32_t size, uint32_t *first, uint32_t *count);

/* GET .../state?population=&variables=v,i&neurons=0:100 (population is required unless the
 * network has one; variables default to every state variable). */
typedef struct sk_proto_state_query {
    uint32_t pop;
    uint32_t n_vars;
    uint32_t vars[SK_MODEL_MAX_STATE]; /* state indices, in the order asked */
    uint32_t first, count;
} sk_proto_state_query_t;
int sk_proto_state_query_decode(const sk_proto_kv_t *kv, size_t n, const sk_proto_net_view_t *v,
                                const sk_proto_caps_t *caps, sk_proto_state_query_t *out,
                                sk_proto_error_t *e);

/* GET .../spikes?population=&from_step=&to_step=&limit= (defaults: every population, from
 * 0, to v->step, limit caps->max_spikes). to_step may not exceed v->step. */
typedef struct sk_proto_spikes_query {
    int32_t pop;    /* -1 = every population */
    uint64_t from, to;
    uint64_t limit; /* spike ids per response (at least one whole step is always returned) */
} sk_proto_spikes_query_t;
int sk_proto_spikes_query_decode(const sk_proto_kv_t *kv, size_t n, const sk_proto_net_view_t *v,
                                 const sk_proto_caps_t *caps, sk_proto_spikes_query_t *out,
                                 sk_proto_error_t *e);

/* GET .../recordings/{index}?from_step=&to_step=&limit= (limit counts samples; 0 when
 * absent: as many as fit in 10,000,000 values). */
typedef struct sk_proto_samples_query {
    uint64_t from, to;
    uint64_t limit;
} sk_proto_samples_query_t;
int sk_proto_samples_query_decode(const sk_proto_kv_t *kv, size_t n, const sk_proto_net_view_t *v,
                                  sk_proto_samples_query_t *out, sk_proto_error_t *e);

/* POST /v1/sessions?name= : optional; when given it must be a valid name equal to the
 * body's (body_name), else 400 with path "query.name". It lets a proxy route the create by
 * name without reading the body (README "Scale-out"). */
int sk_proto_create_query_decode(const sk_proto_kv_t *kv, size_t n, const char *body_name,
                                 sk_proto_error_t *e);

/* GET /v1/sessions?limit=&cursor= : limit in [1, max_limit] (default max_limit); cursor
 * the next_cursor of a previous page (an opaque positive integer; 0 when absent). */
int sk_proto_list_query_decode(const sk_proto_kv_t *kv, size_t n, uint64_t max_limit,
                               uint64_t *limit, uint64_t *cursor, sk_proto_error_t *e);

/* GET .../events?population= : pop = -1 for every population. */
int sk_proto_events_query_decode(const sk_proto_kv_t *kv, size_t n, const sk_proto_net_view_t *v,
                                 int32_t *pop, sk_proto_error_t *e);

/* =======================================================================================
 * Responses. Float32 values are written with the shortest decimal that reads back as the
 * same float32 (at most 9 significant digits); doubles with the shortest that reads back as
 * the same double; non-finite values as null. Use sk_proto_dumps for every response body:
 * json_dumps would print float32 values with 17 digits.
 * ===================================================================================== */

/* Compact JSON text of j, malloc'd (free()), *len (optional) = strlen; NULL when out of
 * memory. Key order is insertion order. */
char *sk_proto_dumps(const json_t *j, size_t *len);

/* A float32 value as JSON: a real, or null when not finite. New reference. */
json_t *sk_proto_float(float x);

/* GET /v1/models: {"models": [{name, summary, reference, time_unit, sign_split, inputs,
 * params: [{name, unit, default, minimum, maximum, exclusive_minimum, exclusive_maximum,
 * doc}], state: [{name, unit, doc}]}]}, from the registry only. Infinite bounds are null. */
json_t *sk_proto_models_json(void);
json_t *sk_proto_model_json(const sk_model_t *m);

/* A job (server-side): {id, state, done, total, steps_per_s, error?}. */
typedef struct sk_proto_job {
    uint64_t id;
    const char *state;   /* "queued" | "running" | "done" | "canceled" | "failed" */
    uint64_t done, total; /* steps */
    double steps_per_s;
    const char *error;   /* message when failed, or NULL */
} sk_proto_job_t;
json_t *sk_proto_job_json(const sk_proto_job_t *job);

/* Server-side fields of a session's info. */
typedef struct sk_proto_session_extra {
    const char *name;
    const char *status;        /* "idle" | "running" | ... (server's vocabulary) */
    const sk_proto_job_t *job; /* current job, or NULL */
    int realtime;              /* stepped in real time by the server (PATCH realtime) */
} sk_proto_session_extra_t;

/* GET /v1/sessions/{name}: {name, status, realtime, step, time_ms, dt, seed, n_neurons, n_synapses,
 * bytes, spikes_total, pending_inputs, populations: [{name, model, size, offset,
 * refractory_steps, spikes_total, params: {name: value}}], projections: [{source, target,
 * n_synapses, max_delay, storage, channel}], recorders: [{population, variables, n_neurons,
 * every, samples_kept, samples_dropped}], n_stimuli, job?}. */
int sk_proto_info_json(const sk_net_t *net, const sk_proto_session_extra_t *x, json_t **out);

/* Result of a step: {from_step, to_step, time_ms, spike_counts: {pop: n}, spikes?,
 * next_from_step?}. spikes_before: each population's spikes_total before the step (n_pops
 * values) so counts are exact however long the run; NULL counts from the spike history
 * (which may have dropped old steps). with_spikes adds the list (at most max_spikes ids, 0 =
 * caps default; when cut, next_from_step tells where GET .../spikes continues). */
int sk_proto_step_result_json(const sk_net_t *net, uint64_t from_step,
                              const uint64_t *spikes_before, int with_spikes,
                              uint64_t max_spikes, json_t **out);

/* GET .../state: {step, population, first, count, values: {var: [count floats]}}. */
int sk_proto_state_json(const sk_net_t *net, const sk_proto_state_query_t *q, json_t **out,
                        sk_proto_error_t *e);

/* GET .../spikes: {from_step, to_step, first_kept, spikes: [{step, population, ids}],
 * next_from_step?} where to_step is where this page ends. */
int sk_proto_spikes_json(const sk_net_t *net, const sk_proto_spikes_query_t *q, json_t **out,
                         sk_proto_error_t *e);

/* GET .../recordings/{rec}: {recorder, population, variables, neurons, every, from_step,
 * to_step, first_kept, samples: [{step, values: {var: [floats]}}], next_from_step?}. */
int sk_proto_samples_json(const sk_net_t *net, uint32_t rec, const sk_proto_samples_query_t *q,
                          json_t **out, sk_proto_error_t *e);

/* PATCH .../stimuli/{index} result: {index, rate_hz}. */
json_t *sk_proto_stimulus_json(uint32_t index, double rate_hz);

/* =======================================================================================
 * Server-Sent Events
 *   event: spikes     data: {from_step, to_step, t_ms, spikes: [{step, population, ids}]}
 *                     (t_ms = to_step * dt, the time at the end of the batch; id = to_step)
 *   event: progress   data: a job (sk_proto_job_json)
 *   event: lifecycle  data: {event: "created"|"reset"|"forked"|"restored"|"deleted", session,
 *                     step}
 *   event: dropped    data: {count, from_step, to_step, events?}: the spikes of `count`
 *                     steps in [from_step, to_step) this subscriber will not get (they left
 *                     the spike history before a slow reader reached them, or a reset
 *                     cleared it); events = other events lost (only when > 0)
 *   ": ping\n\n" heartbeat comments; "id:" is the last step covered, so a client resuming
 *   with Last-Event-ID gets the spikes from that step on (from the history).
 * ===================================================================================== */

/* The spikes of [from, to), population pop only (-1 = all), as one batch. */
int sk_proto_sse_spikes_json(const sk_net_t *net, uint64_t from, uint64_t to, int32_t pop,
                             json_t **out);
json_t *sk_proto_lifecycle_json(const char *event, const char *session, uint64_t step);
/* {count, from_step, to_step, events?}: from/to only when count > 0, events when > 0. */
json_t *sk_proto_dropped_json(uint64_t from_step, uint64_t to_step, uint64_t count,
                              uint64_t events);

/* One SSE event as text: "id: <id>\nevent: <event>\ndata: <compact json>\n\n" (no id line
 * when id is NULL). malloc'd (free()), *len (optional) = strlen; NULL when out of memory. */
char *sk_proto_sse_format(const char *event, const char *id, const json_t *data, size_t *len);

/* =======================================================================================
 * The contract, embedded at build time
 * ===================================================================================== */

/* proto/openapi.yaml as JSON text, with the schemas of proto/schema/ inlined under
 * components/schemas. Static; *len (optional) = strlen. */
const char *sk_proto_openapi_json(size_t *len);

/* proto/schema/<name>.json ("network", "population", "projection", "stimulus", "recorder",
 * "session", "error"), static, or NULL for an unknown name. */
const char *sk_proto_schema(const char *name, size_t *len);

/* Every route of the contract: method ("GET", ...) and path template ("/v1/sessions/{name}")
 * in openapi.yaml order. Static; returns the count. */
typedef struct sk_proto_route {
    const char *method;
    const char *path;
} sk_proto_route_t;
size_t sk_proto_routes(const sk_proto_route_t **out);

#ifdef __cplusplus
}
#endif
#endif
