// The whole SfM pipeline on the built-in synthetic scene, scored against its exact cameras: every
// view registered, rotation error < 0.1 deg, camera-centre error < 0.1% of the scene size, mean
// reprojection error < 0.5 px (issue 4's accuracy targets), plus the cache and bad input.
#include "sfm/pipeline.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "core/file_io.h"
#include "core/progress.h"
#include "datasets/synthetic/dataset_writer.h"
#include "geometry/pose_metrics.h"
#include "sfm/detail/mapping_checkpoint_io.h"
#include "tests/common/temp_dir.h"

namespace facet::sfm {
namespace {

namespace fs = std::filesystem;

class SyntheticSfm : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    SetProgressQuiet(true);
    dir_ = new testing::TempDir(testing::TempDir::kPreferMemory);
    datasets::synthetic::SynthOptions options;
    options.num_views = 12;
    options.distortion = -0.02;
    scene_ = new datasets::synthetic::SyntheticScene(
        datasets::synthetic::WriteSyntheticDataset(options, dir_->path()));
  }
  static void TearDownTestSuite() {
    delete scene_;
    delete dir_;
  }
  static fs::path Images() { return dir_->path() / "images"; }
  static const datasets::Image* Truth(const std::string& name) {
    const datasets::Image* image = scene_->scene.FindImage("images/" + name);
    return image ? image : scene_->scene.FindImage(name);
  }

  static testing::TempDir* dir_;
  static datasets::synthetic::SyntheticScene* scene_;
};
testing::TempDir* SyntheticSfm::dir_ = nullptr;
datasets::synthetic::SyntheticScene* SyntheticSfm::scene_ = nullptr;

TEST_F(SyntheticSfm, RegistersEveryViewWithinTheAccuracyTargets) {
  const SfmResult result = RunSfm(Images(), dir_->path() / "database");
  ASSERT_EQ(result.models.size(), 1u);
  const datasets::Scene& model = result.models[0];
  EXPECT_EQ(model.NumRegisteredImages(), 12u);
  EXPECT_TRUE(result.not_registered.empty());
  model.Check();

  std::vector<geometry::Rigid3> est, truth;
  std::vector<Eigen::Vector3d> centers;
  for (const auto& [id, image] : model.images) {
    const datasets::Image* gt = Truth(image.name);
    ASSERT_NE(gt, nullptr) << image.name;
    est.push_back(*image.cam_from_world);
    truth.push_back(*gt->cam_from_world);
    centers.push_back(geometry::CameraCenter(*gt->cam_from_world));
  }
  double scene_size = 0.0;  // the largest distance between two true camera centres
  for (const auto& a : centers) {
    for (const auto& b : centers) scene_size = std::max(scene_size, (a - b).norm());
  }
  const auto errors = geometry::ComputeAbsolutePoseErrors(est, truth);
  ASSERT_TRUE(errors.has_value());
  const ModelSummary summary = Summarize(model);
  std::printf(
      "synthetic: %zu views, %zu points, track %.2f, reprojection %.3f px, rotation max "
      "%.4f deg, centre max %.3f mm of %.2f m\n",
      summary.num_registered, summary.num_points, summary.mean_track_length,
      summary.mean_reprojection_error_px, errors->rotation_error_max_deg,
      1e3 * errors->center_error_max, scene_size);
  EXPECT_LT(errors->rotation_error_max_deg, 0.1);
  EXPECT_LT(errors->center_error_max, 1e-3 * scene_size);
  EXPECT_LT(summary.mean_reprojection_error_px, 0.5);
  EXPECT_GT(summary.num_points, 1000u);
  // The distortion of the synthetic camera is recovered.
  const geometry::Camera& camera = model.cameras.begin()->second;
  const geometry::Camera& true_camera = scene_->scene.cameras.begin()->second;
  EXPECT_NEAR(camera.params[0] / true_camera.params[0], 1.0, 0.005);
  EXPECT_NEAR(camera.params[3], -0.02, 0.005);
}

TEST_F(SyntheticSfm, RerunReusesTheCache) {
  const fs::path db = dir_->path() / "database-cache";
  const SfmResult first = RunSfm(Images(), db);
  ASSERT_TRUE(fs::exists(db / "verified_pairs.bin"));
  EXPECT_FALSE(fs::exists(db / "mapping"));  // the mapping checkpoint goes once mapping ends
  const SfmResult second = RunSfm(Images(), db);
  // Nothing recomputed: features and verification take a fraction of the first run's time.
  EXPECT_LT(second.timings.features_s + second.timings.matching_s,
            0.5 * (first.timings.features_s + first.timings.matching_s));
  EXPECT_EQ(second.num_verified_pairs, first.num_verified_pairs);
  ASSERT_EQ(second.models.size(), 1u);
  EXPECT_EQ(second.models[0].NumRegisteredImages(), first.models[0].NumRegisteredImages());
  // A corrupt cache is reported, naming the file.
  WriteFileAtomically(db / "verified_pairs.bin", std::string_view("garbage"));
  try {
    RunSfm(Images(), db);
    FAIL() << "a corrupt cache must throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("verified_pairs.bin"), std::string::npos) << e.what();
  }
}

