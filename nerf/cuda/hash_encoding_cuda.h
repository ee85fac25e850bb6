// The CUDA path of HashGrid::Forward / Backward (nerf/hash_encoding.h): the same per-point math
// (nerf/kernels/hash_encoding.h) on device arrays, one thread per (point, level). The backward
// scatters into the table with atomicAdd, so its sums are in no fixed order (equal to the CPU's up
// to float rounding); the position gradient is one thread per point summing its levels in order.
// A plain header (no CUDA types): .cpp files call it without nvcc. Only built with the CUDA fast
// path (FACET_WITH_CUDA).
#pragma once

#include <cstdint>

#include "nerf/kernels/hash_encoding.h"

struct CUstream_st;  // cudaStream_t is CUstream_st*

namespace facet::nerf {

// Device arrays: params [ParamCount()], positions [n x 3], features [n x L F] (overwritten).
// `layout` is HashGrid::layout() (or MakeHashGridLayout). Queued on `stream` (nullptr: the legacy
// default stream) without synchronising. Throws facet::Error for a negative n, a layout with
// levels outside [1, 32] or F not 1, 2, 4 or 8, or a null array with n > 0.
void HashGridForwardCuda(const kernels::HashGridLayout& layout, const float* params,
                         const float* positions, std::int64_t n, float* features,
                         CUstream_st* stream = nullptr);

// d_features [n x L F]; adds into d_params [ParamCount()]; d_positions [n x 3] is overwritten
// when not null. Same checks as HashGridForwardCuda.
void HashGridBackwardCuda(const kernels::HashGridLayout& layout, const float* params,
                          const float* positions, std::int64_t n, const float* d_features,
                          float* d_params, float* d_positions, CUstream_st* stream = nullptr);

namespace detail {
// The launches (hash_encoding_cuda.cu), after the checks of hash_encoding_cuda.cpp.
void LaunchHashGridForward(const kernels::HashGridLayout& layout, const float* params,
                           const float* positions, std::int64_t n, float* features,
                           CUstream_st* stream);
void LaunchHashGridBackward(const kernels::HashGridLayout& layout, const float* params,
                            const float* positions, std::int64_t n, const float* d_features,
                            float* d_params, float* d_positions, CUstream_st* stream);
}  // namespace detail

}  // namespace facet::nerf
