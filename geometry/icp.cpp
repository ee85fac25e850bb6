#include "geometry/icp.h"

#include <Eigen/Cholesky>
#include <Eigen/Geometry>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/parallel_reduce.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <utility>

#include "core/error.h"
#include "geometry/detail/twist.h"
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
  FACET_CHECK(lambda_geometric >= 0.0 && lambda_geometric <= 1.0,
              "ICP lambda_geometric must be in [0, 1] (got {})", lambda_geometric);
  FACET_CHECK(color_gradient_neighbours >= 4, "ICP color_gradient_neighbours must be >= 4 (got {})",
              color_gradient_neighbours);
  FACET_CHECK(
      !adaptive_distance || (std::isfinite(adaptive_min_distance) && adaptive_min_distance > 0.0 &&
                             adaptive_min_distance <= max_correspondence_distance),
      "ICP adaptive_min_distance must be in (0, max_correspondence_distance = {}] when "
      "adaptive_distance is set (got {})",
      max_correspondence_distance, adaptive_min_distance);
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

double Intensity(const Eigen::Vector3f& c) {
  return (static_cast<double>(c.x()) + static_cast<double>(c.y()) + static_cast<double>(c.z())) /
         3.0;
}

// Indices of `points` in Z-order (Morton codes of 21 bits per axis over their bounds; ties by
// index): points close in space end up close in the order, so a KD-tree over the target in this
// order reads its leaves from contiguous memory and successive source queries walk similar paths.
std::vector<std::uint32_t> MortonOrder(const std::vector<Eigen::Vector3d>& points) {
  const Bounds3 bounds = ComputeBounds(points);
  const Eigen::Vector3d extent = bounds.Extent().cwiseMax(1e-300);
  const double cells = static_cast<double>((1u << 21) - 1);
  auto spread = [](std::uint64_t x) {  // 21 bits to every third bit
    x &= 0x1fffff;
    x = (x | x << 32) & 0x1f00000000ffff;
    x = (x | x << 16) & 0x1f0000ff0000ff;
    x = (x | x << 8) & 0x100f00f00f00f00f;
    x = (x | x << 4) & 0x10c30c30c30c30c3;
    x = (x | x << 2) & 0x1249249249249249;
    return x;
  };
  std::vector<std::pair<std::uint64_t, std::uint32_t>> keys(points.size());
  for (std::size_t i = 0; i < points.size(); ++i) {
    const Eigen::Vector3d u = (points[i] - bounds.min).cwiseQuotient(extent) * cells;
    keys[i] = {spread(static_cast<std::uint64_t>(u.x())) |
                   spread(static_cast<std::uint64_t>(u.y())) << 1 |
                   spread(static_cast<std::uint64_t>(u.z())) << 2,
               static_cast<std::uint32_t>(i)};
  }
  std::sort(keys.begin(), keys.end());
  std::vector<std::uint32_t> order(points.size());
  for (std::size_t i = 0; i < keys.size(); ++i) order[i] = keys[i].second;
  return order;
}

// Both clouds in Z-order, and a KD-tree over the target's: queries that follow each other in
// the source's order walk similar paths and read nearby memory. Each source point's last
// neighbour is the next search's hint.
struct SortedClouds {
  std::vector<Eigen::Vector3d> source_points, target_points, target_normals;
  std::vector<double> source_intensity, target_intensity;  // colored ICP only
  std::vector<Eigen::Vector3d> target_gradient;            // colored ICP only
  std::unique_ptr<KnnIndex> index;
  std::vector<std::uint32_t> hints;  // per source point: a target point, or KnnIndex::kNoHint

