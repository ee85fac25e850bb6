// KnnIndex: k-nearest-neighbour queries over a fixed set of 3D points (a KD-tree, nanoflann).
// Queries are const and thread-safe. The points must outlive the index.
#pragma once

#include <Eigen/Core>

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace facet::geometry {

class KnnIndex {
 public:
  // Throws facet::Error for more than 2^32 - 1 points.
  explicit KnnIndex(const std::vector<Eigen::Vector3d>& points);
  ~KnnIndex();
  KnnIndex(const KnnIndex&) = delete;
  KnnIndex& operator=(const KnnIndex&) = delete;

  // The min(k, size) nearest points of `query`, nearest first: their indices and squared
  // distances (arrays of at least k). Returns how many were found.
  int Search(const Eigen::Vector3d& query, int k, std::uint32_t* indices,
             double* squared_distances) const;

  // The points strictly closer than sqrt(squared_radius) to `query`, nearest first, at most
  // max_nn of them (all when max_nn <= 0), as (index, squared distance) in `neighbours` (its
  // storage reused). Faster than Search with a large k when the radius bounds the result.
  // Returns how many were found.
  int RadiusSearch(const Eigen::Vector3d& query, double squared_radius, int max_nn,
                   std::vector<std::pair<std::uint32_t, double>>* neighbours) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace facet::geometry
