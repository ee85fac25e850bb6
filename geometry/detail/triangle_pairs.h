// The rule FindSelfIntersections (geometry/mesh_intersections.h) applies to a pair of triangles,
// shared with the decimator's collapse guard so that what one rejects the other would report.
#pragma once

#include <Eigen/Core>

#include <cstdint>

#include "geometry/kernels/triangle_queries.h"

namespace facet::geometry::detail {

using TriangleIndices = Eigen::Matrix<std::uint32_t, 3, 1>;

// Number of vertex indices triangles a and b have in common.
inline int SharedVertices(const TriangleIndices& a, const TriangleIndices& b) {
  int shared = 0;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) shared += a[i] == b[j] ? 1 : 0;
  }
  return shared;
}

// Position (0..2) in t of the first vertex that `other` also uses, -1 if none.
inline int PositionOf(const TriangleIndices& t, const TriangleIndices& other) {
  for (int k = 0; k < 3; ++k) {
    if (t[k] == other[0] || t[k] == other[1] || t[k] == other[2]) return k;
  }
  return -1;
}

// Whether triangles ti (corners a) and tj (corners b), sharing `shared` < 2 vertex indices,
// intersect: with one shared vertex, when the edge opposite it in either triangle passes through
// the other; with none, when they touch at all.
inline bool TrianglePairIntersects(const TriangleIndices& ti, const kernels::Vec3* a,
                                   const TriangleIndices& tj, const kernels::Vec3* b, int shared) {
  if (shared == 1) {
    const int si = PositionOf(ti, tj), sj = PositionOf(tj, ti);
    return kernels::SegmentCrossesTriangle(a[(si + 1) % 3], a[(si + 2) % 3], b[0], b[1], b[2]) ||
           kernels::SegmentCrossesTriangle(b[(sj + 1) % 3], b[(sj + 2) % 3], a[0], a[1], a[2]);
  }
  return kernels::TrianglesIntersect(a, b);
}

}  // namespace facet::geometry::detail
