// The 3DGS training-data loader on the built-in synthetic scene (10 views at 64x48, written as
// `facet synth` writes it) arranged into each accepted input layout, and on NeRF-synthetic lego
// from ../shared/data when present.
#include "datasets/training_data.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/temp_dir.h"
#include "core/error.h"
#include "core/file_io.h"
#include "core/image_io.h"
#include "core/progress.h"
#include "datasets/colmap_model.h"
#include "datasets/exif_test_util.h"
#include "datasets/synthetic/dataset_writer.h"
#include "datasets/transforms_json.h"
#include "geometry/undistort.h"

namespace facet::datasets {
namespace {

namespace fs = std::filesystem;
using geometry::Camera;
using testing::TempDir;

constexpr int kViews = 10;
constexpr int kWidth = 64;
constexpr int kHeight = 48;

// The message of the facet::Error that `run` throws ("" and a failure when it throws none).
template <typename F>
std::string ErrorOf(F&& run) {
  try {
    run();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no facet::Error was thrown";
  return "";
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

bool SamePixels(const ImageU8& a, const ImageU8& b) {
  return a.width() == b.width() && a.height() == b.height() && a.channels() == b.channels() &&
         std::equal(a.data(), a.data() + a.size(), b.data());
}

class TrainingDataTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    SetProgressQuiet(true);
    dir_ = new TempDir(TempDir::kPreferMemory);
    synthetic::SynthOptions options;
    options.num_views = kViews;
    options.width = kWidth;
    options.height = kHeight;
    options.supersampling = 1;
    options.mesh_voxel_size = 0.03;
    scene_ = new Scene(synthetic::WriteSyntheticDataset(options, Synth()).scene);
    // A few 3D points, so that the model is one a trainer initialises from.
    for (std::uint64_t i = 1; i <= 3; ++i) {
      scene_->points3d[Point3DId(i)].xyz = Eigen::Vector3d(0.1 * i, 0.0, 0.2);
    }
  }
  static void TearDownTestSuite() {
    delete scene_;
    delete dir_;
  }
  static fs::path Synth() { return dir_->path() / "synth"; }
  static fs::path Photos() { return Synth() / "images"; }
  static const Camera& ModelCamera() { return scene_->cameras.begin()->second; }

  // Copies the photos into `to` (created).
  static void CopyPhotos(const fs::path& to) {
    fs::create_directories(to);
    for (const auto& entry : fs::directory_iterator(Photos())) {
      fs::copy_file(entry.path(), to / entry.path().filename());
    }
  }
  // A COLMAP scene as COLMAP and the Inria sets lay it out: root/images + root/sparse/0.
  static void WriteColmapScene(const fs::path& root, const Scene& scene) {
    CopyPhotos(root / "images");
    WriteColmapModelBinary(root / "sparse" / "0", scene);
  }

  TempDir work_{TempDir::kPreferMemory};
  static TempDir* dir_;
  static Scene* scene_;
};
TempDir* TrainingDataTest::dir_ = nullptr;
Scene* TrainingDataTest::scene_ = nullptr;

TEST_F(TrainingDataTest, ColmapSceneGivesEveryViewAtItsCameraWithItsPhoto) {
  WriteColmapScene(work_ / "scene", *scene_);
  for (const fs::path& input : {work_ / "scene", work_ / "scene" / "sparse" / "0"}) {
    const TrainingData data = LoadTrainingData(input);
    ASSERT_EQ(data.train.size() + data.test.size(), std::size_t{kViews}) << input;
    EXPECT_TRUE(data.has_points);
    EXPECT_EQ(data.scene.points3d.size(), 3u);
    EXPECT_EQ(data.background, Eigen::Vector3f::Zero());
    EXPECT_EQ(data.image_bytes, std::size_t{kViews} * kWidth * kHeight * 3);
    for (const auto* views : {&data.train, &data.test}) {
      for (const TrainingView& view : *views) {
        const Image* image = scene_->FindImage(view.name);
        ASSERT_NE(image, nullptr) << view.name;
        EXPECT_EQ(view.camera.model, geometry::CameraModelId::kPinhole);
        EXPECT_EQ(view.camera.params, ModelCamera().params);
        EXPECT_EQ(view.cam_from_world.translation, image->cam_from_world->translation);
        EXPECT_TRUE(view.cam_from_world.rotation.isApprox(image->cam_from_world->rotation, 1e-12));
        EXPECT_TRUE(SamePixels(view.image, ReadImage<std::uint8_t>(Photos() / view.name)))
            << view.name;
      }
    }
  }
}

TEST_F(TrainingDataTest, SceneNormalisationIsInriasNerfppNormOverTrainingCameras) {
  WriteColmapScene(work_ / "scene", *scene_);
  const TrainingData data = LoadTrainingData(work_ / "scene");
  Eigen::Vector3d mean = Eigen::Vector3d::Zero();
  for (const TrainingView& view : data.train) mean += geometry::CameraCenter(view.cam_from_world);
  mean /= double(data.train.size());
  double radius = 0.0;
  for (const TrainingView& view : data.train) {
    radius = std::max(radius, (geometry::CameraCenter(view.cam_from_world) - mean).norm());
  }
  EXPECT_LT((data.camera_center.cast<double>() - mean).norm(), 1e-6);
  EXPECT_NEAR(data.scene_extent, 1.1 * radius, 1e-6 * radius);
  EXPECT_GT(data.scene_extent, 0.0f);
}

TEST_F(TrainingDataTest, FindsThePhotosInEachColmapLayout) {
  struct Layout {
    std::string model, images;
  };
  for (const Layout& layout : {Layout{"a/sparse/0", "a/images"}, Layout{"b/sparse", "b/images"},
                               Layout{"c/model", "c/model/images"}}) {
    WriteColmapModelText(work_ / layout.model, *scene_);
    CopyPhotos(work_ / layout.images);
    const TrainingData data = LoadTrainingData(work_ / layout.model);
    EXPECT_EQ(data.train.size() + data.test.size(), std::size_t{kViews}) << layout.model;
  }
}

TEST_F(TrainingDataTest, WorkspaceUsesTheRecordedPhotoFolderUnlessOneIsGiven) {
  const fs::path out = work_ / "out";
  WriteColmapModelBinary(out / "sparse" / "0", *scene_);
  const nlohmann::json summary = {{"image_dir", fs::absolute(Photos()).string()}};
  WriteFileAtomically(out / "sfm_summary.json", summary.dump(2));
  for (const fs::path& input : {out, out / "sparse" / "0"}) {
    const TrainingData data = LoadTrainingData(input);
    ASSERT_EQ(data.train.size(), 8u) << input;
    EXPECT_TRUE(
        SamePixels(data.train[0].image, ReadImage<std::uint8_t>(Photos() / data.train[0].name)));
  }

  // An explicit folder wins: one of its photos is a flat grey, and that is what is loaded.
  const fs::path other = work_ / "other";
  CopyPhotos(other);
  const ImageU8 grey(kWidth, kHeight, 3, 77);
  WriteImage(other / "00003.png", grey);
  TrainingDataOptions options;
  options.image_dir = other;
  const TrainingData data = LoadTrainingData(out, options);
  for (const TrainingView& view : data.train) {
    if (view.name == "00003.png") {
      EXPECT_TRUE(SamePixels(view.image, grey));
    }
  }
  options.image_dir = work_ / "nowhere";
  EXPECT_TRUE(Contains(ErrorOf([&] { LoadTrainingData(out, options); }), "nowhere"));
}

TEST_F(TrainingDataTest, NoPhotoFolderIsAnErrorListingTheFoldersTried) {
  const fs::path model = work_ / "x" / "sparse" / "0";
  WriteColmapModelBinary(model, *scene_);
  const std::string message = ErrorOf([&] { LoadTrainingData(model); });
  for (const fs::path& tried :
       {work_ / "x" / "images", work_ / "x" / "sparse" / "images", model / "images"}) {
    EXPECT_TRUE(Contains(message, tried.string())) << message;
  }
  EXPECT_TRUE(Contains(message, "00000.png")) << message;
}

TEST_F(TrainingDataTest, MissingPhotoIsAnErrorNamingItAndTheFolder) {
  WriteColmapScene(work_ / "scene", *scene_);
  fs::remove(work_ / "scene" / "images" / "00004.png");
  const std::string message = ErrorOf([&] { LoadTrainingData(work_ / "scene"); });
  EXPECT_TRUE(Contains(message, "00004.png")) << message;
  EXPECT_TRUE(Contains(message, (work_ / "scene" / "images").string())) << message;
}

TEST_F(TrainingDataTest, CamerasOnlyNeedNoPhotos) {
  const fs::path model = work_ / "x" / "sparse" / "0";
  WriteColmapModelBinary(model, *scene_);
  TrainingDataOptions options;
  options.load_images = false;
  options.holdout_every = 0;
  options.max_size = kWidth / 2;
  const TrainingData data = LoadTrainingData(model, options);
  ASSERT_EQ(data.train.size(), std::size_t{kViews});
  EXPECT_TRUE(data.test.empty());
  for (const TrainingView& view : data.train) {
    EXPECT_TRUE(view.image.empty()) << view.name;
    EXPECT_EQ(view.camera.width, kWidth / 2);  // the cap still applies to the cameras
    EXPECT_EQ(view.camera.height, kHeight / 2);
  }
  EXPECT_EQ(data.image_bytes, 0u);
}

TEST_F(TrainingDataTest, PhotoOfTheWrongSizeIsAnErrorNamingIt) {
  WriteColmapScene(work_ / "scene", *scene_);
  WriteImage(work_ / "scene" / "images" / "00005.png", ImageU8(kWidth / 2, kHeight / 2, 3));
  const std::string message = ErrorOf([&] { LoadTrainingData(work_ / "scene"); });
  EXPECT_TRUE(Contains(message, "00005.png")) << message;
  EXPECT_TRUE(Contains(message, "32x24")) << message;
}

TEST_F(TrainingDataTest, AbsentOrCorruptModelIsAnError) {
  fs::create_directories(work_ / "empty");
  EXPECT_TRUE(Contains(ErrorOf([&] { LoadTrainingData(work_ / "empty"); }), "no COLMAP model"));
  EXPECT_TRUE(Contains(ErrorOf([&] { LoadTrainingData(work_ / "absent"); }), "does not exist"));
  WriteFileAtomically(work_ / "notes.txt", "not a dataset");
  EXPECT_THROW(LoadTrainingData(work_ / "notes.txt"), Error);

  WriteColmapScene(work_ / "scene", *scene_);
  const fs::path images_bin = work_ / "scene" / "sparse" / "0" / "images.bin";
  fs::resize_file(images_bin, fs::file_size(images_bin) / 2);
  EXPECT_TRUE(Contains(ErrorOf([&] { LoadTrainingData(work_ / "scene"); }), "images.bin"));
  fs::remove(images_bin);
  EXPECT_TRUE(Contains(ErrorOf([&] { LoadTrainingData(work_ / "scene"); }), "images"));
}

// Resampling corner to corner scales every projected pixel coordinate by new/old size per axis,
// since the image spans [0, W] x [0, H] (COLMAP's convention).
void ExpectProjectionsScale(const Camera& original, const Camera& scaled) {
  const double sx = double(scaled.width) / original.width;
  const double sy = double(scaled.height) / original.height;
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> uv(-0.6, 0.6), depth(0.5, 5.0);
  for (int i = 0; i < 20; ++i) {
    const double z = depth(rng);
    const Eigen::Vector3d x_in_cam(uv(rng) * z, uv(rng) * z, z);
    const Eigen::Vector2d a = *original.ImgFromCam(x_in_cam);
    const Eigen::Vector2d b = *scaled.ImgFromCam(x_in_cam);
    EXPECT_NEAR(b.x(), a.x() * sx, 1e-9 * kWidth);
    EXPECT_NEAR(b.y(), a.y() * sy, 1e-9 * kWidth);
  }
}

TEST_F(TrainingDataTest, DownscaleResizesThePhotosAndScalesTheIntrinsics) {
  WriteColmapScene(work_ / "scene", *scene_);
  TrainingDataOptions options;
  options.downscale = 2;
  const TrainingData data = LoadTrainingData(work_ / "scene", options);
  EXPECT_EQ(data.image_bytes, std::size_t{kViews} * 32 * 24 * 3);
  for (const TrainingView& view : data.train) {
    ASSERT_EQ(view.image.width(), 32);
    ASSERT_EQ(view.image.height(), 24);
    EXPECT_EQ(view.camera.width, 32);
    EXPECT_EQ(view.camera.height, 24);
    ExpectProjectionsScale(ModelCamera(), view.camera);
    // Area averaging at exactly 2x: each pixel is the mean of a 2x2 block (rounded).
    const ImageU8 full = ReadImage<std::uint8_t>(Photos() / view.name);
    for (int y = 0; y < 24; ++y) {
      for (int x = 0; x < 32; ++x) {
        for (int c = 0; c < 3; ++c) {
          const double mean = 0.25 * (full(2 * x, 2 * y, c) + full(2 * x + 1, 2 * y, c) +
                                      full(2 * x, 2 * y + 1, c) + full(2 * x + 1, 2 * y + 1, c));
          ASSERT_LE(std::abs(view.image(x, y, c) - mean), 0.75)
              << view.name << " " << x << "," << y;
        }
      }
    }
  }
}

TEST_F(TrainingDataTest, MaxSizeCapsTheLongerSideAndUnevenScalesFollowEachAxis) {
  WriteColmapScene(work_ / "scene", *scene_);
  TrainingDataOptions options;
  options.max_size = 20;
  const TrainingData capped = LoadTrainingData(work_ / "scene", options);
  EXPECT_EQ(capped.train[0].image.width(), 20);
  EXPECT_EQ(capped.train[0].image.height(), 15);
  ExpectProjectionsScale(ModelCamera(), capped.train[0].camera);

  // 64x48 / 3 = 21.33 x 16: the two axes scale by 21/64 and 16/48.
  options.max_size = 40;
  options.downscale = 3;
  const TrainingData third = LoadTrainingData(work_ / "scene", options);
  EXPECT_EQ(third.train[0].image.width(), 21);
  EXPECT_EQ(third.train[0].image.height(), 16);
  ExpectProjectionsScale(ModelCamera(), third.train[0].camera);

  EXPECT_EQ(TrainingImageSize(1600, 1200, {.downscale = 2, .max_size = 1000}),
            Eigen::Vector2i(800, 600));
  EXPECT_EQ(TrainingImageSize(4000, 3000, {.downscale = 2, .max_size = 1600}),
            Eigen::Vector2i(1600, 1200));
  EXPECT_EQ(TrainingImageSize(5, 1, {.downscale = 8}), Eigen::Vector2i(1, 1));
}

TEST_F(TrainingDataTest, EveryNthViewBySortedNameIsHeldOut) {
  // Image ids in the reverse order of the names: the hold-out follows the names.
  Scene reversed = *scene_;
  reversed.images.clear();
  for (const auto& [id, image] : scene_->images) {
    Image copy = image;
    copy.id = ImageId(std::uint32_t(kViews + 1) - id.value);
    reversed.images[copy.id] = copy;
  }
  WriteColmapScene(work_ / "scene", reversed);
  TrainingDataOptions options;
  options.holdout_every = 3;
  const TrainingData data = LoadTrainingData(work_ / "scene", options);
  std::vector<std::string> test_names, train_names;
  for (const TrainingView& view : data.test) {
    EXPECT_TRUE(view.held_out);
    test_names.push_back(view.name);
  }
  for (const TrainingView& view : data.train) {
    EXPECT_FALSE(view.held_out);
    train_names.push_back(view.name);
  }
  EXPECT_EQ(test_names,
            (std::vector<std::string>{"00000.png", "00003.png", "00006.png", "00009.png"}));
  EXPECT_EQ(train_names.size(), 6u);
  EXPECT_TRUE(std::is_sorted(train_names.begin(), train_names.end()));

  options.holdout_every = 0;
  EXPECT_TRUE(LoadTrainingData(work_ / "scene", options).test.empty());
  options.holdout_every = 1;
  EXPECT_TRUE(Contains(ErrorOf([&] { LoadTrainingData(work_ / "scene", options); }), "held out"));
}

TEST_F(TrainingDataTest, DistortedCamerasBecomePinholeWithoutBlankBorders) {
  Scene distorted = *scene_;
  Camera& camera = distorted.cameras.begin()->second;
  camera = Camera::Create(geometry::CameraModelId::kSimpleRadial, camera.FocalX(), kWidth, kHeight);
  camera.params[3] = -0.08;  // barrel
  WriteColmapScene(work_ / "scene", distorted);
  const TrainingData data = LoadTrainingData(work_ / "scene");
  const Camera pinhole = geometry::UndistortCamera(camera, {.rescale = true});
  for (const TrainingView& view : data.train) {
    EXPECT_EQ(view.camera.model, geometry::CameraModelId::kPinhole);
    EXPECT_EQ(view.camera.width, view.image.width());
    EXPECT_EQ(view.camera.height, view.image.height());
    EXPECT_EQ(view.camera.params, pinhole.params);
    const ImageU8 photo = ReadImage<std::uint8_t>(Photos() / view.name);
    EXPECT_TRUE(SamePixels(view.image, geometry::UndistortImage(photo.view(), camera, pinhole)));
  }
  // Every corner pixel's ray lands inside the distorted photo: no blank border to learn.
  const Camera& out = data.train[0].camera;
  for (const Eigen::Vector2d& pixel :
       {Eigen::Vector2d(0.5, 0.5), Eigen::Vector2d(out.width - 0.5, 0.5),
        Eigen::Vector2d(0.5, out.height - 0.5),
        Eigen::Vector2d(out.width - 0.5, out.height - 0.5)}) {
    const Eigen::Vector2d uv = *out.CamFromImg(pixel);
    const Eigen::Vector2d source = *camera.ImgFromCam(uv.homogeneous());
    EXPECT_GE(source.minCoeff(), 0.0);
    EXPECT_LE(source.x(), kWidth);
    EXPECT_LE(source.y(), kHeight);
  }
}

TEST_F(TrainingDataTest, TransformsJsonPhotosAreCompositedOverTheBackground) {
  // RGBA copies of the photos with an alpha ramp, and a transforms.json naming them.
  Scene rgba_scene = *scene_;
  rgba_scene.points3d.clear();
  fs::create_directories(work_ / "rgba");
  for (auto& [id, image] : rgba_scene.images) {
    const ImageU8 rgb = ReadImage<std::uint8_t>(Photos() / image.name);
    ImageU8 rgba(kWidth, kHeight, 4);
    for (int y = 0; y < kHeight; ++y) {
      for (int x = 0; x < kWidth; ++x) {
        for (int c = 0; c < 3; ++c) rgba(x, y, c) = rgb(x, y, c);
        rgba(x, y, 3) = static_cast<std::uint8_t>((x * 4 + y * 5) % 256);
      }
    }
    image.name = "rgba/" + image.name;
    WriteImage(work_ / image.name, rgba);
  }
  WriteTransformsJson(work_ / "transforms.json", rgba_scene);

  TrainingDataOptions options;
  options.background = Eigen::Vector3f(0.0f, 0.5f, 1.0f);
  const TrainingData data = LoadTrainingData(work_ / "transforms.json", options);
  EXPECT_FALSE(data.has_points);
  EXPECT_EQ(data.background, options.background);
  ASSERT_EQ(data.train.size() + data.test.size(), std::size_t{kViews});
  for (const TrainingView& view : data.train) {
    const Image* truth = rgba_scene.FindImage(view.name);
    ASSERT_NE(truth, nullptr) << view.name;
    EXPECT_LT((view.cam_from_world.translation - truth->cam_from_world->translation).norm(), 1e-9);
    EXPECT_EQ(view.camera.model, geometry::CameraModelId::kPinhole);
    const ImageU8 rgba = ReadImage<std::uint8_t>(work_ / view.name);
    for (int y = 0; y < kHeight; ++y) {
      for (int x = 0; x < kWidth; ++x) {
        const double a = rgba(x, y, 3) / 255.0;
        for (int c = 0; c < 3; ++c) {
          const double expected = a * rgba(x, y, c) + (1.0 - a) * 255.0 * options.background[c];
          ASSERT_LE(std::abs(view.image(x, y, c) - expected), 0.5 + 1e-3)
              << view.name << " " << x << "," << y << "," << c;
        }
      }
    }
  }

  // keep_alpha: the same pixels as stored, alpha included, for trainers that composite them.
  options.keep_alpha = true;
  const TrainingData kept = LoadTrainingData(work_ / "transforms.json", options);
  EXPECT_TRUE(kept.has_alpha);
  for (const TrainingView& view : kept.train) {
    ASSERT_EQ(view.image.channels(), 4);
    const ImageU8 rgba = ReadImage<std::uint8_t>(work_ / view.name);
    EXPECT_TRUE(std::equal(rgba.data(), rgba.data() + rgba.size(), view.image.data())) << view.name;
  }

  // `facet synth`'s folder (transforms.json beside images/) is recognised as such; its opaque
  // photos have no alpha to keep.
  const TrainingData opaque = LoadTrainingData(Synth(), {.keep_alpha = true});
  EXPECT_FALSE(opaque.has_alpha);
  const TrainingData synth = LoadTrainingData(Synth());
  EXPECT_EQ(synth.train.size() + synth.test.size(), std::size_t{kViews});
  EXPECT_EQ(synth.background, Eigen::Vector3f::Ones());
}

// A JPEG stored 40x20 (left half red, right half blue) whose EXIF orientation 6 displays it
// rotated to 20x40: facet's SfM models it at the displayed size, COLMAP's at the stored size.
TEST(TrainingDataExif, PhotosAreReadAtWhicheverOrientationTheirCameraHas) {
  TempDir dir;
  ImageU8 stored(40, 20, 3);
  for (int y = 0; y < 20; ++y) {
    for (int x = 0; x < 40; ++x) stored(x, y, x < 20 ? 0 : 2) = 255;
  }
  fs::create_directories(dir / "scene" / "images");
  WriteImage(dir / "scene" / "images" / "a.jpg", stored);
  testing::ExifBuilder exif;
  exif.Ifd0Short(0x0112, 6);
  testing::InsertApp1(dir / "scene" / "images" / "a.jpg", exif.Build());

  for (const auto& [width, height] : {std::pair{20, 40}, std::pair{40, 20}}) {
    Scene scene;
    scene.cameras[CameraId(1)] =
        Camera::Create(geometry::CameraModelId::kPinhole, 30.0, width, height);
    Image image;
    image.id = ImageId(1);
    image.name = "a.jpg";
    image.camera_id = CameraId(1);
    image.cam_from_world = geometry::Rigid3();
    scene.images[image.id] = image;
    WriteColmapModelBinary(dir / "scene" / "sparse" / "0", scene);
    const TrainingData data = LoadTrainingData(dir / "scene", {.holdout_every = 0});
    ASSERT_EQ(data.train.size(), 1u);
    const ImageU8& loaded = data.train[0].image;
    ASSERT_EQ(loaded.width(), width);
    ASSERT_EQ(loaded.height(), height);
    // Displayed (rotated clockwise): red on top. Stored: red on the left.
    const int red_x = width == 20 ? 10 : 5, red_y = width == 20 ? 5 : 10;
    EXPECT_GT(loaded(red_x, red_y, 0), 200);
    EXPECT_LT(loaded(red_x, red_y, 2), 50);
  }
}

TEST(TrainingDataOptions, CheckNamesTheFieldOutOfRange) {
  const auto message = [](TrainingDataOptions options) {
    return ErrorOf([&] { options.Check(); });
  };
  EXPECT_TRUE(Contains(message({.downscale = 0}), "downscale"));
  EXPECT_TRUE(Contains(message({.max_size = -1}), "max_size"));
  EXPECT_TRUE(Contains(message({.holdout_every = -2}), "holdout_every"));
  EXPECT_TRUE(Contains(message({.background = Eigen::Vector3f(0, 2, 0)}), "background"));
  EXPECT_NO_THROW(TrainingDataOptions().Check());
}

TEST(ScaleCamera, ScalesFocalAndPrincipalPointPerAxisAndRefusesDistortion) {
  const Camera simple = Camera::Create(geometry::CameraModelId::kSimplePinhole, 100.0, 64, 48);
  const Camera scaled = ScaleCamera(simple, 16, 24);
  EXPECT_EQ(scaled.model, geometry::CameraModelId::kPinhole);
  EXPECT_EQ(scaled.params, (std::vector<double>{25.0, 50.0, 8.0, 12.0}));
  const Camera radial = Camera::Create(geometry::CameraModelId::kSimpleRadial, 100.0, 64, 48);
  EXPECT_THROW(ScaleCamera(radial, 32, 24), Error);
  EXPECT_THROW(ScaleCamera(simple, 0, 24), Error);
}

// NeRF-synthetic lego, 100 training frames at 200x200 RGBA (../shared/data).
TEST(TrainingDataReal, NerfSyntheticLegoHoldsOutEveryEighthFrame) {
  const fs::path json = fs::path(FACET_SOURCE_DIR "/../shared/data") / "nerf-synthetic-lego" /
                        "transforms_train_200.json";
  if (!fs::exists(json)) GTEST_SKIP() << json << " is absent";
  const TrainingData data = LoadTrainingData(json);
  // 100 frames: indices 0, 8, ..., 96 by sorted name are held out.
  EXPECT_EQ(data.test.size(), 13u);
  EXPECT_EQ(data.train.size(), 87u);
  EXPECT_EQ(data.background, Eigen::Vector3f::Ones());
  EXPECT_FALSE(data.has_points);
  std::vector<std::string> names;
  for (const auto* views : {&data.train, &data.test}) {
    for (const TrainingView& view : *views) {
      EXPECT_EQ(view.image.width(), 200);
      EXPECT_EQ(view.image.height(), 200);
      EXPECT_EQ(view.camera.model, geometry::CameraModelId::kPinhole);
      names.push_back(view.name);
    }
  }
  std::sort(names.begin(), names.end());
  std::set<std::string> expected_test;
  for (std::size_t i = 0; i < names.size(); i += 8) expected_test.insert(names[i]);
  for (const TrainingView& view : data.test) EXPECT_EQ(expected_test.count(view.name), 1u);
  EXPECT_EQ(data.image_bytes, 100u * 200 * 200 * 3);
  EXPECT_GT(data.scene_extent, 0.0f);
}

}  // namespace
}  // namespace facet::datasets
