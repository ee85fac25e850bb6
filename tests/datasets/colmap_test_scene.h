// Scenes for the COLMAP model tests: a deterministic random scene with every camera model, and an
// exact comparison that tells +0.0 from -0.0 (bit patterns, not values).
#pragma once

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "datasets/scene.h"

namespace facet::testing {

using datasets::CameraId;
using datasets::Image;
using datasets::ImageId;
using datasets::Point2D;
using datasets::Point3D;
using datasets::Point3DId;
using datasets::Scene;

struct RandomSceneOptions {
  int num_images = 8;                 // all registered
  int max_keypoints = 40;             // per image; image 1 always gets none
  int num_points = 30;                // 3D points with tracks of 2..4 views, plus one without
  bool exact_unit_rotations = false;  // quaternions whose norm is exactly 1 in floating point
  bool extreme_values = true;         // -0.0, subnormals, 1e300 ... among keypoints and points
};

// Cameras of all seven models (ids 10, 11, ...), images with random poses and keypoints, 3D points
// whose tracks and keypoints refer to each other. Passes Scene::Check.
inline Scene RandomScene(std::uint32_t seed, const RandomSceneOptions& options = {}) {
  std::mt19937 rng(seed);
  auto uniform = [&](double lo, double hi) {
    return std::uniform_real_distribution<>(lo, hi)(rng);
  };
  Scene scene;
  constexpr geometry::CameraModelId kModels[] = {
      geometry::CameraModelId::kSimplePinhole, geometry::CameraModelId::kPinhole,
      geometry::CameraModelId::kSimpleRadial,  geometry::CameraModelId::kRadial,
      geometry::CameraModelId::kOpenCV,        geometry::CameraModelId::kOpenCVFisheye,
      geometry::CameraModelId::kFullOpenCV};
  std::uint32_t camera_id = 10;
  for (geometry::CameraModelId model : kModels) {
    const int width = 320 + static_cast<int>(rng() % 1000),
              height = 240 + static_cast<int>(rng() % 800);
    geometry::Camera camera =
        geometry::Camera::Create(model, uniform(200.0, 2000.0), width, height);
    for (std::size_t k = 1; k < camera.params.size(); ++k) camera.params[k] += uniform(-0.1, 0.1);
    scene.cameras[CameraId(camera_id++)] = camera;
  }

  // Exactly representable unit quaternions (Pythagorean quadruples over powers of two).
  constexpr double kExact[][4] = {{1, 0, 0, 0},         {0, 1, 0, 0},      {0.6, 0.8, 0, 0},
                                  {0.5, 0.5, 0.5, 0.5}, {0, 0, 0.6, -0.8}, {-0.5, 0.5, -0.5, 0.5}};
  constexpr double kExtremes[] = {-0.0, 5e-324, 2.2250738585072014e-308, 1e300, -1e-300,
                                  0.1,  1.0 / 3};
  std::normal_distribution<double> normal;
  for (int i = 1; i <= options.num_images; ++i) {
    Image image;
    image.id = ImageId(static_cast<std::uint32_t>(i));
    image.name = (i % 3 == 0 ? "sub/dir/img_" : "img_") + std::to_string(i) + ".jpg";
    image.camera_id = CameraId(10 + static_cast<std::uint32_t>(rng() % 7));
    Eigen::Quaterniond q;
    if (options.exact_unit_rotations) {
      const double* e = kExact[static_cast<std::size_t>(i) % std::size(kExact)];
      q = Eigen::Quaterniond(e[0], e[1], e[2], e[3]);
    } else {
      q = Eigen::Quaterniond(normal(rng), normal(rng), normal(rng), normal(rng)).normalized();
    }
    image.cam_from_world =
        geometry::Rigid3(q, Eigen::Vector3d(normal(rng), normal(rng), normal(rng)));
    const int num_keypoints = i == 1 ? 0 : 1 + static_cast<int>(rng() % options.max_keypoints);
    for (int k = 0; k < num_keypoints; ++k) {
      image.points2d.push_back({Eigen::Vector2d(uniform(0.0, 1000.0), uniform(0.0, 800.0)), {}});
    }
    if (options.extreme_values && num_keypoints > 0) {
      image.points2d[0].xy.x() = kExtremes[static_cast<std::size_t>(i) % std::size(kExtremes)];
    }
    scene.images[image.id] = image;
  }

  std::uint64_t point_id = 1000;
  for (int p = 0; p < options.num_points; ++p, point_id += 1 + rng() % 3) {
    Point3D point;
    point.xyz = Eigen::Vector3d(normal(rng), normal(rng), normal(rng)) * 10.0;
    if (options.extreme_values) {
      point.xyz.z() = kExtremes[static_cast<std::size_t>(p) % std::size(kExtremes)];
    }
    point.color = {static_cast<std::uint8_t>(rng()), static_cast<std::uint8_t>(rng()),
                   static_cast<std::uint8_t>(rng())};
    point.error = p % 5 == 0 ? -1.0 : uniform(0.0, 2.0);
    const int views = 2 + static_cast<int>(rng() % 3);
    for (int attempt = 0; attempt < 20 && static_cast<int>(point.track.size()) < views; ++attempt) {
      Image& image =
          scene.images[ImageId(1 + static_cast<std::uint32_t>(rng() % options.num_images))];
      if (image.points2d.empty()) continue;
      const auto idx = static_cast<std::uint32_t>(rng() % image.points2d.size());
      if (image.points2d[idx].point3d_id.IsValid()) continue;
      image.points2d[idx].point3d_id = Point3DId(point_id);
      point.track.push_back({image.id, idx});
    }
    scene.points3d[Point3DId(point_id)] = point;
  }
  Point3D lonely;  // no track: COLMAP writes a trailing space after its error
  lonely.xyz = {1.0, 2.0, 3.0};
  scene.points3d[Point3DId(point_id)] = lonely;
  return scene;
}

// One camera, one image with two keypoints (one triangulated), one 3D point.
inline Scene TinyScene() {
  Scene scene;
  geometry::Camera camera;
  camera.model = geometry::CameraModelId::kPinhole;
  camera.width = 640;
  camera.height = 480;
  camera.params = {500.0, 510.0, 320.0, 240.0};
  scene.cameras[CameraId(1)] = camera;
  Image image;
  image.id = ImageId(2);
  image.name = "a.jpg";
  image.camera_id = CameraId(1);
  image.cam_from_world =
      geometry::Rigid3(Eigen::Quaterniond::Identity(), Eigen::Vector3d(0.5, -1.0, 2.0));
  image.points2d = {{Eigen::Vector2d(0.1, 20.25), Point3DId(3)},
                    {Eigen::Vector2d(30.0, 40.0), Point3DId::Invalid()}};
  scene.images[image.id] = image;
  Point3D point;
  point.xyz = {1.0, 2.0, 3.0};
  point.color = {255, 128, 0};
  point.error = 0.75;
  point.track = {{ImageId(2), 0}};
  scene.points3d[Point3DId(3)] = point;
  return scene;
}

// COLMAP 3.8's text output for TinyScene (Reconstruction::Write*Text, precision 17).
inline constexpr const char* kTinyCamerasTxt =
    "# Camera list with one line of data per camera:\n"
    "#   CAMERA_ID, MODEL, WIDTH, HEIGHT, PARAMS[]\n"
    "# Number of cameras: 1\n"
    "1 PINHOLE 640 480 500 510 320 240\n";
inline constexpr const char* kTinyImagesTxt =
    "# Image list with two lines of data per image:\n"
    "#   IMAGE_ID, QW, QX, QY, QZ, TX, TY, TZ, CAMERA_ID, NAME\n"
    "#   POINTS2D[] as (X, Y, POINT3D_ID)\n"
    "# Number of images: 1, mean observations per image: 1\n"
    "2 1 0 0 0 0.5 -1 2 1 a.jpg\n"
    "0.10000000000000001 20.25 3 30 40 -1\n";
inline constexpr const char* kTinyPoints3DTxt =
    "# 3D point list with one line of data per point:\n"
    "#   POINT3D_ID, X, Y, Z, R, G, B, ERROR, TRACK[] as (IMAGE_ID, POINT2D_IDX)\n"
    "# Number of points: 1, mean track length: 1\n"
    "3 1 2 3 255 128 0 0.75 2 0\n";

inline std::uint64_t Bits(double v) { return std::bit_cast<std::uint64_t>(v); }

// Everything equal, doubles bit for bit.
inline void ExpectScenesIdentical(const Scene& expected, const Scene& actual) {
  ASSERT_EQ(expected.cameras.size(), actual.cameras.size());
  for (const auto& [id, camera] : expected.cameras) {
    ASSERT_TRUE(actual.cameras.contains(id)) << "camera " << id.value;
    const geometry::Camera& other = actual.cameras.at(id);
    EXPECT_EQ(camera.model, other.model);
    EXPECT_EQ(camera.width, other.width);
    EXPECT_EQ(camera.height, other.height);
    ASSERT_EQ(camera.params.size(), other.params.size());
    for (std::size_t k = 0; k < camera.params.size(); ++k) {
      EXPECT_EQ(Bits(camera.params[k]), Bits(other.params[k])) << "camera " << id.value;
    }
  }
  ASSERT_EQ(expected.images.size(), actual.images.size());
  for (const auto& [id, image] : expected.images) {
    ASSERT_TRUE(actual.images.contains(id)) << "image " << id.value;
    const Image& other = actual.images.at(id);
    EXPECT_EQ(image.id, other.id);
    EXPECT_EQ(image.name, other.name);
    EXPECT_EQ(image.camera_id, other.camera_id);
    ASSERT_EQ(image.cam_from_world.has_value(), other.cam_from_world.has_value());
    if (image.cam_from_world) {
      for (int k = 0; k < 4; ++k) {
        EXPECT_EQ(Bits(image.cam_from_world->rotation.coeffs()[k]),
                  Bits(other.cam_from_world->rotation.coeffs()[k]))
            << "image " << id.value;
      }
      for (int k = 0; k < 3; ++k) {
        EXPECT_EQ(Bits(image.cam_from_world->translation[k]),
                  Bits(other.cam_from_world->translation[k]))
            << "image " << id.value;
      }
    }
    ASSERT_EQ(image.points2d.size(), other.points2d.size());
    for (std::size_t k = 0; k < image.points2d.size(); ++k) {
      EXPECT_EQ(Bits(image.points2d[k].xy.x()), Bits(other.points2d[k].xy.x()));
      EXPECT_EQ(Bits(image.points2d[k].xy.y()), Bits(other.points2d[k].xy.y()));
      EXPECT_EQ(image.points2d[k].point3d_id, other.points2d[k].point3d_id);
    }
  }
  ASSERT_EQ(expected.points3d.size(), actual.points3d.size());
  for (const auto& [id, point] : expected.points3d) {
    ASSERT_TRUE(actual.points3d.contains(id)) << "point " << id.value;
    const Point3D& other = actual.points3d.at(id);
    for (int k = 0; k < 3; ++k) EXPECT_EQ(Bits(point.xyz[k]), Bits(other.xyz[k]));
    EXPECT_EQ(point.color, other.color);
    EXPECT_EQ(Bits(point.error), Bits(other.error));
    ASSERT_EQ(point.track.size(), other.track.size());
    for (std::size_t k = 0; k < point.track.size(); ++k) {
      EXPECT_EQ(point.track[k].image_id, other.track[k].image_id);
      EXPECT_EQ(point.track[k].point2d_idx, other.track[k].point2d_idx);
    }
  }
}

}  // namespace facet::testing
