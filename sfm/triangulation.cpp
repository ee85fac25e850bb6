#include "sfm/triangulation.h"

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>

#include "geometry/pose_metrics.h"

namespace facet::sfm {

std::optional<Eigen::Vector3d> TriangulateMultiView(std::span<const Matrix34d> cams_from_world,
                                                    std::span<const Eigen::Vector2d> points_norm) {
  const std::size_t n = std::min(cams_from_world.size(), points_norm.size());
  if (n < 2) return std::nullopt;
  // Accumulate AᵀA (4x4) instead of stacking A: the same null vector, constant memory.
  Eigen::Matrix4d ata = Eigen::Matrix4d::Zero();
  for (std::size_t i = 0; i < n; ++i) {
    const Matrix34d& p = cams_from_world[i];
    const Eigen::Vector2d& x = points_norm[i];
    const Eigen::RowVector4d r0 = x.x() * p.row(2) - p.row(0);
    const Eigen::RowVector4d r1 = x.y() * p.row(2) - p.row(1);
    ata.noalias() += r0.transpose() * r0 + r1.transpose() * r1;
  }
  const Eigen::SelfAdjointEigenSolver<Eigen::Matrix4d> eig(ata);
  const Eigen::Vector4d h = eig.eigenvectors().col(0);
  if (std::abs(h(3)) < 1e-12 * h.head<3>().norm() || !h.allFinite()) return std::nullopt;
  return Eigen::Vector3d(h.head<3>() / h(3));
}

double TriangulationAngleDeg(const Eigen::Vector3d& center1, const Eigen::Vector3d& center2,
                             const Eigen::Vector3d& point) {
  return geometry::AngleBetweenDeg(center1 - point, center2 - point);
}

double MaxTriangulationAngleDeg(std::span<const Eigen::Vector3d> centers,
                                const Eigen::Vector3d& point) {
  double best = 0.0;
  for (std::size_t i = 0; i < centers.size(); ++i) {
    for (std::size_t j = i + 1; j < centers.size(); ++j) {
      best = std::max(best, TriangulationAngleDeg(centers[i], centers[j], point));
    }
  }
  return best;
}

bool HasTriangulationAngle(std::span<const Eigen::Vector3d> centers, const Eigen::Vector3d& point,
                           double min_angle_deg) {
  for (std::size_t i = 0; i < centers.size(); ++i) {
    for (std::size_t j = i + 1; j < centers.size(); ++j) {
      if (TriangulationAngleDeg(centers[i], centers[j], point) >= min_angle_deg) return true;
    }
  }
  return false;
}

}  // namespace facet::sfm
