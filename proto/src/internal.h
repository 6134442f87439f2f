/* internal.h: declarations shared by the files of proto/src (not installed).
 *
 * Decoding works on a context (sk__dec_t) that carries the path of the value being decoded
 * ("network.populations[2].params"), the caller's error record, the resolved caps and the
 * arena that owns the decoded structures. Helpers push a path component, decode, and pop
 * it; on failure they fill the error with the current path and return a negative SK_E*
 * code, which every caller returns unchanged.
 */
#ifndef SPIKED_PROTO_INTERNAL_H
#define SPIKED_PROTO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "spiked/proto.h"

/* The core's defaults (sk_net.h) that proto needs as bounds before building a network. */
#define SK__CORE_MAX_DELAY         10000u
#define SK__CORE_MAX_NEURONS       10000000ull
#define SK__CORE_MAX_SYNAPSES      200000000ull
#define SK__CORE_MAX_RECORD_VALUES 10000000ull
/* The core's defaults of the other per-session limits (core/src/internal.h SK__DEF_*): what
 * a session gets when neither its body nor the caps name a value. tests/proto/test_limits.c
 * checks them against the core. */
#define SK__CORE_DEF_MAX_BYTES     (8ull << 30)
#define SK__CORE_DEF_HISTORY_IDS   1000000ull
#define SK__CORE_DEF_HISTORY_STEPS 100000u
#define SK__CORE_DEF_MAX_PENDING   1000000ull
#define SK__CORE_DEF_RECORD_VALUES 1000000ull

/* Largest integer every JSON reader keeps exactly (2^53 - 1): bound of seeds and steps. */
#define SK__JSON_SAFE_INT 9007199254740991ull

/* ---- paths (path.c) ---- */
typedef struct sk__path {
    char buf[SK_PROTO_PATH_MAX];
    size_t len;
} sk__path_t;

void sk__path_init(sk__path_t *p, const char *root);
/* Appends ".key" ("key" at the root) / "[i]"; returns the mark to pass to sk__path_pop. */
size_t sk__path_key(sk__path_t *p, const char *key);
size_t sk__path_index(sk__path_t *p, uint64_t i);
void sk__path_pop(sk__path_t *p, size_t mark);

/* ---- arena (arena.c): zeroed bump allocation, freed all at once ---- */
typedef struct sk_proto_arena sk__arena_t;
sk__arena_t *sk__arena_new(void);
/* n * size bytes, zeroed, 16-byte aligned; NULL on overflow or out of memory. n may be 0. */
void *sk__arena_alloc(sk__arena_t *a, size_t n, size_t size);
char *sk__arena_strdup(sk__arena_t *a, const char *s);
void sk__arena_free(sk__arena_t *a);

/* ---- decoding context ---- */
typedef struct sk__dec {
    sk__path_t path;
    sk_proto_error_t *e;
    sk_proto_caps_t caps; /* every field resolved (non-zero) */
    sk__arena_t *arena;   /* may be NULL for decoders that allocate nothing */
} sk__dec_t;

void sk__dec_init(sk__dec_t *d, const char *root, const sk_proto_caps_t *caps,
                  sk_proto_error_t *e);
void sk__caps_resolve(const sk_proto_caps_t *in, sk_proto_caps_t *out);

/* Fills the error with the current path; status 413 for SK_PROTO_LIMIT_EXCEEDED, 503 for
 * SK_ENOMEM, else 400. Returns rc. */
