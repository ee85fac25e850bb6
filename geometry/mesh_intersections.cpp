#include "geometry/mesh_intersections.h"

#include <algorithm>

#include "core/error.h"
#include "core/parallel_for.h"
#include "geometry/triangle_bvh.h"

namespace facet::geometry {
namespace {

using kernels::Vec3;

// Triangles are tested in blocks of this many, in order, so that the cap on the number of pairs
// returns the first pairs whatever the thread count, and stops early on a badly broken mesh.
constexpr std::int64_t kBlockTriangles = 1 << 16;

// Number of vertex indices triangles a and b have in common.
int SharedVertices(const Eigen::Matrix<std::uint32_t, 3, 1>& a,
                   const Eigen::Matrix<std::uint32_t, 3, 1>& b) {
  int shared = 0;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) shared += a[i] == b[j] ? 1 : 0;
  }
  return shared;
}

// Position (0..2) in t of the first vertex that `other` also uses, -1 if none.
int PositionOf(const Eigen::Matrix<std::uint32_t, 3, 1>& t,
               const Eigen::Matrix<std::uint32_t, 3, 1>& other) {
  for (int k = 0; k < 3; ++k) {
    if (t[k] == other[0] || t[k] == other[1] || t[k] == other[2]) return k;
  }
  return -1;
}

bool Skipped(const TriangleMesh& mesh, const Eigen::Matrix<std::uint32_t, 3, 1>& t) {
  if (t[0] == t[1] || t[1] == t[2] || t[0] == t[2]) return true;
  const Eigen::Vector3d n =
      (mesh.vertices[t[1]] - mesh.vertices[t[0]]).cross(mesh.vertices[t[2]] - mesh.vertices[t[0]]);
  return n.squaredNorm() == 0.0;
}

}  // namespace

void SelfIntersectionOptions::Check() const {
  FACET_CHECK(max_pairs >= 1, "SelfIntersectionOptions::max_pairs must be at least 1 (got {})",
              max_pairs);
}

std::vector<std::pair<std::uint32_t, std::uint32_t>> FindSelfIntersections(
    const TriangleMesh& mesh, const SelfIntersectionOptions& options) {
  options.Check();
  const TriangleBvh bvh(mesh);  // checks the mesh
  const auto n = static_cast<std::int64_t>(mesh.triangles.size());
  std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs;
  std::vector<std::vector<std::uint32_t>> hits(
      static_cast<std::size_t>(std::min(n, kBlockTriangles)));
  for (std::int64_t block = 0; block < n; block += kBlockTriangles) {
    const std::int64_t count = std::min(kBlockTriangles, n - block);
    ParallelFor(
        count,
        [&](std::int64_t k) {
          std::vector<std::uint32_t>& out = hits[static_cast<std::size_t>(k)];
          out.clear();
          const auto i = static_cast<std::uint32_t>(block + k);
          const auto& ti = mesh.triangles[i];
          if (Skipped(mesh, ti)) return;
          const Vec3* a = bvh.Corners(i);
          Eigen::Vector3d lo, hi;
          for (int axis = 0; axis < 3; ++axis) {
            const double x0 = kernels::Component(a[0], axis), x1 = kernels::Component(a[1], axis),
                         x2 = kernels::Component(a[2], axis);
            lo[axis] = std::min({x0, x1, x2});
            hi[axis] = std::max({x0, x1, x2});
          }
          bvh.ForEachInBox(lo, hi, [&](std::uint32_t j) {
            if (j <= i) return true;
            const auto& tj = mesh.triangles[j];
            const int shared = SharedVertices(ti, tj);
            if (shared >= 2 || Skipped(mesh, tj)) return true;
            const Vec3* b = bvh.Corners(j);
            bool intersect = false;
            if (shared == 1) {
              // The edge opposite the shared vertex, in each triangle, against the other one.
              const int si = PositionOf(ti, tj), sj = PositionOf(tj, ti);
              intersect = kernels::SegmentCrossesTriangle(a[(si + 1) % 3], a[(si + 2) % 3], b[0],
                                                          b[1], b[2]) ||
                          kernels::SegmentCrossesTriangle(b[(sj + 1) % 3], b[(sj + 2) % 3], a[0],
                                                          a[1], a[2]);
            } else {
              intersect = kernels::TrianglesIntersect(a, b);
            }
            if (intersect) out.push_back(j);
            return true;
          });
          std::sort(out.begin(), out.end());
        },
        /*grain=*/64);
    for (std::int64_t k = 0; k < count; ++k) {
      for (const std::uint32_t j : hits[static_cast<std::size_t>(k)]) {
        pairs.emplace_back(static_cast<std::uint32_t>(block + k), j);
        if (static_cast<std::int64_t>(pairs.size()) >= options.max_pairs) return pairs;
      }
    }
  }
  return pairs;
}

}  // namespace facet::geometry
