// Open3D 0.16 as an independent oracle for the watertightness of facet's meshes:
// open3d::geometry::TriangleMesh::IsWatertight (edge-manifold without boundary, vertex-manifold,
// not self-intersecting) must agree with our CheckWatertight on every mesh the meshing stage
// produces, and on broken meshes. Open3D is a test dependency only (DESIGN.md).
#include <gtest/gtest.h>
#include <open3d/geometry/TriangleMesh.h>

#include <cmath>
#include <memory>
#include <random>

#include "geometry/isosurface.h"
#include "geometry/marching_cubes.h"
#include "geometry/mesh_checks.h"

namespace facet::geometry {
namespace {

std::shared_ptr<open3d::geometry::TriangleMesh> ToOpen3d(const TriangleMesh& mesh) {
  auto out = std::make_shared<open3d::geometry::TriangleMesh>();
  out->vertices_ = mesh.vertices;
  out->triangles_.reserve(mesh.triangles.size());
  for (const auto& t : mesh.triangles) out->triangles_.emplace_back(t.cast<int>());
  return out;
}

void ExpectBothWatertight(const TriangleMesh& mesh, const std::string& what) {
  ASSERT_FALSE(mesh.triangles.empty()) << what;
  const WatertightReport ours = CheckWatertight(mesh);
  EXPECT_TRUE(ours.watertight) << what << ": " << ours.reason;
  const auto theirs = ToOpen3d(mesh);
  EXPECT_TRUE(theirs->IsEdgeManifold(false)) << what;
  EXPECT_TRUE(theirs->IsVertexManifold()) << what;
  EXPECT_TRUE(theirs->IsWatertight()) << what;
  EXPECT_TRUE(theirs->IsOrientable()) << what;
}

TEST(Open3dOracle, MarchingCubesSurfacesAreWatertight) {
  const ScalarGrid sphere =
      SampleGrid([](const Eigen::Vector3d& p) { return float(p.norm() - 0.5); },
                 Eigen::Vector3d::Constant(-0.7), Eigen::Vector3d::Constant(0.7), 0.06);
  ExpectBothWatertight(MarchingCubes(sphere), "sphere");
  const ScalarGrid torus = SampleGrid(
      [](const Eigen::Vector3d& p) {
        return float(std::hypot(std::hypot(p.x(), p.y()) - 0.5, p.z()) - 0.2);
      },
      Eigen::Vector3d(-0.8, -0.8, -0.3), Eigen::Vector3d(0.8, 0.8, 0.3), 0.05);
  ExpectBothWatertight(MarchingCubes(torus), "torus");
  // Grid nodes exactly on the surface (the torus above has some) and random fields, which put
  // every ambiguous face between neighbouring cells and loops of up to 12 vertices: still
  // closed, manifold and free of self-intersections.
  for (std::uint32_t seed = 0; seed < 10; ++seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> value(-1.0f, 1.0f);
    ScalarGrid grid;
    grid.nx = grid.ny = grid.nz = 10;
    grid.values.assign(1000, 1.0f);
    for (int k = 1; k < 9; ++k) {
      for (int j = 1; j < 9; ++j) {
        for (int i = 1; i < 9; ++i) grid.values[(k * 10 + j) * 10 + i] = value(rng);
      }
    }
    ExpectBothWatertight(MarchingCubes(grid), "random field " + std::to_string(seed));
  }
}

TEST(Open3dOracle, AgreesThatBrokenMeshesAreNotWatertight) {
  const ScalarGrid sphere =
      SampleGrid([](const Eigen::Vector3d& p) { return float(p.norm() - 0.5); },
                 Eigen::Vector3d::Constant(-0.7), Eigen::Vector3d::Constant(0.7), 0.1);
  TriangleMesh holed = MarchingCubes(sphere);
  holed.triangles.pop_back();
  EXPECT_FALSE(CheckWatertight(holed).watertight);
  EXPECT_FALSE(ToOpen3d(holed)->IsWatertight());
}

}  // namespace
}  // namespace facet::geometry
