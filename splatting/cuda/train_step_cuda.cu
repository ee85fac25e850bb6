// The device kernels of CudaTrainState (detail/train_kernels.h).
#include <cub/block/block_reduce.cuh>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdint>

#include "core/cuda_check.h"
#include "core/parallel_for.h"
#include "splatting/cuda/detail/train_kernels.h"

namespace facet::splatting::detail {
namespace {

constexpr int kThreads = 256;
constexpr std::int64_t kMaxBlocks = 4096;

__global__ void SquaredErrorSumKernel(const float* render, const float* target, std::int64_t n,
                                      double* sum) {
  double local = 0.0;
  const std::int64_t stride = std::int64_t(gridDim.x) * blockDim.x;
  for (std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const double d = double(fminf(fmaxf(render[i], 0.0f), 1.0f)) - double(target[i]);
    local += d * d;
  }
  using BlockReduce = cub::BlockReduce<double, kThreads>;
  __shared__ typename BlockReduce::TempStorage storage;
  const double block = BlockReduce(storage).Sum(local);
  if (threadIdx.x == 0) atomicAdd(sum, block);
}

}  // namespace

void LaunchBytesToUnitFloat(const std::uint8_t* in, float* out, std::int64_t count,
                            CUstream_st* stream) {
  ParallelForCuda(
      count, [=] __device__(std::int64_t i) { out[i] = float(in[i]) * (1.0f / 255.0f); }, stream);
}

void LaunchSquaredErrorSum(const float* render, const float* target, std::int64_t count,
                           double* sum, CUstream_st* stream) {
  FACET_CUDA_CHECK(cudaMemsetAsync(sum, 0, sizeof(double), stream));
  if (count <= 0) return;
  const auto blocks =
      static_cast<unsigned>(std::min(kMaxBlocks, (count + kThreads - 1) / kThreads));
  SquaredErrorSumKernel<<<blocks, kThreads, 0, stream>>>(render, target, count, sum);
  FACET_CUDA_CHECK_LAUNCH();
}

}  // namespace facet::splatting::detail
