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

double SignedVolume(const TriangleMesh& mesh) {
  double volume = 0.0;
  for (const auto& t : mesh.triangles) {
    volume += mesh.vertices[t[0]].dot(mesh.vertices[t[1]].cross(mesh.vertices[t[2]])) / 6.0;
  }
  return volume;
}

TEST(Poisson, InwardNormalsAreDetectedAndTheSurfaceStillFacesOutwards) {
  PointCloud cloud = SpherePoints(8000, 1.0, Eigen::Vector3d::Zero());
  for (auto& n : cloud.normals) n = -n;
  PoissonOptions options;
  options.depth = 5;
  const PoissonResult result = ReconstructPoisson(cloud, options);
  EXPECT_TRUE(result.stats.reversed_normals);
  EXPECT_TRUE(CheckWatertight(result.mesh).watertight);
  EXPECT_NEAR(SignedVolume(result.mesh), 4.0 / 3.0 * std::numbers::pi, 0.05 * 4.0);
}

TEST(Poisson, SameMeshWhateverTheThreadCount) {
  const PointCloud cloud = SpherePoints(5000, 1.0, Eigen::Vector3d(1, 2, 3));
  PoissonOptions options;
  options.depth = 5;
  options.threads = 1;
  const PoissonResult one = ReconstructPoisson(cloud, options);
  options.threads = 2;
  const PoissonResult two = ReconstructPoisson(cloud, options);
  ASSERT_EQ(one.mesh.vertices.size(), two.mesh.vertices.size());
  ASSERT_EQ(one.mesh.triangles, two.mesh.triangles);
  for (std::size_t i = 0; i < one.mesh.vertices.size(); ++i)
    EXPECT_EQ(one.mesh.vertices[i], two.mesh.vertices[i]);
}

TEST(Poisson, DensityTrimmingRemovesTheSurfaceInventedOverAHole) {
  // A sphere without its top cap (z > 0.5): Poisson closes the hole with a smooth lid whose
  // vertices have no samples nearby; trimming by density removes the lid and opens the mesh.
  PointCloud full = SpherePoints(20000, 1.0, Eigen::Vector3d::Zero());
  PointCloud cloud;
  for (std::size_t i = 0; i < full.size(); ++i) {
    if (full.points[i].z() > 0.5) continue;
    cloud.points.push_back(full.points[i]);
    cloud.normals.push_back(full.normals[i]);
  }
  PoissonOptions options;
  options.depth = 6;
  const PoissonResult closed = ReconstructPoisson(cloud, options);
  EXPECT_TRUE(CheckWatertight(closed.mesh).watertight);
  auto highest = [](const TriangleMesh& mesh) {
    double z = -1e9;
    for (const auto& v : mesh.vertices) z = std::max(z, v.z());
    return z;
  };
  EXPECT_GT(highest(closed.mesh), 0.6);  // the lid
  options.density_trim_quantile = 0.15;
  const PoissonResult trimmed = ReconstructPoisson(cloud, options);
  ASSERT_EQ(trimmed.vertex_density.size(), trimmed.mesh.vertices.size());
  const WatertightReport report = CheckWatertight(trimmed.mesh);
  EXPECT_FALSE(report.watertight);
  EXPECT_GT(report.boundary_edges, 0);
  // What is left lies where the samples were: below the cut, up to the reach of the density
  // (a trilinear splat on the lattice one level coarser here, depth 5: two of its cells, four
  // voxels), instead of the lid's 0.87.
  EXPECT_LT(highest(trimmed.mesh), 0.5 + 4.0 * trimmed.stats.voxel_size);
}

