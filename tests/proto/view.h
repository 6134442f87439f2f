/* view.h: a hand-built network view for decoder tests (no network needed): population
 * "exc" (lif, 10 neurons) and "inh" (coba_lif, 5 neurons), at step 100, dt 0.1 ms. */
#ifndef SK_TEST_PROTO_VIEW_H
#define SK_TEST_PROTO_VIEW_H

#include "spiked/proto.h"

static sk_proto_pop_view_t g_pops[2];

static inline sk_proto_net_view_t test_view(void)
{
    g_pops[0] = (sk_proto_pop_view_t){"exc", sk_model_find("lif"), 10};
    g_pops[1] = (sk_proto_pop_view_t){"inh", sk_model_find("coba_lif"), 5};
    sk_proto_net_view_t v = {.step = 100, .dt_ms = 0.1, .n_pops = 2, .pops = g_pops};
    return v;
}

static inline json_t *js(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    cr_assert(j != NULL, "%s: %s", text, je.text);
    return j;
}

#endif
