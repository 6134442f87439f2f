/* model_util.h: shorthands shared by the model files (internal). Only table-building macros
 * live here; the step code of each model stays in its own file, readable on its own. */
#ifndef SPIKED_MODEL_UTIL_H
#define SPIKED_MODEL_UTIL_H

#include <math.h>
#include <stddef.h>
#include "spiked/sk_model.h"

#define SK_COUNT(a) ((uint32_t)(sizeof(a) / sizeof((a)[0])))

/* Common ranges. Rates and voltages are bounded generously; they exist to reject typos and
 * values whose products would overflow float32, not to police modelling choices. */
#define SK_BIG_V    1.0e6f /* |voltage-like| values */
#define SK_BIG_RATE 1.0e7f /* rates (1/time unit) */

/* A field: name, unit, default, [lo, hi], flags, doc. */
#define SK_FIELD(n, u, d, l, h, fl, doc) {(n), (u), (d), (l), (h), (fl), (doc)}
/* A state variable (default and range unused). */
#define SK_STATE(n, u, doc) {(n), (u), 0.0f, -INFINITY, INFINITY, 0u, (doc)}

/* The fields Norse's LIF family shares (LIFParameters: names, defaults, units of Norse's
 * seconds convention). */
#define SK_NORSE_TAU_SYN_INV                                                                   \
    SK_FIELD("tau_syn_inv", "1/s", 200.0f, 0.0f, SK_BIG_RATE, 0, "inverse synaptic time constant")
#define SK_NORSE_TAU_MEM_INV                                                                   \
    SK_FIELD("tau_mem_inv", "1/s", 100.0f, 0.0f, SK_BIG_RATE, 0, "inverse membrane time constant")
#define SK_NORSE_V_LEAK SK_FIELD("v_leak", "1", 0.0f, -SK_BIG_V, SK_BIG_V, 0, "leak (resting) potential")
#define SK_NORSE_V_TH   SK_FIELD("v_th", "1", 1.0f, -SK_BIG_V, SK_BIG_V, 0, "threshold potential")
#define SK_NORSE_V_RESET SK_FIELD("v_reset", "1", 0.0f, -SK_BIG_V, SK_BIG_V, 0, "reset potential")
#define SK_NORSE_DELTA_T                                                                       \
    SK_FIELD("delta_T", "1", 0.5f, 0.0f, SK_BIG_V, SK_FIELD_LO_OPEN, "sharpness of the exponential")

/* The table members of a descriptor, from the file's static arrays named params, state,
 * inputs and derived. */
#define SK_MODEL_TABLES                                                                        \
    .params = params, .n_params = SK_COUNT(params), .state = state,                          \
    .n_state = SK_COUNT(state), .inputs = inputs, .n_inputs = SK_COUNT(inputs),              \
    .derived = derived, .n_derived = SK_COUNT(derived)

#endif
