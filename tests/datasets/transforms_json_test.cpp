#include "datasets/transforms_json.h"

#include <Eigen/Geometry>
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "common/temp_dir.h"
#include "core/error.h"
#include "core/file_io.h"
#include "core/image_io.h"

namespace facet::datasets {
namespace {

namespace fs = std::filesystem;
using facet::testing::TempDir;
using geometry::Camera;
using geometry::CameraModelId;
using geometry::Rigid3;

Rigid3 SomePose(int i) {
  const Eigen::Quaterniond q =
      Eigen::AngleAxisd(0.3 * i + 0.1, Eigen::Vector3d(1.0, 2.0, -0.5 * i).normalized()) *
      Eigen::Quaterniond(Eigen::AngleAxisd(0.2, Eigen::Vector3d::UnitZ()));
  return {q, Eigen::Vector3d(0.5 * i, -1.0, 2.0 + i)};
}

void AddImage(Scene* scene, std::uint32_t id, std::uint32_t camera_id, const std::string& name) {
  Image image;
  image.id = ImageId(id);
  image.name = name;
  image.camera_id = CameraId(camera_id);
  image.cam_from_world = SomePose(static_cast<int>(id));
  scene->images[image.id] = image;
}

void ExpectSamePose(const Rigid3& a, const Rigid3& b) {
  // Quaternion -> matrix -> quaternion and the centre's round trip lose a few ulps.
  EXPECT_LT(a.rotation.angularDistance(b.rotation), 1e-12);
  EXPECT_LT((a.translation - b.translation).norm(), 1e-12);
}

void ExpectSameCamera(const Camera& a, const Camera& b) {
  EXPECT_EQ(a.model, b.model);
  EXPECT_EQ(a.width, b.width);
  EXPECT_EQ(a.height, b.height);
  EXPECT_EQ(a.params, b.params);  // written with round-trip precision: bit-exact
}

TEST(TransformsJson, RoundTripKeepsCamerasPosesAndNames) {
  TempDir dir;
  Scene scene;
  Camera camera = Camera::Create(CameraModelId::kOpenCV, 600.0, 640, 480);
  camera.params = {601.25, 598.5, 321.1, 242.7, -0.11, 0.031, 1e-3, -2e-4};
  scene.cameras[CameraId(1)] = camera;
  AddImage(&scene, 1, 1, "images/a.jpg");
  AddImage(&scene, 2, 1, "images/b.jpg");
  AddImage(&scene, 3, 1, "c.png");
  WriteTransformsJson(dir / "transforms.json", scene);

  const TransformsDataset read = ReadTransformsJson(dir / "transforms.json");
  ASSERT_EQ(read.scene.cameras.size(), 1u);
  ExpectSameCamera(read.scene.cameras.at(CameraId(1)), camera);
  ASSERT_EQ(read.scene.images.size(), 3u);
  ASSERT_EQ(read.frames.size(), 3u);
  for (const auto& [id, image] : scene.images) {
    const Image* back = read.scene.FindImage(image.name);
    ASSERT_NE(back, nullptr) << image.name;
    ExpectSamePose(*back->cam_from_world, *image.cam_from_world);
  }
  EXPECT_EQ(read.frames[0].image_path, dir / "images/a.jpg");
  EXPECT_NO_THROW(read.scene.Check());
}

TEST(TransformsJson, RoundTripPerFrameCamerasOfEveryRepresentableModel) {
  TempDir dir;
  Scene scene;
  Camera pinhole = Camera::Create(CameraModelId::kPinhole, 500.0, 320, 240);
  pinhole.params[1] = 505.0;
  Camera full = Camera::Create(CameraModelId::kFullOpenCV, 700.0, 800, 600);
  full.params[4] = -0.2, full.params[5] = 0.05, full.params[6] = 1e-3, full.params[8] = 0.01;
  Camera fisheye = Camera::Create(CameraModelId::kOpenCVFisheye, 300.0, 640, 480);
  fisheye.params[4] = 0.1, fisheye.params[5] = -0.02, fisheye.params[6] = 0.003,
  fisheye.params[7] = -4e-4;
  Camera radial = Camera::Create(CameraModelId::kSimpleRadial, 450.0, 400, 300);
  radial.params[3] = -0.07;
  scene.cameras = {
      {CameraId(1), pinhole}, {CameraId(2), full}, {CameraId(3), fisheye}, {CameraId(4), radial}};
  for (std::uint32_t i = 1; i <= 4; ++i) AddImage(&scene, i, i, "im" + std::to_string(i) + ".png");
  Image unregistered;
  unregistered.id = ImageId(5);
  unregistered.name = "lost.png";
  unregistered.camera_id = CameraId(1);
  scene.images[unregistered.id] = unregistered;

  EXPECT_THROW(WriteTransformsJson(dir / "t.json", scene, {.skip_unregistered = false}), Error);
  WriteTransformsJson(dir / "t.json", scene);
  const TransformsDataset read = ReadTransformsJson(dir / "t.json");
  ASSERT_EQ(read.scene.images.size(), 4u);
  ASSERT_EQ(read.scene.cameras.size(), 4u);
  auto camera_of = [&](const std::string& name) {
    return read.scene.cameras.at(read.scene.FindImage(name)->camera_id);
  };
  ExpectSameCamera(camera_of("im1.png"), pinhole);
  ExpectSameCamera(camera_of("im2.png"), full);
  ExpectSameCamera(camera_of("im3.png"), fisheye);
  // SIMPLE_RADIAL comes back as the equivalent OPENCV camera: same projection everywhere.
  const Camera back = camera_of("im4.png");
  EXPECT_EQ(back.model, CameraModelId::kOpenCV);
  for (const Eigen::Vector3d& x :
       {Eigen::Vector3d(0.3, -0.2, 1.0), Eigen::Vector3d(-0.4, 0.1, 2)}) {
    EXPECT_LT((*back.ImgFromCam(x) - *radial.ImgFromCam(x)).norm(), 1e-12);
  }
}

TEST(TransformsJson, UnrepresentableCamerasAreRefused) {
  TempDir dir;
  Scene scene;
  Camera rational = Camera::Create(CameraModelId::kFullOpenCV, 700.0, 800, 600);
  rational.params[10] = 0.01;  // k5: the rational denominator has no transforms.json field
  scene.cameras[CameraId(1)] = rational;
  AddImage(&scene, 1, 1, "a.png");
  EXPECT_THROW(WriteTransformsJson(dir / "t.json", scene), Error);
  EXPECT_FALSE(fs::exists(dir / "t.json"));
}

// A camera at (0, 0, 5) with the identity camera-to-world rotation looks along -z at the origin
// in OpenGL axes: its image x axis is world +x and its image "up" is world +y.
TEST(TransformsJson, OpenGlAxesBecomeColmapAxes) {
  TempDir dir;
  WriteFileAtomically(dir / "t.json", std::string_view(R"({
    "fl_x": 100, "fl_y": 100, "cx": 50, "cy": 40, "w": 100, "h": 80,
    "frames": [{"file_path": "a.png", "transform_matrix":
      [[1,0,0,0],[0,1,0,0],[0,0,1,5],[0,0,0,1]]}]})"));
  const TransformsDataset read = ReadTransformsJson(dir / "t.json");
  const Image& image = read.scene.images.at(ImageId(1));
  const Camera& camera = read.scene.cameras.at(image.camera_id);
  EXPECT_EQ(camera.model, CameraModelId::kPinhole);
  const Rigid3& cam_from_world = *image.cam_from_world;
  EXPECT_LT((geometry::CameraCenter(cam_from_world) - Eigen::Vector3d(0, 0, 5)).norm(), 1e-15);
  // The origin is 5 in front (COLMAP z forward) and projects to the principal point.
  EXPECT_LT((cam_from_world * Eigen::Vector3d::Zero() - Eigen::Vector3d(0, 0, 5)).norm(), 1e-15);
  // World +x is image right; world +y (up) is image up, i.e. smaller pixel y.
  const Eigen::Vector2d right = *camera.ImgFromCam(cam_from_world * Eigen::Vector3d(1, 0, 0));
  const Eigen::Vector2d up = *camera.ImgFromCam(cam_from_world * Eigen::Vector3d(0, 1, 0));
  EXPECT_NEAR(right.x(), 50 + 100.0 / 5, 1e-12);
  EXPECT_NEAR(right.y(), 40, 1e-12);
  EXPECT_NEAR(up.x(), 50, 1e-12);
  EXPECT_NEAR(up.y(), 40 - 100.0 / 5, 1e-12);
}

TEST(TransformsJson, NerfstudioIntrinsicsPerFrameAndFisheye) {
  TempDir dir;
  WriteFileAtomically(dir / "t.json", std::string_view(R"({
    "camera_model": "OPENCV_FISHEYE", "fl_x": 200, "fl_y": 201, "cx": 99.5, "cy": 80.25,
    "w": 200, "h": 160, "k1": 0.1, "k2": 0.01, "k3": 0.001, "k4": 0.0001,
    "frames": [
      {"file_path": "images/f1.jpg", "transform_matrix": [[1,0,0,0],[0,1,0,0],[0,0,1,0]]},
      {"file_path": "images/f2.jpg", "fl_x": 210, "mask_path": "masks/f2",
       "transform_matrix": [[1,0,0,1],[0,1,0,0],[0,0,1,0],[0,0,0,1]]},
      {"file_path": "images/f3.jpg", "transform_matrix": [[1,0,0,2],[0,1,0,0],[0,0,1,0]]}]})"));
  const TransformsDataset read = ReadTransformsJson(dir / "t.json");
  ASSERT_EQ(read.scene.cameras.size(), 2u);
  const Camera& first = read.scene.cameras.at(CameraId(1));
  EXPECT_EQ(first.model, CameraModelId::kOpenCVFisheye);
  EXPECT_EQ(first.params, (std::vector<double>{200, 201, 99.5, 80.25, 0.1, 0.01, 0.001, 0.0001}));
  EXPECT_EQ(read.scene.cameras.at(CameraId(2)).params[0], 210);
  EXPECT_EQ(read.scene.images.at(ImageId(2)).camera_id, CameraId(2));
  EXPECT_EQ(read.scene.images.at(ImageId(3)).camera_id, CameraId(1));
  EXPECT_EQ(read.frames[1].mask_path, dir / "masks/f2.png");
  EXPECT_TRUE(read.frames[0].mask_path.empty());
}

TEST(TransformsJson, FieldOfViewGivesFocalAndMissingSizeIsReadFromTheImage) {
  TempDir dir;
  fs::create_directory(dir / "train");
  WriteImage(dir / "train/r_0.png", ImageU8(64, 48, 4));
  WriteFileAtomically(dir / "t.json", std::string_view(R"({
    "camera_angle_x": 1.0, "camera_angle_y": 0.8,
    "frames": [{"file_path": "./train/r_0", "transform_matrix":
      [[1,0,0,0],[0,1,0,0],[0,0,1,5],[0,0,0,1]]}]})"));
  const TransformsDataset read = ReadTransformsJson(dir / "t.json");
  const Camera& camera = read.scene.cameras.at(CameraId(1));
  EXPECT_EQ(camera.width, 64);
  EXPECT_EQ(camera.height, 48);
  EXPECT_DOUBLE_EQ(camera.FocalX(), 32.0 / std::tan(0.5));
  EXPECT_DOUBLE_EQ(camera.FocalY(), 24.0 / std::tan(0.4));
  EXPECT_EQ(read.scene.images.at(ImageId(1)).name, "train/r_0.png");
  EXPECT_EQ(read.frames[0].image_path, dir / "train/r_0.png");
}

// Each malformed file must be refused with a message naming the file and the faulty frame.
TEST(TransformsJson, MalformedFilesAreRefusedNamingFileAndFrame) {
  TempDir dir;
  const std::string frame0 =
      R"({"file_path": "a.png", "transform_matrix": [[1,0,0,0],[0,1,0,0],[0,0,1,0]]})";
  const std::string size = R"("fl_x": 10, "w": 20, "h": 10)";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{\"frames\": [" + frame0, "cannot parse"},
      {"[1, 2]", "top level"},
      {"{" + size + "}", "no \"frames\""},
      {"{" + size + ", \"frames\": [" + frame0 +
           R"(, {"file_path": "b.png", "transform_matrix": [[2,0,0,0],[0,2,0,0],[0,0,2,0]]}]})",
       "frame 1 (\"b.png\")"},
      {"{" + size + R"(, "frames": [{"transform_matrix": [[1,0,0,0],[0,1,0,0],[0,0,1,0]]}]})",
       "frame 0"},
      {"{" + size + R"(, "k4": 0.1, "frames": [)" + frame0 + "]}", "k4"},
      {"{" + size + R"(, "camera_model": "EQUIRECTANGULAR", "frames": [)" + frame0 + "]}",
       "EQUIRECTANGULAR"},
      {R"({"w": 20, "h": 10, "frames": [)" + frame0 + "]}", "no focal length"},
      {"{" + size + R"(, "frames": [{"file_path": "a.png", "transform_matrix": [[1,0,0]]}]})",
       "3 or 4 rows"},
      {"{" + size + ", \"frames\": [" + frame0 + ", " + frame0 + "]}", "appears twice"},
      {R"({"fl_x": 10, "frames": [)" + frame0 + "]}", "image size cannot be read"},
      {R"({"fl_x": 10, "w": 20, "frames": [)" + frame0 + "]}", "both"},
  };
  for (const auto& [text, expected] : cases) {
    WriteFileAtomically(dir / "bad.json", std::string_view(text));
    try {
      ReadTransformsJson(dir / "bad.json");
      ADD_FAILURE() << "accepted: " << text;
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("bad.json"), std::string::npos) << message;
      EXPECT_NE(message.find(expected), std::string::npos) << message;
    }
  }
}

