#include "geometry/triangle_mesh.h"

#include <gtest/gtest.h>

namespace facet::geometry {
namespace {

// The unit cube [0, 1]^3 with outward-facing counter-clockwise triangles.
TriangleMesh UnitCube() {
  TriangleMesh mesh;
  for (int i = 0; i < 8; ++i) mesh.vertices.emplace_back(i & 1, (i >> 1) & 1, (i >> 2) & 1);
  const int faces[12][3] = {{0, 2, 1}, {1, 2, 3}, {4, 5, 6}, {5, 7, 6}, {0, 1, 4}, {1, 5, 4},
                            {2, 6, 3}, {3, 6, 7}, {0, 4, 2}, {2, 4, 6}, {1, 3, 5}, {3, 7, 5}};
  for (const auto& f : faces) mesh.triangles.emplace_back(f[0], f[1], f[2]);
  return mesh;
}

TEST(TriangleMesh, AreaAndOutwardNormalsOfACube) {
  TriangleMesh mesh = UnitCube();
  EXPECT_NO_THROW(mesh.Check());
  EXPECT_NEAR(mesh.SurfaceArea(), 6.0, 1e-12);
  mesh.ComputeVertexNormals();
  for (std::size_t i = 0; i < mesh.vertices.size(); ++i) {
    // Each corner's normal points away from the cube's centre.
    const Eigen::Vector3d out = (mesh.vertices[i] - Eigen::Vector3d::Constant(0.5)).normalized();
    EXPECT_GT(mesh.vertex_normals[i].dot(out), 0.9) << "vertex " << i;
    EXPECT_NEAR(mesh.vertex_normals[i].norm(), 1.0, 1e-12);
  }
}

TEST(TriangleMesh, CheckRejectsIndicesOutOfRange) {
  TriangleMesh mesh = UnitCube();
  mesh.triangles.emplace_back(0, 1, 8);
  EXPECT_THROW(mesh.Check(), Error);
}

}  // namespace
}  // namespace facet::geometry
