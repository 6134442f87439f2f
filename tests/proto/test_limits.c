/* test_limits.c: the per-session "limits" of a create body against the caps: defaults
 * (caps.limits), ceilings (caps.max_limits, else caps.limits), a default lowered to its
 * ceiling, 413 limit_exceeded naming limits.<field> above a ceiling; and proto's copies of
 * the core's defaults (proto/src/internal.h SK__CORE_DEF_*) checked against the core. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "spiked/proto.h"

#define NET "\"network\":{\"populations\":[{\"name\":\"p\",\"model\":\"lif\",\"size\":10}]}"

/* Decodes {"name":"t", <extra>, NET}. Returns 0 with *out, or the error in *e. */
static int decode(const char *extra, const sk_proto_caps_t *caps, sk_proto_session_t **out,
                  sk_proto_error_t *e)
{
    char body[1024];
    snprintf(body, sizeof body, "{\"name\":\"t\",%s%s" NET "}", extra, extra[0] ? "," : "");
    json_t *j = NULL;
    int rc = sk_proto_parse(body, strlen(body), caps, &j, e);
    if (rc == 0)
        rc = sk_proto_session_decode(j, caps, out, e);
    json_decref(j);
    return rc;
}

static void expect_over(const char *field, uint64_t ceiling, const sk_proto_caps_t *caps)
{
    char extra[256], path[64];
    snprintf(extra, sizeof extra, "\"limits\":{\"%s\":%llu}", field,
             (unsigned long long)ceiling + 1);
    snprintf(path, sizeof path, "limits.%s", field);
    sk_proto_session_t *s = NULL;
    sk_proto_error_t e = {0};
    cr_assert_lt(decode(extra, caps, &s, &e), 0, "%s above its ceiling was accepted", field);
    cr_expect_eq(e.status, 413, "%s: status %d", field, e.status);
    cr_expect_str_eq(e.code, "limit_exceeded");
    cr_expect_str_eq(e.path, path);
    /* at the ceiling: accepted */
    snprintf(extra, sizeof extra, "\"limits\":{\"%s\":%llu}", field, (unsigned long long)ceiling);
    cr_expect_eq(decode(extra, caps, &s, &e), 0, "%s at its ceiling: %s", field, e.message);
    sk_proto_session_free(s);
}

/* Default caps with a 1 GiB memory limit and these ceilings. */
static sk_proto_caps_t ceiling_caps(uint64_t max_pending)
{
    sk_proto_caps_t caps;
    sk_proto_caps_default(&caps);
    caps.limits.max_bytes = 1u << 30;
    caps.max_limits = (sk_limits_t){.spike_history = 5000000,
                                    .history_steps = 200000,
                                    .max_record_values = 3000000,
                                    .max_pending = max_pending};
    return caps;
}

Test(limits, a_request_above_a_ceiling_is_413_naming_the_field)
{
    sk_proto_caps_t caps = ceiling_caps(40000);
    expect_over("max_bytes", 1u << 30, &caps);
    expect_over("spike_history", 5000000, &caps);
    expect_over("history_steps", 200000, &caps);
    expect_over("max_record_values", 3000000, &caps);
    expect_over("max_pending", 40000, &caps);
}

Test(limits, a_ceiling_does_not_become_the_default)
{
    sk_proto_caps_t caps = ceiling_caps(4000000);
    sk_proto_session_t *s = NULL;
    sk_proto_error_t e = {0};
    cr_assert_eq(decode("", &caps, &s, &e), 0, "%s", e.message);
    cr_expect_eq(s->spec.limits.max_bytes, 1u << 30, "caps.limits is the default");
    cr_expect_eq(s->spec.limits.spike_history, 0, "the core's default, not the ceiling");
    cr_expect_eq(s->spec.limits.history_steps, 0);
    cr_expect_eq(s->spec.limits.max_record_values, 0);
    cr_expect_eq(s->spec.limits.max_pending, 0);
    sk_proto_session_free(s);
}

