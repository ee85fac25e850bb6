// FillHoles: boundary loops closed by fans around their centroids.
#include <algorithm>

#include "core/error.h"
#include "geometry/mesh_processing.h"

namespace facet::geometry {

void FillHolesOptions::Check() const {
  FACET_CHECK(max_hole_edges >= 3, "FillHolesOptions::max_hole_edges must be at least 3 (got {})",
              max_hole_edges);
}

FillHolesReport FillHoles(TriangleMesh& mesh, const FillHolesOptions& options) {
  options.Check();
  FACET_CHECK(!mesh.triangles.empty(), "cannot fill the holes of a mesh without triangles");
  mesh.Check();
  FillHolesReport report;
  // Directed edges (from << 32 | to), sorted: a boundary half-edge is one whose reverse is absent.
  std::vector<std::uint64_t> directed;
  directed.reserve(3 * mesh.triangles.size());
  for (const auto& t : mesh.triangles) {
    if (t[0] == t[1] || t[1] == t[2] || t[0] == t[2]) continue;
    for (int k = 0; k < 3; ++k) {
      directed.push_back((std::uint64_t{t[k]} << 32) | t[(k + 1) % 3]);
    }
  }
  std::sort(directed.begin(), directed.end());
  for (std::size_t i = 1; i < directed.size(); ++i) {
    FACET_CHECK(directed[i] != directed[i - 1],
                "cannot fill holes: edge ({}, {}) is traversed twice in the same direction (the "
                "mesh is non-manifold there or inconsistently oriented; fix that first)",
                directed[i] >> 32, directed[i] & 0xffffffffu);
  }
  auto has = [&](std::uint64_t key) {
    return std::binary_search(directed.begin(), directed.end(), key);
  };
  // Boundary half-edges, sorted by their start vertex.
  std::vector<std::uint64_t> boundary;
  for (const std::uint64_t e : directed) {
    const std::uint64_t reverse = (e << 32) | (e >> 32);
    if (!has(reverse)) boundary.push_back(e);
  }
  if (boundary.empty()) return report;
  // A manifold boundary vertex has one outgoing and one incoming boundary half-edge.
  std::vector<std::uint8_t> out_count(mesh.vertices.size(), 0), in_count(mesh.vertices.size(), 0);
  for (const std::uint64_t e : boundary) {
    out_count[e >> 32] = static_cast<std::uint8_t>(std::min(out_count[e >> 32] + 1, 2));
    in_count[e & 0xffffffffu] =
        static_cast<std::uint8_t>(std::min(in_count[e & 0xffffffffu] + 1, 2));
  }
  for (std::size_t v = 0; v < mesh.vertices.size(); ++v) {
    report.non_manifold_vertices += (out_count[v] > 1 || in_count[v] > 1) ? 1 : 0;
  }
  auto next_of = [&](std::uint32_t v) {  // the first boundary half-edge leaving v
    const auto it = std::lower_bound(boundary.begin(), boundary.end(), std::uint64_t{v} << 32);
    return static_cast<std::uint32_t>(*it & 0xffffffffu);
  };
  std::vector<std::uint8_t> used(boundary.size(), 0);
  auto index_of = [&](std::uint64_t e) {
    return static_cast<std::size_t>(std::lower_bound(boundary.begin(), boundary.end(), e) -
                                    boundary.begin());
  };
  const bool colors = mesh.HasVertexColors();
  const bool normals = mesh.HasVertexNormals();
  std::vector<std::uint32_t> loop;
  for (std::size_t start = 0; start < boundary.size(); ++start) {
    if (used[start]) continue;
    // Walk the loop along the boundary half-edges (each one's end is the next one's start).
    loop.clear();
    bool manifold = true;
    const auto first = static_cast<std::uint32_t>(boundary[start] >> 32);
    std::uint32_t v = first;
    std::size_t e = start;
    while (true) {
      used[e] = 1;
      loop.push_back(v);
      if (out_count[v] > 1 || in_count[v] > 1) manifold = false;
      const auto to = static_cast<std::uint32_t>(boundary[e] & 0xffffffffu);
      if (to == first) break;
      if (out_count[to] == 0) {  // cannot happen for a half-edge boundary: every in has an out
        manifold = false;
        break;
      }
      v = to;
      e = index_of((std::uint64_t{v} << 32) | next_of(v));
      if (used[e]) {  // came back into an already-walked part through a non-manifold vertex
        manifold = false;
        break;
      }
    }
    ++report.holes;
    if (!manifold) {
      ++report.non_manifold_loops;
      continue;
    }
    if (loop.size() > options.max_hole_edges) {
      ++report.too_large;
      continue;
    }
    // Existing triangles traverse loop[i] -> loop[i + 1]; new ones go the other way.
    const std::size_t n = loop.size();
    if (n == 3) {
      mesh.triangles.emplace_back(loop[2], loop[1], loop[0]);
      ++report.triangles_added;
    } else {
      Eigen::Vector3d centroid = Eigen::Vector3d::Zero();
      Eigen::Vector3f color = Eigen::Vector3f::Zero();
      for (const std::uint32_t w : loop) {
        centroid += mesh.vertices[w];
        if (colors) color += mesh.vertex_colors[w];
      }
      const auto c = static_cast<std::uint32_t>(mesh.vertices.size());
      mesh.vertices.push_back(centroid / static_cast<double>(n));
      if (colors) mesh.vertex_colors.push_back(color / static_cast<float>(n));
      if (normals) mesh.vertex_normals.push_back(Eigen::Vector3d::UnitZ());  // recomputed below
      ++report.vertices_added;
      for (std::size_t i = 0; i < n; ++i) {
        mesh.triangles.emplace_back(c, loop[(i + 1) % n], loop[i]);
      }
      report.triangles_added += n;
    }
    ++report.filled;
  }
  if (normals && report.filled > 0) mesh.ComputeVertexNormals();
  return report;
}

}  // namespace facet::geometry
