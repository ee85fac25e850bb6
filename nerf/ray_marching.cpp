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
  return ResolveMarchParams(grid.aabb_min(), grid.aabb_max(), grid.options(), options);
}

kernels::MarchParams ResolveMarchParams(const Eigen::Vector3f& aabb_min,
                                        const Eigen::Vector3f& aabb_max,
                                        const OccupancyGridOptions& grid,
                                        const RayMarchingOptions& options) {
  options.Check();
  const float side = (aabb_max - aabb_min).maxCoeff();
  kernels::MarchParams p;
  p.near = options.near;
  p.far = options.far;
  p.cone_angle = options.cone_angle;
  p.max_samples = options.max_samples_per_ray;
  p.min_step = options.min_step > 0.0f ? options.min_step : std::sqrt(3.0f) / 1024.0f * side;
  p.max_step = options.max_step > 0.0f ? options.max_step
                                       : std::sqrt(3.0f) * side * float(1u << (grid.cascades - 1)) /
                                             float(grid.resolution);
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
  // One march per ray: fixed blocks of rays fill their own buffers in parallel, which are then
  // concatenated in block order, so the result does not depend on the schedule.
  constexpr std::size_t kBlock = 256;
  const std::size_t n_blocks = (n_rays + kBlock - 1) / kBlock;
  struct Block {
    std::vector<float> t, dt, positions, directions;
    std::size_t used = 0;
  };
  std::vector<Block> blocks(n_blocks);
  RaySamples out;
  out.ray_offsets.assign(n_rays + 1, 0);
  ParallelFor(std::int64_t(n_blocks), [&](std::int64_t block_index) {
    Block& block = blocks[std::size_t(block_index)];
    const std::size_t end = std::min(n_rays, (std::size_t(block_index) + 1) * kBlock);
    for (std::size_t i = std::size_t(block_index) * kBlock; i < end; ++i) {
      // Room for a full ray: grow geometrically so that new elements are rarely initialised.
      if (block.used + params.max_samples > block.t.size()) {
        const std::size_t size = std::max(2 * block.t.size(), block.used + params.max_samples);
        block.t.resize(size);
        block.dt.resize(size);
        block.positions.resize(3 * size);
        block.directions.resize(3 * size);
      }
      const std::size_t u = block.used;
      const kernels::SampleOut sink{block.t.data() + u, block.dt.data() + u,
                                    block.positions.data() + 3 * u, block.directions.data() + 3 * u,
                                    params.max_samples};
      const std::uint32_t n =
          kernels::MarchRay(view, params, &origins[3 * i], &directions[3 * i], jitter(i), sink);
      out.ray_offsets[i + 1] = n;
      block.used += n;
    }
  });
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
  ParallelFor(std::int64_t(n_blocks), [&](std::int64_t block_index) {
    const Block& block = blocks[std::size_t(block_index)];
    const std::size_t begin = out.ray_offsets[std::size_t(block_index) * kBlock];
    std::copy_n(block.t.begin(), block.used, out.t.begin() + std::ptrdiff_t(begin));
    std::copy_n(block.dt.begin(), block.used, out.dt.begin() + std::ptrdiff_t(begin));
    std::copy_n(block.positions.begin(), 3 * block.used,
                out.positions.begin() + std::ptrdiff_t(3 * begin));
    std::copy_n(block.directions.begin(), 3 * block.used,
                out.directions.begin() + std::ptrdiff_t(3 * begin));
  });
  return out;
}

}  // namespace facet::nerf
