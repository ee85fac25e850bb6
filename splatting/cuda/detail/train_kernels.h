// Small device kernels of CudaTrainState (train_step_cuda.h), compiled by nvcc in
// train_step_cuda.cu and called from plain C++.
#pragma once

#include <cstdint>

struct CUstream_st;

namespace facet::splatting::detail {

// out[i] = in[i] / 255 for `count` elements (the training photo as the loss reads it).
void LaunchBytesToUnitFloat(const std::uint8_t* in, float* out, std::int64_t count,
                            CUstream_st* stream);

// *sum = sum over `count` elements of (clamp(render[i], 0, 1) - target[i])^2, accumulated in
// double (block sums with cub::BlockReduce, then one atomic add per block). `sum` is a device
// double, set to zero first on `stream`.
void LaunchSquaredErrorSum(const float* render, const float* target, std::int64_t count,
                           double* sum, CUstream_st* stream);

}  // namespace facet::splatting::detail
