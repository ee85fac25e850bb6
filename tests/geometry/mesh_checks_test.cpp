#include "geometry/mesh_checks.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <numbers>
#include <utility>

#include "core/error.h"
#include "geometry/isosurface.h"
#include "mesh_test_shapes.h"

namespace facet::geometry {
namespace {

using Tri = Eigen::Matrix<std::uint32_t, 3, 1>;

// The unit cube [0, 1]^3 + offset, vertex i at the bits (x, y, z) of i, 12 outward triangles.
TriangleMesh Cube(const Eigen::Vector3d& offset = Eigen::Vector3d::Zero()) {
  TriangleMesh mesh;
  for (int i = 0; i < 8; ++i)
    mesh.vertices.push_back(offset + Eigen::Vector3d(i & 1, (i >> 1) & 1, (i >> 2) & 1));
  const int quads[6][4] = {{0, 2, 3, 1}, {4, 5, 7, 6}, {0, 1, 5, 4},
                           {2, 6, 7, 3}, {0, 4, 6, 2}, {1, 3, 7, 5}};
  for (const auto& q : quads) {
    mesh.triangles.push_back(Tri(q[0], q[1], q[2]));
    mesh.triangles.push_back(Tri(q[0], q[2], q[3]));
  }
  return mesh;
}

// Appends `b` to `a`; b's vertex i is a's vertex shared[i] when listed there.
TriangleMesh Merge(TriangleMesh a, const TriangleMesh& b,
                   const std::map<std::uint32_t, std::uint32_t>& shared = {}) {
  std::vector<std::uint32_t> map(b.vertices.size());
  for (std::uint32_t i = 0; i < b.vertices.size(); ++i) {
    const auto it = shared.find(i);
    if (it != shared.end()) {
      map[i] = it->second;
    } else {
      map[i] = static_cast<std::uint32_t>(a.vertices.size());
      a.vertices.push_back(b.vertices[i]);
    }
  }
  for (const auto& t : b.triangles) a.triangles.push_back(Tri(map[t[0]], map[t[1]], map[t[2]]));
  return a;
}

using test::Icosphere;

// Torus around z, major radius 1, minor radius 0.3, as an n_u x n_v grid of quads.
TriangleMesh ParametricTorus(std::uint32_t n_u, std::uint32_t n_v) {
  TriangleMesh mesh;
  for (std::uint32_t i = 0; i < n_u; ++i) {
    for (std::uint32_t j = 0; j < n_v; ++j) {
      const double u = 2 * std::numbers::pi * i / n_u, v = 2 * std::numbers::pi * j / n_v;
      mesh.vertices.emplace_back((1 + 0.3 * std::cos(v)) * std::cos(u),
                                 (1 + 0.3 * std::cos(v)) * std::sin(u), 0.3 * std::sin(v));
    }
  }
  auto id = [&](std::uint32_t i, std::uint32_t j) { return (i % n_u) * n_v + (j % n_v); };
  for (std::uint32_t i = 0; i < n_u; ++i) {
    for (std::uint32_t j = 0; j < n_v; ++j) {
      mesh.triangles.push_back(Tri(id(i, j), id(i + 1, j), id(i + 1, j + 1)));
      mesh.triangles.push_back(Tri(id(i, j), id(i + 1, j + 1), id(i, j + 1)));
    }
  }
  return mesh;
}

void ExpectClosed(const WatertightReport& report, std::int64_t chi, std::int64_t genus) {
  EXPECT_TRUE(report.watertight) << report.reason;
  EXPECT_TRUE(report.reason.empty());
  EXPECT_EQ(report.boundary_edges, 0);
  EXPECT_EQ(report.non_manifold_edges, 0);
  EXPECT_EQ(report.non_manifold_vertices, 0);
  EXPECT_EQ(report.inconsistently_oriented_edges, 0);
  EXPECT_EQ(report.euler_characteristic, chi);
  EXPECT_EQ(report.genus, genus);
}

TEST(CheckWatertight, CubeIsClosedWithGenusZero) {
  const WatertightReport report = CheckWatertight(Cube());
  ExpectClosed(report, 2, 0);
  EXPECT_EQ(report.components, 1);
  EXPECT_EQ(report.degenerate_triangles, 0);
}

TEST(CheckWatertight, IcosphereIsClosedWithGenusZero) {
  const TriangleMesh sphere = Icosphere(3, 1.0);
  ASSERT_EQ(sphere.triangles.size(), 1280u);
  ExpectClosed(CheckWatertight(sphere), 2, 0);
}

TEST(CheckWatertight, IsosurfaceSphereIsClosedWithGenusZero) {
  const double r = 0.53;  // no grid node lies on this sphere (112.36 is no sum of 3 squares)
  const ScalarGrid grid =
      SampleGrid([r](const Eigen::Vector3d& p) { return static_cast<float>(p.norm() - r); },
                 Eigen::Vector3d::Constant(-0.7), Eigen::Vector3d::Constant(0.7), 0.05);
  const WatertightReport report = CheckWatertight(ExtractIsosurface(grid));
  ExpectClosed(report, 2, 0);
  EXPECT_EQ(report.components, 1);
}

TEST(CheckWatertight, TorusHasGenusOne) {
  ExpectClosed(CheckWatertight(ParametricTorus(24, 12)), 0, 1);
  // The isosurface of a torus' signed distance (Hart, "Sphere tracing", 1996): the marching
  // tetrahedra give the same topology.
  const ScalarGrid grid = SampleGrid(
      [](const Eigen::Vector3d& p) {
        const double ring = std::hypot(p.x(), p.y()) - 0.5;
        return static_cast<float>(std::hypot(ring, p.z()) - 0.21);
      },
      Eigen::Vector3d(-0.8, -0.8, -0.3), Eigen::Vector3d(0.8, 0.8, 0.3), 0.05);
  ExpectClosed(CheckWatertight(ExtractIsosurface(grid)), 0, 1);
}

TEST(CheckWatertight, ComponentsAddUp) {
  // Two disjoint cubes: chi 4, genus 0; a cube and a torus: chi 2, genus 1.
  WatertightReport report = CheckWatertight(Merge(Cube(), Cube(Eigen::Vector3d(3, 0, 0))));
  ExpectClosed(report, 4, 0);
  EXPECT_EQ(report.components, 2);
  report = CheckWatertight(Merge(Cube(Eigen::Vector3d(5, 0, 0)), ParametricTorus(16, 8)));
  ExpectClosed(report, 2, 1);
  EXPECT_EQ(report.components, 2);
}

TEST(CheckWatertight, MissingTriangleLeavesBoundaryEdges) {
  TriangleMesh mesh = Cube();
  mesh.triangles.pop_back();
  const WatertightReport report = CheckWatertight(mesh);
  EXPECT_FALSE(report.watertight);
  EXPECT_EQ(report.boundary_edges, 3);
  EXPECT_EQ(report.genus, -1);
  EXPECT_EQ(report.euler_characteristic, 8 - 18 + 11);
  EXPECT_NE(report.reason.find("boundary"), std::string::npos) << report.reason;
}

TEST(CheckWatertight, FlippedTriangleIsInconsistentlyOriented) {
  TriangleMesh mesh = Cube();
  std::swap(mesh.triangles[4][1], mesh.triangles[4][2]);
  const WatertightReport report = CheckWatertight(mesh);
  EXPECT_FALSE(report.watertight);
  EXPECT_EQ(report.boundary_edges, 0);
  EXPECT_EQ(report.inconsistently_oriented_edges, 3);
  EXPECT_EQ(report.euler_characteristic, 2);
  EXPECT_EQ(report.genus, -1);
  EXPECT_NE(report.reason.find("orientation"), std::string::npos) << report.reason;
}

TEST(CheckWatertight, BowTieVertexIsNonManifold) {
  // A second cube whose corner 0 is the first cube's corner 7 = (1, 1, 1).
  const WatertightReport report =
      CheckWatertight(Merge(Cube(), Cube(Eigen::Vector3d::Ones()), {{0u, 7u}}));
  EXPECT_FALSE(report.watertight);
  EXPECT_EQ(report.non_manifold_vertices, 1);
  EXPECT_EQ(report.non_manifold_edges, 0);
  EXPECT_EQ(report.boundary_edges, 0);
  EXPECT_EQ(report.components, 2);  // triangles connect through edges, not the shared vertex
  EXPECT_NE(report.reason.find("non-manifold vertex"), std::string::npos) << report.reason;
}

TEST(CheckWatertight, ThreeTrianglesOnAnEdgeAreNonManifold) {
  TriangleMesh mesh;
  mesh.vertices = {{0, 0, 0}, {1, 0, 0}, {0.5, 1, 0}, {0.5, -1, 0}, {0.5, 0, 1}};
  mesh.triangles = {Tri(0, 1, 2), Tri(1, 0, 3), Tri(0, 1, 4)};
  const WatertightReport report = CheckWatertight(mesh);
  EXPECT_FALSE(report.watertight);
  EXPECT_EQ(report.non_manifold_edges, 1);
  EXPECT_EQ(report.boundary_edges, 6);
  EXPECT_EQ(report.non_manifold_vertices, 0);
  EXPECT_EQ(report.components, 1);
  EXPECT_NE(report.reason.find("non-manifold edge"), std::string::npos) << report.reason;
}

TEST(CheckWatertight, DegenerateTrianglesAreCounted) {
  // A repeated index breaks the topology.
  TriangleMesh mesh = Cube();
  mesh.triangles.push_back(Tri(0, 0, 7));
  WatertightReport report = CheckWatertight(mesh);
  EXPECT_EQ(report.degenerate_triangles, 1);
  EXPECT_FALSE(report.watertight);
  EXPECT_EQ(report.euler_characteristic, 2);  // the bad triangle stays out of the count
  EXPECT_NE(report.reason.find("repeat"), std::string::npos) << report.reason;
  // Three distinct collinear vertices: zero area.
  TriangleMesh sliver;
  sliver.vertices = {{2, 0, 0}, {3, 0, 0}, {4, 0, 0}};
  sliver.triangles = {Tri(0, 1, 2)};
  report = CheckWatertight(Merge(Cube(), sliver));
  EXPECT_EQ(report.degenerate_triangles, 1);
  EXPECT_EQ(report.boundary_edges, 3);
  EXPECT_EQ(report.components, 2);
}

TEST(CheckWatertight, UnreferencedVerticesAreIgnored) {
  TriangleMesh mesh = Cube();
  mesh.vertices.emplace_back(9, 9, 9);
  ExpectClosed(CheckWatertight(mesh), 2, 0);
}

TEST(CheckWatertight, RejectsBadInput) {
  EXPECT_THROW(CheckWatertight(TriangleMesh{}), Error);
  TriangleMesh mesh = Cube();
  mesh.triangles.push_back(Tri(0, 1, 8));
  EXPECT_THROW(CheckWatertight(mesh), Error);
}

TEST(SampleSurface, IsUniformByAreaAndOnTheSurface) {
  TriangleMesh mesh;  // two triangles in z = 0 of areas 0.5 and 1.5
  mesh.vertices = {{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {2, 0, 0}, {5, 0, 0}, {2, 1, 0}};
  mesh.triangles = {Tri(0, 1, 2), Tri(3, 4, 5)};
  const auto points = SampleSurface(mesh, 40000, 3);
  int first = 0;
  for (const auto& p : points) {
    ASSERT_EQ(p.z(), 0.0);
    const bool in_first = p.x() >= 0 && p.y() >= 0 && p.x() + p.y() <= 1 + 1e-12;
    const bool in_second = p.x() >= 2 && p.y() >= 0 && (p.x() - 2) / 3 + p.y() <= 1 + 1e-12;
    ASSERT_TRUE(in_first || in_second) << p.transpose();
    first += in_first;
  }
  // Binomial(40000, 0.25): standard deviation ~0.0022 of the fraction.
  EXPECT_NEAR(first / 40000.0, 0.25, 0.01);
}

TEST(CompareSurfaces, PointSetsMatchTheDefinitions) {
  const std::vector<Eigen::Vector3d> a = {{0, 0, 0}};
  const std::vector<Eigen::Vector3d> b = {{1, 0, 0}, {0, 3, 0}};
  const SurfaceDistance d = CompareSurfaces(a, b, 2.0);
  EXPECT_DOUBLE_EQ(d.accuracy, 1.0);
  EXPECT_DOUBLE_EQ(d.completeness, 2.0);
  EXPECT_DOUBLE_EQ(d.chamfer, 1.5);
  EXPECT_DOUBLE_EQ(d.precision, 1.0);
  EXPECT_DOUBLE_EQ(d.recall, 0.5);
  EXPECT_DOUBLE_EQ(d.f_score, 2.0 * 0.5 / 1.5);
}

TEST(CompareSurfaces, IdenticalMeshesAreCloseAtTheSampleSpacing) {
  const TriangleMesh sphere = Icosphere(4, 1.0);
  const std::size_t samples = 50000;
  const SurfaceDistance d = CompareSurfaces(sphere, sphere, 0.05, samples, 1);
  // Nearest-neighbour distance between independent uniform samples of density n / A averages
  // 1 / (2 sqrt(n / A)) (Clark and Evans, 1954): bound it by twice that.
  const double spacing = std::sqrt(sphere.SurfaceArea() / samples);
  EXPECT_GT(d.chamfer, 0.0);
  EXPECT_LT(d.chamfer, spacing);
  EXPECT_NEAR(d.accuracy, d.completeness, 0.2 * spacing);
  EXPECT_DOUBLE_EQ(d.f_score, 1.0);
}

TEST(CompareSurfaces, ConcentricSpheresAreTheirGapApart) {
  const TriangleMesh inner = Icosphere(5, 1.0), outer = Icosphere(5, 1.01);
  const SurfaceDistance near = CompareSurfaces(inner, outer, 0.02);
  EXPECT_NEAR(near.chamfer, 0.01, 0.002);
  EXPECT_GT(near.f_score, 0.999);
  // Every distance is at least the gap, minus the facets' sag (~1e-4 at this subdivision).
  const SurfaceDistance far = CompareSurfaces(inner, outer, 0.005);
  EXPECT_EQ(far.precision, 0.0);
  EXPECT_EQ(far.recall, 0.0);
  EXPECT_EQ(far.f_score, 0.0);
}

TEST(CompareSurfaces, IsDeterministicForASeed) {
  const TriangleMesh a = Icosphere(2, 1.0), b = Icosphere(2, 1.05);
  const SurfaceDistance x = CompareSurfaces(a, b, 0.06, 5000, 7);
  const SurfaceDistance y = CompareSurfaces(a, b, 0.06, 5000, 7);
  const SurfaceDistance z = CompareSurfaces(a, b, 0.06, 5000, 8);
  EXPECT_EQ(x.chamfer, y.chamfer);
  EXPECT_EQ(x.f_score, y.f_score);
  EXPECT_NE(x.chamfer, z.chamfer);
}

TEST(CompareSurfaces, RejectsBadInput) {
  const TriangleMesh cube = Cube();
  EXPECT_THROW(CompareSurfaces(TriangleMesh{}, cube, 0.1), Error);
  EXPECT_THROW(CompareSurfaces(cube, TriangleMesh{}, 0.1), Error);
  EXPECT_THROW(CompareSurfaces(cube, cube, 0.0), Error);
  EXPECT_THROW(CompareSurfaces(cube, cube, -1.0), Error);
  EXPECT_THROW(CompareSurfaces(cube, cube, 0.1, 0), Error);
  TriangleMesh flat;  // all triangles degenerate: nothing to sample
  flat.vertices = {{0, 0, 0}, {1, 0, 0}, {2, 0, 0}};
  flat.triangles = {Tri(0, 1, 2)};
  EXPECT_THROW(CompareSurfaces(flat, cube, 0.1), Error);
  const std::vector<Eigen::Vector3d> none, one = {{0, 0, 0}};
  EXPECT_THROW(CompareSurfaces(none, one, 0.1), Error);
  EXPECT_THROW(CompareSurfaces(one, none, 0.1), Error);
  EXPECT_THROW(CompareSurfaces(one, one, 0.0), Error);
}

}  // namespace
}  // namespace facet::geometry
