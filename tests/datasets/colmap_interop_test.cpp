// facet's COLMAP models against COLMAP itself (`colmap` on PATH; the tests skip without it):
// COLMAP must read what facet writes, and facet must read what COLMAP writes, unchanged.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "colmap_test_scene.h"
#include "common/run_command.h"
#include "common/temp_dir.h"
#include "core/file_io.h"
#include "datasets/colmap_model.h"

namespace facet::datasets {
namespace {

namespace fs = std::filesystem;
using facet::testing::ExpectScenesIdentical;
using facet::testing::RandomScene;
using facet::testing::RunCommand;
using facet::testing::TempDir;

#define SKIP_WITHOUT_COLMAP()                                           \
  do {                                                                  \
    if (RunCommand("command -v colmap").exit_code != 0) {               \
      GTEST_SKIP() << "colmap is not on PATH (apt-get install colmap)"; \
    }                                                                   \
  } while (false)

// Runs `colmap model_converter` and checks that it succeeded.
void Convert(const fs::path& from, const fs::path& to, const char* type) {
  fs::create_directories(to);
  const auto result = RunCommand("colmap model_converter --input_path '" + from.string() +
                                 "' --output_path '" + to.string() + "' --output_type " + type);
  ASSERT_EQ(result.exit_code, 0) << result.output;
}

std::string ReadText(const fs::path& path) {
  const std::vector<std::uint8_t> bytes = ReadFile(path);
  return {bytes.begin(), bytes.end()};
}

// A text model file as its '#' header lines (in order) and its data records (sorted: COLMAP writes
// in hash-map order), a record being `lines_per_record` lines.
struct TextRecords {
  std::vector<std::string> header;
  std::vector<std::string> records;
};
TextRecords Split(const std::string& text, int lines_per_record) {
  TextRecords out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("#")) {
      out.header.push_back(line);
      continue;
    }
    std::string record = line;
    for (int i = 1; i < lines_per_record && std::getline(in, line); ++i) record += "\n" + line;
    out.records.push_back(record);
  }
  std::sort(out.records.begin(), out.records.end());
  return out;
}

TEST(ColmapInterop, ModelAnalyzerReadsFacetModels) {
  SKIP_WITHOUT_COLMAP();
  TempDir dir;
  const Scene scene = RandomScene(11);
  std::size_t observations = 0;
  for (const auto& [id, point] : scene.points3d) observations += point.track.size();
  WriteColmapModelBinary(dir / "bin", scene);
  WriteColmapModelText(dir / "txt", scene);
  for (const char* format : {"bin", "txt"}) {
    const auto result =
        RunCommand("colmap model_analyzer --path '" + (dir / format).string() + "'");
    ASSERT_EQ(result.exit_code, 0) << result.output;
    for (const std::string& expected : {fmt::format("Cameras: {}\n", scene.cameras.size()),
                                        fmt::format("Registered images: {}\n", scene.images.size()),
                                        fmt::format("Points: {}\n", scene.points3d.size()),
                                        fmt::format("Observations: {}\n", observations)}) {
      EXPECT_NE(result.output.find(expected), std::string::npos)
          << format << ": no '" << expected << "' in\n"
          << result.output;
    }
  }
}

// COLMAP's own text writer, given facet's binary model, prints exactly what facet's text writer
// prints: the same header lines and the same records (in another order).
TEST(ColmapInterop, ColmapWritesTheSameTextAsFacet) {
  SKIP_WITHOUT_COLMAP();
  TempDir dir;
  // One record per file: even the order matches, so the files are identical.
  WriteColmapModelBinary(dir / "tiny", facet::testing::TinyScene());
  Convert(dir / "tiny", dir / "tiny_txt", "TXT");
  EXPECT_EQ(ReadText(dir / "tiny_txt" / "cameras.txt"), facet::testing::kTinyCamerasTxt);
  EXPECT_EQ(ReadText(dir / "tiny_txt" / "images.txt"), facet::testing::kTinyImagesTxt);
  EXPECT_EQ(ReadText(dir / "tiny_txt" / "points3D.txt"), facet::testing::kTinyPoints3DTxt);

  // COLMAP renormalises quaternions when it writes; exactly unit ones keep their digits.
  const Scene scene = RandomScene(12, {.exact_unit_rotations = true});
  WriteColmapModelBinary(dir / "bin", scene);
  WriteColmapModelText(dir / "facet_txt", scene);
  Convert(dir / "bin", dir / "colmap_txt", "TXT");
  for (const auto& [name, lines] :
       {std::pair{"cameras.txt", 1}, std::pair{"images.txt", 2}, std::pair{"points3D.txt", 1}}) {
    const TextRecords facet = Split(ReadText(dir / "facet_txt" / name), lines);
    const TextRecords colmap = Split(ReadText(dir / "colmap_txt" / name), lines);
    EXPECT_GE(colmap.records.size(), scene.cameras.size()) << name;
    EXPECT_EQ(facet.header, colmap.header) << name;
    EXPECT_EQ(facet.records, colmap.records) << name;
  }
}

TEST(ColmapInterop, FacetReadsColmapConversionsUnchanged) {
  SKIP_WITHOUT_COLMAP();
  TempDir dir;
  const Scene scene = RandomScene(13, {.exact_unit_rotations = true});
  WriteColmapModelBinary(dir / "bin", scene);
  WriteColmapModelText(dir / "txt", scene);
  Convert(dir / "bin", dir / "bin_to_txt", "TXT");
  Convert(dir / "bin", dir / "bin_to_bin", "BIN");
  Convert(dir / "txt", dir / "txt_to_bin", "BIN");
  Convert(dir / "txt", dir / "txt_to_txt", "TXT");
  for (const char* converted : {"bin_to_txt", "bin_to_bin", "txt_to_bin", "txt_to_txt"}) {
    SCOPED_TRACE(converted);
    ExpectScenesIdentical(scene, ReadColmapModel(dir / converted));
  }
}

// With arbitrary unit quaternions COLMAP's two renormalisations (on reading, on writing) may each
// move a component by its rounding, at most (2 eps for the norm + eps / 2 for the division); all
// else is unchanged.
TEST(ColmapInterop, ColmapMovesArbitraryQuaternionsByAFewUlpsOnly) {
  SKIP_WITHOUT_COLMAP();
  TempDir dir;
  const Scene scene = RandomScene(14);
  WriteColmapModelBinary(dir / "bin", scene);
  Convert(dir / "bin", dir / "txt", "TXT");
  Scene read = ReadColmapModel(dir / "txt");
  constexpr double kTolerance = 2 * 2.5 * std::numeric_limits<double>::epsilon();
  for (auto& [id, image] : read.images) {
    const Eigen::Vector4d expected = scene.images.at(id).cam_from_world->rotation.coeffs();
    const Eigen::Vector4d actual = image.cam_from_world->rotation.coeffs();
    EXPECT_LE((expected - actual).cwiseAbs().maxCoeff(), kTolerance) << "image " << id.value;
    image.cam_from_world->rotation = scene.images.at(id).cam_from_world->rotation;
  }
  ExpectScenesIdentical(scene, read);
}

}  // namespace
}  // namespace facet::datasets
