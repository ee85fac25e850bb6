// Open3D 0.16 as an oracle for ComputeFpfh: on the same points and normals (an Open3D test
// fragment, downsampled), every histogram must equal Open3D's ComputeFPFHFeature with
// KDTreeSearchParamHybrid(radius, max_nn), bin for bin.
#include <gtest/gtest.h>
#include <open3d/geometry/KDTreeSearchParam.h>
#include <open3d/geometry/PointCloud.h>
#include <open3d/pipelines/registration/Feature.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "datasets/pcd.h"
#include "geometry/fpfh.h"
#include "geometry/normals.h"

namespace facet::geometry {
namespace {

std::filesystem::path FragmentPath() {
  return FACET_SOURCE_DIR "/../shared/data/icp-fragments/cloud_bin_0.pcd";
}

// Largest |ours - Open3D's| over all bins and points.
double MaxDifference(const PointCloud& cloud, double radius, int max_nn) {
  const FpfhFeatures ours = ComputeFpfh(cloud, {.radius = radius, .max_nn = max_nn});
  open3d::geometry::PointCloud o3d;
  o3d.points_ = cloud.points;
  o3d.normals_ = cloud.normals;
  const auto theirs = open3d::pipelines::registration::ComputeFPFHFeature(
      o3d, open3d::geometry::KDTreeSearchParamHybrid(radius, max_nn));
  EXPECT_EQ(theirs->Dimension(), kFpfhBins);
  EXPECT_EQ(theirs->Num(), static_cast<std::size_t>(ours.cols()));
  return (ours - theirs->data_).cwiseAbs().maxCoeff();
}

TEST(Open3dOracle, FpfhMatchesOpen3dOnFragment) {
  if (!std::filesystem::exists(FragmentPath())) GTEST_SKIP() << "no " << FragmentPath();
  // The fragment's own normals, averaged by the downsampling (Open3D's tutorial voxel: 5 cm).
  const PointCloud cloud = VoxelDownsample(datasets::ReadPcd(FragmentPath()), 0.05);
  ASSERT_TRUE(cloud.HasNormals());
  ASSERT_GT(cloud.size(), 500u);
  // The same operations in the same order give equal bins (0 measured); 1e-9 of parts that total
  // 200 allows for a compiler contracting a multiply-add, while one pair in another bin, or one
  // neighbour more or less, moves some bin by far more.
  const double radius_5 = MaxDifference(cloud, 0.25, 100);
  const double few_neighbours = MaxDifference(cloud, 0.25, 8);  // max_nn binds
  std::printf("FPFH vs Open3D on %zu points: max |diff| %.3g (max_nn 100), %.3g (max_nn 8)\n",
              cloud.size(), radius_5, few_neighbours);
  EXPECT_LT(radius_5, 1e-9);
  EXPECT_LT(few_neighbours, 1e-9);
}

TEST(Open3dOracle, FpfhMatchesOpen3dWithEstimatedNormals) {
  if (!std::filesystem::exists(FragmentPath())) GTEST_SKIP() << "no " << FragmentPath();
  PointCloud cloud = VoxelDownsample(datasets::ReadPcd(FragmentPath()), 0.05);
  cloud.normals.clear();  // PCA normals with arbitrary signs: pairs swap and flip more often
  EstimateNormals(cloud, {.knn = 30, .radius = 0.1});
  // A small radius leaves some points without neighbours (all-zero histograms on both sides).
  EXPECT_LT(MaxDifference(cloud, 0.06, 100), 1e-9);
  EXPECT_LT(MaxDifference(cloud, 0.25, 100), 1e-9);
}

}  // namespace
}  // namespace facet::geometry
