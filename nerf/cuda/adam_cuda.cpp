#include "nerf/cuda/adam_cuda.h"

#include <cmath>

#include "core/error.h"
#include "nerf/adam.h"
#include "nerf/cuda/detail/launchers.h"

namespace facet::nerf {

void AdamStepCuda(const AdamOptions& options, std::int64_t step, float lr_scale, float* params,
                  const float* grads, float* m, float* v, std::int64_t count, CUstream_st* stream) {
  options.Check();
  FACET_CHECK(step >= 1, "AdamStepCuda: step must be >= 1 (got {})", step);
  FACET_CHECK(std::isfinite(lr_scale) && lr_scale >= 0.0f,
              "AdamStepCuda: the learning-rate scale must be >= 0 (got {})", lr_scale);
  FACET_CHECK(count >= 0, "AdamStepCuda: negative count {}", count);
  if (count == 0) return;
  FACET_CHECK(params != nullptr && grads != nullptr && m != nullptr && v != nullptr,
              "AdamStepCuda: null device array for {} parameters", count);
  detail::LaunchAdamUpdate(MakeAdamStep(options, step, lr_scale), options.sparse, params, grads, m,
                           v, count, stream);
}

}  // namespace facet::nerf