// The mapper resumed from a checkpoint taken half-way reaches the same result as a full run.
TEST_F(SyntheticSfm, MapperResumesFromACheckpoint) {
  const datasets::ImageFolder folder = datasets::ScanImageFolder(Images());
  const FolderFeatures features = ExtractFolderFeatures(folder, SiftOptions{});
  const std::vector<ImagePair> pairs = SelectImagePairs(features.features);
  const std::vector<PairMatches> matches = MatchImagePairs(features.features, pairs);
  datasets::Scene skeleton;
  const datasets::CameraId camera_id(1);
  skeleton.cameras[camera_id] =
      geometry::Camera::Create(geometry::CameraModelId::kSimpleRadial, 1.2 * 640, 640, 480);
  std::vector<datasets::ImageId> ids;
  std::vector<std::uint32_t> num_points2d;
  std::vector<std::vector<Eigen::Vector2d>> points(folder.entries.size());
  for (std::size_t i = 0; i < folder.entries.size(); ++i) {
    const datasets::ImageId id(static_cast<std::uint32_t>(i + 1));
    ids.push_back(id);
    datasets::Image& image = skeleton.images[id];
    image.id = id;
    image.name = folder.entries[i].name;
    image.camera_id = camera_id;
    for (const Keypoint& k : features.features[i].keypoints) {
      image.points2d.push_back({Eigen::Vector2d(k.x, k.y), {}});
      points[i].emplace_back(k.x, k.y);
    }
    num_points2d.push_back(static_cast<std::uint32_t>(image.points2d.size()));
  }
  std::vector<ImagePairGeometry> verified;
  for (const PairMatches& m : matches) {
    const auto& camera = skeleton.cameras.at(camera_id);
    verified.push_back({m.pair.first, m.pair.second,
                        EstimateTwoViewGeometry(camera, points[m.pair.first], camera,
                                                points[m.pair.second], m.matches)});
  }
  const CorrespondenceGraph graph(num_points2d, verified);

  std::optional<MapperCheckpoint> half;
  MapperCallbacks callbacks;
  callbacks.on_checkpoint = [&](const std::vector<datasets::Scene>& finished,
                                const datasets::Scene* partial, datasets::ImageId init1,
                                datasets::ImageId init2) {
    if (half || !partial || partial->NumRegisteredImages() < 6) return;
    half = MapperCheckpoint{finished, *partial, init1, init2};
  };
  const MapperOptions options;
  const auto full = RunIncrementalMapper(skeleton, ids, graph, options, callbacks);
  ASSERT_TRUE(half.has_value());
  EXPECT_LT(half->partial->NumRegisteredImages(), 12u);

  // Through the workspace's checkpoint files, as a rerun would read them.
  const fs::path folder_path = dir_->path() / "checkpoint";
  detail::WriteMappingCheckpoint(folder_path, "key", half->finished, &*half->partial, half->init1,
                                 half->init2);
  EXPECT_FALSE(detail::ReadMappingCheckpoint(folder_path, "other key").has_value());
  const auto read = detail::ReadMappingCheckpoint(folder_path, "key");
  ASSERT_TRUE(read.has_value());
  ASSERT_TRUE(read->partial.has_value());
  EXPECT_EQ(read->partial->NumRegisteredImages(), half->partial->NumRegisteredImages());
  EXPECT_EQ(read->partial->points3d.size(), half->partial->points3d.size());

  const auto resumed = RunIncrementalMapper(skeleton, ids, graph, options, {}, &*read);
  ASSERT_EQ(full.size(), 1u);
  ASSERT_EQ(resumed.size(), 1u);
  EXPECT_EQ(resumed[0].NumRegisteredImages(), 12u);
  std::vector<geometry::Rigid3> est, truth;
  for (const auto& [id, image] : resumed[0].images) {
    est.push_back(*image.cam_from_world);
    truth.push_back(*Truth(image.name)->cam_from_world);
  }
  const auto errors = geometry::ComputeAbsolutePoseErrors(est, truth);
  ASSERT_TRUE(errors.has_value());
  EXPECT_LT(errors->rotation_error_max_deg, 0.1);

  // A damaged checkpoint is ignored (the mapping starts over), not fatal.
  WriteFileAtomically(folder_path / "state.txt", std::string_view("garbage\n"));
  EXPECT_FALSE(detail::ReadMappingCheckpoint(folder_path, "key").has_value());
}

TEST(SfmBadInput, EmptyFolderIsAClearError) {
  testing::TempDir dir;
  try {
    RunSfm(dir.path(), {});
    FAIL() << "an empty folder must throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(dir.path().string()), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace facet::sfm
