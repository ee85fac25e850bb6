#include "pipeline/report_images.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "core/error.h"
#include "pipeline/report.h"

namespace facet::pipeline {
namespace {

cv::Mat Wrap(const ImageU8& image) {
  return cv::Mat(image.height(), image.width(), CV_MAKETYPE(CV_8U, image.channels()),
                 const_cast<std::uint8_t*>(image.data()));
}

// Key colours of matplotlib's "inferno" at t = 0, 1/6, ..., 1 (sRGB); linear in between.
constexpr std::array<std::array<double, 3>, 7> kInferno = {{{0, 0, 4},
                                                            {40, 11, 84},
                                                            {101, 21, 110},
                                                            {159, 42, 99},
                                                            {212, 72, 66},
                                                            {245, 125, 21},
                                                            {252, 255, 164}}};

}  // namespace

std::string Base64(std::span<const std::uint8_t> bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v =
        (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t v = std::uint32_t{bytes[i]} << 16;
    if (rest == 2) v |= std::uint32_t{bytes[i + 1]} << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

ImageU8 ToRgb(const ImageU8& image) {
  FACET_CHECK(image.channels() == 1 || image.channels() == 3 || image.channels() == 4,
              "report images must have 1, 3 or 4 channels (got {})", image.channels());
  if (image.channels() == 3) return image;
  ImageU8 rgb(image.width(), image.height(), 3);
  for (int y = 0; y < image.height(); ++y) {
    for (int x = 0; x < image.width(); ++x) {
      for (int c = 0; c < 3; ++c) rgb(x, y, c) = image(x, y, image.channels() == 1 ? 0 : c);
    }
  }
  return rgb;
}

ImageU8 DownscaleToWidth(const ImageU8& image, int max_width) {
  FACET_CHECK(max_width >= 1, "the largest image width must be positive (got {})", max_width);
  if (image.width() <= max_width) return image;
  const int height = std::max(
      1, static_cast<int>(std::lround(double(image.height()) * max_width / image.width())));
  ImageU8 out(max_width, height, image.channels());
  cv::Mat dst = Wrap(out);
  cv::resize(Wrap(image), dst, dst.size(), 0, 0, cv::INTER_AREA);
  return out;
}

std::string PngDataUri(const ImageU8& image) {
  FACET_CHECK(!image.empty(), "cannot embed an empty image in the report");
  cv::Mat bgr;
  switch (image.channels()) {
    case 1:
      bgr = Wrap(image);
      break;
    case 3:
      cv::cvtColor(Wrap(image), bgr, cv::COLOR_RGB2BGR);
      break;
    case 4:
      cv::cvtColor(Wrap(image), bgr, cv::COLOR_RGBA2BGRA);
      break;
    default:
      FACET_THROW("report images must have 1, 3 or 4 channels (got {})", image.channels());
  }
  std::vector<std::uint8_t> png;
  bool ok = false;
  try {
    ok = cv::imencode(".png", bgr, png, {cv::IMWRITE_PNG_COMPRESSION, 6});
  } catch (const cv::Exception& e) {
    FACET_THROW("cannot encode a {}x{} report image as PNG: {}", image.width(), image.height(),
                e.what());
  }
  FACET_CHECK(ok, "cannot encode a {}x{} report image as PNG", image.width(), image.height());
  return "data:image/png;base64," + Base64(png);
}

std::array<std::uint8_t, 3> ErrorColour(double t) {
  t = std::isnan(t) ? 0.0 : std::clamp(t, 0.0, 1.0);
  const double s = t * (kInferno.size() - 1);
  const std::size_t k = std::min<std::size_t>(static_cast<std::size_t>(s), kInferno.size() - 2);
  const double f = s - double(k);
  std::array<std::uint8_t, 3> rgb{};
  for (int c = 0; c < 3; ++c) {
    rgb[c] =
        static_cast<std::uint8_t>(std::lround((1.0 - f) * kInferno[k][c] + f * kInferno[k + 1][c]));
  }
  return rgb;
}

ImageU8 ErrorMap(const ImageU8& render, const ImageU8& photo, double gain) {
  FACET_CHECK(render.width() == photo.width() && render.height() == photo.height(),
              "a held-out render is {}x{} but its photo {}x{}: render at the photo's size",
              render.width(), render.height(), photo.width(), photo.height());
  FACET_CHECK(gain > 0.0, "the error map's gain must be positive (got {})", gain);
  const ImageU8 a = ToRgb(render);
  const ImageU8 b = ToRgb(photo);
  ImageU8 map(a.width(), a.height(), 3);
  for (int y = 0; y < a.height(); ++y) {
    for (int x = 0; x < a.width(); ++x) {
      int sum = 0;
      for (int c = 0; c < 3; ++c) sum += std::abs(int{a(x, y, c)} - int{b(x, y, c)});
      const auto colour = ErrorColour(gain * sum / (3.0 * 255.0));
      for (int c = 0; c < 3; ++c) map(x, y, c) = colour[c];
    }
  }
  return map;
}

}  // namespace facet::pipeline
