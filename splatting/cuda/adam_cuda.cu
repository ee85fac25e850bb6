// The device loop of AdamStepCuda (detail/adam_update.h): a grid-stride loop over one parameter
// group. The _rn intrinsics keep nvcc from contracting the multiply-adds into FMAs, so that each
// operation rounds as in the CPU step (splatting/adam.cpp).
#include <cuda_runtime_api.h>

#include <cstdint>

#include "core/parallel_for.h"
#include "splatting/cuda/detail/adam_update.h"

namespace facet::splatting::detail {

void LaunchAdamUpdate(float* params, const float* grads, float* exp_avg, float* exp_avg_sq,
                      std::int64_t count, float step_size, float bias2_sqrt, float beta1,
                      float beta2, float epsilon, CUstream_st* stream) {
  const float b1 = beta1, b2 = beta2, eps = epsilon;
  ParallelForCuda(
      count,
      [=] __device__(std::int64_t i) {
        const float g = grads[i];
        const float m = __fadd_rn(__fmul_rn(b1, exp_avg[i]), __fmul_rn(1.0f - b1, g));
        const float v =
            __fadd_rn(__fmul_rn(b2, exp_avg_sq[i]), __fmul_rn(__fmul_rn(1.0f - b2, g), g));
        exp_avg[i] = m;
        exp_avg_sq[i] = v;
        const float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(v), bias2_sqrt), eps);
        params[i] = __fsub_rn(params[i], __fdiv_rn(__fmul_rn(step_size, m), denom));
      },
      stream);
}

}  // namespace facet::splatting::detail
