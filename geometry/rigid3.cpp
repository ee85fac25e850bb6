#include "geometry/rigid3.h"

#include <Eigen/Dense>

namespace facet::geometry {

Rigid3 Rigid3::FromMatrix(const Eigen::Matrix<double, 3, 4>& m) {
  const Eigen::Matrix3d r = m.leftCols<3>();
  return {Eigen::Quaterniond(r).normalized(), m.col(3)};
}

Eigen::Matrix<double, 3, 4> Rigid3::ToMatrix() const {
  Eigen::Matrix<double, 3, 4> m;
  m.leftCols<3>() = rotation.toRotationMatrix();
  m.col(3) = translation;
  return m;
}

Rigid3 Rigid3::Inverse() const {
  const Eigen::Quaterniond inverse = rotation.conjugate();
  return {inverse, inverse * -translation};
}

std::optional<Eigen::Vector3d> PointNearestToOpticalAxes(std::span<const Rigid3> cam_from_world) {
  if (cam_from_world.size() < 2) return std::nullopt;
  Eigen::Matrix3d a = Eigen::Matrix3d::Zero();
  Eigen::Vector3d b = Eigen::Vector3d::Zero();
  for (const Rigid3& pose : cam_from_world) {
    const Eigen::Matrix3d r = pose.rotation.toRotationMatrix();
    const Eigen::Vector3d c = -(r.transpose() * pose.translation);
    const Eigen::Vector3d d = r.transpose().col(2);
    const Eigen::Matrix3d m = Eigen::Matrix3d::Identity() - d * d.transpose();
    a += m;
    b += m * c;
  }
  const Eigen::SelfAdjointEigenSolver<Eigen::Matrix3d> eig(a);
  if (!(eig.eigenvalues().minCoeff() > 1e-3 * eig.eigenvalues().maxCoeff())) return std::nullopt;
  return a.ldlt().solve(b);
}

}  // namespace facet::geometry
