// Topology checks on triangle meshes shared by the tests: closedness (every edge used exactly
// once in each direction, i.e. watertight and consistently oriented), connected components and
// the enclosed volume.
#pragma once

#include <cstdint>
#include <map>
#include <numeric>
#include <utility>
#include <vector>

#include "geometry/triangle_mesh.h"

namespace facet::testing {

// Number of directed edges that lack their opposite twin or appear more than once; 0 for a
// closed, consistently oriented 2-manifold.
inline std::size_t CountBoundaryOrNonManifoldEdges(const geometry::TriangleMesh& mesh) {
  std::map<std::pair<std::uint32_t, std::uint32_t>, int> directed;
  for (const auto& t : mesh.triangles) {
    for (int k = 0; k < 3; ++k) ++directed[{t[k], t[(k + 1) % 3]}];
  }
  std::size_t bad = 0;
  for (const auto& [edge, count] : directed) {
    const auto twin = directed.find({edge.second, edge.first});
    if (count != 1 || twin == directed.end() || twin->second != 1) ++bad;
  }
  return bad;
}

inline std::size_t CountComponents(const geometry::TriangleMesh& mesh) {
  std::vector<std::uint32_t> parent(mesh.vertices.size());
  std::iota(parent.begin(), parent.end(), 0u);
  auto find = [&](std::uint32_t v) {
    while (parent[v] != v) v = parent[v] = parent[parent[v]];
    return v;
  };
  for (const auto& t : mesh.triangles) {
    parent[find(t[1])] = find(t[0]);
    parent[find(t[2])] = find(t[0]);
  }
  std::vector<bool> used(mesh.vertices.size(), false);
  for (const auto& t : mesh.triangles) used[t[0]] = used[t[1]] = used[t[2]] = true;
  std::size_t components = 0;
  for (std::uint32_t v = 0; v < parent.size(); ++v) components += used[v] && find(v) == v;
  return components;
}

// Signed volume by the divergence theorem; positive for outward-oriented closed meshes.
inline double SignedVolume(const geometry::TriangleMesh& mesh) {
  double volume = 0.0;
  for (const auto& t : mesh.triangles) {
    volume += mesh.vertices[t[0]].dot(mesh.vertices[t[1]].cross(mesh.vertices[t[2]])) / 6.0;
  }
  return volume;
}

}  // namespace facet::testing
