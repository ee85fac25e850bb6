#include "core/image.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <random>

#include "common/temp_dir.h"
#include "core/file_io.h"
#include "core/image_io.h"

namespace facet {
namespace {

// Deterministic pixels with both smooth and high-frequency content.
template <typename T>
Image<T> Pattern(int width, int height, int channels, std::uint32_t seed,
                 double noise_amplitude = 0.1) {
  std::mt19937 rng(seed);
  Image<T> image(width, height, channels);
  const double max = std::is_same_v<T, float> ? 1.0 : double(std::numeric_limits<T>::max());
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < channels; ++c) {
        const double smooth = 0.5 + 0.4 * std::sin(0.1 * x + 0.07 * y + c);
        const double noise =
            std::uniform_real_distribution<double>(-noise_amplitude, noise_amplitude)(rng);
        image(x, y, c) = static_cast<T>(std::round(std::clamp(smooth + noise, 0.0, 1.0) * max));
      }
    }
  }
  return image;
}

template <typename T>
double Psnr(const Image<T>& a, const Image<T>& b, double max) {
  double sse = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = double(a.data()[i]) - double(b.data()[i]);
    sse += d * d;
  }
  const double mse = sse / double(a.size());
  return 10.0 * std::log10(max * max / std::max(mse, 1e-12));
}

TEST(Image, IndexesRowMajorInterleaved) {
  ImageU8 image(4, 3, 3);
  image(2, 1, 1) = 77;
  EXPECT_EQ(image.data()[(1 * 4 + 2) * 3 + 1], 77);
  EXPECT_EQ(image.view()(2, 1, 1), 77);
  EXPECT_EQ(image.size(), 36u);
}

TEST(Image, CropSharesPixelsAndFromViewCopiesThem) {
  ImageU16 image(6, 5, 1);
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 6; ++x) image(x, y) = static_cast<std::uint16_t>(10 * y + x);
  ImageView<std::uint16_t> crop = image.view().Crop(2, 1, 3, 2);
  EXPECT_EQ(crop.width(), 3);
  EXPECT_FALSE(crop.IsContiguous());
  EXPECT_EQ(crop(0, 0), 12);
  EXPECT_EQ(crop(2, 1), 24);
  crop(1, 1) = 999;
  EXPECT_EQ(image(3, 2), 999);

  ImageU16 copy = ImageU16::FromView(crop);
  EXPECT_EQ(copy.width(), 3);
  EXPECT_EQ(copy(1, 1), 999);
  copy(1, 1) = 1;
  EXPECT_EQ(image(3, 2), 999);
  EXPECT_THROW(image.view().Crop(4, 0, 3, 1), Error);
}

TEST(Image, RejectsInvalidShapes) {
  EXPECT_THROW(ImageU8(4, 4, 5), Error);
  EXPECT_THROW(ImageU8(-1, 4, 3), Error);
}

// Writes `original` as PNG and reads it back; every sample must come back unchanged. Gray+alpha
// is stored as RGBA (OpenCV's PNG encoder takes 1, 3 or 4 channels), so it reads back as RGBA.
template <typename T>
void ExpectPngRoundTripIsLossless(const Image<T>& original) {
  testing::TempDir dir;
  WriteImage(dir / "a.png", original);
  const Image<T> loaded = ReadImage<T>(dir / "a.png");
  const int channels = original.channels();
  ASSERT_EQ(loaded.width(), original.width());
  ASSERT_EQ(loaded.height(), original.height());
  ASSERT_EQ(loaded.channels(), channels == 2 ? 4 : channels);
  for (int y = 0; y < original.height(); ++y) {
    for (int x = 0; x < original.width(); ++x) {
      if (channels == 2) {
        for (int c = 0; c < 3; ++c) ASSERT_EQ(loaded(x, y, c), original(x, y, 0));
        ASSERT_EQ(loaded(x, y, 3), original(x, y, 1));
      } else {
        for (int c = 0; c < channels; ++c) ASSERT_EQ(loaded(x, y, c), original(x, y, c));
      }
    }
  }
}

class ImageRoundTrip : public ::testing::TestWithParam<int> {};

TEST_P(ImageRoundTrip, Png8BitIsLossless) {
  ExpectPngRoundTripIsLossless(Pattern<std::uint8_t>(37, 23, GetParam(), 1));
}

TEST_P(ImageRoundTrip, Png16BitIsLossless) {
  ExpectPngRoundTripIsLossless(Pattern<std::uint16_t>(31, 17, GetParam(), 2));
}

INSTANTIATE_TEST_SUITE_P(Channels, ImageRoundTrip, ::testing::Values(1, 2, 3, 4));

