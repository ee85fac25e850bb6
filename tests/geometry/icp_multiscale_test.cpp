// RegisterIcpMultiScale: convergence basins on the scanned room fragments and on the Stanford
// bunny (data from ../shared/data, skipped when absent).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <numbers>
#include <random>
#include <string>

#include "core/error.h"
#include "datasets/pcd.h"
#include "datasets/ply.h"
#include "geometry/icp.h"
#include "geometry/knn_index.h"
#include "geometry/normals.h"
#include "registration_test_data.h"

namespace facet::geometry {
namespace {

using test::Bunny;
using test::BunnyPath;
using test::FragmentPath;
using test::RandomMotion;
using test::Size;

constexpr double kDegree = std::numbers::pi / 180.0;

// The motion `motion` applied about `center` instead of the origin.
Rigid3 About(const Rigid3& motion, const Eigen::Vector3d& center) {
  return Rigid3(Eigen::Quaterniond::Identity(), center) * motion *
         Rigid3(Eigen::Quaterniond::Identity(), -center);
}

Eigen::Vector3d Centroid(const PointCloud& cloud) {
  Eigen::Vector3d sum = Eigen::Vector3d::Zero();
  for (const auto& p : cloud.points) sum += p;
  return sum / static_cast<double>(cloud.size());
}

struct PoseError {
  double rotation = 0.0, translation = 0.0;
};

PoseError Error(const Rigid3& a, const Rigid3& b) {
  return {a.rotation.angularDistance(b.rotation), (a.translation - b.translation).norm()};
}

class IcpFragments : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(FragmentPath(0)) || !std::filesystem::exists(FragmentPath(1))) {
      GTEST_SKIP() << "no " << FragmentPath(0).parent_path();
    }
  }
};

// From 60 starts up to 20 degrees (about the source's centroid) and 0.5 m off the stored pose,
// the multi-scale schedule reaches the optimum that point-to-plane ICP at full resolution finds
// from the stored pose, within 1 cm and 0.5 degrees.
TEST_F(IcpFragments, MultiScaleConvergesFromLargePerturbations) {
  const PointCloud source = datasets::ReadPcd(FragmentPath(0));
  const PointCloud target = datasets::ReadPcd(FragmentPath(1));
  IcpOptions options;
  options.max_correspondence_distance = 0.05;
  options.max_iterations = 100;
  const IcpResult reference = RegisterIcp(source, target, Rigid3(), options);
  ASSERT_TRUE(reference.converged);

  const IcpScale scales[] = {{0.1, 0.8, 40}, {0.05, 0.3, 30}, {0.025, 0.1, 30}, {0.0, 0.05, 100}};
  const Eigen::Vector3d center = Centroid(source);
  std::mt19937 rng(5);
  int good = 0;
  constexpr int kTrials = 60;
  PoseError worst;
  const auto start = std::chrono::steady_clock::now();
  for (int trial = 0; trial < kTrials; ++trial) {
    const Rigid3 init = About(RandomMotion(rng, 20.0 * kDegree, 0.5), center);
    const IcpResult result = RegisterIcpMultiScale(source, target, init, scales, options);
    const PoseError error = Error(result.target_from_source, reference.target_from_source);
    if (error.rotation < 0.5 * kDegree && error.translation < 0.01) {
      ++good;
      worst.rotation = std::max(worst.rotation, error.rotation);
      worst.translation = std::max(worst.translation, error.translation);
    } else {
      std::printf("trial %d: init %.1f deg %.2f m -> error %.2f deg %.3f m\n", trial,
                  init.rotation.angularDistance(Eigen::Quaterniond::Identity()) / kDegree,
                  init.translation.norm(), error.rotation / kDegree, error.translation);
    }
  }
  std::printf("%d/%d within 0.5 deg / 1 cm (worst %.2e deg, %.2e m), %.1f ms per trial\n", good,
              kTrials, worst.rotation / kDegree, worst.translation,
              1e3 *
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() /
                  kTrials);
  EXPECT_EQ(good, kTrials);
}

struct BunnyStudy {
  double noise = 0.0;             // Gaussian noise on the source, fraction of the size
  double outlier_fraction = 0.0;  // uniform points in the inflated bounds, per source point
  int source_points = 1000;
  IcpOptions options;
};

