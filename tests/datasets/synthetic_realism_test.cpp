// The synthetic scene must be realistic enough to exercise the pipeline as real photos do:
// SIFT finds plenty of features in every view, and COLMAP (the reference SfM, when installed)
// registers the views with sub-half-degree rotation errors. Renders the default 40 views once.
#include <gtest/gtest.h>
#include <opencv2/features2d.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/run_command.h"
#include "common/temp_dir.h"
#include "core/progress.h"
#include "datasets/colmap_model.h"
#include "datasets/synthetic/dataset_writer.h"
#include "geometry/pose_metrics.h"

namespace facet::datasets::synthetic {
namespace {

namespace fs = std::filesystem;

class SyntheticRealism : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<testing::TempDir>();
    SetProgressQuiet(true);
    scene_ = std::make_unique<SyntheticScene>(WriteSyntheticDataset(SynthOptions(), dir_->path()));
    SetProgressQuiet(false);
  }
  static void TearDownTestSuite() {
    scene_.reset();
    dir_.reset();
  }

  static std::unique_ptr<testing::TempDir> dir_;
  static std::unique_ptr<SyntheticScene> scene_;
};

std::unique_ptr<testing::TempDir> SyntheticRealism::dir_;
std::unique_ptr<SyntheticScene> SyntheticRealism::scene_;

TEST_F(SyntheticRealism, SiftFindsAtLeast2000FeaturesInEveryView) {
  cv::Ptr<cv::SIFT> sift = cv::SIFT::create();
  int fewest = 1 << 30;
  for (const auto& [id, image] : scene_->scene.images) {
    const cv::Mat gray =
        cv::imread((dir_->path() / "images" / image.name).string(), cv::IMREAD_GRAYSCALE);
    ASSERT_FALSE(gray.empty()) << image.name;
    std::vector<cv::KeyPoint> keypoints;
    sift->detect(gray, keypoints);
    EXPECT_GE(keypoints.size(), 2000u) << image.name;
    fewest = std::min(fewest, static_cast<int>(keypoints.size()));
  }
  RecordProperty("fewest_sift_features", fewest);
  std::printf("OpenCV SIFT: at least %d features in each of the %zu views\n", fewest,
              scene_->scene.images.size());
}

TEST_F(SyntheticRealism, ColmapRegistersTheViewsWithSubHalfDegreeRotationErrors) {
  if (testing::RunCommand("command -v colmap").exit_code != 0) {
    GTEST_SKIP() << "colmap is not installed (scripts/deps.sh --peers installs it)";
  }
  const fs::path work = dir_->path() / "colmap";
  fs::create_directories(work / "sparse");
  const std::string db = (work / "database.db").string();
  const std::string images = (dir_->path() / "images").string();
  // CPU SIFT (headless), one shared PINHOLE camera, sequential matching along the orbit.
  const std::string commands[] = {
      "colmap feature_extractor --database_path '" + db + "' --image_path '" + images +
          "' --ImageReader.single_camera 1 --ImageReader.camera_model PINHOLE"
          " --SiftExtraction.use_gpu 0",
      "colmap sequential_matcher --database_path '" + db +
          "' --SiftMatching.use_gpu 0 --SequentialMatching.overlap 6",
      "colmap mapper --database_path '" + db + "' --image_path '" + images + "' --output_path '" +
          (work / "sparse").string() + "'",
  };
  for (const std::string& command : commands) {
    const auto result = testing::RunCommand(command);
    ASSERT_EQ(result.exit_code, 0)
        << command << "\n"
        << result.output.substr(result.output.size() > 3000 ? result.output.size() - 3000 : 0);
  }
  ASSERT_TRUE(fs::exists(work / "sparse" / "0" / "images.bin"));
  const Scene estimated = ReadColmapModel(work / "sparse" / "0");

  std::vector<geometry::Rigid3> est, truth;
  for (const auto& [id, image] : estimated.images) {
    const Image* gt = scene_->scene.FindImage(image.name);
    ASSERT_NE(gt, nullptr) << image.name;
    est.push_back(*image.cam_from_world);
    truth.push_back(*gt->cam_from_world);
  }
  const std::size_t views = scene_->scene.images.size();
  EXPECT_GE(est.size() * 100, views * 95) << est.size() << " of " << views << " registered";
  const auto errors = geometry::ComputeAbsolutePoseErrors(est, truth);
  ASSERT_TRUE(errors.has_value());
  EXPECT_LT(errors->rotation_error_max_deg, 0.5);
  RecordProperty("registered", static_cast<int>(est.size()));
  RecordProperty("rotation_error_max_deg", std::to_string(errors->rotation_error_max_deg));
  RecordProperty("ate_rmse_m", std::to_string(errors->ate_rmse));
  std::printf(
      "COLMAP registered %zu/%zu views; rotation error max %.3f deg, mean %.3f deg; ATE %.4f m\n",
      est.size(), views, errors->rotation_error_max_deg, errors->rotation_error_mean_deg,
      errors->ate_rmse);
}

}  // namespace
}  // namespace facet::datasets::synthetic
