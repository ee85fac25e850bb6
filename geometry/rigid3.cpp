#include "geometry/rigid3.h"

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

}  // namespace facet::geometry
