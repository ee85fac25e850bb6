#include "sfm/place_recognition.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <numbers>

#include "core/error.h"
#include "core/image_io.h"
#include "datasets/rgbd.h"
#include "datasets/synthetic/synthetic_scene.h"

namespace facet::sfm {
namespace {

using geometry::Rigid3;
namespace synthetic = datasets::synthetic;

constexpr double kDegree = std::numbers::pi / 180.0;

// The synthetic hand-held RGB-D sequence at 320x240: the camera walks around the object at about
// 0.5 degrees per frame, a full orbit in about 754 frames. Views are rendered on first use.
class SyntheticRgbd {
 public:
  static SyntheticRgbd& Get() {
    static SyntheticRgbd instance;
    return instance;
  }

  const KeyframeFeatures& Features(int frame) {
    auto it = features_.find(frame);
    if (it == features_.end()) {
      const synthetic::RenderedView view = synthetic::RenderSyntheticView(scene_, renderer_, frame);
      it = features_.emplace(frame, ExtractKeyframeFeatures(view.rgb, view.depth, Camera())).first;
    }
    return it->second;
  }
  const Rigid3& CamFromWorld(int frame) const {
    return *scene_.scene.images.at(scene_.image_order[static_cast<std::size_t>(frame)])
                .cam_from_world;
  }
  Rigid3 TargetFromSource(int source, int target) const {
    return CamFromWorld(target) * CamFromWorld(source).Inverse();
  }
  const geometry::Camera& Camera() const { return scene_.scene.cameras.begin()->second; }

 private:
  static synthetic::SynthOptions Options() {
    synthetic::SynthOptions options;
    options.rgbd = true;
    options.width = 320;
    options.height = 240;
    options.num_views = 760;
    options.supersampling = 1;  // faster renders; ORB does not need anti-aliasing
    return options;
  }
  SyntheticRgbd()
      : scene_(synthetic::MakeSyntheticScene(Options())), renderer_(MakeRenderer(scene_)) {}

