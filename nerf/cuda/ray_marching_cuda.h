// The CUDA path of MarchRays (nerf/ray_marching.h) in two calls, so that the caller owns the
// device memory: CountRaySamplesCuda marches every ray once to count its kept samples and writes
// the exclusive prefix sum (ray_offsets, n_rays + 1) and returns the total; the caller allocates
// the sample arrays and FillRaySamplesCuda marches again and writes them. Both run the shared
// per-ray march (nerf/kernels/ray_marching.h), one thread per ray, so the samples equal the CPU's
// up to float rounding (nvcc may contract multiply-adds; a rounding difference can move a sample
// across a cell boundary or the box exit). Parameters come from ResolveMarchParams (host); the
// grid view's occupancy must point to a device copy of OccupancyGrid::occupancy(). Inputs are
// not validated on the device (unit directions are the caller's contract).
// A plain header (no CUDA types); only built with the CUDA fast path (FACET_WITH_CUDA).
#pragma once

#include <cstdint>

#include "nerf/kernels/ray_marching.h"

struct CUstream_st;

namespace facet::nerf {

struct MarchRaysCudaInputs {
  std::int64_t n_rays = 0;
  const float* origins = nullptr;     // n_rays x 3, device
  const float* directions = nullptr;  // n_rays x 3, device, unit
  kernels::GridView grid;             // occupancy in device memory
  kernels::MarchParams params;
  std::uint32_t jitter_seed = 0;  // as MarchRays
};

// Writes ray_offsets (device, n_rays + 1) and returns the total sample count; synchronises
// `stream` to read it back. Throws facet::Error for null arrays, a negative count or a total
// above 2^32 - 1.
std::uint32_t CountRaySamplesCuda(const MarchRaysCudaInputs& in, std::uint32_t* ray_offsets,
                                  CUstream_st* stream = nullptr);

// Writes t, dt (total), positions and sample_directions (total x 3), device arrays, for the
// ray_offsets of CountRaySamplesCuda with the same inputs. Does not synchronise.
void FillRaySamplesCuda(const MarchRaysCudaInputs& in, const std::uint32_t* ray_offsets, float* t,
                        float* dt, float* positions, float* sample_directions,
                        CUstream_st* stream = nullptr);

}  // namespace facet::nerf
