#include "geometry/undistort.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include "core/error.h"

namespace facet::geometry {
namespace {

Camera MakeCamera(CameraModelId model, std::vector<double> params) {
  Camera camera;
  camera.model = model;
  camera.width = 320;
  camera.height = 240;
  camera.params = std::move(params);
  camera.Check();
  return camera;
}

// Moderate distortion of each kind: barrel (SIMPLE_RADIAL), barrel + tangential with separate
// focal lengths and an off-centre principal point (OPENCV), and a fisheye reaching ≈56° off axis
// at the corners (OPENCV_FISHEYE).
std::vector<Camera> DistortedCameras() {
  return {
      MakeCamera(CameraModelId::kSimpleRadial, {300.0, 160.0, 120.0, -0.12}),
      MakeCamera(CameraModelId::kOpenCV, {300.0, 310.0, 163.0, 117.0, -0.08, 0.01, 0.001, -0.0005}),
      MakeCamera(CameraModelId::kOpenCVFisheye,
                 {200.0, 200.0, 160.0, 120.0, 0.05, -0.01, 0.002, 0.0}),
  };
}

// The scene: a smooth pattern over ray directions (u, v) = (x/z, y/z) with a period of ~20 px at
// the camera's focal length, so bilinear interpolation is accurate but not exact.
struct Pattern {
  double omega;  // radians per unit of u or v
  double operator()(const Eigen::Vector2d& uv) const {
    return 0.5 + 0.4 * std::sin(omega * uv.x() + 0.3) * std::cos(omega * uv.y() - 0.2);
  }
};

Pattern PatternFor(const Camera& camera) {
  return {2.0 * std::numbers::pi * camera.MeanFocal() / 20.0};
}

// Renders what `camera` sees: each pixel centre's ray, evaluated analytically.
ImageF32 Render(const Camera& camera, const Pattern& pattern) {
  ImageF32 image(camera.width, camera.height, 1);
  for (int y = 0; y < camera.height; ++y) {
    for (int x = 0; x < camera.width; ++x) {
      const auto uv = camera.CamFromImg({x + 0.5, y + 0.5});
      EXPECT_TRUE(uv.has_value());
      image(x, y) = uv ? float(pattern(*uv)) : 0.0f;
    }
  }
  return image;
}

TEST(Undistort, DefaultCameraKeepsSizeFocalAndPrincipalPoint) {
  for (const Camera& camera : DistortedCameras()) {
    const Camera pinhole = UndistortCamera(camera);
    EXPECT_EQ(pinhole.model, CameraModelId::kPinhole);
    EXPECT_EQ(pinhole.width, camera.width);
    EXPECT_EQ(pinhole.height, camera.height);
    EXPECT_EQ(pinhole.FocalX(), camera.FocalX());
    EXPECT_EQ(pinhole.FocalY(), camera.FocalY());
    EXPECT_EQ(pinhole.PrincipalPoint(), camera.PrincipalPoint());
  }
}

TEST(Undistort, ImageMatchesAPinholeRenderingWithinTheBilinearBound) {
  for (const Camera& camera : DistortedCameras()) {
    SCOPED_TRACE(std::string(camera.ModelName()));
    const Pattern pattern = PatternFor(camera);
    const Camera pinhole = UndistortCamera(camera);
    const ImageF32 undistorted = UndistortImage<float>(Render(camera, pattern), camera, pinhole);
    const ImageF32 expected = Render(pinhole, pattern);
    ASSERT_EQ(undistorted.width(), pinhole.width);
    ASSERT_EQ(undistorted.height(), pinhole.height);

    // Undistorting resamples g(p) = pattern(CamFromImg(p)) bilinearly at the exact source of each
    // output pixel, so the error is bilinear interpolation's: |e| <= (max|g_xx| + max|g_yy|) / 8
    // for a unit grid. The second derivatives are measured by central differences at every pixel
    // corner; with a ~20 px period a lattice point is within 1/40 period of each extremum, so the
    // sampled maximum is > cos(2π/40) ≈ 0.99 of the true one, and 1.25x covers that with room.
    // Float storage adds < 1e-7.
    const auto g = [&](double px, double py) { return pattern(*camera.CamFromImg({px, py})); };
    double max_gxx = 0.0, max_gyy = 0.0;
    for (double py = 1.0; py <= camera.height - 1.0; py += 1.0) {
      for (double px = 1.0; px <= camera.width - 1.0; px += 1.0) {
        const double h = 0.25, g0 = g(px, py);
        max_gxx = std::max(max_gxx, std::abs(g(px + h, py) - 2 * g0 + g(px - h, py)) / (h * h));
        max_gyy = std::max(max_gyy, std::abs(g(px, py + h) - 2 * g0 + g(px, py - h)) / (h * h));
      }
    }
    const double bound = 1.25 * (max_gxx + max_gyy) / 8.0 + 1e-6;

    double sum_error = 0.0, max_error = 0.0;
    int interior = 0, blank = 0;
    for (int y = 0; y < pinhole.height; ++y) {
      for (int x = 0; x < pinhole.width; ++x) {
        const Eigen::Vector3d ray((x + 0.5 - pinhole.params[2]) / pinhole.params[0],
                                  (y + 0.5 - pinhole.params[3]) / pinhole.params[1], 1.0);
        const Eigen::Vector2d source = *camera.ImgFromCam(ray);
        if (source.x() < 0 || source.x() > camera.width || source.y() < 0 ||
            source.y() > camera.height) {
          EXPECT_EQ(undistorted(x, y), 0.0f) << "outside pixels are blank";
          ++blank;
          continue;
        }
        // Within the outer half pixel the sampler clamps to the edge: no interpolation bound.
        if (source.x() < 0.5 || source.x() > camera.width - 0.5 || source.y() < 0.5 ||
            source.y() > camera.height - 0.5) {
          continue;
        }
        const double error = std::abs(double(undistorted(x, y)) - double(expected(x, y)));
        sum_error += error;
        max_error = std::max(max_error, error);
        ++interior;
      }
    }
    // The pattern swings over [0.1, 0.9]: errors are a few percent of that at most.
    EXPECT_GT(interior, pinhole.width * pinhole.height * 3 / 4);
    EXPECT_LE(max_error, bound);
    EXPECT_LE(sum_error / interior, bound);
    EXPECT_LT(bound, 0.1);
    // All three distortions are barrel-like: the distorted image sees a wider field than the
    // same-size pinhole, so no output pixel is blank.
    EXPECT_EQ(blank, 0);
    RecordProperty(std::string(camera.ModelName()) + "_errors",
                   std::to_string(sum_error / interior) + " mean, " + std::to_string(max_error) +
                       " max, bound " + std::to_string(bound) + ", blank " + std::to_string(blank));
  }
}

TEST(Undistort, DistortionFreeCameraIsReproducedExactly) {
  const Camera camera = Camera::Create(CameraModelId::kSimplePinhole, 250.0, 64, 48);
  ImageU8 image(64, 48, 3);
  for (int y = 0; y < 48; ++y)
    for (int x = 0; x < 64; ++x)
      for (int c = 0; c < 3; ++c) image(x, y, c) = std::uint8_t((x * 7 + y * 13 + c * 50) % 256);
  const Camera pinhole = UndistortCamera(camera, {.rescale = true});
  EXPECT_EQ(pinhole.width, 64);
  const ImageU8 out = UndistortImage<std::uint8_t>(image, camera, pinhole);
  ASSERT_EQ(out.size(), image.size());
  EXPECT_TRUE(std::equal(out.data(), out.data() + out.size(), image.data()));
}

TEST(Undistort, RescaleWithoutBlankPixelsSeesOnlyTheInput) {
  for (const Camera& camera : DistortedCameras()) {
    SCOPED_TRACE(std::string(camera.ModelName()));
    const Camera pinhole = UndistortCamera(camera, {.rescale = true, .blank_pixels = 0.0});
    // Every output pixel's ray lands inside the distorted image (the sides were sampled every
    // pixel, so allow a hundredth of a pixel for the curvature between samples), and the fit is
    // tight: some output pixel's source lies within 2 px of the input's border.
    double closest = std::numeric_limits<double>::infinity();
    for (int y = 0; y < pinhole.height; ++y) {
      for (int x = 0; x < pinhole.width; ++x) {
        const Eigen::Vector3d ray((x + 0.5 - pinhole.params[2]) / pinhole.params[0],
                                  (y + 0.5 - pinhole.params[3]) / pinhole.params[1], 1.0);
        const Eigen::Vector2d source = *camera.ImgFromCam(ray);
        ASSERT_TRUE(source.x() >= -0.01 && source.x() <= camera.width + 0.01 &&
                    source.y() >= -0.01 && source.y() <= camera.height + 0.01)
            << x << "," << y << " -> " << source.transpose();
        closest = std::min({closest, source.x(), source.y(), camera.width - source.x(),
                            camera.height - source.y()});
      }
    }
    EXPECT_LT(closest, 2.0);
    EXPECT_EQ(pinhole.FocalX(), camera.FocalX());
    // The principal point keeps its relative position.
    EXPECT_NEAR(pinhole.params[2] / pinhole.width, camera.PrincipalPoint().x() / camera.width,
                1e-12);
  }
}

TEST(Undistort, RescaleWithAllBlankPixelsKeepsTheWholeInput) {
  for (const Camera& camera : DistortedCameras()) {
    SCOPED_TRACE(std::string(camera.ModelName()));
    const Camera pinhole = UndistortCamera(camera, {.rescale = true, .blank_pixels = 1.0});
    // Every input pixel centre lands inside the output (floor() of the size loses < 1 px), and
    // some lands within 2 px of the output's border (the size is not wasteful).
    double closest = std::numeric_limits<double>::infinity();
    for (int y = 0; y < camera.height; ++y) {
      for (int x = 0; x < camera.width; ++x) {
        if (x != 0 && y != 0 && x != camera.width - 1 && y != camera.height - 1) continue;
        const auto uv = camera.CamFromImg({x + 0.5, y + 0.5});
        ASSERT_TRUE(uv.has_value());
        const Eigen::Vector2d p = *pinhole.ImgFromCam(uv->homogeneous());
        ASSERT_TRUE(p.x() >= -1.0 && p.x() <= pinhole.width + 1.0 && p.y() >= -1.0 &&
                    p.y() <= pinhole.height + 1.0)
            << x << "," << y << " -> " << p.transpose();
        closest = std::min({closest, p.x(), p.y(), pinhole.width - p.x(), pinhole.height - p.y()});
      }
    }
    EXPECT_LT(closest, 2.0);
    // Clamping by max_scale applies.
    const Camera clamped =
        UndistortCamera(camera, {.rescale = true, .blank_pixels = 1.0, .max_scale = 1.0});
    EXPECT_LE(clamped.width, camera.width);
    EXPECT_LE(clamped.height, camera.height);
  }
}

TEST(Undistort, KeypointsMoveWhereThePinholeSeesTheSameRay) {
  for (const Camera& camera : DistortedCameras()) {
    SCOPED_TRACE(std::string(camera.ModelName()));
    const Camera pinhole = UndistortCamera(camera, {.rescale = true, .blank_pixels = 0.5});
    std::vector<Eigen::Vector3d> points;
    for (double x = -1.0; x <= 1.0; x += 0.25)
      for (double y = -0.7; y <= 0.7; y += 0.35) points.emplace_back(x, y, 2.0);
    std::vector<Eigen::Vector2d> keypoints;
    for (const auto& p : points) keypoints.push_back(*camera.ImgFromCam(p));
    const auto moved = UndistortPoints(keypoints, camera, pinhole);
    ASSERT_EQ(moved.size(), points.size());
    for (std::size_t i = 0; i < points.size(); ++i) {
      ASSERT_TRUE(moved[i].has_value());
      // CamFromImg converges to 1e-12 in normalised units: ~1e-9 px at these focal lengths.
      EXPECT_LT((*moved[i] - *pinhole.ImgFromCam(points[i])).norm(), 1e-8);
    }
  }
}

TEST(Undistort, RejectsMismatchedInputsAndBadOptions) {
  const Camera camera = DistortedCameras()[0];
  const ImageF32 wrong_size(100, 100, 1);
  EXPECT_THROW(UndistortImage<float>(wrong_size, camera, UndistortCamera(camera)), Error);
  const ImageF32 image(camera.width, camera.height, 1);
  EXPECT_THROW(UndistortImage<float>(image, camera, camera), Error);  // target is distorted
  EXPECT_THROW(UndistortCamera(camera, {.blank_pixels = 2.0}), Error);
  EXPECT_THROW(UndistortCamera(camera, {.min_scale = 0.0}), Error);
  EXPECT_THROW(UndistortCamera(camera, {.min_scale = 1.5, .max_scale = 1.0}), Error);
}

}  // namespace
}  // namespace facet::geometry
