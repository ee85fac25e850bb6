// Closed test meshes shared by the mesh processing and intersection tests: a cube, and spheres and
// tori extracted from their signed distance functions (geometry/isosurface.h).
#pragma once

#include <Eigen/Core>

#include <cmath>

#include "geometry/isosurface.h"
#include "geometry/triangle_mesh.h"

namespace facet::geometry::test {

using Tri = Eigen::Matrix<std::uint32_t, 3, 1>;

// The cube [0, size]^3 + offset, vertex i at the bits (x, y, z) of i, 12 outward triangles.
inline TriangleMesh Cube(const Eigen::Vector3d& offset = Eigen::Vector3d::Zero(),
                         double size = 1.0) {
  TriangleMesh mesh;
  for (int i = 0; i < 8; ++i) {
    mesh.vertices.push_back(offset + size * Eigen::Vector3d(i & 1, (i >> 1) & 1, (i >> 2) & 1));
  }
  const int quads[6][4] = {{0, 2, 3, 1}, {4, 5, 7, 6}, {0, 1, 5, 4},
                           {2, 6, 7, 3}, {0, 4, 6, 2}, {1, 3, 7, 5}};
  for (const auto& q : quads) {
    mesh.triangles.push_back(Tri(q[0], q[1], q[2]));
    mesh.triangles.push_back(Tri(q[0], q[2], q[3]));
  }
  return mesh;
}

// Appends b's vertices and triangles to a.
inline TriangleMesh Append(TriangleMesh a, const TriangleMesh& b) {
  const auto offset = static_cast<std::uint32_t>(a.vertices.size());
  a.vertices.insert(a.vertices.end(), b.vertices.begin(), b.vertices.end());
  for (const auto& t : b.triangles) a.triangles.push_back(t + Tri::Constant(offset));
  if (a.HasVertexColors() && b.HasVertexColors()) {
    a.vertex_colors.insert(a.vertex_colors.end(), b.vertex_colors.begin(), b.vertex_colors.end());
  }
  return a;
}

// Grid origins are shifted by these fractions of a voxel so that no grid node lies exactly on a
// test surface (a node on the surface makes marching tetrahedra emit coincident vertices).
inline Eigen::Vector3d GridShift(double voxel) {
  return voxel * Eigen::Vector3d(0.3183, 0.2718, 0.1414);
}

// Sphere of radius r around `center` from its signed distance, marching tetrahedra at `voxel`.
inline TriangleMesh SdfSphere(double r, double voxel,
                              const Eigen::Vector3d& center = Eigen::Vector3d::Zero()) {
  const ScalarGrid grid = SampleGrid(
      [r, center](const Eigen::Vector3d& p) { return static_cast<float>((p - center).norm() - r); },
      center - Eigen::Vector3d::Constant(r + 2 * voxel) - GridShift(voxel),
      center + Eigen::Vector3d::Constant(r + 2 * voxel), voxel);
  return ExtractIsosurface(grid);
}

// Signed distance of the torus around z with major radius R and minor radius r (Hart 1996).
inline double TorusDistance(const Eigen::Vector3d& p, double major, double minor) {
  return std::hypot(std::hypot(p.x(), p.y()) - major, p.z()) - minor;
}

inline TriangleMesh SdfTorus(double major, double minor, double voxel) {
  const double extent = major + minor + 2 * voxel;
  const ScalarGrid grid = SampleGrid(
      [=](const Eigen::Vector3d& p) { return static_cast<float>(TorusDistance(p, major, minor)); },
      Eigen::Vector3d(-extent, -extent, -minor - 2 * voxel) - GridShift(voxel),
      Eigen::Vector3d(extent, extent, minor + 2 * voxel), voxel);
  return ExtractIsosurface(grid);
}

}  // namespace facet::geometry::test
