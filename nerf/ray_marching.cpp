#include "nerf/ray_marching.h"

#include <algorithm>
#include <atomic>
#include <cmath>

#include "core/error.h"
#include "core/parallel_for.h"

namespace facet::nerf {

void RayMarchingOptions::Check() const {
  FACET_CHECK(max_samples_per_ray >= 1, "RayMarching max_samples_per_ray must be >= 1 (got {})",
              max_samples_per_ray);
  FACET_CHECK(std::isfinite(min_step) && min_step >= 0.0f,
              "RayMarching min_step must be > 0, or 0 for the default (got {})", min_step);
  FACET_CHECK(
      std::isfinite(max_step) && max_step >= 0.0f && (max_step == 0.0f || max_step >= min_step),
      "RayMarching max_step must be >= min_step, or 0 for the default (got {})", max_step);
  FACET_CHECK(std::isfinite(cone_angle) && cone_angle >= 0.0f,
              "RayMarching cone_angle must be >= 0 (got {})", cone_angle);
  FACET_CHECK(std::isfinite(near) && near >= 0.0f, "RayMarching near must be >= 0 (got {})", near);
  FACET_CHECK(far > near, "RayMarching far must be > near (got {} and {})", far, near);
}

kernels::MarchParams ResolveMarchParams(const OccupancyGrid& grid,
                                        const RayMarchingOptions& options) {
  options.Check();
  const float side = (grid.aabb_max() - grid.aabb_min()).maxCoeff();
  kernels::MarchParams p;
  p.near = options.near;
  p.far = options.far;
  p.cone_angle = options.cone_angle;
  p.max_samples = options.max_samples_per_ray;
  p.min_step = options.min_step > 0.0f ? options.min_step : std::sqrt(3.0f) / 1024.0f * side;
  p.max_step = options.max_step > 0.0f
                   ? options.max_step
                   : std::sqrt(3.0f) * side * float(1u << (grid.options().cascades - 1)) /
                         float(grid.options().resolution);
  p.max_step = std::max(p.max_step, p.min_step);
  return p;
}

RaySamples MarchRays(std::span<const float> origins, std::span<const float> directions,
                     std::size_t n_rays, const OccupancyGrid& grid,
                     const RayMarchingOptions& options, std::uint32_t jitter_seed) {
  const kernels::MarchParams params = ResolveMarchParams(grid, options);
  FACET_CHECK(origins.size() == 3 * n_rays && directions.size() == 3 * n_rays,
              "MarchRays: {} origin and {} direction floats for {} rays (need 3 per ray)",
              origins.size(), directions.size(), n_rays);
  FACET_CHECK(n_rays < (std::size_t(1) << 31), "MarchRays: too many rays ({})", n_rays);
  std::atomic<bool> bad_input{false};
  ParallelFor(
      std::int64_t(n_rays),
      [&](std::int64_t r) {
        const float* o = &origins[3 * std::size_t(r)];
        const float* d = &directions[3 * std::size_t(r)];
        const float norm = std::sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
        if (!std::isfinite(o[0] + o[1] + o[2]) || !(std::fabs(norm - 1.0f) <= 1e-3f)) {
          bad_input.store(true, std::memory_order_relaxed);
        }
      },
      1024);
  FACET_CHECK(!bad_input.load(),
              "MarchRays: every origin must be finite and every direction of unit length");

  const kernels::GridView view = grid.View();
  auto jitter = [&](std::size_t r) {
    return jitter_seed == 0 ? 0.0f : kernels::UniformFloat(jitter_seed, std::uint32_t(r), 0);
  };
  RaySamples out;
  out.ray_offsets.assign(n_rays + 1, 0);
  ParallelFor(
      std::int64_t(n_rays),
      [&](std::int64_t r) {
        const std::size_t i = std::size_t(r);
        out.ray_offsets[i + 1] =
            kernels::MarchRay(view, params, &origins[3 * i], &directions[3 * i], jitter(i), {});
      },
      64);
  std::uint64_t total = 0;
  for (std::size_t r = 0; r < n_rays; ++r) {
    total += out.ray_offsets[r + 1];
    FACET_CHECK(total <= 0xffffffffull, "MarchRays: more than 2^32 samples");
    out.ray_offsets[r + 1] = std::uint32_t(total);
  }
  out.t.resize(total);
  out.dt.resize(total);
  out.positions.resize(3 * total);
  out.directions.resize(3 * total);
  std::atomic<bool> mismatch{false};
  ParallelFor(
      std::int64_t(n_rays),
      [&](std::int64_t r) {
        const std::size_t i = std::size_t(r);
        const std::uint32_t begin = out.ray_offsets[i], count = out.ray_offsets[i + 1] - begin;
        kernels::SampleOut sink{out.t.data() + begin, out.dt.data() + begin,
                                out.positions.data() + 3 * std::size_t(begin),
                                out.directions.data() + 3 * std::size_t(begin), count};
        // The same function and inputs as the counting pass, so the same count; checked anyway.
        if (kernels::MarchRay(view, params, &origins[3 * i], &directions[3 * i], jitter(i), sink) !=
            count) {
          mismatch.store(true, std::memory_order_relaxed);
        }
      },
      64);
  FACET_CHECK(!mismatch.load(), "MarchRays: the fill pass disagrees with the counting pass");
  return out;
}

}  // namespace facet::nerf
