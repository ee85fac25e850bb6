// RenderRaysCuda / RenderRaysBackwardCuda (volume_rendering_cuda.h): a grid-stride loop over rays
// calling the shared per-ray compositing (nerf/kernels/volume_rendering.h).
#include <cuda_runtime_api.h>

#include <cstdint>

#include "core/error.h"
#include "core/parallel_for.h"
#include "nerf/cuda/volume_rendering_cuda.h"
#include "nerf/kernels/volume_rendering.h"

namespace facet::nerf {

namespace {

void CheckSamples(const CompositeSamplesCuda& s) {
  FACET_CHECK(s.n_rays >= 0, "RenderRaysCuda: negative ray count");
  FACET_CHECK(s.n_rays == 0 || (s.ray_offsets != nullptr && s.t != nullptr && s.dt != nullptr &&
                                s.sigma != nullptr && s.rgb != nullptr && s.background != nullptr),
              "RenderRaysCuda: null sample array");
}

}  // namespace

void RenderRaysCuda(const CompositeSamplesCuda& samples, float transmittance_threshold,
                    float* colour, float* opacity, float* depth, std::uint32_t* samples_used,
                    CUstream_st* stream) {
  CheckSamples(samples);
  FACET_CHECK(transmittance_threshold >= 0.0f && transmittance_threshold < 1.0f,
              "RenderRaysCuda: transmittance_threshold must be in [0, 1)");
  FACET_CHECK(samples.n_rays == 0 || (colour != nullptr && opacity != nullptr && depth != nullptr &&
                                      samples_used != nullptr),
              "RenderRaysCuda: null output array");
  const CompositeSamplesCuda s = samples;
  const float threshold = transmittance_threshold;
  ParallelForCuda(
      s.n_rays,
      [=] __device__(std::int64_t r) {
        const std::uint32_t b = s.ray_offsets[r];
        const float* background = s.background_per_ray ? s.background + 3 * r : s.background;
        const kernels::RayResult res =
            kernels::CompositeRay(s.ray_offsets[r + 1] - b, s.sigma + b, s.rgb + 3 * b, s.t + b,
                                  s.dt + b, background, threshold);
        for (int k = 0; k < 3; ++k) colour[3 * r + k] = res.colour[k];
        opacity[r] = res.opacity;
        depth[r] = res.depth;
        samples_used[r] = res.used;
      },
      stream);
}

void RenderRaysBackwardCuda(const CompositeSamplesCuda& samples, const std::uint32_t* samples_used,
                            const float* d_colour, const float* d_opacity, const float* d_depth,
                            float* d_sigma, float* d_rgb, CUstream_st* stream) {
  CheckSamples(samples);
  FACET_CHECK(
      samples.n_rays == 0 || (samples_used != nullptr && d_sigma != nullptr && d_rgb != nullptr),
      "RenderRaysBackwardCuda: null samples_used or gradient array");
  const CompositeSamplesCuda s = samples;
  ParallelForCuda(
      s.n_rays,
      [=] __device__(std::int64_t r) {
        const std::uint32_t b = s.ray_offsets[r];
        const float zero[3] = {0.0f, 0.0f, 0.0f};
        const float* background = s.background_per_ray ? s.background + 3 * r : s.background;
        kernels::CompositeRayBackward(
            s.ray_offsets[r + 1] - b, samples_used[r], s.sigma + b, s.rgb + 3 * b, s.t + b,
            s.dt + b, background, d_colour != nullptr ? d_colour + 3 * r : zero,
            d_opacity != nullptr ? d_opacity[r] : 0.0f, d_depth != nullptr ? d_depth[r] : 0.0f,
            d_sigma + b, d_rgb + 3 * b);
      },
      stream);
}

}  // namespace facet::nerf
