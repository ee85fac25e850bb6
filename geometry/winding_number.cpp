#include "geometry/winding_number.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"

namespace facet::geometry {
namespace {

using kernels::mesh_sdf::Point3;
using kernels::mesh_sdf::WindingNode;

constexpr std::int32_t kLeafTriangles = 8;

struct TriangleData {
  Eigen::Vector3d corners[3];
  Eigen::Vector3d centroid;
  Eigen::Vector3d area_normal;  // a_t n_t = (b - a) x (c - a) / 2
};

class Builder {
 public:
  Builder(const std::vector<TriangleData>& triangles, std::vector<WindingNode>& nodes)
      : triangles_(triangles), nodes_(nodes), order_(triangles.size()) {
    std::iota(order_.begin(), order_.end(), std::int32_t{0});
  }

  const std::vector<std::int32_t>& order() const { return order_; }

  // Builds the subtree of order_[begin, end) and returns its node index.
  std::int32_t Build(std::int32_t begin, std::int32_t end) {
    const auto index = std::int32_t(nodes_.size());
    nodes_.push_back(Summarise(begin, end));
    if (end - begin <= kLeafTriangles) {
      nodes_[index].first = begin;
      nodes_[index].count = end - begin;
      return index;
    }
    // Median split on the longest axis of the centroids' bounding box.
    Eigen::Vector3d lo = Eigen::Vector3d::Constant(INFINITY), hi = -lo;
    for (std::int32_t i = begin; i < end; ++i) {
      lo = lo.cwiseMin(triangles_[order_[i]].centroid);
      hi = hi.cwiseMax(triangles_[order_[i]].centroid);
    }
    int axis = 0;
    (hi - lo).maxCoeff(&axis);
    const std::int32_t mid = begin + (end - begin) / 2;
    std::nth_element(order_.begin() + begin, order_.begin() + mid, order_.begin() + end,
                     [&](std::int32_t a, std::int32_t b) {
                       return triangles_[a].centroid[axis] < triangles_[b].centroid[axis];
                     });
    Build(begin, mid);
    const std::int32_t right = Build(mid, end);
    nodes_[index].right = right;
    return index;
  }

 private:
  // The expansion data of order_[begin, end) (Barill et al. 2018, Sec. 3.2).
  WindingNode Summarise(std::int32_t begin, std::int32_t end) const {
    double area = 0.0;
    Eigen::Vector3d weighted = Eigen::Vector3d::Zero(), mean = Eigen::Vector3d::Zero();
    Eigen::Vector3d normal = Eigen::Vector3d::Zero();
    for (std::int32_t i = begin; i < end; ++i) {
      const TriangleData& t = triangles_[order_[i]];
      const double a = t.area_normal.norm();
      area += a;
      weighted += a * t.centroid;
      mean += t.centroid;
      normal += t.area_normal;
    }
    // Zero-area triangles only: any point of the node works, they contribute nothing.
    const Eigen::Vector3d center =
        area > 0.0 ? Eigen::Vector3d(weighted / area) : Eigen::Vector3d(mean / double(end - begin));
    Eigen::Matrix3d moment = Eigen::Matrix3d::Zero();
    Eigen::Matrix3d moment2[3] = {Eigen::Matrix3d::Zero(), Eigen::Matrix3d::Zero(),
                                  Eigen::Matrix3d::Zero()};
    double radius_sq = 0.0;
    for (std::int32_t i = begin; i < end; ++i) {
      const TriangleData& t = triangles_[order_[i]];
      const Eigen::Vector3d d = t.centroid - center;
      moment += d * t.area_normal.transpose();
      // (1 / a) int_t (x - p~)(x - p~)^T dA for a flat triangle.
      Eigen::Matrix3d q = d * d.transpose();
      for (const Eigen::Vector3d& c : t.corners) {
        q += (c - t.centroid) * (c - t.centroid).transpose() / 12.0;
        radius_sq = std::max(radius_sq, (c - center).squaredNorm());
      }
      for (int k = 0; k < 3; ++k) moment2[k] += t.area_normal[k] * q;
    }
    WindingNode node{};
    for (int k = 0; k < 3; ++k) {
      node.center[k] = center[k];
      node.area_normal[k] = normal[k];
      for (int j = 0; j < 3; ++j) node.moment[3 * k + j] = moment(k, j);
      const Eigen::Matrix3d& c = moment2[k];
      const double packed[6] = {c(0, 0), c(0, 1), c(0, 2), c(1, 1), c(1, 2), c(2, 2)};
      for (int j = 0; j < 6; ++j) node.moment2[6 * k + j] = packed[j];
    }
    node.radius = std::sqrt(radius_sq);
    node.first = begin;
    node.count = 0;
    node.right = -1;
    return node;
  }

