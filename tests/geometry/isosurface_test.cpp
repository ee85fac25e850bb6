#include "geometry/isosurface.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "common/mesh_checks.h"

namespace facet::geometry {
namespace {

TEST(Isosurface, SphereIsClosedOutwardAndOnTheSurface) {
  const double r = 0.5, h = 0.05;
  const ScalarGrid grid =
      SampleGrid([r](const Eigen::Vector3d& p) { return static_cast<float>(p.norm() - r); },
                 Eigen::Vector3d::Constant(-0.7), Eigen::Vector3d::Constant(0.7), h);
  const TriangleMesh mesh = ExtractIsosurface(grid);
  ASSERT_GT(mesh.triangles.size(), 1000u);
  EXPECT_EQ(testing::CountBoundaryOrNonManifoldEdges(mesh), 0u);
  EXPECT_EQ(testing::CountComponents(mesh), 1u);
  // Linear interpolation of the distance along an edge of length <= h*sqrt(3) errs by at most
  // about (h*sqrt(3))^2 / (8 (r - h)) for a sphere: ~2e-3 here.
  for (const auto& v : mesh.vertices) EXPECT_NEAR(v.norm(), r, 2.2e-3);
  // Inscribed polyhedron: slightly less than the ball's volume, within a few percent.
  const double volume = testing::SignedVolume(mesh);
  const double ball = 4.0 / 3.0 * std::numbers::pi * r * r * r;
  EXPECT_LT(volume, ball);
  EXPECT_GT(volume, 0.97 * ball);
  for (const auto& t : mesh.triangles) {
    const Eigen::Vector3d n = (mesh.vertices[t[1]] - mesh.vertices[t[0]])
                                  .cross(mesh.vertices[t[2]] - mesh.vertices[t[0]]);
    // Every face looks away from the centre (faces through grid nodes lying exactly on the
    // sphere can have zero area; they have no direction to check).
    if (n.norm() > 1e-12) {
      ASSERT_GT(n.dot(mesh.vertices[t[0]]), 0.0);
    }
  }
}

TEST(Isosurface, TorusKeepsItsHole) {
  const ScalarGrid grid = SampleGrid(
      [](const Eigen::Vector3d& p) {
        return static_cast<float>(std::hypot(std::hypot(p.x(), p.y()) - 0.5, p.z()) - 0.2);
      },
      Eigen::Vector3d(-0.8, -0.8, -0.3), Eigen::Vector3d(0.8, 0.8, 0.3), 0.04);
  const TriangleMesh mesh = ExtractIsosurface(grid);
  EXPECT_EQ(testing::CountBoundaryOrNonManifoldEdges(mesh), 0u);
  // Euler characteristic V - E + F = 0 for genus 1 (E = 3F/2 for a closed triangle mesh).
  const auto v = static_cast<long>(mesh.vertices.size()),
             f = static_cast<long>(mesh.triangles.size());
  EXPECT_EQ(v - 3 * f / 2 + f, 0);
}

TEST(Isosurface, RejectsDegenerateGrids) {
  ScalarGrid grid;
  grid.nx = grid.ny = grid.nz = 1;
  grid.values = {0.0f};
  EXPECT_THROW(ExtractIsosurface(grid), Error);
  EXPECT_THROW(SampleGrid([](const Eigen::Vector3d&) { return 0.0f; }, Eigen::Vector3d::Zero(),
                          Eigen::Vector3d::Ones(), 0.0),
               Error);
}

}  // namespace
}  // namespace facet::geometry