Test(limits, a_default_above_its_ceiling_is_lowered_to_it)
{
    sk_proto_caps_t caps;
    sk_proto_caps_default(&caps);
    caps.limits.max_pending = 500; /* an explicit default above the ceiling */
    caps.max_limits = (sk_limits_t){.spike_history = 1000,
                                    .history_steps = 50,
                                    .max_record_values = 100,
                                    .max_pending = 10,
                                    .max_bytes = 1u << 20,
                                    .max_delay = 7};
    sk_proto_session_t *s = NULL;
    sk_proto_error_t e = {0};
    cr_assert_eq(decode("", &caps, &s, &e), 0, "%s", e.message);
    cr_expect_eq(s->spec.limits.spike_history, 1000);
    cr_expect_eq(s->spec.limits.history_steps, 50);
    cr_expect_eq(s->spec.limits.max_record_values, 100);
    cr_expect_eq(s->spec.limits.max_pending, 10);
    cr_expect_eq(s->spec.limits.max_bytes, 1u << 20);
    cr_expect_eq(s->spec.limits.max_delay, 7);
    sk_proto_session_free(s);
    /* a request below the ceiling is kept as asked */
    cr_assert_eq(decode("\"limits\":{\"spike_history\":20}", &caps, &s, &e), 0, "%s", e.message);
    cr_expect_eq(s->spec.limits.spike_history, 20);
    sk_proto_session_free(s);
}

Test(limits, without_max_limits_caps_limits_stay_default_and_ceiling)
{
    sk_proto_caps_t caps;
    sk_proto_caps_default(&caps);
    caps.limits.max_neurons = 100;
    caps.limits.spike_history = 3000;
    sk_proto_session_t *s = NULL;
    sk_proto_error_t e = {0};
    cr_assert_eq(decode("", &caps, &s, &e), 0, "%s", e.message);
    cr_expect_eq(s->spec.limits.spike_history, 3000);
    sk_proto_session_free(s);
    expect_over("spike_history", 3000, &caps);
    expect_over("max_neurons", 100, &caps);
}

/* ---- proto's copies of the core's defaults ---- */

static sk_net_t *build(const sk_limits_t *lim, sk_err_t *err)
{
    static const char *const vars[] = {"v"};
    sk_pop_spec_t pop = {.name = "p", .model = "lif", .size = 10};
    sk_rec_spec_t rec = {.population = "p", .variables = vars, .n_variables = 1};
    sk_net_spec_t spec = {.dt_ms = 0.1, .pops = &pop, .n_pops = 1, .recs = &rec, .n_recs = 1};
    spec.limits = *lim;
    sk_net_t *net = NULL;
    return sk_net_create(&spec, &net, err) == 0 ? net : NULL;
}

Test(limits, proto_knows_the_cores_defaults)
{
    sk_err_t err = {0};
    sk_limits_t zero = {0};
    sk_limits_t copy = {.spike_history = SK__CORE_DEF_HISTORY_IDS,
                        .history_steps = SK__CORE_DEF_HISTORY_STEPS,
                        .max_record_values = SK__CORE_DEF_RECORD_VALUES};
    sk_net_t *a = build(&zero, &err), *b = build(&copy, &err);
    cr_assert(a && b, "%s", err.msg);
    sk_net_info_t ia, ib;
    sk_net_info(a, &ia);
    sk_net_info(b, &ib);
    cr_expect_eq(ia.bytes, ib.bytes, "history and recorder defaults: %llu vs %llu bytes",
                 (unsigned long long)ia.bytes, (unsigned long long)ib.bytes);
    /* max_pending: one injection more than the default is refused, naming the limit */
    uint32_t n = (uint32_t)SK__CORE_DEF_MAX_PENDING + 1;
    sk_inject_t *inj = calloc(n, sizeof *inj);
    cr_assert_not_null(inj);
    for (uint32_t k = 0; k < n; k++)
        inj[k] = (sk_inject_t){.kind = SK_INJECT_CURRENT, .channel = -1, .step = 1};
    cr_expect_eq(sk_net_inject(a, inj, n, &err), SK_ELIMIT);
    char want[64];
    snprintf(want, sizeof want, "more than %llu pending", (unsigned long long)(n - 1));
    cr_expect(strstr(err.msg, want) != NULL, "max_pending default: %s", err.msg);
    free(inj);
    sk_net_destroy(a);
    sk_net_destroy(b);
    /* max_bytes: the core's refusal names its default limit */
    sk_limits_t big = {.spike_history = SK__CORE_DEF_MAX_BYTES / 4 + 1};
    cr_expect_null(build(&big, &err));
    snprintf(want, sizeof want, "limit of %.3g GB", (double)SK__CORE_DEF_MAX_BYTES / 1e9);
    cr_expect(strstr(err.msg, want) != NULL, "max_bytes default: %s", err.msg);
}
