// Descriptor matching: nearest neighbours by matrix products of descriptor blocks (for unit
// vectors |a - b|² = 2 - 2 a·b), Lowe's ratio test and a mutual (cross) check. The CPU path
// multiplies register tiles with a kernel picked for the processor at run time (AVX-512, AVX2 +
// FMA or portable C++; sfm/detail/nearest_neighbors.h), multithreaded over row blocks by oneTBB;
// the CUDA path uses cuBLAS SGEMM. Both produce the same matches up to floating-point ties.
//
// Pair selection decides which image pairs are matched: exhaustive, sequential (video) with loop
// candidates, or retrieval by global image descriptors so large sets avoid the quadratic cost.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "core/backend.h"
#include "sfm/features.h"

namespace facet::sfm {

struct FeatureMatch {
  std::uint32_t idx1 = 0;  // keypoint index in the first image
  std::uint32_t idx2 = 0;  // keypoint index in the second image
  friend bool operator==(const FeatureMatch&, const FeatureMatch&) = default;
};

struct MatchingOptions {
  // Lowe's ratio test on descriptor distances: best / second best < max_ratio; in (0, 1].
  double max_ratio = 0.8;
  // Reject matches whose (unit-vector) descriptor distance exceeds this; in (0, 2].
  double max_distance = 0.7;
  // Keep a match only if each keypoint is the other's nearest neighbour.
  bool cross_check = true;
  Backend backend = Backend::kCpu;

  void Check() const;
};

// Descriptors prepared for matching once per image: float, each row scaled to unit length.
struct MatchableDescriptors {
  Eigen::Matrix<float, Eigen::Dynamic, kDescriptorDim, Eigen::RowMajor> rows{};
};
MatchableDescriptors PrepareForMatching(const Descriptors& descriptors);

// Matches of image 1's descriptors against image 2's, sorted by idx1. Empty when either side has
// fewer than 2 descriptors (the ratio test needs a second neighbour). With Backend::kCuda each
// call sets up cuBLAS and uploads both sets: for many pairs use MatchImagePairs.
std::vector<FeatureMatch> MatchDescriptors(const MatchableDescriptors& d1,
                                           const MatchableDescriptors& d2,
                                           const MatchingOptions& options = {});

enum class PairMode {
  kAuto,        // exhaustive up to `exhaustive_max_images`, retrieval above
  kExhaustive,  // every pair
  kSequential,  // each image with the next `overlap` (by name order), plus retrieval loop candidates
  kRetrieval,   // each image with its `num_neighbors` most similar by global descriptor
};

struct PairSelectionOptions {
  PairMode mode = PairMode::kAuto;
  int exhaustive_max_images = 60;  // kAuto switches to retrieval above this; >= 2
  int overlap = 10;                // kSequential: neighbours ahead in order; >= 1
  int num_neighbors = 30;          // kRetrieval (and sequential loop candidates): >= 1
  bool loop_detection = true;      // kSequential: add retrieval candidates outside the window
  int loop_num_neighbors = 10;     // per image, when loop_detection; >= 1
  std::uint64_t seed = 0;          // for the retrieval vocabulary's k-means

  void Check() const;
};

using ImagePair = std::pair<std::uint32_t, std::uint32_t>;  // indices, first < second

// The image pairs to match, sorted and unique, from each image's features (indices into
// `features`; images without features take part in no pair).
std::vector<ImagePair> SelectImagePairs(std::span<const ImageFeatures> features,
                                        const PairSelectionOptions& options = {});

struct PairMatches {
  ImagePair pair{};
  std::vector<FeatureMatch> matches{};
};

// Matches every pair (parallel over pairs on the CPU; one after another on the GPU), with a
// progress bar. Descriptors are prepared (and uploaded) once per image and released when no
// remaining pair needs them.
std::vector<PairMatches> MatchImagePairs(std::span<const ImageFeatures> features,
                                         std::span<const ImagePair> pairs,
                                         const MatchingOptions& options = {});

}  // namespace facet::sfm
