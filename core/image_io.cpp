#include "core/image_io.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <limits>
#include <string>

#include "core/file_io.h"

namespace facet {
namespace fs = std::filesystem;
namespace {

enum class Codec { kPng, kJpeg, kUnknown };

Codec SniffCodec(const std::vector<std::uint8_t>& bytes) {
  static constexpr std::uint8_t kPng[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (bytes.size() >= sizeof(kPng) && std::memcmp(bytes.data(), kPng, sizeof(kPng)) == 0) {
    return Codec::kPng;
  }
  if (bytes.size() >= 3 && bytes[0] == 0xff && bytes[1] == 0xd8 && bytes[2] == 0xff) {
    return Codec::kJpeg;
  }
  return Codec::kUnknown;
}

template <typename T>
constexpr int CvDepth() {
  if constexpr (std::is_same_v<T, std::uint8_t>) return CV_8U;
  if constexpr (std::is_same_v<T, std::uint16_t>) return CV_16U;
  return CV_32F;
}

// Scale from a file depth (CV_8U or CV_16U) to T's range: float images are in [0, 1].
template <typename T>
double DepthScale(int from_depth) {
  const double from_max = from_depth == CV_8U ? 255.0 : 65535.0;
  if constexpr (std::is_same_v<T, float>) return 1.0 / from_max;
  const double to_max = std::is_same_v<T, std::uint8_t> ? 255.0 : 65535.0;
  return to_max / from_max;
}

// OpenCV stores colour as BGR(A); facet as RGB(A). Also converts to `want` channels (0 = keep).
cv::Mat ToRgbChannels(const cv::Mat& bgr, int want) {
  const int have = bgr.channels();
  cv::Mat out;
  switch (have) {
    case 1:
      if (want == 0 || want == 1) return bgr;
      cv::cvtColor(bgr, out, want == 3 ? cv::COLOR_GRAY2RGB : cv::COLOR_GRAY2RGBA);
      return out;
    case 3:
      cv::cvtColor(bgr, out,
                   want == 1   ? cv::COLOR_BGR2GRAY
                   : want == 4 ? cv::COLOR_BGR2RGBA
                               : cv::COLOR_BGR2RGB);
      return out;
    case 4:
      cv::cvtColor(bgr, out,
                   want == 1   ? cv::COLOR_BGRA2GRAY
                   : want == 3 ? cv::COLOR_BGRA2RGB
                               : cv::COLOR_BGRA2RGBA);
      return out;
    default:
      FACET_THROW("unsupported number of channels {}", have);
  }
}

}  // namespace

void ImageReadOptions::Check() const {
  FACET_CHECK(channels == 0 || channels == 1 || channels == 3 || channels == 4,
              "ImageReadOptions::channels must be 0 (keep), 1, 3 or 4 (got {})", channels);
}

void ImageWriteOptions::Check() const {
  FACET_CHECK(jpeg_quality >= 1 && jpeg_quality <= 100,
              "ImageWriteOptions::jpeg_quality must be in 1-100 (got {})", jpeg_quality);
  FACET_CHECK(png_compression >= 0 && png_compression <= 9,
              "ImageWriteOptions::png_compression must be in 0-9 (got {})", png_compression);
}

template <PixelType T>
Image<T> ReadImage(const fs::path& path, const ImageReadOptions& options) {
  options.Check();
  const std::vector<std::uint8_t> bytes = ReadFile(path);
  FACET_CHECK(!bytes.empty(), "cannot read image '{}': the file is empty", path.string());
  FACET_CHECK(bytes.size() <= static_cast<std::size_t>(std::numeric_limits<int>::max()),
              "cannot read image '{}': {} bytes is more than the 2 GiB an encoded image may have",
              path.string(), bytes.size());
  const Codec codec = SniffCodec(bytes);
  FACET_CHECK(codec != Codec::kUnknown,
              "cannot read image '{}': not a PNG or JPEG file (convert it, or remove it from the "
              "input)",
              path.string());

  // PNG: keep alpha and 16-bit depth. JPEG: no alpha, but honour the EXIF orientation.
  int flags = cv::IMREAD_UNCHANGED;
  if (codec == Codec::kJpeg) {
    flags = cv::IMREAD_ANYCOLOR | cv::IMREAD_ANYDEPTH;
    if (!options.apply_exif_orientation) flags |= cv::IMREAD_IGNORE_ORIENTATION;
  }
  cv::Mat decoded;
  try {
    decoded = cv::imdecode(
        cv::Mat(1, static_cast<int>(bytes.size()), CV_8U, const_cast<std::uint8_t*>(bytes.data())),
        flags);
  } catch (const cv::Exception& e) {
    FACET_THROW("cannot decode image '{}': {}", path.string(), e.what());
  }
  FACET_CHECK(!decoded.empty(), "cannot decode image '{}': the {} data is corrupt or truncated",
              path.string(), codec == Codec::kPng ? "PNG" : "JPEG");
  FACET_CHECK(decoded.depth() == CV_8U || decoded.depth() == CV_16U,
              "cannot read image '{}': only 8- and 16-bit images are supported", path.string());

  cv::Mat rgb = ToRgbChannels(decoded, options.channels);
  cv::Mat typed;
  rgb.convertTo(typed, CvDepth<T>(), DepthScale<T>(rgb.depth()));

  Image<T> image(typed.cols, typed.rows, typed.channels());
  const std::size_t row_bytes = std::size_t(typed.cols) * typed.channels() * sizeof(T);
  for (int y = 0; y < typed.rows; ++y) {
    std::memcpy(image.view().Row(y), typed.ptr(y), row_bytes);
  }
  return image;
}

template <PixelType T>
void WriteImage(const fs::path& path, ImageView<const T> image, const ImageWriteOptions& options) {
  options.Check();
  FACET_CHECK(!image.empty(), "cannot write '{}': the image is empty", path.string());
  const std::string ext = LowercaseExtension(path);
  const bool jpeg = ext == ".jpg" || ext == ".jpeg";
  FACET_CHECK(jpeg || ext == ".png", "cannot write '{}': use a .png, .jpg or .jpeg name",
              path.string());

  const cv::Mat wrapped(image.height(), image.width(), CV_MAKETYPE(CvDepth<T>(), image.channels()),
                        const_cast<T*>(image.data()), image.row_stride() * sizeof(T));
  cv::Mat mat;
  if constexpr (std::is_same_v<T, float>) {
    wrapped.convertTo(mat, CV_8U, 255.0);  // saturating, rounded
  } else {
    mat = wrapped;  // shares the pixels
  }
  FACET_CHECK(!(jpeg && mat.depth() != CV_8U),
              "cannot write '{}': JPEG holds 8-bit images only (write a .png)", path.string());
  FACET_CHECK(!(jpeg && (image.channels() == 2 || image.channels() == 4)),
              "cannot write '{}': JPEG has no alpha channel (write a .png, or drop the alpha)",
              path.string());

  cv::Mat bgr;
  switch (image.channels()) {
    case 1:
      bgr = mat;
      break;
    case 2: {  // gray + alpha: PNG via OpenCV takes 1, 3 or 4 channels
      cv::Mat planes[2], rgba[4];
      cv::split(mat, planes);
      rgba[0] = rgba[1] = rgba[2] = planes[0];
      rgba[3] = planes[1];
      cv::merge(rgba, 4, bgr);
      break;
    }
    case 3:
      cv::cvtColor(mat, bgr, cv::COLOR_RGB2BGR);
      break;
    default:
      cv::cvtColor(mat, bgr, cv::COLOR_RGBA2BGRA);
      break;
  }

  std::vector<int> params;
  if (jpeg) {
    params = {cv::IMWRITE_JPEG_QUALITY, options.jpeg_quality};
  } else {
    params = {cv::IMWRITE_PNG_COMPRESSION, options.png_compression};
  }
  std::vector<std::uint8_t> encoded;
  bool ok = false;
  try {
    ok = cv::imencode(jpeg ? ".jpg" : ".png", bgr, encoded, params);
  } catch (const cv::Exception& e) {
    FACET_THROW("cannot encode '{}': {}", path.string(), e.what());
  }
  FACET_CHECK(ok, "cannot encode '{}' as {}", path.string(), jpeg ? "JPEG" : "PNG");
  WriteFileAtomically(path, std::span<const std::uint8_t>(encoded));
}

#define FACET_INSTANTIATE_IMAGE_IO(T)                                       \
  template Image<T> ReadImage<T>(const fs::path&, const ImageReadOptions&); \
  template void WriteImage<T>(const fs::path&, ImageView<const T>, const ImageWriteOptions&);
FACET_INSTANTIATE_IMAGE_IO(std::uint8_t)
FACET_INSTANTIATE_IMAGE_IO(std::uint16_t)
FACET_INSTANTIATE_IMAGE_IO(float)
#undef FACET_INSTANTIATE_IMAGE_IO

}  // namespace facet
