#include "geometry/point_cloud.h"

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

}  // namespace facet::geometry
