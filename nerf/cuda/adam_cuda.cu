// The device loop of AdamStepCuda: kernels/adam.h's AdamUpdate per parameter.
#include <cuda_runtime_api.h>

#include <cstdint>

#include "core/parallel_for.h"
#include "nerf/cuda/detail/launchers.h"
#include "nerf/kernels/adam.h"

namespace facet::nerf::detail {

void LaunchAdamUpdate(const kernels::AdamStep& step, bool sparse, float* params, const float* grads,
                      float* m, float* v, std::int64_t count, CUstream_st* stream) {
  const kernels::AdamStep s = step;
  ParallelForCuda(
      count,
      [=] __device__(std::int64_t i) {
        const float g = grads[i];
        if (sparse && g == 0.0f) return;
        kernels::AdamUpdate(s, g, &params[i], &m[i], &v[i]);
      },
      stream);
}

}  // namespace facet::nerf::detail
