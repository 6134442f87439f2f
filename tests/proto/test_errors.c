/* test_errors.c: the SK_E* -> HTTP table, core-error mapping with path prefixes, error
 * bodies (always valid JSON, even from invalid UTF-8 in messages), body parsing and names. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "spiked/proto.h"

Test(errors, one_table_maps_every_core_code)
{
    struct {
        int rc, status;
        const char *code;
    } t[] = {{SK_EINVAL, 400, "invalid_field"},   {SK_ERANGE, 400, "invalid_field"},
             {SK_EOVERFLOW, 400, "invalid_field"}, {SK_ENOENT, 404, "not_found"},
             {SK_ELIMIT, 413, "limit_exceeded"},   {SK_EEXIST, 409, "conflict"},
             {SK_EBUSY, 409, "conflict"},          {SK_ECANCELED, 409, "conflict"},
             {SK_ENOMEM, 503, "unavailable"},      {SK_ECORRUPT, 500, "internal"},
             {SK_EVERSION, 500, "internal"},       {-999, 500, "internal"}};
    for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) {
        cr_expect_eq(sk_proto_http_status(t[k].rc), t[k].status, "rc %d", t[k].rc);
        cr_expect_str_eq(sk_proto_error_code(t[k].rc), t[k].code, "rc %d", t[k].rc);
    }
}

Test(errors, core_errors_get_the_full_path)
{
    sk_err_t err;
    sk_proto_error_t e;
    sk_err_set(&err, SK_ERANGE, "projections[0].rule.p", "must be in [0, 1]");
    sk_proto_error_from_core(&e, SK_ERANGE, &err, "network");
    cr_expect_eq(e.status, 400);
    cr_expect_str_eq(e.path, "network.projections[0].rule.p");
    cr_expect_str_eq(e.message, "must be in [0, 1]");
    sk_err_set(&err, SK_ENOENT, "v_tresh", "no such parameter");
    sk_proto_error_from_core(&e, SK_ENOENT, &err, "params");
    cr_expect_eq(e.status, 400, "a bad name in a body is the client's error");
    cr_expect_str_eq(e.path, "params.v_tresh");
    sk_err_set(&err, SK_ELIMIT, "", "the network needs about 9 GB");
    sk_proto_error_from_core(&e, SK_ELIMIT, &err, "network");
    cr_expect_eq(e.status, 413);
    cr_expect_str_eq(e.path, "");
    sk_proto_error_from_core(&e, SK_ENOENT, NULL, "x");
    cr_expect_eq(e.status, 404);
    cr_expect_str_eq(e.message, sk_strerror(SK_ENOENT));
    sk_proto_error_from_core(NULL, SK_ENOENT, NULL, "x"); /* no-op */
}

Test(errors, body_is_json_even_with_bad_utf8)
{
    sk_proto_error_t e;
    sk_proto_error_set(&e, 400, SK_PROTO_INVALID_FIELD, "query.population",
                       "no population named \"%s\"", "\xff\xfe\xc3");
    size_t len;
    char *s = sk_proto_error_body(&e, &len);
    cr_assert(s != NULL);
    json_error_t je;
    json_t *j = json_loadb(s, len, 0, &je);
    cr_assert(j != NULL, "%s: %s", s, je.text);
    json_t *err = json_object_get(j, "error");
    cr_expect_eq(json_integer_value(json_object_get(err, "status")), 400);
    cr_expect_str_eq(json_string_value(json_object_get(err, "code")), "invalid_field");
    cr_expect_str_eq(json_string_value(json_object_get(err, "path")), "query.population");
    cr_expect_str_eq(json_string_value(json_object_get(err, "message")),
                     "no population named \"???\"");
    json_decref(j);
    free(s);
}

Test(errors, parse_rejects_what_the_notes_say)
{
    json_t *j = NULL;
    sk_proto_error_t e;
    cr_expect(sk_proto_parse("{\"a\":1} {", 9, NULL, &j, &e) < 0);
    cr_expect_str_eq(e.code, "invalid_json");
    cr_expect(sk_proto_parse("{\"a\":1,\"a\":2}", 13, NULL, &j, &e) < 0);
    cr_expect(sk_proto_parse("\"s\"", 3, NULL, &j, &e) < 0);
    cr_expect_str_eq(e.code, "invalid_json");
    cr_expect(sk_proto_parse("[1]", 3, NULL, &j, &e) < 0);
    cr_expect_str_eq(e.code, "wrong_type");
    cr_expect(sk_proto_parse(NULL, 0, NULL, &j, &e) < 0);
    sk_proto_caps_t caps = {.max_depth = 2};
    cr_expect(sk_proto_parse("{\"a\":[1]}", 9, &caps, &j, &e) == 0);
    json_decref(j);
    cr_expect(sk_proto_parse("{\"a\":[[1]]}", 11, &caps, &j, &e) < 0);
    cr_expect(strstr(e.message, "nesting") != NULL);
}

Test(errors, names_are_file_safe)
{
    const char *ok[] = {"a", "A-b_9", "0123456789012345678901234567890123456789012345678901234567890123"};
    const char *bad[] = {"", ".", "..", "a/b", "a.b", "a b", "é",
                         "01234567890123456789012345678901234567890123456789012345678901234"};
    for (size_t k = 0; k < sizeof ok / sizeof ok[0]; k++)
        cr_expect(sk_proto_name_check(ok[k], "name", NULL) == 0, "%s", ok[k]);
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        sk_proto_error_t e;
        cr_expect(sk_proto_name_check(bad[k], "name", &e) < 0, "%s", bad[k]);
        cr_expect_str_eq(e.path, "name");
    }
    cr_expect(sk_proto_name_check(NULL, "name", NULL) < 0);
}

Test(errors, caps_defaults_are_all_set)
{
    sk_proto_caps_t c;
    sk_proto_caps_default(&c);
    cr_expect(c.max_depth == 32 && c.max_populations && c.max_projections && c.max_stimuli &&
              c.max_recorders && c.max_steps && c.max_inputs && c.max_spikes && c.max_values);
}