TEST(TransformsJson, RgbaIsCompositedOverTheBackground) {
  TempDir dir;
  ImageU8 rgba(3, 1, 4);
  const std::uint8_t pixels[3][4] = {{10, 20, 30, 255}, {10, 20, 30, 0}, {200, 100, 0, 128}};
  for (int x = 0; x < 3; ++x)
    for (int c = 0; c < 4; ++c) rgba(x, 0, c) = pixels[x][c];
  WriteImage(dir / "a.png", rgba);
  const ImageU8 out = LoadRgbaOverBackground(dir / "a.png", Eigen::Vector3f(1.0f, 0.0f, 0.5f));
  ASSERT_EQ(out.channels(), 3);
  EXPECT_EQ(out(0, 0, 0), 10);  // opaque: the colour
  EXPECT_EQ(out(0, 0, 2), 30);
  EXPECT_EQ(out(1, 0, 0), 255);  // transparent: the background
  EXPECT_EQ(out(1, 0, 1), 0);
  // The background is sRGB-encoded, blended in code values as the NeRF-synthetic loaders do:
  // 0.5 is code 127.5 (rounds up to 128), not linear 0.5 (which would encode as sRGB 188).
  EXPECT_EQ(out(1, 0, 2), 128);
  const float a = 128.0f / 255.0f;
  EXPECT_EQ(out(2, 0, 0), std::lround(a * 200 + (1 - a) * 255));
  EXPECT_EQ(out(2, 0, 1), std::lround(a * 100));
  EXPECT_EQ(out(2, 0, 2), std::lround((1 - a) * 127.5f));
}

