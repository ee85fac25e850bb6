// Sample generation along rays through an occupancy grid (instant-ngp, Müller et al. 2022,
// appendix E.1-E.2; nerfacc's OccGridEstimator.sampling, Li et al. 2023). The per-ray march is
// nerf/kernels/ray_marching.h (shared with the CUDA path, nerf/cuda/ray_marching_cuda.h); see
// there for the exact interval and skipping rules.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "nerf/kernels/ray_marching.h"
#include "nerf/occupancy_grid.h"

namespace facet::nerf {

struct RayMarchingOptions {
  std::uint32_t max_samples_per_ray = 1024;  // >= 1; a ray stops after this many kept samples
  // Interval length without cone stepping (scene units), > 0; 0 = sqrt(3) / 1024 times the
  // longest side of the scene box (instant-ngp's 1024 steps across the diagonal of a unit cube).
  float min_step = 0.0f;
  // Largest interval with cone stepping, >= min_step; 0 = one cell of the coarsest cascade along
  // the longest side times sqrt(3) (instant-ngp's MAX_CONE_STEPSIZE).
  float max_step = 0.0f;
  // dt = clamp(t * cone_angle, min_step, max_step), >= 0; 0 = constant steps (bounded scenes),
  // 1/256 for large scenes (instant-ngp).
  float cone_angle = 0.0f;
  float near = 0.0f;     // >= 0: samples start at t >= near
  float far = INFINITY;  // > near: and end at t <= far

  // Throws facet::Error naming the first field out of range.
  void Check() const;
};

// Samples of a batch of rays, packed ray after ray; the samples of ray r are
// [ray_offsets[r], ray_offsets[r + 1]), in increasing t.
struct RaySamples {
  std::vector<std::uint32_t> ray_offsets;  // n_rays + 1, ray_offsets[0] = 0
  // Per sample: t = distance along the ray of the sample point (the midpoint of its interval;
  // scene units, the direction being unit) and dt = the interval's length.
  std::vector<float> t, dt;
  std::vector<float> positions;   // n x 3: o + t d, scene coordinates
  std::vector<float> directions;  // n x 3: the ray's unit direction d, repeated per sample

  std::size_t size() const { return t.size(); }
  std::size_t ray_count() const { return ray_offsets.empty() ? 0 : ray_offsets.size() - 1; }
};

// The kernel parameters for `grid` (defaults of min_step / max_step resolved).
kernels::MarchParams ResolveMarchParams(const OccupancyGrid& grid,
                                        const RayMarchingOptions& options);
// The same for a grid of these options over the scene box [aabb_min, aabb_max].
kernels::MarchParams ResolveMarchParams(const Eigen::Vector3f& aabb_min,
                                        const Eigen::Vector3f& aabb_max,
                                        const OccupancyGridOptions& grid,
                                        const RayMarchingOptions& options);

// Marches n_rays rays (origins and unit directions, n_rays x 3, scene coordinates) through the
// grid's outermost cascade box, keeping the samples in occupied cells. jitter_seed != 0 offsets
// each ray's first interval by a fraction in [0, 1) of a step drawn from (seed, ray index); 0
// starts every ray at its entry point. Parallel over fixed blocks of rays whose samples are
// concatenated in order; the result does not depend on the thread count. Throws facet::Error for
// spans that are not n_rays x 3, a non-finite origin, a direction whose length is not 1 (+- 1e-3),
// or options out of range.
RaySamples MarchRays(std::span<const float> origins, std::span<const float> directions,
                     std::size_t n_rays, const OccupancyGrid& grid,
                     const RayMarchingOptions& options, std::uint32_t jitter_seed);

}  // namespace facet::nerf
