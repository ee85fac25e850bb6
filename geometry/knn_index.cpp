#include "geometry/knn_index.h"

#include <nanoflann.hpp>

#include <cmath>

#include "core/error.h"

namespace facet::geometry {

namespace {

struct PointsAdaptor {
  const std::vector<Eigen::Vector3d>& points;

  std::size_t kdtree_get_point_count() const { return points.size(); }
  double kdtree_get_pt(std::size_t i, std::size_t dim) const {
    return points[i][static_cast<Eigen::Index>(dim)];
  }
  template <typename Box>
  bool kdtree_get_bbox(Box& /*box*/) const {
    return false;  // let nanoflann compute it
  }
};

using KdTree =
    nanoflann::KDTreeSingleIndexAdaptor<nanoflann::L2_Simple_Adaptor<double, PointsAdaptor>,
                                        PointsAdaptor, 3, std::uint32_t>;

// nanoflann result set for the single nearest point below a starting bound.
struct NearestResultSet {
  double worst;
  std::uint32_t index;
  bool found;

  double worstDist() const { return worst; }
  bool full() const { return found; }
  bool addPoint(double distance, std::uint32_t i) {
    // nanoflann compares against the bound read when it entered the leaf: check again.
    if (distance < worst) {
      worst = distance;
      index = i;
      found = true;
    }
    return true;
  }
};

}  // namespace

struct KnnIndex::Impl {
  PointsAdaptor adaptor;
  KdTree tree;

  explicit Impl(const std::vector<Eigen::Vector3d>& points)
      : adaptor{points}, tree(3, adaptor, nanoflann::KDTreeSingleIndexAdaptorParams(16)) {}
};

KnnIndex::KnnIndex(const std::vector<Eigen::Vector3d>& points) {
  FACET_CHECK(points.size() < (std::size_t{1} << 32),
              "a nearest-neighbour index holds at most 2^32 - 1 points (got {})", points.size());
  impl_ = std::make_unique<Impl>(points);
}

KnnIndex::~KnnIndex() = default;

int KnnIndex::Search(const Eigen::Vector3d& query, int k, std::uint32_t* indices,
                     double* squared_distances) const {
  if (k <= 0 || impl_->adaptor.points.empty()) return 0;
  return static_cast<int>(
      impl_->tree.knnSearch(query.data(), static_cast<std::size_t>(k), indices, squared_distances));
}

int KnnIndex::RadiusSearch(const Eigen::Vector3d& query, double squared_radius, int max_nn,
                           std::vector<std::pair<std::uint32_t, double>>* neighbours) const {
  neighbours->clear();
  if (impl_->adaptor.points.empty() || !(squared_radius > 0.0)) return 0;
  impl_->tree.radiusSearch(query.data(), squared_radius, *neighbours, nanoflann::SearchParams());
  if (max_nn > 0 && neighbours->size() > static_cast<std::size_t>(max_nn)) {
    neighbours->resize(static_cast<std::size_t>(max_nn));
  }
  return static_cast<int>(neighbours->size());
}

bool KnnIndex::Nearest(const Eigen::Vector3d& query, double max_squared_distance,
                       std::uint32_t hint, std::uint32_t* index, double* squared_distance) const {
  const auto& points = impl_->adaptor.points;
  if (points.empty() || !(max_squared_distance >= 0.0)) return false;
  // Inclusive bound: nanoflann only keeps points strictly below the running bound.
  NearestResultSet result{std::nextafter(max_squared_distance, HUGE_VAL), 0, false};
  if (hint != kNoHint && hint < points.size()) {
    const double d2 = (points[hint] - query).squaredNorm();
    if (d2 <= max_squared_distance) result = {d2, hint, true};
  }
  impl_->tree.findNeighbors(result, query.data(), nanoflann::SearchParams());
  if (!result.found) return false;
  *index = result.index;
  *squared_distance = result.worst;
  return true;
}

}  // namespace facet::geometry
