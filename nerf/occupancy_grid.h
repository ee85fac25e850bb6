// The multi-cascade occupancy grid of instant-ngp (Müller et al., "Instant Neural Graphics
// Primitives", SIGGRAPH 2022, appendix E.2; nerfacc's OccGridEstimator, Li et al. 2023): a
// density value per cell, decayed and refreshed from the model during training, and an occupancy
// bit per cell derived from it that ray marching (nerf/ray_marching.h) uses to skip empty space.
//
// Frames and layout (see nerf/kernels/occupancy.h): scene (world) coordinates in scene units.
// Cascade 0 is the scene box [aabb_min, aabb_max]; cascade c is that box scaled by 2^c around its
// centre. Each cascade has resolution^3 cells, linear index ((c * res + z) * res + y) * res + x.
#pragma once

#include <Eigen/Core>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "nerf/kernels/occupancy.h"

namespace facet::nerf {

struct OccupancyGridOptions {
  int resolution = 128;  // cells per axis and cascade, [1, 1024]
  int cascades = 1;      // [1, 8]; cascade c covers the scene box scaled by 2^c
  float decay = 0.95f;   // [0, 1]: a cell's value decays by this factor per update
  // Density threshold (sigma, 1 / scene unit), > 0: a cell is occupied when its value exceeds
  // min(threshold, mean value of cascade 0) (instant-ngp).
  float threshold = 0.01f;
  // Updates with step < warmup_steps evaluate every cell; later ones evaluate every occupied cell
  // and each other cell with probability refresh_fraction (decided by hashing seed and cell).
  int warmup_steps = 256;          // >= 0
  float refresh_fraction = 0.25f;  // [0, 1]

  // Throws facet::Error naming the first field out of range.
  void Check() const;
};

// The caller's density: writes density[i] (sigma >= 0) for the point positions_xyz[3i..3i+2]
// (scene coordinates), i < n. Called on the calling thread, with n up to 2^20 points per call.
using DensityFunction = std::function<void(std::span<const float> positions_xyz, std::size_t n,
                                           std::span<float> density)>;

class OccupancyGrid {
 public:
  // Throws facet::Error for options out of range or a box without positive, finite extent.
  // Before the first Update every cell is occupied (nothing is known yet).
  OccupancyGrid(const Eigen::Vector3f& aabb_min, const Eigen::Vector3f& aabb_max,
                const OccupancyGridOptions& options);

  // One refresh (instant-ngp's update_density_grid_nerf): each evaluated cell gets
  //   value = max(decay * value, density(point)),
  // with the point drawn uniformly in the cell from (seed, cell index); cells not evaluated get
  // value = decay * value. Then the occupancy bits are derived (see RebuildOccupancy).
  // Deterministic for given (values, step, seed, density). Throws facet::Error when the density
  // function writes a negative or non-finite value.
  void Update(const DensityFunction& density, int step, std::uint32_t seed);

  // Whether x (scene coordinates) lies in an occupied cell of the finest cascade containing it;
  // false outside the outermost cascade.
  bool Occupied(const Eigen::Vector3f& x) const;
  // Fraction of all cells (all cascades) that are occupied.
  double OccupiedFraction() const;
  // The threshold the last derivation used: min(options.threshold, mean of cascade 0).
  float effective_threshold() const { return effective_threshold_; }

  // Marks every cell occupied (a "full" grid: ray marching then samples the whole box).
  void SetAllOccupied();

  // Checkpoints: the per-cell values (cascades * resolution^3 floats, layout above). SetValues
  // throws facet::Error for a wrong size or a negative / non-finite value, and re-derives the
  // occupancy.
  std::span<const float> values() const { return values_; }
  void SetValues(std::span<const float> values);
  // One byte per cell (1 = occupied), same layout; for uploads to the device.
  std::span<const std::uint8_t> occupancy() const { return occupancy_; }

  // The view the per-sample kernels take; points at this grid's occupancy (host memory).
  kernels::GridView View() const;
  const OccupancyGridOptions& options() const { return options_; }
  Eigen::Vector3f aabb_min() const { return aabb_min_; }
  Eigen::Vector3f aabb_max() const { return aabb_max_; }
  std::size_t cell_count() const { return values_.size(); }
  // Centre of cell `index` (scene coordinates).
  Eigen::Vector3f CellCentre(std::size_t index) const;

 private:
  // occupied = value > min(threshold, mean of cascade 0); then, from the finest cascade out, a
  // cell of cascade c >= 1 covering cascade c - 1 is also occupied when any of the 2x2x2 finer
  // cells it covers is (instant-ngp's bitfield max-pool), so a coarse cell never hides detail.
  void RebuildOccupancy();

  Eigen::Vector3f aabb_min_, aabb_max_;
  OccupancyGridOptions options_;
  std::vector<float> values_;
  std::vector<std::uint8_t> occupancy_;
  float effective_threshold_ = 0.0f;
};

}  // namespace facet::nerf
