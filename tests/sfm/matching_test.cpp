#include "sfm/matching.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "sfm/detail/nearest_neighbors.h"
#include "synthetic_views.h"

namespace facet::sfm {
namespace {

using FloatRows = Eigen::Matrix<float, Eigen::Dynamic, kDescriptorDim, Eigen::RowMajor>;

// n random unit rows; `positive` mimics SIFT (non-negative entries), else Gaussian entries.
FloatRows RandomUnitRows(Eigen::Index n, std::uint32_t seed, bool positive = true) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  FloatRows rows(n, kDescriptorDim);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (int k = 0; k < kDescriptorDim; ++k) {
      rows(i, k) = positive ? std::abs(normal(rng)) : normal(rng);
    }
    rows.row(i).normalize();
  }
  return rows;
}

MatchableDescriptors Wrap(const FloatRows& rows) { return MatchableDescriptors{rows}; }

// b = a's rows permuted by `perm` (b.row(perm[i]) = a.row(i)), with noise of `sigma` per entry.
FloatRows PermutedWithNoise(const FloatRows& a, const std::vector<int>& perm, float sigma,
                            std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0.0f, sigma);
  FloatRows b(a.rows(), kDescriptorDim);
  for (Eigen::Index i = 0; i < a.rows(); ++i) {
    for (int k = 0; k < kDescriptorDim; ++k) b(perm[i], k) = a(i, k) + noise(rng);
    b.row(perm[i]).normalize();
  }
  return b;
}

std::vector<int> RandomPermutation(int n, std::uint32_t seed) {
  std::vector<int> perm(static_cast<std::size_t>(n));
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), std::mt19937(seed));
  return perm;
}

std::vector<detail::CpuKernel> SupportedKernels() {
  std::vector<detail::CpuKernel> kernels;
  for (const detail::CpuKernel k :
       {detail::CpuKernel::kPortable, detail::CpuKernel::kAvx2, detail::CpuKernel::kAvx512}) {
    if (detail::CpuKernelSupported(k)) kernels.push_back(k);
  }
  return kernels;
}

TEST(NeighborSearch, EveryKernelAgreesWithBruteForce) {
  // Sizes that are not multiples of the 12 x 32 tiles or the 192-row blocks, signed entries (so
  // padding with zeros would win if it were not masked), and a single column (no second best).
  for (const auto& [n_a, n_b] : std::vector<std::pair<int, int>>{
           {1, 1}, {5, 1}, {37, 45}, {200, 33}, {193, 700}, {12, 32}}) {
    const FloatRows a = RandomUnitRows(n_a, 100 + n_a, /*positive=*/false);
    const FloatRows b = RandomUnitRows(n_b, 200 + n_b, /*positive=*/false);
    const Eigen::MatrixXd s = a.cast<double>() * b.cast<double>().transpose();
    for (const detail::CpuKernel kernel : SupportedKernels()) {
      SCOPED_TRACE(std::string(detail::ToString(kernel)) + " " + std::to_string(n_a) + "x" +
                   std::to_string(n_b));
      const detail::NeighborTable t =
          detail::FindNeighborsCpu(a.data(), n_a, b.data(), n_b, true, kernel);
      ASSERT_EQ(t.best_index.size(), static_cast<std::size_t>(n_a));
      ASSERT_EQ(t.column_best_index.size(), static_cast<std::size_t>(n_b));
      // Float products of unit vectors of 128 entries are within ~128 ulp(1) of the exact value.
      constexpr double kTol = 1e-5;
      for (int i = 0; i < n_a; ++i) {
        Eigen::VectorXd row = s.row(i);
        Eigen::Index j_best = 0;
        const double best = row.maxCoeff(&j_best);
        row[j_best] = -std::numeric_limits<double>::infinity();
        const double second = row.maxCoeff();
        EXPECT_NEAR(t.best_similarity[i], best, kTol);
        EXPECT_NEAR(s(i, t.best_index[i]), best, kTol);  // the same value (ties allowed)
        if (n_b == 1) {
          EXPECT_EQ(t.second_similarity[i], -std::numeric_limits<float>::infinity());
        } else {
          EXPECT_NEAR(t.second_similarity[i], second, kTol);
        }
      }
      for (int j = 0; j < n_b; ++j) {
        EXPECT_NEAR(s(t.column_best_index[j], j), s.col(j).maxCoeff(), kTol);
      }
    }
  }
}

TEST(NeighborSearch, EmptyInputsGiveEmptyTables) {
  const FloatRows b = RandomUnitRows(10, 1);
  const detail::NeighborTable t = detail::FindNeighborsCpu(nullptr, 0, b.data(), 10, true);
  EXPECT_TRUE(t.best_index.empty());
  EXPECT_EQ(t.column_best_index, std::vector<std::int32_t>(10, -1));
}

