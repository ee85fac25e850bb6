// Image headers without decoding pixels: the size of a JPEG or PNG file and, for JPEG, the EXIF
// tags that structure from motion needs (orientation, focal length and its 35 mm equivalent, the
// focal-plane resolution, camera make and model).
//
// Why a small parser of our own instead of libexif: we need eight tags from two IFDs, the same
// walk over the JPEG markers also yields the image size (libexif does not), and a bounded parser
// of ~200 lines is easier to make provably safe on hostile input than a general library with a
// long CVE history. Every offset and count is checked against the bytes actually present before
// it is used; no IFD chain is followed beyond IFD0 -> Exif IFD, so there are no loops to exploit;
// the only allocation is the APP1 segment itself (at most 65,533 bytes by the JPEG format).
//
// References: EXIF 2.32 (CIPA DC-008-2019) sections 4.5-4.6 (TIFF structure, tags); TIFF 6.0
// section 2 (header, IFDs, field types); ITU T.81 annex B (JPEG markers); PNG 1.2 section 11.2.2
// (IHDR).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>

namespace facet::datasets {

// The EXIF fields facet reads. Absent tags stay empty.
struct ExifInfo {
  // TIFF tag 274: how the stored pixels must be transformed for display. 1 = as stored,
  // 3 = rotate 180°, 6 = rotate 90° clockwise, 8 = rotate 90° counter-clockwise; 2, 4, 5, 7 are
  // the mirrored variants. 5-8 swap width and height.
  int orientation = 1;
  std::optional<double> focal_length_mm{};           // tag 0x920A FocalLength
  std::optional<double> focal_length_35mm{};         // tag 0xA405 FocalLengthIn35mmFilm (mm)
  std::optional<double> focal_plane_x_resolution{};  // tag 0xA20E, pixels per resolution unit
  std::optional<double> focal_plane_y_resolution{};  // tag 0xA20F, pixels per resolution unit
  // tag 0xA210 FocalPlaneResolutionUnit in millimetres: 25.4 (inch, the default), 10 (cm),
  // 1 (mm), 0.001 (µm); empty for unknown unit codes.
  std::optional<double> focal_plane_unit_mm = 25.4;
  std::optional<int> pixel_x_dimension{};  // tag 0xA002: width the focal-plane resolution refers to
  std::optional<int> pixel_y_dimension{};  // tag 0xA003
  std::string make{};                      // tag 0x010F, trailing NULs and spaces trimmed
  std::string model{};                     // tag 0x0110
};

// Parses an EXIF TIFF block (the bytes after "Exif\0\0" in a JPEG APP1 segment). Returns
// std::nullopt when the block is not a valid TIFF structure; tags that are malformed are skipped.
// Never reads outside `tiff`.
std::optional<ExifInfo> ParseExifTiff(std::span<const std::uint8_t> tiff);

enum class ImageFormat { kJpeg, kPng };

struct ImageHeader {
  ImageFormat format = ImageFormat::kJpeg;
  int stored_width = 0;   // pixels, as stored in the file (before EXIF orientation)
  int stored_height = 0;  // pixels
  int channels = 0;       // JPEG: components (1 gray, 3 YCbCr/RGB, 4 CMYK); PNG: from colour type
  int bit_depth = 8;      // bits per sample
  std::optional<ExifInfo> exif{};  // JPEG APP1 EXIF when present and valid

  int Orientation() const { return exif ? exif->orientation : 1; }
  // True when the EXIF orientation swaps the axes (5-8).
  bool SwapsAxes() const { return Orientation() >= 5 && Orientation() <= 8; }
  // Size as displayed, i.e. after the EXIF orientation is applied (what ReadImage returns).
  int Width() const { return SwapsAxes() ? stored_height : stored_width; }
  int Height() const { return SwapsAxes() ? stored_width : stored_height; }
};

// Reads the header of a JPEG or PNG file: the size and, for JPEG, the EXIF block. Reads only the
// markers up to the first frame header (JPEG) or the first chunk (PNG), never the pixel data.
// Throws facet::Error naming the file and byte offset when the file is not a JPEG or PNG, is
// truncated before its size, or has an invalid marker structure. PNG eXIf chunks are not read
// (OpenCV ignores them when decoding too, so the reported size matches the decoded image).
ImageHeader ReadImageHeader(const std::filesystem::path& path);

}  // namespace facet::datasets