  SortedClouds(const PointCloud& source, const PointCloud& target, bool colored,
               double gradient_radius, int gradient_neighbours) {
    const std::vector<std::uint32_t> source_order = MortonOrder(source.points);
    const std::vector<std::uint32_t> target_order = MortonOrder(target.points);
    for (const std::uint32_t i : source_order) source_points.push_back(source.points[i]);
    for (const std::uint32_t i : target_order) target_points.push_back(target.points[i]);
    if (target.HasNormals()) {
      for (const std::uint32_t i : target_order) target_normals.push_back(target.normals[i]);
    }
    if (colored) {
      const std::vector<Eigen::Vector3d> gradients =
          ComputeColorGradients(target, gradient_radius, gradient_neighbours);
      for (const std::uint32_t i : source_order) {
        source_intensity.push_back(Intensity(source.colors[i]));
      }
      for (const std::uint32_t i : target_order) {
        target_intensity.push_back(Intensity(target.colors[i]));
        target_gradient.push_back(gradients[i]);
      }
    }
    index = std::make_unique<KnnIndex>(target_points);
    hints.assign(source.size(), KnnIndex::kNoHint);
  }
};

// Correspondences within `max_distance` and normal-equation sums of the source under
// `target_from_source`.
kernels::IcpSums AccumulateIcp(SortedClouds& clouds, const Rigid3& target_from_source,
                               const IcpOptions& options, double max_distance) {
  const Eigen::Matrix3d rotation = target_from_source.rotation.toRotationMatrix();
  const Eigen::Vector3d translation = target_from_source.translation;
  const double max_d2 = max_distance * max_distance;
  const auto kernel = static_cast<kernels::IcpKernel>(options.robust_kernel);
  const double k = options.robust_k;
  const IcpOptions::Method method = options.method;
  const double sqrt_geometric = std::sqrt(options.lambda_geometric);
  const double sqrt_photometric = std::sqrt(1.0 - options.lambda_geometric);
  // A fixed grain and the deterministic reduce make the sums, and so the result, reproducible.
  constexpr std::size_t kGrain = 512;
  return oneapi::tbb::parallel_deterministic_reduce(
      oneapi::tbb::blocked_range<std::size_t>(0, clouds.source_points.size(), kGrain),
      kernels::IcpSums{},
      [&](const oneapi::tbb::blocked_range<std::size_t>& range, kernels::IcpSums sums) {
        for (std::size_t i = range.begin(); i != range.end(); ++i) {
          const Eigen::Vector3d p = rotation * clouds.source_points[i] + translation;
          std::uint32_t nearest = 0;
          double d2 = 0.0;
          // Last iteration's neighbour bounds the search (same answer, far fewer nodes visited).
          if (!clouds.index->Nearest(p, max_d2, clouds.hints[i], &nearest, &d2)) continue;
          clouds.hints[i] = nearest;
          const kernels::Vec3 q = ToVec3(clouds.target_points[nearest]);
          switch (method) {
            case IcpOptions::Method::kPointToPlane:
              kernels::AddPointToPlane(ToVec3(p), q, ToVec3(clouds.target_normals[nearest]), kernel,
                                       k, &sums);
              break;
            case IcpOptions::Method::kColored:
              kernels::AddColored(
                  ToVec3(p), clouds.source_intensity[i], q, ToVec3(clouds.target_normals[nearest]),
                  clouds.target_intensity[nearest], ToVec3(clouds.target_gradient[nearest]),
                  sqrt_geometric, sqrt_photometric, kernel, k, &sums);
              break;
            case IcpOptions::Method::kPointToPoint:
              kernels::AddPointToPoint(ToVec3(p), q, kernel, k, &sums);
              break;
          }
        }
        return sums;
      },
      [](kernels::IcpSums a, const kernels::IcpSums& b) {
        kernels::AddSums(b, &a);
        return a;
      });
}

void FillResult(const kernels::IcpSums& sums, std::size_t source_size, IcpResult* result) {
  result->fitness = static_cast<double>(sums.inliers) / static_cast<double>(source_size);
  result->inlier_rmse =
      sums.inliers > 0 ? std::sqrt(sums.squared_distance_sum / static_cast<double>(sums.inliers))
                       : 0.0;
  result->information = detail::SymmetricFromUpper(sums.info);
}

}  // namespace

