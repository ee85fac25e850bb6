// TaubinSmooth (Taubin 1995) with uniform or cotangent Laplacian weights.
#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "core/parallel_for.h"
#include "geometry/mesh_processing.h"

namespace facet::geometry {
namespace {

// Vertex adjacency in compressed rows: the neighbours of v are
// neighbours[offsets[v], offsets[v + 1]); `opposite` lists, for each such directed edge (v, w),
// up to two vertices opposite it (UINT32_MAX where missing), for the cotangent weights.
struct Adjacency {
  std::vector<std::uint32_t> offsets, neighbours;
  std::vector<std::array<std::uint32_t, 2>> opposite;
  std::vector<std::uint8_t> boundary;
};

Adjacency BuildAdjacency(const TriangleMesh& mesh) {
  struct Directed {
    std::uint32_t from, to, apex;
  };
  std::vector<Directed> half;
  half.reserve(6 * mesh.triangles.size());
  for (const auto& t : mesh.triangles) {
    if (t[0] == t[1] || t[1] == t[2] || t[0] == t[2]) continue;
    for (int k = 0; k < 3; ++k) {
      const std::uint32_t a = t[k], b = t[(k + 1) % 3], c = t[(k + 2) % 3];
      half.push_back({a, b, c});
      half.push_back({b, a, c});
    }
  }
  std::sort(half.begin(), half.end(), [](const Directed& x, const Directed& y) {
    return x.from != y.from ? x.from < y.from : (x.to != y.to ? x.to < y.to : x.apex < y.apex);
  });
  Adjacency adj;
  const std::size_t n = mesh.vertices.size();
  adj.offsets.assign(n + 1, 0);
  adj.boundary.assign(n, 0);
  for (std::size_t i = 0; i < half.size();) {
    std::size_t j = i + 1;
    while (j < half.size() && half[j].from == half[i].from && half[j].to == half[i].to) ++j;
    adj.neighbours.push_back(half[i].to);
    adj.opposite.push_back({half[i].apex, j - i >= 2 ? half[i + 1].apex : UINT32_MAX});
    ++adj.offsets[half[i].from + 1];
    if (j - i != 2) {  // an edge not shared by exactly two triangles
      adj.boundary[half[i].from] = 1;
      adj.boundary[half[i].to] = 1;
    }
    i = j;
  }
  std::partial_sum(adj.offsets.begin(), adj.offsets.end(), adj.offsets.begin());
  return adj;
}

// Cotangents of the near-zero angles of slivers (common in marching-cubes output) are huge and
// would let one neighbour dominate the average: capped at cot(~5.7 deg).
constexpr double kMaxCotangentWeight = 10.0;

double Cotangent(const Eigen::Vector3d& apex, const Eigen::Vector3d& a, const Eigen::Vector3d& b) {
  const Eigen::Vector3d u = a - apex, v = b - apex;
  const double sin = u.cross(v).norm();
  return sin > 0.0 ? u.dot(v) / sin : 0.0;
}

// One pass x += factor * L(x), L(x)_v = sum_w weight_vw (x_w - x_v) / sum_w weight_vw.
void LaplacianPass(const Adjacency& adj, const std::vector<Eigen::Vector3d>& in,
                   std::vector<Eigen::Vector3d>& out, double factor, bool cotangent,
                   bool fix_boundary) {
  ParallelFor(
      static_cast<std::int64_t>(in.size()),
      [&](std::int64_t vi) {
        const auto v = static_cast<std::size_t>(vi);
        out[v] = in[v];
        const std::uint32_t begin = adj.offsets[v], end = adj.offsets[v + 1];
        if (begin == end || (fix_boundary && adj.boundary[v])) return;
        Eigen::Vector3d sum = Eigen::Vector3d::Zero();
        double total = 0.0;
        for (std::uint32_t i = begin; i < end; ++i) {
          const std::uint32_t w = adj.neighbours[i];
          double weight = 1.0;
          if (cotangent) {
            // (cot alpha + cot beta) / 2 over the angles opposite the edge (Desbrun et al.
            // 1999, eq. 7); negative weights (obtuse angles) are clamped to 0 so that the
            // filter stays a convex combination.
            weight = 0.0;
            for (const std::uint32_t apex : adj.opposite[i]) {
              if (apex != UINT32_MAX) weight += 0.5 * Cotangent(in[apex], in[v], in[w]);
            }
            weight = std::clamp(weight, 0.0, kMaxCotangentWeight);
          }
          sum += weight * (in[w] - in[v]);
          total += weight;
        }
        if (total > 0.0) out[v] = in[v] + factor * sum / total;
      },
      /*grain=*/512);
}

}  // namespace

void TaubinOptions::Check() const {
  FACET_CHECK(iterations >= 0, "TaubinOptions::iterations must be >= 0 (got {})", iterations);
  FACET_CHECK(lambda > 0.0 && lambda <= 1.0, "TaubinOptions::lambda must be in (0, 1] (got {})",
              lambda);
  FACET_CHECK(mu < -lambda && mu >= -1.0,
              "TaubinOptions::mu must be in [-1, -lambda) = [-1, {}) (got {}): the inflating pass "
              "must be slightly stronger than the shrinking one",
              -lambda, mu);
}

void TaubinSmooth(TriangleMesh& mesh, const TaubinOptions& options) {
  options.Check();
  FACET_CHECK(!mesh.triangles.empty(), "cannot smooth a mesh without triangles");
  mesh.Check();
  for (const auto& v : mesh.vertices) {
    FACET_CHECK(v.allFinite(), "cannot smooth a mesh with a non-finite vertex ({}, {}, {})", v.x(),
                v.y(), v.z());
  }
  if (options.iterations == 0) return;
  const Adjacency adj = BuildAdjacency(mesh);
  const bool cotangent = options.weights == TaubinOptions::Weights::kCotangent;
  std::vector<Eigen::Vector3d> scratch(mesh.vertices.size());
  for (int it = 0; it < options.iterations; ++it) {
    LaplacianPass(adj, mesh.vertices, scratch, options.lambda, cotangent, options.fix_boundary);
    LaplacianPass(adj, scratch, mesh.vertices, options.mu, cotangent, options.fix_boundary);
  }
  if (mesh.HasVertexNormals()) mesh.ComputeVertexNormals();
}

}  // namespace facet::geometry
