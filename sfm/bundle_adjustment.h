// Bundle adjustment on Ceres: minimises the robustified reprojection error of every observation
// of the chosen images over camera poses, 3D points and (optionally) intrinsics, with the camera
// models' own projection (geometry/camera_models_impl.h) differentiated with Ceres' Jets.
//
// Parameterisation: per image cam_from_world as one block of a unit quaternion (w, x, y, z;
// Ceres' QuaternionManifold) and a translation (held coordinates through a SubsetManifold); per
// camera its parameter vector, with the principal point and the distortion held constant or
// refined as asked (SubsetManifold); per point its xyz. Residuals have analytic Jacobians
// (sfm/reprojection_error.h). The gauge (7 degrees of freedom) is fixed by the caller through
// `constant_poses` and `constant_translation_coords` (COLMAP fixes the first image and one
// coordinate of the second).
#pragma once

#include <map>
#include <set>
#include <vector>

#include "datasets/scene.h"

namespace facet::sfm {

enum class LossFunction { kTrivial, kSoftL1, kCauchy, kHuber };

struct BundleAdjustmentOptions {
  LossFunction loss = LossFunction::kSoftL1;  // robust loss on each observation's residual
  double loss_scale_px = 1.0;                 // residual norm where the loss turns robust; > 0
  bool refine_focal_length = true;            // refine f (or fx, fy)
  bool refine_principal_point = false;        // refine cx, cy
  bool refine_extra_params = true;            // refine the distortion parameters
  int max_num_iterations = 100;               // Levenberg-Marquardt iterations; >= 1
  double function_tolerance = 1e-6;           // Ceres' relative cost change to stop; >= 0
  double gradient_tolerance = 1e-10;          // Ceres' max-norm gradient tolerance; >= 0
  double parameter_tolerance = 1e-8;          // Ceres' relative step size to stop; >= 0
  int num_threads = 0;  // 0: the process's thread limit (core/backend.h SetMaxThreads); >= 0
  // Linear solver by problem size: dense Schur below `dense_max_images` images, sparse Schur
  // (SuiteSparse/Eigen sparse) up to `sparse_max_images`, iterative Schur above.
  int dense_max_images = 50;     // >= 0
  int sparse_max_images = 1000;  // >= dense_max_images

  void Check() const;
};

struct BundleAdjustmentConfig {
  // Images whose observations enter the problem (must be registered).
  std::set<datasets::ImageId> images{};
  // Poses held fixed (e.g. the gauge, or the border of a local BA).
  std::set<datasets::ImageId> constant_poses{};
  // Translation coordinates (0, 1, 2) held fixed per image (the scale gauge).
  std::map<datasets::ImageId, std::vector<int>> constant_translation_coords{};
  // Cameras whose intrinsics are held fixed whatever the options say.
  std::set<datasets::CameraId> constant_cameras{};
  // Points held fixed (their observations still constrain the poses).
  std::set<datasets::Point3DId> constant_points{};
  // Points observed from images outside `images` also get those observations as residuals with
  // the outside images' poses held fixed (COLMAP's "variable points" behaviour).
  bool include_outside_observations = true;
};

struct BundleAdjustmentSummary {
  bool usable = false;  // Ceres' solution is usable (converged or hit the iteration limit)
  int num_iterations = 0;
  int num_residuals = 0;  // observations (2 residuals each)
  // Root mean square over the observations of the reprojection distance in pixels (without the
  // robust loss), before and after.
  double initial_rms_error_px = 0.0;
  double final_rms_error_px = 0.0;
  // Ceres' objective, 1/2 sum of the robust loss of each squared residual norm (px^2), before and
  // after: what the solver minimised, for comparing models on the same observations.
  double initial_cost = 0.0;
  double final_cost = 0.0;
  double seconds = 0.0;  // wall time of the whole call
};

// Adjusts `scene` in place (poses, points, intrinsics per `config` and `options`); updates each
// adjusted point's `error` (mean reprojection error in pixels). Observations behind their camera
// are skipped. Throws facet::Error for invalid options or a config naming unknown images.
BundleAdjustmentSummary RunBundleAdjustment(datasets::Scene& scene,
                                            const BundleAdjustmentConfig& config,
                                            const BundleAdjustmentOptions& options = {});

}  // namespace facet::sfm
