#include "datasets/benchmarks.h"

#include <Eigen/Geometry>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

#include "common/temp_dir.h"
#include "core/error.h"
#include "core/file_io.h"

namespace facet::datasets {
namespace {

namespace fs = std::filesystem;
using facet::testing::TempDir;
using geometry::Rigid3;

const fs::path kData = FACET_SOURCE_DIR "/../shared/data";

Eigen::Matrix<double, 3, 4> Compose(const Eigen::Matrix3d& k, const Rigid3& cam_from_world) {
  return k * cam_from_world.ToMatrix();
}

// P / ||P|| with a fixed sign, to compare projections "up to scale".
Eigen::Matrix<double, 3, 4> Normalized(const Eigen::Matrix<double, 3, 4>& p) {
  const double sign = p.leftCols<3>().determinant() < 0 ? -1.0 : 1.0;
  return sign * p / p.norm();
}

TEST(DecomposeProjection, RecoversCalibrationAndPoseForAnyScale) {
  std::mt19937 rng(5);
  std::normal_distribution<double> normal;
  for (int trial = 0; trial < 50; ++trial) {
    Eigen::Matrix3d k;
    k << 800 + 100 * normal(rng), 0.5 * normal(rng), 320 + 10 * normal(rng),  //
        0, 790 + 100 * normal(rng), 240 + 10 * normal(rng),                   //
        0, 0, 1;
    const Rigid3 pose(
        Eigen::Quaterniond(normal(rng), normal(rng), normal(rng), normal(rng)).normalized(),
        Eigen::Vector3d(normal(rng), normal(rng), normal(rng)));
    const double scale = (trial % 2 ? -1.0 : 1.0) * std::exp(normal(rng));  // negative too
    const ProjectionDecomposition d = DecomposeProjection(scale * Compose(k, pose));
    // Relative round-off of a 3x3 QR: a few machine epsilons times the condition of K (~1e3).
    EXPECT_LT((d.calibration - k).cwiseAbs().maxCoeff(), 1e-9 * k.norm());
    EXPECT_LT(d.cam_from_world.rotation.angularDistance(pose.rotation), 1e-12);
    EXPECT_LT((d.cam_from_world.translation - pose.translation).norm(), 1e-12);
  }
  EXPECT_THROW(DecomposeProjection(Eigen::Matrix<double, 3, 4>::Zero()), Error);
}

TEST(StrechaCamera, ConvertsCameraToWorldRotationAndCentre) {
  TempDir dir;
  // Camera axes in the world: x_cam = world y, y_cam = world z, z_cam = world x (R's columns),
  // centre at (1, 2, 3).
  WriteFileAtomically(dir / "0007.jpg.camera", std::string_view("100 0 50\n0 110 40\n0 0 1\n"
                                                                "0 0 0\n"
                                                                "0 0 1\n1 0 0\n0 1 0\n"
                                                                "1 2 3\n"
                                                                "100 80\n"));
  const auto cameras = ReadStrechaCameras(dir.path(), {.image_scale = 0.5});
  ASSERT_EQ(cameras.size(), 1u);
  const StrechaCamera& c = cameras.at("0007.jpg");
  EXPECT_EQ(c.camera.width, 50);
  EXPECT_EQ(c.camera.height, 40);
  EXPECT_EQ(c.camera.params, (std::vector<double>{50, 55, 25, 20}));
  // A point one metre along world x from the centre lies on the optical axis, one metre ahead.
  const Eigen::Vector3d ahead = c.cam_from_world * Eigen::Vector3d(2, 2, 3);
  EXPECT_LT((ahead - Eigen::Vector3d(0, 0, 1)).norm(), 1e-15);
  EXPECT_LT((c.cam_from_world * Eigen::Vector3d(1, 3, 3) - Eigen::Vector3d(1, 0, 0)).norm(), 1e-15);
  EXPECT_LT((c.cam_from_world * Eigen::Vector3d(1, 2, 4) - Eigen::Vector3d(0, 1, 0)).norm(), 1e-15);
}

TEST(StrechaCamera, MalformedFilesAreRefused) {
  TempDir dir;
  const std::string good_tail = "0 0 0\n1 0 0\n0 1 0\n0 0 1\n0 0 0\n100 80\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"100 0 50\n0 110 40\n0 0 1\n0 0 0\n1 0 0\n0 1 0\n0 0 1\n0 0 0\n", "found 24"},
      {"100 0 50\n0 110 40\n0 0 1\n" + good_tail + "7\n", "line 10"},
      {"100 0 50\n0 110 x\n0 0 1\n" + good_tail, "line 2"},
      {"100 3 50\n0 110 40\n0 0 1\n" + good_tail, "K must be"},
      {"100 0 50\n0 110 40\n0 0 1\n0.1 0 0\n1 0 0\n0 1 0\n0 0 1\n0 0 0\n100 80\n", "distortion"},
      {"100 0 50\n0 110 40\n0 0 1\n0 0 0\n2 0 0\n0 1 0\n0 0 1\n0 0 0\n100 80\n", "rotation"},
      {"100 0 50\n0 110 40\n0 0 1\n0 0 0\n1 0 0\n0 1 0\n0 0 1\n0 0 0\n100 -80\n", "size"},
  };
  for (const auto& [text, expected] : cases) {
    WriteFileAtomically(dir / "bad.camera", std::string_view(text));
    try {
      ReadStrechaCamera(dir / "bad.camera");
      ADD_FAILURE() << "accepted:\n" << text;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("bad.camera"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  }
}

TEST(StrechaCamera, FountainGroundTruth) {
  const fs::path folder = kData / "strecha-fountain-P11/gt_dense_cameras";
  if (!fs::exists(folder)) GTEST_SKIP() << "shared data not found: " << folder;
  const auto cameras = ReadStrechaCameras(folder);
  ASSERT_EQ(cameras.size(), 11u);
  EXPECT_EQ(cameras.begin()->first, "0000.jpg");
  for (const auto& [name, c] : cameras) {
    EXPECT_EQ(c.camera.width, 3072) << name;
    EXPECT_EQ(c.camera.height, 2048) << name;
    const Eigen::Matrix3d r = c.cam_from_world.rotation.toRotationMatrix();
    EXPECT_LT((r.transpose() * r - Eigen::Matrix3d::Identity()).norm(), 1e-12) << name;
    EXPECT_NEAR(r.determinant(), 1.0, 1e-12) << name;
    // K [R | t] decomposes back into the same camera.
    const ProjectionDecomposition d =
        DecomposeProjection(Compose(c.camera.CalibrationMatrix(), c.cam_from_world));
    EXPECT_LT((d.calibration - c.camera.CalibrationMatrix()).cwiseAbs().maxCoeff(), 1e-8) << name;
    EXPECT_LT(d.cam_from_world.rotation.angularDistance(c.cam_from_world.rotation), 1e-12);
    EXPECT_LT((d.cam_from_world.translation - c.cam_from_world.translation).norm(), 1e-9);
  }
  // 0000.jpg.camera gives C = (-7.28137, -7.57667, 0.204446) and R's third column (the viewing
  // direction) (-0.887537, -0.449183, -0.102528); the file's R is printed to 6 digits.
  const StrechaCamera& first = cameras.at("0000.jpg");
  EXPECT_LT(
      (geometry::CameraCenter(first.cam_from_world) - Eigen::Vector3d(-7.28137, -7.57667, 0.204446))
          .norm(),
      1e-9);
  const Eigen::Vector3d view_in_world =
      first.cam_from_world.rotation.inverse() * Eigen::Vector3d::UnitZ();
  EXPECT_LT((view_in_world - Eigen::Vector3d(-0.887537, -0.449183, -0.102528)).norm(), 1e-5);

  // images_q4/K.txt is exactly K / 4.
  const auto quarter = ReadStrechaCameras(folder, {.image_scale = 0.25});
  const geometry::Camera& q = quarter.at("0000.jpg").camera;
  EXPECT_EQ(q.width, 768);
  EXPECT_EQ(q.height, 512);
  EXPECT_NEAR(q.params[0], 689.87, 1e-9);
  EXPECT_NEAR(q.params[1], 691.04, 1e-9);
  EXPECT_NEAR(q.params[2], 380.1725, 1e-9);
  EXPECT_NEAR(q.params[3], 251.7025, 1e-9);
}

TEST(DtuCameras, MalformedFilesNameTheLine) {
  TempDir dir;
  const std::string mat = "1 0 0 0\n0 1 0 0\n0 0 1 0\n0 0 0 1\n";
  WriteFileAtomically(dir / "c.txt", std::string_view("# header\nview 0\n" + mat));
  try {
    ReadDtuCameras(dir / "c.txt");
    ADD_FAILURE() << "accepted a truncated view";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
  }
  WriteFileAtomically(dir / "c.txt", std::string_view("view 0\n" + mat + mat + "views 1\n"));
  EXPECT_THROW(ReadDtuCameras(dir / "c.txt"), Error);
  WriteFileAtomically(dir / "c.txt",
                      std::string_view("view 0\n0 0 0 0\n0 0 0 0\n0 0 0 0\n0 0 0 1\n" + mat));
  try {
    ReadDtuCameras(dir / "c.txt");
    ADD_FAILURE() << "accepted a singular P";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("view 0 (line 1)"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ReadDtuCameras(dir / "c.txt", {.image_scale = 2.0}), Error);
}

// IDR/NeuS's P maps to OpenCV pixel coordinates (pixel centres at integers): a camera whose
// principal point is at the image centre in that convention, (1600 - 1) / 2 = 799.5 and 599.5,
// must come out centred in facet's, (W/2, H/2), at full size and at every scale. That holds only
// when the +0.5 shift comes before the scaling: shifting after would give 0.25 * 799.5 + 0.5 =
// 200.375 instead of 200 at quarter size.
TEST(DtuCameras, PrincipalPointShiftsHalfAPixelBeforeScaling) {
  TempDir dir;
  Eigen::Matrix3d k;
  k << 2900, 0, 799.5, 0, 2890, 599.5, 0, 0, 1;
  const Rigid3 pose(
      Eigen::Quaterniond(Eigen::AngleAxisd(0.3, Eigen::Vector3d(1, 2, 3).normalized())),
      Eigen::Vector3d(10, -20, 600));
  const Eigen::Matrix<double, 3, 4> p = 0.37 * Compose(k, pose);  // P is known up to scale
  std::string text = "view 0\n";
  for (int r = 0; r < 3; ++r) {
    text += fmt::format("{:.17g} {:.17g} {:.17g} {:.17g}\n", p(r, 0), p(r, 1), p(r, 2), p(r, 3));
  }
  text += "0 0 0 1\n1 0 0 0\n0 1 0 0\n0 0 1 0\n0 0 0 1\n";
  WriteFileAtomically(dir / "cameras.txt", std::string_view(text));
  for (const double scale : {1.0, 0.5, 0.25}) {
    const DtuCamera c = ReadDtuCameras(dir / "cameras.txt", {.image_scale = scale}).at(0);
    const geometry::Camera centred = geometry::Camera::Create(geometry::CameraModelId::kPinhole,
                                                              1.0, c.camera.width, c.camera.height);
    // Round-off of the RQ decomposition: ~1e-12 relative to K's entries (~3e3 px).
    EXPECT_NEAR(c.camera.params[2], centred.params[2], 1e-9) << "scale " << scale;
    EXPECT_NEAR(c.camera.params[3], centred.params[3], 1e-9) << "scale " << scale;
    EXPECT_NEAR(c.camera.params[0], 2900 * scale, 1e-9);
    EXPECT_NEAR(c.camera.params[1], 2890 * scale, 1e-9);
    EXPECT_LT(c.cam_from_world.rotation.angularDistance(pose.rotation), 1e-12);
    EXPECT_LT((c.cam_from_world.translation - pose.translation).norm(), 1e-9);
    // A world point lands where OpenCV's P puts it, plus half a pixel, scaled about the corner.
    const Eigen::Vector3d x_in_world(30, 40, 50);
    const Eigen::Vector2d opencv_full = (p * x_in_world.homogeneous()).hnormalized();
    const Eigen::Vector2d facet = *c.camera.ImgFromCam(c.cam_from_world * x_in_world);
    EXPECT_LT((facet - scale * (opencv_full + Eigen::Vector2d(0.5, 0.5))).norm(), 1e-9);
  }
}

TEST(DtuCameras, Scan24ProjectionsDecomposeExactly) {
  const fs::path path = kData / "dtu-scan24/cameras.txt";
  if (!fs::exists(path)) GTEST_SKIP() << "shared data not found: " << path;
  for (const double scale : {1.0, 0.25}) {
    const std::vector<DtuCamera> cameras = ReadDtuCameras(path, {.image_scale = scale});
    ASSERT_EQ(cameras.size(), 49u);
    double max_skew = 0.0;
    for (const DtuCamera& c : cameras) {
      EXPECT_EQ(c.view, &c - cameras.data());
      EXPECT_EQ(c.camera.width, std::lround(1600 * scale));
      EXPECT_EQ(c.camera.height, std::lround(1200 * scale));
      EXPECT_GT(c.calibration(0, 0), 0.0);
      EXPECT_GT(c.calibration(1, 1), 0.0);
      EXPECT_EQ(c.calibration(2, 2), 1.0);
      max_skew = std::max(max_skew, std::abs(c.calibration(0, 1)));
      // K [R | t] equals the input P up to scale, to double round-off.
      EXPECT_LT((Normalized(Compose(c.calibration, c.cam_from_world)) - Normalized(c.projection))
                    .cwiseAbs()
                    .maxCoeff(),
                1e-12)
          << "view " << c.view;
      // The object (the normalisation sphere's centre) is in front of every camera and inside
      // its image.
      const Eigen::Vector3d center = c.world_from_normalized.topRightCorner<3, 1>();
      const Eigen::Vector3d x_in_cam = c.cam_from_world * center;
      ASSERT_GT(x_in_cam.z(), 0.0) << "view " << c.view;
      const Eigen::Vector2d pixel = *c.camera.ImgFromCam(x_in_cam);
      EXPECT_GT(pixel.x(), 0.0);
      EXPECT_LT(pixel.x(), c.camera.width);
      EXPECT_GT(pixel.y(), 0.0);
      EXPECT_LT(pixel.y(), c.camera.height);
    }
    if (scale == 1.0) std::printf("DTU scan24: largest |skew| K(0,1) = %.3g px\n", max_skew);
  }
  // In facet's (corner) pixel convention, the quarter-size calibration is exactly the full-size
  // one scaled by 1/4 (the half-pixel shift happened before the scaling).
  const std::vector<DtuCamera> full = ReadDtuCameras(path);
  const std::vector<DtuCamera> quarter = ReadDtuCameras(path, {.image_scale = 0.25});
  for (std::size_t i = 0; i < full.size(); ++i) {
    EXPECT_LT((quarter[i].calibration.topRows<2>() - 0.25 * full[i].calibration.topRows<2>())
                  .cwiseAbs()
                  .maxCoeff(),
              1e-9)
        << "view " << i;
  }
}

}  // namespace
}  // namespace facet::datasets
