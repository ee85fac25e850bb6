// The CUDA matcher (cuBLAS SGEMM + reduction kernels) against the CPU one. Skips without a device.
#include "sfm/detail/matching_cuda.h"

#include <gtest/gtest.h>

#include <random>

#include "core/backend.h"
#include "sfm/detail/nearest_neighbors.h"
#include "sfm/matching.h"

namespace facet::sfm {
namespace {

using FloatRows = Eigen::Matrix<float, Eigen::Dynamic, kDescriptorDim, Eigen::RowMajor>;

FloatRows RandomUnitRows(Eigen::Index n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  FloatRows rows(n, kDescriptorDim);
  for (Eigen::Index i = 0; i < rows.size(); ++i) rows.data()[i] = std::abs(normal(rng));
  rows.rowwise().normalize();
  return rows;
}

#define SKIP_WITHOUT_DEVICE()                                     \
  do {                                                            \
    if (CudaDeviceCount() == 0) GTEST_SKIP() << "no CUDA device"; \
  } while (false)

TEST(CudaMatching, NeighbourTablesAgreeWithTheCpu) {
  SKIP_WITHOUT_DEVICE();
  detail::CudaNeighborSearch search;
  // Includes sizes that need several similarity blocks (n_a x n_b > 2^24).
  for (const auto& [n_a, n_b] :
       std::vector<std::pair<int, int>>{{1, 1}, {37, 45}, {1000, 3}, {5000, 4000}}) {
    SCOPED_TRACE(std::to_string(n_a) + "x" + std::to_string(n_b));
    const FloatRows a = RandomUnitRows(n_a, 1 + n_a);
    const FloatRows b = RandomUnitRows(n_b, 2 + n_b);
    const detail::NeighborTable cpu = detail::FindNeighborsCpu(a.data(), n_a, b.data(), n_b, true);
    const int ia = search.Upload(a.data(), n_a);
    const int ib = search.Upload(b.data(), n_b);
    const detail::NeighborTable gpu = search.Search(ia, ib, true);
    search.Release(ia);
    search.Release(ib);
    int same_best = 0;
    for (int i = 0; i < n_a; ++i) {
      EXPECT_NEAR(gpu.best_similarity[i], cpu.best_similarity[i], 1e-5);
      if (n_b > 1) {
        EXPECT_NEAR(gpu.second_similarity[i], cpu.second_similarity[i], 1e-5);
      }
      same_best += gpu.best_index[i] == cpu.best_index[i] ? 1 : 0;
    }
    // Indices may differ only where two columns are within rounding of each other.
    EXPECT_GE(same_best, n_a - n_a / 100);
    int same_column = 0;
    for (int j = 0; j < n_b; ++j)
      same_column += gpu.column_best_index[j] == cpu.column_best_index[j];
    EXPECT_GE(same_column, n_b - n_b / 100);
  }
}

TEST(CudaMatching, MatchImagePairsAgreesWithTheCpu) {
  SKIP_WITHOUT_DEVICE();
  std::vector<ImageFeatures> features(4);
  for (std::size_t i = 0; i < features.size(); ++i) {
    features[i].descriptors = (RandomUnitRows(2000, static_cast<std::uint32_t>(i)).array() * 512.0f)
                                  .round()
                                  .min(255.0f)
                                  .cast<std::uint8_t>()
                                  .matrix();
    features[i].keypoints.resize(2000);
  }
  features[2].descriptors.topRows(800) = features[0].descriptors.bottomRows(800);
  const std::vector<ImagePair> pairs = {{0, 1}, {0, 2}, {1, 3}, {2, 3}};
  MatchingOptions gpu_options;
  gpu_options.backend = Backend::kCuda;
  const std::vector<PairMatches> cpu = MatchImagePairs(features, pairs);
  const std::vector<PairMatches> gpu = MatchImagePairs(features, pairs, gpu_options);
  ASSERT_EQ(gpu.size(), cpu.size());
  EXPECT_GE(cpu[1].matches.size(), 800u);
  for (std::size_t p = 0; p < pairs.size(); ++p) {
    EXPECT_EQ(gpu[p].pair, cpu[p].pair);
    const std::size_t n = cpu[p].matches.size();
    EXPECT_NEAR(static_cast<double>(gpu[p].matches.size()), static_cast<double>(n), 0.01 * n + 1);
  }
  EXPECT_EQ(gpu[1].matches, cpu[1].matches);  // exact copies: no near-ties
}

}  // namespace
}  // namespace facet::sfm
