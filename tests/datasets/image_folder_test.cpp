#include "datasets/image_folder.h"

#include <gtest/gtest.h>
#include <jpeglib.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <optional>
#include <vector>

#include "common/corruption.h"
#include "common/temp_dir.h"
#include "core/error.h"
#include "core/file_io.h"
#include "core/image_io.h"
#include "datasets/exif.h"
#include "exif_test_util.h"

namespace facet::datasets {
namespace {

namespace fs = std::filesystem;
using facet::testing::ExifBuilder;
using facet::testing::InsertApp1;
using facet::testing::TempDir;

// A 40x20 RGB image: left half red, right half blue, with a green top-left 10x10 block, so that
// every rotation and flip is distinguishable.
ImageU8 MarkerImage() {
  ImageU8 image(40, 20, 3);
  for (int y = 0; y < 20; ++y) {
    for (int x = 0; x < 40; ++x) {
      const bool green = x < 10 && y < 10;
      image(x, y, 0) = !green && x < 20 ? 255 : 0;
      image(x, y, 1) = green ? 255 : 0;
      image(x, y, 2) = x >= 20 ? 255 : 0;
    }
  }
  return image;
}

void ExpectColor(const ImageU8& image, int x, int y, int r, int g, int b) {
  // JPEG at quality 95 keeps flat 8x8-aligned blocks within a few levels away from edges.
  constexpr int kJpegTolerance = 12;
  EXPECT_NEAR(image(x, y, 0), r, kJpegTolerance) << "at " << x << "," << y;
  EXPECT_NEAR(image(x, y, 1), g, kJpegTolerance) << "at " << x << "," << y;
  EXPECT_NEAR(image(x, y, 2), b, kJpegTolerance) << "at " << x << "," << y;
}

TEST(ImageFolder, ListsImagesSortedWithCaseInsensitiveExtensions) {
  TempDir dir;
  const ImageU8 image(8, 6, 3, 100);
  WriteImage(dir / "b.PNG", image);
  WriteImage(dir / "a.jpg", image);
  WriteImage(dir / "c.JPEG", image);
  WriteFileAtomically(dir / "notes.txt", std::string_view("not an image"));
  fs::create_directory(dir / "sub");
  WriteImage(dir / "sub/d.jpg", image);

  const ImageFolder flat = ScanImageFolder(dir.path());
  ASSERT_EQ(flat.entries.size(), 3u);
  EXPECT_EQ(flat.entries[0].name, "a.jpg");
  EXPECT_EQ(flat.entries[1].name, "b.PNG");
  EXPECT_EQ(flat.entries[2].name, "c.JPEG");
  for (const ImageFolderEntry& e : flat.entries) {
    EXPECT_EQ(e.width, 8);
    EXPECT_EQ(e.height, 6);
    EXPECT_EQ(e.orientation, 1);
    EXPECT_FALSE(e.FocalFromExif());
    EXPECT_DOUBLE_EQ(e.focal_px, 1.2 * 8);  // COLMAP's default prior
  }
  const ImageFolder deep = ScanImageFolder(dir.path(), {.recursive = true});
  ASSERT_EQ(deep.entries.size(), 4u);
  EXPECT_EQ(deep.entries[3].name, "sub/d.jpg");
}

TEST(ImageFolder, EmptyOrMissingFolderIsAnError) {
  TempDir dir;
  EXPECT_THROW(ScanImageFolder(dir.path()), Error);
  EXPECT_THROW(ScanImageFolder(dir / "missing"), Error);
  EXPECT_THROW(ScanImageFolder(dir.path(), {.default_focal_factor = 0.0}), Error);
}

TEST(ImageFolder, ExifOrientationSixSwapsTheSizeAndRotatesClockwise) {
  TempDir dir;
  WriteImage(dir / "photo.jpg", MarkerImage());
  ExifBuilder exif;
  exif.Ifd0Short(0x0112, 6);
  InsertApp1(dir / "photo.jpg", exif.Build());

  const ImageFolder folder = ScanImageFolder(dir.path());
  ASSERT_EQ(folder.entries.size(), 1u);
  const ImageFolderEntry& entry = folder.entries[0];
  EXPECT_EQ(entry.orientation, 6);
  EXPECT_EQ(entry.width, 20);
  EXPECT_EQ(entry.height, 40);

  // Orientation 6 displays the stored image rotated 90° clockwise: stored (x, y) appears at
  // (H - 1 - y, x). The stored top-left green block lands at the top-right, the red left half on
  // top, the blue right half at the bottom.
  const ReconstructionImage loaded = LoadImageForReconstruction(entry);
  ASSERT_EQ(loaded.image.width(), 20);
  ASSERT_EQ(loaded.image.height(), 40);
  ExpectColor(loaded.image, 15, 4, 0, 255, 0);
  ExpectColor(loaded.image, 4, 4, 255, 0, 0);
  ExpectColor(loaded.image, 10, 32, 0, 0, 255);
}

TEST(ImageFolder, FocalPriorFrom35mmEquivalent) {
  TempDir dir;
  WriteImage(dir / "photo.jpg", MarkerImage());
  ExifBuilder exif;
  exif.Make("ACME");
  exif.ExifShort(0xA405, 28);
  exif.ExifRational(0x920A, 50, 10);  // 5 mm, ignored: the 35 mm rule comes first
  InsertApp1(dir / "photo.jpg", exif.Build());
  const ImageFolderEntry entry = ScanImageFolder(dir.path()).entries.at(0);
  EXPECT_EQ(entry.focal_source, FocalSource::kExif35mm);
  EXPECT_NEAR(entry.focal_px, 28.0 / 36.0 * 40.0, 1e-12);
  EXPECT_EQ(entry.camera_make, "ACME");
}

TEST(ImageFolder, FocalPriorFromFocalPlaneResolution) {
  TempDir dir;
  WriteImage(dir / "photo.jpg", MarkerImage());
  ExifBuilder exif;
  exif.ExifRational(0x920A, 4, 1);      // f = 4 mm
  exif.ExifRational(0xA20E, 2000, 10);  // 200 pixels per cm ...
  exif.ExifShort(0xA210, 3);            // ... (unit 3 = cm) = 20 px/mm
  exif.ExifLong(0xA002, 80);            // ... for an 80-pixel-wide original: 10 px/mm at 40 px
  InsertApp1(dir / "photo.jpg", exif.Build());
  const ImageFolderEntry entry = ScanImageFolder(dir.path()).entries.at(0);
  EXPECT_EQ(entry.focal_source, FocalSource::kExifFocalPlane);
  EXPECT_NEAR(entry.focal_px, 4.0 * 10.0, 1e-12);
}

TEST(ImageFolder, ImplausibleExifFocalFallsBackToTheDefault) {
  TempDir dir;
  WriteImage(dir / "photo.jpg", MarkerImage());
  ExifBuilder exif;
  exif.ExifShort(0xA405, 9000);  // 9000 mm equivalent: 250x the image width
  InsertApp1(dir / "photo.jpg", exif.Build());
  const ImageFolderEntry entry = ScanImageFolder(dir.path()).entries.at(0);
  EXPECT_EQ(entry.focal_source, FocalSource::kDefault);
  EXPECT_DOUBLE_EQ(entry.focal_px, 1.2 * 40);
}

TEST(ImageFolder, DownscalesWithAreaInterpolationAndScalesTheFocal) {
  TempDir dir;
  WriteImage(dir / "photo.png", MarkerImage());
  const ImageFolderEntry entry = ScanImageFolder(dir.path()).entries.at(0);
  const ReconstructionImage small = LoadImageForReconstruction(entry, 10);
  ASSERT_EQ(small.image.width(), 10);
  ASSERT_EQ(small.image.height(), 5);
  EXPECT_DOUBLE_EQ(small.scale, 0.25);
  EXPECT_DOUBLE_EQ(small.focal_px, entry.focal_px * 0.25);
  // Area interpolation averages 4x4 blocks: blocks fully inside one colour keep it exactly.
  EXPECT_EQ(small.image(0, 0, 1), 255);  // green block
  EXPECT_EQ(small.image(3, 4, 0), 255);  // red half
  EXPECT_EQ(small.image(7, 2, 2), 255);  // blue half
  // A 4x4 block straddling green (x < 10) and red columns: 2 of 4 columns green.
  EXPECT_EQ(small.image(2, 0, 1), 128);
  EXPECT_EQ(small.image(2, 0, 0), 128);
  EXPECT_THROW(LoadImageForReconstruction(entry, -1), Error);
}

TEST(ImageFolder, GrayAnd16BitPngsBecome8BitRgb) {
  TempDir dir;
  WriteImage(dir / "gray.png", ImageU8(6, 4, 1, 77));
  WriteImage(dir / "deep.png", ImageU16(6, 4, 3, 32896));  // 32896 / 257 = 128 exactly
  const ImageFolder folder = ScanImageFolder(dir.path());
  ASSERT_EQ(folder.entries.size(), 2u);
  const ImageU8 deep = LoadImageForReconstruction(folder.entries[0]).image;
  const ImageU8 gray = LoadImageForReconstruction(folder.entries[1]).image;
  ASSERT_EQ(gray.channels(), 3);
  ASSERT_EQ(deep.channels(), 3);
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(gray(5, 3, c), 77);
    EXPECT_EQ(deep(5, 3, c), 128);
  }
}

// Writes a CMYK JPEG the way Adobe applications do (inverted: 255 = no ink).
void WriteCmykJpeg(const fs::path& path, int width, int height, const std::uint8_t cmyk[4]) {
  jpeg_compress_struct cinfo{};
  jpeg_error_mgr error{};
  cinfo.err = jpeg_std_error(&error);
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = static_cast<JDIMENSION>(width);
  cinfo.image_height = static_cast<JDIMENSION>(height);
  cinfo.input_components = 4;
  cinfo.in_color_space = JCS_CMYK;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, 95, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  std::vector<unsigned char> row(std::size_t(width) * 4);
  for (int x = 0; x < width; ++x) std::copy(cmyk, cmyk + 4, row.begin() + 4 * x);
  for (int y = 0; y < height; ++y) {
    unsigned char* rows[1] = {row.data()};
    jpeg_write_scanlines(&cinfo, rows, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  WriteFileAtomically(path, std::span<const std::uint8_t>(buffer, size));
  std::free(buffer);
}

TEST(ImageFolder, CmykJpegIsConvertedToRgbByOpenCV) {
  TempDir dir;
  const std::uint8_t red_inverted[4] = {255, 0, 0, 255};  // no cyan, full magenta and yellow
  WriteCmykJpeg(dir / "cmyk.jpg", 16, 8, red_inverted);
  const ImageFolderEntry entry = ScanImageFolder(dir.path()).entries.at(0);
  EXPECT_EQ(entry.width, 16);
  const ImageU8 image = LoadImageForReconstruction(entry).image;
  ASSERT_EQ(image.channels(), 3);
  ExpectColor(image, 8, 4, 255, 0, 0);
}

TEST(ImageFolder, UnreadableFilesAreErrorsOrSkipped) {
  TempDir dir;
  WriteImage(dir / "good.png", ImageU8(4, 4, 3));
  WriteFileAtomically(dir / "bad.jpg", std::string_view("\xFF\xD8\xFF\xE0\x00", 5));
  try {
    ScanImageFolder(dir.path());
    ADD_FAILURE() << "a truncated JPEG was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.jpg"), std::string::npos) << e.what();
  }
  const ImageFolder folder = ScanImageFolder(dir.path(), {.skip_unreadable = true});
  ASSERT_EQ(folder.entries.size(), 1u);
  ASSERT_EQ(folder.skipped.size(), 1u);
  EXPECT_EQ(folder.skipped[0].rfind("bad.jpg: ", 0), 0u);
}

TEST(ImageHeader, CorruptJpegHeadersAreRejectedCleanly) {
  TempDir dir;
  WriteImage(dir / "photo.jpg", MarkerImage());
  ExifBuilder exif;
  exif.Make("ACME");
  exif.Ifd0Short(0x0112, 8);
  exif.ExifRational(0x920A, 4, 1);
  exif.ExifShort(0xA405, 28);
  InsertApp1(dir / "photo.jpg", exif.Build());
  const std::vector<std::uint8_t> original = ReadFile(dir / "photo.jpg");
  const auto stats = facet::testing::ExpectCorruptionIsHandled(
      original, dir / "mutated.jpg", 200, 24, [](const fs::path& p) { ReadImageHeader(p); });
  EXPECT_GT(stats.rejected, 0);
  EXPECT_GT(stats.accepted, 0);
}

TEST(ImageHeader, ExifReadsTheSameTagsInEitherByteOrder) {
  for (const bool big_endian : {false, true}) {
    ExifBuilder exif(big_endian);
    exif.Make("Kodak");
    exif.Model("Z6");  // stored inline (3 bytes with its NUL)
    exif.Ifd0Short(0x0112, 8);
    exif.ExifRational(0x920A, 63, 10);
    exif.ExifShort(0xA405, 35);
    exif.ExifShort(0xA210, 4);
    exif.ExifLong(0xA002, 2832);
    const std::optional<ExifInfo> info = ParseExifTiff(exif.BuildTiff());
    ASSERT_TRUE(info.has_value()) << big_endian;
    EXPECT_EQ(info->make, "Kodak");
    EXPECT_EQ(info->model, "Z6");
    EXPECT_EQ(info->orientation, 8);
    EXPECT_EQ(info->focal_length_mm, 6.3);
    EXPECT_EQ(info->focal_length_35mm, 35.0);
    EXPECT_EQ(info->focal_plane_unit_mm, 1.0);
    EXPECT_EQ(info->pixel_x_dimension, 2832);
  }
}

TEST(ImageFolder, SceauxCastleExifFocal) {
  const fs::path folder = FACET_SOURCE_DIR "/../shared/data/sceaux-castle/images";
  if (!fs::exists(folder)) GTEST_SKIP() << "shared data not found: " << folder;
  const ImageFolder images = ScanImageFolder(folder);
  ASSERT_EQ(images.entries.size(), 11u);
  for (const ImageFolderEntry& e : images.entries) {
    EXPECT_EQ(std::max(e.width, e.height), 2832);
    EXPECT_EQ(std::min(e.width, e.height), 2128);
    EXPECT_TRUE(e.FocalFromExif()) << e.name;
    // K.txt: f = 2905.88 px; EXIF says 35 mm equivalent (an integer). The 35 mm equivalent is
    // defined by the diagonal (43.27 mm): for a 4:3 sensor the width-based f35/36 rule reads
    // 34.6/36 = 4% low, plus up to 0.5/35 = 1.4% from the tag's rounding: at most 5.4% low.
    EXPECT_GE(e.focal_px, (1.0 - 0.054) * 2905.88) << e.name;
    EXPECT_LE(e.focal_px, 2905.88) << e.name;
  }
  std::printf("sceaux-castle EXIF: %s %s, focal prior %.2f px (%s), K.txt 2905.88 px\n",
              images.entries[0].camera_make.c_str(), images.entries[0].camera_model.c_str(),
              images.entries[0].focal_px,
              images.entries[0].focal_source == FocalSource::kExif35mm ? "35 mm equivalent"
                                                                       : "focal plane");
}

TEST(ImageFolder, StrechaFountainQuarterSize) {
  const fs::path folder = FACET_SOURCE_DIR "/../shared/data/strecha-fountain-P11/images_q4";
  if (!fs::exists(folder)) GTEST_SKIP() << "shared data not found: " << folder;
  const ImageFolder images = ScanImageFolder(folder);
  ASSERT_EQ(images.entries.size(), 11u);
  EXPECT_EQ(images.entries.front().name, "0000.jpg");
  for (const ImageFolderEntry& e : images.entries) {
    EXPECT_EQ(e.width, 768);
    EXPECT_EQ(e.height, 512);
  }
  const ReconstructionImage loaded = LoadImageForReconstruction(images.entries[0], 384);
  EXPECT_EQ(loaded.image.width(), 384);
  EXPECT_EQ(loaded.image.height(), 256);
}

}  // namespace
}  // namespace facet::datasets
