// CountRaySamplesCuda / FillRaySamplesCuda (ray_marching_cuda.h): grid-stride loops over rays
// calling the shared march (nerf/kernels/ray_marching.h); the prefix sum is CUB's.
#include <cub/device/device_scan.cuh>
#include <cuda_runtime_api.h>

#include <cstdint>

#include "core/cuda_check.h"
#include "core/error.h"
#include "core/parallel_for.h"
#include "nerf/cuda/ray_marching_cuda.h"
#include "nerf/kernels/ray_marching.h"

namespace facet::nerf {

namespace {

void CheckInputs(const MarchRaysCudaInputs& in) {
  FACET_CHECK(in.n_rays >= 0 && in.n_rays < (std::int64_t(1) << 31),
              "MarchRaysCuda: ray count out of range");
  FACET_CHECK(in.n_rays == 0 || (in.origins != nullptr && in.directions != nullptr &&
                                 in.grid.occupancy != nullptr),
              "MarchRaysCuda: null origins, directions or occupancy");
}

__device__ float Jitter(std::uint32_t seed, std::int64_t r) {
  return seed == 0 ? 0.0f : kernels::UniformFloat(seed, std::uint32_t(r), 0);
}

}  // namespace

std::uint32_t CountRaySamplesCuda(const MarchRaysCudaInputs& in, std::uint32_t* ray_offsets,
                                  CUstream_st* stream) {
  CheckInputs(in);
  FACET_CHECK(ray_offsets != nullptr, "CountRaySamplesCuda: null ray_offsets");
  // 64-bit counts for the scan, so that an overflow of 2^32 is detected.
  std::uint64_t* counts = nullptr;
  const std::int64_t n = in.n_rays;
  FACET_CUDA_CHECK(
      cudaMalloc(reinterpret_cast<void**>(&counts), sizeof(std::uint64_t) * std::size_t(n + 1)));
  const MarchRaysCudaInputs s = in;
  FACET_CUDA_CHECK(cudaMemsetAsync(counts, 0, sizeof(std::uint64_t), stream));
  ParallelForCuda(
      n,
      [=] __device__(std::int64_t r) {
        counts[r + 1] = kernels::MarchRay(s.grid, s.params, s.origins + 3 * r, s.directions + 3 * r,
                                          Jitter(s.jitter_seed, r), {});
      },
      stream);
  std::size_t temp_bytes = 0;
  FACET_CUDA_CHECK(
      cub::DeviceScan::InclusiveSum(nullptr, temp_bytes, counts + 1, counts + 1, n, stream));
  void* temp = nullptr;
  FACET_CUDA_CHECK(cudaMalloc(&temp, temp_bytes > 0 ? temp_bytes : 1));
  if (n > 0) {
    FACET_CUDA_CHECK(
        cub::DeviceScan::InclusiveSum(temp, temp_bytes, counts + 1, counts + 1, n, stream));
  }
  ParallelForCuda(
      n + 1, [=] __device__(std::int64_t i) { ray_offsets[i] = std::uint32_t(counts[i]); }, stream);
  std::uint64_t total = 0;
  FACET_CUDA_CHECK(
      cudaMemcpyAsync(&total, counts + n, sizeof(std::uint64_t), cudaMemcpyDeviceToHost, stream));
  FACET_CUDA_CHECK(cudaStreamSynchronize(stream));
  cudaFree(temp);
  cudaFree(counts);
  FACET_CHECK(total <= 0xffffffffull, "CountRaySamplesCuda: more than 2^32 - 1 samples");
  return std::uint32_t(total);
}

void FillRaySamplesCuda(const MarchRaysCudaInputs& in, const std::uint32_t* ray_offsets, float* t,
                        float* dt, float* positions, float* sample_directions,
                        CUstream_st* stream) {
  CheckInputs(in);
  FACET_CHECK(in.n_rays == 0 || ray_offsets != nullptr, "FillRaySamplesCuda: null ray_offsets");
  const MarchRaysCudaInputs s = in;
  ParallelForCuda(
      s.n_rays,
      [=] __device__(std::int64_t r) {
        const std::uint32_t b = ray_offsets[r];
        kernels::SampleOut out;
        out.t = t + b;
        out.dt = dt + b;
        out.positions = positions + 3 * std::size_t(b);
        out.directions = sample_directions + 3 * std::size_t(b);
        out.capacity = ray_offsets[r + 1] - b;
        kernels::MarchRay(s.grid, s.params, s.origins + 3 * r, s.directions + 3 * r,
                          Jitter(s.jitter_seed, r), out);
      },
      stream);
}

}  // namespace facet::nerf
