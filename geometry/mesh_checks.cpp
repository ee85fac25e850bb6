#include "geometry/mesh_checks.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "core/error.h"
#include "core/parallel_for.h"
#include "geometry/knn_index.h"
#include "geometry/mesh_intersections.h"

namespace facet::geometry {
namespace {

// Height of a triangle relative to its longest edge below which it counts as zero-area: rounding
// alone leaves ~1e-16 on collinear points, and no useful triangle is that thin.
constexpr double kDegenerateRelativeHeight = 1e-10;

bool RepeatsIndex(const Eigen::Matrix<std::uint32_t, 3, 1>& t) {
  return t[0] == t[1] || t[1] == t[2] || t[0] == t[2];
}

bool HasZeroArea(const TriangleMesh& mesh, const Eigen::Matrix<std::uint32_t, 3, 1>& t) {
  const Eigen::Vector3d& p0 = mesh.vertices[t[0]];
  const Eigen::Vector3d& p1 = mesh.vertices[t[1]];
  const Eigen::Vector3d& p2 = mesh.vertices[t[2]];
  const double longest_sq =
      std::max({(p1 - p0).squaredNorm(), (p2 - p1).squaredNorm(), (p0 - p2).squaredNorm()});
  // |cross| = longest edge * height to it.
  const double twice_area = (p1 - p0).cross(p2 - p0).norm();
  return twice_area <= kDegenerateRelativeHeight * longest_sq;
}

class UnionFind {
 public:
  explicit UnionFind(std::size_t n) : parent_(n) {
    std::iota(parent_.begin(), parent_.end(), std::uint32_t{0});
  }
  std::uint32_t Find(std::uint32_t x) {
    while (parent_[x] != x) x = parent_[x] = parent_[parent_[x]];
    return x;
  }
  // True when x and y were in different sets.
  bool Unite(std::uint32_t x, std::uint32_t y) {
    x = Find(x);
    y = Find(y);
    if (x == y) return false;
    parent_[std::max(x, y)] = std::min(x, y);
    return true;
  }

