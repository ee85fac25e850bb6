// Inputs shared by the registration tests: the Stanford bunny and the Open3D fragments from
// ../shared/data (tests skip when absent), and random rigid motions.
#pragma once

#include <Eigen/Geometry>

#include <filesystem>
#include <random>
#include <string>

#include "datasets/ply.h"
#include "geometry/normals.h"
#include "geometry/point_cloud.h"
#include "geometry/rigid3.h"

namespace facet::geometry::test {

inline std::filesystem::path BunnyPath() {
  return FACET_SOURCE_DIR "/../shared/data/stanford-bunny/bun_zipper.ply";
}

inline std::filesystem::path FragmentPath(int i) {
  return std::filesystem::path(FACET_SOURCE_DIR "/../shared/data/icp-fragments") /
         ("cloud_bin_" + std::to_string(i) + ".pcd");
}

// The bunny's vertices with PCA normals (read once).
inline const PointCloud& Bunny() {
  static const PointCloud bunny = [] {
    PointCloud cloud = datasets::ReadPointCloudPly(BunnyPath());
    EstimateNormals(cloud, {.knn = 20});
    return cloud;
  }();
  return bunny;
}

// The largest extent of the cloud's bounds.
inline double Size(const PointCloud& cloud) {
  return ComputeBounds(cloud.points).Extent().maxCoeff();
}

// A rotation about a uniformly random axis by up to max_angle and a translation in a random
// direction of length up to max_translation.
inline Rigid3 RandomMotion(std::mt19937& rng, double max_angle, double max_translation) {
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const Eigen::Vector3d axis = Eigen::Vector3d(normal(rng), normal(rng), normal(rng)).normalized();
  const Eigen::Vector3d direction =
      Eigen::Vector3d(normal(rng), normal(rng), normal(rng)).normalized();
  return {Eigen::Quaterniond(Eigen::AngleAxisd(max_angle * unit(rng), axis)),
          max_translation * unit(rng) * direction};
}

}  // namespace facet::geometry::test
