#include "sfm/detail/gray_image.h"

#include <opencv2/imgproc.hpp>

namespace facet::sfm::detail {

cv::Mat ToGray(ImageView<const std::uint8_t> image) {
  const cv::Mat view(image.height(), image.width(), CV_8UC(image.channels()),
                     const_cast<std::uint8_t*>(image.data()),
                     static_cast<std::size_t>(image.row_stride()));
  cv::Mat gray;
  switch (image.channels()) {
    case 1:
      view.copyTo(gray);
      break;
    case 2:  // gray + alpha
      cv::extractChannel(view, gray, 0);
      break;
    case 3:
      cv::cvtColor(view, gray, cv::COLOR_RGB2GRAY);
      break;
    default:
      cv::cvtColor(view, gray, cv::COLOR_RGBA2GRAY);
      break;
  }
  return gray;
}

}  // namespace facet::sfm::detail
