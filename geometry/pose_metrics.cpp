#include "geometry/pose_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include "core/error.h"
#include "geometry/alignment.h"

namespace facet::geometry {
namespace {

constexpr double kDegPerRad = 180.0 / std::numbers::pi;

void CheckSameLength(std::span<const Rigid3> estimated, std::span<const Rigid3> gt) {
  FACET_CHECK(estimated.size() == gt.size(),
              "cannot compare {} estimated poses with {} ground-truth poses: the lists must "
              "match image by image",
              estimated.size(), gt.size());
}

double Median(std::vector<double> values) {
  if (values.empty()) return 0.0;
  const std::size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + std::ptrdiff_t(mid), values.end());
  const double upper = values[mid];
  if (values.size() % 2 == 1) return upper;
  const double lower = *std::max_element(values.begin(), values.begin() + std::ptrdiff_t(mid));
  return 0.5 * (lower + upper);
}

double Mean(const std::vector<double>& values) {
  double sum = 0.0;
  for (double v : values) sum += v;
  return values.empty() ? 0.0 : sum / double(values.size());
}

double Max(const std::vector<double>& values) {
  return values.empty() ? 0.0 : *std::max_element(values.begin(), values.end());
}

}  // namespace

double RotationAngleDeg(const Eigen::Quaterniond& a, const Eigen::Quaterniond& b) {
  const Eigen::Quaterniond d = a.conjugate() * b;
  // q and -q are the same rotation: |w| picks the angle in [0, π].
  return 2.0 * std::atan2(d.vec().norm(), std::abs(d.w())) * kDegPerRad;
}

double AngleBetweenDeg(const Eigen::Vector3d& a, const Eigen::Vector3d& b) {
  return std::atan2(a.cross(b).norm(), a.dot(b)) * kDegPerRad;
}

std::optional<AbsolutePoseErrors> ComputeAbsolutePoseErrors(
    std::span<const Rigid3> estimated_cam_from_world, std::span<const Rigid3> gt_cam_from_world,
    const AbsolutePoseErrorOptions& options) {
  CheckSameLength(estimated_cam_from_world, gt_cam_from_world);
  const std::size_t n = gt_cam_from_world.size();
  std::vector<Eigen::Vector3d> estimated_centers(n), gt_centers(n);
  for (std::size_t i = 0; i < n; ++i) {
    estimated_centers[i] = CameraCenter(estimated_cam_from_world[i]);
    gt_centers[i] = CameraCenter(gt_cam_from_world[i]);
  }
  const std::optional<Sim3> gt_from_estimated =
      EstimateSim3(estimated_centers, gt_centers, options.estimate_scale);
  if (!gt_from_estimated) return std::nullopt;

  AbsolutePoseErrors errors;
  errors.gt_from_estimated = *gt_from_estimated;
  errors.rotation_error_deg.resize(n);
  errors.center_error.resize(n);
  double sum_squared = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const Rigid3 cam_from_gt = TransformPose(*gt_from_estimated, estimated_cam_from_world[i]);
    errors.rotation_error_deg[i] =
        RotationAngleDeg(cam_from_gt.rotation, gt_cam_from_world[i].rotation);
    errors.center_error[i] = (CameraCenter(cam_from_gt) - gt_centers[i]).norm();
    sum_squared += errors.center_error[i] * errors.center_error[i];
  }
  errors.ate_rmse = std::sqrt(sum_squared / double(n));
  errors.center_error_mean = Mean(errors.center_error);
  errors.center_error_median = Median(errors.center_error);
  errors.center_error_max = Max(errors.center_error);
  errors.rotation_error_mean_deg = Mean(errors.rotation_error_deg);
  errors.rotation_error_median_deg = Median(errors.rotation_error_deg);
  errors.rotation_error_max_deg = Max(errors.rotation_error_deg);
  return errors;
}

void RelativePoseErrorOptions::Check() const {
  FACET_CHECK(delta >= 1, "RelativePoseErrorOptions.delta must be >= 1 (got {})", delta);
  FACET_CHECK(estimated_scale > 0.0 && std::isfinite(estimated_scale),
              "RelativePoseErrorOptions.estimated_scale must be positive and finite (got {})",
              estimated_scale);
}

