// `facet undistort` as a user runs it: a small scene photographed through a SIMPLE_RADIAL lens
// (bright dots rendered at the projections of 3D points), undistorted into PINHOLE cameras; the
// dots must appear where the written cameras project the 3D points, and the keypoints must move
// with them.
#include "geometry/undistort.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "common/run_command.h"
#include "common/temp_dir.h"
#include "core/file_io.h"
#include "core/image_io.h"
#include "datasets/colmap_model.h"

namespace facet {
namespace {

namespace fs = std::filesystem;
using datasets::Scene;
using geometry::Camera;
using testing::TempDir;

constexpr double kDotSigmaPx = 1.5;  // dot radius (Gaussian sigma) in pixels at the focal length

std::string Quote(const fs::path& path) { return "'" + path.string() + "'"; }

testing::CommandResult Undistort(const std::string& args) {
  return testing::RunCommand(std::string("'") + FACET_BINARY + "' undistort " + args);
}

Camera Lens(geometry::CameraModelId model, std::vector<double> params) {
  Camera camera{.model = model, .width = 320, .height = 240, .params = std::move(params)};
  camera.Check();
  return camera;
}

Camera Distorted() {
  return Lens(geometry::CameraModelId::kSimpleRadial, {300.0, 158.0, 121.0, -0.12});
}

// A 5 x 4 grid of 3D points at 4 m seen by two images (the second turned by 3° and moved 0.2 m),
// with their exact projections as keypoints.
Scene MakeScene(const Camera& camera) {
  Scene scene;
  scene.cameras[datasets::CameraId(1)] = camera;
  const geometry::Rigid3 pose1{};
  const geometry::Rigid3 pose2{
      Eigen::Quaterniond(Eigen::AngleAxisd(0.05, Eigen::Vector3d(0.2, 1.0, 0.1).normalized())),
      Eigen::Vector3d(-0.2, 0.03, 0.0)};
  const std::pair<const char*, geometry::Rigid3> views[] = {{"a.png", pose1}, {"sub/b.png", pose2}};
  std::uint32_t image_id = 1;
  for (const auto& [name, pose] : views) {
    datasets::Image& image = scene.images[datasets::ImageId(image_id)];
    image.id = datasets::ImageId(image_id++);
    image.name = name;
    image.camera_id = datasets::CameraId(1);
    image.cam_from_world = pose;
  }
  std::uint64_t point_id = 1;
  for (int j = 0; j < 4; ++j) {
    for (int i = 0; i < 5; ++i) {
      const Eigen::Vector3d x(-1.6 + 0.8 * i, -1.05 + 0.7 * j, 4.0 + 0.1 * (i + j));
      datasets::Point3D& point = scene.points3d[datasets::Point3DId(point_id)];
      point.xyz = x;
      for (auto& [id, image] : scene.images) {
        const Eigen::Vector2d xy = *camera.ImgFromCam(*image.cam_from_world * x);
        point.track.push_back({id, static_cast<std::uint32_t>(image.points2d.size())});
        image.points2d.push_back({xy, datasets::Point3DId(point_id)});
      }
      ++point_id;
    }
  }
  scene.Check();
  return scene;
}

// What the camera sees: a Gaussian dot (in ray angle) around the direction of every 3D point.
Image<std::uint8_t> Photograph(const Scene& scene, const datasets::Image& image) {
  const Camera& camera = scene.cameras.at(image.camera_id);
  std::vector<Eigen::Vector3d> directions;
  for (const auto& [id, point] : scene.points3d) {
    directions.push_back((*image.cam_from_world * point.xyz).normalized());
  }
  const double sigma_rad = kDotSigmaPx / camera.FocalX();
  Image<std::uint8_t> photo(camera.width, camera.height, 1);
  for (int y = 0; y < camera.height; ++y) {
    for (int x = 0; x < camera.width; ++x) {
      const Eigen::Vector3d ray = camera.CamFromImg({x + 0.5, y + 0.5})->homogeneous().normalized();
      double value = 0.0;
      for (const Eigen::Vector3d& d : directions) {
        const double angle = std::atan2(ray.cross(d).norm(), ray.dot(d));
        value += std::exp(-0.5 * angle * angle / (sigma_rad * sigma_rad));
      }
      photo(x, y) = static_cast<std::uint8_t>(std::lround(255.0 * std::min(value, 1.0)));
    }
  }
  return photo;
}

// Writes the model (text) and its photos under `dir`/model and `dir`/photos.
void WriteInputs(const fs::path& dir, const Scene& scene) {
  datasets::WriteColmapModelText(dir / "model", scene);
  for (const auto& [id, image] : scene.images) {
    fs::create_directories((dir / "photos" / image.name).parent_path());
    WriteImage(dir / "photos" / image.name, Photograph(scene, image));
  }
}

// Intensity-weighted centroid of the dot near `guess` (pixel coordinates, centres at +0.5).
Eigen::Vector2d Centroid(const Image<std::uint8_t>& image, const Eigen::Vector2d& guess, int r) {
  const int cx = static_cast<int>(std::floor(guess.x())),
            cy = static_cast<int>(std::floor(guess.y()));
  Eigen::Vector2d sum = Eigen::Vector2d::Zero();
  double weight = 0.0;
  for (int y = cy - r; y <= cy + r; ++y) {
    for (int x = cx - r; x <= cx + r; ++x) {
      const double w = image(x, y);
      sum += w * Eigen::Vector2d(x + 0.5, y + 0.5);
      weight += w;
    }
  }
  return sum / weight;
}

// Checks the undistorted model and images in `out` against the input scene.
void ExpectConsistent(const Scene& input, const fs::path& out, double max_centroid_error_px) {
  const Scene result = datasets::ReadColmapModel(out / "sparse");
  ASSERT_EQ(result.cameras.size(), 1u);
  const Camera& pinhole = result.cameras.begin()->second;
  EXPECT_EQ(pinhole.model, geometry::CameraModelId::kPinhole);
  ASSERT_EQ(result.images.size(), input.images.size());
  EXPECT_EQ(result.points3d.size(), input.points3d.size());
  int num_dots = 0;
  for (const auto& [id, image] : result.images) {
    const datasets::Image& original = input.images.at(id);
    EXPECT_EQ(image.name, original.name);
    ASSERT_EQ(image.points2d.size(), original.points2d.size());
    const auto photo = ReadImage<std::uint8_t>(out / "images" / image.name);
    ASSERT_EQ(photo.width(), pinhole.width);
    ASSERT_EQ(photo.height(), pinhole.height);
    for (const datasets::Point2D& p : image.points2d) {
      const Eigen::Vector3d x_in_cam = *image.cam_from_world * result.points3d.at(p.point3d_id).xyz;
      const Eigen::Vector2d predicted = *pinhole.ImgFromCam(x_in_cam);
      EXPECT_LT((p.xy - predicted).norm(), 1e-6);  // the keypoint moved along its ray
      // Dots away from the (cropped) border: the image shows them where the camera says.
      const int r = static_cast<int>(std::ceil(4.0 * kDotSigmaPx * pinhole.FocalX() / 300.0));
      if (predicted.x() < r + 1 || predicted.y() < r + 1 || predicted.x() > pinhole.width - r - 1 ||
          predicted.y() > pinhole.height - r - 1) {
        continue;
      }
      EXPECT_LT((Centroid(photo, predicted, r) - predicted).norm(), max_centroid_error_px)
          << image.name << " dot at " << predicted.transpose();
      ++num_dots;
    }
  }
  EXPECT_GE(num_dots, 30);  // most of the 2 x 20 dots were checked
  for (const auto& entry : fs::recursive_directory_iterator(out)) {
    EXPECT_NE(entry.path().extension(), ".tmp") << entry.path();
  }
}

TEST(UndistortCommand, DotsLandWhereThePinholeCameraProjectsThePoints) {
  TempDir dir;
  const Scene scene = MakeScene(Distorted());
  WriteInputs(dir.path(), scene);
  const auto run =
      Undistort(Quote(dir / "model") + " " + Quote(dir / "photos") + " -o " + Quote(dir / "out"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  // Bilinear resampling keeps a symmetric dot's centre; 8-bit rounding moves it by ~0.01 px.
  ExpectConsistent(scene, dir / "out", 0.1);
  const Camera expected = geometry::UndistortCamera(Distorted(), {.rescale = true});
  const Camera written = datasets::ReadColmapModel(dir / "out" / "sparse").cameras.begin()->second;
  EXPECT_EQ(written.width, expected.width);
  EXPECT_EQ(written.height, expected.height);
  EXPECT_EQ(written.params, expected.params);
}

TEST(UndistortCommand, MaxImageSizeAndBlankPixelsScaleTheCamera) {
  TempDir dir;
  const Scene scene = MakeScene(Distorted());
  WriteInputs(dir.path(), scene);
  const auto run = Undistort(Quote(dir / "model") + " " + Quote(dir / "photos") + " -o " +
                             Quote(dir / "out") + " --max-image-size 200 --blank-pixels 1");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const Camera full =
      geometry::UndistortCamera(Distorted(), {.rescale = true, .blank_pixels = 1.0});
  const Camera written = datasets::ReadColmapModel(dir / "out" / "sparse").cameras.begin()->second;
  ASSERT_GT(full.width, 200);  // barrel distortion: keeping every pixel makes the image larger
  EXPECT_EQ(std::max(written.width, written.height), 200);
  const double sx = double(written.width) / full.width, sy = double(written.height) / full.height;
  EXPECT_NEAR(written.params[0], full.params[0] * sx, 1e-9);
  EXPECT_NEAR(written.params[1], full.params[1] * sy, 1e-9);
  EXPECT_NEAR(written.params[2], full.params[2] * sx, 1e-9);
  EXPECT_NEAR(written.params[3], full.params[3] * sy, 1e-9);
  // Area averaging keeps the centre of a dot; at ~0.55x the dots are ~0.8 px wide.
  ExpectConsistent(scene, dir / "out", 0.15);
}

TEST(UndistortCommand, PhotosWithoutDistortionAreCopied) {
  TempDir dir;
  const Camera pinhole = Lens(geometry::CameraModelId::kPinhole, {300.0, 305.0, 158.0, 121.0});
  const Scene scene = MakeScene(pinhole);
  WriteInputs(dir.path(), scene);
  const auto run =
      Undistort(Quote(dir / "model") + " " + Quote(dir / "photos") + " -o " + Quote(dir / "out"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  for (const auto& [id, image] : scene.images) {
    EXPECT_EQ(ReadFile(dir / "out" / "images" / image.name), ReadFile(dir / "photos" / image.name));
  }
  ExpectConsistent(scene, dir / "out", 0.1);
}

TEST(UndistortCommand, MissingInputsAreClearErrors) {
  TempDir dir;
  const Scene scene = MakeScene(Distorted());
  WriteInputs(dir.path(), scene);
  fs::remove(dir / "photos" / "sub" / "b.png");
  const auto missing_image =
      Undistort(Quote(dir / "model") + " " + Quote(dir / "photos") + " -o " + Quote(dir / "out"));
  EXPECT_EQ(missing_image.exit_code, 1) << missing_image.output;
  EXPECT_NE(missing_image.output.find("'sub/b.png'"), std::string::npos) << missing_image.output;
  EXPECT_FALSE(fs::exists(dir / "out" / "sparse"));

  const auto missing_model =
      Undistort(Quote(dir / "nowhere") + " " + Quote(dir / "photos") + " -o " + Quote(dir / "out"));
  EXPECT_EQ(missing_model.exit_code, 1) << missing_model.output;
  EXPECT_NE(missing_model.output.find("nowhere"), std::string::npos) << missing_model.output;

  const auto bad_option = Undistort(Quote(dir / "model") + " " + Quote(dir / "photos") + " -o " +
                                    Quote(dir / "out") + " --blank-pixels 2");
  EXPECT_EQ(bad_option.exit_code, 2) << bad_option.output;
}

}  // namespace
}  // namespace facet
