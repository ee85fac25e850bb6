#include "geometry/icp.h"

#include <Eigen/Cholesky>
#include <Eigen/Geometry>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_reduce.h>

#include <cmath>
#include <cstdint>

#include "core/error.h"
#include "geometry/kernels/icp.h"
#include "geometry/knn_index.h"

namespace facet::geometry {

void IcpOptions::Check() const {
  FACET_CHECK(std::isfinite(max_correspondence_distance) && max_correspondence_distance > 0.0,
              "ICP max_correspondence_distance must be > 0 and finite (got {})",
              max_correspondence_distance);
  FACET_CHECK(max_iterations >= 1, "ICP max_iterations must be >= 1 (got {})", max_iterations);
  FACET_CHECK(std::isfinite(relative_fitness) && relative_fitness >= 0.0,
              "ICP relative_fitness must be >= 0 and finite (got {})", relative_fitness);
  FACET_CHECK(std::isfinite(relative_rmse) && relative_rmse >= 0.0,
              "ICP relative_rmse must be >= 0 and finite (got {})", relative_rmse);
  FACET_CHECK(std::isfinite(transform_change) && transform_change >= 0.0,
              "ICP transform_change must be >= 0 and finite (got {})", transform_change);
  FACET_CHECK(robust_kernel == RobustKernel::kNone || (std::isfinite(robust_k) && robust_k > 0.0),
              "ICP robust_k must be > 0 and finite when a robust kernel is set (got {})", robust_k);
}

namespace {

kernels::Vec3 ToVec3(const Eigen::Vector3d& v) { return {v.x(), v.y(), v.z()}; }

void CheckCloud(const PointCloud& cloud, const char* what, std::size_t min_points) {
  cloud.Check();
  FACET_CHECK(cloud.size() >= min_points,
              "ICP needs at least {} {} points (got {}); register non-empty clouds", min_points,
              what, cloud.size());
  for (std::size_t i = 0; i < cloud.size(); ++i) {
    FACET_CHECK(cloud.points[i].allFinite(),
                "ICP: {} point {} is not finite ({}, {}, {}); drop NaN/Inf points first", what, i,
                cloud.points[i].x(), cloud.points[i].y(), cloud.points[i].z());
  }
  for (std::size_t i = 0; i < cloud.normals.size(); ++i) {
    FACET_CHECK(cloud.normals[i].allFinite(),
                "ICP: {} normal {} is not finite; re-estimate the normals (EstimateNormals)", what,
                i);
  }
}

// Correspondences and normal-equation sums of the source under `target_from_source`.
kernels::IcpSums AccumulateIcp(const PointCloud& source, const PointCloud& target,
                               const KnnIndex& index, const Rigid3& target_from_source,
                               const IcpOptions& options) {
  const Eigen::Matrix3d rotation = target_from_source.rotation.toRotationMatrix();
  const Eigen::Vector3d translation = target_from_source.translation;
  const double max_d2 = options.max_correspondence_distance * options.max_correspondence_distance;
  const auto kernel = static_cast<kernels::IcpKernel>(options.robust_kernel);
  const double k = options.robust_k;
  const bool plane = options.method == IcpOptions::Method::kPointToPlane;
  // A fixed grain and the deterministic reduce make the sums, and so the result, reproducible.
  constexpr std::size_t kGrain = 512;
  return oneapi::tbb::parallel_deterministic_reduce(
      oneapi::tbb::blocked_range<std::size_t>(0, source.size(), kGrain), kernels::IcpSums{},
      [&](const oneapi::tbb::blocked_range<std::size_t>& range, kernels::IcpSums sums) {
        for (std::size_t i = range.begin(); i != range.end(); ++i) {
          const Eigen::Vector3d p = rotation * source.points[i] + translation;
          std::uint32_t nearest = 0;
          double d2 = 0.0;
          if (index.Search(p, 1, &nearest, &d2) != 1 || d2 > max_d2) continue;
          const kernels::Vec3 q = ToVec3(target.points[nearest]);
          if (plane) {
            kernels::AddPointToPlane(ToVec3(p), q, ToVec3(target.normals[nearest]), kernel, k,
                                     &sums);
          } else {
            kernels::AddPointToPoint(ToVec3(p), q, kernel, k, &sums);
          }
        }
        return sums;
      },
      [](kernels::IcpSums a, const kernels::IcpSums& b) {
        kernels::AddSums(b, &a);
        return a;
      });
}

Eigen::Matrix<double, 6, 6> FromUpperTriangle(const double (&upper)[21]) {
  Eigen::Matrix<double, 6, 6> m;
  int e = 0;
  for (int a = 0; a < 6; ++a) {
    for (int b = a; b < 6; ++b) m(a, b) = m(b, a) = upper[e++];
  }
  return m;
}

void FillResult(const kernels::IcpSums& sums, std::size_t source_size, IcpResult* result) {
  result->fitness = static_cast<double>(sums.inliers) / static_cast<double>(source_size);
  result->inlier_rmse =
      sums.inliers > 0 ? std::sqrt(sums.squared_distance_sum / static_cast<double>(sums.inliers))
                       : 0.0;
  result->information = FromUpperTriangle(sums.info);
}

}  // namespace

IcpResult RegisterIcp(const PointCloud& source, const PointCloud& target, const Rigid3& init,
                      const IcpOptions& options) {
  options.Check();
  CheckCloud(source, "source", 3);
  CheckCloud(target, "target", 3);
  const bool plane = options.method == IcpOptions::Method::kPointToPlane;
  FACET_CHECK(!plane || target.HasNormals(),
              "point-to-plane ICP needs target normals; run EstimateNormals on the target or use "
              "point-to-point");
  FACET_CHECK(init.rotation.coeffs().allFinite() && init.translation.allFinite(),
              "ICP initial transform is not finite");

  const KnnIndex index(target.points);
  IcpResult result;
  result.target_from_source = Rigid3(init.rotation.normalized(), init.translation);
  kernels::IcpSums sums = AccumulateIcp(source, target, index, result.target_from_source, options);
  FillResult(sums, source.size(), &result);
  // Fewer correspondences leave the normal equations rank deficient: 3 non-collinear points fix
  // a rigid motion point to point; point to plane needs at least 6 planes.
  const std::int64_t min_correspondences = plane ? 6 : 3;
  for (int iteration = 0; iteration < options.max_iterations; ++iteration) {
    if (sums.inliers < min_correspondences) break;
    const Eigen::Matrix<double, 6, 6> jtj = FromUpperTriangle(sums.jtj);
    const Eigen::Matrix<double, 6, 1> jtr = Eigen::Map<const Eigen::Matrix<double, 6, 1>>(sums.jtr);
    const Eigen::LDLT<Eigen::Matrix<double, 6, 6>> ldlt(jtj);
    if (ldlt.info() != Eigen::Success) break;
    const Eigen::Matrix<double, 6, 1> xi = ldlt.solve(-jtr);
    if (!xi.allFinite()) break;
    // T <- exp(xi) T, with the rotation part exact (angle-axis) and the translation additive.
    const Eigen::Vector3d omega = xi.head<3>();
    const double angle = omega.norm();
    const Eigen::Quaterniond delta_rotation =
        angle > 0.0 ? Eigen::Quaterniond(Eigen::AngleAxisd(angle, omega / angle))
                    : Eigen::Quaterniond::Identity();
    result.target_from_source = Rigid3(delta_rotation, xi.tail<3>()) * result.target_from_source;
    ++result.iterations;

    const double previous_fitness = result.fitness, previous_rmse = result.inlier_rmse;
    sums = AccumulateIcp(source, target, index, result.target_from_source, options);
    FillResult(sums, source.size(), &result);
    if ((std::abs(result.fitness - previous_fitness) < options.relative_fitness &&
         std::abs(result.inlier_rmse - previous_rmse) < options.relative_rmse) ||
        xi.norm() < options.transform_change) {
      result.converged = sums.inliers >= min_correspondences;
      break;
    }
  }
  return result;
}

}  // namespace facet::geometry
