#include "nerf/occupancy_grid.h"

#include <oneapi/tbb/parallel_reduce.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/parallel_for.h"

namespace facet::nerf {

namespace {
constexpr std::size_t kDensityBatch = std::size_t(1) << 20;
}  // namespace

void OccupancyGridOptions::Check() const {
  FACET_CHECK(resolution >= 1 && resolution <= 1024,
              "OccupancyGrid resolution must be in [1, 1024] (got {})", resolution);
  FACET_CHECK(cascades >= 1 && cascades <= 8, "OccupancyGrid cascades must be in [1, 8] (got {})",
              cascades);
  FACET_CHECK(decay >= 0.0f && decay <= 1.0f, "OccupancyGrid decay must be in [0, 1] (got {})",
              decay);
  FACET_CHECK(std::isfinite(threshold) && threshold > 0.0f,
              "OccupancyGrid threshold must be > 0 (got {})", threshold);
  FACET_CHECK(warmup_steps >= 0, "OccupancyGrid warmup_steps must be >= 0 (got {})", warmup_steps);
  FACET_CHECK(refresh_fraction >= 0.0f && refresh_fraction <= 1.0f,
              "OccupancyGrid refresh_fraction must be in [0, 1] (got {})", refresh_fraction);
}

OccupancyGrid::OccupancyGrid(const Eigen::Vector3f& aabb_min, const Eigen::Vector3f& aabb_max,
                             const OccupancyGridOptions& options)
    : aabb_min_(aabb_min), aabb_max_(aabb_max), options_(options) {
  options_.Check();
  FACET_CHECK(
      aabb_min.allFinite() && aabb_max.allFinite() && (aabb_max - aabb_min).minCoeff() > 0.0f,
      "OccupancyGrid: the box [{}, {}, {}] - [{}, {}, {}] must be finite with a positive "
      "extent",
      aabb_min.x(), aabb_min.y(), aabb_min.z(), aabb_max.x(), aabb_max.y(), aabb_max.z());
  const std::size_t res = std::size_t(options_.resolution);
  values_.assign(std::size_t(options_.cascades) * res * res * res, 0.0f);
  occupancy_.assign(values_.size(), 1);
}

kernels::GridView OccupancyGrid::View() const {
  kernels::GridView g;
  for (int k = 0; k < 3; ++k) {
    g.centre[k] = 0.5f * (aabb_min_[k] + aabb_max_[k]);
    g.half_extent[k] = 0.5f * (aabb_max_[k] - aabb_min_[k]);
  }
  g.resolution = options_.resolution;
  g.cascades = options_.cascades;
  g.occupancy = occupancy_.data();
  return g;
}

Eigen::Vector3f OccupancyGrid::CellCentre(std::size_t index) const {
  float x[3];
  kernels::CellCentre(View(), std::uint32_t(index), x);
  return {x[0], x[1], x[2]};
}

void OccupancyGrid::Update(const DensityFunction& density, int step, std::uint32_t seed) {
  FACET_CHECK(static_cast<bool>(density), "OccupancyGrid::Update: no density function");
  const std::size_t n_cells = values_.size();
  // The cells to evaluate, in index order.
  std::vector<std::uint32_t> cells;
  cells.reserve(n_cells);
  const bool all = step < options_.warmup_steps;
  for (std::size_t i = 0; i < n_cells; ++i) {
    if (kernels::CellRefreshed(all, occupancy_[i] != 0, options_.refresh_fraction, seed,
                               std::uint32_t(i))) {
      cells.push_back(std::uint32_t(i));
    }
  }
  const kernels::GridView view = View();
  std::vector<float> positions, sampled(cells.size());
  for (std::size_t begin = 0; begin < cells.size(); begin += kDensityBatch) {
    const std::size_t n = std::min(kDensityBatch, cells.size() - begin);
    positions.resize(3 * n);
    ParallelFor(
        std::int64_t(n),
        [&](std::int64_t j) {
          kernels::JitteredCellPoint(view, cells[begin + std::size_t(j)], seed,
                                     &positions[3 * std::size_t(j)]);
        },
        1024);
    std::span<float> out(sampled.data() + begin, n);
    density(std::span<const float>(positions), n, out);
  }
  for (const float s : sampled) {
    FACET_CHECK(std::isfinite(s) && s >= 0.0f,
                "OccupancyGrid::Update: the density function returned {} (must be finite, >= 0)",
                s);
  }
  const float decay = options_.decay;
  ParallelFor(
      std::int64_t(n_cells), [&](std::int64_t i) { values_[std::size_t(i)] *= decay; }, 4096);
  ParallelFor(
      std::int64_t(cells.size()),
      [&](std::int64_t j) {
        float& v = values_[cells[std::size_t(j)]];
        v = std::max(v, sampled[std::size_t(j)]);
      },
      4096);
  RebuildOccupancy();
}

void OccupancyGrid::RebuildOccupancy() {
  const std::size_t res = std::size_t(options_.resolution);
  const std::size_t per_cascade = res * res * res;
  // Sum in double over fixed blocks, in a deterministic order.
  const double sum = oneapi::tbb::parallel_deterministic_reduce(
      oneapi::tbb::blocked_range<std::size_t>(0, per_cascade, 1 << 14), 0.0,
      [&](const oneapi::tbb::blocked_range<std::size_t>& r, double acc) {
        for (std::size_t i = r.begin(); i != r.end(); ++i) acc += values_[i];
        return acc;
      },
      [](double a, double b) { return a + b; });
  effective_threshold_ = std::min(options_.threshold, float(sum / double(per_cascade)));
  const float threshold = effective_threshold_;
  ParallelFor(
      std::int64_t(values_.size()),
      [&](std::int64_t i) {
        occupancy_[std::size_t(i)] = values_[std::size_t(i)] > threshold ? 1 : 0;
      },
      4096);
  // Max-pool each cascade into the next coarser one: the coarse cell holding a finer occupied
  // cell's centre becomes occupied. Sequential over cascades, finest first.
  const kernels::GridView view = View();
  for (int c = 1; c < options_.cascades; ++c) {
    const std::size_t fine_begin = std::size_t(c - 1) * per_cascade;
    for (std::size_t i = 0; i < per_cascade; ++i) {
      if (occupancy_[fine_begin + i] == 0) continue;
      const Eigen::Vector3f x = CellCentre(fine_begin + i);
      const float p[3] = {x.x(), x.y(), x.z()};
      occupancy_[kernels::CellIndex(view, p, c)] = 1;
    }
  }
}

void OccupancyGrid::SetAllOccupied() { std::fill(occupancy_.begin(), occupancy_.end(), 1); }

void OccupancyGrid::SetValues(std::span<const float> values) {
  FACET_CHECK(values.size() == values_.size(),
              "OccupancyGrid::SetValues: {} values for a grid of {} cells", values.size(),
              values_.size());
  for (const float v : values) {
    FACET_CHECK(std::isfinite(v) && v >= 0.0f,
                "OccupancyGrid::SetValues: value {} (must be finite, >= 0)", v);
  }
  std::copy(values.begin(), values.end(), values_.begin());
  RebuildOccupancy();
}

bool OccupancyGrid::Occupied(const Eigen::Vector3f& x) const {
  const float p[3] = {x.x(), x.y(), x.z()};
  return kernels::OccupiedAt(View(), p);
}

double OccupancyGrid::OccupiedFraction() const {
  std::size_t count = 0;
  for (const std::uint8_t o : occupancy_) count += o != 0 ? 1 : 0;
  return double(count) / double(occupancy_.size());
}

}  // namespace facet::nerf
