/* fuzz_decode_net.c: libFuzzer harness for the network-description decoder.
 *
 * One input = one POST /v1/sessions body. It goes the way the server takes it, with small
 * limits so one execution stays fast: sk_proto_parse -> sk_proto_session_decode ->
 * sk_net_create; a network that builds is then stepped, encoded (info, spikes), saved and
 * restored, and the restored copy must save to the same bytes.
 *
 * Invariants checked (abort() = a finding):
 *   - a rejected body has a client error (400 or 413, with a code and a message), never 5xx
 *     other than 503 (out of memory);
 *   - a body the decoder accepts is either built by the core or refused with a 4xx (the
 *     decoder promises to check what the core checks);
 *   - checkpoint(restore(checkpoint(net))) == checkpoint(net).
 * Memory errors, leaks and undefined behaviour are the sanitizers' findings.
 *
 * Built two ways (tests/fuzz/CMakeLists.txt): with -fsanitize=fuzzer (clang, SPIKED_FUZZ),
 * and with corpus_main.c, which replays the seed corpus in every build.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz_util.h"
#include "spiked/proto.h"
#include "spiked/sk_net.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    json_object_seed(1); /* reproducible hash order */
    return 0;
}

static void caps_small(sk_proto_caps_t *caps)
{
    sk_proto_caps_default(caps);
    caps->limits.max_neurons = 4096;
    caps->limits.max_synapses = 200000;
    caps->limits.max_bytes = 64u << 20;
    caps->limits.max_delay = 1000;
    caps->limits.spike_history = 20000;
    caps->limits.history_steps = 1000;
    caps->limits.max_pending = 10000;
    caps->limits.max_record_values = 100000;
    caps->max_populations = 64;
    caps->max_projections = 64;
    caps->max_stimuli = 64;
    caps->max_recorders = 16;
    caps->max_inputs = 10000;
}

static void check_client_error(const sk_proto_error_t *e, const char *what)
{
    if (e->status != 400 && e->status != 413 && e->status != 503)
        fuzz_fail("%s answered %d %s (%s: %s)", what, e->status, e->code, e->path, e->message);
    if (!e->code || !e->code[0] || !e->message[0])
        fuzz_fail("%s: error without a code or message", what);
}

/* Steps, encodes and round-trips a network that was built. */
static void exercise(sk_net_t *net)
{
    if (sk_net_step(net, 20, NULL, NULL) != 0)
        fuzz_fail("sk_net_step failed on a network that was built");
    json_t *j = NULL;
    sk_proto_session_extra_t x = {"fuzz", "idle", NULL, 0};
    if (sk_proto_info_json(net, &x, &j) == 0) {
        free(sk_proto_dumps(j, NULL));
        json_decref(j);
    }
    sk_proto_spikes_query_t q = {-1, 0, 20, 1000};
    j = NULL;
    if (sk_proto_spikes_json(net, &q, &j, NULL) == 0)
        json_decref(j);
    fuzz_ckpt_roundtrip(net);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sk_proto_caps_t caps;
    caps_small(&caps);
    json_t *body = NULL;
    sk_proto_error_t e;
    if (sk_proto_parse(data, size, &caps, &body, &e)) {
        check_client_error(&e, "sk_proto_parse");
        return 0;
    }
    sk_proto_session_t *ps = NULL;
    int rc = sk_proto_session_decode(body, &caps, &ps, &e);
    json_decref(body);
    if (rc) {
        check_client_error(&e, "sk_proto_session_decode");
        return 0;
    }
    sk_net_t *net = NULL;
    sk_err_t err = {0};
    rc = sk_net_create(&ps->spec, &net, &err);
    if (rc) {
        sk_proto_error_from_core(&e, rc, &err, "network");
        check_client_error(&e, "sk_net_create after a successful decode");
    } else {
        exercise(net);
        sk_net_destroy(net);
    }
    sk_proto_session_free(ps);
    return 0;
}
