#include "geometry/mesh_intersections.h"

#include <algorithm>

#include "core/error.h"
#include "core/parallel_for.h"
#include "geometry/detail/triangle_pairs.h"
#include "geometry/triangle_bvh.h"

namespace facet::geometry {
namespace {

using kernels::Vec3;

// Triangles are tested in blocks of this many, in order, so that the cap on the number of pairs
// returns the first pairs whatever the thread count, and stops early on a badly broken mesh.
constexpr std::int64_t kBlockTriangles = 1 << 16;

using detail::SharedVertices;

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
            const bool intersect = detail::TrianglePairIntersects(ti, a, tj, b, shared);
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
