// The kernel launchers of the CUDA nerf ops (defined in the .cu files, called by the .cpp files
// that check arguments and drive cuBLAS). Plain C++; only built with FACET_WITH_CUDA.
#pragma once

#include <cstdint>

#include "nerf/kernels/adam.h"

struct CUstream_st;

namespace facet::nerf::detail {

// x = max(x, 0) over `count` floats.
void LaunchRelu(float* x, std::int64_t count, CUstream_st* stream);
// g = 0 where activation <= 0 (the ReLU's derivative from its output), over `count` floats.
void LaunchReluBackward(float* g, const float* activations, std::int64_t count,
                        CUstream_st* stream);
// AdamUpdate on every parameter (or only those with a non-zero gradient when `sparse`).
void LaunchAdamUpdate(const kernels::AdamStep& step, bool sparse, float* params, const float* grads,
                      float* m, float* v, std::int64_t count, CUstream_st* stream);

}  // namespace facet::nerf::detail
