#include "geometry/alignment.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "core/error.h"

namespace facet::geometry {
namespace {

Sim3 TrueDstFromSrc() {
  return {2.5, Eigen::Quaterniond(Eigen::AngleAxisd(0.9, Eigen::Vector3d(-1, 2, 0.5).normalized())),
          Eigen::Vector3d(3.0, -1.0, 0.25)};
}

// Points uniform in the unit cube [-1, 1]³.
std::vector<Eigen::Vector3d> RandomPoints(int n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  std::vector<Eigen::Vector3d> points(static_cast<std::size_t>(n));
  for (auto& p : points) p = {uniform(rng), uniform(rng), uniform(rng)};
  return points;
}

std::vector<Eigen::Vector3d> Apply(const Sim3& t, const std::vector<Eigen::Vector3d>& points) {
  std::vector<Eigen::Vector3d> out;
  for (const auto& p : points) out.push_back(t * p);
  return out;
}

double MeanSquaredError(const Sim3& t, const std::vector<Eigen::Vector3d>& src,
                        const std::vector<Eigen::Vector3d>& dst) {
  double sum = 0.0;
  for (std::size_t i = 0; i < src.size(); ++i) sum += (dst[i] - t * src[i]).squaredNorm();
  return sum / double(src.size());
}

void ExpectNear(const Sim3& a, const Sim3& b, double tolerance) {
  EXPECT_NEAR(a.scale, b.scale, tolerance * b.scale);
  EXPECT_LT(a.rotation.angularDistance(b.rotation), tolerance);
  EXPECT_LT((a.translation - b.translation).norm(), tolerance * (1.0 + b.translation.norm()));
}

TEST(Alignment, RecoversAnExactSimilarity) {
  const auto src = RandomPoints(20, 1);
  const auto dst = Apply(TrueDstFromSrc(), src);
  const std::optional<Sim3> estimate = EstimateSim3(src, dst);
  ASSERT_TRUE(estimate.has_value());
  ExpectNear(*estimate, TrueDstFromSrc(), 1e-12);
}

TEST(Alignment, CoplanarPointsGiveARotationNotAReflection) {
  // Three points (the minimum) and a planar set: the cross-covariance has rank 2, where the
  // plain SVD solution may be a reflection (Umeyama's sign correction, eq. 39).
  std::vector<Eigen::Vector3d> src = {{0, 0, 0}, {1, 0, 0}, {0, 2, 0}};
  for (int trial = 0; trial < 2; ++trial) {
    const auto dst = Apply(TrueDstFromSrc(), src);
    const std::optional<Sim3> estimate = EstimateSim3(src, dst);
    ASSERT_TRUE(estimate.has_value());
    EXPECT_NEAR(estimate->rotation.toRotationMatrix().determinant(), 1.0, 1e-12);
    ExpectNear(*estimate, TrueDstFromSrc(), 1e-10);
    src = RandomPoints(12, 2);
    for (auto& p : src) p.z() = 0.0;
  }
}

TEST(Alignment, RigidModeKeepsUnitScale) {
  const auto src = RandomPoints(15, 3);
  Sim3 rigid = TrueDstFromSrc();
  rigid.scale = 1.0;
  const std::optional<Sim3> exact = EstimateSim3(src, Apply(rigid, src), false);
  ASSERT_TRUE(exact.has_value());
  ExpectNear(*exact, rigid, 1e-12);
  // On scaled data the rigid fit still has scale 1 (and a worse fit than the similarity).
  const auto scaled = Apply(TrueDstFromSrc(), src);
  const std::optional<Sim3> forced = EstimateSim3(src, scaled, false);
  ASSERT_TRUE(forced.has_value());
  EXPECT_EQ(forced->scale, 1.0);
  EXPECT_GT(MeanSquaredError(*forced, src, scaled), 1e-3);
}

TEST(Alignment, NoisyFitIsALeastSquaresMinimum) {
  auto src = RandomPoints(50, 4);
  auto dst = Apply(TrueDstFromSrc(), src);
  std::mt19937_64 rng(5);
  std::normal_distribution<double> noise(0.0, 0.05);
  for (auto& p : dst) p += Eigen::Vector3d(noise(rng), noise(rng), noise(rng));
  const std::optional<Sim3> estimate = EstimateSim3(src, dst);
  ASSERT_TRUE(estimate.has_value());
  // Any small change of any of the 7 parameters increases the mean squared error.
  const double best = MeanSquaredError(*estimate, src, dst);
  const double step = 1e-4;
  for (int k = 0; k < 7; ++k) {
    for (double sign : {-1.0, 1.0}) {
      Sim3 moved = *estimate;
      if (k == 0) moved.scale *= 1.0 + sign * step;
      if (k >= 1 && k <= 3) {
        moved.rotation =
            Eigen::Quaterniond(Eigen::AngleAxisd(sign * step, Eigen::Vector3d::Unit(k - 1))) *
            moved.rotation;
      }
      if (k >= 4) moved.translation(k - 4) += sign * step;
      EXPECT_GT(MeanSquaredError(moved, src, dst), best) << "parameter " << k;
    }
  }
}

TEST(Alignment, FailsClearlyOnDegenerateInput) {
  const std::vector<Eigen::Vector3d> two = {{0, 0, 0}, {1, 0, 0}};
  EXPECT_FALSE(EstimateSim3(two, two).has_value());
  std::vector<Eigen::Vector3d> collinear;
  for (int i = 0; i < 10; ++i) collinear.push_back(Eigen::Vector3d(1, 2, 3) * i);
  EXPECT_FALSE(EstimateSim3(collinear, Apply(TrueDstFromSrc(), collinear)).has_value());
  const std::vector<Eigen::Vector3d> same(5, Eigen::Vector3d(1, 1, 1));
  EXPECT_FALSE(EstimateSim3(same, same).has_value());
  const auto three = RandomPoints(3, 6);
  EXPECT_THROW(EstimateSim3(three, two), Error);
  auto bad = three;
  bad[1].x() = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(EstimateSim3(bad, three), Error);
}

TEST(Alignment, RobustFitIgnoresOutliersAndFindsTheInliers) {
  const int n = 100;
  const auto src = RandomPoints(n, 7);
  auto dst = Apply(TrueDstFromSrc(), src);
  std::mt19937_64 rng(8);
  const double sigma = 1e-3;
  std::normal_distribution<double> noise(0.0, sigma);
  std::uniform_real_distribution<double> far(0.5, 3.0);
  std::vector<char> is_outlier(n, 0);
  for (int i = 0; i < n; ++i) {
    auto& p = dst[std::size_t(i)];
    if (i % 10 < 3) {  // 30% outliers, moved by 0.5-3 units
      is_outlier[std::size_t(i)] = 1;
      p += far(rng) * Eigen::Vector3d(noise(rng), noise(rng), noise(rng)).normalized();
    } else {
      p += Eigen::Vector3d(noise(rng), noise(rng), noise(rng));
    }
  }
  // The plain least-squares fit is pulled away by the outliers.
  const std::optional<Sim3> plain = EstimateSim3(src, dst);
  ASSERT_TRUE(plain.has_value());
  EXPECT_GT(plain->rotation.angularDistance(TrueDstFromSrc().rotation), 0.01);

  // Inlier residuals are |N(0, σ² I₃)| ≤ 6σ almost surely; outliers sit ≥ 0.5 away.
  const RansacAlignmentOptions options{.max_error = 6 * sigma, .seed = 42};
  const RansacAlignmentResult result = EstimateSim3Robust(src, dst, options);
  ASSERT_TRUE(result.success);
  EXPECT_EQ(result.num_inliers, 70u);
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(result.inlier_mask[std::size_t(i)] != 0, is_outlier[std::size_t(i)] == 0) << i;
  }
  // 70 inliers spread over ±1 with noise σ: parameter errors ~ σ / (0.58 √70) ≈ 2e-4; allow 5x.
  ExpectNear(result.dst_from_src, TrueDstFromSrc(), 1e-3);
  EXPECT_LT(result.inlier_rms_error, 2.0 * sigma * std::sqrt(3.0));

  // Deterministic for a seed.
  const RansacAlignmentResult again = EstimateSim3Robust(src, dst, options);
  EXPECT_EQ(again.num_iterations, result.num_iterations);
  EXPECT_EQ(again.dst_from_src.translation, result.dst_from_src.translation);

  // Demanding more inliers than there are fails.
  RansacAlignmentOptions strict = options;
  strict.min_inlier_ratio = 0.8;
  EXPECT_FALSE(EstimateSim3Robust(src, dst, strict).success);
}

TEST(Alignment, RansacOptionsAreChecked) {
  const auto p = RandomPoints(5, 9);
  EXPECT_THROW(EstimateSim3Robust(p, p, {.max_error = 0.0}), Error);
  EXPECT_THROW(EstimateSim3Robust(p, p, {.max_iterations = 0}), Error);
  EXPECT_THROW(EstimateSim3Robust(p, p, {.confidence = 1.0}), Error);
  EXPECT_THROW(EstimateSim3Robust(p, p, {.min_inlier_ratio = 1.5}), Error);
  EXPECT_FALSE(
      EstimateSim3Robust(std::vector<Eigen::Vector3d>(2), std::vector<Eigen::Vector3d>(2)).success);
}

}  // namespace
}  // namespace facet::geometry
