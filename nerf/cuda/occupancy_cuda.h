// OccupancyGridCuda: OccupancyGrid (nerf/occupancy_grid.h) on the device: the per-cell values
// and occupancy bytes in device memory, refreshed from a NerfFieldCuda's density with the same
// rules and shared per-cell code (nerf/kernels/occupancy.h: CellRefreshed, JitteredCellPoint,
// CellCentre, CellIndex) as OccupancyGrid::Update and its derivation of the bits.
//
// What differs from the CPU: the density is evaluated at every cell's jittered point and then
// used only for the cells CellRefreshed picks (the CPU evaluates only those), which gives the same
// values at the cost of evaluating the others; the cascade-0 mean is a CUB sum (another order of
// additions than the CPU's blocked double sum, so a cell within rounding of the threshold may
// differ). Include only from code built with the CUDA fast path (FACET_WITH_CUDA).
#pragma once

#include <Eigen/Core>

#include <cstdint>

#include "core/device_buffer.h"
#include "nerf/kernels/occupancy.h"
#include "nerf/occupancy_grid.h"

namespace facet::nerf {

class NerfFieldCuda;

class OccupancyGridCuda {
 public:
  // A device copy of `grid` (values and occupancy bits).
  explicit OccupancyGridCuda(const OccupancyGrid& grid);

  // Values and bits to / from a host grid with the same options and box (facet::Error
  // otherwise). Download sets the host values (OccupancyGrid::SetValues re-derives its bits).
  void Upload(const OccupancyGrid& grid);
  void Download(OccupancyGrid* grid) const;

  // OccupancyGrid::Update with the field's density times `scale` (the trainer's min_step) as the
  // cell value. Throws facet::Error when a refreshed value is negative or not finite.
  void Update(const NerfFieldCuda& field, float scale, int step, std::uint32_t seed);

  // The view the per-sample kernels take, its occupancy in device memory.
  kernels::GridView View() const;
  const OccupancyGridOptions& options() const { return options_; }
  Eigen::Vector3f aabb_min() const { return aabb_min_; }
  Eigen::Vector3f aabb_max() const { return aabb_max_; }
  std::int64_t cell_count() const { return values_.size(); }
  // Fraction of occupied cells at the last derivation.
  double occupied_fraction() const { return occupied_fraction_; }

 private:
  void RebuildOccupancy();

  OccupancyGridOptions options_;
  Eigen::Vector3f aabb_min_, aabb_max_;
  kernels::GridView view_;  // occupancy set by View()
  DeviceBuffer<float> values_;
  DeviceBuffer<std::uint8_t> occupancy_;
  DeviceBuffer<float> positions_, sigma_;  // one chunk of cells
  DeviceBuffer<int> bad_;
  double occupied_fraction_ = 1.0;
};

}  // namespace facet::nerf
