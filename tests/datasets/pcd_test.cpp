#include "datasets/pcd.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>

#include "common/temp_dir.h"
#include "datasets/detail/lzf.h"
#include "datasets/detail/srgb.h"
#include "format_test_util.h"

namespace facet::datasets {
namespace {

using testing::ErrorMessage;
using testing::SharedData;
using testing::TempDir;
using testing::WriteBytes;

constexpr PcdFormat kFormats[] = {PcdFormat::kAscii, PcdFormat::kBinary,
                                  PcdFormat::kBinaryCompressed};

TEST(Lzf, RoundTripsRandomAndRepetitiveData) {
  std::mt19937 rng(3);
  std::vector<std::uint8_t> random(5000), runs(20000, 0), pattern;
  for (auto& b : random) b = static_cast<std::uint8_t>(rng());
  for (int i = 0; i < 3000; ++i) pattern.push_back(static_cast<std::uint8_t>(i % 37 < 20 ? i : 0));
  for (const auto* data : {&random, &runs, &pattern}) {
    const std::vector<std::uint8_t> packed = detail::LzfCompress(*data);
    const auto unpacked = detail::LzfDecompress(packed, data->size());
    ASSERT_TRUE(unpacked.has_value());
    EXPECT_EQ(*unpacked, *data);
  }
  // Literal runs cost one byte per 32; a run of zeros shrinks by nearly the 88x limit.
  EXPECT_LE(detail::LzfCompress(random).size(), random.size() + random.size() / 32 + 1);
  EXPECT_LT(detail::LzfCompress(runs).size() * 80, runs.size());
}

TEST(Lzf, DecodesOverlappingReferencesAndRefusesMalformedStreams) {
  // "ab" as a literal, then 6 bytes from distance 2: "abababab".
  const std::vector<std::uint8_t> stream = {0x01, 'a', 'b', 0x80, 0x01};
  const auto out = detail::LzfDecompress(stream, 8);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(std::string(out->begin(), out->end()), "abababab");
  EXPECT_FALSE(detail::LzfDecompress(stream, 7).has_value());  // output too small
  EXPECT_FALSE(detail::LzfDecompress(stream, 9).has_value());  // inflates to less
  EXPECT_FALSE(detail::LzfDecompress(std::vector<std::uint8_t>{0x80, 0x05}, 8).has_value());
  EXPECT_FALSE(detail::LzfDecompress(std::vector<std::uint8_t>{0x05, 'a'}, 6).has_value());
  EXPECT_FALSE(
      detail::LzfDecompress(std::vector<std::uint8_t>{0x01, 'a', 'b', 0xe0}, 9).has_value());
}

TEST(Pcd, RoundTripsInEveryEncoding) {
  TempDir dir;
  const geometry::PointCloud cloud = testing::SampleCloud(60, true, true);
  for (const PcdFormat format : kFormats) {
    SCOPED_TRACE(static_cast<int>(format));
    WritePcd(dir / "cloud.pcd", cloud, format);
    const geometry::PointCloud read = ReadPcd(dir / "cloud.pcd");
    ASSERT_EQ(read.size(), cloud.size());
    ASSERT_TRUE(read.HasNormals());
    ASSERT_TRUE(read.HasColors());
    for (std::size_t i = 0; i < cloud.size(); ++i) {
      for (int k = 0; k < 3; ++k) {  // float32 fields: the nearest float
        EXPECT_EQ(read.points[i][k], static_cast<float>(cloud.points[i][k]));
        EXPECT_EQ(read.normals[i][k], static_cast<float>(cloud.normals[i][k]));
      }
      EXPECT_EQ(read.colors[i], cloud.colors[i]);
    }
  }
  geometry::PointCloud bare = testing::SampleCloud(5, false, false);
  for (const PcdFormat format : kFormats) {
    WritePcd(dir / "bare.pcd", bare, format);
    const geometry::PointCloud read = ReadPcd(dir / "bare.pcd");
    EXPECT_EQ(read.size(), bare.size());
    EXPECT_FALSE(read.HasNormals() || read.HasColors());
  }
}

TEST(Pcd, PointsWithNanCoordinatesAreDropped) {
  TempDir dir;
  geometry::PointCloud cloud = testing::SampleCloud(6, true, true);
  cloud.points[2].y() = std::nan("");
  cloud.points[5].z() = std::nan("");
  cloud.normals[3].x() = std::nan("");  // a NaN normal alone keeps its point
  for (const PcdFormat format : kFormats) {
    WritePcd(dir / "nan.pcd", cloud, format);
    const geometry::PointCloud read = ReadPcd(dir / "nan.pcd");
    ASSERT_EQ(read.size(), cloud.size() - 2);
    EXPECT_EQ(read.points[2].x(), static_cast<float>(cloud.points[3].x()));
    EXPECT_TRUE(std::isnan(read.normals[2].x()));
    EXPECT_EQ(read.colors[2], cloud.colors[3]);
  }
}

TEST(Pcd, ReadsPaddingMultiValueFieldsAndOtherTypes) {
  TempDir dir;
  // PCL-style ASCII: padding "_", a 3-value descriptor, integer coordinates, rgba as an integer.
  const std::string header =
      "# .PCD v0.7\nVERSION .7\nFIELDS x y z _ desc rgba\nSIZE 2 4 8 4 4 4\nTYPE I U F F F U\n"
      "COUNT 1 1 1 1 3 1\nWIDTH 2\nHEIGHT 2\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS 4\nDATA ascii\n";
  WriteBytes(dir / "ascii.pcd", header +
                                    "-3 4 0.5 0 1 2 3 4278255360\n"
                                    "\n"
                                    "1 2 nan 0 1 2 3 0\n"
                                    "7 8 9 0 1 2 3 16711680\n"
                                    "+5 6 -1e3 0 1 2 3 255\n");
  const geometry::PointCloud cloud = ReadPcd(dir / "ascii.pcd");
  ASSERT_EQ(cloud.size(), 3u);  // the NaN point of this organised cloud is dropped
  EXPECT_EQ(cloud.points[0], Eigen::Vector3d(-3, 4, 0.5));
  EXPECT_EQ(cloud.points[2], Eigen::Vector3d(5, 6, -1000));
  EXPECT_EQ(detail::LinearToSrgb8(cloud.colors[0][1]), 255);  // 0xFF00FF00: green
  EXPECT_EQ(detail::LinearToSrgb8(cloud.colors[0][0]), 0);
  EXPECT_EQ(detail::LinearToSrgb8(cloud.colors[1][0]), 255);  // 0x00FF0000: red
  EXPECT_EQ(detail::LinearToSrgb8(cloud.colors[2][2]), 255);  // 0x000000FF: blue

  // binary_compressed stores fields one after another and leaves padding out.
  const std::string compressed_header =
      "VERSION 0.7\nFIELDS _ x y z rgb\nSIZE 4 4 4 4 4\nTYPE F F F F F\nCOUNT 1 1 1 1 1\n"
      "WIDTH 2\nHEIGHT 1\nPOINTS 2\nDATA binary_compressed\n";
  const float soa[] = {1, 2, 3, 4, 5, 6, 0, 0};  // x0 x1 y0 y1 z0 z1 rgb0 rgb1
  std::vector<std::uint8_t> raw(sizeof(soa));
  std::memcpy(raw.data(), soa, sizeof(soa));
  const std::uint32_t blue = 0x80;
  std::memcpy(raw.data() + 28, &blue, 4);
  const std::vector<std::uint8_t> packed = detail::LzfCompress(raw);
  std::string file = compressed_header;
  const std::uint32_t sizes[2] = {static_cast<std::uint32_t>(packed.size()), 32};
  file.append(reinterpret_cast<const char*>(sizes), 8);
  file.append(packed.begin(), packed.end());
  WriteBytes(dir / "compressed.pcd", file);
  const geometry::PointCloud inflated = ReadPcd(dir / "compressed.pcd");
  ASSERT_EQ(inflated.size(), 2u);
  EXPECT_EQ(inflated.points[0], Eigen::Vector3d(1, 3, 5));
  EXPECT_EQ(inflated.points[1], Eigen::Vector3d(2, 4, 6));
  EXPECT_EQ(detail::LinearToSrgb8(inflated.colors[1][2]), 0x80);
}

std::string PcdError(const TempDir& dir, const std::string& text) {
  WriteBytes(dir / "bad.pcd", text);
  const std::string message = ErrorMessage([&] { ReadPcd(dir / "bad.pcd"); });
  EXPECT_NE(message.find("bad.pcd"), std::string::npos) << message;
  return message;
}

TEST(PcdCorruption, HeadersAndCountsThatDoNotFitAreRefused) {
  TempDir dir;
  const std::string fields = "FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\n";
  EXPECT_NE(PcdError(dir, fields + "WIDTH 1000\nHEIGHT 1\nPOINTS 1000\nDATA binary\n" +
                              std::string(24, '\0'))
                .find("1000 points of 12 bytes need more than the 24 bytes"),
            std::string::npos);
  EXPECT_NE(PcdError(dir, fields + "WIDTH 3\nHEIGHT 2\nPOINTS 5\nDATA binary\n")
                .find("WIDTH 3 x HEIGHT 2 does not match POINTS 5"),
            std::string::npos);
  EXPECT_NE(PcdError(dir, fields + "WIDTH -1\nDATA ascii\n").find("not a non-negative integer"),
            std::string::npos);
  EXPECT_NE(PcdError(dir, fields + "POINTS 1\n").find("no DATA line"), std::string::npos);
  EXPECT_NE(PcdError(dir, fields + "POINTS 0\nDATA zip\n").find("unknown DATA 'zip'"),
            std::string::npos);
  EXPECT_NE(PcdError(dir, "FIELDS x y z\nSIZE 4 4\n").find("SIZE has 2 values for 3 FIELDS"),
            std::string::npos);
  EXPECT_NE(PcdError(dir, "FIELDS x y z\nSIZE 2 4 4\nTYPE F F F\nPOINTS 0\nDATA ascii\n")
                .find("SIZE 2 TYPE F"),
            std::string::npos);
  EXPECT_NE(PcdError(dir, "FIELDS x y\nSIZE 4 4\nTYPE F F\nPOINTS 0\nDATA ascii\n")
                .find("needs fields x, y and z"),
            std::string::npos);
  EXPECT_NE(PcdError(dir, fields + "POINTS 1000000\nDATA ascii\n1 2 3\n")
                .find("POINTS 1000000 is more than"),
            std::string::npos);
  // (Padded with blanks, so that the bytes could hold the points and the lines are read.)
  EXPECT_NE(PcdError(dir, fields + "POINTS 2\nDATA ascii\n1 2 3\n1 2      \n")
                .find("line 7: 2 values, but the fields need 3"),
            std::string::npos);
  EXPECT_NE(
      PcdError(dir, fields + "POINTS 2\nDATA ascii\n1 2 3\n\n\n\n\n\n\n").find("ends after 1 of 2"),
      std::string::npos);
}

TEST(PcdCorruption, CompressedSizesThatLieAreRefused) {
  TempDir dir;
  const std::string header =
      "FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nPOINTS 2\nDATA binary_compressed\n";
  auto with_sizes = [&](std::uint32_t compressed, std::uint32_t uncompressed,
                        const std::string& payload) {
    const std::uint32_t sizes[2] = {compressed, uncompressed};
    return header + std::string(reinterpret_cast<const char*>(sizes), 8) + payload;
  };
  EXPECT_NE(PcdError(dir, with_sizes(1000, 24, "")).find("only 0 follow"), std::string::npos);
  EXPECT_NE(PcdError(dir, with_sizes(0, 25, "")).find("do not match the 25 uncompressed"),
            std::string::npos);
  EXPECT_NE(PcdError(dir, with_sizes(0, 24, "")).find("cannot inflate to 24"), std::string::npos);
  EXPECT_NE(PcdError(dir, with_sizes(2, 24, "\xe0\x01")).find("LZF data at byte offset"),
            std::string::npos);
  EXPECT_NE(PcdError(dir, header + "abc").find("lacks its 8-byte size prefix"), std::string::npos);
}

// binary_compressed data inflate to at most 88x their size (LZF's limit) and 1 GiB in all.
TEST(PcdCorruption, CompressedDataBeyondOneGibibyteAreRefused) {
  TempDir dir;
  // 3-byte points (int8 x y z): 357,913,942 of them inflate to 1 GiB + 2 bytes.
  constexpr std::uint64_t kPoints = (std::uint64_t{1} << 30) / 3 + 1;
  constexpr std::uint32_t kInflated = static_cast<std::uint32_t>(3 * kPoints);
  constexpr std::uint32_t kCompressed = kInflated / 88 + 1;  // within the ratio: only the cap bites
  const std::uint32_t sizes[2] = {kCompressed, kInflated};
  const std::string text = "FIELDS x y z\nSIZE 1 1 1\nTYPE I I I\nPOINTS " +
                           std::to_string(kPoints) + "\nDATA binary_compressed\n" +
                           std::string(reinterpret_cast<const char*>(sizes), 8) +
                           std::string(kCompressed, '\0');
  const std::string message = PcdError(dir, text);
  EXPECT_NE(message.find("more than facet inflates"), std::string::npos) << message;
}

TEST(PcdCorruption, AsciiPointsNeedTwoBytesPerValue) {
  TempDir dir;
  const std::string header =
      "FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nCOUNT 1 1 2\nPOINTS 2\n"
      "DATA ascii\n";
  // Two points of 4 values need at least 15 bytes: 14 cannot hold them, whatever they say.
  EXPECT_NE(PcdError(dir, header + "1 2 3 4\n1 2 3\n").find("POINTS 2 is more than the 14 bytes"),
            std::string::npos);
}

TEST(PcdRealData, IcpFragmentsHaveTheirKnownCounts) {
  const auto bin0 = SharedData("icp-fragments/cloud_bin_0.pcd");
  const auto bin1 = SharedData("icp-fragments/cloud_bin_1.pcd");
  FACET_SKIP_WITHOUT(bin0);
  const geometry::PointCloud cloud = ReadPcd(bin0);
  ASSERT_EQ(cloud.size(), 3903u);
  ASSERT_TRUE(cloud.HasNormals());
  ASSERT_TRUE(cloud.HasColors());
  EXPECT_EQ(cloud.points[0],
            Eigen::Vector3d(2.848907709121704, 0.031390607357025146, -1.7471659183502197));
  EXPECT_NEAR(cloud.normals[0].norm(), 1.0, 1e-4);  // stored normals are unit to about 1e-5
  // Point 13 packs 0x010001: red 1, green 0, blue 1.
  EXPECT_EQ(detail::LinearToSrgb8(cloud.colors[13][0]), 1);
  EXPECT_EQ(detail::LinearToSrgb8(cloud.colors[13][1]), 0);
  EXPECT_EQ(detail::LinearToSrgb8(cloud.colors[13][2]), 1);
  EXPECT_EQ(ReadPcd(bin1).size(), 3458u);

  // Through binary_compressed and back: bit for bit.
  TempDir dir;
  WritePcd(dir / "bin0.pcd", cloud, PcdFormat::kBinaryCompressed);
  const geometry::PointCloud again = ReadPcd(dir / "bin0.pcd");
  EXPECT_EQ(again.points, cloud.points);
  EXPECT_EQ(again.normals, cloud.normals);
  EXPECT_EQ(again.colors, cloud.colors);
}

}  // namespace
}  // namespace facet::datasets
