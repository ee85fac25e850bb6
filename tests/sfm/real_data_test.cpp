// SfM on real photos from ../shared/data (skipped when absent): Strecha's fountain-P11 at quarter
// size against its ground-truth cameras, and Sceaux castle against its calibrated focal length.
// Issue 4's figures: 11/11 registered; fountain camera-centre error below 5 mm (mean, after Sim3)
// and rotation error below 0.2 deg with the principal point refined; Sceaux mean reprojection
// error below 1 px and focal within 2% of K.txt.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/progress.h"
#include "datasets/benchmarks.h"
#include "geometry/pose_metrics.h"
#include "sfm/pipeline.h"
#include "tests/common/temp_dir.h"

namespace facet::sfm {
namespace {

namespace fs = std::filesystem;

fs::path SharedData(const std::string& relative) {
  return fs::path(FACET_SOURCE_DIR "/../shared/data") / relative;
}

TEST(RealDataSfm, FountainP11QuarterSizeMatchesGroundTruth) {
  const fs::path images = SharedData("strecha-fountain-P11/images_q4");
  const fs::path gt = SharedData("strecha-fountain-P11/gt_dense_cameras");
  if (!fs::exists(images) || !fs::exists(gt)) GTEST_SKIP() << "shared data not found: " << images;
  SetProgressQuiet(true);
  SfmOptions options;
  options.mapper.refine_principal_point = true;
  const SfmResult result = RunSfm(images, {}, options);
  ASSERT_FALSE(result.models.empty());
  const datasets::Scene& model = result.models[0];
  ASSERT_EQ(model.NumRegisteredImages(), 11u);

  datasets::StrechaReadOptions read;
  read.image_scale = 0.25;
  const auto cameras = datasets::ReadStrechaCameras(gt, read);
  std::vector<geometry::Rigid3> est, truth;
  for (const auto& [id, image] : model.images) {
    est.push_back(*image.cam_from_world);
    truth.push_back(cameras.at(image.name).cam_from_world);
  }
  const auto errors = geometry::ComputeAbsolutePoseErrors(est, truth);
  ASSERT_TRUE(errors.has_value());
  const ModelSummary summary = Summarize(model);
  std::printf(
      "fountain-P11 q4: %zu points, reprojection %.3f px, centre error mean %.2f max %.2f "
      "mm, rotation mean %.3f max %.3f deg\n",
      summary.num_points, summary.mean_reprojection_error_px, 1e3 * errors->center_error_mean,
      1e3 * errors->center_error_max, errors->rotation_error_mean_deg,
      errors->rotation_error_max_deg);
  EXPECT_LT(errors->center_error_mean, 0.005);
  EXPECT_LT(errors->rotation_error_max_deg, 0.2);
  EXPECT_LT(summary.mean_reprojection_error_px, 1.0);
}

TEST(RealDataSfm, SceauxCastleQuarterSizeRecoversTheFocalLength) {
  const fs::path images = SharedData("sceaux-castle/images_q4");
  if (!fs::exists(images)) GTEST_SKIP() << "shared data not found: " << images;
  SetProgressQuiet(true);
  const SfmResult result = RunSfm(images, {});
  ASSERT_FALSE(result.models.empty());
  const datasets::Scene& model = result.models[0];
  EXPECT_EQ(model.NumRegisteredImages(), 11u);
  double k[9];
  std::ifstream in(images / "K.txt");
  for (double& v : k) in >> v;
  ASSERT_TRUE(in) << "cannot parse " << images / "K.txt";
  const ModelSummary summary = Summarize(model);
  const double focal = model.cameras.begin()->second.FocalX();
  std::printf("sceaux q4: %zu points, reprojection %.3f px, focal %.1f px vs %.1f (%+.2f%%)\n",
              summary.num_points, summary.mean_reprojection_error_px, focal, k[0],
              100.0 * (focal / k[0] - 1.0));
  EXPECT_LT(summary.mean_reprojection_error_px, 1.0);
  EXPECT_NEAR(focal / k[0], 1.0, 0.02);
}

}  // namespace
}  // namespace facet::sfm
