// Generalized winding number of a triangle mesh or soup (Jacobson et al., SIGGRAPH 2013): the
// signed solid angle of all triangles at a point over 4 pi. 1 inside and 0 outside a closed,
// outward-oriented (counter-clockwise from outside) surface, k inside k overlapping closed
// surfaces, and a smooth, harmonic function away from the triangles of open or self-intersecting
// ones, so `w > 1/2` is a robust inside test for meshes with holes.
//
// Evaluated in O(log n) per point with a BVH whose far nodes contribute a first-order dipole
// expansion (Barill et al., "Fast Winding Numbers for Soups and Clouds", SIGGRAPH 2018). The
// per-point traversal is kernels::mesh_sdf::WindingNumber, usable from CUDA with a copy of
// nodes() and corners().
#pragma once

#include <Eigen/Core>

#include <vector>

#include "geometry/kernels/mesh_sdf.h"
#include "geometry/triangle_mesh.h"

namespace facet::geometry {

class WindingNumberTree {
 public:
  // Nodes at a distance above beta times their radius are expanded rather than summed; larger is
  // slower and more accurate (the expansion's relative error falls as 1 / beta^2).
  static constexpr double kDefaultBeta = 2.0;

  // Builds the BVH (median splits, up to 8 triangles a leaf). Throws facet::Error for a mesh
  // without triangles, with an index out of range, a non-finite vertex, or beta <= 0.
  explicit WindingNumberTree(const TriangleMesh& mesh, double beta = kDefaultBeta);

  // The hierarchical approximation; thread-safe.
  double operator()(const Eigen::Vector3d& q) const;
  // The direct sum over every triangle (O(n); for tests and small meshes).
  double Exact(const Eigen::Vector3d& q) const;

  double beta() const { return beta_; }
  const std::vector<kernels::mesh_sdf::WindingNode>& nodes() const { return nodes_; }
  // 9 doubles per triangle (its three corners), in the order the leaves refer to.
  const std::vector<double>& corners() const { return corners_; }

 private:
  double beta_;
  std::vector<kernels::mesh_sdf::WindingNode> nodes_{};
  std::vector<double> corners_{};
};

}  // namespace facet::geometry
