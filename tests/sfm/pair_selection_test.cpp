#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "sfm/matching.h"
#include "synthetic_views.h"

namespace facet::sfm {
namespace {

// n images of `rows` random byte descriptors each (image k's content is irrelevant here).
std::vector<ImageFeatures> RandomImages(int n, int rows) {
  std::vector<ImageFeatures> images(static_cast<std::size_t>(n));
  std::mt19937 rng(5);
  for (ImageFeatures& f : images) {
    f.keypoints.resize(static_cast<std::size_t>(rows));
    f.descriptors.resize(rows, kDescriptorDim);
    for (Eigen::Index i = 0; i < f.descriptors.size(); ++i) {
      f.descriptors.data()[i] = static_cast<std::uint8_t>(rng() % 64);
    }
  }
  return images;
}

bool SortedUniqueOrdered(const std::vector<ImagePair>& pairs) {
  for (std::size_t p = 0; p < pairs.size(); ++p) {
    if (pairs[p].first >= pairs[p].second) return false;
    if (p > 0 && !(pairs[p - 1] < pairs[p])) return false;
  }
  return true;
}

TEST(PairSelection, ExhaustiveHasEveryPairOnce) {
  const std::vector<ImageFeatures> images = RandomImages(9, 20);
  PairSelectionOptions options;
  options.mode = PairMode::kExhaustive;
  const std::vector<ImagePair> pairs = SelectImagePairs(images, options);
  EXPECT_EQ(pairs.size(), 9u * 8u / 2u);
  EXPECT_TRUE(SortedUniqueOrdered(pairs));
}

TEST(PairSelection, ImagesWithoutFeaturesTakePartInNoPair) {
  std::vector<ImageFeatures> images = RandomImages(6, 20);
  images[2] = {};
  PairSelectionOptions options;
  options.mode = PairMode::kExhaustive;
  const std::vector<ImagePair> pairs = SelectImagePairs(images, options);
  EXPECT_EQ(pairs.size(), 5u * 4u / 2u);
  for (const ImagePair& p : pairs) EXPECT_TRUE(p.first != 2 && p.second != 2);
  options.mode = PairMode::kSequential;
  options.overlap = 1;
  options.loop_detection = false;
  const std::vector<ImagePair> chain = SelectImagePairs(images, options);
  // The window skips the failed image, so the chain stays connected: 0-1, 1-3, 3-4, 4-5.
  EXPECT_EQ(chain, (std::vector<ImagePair>{{0, 1}, {1, 3}, {3, 4}, {4, 5}}));
}

TEST(PairSelection, SequentialWindowPairsEachImageWithTheNextOverlap) {
  const std::vector<ImageFeatures> images = RandomImages(10, 20);
  PairSelectionOptions options;
  options.mode = PairMode::kSequential;
  options.overlap = 3;
  options.loop_detection = false;
  const std::vector<ImagePair> pairs = SelectImagePairs(images, options);
  std::vector<ImagePair> expected;
  for (std::uint32_t i = 0; i < 10; ++i) {
    for (std::uint32_t j = i + 1; j <= std::min(9u, i + 3); ++j) expected.emplace_back(i, j);
  }
  EXPECT_EQ(pairs, expected);
  // Loop detection adds retrieval candidates to the window.
  options.loop_detection = true;
  options.loop_num_neighbors = 2;
  const std::vector<ImagePair> with_loops = SelectImagePairs(images, options);
  EXPECT_TRUE(SortedUniqueOrdered(with_loops));
  EXPECT_TRUE(
      std::includes(with_loops.begin(), with_loops.end(), expected.begin(), expected.end()));
}

TEST(PairSelection, AutoIsExhaustiveForSmallSetsAndRetrievalAbove) {
  const std::vector<ImageFeatures> images = RandomImages(8, 40);
  PairSelectionOptions options;
  options.exhaustive_max_images = 8;
  EXPECT_EQ(SelectImagePairs(images, options).size(), 28u);
  options.exhaustive_max_images = 7;
  options.num_neighbors = 2;
  const std::vector<ImagePair> retrieved = SelectImagePairs(images, options);
  EXPECT_TRUE(SortedUniqueOrdered(retrieved));
  // Each image contributes its 2 best, so between 8 (all symmetric) and 16 pairs.
  EXPECT_GE(retrieved.size(), 8u);
  EXPECT_LE(retrieved.size(), 16u);
  // Deterministic for a seed.
  EXPECT_EQ(SelectImagePairs(images, options), retrieved);
}

TEST(PairSelection, OptionsAreChecked) {
  PairSelectionOptions options;
  options.overlap = 0;
  EXPECT_THROW(options.Check(), Error);
  options = {};
  options.num_neighbors = 0;
  EXPECT_THROW(SelectImagePairs({}, options), Error);
  options = {};
  options.exhaustive_max_images = 1;
  EXPECT_THROW(options.Check(), Error);
  EXPECT_TRUE(SelectImagePairs({}, {}).empty());
}

TEST(PairSelection, RetrievalFindsTheOrbitNeighbours) {
  // 16 views 22.5 degrees apart around the object: an image shares most of its visible surface,
  // and so most of its visual words, with the views beside it, and little with the far side.
  constexpr int kViews = 16;
  testing::OrbitViews& orbit = testing::RenderedOrbit(kViews, 320, 240, 1);
  std::vector<ImageFeatures> features(kViews);
  for (int i = 0; i < kViews; ++i) features[i] = ExtractSift(orbit.Image(i));
  PairSelectionOptions options;
  options.mode = PairMode::kRetrieval;
  options.num_neighbors = 2;
  const std::vector<ImagePair> pairs = SelectImagePairs(features, options);
  EXPECT_TRUE(SortedUniqueOrdered(pairs));
  const auto orbit_steps = [](std::uint32_t i, std::uint32_t j) {
    const int d = std::abs(static_cast<int>(i) - static_cast<int>(j));
    return std::min(d, kViews - d);
  };
  std::set<ImagePair> retrieved(pairs.begin(), pairs.end());
  int adjacent_found = 0;
  for (std::uint32_t i = 0; i < kViews; ++i) {
    const std::uint32_t next = (i + 1) % kViews;
    adjacent_found += retrieved.count({std::min(i, next), std::max(i, next)}) > 0 ? 1 : 0;
  }
  for (const ImagePair& p : pairs) {
    EXPECT_LE(orbit_steps(p.first, p.second), 2) << p.first << "-" << p.second;
  }
  EXPECT_GE(adjacent_found, kViews - 1);
}

}  // namespace
}  // namespace facet::sfm
