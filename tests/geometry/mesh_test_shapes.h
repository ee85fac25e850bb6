// Closed test meshes shared by the geometry tests: a cube, an icosphere, and spheres and
// tori extracted from their signed distance functions (geometry/isosurface.h).
#pragma once

#include <Eigen/Core>

#include <cmath>
#include <map>
#include <numbers>
#include <utility>
#include <vector>

#include "geometry/isosurface.h"
#include "geometry/triangle_mesh.h"

namespace facet::geometry::test {

using Tri = Eigen::Matrix<std::uint32_t, 3, 1>;

// Icosahedron subdivided `levels` times, vertices on the sphere (centre, radius), outward.
inline TriangleMesh Icosphere(int levels, double radius,
                              const Eigen::Vector3d& centre = Eigen::Vector3d::Zero()) {
  const double g = std::numbers::phi;
  TriangleMesh mesh;
  mesh.vertices = {{-1, g, 0},  {1, g, 0},  {-1, -g, 0}, {1, -g, 0}, {0, -1, g},  {0, 1, g},
                   {0, -1, -g}, {0, 1, -g}, {g, 0, -1},  {g, 0, 1},  {-g, 0, -1}, {-g, 0, 1}};
  mesh.triangles = {Tri(0, 11, 5), Tri(0, 5, 1),  Tri(0, 1, 7),   Tri(0, 7, 10), Tri(0, 10, 11),
                    Tri(1, 5, 9),  Tri(5, 11, 4), Tri(11, 10, 2), Tri(10, 7, 6), Tri(7, 1, 8),
                    Tri(3, 9, 4),  Tri(3, 4, 2),  Tri(3, 2, 6),   Tri(3, 6, 8),  Tri(3, 8, 9),
                    Tri(4, 9, 5),  Tri(2, 4, 11), Tri(6, 2, 10),  Tri(8, 6, 7),  Tri(9, 8, 1)};
  for (auto& v : mesh.vertices) v.normalize();
  for (auto& t : mesh.triangles) {  // outward, whatever the order of the list above
    const Eigen::Vector3d& p = mesh.vertices[t[0]];
    if ((mesh.vertices[t[1]] - p).cross(mesh.vertices[t[2]] - p).dot(p) < 0) std::swap(t[1], t[2]);
  }
  for (int level = 0; level < levels; ++level) {
    std::map<std::pair<std::uint32_t, std::uint32_t>, std::uint32_t> midpoints;
    auto midpoint = [&](std::uint32_t a, std::uint32_t b) {
      const auto key = std::minmax(a, b);
      const auto [it, inserted] =
          midpoints.try_emplace(key, static_cast<std::uint32_t>(mesh.vertices.size()));
      if (inserted) mesh.vertices.push_back((mesh.vertices[a] + mesh.vertices[b]).normalized());
      return it->second;
    };
    std::vector<Tri> finer;
    for (const auto& t : mesh.triangles) {
      const std::uint32_t ab = midpoint(t[0], t[1]), bc = midpoint(t[1], t[2]),
                          ca = midpoint(t[2], t[0]);
      finer.insert(finer.end(),
                   {Tri(t[0], ab, ca), Tri(t[1], bc, ab), Tri(t[2], ca, bc), Tri(ab, bc, ca)});
    }
    mesh.triangles = std::move(finer);
  }
  for (auto& v : mesh.vertices) v = centre + radius * v;
  return mesh;
}

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
