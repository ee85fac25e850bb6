// The device loop of AdamStepCuda (splatting/cuda/adam_cuda.h), implemented in adam_cuda.cu; the
// checks and the bias corrections stay in adam_cuda.cpp (g++, fmt messages, splatting/adam.h).
#pragma once

#include <cstdint>

struct CUstream_st;

namespace facet::splatting::detail {

// Per element i < count: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g g;
// p -= step_size m / (sqrt(v) / bias2_sqrt + eps), each operation rounded (no FMA).
void LaunchAdamUpdate(float* params, const float* grads, float* exp_avg, float* exp_avg_sq,
                      std::int64_t count, float step_size, float bias2_sqrt, float beta1,
                      float beta2, float epsilon, CUstream_st* stream);

}  // namespace facet::splatting::detail
