#include "geometry/point_cloud.h"

#include <cmath>
#include <cstdint>
#include <unordered_map>

namespace facet::geometry {

void PointCloud::Check() const {
  FACET_CHECK(normals.empty() || normals.size() == points.size(),
              "point cloud has {} normals for {} points", normals.size(), points.size());
  FACET_CHECK(colors.empty() || colors.size() == points.size(),
              "point cloud has {} colours for {} points", colors.size(), points.size());
}

Bounds3 ComputeBounds(const std::vector<Eigen::Vector3d>& points) {
  Bounds3 bounds;
  for (const auto& p : points) bounds.Extend(p);
  return bounds;
}

PointCloud VoxelDownsample(const PointCloud& cloud, double voxel_size) {
  cloud.Check();
  FACET_CHECK(std::isfinite(voxel_size) && voxel_size > 0.0,
              "VoxelDownsample needs a voxel size > 0 and finite (got {})", voxel_size);
  struct Cell {
    Eigen::Vector3d point_sum = Eigen::Vector3d::Zero();
    Eigen::Vector3d normal_sum = Eigen::Vector3d::Zero();
    Eigen::Vector3f color_sum = Eigen::Vector3f::Zero();
    int count = 0;
  };
  struct KeyHash {
    std::size_t operator()(const Eigen::Vector3i& k) const {
      return (std::size_t(std::uint32_t(k.x())) * 73856093u) ^
             (std::size_t(std::uint32_t(k.y())) * 19349663u) ^
             (std::size_t(std::uint32_t(k.z())) * 83492791u);
    }
  };
  std::unordered_map<Eigen::Vector3i, int, KeyHash> cell_of_key;
  std::vector<Cell> cells;
  for (std::size_t i = 0; i < cloud.size(); ++i) {
    const Eigen::Vector3d& p = cloud.points[i];
    FACET_CHECK(p.allFinite(), "VoxelDownsample: point {} is not finite; drop NaN/Inf points first",
                i);
    const Eigen::Vector3d cell = (p / voxel_size).array().floor();
    FACET_CHECK((cell.array().abs() < 2e9).all(),
                "VoxelDownsample: voxel size {} is too small for point {} (more than 2^31 cells)",
                voxel_size, i);
    const auto [it, inserted] =
        cell_of_key.try_emplace(cell.cast<int>(), static_cast<int>(cells.size()));
    if (inserted) cells.emplace_back();
    Cell& c = cells[it->second];
    c.point_sum += p;
    if (cloud.HasNormals()) c.normal_sum += cloud.normals[i];
    if (cloud.HasColors()) c.color_sum += cloud.colors[i];
    ++c.count;
  }
  PointCloud out;
  out.points.reserve(cells.size());
  for (const Cell& c : cells) {
    out.points.push_back(c.point_sum / c.count);
    if (cloud.HasNormals()) {
      const double norm = c.normal_sum.norm();
      out.normals.push_back(norm > 0.0 ? Eigen::Vector3d(c.normal_sum / norm) : c.normal_sum);
    }
    if (cloud.HasColors()) out.colors.push_back(c.color_sum / static_cast<float>(c.count));
  }
  return out;
}

}  // namespace facet::geometry
