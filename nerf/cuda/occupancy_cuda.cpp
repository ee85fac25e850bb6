#include "nerf/cuda/occupancy_cuda.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "nerf/cuda/detail/launchers.h"
#include "nerf/cuda/field_cuda.h"

namespace facet::nerf {
namespace {

// Cells evaluated per density call (as OccupancyGrid's batches).
constexpr std::int64_t kCellChunk = std::int64_t(1) << 20;

}  // namespace

OccupancyGridCuda::OccupancyGridCuda(const OccupancyGrid& grid)
    : options_(grid.options()),
      aabb_min_(grid.aabb_min()),
      aabb_max_(grid.aabb_max()),
      view_(grid.View()) {
  view_.occupancy = nullptr;
  Upload(grid);
  bad_.Resize(1);
}

kernels::GridView OccupancyGridCuda::View() const {
  kernels::GridView view = view_;
  view.occupancy = occupancy_.data();
  return view;
}

void OccupancyGridCuda::Upload(const OccupancyGrid& grid) {
  const kernels::GridView host = grid.View();
  bool same = grid.options().resolution == options_.resolution &&
              grid.options().cascades == options_.cascades;
  for (int k = 0; k < 3; ++k) {
    same = same && host.centre[k] == view_.centre[k] && host.half_extent[k] == view_.half_extent[k];
  }
  FACET_CHECK(same, "OccupancyGridCuda: the host grid has another box or resolution");
  values_.Upload(grid.values());
  occupancy_.Upload(grid.occupancy());
  std::int64_t occupied = 0;
  for (const std::uint8_t o : grid.occupancy()) occupied += o != 0 ? 1 : 0;
  occupied_fraction_ = double(occupied) / double(std::max<std::size_t>(grid.cell_count(), 1));
}

void OccupancyGridCuda::Download(OccupancyGrid* grid) const {
  FACET_CHECK(std::int64_t(grid->cell_count()) == values_.size(),
              "OccupancyGridCuda: a host grid of {} cells for {} on the device", grid->cell_count(),
              values_.size());
  grid->SetValues(values_.ToHost());
}

void OccupancyGridCuda::Update(const NerfFieldCuda& field, float scale, int step,
                               std::uint32_t seed) {
  const std::int64_t n_cells = values_.size();
  const kernels::GridView view = View();
  const detail::CellUpdate update{.all = step < options_.warmup_steps,
                                  .refresh_fraction = options_.refresh_fraction,
                                  .seed = seed,
                                  .decay = options_.decay,
                                  .scale = scale};
  bad_.SetZero();
  for (std::int64_t begin = 0; begin < n_cells; begin += kCellChunk) {
    const std::int64_t count = std::min(kCellChunk, n_cells - begin);
    positions_.Resize(3 * count);
    sigma_.Resize(count);
    detail::LaunchCellPoints(view, seed, begin, count, positions_.data(), nullptr);
    field.Density(positions_.data(), count, sigma_.data());
    detail::LaunchCellUpdate(update, occupancy_.data(), sigma_.data(), begin, count, values_.data(),
                             bad_.data(), nullptr);
  }
  int bad = 0;
  bad_.Download(&bad);
  FACET_CHECK(bad == 0,
              "OccupancyGridCuda::Update: the field's density is negative or not finite (a "
              "diverged run? lower the learning rate)");
  RebuildOccupancy();
}

void OccupancyGridCuda::RebuildOccupancy() {
  const std::int64_t res = options_.resolution;
  const std::int64_t per_cascade = res * res * res;
  const double sum = detail::SumOnDevice(values_.data(), per_cascade, nullptr);
  const float threshold = std::min(options_.threshold, float(sum / double(per_cascade)));
  detail::LaunchThreshold(values_.data(), values_.size(), threshold, occupancy_.data(), nullptr);
  // Finest first: cascade c's pooling reads cascade c - 1 after its own pooling.
  const kernels::GridView view = View();
  for (int c = 1; c < options_.cascades; ++c) {
    detail::LaunchMaxPool(view, c, occupancy_.data(), nullptr);
  }
  occupied_fraction_ =
      double(detail::CountOccupied(occupancy_.data(), occupancy_.size(), nullptr)) /
      double(occupancy_.size());
}

}  // namespace facet::nerf