  const std::vector<TriangleData>& triangles_;
  std::vector<WindingNode>& nodes_;
  std::vector<std::int32_t> order_;
};

}  // namespace

WindingNumberTree::WindingNumberTree(const TriangleMesh& mesh, double beta) : beta_(beta) {
  FACET_CHECK(std::isfinite(beta) && beta > 0.0,
              "the winding number accuracy beta must be positive and finite (got {})", beta);
  mesh.Check();
  FACET_CHECK(!mesh.triangles.empty(),
              "cannot compute winding numbers of a mesh without triangles");
  FACET_CHECK(mesh.triangles.size() < std::size_t(INT32_MAX),
              "meshes above 2^31 triangles are not supported ({} triangles)",
              mesh.triangles.size());
  for (std::size_t i = 0; i < mesh.vertices.size(); ++i) {
    FACET_CHECK(mesh.vertices[i].allFinite(),
                "mesh vertex {} is not finite ({}, {}, {}): remove or repair it first", i,
                mesh.vertices[i].x(), mesh.vertices[i].y(), mesh.vertices[i].z());
  }
  std::vector<TriangleData> triangles(mesh.triangles.size());
  for (std::size_t i = 0; i < triangles.size(); ++i) {
    TriangleData& t = triangles[i];
    for (int k = 0; k < 3; ++k) t.corners[k] = mesh.vertices[mesh.triangles[i][k]];
    t.centroid = (t.corners[0] + t.corners[1] + t.corners[2]) / 3.0;
    t.area_normal = 0.5 * (t.corners[1] - t.corners[0]).cross(t.corners[2] - t.corners[0]);
  }
  nodes_.reserve(2 * triangles.size() / kLeafTriangles + 2);
  Builder builder(triangles, nodes_);
  builder.Build(0, std::int32_t(triangles.size()));
  corners_.resize(9 * triangles.size());
  for (std::size_t i = 0; i < triangles.size(); ++i) {
    const TriangleData& t = triangles[std::size_t(builder.order()[i])];
    for (int k = 0; k < 3; ++k) {
      for (int j = 0; j < 3; ++j) corners_[9 * i + 3 * k + j] = t.corners[k][j];
    }
  }
}

double WindingNumberTree::operator()(const Eigen::Vector3d& q) const {
  return kernels::mesh_sdf::WindingNumber(nodes_.data(), corners_.data(), beta_,
                                          Point3{q.x(), q.y(), q.z()});
}

double WindingNumberTree::Exact(const Eigen::Vector3d& q) const {
  const Point3 p{q.x(), q.y(), q.z()};
  double omega = 0.0;
  for (std::size_t i = 0; i < corners_.size(); i += 9) {
    const double* v = corners_.data() + i;
    omega += kernels::mesh_sdf::TriangleSolidAngle(p, {v[0], v[1], v[2]}, {v[3], v[4], v[5]},
                                                   {v[6], v[7], v[8]});
  }
  return omega / (4.0 * M_PI);
}

}  // namespace facet::geometry
