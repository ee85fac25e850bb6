// Iterative closest point registration of two point clouds: point-to-point (Besl & McKay 1992),
// point-to-plane (Chen & Medioni 1992) and colored ICP (Park, Zhou & Koltun, "Colored Point Cloud
// Registration Revisited", ICCV 2017), solved by Gauss-Newton with iteratively reweighted
// robust kernels, and a coarse-to-fine schedule over voxel-downsampled clouds. Fitness, inlier
// RMSE, the convergence test and the information matrix are defined as Open3D's
// (pipelines/registration), so results can be compared side by side.
#pragma once

#include <Eigen/Core>

#include <span>
#include <vector>

#include "geometry/point_cloud.h"
#include "geometry/rigid3.h"

namespace facet::geometry {

struct IcpOptions {
  enum class Method { kPointToPoint, kPointToPlane, kColored };
  // Robust kernels of the residual r (IRLS weights in geometry/kernels/icp.h).
  enum class RobustKernel { kNone, kHuber, kCauchy, kTukey, kGemanMcClure };

  // Point-to-plane needs normals on the target; colored needs target normals and colours and
  // source colours (intensity = mean of R, G, B).
  Method method = Method::kPointToPlane;
  // Colored ICP: weight lambda of the geometric (point-to-plane) term against 1 - lambda for the
  // photometric one (Open3D's default, in [0, 1]).
  double lambda_geometric = 0.968;
  // Colored ICP: the target's colour gradients are fitted in the tangent plane over at most this
  // many nearest neighbours (>= 4, counting the point itself) within 2 *
  // max_correspondence_distance (Open3D's KDTreeSearchParamHybrid(2 * max_correspondence_distance,
  // 30)).
  int color_gradient_neighbours = 30;
  // Pairs (source point, its nearest target point) farther apart than this are not
  // correspondences (scene units, > 0).
  double max_correspondence_distance = 0.05;
  // Gauss-Newton iterations at most (>= 1).
  int max_iterations = 30;
  // Converged when, between two iterations, fitness changes by less than relative_fitness and
  // inlier RMSE by less than relative_rmse (Open3D's ICPConvergenceCriteria, absolute
  // differences despite the names), or the update's norm |(omega, v)| is below
  // transform_change (radians and scene units). All >= 0.
  double relative_fitness = 1e-6;
  double relative_rmse = 1e-6;
  double transform_change = 1e-9;
  RobustKernel robust_kernel = RobustKernel::kNone;
  // Scale of the robust kernel (scene units, > 0 when a kernel is set).
  double robust_k = 0.01;
  // Shrinks the correspondence distance while iterating, in the spirit of KISS-ICP's adaptive
  // threshold (Vizzo et al., RA-L 2023, sec. III-C; AdaptiveThreshold for sequences): after each
  // correspondence search with distance d (d_0 = max_correspondence_distance), the next search
  // uses d' = clamp(3 * rmse, adaptive_min_distance, d), rmse being the inlier RMSE of the pairs
  // within d - a 3-sigma gate on the current residuals that never grows, so far outliers and
  // wrong pairs drop out as the alignment tightens. The convergence test compares successive
  // iterations at their own distances. Fitness, RMSE and information are reported at
  // max_correspondence_distance, as without the option.
  bool adaptive_distance = false;
  // Floor of the adaptive distance (scene units, > 0 and <= max_correspondence_distance when
  // adaptive_distance is set): about the noise plus sampling spacing of the clouds.
  double adaptive_min_distance = 0.01;

  // Throws facet::Error naming the field out of range.
  void Check() const;
};

struct IcpResult {
  // Maps source points onto the target: x_in_target = target_from_source * x_in_source.
  Rigid3 target_from_source;
  // Correspondences within max_correspondence_distance / source points, at the returned pose.
  double fitness = 0.0;
  // sqrt(mean squared distance of those correspondences); 0 when there are none.
  double inlier_rmse = 0.0;
  // Open3D's GetInformationMatrixFromPointClouds at the returned pose: sum over the
  // correspondences of G^T G, G = [-[q]_x | I] for target point q, in (rotation, translation)
  // order.
  Eigen::Matrix<double, 6, 6> information = Eigen::Matrix<double, 6, 6>::Zero();
  // Gauss-Newton updates applied.
  int iterations = 0;
  // The convergence test passed with correspondences left; false when there is no overlap (no
  // correspondences: fitness 0), too few correspondences to fix the pose, or max_iterations ran
  // out first.
  bool converged = false;
};

// Aligns `source` to `target` from the initial guess `init` (target_from_source). Both clouds are
// copied in Z-order (Morton codes) and nearest neighbours come from a KD-tree over the target,
// each search bounded by the correspondence distance and by the distance to the point's previous
// neighbour (exact nearest neighbours, far fewer nodes visited once the pose settles). The
// correspondence search and the normal-equation sums run in parallel with a deterministic
// reduction: the same inputs give the same result. Colored ICP first fits the target's colour
// gradients (ComputeColorGradients, radius 2 * max_correspondence_distance). Throws
// facet::Error for empty clouds, fewer than 3 source points, non-finite coordinates or normals,
// point-to-plane or colored without target normals, colored without colours, or invalid options.
IcpResult RegisterIcp(const PointCloud& source, const PointCloud& target, const Rigid3& init,
                      const IcpOptions& options);

// Colored ICP's colour gradient of every target point (intensity per scene unit, in the tangent
// plane; zero where the neighbourhood is degenerate or has fewer than 4 points within `radius`),
// as Open3D's InitializePointCloudForColoredICP. Needs normals and colours.
std::vector<Eigen::Vector3d> ComputeColorGradients(const PointCloud& cloud, double radius,
                                                   int max_neighbours);

// One level of a coarse-to-fine schedule.
struct IcpScale {
  // Both clouds are voxel-downsampled with this cell size (VoxelDownsample); 0 = full resolution.
  double voxel_size = 0.0;
  // Replaces IcpOptions::max_correspondence_distance at this level (> 0).
  double max_correspondence_distance = 0.05;
  // Replaces IcpOptions::max_iterations at this level (>= 1).
  int max_iterations = 30;
};

// Coarse to fine: runs RegisterIcp at each scale in order, each from the previous pose (the first
// from `init`), with `options` except for the scale's distance and iterations. Voxel sizes must
// not increase along the schedule (0, full resolution, counts as the finest). The result's pose,
// fitness, RMSE, information and `converged` are those of the last (finest) scale; `iterations`
// counts all scales. Throws facet::Error for an empty schedule or an invalid scale, and as
// RegisterIcp.
IcpResult RegisterIcpMultiScale(const PointCloud& source, const PointCloud& target,
                                const Rigid3& init, std::span<const IcpScale> scales,
                                const IcpOptions& options);

// A three-level schedule for clouds whose points are about `voxel_size` apart (or which should be
// registered at that resolution): voxels 4v, 2v, v with correspondence distances 10v, 4v, 2v and
// 50, 30, 20 iterations (after Open3D's multi-scale colored ICP example). The coarsest distance
// bounds the initial error it can absorb; for larger ones, build the schedule by hand (see
// tests/geometry/icp_multiscale_test.cpp). Throws facet::Error unless voxel_size > 0 and finite.
std::vector<IcpScale> DefaultIcpScales(double voxel_size);

}  // namespace facet::geometry
