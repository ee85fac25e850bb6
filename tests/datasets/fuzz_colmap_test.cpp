// Randomized corruption of COLMAP model files (tests/common/corruption.h): every mutated file,
// read as part of the whole model, must either load or be refused with facet::Error, quickly and
// without unbounded allocation. Run it under the asan preset too.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "colmap_test_scene.h"
#include "common/corruption.h"
#include "common/temp_dir.h"
#include "core/file_io.h"
#include "datasets/colmap_model.h"

namespace facet::datasets {
namespace {

namespace fs = std::filesystem;

constexpr int kMutationsPerFile = 3000;

// A model small enough to read in microseconds, with every kind of record.
Scene FuzzScene() {
  return facet::testing::RandomScene(
      21, {.num_images = 4, .max_keypoints = 12, .num_points = 10, .extreme_values = true});
}

void FuzzModel(const fs::path& folder, const std::vector<std::string>& files,
               Scene (*read)(const fs::path&), std::uint32_t seed) {
  for (const std::string& name : files) {
    SCOPED_TRACE(name);
    const fs::path path = folder / name;
    const std::vector<std::uint8_t> original = ReadFile(path);
    const facet::testing::CorruptionStats stats = facet::testing::ExpectCorruptionIsHandled(
        original, path, kMutationsPerFile, seed++, [&](const fs::path&) { read(folder); });
    WriteFileAtomically(path, original);
    // Most mutations must be caught; some (a flipped bit in a coordinate) are still valid files.
    EXPECT_GT(stats.rejected, kMutationsPerFile / 2);
    EXPECT_GT(stats.accepted + stats.rejected, kMutationsPerFile - 1);
    std::printf("  %s: %d accepted, %d rejected\n", name.c_str(), stats.accepted, stats.rejected);
  }
}

TEST(ColmapModelFuzz, CorruptBinaryFilesAreRefusedCleanly) {
  facet::testing::CapAddressSpace();
  facet::testing::TempDir dir(facet::testing::TempDir::kPreferMemory);
  WriteColmapModelBinary(dir.path(), FuzzScene());
  FuzzModel(dir.path(), {"cameras.bin", "images.bin", "points3D.bin"}, &ReadColmapModelBinary, 100);
}

TEST(ColmapModelFuzz, CorruptTextFilesAreRefusedCleanly) {
  facet::testing::CapAddressSpace();
  facet::testing::TempDir dir(facet::testing::TempDir::kPreferMemory);
  WriteColmapModelText(dir.path(), FuzzScene());
  FuzzModel(dir.path(), {"cameras.txt", "images.txt", "points3D.txt"}, &ReadColmapModelText, 200);
}

}  // namespace
}  // namespace facet::datasets
