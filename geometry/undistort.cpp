#include "geometry/undistort.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "core/error.h"
#include "core/parallel_for.h"

namespace facet::geometry {
namespace {

// Extremes of the undistorted coordinates of the distorted image's boundary, per edge: for the
// left edge the smallest and largest x, and so on.
struct BoundaryExtent {
  double left_min = std::numeric_limits<double>::infinity();
  double left_max = -std::numeric_limits<double>::infinity();
  double right_min = std::numeric_limits<double>::infinity();
  double right_max = -std::numeric_limits<double>::infinity();
  double top_min = std::numeric_limits<double>::infinity();
  double top_max = -std::numeric_limits<double>::infinity();
  double bottom_min = std::numeric_limits<double>::infinity();
  double bottom_max = -std::numeric_limits<double>::infinity();
};

// The boundary point `pixel` of `camera` in the pinhole camera `pinhole`, if its ray inverts.
std::optional<Eigen::Vector2d> ToPinhole(const Camera& camera, const Camera& pinhole,
                                         const Eigen::Vector2d& pixel) {
  const std::optional<Eigen::Vector2d> uv = camera.CamFromImg(pixel);
  if (!uv) return std::nullopt;
  const std::optional<Eigen::Vector2d> p = pinhole.ImgFromCam(uv->homogeneous());
  if (!p || !p->allFinite()) return std::nullopt;
  return p;
}

BoundaryExtent MeasureBoundary(const Camera& camera, const Camera& pinhole) {
  BoundaryExtent e;
  const double w = camera.width, h = camera.height;
  for (int i = 0; i <= camera.height; ++i) {
    const double y = std::min(double(i), h);
    if (const auto p = ToPinhole(camera, pinhole, {0.0, y})) {
      e.left_min = std::min(e.left_min, p->x());
      e.left_max = std::max(e.left_max, p->x());
    }
    if (const auto p = ToPinhole(camera, pinhole, {w, y})) {
      e.right_min = std::min(e.right_min, p->x());
      e.right_max = std::max(e.right_max, p->x());
    }
  }
  for (int i = 0; i <= camera.width; ++i) {
    const double x = std::min(double(i), w);
    if (const auto p = ToPinhole(camera, pinhole, {x, 0.0})) {
      e.top_min = std::min(e.top_min, p->y());
      e.top_max = std::max(e.top_max, p->y());
    }
    if (const auto p = ToPinhole(camera, pinhole, {x, h})) {
      e.bottom_min = std::min(e.bottom_min, p->y());
      e.bottom_max = std::max(e.bottom_max, p->y());
    }
  }
  return e;
}

// Scale of one axis: the output spans [0, s * size] with the principal point at s * c, and an
// undistorted coordinate X lands at s * c + (X - c) (the focal length is kept).
double AxisScale(double c, double size, double low_min, double low_max, double high_min,
                 double high_max, const UndistortOptions& options) {
  // Keep everything: s c >= c - low_min and s (size - c) >= high_max - c.
  const double s_in = std::max((c - low_min) / c, (high_max - c) / (size - c));
  // No blank pixel: s c <= c - low_max and s (size - c) <= high_min - c.
  const double s_valid = std::min((c - low_max) / c, (high_min - c) / (size - c));
  double s = 1.0 / (options.blank_pixels / s_in + (1.0 - options.blank_pixels) / s_valid);
  if (!std::isfinite(s) || s <= 0.0) {
    // A boundary that does not invert (extreme distortion): the most the options allow, or the
    // least when the blank-free size is what failed.
    s = std::isfinite(s_valid) && s_valid > 0.0 ? s_valid : options.max_scale;
  }
  return std::clamp(s, options.min_scale, options.max_scale);
}

template <typename T>
T ToPixel(double value) {
  if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(value);
  } else {
    const double max = double(std::numeric_limits<T>::max());
    return static_cast<T>(std::clamp(std::round(value), 0.0, max));
  }
}

}  // namespace

void UndistortOptions::Check() const {
  FACET_CHECK(blank_pixels >= 0.0 && blank_pixels <= 1.0,
              "UndistortOptions.blank_pixels must be in [0, 1] (got {})", blank_pixels);
  FACET_CHECK(min_scale > 0.0 && std::isfinite(min_scale),
              "UndistortOptions.min_scale must be positive (got {})", min_scale);
  FACET_CHECK(max_scale >= min_scale && std::isfinite(max_scale),
              "UndistortOptions.max_scale must be finite and >= min_scale = {} (got {})", min_scale,
              max_scale);
}

