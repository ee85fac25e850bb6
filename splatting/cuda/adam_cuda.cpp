// AdamStepCuda (adam_cuda.h): the checks and bias corrections of Adam::Step, then the device loop
// (adam_cuda.cu). Plain C++, compiled only with the CUDA fast path.
#include "splatting/cuda/adam_cuda.h"

#include <cmath>

#include "core/error.h"
#include "splatting/adam.h"
#include "splatting/cuda/detail/adam_update.h"

namespace facet::splatting {

void AdamStepCuda(float* params, const float* grads, float* exp_avg, float* exp_avg_sq,
                  std::int64_t count, float lr, std::int64_t step, const AdamOptions& options,
                  CUstream_st* stream) {
  // AdamOptions::Check's ranges (adam.h), named for this call.
  FACET_CHECK(options.beta1 >= 0.0f && options.beta1 < 1.0f && options.beta2 >= 0.0f &&
                  options.beta2 < 1.0f && options.epsilon > 0.0f,
              "AdamStepCuda: beta1 = {} and beta2 = {} must lie in [0, 1) and epsilon = {} be > 0",
              options.beta1, options.beta2, options.epsilon);
  FACET_CHECK(std::isfinite(lr) && lr >= 0.0f,
              "AdamStepCuda: the learning rate must be non-negative and finite (got {})", lr);
  FACET_CHECK(step >= 1, "AdamStepCuda: the step must be >= 1 (got {})", step);
  FACET_CHECK(count >= 0, "AdamStepCuda: negative count {}", count);
  if (count == 0) return;
  FACET_CHECK(params != nullptr && grads != nullptr && exp_avg != nullptr && exp_avg_sq != nullptr,
              "AdamStepCuda: a parameter, gradient or moment array is null");
  // As Adam::Step: the bias corrections in double, then float.
  const double t = static_cast<double>(step);
  const double bias1 = 1.0 - std::pow(static_cast<double>(options.beta1), t);
  const auto bias2_sqrt =
      static_cast<float>(std::sqrt(1.0 - std::pow(static_cast<double>(options.beta2), t)));
  const auto step_size = static_cast<float>(lr / bias1);
  detail::LaunchAdamUpdate(params, grads, exp_avg, exp_avg_sq, count, step_size, bias2_sqrt,
                           options.beta1, options.beta2, options.epsilon, stream);
}

}  // namespace facet::splatting
