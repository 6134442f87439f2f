/* sk_cuda.cu: the table of the generated CUDA model steps, from the model registry's list
 * (core/src/models/models.def): sk_cuda_step_of maps a descriptor to its kernel launcher. */
#include <string.h>

#include "sk_cuda.h"

#define X(name) extern "C" int sk_cuda_step_##name(const sk_cuda_args_t *a, int refrac, void *stream);
#include "../src/models/models.def"
#undef X

static const struct {
    const char *name;
    sk_cuda_step_fn fn;
} g_steps[] = {
#define X(name) {#name, sk_cuda_step_##name},
#include "../src/models/models.def"
#undef X
};

extern "C" sk_cuda_step_fn sk_cuda_step_of(const sk_model_t *m)
{
    for (size_t k = 0; m && k < sizeof g_steps / sizeof g_steps[0]; k++)
        if (strcmp(g_steps[k].name, m->name) == 0)
            return g_steps[k].fn;
    return NULL;
}