std::vector<Eigen::Vector3d> ComputeColorGradients(const PointCloud& cloud, double radius,
                                                   int max_neighbours) {
  cloud.Check();
  FACET_CHECK(cloud.HasNormals() && cloud.HasColors(),
              "colour gradients need normals and colours on the cloud");
  FACET_CHECK(std::isfinite(radius) && radius > 0.0,
              "colour gradient radius must be > 0 and finite (got {})", radius);
  FACET_CHECK(max_neighbours >= 4, "colour gradients need max_neighbours >= 4 (got {})",
              max_neighbours);
  std::vector<Eigen::Vector3d> gradients(cloud.size(), Eigen::Vector3d::Zero());
  if (cloud.size() < 4) return gradients;
  const KnnIndex index(cloud.points);
  const double radius2 = radius * radius;
  oneapi::tbb::parallel_for(
      oneapi::tbb::blocked_range<std::size_t>(0, cloud.size(), 256),
      [&](const oneapi::tbb::blocked_range<std::size_t>& range) {
        std::vector<std::uint32_t> neighbours(static_cast<std::size_t>(max_neighbours));
        std::vector<double> d2(neighbours.size());
        for (std::size_t i = range.begin(); i != range.end(); ++i) {
          int found = index.Search(cloud.points[i], max_neighbours, neighbours.data(), d2.data());
          while (found > 0 && d2[static_cast<std::size_t>(found - 1)] >= radius2) --found;
          if (found < 4) continue;
          const kernels::Vec3 v = ToVec3(cloud.points[i]), n = ToVec3(cloud.normals[i]);
          const double intensity = Intensity(cloud.colors[i]);
          kernels::ColorGradientSystem system;
          // The nearest is the point itself (Open3D skips it the same way).
          for (int j = 1; j < found; ++j) {
            const std::uint32_t u = neighbours[static_cast<std::size_t>(j)];
            kernels::AddColorGradientNeighbour(v, n, intensity, ToVec3(cloud.points[u]),
                                               Intensity(cloud.colors[u]), &system);
          }
          kernels::AddColorGradientPlaneRow(n, found - 1, &system);
          kernels::Vec3 g{};
          if (kernels::ColorGradientSolve(system, &g)) gradients[i] = {g.x, g.y, g.z};
        }
      });
  return gradients;
}

IcpResult RegisterIcp(const PointCloud& source, const PointCloud& target, const Rigid3& init,
                      const IcpOptions& options) {
  options.Check();
  CheckCloud(source, "source", 3);
  CheckCloud(target, "target", 3);
  const bool colored = options.method == IcpOptions::Method::kColored;
  const bool plane = options.method == IcpOptions::Method::kPointToPlane || colored;
  FACET_CHECK(!plane || target.HasNormals(),
              "point-to-plane and colored ICP need target normals; run EstimateNormals on the "
              "target or use point-to-point");
  FACET_CHECK(!colored || (target.HasColors() && source.HasColors()),
              "colored ICP needs colours on both clouds (source {}, target {})",
              source.HasColors() ? "has them" : "has none",
              target.HasColors() ? "has them" : "has none");
  FACET_CHECK(init.rotation.coeffs().allFinite() && init.translation.allFinite(),
              "ICP initial transform is not finite");

  SortedClouds clouds(source, target, colored, 2.0 * options.max_correspondence_distance,
                      options.color_gradient_neighbours);
  IcpResult result;
  result.target_from_source = Rigid3(init.rotation.normalized(), init.translation);
  double distance = options.max_correspondence_distance;
  kernels::IcpSums sums = AccumulateIcp(clouds, result.target_from_source, options, distance);
  FillResult(sums, source.size(), &result);
  // Fewer correspondences leave the normal equations rank deficient: 3 non-collinear points fix
  // a rigid motion point to point; point to plane needs at least 6 planes.
  const std::int64_t min_correspondences = plane ? 6 : 3;
  for (int iteration = 0; iteration < options.max_iterations; ++iteration) {
    if (sums.inliers < min_correspondences) break;
    const Eigen::Matrix<double, 6, 6> jtj = detail::SymmetricFromUpper(sums.jtj);
    const Eigen::Matrix<double, 6, 1> jtr = Eigen::Map<const Eigen::Matrix<double, 6, 1>>(sums.jtr);
    const Eigen::LDLT<Eigen::Matrix<double, 6, 6>> ldlt(jtj);
    if (ldlt.info() != Eigen::Success) break;
    const Eigen::Matrix<double, 6, 1> xi = ldlt.solve(-jtr);
    if (!xi.allFinite()) break;
    result.target_from_source = detail::RigidFromTwist(xi) * result.target_from_source;
    ++result.iterations;

    const double previous_fitness = result.fitness, previous_rmse = result.inlier_rmse;
    if (options.adaptive_distance) {
      distance = std::clamp(3.0 * result.inlier_rmse, options.adaptive_min_distance, distance);
    }
    sums = AccumulateIcp(clouds, result.target_from_source, options, distance);
    FillResult(sums, source.size(), &result);
    if ((std::abs(result.fitness - previous_fitness) < options.relative_fitness &&
         std::abs(result.inlier_rmse - previous_rmse) < options.relative_rmse) ||
        xi.norm() < options.transform_change) {
      result.converged = sums.inliers >= min_correspondences;
      break;
    }
  }
  if (distance < options.max_correspondence_distance) {
    FillResult(AccumulateIcp(clouds, result.target_from_source, options,
                             options.max_correspondence_distance),
               source.size(), &result);
  }
  return result;
}

