/* fuzz_ckpt_load.c: libFuzzer harness for checkpoint loading (sk_net_restore).
 *
 * Each input is tried twice:
 *   1. as it is: arbitrary bytes (most stop at the magic, the version, the length or the
 *      checksum);
 *   2. with its header's payload length and its CRC-32C trailer fixed up, when it starts
 *      with the magic: mutations of a real checkpoint (the seed corpus holds several) then
 *      pass the checksum and reach the structural checks of every section, which must
 *      reject hostile counts, indices and sizes on their own.
 * A checkpoint that restores is then stepped (with the restored network's own limits,
 * capped small), saved and restored again: checkpoint(restore(c)) must be stable.
 *
 * Invariants (abort() = a finding): restore fails only with SK_ECORRUPT, SK_EVERSION,
 * SK_ELIMIT or SK_ENOMEM, with a message; never a crash, leak or undefined behaviour.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "spiked/sk_net.h"

#define HEADER 24u /* "SPKDCKPT" u32 version, u32 byte-order mark, u64 payload length */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static void try_restore(const uint8_t *buf, size_t len)
{
    /* Small limits: a hostile size must be refused before it is allocated. */
    sk_limits_t lim = {.max_neurons = 100000, .max_synapses = 1000000, .max_bytes = 256u << 20};
    sk_net_t *net = NULL;
    sk_err_t err = {0};
    int rc = sk_net_restore(buf, len, &lim, &net, &err);
    if (rc) {
        if (rc != SK_ECORRUPT && rc != SK_EVERSION && rc != SK_ELIMIT && rc != SK_ENOMEM)
            fuzz_fail("sk_net_restore returned %s", sk_strerror(rc));
        if (!err.msg[0])
            fuzz_fail("sk_net_restore failed without a message");
        if (net)
            fuzz_fail("sk_net_restore failed but wrote *out");
        return;
    }
    if (sk_net_step(net, 5, NULL, NULL) != 0)
        fuzz_fail("a restored network does not step");
    fuzz_ckpt_roundtrip(net);
    sk_net_destroy(net);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    try_restore(data, size);
    if (size < HEADER + 4u || memcmp(data, "SPKDCKPT", 8) != 0)
        return 0;
    uint8_t *fixed = malloc(size);
    if (!fixed)
        return 0;
    memcpy(fixed, data, size);
    uint64_t payload = size - HEADER - 4u;
    memcpy(fixed + 16, &payload, 8);
    uint32_t crc = fuzz_crc32c(fixed, size - 4u);
    memcpy(fixed + size - 4u, &crc, 4);
    try_restore(fixed, size);
    free(fixed);
    return 0;
}
