// The device kernels of the hash encoding (hash_encoding_cuda.h): a 2D grid, x over points and y
// over levels, so that the threads of a block read one level's table (instant-ngp's scheme).
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdint>

#include "core/cuda_check.h"
#include "nerf/cuda/hash_encoding_cuda.h"
#include "nerf/kernels/hash_encoding.h"

namespace facet::nerf::detail {
namespace {

using kernels::ClampUnit;
using kernels::HashGridLayout;

constexpr int kThreads = 256;

template <int F>
__global__ void ForwardKernel(const HashGridLayout layout, const float* __restrict__ params,
                              const float* __restrict__ positions, std::int64_t n,
                              float* __restrict__ features) {
  const std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const int l = int(blockIdx.y);
  if (i >= n) return;
  const float* p = positions + 3 * i;
  float out[F];
  kernels::LevelForward<F>(layout.level[l], params, ClampUnit(p[0]), ClampUnit(p[1]),
                           ClampUnit(p[2]), out);
  float* dst = features + i * (std::int64_t(layout.levels) * F) + l * F;
  for (int f = 0; f < F; ++f) dst[f] = out[f];
}

template <int F>
__global__ void BackwardParamsKernel(const HashGridLayout layout,
                                     const float* __restrict__ positions, std::int64_t n,
                                     const float* __restrict__ d_features, float* d_params) {
  const std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const int l = int(blockIdx.y);
  if (i >= n) return;
  const float* p = positions + 3 * i;
  const float* d_out = d_features + i * (std::int64_t(layout.levels) * F) + l * F;
  float g[F];
  bool any = false;
  for (int f = 0; f < F; ++f) {
    g[f] = d_out[f];
    any = any || g[f] != 0.0f;
  }
  if (!any) return;  // nothing to scatter (adding zeros changes no sum)
  kernels::LevelBackwardParams<F>(
      layout.level[l], ClampUnit(p[0]), ClampUnit(p[1]), ClampUnit(p[2]), g,
      [d_params](std::uint64_t k, float v) { atomicAdd(d_params + k, v); });
}

template <int F>
__global__ void BackwardPositionsKernel(const HashGridLayout layout,
                                        const float* __restrict__ params,
                                        const float* __restrict__ positions, std::int64_t n,
                                        const float* __restrict__ d_features,
                                        float* __restrict__ d_positions) {
  const std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const float p[3] = {positions[3 * i], positions[3 * i + 1], positions[3 * i + 2]};
  const std::int64_t dims = std::int64_t(layout.levels) * F;
  float g[3] = {0.0f, 0.0f, 0.0f};
  for (int l = 0; l < layout.levels; ++l) {
    float lg[3] = {0.0f, 0.0f, 0.0f};
    kernels::LevelBackwardPosition<F>(layout.level[l], params, p, d_features + i * dims + l * F,
                                      lg);
    for (int a = 0; a < 3; ++a) g[a] += lg[a];
  }
  for (int a = 0; a < 3; ++a) d_positions[3 * i + a] = g[a];
}

dim3 Grid(std::int64_t n, int levels) {
  return dim3(static_cast<unsigned>((n + kThreads - 1) / kThreads), static_cast<unsigned>(levels));
}

template <int F>
void Forward(const HashGridLayout& layout, const float* params, const float* positions,
             std::int64_t n, float* features, cudaStream_t stream) {
  ForwardKernel<F>
      <<<Grid(n, layout.levels), kThreads, 0, stream>>>(layout, params, positions, n, features);
  FACET_CUDA_CHECK_LAUNCH();
}

template <int F>
void Backward(const HashGridLayout& layout, const float* params, const float* positions,
              std::int64_t n, const float* d_features, float* d_params, float* d_positions,
              cudaStream_t stream) {
  BackwardParamsKernel<F>
      <<<Grid(n, layout.levels), kThreads, 0, stream>>>(layout, positions, n, d_features, d_params);
  FACET_CUDA_CHECK_LAUNCH();
  if (d_positions == nullptr) return;
  BackwardPositionsKernel<F>
      <<<Grid(n, 1), kThreads, 0, stream>>>(layout, params, positions, n, d_features, d_positions);
  FACET_CUDA_CHECK_LAUNCH();
}

}  // namespace

void LaunchHashGridForward(const HashGridLayout& layout, const float* params,
                           const float* positions, std::int64_t n, float* features,
                           CUstream_st* stream) {
  switch (layout.features) {
    case 1:
      Forward<1>(layout, params, positions, n, features, stream);
      break;
    case 2:
      Forward<2>(layout, params, positions, n, features, stream);
      break;
    case 4:
      Forward<4>(layout, params, positions, n, features, stream);
      break;
    default:
      Forward<8>(layout, params, positions, n, features, stream);
      break;
  }
}

void LaunchHashGridBackward(const HashGridLayout& layout, const float* params,
                            const float* positions, std::int64_t n, const float* d_features,
                            float* d_params, float* d_positions, CUstream_st* stream) {
  switch (layout.features) {
    case 1:
      Backward<1>(layout, params, positions, n, d_features, d_params, d_positions, stream);
      break;
    case 2:
      Backward<2>(layout, params, positions, n, d_features, d_params, d_positions, stream);
      break;
    case 4:
      Backward<4>(layout, params, positions, n, d_features, d_params, d_positions, stream);
      break;
    default:
      Backward<8>(layout, params, positions, n, d_features, d_params, d_positions, stream);
      break;
  }
}

}  // namespace facet::nerf::detail