TEST(Poisson, RejectsBadInput) {
  PoissonOptions options;
  options.depth = 4;
  EXPECT_THROW(ReconstructPoisson(PointCloud{}, options), Error);
  PointCloud no_normals = SpherePoints(100, 1.0, Eigen::Vector3d::Zero());
  no_normals.normals.clear();
  EXPECT_THROW(ReconstructPoisson(no_normals, options), Error);
  PointCloud all_nan = SpherePoints(100, 1.0, Eigen::Vector3d::Zero());
  for (std::size_t i = 0; i < all_nan.size(); ++i) {
    (i % 2 ? all_nan.points[i].y() : all_nan.normals[i].x()) =
        i % 3 ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  }
  EXPECT_THROW(ReconstructPoisson(all_nan, options), Error);
  PointCloud identical;
  identical.points.assign(50, Eigen::Vector3d(1, 2, 3));
  identical.normals.assign(50, Eigen::Vector3d(0, 0, 1));
  EXPECT_THROW(ReconstructPoisson(identical, options), Error);
  PointCloud zero_normals = SpherePoints(100, 1.0, Eigen::Vector3d::Zero());
  for (auto& n : zero_normals.normals) n.setZero();
  EXPECT_THROW(ReconstructPoisson(zero_normals, options), Error);
  const PointCloud fine = SpherePoints(100, 1.0, Eigen::Vector3d::Zero());
  for (auto bad :
       {+[](PoissonOptions& o) { o.depth = 1; }, +[](PoissonOptions& o) { o.depth = 14; },
        +[](PoissonOptions& o) { o.screening = -1; }, +[](PoissonOptions& o) { o.scale = 0.9; },
        +[](PoissonOptions& o) { o.band = 1; },
        +[](PoissonOptions& o) { o.samples_per_node = 0.0; },
        +[](PoissonOptions& o) { o.density_trim_quantile = 1.0; },
        +[](PoissonOptions& o) { o.threads = -1; }}) {
    PoissonOptions o = options;
    bad(o);
    EXPECT_THROW(ReconstructPoisson(fine, o), Error);
  }
}

TEST(Poisson, DropsAndCountsNonFinitePoints) {
  // A scanner's NaN returns among valid points: they are dropped and counted, not fatal.
  PointCloud cloud = SpherePoints(8000, 1.0, Eigen::Vector3d::Zero());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (std::size_t i = 0; i < 300; i += 3) cloud.points[i] = Eigen::Vector3d::Constant(nan);
  for (std::size_t i = 1; i < 60; i += 3)
    cloud.normals[i].z() = std::numeric_limits<double>::infinity();
  PoissonOptions options;
  options.depth = 5;
  const PoissonResult result = ReconstructPoisson(cloud, options);
  EXPECT_EQ(result.stats.nonfinite_points, 100 + 20);
  EXPECT_EQ(result.stats.dropped_points, 0);
  const WatertightReport report = CheckWatertight(result.mesh);
  EXPECT_TRUE(report.watertight) << report.reason;
  EXPECT_EQ(report.components, 1);
  for (const auto& v : result.mesh.vertices) ASSERT_TRUE(v.allFinite());
  EXPECT_NEAR(SignedVolume(result.mesh), 4.0 / 3.0 * std::numbers::pi, 0.05 * 4.0);
}

TEST(Poisson, SparseSamplesGiveOneClosedSurfaceWithoutDeeperLattice) {
  // 12000 points on the unit sphere are 0.03 apart; at depth 8 cells are 2.2 / 256 = 0.0086, a
  // quarter of that. Splatted at the finest level, each sample would be an isolated spike of the
  // field and screening would dent the surface around it (bubbles, handles). Adaptive splatting
  // puts the samples at depth 8 - log4(1.5 * 14 cells^2) = 5.8, and the lattice stops there.
  const PointCloud cloud = SpherePoints(12000, 1.0, Eigen::Vector3d::Zero(), 3);
  PoissonOptions options;
  options.depth = 8;
  const PoissonResult result = ReconstructPoisson(cloud, options);
  EXPECT_NEAR(result.stats.mean_splat_depth, 5.8, 0.2);
  EXPECT_LT(result.stats.depth, 8);
  // The cube's side is 1.1 times the points' extent, just under 2.
  const double voxel = 2.2 / double(1 << result.stats.depth);
  EXPECT_NEAR(result.stats.voxel_size, voxel, 1e-3 * voxel);
  const WatertightReport report = CheckWatertight(result.mesh);
  EXPECT_TRUE(report.watertight) << report.reason;
  EXPECT_EQ(report.components, 1);
  EXPECT_EQ(report.genus, 0);
  double mean_error = 0.0, max_error = 0.0;
  for (const auto& v : result.mesh.vertices) {
    const double e = std::abs(v.norm() - 1.0);
    mean_error += e;
    max_error = std::max(max_error, e);
  }
  mean_error /= double(result.mesh.vertices.size());
  EXPECT_LT(mean_error, 0.1 * result.stats.voxel_size);
  EXPECT_LT(max_error, 0.5 * result.stats.voxel_size);
}

