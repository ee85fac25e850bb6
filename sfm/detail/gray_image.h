// A gray 8-bit cv::Mat of an image view, for the OpenCV feature detectors (SIFT, ORB).
#pragma once

#include <opencv2/core.hpp>

#include <cstdint>

#include "core/image.h"

namespace facet::sfm::detail {

// Gray 8-bit copy of `image` (1 gray, 2 gray + alpha, 3 RGB or 4 RGBA channels; colour by
// luminance), as a cv::Mat that owns its pixels.
cv::Mat ToGray(ImageView<const std::uint8_t> image);

}  // namespace facet::sfm::detail
