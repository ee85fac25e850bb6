// Accuracy of estimated camera poses against ground truth.
//
// Every function takes two vectors of world-to-camera poses (`cam_from_world`, COLMAP's
// convention) with matching indices: estimated[i] and ground_truth[i] are the same image. The
// estimated world may differ from the true one by a similarity (the SfM gauge): absolute errors
// are measured after aligning the estimated camera centres to the true ones by a least-squares
// Sim3 (Umeyama 1991); relative errors are invariant to it (up to the scale, which RPE takes
// explicitly). Angles are in degrees; distances in the ground truth's units.
#pragma once

#include <Eigen/Core>
#include <Eigen/Geometry>

#include <array>
#include <optional>
#include <span>
#include <vector>

#include "geometry/rigid3.h"
#include "geometry/sim3.h"

namespace facet::geometry {

// The angle in [0, 180] degrees of the rotation that takes `a` to `b` (the angle of a⁻¹ b).
// Computed as 2 atan2(|v|, |w|) of the relative quaternion, which stays accurate near 0 and
// 180 degrees, where acos of the trace loses half the digits.
double RotationAngleDeg(const Eigen::Quaterniond& a, const Eigen::Quaterniond& b);
// The angle in [0, 180] degrees between two non-zero vectors, atan2(|a × b|, a · b) (accurate at
// every angle). 0 when either vector is zero.
double AngleBetweenDeg(const Eigen::Vector3d& a, const Eigen::Vector3d& b);

struct AbsolutePoseErrorOptions {
  // Estimate the scale of the alignment (Sim3, for monocular SfM) or keep it at 1 (rigid, for
  // metric estimates such as RGB-D odometry).
  bool estimate_scale = true;
};

struct AbsolutePoseErrors {
  Sim3 gt_from_estimated{};                  // least-squares alignment of the camera centres
  std::vector<double> rotation_error_deg{};  // per image, after alignment
  std::vector<double> center_error{};        // per image: |c_gt - gt_from_estimated * c_est|
  // ATE as in the TUM RGB-D benchmark (Sturm et al., IROS 2012, eq. 2): the RMSE of the centre
  // errors after the least-squares alignment.
  double ate_rmse = 0.0;
  double center_error_mean = 0.0;
  double center_error_median = 0.0;
  double center_error_max = 0.0;
  double rotation_error_mean_deg = 0.0;
  double rotation_error_median_deg = 0.0;
  double rotation_error_max_deg = 0.0;
};

// Aligns the estimated camera centres to the true ones (EstimateSim3), moves every estimated pose
// with the alignment (TransformPose), and measures each image's rotation error (the angle between
// the true and the aligned estimated camera orientation) and centre distance. Returns std::nullopt
// when the centres cannot be aligned: fewer than 3 images, or all centres collinear. Throws
// facet::Error when the vectors have different lengths.
std::optional<AbsolutePoseErrors> ComputeAbsolutePoseErrors(
    std::span<const Rigid3> estimated_cam_from_world, std::span<const Rigid3> gt_cam_from_world,
    const AbsolutePoseErrorOptions& options = {});

struct RelativePoseErrorOptions {
  // Compare the motion from frame i to frame i + delta; >= 1 (1: consecutive frames).
  int delta = 1;
  // Multiplies the estimated translations before comparing them: the estimate's scale relative to
  // the ground truth (e.g. AbsolutePoseErrors::gt_from_estimated.scale); > 0.
  double estimated_scale = 1.0;

  // Throws facet::Error naming the first field out of range.
  void Check() const;
};

struct RelativePoseErrors {
  int num_pairs = 0;  // frames i with i + delta in range
  // RPE as in the TUM RGB-D benchmark (Sturm et al. 2012, eq. 1): for every pair,
  // E_i = (Q_i⁻¹ Q_{i+Δ})⁻¹ (P_i⁻¹ P_{i+Δ}) with Q, P the true and estimated camera-to-world
  // poses; the RMSE of |trans(E_i)| and the mean of angle(rot(E_i)).
  double translation_rmse = 0.0;
  double rotation_mean_deg = 0.0;
};

// Throws facet::Error for different lengths or invalid options; zero pairs give zero errors.
RelativePoseErrors ComputeRelativePoseErrors(std::span<const Rigid3> estimated_cam_from_world,
                                             std::span<const Rigid3> gt_cam_from_world,
                                             const RelativePoseErrorOptions& options = {});

// Relative-pose error of the image pair (i, j): the larger of the angle between the estimated and
// true relative rotations (cam_j_from_cam_i) and the angle between the estimated and true relative
// translation directions. Poses from SfM have a known sign, so the translation angle is not folded
// to [0, 90] as for essential-matrix estimates. When the true centres of i and j coincide the
// direction is undefined and only the rotation counts; when only the estimated ones do, the
// translation error is 180 degrees.
double RelativePairErrorDeg(const Rigid3& estimated_i, const Rigid3& estimated_j,
                            const Rigid3& gt_i, const Rigid3& gt_j);

// Default AUC thresholds in degrees.
inline constexpr std::array<double, 3> kDefaultAucThresholdsDeg = {1.0, 3.0, 5.0};

// SuperGlue's `pose_auc`: sorts the errors, forms the recall curve (e_k, k / n) from (0, 0),
// integrates it with the trapezoidal rule up to each threshold (closing with a flat segment at
// the last recall reached) and divides by the threshold. Infinite errors count as failures.
// Throws facet::Error for a non-positive threshold; an empty error list gives zeros.
std::vector<double> PoseAuc(std::span<const double> errors_deg,
                            std::span<const double> thresholds_deg);

struct RelativePoseAuc {
  std::vector<double> thresholds_deg{};   // as requested
  std::vector<double> auc{};              // one per threshold, in [0, 1]
  std::vector<double> pair_errors_deg{};  // every pair i < j, in row-major order
};

// The area under the recall curve of the pair errors (RelativePairErrorDeg over all pairs i < j)
// up to each threshold, divided by the threshold: the pose AUC of SuperGlue (Sarlin et al., CVPR
// 2020, `pose_auc` in its evaluation code) as used for SfM by GLOMAP (Pan et al., ECCV 2024), with
// the same trapezoidal integration of the recall curve from (0, 0). Default thresholds 1, 3 and
// 5 degrees. Fewer than 2 images give AUCs of 0. Throws facet::Error for different lengths or a
// non-positive threshold.
RelativePoseAuc ComputeRelativePoseAuc(
    std::span<const Rigid3> estimated_cam_from_world, std::span<const Rigid3> gt_cam_from_world,
    std::span<const double> thresholds_deg = kDefaultAucThresholdsDeg);

}  // namespace facet::geometry