// 200 trials: target = the bunny downsampled to 1% of its size (~2.5k points); source =
// source_points random vertices of the full-resolution bunny (other samples than the target's cell
// centroids), optionally noisy and with outliers, moved by truth^-1 with truth random (<= 30
// degrees about a random axis through the origin, <= 10% of the size). Converged: rotation error <
// 0.5 degrees and translation error < 0.5% of the size against truth. Returns the fraction
// converged.
double RunBunnyStudy(const BunnyStudy& study, unsigned seed) {
  const PointCloud& bunny = Bunny();
  const double size = Size(bunny);
  const PointCloud target = VoxelDownsample(bunny, 0.01 * size);
  Bounds3 bounds = ComputeBounds(bunny.points);
  const Eigen::Vector3d margin = Eigen::Vector3d::Constant(0.1 * size);
  bounds.min -= margin;
  bounds.max += margin;
  const IcpScale scales[] = {
      {0.04 * size, 0.5 * size, 30}, {0.02 * size, 0.1 * size, 30}, {0.0, 0.03 * size, 30}};
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::size_t> pick(0, bunny.size() - 1);
  std::normal_distribution<double> noise(0.0, study.noise * size);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  constexpr int kTrials = 200;
  const int source_points = study.source_points;
  int converged = 0;
  double worst_rotation = 0.0, worst_translation = 0.0;
  const auto start = std::chrono::steady_clock::now();
  for (int trial = 0; trial < kTrials; ++trial) {
    const Rigid3 truth = RandomMotion(rng, 30.0 * kDegree, 0.1 * size);
    const Rigid3 source_from_target = truth.Inverse();
    PointCloud source;
    for (int i = 0; i < source_points; ++i) {
      Eigen::Vector3d p = bunny.points[pick(rng)];
      if (study.noise > 0.0) p += Eigen::Vector3d(noise(rng), noise(rng), noise(rng));
      source.points.push_back(source_from_target * p);
    }
    const int outliers = static_cast<int>(study.outlier_fraction * source_points);
    for (int i = 0; i < outliers; ++i) {
      const Eigen::Vector3d u(unit(rng), unit(rng), unit(rng));
      source.points.push_back(
          source_from_target *
          Eigen::Vector3d(bounds.min.array() + u.array() * (bounds.max - bounds.min).array()));
    }
    const IcpResult result = RegisterIcpMultiScale(source, target, Rigid3(), scales, study.options);
    const PoseError error = Error(result.target_from_source, truth);
    if (error.rotation < 0.5 * kDegree && error.translation < 0.005 * size) {
      ++converged;
      worst_rotation = std::max(worst_rotation, error.rotation);
      worst_translation = std::max(worst_translation, error.translation);
    } else {
      std::printf("trial %d: error %.3f deg %.2e of size, fitness %.3f\n", trial,
                  error.rotation / kDegree, error.translation / size, result.fitness);
    }
  }
  std::printf("%d/%d converged (worst %.3f deg, %.2e of size), %.1f ms per trial\n", converged,
              kTrials, worst_rotation / kDegree, worst_translation / size,
              1e3 *
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() /
                  kTrials);
  return static_cast<double>(converged) / kTrials;
}

class IcpBunnyStudy : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(BunnyPath())) GTEST_SKIP() << "no " << BunnyPath();
  }
};

TEST_F(IcpBunnyStudy, CleanSourceConverges) { EXPECT_GE(RunBunnyStudy({}, 17), 0.99); }

// 1% noise and 20% outliers: Tukey's biweight at 10% of the size rejects most outliers. The
// noise alone scatters the optimum itself (1000 points: up to ~0.5 degrees from the truth,
// measured with no outliers and no kernel), so the source has 1500 points.
TEST_F(IcpBunnyStudy, NoisySourceWithOutliersConverges) {
  BunnyStudy study;
  study.noise = 0.01;
  study.outlier_fraction = 0.2;
  study.source_points = 1500;
  study.options.robust_kernel = IcpOptions::RobustKernel::kTukey;
  study.options.robust_k = 0.1 * Size(Bunny());
  EXPECT_GE(RunBunnyStudy(study, 19), 0.95);
}

