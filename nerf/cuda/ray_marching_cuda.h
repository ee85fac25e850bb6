// The CUDA path of MarchRays (nerf/ray_marching.h) in two calls, so that the caller owns the
// device memory: CountRaySamplesCuda marches every ray once to count its kept samples and writes
// the exclusive prefix sum (ray_offsets, n_rays + 1) and returns the total; the caller allocates
// the sample arrays and FillRaySamplesCuda marches again and writes them. Both run the shared
// per-ray march (nerf/kernels/ray_marching.h), one thread per ray, so the samples equal the CPU's
// up to float rounding (nvcc may contract multiply-adds; a rounding difference can move a sample
// across a cell boundary or the box exit). Parameters come from ResolveMarchParams (host); the
// grid view's occupancy must point to a device copy of OccupancyGrid::occupancy(). Inputs are
// not validated on the device (unit directions are the caller's contract).
// The two passes are separate kernels, and nvcc may contract their multiply-adds differently, so
// the fill may keep fewer samples for a ray than the count did: FillRaySamplesCuda pads such a ray
// with zero-width samples (dt = 0: no opacity, no gradient) so that no slot is left
// uninitialised, and drops any sample past the counted ones.
// A plain C++ header (no nvcc needed); only built with the CUDA fast path (FACET_WITH_CUDA).
#pragma once

#include <cstdint>

#include "core/device_buffer.h"
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

// CountRaySamplesCuda's device scratch (the 64-bit counts and CUB's scan storage), grown and never
// shrunk: a caller that marches every step or chunk keeps one, so that nothing is allocated after
// the first call (a cudaFree per call would synchronise the device each time).
struct RayMarchScratchCuda {
  DeviceBuffer<std::uint64_t> counts;
  DeviceBuffer<std::uint8_t> scan;
};

// Writes ray_offsets (device, n_rays + 1) and returns the total sample count; synchronises
// `stream` to read it back. `scratch` null: a grow-only scratch of the calling thread. Throws
// facet::Error for null arrays, a negative count or a total above 2^32 - 1.
std::uint32_t CountRaySamplesCuda(const MarchRaysCudaInputs& in, std::uint32_t* ray_offsets,
                                  RayMarchScratchCuda* scratch = nullptr,
                                  CUstream_st* stream = nullptr);

// Writes t, dt (total), positions and sample_directions (total x 3), device arrays, for the
// ray_offsets of CountRaySamplesCuda with the same inputs. Every slot of ray r (ray_offsets[r] to
// ray_offsets[r + 1]) is written: past the samples this march keeps come zero-width samples
// (dt = 0, t and position those of the ray's last sample, or t = 0 at the grid's centre). Does not
// synchronise.
void FillRaySamplesCuda(const MarchRaysCudaInputs& in, const std::uint32_t* ray_offsets, float* t,
                        float* dt, float* positions, float* sample_directions,
                        CUstream_st* stream = nullptr);

}  // namespace facet::nerf
