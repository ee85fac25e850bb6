// The occupancy grid (nerf/occupancy_grid.h) and ray marching (nerf/ray_marching.h) on an
// analytic sphere: the update rule and derived occupancy, cascades, checkpoints; samples inside
// the box, increasing in t, deterministic; empty-space skipping keeps exactly the samples of the
// occupied cells and leaves the rendered sphere unchanged while dropping most samples.
#include "nerf/occupancy_grid.h"

#include <gtest/gtest.h>
#include <oneapi/tbb/task_arena.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "nerf/ray_marching.h"
#include "nerf/volume_rendering.h"
#include "toy_scene.h"

namespace facet::nerf {
namespace {

using testing::RandomRays;
using testing::SphereDensityBatch;

const Eigen::Vector3f kBoxMin(0.0f, 0.0f, 0.0f), kBoxMax(1.0f, 1.0f, 1.0f);

OccupancyGrid SphereGrid(int resolution, int cascades, int updates) {
  OccupancyGridOptions options;
  options.resolution = resolution;
  options.cascades = cascades;
  OccupancyGrid grid(kBoxMin, kBoxMax, options);
  for (int step = 0; step < updates; ++step) {
    grid.Update(SphereDensityBatch, step, std::uint32_t(1000 + step));
  }
  return grid;
}

TEST(OccupancyGrid, UpdateMarksTheSphere) {
  OccupancyGridOptions options;
  options.resolution = 32;
  OccupancyGrid grid(kBoxMin, kBoxMax, options);
  EXPECT_EQ(grid.OccupiedFraction(), 1.0);  // nothing known yet
  grid.Update(SphereDensityBatch, 0, 1);
  // Mean density = 50 * sphere volume fraction (~5.65) > 0.01: the threshold is 0.01.
  EXPECT_FLOAT_EQ(grid.effective_threshold(), 0.01f);
  EXPECT_TRUE(grid.Occupied(Eigen::Vector3f(0.5f, 0.5f, 0.5f)));
  EXPECT_TRUE(grid.Occupied(Eigen::Vector3f(0.5f, 0.5f, 0.75f)));
  EXPECT_FALSE(grid.Occupied(Eigen::Vector3f(0.05f, 0.05f, 0.05f)));
  EXPECT_FALSE(grid.Occupied(Eigen::Vector3f(0.5f, 0.5f, 0.85f)));
  EXPECT_FALSE(grid.Occupied(Eigen::Vector3f(1.5f, 0.5f, 0.5f)));  // outside the only cascade
  // One jittered point per cell: the occupied fraction is the sphere's volume fraction
  // (4/3 pi 0.3^3 = 0.113) up to the boundary cells (surface 4 pi 0.09 = 1.13 times a cell
  // width 1/32 is +-0.035).
  EXPECT_NEAR(grid.OccupiedFraction(), 0.113, 0.035);
  // Every occupied cell's value is the sphere density; the values outside are zero.
  for (std::size_t i = 0; i < grid.cell_count(); ++i) {
    EXPECT_TRUE(grid.values()[i] == 0.0f || grid.values()[i] == 50.0f);
  }
}

TEST(OccupancyGrid, ValuesDecayAndTheThresholdFollowsTheMean) {
  OccupancyGridOptions options;
  options.resolution = 8;
  options.decay = 0.5f;
  options.threshold = 100.0f;
  OccupancyGrid grid(kBoxMin, kBoxMax, options);
  grid.Update(SphereDensityBatch, 0, 3);
  const std::vector<float> before(grid.values().begin(), grid.values().end());
  // threshold 100 > mean: the threshold is the mean, so the sphere cells stay occupied.
  EXPECT_LT(grid.effective_threshold(), 50.0f);
  EXPECT_GT(grid.OccupiedFraction(), 0.0);
  auto zero = [](std::span<const float>, std::size_t n, std::span<float> d) {
    for (std::size_t i = 0; i < n; ++i) d[i] = 0.0f;
  };
  grid.Update(zero, 1, 4);
  for (std::size_t i = 0; i < grid.cell_count(); ++i) {
    EXPECT_FLOAT_EQ(grid.values()[i], 0.5f * before[i]);
  }
  // After warm-up only occupied cells and a random quarter are evaluated; the rest only decay.
  options.warmup_steps = 0;
  options.refresh_fraction = 0.0f;
  OccupancyGrid lazy(kBoxMin, kBoxMax, options);
  std::size_t evaluated = 0;
  auto count = [&](std::span<const float>, std::size_t n, std::span<float> d) {
    evaluated += n;
    for (std::size_t i = 0; i < n; ++i) d[i] = 0.0f;
  };
  lazy.Update(count, 5, 6);  // all occupied before the first update: every cell
  EXPECT_EQ(evaluated, lazy.cell_count());
  lazy.Update(count, 6, 7);  // none occupied, refresh 0: none
  EXPECT_EQ(evaluated, lazy.cell_count());
}

TEST(OccupancyGrid, CascadesCoverTheScaledBoxAndPoolFinerCells) {
  const OccupancyGrid grid = SphereGrid(16, 3, 2);
  const kernels::GridView view = grid.View();
  const float inside[3] = {0.5f, 0.5f, 0.5f}, second[3] = {1.3f, 0.5f, 0.5f},
              third[3] = {2.2f, -1.1f, 0.5f}, outside[3] = {3.1f, 0.5f, 0.5f};
  EXPECT_EQ(kernels::CascadeOf(view, inside), 0);
  EXPECT_EQ(kernels::CascadeOf(view, second), 1);
  EXPECT_EQ(kernels::CascadeOf(view, third), 2);
  EXPECT_EQ(kernels::CascadeOf(view, outside), 3);
  EXPECT_FALSE(grid.Occupied(Eigen::Vector3f(3.1f, 0.5f, 0.5f)));
  // Every occupied cell of cascade c - 1 lies in an occupied cell of cascade c.
  const std::size_t per_cascade = 16 * 16 * 16;
  for (int c = 1; c < 3; ++c) {
    for (std::size_t i = 0; i < per_cascade; ++i) {
      const std::size_t fine = std::size_t(c - 1) * per_cascade + i;
      if (grid.occupancy()[fine] == 0) continue;
      const Eigen::Vector3f x = grid.CellCentre(fine);
      const float p[3] = {x.x(), x.y(), x.z()};
      EXPECT_EQ(grid.occupancy()[kernels::CellIndex(view, p, c)], 1);
    }
  }
  // The sphere lies in cascade 0; the outer shells of cascades 1 and 2 are empty.
  EXPECT_FALSE(grid.Occupied(Eigen::Vector3f(1.6f, 1.6f, 1.6f)));
}

TEST(OccupancyGrid, UpdatesAreDeterministicAndCheckpointsRoundTrip) {
  const OccupancyGrid a = SphereGrid(24, 2, 3);
  OccupancyGrid b = SphereGrid(24, 2, 3);
  ASSERT_EQ(a.values().size(), b.values().size());
  EXPECT_TRUE(std::equal(a.values().begin(), a.values().end(), b.values().begin()));
  OccupancyGridOptions options;
  options.resolution = 24;
  options.cascades = 2;
  OccupancyGrid restored(kBoxMin, kBoxMax, options);
  restored.SetValues(a.values());
  EXPECT_TRUE(std::equal(a.occupancy().begin(), a.occupancy().end(), restored.occupancy().begin()));
  EXPECT_THROW(restored.SetValues(std::vector<float>(5, 0.0f)), Error);
  std::vector<float> negative(a.values().begin(), a.values().end());
  negative[7] = -1.0f;
  EXPECT_THROW(restored.SetValues(negative), Error);
}

TEST(OccupancyGrid, BadInputThrows) {
  OccupancyGridOptions options;
  EXPECT_THROW(OccupancyGrid(kBoxMax, kBoxMin, options), Error);
  options.resolution = 0;
  EXPECT_THROW(OccupancyGrid(kBoxMin, kBoxMax, options), Error);
  options = {};
  options.cascades = 9;
  EXPECT_THROW(options.Check(), Error);
  options = {};
  options.decay = 1.5f;
  EXPECT_THROW(options.Check(), Error);
  options = {};
  options.threshold = 0.0f;
  EXPECT_THROW(options.Check(), Error);
  options = {};
  options.resolution = 8;
  OccupancyGrid grid(kBoxMin, kBoxMax, options);
  auto bad = [](std::span<const float>, std::size_t n, std::span<float> d) {
    for (std::size_t i = 0; i < n; ++i) d[i] = -1.0f;
  };
  EXPECT_THROW(grid.Update(bad, 0, 1), Error);
}

bool Same(const RaySamples& a, const RaySamples& b) {
  return a.ray_offsets == b.ray_offsets && a.t == b.t && a.dt == b.dt &&
         a.positions == b.positions && a.directions == b.directions;
}

TEST(RayMarching, SamplesStayInTheBoxIncreaseAndAreDeterministic) {
  const OccupancyGrid grid = SphereGrid(32, 2, 2);
  const testing::Rays rays = RandomRays(500, 9);
  RayMarchingOptions options;
  options.cone_angle = 1.0f / 256.0f;
  const RaySamples s = MarchRays(rays.origins, rays.directions, rays.count, grid, options, 21);
  ASSERT_GT(s.size(), 1000u);
  const kernels::MarchParams p = ResolveMarchParams(grid, options);
  for (std::size_t r = 0; r < rays.count; ++r) {
    for (std::uint32_t i = s.ray_offsets[r]; i < s.ray_offsets[r + 1]; ++i) {
      // Inside the outermost cascade box [-0.5, 1.5]^3 and in an occupied cell.
      const Eigen::Vector3f x(s.positions[3 * i], s.positions[3 * i + 1], s.positions[3 * i + 2]);
      EXPECT_TRUE((x.array() >= -0.5f - 1e-5f).all() && (x.array() <= 1.5f + 1e-5f).all());
      EXPECT_TRUE(grid.Occupied(x));
      EXPECT_GT(s.dt[i], 0.0f);
      EXPECT_LE(s.dt[i], p.max_step * (1.0f + 1e-6f));
      if (i > s.ray_offsets[r]) {  // intervals do not overlap
        EXPECT_GE(s.t[i] - 0.5f * s.dt[i], s.t[i - 1] + 0.5f * s.dt[i - 1] - 1e-5f);
      }
      for (int k = 0; k < 3; ++k) EXPECT_EQ(s.directions[3 * i + k], rays.directions[3 * r + k]);
    }
  }
  // The same on one thread and on repeated runs.
  RaySamples single;
  oneapi::tbb::task_arena one(1);
  one.execute(
      [&] { single = MarchRays(rays.origins, rays.directions, rays.count, grid, options, 21); });
  EXPECT_TRUE(Same(s, single));
  EXPECT_TRUE(Same(s, MarchRays(rays.origins, rays.directions, rays.count, grid, options, 21)));
}

// With the same lattice (no jitter), skipping keeps exactly the full grid's samples whose points
// are occupied: the DDA jump drops no sample of an occupied cell. Cone stepping and 3 cascades.
TEST(RayMarching, SkippingKeepsExactlyTheOccupiedSamples) {
  const OccupancyGrid grid = SphereGrid(32, 3, 2);
  OccupancyGridOptions options = grid.options();
  OccupancyGrid full(kBoxMin, kBoxMax, options);
  const testing::Rays rays = RandomRays(300, 4);
  for (const float cone : {0.0f, 1.0f / 64.0f}) {
    RayMarchingOptions march;
    march.cone_angle = cone;
    march.max_samples_per_ray = 100000;
    const RaySamples all = MarchRays(rays.origins, rays.directions, rays.count, full, march, 0);
    const RaySamples kept = MarchRays(rays.origins, rays.directions, rays.count, grid, march, 0);
    for (std::size_t r = 0; r < rays.count; ++r) {
      std::vector<float> expected;
      for (std::uint32_t i = all.ray_offsets[r]; i < all.ray_offsets[r + 1]; ++i) {
        const Eigen::Vector3f x(all.positions[3 * i], all.positions[3 * i + 1],
                                all.positions[3 * i + 2]);
        if (grid.Occupied(x)) expected.push_back(all.t[i]);
      }
      const std::vector<float> got(kept.t.begin() + kept.ray_offsets[r],
                                   kept.t.begin() + kept.ray_offsets[r + 1]);
      EXPECT_EQ(got, expected) << "ray " << r << " cone " << cone;
    }
  }
}

// Rendering the sphere (colour = position) with the full grid and with the updated grid: the
// cells the update missed are boundary cells whose jittered points fell outside the sphere, so
// the images agree up to a small tolerance while the updated grid needs far fewer samples.
TEST(RayMarching, SkippingLeavesTheRenderedSphereUnchanged) {
  const OccupancyGrid grid = SphereGrid(64, 1, 8);
  OccupancyGrid full(kBoxMin, kBoxMax, grid.options());
  const testing::Rays rays = RandomRays(2000, 12);
  const std::vector<float> background{0.5f, 0.5f, 0.5f};
  auto render = [&](const OccupancyGrid& g, std::size_t* samples) {
    const RaySamples s = MarchRays(rays.origins, rays.directions, rays.count, g, {}, 33);
    *samples = s.size();
    std::vector<float> sigma(s.size());
    SphereDensityBatch(s.positions, s.size(), sigma);
    std::vector<float> out(4 * rays.count);
    std::vector<float> depth(rays.count);
    std::vector<std::uint32_t> used(rays.count);
    RenderRays(
        {s.ray_offsets, s.t, s.dt, sigma, s.positions}, background, {},
        {std::span(out).first(3 * rays.count), std::span(out).last(rays.count), depth, used});
    return out;
  };
  std::size_t n_full = 0, n_skip = 0;
  const std::vector<float> a = render(full, &n_full), b = render(grid, &n_skip);
  double sum = 0.0, worst = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    sum += std::fabs(a[i] - b[i]);
    worst = std::max(worst, double(std::fabs(a[i] - b[i])));
  }
  EXPECT_LT(sum / double(a.size()), 2e-3);
  EXPECT_LT(worst, 0.1);
  // Occupied cells lie within a cell diagonal of the sphere, so each ray keeps at most the
  // samples of its chord through the sphere grown by that diagonal (+1 for the partial step);
  // the full grid samples the whole box chord. The rays aim at the box's central region, where
  // the sphere sits, so the factor is about 5 here (and grows with the empty space).
  const float step = ResolveMarchParams(grid, {}).min_step;
  const float grown = testing::kSphereRadius + std::sqrt(3.0f) / 64.0f;
  double bound = 0.0;
  for (std::size_t r = 0; r < rays.count; ++r) {
    const Eigen::Vector3f o(&rays.origins[3 * r]), d(&rays.directions[3 * r]);
    const Eigen::Vector3f oc = o - Eigen::Vector3f::Constant(0.5f);
    const float half_b = oc.dot(d), disc = half_b * half_b - (oc.squaredNorm() - grown * grown);
    if (disc > 0.0f) bound += std::floor(2.0f * std::sqrt(disc) / step) + 2.0;
  }
  EXPECT_LE(double(n_skip), bound);
  EXPECT_GT(double(n_full) / double(n_skip), 4.0) << n_full << " vs " << n_skip;
}

TEST(RayMarching, BadInputThrows) {
  const OccupancyGrid grid = SphereGrid(8, 1, 1);
  const std::vector<float> o{0.5f, 0.5f, -1.0f}, d{0.0f, 0.0f, 1.0f};
  EXPECT_NO_THROW(MarchRays(o, d, 1, grid, {}, 0));
  EXPECT_THROW(MarchRays(o, d, 2, grid, {}, 0), Error);
  EXPECT_THROW(MarchRays(o, std::vector<float>{0.0f, 0.0f, 2.0f}, 1, grid, {}, 0), Error);
  EXPECT_THROW(MarchRays(std::vector<float>{NAN, 0.0f, 0.0f}, d, 1, grid, {}, 0), Error);
  RayMarchingOptions options;
  options.cone_angle = -1.0f;
  EXPECT_THROW(MarchRays(o, d, 1, grid, options, 0), Error);
  options = {};
  options.min_step = 0.1f;
  options.max_step = 0.05f;
  EXPECT_THROW(MarchRays(o, d, 1, grid, options, 0), Error);
  options = {};
  options.max_samples_per_ray = 0;
  EXPECT_THROW(MarchRays(o, d, 1, grid, options, 0), Error);
  // A ray missing the box has no samples; one along an axis (zero direction components) crosses.
  const RaySamples miss = MarchRays(std::vector<float>{5.0f, 5.0f, 5.0f}, d, 1, grid, {}, 0);
  EXPECT_EQ(miss.size(), 0u);
  options = {};
  options.max_samples_per_ray = 7;
  EXPECT_LE(MarchRays(o, d, 1, SphereGrid(8, 1, 0), options, 0).size(), 7u);
}

}  // namespace
}  // namespace facet::nerf
