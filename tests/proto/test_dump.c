/* test_dump.c: sk_proto_dumps writes float32 values with the shortest decimal that reads
 * back as the same float32, doubles exactly, non-finite values as null, strings escaped. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "spiked/proto.h"

static char *dump1(json_t *j)
{
    char *s = sk_proto_dumps(j, NULL);
    json_decref(j);
    cr_assert(s != NULL);
    return s;
}

static float bits_to_float(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

Test(dump, float32_values_round_trip_exactly)
{
    uint64_t x = 88172645463325252ull; /* xorshift64: every exponent, many mantissas */
    for (int k = 0; k < 200000; k++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        float f = bits_to_float((uint32_t)x);
        if (!isfinite(f))
            continue;
        char buf[32];
        sk__format_real((double)f, buf);
        cr_assert(strtof(buf, NULL) == f, "%a printed as %s", (double)f, buf);
        cr_assert(strlen(buf) <= 15, "%s too long", buf);
    }
}

Test(dump, float32_edge_values_round_trip)
{
    const float v[] = {0.0f, -0.0f, FLT_MIN, -FLT_MIN, FLT_MAX, -FLT_MAX, FLT_TRUE_MIN, 1e-45f,
                       0.1f, 1.0f / 3.0f, 16777217.0f, -63.2891235f};
    for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
        char buf[32];
        sk__format_real((double)v[k], buf);
        cr_expect(strtof(buf, NULL) == v[k] && signbit(strtof(buf, NULL)) == signbit(v[k]),
                  "%a printed as %s", (double)v[k], buf);
    }
}

Test(dump, shortest_decimal_for_float_and_double)
{
    char buf[32];
    sk__format_real((double)0.1f, buf);
    cr_expect_str_eq(buf, "0.1");
    sk__format_real((double)-6.7f, buf);
    cr_expect_str_eq(buf, "-6.7");
    sk__format_real(0.1, buf); /* a double that is not a float32 */
    cr_expect_str_eq(buf, "0.1");
    sk__format_real(1.0 / 3.0, buf);
    cr_expect(strtod(buf, NULL) == 1.0 / 3.0, "%s", buf);
    sk__format_real(123456789.125, buf);
    cr_expect_str_eq(buf, "123456789.125");
    sk__format_real(1e300, buf);
    cr_expect_str_eq(buf, "1e+300");
}

Test(dump, non_finite_floats_are_null)
{
    char *s = dump1(json_pack("[o, o, o, o]", sk_proto_float(NAN), sk_proto_float(INFINITY),
                              sk_proto_float(-INFINITY), sk_proto_float(2.5f)));
    cr_expect_str_eq(s, "[null,null,null,2.5]");
    free(s);
}

Test(dump, compact_in_insertion_order_with_escapes)
{
    json_t *o = json_pack("{s:s, s:i, s:b, s:n, s:[]}", "z", "a\"b\\c\n\t\x01/é", "a", -7, "m", 1,
                          "n", "e");
    size_t len;
    char *s = sk_proto_dumps(o, &len);
    cr_expect_str_eq(s, "{\"z\":\"a\\\"b\\\\c\\n\\t\\u0001/é\",\"a\":-7,\"m\":true,\"n\":null,"
                        "\"e\":[]}");
    cr_expect_eq(len, strlen(s));
    json_error_t je;
    json_t *back = json_loads(s, 0, &je);
    cr_expect(json_equal(back, o), "%s", je.text);
    json_decref(back);
    json_decref(o);
    free(s);
}

Test(dump, large_integers_are_exact)
{
    char *s = dump1(json_pack("[I, I]", (json_int_t)9007199254740993LL, (json_int_t)INT64_MIN));
    cr_expect_str_eq(s, "[9007199254740993,-9223372036854775808]");
    free(s);
    cr_expect_null(sk_proto_dumps(NULL, NULL));
}
