// DecimateQuadric (Garland & Heckbert 1997) on the edge-collapse machinery of mesh_collapse.h.
#include <Eigen/Dense>
#include <oneapi/tbb/parallel_sort.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <numeric>

#include "core/error.h"
#include "core/parallel_for.h"
#include "geometry/mesh_collapse.h"
#include "geometry/mesh_collapse_guard.h"
#include "geometry/mesh_processing.h"

namespace facet::geometry {
namespace {

// The quadric of squared distances to a set of planes n.x + d = 0 (Garland & Heckbert 1997,
// Sec. 5): Q(x) = x^T A x + 2 b^T x + c with A = sum n n^T, b = sum d n, c = sum d^2.
struct Quadric {
  double a00 = 0, a01 = 0, a02 = 0, a11 = 0, a12 = 0, a22 = 0;
  double b0 = 0, b1 = 0, b2 = 0;
  double c = 0;

  static Quadric Plane(const Eigen::Vector3d& n, double d, double weight) {
    Quadric q;
    q.a00 = weight * n.x() * n.x();
    q.a01 = weight * n.x() * n.y();
    q.a02 = weight * n.x() * n.z();
    q.a11 = weight * n.y() * n.y();
    q.a12 = weight * n.y() * n.z();
    q.a22 = weight * n.z() * n.z();
    q.b0 = weight * d * n.x();
    q.b1 = weight * d * n.y();
    q.b2 = weight * d * n.z();
    q.c = weight * d * d;
    return q;
  }
  Quadric& operator+=(const Quadric& o) {
    a00 += o.a00, a01 += o.a01, a02 += o.a02, a11 += o.a11, a12 += o.a12, a22 += o.a22;
    b0 += o.b0, b1 += o.b1, b2 += o.b2, c += o.c;
    return *this;
  }
  Quadric operator+(const Quadric& o) const {
    Quadric q = *this;
    return q += o;
  }
  double Evaluate(const Eigen::Vector3d& x) const {
    const double ax0 = a00 * x.x() + a01 * x.y() + a02 * x.z();
    const double ax1 = a01 * x.x() + a11 * x.y() + a12 * x.z();
    const double ax2 = a02 * x.x() + a12 * x.y() + a22 * x.z();
    return x.x() * ax0 + x.y() * ax1 + x.z() * ax2 + 2.0 * (b0 * x.x() + b1 * x.y() + b2 * x.z()) +
           c;
  }
};

std::uint64_t EdgeKey(std::uint32_t u, std::uint32_t v) {
  return (std::uint64_t{std::min(u, v)} << 32) | std::max(u, v);
}

struct Placement {
  double cost = 0.0;
  Eigen::Vector3d position{};
};

// The best of the end points and the midpoint (for an ill-conditioned quadric).
Placement BestOfEdge(const Quadric& q, const Eigen::Vector3d& pa, const Eigen::Vector3d& pb) {
  const Eigen::Vector3d candidates[3] = {pa, pb, 0.5 * (pa + pb)};
  Placement best{std::numeric_limits<double>::infinity(), pa};
  for (const auto& x : candidates) {
    const double cost = q.Evaluate(x);
    if (cost < best.cost) best = {cost, x};
  }
  best.cost = std::max(best.cost, 0.0);
  return best;
}

// Minimiser of q (Garland & Heckbert 1997, Sec. 4: solve A x = -b), regularised towards the
// edge's midpoint m: minimise Q(x) + eps |x - m|^2, i.e. (A + eps I) x = eps m - b, with eps a
// small fraction of A's mean eigenvalue. Directions the planes pin down (eigenvalues >> eps)
// keep their optimum; directions they leave free or nearly free (flat or gently curved
// surface, where A is close to rank 1, or a crease, rank 2) stay at the midpoint instead of
// drifting along the surface, which would make slivers. Falls back to the best of the end
// points and the midpoint when the solution is not finite or leaves the edge's neighbourhood.
Placement Optimal(const Quadric& q, const Eigen::Vector3d& pa, const Eigen::Vector3d& pb) {
  constexpr double kRegularisation = 1e-3;
  Eigen::Matrix3d a;
  a << q.a00, q.a01, q.a02, q.a01, q.a11, q.a12, q.a02, q.a12, q.a22;
  const double eps = kRegularisation * a.trace() / 3.0;
  if (eps > 0.0) {
    const Eigen::Vector3d mid = 0.5 * (pa + pb);
    const Eigen::Matrix3d m = a + eps * Eigen::Matrix3d::Identity();
    // Symmetric positive definite 3x3: the adjugate over the determinant.
    const Eigen::Vector3d rhs = eps * mid - Eigen::Vector3d(q.b0, q.b1, q.b2);
    const Eigen::Vector3d r0 = m.row(0), r1 = m.row(1), r2 = m.row(2);
    const Eigen::Vector3d c0 = r1.cross(r2), c1 = r2.cross(r0), c2 = r0.cross(r1);
    const double det = r0.dot(c0);
    const Eigen::Vector3d x = (c0 * rhs.x() + c1 * rhs.y() + c2 * rhs.z()) / det;
    if (x.allFinite() && (x - mid).squaredNorm() <= (pb - pa).squaredNorm()) {
      return {std::max(q.Evaluate(x), 0.0), x};
    }
  }
  return BestOfEdge(q, pa, pb);
}

// A candidate collapse of one pass: 12 bytes, sorted by cost (a float orders collapses well
// enough; the accepted cost is recomputed in double).
struct Candidate {
  float cost;
  std::uint32_t a, b;
};

// Each pass collapses at most this fraction of the live triangles' count (each collapse removes
// two): small enough that the edges deferred to the next pass (those around a vertex that just
// moved) rarely matter for the order, large enough that the passes' cost sums to a few full ones.
constexpr std::size_t kPassFraction = 10;
constexpr std::size_t kMinPassCollapses = 64;
// A pass orders only its cheapest kPassLookahead * limit candidates (the walk skips the edges of
// locked vertices, so it needs more candidates than collapses).
constexpr std::size_t kPassLookahead = 4;
// The intersection guard's grid is rebuilt (dropping stale entries and refitting its cell size)
// when the live triangles fell below this fraction of those it was built with.
constexpr double kGuardRebuild = 0.6;

}  // namespace

void DecimationOptions::Check() const {
  FACET_CHECK(target_triangles >= 4,
              "DecimationOptions::target_triangles must be at least 4 (got "
              "{})",
              target_triangles);
  FACET_CHECK(max_error >= 0.0, "DecimationOptions::max_error must be >= 0 (got {})", max_error);
  FACET_CHECK(max_normal_change_deg > 0.0 && max_normal_change_deg < 180.0,
              "DecimationOptions::max_normal_change_deg must be in (0, 180) (got {})",
              max_normal_change_deg);
  FACET_CHECK(min_triangle_quality >= 0.0 && min_triangle_quality < 1.0,
              "DecimationOptions::min_triangle_quality must be in [0, 1) (got {})",
              min_triangle_quality);
  FACET_CHECK(boundary_weight >= 0.0 && std::isfinite(boundary_weight),
              "DecimationOptions::boundary_weight must be >= 0 and finite (got {})",
              boundary_weight);
}

DecimationReport DecimateQuadric(TriangleMesh& mesh, const DecimationOptions& options) {
  options.Check();
  FACET_CHECK(!mesh.triangles.empty(), "cannot decimate a mesh without triangles");
  mesh.Check();
  for (const auto& v : mesh.vertices) {
    FACET_CHECK(v.allFinite(), "cannot decimate a mesh with a non-finite vertex ({}, {}, {})",
                v.x(), v.y(), v.z());
  }
  DecimationReport report;
  report.initial_triangles = mesh.triangles.size();
  if (mesh.triangles.size() <= options.target_triangles) {
    report.final_triangles = mesh.triangles.size();
    report.reached_target = true;
    return report;
  }
  const bool normals = mesh.HasVertexNormals();
  // Triangles that repeat an index have no plane and no edges: drop them first.
  std::erase_if(mesh.triangles, [](const Eigen::Matrix<std::uint32_t, 3, 1>& t) {
    return t[0] == t[1] || t[1] == t[2] || t[0] == t[2];
  });
  detail::CollapsibleMesh work(std::move(mesh));
  const std::size_t nv = work.NumVertices();
  const std::size_t nt = work.NumTriangles();

  // Plane quadrics weighted by area (Garland & Heckbert 1997, Sec. 6.1), summed per vertex.
  std::vector<Quadric> triangle_quadrics(nt);
  ParallelFor(
      static_cast<std::int64_t>(nt),
      [&](std::int64_t t) {
        const auto& tri = work.Triangle(static_cast<std::uint32_t>(t));
        const Eigen::Vector3d& p0 = work.Position(tri[0]);
        const Eigen::Vector3d n = (work.Position(tri[1]) - p0).cross(work.Position(tri[2]) - p0);
        const double twice_area = n.norm();
        if (twice_area > 0.0) {
          const Eigen::Vector3d unit = n / twice_area;
          triangle_quadrics[static_cast<std::size_t>(t)] =
              Quadric::Plane(unit, -unit.dot(p0), 0.5 * twice_area);
        }
      },
      /*grain=*/1024);
  std::vector<Quadric> quadrics(nv);
  ParallelFor(
      static_cast<std::int64_t>(nv),
      [&](std::int64_t v) {
        for (const std::uint32_t t : work.TrianglesOf(static_cast<std::uint32_t>(v))) {
          quadrics[static_cast<std::size_t>(v)] += triangle_quadrics[t];
        }
      },
      /*grain=*/1024);

  // Boundary constraint planes on the edges used by a single triangle.
  if (options.boundary_weight > 0.0) {
    std::vector<std::pair<std::uint64_t, std::uint32_t>> edges;  // (key, triangle)
    edges.reserve(3 * nt);
    for (std::uint32_t t = 0; t < nt; ++t) {
      const auto& tri = work.Triangle(t);
      for (int k = 0; k < 3; ++k) edges.emplace_back(EdgeKey(tri[k], tri[(k + 1) % 3]), t);
    }
    oneapi::tbb::parallel_sort(edges.begin(), edges.end());
    for (std::size_t begin = 0; begin < edges.size();) {
      std::size_t end = begin + 1;
      while (end < edges.size() && edges[end].first == edges[begin].first) ++end;
      if (end - begin == 1) {
        // A plane through the boundary edge, perpendicular to its triangle (Sec. 6.2).
        const auto u = static_cast<std::uint32_t>(edges[begin].first >> 32);
        const auto v = static_cast<std::uint32_t>(edges[begin].first & 0xffffffffu);
        const auto& tri = work.Triangle(edges[begin].second);
        const Eigen::Vector3d& p0 = work.Position(tri[0]);
        const Eigen::Vector3d n = (work.Position(tri[1]) - p0).cross(work.Position(tri[2]) - p0);
        const Eigen::Vector3d e = work.Position(v) - work.Position(u);
        const Eigen::Vector3d m = e.cross(n);
        if (m.squaredNorm() > 0.0) {
          const Eigen::Vector3d unit = m.normalized();
          const Quadric q = Quadric::Plane(unit, -unit.dot(work.Position(u)),
                                           options.boundary_weight * e.squaredNorm());
          quadrics[u] += q;
          quadrics[v] += q;
        }
      }
      begin = end;
    }
  }

  // Greedy collapses in order of cost, in passes. A pass lists the live edges, costs them in
  // parallel and sorts them; then it walks them cheapest first, collapsing each that is still
  // legal. An edge's cost depends only on its end points' quadrics, which change only at the
  // vertex a collapse keeps: that vertex is locked for the rest of the pass, so every collapse a
  // pass makes has the cost it was sorted by — the order is the priority queue's, except that
  // the edges around the vertices moved in a pass wait for the next one (Garland & Heckbert use
  // a heap with updates; this batch form sorts in parallel, touches memory in order, and retries
  // rejected collapses in the next pass, when their neighbourhood has changed).
  detail::CollapseLimits limits;
  limits.min_normal_cos = std::cos(options.max_normal_change_deg * std::numbers::pi / 180.0);
  limits.min_quality = options.min_triangle_quality;
  std::vector<std::uint32_t> locked(nv, 0);  // the pass that last moved the vertex
  std::vector<std::size_t> offsets(nt + 1, 0);
  std::vector<Candidate> candidates;
  detail::IntersectionGuard guard;
  // A collapse to p is taken when it is legal and, with the guard, crosses nothing.
  const auto acceptable = [&](std::uint32_t a, std::uint32_t b, const Eigen::Vector3d& p) {
    return work.CanCollapse(a, b, p, limits) &&
           !(options.prevent_self_intersections && guard.CollapseIntersects(work, a, b, p));
  };
  for (std::uint32_t pass = 1; work.LiveTriangles() > options.target_triangles; ++pass) {
    if (options.prevent_self_intersections &&
        (pass == 1 ||
         static_cast<double>(work.LiveTriangles()) <
             kGuardRebuild * static_cast<double>(guard.BuiltTriangles()) ||
         guard.AddedEntries() > 2 * work.LiveTriangles())) {
      guard.Build(work);
    }
    // The live edges, each once: a consistently oriented interior edge runs from its smaller to
    // its larger vertex in exactly one of its two triangles; a boundary edge may run the other
    // way in its only triangle, so edges between boundary vertices are taken in both directions
    // (a duplicate is harmless: its second visit finds a locked or dead vertex, or is rejected).
    const auto take = [&](const Eigen::Matrix<std::uint32_t, 3, 1>& tri, int k) {
      const std::uint32_t u = tri[k], v = tri[(k + 1) % 3];
      return u < v || (work.OnBoundary(u) && work.OnBoundary(v));
    };
    ParallelFor(
        static_cast<std::int64_t>(nt),
        [&](std::int64_t t) {
          std::uint32_t count = 0;
          if (work.TriangleAlive(static_cast<std::uint32_t>(t))) {
            const auto& tri = work.Triangle(static_cast<std::uint32_t>(t));
            for (int k = 0; k < 3; ++k) count += take(tri, k) ? 1 : 0;
          }
          offsets[static_cast<std::size_t>(t) + 1] = count;
        },
        /*grain=*/4096);
    std::partial_sum(offsets.begin(), offsets.end(), offsets.begin());
    candidates.resize(offsets.back());
    ParallelFor(
        static_cast<std::int64_t>(nt),
        [&](std::int64_t t) {
          std::size_t out = offsets[static_cast<std::size_t>(t)];
          if (out == offsets[static_cast<std::size_t>(t) + 1]) return;
          const auto& tri = work.Triangle(static_cast<std::uint32_t>(t));
          for (int k = 0; k < 3; ++k) {
            if (!take(tri, k)) continue;
            const std::uint32_t a = std::min(tri[k], tri[(k + 1) % 3]);
            const std::uint32_t b = std::max(tri[k], tri[(k + 1) % 3]);
            const Placement place =
                Optimal(quadrics[a] + quadrics[b], work.Position(a), work.Position(b));
            candidates[out++] = {static_cast<float>(place.cost), a, b};
          }
        },
        /*grain=*/1024);
    // Only the cheapest few times `limit` can be reached before the pass ends: order those.
    const std::size_t limit =
        std::max(kMinPassCollapses, work.LiveTriangles() / (2 * kPassFraction));
    const auto by_cost = [](const Candidate& x, const Candidate& y) {
      if (x.cost != y.cost) return x.cost < y.cost;
      return x.a != y.a ? x.a < y.a : x.b < y.b;
    };
    // Walk in chunks: order the cheapest chunk (nth_element, then sort), walk it, and order the
    // next (twice larger) one only if the pass still needs collapses.
    std::size_t done = 0;
    bool over_budget = false;
    for (std::size_t begin = 0, chunk = kPassLookahead * limit;
         begin < candidates.size() && done < limit && !over_budget; begin += chunk, chunk *= 2) {
      const std::size_t end = std::min(candidates.size(), begin + chunk);
      if (end < candidates.size()) {
        std::nth_element(candidates.begin() + static_cast<std::ptrdiff_t>(begin),
                         candidates.begin() + static_cast<std::ptrdiff_t>(end), candidates.end(),
                         by_cost);
      }
      oneapi::tbb::parallel_sort(candidates.begin() + static_cast<std::ptrdiff_t>(begin),
                                 candidates.begin() + static_cast<std::ptrdiff_t>(end), by_cost);
      for (std::size_t i = begin; i < end; ++i) {
        const Candidate& c = candidates[i];
        if (done >= limit || work.LiveTriangles() <= options.target_triangles) break;
        const std::uint32_t a = c.a, b = c.b;
        if (locked[a] == pass || locked[b] == pass || !work.VertexAlive(a) ||
            !work.VertexAlive(b)) {
          continue;
        }
        const Quadric q = quadrics[a] + quadrics[b];
        const Eigen::Vector3d pa = work.Position(a), pb = work.Position(b);
        Placement place = Optimal(q, pa, pb);
        if (place.cost > options.max_error) {  // the rest of the pass costs more
          over_budget = true;
          break;
        }
        if (!acceptable(a, b, place.position)) {
          // The optimum may fold a neighbour (or cross another part of the surface) where an end
          // point or the midpoint would not.
          const Placement fallback = BestOfEdge(q, pa, pb);
          if (fallback.cost > options.max_error || fallback.position == place.position ||
              !acceptable(a, b, fallback.position)) {
            continue;
          }
          place = fallback;
        }
        Eigen::Vector3f color = Eigen::Vector3f::Zero();
        if (work.HasColors()) {
          // Interpolate at the projection of the new position on the edge.
          const Eigen::Vector3d e = pb - pa;
          const double s =
              e.squaredNorm() > 0.0
                  ? std::clamp((place.position - pa).dot(e) / e.squaredNorm(), 0.0, 1.0)
                  : 0.5;
          color = (1.0f - static_cast<float>(s)) * work.Color(a) +
                  static_cast<float>(s) * work.Color(b);
        }
        work.Collapse(a, b, place.position, color);
        if (options.prevent_self_intersections) guard.Update(work, a);
        quadrics[a] += quadrics[b];
        locked[a] = pass;
        ++done;
        ++report.collapses;
        report.max_collapse_error = std::max(report.max_collapse_error, place.cost);
      }
    }
    if (done == 0) break;  // no legal collapse within max_error is left
  }
  report.reached_target = work.LiveTriangles() <= options.target_triangles;
  mesh = work.Release(normals);
  report.final_triangles = mesh.triangles.size();
  return report;
}

}  // namespace facet::geometry
