/* spike_source.c: an input layer. Its neurons have no dynamics and never spike by
 * themselves; they emit exactly the spikes forced on them by spike_times stimuli or by
 * injected spikes, which then travel through projections like any other spikes (NEST's
 * spike_generator / parrot_neuron role). No parameters, no state, no input channels: the
 * network rejects projections, input stimuli, recorders and refractoriness aimed at it.
 */
#include <string.h>

#include "model_util.h"

static void derive(const float *p, float dt, float *d)
{
    (void)p, (void)dt, (void)d;
}

static void init(const float *p, float *const *s, uint32_t n)
{
    (void)p, (void)s, (void)n;
}

static void step(const sk_step_args_t *a)
{
    memset(a->spiked, 0, a->n);
}

const sk_model_t sk_model_spike_source = {
    .name = "spike_source",
    .summary = "input layer: emits only the spikes forced on it (spike_times, injected spikes)",
    .reference = "NEST spike_generator / parrot_neuron (no dynamics)",
    .time_unit = "ms",
    .time_scale = 1.0,
    .v_index = 0, /* unused: there is no state */
    .derive = derive,
    .init = init,
    .step = step,
};
