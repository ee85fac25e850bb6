// Randomised corruption of .splat and PCD files (binary, binary_compressed, ASCII): every mutated
// file must read or throw facet::Error, quickly and within the memory cap.
#include <gtest/gtest.h>

#include <iostream>

#include "common/corruption.h"
#include "common/temp_dir.h"
#include "datasets/gaussian_splats.h"
#include "datasets/pcd.h"
#include "format_test_util.h"

namespace facet::datasets {
namespace {

constexpr int kMutations = 10000;

void Report(const char* what, const testing::CorruptionStats& stats) {
  std::cout << what << ": " << stats.accepted << " mutations read, " << stats.rejected
            << " refused\n";
}

TEST(SplatFuzz, SplatCorruptionIsHandled) {
  testing::CapAddressSpace(8ull << 30);
  testing::TempDir dir(testing::TempDir::kPreferMemory);
  const std::filesystem::path scratch = dir / "mutated.splat";
  WriteSplat(dir / "scene.splat", testing::SampleSplats(40, 0, false));
  const auto stats =
      testing::ExpectCorruptionIsHandled(testing::ReadBytes(dir / "scene.splat"), scratch,
                                         kMutations, 4, [](const std::filesystem::path& path) {
                                           const GaussianSplats splats = ReadSplat(path);
                                           EXPECT_NO_THROW(splats.Check());
                                         });
  Report(".splat", stats);
  EXPECT_GT(stats.rejected, 0);  // truncations and deletions break the 32-byte records
}

void FuzzPcd(PcdFormat format, std::uint32_t seed, const char* what) {
  testing::CapAddressSpace(8ull << 30);
  testing::TempDir dir(testing::TempDir::kPreferMemory);
  const std::filesystem::path scratch = dir / "mutated.pcd";
  WritePcd(dir / "cloud.pcd", testing::SampleCloud(60, true, true), format);
  const auto stats =
      testing::ExpectCorruptionIsHandled(testing::ReadBytes(dir / "cloud.pcd"), scratch, kMutations,
                                         seed, [](const std::filesystem::path& path) {
                                           const geometry::PointCloud cloud = ReadPcd(path);
                                           EXPECT_NO_THROW(cloud.Check());
                                         });
  Report(what, stats);
  EXPECT_GT(stats.rejected, 0);
}

TEST(PcdFuzz, BinaryCorruptionIsHandled) { FuzzPcd(PcdFormat::kBinary, 5, "binary PCD"); }

TEST(PcdFuzz, CompressedCorruptionIsHandled) {
  FuzzPcd(PcdFormat::kBinaryCompressed, 6, "binary_compressed PCD");
}

TEST(PcdFuzz, AsciiCorruptionIsHandled) { FuzzPcd(PcdFormat::kAscii, 7, "ASCII PCD"); }

}  // namespace
}  // namespace facet::datasets