TEST(Matching, RecoversAKnownPermutationUnderNoise) {
  // Noise of 0.02 per entry moves a unit vector by about 0.02 * sqrt(128) = 0.23, far less than
  // the distance between random non-negative unit vectors (about 0.85), so every row is found.
  const int n = 1500;
  const FloatRows a = RandomUnitRows(n, 7);
  const std::vector<int> perm = RandomPermutation(n, 8);
  const FloatRows b = PermutedWithNoise(a, perm, 0.02f, 9);
  const std::vector<FeatureMatch> matches = MatchDescriptors(Wrap(a), Wrap(b));
  ASSERT_EQ(matches.size(), static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(matches[i].idx1, static_cast<std::uint32_t>(i));  // sorted by idx1
    EXPECT_EQ(matches[i].idx2, static_cast<std::uint32_t>(perm[i]));
  }
}

TEST(Matching, WorksFromByteDescriptors) {
  const int n = 300;
  const FloatRows a = RandomUnitRows(n, 17);
  const std::vector<int> perm = RandomPermutation(n, 18);
  const FloatRows b = PermutedWithNoise(a, perm, 0.01f, 19);
  // As SIFT stores them: x512, rounded, clamped to a byte.
  const auto to_bytes = [](const FloatRows& rows) -> Descriptors {
    return (rows.array() * 512.0f).round().max(0.0f).min(255.0f).cast<std::uint8_t>().matrix();
  };
  const MatchableDescriptors pa = PrepareForMatching(to_bytes(a));
  for (Eigen::Index i = 0; i < n; ++i) ASSERT_NEAR(pa.rows.row(i).norm(), 1.0f, 1e-5f);
  const std::vector<FeatureMatch> matches = MatchDescriptors(pa, PrepareForMatching(to_bytes(b)));
  ASSERT_EQ(matches.size(), static_cast<std::size_t>(n));
  for (const FeatureMatch& m : matches) EXPECT_EQ(m.idx2, static_cast<std::uint32_t>(perm[m.idx1]));
}

TEST(Matching, RatioTestRejectsAmbiguousDuplicates) {
  // b holds a noisy copy of each row of a, and rows 0-9 a second time with a perturbation far
  // below the query noise: for those rows the nearest and second-nearest are equally far (ratio
  // ~1), so the ratio test drops them; the rest match their copy.
  const int n = 200;
  const FloatRows a = RandomUnitRows(n, 21);
  std::vector<int> identity(static_cast<std::size_t>(n));
  std::iota(identity.begin(), identity.end(), 0);
  const FloatRows b0 = PermutedWithNoise(a, identity, 0.01f, 22);
  FloatRows b(n + 10, kDescriptorDim);
  b.topRows(n) = b0;
  b.bottomRows(10) = PermutedWithNoise(b0, identity, 1e-4f, 23).topRows(10);
  MatchingOptions options;
  options.cross_check = false;
  const std::vector<FeatureMatch> matches = MatchDescriptors(Wrap(a), Wrap(b), options);
  ASSERT_EQ(matches.size(), static_cast<std::size_t>(n - 10));
  for (const FeatureMatch& m : matches) {
    EXPECT_GE(m.idx1, 10u);
    EXPECT_EQ(m.idx2, m.idx1);
  }
  // Exact duplicates have ratio exactly 1, which fails best / second < max_ratio even at 1.
  b.bottomRows(10) = b0.topRows(10);
  options.max_ratio = 1.0;
  const std::vector<FeatureMatch> loose = MatchDescriptors(Wrap(a), Wrap(b), options);
  EXPECT_EQ(loose.size(), static_cast<std::size_t>(n - 10));
  for (const FeatureMatch& m : loose) EXPECT_GE(m.idx1, 10u);
}

TEST(Matching, CrossCheckKeepsOnlyMutualNearestNeighbours) {
  // a0 and a1 both have b0 as nearest neighbour, but b0 is nearer to a1; the other rows are
  // random and far away.
  FloatRows b = RandomUnitRows(50, 31);
  FloatRows a = RandomUnitRows(50, 32);
  const FloatRows noise = RandomUnitRows(2, 33, /*positive=*/false);
  a.row(0) = (b.row(0) + 0.25f * noise.row(0)).normalized();
  a.row(1) = (b.row(0) + 0.10f * noise.row(1)).normalized();
  MatchingOptions options;
  options.cross_check = false;
  options.max_distance = 0.5;  // random rows are ~0.85 apart: only the two constructed matches
  const std::vector<FeatureMatch> one_way = MatchDescriptors(Wrap(a), Wrap(b), options);
  ASSERT_EQ(one_way.size(), 2u);
  EXPECT_EQ(one_way[0], (FeatureMatch{0, 0}));
  EXPECT_EQ(one_way[1], (FeatureMatch{1, 0}));
  options.cross_check = true;
  const std::vector<FeatureMatch> mutual = MatchDescriptors(Wrap(a), Wrap(b), options);
  ASSERT_EQ(mutual.size(), 1u);
  EXPECT_EQ(mutual[0], (FeatureMatch{1, 0}));
}

