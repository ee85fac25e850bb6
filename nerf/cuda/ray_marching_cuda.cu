// CountRaySamplesCuda / FillRaySamplesCuda (ray_marching_cuda.h): grid-stride loops over rays
// calling the shared march (nerf/kernels/ray_marching.h); the prefix sum is CUB's.
#include <cub/device/device_scan.cuh>
#include <cuda_runtime_api.h>

#include <algorithm>
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

// Slots [first, capacity) of a ray whose fill march kept fewer samples than its count (another
// contraction of a multiply-add in the other kernel): zero-width samples, which add no opacity
// and get no gradient (volume_rendering.h: alpha = 1 - exp(-sigma dt)), at the last kept sample
// (or t = 0 at the grid's centre, a point the field evaluates without trouble).
__device__ void PadSamples(const kernels::SampleOut& out, std::uint32_t first, const float* d,
                           const float* centre) {
  for (std::uint32_t i = first; i < out.capacity; ++i) {
    out.t[i] = i > 0 ? out.t[i - 1] : 0.0f;
    out.dt[i] = 0.0f;
    for (int k = 0; k < 3; ++k) {
      out.positions[3 * i + k] = i > 0 ? out.positions[3 * (i - 1) + k] : centre[k];
      out.directions[3 * i + k] = d[k];
    }
  }
}

}  // namespace

std::uint32_t CountRaySamplesCuda(const MarchRaysCudaInputs& in, std::uint32_t* ray_offsets,
                                  RayMarchScratchCuda* scratch, CUstream_st* stream) {
  CheckInputs(in);
  FACET_CHECK(ray_offsets != nullptr, "CountRaySamplesCuda: null ray_offsets");
  thread_local RayMarchScratchCuda thread_scratch;
  RayMarchScratchCuda& work = scratch != nullptr ? *scratch : thread_scratch;
  const std::int64_t n = in.n_rays;
  // 64-bit counts for the scan, so that an overflow of 2^32 is detected.
  work.counts.Resize(n + 1);
  std::uint64_t* counts = work.counts.data();
  const MarchRaysCudaInputs s = in;
  FACET_CUDA_CHECK(cudaMemsetAsync(counts, 0, sizeof(std::uint64_t), stream));
  ParallelForCuda(
      n,
      [=] __device__(std::int64_t r) {
        counts[r + 1] = kernels::MarchRay(s.grid, s.params, s.origins + 3 * r, s.directions + 3 * r,
                                          Jitter(s.jitter_seed, r), {});
      },
      stream);
  if (n > 0) {
    std::size_t temp_bytes = 0;
    FACET_CUDA_CHECK(
        cub::DeviceScan::InclusiveSum(nullptr, temp_bytes, counts + 1, counts + 1, n, stream));
    work.scan.Resize(std::int64_t(std::max<std::size_t>(temp_bytes, 1)));
    FACET_CUDA_CHECK(cub::DeviceScan::InclusiveSum(work.scan.data(), temp_bytes, counts + 1,
                                                   counts + 1, n, stream));
  }
  ParallelForCuda(
      n + 1, [=] __device__(std::int64_t i) { ray_offsets[i] = std::uint32_t(counts[i]); }, stream);
  std::uint64_t total = 0;
  FACET_CUDA_CHECK(
      cudaMemcpyAsync(&total, counts + n, sizeof(std::uint64_t), cudaMemcpyDeviceToHost, stream));
  FACET_CUDA_CHECK(cudaStreamSynchronize(stream));
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
        const float* d = s.directions + 3 * r;
        kernels::SampleOut out;
        out.t = t + b;
        out.dt = dt + b;
        out.positions = positions + 3 * std::size_t(b);
        out.directions = sample_directions + 3 * std::size_t(b);
        out.capacity = ray_offsets[r + 1] - b;
        const std::uint32_t kept = kernels::MarchRay(s.grid, s.params, s.origins + 3 * r, d,
                                                     Jitter(s.jitter_seed, r), out);
        PadSamples(out, kept < out.capacity ? kept : out.capacity, d, s.grid.centre);
      },
      stream);
}

}  // namespace facet::nerf
