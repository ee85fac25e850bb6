// Randomised corruption of .splat and PCD files (binary, binary_compressed, ASCII): every mutated
// file must read or throw facet::Error, quickly and within the memory cap.
#include <gtest/gtest.h>

#include <cstdint>
#include <iostream>
#include <random>
#include <vector>

#include "common/corruption.h"
#include "common/temp_dir.h"
#include "datasets/detail/lzf.h"
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
  testing::CapAddressSpace();
  testing::TempDir dir(testing::TempDir::kPreferMemory);
  const std::filesystem::path scratch = dir / "mutated.splat";
  WriteSplat(dir / "scene.splat", testing::SampleSplats(40, 0, false));
  const auto stats =
      testing::ExpectCorruptionIsHandled(facet::ReadFile(dir / "scene.splat"), scratch, kMutations,
                                         4, [](const std::filesystem::path& path) {
                                           const GaussianSplats splats = ReadSplat(path);
                                           EXPECT_NO_THROW(splats.Check());
                                         });
  Report(".splat", stats);
  EXPECT_GT(stats.rejected, 0);  // truncations and deletions break the 32-byte records
}

void FuzzPcd(PcdFormat format, std::uint32_t seed, const char* what) {
  testing::CapAddressSpace();
  testing::TempDir dir(testing::TempDir::kPreferMemory);
  const std::filesystem::path scratch = dir / "mutated.pcd";
  WritePcd(dir / "cloud.pcd", testing::SampleCloud(60, true, true), format);
  const auto stats =
      testing::ExpectCorruptionIsHandled(facet::ReadFile(dir / "cloud.pcd"), scratch, kMutations,
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

// The decoder's output grows with what the stream really produces: a declared size far beyond
// the memory cap costs nothing when the stream breaks early or inflates to less.
TEST(LzfFuzz, DeclaredSizeIsNotAllocatedUpFront) {
  testing::CapAddressSpace();
  std::vector<std::uint8_t> data(3000);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i % 7 * i);
  const std::vector<std::uint8_t> stream = detail::LzfCompress(data);
  constexpr std::size_t kHuge = std::size_t{3} << 30;  // beyond the cap (release) and ASan's limit
  EXPECT_FALSE(detail::LzfDecompress(stream, kHuge).has_value());
  EXPECT_FALSE(detail::LzfDecompress(std::vector<std::uint8_t>{0xe0, 0xff}, kHuge).has_value());
  std::mt19937 rng(8);
  int decoded = 0;
  for (int i = 0; i < kMutations; ++i) {
    const std::vector<std::uint8_t> mutated = testing::Mutate(stream, rng);
    for (const std::size_t size : {data.size(), data.size() * 2, kHuge}) {
      const auto out = detail::LzfDecompress(mutated, size);
      if (!out) continue;
      ++decoded;
      ASSERT_EQ(out->size(), size);  // exactly the size asked for, or nothing
      ASSERT_LE(out->size(), mutated.size() * detail::kLzfMaxExpansion);
    }
  }
  std::cout << "LZF: " << decoded << " of " << 3 * kMutations << " mutated decodes succeeded\n";
  EXPECT_GT(decoded, 0);  // flipped literal bytes still decode
}

}  // namespace
}  // namespace facet::datasets
