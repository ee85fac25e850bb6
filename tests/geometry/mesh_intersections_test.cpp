#include "geometry/mesh_intersections.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "core/error.h"
#include "geometry/kernels/triangle_queries.h"
#include "geometry/mesh_checks.h"
#include "geometry/triangle_bvh.h"
#include "tests/geometry/mesh_test_shapes.h"

namespace facet::geometry {
namespace {

using kernels::Vec3;
using test::Tri;

Vec3 V(const Eigen::Vector3d& p) { return {p.x(), p.y(), p.z()}; }
Eigen::Vector3d E(const Vec3& p) { return {p.x, p.y, p.z}; }

TEST(TriangleQueries, ClosestPointBeatsEveryPointOfTheTriangle) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (int trial = 0; trial < 200; ++trial) {
    const Vec3 a{u(rng), u(rng), u(rng)}, b{u(rng), u(rng), u(rng)}, c{u(rng), u(rng), u(rng)};
    const Vec3 p{2 * u(rng), 2 * u(rng), 2 * u(rng)};
    const Eigen::Vector3d x = E(kernels::ClosestPointOnTriangle(p, a, b, c));
    // x is in the triangle: barycentric coordinates in [0, 1].
    const Eigen::Vector3d ea = E(a), eb = E(b), ec = E(c), ep = E(p);
    const Eigen::Vector3d n = (eb - ea).cross(ec - ea);
    EXPECT_NEAR(n.dot(x - ea), 0.0, 1e-12);
    // No point of a fine barycentric grid over the triangle is closer.
    const double d = (x - ep).norm();
    for (int i = 0; i <= 40; ++i) {
      for (int j = 0; i + j <= 40; ++j) {
        const Eigen::Vector3d q = ea + (i / 40.0) * (eb - ea) + (j / 40.0) * (ec - ea);
        ASSERT_GE((q - ep).norm(), d - 1e-12);
      }
    }
  }
}

TEST(TriangleQueries, TriangleIntersectionCases) {
  const Vec3 t[3] = {{0, 0, 0}, {1, 0, 0}, {0, 1, 0}};
  const Vec3 crossing[3] = {{0.2, 0.2, -1}, {0.3, 0.2, 1}, {0.2, 0.3, 1}};
  const Vec3 above[3] = {{0.2, 0.2, 0.1}, {0.3, 0.2, 1}, {0.2, 0.3, 1}};
  const Vec3 beside[3] = {{2, 2, -1}, {2.1, 2, 1}, {2, 2.1, 1}};  // crosses the plane, not t
  const Vec3 coplanar_overlap[3] = {{0.1, 0.1, 0}, {2, 0.1, 0}, {0.1, 2, 0}};
  const Vec3 coplanar_inside[3] = {{0.1, 0.1, 0}, {0.2, 0.1, 0}, {0.1, 0.2, 0}};
  const Vec3 coplanar_apart[3] = {{1, 1, 0}, {2, 1, 0}, {1, 2, 0}};
  const Vec3 touching_vertex[3] = {{0.25, 0.25, 0}, {1, 1, 1}, {1, 0, 1}};
  EXPECT_TRUE(kernels::TrianglesIntersect(t, crossing));
  EXPECT_TRUE(kernels::TrianglesIntersect(crossing, t));
  EXPECT_FALSE(kernels::TrianglesIntersect(t, above));
  EXPECT_FALSE(kernels::TrianglesIntersect(t, beside));
  EXPECT_TRUE(kernels::TrianglesIntersect(t, coplanar_overlap));
  EXPECT_TRUE(kernels::TrianglesIntersect(t, coplanar_inside));
  EXPECT_TRUE(kernels::TrianglesIntersect(coplanar_inside, t));
  EXPECT_FALSE(kernels::TrianglesIntersect(t, coplanar_apart));
  EXPECT_TRUE(kernels::TrianglesIntersect(t, touching_vertex));
  // The line of the planes meets both triangles, in disjoint intervals.
  const Vec3 s[3] = {{1.5, -1, -1}, {1.5, 2, -1}, {1.0, 0.5, 1}};
  EXPECT_FALSE(kernels::TrianglesIntersect(t, s));
  EXPECT_TRUE(kernels::SegmentCrossesTriangle({0.2, 0.2, -1}, {0.2, 0.2, 1}, t[0], t[1], t[2]));
  EXPECT_FALSE(kernels::SegmentCrossesTriangle({0.2, 0.2, 0.5}, {0.2, 0.2, 1}, t[0], t[1], t[2]));
}

TEST(TriangleBvh, ClosestPointMatchesBruteForce) {
  const TriangleMesh mesh = test::SdfTorus(0.5, 0.2, 0.05);
  const TriangleBvh bvh(mesh);
  ASSERT_EQ(bvh.NumTriangles(), mesh.triangles.size());
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> u(-1.2, 1.2);
  for (int q = 0; q < 300; ++q) {
    const Eigen::Vector3d p(u(rng), u(rng), 0.5 * u(rng));
    double best = std::numeric_limits<double>::infinity();
    for (const auto& t : mesh.triangles) {
      const Vec3 x = kernels::ClosestPointOnTriangle(
          V(p), V(mesh.vertices[t[0]]), V(mesh.vertices[t[1]]), V(mesh.vertices[t[2]]));
      best = std::min(best, (E(x) - p).norm());
    }
    const ClosestPointResult r = bvh.ClosestPoint(p);
    ASSERT_NEAR(r.distance, best, 1e-12);
    EXPECT_NEAR((r.point - p).norm(), r.distance, 1e-12);
    // The point lies on the reported triangle.
    const auto& t = mesh.triangles[r.triangle];
    const Vec3 on = kernels::ClosestPointOnTriangle(V(r.point), V(mesh.vertices[t[0]]),
                                                    V(mesh.vertices[t[1]]), V(mesh.vertices[t[2]]));
    EXPECT_LT((E(on) - r.point).norm(), 1e-12);
    // And the surface is within the extraction error of the analytic torus.
    EXPECT_NEAR(r.distance, std::abs(test::TorusDistance(p, 0.5, 0.2)), 0.02);
  }
}

TEST(TriangleBvh, BoxQueryFindsEveryOverlappingTriangle) {
  const TriangleMesh mesh = test::SdfSphere(0.53, 0.05);
  const TriangleBvh bvh(mesh, TriangleBvhOptions{.leaf_size = 1});
  const Eigen::Vector3d lo(0.1, -0.2, 0.0), hi(0.6, 0.3, 0.2);
  std::vector<std::uint32_t> found;
  bvh.ForEachInBox(lo, hi, [&](std::uint32_t t) {
    found.push_back(t);
    return true;
  });
  std::sort(found.begin(), found.end());
  std::vector<std::uint32_t> expected;
  for (std::uint32_t t = 0; t < mesh.triangles.size(); ++t) {
    Eigen::Vector3d tlo = mesh.vertices[mesh.triangles[t][0]], thi = tlo;
    for (int k = 1; k < 3; ++k) {
      tlo = tlo.cwiseMin(mesh.vertices[mesh.triangles[t][k]]);
      thi = thi.cwiseMax(mesh.vertices[mesh.triangles[t][k]]);
    }
    if ((tlo.array() <= hi.array()).all() && (lo.array() <= thi.array()).all())
      expected.push_back(t);
  }
  EXPECT_FALSE(expected.empty());
  EXPECT_EQ(found, expected);
}

TEST(TriangleBvh, RejectsBadInput) {
  EXPECT_THROW(TriangleBvh(TriangleMesh{}), Error);
  TriangleMesh mesh = test::Cube();
  EXPECT_THROW(TriangleBvh(mesh, TriangleBvhOptions{.leaf_size = 0}), Error);
  mesh.vertices[3].x() = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(TriangleBvh{mesh}, Error);
  mesh = test::Cube();
  mesh.triangles.push_back(Tri(0, 1, 99));
  EXPECT_THROW(TriangleBvh{mesh}, Error);
  const TriangleBvh bvh(test::Cube());
  EXPECT_THROW(bvh.ClosestPoint(Eigen::Vector3d(0, std::nan(""), 0)), Error);
}

TEST(FindSelfIntersections, InterpenetratingBoxesCross) {
  const TriangleMesh a = test::Cube(), b = test::Cube(Eigen::Vector3d(0.5, 0.3, 0.2));
  const TriangleMesh both = test::Append(a, b);
  const auto pairs = FindSelfIntersections(both);
  ASSERT_FALSE(pairs.empty());
  for (const auto& [i, j] : pairs) {
    EXPECT_LT(i, j);
    EXPECT_LT(i, 12u);  // one triangle of each box: each box alone is a clean closed surface
    EXPECT_GE(j, 12u);
  }
  EXPECT_TRUE(FindSelfIntersections(a).empty());
  EXPECT_EQ(FindSelfIntersections(both, {.max_pairs = 3}).size(), 3u);
  // Side by side, apart: no crossing.
  EXPECT_TRUE(
      FindSelfIntersections(test::Append(a, test::Cube(Eigen::Vector3d(1.5, 0, 0)))).empty());
}

TEST(FindSelfIntersections, ClosedSphereAndTorusHaveNone) {
  const TriangleMesh sphere = test::SdfSphere(0.53, 0.02);
  ASSERT_GT(sphere.triangles.size(), 10000u);
  EXPECT_TRUE(FindSelfIntersections(sphere).empty());
  const TriangleMesh torus = test::SdfTorus(0.5, 0.21, 0.02);
  EXPECT_TRUE(FindSelfIntersections(torus).empty());
}

TEST(FindSelfIntersections, VertexPushedThroughTheSurfaceIsFound) {
  // Move one vertex of a sphere far through the opposite side: its fan crosses triangles that
  // share no vertex with it.
  TriangleMesh sphere = test::SdfSphere(0.53, 0.05);
  sphere.vertices[0] = -1.5 * sphere.vertices[0];
  EXPECT_FALSE(FindSelfIntersections(sphere).empty());
}

TEST(FindSelfIntersections, FoldAroundASharedVertexIsFound) {
  // Two triangles sharing vertex 0, the second one's far edge passing through the first.
  TriangleMesh mesh;
  mesh.vertices = {{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {0.5, 0.2, -1}, {0.2, 0.5, 1}};
  mesh.triangles = {Tri(0, 1, 2), Tri(0, 3, 4)};
  EXPECT_EQ(FindSelfIntersections(mesh).size(), 1u);
  // Sharing vertex 0 and nothing else in common: not reported.
  mesh.vertices[3] = {-0.5, -0.2, -1};
  mesh.vertices[4] = {-0.2, -0.5, 1};
  EXPECT_TRUE(FindSelfIntersections(mesh).empty());
}

TEST(FindSelfIntersections, RejectsBadInput) {
  EXPECT_THROW(FindSelfIntersections(TriangleMesh{}), Error);
  TriangleMesh mesh = test::Cube();
  mesh.triangles.push_back(Tri(0, 1, 8));
  EXPECT_THROW(FindSelfIntersections(mesh), Error);
  EXPECT_THROW(FindSelfIntersections(test::Cube(), {.max_pairs = 0}), Error);
}

TEST(CheckWatertight, InterpenetratingBoxesAreSelfIntersecting) {
  const TriangleMesh both = test::Append(test::Cube(), test::Cube(Eigen::Vector3d(0.5, 0.3, 0.2)));
  const WatertightReport report = CheckWatertight(both);
  EXPECT_FALSE(report.watertight);
  EXPECT_GT(report.self_intersections, 0);
  EXPECT_EQ(report.boundary_edges, 0);
  EXPECT_EQ(report.genus, -1);
  EXPECT_NE(report.reason.find("self-intersecting"), std::string::npos) << report.reason;
  // Topologically it is two closed boxes: with the check off, watertight.
  const WatertightReport topology_only = CheckWatertight(both, {.self_intersections = false});
  EXPECT_TRUE(topology_only.watertight) << topology_only.reason;
  EXPECT_EQ(topology_only.self_intersections, 0);
  EXPECT_EQ(topology_only.genus, 0);
  // The cap bounds the count.
  EXPECT_EQ(CheckWatertight(both, {.max_self_intersection_pairs = 2}).self_intersections, 2);
  EXPECT_THROW(CheckWatertight(both, {.max_self_intersection_pairs = 0}), Error);
}

TEST(CheckWatertight, ClosedSphereAndTorusDoNotSelfIntersect) {
  WatertightReport report = CheckWatertight(test::SdfSphere(0.53, 0.03));
  EXPECT_TRUE(report.watertight) << report.reason;
  EXPECT_EQ(report.self_intersections, 0);
  EXPECT_EQ(report.genus, 0);
  report = CheckWatertight(test::SdfTorus(0.5, 0.21, 0.03));
  EXPECT_TRUE(report.watertight) << report.reason;
  EXPECT_EQ(report.self_intersections, 0);
  EXPECT_EQ(report.genus, 1);
}

}  // namespace
}  // namespace facet::geometry
