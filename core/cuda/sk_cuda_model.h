/* sk_cuda_model.h: what a generated CUDA model file (core/cuda/models/<name>.cu) includes:
 * the kernel's argument block and, through sk_model.h, SK_HD and sk_refrac_apply. Internal
 * to the CUDA backend; nothing here names a model. */
#ifndef SPIKED_SK_CUDA_MODEL_H
#define SPIKED_SK_CUDA_MODEL_H

#include <math.h>
#include <stdint.h>
#include <stddef.h>
#include <cuda_runtime.h>

#include "sk_cuda.h"


#endif
