// Cleanup: unreferenced and duplicate vertices, degenerate triangles, small components.
#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "geometry/mesh_collapse.h"
#include "geometry/mesh_processing.h"

namespace facet::geometry {
namespace {

using Tri = Eigen::Matrix<std::uint32_t, 3, 1>;

bool RepeatsIndex(const Tri& t) { return t[0] == t[1] || t[1] == t[2] || t[0] == t[2]; }

std::uint32_t Find(std::vector<std::uint32_t>& parent, std::uint32_t x) {
  while (parent[x] != x) x = parent[x] = parent[parent[x]];
  return x;
}
void Unite(std::vector<std::uint32_t>& parent, std::uint32_t x, std::uint32_t y) {
  x = Find(parent, x);
  y = Find(parent, y);
  if (x != y) parent[std::max(x, y)] = std::min(x, y);
}

// Replaces every vertex by `representative[v]` (a vertex index <= v) in the triangles, averaging
// colours into the representative, then drops triangles with a repeated index and unreferenced
// vertices.
void ApplyMerge(TriangleMesh& mesh, const std::vector<std::uint32_t>& representative) {
  if (mesh.HasVertexColors()) {
    std::vector<Eigen::Vector3f> sum(mesh.vertices.size(), Eigen::Vector3f::Zero());
    std::vector<float> count(mesh.vertices.size(), 0.0f);
    for (std::size_t v = 0; v < mesh.vertices.size(); ++v) {
      sum[representative[v]] += mesh.vertex_colors[v];
      count[representative[v]] += 1.0f;
    }
    for (std::size_t v = 0; v < mesh.vertices.size(); ++v) {
      if (count[v] > 0.0f) mesh.vertex_colors[v] = sum[v] / count[v];
    }
  }
  for (auto& t : mesh.triangles) {
    for (int k = 0; k < 3; ++k) t[k] = representative[t[k]];
  }
  std::erase_if(mesh.triangles, RepeatsIndex);
  RemoveUnreferencedVertices(mesh);
}

bool ZeroArea(const TriangleMesh& mesh, const Tri& t, double relative_height) {
  const Eigen::Vector3d& p0 = mesh.vertices[t[0]];
  const Eigen::Vector3d& p1 = mesh.vertices[t[1]];
  const Eigen::Vector3d& p2 = mesh.vertices[t[2]];
  const double longest_sq =
      std::max({(p1 - p0).squaredNorm(), (p2 - p1).squaredNorm(), (p0 - p2).squaredNorm()});
  return (p1 - p0).cross(p2 - p0).norm() <= relative_height * longest_sq;
}

}  // namespace

std::size_t RemoveUnreferencedVertices(TriangleMesh& mesh) {
  mesh.Check();
  std::vector<std::uint32_t> remap(mesh.vertices.size(), 0);
  for (const auto& t : mesh.triangles) {
    for (int k = 0; k < 3; ++k) remap[t[k]] = 1;
  }
  std::uint32_t kept = 0;
  for (std::size_t v = 0; v < mesh.vertices.size(); ++v) {
    if (remap[v] == 0) {
      remap[v] = UINT32_MAX;
      continue;
    }
    remap[v] = kept;
    mesh.vertices[kept] = mesh.vertices[v];
    if (mesh.HasVertexNormals()) mesh.vertex_normals[kept] = mesh.vertex_normals[v];
    if (mesh.HasVertexColors()) mesh.vertex_colors[kept] = mesh.vertex_colors[v];
    ++kept;
  }
  const std::size_t removed = mesh.vertices.size() - kept;
  mesh.vertices.resize(kept);
  if (mesh.HasVertexNormals()) mesh.vertex_normals.resize(kept);
  if (mesh.HasVertexColors()) mesh.vertex_colors.resize(kept);
  for (auto& t : mesh.triangles) {
    for (int k = 0; k < 3; ++k) t[k] = remap[t[k]];
  }
  return removed;
}

void MergeVerticesOptions::Check() const {
  FACET_CHECK(tolerance >= 0.0 && std::isfinite(tolerance),
              "MergeVerticesOptions::tolerance must be >= 0 and finite (got {})", tolerance);
}

std::size_t MergeCloseVertices(TriangleMesh& mesh, const MergeVerticesOptions& options) {
  options.Check();
  mesh.Check();
  const auto n = static_cast<std::uint32_t>(mesh.vertices.size());
  for (const auto& v : mesh.vertices) {
    FACET_CHECK(v.allFinite(),
                "cannot merge vertices of a mesh with a non-finite vertex ({}, {}, {})", v.x(),
                v.y(), v.z());
  }
  std::vector<std::uint32_t> parent(n);
  std::iota(parent.begin(), parent.end(), 0u);
  if (options.tolerance == 0.0) {
    // Exact duplicates are adjacent after a lexicographic sort.
    std::vector<std::uint32_t> order(n);
    std::iota(order.begin(), order.end(), 0u);
    auto less = [&](std::uint32_t a, std::uint32_t b) {
      const auto& p = mesh.vertices[a];
      const auto& q = mesh.vertices[b];
      if (p.x() != q.x()) return p.x() < q.x();
      if (p.y() != q.y()) return p.y() < q.y();
      if (p.z() != q.z()) return p.z() < q.z();
      return a < b;
    };
    std::sort(order.begin(), order.end(), less);
    for (std::uint32_t i = 1; i < n; ++i) {
      if (mesh.vertices[order[i]] == mesh.vertices[order[i - 1]]) {
        Unite(parent, order[i], order[i - 1]);
      }
    }
  } else {
    // Cells of the tolerance's size: close vertices are in the same or a neighbouring cell.
    const double cell = options.tolerance;
    const double tol_sq = options.tolerance * options.tolerance;
    using Key = std::array<std::int64_t, 3>;
    std::vector<std::pair<Key, std::uint32_t>> cells(n);
    for (std::uint32_t v = 0; v < n; ++v) {
      const Eigen::Vector3d c = (mesh.vertices[v] / cell).array().floor();
      cells[v] = {{static_cast<std::int64_t>(c.x()), static_cast<std::int64_t>(c.y()),
                   static_cast<std::int64_t>(c.z())},
                  v};
    }
    std::sort(cells.begin(), cells.end());
    for (std::uint32_t v = 0; v < n; ++v) {
      const Eigen::Vector3d c = (mesh.vertices[v] / cell).array().floor();
      for (int dx = -1; dx <= 1; ++dx) {
        for (int dy = -1; dy <= 1; ++dy) {
          for (int dz = -1; dz <= 1; ++dz) {
            const Key key = {static_cast<std::int64_t>(c.x()) + dx,
                             static_cast<std::int64_t>(c.y()) + dy,
                             static_cast<std::int64_t>(c.z()) + dz};
            auto it = std::lower_bound(cells.begin(), cells.end(), std::make_pair(key, 0u));
            for (; it != cells.end() && it->first == key; ++it) {
              const std::uint32_t w = it->second;
              if (w > v && (mesh.vertices[w] - mesh.vertices[v]).squaredNorm() <= tol_sq) {
                Unite(parent, v, w);
              }
            }
          }
        }
      }
    }
  }
  std::size_t merged = 0;
  for (std::uint32_t v = 0; v < n; ++v) {
    parent[v] = Find(parent, v);  // the smallest index of the set
    merged += parent[v] != v ? 1 : 0;
  }
  ApplyMerge(mesh, parent);
  if (mesh.HasVertexNormals()) mesh.ComputeVertexNormals();
  return merged;
}

void DegenerateTriangleOptions::Check() const {
  FACET_CHECK(relative_height > 0.0 && relative_height <= 0.1,
              "DegenerateTriangleOptions::relative_height must be in (0, 0.1] (got {})",
              relative_height);
}

DegenerateTriangleReport RemoveDegenerateTriangles(TriangleMesh& mesh,
                                                   const DegenerateTriangleOptions& options) {
  options.Check();
  mesh.Check();
  DegenerateTriangleReport report;
  const std::size_t before = mesh.triangles.size();
  std::erase_if(mesh.triangles, RepeatsIndex);
  report.repeated_index_removed = before - mesh.triangles.size();
  {
    // Duplicates in the same cyclic order: rotate the smallest index first, then sort.
    std::vector<std::pair<Tri, std::uint32_t>> keyed(mesh.triangles.size());
    for (std::uint32_t t = 0; t < mesh.triangles.size(); ++t) {
      Tri r = mesh.triangles[t];
      while (r[0] > r[1] || r[0] > r[2]) r = Tri(r[1], r[2], r[0]);
      keyed[t] = {r, t};
    }
    auto less = [](const std::pair<Tri, std::uint32_t>& x, const std::pair<Tri, std::uint32_t>& y) {
      for (int k = 0; k < 3; ++k) {
        if (x.first[k] != y.first[k]) return x.first[k] < y.first[k];
      }
      return x.second < y.second;
    };
    std::sort(keyed.begin(), keyed.end(), less);
    std::vector<std::uint8_t> keep(mesh.triangles.size(), 1);
    for (std::size_t i = 1; i < keyed.size(); ++i) {
      if (keyed[i].first == keyed[i - 1].first) keep[keyed[i].second] = 0;
    }
    std::size_t out = 0;
    for (std::size_t t = 0; t < mesh.triangles.size(); ++t) {
      if (keep[t]) mesh.triangles[out++] = mesh.triangles[t];
    }
    report.duplicates_removed = mesh.triangles.size() - out;
    mesh.triangles.resize(out);
  }
  if (options.collapse_zero_area && !mesh.triangles.empty()) {
    for (const auto& v : mesh.vertices) {
      FACET_CHECK(v.allFinite(),
                  "cannot collapse zero-area triangles of a mesh with a non-finite "
                  "vertex ({}, {}, {})",
                  v.x(), v.y(), v.z());
    }
    std::vector<std::uint32_t> zero;
    for (std::uint32_t t = 0; t < mesh.triangles.size(); ++t) {
      if (ZeroArea(mesh, mesh.triangles[t], options.relative_height)) zero.push_back(t);
    }
    if (!zero.empty()) {
      const bool normals = mesh.HasVertexNormals();
      detail::CollapsibleMesh work(std::move(mesh));
      // Only topology and flips matter here; the collapses remove slivers, not create them.
      detail::CollapseLimits limits;
      limits.min_normal_cos = 0.0;
      limits.min_quality = 0.0;
      auto zero_area = [&](std::uint32_t t) {
        const auto& tri = work.Triangle(t);
        const Eigen::Vector3d &p0 = work.Position(tri[0]), &p1 = work.Position(tri[1]),
                              &p2 = work.Position(tri[2]);
        const double longest_sq =
            std::max({(p1 - p0).squaredNorm(), (p2 - p1).squaredNorm(), (p0 - p2).squaredNorm()});
        return (p1 - p0).cross(p2 - p0).norm() <= options.relative_height * longest_sq;
      };
      // A collapse changes neighbours, so repeat until nothing more can be done.
      for (bool progress = true; progress;) {
        progress = false;
        for (const std::uint32_t t : zero) {
          if (!work.TriangleAlive(t) || !zero_area(t)) continue;
          const auto tri = work.Triangle(t);
          // Shortest edge first; collapse onto either end point.
          std::array<int, 3> order = {0, 1, 2};
          auto length = [&](int k) {
            return (work.Position(tri[(k + 1) % 3]) - work.Position(tri[k])).squaredNorm();
          };
          std::sort(order.begin(), order.end(),
                    [&](int x, int y) { return length(x) < length(y); });
          for (const int k : order) {
            const std::uint32_t u = tri[k], v = tri[(k + 1) % 3];
            bool done = false;
            for (const auto& [keep, drop] : {std::pair{u, v}, std::pair{v, u}}) {
              if (work.CanCollapse(keep, drop, work.Position(keep), limits)) {
                const Eigen::Vector3f color =
                    work.HasColors() ? work.Color(keep) : Eigen::Vector3f::Zero();
                work.Collapse(keep, drop, work.Position(keep), color);
                done = true;
                break;
              }
            }
            if (done) {
              ++report.zero_area_collapsed;
              progress = true;
              break;
            }
          }
        }
      }
      for (const std::uint32_t t : zero) {
        if (work.TriangleAlive(t) && zero_area(t)) ++report.zero_area_left;
      }
      mesh = work.Release(normals);
      return report;
    }
  }
  RemoveUnreferencedVertices(mesh);
  return report;
}

void SmallComponentOptions::Check() const {
  FACET_CHECK(min_area_fraction >= 0.0 && min_area_fraction <= 1.0,
              "SmallComponentOptions::min_area_fraction must be in [0, 1] (got {})",
              min_area_fraction);
}

std::size_t RemoveSmallComponents(TriangleMesh& mesh, const SmallComponentOptions& options) {
  options.Check();
  mesh.Check();
  const auto nt = static_cast<std::uint32_t>(mesh.triangles.size());
  if (nt == 0) return 0;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> edges;
  edges.reserve(3 * std::size_t{nt});
  for (std::uint32_t t = 0; t < nt; ++t) {
    const auto& tri = mesh.triangles[t];
    for (int k = 0; k < 3; ++k) {
      const std::uint64_t lo = std::min(tri[k], tri[(k + 1) % 3]);
      const std::uint64_t hi = std::max(tri[k], tri[(k + 1) % 3]);
      if (lo != hi) edges.emplace_back((lo << 32) | hi, t);
    }
  }
  std::sort(edges.begin(), edges.end());
  std::vector<std::uint32_t> parent(nt);
  std::iota(parent.begin(), parent.end(), 0u);
  for (std::size_t i = 1; i < edges.size(); ++i) {
    if (edges[i].first == edges[i - 1].first) Unite(parent, edges[i].second, edges[i - 1].second);
  }
  // Per component (indexed by its root): triangles and area.
  std::vector<std::uint32_t> count(nt, 0);
  std::vector<double> area(nt, 0.0);
  for (std::uint32_t t = 0; t < nt; ++t) {
    const std::uint32_t root = Find(parent, t);
    const auto& tri = mesh.triangles[t];
    ++count[root];
    area[root] += 0.5 * (mesh.vertices[tri[1]] - mesh.vertices[tri[0]])
                            .cross(mesh.vertices[tri[2]] - mesh.vertices[tri[0]])
                            .norm();
  }
  std::vector<std::uint32_t> roots;
  for (std::uint32_t t = 0; t < nt; ++t) {
    if (parent[t] == t) roots.push_back(t);
  }
  double largest = 0.0;
  for (const std::uint32_t r : roots) largest = std::max(largest, area[r]);
  std::vector<std::uint8_t> keep(nt, 0);
  std::vector<std::uint32_t> kept;
  for (const std::uint32_t r : roots) {
    if (count[r] >= options.min_triangles && area[r] >= options.min_area_fraction * largest) {
      kept.push_back(r);
    }
  }
  if (options.keep_largest > 0 && kept.size() > options.keep_largest) {
    std::stable_sort(kept.begin(), kept.end(),
                     [&](std::uint32_t x, std::uint32_t y) { return area[x] > area[y]; });
    kept.resize(options.keep_largest);
  }
  for (const std::uint32_t r : kept) keep[r] = 1;
  std::size_t out = 0;
  for (std::uint32_t t = 0; t < nt; ++t) {
    if (keep[Find(parent, t)]) mesh.triangles[out++] = mesh.triangles[t];
  }
  mesh.triangles.resize(out);
  RemoveUnreferencedVertices(mesh);
  return roots.size() - kept.size();
}

TriangleMesh CropMesh(const TriangleMesh& mesh, const Bounds3& box) {
  mesh.Check();
  auto inside = [&](std::uint32_t v) {
    return (mesh.vertices[v].array() >= box.min.array()).all() &&
           (mesh.vertices[v].array() <= box.max.array()).all();
  };
  TriangleMesh out;
  std::vector<std::int64_t> index(mesh.vertices.size(), -1);
  for (const auto& t : mesh.triangles) {
    if (!inside(t[0]) || !inside(t[1]) || !inside(t[2])) continue;
    Eigen::Matrix<std::uint32_t, 3, 1> mapped;
    for (int k = 0; k < 3; ++k) {
      std::int64_t& i = index[t[k]];
      if (i < 0) {
        i = std::int64_t(out.vertices.size());
        out.vertices.push_back(mesh.vertices[t[k]]);
        if (mesh.HasVertexNormals()) out.vertex_normals.push_back(mesh.vertex_normals[t[k]]);
        if (mesh.HasVertexColors()) out.vertex_colors.push_back(mesh.vertex_colors[t[k]]);
      }
      mapped[k] = std::uint32_t(i);
    }
    out.triangles.push_back(mapped);
  }
  return out;
}

}  // namespace facet::geometry
