#include "geometry/mesh_collapse.h"

#include <algorithm>
#include <cmath>
#include <iterator>

#include "core/error.h"

namespace facet::geometry::detail {

double TriangleQuality(const Eigen::Vector3d& p0, const Eigen::Vector3d& p1,
                       const Eigen::Vector3d& p2) {
  const double sum = (p1 - p0).squaredNorm() + (p2 - p1).squaredNorm() + (p0 - p2).squaredNorm();
  if (!(sum > 0.0)) return 0.0;
  // 4 sqrt(3) area = 2 sqrt(3) |cross|.
  return 2.0 * std::sqrt(3.0) * (p1 - p0).cross(p2 - p0).norm() / sum;
}

CollapsibleMesh::CollapsibleMesh(TriangleMesh&& mesh)
    : positions_(std::move(mesh.vertices)),
      colors_(std::move(mesh.vertex_colors)),
      triangles_(std::move(mesh.triangles)) {
  const std::size_t n = positions_.size();
  vertex_triangles_.resize(n);
  vertex_alive_.assign(n, 1);
  triangle_alive_.assign(triangles_.size(), 1);
  boundary_.assign(n, 0);
  live_triangles_ = triangles_.size();
  std::vector<std::uint32_t> valence(n, 0);
  for (const auto& t : triangles_) {
    for (int k = 0; k < 3; ++k) ++valence[t[k]];
  }
  for (std::size_t v = 0; v < n; ++v) vertex_triangles_[v].reserve(valence[v]);
  // Undirected edges sorted, to mark the vertices of edges not shared by exactly two triangles.
  std::vector<std::uint64_t> edges;
  edges.reserve(3 * triangles_.size());
  for (std::uint32_t t = 0; t < triangles_.size(); ++t) {
    const auto& tri = triangles_[t];
    FACET_CHECK(tri[0] != tri[1] && tri[1] != tri[2] && tri[0] != tri[2],
                "edge collapse needs triangles with distinct vertices; triangle {} is ({}, {}, {})",
                t, tri[0], tri[1], tri[2]);
    for (int k = 0; k < 3; ++k) {
      vertex_triangles_[tri[k]].push_back(t);
      const std::uint64_t lo = std::min(tri[k], tri[(k + 1) % 3]);
      const std::uint64_t hi = std::max(tri[k], tri[(k + 1) % 3]);
      edges.push_back((lo << 32) | hi);
    }
  }
  std::sort(edges.begin(), edges.end());
  for (std::size_t begin = 0; begin < edges.size();) {
    std::size_t end = begin + 1;
    while (end < edges.size() && edges[end] == edges[begin]) ++end;
    if (end - begin != 2) {
      boundary_[edges[begin] >> 32] = 1;
      boundary_[edges[begin] & 0xffffffffu] = 1;
    }
    begin = end;
  }
  for (std::size_t v = 0; v < n; ++v) vertex_alive_[v] = valence[v] > 0 ? 1 : 0;
}

const std::vector<std::uint32_t>& CollapsibleMesh::TrianglesOf(std::uint32_t v) {
  auto& list = vertex_triangles_[v];
  list.erase(std::remove_if(list.begin(), list.end(),
                            [this](std::uint32_t t) { return triangle_alive_[t] == 0; }),
             list.end());
  return list;
}

void CollapsibleMesh::NeighboursOf(std::uint32_t v, std::vector<std::uint32_t>& out) {
  TrianglesOf(v);
  CompactNeighbours(v, out);
}

void CollapsibleMesh::CompactNeighbours(std::uint32_t v, std::vector<std::uint32_t>& out) const {
  out.clear();
  for (const std::uint32_t t : vertex_triangles_[v]) {
    for (int k = 0; k < 3; ++k) {
      if (triangles_[t][k] != v) out.push_back(triangles_[t][k]);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
}

bool CollapsibleMesh::CanCollapse(std::uint32_t a, std::uint32_t b, const Eigen::Vector3d& p,
                                  const CollapseLimits& limits) {
  if (a == b || !vertex_alive_[a] || !vertex_alive_[b]) return false;
  // The triangles on the edge and their opposite vertices.
  std::uint32_t opposite[2];
  int shared = 0;
  // Compact both lists once; nothing dies until the collapse itself.
  const std::vector<std::uint32_t>& around_a = TrianglesOf(a);
  const std::vector<std::uint32_t>& around_b = TrianglesOf(b);
  for (const std::uint32_t t : around_a) {
    const auto& tri = triangles_[t];
    if (tri[0] != b && tri[1] != b && tri[2] != b) continue;
    if (shared == 2) return false;  // non-manifold edge
    opposite[shared++] =
        tri[0] != a && tri[0] != b ? tri[0] : (tri[1] != a && tri[1] != b ? tri[1] : tri[2]);
  }
  if (shared == 0) return false;  // not an edge
  // An interior edge between two boundary vertices would pinch the surface into a bow tie.
  if (shared == 2 && boundary_[a] && boundary_[b]) return false;
  if (shared == 1 && !(boundary_[a] && boundary_[b])) return false;
  // Link condition: the common neighbours are exactly the opposite vertices.
  CompactNeighbours(a, scratch_a_);
  CompactNeighbours(b, scratch_b_);
  std::size_t common = 0, merged = 0;
  for (std::size_t i = 0, j = 0; i < scratch_a_.size() || j < scratch_b_.size();) {
    if (j == scratch_b_.size() || (i < scratch_a_.size() && scratch_a_[i] < scratch_b_[j])) {
      ++i;
    } else if (i == scratch_a_.size() || scratch_b_[j] < scratch_a_[i]) {
      ++j;
    } else {
      const std::uint32_t w = scratch_a_[i];
      if (w != opposite[0] && (shared == 1 || w != opposite[1])) return false;
      ++common;
      ++i;
      ++j;
    }
    ++merged;
  }
  if (common != static_cast<std::size_t>(shared)) return false;
  // merged counts a and b themselves (each is the other's neighbour): the new vertex's valence
  // is merged - 2. Closed neighbourhoods need at least 3 (a tetrahedron cannot shrink further).
  const std::size_t valence = merged - 2;
  if (valence < (boundary_[a] || boundary_[b] ? 2u : 3u)) return false;
  if (around_a.size() + around_b.size() <= static_cast<std::size_t>(2 * shared)) {
    return false;  // nothing would be left around the new vertex
  }
  // Geometry: no remaining triangle flips or becomes a sliver.
  for (const std::uint32_t v : {a, b}) {
    for (const std::uint32_t t : v == a ? around_a : around_b) {
      const auto& tri = triangles_[t];
      const bool has_a = tri[0] == a || tri[1] == a || tri[2] == a;
      const bool has_b = tri[0] == b || tri[1] == b || tri[2] == b;
      if (has_a && has_b) continue;  // removed by the collapse
      Eigen::Vector3d before[3], after[3];
      for (int k = 0; k < 3; ++k) {
        before[k] = positions_[tri[k]];
        after[k] = tri[k] == v ? p : before[k];
      }
      const Eigen::Vector3d n_before = (before[1] - before[0]).cross(before[2] - before[0]);
      const Eigen::Vector3d n_after = (after[1] - after[0]).cross(after[2] - after[0]);
      const double len_before = n_before.norm(), len_after = n_after.norm();
      if (!(len_after > 0.0)) return false;
      if (len_before > 0.0 &&
          n_before.dot(n_after) < limits.min_normal_cos * len_before * len_after) {
        return false;
      }
      const double q_after = TriangleQuality(after[0], after[1], after[2]);
      if (q_after < limits.min_quality &&
          q_after < TriangleQuality(before[0], before[1], before[2])) {
        return false;
      }
    }
  }
  return true;
}

int CollapsibleMesh::Collapse(std::uint32_t a, std::uint32_t b, const Eigen::Vector3d& p,
                              const Eigen::Vector3f& color) {
  int removed = 0;
  auto& into = vertex_triangles_[a];
  for (const std::uint32_t t : TrianglesOf(b)) {
    auto& tri = triangles_[t];
    if (tri[0] == a || tri[1] == a || tri[2] == a) {
      triangle_alive_[t] = 0;
      ++removed;
      continue;
    }
    for (int k = 0; k < 3; ++k) {
      if (tri[k] == b) tri[k] = a;
    }
    into.push_back(t);
  }
  live_triangles_ -= static_cast<std::size_t>(removed);
  vertex_triangles_[b].clear();
  vertex_triangles_[b].shrink_to_fit();
  vertex_alive_[b] = 0;
  boundary_[a] = boundary_[a] || boundary_[b];
  positions_[a] = p;
  if (!colors_.empty()) colors_[a] = color;
  TrianglesOf(a);  // drop the removed triangles from a's list
  return removed;
}

TriangleMesh CollapsibleMesh::Release(bool normals) {
  // Surviving vertices keep their relative order.
  std::vector<std::uint32_t> remap(positions_.size(), UINT32_MAX);
  for (std::uint32_t t = 0; t < triangles_.size(); ++t) {
    if (!triangle_alive_[t]) continue;
    for (int k = 0; k < 3; ++k) remap[triangles_[t][k]] = 0;
  }
  TriangleMesh mesh;
  for (std::uint32_t v = 0; v < positions_.size(); ++v) {
    if (remap[v] == UINT32_MAX) continue;
    remap[v] = static_cast<std::uint32_t>(mesh.vertices.size());
    mesh.vertices.push_back(positions_[v]);
    if (!colors_.empty()) mesh.vertex_colors.push_back(colors_[v]);
  }
  mesh.triangles.reserve(live_triangles_);
  for (std::uint32_t t = 0; t < triangles_.size(); ++t) {
    if (!triangle_alive_[t]) continue;
    const auto& tri = triangles_[t];
    mesh.triangles.emplace_back(remap[tri[0]], remap[tri[1]], remap[tri[2]]);
  }
  if (normals) mesh.ComputeVertexNormals();
  *this = CollapsibleMesh(TriangleMesh{});
  return mesh;
}

}  // namespace facet::geometry::detail
