// Absolute pose of a calibrated camera from 2D-3D correspondences: P3P inside RANSAC (OpenCV's
// solvePnPRansac with AP3P, Ke & Roumeliotis, CVPR 2017) on undistorted normalised coordinates,
// then a robust nonlinear refinement of the pose on the inliers (Gauss-Newton with Cauchy
// weights on the pixel reprojection error, through the camera model's own projection).
#pragma once

#include <Eigen/Core>

#include <cstdint>
#include <span>
#include <vector>

#include "geometry/camera.h"
#include "geometry/rigid3.h"

namespace facet::sfm {

struct AbsolutePoseOptions {
  double max_error_px = 12.0;      // RANSAC inlier threshold (COLMAP's abs_pose_max_error); > 0
  double confidence = 0.9999;      // in (0, 1)
  int max_iterations = 10000;      // RANSAC iterations; >= 1
  int min_num_inliers = 30;        // fewer: failure; >= 4
  double min_inlier_ratio = 0.25;  // of the correspondences; in [0, 1]
  int refine_iterations = 20;      // Gauss-Newton iterations of the refinement; >= 0
  double refine_loss_scale_px = 1.0;  // Cauchy scale of the refinement; > 0

  void Check() const;
};

struct AbsolutePoseResult {
  bool success = false;
  geometry::Rigid3 cam_from_world{};
  std::vector<char> inlier_mask{};  // per correspondence
  std::size_t num_inliers = 0;
};

// `points2d` in pixels of `camera` (with its distortion), `points3d` in the world. The inliers
// are re-evaluated with the refined pose (reprojection error <= max_error_px, in front).
AbsolutePoseResult EstimateAbsolutePose(const geometry::Camera& camera,
                                        std::span<const Eigen::Vector2d> points2d,
                                        std::span<const Eigen::Vector3d> points3d,
                                        const AbsolutePoseOptions& options = {});

// Robust Gauss-Newton refinement of `cam_from_world` on the given correspondences (all of them;
// pass the inliers). Returns false (pose unchanged) when the system is degenerate.
bool RefineAbsolutePose(const geometry::Camera& camera, std::span<const Eigen::Vector2d> points2d,
                        std::span<const Eigen::Vector3d> points3d, int iterations,
                        double loss_scale_px, geometry::Rigid3* cam_from_world);

}  // namespace facet::sfm
