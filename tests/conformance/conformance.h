/* conformance.h: the pieces of spiked-conformance shared by its two file formats and by the
 * runner's own test (tests/conformance/test_runner_nest.c).
 *
 * runner.c  reads a file, finds its model, dispatches on the format (inputs as an array:
 *           the Norse/BrainPy format of golden/README.md; inputs as an object: the NEST
 *           format of golden-nest/README.md), prints one line per file and the totals.
 * nest.c    replays the NEST format (mapping: golden-nest/README-spiked.md).
 * network.c replays the NEST network (plasticity) files through the network API.
 * The model is looked up through a caller-given function, so the test can replay files
 * through a model that is not in the registry.
 */
#ifndef SK_CONFORMANCE_H
#define SK_CONFORMANCE_H

#include <stddef.h>

#include <jansson.h>

#include "spiked/sk_model.h"

/* Tolerance of every state variable compared: |x - ref| <= CONF_TOL_REL * max(1, |ref|). */
#define CONF_TOL_REL 1e-4

/* Finds a model by the file's "model" name; NULL when unknown. sk_model_find in the tool. */
typedef const sk_model_t *(*conf_find_fn)(const char *name);

/* Replays the file at `path`. Writes a summary (model, shape, spikes, largest errors) into
 * line[0..line_len) (empty when the file could not be replayed at all) and, when the file
 * fails, the reason into why[0..why_len). Returns 1 if the file passed, 0 if it failed: a
 * file that cannot be read, names an unknown model or is malformed fails. */
int conf_run_file(const char *path, conf_find_fn find, char *line, size_t line_len, char *why,
                  size_t why_len);

/* Replays a parsed file of the NEST format through model m (same outputs and return value
 * as conf_run_file). Borrows root. */
int conf_nest_replay(const json_t *root, const sk_model_t *m, char *line, size_t line_len,
                     char *why, size_t why_len);

/* Replays a network file ("kind": "network", golden-nest/README.md) through the network API
 * (network.c), on `threads` threads (1: sequential) in chunks of `chunk` steps; transmissions
 * are compared only with chunk 1. *digest (optional) gets a hash of the spikes, the compared
 * post states and weights, bit for bit. Same outputs and return value as conf_run_file. */
int conf_network_replay(const json_t *root, conf_find_fn find, uint32_t threads, uint32_t chunk,
                        uint64_t *digest, char *line, size_t line_len, char *why, size_t why_len);

/* printf into why[0..len); returns -1 (the failure code of the loaders). */
int conf_fail(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
