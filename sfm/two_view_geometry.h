// Two-view geometry: robust estimation of the relation between two images from their putative
// matches, and COLMAP's classification of it (src/colmap/estimators/two_view_geometry.cc):
//   - essential matrix E (5-point, Nistér 2004) on normalised coordinates, fundamental matrix F
//     (7/8-point) and homography H (4-point) on pixels, each with OpenCV's USAC (MAGSAC++);
//   - calibrated when E explains nearly as many matches as F (E inliers / F inliers >=
//     min_e_f_inlier_ratio), uncalibrated otherwise;
//   - planar or panoramic when H explains most of them (H inliers / E-or-F inliers >
//     max_h_inlier_ratio): panoramic when the relative pose is (nearly) a pure rotation, planar
//     otherwise; planar_or_panoramic when uncalibrated;
//   - watermark when the inliers are an almost pure 2D translation (within max_error_px) with
//     both ends within `watermark_border` of the image border (time stamps, logos);
//   - degenerate when fewer than min_num_inliers survive.
// Inliers are counted with COLMAP's residuals whatever USAC scored internally: Sampson distance for
// E (normalised coordinates) and F, forward transfer error for H.
// For calibrated pairs the relative pose comes from E with the cheirality check (cv::recoverPose),
// polished by minimising the inliers' Sampson distances (Ceres); for planar and panoramic ones
// from H refitted on the undistorted inliers and decomposed (cv::decomposeHomographyMat, the
// solution with most points in front). The median triangulation angle of the inliers is measured.
// Deterministic for a given seed and thread-safe (pairs may be verified in parallel).
#pragma once

#include <Eigen/Core>

#include <span>
#include <vector>

#include "geometry/camera.h"
#include "geometry/rigid3.h"
#include "sfm/matching.h"

namespace facet::sfm {

enum class TwoViewConfig {
  kUndefined = 0,
  kDegenerate = 1,
  kCalibrated = 2,
  kUncalibrated = 3,
  kPlanar = 4,
  kPanoramic = 5,
  kPlanarOrPanoramic = 6,
  kWatermark = 7,
};
std::string_view ToString(TwoViewConfig config);

struct TwoViewGeometryOptions {
  int min_num_inliers = 15;              // fewer verified matches: degenerate; >= 5
  double max_error_px = 4.0;             // RANSAC threshold in pixels (E's is scaled by focal); > 0
  double confidence = 0.999;             // RANSAC confidence; in (0, 1)
  int max_iterations = 10000;            // RANSAC iterations; >= 1
  double min_e_f_inlier_ratio = 0.95;    // calibrated when E inliers >= this * F inliers
  double max_h_inlier_ratio = 0.8;       // planar/panoramic when H inliers > this * E-or-F inliers
  double max_panoramic_angle_deg = 1.0;  // median triangulation angle below this: panoramic
  bool detect_watermark = true;
  double watermark_min_inlier_ratio = 0.7;  // of the inliers explained by a 2D translation
  double watermark_border = 0.1;            // band at each border, fraction of width / height
  std::uint64_t seed = 0;                   // RANSAC sampling seed (deterministic results)

  void Check() const;
};

struct TwoViewGeometry {
  TwoViewConfig config = TwoViewConfig::kUndefined;
  std::vector<FeatureMatch> inlier_matches{};  // the verified matches of the chosen model
  // The robust estimates (zero when not found): x2ᵀ E x1 = 0 on normalised coordinates,
  // x2ᵀ F x1 = 0 and x2 ~ H x1 on pixels. Named as in the literature and COLMAP.
  Eigen::Matrix3d E = Eigen::Matrix3d::Zero();  // NOLINT(readability-identifier-naming)
  Eigen::Matrix3d F = Eigen::Matrix3d::Zero();  // NOLINT(readability-identifier-naming)
  Eigen::Matrix3d H = Eigen::Matrix3d::Zero();  // NOLINT(readability-identifier-naming)
  // Relative pose, valid for kCalibrated, kPlanar and kPanoramic: unit-length translation, or zero
  // for kPanoramic (a pure rotation, as COLMAP reports it).
  geometry::Rigid3 cam2_from_cam1{};
  bool has_pose = false;
  double median_tri_angle_deg = 0.0;  // of the pose's inliers; 0 without a pose or panoramic

  bool IsVerified() const {
    return config == TwoViewConfig::kCalibrated || config == TwoViewConfig::kUncalibrated ||
           config == TwoViewConfig::kPlanar || config == TwoViewConfig::kPanoramic ||
           config == TwoViewConfig::kPlanarOrPanoramic;
  }
};

// `points1` / `points2` are all keypoints of the two images (pixels, camera-model convention);
// `matches` index into them. The cameras give the normalisation for E (their distortion is
// removed first, so radial distortion does not count against E).
TwoViewGeometry EstimateTwoViewGeometry(const geometry::Camera& camera1,
                                        std::span<const Eigen::Vector2d> points1,
                                        const geometry::Camera& camera2,
                                        std::span<const Eigen::Vector2d> points2,
                                        std::span<const FeatureMatch> matches,
                                        const TwoViewGeometryOptions& options = {});

}  // namespace facet::sfm
