// Small scenes and image counts shared by the `facet view` tests (view_cli_test.cpp,
// view_window_test.cpp).
#pragma once

#include <cmath>
#include <cstdlib>

#include "core/image.h"
#include "datasets/gaussian_splats.h"

namespace facet {

// Opaque round splats of radius ~0.05: red ones along +x, green ones along +y (so that views
// from +x and +y differ), all in the z = 0 plane around the origin.
inline datasets::GaussianSplats RedAndGreenSplats() {
  constexpr float kShC0 = 0.28209479177387814f;
  datasets::GaussianSplats splats;
  for (int i = 0; i < 6; ++i) {
    for (const bool green : {false, true}) {
      const float t = -0.5f + 0.2f * i;
      splats.positions.push_back(green ? Eigen::Vector3f(0.0f, t, 0.0f)
                                       : Eigen::Vector3f(t, 0.0f, 0.0f));
      const Eigen::Vector3f rgb =
          green ? Eigen::Vector3f(0.1f, 0.9f, 0.1f) : Eigen::Vector3f(0.9f, 0.1f, 0.1f);
      splats.sh_dc.push_back((rgb.array() - 0.5f) / kShC0);
      splats.opacities.push_back(5.0f);
      splats.log_scales.push_back(Eigen::Vector3f::Constant(std::log(0.05f)));
      splats.rotations.push_back(Eigen::Vector4f(1.0f, 0.0f, 0.0f, 0.0f));
    }
  }
  return splats;
}

// Pixels farther than 30 levels (sum over RGB) from `rgb`.
inline int PixelsAwayFrom(const ImageU8& image, int r, int g, int b) {
  int count = 0;
  for (int y = 0; y < image.height(); ++y) {
    for (int x = 0; x < image.width(); ++x) {
      count += std::abs(image(x, y, 0) - r) + std::abs(image(x, y, 1) - g) +
                   std::abs(image(x, y, 2) - b) >
               30;
    }
  }
  return count;
}

// Pixels whose RGB values differ by more than `threshold` (summed over the channels).
inline int PixelsDiffering(const ImageU8& a, const ImageU8& b, int threshold = 30) {
  int count = 0;
  for (int y = 0; y < a.height(); ++y) {
    for (int x = 0; x < a.width(); ++x) {
      int diff = 0;
      for (int c = 0; c < 3; ++c) diff += std::abs(a(x, y, c) - b(x, y, c));
      count += diff > threshold;
    }
  }
  return count;
}

}  // namespace facet
