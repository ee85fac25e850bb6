// Least-squares and robust similarity alignment of corresponding 3D point sets.
//
// EstimateSim3 is Umeyama's closed form ("Least-squares estimation of transformation parameters
// between two point patterns", IEEE TPAMI 13(4), 1991): it minimises
//   (1/n) Σ |dst_i - (s R src_i + t)|²
// over s > 0, R ∈ SO(3) and t, returning dst_from_src. With `estimate_scale = false` it is the
// rigid (Kabsch/Horn) solution, s = 1. The robust variant runs RANSAC over 3-point samples and
// refits on the inliers; it is what scores an SfM reconstruction against ground truth after
// removing the gauge (the similarity SfM cannot observe), or merges two reconstructions.
#pragma once

#include <Eigen/Core>

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "geometry/sim3.h"

namespace facet::geometry {

// dst_from_src minimising the mean squared distance above. Needs at least 3 pairs whose points
// are not all collinear (in src and in dst: the cross-covariance must have rank ≥ 2, Umeyama's
// uniqueness condition); returns std::nullopt otherwise. Throws facet::Error when the spans have
// different lengths or a coordinate is not finite.
std::optional<Sim3> EstimateSim3(std::span<const Eigen::Vector3d> src,
                                 std::span<const Eigen::Vector3d> dst, bool estimate_scale = true);

struct RansacAlignmentOptions {
  // A pair is an inlier when |dst_i - dst_from_src * src_i| <= max_error (units of dst); > 0.
  double max_error = 0.05;
  // Upper bound on RANSAC iterations (3-point samples); ≥ 1.
  int max_iterations = 2000;
  // Stop early once a sample of all inliers has been drawn with this probability; in (0, 1).
  double confidence = 0.9999;
  // Fail unless at least this fraction of the pairs are inliers of the final model; in [0, 1].
  double min_inlier_ratio = 0.0;
  // Estimate the scale (Sim3) or keep it at 1 (rigid).
  bool estimate_scale = true;
  // Seed of the sampler: the same inputs and seed give the same result.
  std::uint64_t seed = 0;

  // Throws facet::Error naming the first field out of range.
  void Check() const;
};

struct RansacAlignmentResult {
  bool success = false;             // false: fewer than 3 inliers or too few of them
  Sim3 dst_from_src{};              // refit on the inliers (meaningful when success)
  std::vector<char> inlier_mask{};  // one per pair, 1 for inliers
  std::size_t num_inliers = 0;      // number of 1s in inlier_mask
  double inlier_rms_error = 0.0;    // RMS of |dst_i - dst_from_src * src_i| over inliers
  int num_iterations = 0;           // samples drawn
};

// RANSAC (Fischler & Bolles 1981) over minimal 3-point Umeyama fits: the model with the most
// inliers (ties broken by the smaller sum of squared inlier errors) is refit on its inliers with
// EstimateSim3, and the inlier set recomputed, until it no longer changes (at most 10 rounds).
// Throws facet::Error for invalid options or spans of different lengths.
RansacAlignmentResult EstimateSim3Robust(std::span<const Eigen::Vector3d> src,
                                         std::span<const Eigen::Vector3d> dst,
                                         const RansacAlignmentOptions& options = {});

}  // namespace facet::geometry