std::vector<IcpScale> DefaultIcpScales(double voxel_size) {
  FACET_CHECK(std::isfinite(voxel_size) && voxel_size > 0.0,
              "DefaultIcpScales needs voxel_size > 0 and finite (got {})", voxel_size);
  return {{4.0 * voxel_size, 10.0 * voxel_size, 50},
          {2.0 * voxel_size, 4.0 * voxel_size, 30},
          {voxel_size, 2.0 * voxel_size, 20}};
}

IcpResult RegisterIcpMultiScale(const PointCloud& source, const PointCloud& target,
                                const Rigid3& init, std::span<const IcpScale> scales,
                                const IcpOptions& options) {
  FACET_CHECK(!scales.empty(), "RegisterIcpMultiScale needs at least one scale");
  for (std::size_t s = 0; s < scales.size(); ++s) {
    const IcpScale& scale = scales[s];
    FACET_CHECK(std::isfinite(scale.voxel_size) && scale.voxel_size >= 0.0,
                "ICP scale {} voxel_size must be >= 0 and finite (got {})", s, scale.voxel_size);
    // 0 (full resolution) is the smallest size, so "not coarser" is simply "not larger".
    FACET_CHECK(s == 0 || scale.voxel_size <= scales[s - 1].voxel_size,
                "ICP scales go coarse to fine: scale {} voxel_size {} is coarser than scale {}'s "
                "({}; 0 is full resolution)",
                s, scale.voxel_size, s - 1, s > 0 ? scales[s - 1].voxel_size : 0.0);
  }
  IcpResult result;
  result.target_from_source = init;
  int iterations = 0;
  for (const IcpScale& scale : scales) {
    IcpOptions level = options;
    level.max_correspondence_distance = scale.max_correspondence_distance;
    level.max_iterations = scale.max_iterations;
    if (level.adaptive_distance) {
      level.adaptive_min_distance =
          std::min(level.adaptive_min_distance, level.max_correspondence_distance);
    }
    if (scale.voxel_size > 0.0) {
      result =
          RegisterIcp(VoxelDownsample(source, scale.voxel_size),
                      VoxelDownsample(target, scale.voxel_size), result.target_from_source, level);
    } else {
      result = RegisterIcp(source, target, result.target_from_source, level);
    }
    iterations += result.iterations;
  }
  result.iterations = iterations;
  return result;
}

}  // namespace facet::geometry