// The Stanford bunny scan (../shared/data/stanford-bunny, skipped when absent): the mesh's
// vertices with area-weighted vertex normals. Its triangles are clockwise seen from outside, so
// those normals point inwards (the reconstruction detects and reverses them).
std::filesystem::path BunnyPath() {
  return std::filesystem::path(FACET_SOURCE_DIR "/../shared/data/stanford-bunny/bun_zipper.ply");
}

PointCloud BunnyCloud(const TriangleMesh& bunny) {
  PointCloud cloud;
  cloud.points = bunny.vertices;
  cloud.normals = bunny.vertex_normals;
  return cloud;
}

TEST(Poisson, BunnyIsOneClosedSurfaceCloserToTheScanThanOpen3d) {
  if (!std::filesystem::exists(BunnyPath())) GTEST_SKIP() << "no " << BunnyPath();
  TriangleMesh bunny = datasets::ReadMeshPly(BunnyPath());
  bunny.ComputeVertexNormals();
  const PoissonResult result = ReconstructPoisson(BunnyCloud(bunny));  // depth 8
  const WatertightReport report = CheckWatertight(result.mesh);
  EXPECT_TRUE(report.watertight) << report.reason;
  EXPECT_EQ(report.components, 1);
  EXPECT_EQ(report.genus, 0);
  const double diagonal = ComputeBounds(bunny.vertices).Extent().norm();
  // The samples of bench/mesh/poisson_vs_open3d (200000 per mesh, seed 7), so that the figures
  // compare. Issue 6 asks for 0.3% of the diagonal. Measured: 0.0002907 (0.1162%), of which
  // 0.0002672 (0.1068%) is the floor of the metric (the scan against its own independent
  // samples) and nearly all the rest the lids over the scan's holes. Open3D's Poisson (depth 8,
  // same points and normals) measured 0.0002911 to 0.0002926 over several runs.
  const SurfaceDistance d = CompareSurfaces(result.mesh, bunny, 0.001 * diagonal, 200000, 7);
  EXPECT_LT(d.chamfer, 0.003 * diagonal);
  EXPECT_LT(d.chamfer, 0.0002911);
}

TEST(Poisson, BunnyDeeperThanItsSamplesResolveIsStillOneClosedSurface) {
  // At depth 10 the finest cells are 0.17 mm, a seventh of the scan's point spacing: the
  // lattice stops where the samples do (depth 8 here) instead of denting the surface around
  // each sample.
  if (!std::filesystem::exists(BunnyPath())) GTEST_SKIP() << "no " << BunnyPath();
  TriangleMesh bunny = datasets::ReadMeshPly(BunnyPath());
  bunny.ComputeVertexNormals();
  PoissonOptions options;
  options.depth = 10;
  const PoissonResult result = ReconstructPoisson(BunnyCloud(bunny), options);
  EXPECT_LT(result.stats.depth, 10);
  const WatertightReport report = CheckWatertight(result.mesh);
  EXPECT_TRUE(report.watertight) << report.reason;
  EXPECT_EQ(report.components, 1);
  EXPECT_EQ(report.genus, 0);
}

TEST(Poisson, BunnyFromEstimatedAndOrientedNormals) {
  if (!std::filesystem::exists(BunnyPath())) GTEST_SKIP() << "no " << BunnyPath();
  const TriangleMesh bunny = datasets::ReadMeshPly(BunnyPath());
  PointCloud cloud;
  cloud.points = bunny.vertices;
  EstimateNormals(cloud);
  OrientNormalsConsistently(cloud);
  const PoissonResult result = ReconstructPoisson(cloud);
  EXPECT_FALSE(result.stats.reversed_normals);  // oriented outwards
  const WatertightReport report = CheckWatertight(result.mesh);
  EXPECT_TRUE(report.watertight) << report.reason;
  const double diagonal = ComputeBounds(bunny.vertices).Extent().norm();
  const SurfaceDistance d = CompareSurfaces(result.mesh, bunny, 0.001 * diagonal);
  EXPECT_LT(d.chamfer, 0.003 * diagonal);
}

}  // namespace
}  // namespace facet::geometry
