// KnnIndex: k-nearest-neighbour queries over a fixed set of 3D points (a KD-tree, nanoflann).
// Queries are const and thread-safe. The points must outlive the index.
#pragma once

#include <Eigen/Core>

#include <cstdint>
#include <memory>
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

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace facet::geometry
