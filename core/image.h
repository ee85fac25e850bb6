// Image<T>: an owning, row-major, interleaved image of 1 to 4 channels (gray, gray+alpha, RGB,
// RGBA), and ImageView<T>: a non-owning window into one (pointer + size + row stride), cheap to
// copy and to crop. T is std::uint8_t, std::uint16_t or float.
//
// Pixel (x, y) channel c lives at data[y * row_stride + x * channels + c]; x grows to the right
// and y downwards, as in COLMAP and OpenCV.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "core/error.h"

namespace facet {

template <typename T>
concept PixelType = std::is_same_v<std::remove_const_t<T>, std::uint8_t> ||
                    std::is_same_v<std::remove_const_t<T>, std::uint16_t> ||
                    std::is_same_v < std::remove_const_t<T>,
float > ;

template <PixelType T>
class ImageView {
 public:
  ImageView() = default;
  // `row_stride` in elements; 0 means tightly packed (width * channels).
  ImageView(T* data, int width, int height, int channels, std::ptrdiff_t row_stride = 0)
      : data_(data),
        width_(width),
        height_(height),
        channels_(channels),
        row_stride_(row_stride != 0 ? row_stride : std::ptrdiff_t{width} * channels) {
    FACET_CHECK(width >= 0 && height >= 0 && channels >= 1 && channels <= 4,
                "invalid image view {}x{} with {} channels (channels must be 1-4)", width, height,
                channels);
    FACET_CHECK(row_stride_ >= std::ptrdiff_t{width} * channels,
                "image row stride {} is shorter than a row of {} elements", row_stride_,
                std::ptrdiff_t{width} * channels);
  }

  // A view of const pixels converts implicitly from a view of mutable ones.
  operator ImageView<const T>() const {  // NOLINT(google-explicit-constructor)
    return ImageView<const T>(data_, width_, height_, channels_, row_stride_);
  }

  T* data() const { return data_; }
  int width() const { return width_; }
  int height() const { return height_; }
  int channels() const { return channels_; }
  std::ptrdiff_t row_stride() const { return row_stride_; }
  bool empty() const { return width_ == 0 || height_ == 0; }
  bool IsContiguous() const { return row_stride_ == std::ptrdiff_t{width_} * channels_; }

  T* Row(int y) const { return data_ + y * row_stride_; }
  T& operator()(int x, int y, int c = 0) const { return Row(y)[x * channels_ + c]; }

  // The w x h window whose top-left pixel is (x, y); shares this view's pixels.
  ImageView Crop(int x, int y, int w, int h) const {
    FACET_CHECK(x >= 0 && y >= 0 && w >= 0 && h >= 0 && x + w <= width_ && y + h <= height_,
                "crop {}x{}+{}+{} is outside the {}x{} image", w, h, x, y, width_, height_);
    return ImageView(data_ + y * row_stride_ + x * channels_, w, h, channels_, row_stride_);
  }

 private:
  T* data_ = nullptr;
  int width_ = 0;
  int height_ = 0;
  int channels_ = 1;
  std::ptrdiff_t row_stride_ = 0;
};

template <PixelType T>
class Image {
 public:
  using ValueType = T;

  Image() = default;
  Image(int width, int height, int channels, T fill = T{}) { Reset(width, height, channels, fill); }

  // Deep copy of any view (cropped or strided views become tightly packed).
  static Image FromView(ImageView<const T> view) {
    Image image(view.width(), view.height(), view.channels());
    const std::size_t row = std::size_t(view.width()) * view.channels();
    for (int y = 0; y < view.height(); ++y) {
      std::copy(view.Row(y), view.Row(y) + row, image.view().Row(y));
    }
    return image;
  }

  void Reset(int width, int height, int channels, T fill = T{}) {
    FACET_CHECK(width >= 0 && height >= 0 && channels >= 1 && channels <= 4,
                "invalid image size {}x{} with {} channels (channels must be 1-4)", width, height,
                channels);
    width_ = width;
    height_ = height;
    channels_ = channels;
    pixels_.assign(std::size_t(width) * height * channels, fill);
  }

  ImageView<T> view() { return ImageView<T>(pixels_.data(), width_, height_, channels_); }
  ImageView<const T> view() const {
    return ImageView<const T>(pixels_.data(), width_, height_, channels_);
  }
  operator ImageView<const T>() const { return view(); }  // NOLINT(google-explicit-constructor)

  T* data() { return pixels_.data(); }
  const T* data() const { return pixels_.data(); }
  std::size_t size() const { return pixels_.size(); }  // number of elements (pixels * channels)
  int width() const { return width_; }
  int height() const { return height_; }
  int channels() const { return channels_; }
  bool empty() const { return pixels_.empty(); }

  T& operator()(int x, int y, int c = 0) {
    return pixels_[(std::size_t(y) * width_ + x) * channels_ + c];
  }
  const T& operator()(int x, int y, int c = 0) const {
    return pixels_[(std::size_t(y) * width_ + x) * channels_ + c];
  }

 private:
  int width_ = 0;
  int height_ = 0;
  int channels_ = 1;
  std::vector<T> pixels_;
};

using ImageU8 = Image<std::uint8_t>;
using ImageU16 = Image<std::uint16_t>;
using ImageF32 = Image<float>;

}  // namespace facet
