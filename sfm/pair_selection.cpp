// SelectImagePairs: which image pairs to match. Retrieval ranks images by tf-idf weighted
// bag-of-visual-words vectors (Sivic & Zisserman, "Video Google", ICCV 2003) over a small
// vocabulary trained on the images themselves by spherical k-means on a bounded random sample of
// their descriptors; words are assigned with the same blocked inner-product search as matching.
#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "core/error.h"
#include "core/parallel_for.h"
#include "sfm/detail/nearest_neighbors.h"
#include "sfm/matching.h"

namespace facet::sfm {
namespace {

using FloatRows = Eigen::Matrix<float, Eigen::Dynamic, kDescriptorDim, Eigen::RowMajor>;

// Retrieval needs a fine vocabulary: on the synthetic orbit, adjacent views rank first for all
// images with ~4 sample descriptors per word (4096-8192 words), for about 2/3 of them with 1024
// words and 1/3 with 256; burstiness weighting (sqrt tf) did not help there.
constexpr Eigen::Index kMaxDescriptorsPerImage = 4096;  // the strongest, for words and vectors
constexpr std::size_t kMaxSampleSize = 32768;           // descriptors k-means trains on
constexpr Eigen::Index kDescriptorsPerWord = 4;         // vocabulary size = sample / this ...
constexpr Eigen::Index kMinWords = 64;                  // ... clamped to [kMinWords, kMaxWords]
constexpr Eigen::Index kMaxWords = 8192;
constexpr int kKMeansIterations = 4;

Eigen::Index NumUsed(const ImageFeatures& f) {
  return std::min<Eigen::Index>(f.descriptors.rows(), kMaxDescriptorsPerImage);
}

void NormalizeRow(float* row) {
  float norm = 0.0f;
  for (int k = 0; k < kDescriptorDim; ++k) norm += row[k] * row[k];
  norm = std::sqrt(norm);
  if (norm > 0.0f) {
    for (int k = 0; k < kDescriptorDim; ++k) row[k] /= norm;
  }
}

// Unit float rows of image `f`'s first NumUsed descriptors.
FloatRows UnitRows(const ImageFeatures& f) {
  FloatRows rows = f.descriptors.topRows(NumUsed(f)).cast<float>();
  for (Eigen::Index i = 0; i < rows.rows(); ++i) NormalizeRow(rows.row(i).data());
  return rows;
}

// Spherical k-means (unit centroids, assignment by largest inner product) on a random sample of
// the images' descriptors. Deterministic for a seed.
FloatRows TrainVocabulary(std::span<const ImageFeatures> features,
                          std::span<const std::uint32_t> images, std::uint64_t seed) {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> candidates;  // (image, row)
  for (const std::uint32_t i : images) {
    for (Eigen::Index r = 0; r < NumUsed(features[i]); ++r) {
      candidates.emplace_back(i, static_cast<std::uint32_t>(r));
    }
  }
  std::mt19937_64 rng(seed);
  const std::size_t sample_size = std::min(candidates.size(), kMaxSampleSize);
  for (std::size_t s = 0; s < sample_size; ++s) {  // partial Fisher-Yates shuffle
    std::swap(candidates[s], candidates[s + rng() % (candidates.size() - s)]);
  }
  FloatRows sample(static_cast<Eigen::Index>(sample_size), kDescriptorDim);
  for (std::size_t s = 0; s < sample_size; ++s) {
    const auto [image, row] = candidates[s];
    sample.row(static_cast<Eigen::Index>(s)) = features[image].descriptors.row(row).cast<float>();
    NormalizeRow(sample.row(static_cast<Eigen::Index>(s)).data());
  }
  const Eigen::Index num_words = std::min<Eigen::Index>(
      sample.rows(),
      std::clamp<Eigen::Index>(sample.rows() / kDescriptorsPerWord, kMinWords, kMaxWords));
  FloatRows words = sample.topRows(num_words);  // the sample is already in random order

  std::vector<std::int32_t> previous;
  for (int iteration = 0; iteration < kKMeansIterations; ++iteration) {
    const detail::NeighborTable nearest = detail::FindNeighborsCpu(
        sample.data(), sample.rows(), words.data(), words.rows(), /*with_columns=*/false);
    if (nearest.best_index == previous) break;
    Eigen::MatrixXd sums = Eigen::MatrixXd::Zero(num_words, kDescriptorDim);
    std::vector<int> counts(static_cast<std::size_t>(num_words), 0);
    for (Eigen::Index s = 0; s < sample.rows(); ++s) {
      const std::int32_t w = nearest.best_index[static_cast<std::size_t>(s)];
      sums.row(w) += sample.row(s).cast<double>();
      ++counts[static_cast<std::size_t>(w)];
    }
    // An empty word restarts at the sample worst explained by its word.
    std::vector<Eigen::Index> by_fit(static_cast<std::size_t>(sample.rows()));
    std::iota(by_fit.begin(), by_fit.end(), Eigen::Index{0});
    std::stable_sort(by_fit.begin(), by_fit.end(), [&](Eigen::Index x, Eigen::Index y) {
      return nearest.best_similarity[x] < nearest.best_similarity[y];
    });
    std::size_t next_restart = 0;
    for (Eigen::Index w = 0; w < num_words; ++w) {
      if (counts[static_cast<std::size_t>(w)] > 0) {
        words.row(w) = sums.row(w).cast<float>();
      } else {
        words.row(w) = sample.row(by_fit[next_restart++ % by_fit.size()]);
      }
      NormalizeRow(words.row(w).data());
    }
    previous = nearest.best_index;
  }
  return words;
}

// L2-normalised tf-idf vectors, one row per entry of `images`.
Eigen::MatrixXf BagOfWordsVectors(std::span<const ImageFeatures> features,
                                  std::span<const std::uint32_t> images, const FloatRows& words) {
  const Eigen::Index num_words = words.rows();
  Eigen::MatrixXf tf = Eigen::MatrixXf::Zero(static_cast<Eigen::Index>(images.size()), num_words);
  for (std::size_t k = 0; k < images.size(); ++k) {
    const FloatRows rows = UnitRows(features[images[k]]);
    const detail::NeighborTable nearest = detail::FindNeighborsCpu(
        rows.data(), rows.rows(), words.data(), words.rows(), /*with_columns=*/false);
    for (const std::int32_t w : nearest.best_index) {
      if (w >= 0) tf(static_cast<Eigen::Index>(k), w) += 1.0f;
    }
    const float total = tf.row(static_cast<Eigen::Index>(k)).sum();
    if (total > 0.0f) tf.row(static_cast<Eigen::Index>(k)) /= total;
  }
  const float num_images = static_cast<float>(images.size());
  for (Eigen::Index w = 0; w < num_words; ++w) {
    const float df = static_cast<float>((tf.col(w).array() > 0.0f).count());
    tf.col(w) *= df > 0.0f ? std::log(num_images / df) : 0.0f;
  }
  for (Eigen::Index k = 0; k < tf.rows(); ++k) {
    const float norm = tf.row(k).norm();
    if (norm > 0.0f) tf.row(k) /= norm;
  }
  return tf;
}

// Each image paired with its `k` most similar images by bag-of-words cosine similarity
// (ties to the lower index); pairs as (smaller, larger) image index.
std::vector<ImagePair> RetrievalPairs(std::span<const ImageFeatures> features,
                                      std::span<const std::uint32_t> images, int k,
                                      std::uint64_t seed) {
  if (images.size() < 2) return {};
  const FloatRows words = TrainVocabulary(features, images, seed);
  const Eigen::MatrixXf vectors = BagOfWordsVectors(features, images, words);
  const Eigen::Index n = vectors.rows();
  std::vector<std::vector<ImagePair>> per_image(images.size());
  ParallelFor(n, [&](std::int64_t a) {
    const Eigen::VectorXf similarity = vectors * vectors.row(a).transpose();
    std::vector<Eigen::Index> order;
    for (Eigen::Index b = 0; b < n; ++b) {
      if (b != a) order.push_back(b);
    }
    const std::size_t keep = std::min(order.size(), static_cast<std::size_t>(k));
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(keep), order.end(),
                      [&](Eigen::Index x, Eigen::Index y) {
                        return similarity[x] > similarity[y] ||
                               (similarity[x] == similarity[y] && x < y);
                      });
    for (std::size_t r = 0; r < keep; ++r) {
      const std::uint32_t i = images[static_cast<std::size_t>(a)];
      const std::uint32_t j = images[static_cast<std::size_t>(order[r])];
      per_image[static_cast<std::size_t>(a)].emplace_back(std::min(i, j), std::max(i, j));
    }
  });
  std::vector<ImagePair> pairs;
  for (const std::vector<ImagePair>& p : per_image) pairs.insert(pairs.end(), p.begin(), p.end());
  return pairs;
}

}  // namespace

