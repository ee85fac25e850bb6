#include "geometry/alignment.h"

#include <Eigen/SVD>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <random>

#include "core/error.h"

namespace facet::geometry {
namespace {

// Singular values of the cross-covariance below this fraction of the largest count as zero.
constexpr double kRankTolerance = 1e-10;

void CheckInputs(std::span<const Eigen::Vector3d> src, std::span<const Eigen::Vector3d> dst) {
  FACET_CHECK(src.size() == dst.size(),
              "cannot align {} source points to {} destination points: the sets must correspond "
              "one to one",
              src.size(), dst.size());
  for (std::size_t i = 0; i < src.size(); ++i) {
    FACET_CHECK(src[i].allFinite() && dst[i].allFinite(),
                "cannot align point pair {}: a coordinate is not finite", i);
  }
}

// Umeyama on the pairs listed in `indices` (all pairs when empty); inputs already checked.
std::optional<Sim3> Umeyama(std::span<const Eigen::Vector3d> src,
                            std::span<const Eigen::Vector3d> dst,
                            std::span<const std::size_t> indices, bool estimate_scale) {
  const std::size_t n = indices.empty() ? src.size() : indices.size();
  if (n < 3) return std::nullopt;
  auto at = [&](std::size_t k) { return indices.empty() ? k : indices[k]; };

  Eigen::Vector3d mean_src = Eigen::Vector3d::Zero(), mean_dst = Eigen::Vector3d::Zero();
  for (std::size_t k = 0; k < n; ++k) {
    mean_src += src[at(k)];
    mean_dst += dst[at(k)];
  }
  mean_src /= double(n);
  mean_dst /= double(n);

  // Umeyama eq. (38): Σ = (1/n) Σ (dst_i - μ_dst)(src_i - μ_src)ᵀ, and σ_src² (eq. 36).
  Eigen::Matrix3d covariance = Eigen::Matrix3d::Zero();
  double variance_src = 0.0;
  for (std::size_t k = 0; k < n; ++k) {
    const Eigen::Vector3d a = src[at(k)] - mean_src;
    covariance += (dst[at(k)] - mean_dst) * a.transpose();
    variance_src += a.squaredNorm();
  }
  covariance /= double(n);
  variance_src /= double(n);

  const Eigen::JacobiSVD<Eigen::Matrix3d> svd(covariance,
                                              Eigen::ComputeFullU | Eigen::ComputeFullV);
  const Eigen::Vector3d d = svd.singularValues();
  // Rank ≥ 2 (eq. 43's uniqueness condition): false for collinear or coincident points.
  if (!(d(0) > 0.0) || !(d(1) > kRankTolerance * d(0)) || !(variance_src > 0.0)) {
    return std::nullopt;
  }
  // S = diag(1, 1, -1) when det(U) det(V) < 0, so that R is a rotation, not a reflection (eq. 39).
  Eigen::Vector3d s_diag(1.0, 1.0, 1.0);
  if (svd.matrixU().determinant() * svd.matrixV().determinant() < 0.0) s_diag(2) = -1.0;
  const Eigen::Matrix3d r = svd.matrixU() * s_diag.asDiagonal() * svd.matrixV().transpose();
  // c = tr(D S) / σ_src² (eq. 42); t = μ_dst - c R μ_src (eq. 41).
  const double scale = estimate_scale ? d.dot(s_diag) / variance_src : 1.0;
  if (!(scale > 0.0) || !std::isfinite(scale)) return std::nullopt;
  Sim3 dst_from_src(scale, Eigen::Quaterniond(r).normalized(), Eigen::Vector3d::Zero());
  dst_from_src.translation = mean_dst - scale * (dst_from_src.rotation * mean_src);
  return dst_from_src;
}

struct Score {
  std::size_t num_inliers = 0;
  double sum_squared_error = std::numeric_limits<double>::infinity();

