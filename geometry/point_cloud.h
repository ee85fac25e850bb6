// PointCloud: points with optional per-point normals and colours (each either empty or one per
// point). Units are the scene's (metres for the synthetic scene).
#pragma once

#include <Eigen/Core>

#include <limits>
#include <vector>

#include "core/error.h"

namespace facet::geometry {

struct PointCloud {
  std::vector<Eigen::Vector3d> points{};
  std::vector<Eigen::Vector3d> normals{};  // unit length, or empty
  std::vector<Eigen::Vector3f> colors{};   // linear RGB in [0, 1], or empty

  std::size_t size() const { return points.size(); }
  bool empty() const { return points.empty(); }
  bool HasNormals() const { return !normals.empty(); }
  bool HasColors() const { return !colors.empty(); }

  // Throws facet::Error when normals or colours are present but not one per point.
  void Check() const;
};

// Axis-aligned bounds of a set of points; min > max componentwise when there are none.
struct Bounds3 {
  Eigen::Vector3d min = Eigen::Vector3d::Constant(std::numeric_limits<double>::infinity());
  Eigen::Vector3d max = Eigen::Vector3d::Constant(-std::numeric_limits<double>::infinity());

  bool IsEmpty() const { return (min.array() > max.array()).any(); }
  void Extend(const Eigen::Vector3d& p) {
    min = min.cwiseMin(p);
    max = max.cwiseMax(p);
  }
  Eigen::Vector3d Center() const { return 0.5 * (min + max); }
  Eigen::Vector3d Extent() const { return max - min; }
};

Bounds3 ComputeBounds(const std::vector<Eigen::Vector3d>& points);

// One point per occupied cell of a grid of cubes of side `voxel_size` (scene units, cells aligned
// with the origin): the centroid of the cell's points, with the mean of their normals
// (renormalised; kept as is when they cancel to zero) and colours. Points come out in order of
// each cell's first point, so the result is deterministic. Throws facet::Error for a voxel size
// that is not > 0 and finite, or non-finite points.
PointCloud VoxelDownsample(const PointCloud& cloud, double voxel_size);

}  // namespace facet::geometry
