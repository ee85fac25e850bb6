// Isosurface extraction from a scalar field sampled on a regular grid, by marching tetrahedra:
// each cube is split into the six tetrahedra around its main diagonal (Kuhn/Freudenthal split,
// consistent between neighbours), so the extracted surface of a field that is positive on the
// grid's border is closed and watertight, with every vertex shared by its triangles.
// (Marching cubes, with its smaller meshes, arrives with the meshing stage.)
#pragma once

#include <Eigen/Core>

#include <functional>
#include <vector>

#include "geometry/triangle_mesh.h"

namespace facet::geometry {

// Samples f(x, y, z) at the nodes origin + voxel_size * (i, j, k), i < nx, j < ny, k < nz.
struct ScalarGrid {
  Eigen::Vector3d origin = Eigen::Vector3d::Zero();
  double voxel_size = 1.0;
  int nx = 0, ny = 0, nz = 0;
  std::vector<float> values{};  // x fastest: values[(k * ny + j) * nx + i]

  float at(int i, int j, int k) const { return values[(std::size_t(k) * ny + j) * nx + i]; }
  Eigen::Vector3d Node(int i, int j, int k) const {
    return origin + voxel_size * Eigen::Vector3d(i, j, k);
  }
};

// Evaluates `field` at every node of a grid covering [min, max] with the given voxel size
// (in parallel; `field` must be thread-safe).
ScalarGrid SampleGrid(const std::function<float(const Eigen::Vector3d&)>& field,
                      const Eigen::Vector3d& min, const Eigen::Vector3d& max, double voxel_size);

// The surface where the field crosses `iso`. Triangles are oriented so that their right-hand
// normals point towards larger values (outwards for a signed distance, negative inside).
TriangleMesh ExtractIsosurface(const ScalarGrid& grid, float iso = 0.0f);

}  // namespace facet::geometry
