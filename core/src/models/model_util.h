/* model_util.h: what the generated model files include (internal): the table-building
 * macros the generator (core/models/gen.py) emits. Shared fields live in the descriptions
 * (core/models/common.yaml), not here. */
#ifndef SPIKED_MODEL_UTIL_H
#define SPIKED_MODEL_UTIL_H

#include <math.h>
#include <stddef.h>
#include "spiked/sk_model.h"



/* A field: name, unit, default, [lo, hi], flags, doc. */
#define SK_FIELD(n, u, d, l, h, fl, doc) {(n), (u), (d), (l), (h), (fl), (doc)}
/* A state variable (default and range unused). */
#define SK_STATE(n, u, doc) {(n), (u), 0.0, -INFINITY, INFINITY, 0u, (doc)}
/* The low-order float32 part of a float64 state variable (core/models/README.md). */
#define SK_STATE_LO(n, u, doc) {(n), (u), 0.0, -INFINITY, INFINITY, SK_FIELD_LO_PART, (doc)}

#endif
