// The mapper's building blocks (correspondence graph, triangulation, absolute pose) against
// exact synthetic geometry.
#include <Eigen/Geometry>
#include <gtest/gtest.h>

#include <random>

#include "geometry/pose_metrics.h"
#include "sfm/absolute_pose.h"
#include "sfm/correspondence_graph.h"
#include "sfm/triangulation.h"

namespace facet::sfm {
namespace {

geometry::Rigid3 LookingAtOrigin(const Eigen::Vector3d& eye) {
  const Eigen::Vector3d z = (-eye).normalized();
  const Eigen::Vector3d x = Eigen::Vector3d::UnitZ().cross(z).normalized();
  const Eigen::Vector3d y = z.cross(x);
  Eigen::Matrix3d world_from_cam;
  world_from_cam << x, y, z;
  const Eigen::Matrix3d r = world_from_cam.transpose();
  return {Eigen::Quaterniond(r), -r * eye};
}

TEST(CorrespondenceGraph, LinksMatchedKeypointsBothWays) {
  const std::vector<std::uint32_t> counts = {5, 4, 3};
  std::vector<ImagePairGeometry> pairs(3);
  pairs[0] = {0, 1, {}};
  pairs[0].geometry.config = TwoViewConfig::kCalibrated;
  pairs[0].geometry.inlier_matches = {{0, 1}, {2, 3}};
  pairs[1] = {2, 1, {}};  // reversed order: normalised by the graph
  pairs[1].geometry.config = TwoViewConfig::kUncalibrated;
  pairs[1].geometry.inlier_matches = {{0, 1}};  // image 2 keypoint 0 <-> image 1 keypoint 1
  pairs[2] = {0, 2, {}};
  pairs[2].geometry.config = TwoViewConfig::kDegenerate;  // not verified: ignored
  pairs[2].geometry.inlier_matches = {{4, 2}};
  const CorrespondenceGraph graph(counts, pairs);
  ASSERT_EQ(graph.Pairs().size(), 2u);
  ASSERT_EQ(graph.Find(1, 1).size(), 2u);
  EXPECT_EQ(graph.Find(1, 1)[0].image, 0u);
  EXPECT_EQ(graph.Find(1, 1)[0].point2d, 0u);
  EXPECT_EQ(graph.Find(1, 1)[1].image, 2u);
  EXPECT_EQ(graph.Find(2, 0)[0].point2d, 1u);
  EXPECT_TRUE(graph.Find(0, 4).empty());
  EXPECT_EQ(graph.NumObservations(1), 2u);
  EXPECT_EQ(graph.NumCorrespondences(1), 3u);
  EXPECT_GE(graph.FindPair(1, 0), 0);
  EXPECT_EQ(graph.FindPair(0, 2), -1);
  EXPECT_EQ(graph.Neighbors(1).size(), 2u);
}

TEST(CorrespondenceGraph, RejectsOutOfRangeMatches) {
  const std::vector<std::uint32_t> counts = {2, 2};
  std::vector<ImagePairGeometry> pairs(1);
  pairs[0] = {0, 1, {}};
  pairs[0].geometry.config = TwoViewConfig::kCalibrated;
  pairs[0].geometry.inlier_matches = {{0, 7}};
  EXPECT_THROW(CorrespondenceGraph(counts, pairs), Error);
}

TEST(Triangulation, RecoversPointsExactlyFromThreeViews) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  const std::vector<geometry::Rigid3> poses = {
      LookingAtOrigin({4, 0, 1}), LookingAtOrigin({3, 2, 1}), LookingAtOrigin({2, 3.5, 0.5})};
  for (int trial = 0; trial < 50; ++trial) {
    const Eigen::Vector3d x(u(rng), u(rng), u(rng));
    std::vector<Matrix34d> mats;
    std::vector<Eigen::Vector2d> norms;
    for (const auto& p : poses) {
      const Eigen::Vector3d c = p * x;
      mats.push_back(p.ToMatrix());
      norms.push_back(c.hnormalized());
    }
    const auto y = TriangulateMultiView(mats, norms);
    ASSERT_TRUE(y.has_value());
    EXPECT_LT((*y - x).norm(), 1e-9);
  }
  std::vector<Matrix34d> one = {poses[0].ToMatrix()};
  std::vector<Eigen::Vector2d> one_point = {Eigen::Vector2d::Zero()};
  EXPECT_FALSE(TriangulateMultiView(one, one_point).has_value());
}

TEST(Triangulation, AngleBetweenRays) {
  EXPECT_NEAR(TriangulationAngleDeg({1, 0, 0}, {0, 1, 0}, {0, 0, 0}), 90.0, 1e-12);
  const std::vector<Eigen::Vector3d> centers = {{1, 0, 0}, {0, 1, 0}, {-1, 0, 0}};
  EXPECT_NEAR(MaxTriangulationAngleDeg(centers, Eigen::Vector3d::Zero()), 180.0, 1e-9);
  EXPECT_TRUE(HasTriangulationAngle(centers, Eigen::Vector3d::Zero(), 179.0));
  // Rays from (1,0,0) and (1.01,0,0) to (0,0,10) meet at about 0.057 degrees.
  const std::vector<Eigen::Vector3d> close = {{1, 0, 0}, {1.01, 0, 0}};
  EXPECT_FALSE(HasTriangulationAngle(close, {0, 0, 10}, 0.1));
  EXPECT_TRUE(HasTriangulationAngle(close, {0, 0, 10}, 0.05));
}

class AbsolutePoseTest : public ::testing::TestWithParam<geometry::CameraModelId> {};

TEST_P(AbsolutePoseTest, RecoversThePoseDespiteOutliers) {
  geometry::Camera camera = geometry::Camera::Create(GetParam(), 600.0, 800, 600);
  if (GetParam() == geometry::CameraModelId::kSimpleRadial) camera.params[3] = -0.08;
  const geometry::Rigid3 truth = LookingAtOrigin({3.0, -2.0, 1.5});
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::normal_distribution<double> noise(0.0, 0.5);
  std::vector<Eigen::Vector2d> xy;
  std::vector<Eigen::Vector3d> xyz;
  std::size_t num_outliers = 0;
  while (xy.size() < 400) {
    const Eigen::Vector3d x(u(rng), u(rng), u(rng));
    const auto px = camera.ImgFromCam(truth * x);
    if (!px || px->x() < 0 || px->y() < 0 || px->x() > 800 || px->y() > 600) continue;
    const bool outlier = xy.size() % 3 == 0;  // a third are wrong correspondences
    xy.push_back(outlier ? Eigen::Vector2d(400 + 400 * u(rng), 300 + 300 * u(rng))
                         : Eigen::Vector2d(*px + Eigen::Vector2d(noise(rng), noise(rng))));
    xyz.push_back(x);
    num_outliers += outlier;
  }
  const AbsolutePoseResult result = EstimateAbsolutePose(camera, xy, xyz);
  ASSERT_TRUE(result.success);
  // The yardstick is the least-squares pose on exactly the true inliers (started at the truth, a
  // near-quadratic loss): the best any estimator can do with this noise. RANSAC plus the robust
  // refinement must come close to it.
  std::vector<Eigen::Vector2d> in_xy;
  std::vector<Eigen::Vector3d> in_xyz;
  for (std::size_t i = 0; i < xy.size(); ++i) {
    if (i % 3 != 0) {
      in_xy.push_back(xy[i]);
      in_xyz.push_back(xyz[i]);
    }
  }
  geometry::Rigid3 best = truth;
  ASSERT_TRUE(RefineAbsolutePose(camera, in_xy, in_xyz, 50, 100.0, &best));
  const double best_rotation = geometry::RotationAngleDeg(best.rotation, truth.rotation);
  const double best_center = (geometry::CameraCenter(best) - geometry::CameraCenter(truth)).norm();
  EXPECT_LT(geometry::RotationAngleDeg(result.cam_from_world.rotation, truth.rotation),
            1.5 * best_rotation + 0.005);
  EXPECT_LT((geometry::CameraCenter(result.cam_from_world) - geometry::CameraCenter(truth)).norm(),
            1.5 * best_center + 0.001);
  // 0.5 px of noise is a small fraction of a degree here.
  EXPECT_LT(best_rotation, 0.2);
  EXPECT_GE(result.num_inliers, xy.size() - num_outliers - 5);
  EXPECT_LE(result.num_inliers, xy.size() - num_outliers + 5);
}

TEST(AbsolutePose, IsExactWithoutNoise) {
  const geometry::Camera camera =
      geometry::Camera::Create(geometry::CameraModelId::kSimpleRadial, 700.0, 800, 600);
  const geometry::Rigid3 truth = LookingAtOrigin({-2.0, 3.0, 1.0});
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<Eigen::Vector2d> xy;
  std::vector<Eigen::Vector3d> xyz;
  while (xy.size() < 100) {
    const Eigen::Vector3d x(u(rng), u(rng), u(rng));
    xy.push_back(*camera.ImgFromCam(truth * x));
    xyz.push_back(x);
  }
  const AbsolutePoseResult result = EstimateAbsolutePose(camera, xy, xyz);
  ASSERT_TRUE(result.success);
  EXPECT_EQ(result.num_inliers, 100u);
  EXPECT_LT(geometry::RotationAngleDeg(result.cam_from_world.rotation, truth.rotation), 1e-6);
  EXPECT_LT((result.cam_from_world.translation - truth.translation).norm(), 1e-8);
}

INSTANTIATE_TEST_SUITE_P(Models, AbsolutePoseTest,
                         ::testing::Values(geometry::CameraModelId::kPinhole,
                                           geometry::CameraModelId::kSimpleRadial));

TEST(AbsolutePose, FailsWithTooFewCorrespondences) {
  const geometry::Camera camera =
      geometry::Camera::Create(geometry::CameraModelId::kPinhole, 500, 640, 480);
  const std::vector<Eigen::Vector2d> xy(10, Eigen::Vector2d(100, 100));
  const std::vector<Eigen::Vector3d> xyz(10, Eigen::Vector3d(0, 0, 5));
  EXPECT_FALSE(EstimateAbsolutePose(camera, xy, xyz).success);
  AbsolutePoseOptions bad;
  bad.max_error_px = 0;
  EXPECT_THROW(EstimateAbsolutePose(camera, xy, xyz, bad), Error);
}

}  // namespace
}  // namespace facet::sfm