TEST(ImageIo, JpegRoundTripIsCloseAtHighQuality) {
  testing::TempDir dir;
  // Smooth content: at quality 98 JPEG's quantisation error stays around one grey level (~45 dB);
  // per-pixel colour noise would be lost to chroma subsampling and is not what this checks.
  const ImageU8 original = Pattern<std::uint8_t>(64, 48, 3, 3, /*noise=*/0.0);
  WriteImage(dir / "photo.jpg", original, {.jpeg_quality = 98});
  const ImageU8 loaded = ReadImage<std::uint8_t>(dir / "photo.jpg");
  ASSERT_EQ(loaded.channels(), 3);
  const double psnr = Psnr(original, loaded, 255.0);
  EXPECT_GT(psnr, 38.0);
  // Colour order must survive: the same image with red and blue swapped scores far lower.
  ImageU8 swapped = original;
  for (int y = 0; y < swapped.height(); ++y)
    for (int x = 0; x < swapped.width(); ++x) std::swap(swapped(x, y, 0), swapped(x, y, 2));
  EXPECT_LT(Psnr(swapped, loaded, 255.0), psnr - 10.0);
}

TEST(ImageIo, ConvertsDepthAndChannelsOnRead) {
  testing::TempDir dir;
  ImageU8 rgb(2, 1, 3);
  rgb(0, 0, 0) = 255;  // pure red pixel
  rgb(1, 0, 2) = 255;  // pure blue pixel
  WriteImage(dir / "rgb.png", rgb);

  const ImageU16 wide = ReadImage<std::uint16_t>(dir / "rgb.png");
  EXPECT_EQ(wide(0, 0, 0), 65535);  // 255 * 257
  const ImageF32 unit = ReadImage<float>(dir / "rgb.png");
  EXPECT_FLOAT_EQ(unit(0, 0, 0), 1.0f);
  EXPECT_FLOAT_EQ(unit(0, 0, 2), 0.0f);
  EXPECT_FLOAT_EQ(unit(1, 0, 2), 1.0f);
  const ImageU8 rgba = ReadImage<std::uint8_t>(dir / "rgb.png", {.channels = 4});
  EXPECT_EQ(rgba.channels(), 4);
  EXPECT_EQ(rgba(0, 0, 3), 255);
  const ImageU8 gray = ReadImage<std::uint8_t>(dir / "rgb.png", {.channels = 1});
  EXPECT_EQ(gray.channels(), 1);
  EXPECT_NEAR(gray(0, 0), 76, 1);  // 0.299 * 255: luminance weights, so red is darker than white
  EXPECT_NEAR(gray(1, 0), 29, 1);  // 0.114 * 255
}

TEST(ImageIo, FloatImagesAreWrittenClampedTo8Bit) {
  testing::TempDir dir;
  ImageF32 image(3, 1, 1);
  image(0, 0) = -0.5f;
  image(1, 0) = 0.5f;
  image(2, 0) = 7.0f;
  WriteImage(dir / "f.png", image);
  const ImageU8 loaded = ReadImage<std::uint8_t>(dir / "f.png");
  EXPECT_EQ(loaded(0, 0), 0);
  EXPECT_EQ(loaded(1, 0), 128);
  EXPECT_EQ(loaded(2, 0), 255);
}

TEST(ImageIo, RefusesWhatJpegCannotHold) {
  testing::TempDir dir;
  EXPECT_THROW(WriteImage(dir / "a.jpg", ImageU8(4, 4, 4)), Error);
  EXPECT_THROW(WriteImage(dir / "a.jpg", ImageU16(4, 4, 3)), Error);
  EXPECT_THROW(WriteImage(dir / "a.bmp", ImageU8(4, 4, 3)), Error);
  EXPECT_THROW(WriteImage(dir / "a.png", ImageU8()), Error);
  EXPECT_FALSE(std::filesystem::exists(dir / "a.jpg"));
}

TEST(ImageIo, BadFilesAreClearErrorsNamingTheFile) {
  testing::TempDir dir;
  const auto expect_error = [](const std::filesystem::path& path, const std::string& words) {
    try {
      ReadImage<std::uint8_t>(path);
      ADD_FAILURE() << "no error for " << path;
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(path.filename().string()), std::string::npos) << what;
      EXPECT_NE(what.find(words), std::string::npos) << what;
    }
  };
  expect_error(dir / "missing.png", "no such file");

  WriteFileAtomically(dir / "empty.png", std::string_view());
  expect_error(dir / "empty.png", "empty");

  WriteFileAtomically(dir / "text.png", std::string_view("this is not an image"));
  expect_error(dir / "text.png", "not a PNG or JPEG");

  // A real PNG and JPEG cut short.
  for (const char* name : {"cut.png", "cut.jpg"}) {
    WriteImage(dir / name, Pattern<std::uint8_t>(64, 64, 3, 4));
    auto bytes = ReadFile(dir / name);
    bytes.resize(bytes.size() / 3);
    WriteFileAtomically(dir / name, std::span<const std::uint8_t>(bytes));
    try {
      const ImageU8 image = ReadImage<std::uint8_t>(dir / name);
      // libjpeg may decode a truncated stream as a grey-filled image; it must still be whole.
      EXPECT_EQ(image.width(), 64);
      EXPECT_EQ(image.height(), 64);
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace facet
