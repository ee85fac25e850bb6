#include "sfm/matching.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <mutex>

#include "core/error.h"
#include "core/parallel_for.h"
#include "core/progress.h"
#include "sfm/detail/nearest_neighbors.h"

#if defined(FACET_WITH_CUDA)
#include "sfm/detail/matching_cuda.h"
#endif

namespace facet::sfm {
namespace {

// Descriptor distance of unit vectors from their inner product: |a - b| = sqrt(2 - 2 a·b).
double Distance(float similarity) {
  return std::sqrt(std::max(0.0, 2.0 - 2.0 * static_cast<double>(similarity)));
}

// The matches a neighbour table allows: distance and ratio tests on each row's two nearest, and
// with cross_check the row must also be its best column's best row.
std::vector<FeatureMatch> SelectMatches(const detail::NeighborTable& table,
                                        const MatchingOptions& options) {
  std::vector<FeatureMatch> matches;
  const std::size_t n = table.best_index.size();
  for (std::size_t i = 0; i < n; ++i) {
    const std::int32_t j = table.best_index[i];
    if (j < 0) continue;
    const double best = Distance(table.best_similarity[i]);
    const double second = Distance(table.second_similarity[i]);
    if (best > options.max_distance) continue;
    // Lowe's ratio best / second < max_ratio, written without the division (second may be 0).
    if (!(best < options.max_ratio * second)) continue;
    if (options.cross_check &&
        table.column_best_index[static_cast<std::size_t>(j)] != static_cast<std::int32_t>(i)) {
      continue;
    }
    matches.push_back({static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(j)});
  }
  return matches;
}

bool Matchable(const MatchableDescriptors& d1, const MatchableDescriptors& d2) {
  return d1.rows.rows() >= 2 && d2.rows.rows() >= 2;
}

void CheckCudaAvailable() {
  FACET_CHECK(CudaBuilt(),
              "CUDA matching was asked for, but this facet was built without CUDA (use --device "
              "cpu, or rebuild with FACET_CUDA=ON)");
  FACET_CHECK(CudaDeviceCount() > 0,
              "CUDA matching was asked for, but no CUDA device is available (use --device cpu)");
}

}  // namespace

void MatchingOptions::Check() const {
  FACET_CHECK(std::isfinite(max_ratio) && max_ratio > 0.0 && max_ratio <= 1.0,
              "MatchingOptions::max_ratio must be in (0, 1] (got {})", max_ratio);
  FACET_CHECK(std::isfinite(max_distance) && max_distance > 0.0 && max_distance <= 2.0,
              "MatchingOptions::max_distance must be in (0, 2] (got {})", max_distance);
  FACET_CHECK(backend == Backend::kCpu || backend == Backend::kCuda,
              "MatchingOptions::backend must be cpu or cuda");
}

MatchableDescriptors PrepareForMatching(const Descriptors& descriptors) {
  MatchableDescriptors out;
  out.rows = descriptors.cast<float>();
  for (Eigen::Index i = 0; i < out.rows.rows(); ++i) {
    const float norm = out.rows.row(i).norm();
    // An all-zero row stays zero: its similarity 0 (distance sqrt 2) matches nothing.
    if (norm > 0.0f) out.rows.row(i) /= norm;
  }
  return out;
}

std::vector<FeatureMatch> MatchDescriptors(const MatchableDescriptors& d1,
                                           const MatchableDescriptors& d2,
                                           const MatchingOptions& options) {
  options.Check();
  if (!Matchable(d1, d2)) return {};
  if (options.backend == Backend::kCuda) {
    CheckCudaAvailable();
#if defined(FACET_WITH_CUDA)
    detail::CudaNeighborSearch search;
    const int a = search.Upload(d1.rows.data(), d1.rows.rows());
    const int b = search.Upload(d2.rows.data(), d2.rows.rows());
    return SelectMatches(search.Search(a, b, options.cross_check), options);
#endif
  }
  return SelectMatches(detail::FindNeighborsCpu(d1.rows.data(), d1.rows.rows(), d2.rows.data(),
                                                d2.rows.rows(), options.cross_check),
                       options);
}

std::vector<PairMatches> MatchImagePairs(std::span<const ImageFeatures> features,
                                         std::span<const ImagePair> pairs,
                                         const MatchingOptions& options) {
  options.Check();
  const std::size_t num_images = features.size();
  for (const ImagePair& pair : pairs) {
    FACET_CHECK(pair.first < pair.second && pair.second < num_images,
                "image pair ({}, {}) is invalid for {} images (each pair needs first < second < "
                "the number of images)",
                pair.first, pair.second, num_images);
  }
  if (options.backend == Backend::kCuda) CheckCudaAvailable();

  // Each image's descriptors are prepared by the first pair that needs them and released by the
  // last one (uses counts down), so memory holds only images with pairs still to come.
  std::vector<std::atomic<int>> uses(num_images);
  for (const ImagePair& pair : pairs) {
    uses[pair.first].fetch_add(1, std::memory_order_relaxed);
    uses[pair.second].fetch_add(1, std::memory_order_relaxed);
  }
  std::vector<PairMatches> result(pairs.size());
  ProgressBar bar(static_cast<std::int64_t>(pairs.size()), {.label = "matching", .unit = "pairs"});

  if (options.backend == Backend::kCuda) {
#if defined(FACET_WITH_CUDA)
    // One device queue: pairs run one after another, each image uploaded once.
    detail::CudaNeighborSearch search;
    std::vector<int> ids(num_images, -1);
    for (std::size_t p = 0; p < pairs.size(); ++p) {
      const auto [i, j] = pairs[p];
      result[p].pair = pairs[p];
      for (const std::uint32_t image : {i, j}) {
        if (ids[image] < 0) {
          const MatchableDescriptors prepared = PrepareForMatching(features[image].descriptors);
          ids[image] = search.Upload(prepared.rows.data(), prepared.rows.rows());
        }
      }
      if (features[i].descriptors.rows() >= 2 && features[j].descriptors.rows() >= 2) {
        result[p].matches =
            SelectMatches(search.Search(ids[i], ids[j], options.cross_check), options);
      }
      for (const std::uint32_t image : {i, j}) {
        if (uses[image].fetch_sub(1) == 1) search.Release(ids[image]);
      }
      bar.Add();
    }
#endif
  } else {
    std::vector<std::shared_ptr<const MatchableDescriptors>> prepared(num_images);
    std::vector<std::once_flag> once(num_images);
    std::vector<std::mutex> slot_mutex(num_images);
    const auto acquire = [&](std::uint32_t image) {
      std::call_once(once[image], [&] {
        auto rows = std::make_shared<const MatchableDescriptors>(
            PrepareForMatching(features[image].descriptors));
        const std::lock_guard lock(slot_mutex[image]);
        prepared[image] = std::move(rows);
      });
      const std::lock_guard lock(slot_mutex[image]);
      return prepared[image];
    };
    const auto release = [&](std::uint32_t image) {
      if (uses[image].fetch_sub(1) == 1) {
        const std::lock_guard lock(slot_mutex[image]);
        prepared[image].reset();
      }
    };
    // Pairs in parallel; each pair's search is itself parallel over row blocks (nested oneTBB
    // loops share one worker pool).
    ParallelFor(static_cast<std::int64_t>(pairs.size()), [&](std::int64_t p) {
      const auto [i, j] = pairs[static_cast<std::size_t>(p)];
      result[p].pair = pairs[p];
      {
        const std::shared_ptr<const MatchableDescriptors> d1 = acquire(i);
        const std::shared_ptr<const MatchableDescriptors> d2 = acquire(j);
        MatchingOptions cpu = options;
        cpu.backend = Backend::kCpu;
        result[p].matches = MatchDescriptors(*d1, *d2, cpu);
      }
      release(i);
      release(j);
      bar.Add();
    });
  }
  bar.Finish();
  return result;
}

}  // namespace facet::sfm