Camera UndistortCamera(const Camera& camera, const UndistortOptions& options) {
  camera.Check();
  options.Check();
  Camera pinhole;
  pinhole.model = CameraModelId::kPinhole;
  pinhole.width = camera.width;
  pinhole.height = camera.height;
  const Eigen::Vector2d c = camera.PrincipalPoint();
  pinhole.params = {camera.FocalX(), camera.FocalY(), c.x(), c.y()};
  if (!options.rescale || !camera.HasDistortion()) return pinhole;
  FACET_CHECK(c.x() > 0.0 && c.x() < camera.width && c.y() > 0.0 && c.y() < camera.height,
              "cannot rescale the undistorted {} camera: its principal point ({}, {}) lies "
              "outside the {}x{} image (undistort without `rescale`)",
              camera.ModelName(), c.x(), c.y(), camera.width, camera.height);

  const BoundaryExtent e = MeasureBoundary(camera, pinhole);
  const double scale_x =
      AxisScale(c.x(), camera.width, e.left_min, e.left_max, e.right_min, e.right_max, options);
  const double scale_y =
      AxisScale(c.y(), camera.height, e.top_min, e.top_max, e.bottom_min, e.bottom_max, options);
  pinhole.width = std::max(1, static_cast<int>(scale_x * camera.width));
  pinhole.height = std::max(1, static_cast<int>(scale_y * camera.height));
  pinhole.params[2] = c.x() * pinhole.width / camera.width;
  pinhole.params[3] = c.y() * pinhole.height / camera.height;
  return pinhole;
}

template <PixelType T>
Image<T> UndistortImage(ImageView<const T> distorted, const Camera& distorted_camera,
                        const Camera& pinhole) {
  distorted_camera.Check();
  pinhole.Check();
  FACET_CHECK(
      distorted.width() == distorted_camera.width && distorted.height() == distorted_camera.height,
      "cannot undistort a {}x{} image with a {}x{} camera (the image must be the "
      "camera's)",
      distorted.width(), distorted.height(), distorted_camera.width, distorted_camera.height);
  FACET_CHECK(!pinhole.HasDistortion(),
              "cannot undistort into a {} camera with distortion (use UndistortCamera's result)",
              pinhole.ModelName());

  Image<T> out(pinhole.width, pinhole.height, distorted.channels());
  const int channels = distorted.channels();
  const int w = distorted.width(), h = distorted.height();
  const Eigen::Vector2d c = pinhole.PrincipalPoint();
  const double fx = pinhole.FocalX(), fy = pinhole.FocalY();
  ParallelFor(pinhole.height, [&](std::int64_t row) {
    const int y = static_cast<int>(row);
    T* out_row = out.view().Row(y);
    for (int x = 0; x < pinhole.width; ++x) {
      const Eigen::Vector3d ray((x + 0.5 - c.x()) / fx, (y + 0.5 - c.y()) / fy, 1.0);
      const std::optional<Eigen::Vector2d> p = distorted_camera.ImgFromCam(ray);
      if (!p || !(p->x() >= 0.0 && p->x() <= w && p->y() >= 0.0 && p->y() <= h)) continue;
      // Bilinear between pixel centres: sample coordinates are pixel coordinates - 0.5.
      const double sx = std::clamp(p->x() - 0.5, 0.0, double(w - 1));
      const double sy = std::clamp(p->y() - 0.5, 0.0, double(h - 1));
      const int x0 = std::min(static_cast<int>(sx), w - 1),
                y0 = std::min(static_cast<int>(sy), h - 1);
      const int x1 = std::min(x0 + 1, w - 1), y1 = std::min(y0 + 1, h - 1);
      const double ax = sx - x0, ay = sy - y0;
      for (int ch = 0; ch < channels; ++ch) {
        const double top =
            (1.0 - ax) * double(distorted(x0, y0, ch)) + ax * double(distorted(x1, y0, ch));
        const double bottom =
            (1.0 - ax) * double(distorted(x0, y1, ch)) + ax * double(distorted(x1, y1, ch));
        out_row[x * channels + ch] = ToPixel<T>((1.0 - ay) * top + ay * bottom);
      }
    }
  });
  return out;
}

template Image<std::uint8_t> UndistortImage(ImageView<const std::uint8_t>, const Camera&,
                                            const Camera&);
template Image<std::uint16_t> UndistortImage(ImageView<const std::uint16_t>, const Camera&,
                                             const Camera&);
template Image<float> UndistortImage(ImageView<const float>, const Camera&, const Camera&);

std::vector<std::optional<Eigen::Vector2d>> UndistortPoints(
    std::span<const Eigen::Vector2d> keypoints, const Camera& distorted_camera,
    const Camera& pinhole) {
  distorted_camera.Check();
  pinhole.Check();
  std::vector<std::optional<Eigen::Vector2d>> out(keypoints.size());
  for (std::size_t i = 0; i < keypoints.size(); ++i) {
    const std::optional<Eigen::Vector2d> uv = distorted_camera.CamFromImg(keypoints[i]);
    if (uv) out[i] = pinhole.ImgFromCam(uv->homogeneous());
  }
  return out;
}

}  // namespace facet::geometry
