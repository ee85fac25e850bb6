// RegisterGlobal (FPFH + RANSAC + ICP) from arbitrary poses: the Stanford bunny (uniform
// rotations, translations up to its size, with and without 1% noise), Open3D's demo fragments
// against the ICP optimum from their stored pose, clouds that cannot overlap (reported as failures,
// never as wrong successes), identical clouds, determinism and invalid input.
#include "geometry/global_registration.h"

#include <gtest/gtest.h>
#include <oneapi/tbb/global_control.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numbers>
#include <random>

#include "core/error.h"
#include "datasets/pcd.h"
#include "datasets/ply.h"
#include "geometry/icp.h"
#include "registration_test_data.h"

namespace facet::geometry {
namespace {

using test::Size;

constexpr double kDegree = std::numbers::pi / 180.0;

std::filesystem::path SharedData(const char* relative) {
  return std::filesystem::path(FACET_SOURCE_DIR "/../shared/data") / relative;
}

// A rotation uniform over SO(3) (a normalised Gaussian quaternion) and a translation uniform in
// the ball of radius max_translation.
Rigid3 RandomPose(std::mt19937& rng, double max_translation) {
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const Eigen::Quaterniond rotation =
      Eigen::Quaterniond(normal(rng), normal(rng), normal(rng), normal(rng)).normalized();
  const Eigen::Vector3d direction =
      Eigen::Vector3d(normal(rng), normal(rng), normal(rng)).normalized();
  return {rotation, max_translation * std::cbrt(unit(rng)) * direction};
}

PointCloud Transformed(const PointCloud& cloud, const Rigid3& b_from_a) {
  PointCloud out = cloud;
  for (auto& p : out.points) p = b_from_a * p;
  for (auto& n : out.normals) n = b_from_a.rotation * n;
  return out;
}

double RotationError(const Rigid3& a, const Rigid3& b) {
  return a.rotation.angularDistance(b.rotation);
}
double TranslationError(const Rigid3& a, const Rigid3& b) {
  return (a.translation - b.translation).norm();
}

struct Rate {
  int trials = 0, correct = 0, reported_success = 0, wrong_success = 0;
  double seconds = 0.0;
};

// The bunny moved by source_from_target = truth^-1 (arbitrary rotation, translation up to the
// bunny's size), optionally with Gaussian noise, registered back onto the bunny.
Rate BunnyTrials(
    int trials, double noise_fraction, unsigned seed,
    GlobalRegistrationOptions::Method method = GlobalRegistrationOptions::Method::kRansac) {
  const PointCloud bunny = datasets::ReadPointCloudPly(SharedData("stanford-bunny/bun_zipper.ply"));
  const double size = Size(bunny);
  GlobalRegistrationOptions options;
  options.method = method;
  options.voxel_size = size / 20.0;
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0.0, noise_fraction * size);
  Rate rate;
  for (int trial = 0; trial < trials; ++trial) {
    const Rigid3 truth = RandomPose(rng, size);  // target_from_source
    PointCloud source = Transformed(bunny, truth.Inverse());
    if (noise_fraction > 0.0) {
      for (auto& p : source.points) p += Eigen::Vector3d(noise(rng), noise(rng), noise(rng));
    }
    const auto start = std::chrono::steady_clock::now();
    const GlobalRegistrationResult result = RegisterGlobal(source, bunny, options);
    rate.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const bool correct = RotationError(result.target_from_source, truth) < kDegree &&
                         TranslationError(result.target_from_source, truth) < 0.01 * size;
    ++rate.trials;
    rate.correct += correct;
    rate.reported_success += result.success;
    rate.wrong_success += result.success && !correct;
  }
  return rate;
}

void Print(const char* what, const Rate& rate) {
  std::printf("%s: %d / %d correct, %d reported success (%d wrong), %.1f ms per registration\n",
              what, rate.correct, rate.trials, rate.reported_success, rate.wrong_success,
              1e3 * rate.seconds / rate.trials);
}

TEST(GlobalRegistration, BunnyUnderArbitraryRotations) {
  if (!std::filesystem::exists(SharedData("stanford-bunny/bun_zipper.ply"))) GTEST_SKIP();
  const Rate rate = BunnyTrials(100, 0.0, 1);
  Print("bunny, arbitrary poses", rate);
  EXPECT_GE(rate.correct, 95);
  EXPECT_LE(rate.wrong_success, 0);
}

TEST(GlobalRegistration, NoisyBunnyUnderArbitraryRotations) {
  if (!std::filesystem::exists(SharedData("stanford-bunny/bun_zipper.ply"))) GTEST_SKIP();
  const Rate rate = BunnyTrials(50, 0.01, 2);
  Print("bunny, arbitrary poses, 1% noise", rate);
  EXPECT_GE(rate.correct, 48);  // 95% of 50
  EXPECT_LE(rate.wrong_success, 0);
}

TEST(GlobalRegistration, FastGlobalRegistrationOnBunny) {
  if (!std::filesystem::exists(SharedData("stanford-bunny/bun_zipper.ply"))) GTEST_SKIP();
  const Rate rate = BunnyTrials(40, 0.0, 9, GlobalRegistrationOptions::Method::kFastGlobal);
  Print("bunny, arbitrary poses, FGR", rate);
  EXPECT_GE(rate.correct, 38);  // 95% of 40
  EXPECT_LE(rate.wrong_success, 0);
}

// cloud_bin_0 onto cloud_bin_1 (Open3D's demo fragments, stored nearly aligned, with normals):
// ICP from the stored pose gives the reference; from any rotation of the source, RegisterGlobal
// followed by the same ICP must reach it.
Rate FragmentTrials(int trials, unsigned seed, GlobalRegistrationOptions::Method method) {
  const PointCloud source = datasets::ReadPcd(SharedData("icp-fragments/cloud_bin_0.pcd"));
  const PointCloud target = datasets::ReadPcd(SharedData("icp-fragments/cloud_bin_1.pcd"));
  EXPECT_TRUE(source.HasNormals() && target.HasNormals());
  IcpOptions icp;
  icp.max_correspondence_distance = 0.05;
  const IcpResult reference = RegisterIcp(source, target, Rigid3(), icp);
  EXPECT_TRUE(reference.converged);
  const double size = Size(target);
  GlobalRegistrationOptions options;
  options.voxel_size = 0.05;
  options.method = method;
  std::mt19937 rng(seed);
  Rate rate;
  for (int trial = 0; trial < trials; ++trial) {
    const Rigid3 moved_from_source = RandomPose(rng, size);
    const PointCloud moved = Transformed(source, moved_from_source);
    const auto start = std::chrono::steady_clock::now();
    const GlobalRegistrationResult global = RegisterGlobal(moved, target, options);
    const IcpResult refined = RegisterIcp(moved, target, global.target_from_source, icp);
    rate.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const Rigid3 expected = reference.target_from_source * moved_from_source.Inverse();
    const bool correct = RotationError(refined.target_from_source, expected) < kDegree &&
                         TranslationError(refined.target_from_source, expected) < 0.01;
    ++rate.trials;
    rate.correct += correct;
    rate.reported_success += global.success;
    rate.wrong_success += global.success && !correct;
  }
  return rate;
}

TEST(GlobalRegistration, FragmentsUnderArbitraryRotations) {
  if (!std::filesystem::exists(SharedData("icp-fragments/cloud_bin_0.pcd"))) GTEST_SKIP();
  const Rate rate = FragmentTrials(20, 3, GlobalRegistrationOptions::Method::kRansac);
  Print("fragments, arbitrary poses", rate);
  EXPECT_GE(rate.correct, 19);  // 95% of 20
  EXPECT_LE(rate.wrong_success, 0);
}

TEST(GlobalRegistration, FastGlobalRegistrationOnFragments) {
  if (!std::filesystem::exists(SharedData("icp-fragments/cloud_bin_0.pcd"))) GTEST_SKIP();
  const Rate rate = FragmentTrials(20, 10, GlobalRegistrationOptions::Method::kFastGlobal);
  Print("fragments, arbitrary poses, FGR", rate);
  EXPECT_GE(rate.correct, 19);  // 95% of 20
  EXPECT_LE(rate.wrong_success, 0);
}

PointCloud Sphere(int count, double radius, const Eigen::Vector3d& center, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  PointCloud cloud;
  for (int i = 0; i < count; ++i) {
    cloud.points.push_back(
        center + radius * Eigen::Vector3d(normal(rng), normal(rng), normal(rng)).normalized());
  }
  return cloud;
}

TEST(GlobalRegistration, PlaneAndSphereDoNotOverlap) {
  std::mt19937 rng(4);
  std::uniform_real_distribution<double> unit(-1.0, 1.0);
  PointCloud plane_points;
  for (int i = 0; i < 20000; ++i) plane_points.points.emplace_back(unit(rng), unit(rng), 0.0);
  const PointCloud plane = plane_points;
  const PointCloud sphere = Sphere(20000, 0.5, Eigen::Vector3d(10.0, 0.0, 0.0), 5);
  GlobalRegistrationOptions options;
  options.voxel_size = 0.04;
  for (const auto method : {GlobalRegistrationOptions::Method::kRansac,
                            GlobalRegistrationOptions::Method::kFastGlobal}) {
    options.method = method;
    for (const auto& [source, target] : {std::pair{&plane, &sphere}, std::pair{&sphere, &plane}}) {
      const GlobalRegistrationResult result = RegisterGlobal(*source, *target, options);
      std::printf("no overlap: fitness %.3f, %d / %d inliers\n", result.fitness, result.inliers,
                  result.correspondences);
      EXPECT_FALSE(result.success);
      EXPECT_LT(result.fitness, options.min_fitness);
    }
  }
}

TEST(GlobalRegistration, IdenticalCloudsGiveIdentity) {
  if (!std::filesystem::exists(SharedData("icp-fragments/cloud_bin_0.pcd"))) GTEST_SKIP();
  const PointCloud cloud = datasets::ReadPcd(SharedData("icp-fragments/cloud_bin_0.pcd"));
  GlobalRegistrationOptions options;
  options.voxel_size = 0.05;
  const GlobalRegistrationResult result = RegisterGlobal(cloud, cloud, options);
  EXPECT_TRUE(result.success);
  EXPECT_DOUBLE_EQ(result.fitness, 1.0);
  EXPECT_LT(RotationError(result.target_from_source, Rigid3()), 1e-6);
  EXPECT_LT(result.target_from_source.translation.norm(), 1e-6);
}

TEST(GlobalRegistration, DeterministicForASeed) {
  const PointCloud target = Sphere(3000, 1.0, Eigen::Vector3d::Zero(), 6);
  PointCloud bumpy = target;
  for (auto& p : bumpy.points) p *= 1.0 + 0.2 * std::sin(3.0 * p.x()) * std::cos(2.0 * p.y());
  const PointCloud source =
      Transformed(bumpy, Rigid3(Eigen::Quaterniond(0.3, 0.5, -0.2, 0.7).normalized(), {1, 2, 3}));
  GlobalRegistrationOptions options;
  options.voxel_size = 0.1;
  const GlobalRegistrationResult a = RegisterGlobal(source, bumpy, options);
  const GlobalRegistrationResult b = RegisterGlobal(source, bumpy, options);
  EXPECT_TRUE(a.success);
  EXPECT_EQ(a.target_from_source.ToMatrix(), b.target_from_source.ToMatrix());
  EXPECT_EQ(a.iterations, b.iterations);
  EXPECT_EQ(a.fitness, b.fitness);
  // The same on one thread: batches and per-hypothesis seeds make it schedule-independent.
  const oneapi::tbb::global_control one_thread(oneapi::tbb::global_control::max_allowed_parallelism,
                                               1);
  const GlobalRegistrationResult c = RegisterGlobal(source, bumpy, options);
  EXPECT_EQ(a.target_from_source.ToMatrix(), c.target_from_source.ToMatrix());
  EXPECT_EQ(a.iterations, c.iterations);
}

TEST(GlobalRegistration, BadInputThrows) {
  GlobalRegistrationOptions options;
  PointCloud empty, single, cloud = Sphere(500, 1.0, Eigen::Vector3d::Zero(), 7);
  single.points.emplace_back(0.0, 0.0, 0.0);
  EXPECT_THROW(RegisterGlobal(empty, cloud, options), Error);
  EXPECT_THROW(RegisterGlobal(cloud, empty, options), Error);
  EXPECT_THROW(RegisterGlobal(single, cloud, options), Error);
  EXPECT_THROW(RegisterGlobal(cloud, single, options), Error);
  const PointCloud away = Sphere(500, 1.0, Eigen::Vector3d(50.0, 50.0, 50.0), 8);
  options.voxel_size = 100.0;  // everything in one voxel
  EXPECT_THROW(RegisterGlobal(away, away, options), Error);
  options.voxel_size = 0.0;
  EXPECT_THROW(RegisterGlobal(cloud, cloud, options), Error);
  options = {};
  options.ransac_n = 2;
  EXPECT_THROW(RegisterGlobal(cloud, cloud, options), Error);
}

// Two slabs of the bunny, apart by 20% of its extent along each axis: smooth patches of one can lie
// on the other (fitness up to ~0.6 measured), but few feature pairs agree with any such pose, so
// the inlier test must report a failure.
TEST(GlobalRegistration, DisjointPartsOfTheBunnyAreNoSuccess) {
  if (!std::filesystem::exists(SharedData("stanford-bunny/bun_zipper.ply"))) GTEST_SKIP();
  const PointCloud bunny = datasets::ReadPointCloudPly(SharedData("stanford-bunny/bun_zipper.ply"));
  const Bounds3 b = ComputeBounds(bunny.points);
  const double size = Size(bunny);
  for (int axis = 0; axis < 3; ++axis) {
    PointCloud low, high;
    const double lo = b.min[axis], ext = b.Extent()[axis];
    for (const auto& p : bunny.points) {
      if (p[axis] < lo + 0.4 * ext) low.points.push_back(p);
      if (p[axis] > lo + 0.6 * ext) high.points.push_back(p);
    }
    for (const auto method : {GlobalRegistrationOptions::Method::kRansac,
                              GlobalRegistrationOptions::Method::kFastGlobal}) {
      GlobalRegistrationOptions options;
      options.voxel_size = size / 20.0;
      options.method = method;
      const auto r = RegisterGlobal(low, high, options);
      std::printf("disjoint slabs, axis %d, method %d: fitness %.3f, %d / %d inliers\n", axis,
                  static_cast<int>(method), r.fitness, r.inliers, r.correspondences);
      EXPECT_FALSE(r.success);
    }
  }
}

}  // namespace
}  // namespace facet::geometry