int sk__fail(sk__dec_t *d, int rc, const char *code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
int sk__oom(sk__dec_t *d);

/* ---- JSON value checks at the current path (jget.c) ---- */
const char *sk__json_type_name(const json_t *v);
int sk__want_object(sk__dec_t *d, const json_t *v);
/* Rejects keys not in the NULL-terminated list `allowed`. */
int sk__check_keys(sk__dec_t *d, const json_t *obj, const char *const *allowed);
/* *out = the member or NULL; a missing required member is an error. */
int sk__member(sk__dec_t *d, const json_t *obj, const char *key, int required,
               const json_t **out);

int sk__as_u64(sk__dec_t *d, const json_t *v, uint64_t lo, uint64_t hi, uint64_t *out);
int sk__as_u32(sk__dec_t *d, const json_t *v, uint32_t lo, uint32_t hi, uint32_t *out);
int sk__as_double(sk__dec_t *d, const json_t *v, double lo, double hi, double *out);
/* A number that fits float32 (finite after conversion). */
int sk__as_float(sk__dec_t *d, const json_t *v, float *out);
int sk__as_bool(sk__dec_t *d, const json_t *v, int *out);
/* A model parameter: a finite number, or the string "inf" / "-inf" where the field accepts
 * an infinity (SK_FIELD_INF_OK, NEST's V_min); then checked against the field's range. */
int sk__as_param(sk__dec_t *d, const json_t *v, const sk_field_t *f, double *out);
int sk__as_string(sk__dec_t *d, const json_t *v, size_t max_len, const char **out);
int sk__as_name(sk__dec_t *d, const json_t *v, const char **out);
/* Array of at most max elements (*n = its size). */
int sk__as_array(sk__dec_t *d, const json_t *v, size_t max, size_t *n);
/* One of the NULL-terminated `names`: *out = its index. */
int sk__as_enum(sk__dec_t *d, const json_t *v, const char *const *names, int *out);

/* Member versions: push key, decode if present (required: must be), pop. Absent optional
 * members leave *out untouched. */
int sk__get_u64(sk__dec_t *d, const json_t *obj, const char *key, int required, uint64_t lo,
                uint64_t hi, uint64_t *out);
int sk__get_u32(sk__dec_t *d, const json_t *obj, const char *key, int required, uint32_t lo,
                uint32_t hi, uint32_t *out);
/* An integer >= lo of the type's range whose value above `limit` (a configured limit, not
 * a bad value) is a 413 limit_exceeded; below lo or outside the type, 400 invalid_field. */
int sk__get_u64_limit(sk__dec_t *d, const json_t *obj, const char *key, int required,
                      uint64_t lo, uint64_t limit, uint64_t *out);
int sk__get_u32_limit(sk__dec_t *d, const json_t *obj, const char *key, int required,
                      uint32_t lo, uint32_t limit, uint32_t *out);
int sk__get_double(sk__dec_t *d, const json_t *obj, const char *key, int required, double lo,
                   double hi, double *out);
int sk__get_float(sk__dec_t *d, const json_t *obj, const char *key, int required, float *out);
int sk__get_bool(sk__dec_t *d, const json_t *obj, const char *key, int required, int *out);
int sk__get_enum(sk__dec_t *d, const json_t *obj, const char *key, int required,
                 const char *const *names, int *out);

/* Arrays into arena memory. ids: every element an integer < bound; when `unique`, no
 * repeats. *n receives the length; `expect` (if not SIZE_MAX) is the required length. */
int sk__get_ids(sk__dec_t *d, const json_t *obj, const char *key, int required, uint32_t bound,
                int unique, size_t expect, uint32_t **out, size_t *n);
int sk__as_ids(sk__dec_t *d, const json_t *v, uint32_t bound, int unique, size_t expect,
               uint32_t **out, size_t *n);
int sk__as_floats(sk__dec_t *d, const json_t *v, size_t expect, float **out, size_t *n);
int sk__get_floats(sk__dec_t *d, const json_t *obj, const char *key, int required,
                   size_t expect, float **out, size_t *n);

/* Writes a ", "-separated list of names into buf (truncated with "..."). */
void sk__join(char *buf, size_t cap, const char *const *names, size_t n);
void sk__join_fields(char *buf, size_t cap, const sk_field_t *f, size_t n);

/* ---- network decoding (decode_*.c) ---- */
int sk__decode_pop(sk__dec_t *d, const json_t *v, const sk_pop_spec_t *prev, uint32_t k,
                   sk_pop_spec_t *out);
int sk__decode_proj(sk__dec_t *d, const json_t *v, const sk_net_spec_t *net, uint64_t *synapses,
                    sk_proj_spec_t *out);
/* decode_syn.c: the projection's "synapse" member (absent: static) into out->synapse*. */
int sk__decode_synapse(sk__dec_t *d, const json_t *proj, const sk_model_t *target,
                       sk_proj_spec_t *out);
int sk__decode_stim(sk__dec_t *d, const json_t *v, const sk_net_spec_t *net, sk_stim_spec_t *out);
int sk__decode_rec(sk__dec_t *d, const json_t *v, const sk_net_spec_t *net, sk_rec_spec_t *out);
/* A distribution {"uniform": [a, b]} or {"normal": [mean, sd]}, plus "sign" ("positive" |
 * "negative") when allow_sign. */
int sk__decode_dist(sk__dec_t *d, const json_t *v, int allow_sign, sk_dist_t *out);
/* Index of the population called `name` among net->pops, or -1. */
int sk__spec_pop(const sk_net_spec_t *net, const char *name);
/* Decodes the member `key` (a population name) into the index of a population of net. */
int sk__get_pop_ref(sk__dec_t *d, const json_t *obj, const char *key, const sk_net_spec_t *net,
                    uint32_t *out);
/* Decodes the optional member "channel" against model's inputs: *out NULL when absent. */
int sk__get_channel(sk__dec_t *d, const json_t *obj, const sk_model_t *model, const char **out);
/* The effective limits: spec->limits with zeros replaced by the core defaults. */
uint32_t sk__max_delay(const sk_limits_t *l);

/* Inputs array of an inputs or step body (decode_inputs.c). */
int sk__decode_inputs(sk__dec_t *d, const json_t *arr, const sk_proto_net_view_t *v,
                      sk_inject_t **out, uint32_t *n);

/* ---- encoding (dump.c, encode_*.c) ---- */
/* Shortest text of a double that reads back as the same float32 (when the value is one)
 * or the same double; buf has at least 32 bytes. Returns the length. */
size_t sk__format_real(double x, char *buf);
/* json_real for a double, null when not finite. */
json_t *sk__real(double x);
/* Adds a new reference to obj under key (steals it); returns -1 on failure (value freed). */
int sk__set(json_t *obj, const char *key, json_t *value);
int sk__append(json_t *arr, json_t *value);

/* Builders over plain core views (encode_info.c), used by the sk_net_t wrappers and tests. */
json_t *sk__info_build(const sk_net_info_t *ni, const sk_pop_info_t *pops,
                       const sk_proj_info_t *projs, const sk_rec_info_t *recs,
                       const sk_proto_session_extra_t *x);
json_t *sk__pop_info_json(const sk_pop_info_t *pi);

/* Spike list collector: an sk_spike_cb context (encode_data.c). */
typedef struct sk__spikes_acc {
    json_t *list;               /* [{step, population, ids}] */
    const sk_proto_pop_view_t *pops;
    uint32_t n_pops;
    int32_t pop;                /* filter, -1 = all */
    uint64_t limit, ids;        /* ids so far */
    uint64_t last_step;         /* step of the last batch added */
    int any, cut, failed;
    uint64_t next_from;         /* when cut: first step not returned */
    uint64_t *counts;           /* optional: per population spike counts */
    double dt_ms;               /* > 0: each entry also gets time_ms = (step + 1) * dt_ms */
} sk__spikes_acc_t;
int sk__spikes_cb(void *ctx, uint64_t step, uint32_t pop, const uint32_t *ids, uint32_t n);
/* steps * dt_ms in ms, rounded to 1e-6 ms (1 ns) so that 221191 steps of 0.1 ms read
 * 22119.1, not 22119.100000000002 (encode_spikes.c). */
double sk__time_ms(uint64_t steps, double dt_ms);
/* {from_step, to_step, first_kept, spikes, next_from_step?} of [from, to) (encode_net.c). */
int sk__spike_page(const sk_net_t *net, const sk_proto_net_view_t *v, uint64_t from,
                   uint64_t to, int32_t pop, uint64_t limit, uint64_t *counts, json_t **out);

/* ---- embedded contract (generated contract_data.c) ---- */
typedef struct sk__schema_text {
    const char *name;
    const char *text;
    size_t len;
} sk__schema_text_t;
extern const char sk__openapi_text[];
extern const size_t sk__openapi_len;
extern const sk__schema_text_t sk__schemas[];
extern const size_t sk__n_schemas;
extern const sk_proto_route_t sk__routes[];
extern const size_t sk__n_routes;

#endif
