// Undistortion: a distortion-free PINHOLE camera for a distorted one, images resampled into it,
// and keypoints moved into it. Follows COLMAP's undistorter (src/colmap/image/undistortion.cc):
// the pinhole camera keeps the focal lengths and the principal point; by default it also keeps the
// image size, and `rescale` lets the size (and with it the principal point) grow or shrink so that
// the output shows only valid pixels, or all of the input, or something in between.
//
// Pixel conventions are the camera models' (camera.h): the image covers [0, width] x [0, height]
// and pixel (x, y) has its centre at (x + 0.5, y + 0.5).
#pragma once

#include <Eigen/Core>
#include <Eigen/Geometry>

#include <optional>
#include <span>
#include <vector>

#include "core/image.h"
#include "geometry/camera.h"

namespace facet::geometry {

struct UndistortOptions {
  // false: the pinhole camera has the input's size, focal lengths and principal point (pixels
  // near the border whose rays fall outside the distorted image come out blank). true: choose
  // the size as below (COLMAP's behaviour).
  bool rescale = false;
  // With `rescale`: 0 chooses the largest size with no blank pixels (every output pixel sees the
  // input), 1 the smallest size that keeps every input pixel; values between interpolate the
  // inverse scale linearly, as COLMAP does. It is not the exact fraction of blank pixels. [0, 1].
  double blank_pixels = 0.0;
  // With `rescale`: bounds on the size ratio output / input per axis; 0 < min_scale <= max_scale.
  double min_scale = 0.2;
  double max_scale = 2.0;

  // Throws facet::Error naming the first field out of range.
  void Check() const;
};

// The PINHOLE camera (fx, fy, cx, cy) that the undistorted image of `camera` uses. With
// `rescale`, the distorted image's boundary (sampled every pixel along its four edges, at the
// edges themselves) is mapped into the pinhole camera; per axis, the scale s_in that keeps every
// input pixel and the scale s_valid that leaves no blank pixel are interpolated as
// 1/s = blank_pixels / s_in + (1 - blank_pixels) / s_valid, clamped to [min_scale, max_scale];
// the size becomes floor(s * size) (at least 1) and the principal point is scaled by the same
// ratio. Cameras without distortion give the same camera as PINHOLE. Throws facet::Error for an
// invalid camera or options.
Camera UndistortCamera(const Camera& camera, const UndistortOptions& options = {});

// Resamples `distorted` (taken with `distorted_camera`, whose size it must have) into the
// distortion-free camera `pinhole` (any model whose distortion parameters are zero, usually
// UndistortCamera's result): output pixel centre -> ray -> distorted pixel, sampled bilinearly
// between pixel centres (clamped to the edge pixels within the image's outer half-pixel). Pixels
// whose source falls outside [0, width] x [0, height] are 0. Integer types are rounded and
// clamped. Parallel over rows. Throws facet::Error for a size mismatch or a distorted `pinhole`.
template <PixelType T>
Image<T> UndistortImage(ImageView<const T> distorted, const Camera& distorted_camera,
                        const Camera& pinhole);

// Moves keypoints (pixels of `distorted_camera`) to where the same rays hit `pinhole`.
// std::nullopt for a keypoint whose distortion cannot be inverted (CamFromImg fails).
std::vector<std::optional<Eigen::Vector2d>> UndistortPoints(
    std::span<const Eigen::Vector2d> keypoints, const Camera& distorted_camera,
    const Camera& pinhole);

}  // namespace facet::geometry
