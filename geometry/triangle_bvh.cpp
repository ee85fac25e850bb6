#include "geometry/triangle_bvh.h"

#include <oneapi/tbb/parallel_invoke.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "core/error.h"
#include "core/parallel_for.h"

namespace facet::geometry {
namespace {

using kernels::Vec3;

// Subtrees above this many triangles build their two halves in parallel.
constexpr std::uint32_t kParallelBuildTriangles = 4096;

// Squared distance from p to the box [lo, hi] (0 inside).
double BoxDistanceSquared(const float lo[3], const float hi[3], const Vec3& p) {
  double d2 = 0.0;
  const double c[3] = {p.x, p.y, p.z};
  for (int a = 0; a < 3; ++a) {
    const double below = double(lo[a]) - c[a], above = c[a] - double(hi[a]);
    const double d = std::max({below, above, 0.0});
    d2 += d * d;
  }
  return d2;
}

float RoundDown(double x) {
  const auto f = static_cast<float>(x);
  return double(f) > x ? std::nextafter(f, -std::numeric_limits<float>::infinity()) : f;
}
float RoundUp(double x) {
  const auto f = static_cast<float>(x);
  return double(f) < x ? std::nextafter(f, std::numeric_limits<float>::infinity()) : f;
}

}  // namespace

void TriangleBvhOptions::Check() const {
  FACET_CHECK(leaf_size >= 1 && leaf_size <= 64,
              "TriangleBvhOptions::leaf_size must be in "
              "[1, 64] (got {})",
              leaf_size);
}

std::uint32_t TriangleBvh::SubtreeSize(std::uint32_t triangles) const {
  // A node of n > leaf_size triangles splits into floor(n / 2) and ceil(n / 2), so the sizes at
  // one depth are two consecutive integers: recurse on the pair (f(m), f(m + 1)), O(log n).
  const auto leaf = static_cast<std::uint32_t>(leaf_size_);
  auto pair = [leaf](auto&& self, std::uint32_t m) -> std::pair<std::uint32_t, std::uint32_t> {
    if (m + 1 <= leaf) return {1, 1};
    const std::uint32_t h = m / 2;
    const auto [fh, fh1] = self(self, h);
    const bool even = m % 2 == 0;
    const std::uint32_t fm = m <= leaf ? 1 : (even ? 1 + 2 * fh : 1 + fh + fh1);
    const std::uint32_t fm1 = even ? 1 + fh + fh1 : 1 + 2 * fh1;
    return {fm, fm1};
  };
  return pair(pair, triangles).first;
}

TriangleBvh::TriangleBvh(const TriangleMesh& mesh, const TriangleBvhOptions& options) {
  options.Check();
  FACET_CHECK(!mesh.triangles.empty(), "cannot build a BVH over a mesh without triangles");
  FACET_CHECK(mesh.triangles.size() < (std::size_t{1} << 31),
              "cannot build a BVH over {} triangles (at most 2^31 - 1)", mesh.triangles.size());
  mesh.Check();
  leaf_size_ = options.leaf_size;
  const auto n = static_cast<std::uint32_t>(mesh.triangles.size());
  corners_.resize(3 * std::size_t{n});
  std::vector<float> centroids(3 * std::size_t{n});
  for (std::uint32_t t = 0; t < n; ++t) {
    for (int k = 0; k < 3; ++k) {
      const Eigen::Vector3d& v = mesh.vertices[mesh.triangles[t][k]];
      FACET_CHECK(v.allFinite(), "triangle {} uses vertex {} at ({}, {}, {}), which is not finite",
                  t, mesh.triangles[t][k], v.x(), v.y(), v.z());
      corners_[3 * std::size_t{t} + k] = {v.x(), v.y(), v.z()};
    }
    const Eigen::Vector3d c =
        (mesh.vertices[mesh.triangles[t][0]] + mesh.vertices[mesh.triangles[t][1]] +
         mesh.vertices[mesh.triangles[t][2]]) /
        3.0;
    for (int a = 0; a < 3; ++a) centroids[3 * std::size_t{t} + a] = static_cast<float>(c[a]);
  }
  order_.resize(n);
  for (std::uint32_t t = 0; t < n; ++t) order_[t] = t;
  nodes_.resize(SubtreeSize(n));
  Build(0, 0, n, centroids);
}

void TriangleBvh::Build(std::uint32_t node, std::uint32_t begin, std::uint32_t end,
                        const std::vector<float>& centroids) {
  Node& out = nodes_[node];
  double lo[3], hi[3], clo[3], chi[3];
  for (int a = 0; a < 3; ++a) {
    lo[a] = clo[a] = std::numeric_limits<double>::infinity();
    hi[a] = chi[a] = -std::numeric_limits<double>::infinity();
  }
  for (std::uint32_t i = begin; i < end; ++i) {
    const std::uint32_t t = order_[i];
    for (int k = 0; k < 3; ++k) {
      const Vec3& v = corners_[3 * std::size_t{t} + k];
      const double c[3] = {v.x, v.y, v.z};
      for (int a = 0; a < 3; ++a) {
        lo[a] = std::min(lo[a], c[a]);
        hi[a] = std::max(hi[a], c[a]);
      }
    }
    for (int a = 0; a < 3; ++a) {
      clo[a] = std::min(clo[a], double(centroids[3 * std::size_t{t} + a]));
      chi[a] = std::max(chi[a], double(centroids[3 * std::size_t{t} + a]));
    }
  }
  for (int a = 0; a < 3; ++a) {
    out.lo[a] = RoundDown(lo[a]);
    out.hi[a] = RoundUp(hi[a]);
  }
  const std::uint32_t count = end - begin;
  if (count <= static_cast<std::uint32_t>(leaf_size_)) {
    out.first = begin;
    out.count = count;
    return;
  }
  int axis = 0;
  for (int a = 1; a < 3; ++a) {
    if (chi[a] - clo[a] > chi[axis] - clo[axis]) axis = a;
  }
  const std::uint32_t mid = begin + count / 2;
  // Ties broken by id so that the tree does not depend on the sort's internals.
  std::nth_element(order_.begin() + begin, order_.begin() + mid, order_.begin() + end,
                   [&](std::uint32_t x, std::uint32_t y) {
                     const float cx = centroids[3 * std::size_t{x} + axis];
                     const float cy = centroids[3 * std::size_t{y} + axis];
                     return cx != cy ? cx < cy : x < y;
                   });
  const std::uint32_t left = node + 1;
  const std::uint32_t right = left + SubtreeSize(mid - begin);
  out.first = right;
  out.count = 0;
  if (count > kParallelBuildTriangles) {
    oneapi::tbb::parallel_invoke([&] { Build(left, begin, mid, centroids); },
                                 [&] { Build(right, mid, end, centroids); });
  } else {
    Build(left, begin, mid, centroids);
    Build(right, mid, end, centroids);
  }
}

ClosestPointResult TriangleBvh::ClosestPoint(const Eigen::Vector3d& query) const {
  FACET_CHECK(query.allFinite(), "closest-point query at ({}, {}, {}) is not finite", query.x(),
              query.y(), query.z());
  const Vec3 p{query.x(), query.y(), query.z()};
  double best = std::numeric_limits<double>::infinity();
  Vec3 best_point{};
  std::uint32_t best_triangle = 0;
  // Depth is at most log2(2^31 / 1) + 1 levels; each level pushes one deferred child.
  std::uint32_t stack[64];
  int top = 0;
  stack[top++] = 0;
  while (top > 0) {
    const std::uint32_t index = stack[--top];
    const Node& node = nodes_[index];
    if (BoxDistanceSquared(node.lo, node.hi, p) >= best) continue;
    if (node.count > 0) {
      for (std::uint32_t i = node.first; i < node.first + node.count; ++i) {
        const std::uint32_t t = order_[i];
        const Vec3* c = Corners(t);
        const Vec3 x = kernels::ClosestPointOnTriangle(p, c[0], c[1], c[2]);
        const Vec3 d = x - p;
        const double d2 = kernels::Dot(d, d);
        if (d2 < best || (d2 == best && t < best_triangle)) {
          best = d2;
          best_point = x;
          best_triangle = t;
        }
      }
      continue;
    }
    // Visit the nearer child first: push it last.
    const std::uint32_t a = index + 1, b = node.first;
    const double da = BoxDistanceSquared(nodes_[a].lo, nodes_[a].hi, p);
    const double db = BoxDistanceSquared(nodes_[b].lo, nodes_[b].hi, p);
    if (da <= db) {
      if (db < best) stack[top++] = b;
      if (da < best) stack[top++] = a;
    } else {
      if (da < best) stack[top++] = a;
      if (db < best) stack[top++] = b;
    }
  }
  ClosestPointResult result;
  result.distance = std::sqrt(best);
  result.triangle = best_triangle;
  result.point = Eigen::Vector3d(best_point.x, best_point.y, best_point.z);
  return result;
}

void TriangleBvh::ForEachInBox(const Eigen::Vector3d& lo, const Eigen::Vector3d& hi,
                               const std::function<bool(std::uint32_t)>& visit) const {
  std::uint32_t stack[64];
  int top = 0;
  stack[top++] = 0;
  while (top > 0) {
    const std::uint32_t index = stack[--top];
    const Node& node = nodes_[index];
    bool overlaps = true;
    for (int a = 0; a < 3; ++a) overlaps = overlaps && node.lo[a] <= hi[a] && lo[a] <= node.hi[a];
    if (!overlaps) continue;
    if (node.count == 0) {
      stack[top++] = node.first;
      stack[top++] = index + 1;
      continue;
    }
    for (std::uint32_t i = node.first; i < node.first + node.count; ++i) {
      const std::uint32_t t = order_[i];
      const Vec3* c = Corners(t);
      bool hit = true;
      for (int a = 0; a < 3; ++a) {
        const double x0 = kernels::Component(c[0], a), x1 = kernels::Component(c[1], a),
                     x2 = kernels::Component(c[2], a);
        hit = hit && std::min({x0, x1, x2}) <= hi[a] && lo[a] <= std::max({x0, x1, x2});
      }
      if (hit && !visit(t)) return;
    }
  }
}

}  // namespace facet::geometry
