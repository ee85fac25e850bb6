// The elementwise kernels of the CUDA MLP (mlp_cuda.cpp runs the matrix products with cuBLAS).
#include <cuda_runtime_api.h>

#include <cstdint>

#include "core/parallel_for.h"
#include "nerf/cuda/detail/launchers.h"

namespace facet::nerf::detail {

void LaunchRelu(float* x, std::int64_t count, CUstream_st* stream) {
  ParallelForCuda(
      count, [=] __device__(std::int64_t i) { x[i] = fmaxf(x[i], 0.0f); }, stream);
}

void LaunchReluBackward(float* g, const float* activations, std::int64_t count,
                        CUstream_st* stream) {
  ParallelForCuda(
      count,
      [=] __device__(std::int64_t i) {
        if (!(activations[i] > 0.0f)) g[i] = 0.0f;
      },
      stream);
}

}  // namespace facet::nerf::detail
