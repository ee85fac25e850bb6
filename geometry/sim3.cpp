#include "geometry/sim3.h"

#include <cmath>

#include "core/error.h"

namespace facet::geometry {

Sim3 Sim3::FromMatrix(const Eigen::Matrix<double, 3, 4>& m) {
  const Eigen::Matrix3d scaled_rotation = m.leftCols<3>();
  const double det = scaled_rotation.determinant();
  FACET_CHECK(det > 0.0 && std::isfinite(det),
              "matrix is not a similarity: its 3x3 block has determinant {} (must be positive; "
              "a reflection or a degenerate matrix has no Sim3)",
              det);
  const double s = std::cbrt(det);
  return {s, Eigen::Quaterniond(Eigen::Matrix3d(scaled_rotation / s)).normalized(), m.col(3)};
}

Eigen::Matrix<double, 3, 4> Sim3::ToMatrix() const {
  Eigen::Matrix<double, 3, 4> m;
  m.leftCols<3>() = scale * rotation.toRotationMatrix();
  m.col(3) = translation;
  return m;
}

Eigen::Matrix4d Sim3::ToHomogeneous() const {
  Eigen::Matrix4d m = Eigen::Matrix4d::Identity();
  m.topRows<3>() = ToMatrix();
  return m;
}

Sim3 Sim3::Inverse() const {
  const Eigen::Quaterniond inverse = rotation.conjugate();
  return {1.0 / scale, inverse, (inverse * -translation) / scale};
}

Rigid3 TransformPose(const Sim3& new_from_old, const Rigid3& cam_from_old) {
  const Eigen::Vector3d center_in_new = new_from_old * CameraCenter(cam_from_old);
  const Eigen::Quaterniond cam_from_new =
      (cam_from_old.rotation * new_from_old.rotation.conjugate()).normalized();
  return {cam_from_new, -(cam_from_new * center_in_new)};
}

}  // namespace facet::geometry
