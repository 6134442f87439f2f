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

#endif