void CheckLego(const std::string& json_name, int size, double focal_px) {
  const fs::path path = FACET_SOURCE_DIR "/../shared/data/nerf-synthetic-lego/" + json_name;
  if (!fs::exists(path)) GTEST_SKIP() << "shared data not found: " << path;
  const TransformsDataset lego = ReadTransformsJson(path);
  ASSERT_EQ(lego.scene.images.size(), 100u);
  ASSERT_EQ(lego.scene.cameras.size(), 1u);
  const Camera& camera = lego.scene.cameras.begin()->second;
  EXPECT_EQ(camera.model, CameraModelId::kPinhole);
  EXPECT_EQ(camera.width, size);
  EXPECT_EQ(camera.height, size);
  EXPECT_NEAR(camera.FocalX(), focal_px, 0.05);  // the README's figure, rounded to 0.1 px
  EXPECT_TRUE(fs::exists(lego.frames[0].image_path)) << lego.frames[0].image_path;

  // Frame 0's raw matrix has translation (-0.0538, 3.8455, 1.2081): the camera centre.
  const Image& first = lego.scene.images.at(ImageId(1));
  EXPECT_EQ(first.name, (size == 800 ? "train" : "train_200") + std::string("/r_0.png"));
  EXPECT_LT((geometry::CameraCenter(*first.cam_from_world) -
             Eigen::Vector3d(-0.05379832163453102, 3.845470428466797, 1.2080823183059692))
                .norm(),
            1e-12);
  // Every camera looks at the lego, which stands at the world origin: the origin is in front and
  // projects to the image centre. The matrices are float32 (relative error ~6e-8), so the
  // direction error is ~1e-7 rad, i.e. ~1e-7 * focal px: allow 1e-3 px.
  for (const auto& [id, image] : lego.scene.images) {
    const Eigen::Vector3d origin_in_cam = *image.cam_from_world * Eigen::Vector3d::Zero();
    ASSERT_GT(origin_in_cam.z(), 0.0) << image.name;
    const Eigen::Vector2d pixel = *camera.ImgFromCam(origin_in_cam);
    EXPECT_LT((pixel - Eigen::Vector2d(0.5 * size, 0.5 * size)).norm(), 1e-3) << image.name;
  }
}

TEST(TransformsJson, NerfSyntheticLego800) { CheckLego("transforms_train.json", 800, 1111.1); }
TEST(TransformsJson, NerfSyntheticLego200) { CheckLego("transforms_train_200.json", 200, 277.8); }

TEST(TransformsJson, NerfSyntheticLegoRgbaOverWhite) {
  const fs::path path = FACET_SOURCE_DIR "/../shared/data/nerf-synthetic-lego/train_200/r_0.png";
  if (!fs::exists(path)) GTEST_SKIP() << "shared data not found: " << path;
  const ImageU8 image = LoadRgbaOverBackground(path, Eigen::Vector3f::Ones());
  ASSERT_EQ(image.channels(), 3);
  EXPECT_EQ(image.width(), 200);
  for (int c = 0; c < 3; ++c) EXPECT_EQ(image(0, 0, c), 255);  // transparent corner -> white
}

}  // namespace
}  // namespace facet::datasets
