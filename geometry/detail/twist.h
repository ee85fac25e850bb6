// Small helpers shared by the Gauss-Newton solvers over rigid motions (ICP, fast global
// registration, RGB-D odometry): the 6x6 normal matrix from the upper triangle their kernels
// accumulate, and the update of a pose by a twist.
#pragma once

#include <Eigen/Core>
#include <Eigen/Geometry>

#include "geometry/rigid3.h"

namespace facet::geometry::detail {

// The symmetric 6x6 matrix whose upper triangle, row by row, is `upper` (21 values).
inline Eigen::Matrix<double, 6, 6> SymmetricFromUpper(const double (&upper)[21]) {
  Eigen::Matrix<double, 6, 6> m;
  int e = 0;
  for (int a = 0; a < 6; ++a) {
    for (int b = a; b < 6; ++b) m(a, b) = m(b, a) = upper[e++];
  }
  return m;
}

// The motion of a twist xi = (omega, v) as the solvers apply it, T <- Twist(xi) * T: the rotation
// exact (angle-axis of omega), the translation additive (v).
inline Rigid3 RigidFromTwist(const Eigen::Matrix<double, 6, 1>& xi) {
  const Eigen::Vector3d omega = xi.head<3>();
  const double angle = omega.norm();
  const Eigen::Quaterniond rotation =
      angle > 0.0 ? Eigen::Quaterniond(Eigen::AngleAxisd(angle, omega / angle))
                  : Eigen::Quaterniond::Identity();
  return Rigid3(rotation, xi.tail<3>());
}

}  // namespace facet::geometry::detail
