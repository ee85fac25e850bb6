#include "geometry/rigid3.h"

#include <Eigen/Dense>

#include "core/error.h"

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

Rigid3 LookAt(const Eigen::Vector3d& eye, const Eigen::Vector3d& target,
              const Eigen::Vector3d& up) {
  const Eigen::Vector3d forward = (target - eye).normalized();
  Eigen::Vector3d right = forward.cross(up);
  FACET_CHECK(right.norm() > 1e-9,
              "camera looks straight along its up direction; cannot orient it");
  right.normalize();
  const Eigen::Vector3d down = forward.cross(right);
  Eigen::Matrix3d world_from_cam;
  world_from_cam << right, down, forward;  // columns: camera axes x (right), y (down), z (forward)
  const Eigen::Matrix3d cam_from_world = world_from_cam.transpose();
  return {Eigen::Quaterniond(cam_from_world).normalized(), -cam_from_world * eye};
}

Eigen::Vector3d UpFromCameras(std::span<const Rigid3> cam_from_world) {
  Eigen::Vector3d sum = Eigen::Vector3d::Zero();
  for (const Rigid3& pose : cam_from_world)
    sum -= pose.rotation.inverse() * Eigen::Vector3d::UnitY();
  if (cam_from_world.empty() || !(sum.norm() > 0.25 * double(cam_from_world.size()))) {
    return Eigen::Vector3d::UnitZ();
  }
  return sum.normalized();
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
