// Reading and writing images through OpenCV's imgcodecs (PNG 8/16-bit, JPEG), in RGB(A) order.
#pragma once

#include <filesystem>

#include "core/image.h"

namespace facet {

struct ImageReadOptions {
  // Channels of the result: 0 keeps the file's (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA); 1, 3 or 4
  // convert (gray from RGB by luminance, RGB from gray by replication, alpha added as opaque).
  int channels = 0;
  // Rotate/flip JPEGs as their EXIF orientation tag says, as photo viewers do.
  bool apply_exif_orientation = true;

  void Check() const;
};

struct ImageWriteOptions {
  int jpeg_quality = 95;    // 1-100; JPEG only
  int png_compression = 3;  // 0 (fastest) - 9 (smallest); PNG only

  void Check() const;
};

// Reads a PNG or JPEG into pixels of type T. The file's bit depth is converted to T: 8-bit to
// 16-bit by x257 (so 255 maps to 65535), and to float in [0, 1]. Throws facet::Error naming the
// file when it is missing, unreadable, not an image or of an unsupported depth.
template <PixelType T>
Image<T> ReadImage(const std::filesystem::path& path, const ImageReadOptions& options = {});

// Writes by extension: .png (8- or 16-bit; float is written as 8-bit after clamping to [0, 1])
// or .jpg/.jpeg (8-bit, 1 or 3 channels). Atomic: see WriteFileAtomically.
template <PixelType T>
void WriteImage(const std::filesystem::path& path, ImageView<const T> image,
                const ImageWriteOptions& options = {});

template <PixelType T>
void WriteImage(const std::filesystem::path& path, const Image<T>& image,
                const ImageWriteOptions& options = {}) {
  WriteImage<T>(path, image.view(), options);
}

}  // namespace facet