  bool BetterThan(const Score& other) const {
    return num_inliers > other.num_inliers ||
           (num_inliers == other.num_inliers && sum_squared_error < other.sum_squared_error);
  }
};

Score Evaluate(const Sim3& dst_from_src, std::span<const Eigen::Vector3d> src,
               std::span<const Eigen::Vector3d> dst, double max_error,
               std::vector<char>* inlier_mask) {
  Score score{0, 0.0};
  const double max_squared = max_error * max_error;
  if (inlier_mask != nullptr) inlier_mask->assign(src.size(), 0);
  for (std::size_t i = 0; i < src.size(); ++i) {
    const double e2 = (dst[i] - dst_from_src * src[i]).squaredNorm();
    if (e2 <= max_squared) {
      ++score.num_inliers;
      score.sum_squared_error += e2;
      if (inlier_mask != nullptr) (*inlier_mask)[i] = 1;
    }
  }
  return score;
}

}  // namespace

std::optional<Sim3> EstimateSim3(std::span<const Eigen::Vector3d> src,
                                 std::span<const Eigen::Vector3d> dst, bool estimate_scale) {
  CheckInputs(src, dst);
  return Umeyama(src, dst, {}, estimate_scale);
}

void RansacAlignmentOptions::Check() const {
  FACET_CHECK(max_error > 0.0 && std::isfinite(max_error),
              "RansacAlignmentOptions.max_error must be positive and finite (got {})", max_error);
  FACET_CHECK(max_iterations >= 1, "RansacAlignmentOptions.max_iterations must be >= 1 (got {})",
              max_iterations);
  FACET_CHECK(confidence > 0.0 && confidence < 1.0,
              "RansacAlignmentOptions.confidence must be in (0, 1) (got {})", confidence);
  FACET_CHECK(min_inlier_ratio >= 0.0 && min_inlier_ratio <= 1.0,
              "RansacAlignmentOptions.min_inlier_ratio must be in [0, 1] (got {})",
              min_inlier_ratio);
}

RansacAlignmentResult EstimateSim3Robust(std::span<const Eigen::Vector3d> src,
                                         std::span<const Eigen::Vector3d> dst,
                                         const RansacAlignmentOptions& options) {
  options.Check();
  CheckInputs(src, dst);
  RansacAlignmentResult result;
  const std::size_t n = src.size();
  if (n < 3) return result;

  std::mt19937_64 rng(options.seed);
  std::uniform_int_distribution<std::size_t> pick(0, n - 1);
  std::optional<Sim3> best_model;
  Score best;
  best.num_inliers = 0;
  long long needed_iterations = options.max_iterations;
  int iteration = 0;
  for (; iteration < options.max_iterations && iteration < needed_iterations; ++iteration) {
    std::array<std::size_t, 3> sample{};
    sample[0] = pick(rng);
    do sample[1] = pick(rng);
    while (sample[1] == sample[0]);
    do sample[2] = pick(rng);
    while (sample[2] == sample[0] || sample[2] == sample[1]);
    const std::optional<Sim3> model = Umeyama(src, dst, sample, options.estimate_scale);
    if (!model) continue;  // collinear sample
    const Score score = Evaluate(*model, src, dst, options.max_error, nullptr);
    if (!best_model || score.BetterThan(best)) {
      best_model = model;
      best = score;
      // Iterations for `confidence` of drawing one all-inlier sample at this inlier ratio.
      const double w = double(best.num_inliers) / double(n);
      const double all_inlier_sample = w * w * w;
      if (all_inlier_sample >= 1.0) {
        needed_iterations = 0;
      } else if (all_inlier_sample > 0.0) {
        needed_iterations = static_cast<long long>(
            std::ceil(std::log(1.0 - options.confidence) / std::log(1.0 - all_inlier_sample)));
      }
    }
  }
  result.num_iterations = iteration;
  if (!best_model || best.num_inliers < 3) return result;

  // Local refinement: refit on the inliers until the inlier set is stable.
  Sim3 model = *best_model;
  std::vector<char> mask;
  Score score = Evaluate(model, src, dst, options.max_error, &mask);
  for (int round = 0; round < 10; ++round) {
    std::vector<std::size_t> inliers;
    for (std::size_t i = 0; i < n; ++i) {
      if (mask[i] != 0) inliers.push_back(i);
    }
    const std::optional<Sim3> refit = Umeyama(src, dst, inliers, options.estimate_scale);
    if (!refit) break;
    std::vector<char> refit_mask;
    const Score refit_score = Evaluate(*refit, src, dst, options.max_error, &refit_mask);
    if (refit_score.num_inliers < score.num_inliers) break;  // keep the better model
    const bool stable = refit_mask == mask;
    model = *refit;
    mask = std::move(refit_mask);
    score = refit_score;
    if (stable) break;
  }

  result.dst_from_src = model;
  result.num_inliers = score.num_inliers;
  result.inlier_rms_error =
      score.num_inliers > 0 ? std::sqrt(score.sum_squared_error / double(score.num_inliers)) : 0.0;
  result.inlier_mask = std::move(mask);
  result.success =
      score.num_inliers >= 3 && double(score.num_inliers) >= options.min_inlier_ratio * double(n);
  return result;
}

}  // namespace facet::geometry