 private:
  std::vector<std::uint32_t> parent_;
};

struct DirectedEdge {
  std::uint64_t key;  // (min vertex << 32) | max vertex
  std::uint32_t triangle;
  bool forward;  // the triangle goes from the smaller to the larger vertex
};

// Number of connected components of the link of every vertex; 0 for unreferenced vertices.
// The link of v is the graph whose edges are the opposite edges (a, b) of v's triangles; the
// triangles around v form a single fan (disk or half-disk) exactly when it is connected.
std::vector<std::uint32_t> LinkComponents(const TriangleMesh& mesh,
                                          const std::vector<std::uint32_t>& triangles) {
  const std::size_t n = mesh.vertices.size();
  std::vector<std::uint32_t> offsets(n + 1, 0);
  for (const std::uint32_t t : triangles) {
    for (int k = 0; k < 3; ++k) ++offsets[mesh.triangles[t][k] + 1];
  }
  std::partial_sum(offsets.begin(), offsets.end(), offsets.begin());
  std::vector<std::uint32_t> incident(offsets.back());
  std::vector<std::uint32_t> fill(offsets.begin(), offsets.end() - 1);
  for (const std::uint32_t t : triangles) {
    for (int k = 0; k < 3; ++k) incident[fill[mesh.triangles[t][k]]++] = t;
  }
  std::vector<std::uint32_t> components(n, 0);
  ParallelFor(
      static_cast<std::int64_t>(n),
      [&](std::int64_t vi) {
        const auto v = static_cast<std::uint32_t>(vi);
        const std::uint32_t begin = offsets[v], end = offsets[v + 1];
        if (begin == end) return;
        std::vector<std::uint32_t> link;
        link.reserve(2 * (end - begin));
        for (std::uint32_t i = begin; i < end; ++i) {
          for (int k = 0; k < 3; ++k) {
            if (mesh.triangles[incident[i]][k] != v) link.push_back(mesh.triangles[incident[i]][k]);
          }
        }
        std::sort(link.begin(), link.end());
        link.erase(std::unique(link.begin(), link.end()), link.end());
        auto local = [&](std::uint32_t w) {
          return static_cast<std::uint32_t>(std::lower_bound(link.begin(), link.end(), w) -
                                            link.begin());
        };
        UnionFind sets(link.size());
        std::uint32_t count = static_cast<std::uint32_t>(link.size());
        for (std::uint32_t i = begin; i < end; ++i) {
          const auto& t = mesh.triangles[incident[i]];
          const int k = t[0] == v ? 0 : (t[1] == v ? 1 : 2);
          count -= sets.Unite(local(t[(k + 1) % 3]), local(t[(k + 2) % 3])) ? 1 : 0;
        }
        components[v] = count;
      },
      /*grain=*/256);
  return components;
}

}  // namespace

void WatertightCheckOptions::Check() const {
  FACET_CHECK(max_self_intersection_pairs >= 1,
              "WatertightCheckOptions::max_self_intersection_pairs must be at least 1 (got {})",
              max_self_intersection_pairs);
}

WatertightReport CheckWatertight(const TriangleMesh& mesh, const WatertightCheckOptions& options) {
  options.Check();
  FACET_CHECK(!mesh.triangles.empty(), "cannot check the topology of a mesh without triangles");
  mesh.Check();
  WatertightReport report;

  // Triangles with a repeated index have no well-defined edges; they stay out of the topology.
  std::vector<std::uint32_t> topological;
  topological.reserve(mesh.triangles.size());
  for (std::uint32_t t = 0; t < mesh.triangles.size(); ++t) {
    const auto& tri = mesh.triangles[t];
    if (RepeatsIndex(tri)) {
      ++report.degenerate_triangles;
      continue;
    }
    if (HasZeroArea(mesh, tri)) ++report.degenerate_triangles;
    topological.push_back(t);
  }
  const std::int64_t repeated_index = static_cast<std::int64_t>(mesh.triangles.size()) -
                                      static_cast<std::int64_t>(topological.size());

  std::vector<DirectedEdge> edges;
  edges.reserve(3 * topological.size());
  for (const std::uint32_t t : topological) {
    const auto& tri = mesh.triangles[t];
    for (int k = 0; k < 3; ++k) {
      const std::uint32_t from = tri[k], to = tri[(k + 1) % 3];
      const std::uint64_t lo = std::min(from, to), hi = std::max(from, to);
      edges.push_back({(lo << 32) | hi, t, from < to});
    }
  }
  std::sort(edges.begin(), edges.end(), [](const DirectedEdge& x, const DirectedEdge& y) {
    return x.key != y.key ? x.key < y.key : x.triangle < y.triangle;
  });

  UnionFind triangle_sets(mesh.triangles.size());
  std::int64_t undirected_edges = 0;
  for (std::size_t begin = 0; begin < edges.size();) {
    std::size_t end = begin + 1;
    while (end < edges.size() && edges[end].key == edges[begin].key) ++end;
    ++undirected_edges;
    const std::size_t uses = end - begin;
    if (uses == 1) {
      ++report.boundary_edges;
    } else if (uses > 2) {
      ++report.non_manifold_edges;
    } else if (edges[begin].forward == edges[begin + 1].forward) {
      ++report.inconsistently_oriented_edges;
    }
    for (std::size_t i = begin + 1; i < end; ++i) {
      triangle_sets.Unite(edges[begin].triangle, edges[i].triangle);
    }
    begin = end;
  }
  for (const std::uint32_t t : topological) {
    report.components += triangle_sets.Find(t) == t ? 1 : 0;
  }

  const std::vector<std::uint32_t> link_components = LinkComponents(mesh, topological);
  std::int64_t referenced = 0;
  for (const std::uint32_t c : link_components) {
    referenced += c > 0 ? 1 : 0;
    report.non_manifold_vertices += c > 1 ? 1 : 0;
  }
  report.euler_characteristic =
      referenced - undirected_edges + static_cast<std::int64_t>(topological.size());
  if (options.self_intersections) {
    SelfIntersectionOptions intersection_options;
    intersection_options.max_pairs = options.max_self_intersection_pairs;
    report.self_intersections =
        static_cast<std::int64_t>(FindSelfIntersections(mesh, intersection_options).size());
  }

  if (repeated_index > 0) {
    report.reason = fmt::format("{} triangle(s) repeat a vertex index (degenerate; remove them)",
                                repeated_index);
  } else if (report.non_manifold_edges > 0) {
    report.reason = fmt::format("{} non-manifold edge(s) shared by three or more triangles",
                                report.non_manifold_edges);
  } else if (report.non_manifold_vertices > 0) {
    report.reason =
        fmt::format("{} non-manifold vertex(es) where separate sheets of the surface touch",
                    report.non_manifold_vertices);
  } else if (report.boundary_edges > 0) {
    report.reason = fmt::format(
        "{} boundary edge(s) used by a single triangle (the surface has "
        "holes)",
        report.boundary_edges);
  } else if (report.inconsistently_oriented_edges > 0) {
    report.reason = fmt::format(
        "{} edge(s) traversed in the same direction by both of their triangles (inconsistent "
        "orientation: some triangles are flipped)",
        report.inconsistently_oriented_edges);
  } else if (report.self_intersections > 0) {
    report.reason = fmt::format(
        "self-intersecting: {}{} pair(s) of non-adjacent triangles cross each other",
        report.self_intersections >= options.max_self_intersection_pairs ? "at least " : "",
        report.self_intersections);
  }
  report.watertight = report.reason.empty();
  if (report.watertight) {
    // A closed orientable surface has chi = 2 - 2g per component.
    report.genus = (2 * report.components - report.euler_characteristic) / 2;
  }
  return report;
}

std::vector<Eigen::Vector3d> SampleSurface(const TriangleMesh& mesh, std::size_t count,
                                           std::uint64_t seed) {
  FACET_CHECK(!mesh.triangles.empty(), "cannot sample a mesh without triangles");
  mesh.Check();
  std::vector<double> cumulative(mesh.triangles.size());
  double total = 0.0;
  for (std::size_t t = 0; t < mesh.triangles.size(); ++t) {
    const auto& tri = mesh.triangles[t];
    total += 0.5 * (mesh.vertices[tri[1]] - mesh.vertices[tri[0]])
                       .cross(mesh.vertices[tri[2]] - mesh.vertices[tri[0]])
                       .norm();
    cumulative[t] = total;
  }
  FACET_CHECK(total > 0.0 && std::isfinite(total),
              "cannot sample a mesh whose surface area is {} (all {} triangles are degenerate, or "
              "a vertex is not finite)",
              total, mesh.triangles.size());
  // mt19937_64's output is fixed by the standard; the conversion to [0, 1) is ours (the
  // standard distributions differ between library implementations).
  std::mt19937_64 rng(seed);
  auto uniform = [&rng] { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };
  std::vector<Eigen::Vector3d> points(count);
  for (auto& p : points) {
    const double pick = uniform() * total;
    const auto it = std::upper_bound(cumulative.begin(), cumulative.end(), pick);
    const std::size_t t = std::min<std::size_t>(static_cast<std::size_t>(it - cumulative.begin()),
                                                cumulative.size() - 1);
    const auto& tri = mesh.triangles[t];
    // Uniform in a triangle (Osada et al., "Shape Distributions", 2002, Sec. 4.2):
    // (1 - sqrt(r1)) A + sqrt(r1) (1 - r2) B + sqrt(r1) r2 C.
    const double s = std::sqrt(uniform()), r2 = uniform();
    p = (1.0 - s) * mesh.vertices[tri[0]] + s * (1.0 - r2) * mesh.vertices[tri[1]] +
        s * r2 * mesh.vertices[tri[2]];
  }
  return points;
}

namespace {

// Distance from every query point to its nearest point of `reference`.
std::vector<double> NearestDistances(const std::vector<Eigen::Vector3d>& queries,
                                     const std::vector<Eigen::Vector3d>& reference) {
  const KnnIndex index(reference);
  std::vector<double> distances(queries.size());
  ParallelFor(
      static_cast<std::int64_t>(queries.size()),
      [&](std::int64_t i) {
        std::uint32_t nearest = 0;
        double squared = 0.0;
        index.Search(queries[static_cast<std::size_t>(i)], 1, &nearest, &squared);
        distances[static_cast<std::size_t>(i)] = std::sqrt(squared);
      },
      /*grain=*/512);
  return distances;
}

}  // namespace

SurfaceDistance CompareSurfaces(const std::vector<Eigen::Vector3d>& a,
                                const std::vector<Eigen::Vector3d>& b, double threshold) {
  FACET_CHECK(!a.empty() && !b.empty(),
              "cannot compare surfaces with an empty point set ({} and {} points)", a.size(),
              b.size());
  FACET_CHECK(threshold > 0.0 && std::isfinite(threshold),
              "the distance threshold must be positive and finite (got {})", threshold);
  FACET_CHECK(a.size() < (std::size_t{1} << 32) && b.size() < (std::size_t{1} << 32),
              "point sets above 2^32 points are not supported ({} and {})", a.size(), b.size());
  const std::vector<double> a_to_b = NearestDistances(a, b);
  const std::vector<double> b_to_a = NearestDistances(b, a);
  auto mean = [](const std::vector<double>& d) {
    return std::accumulate(d.begin(), d.end(), 0.0) / static_cast<double>(d.size());
  };
  auto below = [threshold](const std::vector<double>& d) {
    return static_cast<double>(
               std::count_if(d.begin(), d.end(), [threshold](double x) { return x < threshold; })) /
           static_cast<double>(d.size());
  };
  SurfaceDistance result;
  result.accuracy = mean(a_to_b);
  result.completeness = mean(b_to_a);
  result.chamfer = 0.5 * (result.accuracy + result.completeness);
  result.precision = below(a_to_b);
  result.recall = below(b_to_a);
  const double sum = result.precision + result.recall;
  result.f_score = sum > 0.0 ? 2.0 * result.precision * result.recall / sum : 0.0;
  return result;
}

SurfaceDistance CompareSurfaces(const TriangleMesh& a, const TriangleMesh& b, double threshold,
                                std::size_t samples, std::uint64_t seed) {
  FACET_CHECK(samples > 0, "CompareSurfaces needs at least one sample per mesh");
  FACET_CHECK(threshold > 0.0 && std::isfinite(threshold),
              "the distance threshold must be positive and finite (got {})", threshold);
  // Distinct streams for the two meshes (splitmix64's increment), so that comparing a mesh with
  // itself measures the sampling density rather than returning exactly 0.
  constexpr std::uint64_t kStreamOffset = 0x9E3779B97F4A7C15ULL;
  return CompareSurfaces(SampleSurface(a, samples, seed),
                         SampleSurface(b, samples, seed + kStreamOffset), threshold);
}

}  // namespace facet::geometry
