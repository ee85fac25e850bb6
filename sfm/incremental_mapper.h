// Incremental mapping (Snavely et al. 2006; Schönberger & Frahm, "Structure-from-Motion
// Revisited", CVPR 2016): start from a well-conditioned image pair, then repeatedly register the
// image that sees the most (and best spread) reconstructed points by absolute pose, triangulate
// what it adds, and keep the model consistent with local and global bundle adjustment, track
// completion and merging, and outlier filtering. Images that fail are retried after the next
// global refinement. When the view graph falls apart into pieces, every piece large enough becomes
// its own model.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "datasets/scene.h"
#include "sfm/absolute_pose.h"
#include "sfm/bundle_adjustment.h"
#include "sfm/correspondence_graph.h"

namespace facet::sfm {

struct MapperOptions {
  // Initial pair: verified inliers at least this many; >= 5.
  int init_min_num_inliers = 100;
  // Initial pair: median triangulation angle preferred above this (halved until a pair is found,
  // down to tri_min_angle_deg); > 0.
  double init_min_tri_angle_deg = 16.0;
  // Initial pair: at least this many points must survive its triangulation; >= 5.
  int init_min_num_points = 50;
  // Registration: absolute pose RANSAC and refinement (max error 12 px, >= 30 inliers).
  AbsolutePoseOptions abs_pose{};
  // When no image registers any more: retry once with half of abs_pose's minimum inlier count (at
  // least relaxed_min_num_inliers) and half its minimum inlier ratio. Off by default: it joins
  // small, weakly overlapping photos into one model (12 synthetic views at 320x240: 12/12 instead
  // of 4/12), but where a repeated texture lets wrong pairs verify (a tiled floor seen from
  // opposite sides) it also registers images at wrong poses, and a wrong model is worse than a
  // split or partial one.
  bool relax_registration = false;
  int relaxed_min_num_inliers = 12;  // >= 6 (a pose has 6 degrees of freedom)
  // Registration attempts per image before it is given up until the next global refinement.
  int max_reg_trials = 2;
  // Triangulation: minimum angle between rays (degrees) and maximum reprojection error (pixels)
  // for new points, track continuation and merging.
  double tri_min_angle_deg = 1.5;
  double tri_max_error_px = 4.0;
  // Filtering after bundle adjustment: observations above this error are removed, and points
  // whose largest triangulation angle is below `filter_min_tri_angle_deg`.
  double filter_max_error_px = 4.0;
  double filter_min_tri_angle_deg = 1.5;
  // Local bundle adjustment: the new image and its most connected registered neighbours.
  int local_ba_num_images = 6;
  int local_ba_max_iterations = 25;
  bool local_ba_refine_intrinsics = false;  // intrinsics are refined by the global BAs
  // Global bundle adjustment when the model has grown by these ratios since the last one.
  double global_ba_images_ratio = 1.1;
  double global_ba_points_ratio = 1.1;
  int global_ba_max_iterations = 50;
  // Ceres' relative function tolerance for the BAs while the model grows (the final refinement
  // uses ba.function_tolerance): they only keep the model consistent for the next registration.
  double growth_function_tolerance = 1e-4;
  // Rounds of (global BA, complete/merge, filter) in the final global refinement (one round while
  // the model grows); stops early when fewer than this fraction of observations change.
  int global_refinements = 5;
  double global_refinement_change = 0.0005;
  // Intrinsics are refined in BA once their camera has this many registered images; >= 2.
  int min_images_for_intrinsics = 3;
  // Intrinsics refined in BA (focal and distortion by default; the principal point optionally,
  // in the final global refinement only, where it is best constrained).
  bool refine_focal_length = true;
  bool refine_extra_params = true;
  bool refine_principal_point = false;
  // Without refine_principal_point: try refining it in the final refinement anyway when every
  // camera has at least `auto_principal_point_min_images` registered images, and keep the result
  // only when it moved between `auto_principal_point_min_shift` and
  // `auto_principal_point_max_shift` of the image's longer side. Smaller moves are of the order
  // of the estimate's own noise (0.8 px, 0.13%, on 12 synthetic views whose principal point is
  // exactly centred; keeping them cost 0.07 deg there) and cost under ~0.15 deg when real;
  // larger ones mean an ill-conditioned principal point (forward motion; Sceaux's drifts 3.4%).
  // A likelihood-ratio test was tried and dropped: with SIFT's heavy-tailed residuals it passed
  // the synthetic noise (56 against 13.8) and failed DTU's real 0.7% offset (11).
  // fountain-P11 (offset 0.7%): rotation error 0.5 -> under 0.1 deg; dtu-scan24: 0.66 -> 0.36.
  bool auto_principal_point = true;
  int auto_principal_point_min_images = 8;
  double auto_principal_point_min_shift = 0.0025;
  double auto_principal_point_max_shift = 0.02;
  // Bundle adjustment settings shared by local and global BA (loss, solver, threads). A Cauchy
  // loss at 1.5 px: observations a few pixels off (wrong matches that joined a track, which the
  // 4 px filter lets through) barely pull, while sub-pixel residuals keep nearly full weight.
  BundleAdjustmentOptions ba{.loss = LossFunction::kCauchy, .loss_scale_px = 1.5};
  // Models with fewer registered images are dropped; >= 2.
  int min_model_size = 3;
  // Look for further models among the images no model holds.
  bool multiple_models = true;
  int max_num_models = 50;

  void Check() const;
};

// The mapper's progress, to resume after an interruption: the finished models and the one being
// grown, with the images of its initial pair (they hold the gauge).
struct MapperCheckpoint {
  std::vector<datasets::Scene> finished{};
  std::optional<datasets::Scene> partial{};  // registered images, points and refined cameras
  datasets::ImageId init1{};
  datasets::ImageId init2{};
};

struct MapperCallbacks {
  // The number of images registered so far (progress reporting).
  std::function<void(std::size_t)> on_registered{};
  // After each global refinement of a growing model and after each finished model: the finished
  // models, the growing one (nullptr when none) and its initial pair. Save what a later run should
  // resume from; the references are valid during the call only.
  std::function<void(const std::vector<datasets::Scene>& finished, const datasets::Scene* partial,
                     datasets::ImageId init1, datasets::ImageId init2)>
      on_checkpoint{};
};

// Reconstructs from `skeleton` (cameras, and images with their keypoints in `points2d`; no
// registered image, no 3D point). `image_ids[i]` is the scene image of the graph's image i.
// Returns the models, largest first; every image is registered in at most one. With `resume`,
// mapping continues from a checkpoint of an earlier run on the same skeleton and graph (a
// checkpoint that does not fit them, e.g. a keypoint index out of range, throws facet::Error).
std::vector<datasets::Scene> RunIncrementalMapper(const datasets::Scene& skeleton,
                                                  std::span<const datasets::ImageId> image_ids,
                                                  const CorrespondenceGraph& graph,
                                                  const MapperOptions& options,
                                                  const MapperCallbacks& callbacks = {},
                                                  const MapperCheckpoint* resume = nullptr);

}  // namespace facet::sfm