RelativePoseErrors ComputeRelativePoseErrors(std::span<const Rigid3> estimated_cam_from_world,
                                             std::span<const Rigid3> gt_cam_from_world,
                                             const RelativePoseErrorOptions& options) {
  options.Check();
  CheckSameLength(estimated_cam_from_world, gt_cam_from_world);
  RelativePoseErrors errors;
  const auto n = static_cast<std::ptrdiff_t>(gt_cam_from_world.size());
  double sum_squared = 0.0, sum_angle = 0.0;
  for (std::ptrdiff_t i = 0; i + options.delta < n; ++i) {
    const std::size_t a = std::size_t(i), b = std::size_t(i + options.delta);
    // Q_i⁻¹ Q_{i+Δ} with Q = world_from_cam is cam_i_from_world * world_from_cam_j.
    Rigid3 estimated_motion = estimated_cam_from_world[a] * estimated_cam_from_world[b].Inverse();
    estimated_motion.translation *= options.estimated_scale;
    const Rigid3 gt_motion = gt_cam_from_world[a] * gt_cam_from_world[b].Inverse();
    const Rigid3 error = gt_motion.Inverse() * estimated_motion;
    sum_squared += error.translation.squaredNorm();
    sum_angle += RotationAngleDeg(Eigen::Quaterniond::Identity(), error.rotation);
    ++errors.num_pairs;
  }
  if (errors.num_pairs > 0) {
    errors.translation_rmse = std::sqrt(sum_squared / errors.num_pairs);
    errors.rotation_mean_deg = sum_angle / errors.num_pairs;
  }
  return errors;
}

double RelativePairErrorDeg(const Rigid3& estimated_i, const Rigid3& estimated_j,
                            const Rigid3& gt_i, const Rigid3& gt_j) {
  const Rigid3 estimated_j_from_i = estimated_j * estimated_i.Inverse();
  const Rigid3 gt_j_from_i = gt_j * gt_i.Inverse();
  const double rotation_error = RotationAngleDeg(estimated_j_from_i.rotation, gt_j_from_i.rotation);
  double translation_error = 0.0;
  if (gt_j_from_i.translation.squaredNorm() > 0.0) {
    translation_error =
        estimated_j_from_i.translation.squaredNorm() > 0.0
            ? AngleBetweenDeg(estimated_j_from_i.translation, gt_j_from_i.translation)
            : 180.0;
  }
  return std::max(rotation_error, translation_error);
}

std::vector<double> PoseAuc(std::span<const double> errors_deg,
                            std::span<const double> thresholds_deg) {
  for (double t : thresholds_deg) {
    FACET_CHECK(t > 0.0 && std::isfinite(t),
                "AUC thresholds must be positive and finite degrees (got {})", t);
  }
  std::vector<double> aucs(thresholds_deg.size(), 0.0);
  if (errors_deg.empty()) return aucs;
  std::vector<double> errors(errors_deg.begin(), errors_deg.end());
  for (double& e : errors) {
    if (std::isnan(e)) e = std::numeric_limits<double>::infinity();  // NaN: a failed pair
  }
  std::sort(errors.begin(), errors.end());
  const double n = double(errors.size());
  for (std::size_t k = 0; k < thresholds_deg.size(); ++k) {
    const double t = thresholds_deg[k];
    // The curve passes through (0, 0) and (e_m, (m + 1) / n) for sorted errors e_m < t, then
    // stays at its last recall up to t.
    double area = 0.0, previous_error = 0.0, previous_recall = 0.0;
    for (std::size_t m = 0; m < errors.size() && errors[m] < t; ++m) {
      const double recall = double(m + 1) / n;
      area += 0.5 * (recall + previous_recall) * (errors[m] - previous_error);
      previous_error = errors[m];
      previous_recall = recall;
    }
    area += previous_recall * (t - previous_error);
    aucs[k] = area / t;
  }
  return aucs;
}

RelativePoseAuc ComputeRelativePoseAuc(std::span<const Rigid3> estimated_cam_from_world,
                                       std::span<const Rigid3> gt_cam_from_world,
                                       std::span<const double> thresholds_deg) {
  CheckSameLength(estimated_cam_from_world, gt_cam_from_world);
  RelativePoseAuc result;
  result.thresholds_deg.assign(thresholds_deg.begin(), thresholds_deg.end());
  const std::size_t n = gt_cam_from_world.size();
  result.pair_errors_deg.reserve(n * (n > 0 ? n - 1 : 0) / 2);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      result.pair_errors_deg.push_back(
          RelativePairErrorDeg(estimated_cam_from_world[i], estimated_cam_from_world[j],
                               gt_cam_from_world[i], gt_cam_from_world[j]));
    }
  }
  result.auc = PoseAuc(result.pair_errors_deg, thresholds_deg);
  return result;
}

}  // namespace facet::geometry
