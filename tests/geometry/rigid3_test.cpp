#include "geometry/rigid3.h"

#include <gtest/gtest.h>

namespace facet::geometry {
namespace {

Rigid3 Example() {
  return {Eigen::Quaterniond(Eigen::AngleAxisd(0.7, Eigen::Vector3d(1, 2, 3).normalized())),
          Eigen::Vector3d(0.5, -1.0, 2.0)};
}

TEST(Rigid3, InverseUndoesTheTransform) {
  const Rigid3 b_from_a = Example();
  const Eigen::Vector3d x_in_a(1.0, 2.0, 3.0);
  EXPECT_LT((b_from_a.Inverse() * (b_from_a * x_in_a) - x_in_a).norm(), 1e-12);
}

TEST(Rigid3, CompositionAppliesRightToLeft) {
  const Rigid3 b_from_a = Example();
  const Rigid3 c_from_b(Eigen::Quaterniond(Eigen::AngleAxisd(-0.3, Eigen::Vector3d::UnitY())),
                        Eigen::Vector3d(0, 0, 1));
  const Eigen::Vector3d x_in_a(-1.0, 0.5, 4.0);
  EXPECT_LT(((c_from_b * b_from_a) * x_in_a - c_from_b * (b_from_a * x_in_a)).norm(), 1e-12);
}

TEST(Rigid3, MatrixRoundTripAndCameraCentre) {
  const Rigid3 cam_from_world = Example();
  const Rigid3 back = Rigid3::FromMatrix(cam_from_world.ToMatrix());
  EXPECT_LT((back.ToMatrix() - cam_from_world.ToMatrix()).norm(), 1e-12);
  // The camera centre maps to the origin of the camera frame.
  EXPECT_LT((cam_from_world * CameraCenter(cam_from_world)).norm(), 1e-12);
}

}  // namespace
}  // namespace facet::geometry