TEST(Matching, MaxDistanceRejectsFarNeighbours) {
  const FloatRows a = RandomUnitRows(100, 41);
  const FloatRows b = RandomUnitRows(100, 42);  // unrelated: nearest neighbours ~0.7-0.9 away
  MatchingOptions options;
  options.max_ratio = 1.0;
  options.cross_check = false;
  options.max_distance = 0.3;
  EXPECT_TRUE(MatchDescriptors(Wrap(a), Wrap(b), options).empty());
  options.max_distance = 2.0;
  EXPECT_FALSE(MatchDescriptors(Wrap(a), Wrap(b), options).empty());
}

TEST(Matching, FewerThanTwoDescriptorsGiveNoMatches) {
  const FloatRows a = RandomUnitRows(10, 1);
  EXPECT_TRUE(MatchDescriptors(Wrap(a), Wrap(a.topRows(1))).empty());
  EXPECT_TRUE(MatchDescriptors(Wrap(a.topRows(1)), Wrap(a)).empty());
  EXPECT_TRUE(MatchDescriptors(Wrap(FloatRows()), Wrap(a)).empty());
}

TEST(Matching, OptionsAreChecked) {
  MatchingOptions options;
  options.max_ratio = 0.0;
  EXPECT_THROW(options.Check(), Error);
  options = {};
  options.max_distance = 2.5;
  EXPECT_THROW(options.Check(), Error);
  options = {};
  if (CudaDeviceCount() == 0) {
    options.backend = Backend::kCuda;
    const FloatRows a = RandomUnitRows(10, 1);
    EXPECT_THROW(MatchDescriptors(Wrap(a), Wrap(a), options), Error);
  }
}

ImageFeatures RandomFeatures(int n, std::uint32_t seed) {
  ImageFeatures f;
  f.keypoints.resize(static_cast<std::size_t>(n));
  f.descriptors =
      (RandomUnitRows(n, seed).array() * 512.0f).round().min(255.0f).cast<std::uint8_t>().matrix();
  return f;
}

TEST(Matching, ImagePairsMatchAsSinglePairsDo) {
  std::vector<ImageFeatures> features(5);
  for (int i = 0; i < 5; ++i) features[i] = RandomFeatures(150 + 10 * i, 50 + i);
  // Image 3 shares rows with image 1 so that some pairs have matches.
  features[3].descriptors.topRows(100) = features[1].descriptors.topRows(100);
  const std::vector<ImagePair> pairs = {{0, 1}, {1, 3}, {2, 4}, {3, 4}};
  const std::vector<PairMatches> result = MatchImagePairs(features, pairs);
  ASSERT_EQ(result.size(), pairs.size());
  for (std::size_t p = 0; p < pairs.size(); ++p) {
    EXPECT_EQ(result[p].pair, pairs[p]);
    EXPECT_EQ(result[p].matches,
              MatchDescriptors(PrepareForMatching(features[pairs[p].first].descriptors),
                               PrepareForMatching(features[pairs[p].second].descriptors)));
  }
  EXPECT_GE(result[1].matches.size(), 100u);
  const std::vector<ImagePair> bad = {{2, 1}};
  EXPECT_THROW(MatchImagePairs(features, bad), Error);
  const std::vector<ImagePair> out_of_range = {{1, 5}};
  EXPECT_THROW(MatchImagePairs(features, out_of_range), Error);
}

TEST(Matching, SyntheticViewsMatchAlongTheTrueEpipolarGeometry) {
  // Adjacent views of a 24-view orbit (15 degrees apart). Correct matches lie on the epipolar
  // lines of the ground-truth poses up to SIFT's localisation error (well under a pixel at this
  // size, plus JPEG-free rendering); a few wrong matches on repeated texture may remain.
  testing::OrbitViews& orbit = testing::RenderedOrbit(24, 640, 480);
  const ImageFeatures f0 = ExtractSift(orbit.Image(0));
  const ImageFeatures f1 = ExtractSift(orbit.Image(1));
  const std::vector<FeatureMatch> matches =
      MatchDescriptors(PrepareForMatching(f0.descriptors), PrepareForMatching(f1.descriptors));
  ASSERT_GT(matches.size(), 200u);
  const Eigen::Matrix3d f = orbit.Fundamental(0, 1);
  std::vector<double> errors;
  for (const FeatureMatch& m : matches) {
    const Keypoint& k0 = f0.keypoints[m.idx1];
    const Keypoint& k1 = f1.keypoints[m.idx2];
    errors.push_back(
        testing::EpipolarDistancePx(f, Eigen::Vector2d(k0.x, k0.y), Eigen::Vector2d(k1.x, k1.y)));
  }
  std::sort(errors.begin(), errors.end());
  EXPECT_LT(errors[errors.size() / 2], 0.5);
  EXPECT_LT(errors[errors.size() * 9 / 10], 2.0);
}

}  // namespace
}  // namespace facet::sfm
