// Iterative closest point registration of two point clouds: point-to-point (Besl & McKay 1992)
// and point-to-plane (Chen & Medioni 1992), solved by Gauss-Newton with iteratively reweighted
// robust kernels. Fitness, inlier RMSE, the convergence test and the information matrix are
// defined as Open3D's (pipelines/registration), so results can be compared side by side.
#pragma once

#include <Eigen/Core>

#include "geometry/point_cloud.h"
#include "geometry/rigid3.h"

namespace facet::geometry {

struct IcpOptions {
  enum class Method { kPointToPoint, kPointToPlane };
  // Robust kernels of the residual r (IRLS weights in geometry/kernels/icp.h).
  enum class RobustKernel { kNone, kHuber, kCauchy, kTukey, kGemanMcClure };

  // Point-to-plane needs normals on the target.
  Method method = Method::kPointToPlane;
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

// Aligns `source` to `target` from the initial guess `init` (target_from_source). Nearest
// neighbours from a KD-tree over the target, the correspondence search and the normal-equation
// sums in parallel (deterministic reduction: the same inputs give the same result). Throws
// facet::Error for empty clouds, fewer than 3 source points, non-finite coordinates or normals,
// point-to-plane without target normals, or invalid options.
IcpResult RegisterIcp(const PointCloud& source, const PointCloud& target, const Rigid3& init,
                      const IcpOptions& options);

}  // namespace facet::geometry