  synthetic::SyntheticScene scene_;
  synthetic::Renderer renderer_;
  std::map<int, KeyframeFeatures> features_;
};

void ExpectPoseNear(const Rigid3& actual, const Rigid3& expected, double max_translation,
                    double max_angle) {
  EXPECT_LE((actual.translation - expected.translation).norm(), max_translation);
  EXPECT_LE(actual.rotation.angularDistance(expected.rotation), max_angle);
}

TEST(PlaceRecognition, FeaturesHaveDepthAndFollowThePixelConvention) {
  SyntheticRgbd& data = SyntheticRgbd::Get();
  const KeyframeFeatures& features = data.Features(0);
  ASSERT_GT(features.size(), 300u);
  ASSERT_EQ(features.points_in_cam.size(), features.size());
  ASSERT_EQ(features.descriptors.size(), features.size());
  int with_depth = 0;
  for (std::size_t k = 0; k < features.size(); ++k) {
    const Eigen::Vector3d& p = features.points_in_cam[k];
    if (!p.allFinite()) continue;
    ++with_depth;
    // The point projects back into the pixel of its keypoint (it is the surface point at that
    // pixel's centre, within half a pixel of the keypoint).
    const auto pixel = data.Camera().ImgFromCam(p);
    ASSERT_TRUE(pixel.has_value());
    EXPECT_LE((pixel->cast<float>() - features.keypoints[k]).cwiseAbs().maxCoeff(), 0.5f + 1e-3f);
  }
  EXPECT_GT(with_depth, static_cast<int>(features.size()) / 2);
}

TEST(PlaceRecognition, TwoViewsOfTheSamePlaceGiveTheirRelativePose) {
  SyntheticRgbd& data = SyntheticRgbd::Get();
  // 30 frames apart: about 15 degrees around the object and 0.4 m.
  for (const auto& [source, target] : {std::pair{0, 30}, std::pair{30, 0}, std::pair{200, 230}}) {
    SCOPED_TRACE(testing::Message() << source << " -> " << target);
    const RelativePoseEstimate estimate =
        EstimateRelativePose3D(data.Features(source), data.Features(target));
    ASSERT_TRUE(estimate.success) << estimate.matches << " matches, " << estimate.inliers;
    EXPECT_GE(estimate.inliers, 25);
    EXPECT_LT(estimate.inlier_rmse, 0.03);
    EXPECT_EQ(estimate.inlier_matches.size(), static_cast<std::size_t>(estimate.inliers));
    ExpectPoseNear(estimate.target_from_source, data.TargetFromSource(source, target), 0.02,
                   1.0 * kDegree);
  }
}

TEST(PlaceRecognition, DatabaseRanksTheRevisitFirst) {
  SyntheticRgbd& data = SyntheticRgbd::Get();
  KeyframeDatabase database;
  for (int frame = 0; frame <= 630; frame += 90) database.Add(frame, data.Features(frame));
  EXPECT_THROW(database.Add(0, data.Features(0)), Error);
  // Frame 745 comes back to where frame 0 was, after a full orbit.
  const int revisit = 745;
  const std::vector<LoopCandidate> candidates =
      database.Query(data.Features(revisit), revisit - 100, 3);
  ASSERT_FALSE(candidates.empty());
  EXPECT_EQ(candidates.front().keyframe_id, 0);
  EXPECT_LE(candidates.size(), 3u);
  for (std::size_t k = 1; k < candidates.size(); ++k) {
    EXPECT_GE(candidates[k - 1].num_matches, candidates[k].num_matches);
  }
  const RelativePoseEstimate estimate =
      EstimateRelativePose3D(data.Features(revisit), *database.Find(0));
  ASSERT_TRUE(estimate.success);
  ExpectPoseNear(estimate.target_from_source, data.TargetFromSource(revisit, 0), 0.02,
                 1.0 * kDegree);
  // Excluding keyframe 0 by id leaves it out.
  for (const LoopCandidate& c : database.Query(data.Features(revisit), -1, 3)) {
    ADD_FAILURE() << "unexpected candidate " << c.keyframe_id;
  }
}

TEST(PlaceRecognition, UnrelatedPlacesAreRejected) {
  SyntheticRgbd& data = SyntheticRgbd::Get();
  // Opposite sides of the orbit: the object from behind, the other half of the room.
  for (const auto& [source, target] : {std::pair{0, 377}, std::pair{377, 0}, std::pair{180, 560}}) {
    SCOPED_TRACE(testing::Message() << source << " -> " << target);
    const RelativePoseEstimate estimate =
        EstimateRelativePose3D(data.Features(source), data.Features(target));
    EXPECT_FALSE(estimate.success) << estimate.matches << " matches, " << estimate.inliers;
  }
}

TEST(PlaceRecognition, LivingRoomFramesAgreeWithOpen3dTrajectory) {
  const std::filesystem::path folder = FACET_SOURCE_DIR "/../shared/data/rgbd-livingroom";
  if (!std::filesystem::exists(folder)) GTEST_SKIP() << "shared data not found: " << folder;
  datasets::RedwoodReadOptions read;
  read.trajectory_log = "open3d_trajectory.log";
  const geometry::Camera camera =
      geometry::CameraFromOpenCvIntrinsics(525.0, 525.0, 319.5, 239.5, 640, 480);
  const datasets::RgbdSequence sequence = datasets::ReadRedwoodSequence(folder, camera, read);
  ASSERT_GE(sequence.frames.size(), 11u);
  const auto features = [&](int f) {
    const datasets::RgbdFrame& frame = sequence.frames[static_cast<std::size_t>(f)];
    const ImageU8 rgb = ReadImage<std::uint8_t>(frame.color_path);
    const ImageF32 depth = datasets::LoadDepthMeters(frame.depth_path, sequence.depth_scale);
    return ExtractKeyframeFeatures(rgb, depth, camera);
  };
  const RelativePoseEstimate estimate = EstimateRelativePose3D(features(0), features(10));
  ASSERT_TRUE(estimate.success);
  const Rigid3 expected =
      sequence.frames[10].world_from_cam->Inverse() * *sequence.frames[0].world_from_cam;
  ExpectPoseNear(estimate.target_from_source, expected, 0.03, 1.5 * kDegree);
}

TEST(PlaceRecognition, BadInputThrows) {
  SyntheticRgbd& data = SyntheticRgbd::Get();
  const geometry::Camera& camera = data.Camera();
  const ImageU8 rgb(camera.width, camera.height, 3);
  const ImageF32 depth(camera.width, camera.height, 1);
  const ImageF32 small(camera.width / 2, camera.height, 1);
  EXPECT_THROW(ExtractKeyframeFeatures(rgb, small, camera), Error);
  EXPECT_THROW(ExtractKeyframeFeatures(ImageU8(), depth, camera), Error);
  KeyframeFeatureOptions features;
  features.max_depth = 0.0;
  EXPECT_THROW(ExtractKeyframeFeatures(rgb, depth, camera, features), Error);
  // A flat image has no corners.
  EXPECT_EQ(ExtractKeyframeFeatures(rgb, depth, camera).size(), 0u);

  KeyframeFeatures broken = data.Features(0);
  broken.descriptors.pop_back();
  EXPECT_THROW(EstimateRelativePose3D(broken, data.Features(0)), Error);
  EXPECT_THROW(KeyframeDatabase().Add(1, broken), Error);
  RelativePoseOptions pose;
  pose.min_inliers = 2;
  EXPECT_THROW(EstimateRelativePose3D(data.Features(0), data.Features(0), pose), Error);
  pose = {};
  pose.matching.ratio = 0.0;
  EXPECT_THROW(EstimateRelativePose3D(data.Features(0), data.Features(0), pose), Error);
  KeyframeDatabaseOptions database;
  database.min_matches = -1;
  EXPECT_THROW(KeyframeDatabase{database}, Error);
}

}  // namespace
}  // namespace facet::sfm
