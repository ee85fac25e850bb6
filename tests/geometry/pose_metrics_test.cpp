#include "geometry/pose_metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <random>
#include <vector>

#include "core/error.h"

namespace facet::geometry {
namespace {

constexpr double kPi = std::numbers::pi;

// Cameras on the 8 vertices of the cube [-1, 1]³ scaled by 3, each looking at the origin.
std::vector<Rigid3> CubeCameras() {
  std::vector<Rigid3> poses;
  for (int k = 0; k < 8; ++k) {
    const Eigen::Vector3d center(k & 1 ? 3 : -3, k & 2 ? 3 : -3, k & 4 ? 3 : -3);
    const Eigen::Vector3d z = (-center).normalized();
    const Eigen::Vector3d x = z.cross(Eigen::Vector3d(0.1, 0.2, 1.0)).normalized();
    Eigen::Matrix3d world_from_cam;
    world_from_cam << x, z.cross(x), z;
    const Eigen::Quaterniond cam_from_world(world_from_cam.transpose());
    poses.emplace_back(cam_from_world, -(cam_from_world * center));
  }
  return poses;
}

Sim3 EstimatedFromGt() {
  return {0.37, Eigen::Quaterniond(Eigen::AngleAxisd(2.0, Eigen::Vector3d(3, -1, 2).normalized())),
          Eigen::Vector3d(10.0, -4.0, 7.0)};
}

std::vector<Rigid3> Transformed(const Sim3& new_from_old, const std::vector<Rigid3>& poses) {
  std::vector<Rigid3> out;
  for (const auto& p : poses) out.push_back(TransformPose(new_from_old, p));
  return out;
}

// Turns camera k about its own centre by `angle` around `axis` (in the camera frame).
Rigid3 TurnCamera(const Rigid3& cam_from_world, double angle, const Eigen::Vector3d& axis) {
  const Eigen::Quaterniond turn(Eigen::AngleAxisd(angle, axis.normalized()));
  return {turn * cam_from_world.rotation, turn * cam_from_world.translation};
}

TEST(PoseMetrics, RotationAngleIsAccurateNearZeroAndHalfTurn) {
  const Eigen::Vector3d axis = Eigen::Vector3d(1, -2, 0.5).normalized();
  const Eigen::Quaterniond a(Eigen::AngleAxisd(0.4, Eigen::Vector3d::UnitZ()));
  for (double angle : {0.0, 1e-9, 1e-4, 0.5, 2.0, kPi - 1e-4, kPi - 1e-9, kPi}) {
    const Eigen::Quaterniond b = a * Eigen::Quaterniond(Eigen::AngleAxisd(angle, axis));
    const double expected = angle * 180.0 / kPi;
    // Relative accuracy ~1e-15 in the quaternion gives ~1e-13 degrees of angle.
    EXPECT_NEAR(RotationAngleDeg(a, b), expected, 1e-12 + 1e-12 * expected) << angle;
    // -q is the same rotation.
    const Eigen::Quaterniond minus_b(-b.w(), -b.x(), -b.y(), -b.z());
    EXPECT_NEAR(RotationAngleDeg(a, minus_b), expected, 1e-12 + 1e-12 * expected);
    EXPECT_NEAR(RotationAngleDeg(b, a), expected, 1e-12 + 1e-12 * expected);
  }
}

TEST(PoseMetrics, AngleBetweenVectorsIsAccurateEverywhere) {
  EXPECT_NEAR(AngleBetweenDeg({1, 0, 0}, {std::cos(1e-9), std::sin(1e-9), 0}), 1e-9 * 180 / kPi,
              1e-20);
  EXPECT_NEAR(AngleBetweenDeg({1, 0, 0}, {0, 5, 0}), 90.0, 1e-13);
  EXPECT_NEAR(AngleBetweenDeg({2, 0, 0}, {-1, 1e-9, 0}), 180.0 - 1e-9 * 180 / kPi, 1e-12);
  EXPECT_EQ(AngleBetweenDeg({0, 0, 0}, {1, 0, 0}), 0.0);
}

TEST(PoseMetrics, AbsoluteErrorsVanishForASimilarityOfTheTruth) {
  const auto gt = CubeCameras();
  const auto estimated = Transformed(EstimatedFromGt(), gt);
  const auto errors = ComputeAbsolutePoseErrors(estimated, gt);
  ASSERT_TRUE(errors.has_value());
  EXPECT_LT(errors->ate_rmse, 1e-12);
  EXPECT_LT(errors->rotation_error_max_deg, 1e-10);
  const Sim3 expected = EstimatedFromGt().Inverse();
  EXPECT_NEAR(errors->gt_from_estimated.scale, expected.scale, 1e-12);
  EXPECT_LT(errors->gt_from_estimated.rotation.angularDistance(expected.rotation), 1e-12);
  ASSERT_EQ(errors->center_error.size(), gt.size());
}

TEST(PoseMetrics, AbsoluteErrorsMeasureKnownPerturbations) {
  // Centre offsets δ_k = ε·parity(k)·u (|u| = 1) have zero sum and zero cross-covariance with the
  // cube's centres x_k, so the best rotation stays the identity and the translation zero. A rigid
  // alignment therefore leaves every centre error at exactly ε; a similarity also shrinks the
  // estimate by s = tr(Σ) / σ² = 27 / (27 + ε²) (Umeyama eq. 42), so the errors become
  // |(s - 1) x_k + s δ_k| with RMSE √((s - 1)² 27 + s² ε²).
  const auto gt = CubeCameras();
  std::vector<Rigid3> estimated = gt;
  const double epsilon = 0.01;
  const Eigen::Vector3d u = Eigen::Vector3d(1, 2, 2) / 3.0;
  for (int k = 0; k < 8; ++k) {
    const double parity = ((k & 1) ? 1 : -1) * ((k & 2) ? 1 : -1) * ((k & 4) ? 1 : -1);
    const Eigen::Vector3d center = CameraCenter(gt[std::size_t(k)]) + epsilon * parity * u;
    estimated[std::size_t(k)].translation = -(gt[std::size_t(k)].rotation * center);
  }
  // And camera 3 turned by 2 degrees about its own centre.
  estimated[3] = TurnCamera(estimated[3], 2.0 * kPi / 180.0, {0.3, 1.0, -0.2});

  const auto rigid = ComputeAbsolutePoseErrors(estimated, gt, {.estimate_scale = false});
  ASSERT_TRUE(rigid.has_value());
  EXPECT_LT(rigid->gt_from_estimated.translation.norm(), 1e-12);
  EXPECT_NEAR(rigid->ate_rmse, epsilon, 1e-12);
  EXPECT_NEAR(rigid->center_error_max, epsilon, 1e-12);
  EXPECT_NEAR(rigid->center_error_median, epsilon, 1e-12);
  EXPECT_NEAR(rigid->rotation_error_max_deg, 2.0, 1e-10);
  EXPECT_NEAR(rigid->rotation_error_mean_deg, 2.0 / 8.0, 1e-10);
  EXPECT_NEAR(rigid->rotation_error_median_deg, 0.0, 1e-10);

  const auto similarity = ComputeAbsolutePoseErrors(estimated, gt);
  ASSERT_TRUE(similarity.has_value());
  const double s = 27.0 / (27.0 + epsilon * epsilon);
  EXPECT_NEAR(similarity->gt_from_estimated.scale, s, 1e-14);
  EXPECT_NEAR(similarity->ate_rmse, std::sqrt((s - 1) * (s - 1) * 27 + s * s * epsilon * epsilon),
              1e-12);
  EXPECT_NEAR(similarity->rotation_error_max_deg, 2.0, 1e-10);
}

TEST(PoseMetrics, RigidAlignmentLeavesScaleErrors) {
  const auto gt = CubeCameras();
  Sim3 scale_only;
  scale_only.scale = 1.1;
  const auto errors =
      ComputeAbsolutePoseErrors(Transformed(scale_only, gt), gt, {.estimate_scale = false});
  ASSERT_TRUE(errors.has_value());
  EXPECT_EQ(errors->gt_from_estimated.scale, 1.0);
  // Every centre is 10% too far from the (common) centroid at distance 3√3.
  EXPECT_NEAR(errors->ate_rmse, 0.1 * 3.0 * std::sqrt(3.0), 1e-12);
}

TEST(PoseMetrics, AbsoluteErrorsNeedThreeNonCollinearCentres) {
  const auto gt = CubeCameras();
  const std::vector<Rigid3> two(gt.begin(), gt.begin() + 2);
  EXPECT_FALSE(ComputeAbsolutePoseErrors(two, two).has_value());
  std::vector<Rigid3> line;
  for (int i = 0; i < 5; ++i)
    line.emplace_back(Eigen::Quaterniond::Identity(), Eigen::Vector3d(0, 0, i));
  EXPECT_FALSE(ComputeAbsolutePoseErrors(line, line).has_value());
  EXPECT_THROW(ComputeAbsolutePoseErrors(gt, two), Error);
}

TEST(PoseMetrics, RelativeErrorsFollowTheTumDefinition) {
  const auto gt = CubeCameras();
  const Sim3 estimated_from_gt = EstimatedFromGt();
  const auto estimated = Transformed(estimated_from_gt, gt);
  // With the estimate's scale undone the motions match exactly.
  const auto exact =
      ComputeRelativePoseErrors(estimated, gt, {.estimated_scale = 1.0 / estimated_from_gt.scale});
  EXPECT_EQ(exact.num_pairs, 7);
  EXPECT_LT(exact.translation_rmse, 1e-12);
  EXPECT_LT(exact.rotation_mean_deg, 1e-10);

  // Without it each relative translation is off by |s - 1| times its length.
  const auto unscaled = ComputeRelativePoseErrors(estimated, gt, {.delta = 2});
  EXPECT_EQ(unscaled.num_pairs, 6);
  double sum_squared = 0.0;
  for (std::size_t i = 0; i + 2 < gt.size(); ++i) {
    sum_squared += (CameraCenter(gt[i + 2]) - CameraCenter(gt[i])).squaredNorm();
  }
  EXPECT_NEAR(unscaled.translation_rmse,
              std::abs(estimated_from_gt.scale - 1.0) * std::sqrt(sum_squared / 6.0), 1e-12);

  // One camera turned by α: both motions touching it are off by exactly α.
  auto turned = gt;
  turned[4] = TurnCamera(turned[4], 0.05, {1, 1, 0});
  const auto one = ComputeRelativePoseErrors(turned, gt);
  EXPECT_NEAR(one.rotation_mean_deg, 2.0 * 0.05 * 180.0 / kPi / 7.0, 1e-10);

  EXPECT_THROW(ComputeRelativePoseErrors(gt, gt, {.delta = 0}), Error);
  EXPECT_THROW(ComputeRelativePoseErrors(gt, gt, {.estimated_scale = 0.0}), Error);
  EXPECT_EQ(ComputeRelativePoseErrors(gt, gt, {.delta = 8}).num_pairs, 0);
}

TEST(PoseMetrics, PoseAucMatchesSuperGluesTrapezoidalDefinition) {
  // Recall curve through (0, 0), (0.5, 1/4), (2, 1/2), (4, 3/4), (10, 1); by hand:
  //   AUC@1 = [½·¼·0.5 + ¼·0.5] / 1 = 0.1875
  //   AUC@3 = [0.0625 + ½(¼+½)·1.5 + ½·1] / 3 = 0.375
  //   AUC@5 = [0.0625 + 0.5625 + ½(½+¾)·2 + ¾·1] / 5 = 0.525
  const std::vector<double> errors = {4.0, 0.5, 10.0, 2.0};
  const std::vector<double> thresholds = {1.0, 3.0, 5.0};
  const auto auc = PoseAuc(errors, thresholds);
  ASSERT_EQ(auc.size(), 3u);
  EXPECT_NEAR(auc[0], 0.1875, 1e-15);
  EXPECT_NEAR(auc[1], 0.375, 1e-15);
  EXPECT_NEAR(auc[2], 0.525, 1e-15);
  EXPECT_EQ(PoseAuc(std::vector<double>{0.0, 0.0}, thresholds), std::vector<double>(3, 1.0));
  EXPECT_EQ(PoseAuc({}, thresholds), std::vector<double>(3, 0.0));
  EXPECT_EQ(PoseAuc(std::vector<double>{std::nan("")}, thresholds)[2], 0.0);
  EXPECT_THROW(PoseAuc(errors, std::vector<double>{0.0}), Error);
}

TEST(PoseMetrics, RelativePoseAucOverAllPairs) {
  const auto gt = CubeCameras();
  const auto perfect = ComputeRelativePoseAuc(Transformed(EstimatedFromGt(), gt), gt);
  ASSERT_EQ(perfect.pair_errors_deg.size(), 28u);
  for (double auc : perfect.auc) EXPECT_NEAR(auc, 1.0, 1e-9);

  // Camera 5 turned by 2°: its 7 pairs have relative rotations off by exactly 2° and translation
  // directions off by at most 2°, so error 2°; the other 21 pairs are exact. The sorted recall
  // curve climbs to r0 = 21/28 at error 0, then the trapezoid reaches (2°, r1 = 22/28) and the
  // curve jumps to 1 there: AUC@1 = r0, AUC@3 = [(r0 + r1)/2·2 + 1·1] / 3,
  // AUC@5 = [(r0 + r1) + 1·3] / 5.
  auto estimated = gt;
  estimated[5] = TurnCamera(estimated[5], 2.0 * kPi / 180.0, {0.2, -1.0, 0.4});
  const auto result = ComputeRelativePoseAuc(estimated, gt);
  const double r0 = 21.0 / 28.0, r1 = 22.0 / 28.0;
  // Exact pairs carry ~1e-13° of rounding, which shifts the areas by that much.
  EXPECT_NEAR(result.auc[0], r0, 1e-9);
  EXPECT_NEAR(result.auc[1], (r0 + r1 + 1.0) / 3.0, 1e-9);
  EXPECT_NEAR(result.auc[2], (r0 + r1 + 3.0) / 5.0, 1e-9);
}

TEST(PoseMetrics, PairErrorCountsALostDirectionAsAFailure) {
  const Rigid3 a, b(Eigen::Quaterniond::Identity(), Eigen::Vector3d(1, 0, 0));
  // The estimate puts both cameras at one place while the truth has a baseline.
  EXPECT_EQ(RelativePairErrorDeg(a, a, a, b), 180.0);
  // The truth has no baseline: only the rotation counts.
  EXPECT_EQ(RelativePairErrorDeg(a, b, a, a), 0.0);
}

}  // namespace
}  // namespace facet::geometry
