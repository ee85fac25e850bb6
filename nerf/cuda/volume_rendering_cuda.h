// The CUDA path of RenderRays / RenderRaysBackward (nerf/volume_rendering.h): one thread per ray
// running the same per-ray code (nerf/kernels/volume_rendering.h) as the CPU, so the results
// agree with the CPU up to float rounding (nvcc may contract multiply-adds). All pointers are
// device arrays with the layouts of nerf/volume_rendering.h; launches are queued on `stream`
// (nullptr: the legacy default stream) without synchronising. Inputs are not validated on the
// device (sigma >= 0 is the caller's contract); the host checks below throw facet::Error.
// A plain header (no CUDA types); only built with the CUDA fast path (FACET_WITH_CUDA).
#pragma once

#include <cstdint>

struct CUstream_st;  // cudaStream_t is CUstream_st*

namespace facet::nerf {

struct CompositeSamplesCuda {
  std::int64_t n_rays = 0;
  const std::uint32_t* ray_offsets = nullptr;  // n_rays + 1
  const float* t = nullptr;                    // n
  const float* dt = nullptr;                   // n
  const float* sigma = nullptr;                // n
  const float* rgb = nullptr;                  // n x 3
  const float* background = nullptr;           // 3, or n_rays x 3 when background_per_ray
  bool background_per_ray = false;
};

// Outputs: colour (n_rays x 3), opacity, depth, samples_used (n_rays). Throws facet::Error for a
// negative ray count, a null array with n_rays > 0 or a threshold outside [0, 1).
void RenderRaysCuda(const CompositeSamplesCuda& samples, float transmittance_threshold,
                    float* colour, float* opacity, float* depth, std::uint32_t* samples_used,
                    CUstream_st* stream = nullptr);

// d_colour (n_rays x 3), d_opacity, d_depth (n_rays; each may be null = zero) → d_sigma (n),
// d_rgb (n x 3).
void RenderRaysBackwardCuda(const CompositeSamplesCuda& samples, const std::uint32_t* samples_used,
                            const float* d_colour, const float* d_opacity, const float* d_depth,
                            float* d_sigma, float* d_rgb, CUstream_st* stream = nullptr);

}  // namespace facet::nerf
