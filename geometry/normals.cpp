#include "geometry/normals.h"

#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <queue>
#include <tuple>

#include "core/error.h"
#include "core/parallel_for.h"
#include "geometry/knn_index.h"

namespace facet::geometry {

void NormalEstimationOptions::Check() const {
  FACET_CHECK(knn >= 3, "normal estimation needs knn >= 3 neighbours (got {})", knn);
  FACET_CHECK(std::isfinite(radius) && radius >= 0.0,
              "the normal estimation radius must be >= 0 and finite, 0 for none (got {})", radius);
}

namespace {

void CheckFinitePoints(const PointCloud& cloud, const char* what) {
  for (std::size_t i = 0; i < cloud.size(); ++i) {
    FACET_CHECK(cloud.points[i].allFinite(),
                "{}: point {} is not finite ({}, {}, {}); drop NaN/Inf points first", what, i,
                cloud.points[i].x(), cloud.points[i].y(), cloud.points[i].z());
  }
}

// The unit eigenvector of the smallest eigenvalue of the neighbourhood covariance.
Eigen::Vector3d PcaNormal(const std::vector<Eigen::Vector3d>& points, const std::uint32_t* index,
                          int count) {
  Eigen::Vector3d mean = Eigen::Vector3d::Zero();
  for (int i = 0; i < count; ++i) mean += points[index[i]];
  mean /= count;
  Eigen::Matrix3d covariance = Eigen::Matrix3d::Zero();
  for (int i = 0; i < count; ++i) {
    const Eigen::Vector3d d = points[index[i]] - mean;
    covariance.noalias() += d * d.transpose();
  }
  // Scale to O(1) so that the closed-form solver keeps its precision at any unit.
  const double scale = covariance.trace();
  if (!(scale > 0.0)) return Eigen::Vector3d::UnitZ();  // coincident neighbours
  Eigen::SelfAdjointEigenSolver<Eigen::Matrix3d> solver;
  solver.computeDirect(covariance / scale);
  Eigen::Vector3d normal = solver.eigenvectors().col(0);  // eigenvalues ascending
  if (!normal.allFinite() || normal.norm() < 0.5) {
    solver.compute(covariance / scale);  // iterative fallback for near-degenerate spectra
    normal = solver.eigenvectors().col(0);
  }
  return normal.normalized();
}

void CheckHasNormals(const PointCloud& cloud, const char* what) {
  cloud.Check();
  FACET_CHECK(cloud.HasNormals(), "{}: the cloud has no normals; run EstimateNormals first", what);
}

}  // namespace

void EstimateNormals(PointCloud& cloud, const NormalEstimationOptions& options) {
  options.Check();
  cloud.Check();
  FACET_CHECK(cloud.size() >= 3, "normal estimation needs at least 3 points (got {})",
              cloud.size());
  CheckFinitePoints(cloud, "normal estimation");
  const KnnIndex index(cloud.points);
  const bool had_normals = cloud.HasNormals();
  std::vector<Eigen::Vector3d> normals(cloud.size());
  const double radius_squared = options.radius * options.radius;
  ParallelFor(
      static_cast<std::int64_t>(cloud.size()),
      [&](std::int64_t i) {
        std::vector<std::uint32_t> neighbours(static_cast<std::size_t>(options.knn));
        std::vector<double> squared(static_cast<std::size_t>(options.knn));
        const auto p = static_cast<std::size_t>(i);
        int count = index.Search(cloud.points[p], options.knn, neighbours.data(), squared.data());
        if (options.radius > 0.0) {
          int inside = 0;
          while (inside < count && squared[static_cast<std::size_t>(inside)] <= radius_squared)
            ++inside;
          count = std::max(std::min(count, 3), inside);
        }
        Eigen::Vector3d n = PcaNormal(cloud.points, neighbours.data(), count);
        if (had_normals && n.dot(cloud.normals[p]) < 0.0) n = -n;
        normals[p] = n;
      },
      /*grain=*/256);
  cloud.normals = std::move(normals);
}

void OrientNormalsTowardsViewpoint(PointCloud& cloud, const Eigen::Vector3d& viewpoint) {
  CheckHasNormals(cloud, "orienting normals towards a viewpoint");
  FACET_CHECK(viewpoint.allFinite(), "the viewpoint must be finite");
  for (std::size_t i = 0; i < cloud.size(); ++i) {
    if (cloud.normals[i].dot(viewpoint - cloud.points[i]) < 0.0) cloud.normals[i] *= -1.0;
  }
}

void OrientNormalsTowardsCameras(PointCloud& cloud,
                                 const std::vector<Eigen::Vector3d>& camera_centers) {
  CheckHasNormals(cloud, "orienting normals towards cameras");
  FACET_CHECK(!camera_centers.empty(), "orienting normals towards cameras needs camera centres");
  for (const auto& c : camera_centers) FACET_CHECK(c.allFinite(), "a camera centre is not finite");
  const KnnIndex index(camera_centers);
  ParallelFor(
      static_cast<std::int64_t>(cloud.size()),
      [&](std::int64_t i) {
        const auto p = static_cast<std::size_t>(i);
        std::uint32_t nearest = 0;
        double squared = 0.0;
        index.Search(cloud.points[p], 1, &nearest, &squared);
        if (cloud.normals[p].dot(camera_centers[nearest] - cloud.points[p]) < 0.0)
          cloud.normals[p] *= -1.0;
      },
      /*grain=*/1024);
}

void OrientNormalsConsistently(PointCloud& cloud, int knn) {
  CheckHasNormals(cloud, "orienting normals consistently");
  FACET_CHECK(knn >= 2, "consistent normal orientation needs knn >= 2 (got {})", knn);
  CheckFinitePoints(cloud, "orienting normals consistently");
  const std::size_t n = cloud.size();
  if (n == 0) return;
  // The symmetric k-nearest-neighbour graph (Hoppe's Riemannian graph without the EMST edges).
  const KnnIndex index(cloud.points);
  const int k = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(knn) + 1, n));
  std::vector<std::uint32_t> knn_table(n * static_cast<std::size_t>(k));
  std::vector<int> knn_count(n);
  ParallelFor(
      static_cast<std::int64_t>(n),
      [&](std::int64_t i) {
        std::vector<double> squared(static_cast<std::size_t>(k));
        const auto p = static_cast<std::size_t>(i);
        knn_count[p] = index.Search(cloud.points[p], k, &knn_table[p * static_cast<std::size_t>(k)],
                                    squared.data());
      },
      /*grain=*/256);
  std::vector<std::uint32_t> offsets(n + 1, 0);
  for (std::size_t i = 0; i < n; ++i) {
    for (int j = 0; j < knn_count[i]; ++j) {
      const std::uint32_t other = knn_table[i * static_cast<std::size_t>(k) + j];
      if (other == i) continue;
      ++offsets[i + 1];
      ++offsets[other + 1];
    }
  }
  for (std::size_t i = 0; i < n; ++i) offsets[i + 1] += offsets[i];
  std::vector<std::uint32_t> adjacency(offsets[n]);
  std::vector<std::uint32_t> fill(offsets.begin(), offsets.end() - 1);
  for (std::size_t i = 0; i < n; ++i) {
    for (int j = 0; j < knn_count[i]; ++j) {
      const std::uint32_t other = knn_table[i * static_cast<std::size_t>(k) + j];
      if (other == i) continue;
      adjacency[fill[i]++] = other;
      adjacency[fill[other]++] = static_cast<std::uint32_t>(i);
    }
  }
  // Prim's algorithm from the highest point of each component; a node's orientation is fixed
  // when it joins the tree, from its parent's (already fixed) normal.
  std::vector<std::uint32_t> by_height(n);
  for (std::size_t i = 0; i < n; ++i) by_height[i] = static_cast<std::uint32_t>(i);
  std::sort(by_height.begin(), by_height.end(), [&](std::uint32_t a, std::uint32_t b) {
    return cloud.points[a].z() > cloud.points[b].z() ||
           (cloud.points[a].z() == cloud.points[b].z() && a < b);
  });
  std::vector<char> in_tree(n, 0);
  using Candidate = std::tuple<double, std::uint32_t, std::uint32_t>;  // cost, node, parent
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  auto push_neighbours = [&](std::uint32_t node) {
    for (std::uint32_t e = offsets[node]; e < offsets[node + 1]; ++e) {
      const std::uint32_t other = adjacency[e];
      if (in_tree[other]) continue;
      const double cost = 1.0 - std::abs(cloud.normals[node].dot(cloud.normals[other]));
      queue.emplace(cost, other, node);
    }
  };
  for (const std::uint32_t seed : by_height) {
    if (in_tree[seed]) continue;
    if (cloud.normals[seed].z() < 0.0) cloud.normals[seed] *= -1.0;
    in_tree[seed] = 1;
    push_neighbours(seed);
    while (!queue.empty()) {
      const auto [cost, node, parent] = queue.top();
      queue.pop();
      if (in_tree[node]) continue;
      if (cloud.normals[node].dot(cloud.normals[parent]) < 0.0) cloud.normals[node] *= -1.0;
      in_tree[node] = 1;
      push_neighbours(node);
    }
  }
}

}  // namespace facet::geometry
