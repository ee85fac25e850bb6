// Global registration of two point clouds without an initial guess: FPFH features
// (geometry/fpfh.h) matched between the clouds, then RANSAC over triples of feature
// correspondences (the pipeline of Open3D's RegistrationRANSACBasedOnFeatureMatching; Rusu,
// Blodow, Beetz, ICRA 2009, Sec. V), optionally refined by point-to-plane ICP (geometry/icp.h).
//
// Pipeline, all on clouds downsampled to `voxel_size` (geometry/point_cloud.h VoxelDownsample):
// 1. normals, when the input has none: PCA over a radius (geometry/normals.h), made consistent
//    along a minimum spanning tree, then all flipped together so that most point away from the
//    centroid (outwards on closed objects; a rule that does not depend on the pose, so both
//    clouds get matching signs, which FPFH needs);
// 2. FPFH of every point; each source point is matched to its nearest target feature (L2); with
//    the mutual filter only pairs that are each other's nearest are kept (unless fewer than
//    3 * ransac_n remain, then all, as Open3D does);
// 3. RANSAC: a hypothesis is the least-squares rigid motion (Umeyama 1991) of ransac_n random
//    correspondences; cheap checks first (edges of the sample of similar lengths in both clouds,
//    every sample pair within max_correspondence_distance after the motion), then the fitness
//    of the whole downsampled source. Hypotheses run in parallel in batches, hypothesis h with its
//    own generator seeded by (seed, h), the best chosen by (fitness, -inlier RMSE, -h): the result
//    does not depend on the thread count. After each batch the count needed for `confidence`,
//    log(1 - confidence) / log(1 - w^ransac_n), is re-estimated from the share w of feature
//    correspondences the best pose explains (Open3D uses the fitness for w, which overestimates
//    it under partial overlap and stops too early);
// 4. point-to-plane ICP from the RANSAC pose (refine = true).
#pragma once

#include <cstdint>

#include "geometry/point_cloud.h"
#include "geometry/rigid3.h"

namespace facet::geometry {

struct GlobalRegistrationOptions {
  // kRansac: steps 3 above. kFastGlobal: Fast Global Registration (Zhou, Park, Koltun, ECCV 2016)
  // instead: the mutual feature pairs filtered by the tuple test (fgr_tuple_scale,
  // fgr_max_tuples), then graduated non-convexity over the Geman-McClure objective
  // sum mu r^2 / (mu + r^2) of the pair residuals, solved by Gauss-Newton (the line-process
  // weights of the paper), mu starting at the squared extent of the clouds and divided by
  // fgr_division_factor every 4 iterations down to max_correspondence_distance^2 (Open3D's
  // FastGlobalRegistrationBasedOnFeatureMatching schedule). No random hypotheses: much cheaper
  // than RANSAC, less robust to low inlier ratios.
  enum class Method { kRansac, kFastGlobal };
  Method method = Method::kRansac;
  // Downsampling voxel (scene units, > 0); the distances below default to multiples of it.
  double voxel_size = 0.05;
  // Normal estimation radius (scene units); <= 0 means 2 * voxel_size. Used only when the source
  // or target has no normals. At most normal_max_nn neighbours (>= 3).
  double normal_radius = 0.0;
  int normal_max_nn = 30;
  // FPFH radius (scene units); <= 0 means 5 * voxel_size. At most feature_max_nn neighbours (>= 2).
  double feature_radius = 0.0;
  int feature_max_nn = 100;
  // Distance within which a transformed source point counts as matched (fitness, RMSE, inliers,
  // the distance check); <= 0 means 1.5 * voxel_size.
  double max_correspondence_distance = 0.0;
  // Keep only mutually nearest feature pairs.
  bool mutual_filter = true;
  // Correspondences per hypothesis (>= 3).
  int ransac_n = 3;
  // Edge-length check: every edge of the sample must have lengths l_s, l_t in the two clouds with
  // min / max >= this (in [0, 1); 0 disables the check). Open3D's CorrespondenceChecker-
  // BasedOnEdgeLength.
  double edge_length_similarity = 0.9;
  // Distance check: every sample pair within max_correspondence_distance after the motion.
  bool check_distance = true;
  // Hypotheses at most (>= 1), and the probability of having drawn an all-inlier sample at which
  // RANSAC stops early (in [0, 1)).
  int max_iterations = 100000;
  double confidence = 0.999;
  // Seed of the hypothesis generators: the same seed gives the same result.
  std::uint64_t seed = 0;
  // FGR: tuple test edge-length ratio (in (0, 1)), tuples kept at most (>= 1), the mu division
  // factor (> 1) and the Gauss-Newton iterations (>= 1).
  double fgr_tuple_scale = 0.95;
  int fgr_max_tuples = 1000;
  double fgr_division_factor = 1.4;
  int fgr_iterations = 64;
  // Success needs fitness >= min_fitness (in [0, 1]) and at least min_inliers feature
  // correspondences (>= ransac_n) within max_correspondence_distance at the final pose. The
  // inlier count is what separates a true pose from a smooth patch laid on another one (disjoint
  // slabs of the bunny reach fitness 0.6 with 1 or 2 inliers; true poses have tens to hundreds).
  double min_fitness = 0.1;
  int min_inliers = 10;
  // Point-to-plane ICP after RANSAC on the downsampled clouds, with this correspondence distance
  // (<= 0 means 1 * voxel_size) and at most refine_max_iterations iterations (>= 1).
  bool refine = true;
  double refine_max_correspondence_distance = 0.0;
  int refine_max_iterations = 30;

  // The effective values of the fields whose default derives from voxel_size.
  double NormalRadius() const { return normal_radius > 0.0 ? normal_radius : 2.0 * voxel_size; }
  double FeatureRadius() const { return feature_radius > 0.0 ? feature_radius : 5.0 * voxel_size; }
  double MaxCorrespondenceDistance() const {
    return max_correspondence_distance > 0.0 ? max_correspondence_distance : 1.5 * voxel_size;
  }
  double RefineMaxCorrespondenceDistance() const {
    return refine_max_correspondence_distance > 0.0 ? refine_max_correspondence_distance
                                                    : voxel_size;
  }

  // Throws facet::Error naming the field out of range.
  void Check() const;
};

struct GlobalRegistrationResult {
  // Maps source points onto the target: x_in_target = target_from_source * x_in_source.
  Rigid3 target_from_source;
  // At the returned pose, over the downsampled clouds: the fraction of source points with a
  // target point within max_correspondence_distance, and the RMSE of those distances (0 when
  // there are none), as Open3D's EvaluateRegistration.
  double fitness = 0.0;
  double inlier_rmse = 0.0;
  // Feature correspondences (after the mutual filter), and how many of
  // them lie within max_correspondence_distance at the returned pose.
  int correspondences = 0;
  int inliers = 0;
  // Hypotheses drawn (RANSAC) or Gauss-Newton iterations (FGR), and whether ICP refined the
  // pose.
  int iterations = 0;
  bool refined = false;
  // fitness >= min_fitness and inliers >= min_inliers. False when the clouds do not overlap or
  // RANSAC found no consistent motion; the pose is then the best hypothesis found (the identity
  // when none passed the checks) and must not be used.
  bool success = false;
  // Points after downsampling.
  int source_points = 0;
  int target_points = 0;
};

// Registers `source` to `target` (any relative pose). Throws facet::Error for invalid options,
// clouds with fewer than 3 points (before or after downsampling) or non-finite coordinates.
GlobalRegistrationResult RegisterGlobal(const PointCloud& source, const PointCloud& target,
                                        const GlobalRegistrationOptions& options);

}  // namespace facet::geometry
