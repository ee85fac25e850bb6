// ParallelFor(n, fn): calls fn(i) for every i in [0, n), each index exactly once.
//
// On the host it is a oneTBB parallel loop. In a `.cu` file, ParallelForCuda(n, fn) launches a
// grid-stride kernel that calls the same fn on the device, so a kernel is one FACET_HOST_DEVICE
// lambda over indices written once and scheduled by either backend (as Open3D's tensor kernels):
//
//   auto body = [=] FACET_HOST_DEVICE(std::int64_t i) { out[i] = Shade(in[i]); };
//   backend == Backend::kCuda ? ParallelForCuda(n, body) : ParallelFor(n, body);
#pragma once

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>

#include <cstdint>

#include "core/host_device.h"

#if defined(__CUDACC__)
#include <cuda_runtime_api.h>

#include <algorithm>

#include "core/cuda_check.h"
#endif

namespace facet {

// `grain` is the smallest number of consecutive indices one task takes: raise it when fn is very
// cheap so scheduling does not dominate.
template <typename Fn>
void ParallelFor(std::int64_t n, Fn&& fn, std::int64_t grain = 1) {
  if (n <= 0) return;
  oneapi::tbb::parallel_for(oneapi::tbb::blocked_range<std::int64_t>(0, n, grain < 1 ? 1 : grain),
                            [&fn](const oneapi::tbb::blocked_range<std::int64_t>& range) {
                              for (std::int64_t i = range.begin(); i != range.end(); ++i) fn(i);
                            });
}

#if defined(__CUDACC__)
namespace detail {

template <typename Fn>
__global__ void GridStrideKernel(std::int64_t n, Fn fn) {
  const std::int64_t stride = static_cast<std::int64_t>(blockDim.x) * gridDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    fn(i);
  }
}

}  // namespace detail

// Launches on `stream` and returns without synchronising; launch errors throw facet::Error.
template <typename Fn>
void ParallelForCuda(std::int64_t n, Fn fn, cudaStream_t stream = nullptr) {
  if (n <= 0) return;
  constexpr int kThreads = 256;
  // Enough blocks to fill any current GPU several times; the grid-stride loop covers the rest.
  constexpr std::int64_t kMaxBlocks = 65536;
  const auto blocks = static_cast<unsigned>(std::min(kMaxBlocks, (n + kThreads - 1) / kThreads));
  detail::GridStrideKernel<<<blocks, kThreads, 0, stream>>>(n, fn);
  FACET_CUDA_CHECK_LAUNCH();
}
#endif

}  // namespace facet
