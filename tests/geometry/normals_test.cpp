#include "geometry/normals.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "core/error.h"

namespace facet::geometry {
namespace {

// n points uniformly on a sphere, with the outward normals kept aside as ground truth.
PointCloud Sphere(std::size_t n, double radius, const Eigen::Vector3d& center,
                  std::vector<Eigen::Vector3d>* truth, std::uint64_t seed = 3) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> gaussian;
  PointCloud cloud;
  for (std::size_t i = 0; i < n; ++i) {
    const Eigen::Vector3d d =
        Eigen::Vector3d(gaussian(rng), gaussian(rng), gaussian(rng)).normalized();
    cloud.points.push_back(center + radius * d);
    truth->push_back(d);
  }
  return cloud;
}

TEST(Normals, SphereEstimatesMatchTheRadialDirection) {
  std::vector<Eigen::Vector3d> truth;
  PointCloud cloud = Sphere(5000, 2.0, Eigen::Vector3d(1, 0, 0), &truth);
  EstimateNormals(cloud);
  ASSERT_EQ(cloud.normals.size(), cloud.size());
  // 30 neighbours span about sqrt(30 / 5000 * 4) = 0.15 rad of the sphere: the fitted plane's
  // normal is off the radial direction by a fraction of that.
  for (std::size_t i = 0; i < cloud.size(); ++i) {
    EXPECT_NEAR(cloud.normals[i].norm(), 1.0, 1e-9);
    EXPECT_GT(std::abs(cloud.normals[i].dot(truth[i])), 0.995) << i;
  }
  OrientNormalsConsistently(cloud);
  for (std::size_t i = 0; i < cloud.size(); ++i)
    EXPECT_GT(cloud.normals[i].dot(truth[i]), 0.0) << i;
}

TEST(Normals, BoxFacesGetTheirFaceNormalAwayFromTheEdges) {
  // Points on the faces of the box [0, 2] x [0, 1] x [0, 1], 4000 per unit of area.
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  PointCloud cloud;
  std::vector<Eigen::Vector3d> truth;
  const Eigen::Vector3d size(2, 1, 1);
  for (int axis = 0; axis < 3; ++axis) {
    for (int side = 0; side < 2; ++side) {
      const int a = (axis + 1) % 3, b = (axis + 2) % 3;
      const int count = int(4000 * size[a] * size[b]);
      for (int i = 0; i < count; ++i) {
        Eigen::Vector3d p;
        p[axis] = side * size[axis];
        p[a] = u(rng) * size[a];
        p[b] = u(rng) * size[b];
        cloud.points.push_back(p);
        truth.push_back((side ? 1.0 : -1.0) * Eigen::Vector3d::Unit(axis));
      }
    }
  }
  NormalEstimationOptions options;
  options.knn = 20;
  options.radius = 0.1;
  EstimateNormals(cloud, options);
  OrientNormalsTowardsViewpoint(cloud, Eigen::Vector3d(1.0, 0.5, 0.5));  // the centre: inwards
  for (std::size_t i = 0; i < cloud.size(); ++i) {
    const Eigen::Vector3d& p = cloud.points[i];
    // Distance to the nearest edge of the point's own face: the other two coordinates' margins.
    double margin = std::numeric_limits<double>::infinity();
    for (int axis = 0; axis < 3; ++axis) {
      if (std::abs(truth[i][axis]) > 0.5) continue;
      margin = std::min({margin, p[axis], size[axis] - p[axis]});
    }
    if (margin > 0.1) {
      EXPECT_LT(cloud.normals[i].dot(truth[i]), -0.999) << i;  // inwards
    }
    EXPECT_GE(cloud.normals[i].dot(Eigen::Vector3d(1.0, 0.5, 0.5) - p), 0.0);
  }
}

TEST(Normals, ConsistentOrientationFacesOutwardsOnEachOfTwoSpheres) {
  std::vector<Eigen::Vector3d> truth_a, truth_b;
  PointCloud a = Sphere(3000, 1.0, Eigen::Vector3d::Zero(), &truth_a, 7);
  const PointCloud b = Sphere(2000, 0.5, Eigen::Vector3d(5, 0, -1), &truth_b, 8);
  a.points.insert(a.points.end(), b.points.begin(), b.points.end());
  truth_a.insert(truth_a.end(), truth_b.begin(), truth_b.end());
  EstimateNormals(a);
  // Scramble the signs, then orient.
  std::mt19937_64 rng(9);
  for (auto& n : a.normals) {
    if (rng() & 1) n = -n;
  }
  OrientNormalsConsistently(a);
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_GT(a.normals[i].dot(truth_a[i]), 0.0) << i;
}

TEST(Normals, CamerasOrientEachPointTowardsTheNearestCentre) {
  std::vector<Eigen::Vector3d> truth;
  PointCloud cloud = Sphere(2000, 1.0, Eigen::Vector3d::Zero(), &truth);
  EstimateNormals(cloud);
  // Six cameras around the sphere, at distance 4: each point's nearest camera sees it from
  // outside, so the normals end up outward.
  std::vector<Eigen::Vector3d> centers;
  for (int axis = 0; axis < 3; ++axis) {
    centers.push_back(4.0 * Eigen::Vector3d::Unit(axis));
    centers.push_back(-4.0 * Eigen::Vector3d::Unit(axis));
  }
  OrientNormalsTowardsCameras(cloud, centers);
  for (std::size_t i = 0; i < cloud.size(); ++i)
    EXPECT_GT(cloud.normals[i].dot(truth[i]), 0.0) << i;
}

TEST(Normals, RejectsBadInput) {
  PointCloud two;
  two.points = {Eigen::Vector3d::Zero(), Eigen::Vector3d::UnitX()};
  EXPECT_THROW(EstimateNormals(two), Error);
  std::vector<Eigen::Vector3d> truth;
  PointCloud with_nan = Sphere(100, 1.0, Eigen::Vector3d::Zero(), &truth);
  with_nan.points[5].z() = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(EstimateNormals(with_nan), Error);
  PointCloud cloud = Sphere(100, 1.0, Eigen::Vector3d::Zero(), &truth);
  NormalEstimationOptions options;
  options.knn = 2;
  EXPECT_THROW(EstimateNormals(cloud, options), Error);
  options = {};
  options.radius = -1.0;
  EXPECT_THROW(EstimateNormals(cloud, options), Error);
  EXPECT_THROW(OrientNormalsConsistently(cloud), Error);  // no normals yet
  EXPECT_THROW(OrientNormalsTowardsViewpoint(cloud, Eigen::Vector3d::Zero()), Error);
  EstimateNormals(cloud);
  EXPECT_THROW(OrientNormalsTowardsCameras(cloud, {}), Error);
  EXPECT_THROW(OrientNormalsConsistently(cloud, 1), Error);
}

TEST(Normals, IdenticalPointsGetAFiniteNormal) {
  PointCloud cloud;
  cloud.points.assign(10, Eigen::Vector3d(1, 2, 3));
  EstimateNormals(cloud);
  for (const auto& n : cloud.normals) EXPECT_NEAR(n.norm(), 1.0, 1e-12);
}

}  // namespace
}  // namespace facet::geometry
