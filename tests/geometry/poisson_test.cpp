#include "geometry/poisson.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <numbers>
#include <random>

#include "core/error.h"
#include "datasets/ply.h"
#include "geometry/mesh_checks.h"
#include "geometry/normals.h"

namespace facet::geometry {
namespace {

// n points uniformly on the sphere of `radius` about `center`, with outward normals.
PointCloud SpherePoints(std::size_t n, double radius, const Eigen::Vector3d& center,
                        std::uint64_t seed = 1) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> gaussian;
  PointCloud cloud;
  for (std::size_t i = 0; i < n; ++i) {
    const Eigen::Vector3d d =
        Eigen::Vector3d(gaussian(rng), gaussian(rng), gaussian(rng)).normalized();
    cloud.points.push_back(center + radius * d);
    cloud.normals.push_back(d);
  }
  return cloud;
}

TEST(Poisson, SphereIsWatertightAndRound) {
  const double radius = 0.7;
  const Eigen::Vector3d center(0.3, -0.2, 1.0);
  const PointCloud cloud = SpherePoints(20000, radius, center);
  PoissonOptions options;
  options.depth = 6;
  const PoissonResult result = ReconstructPoisson(cloud, options);
  const WatertightReport report = CheckWatertight(result.mesh);
  EXPECT_TRUE(report.watertight) << report.reason;
  EXPECT_EQ(report.components, 1);
  EXPECT_EQ(report.genus, 0);
  // Cells are 1.1 * 1.4 / 64 = 0.024; the surface should sit within a fraction of one.
  double max_error = 0.0, mean_error = 0.0;
  for (const auto& v : result.mesh.vertices) {
    const double e = std::abs((v - center).norm() - radius);
    max_error = std::max(max_error, e);
    mean_error += e;
  }
  mean_error /= double(result.mesh.vertices.size());
  EXPECT_LT(mean_error, 0.1 * result.stats.voxel_size);
  EXPECT_LT(max_error, 0.5 * result.stats.voxel_size);
  // Outward orientation: the signed volume is positive.
  double volume = 0.0;
  for (const auto& t : result.mesh.triangles) {
    volume +=
        (result.mesh.vertices[t[0]] - center)
            .dot((result.mesh.vertices[t[1]] - center).cross(result.mesh.vertices[t[2]] - center)) /
        6.0;
  }
  EXPECT_NEAR(volume, 4.0 / 3.0 * std::numbers::pi * radius * radius * radius, 0.02 * volume);
  ASSERT_EQ(result.vertex_density.size(), result.mesh.vertices.size());
}

}  // namespace
}  // namespace facet::geometry
