// TriangleBvh: a bounding volume hierarchy over the triangles of a mesh, for closest-point queries
// (distance from a point to the surface) and box overlap queries (candidate pairs for
// self-intersection). Axis-aligned boxes, split at the median centroid along the longest axis of
// the centroids' bounds: a balanced tree of depth log2(T / leaf_size), built in O(T log T) with
// the two halves of every large node built in parallel.
//
// The tree keeps its own copy of the triangles' corners, so the mesh may change or go away after
// construction; triangle ids in results are indices into the mesh's `triangles` at build time.
#pragma once

#include <Eigen/Core>

#include <cstdint>
#include <functional>
#include <vector>

#include "geometry/kernels/triangle_queries.h"
#include "geometry/triangle_mesh.h"

namespace facet::geometry {

struct TriangleBvhOptions {
  // Largest number of triangles in a leaf (1 to 64).
  int leaf_size = 4;

  void Check() const;
};

struct ClosestPointResult {
  double distance = 0.0;       // Euclidean distance from the query to `point`
  std::uint32_t triangle = 0;  // the triangle `point` lies on
  Eigen::Vector3d point{};     // the closest point of the surface
};

class TriangleBvh {
 public:
  // Throws facet::Error for a mesh without triangles, with an index out of range, with a
  // non-finite vertex used by a triangle, or with 2^31 triangles or more.
  explicit TriangleBvh(const TriangleMesh& mesh, const TriangleBvhOptions& options = {});

  std::size_t NumTriangles() const { return corners_.size() / 3; }

  // The point of the surface closest to `query` (ties go to the lowest triangle id among those
  // visited first). Thread-safe; O(log T) for typical meshes.
  ClosestPointResult ClosestPoint(const Eigen::Vector3d& query) const;

  // Calls `visit(triangle)` for every triangle whose bounding box overlaps the closed box
  // [lo, hi]; stops early when `visit` returns false. Thread-safe.
  void ForEachInBox(const Eigen::Vector3d& lo, const Eigen::Vector3d& hi,
                    const std::function<bool(std::uint32_t)>& visit) const;

  // The three corners of triangle `t`, as stored in the tree.
  const kernels::Vec3* Corners(std::uint32_t t) const { return &corners_[3 * std::size_t{t}]; }

 private:
  struct Node {
    float lo[3], hi[3];  // bounds, rounded outwards to float
    // Leaf: triangles order_[first, first + count); inner (count == 0): children at this node's
    // index + 1 and `first`.
    std::uint32_t first = 0;
    std::uint32_t count = 0;
  };

  void Build(std::uint32_t node, std::uint32_t begin, std::uint32_t end,
             const std::vector<float>& centroids);
  std::uint32_t SubtreeSize(std::uint32_t triangles) const;

  int leaf_size_ = 4;
  std::vector<kernels::Vec3> corners_;  // 3 per triangle, in mesh order
  std::vector<std::uint32_t> order_;    // triangle ids in leaf order
  std::vector<Node> nodes_;             // preorder: the root is nodes_[0]
};

}  // namespace facet::geometry
