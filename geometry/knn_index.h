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

  static constexpr std::uint32_t kNoHint = 0xffffffffu;
  // The nearest point of `query` within squared distance max_squared_distance (inclusive): its
  // index and squared distance; false (outputs untouched) when there is none. `hint`, a point
  // index or kNoHint, is a guess (e.g. the previous ICP iteration's neighbour): its distance
  // bounds the search from the start, which prunes most of the tree when the guess is close; the
  // answer is the exact nearest regardless (ties go to the hint, then to the first point found).
  bool Nearest(const Eigen::Vector3d& query, double max_squared_distance, std::uint32_t hint,
               std::uint32_t* index, double* squared_distance) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace facet::geometry
