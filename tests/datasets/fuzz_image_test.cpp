// Randomised corruption of the image headers facet parses itself (the EXIF/TIFF block, JPEG
// marker segments, PNG IHDR) and of 16-bit depth PNGs (header check, then libpng through OpenCV):
// every mutated file must read or be refused (std::nullopt or facet::Error), quickly and within
// the memory cap, and what reads must satisfy the parsers' contracts.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <iostream>
#include <optional>
#include <vector>

#include "common/corruption.h"
#include "common/temp_dir.h"
#include "core/file_io.h"
#include "core/image_io.h"
#include "datasets/exif.h"
#include "datasets/rgbd.h"
#include "exif_test_util.h"

namespace facet::datasets {
namespace {

namespace fs = std::filesystem;

constexpr int kMutations = 5000;

void Report(const char* what, const testing::CorruptionStats& stats) {
  std::cout << what << ": " << stats.accepted << " mutations read, " << stats.rejected
            << " refused\n";
}

// Every tag facet reads, with values in the data area (rationals, strings) and inline.
testing::ExifBuilder FullExif(bool big_endian) {
  testing::ExifBuilder exif(big_endian);
  exif.Make("ACME Optical");
  exif.Model("Z1");  // short enough to be stored inline
  exif.Ifd0Short(0x0112, 6);
  exif.ExifRational(0x920A, 43, 10);
  exif.ExifShort(0xA405, 28);
  exif.ExifRational(0xA20E, 4000, 3);
  exif.ExifRational(0xA20F, 4000, 3);
  exif.ExifShort(0xA210, 3);
  exif.ExifLong(0xA002, 40);
  exif.ExifShort(0xA003, 20);
  return exif;
}

// The contract of ExifInfo: whatever survives parsing is in range.
void ExpectValidExif(const ExifInfo& info, std::size_t block_size) {
  EXPECT_GE(info.orientation, 1);
  EXPECT_LE(info.orientation, 8);
  for (const auto& value : {info.focal_length_mm, info.focal_length_35mm,
                            info.focal_plane_x_resolution, info.focal_plane_y_resolution}) {
    if (value) {
      EXPECT_TRUE(*value > 0.0 && std::isfinite(*value)) << *value;
    }
  }
  if (info.focal_plane_unit_mm) {
    const double unit = *info.focal_plane_unit_mm;
    EXPECT_TRUE(unit == 25.4 || unit == 10.0 || unit == 1.0 || unit == 0.001) << unit;
  }
  EXPECT_GT(info.pixel_x_dimension.value_or(1), 0);
  EXPECT_GT(info.pixel_y_dimension.value_or(1), 0);
  EXPECT_LE(info.make.size(), block_size);
  EXPECT_LE(info.model.size(), block_size);
}

void FuzzExifTiff(bool big_endian, std::uint32_t seed, const char* what) {
  testing::CapAddressSpace();
  testing::TempDir dir(testing::TempDir::kPreferMemory);
  const std::vector<std::uint8_t> tiff = FullExif(big_endian).BuildTiff();
  const std::optional<ExifInfo> original = ParseExifTiff(tiff);
  ASSERT_TRUE(original.has_value());
  ASSERT_EQ(original->make, "ACME Optical");
  ASSERT_EQ(original->model, "Z1");
  ASSERT_EQ(original->orientation, 6);
  int refused = 0;
  const auto stats = testing::ExpectCorruptionIsHandled(
      tiff, dir / "mutated.tiff", kMutations, seed, [&](const fs::path& path) {
        const std::vector<std::uint8_t> bytes = ReadFile(path);
        const std::optional<ExifInfo> info = ParseExifTiff(bytes);
        if (!info) {
          ++refused;  // not a TIFF structure any more: a valid answer
          return;
        }
        ExpectValidExif(*info, bytes.size());
      });
  std::cout << what << ": " << stats.accepted - refused << " mutations parsed, " << refused
            << " refused as not TIFF\n";
  EXPECT_GT(refused, 0);  // broken byte-order marks, magic numbers and IFD offsets
}

TEST(ExifFuzz, LittleEndianTiffCorruptionIsHandled) { FuzzExifTiff(false, 31, "EXIF TIFF (II)"); }

TEST(ExifFuzz, BigEndianTiffCorruptionIsHandled) { FuzzExifTiff(true, 32, "EXIF TIFF (MM)"); }

// A 40x20 JPEG with the full EXIF block in APP1. Mutations start within the segments before the
// frame header's end (SOI, APP1, JFIF APP0, DQT, SOF0): all ReadImageHeader parses.
TEST(ExifFuzz, JpegHeaderCorruptionIsHandled) {
  testing::CapAddressSpace();
  testing::TempDir dir(testing::TempDir::kPreferMemory);
  ImageU8 image(40, 20, 3);
  for (int y = 0; y < 20; ++y) {
    for (int x = 0; x < 40; ++x) image(x, y, x % 3) = static_cast<std::uint8_t>(6 * x + y);
  }
  WriteImage(dir / "photo.jpg", image);
  testing::InsertApp1(dir / "photo.jpg", FullExif(false).Build());
  const std::vector<std::uint8_t> original = ReadFile(dir / "photo.jpg");
  const ImageHeader header = ReadImageHeader(dir / "photo.jpg");
  ASSERT_TRUE(header.exif.has_value());
  ASSERT_EQ(header.Width(), 20);  // orientation 6 swaps the axes
  // The end of the SOF0 segment: marker FF C0, then its big-endian length.
  std::size_t header_end = 0;
  for (std::size_t i = 2; i + 3 < original.size(); ++i) {
    if (original[i] == 0xFF && original[i + 1] == 0xC0) {
      header_end = i + 2 + (std::size_t{original[i + 2]} << 8 | original[i + 3]);
      break;
    }
  }
  ASSERT_GT(header_end, 200u);  // APP1 alone is about 160 bytes
  ASSERT_LT(header_end, original.size());
  auto read = [](const fs::path& path) {
    const ImageHeader h = ReadImageHeader(path);
    EXPECT_GT(h.stored_width, 0);
    EXPECT_GT(h.stored_height, 0);
    EXPECT_GT(h.channels, 0);
    if (h.exif) ExpectValidExif(*h.exif, fs::file_size(path));
  };
  const auto stats = testing::ExpectCorruptionIsHandled(original, dir / "mutated.jpg", kMutations,
                                                        33, read, {.mutable_prefix = header_end});
  Report("JPEG header", stats);
  EXPECT_GT(stats.rejected, kMutations / 10);
  EXPECT_GT(stats.accepted, 0);  // e.g. damage inside the EXIF block only drops tags
}

// A 24x16 16-bit depth map (millimetres) with every value different.
TEST(DepthPngFuzz, SixteenBitPngCorruptionIsHandled) {
  testing::CapAddressSpace();
  testing::TempDir dir(testing::TempDir::kPreferMemory);
  ImageU16 depth(24, 16, 1);
  for (int y = 0; y < 16; ++y) {
    for (int x = 0; x < 24; ++x) depth(x, y) = static_cast<std::uint16_t>(1000 + 37 * (24 * y + x));
  }
  WriteImage(dir / "depth.png", depth);
  ASSERT_EQ(LoadDepthMeters(dir / "depth.png", 1000.0)(1, 0), 1.037f);
  const auto stats = testing::ExpectCorruptionIsHandled(
      ReadFile(dir / "depth.png"), dir / "mutated.png", kMutations, 34, [](const fs::path& path) {
        const ImageF32 meters = LoadDepthMeters(path, 1000.0);
        ASSERT_GT(meters.width(), 0);
        ASSERT_GT(meters.height(), 0);
        for (int y = 0; y < meters.height(); ++y) {
          for (int x = 0; x < meters.width(); ++x) {
            // 16-bit values / 1000: in [0, 65.535] m.
            ASSERT_TRUE(meters(x, y) >= 0.0f && meters(x, y) <= 65.535f) << meters(x, y);
          }
        }
      });
  Report("16-bit depth PNG", stats);
  EXPECT_GT(stats.rejected, kMutations / 2);  // zlib and chunk CRCs catch most damage
}

}  // namespace
}  // namespace facet::datasets