PointCloud Tetrahedron() {
  PointCloud cloud;
  cloud.points = {{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
  cloud.normals.assign(4, Eigen::Vector3d::UnitZ());
  return cloud;
}

TEST(IcpMultiScale, RejectsBadSchedulesAndColorlessColoredIcp) {
  const PointCloud cloud = Tetrahedron();
  const IcpOptions options;
  EXPECT_THROW(RegisterIcpMultiScale(cloud, cloud, Rigid3(), {}, options), facet::Error);
  const IcpScale finer_then_coarser[] = {{0.1, 0.5, 10}, {0.2, 0.5, 10}};
  EXPECT_THROW(RegisterIcpMultiScale(cloud, cloud, Rigid3(), finer_then_coarser, options),
               facet::Error);
  const IcpScale full_then_coarse[] = {{0.0, 0.5, 10}, {0.1, 0.5, 10}};
  EXPECT_THROW(RegisterIcpMultiScale(cloud, cloud, Rigid3(), full_then_coarse, options),
               facet::Error);
  const IcpScale negative[] = {{-0.1, 0.5, 10}};
  EXPECT_THROW(RegisterIcpMultiScale(cloud, cloud, Rigid3(), negative, options), facet::Error);
  const IcpScale no_distance[] = {{0.0, 0.0, 10}};
  EXPECT_THROW(RegisterIcpMultiScale(cloud, cloud, Rigid3(), no_distance, options), facet::Error);
  EXPECT_THROW(DefaultIcpScales(0.0), facet::Error);
  const std::vector<IcpScale> scales = DefaultIcpScales(0.01);
  ASSERT_EQ(scales.size(), 3u);
  for (std::size_t i = 1; i < scales.size(); ++i) {
    EXPECT_LT(scales[i].voxel_size, scales[i - 1].voxel_size);
    EXPECT_LT(scales[i].max_correspondence_distance, scales[i - 1].max_correspondence_distance);
  }
  IcpOptions colored;
  colored.method = IcpOptions::Method::kColored;
  EXPECT_THROW(RegisterIcp(cloud, cloud, Rigid3(), colored), facet::Error);  // no colours
  colored.lambda_geometric = 1.5;
  EXPECT_THROW(colored.Check(), facet::Error);
  colored = {};
  colored.color_gradient_neighbours = 3;
  EXPECT_THROW(colored.Check(), facet::Error);
  IcpOptions adaptive;
  adaptive.adaptive_distance = true;
  adaptive.adaptive_min_distance = 2.0 * adaptive.max_correspondence_distance;
  EXPECT_THROW(adaptive.Check(), facet::Error);
}

// With lambda_geometric = 1 the photometric rows vanish: colored ICP is point-to-plane ICP.
TEST_F(IcpFragments, ColoredWithoutPhotometricTermIsPointToPlane) {
  const PointCloud source = datasets::ReadPcd(FragmentPath(0));
  const PointCloud target = datasets::ReadPcd(FragmentPath(1));
  IcpOptions options;
  options.max_correspondence_distance = 0.05;
  const IcpResult plane = RegisterIcp(source, target, Rigid3(), options);
  options.method = IcpOptions::Method::kColored;
  options.lambda_geometric = 1.0;
  const IcpResult colored = RegisterIcp(source, target, Rigid3(), options);
  EXPECT_EQ(colored.iterations, plane.iterations);
  EXPECT_LT(Error(colored.target_from_source, plane.target_from_source).rotation, 1e-12);
  EXPECT_LT(Error(colored.target_from_source, plane.target_from_source).translation, 1e-12);
  EXPECT_EQ(colored.fitness, plane.fitness);
}

// The bounded, hinted nearest-neighbour query behind ICP's correspondences agrees with the plain
// k = 1 search and a brute-force scan, whatever the hint.
TEST(KnnIndex, NearestWithHintIsTheExactNearest) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> unit(-1.0, 1.0);
  std::vector<Eigen::Vector3d> points(5000);
  for (auto& p : points) p = {unit(rng), unit(rng), unit(rng)};
  const KnnIndex index(points);
  std::uniform_int_distribution<std::uint32_t> pick(0, 4999);
  for (int q = 0; q < 500; ++q) {
    const Eigen::Vector3d query(1.2 * unit(rng), 1.2 * unit(rng), 1.2 * unit(rng));
    double best = std::numeric_limits<double>::infinity();
    for (const auto& p : points) best = std::min(best, (p - query).squaredNorm());
    std::uint32_t knn = 0;
    double knn_d2 = 0.0;
    ASSERT_EQ(index.Search(query, 1, &knn, &knn_d2), 1);
    for (const std::uint32_t hint : {KnnIndex::kNoHint, pick(rng), knn}) {
      std::uint32_t nearest = 0;
      double d2 = 0.0;
      ASSERT_TRUE(index.Nearest(query, 10.0, hint, &nearest, &d2));
      EXPECT_EQ(d2, best);
      EXPECT_EQ((points[nearest] - query).squaredNorm(), best);
      // The bound is inclusive; below the nearest distance there is nothing.
      EXPECT_TRUE(index.Nearest(query, best, hint, &nearest, &d2));
      EXPECT_FALSE(index.Nearest(query, 0.99 * best, hint, &nearest, &d2));
    }
  }
}

}  // namespace
}  // namespace facet::geometry
