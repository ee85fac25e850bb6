// Open3D 0.16 as an oracle for RegisterIcp: on the same clouds, normals and thresholds, point-to-
// plane ICP must reach the same pose, and our fitness, inlier RMSE and information matrix must
// equal Open3D's EvaluateRegistration / GetInformationMatrixFromPointClouds at our pose.
#include <gtest/gtest.h>
#include <open3d/geometry/PointCloud.h>
#include <open3d/pipelines/registration/ColoredICP.h>
#include <open3d/pipelines/registration/Registration.h>
#include <open3d/pipelines/registration/TransformationEstimation.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numbers>
#include <random>

#include "datasets/pcd.h"
#include "geometry/icp.h"
#include "geometry/normals.h"
#include "registration_test_data.h"

namespace facet::geometry {
namespace {

namespace reg = open3d::pipelines::registration;
using test::FragmentPath;

// Random samples of a bumpy closed surface r(theta, phi) = 1 + 0.2 sin(3 theta) cos(2 phi).
PointCloud BumpySphere(int count, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  PointCloud cloud;
  for (int i = 0; i < count; ++i) {
    const double theta = std::acos(1.0 - 2.0 * unit(rng));
    const double phi = 2.0 * std::numbers::pi * unit(rng);
    const double r = 1.0 + 0.2 * std::sin(3.0 * theta) * std::cos(2.0 * phi);
    cloud.points.emplace_back(r * std::sin(theta) * std::cos(phi),
                              r * std::sin(theta) * std::sin(phi), r * std::cos(theta));
  }
  return cloud;
}

open3d::geometry::PointCloud ToOpen3d(const PointCloud& cloud) {
  open3d::geometry::PointCloud out;
  out.points_ = cloud.points;
  out.normals_ = cloud.normals;
  for (const auto& c : cloud.colors) out.colors_.push_back(c.cast<double>());
  return out;
}

TEST(Open3dOracle, PointToPlaneIcpMatchesOpen3d) {
  PointCloud target = BumpySphere(20000, 1);
  EstimateNormals(target, {.knn = 16});
  const Rigid3 truth(
      Eigen::Quaterniond(Eigen::AngleAxisd(0.15, Eigen::Vector3d(1, 2, 3).normalized())),
      Eigen::Vector3d(0.05, -0.03, 0.02));
  PointCloud source = BumpySphere(3000, 2);  // other samples: the RMSE is not zero
  for (auto& p : source.points) p = truth.Inverse() * p;

  IcpOptions options;
  options.max_correspondence_distance = 0.2;
  const IcpResult ours = RegisterIcp(source, target, Rigid3(), options);
  ASSERT_TRUE(ours.converged);

  const auto source3d = ToOpen3d(source), target3d = ToOpen3d(target);
  const reg::RegistrationResult theirs = reg::RegistrationICP(
      source3d, target3d, options.max_correspondence_distance, Eigen::Matrix4d::Identity(),
      reg::TransformationEstimationPointToPlane(), reg::ICPConvergenceCriteria(1e-6, 1e-6, 30));
  const Rigid3 their_pose = Rigid3::FromMatrix(theirs.transformation_.topRows<3>());
  std::printf("ours: fitness %.6f rmse %.6e, %d iterations; Open3D: fitness %.6f rmse %.6e\n",
              ours.fitness, ours.inlier_rmse, ours.iterations, theirs.fitness_,
              theirs.inlier_rmse_);
  // Both stop near the same optimum: the pose differs by far less than the sample spacing.
  EXPECT_LT(ours.target_from_source.rotation.angularDistance(their_pose.rotation), 1e-3);
  EXPECT_LT((ours.target_from_source.translation - their_pose.translation).norm(), 1e-3);
  EXPECT_NEAR(ours.fitness, theirs.fitness_, 2e-3);
  EXPECT_NEAR(ours.inlier_rmse, theirs.inlier_rmse_, 1e-2 * theirs.inlier_rmse_);

  // At our pose, Open3D's definitions give our numbers exactly (up to summation order).
  const Eigen::Matrix4d our_pose = ours.target_from_source.ToMatrix4();
  const reg::RegistrationResult evaluated =
      reg::EvaluateRegistration(source3d, target3d, options.max_correspondence_distance, our_pose);
  EXPECT_DOUBLE_EQ(ours.fitness, evaluated.fitness_);
  EXPECT_NEAR(ours.inlier_rmse, evaluated.inlier_rmse_, 1e-12);
  const Eigen::Matrix<double, 6, 6> information = reg::GetInformationMatrixFromPointClouds(
      source3d, target3d, options.max_correspondence_distance, our_pose);
  EXPECT_LT((ours.information - information).norm(), 1e-9 * information.norm());
}

// ICP on the two scanned room fragments (normals and colours stored, nearly aligned as stored)
// from a start perturbed by ~6 degrees and 5 cm, with the same distance, criteria and (for
// colored ICP, Park et al. 2017) lambda as Open3D's RegistrationICP / RegistrationColoredICP:
// the same optimum and the same inlier RMSE.
void ExpectSameAsOpen3dOnFragments(IcpOptions::Method method) {
  if (!std::filesystem::exists(FragmentPath(0)) || !std::filesystem::exists(FragmentPath(1))) {
    GTEST_SKIP() << "no " << FragmentPath(0).parent_path();
  }
  const PointCloud source = datasets::ReadPcd(FragmentPath(0));
  const PointCloud target = datasets::ReadPcd(FragmentPath(1));
  ASSERT_TRUE(source.HasColors() && target.HasNormals() && target.HasColors());
  const Rigid3 init(
      Eigen::Quaterniond(Eigen::AngleAxisd(0.1, Eigen::Vector3d(1, -2, 1).normalized())),
      Eigen::Vector3d(0.03, 0.04, -0.02));

  IcpOptions options;
  options.method = method;
  options.max_correspondence_distance = 0.05;
  options.max_iterations = 100;
  const IcpResult ours = RegisterIcp(source, target, init, options);
  EXPECT_TRUE(ours.converged);

  const auto source3d = ToOpen3d(source), target3d = ToOpen3d(target);
  const reg::ICPConvergenceCriteria criteria(options.relative_fitness, options.relative_rmse,
                                             options.max_iterations);
  const reg::RegistrationResult theirs =
      method == IcpOptions::Method::kColored
          ? reg::RegistrationColoredICP(
                source3d, target3d, options.max_correspondence_distance, init.ToMatrix4(),
                reg::TransformationEstimationForColoredICP(options.lambda_geometric), criteria)
          : reg::RegistrationICP(source3d, target3d, options.max_correspondence_distance,
                                 init.ToMatrix4(), reg::TransformationEstimationPointToPlane(),
                                 criteria);
  const Rigid3 their_pose = Rigid3::FromMatrix(theirs.transformation_.topRows<3>());
  const double rotation = ours.target_from_source.rotation.angularDistance(their_pose.rotation);
  const double translation = (ours.target_from_source.translation - their_pose.translation).norm();
  std::printf(
      "ours: fitness %.6f rmse %.6e, %d iterations; Open3D: fitness %.6f rmse %.6e; pose "
      "difference %.2e rad %.2e m\n",
      ours.fitness, ours.inlier_rmse, ours.iterations, theirs.fitness_, theirs.inlier_rmse_,
      rotation, translation);
  // Same rows, same gradients, same stopping rule: only the update's parametrisation (our exact
  // exponential, Open3D's Euler angles) and summation order differ, far below the sampling.
  EXPECT_LT(rotation, 1e-6);
  EXPECT_LT(translation, 1e-6);
  EXPECT_NEAR(ours.fitness, theirs.fitness_, 1e-9);
  EXPECT_NEAR(ours.inlier_rmse, theirs.inlier_rmse_, 1e-6 * theirs.inlier_rmse_);
}

TEST(Open3dOracle, PointToPlaneIcpMatchesOpen3dOnFragments) {
  ExpectSameAsOpen3dOnFragments(IcpOptions::Method::kPointToPlane);
}

TEST(Open3dOracle, ColoredIcpMatchesOpen3dOnFragments) {
  ExpectSameAsOpen3dOnFragments(IcpOptions::Method::kColored);
}

}  // namespace
}  // namespace facet::geometry
