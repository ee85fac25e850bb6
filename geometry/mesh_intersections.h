// Self-intersection of a triangle mesh: pairs of triangles that cross each other although they
// are not neighbours. Candidate pairs come from a TriangleBvh (box overlap), each tested exactly
// enough (orientation predicates with a rounding filter; Moller 1997 intervals for crossing
// planes, a 2D test for coplanar triangles; geometry/kernels/triangle_queries.h).
//
// Triangles that share an edge (two vertex indices) are never reported: in a mesh they meet
// along that edge. Triangles that share exactly one vertex are reported only when they meet
// somewhere else too (an edge of one passes through the other), e.g. a fold around a vertex.
// Touching counts as intersecting for triangles that share nothing.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "geometry/triangle_mesh.h"

namespace facet::geometry {

struct SelfIntersectionOptions {
  // Stop after this many pairs (>= 1); the count is then a lower bound.
  std::int64_t max_pairs = 1000;

  void Check() const;
};

// Pairs (i, j), i < j, of triangles of `mesh` that intersect, sorted, at most
// options.max_pairs of them (the first ones in that order). Triangles with a repeated vertex
// index or zero area are skipped. Parallel over triangles; O(T log T) for meshes whose triangles
// are small relative to the whole. Throws facet::Error for a mesh without triangles, an index out
// of range or a non-finite vertex.
std::vector<std::pair<std::uint32_t, std::uint32_t>> FindSelfIntersections(
    const TriangleMesh& mesh, const SelfIntersectionOptions& options = {});

}  // namespace facet::geometry
