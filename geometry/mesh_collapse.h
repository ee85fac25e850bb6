// CollapsibleMesh: the edge-collapse machinery shared by DecimateQuadric and
// RemoveDegenerateTriangles (internal to geometry/, not part of its interface).
//
// A triangle list plus, per vertex, the list of its triangles (vertex-triangle adjacency, with
// dead triangles dropped lazily). A collapse (a, b) -> p moves a to p, rewires b's triangles to a
// and kills the (one or two) triangles that had both. It is legal when it keeps the surface a
// 2-manifold with the same topology — the link condition of Dey, Edelsbrunner, Guha and Nekhayev,
// "Topology Preserving Edge Contraction", 1999: the common neighbours of a and b are exactly the
// vertices opposite the edge — and when no remaining triangle flips or becomes a sliver.
#pragma once

#include <Eigen/Core>

#include <cstdint>
#include <vector>

#include "geometry/triangle_mesh.h"

namespace facet::geometry::detail {

struct CollapseLimits {
  // Smallest allowed cosine between a triangle's normal before and after the collapse.
  double min_normal_cos = 0.5;
  // Smallest allowed quality of a changed triangle (unless it was already lower).
  double min_quality = 0.05;
};

class CollapsibleMesh {
 public:
  // Takes the mesh's vertices, triangles and colours (normals are dropped; Release() leaves them
  // to the caller). Triangles must not repeat an index.
  explicit CollapsibleMesh(TriangleMesh&& mesh);

  std::size_t NumVertices() const { return positions_.size(); }
  std::size_t LiveTriangles() const { return live_triangles_; }
  bool VertexAlive(std::uint32_t v) const { return vertex_alive_[v] != 0; }
  bool TriangleAlive(std::uint32_t t) const { return triangle_alive_[t] != 0; }
  const Eigen::Vector3d& Position(std::uint32_t v) const { return positions_[v]; }
  const Eigen::Matrix<std::uint32_t, 3, 1>& Triangle(std::uint32_t t) const {
    return triangles_[t];
  }
  std::size_t NumTriangles() const { return triangles_.size(); }
  // A vertex on an edge used by a single triangle (at construction; collapses keep it so).
  bool OnBoundary(std::uint32_t v) const { return boundary_[v] != 0; }

  // The live triangles around v (the list is compacted on the way).
  const std::vector<std::uint32_t>& TrianglesOf(std::uint32_t v);
  // The vertices sharing a live triangle with v, sorted, without v.
  void NeighboursOf(std::uint32_t v, std::vector<std::uint32_t>& out);

  // Whether collapsing the edge (a, b) into one vertex at p keeps the topology (link condition,
  // boundary rules, no vertex of valence < 3 in a closed neighbourhood) and passes `limits`
  // (triangles that were degenerate before are exempt from the normal test).
  bool CanCollapse(std::uint32_t a, std::uint32_t b, const Eigen::Vector3d& p,
                   const CollapseLimits& limits);
  // Collapses b into a, which moves to p and takes `color` (ignored without colours). Returns
  // the number of triangles removed. Call only after CanCollapse(a, b, p, ...) returned true.
  int Collapse(std::uint32_t a, std::uint32_t b, const Eigen::Vector3d& p,
               const Eigen::Vector3f& color);

  bool HasColors() const { return !colors_.empty(); }
  const Eigen::Vector3f& Color(std::uint32_t v) const { return colors_[v]; }

  // The mesh of the live triangles and the vertices they use (renumbered in order), with
  // colours; normals recomputed when `normals` is set.
  TriangleMesh Release(bool normals);

 private:
  std::vector<Eigen::Vector3d> positions_;
  std::vector<Eigen::Vector3f> colors_;
  std::vector<Eigen::Matrix<std::uint32_t, 3, 1>> triangles_;
  std::vector<std::vector<std::uint32_t>> vertex_triangles_;
  std::vector<std::uint8_t> vertex_alive_, triangle_alive_, boundary_;
  std::size_t live_triangles_ = 0;
  // NeighboursOf for a vertex whose triangle list is already compact.
  void CompactNeighbours(std::uint32_t v, std::vector<std::uint32_t>& out) const;

  std::vector<std::uint32_t> scratch_a_, scratch_b_;  // neighbour lists for CanCollapse
};

// 4 sqrt(3) area / (sum of squared edge lengths): 1 for an equilateral triangle, 0 when flat.
double TriangleQuality(const Eigen::Vector3d& p0, const Eigen::Vector3d& p1,
                       const Eigen::Vector3d& p2);

}  // namespace facet::geometry::detail