void PairSelectionOptions::Check() const {
  FACET_CHECK(mode == PairMode::kAuto || mode == PairMode::kExhaustive ||
                  mode == PairMode::kSequential || mode == PairMode::kRetrieval,
              "PairSelectionOptions::mode is not a known pair mode");
  FACET_CHECK(exhaustive_max_images >= 2,
              "PairSelectionOptions::exhaustive_max_images must be at least 2 (got {})",
              exhaustive_max_images);
  FACET_CHECK(overlap >= 1, "PairSelectionOptions::overlap must be at least 1 (got {})", overlap);
  FACET_CHECK(num_neighbors >= 1, "PairSelectionOptions::num_neighbors must be at least 1 (got {})",
              num_neighbors);
  FACET_CHECK(loop_num_neighbors >= 1,
              "PairSelectionOptions::loop_num_neighbors must be at least 1 (got {})",
              loop_num_neighbors);
}

std::vector<ImagePair> SelectImagePairs(std::span<const ImageFeatures> features,
                                        const PairSelectionOptions& options) {
  options.Check();
  FACET_CHECK(features.size() <= std::size_t{1} << 31,
              "cannot select pairs among {} images (at most 2^31)", features.size());
  std::vector<std::uint32_t> images;  // those with features, in order
  for (std::size_t i = 0; i < features.size(); ++i) {
    if (features[i].descriptors.rows() > 0) images.push_back(static_cast<std::uint32_t>(i));
  }
  PairMode mode = options.mode;
  if (mode == PairMode::kAuto) {
    mode = images.size() <= static_cast<std::size_t>(options.exhaustive_max_images)
               ? PairMode::kExhaustive
               : PairMode::kRetrieval;
  }

  std::vector<ImagePair> pairs;
  switch (mode) {
    case PairMode::kExhaustive:
      pairs.reserve(images.size() * (images.size() - (images.empty() ? 0 : 1)) / 2);
      for (std::size_t a = 0; a < images.size(); ++a) {
        for (std::size_t b = a + 1; b < images.size(); ++b)
          pairs.emplace_back(images[a], images[b]);
      }
      break;
    case PairMode::kSequential:
      // The window runs over images with features, so a failed image does not break the chain.
      for (std::size_t a = 0; a < images.size(); ++a) {
        const std::size_t end = std::min(images.size(), a + 1 + options.overlap);
        for (std::size_t b = a + 1; b < end; ++b) pairs.emplace_back(images[a], images[b]);
      }
      if (options.loop_detection) {
        const std::vector<ImagePair> loops =
            RetrievalPairs(features, images, options.loop_num_neighbors, options.seed);
        pairs.insert(pairs.end(), loops.begin(), loops.end());
      }
      break;
    case PairMode::kRetrieval:
    case PairMode::kAuto:
      pairs = RetrievalPairs(features, images, options.num_neighbors, options.seed);
      break;
  }
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  return pairs;
}

}  // namespace facet::sfm
