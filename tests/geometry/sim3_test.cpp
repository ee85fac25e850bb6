#include "geometry/sim3.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace facet::geometry {
namespace {

Sim3 Example() {
  return {2.5, Eigen::Quaterniond(Eigen::AngleAxisd(0.7, Eigen::Vector3d(1, 2, 3).normalized())),
          Eigen::Vector3d(0.5, -1.0, 2.0)};
}

TEST(Sim3, AppliesScaleRotationThenTranslation) {
  const Sim3 b_from_a = Example();
  const Eigen::Vector3d x_in_a(1.0, 2.0, 3.0);
  const Eigen::Vector3d expected =
      2.5 * (b_from_a.rotation.toRotationMatrix() * x_in_a) + b_from_a.translation;
  EXPECT_LT((b_from_a * x_in_a - expected).norm(), 1e-12);
  EXPECT_LT(((b_from_a.ToHomogeneous() * x_in_a.homogeneous()).head<3>() - expected).norm(), 1e-12);
}

TEST(Sim3, InverseUndoesTheTransform) {
  const Sim3 b_from_a = Example();
  const Eigen::Vector3d x_in_a(1.0, 2.0, 3.0);
  EXPECT_LT((b_from_a.Inverse() * (b_from_a * x_in_a) - x_in_a).norm(), 1e-12);
  EXPECT_NEAR(b_from_a.Inverse().scale, 1.0 / 2.5, 1e-15);
}

TEST(Sim3, CompositionAppliesRightToLeft) {
  const Sim3 b_from_a = Example();
  const Sim3 c_from_b(0.3, Eigen::Quaterniond(Eigen::AngleAxisd(-0.3, Eigen::Vector3d::UnitY())),
                      Eigen::Vector3d(0, 0, 1));
  const Eigen::Vector3d x_in_a(-1.0, 0.5, 4.0);
  EXPECT_LT(((c_from_b * b_from_a) * x_in_a - c_from_b * (b_from_a * x_in_a)).norm(), 1e-12);
  EXPECT_NEAR((c_from_b * b_from_a).scale, 0.75, 1e-15);
}

TEST(Sim3, MatrixRoundTripRecoversScaleAndRotation) {
  const Sim3 b_from_a = Example();
  const Sim3 back = Sim3::FromMatrix(b_from_a.ToMatrix());
  EXPECT_NEAR(back.scale, b_from_a.scale, 1e-12);
  EXPECT_LT(back.rotation.angularDistance(b_from_a.rotation), 1e-12);
  EXPECT_LT((back.translation - b_from_a.translation).norm(), 1e-12);
}

TEST(Sim3, FromMatrixRejectsReflections) {
  Eigen::Matrix<double, 3, 4> m = Example().ToMatrix();
  m.col(0) *= -1.0;
  EXPECT_THROW(Sim3::FromMatrix(m), Error);
  EXPECT_THROW(Sim3::FromMatrix(Eigen::Matrix<double, 3, 4>::Zero()), Error);
}

TEST(Sim3, RigidConversionHasUnitScale) {
  const Rigid3 rigid(Eigen::Quaterniond(Eigen::AngleAxisd(0.2, Eigen::Vector3d::UnitX())),
                     Eigen::Vector3d(1, 2, 3));
  const Sim3 sim(rigid);
  const Eigen::Vector3d x(0.3, -0.4, 5.0);
  EXPECT_EQ(sim.scale, 1.0);
  EXPECT_LT((sim * x - rigid * x).norm(), 1e-12);
}

TEST(Sim3, TransformPoseMovesTheCentreAsAPointAndKeepsWhatTheCameraSees) {
  const Sim3 new_from_old = Example();
  const Rigid3 cam_from_old(
      Eigen::Quaterniond(Eigen::AngleAxisd(-1.1, Eigen::Vector3d(0.2, 1, -0.4).normalized())),
      Eigen::Vector3d(0.3, 0.1, 4.0));
  const Rigid3 cam_from_new = TransformPose(new_from_old, cam_from_old);

  EXPECT_LT((CameraCenter(cam_from_new) - new_from_old * CameraCenter(cam_from_old)).norm(), 1e-12);
  // A world point seen from the moved camera: same direction, depth times the scale.
  for (const Eigen::Vector3d& x_in_old :
       {Eigen::Vector3d(1, 2, 3), Eigen::Vector3d(-4, 0.5, 2), Eigen::Vector3d(0, 0, 0)}) {
    const Eigen::Vector3d x_in_cam_old = cam_from_old * x_in_old;
    const Eigen::Vector3d x_in_cam_new = cam_from_new * (new_from_old * x_in_old);
    EXPECT_LT((x_in_cam_new - new_from_old.scale * x_in_cam_old).norm(), 1e-11);
  }
  // The identity leaves the pose alone.
  const Rigid3 same = TransformPose(Sim3(), cam_from_old);
  EXPECT_LT((same.ToMatrix() - cam_from_old.ToMatrix()).norm(), 1e-12);
}

}  // namespace
}  // namespace facet::geometry
