// `facet sfm` on the bad input of issue 4, each case a real run of the program on photos made
// here: an empty folder, truncated JPEGs among good photos, a single photo, two unrelated scenes,
// duplicate photos, very small photos, 500 tiny noise images, --resume and the feature cache, and
// unknown option values.
//
// The photos are the built-in synthetic scene (datasets/synthetic): 14 views on a full orbit at
// 320x240, which the pipeline reconstructs completely in about 2 s. (With 8 views, 45 degrees
// apart, it builds no model at this size, and with 12 it registers 4.) Two scenes rendered with
// different seeds share the room's and objects' shapes but none of their textures; with seeds 0
// and 1 no pair across the two scenes verified when this was written (127 verified pairs
// together, 62 + 65 apart), and the test checks that no model mixes them.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "common/run_command.h"
#include "common/temp_dir.h"
#include "core/file_io.h"
#include "core/image.h"
#include "core/image_io.h"
#include "core/progress.h"
#include "datasets/colmap_model.h"
#include "datasets/synthetic/dataset_writer.h"
#include "geometry/pose_metrics.h"

namespace facet {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::TempDir;

constexpr int kViews = 14;

std::string Quote(const fs::path& path) { return fmt::format("'{}'", path.string()); }

CommandResult Sfm(const fs::path& images, const fs::path& output, const std::string& extra = "") {
  return testing::RunCommand(
      fmt::format("'{}' sfm {} -o {} {}", FACET_BINARY, Quote(images), Quote(output), extra));
}

// Wall-clock seconds that `run` takes.
template <typename F>
double Seconds(F&& run) {
  const auto start = std::chrono::steady_clock::now();
  run();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

nlohmann::json ReadJson(const fs::path& path) {
  const std::vector<std::uint8_t> bytes = ReadFile(path);
  return nlohmann::json::parse(std::string(bytes.begin(), bytes.end()));
}

int CountLines(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

// Copies every photo of `from` into `to` (created), each name prefixed.
void CopyPhotos(const fs::path& from, const fs::path& to, const std::string& prefix = "") {
  fs::create_directories(to);
  for (const auto& entry : fs::directory_iterator(from)) {
    fs::copy_file(entry.path(), to / (prefix + entry.path().filename().string()));
  }
}

// Two synthetic scenes (seeds 0 and 1), as `facet synth` writes them, rendered once; each test
// works in its own temporary folder.
class SfmCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    SetProgressQuiet(true);
    dir_ = new TempDir(TempDir::kPreferMemory);
    for (std::uint32_t seed : {0u, 1u}) {
      datasets::synthetic::SynthOptions options;
      options.num_views = kViews;
      options.width = 320;
      options.height = 240;
      options.seed = seed;
      datasets::synthetic::WriteSyntheticDataset(options,
                                                 dir_->path() / fmt::format("seed{}", seed));
    }
  }
  static void TearDownTestSuite() { delete dir_; }
  static fs::path Photos(int seed = 0) {
    return dir_->path() / fmt::format("seed{}", seed) / "images";
  }

  TempDir work_{TempDir::kPreferMemory};
  static TempDir* dir_;
};
TempDir* SfmCli::dir_ = nullptr;

TEST_F(SfmCli, EmptyFolderIsAOneLineErrorNamingTheFolder) {
  fs::create_directories(work_ / "empty");
  const CommandResult result = Sfm(work_ / "empty", work_ / "out", "--quiet");
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_EQ(CountLines(result.output), 1) << result.output;
  EXPECT_EQ(result.output.rfind("facet: error: ", 0), 0u) << result.output;
  EXPECT_NE(result.output.find((work_ / "empty").string()), std::string::npos) << result.output;
}

TEST_F(SfmCli, TruncatedJpegsAreSkippedNamedAndTheRestReconstructed) {
  const fs::path photos = work_ / "photos";
  CopyPhotos(Photos(), photos);
  // One JPEG cut inside its image data (its header reads, its pixels do not) and one cut inside
  // its header. Both extra: the 14 good photos are the complete orbit.
  const ImageU8 view = ReadImage<std::uint8_t>(Photos() / "00000.png");
  for (const auto& [name, keep] : {std::pair<std::string, double>{"cut_data.jpg", 0.5},
                                   std::pair<std::string, double>{"cut_header.jpg", 0.0}}) {
    WriteImage(photos / name, view);
    const auto size = fs::file_size(photos / name);
    fs::resize_file(photos / name, keep > 0 ? static_cast<std::uintmax_t>(keep * size) : 60);
  }
  const CommandResult result = Sfm(photos, work_ / "out", "--quiet");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  for (const char* name : {"cut_data.jpg", "cut_header.jpg"}) {
    EXPECT_NE(result.output.find(name), std::string::npos) << name << "\n" << result.output;
  }
  const nlohmann::json summary = ReadJson(work_ / "out" / "sfm_summary.json");
  ASSERT_EQ(summary["skipped"].size(), 2u) << summary.dump(2);
  EXPECT_EQ(summary["skipped"][0].get<std::string>().rfind("cut_data.jpg: ", 0), 0u);
  EXPECT_EQ(summary["skipped"][1].get<std::string>().rfind("cut_header.jpg: ", 0), 0u);
  EXPECT_EQ(summary["images"], kViews + 2);
  // The photo folder, absolute, for `facet splat` (splatting/training_data.h).
  EXPECT_EQ(summary["image_dir"], fs::absolute(photos).lexically_normal().string());
  EXPECT_TRUE(summary["not_registered"].empty()) << summary.dump(2);
  ASSERT_EQ(summary["models"].size(), 1u) << summary.dump(2);
  EXPECT_EQ(summary["models"][0]["registered_images"], kViews);
  EXPECT_NE(result.output.find(fmt::format(
                "{} of {} images registered; unreadable, skipped: ", kViews, kViews + 2)),
            std::string::npos)
      << result.output;
}

TEST_F(SfmCli, SinglePhotoIsAClearError) {
  fs::create_directories(work_ / "one");
  fs::copy_file(Photos() / "00000.png", work_ / "one" / "00000.png");
  const CommandResult result = Sfm(work_ / "one", work_ / "out", "--quiet");
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_EQ(CountLines(result.output), 1) << result.output;
  EXPECT_NE(result.output.find("facet: error: "), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("at least two"), std::string::npos) << result.output;
  EXPECT_FALSE(fs::exists(work_ / "out" / "sparse"));
}

TEST_F(SfmCli, TwoUnrelatedScenesGiveTwoModels) {
  const fs::path photos = work_ / "photos";
  CopyPhotos(Photos(0), photos, "a_");
  CopyPhotos(Photos(1), photos, "b_");
  const CommandResult result = Sfm(photos, work_ / "out", "--quiet");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("2 separate models"), std::string::npos) << result.output;
  const nlohmann::json summary = ReadJson(work_ / "out" / "sfm_summary.json");
  ASSERT_EQ(summary["models"].size(), 2u) << summary.dump(2);
  EXPECT_TRUE(fs::is_directory(work_ / "out" / "sparse" / "1"));
  EXPECT_FALSE(fs::exists(work_ / "out" / "sparse" / "2"));
  std::set<char> scenes;
  for (int k = 0; k < 2; ++k) {
    EXPECT_EQ(summary["models"][k]["registered_images"], kViews) << summary.dump(2);
    const datasets::Scene model =
        datasets::ReadColmapModel(work_ / "out" / "sparse" / std::to_string(k));
    ASSERT_FALSE(model.images.empty());
    const char scene = model.images.begin()->second.name[0];
    scenes.insert(scene);
    for (const auto& [id, image] : model.images) {
      EXPECT_EQ(image.name[0], scene) << "model " << k << " mixes the scenes: " << image.name;
    }
  }
  EXPECT_EQ(scenes.size(), 2u);
}

TEST_F(SfmCli, DuplicatePhotosRegisterAtTheSamePose) {
  const fs::path photos = work_ / "photos";
  CopyPhotos(Photos(), photos);
  fs::copy_file(photos / "00003.png", photos / "00003_copy.png");
  const CommandResult result = Sfm(photos, work_ / "out", "--quiet");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const datasets::Scene model = datasets::ReadColmapModel(work_ / "out" / "sparse" / "0");
  EXPECT_EQ(model.NumRegisteredImages(), static_cast<std::size_t>(kViews + 1));
  const datasets::Image* original = model.FindImage("00003.png");
  const datasets::Image* copy = model.FindImage("00003_copy.png");
  ASSERT_TRUE(original && copy && original->IsRegistered() && copy->IsRegistered());
  // Same pixels, same keypoints: the same pose up to the solver's tolerance. The orbit's
  // neighbouring views are ~26 degrees and ~0.4 scene units apart (the model's scale is arbitrary,
  // so the centre distance is compared with the distance to a neighbour).
  const datasets::Image* neighbour = model.FindImage("00004.png");
  ASSERT_NE(neighbour, nullptr);
  const double baseline = (geometry::CameraCenter(*neighbour->cam_from_world) -
                           geometry::CameraCenter(*original->cam_from_world))
                              .norm();
  EXPECT_LT(geometry::RotationAngleDeg(original->cam_from_world->rotation,
                                       copy->cam_from_world->rotation),
            0.01);
  EXPECT_LT((geometry::CameraCenter(*copy->cam_from_world) -
             geometry::CameraCenter(*original->cam_from_world))
                .norm(),
            1e-4 * baseline);
}

TEST_F(SfmCli, VerySmallPhotosEndCleanly) {
  datasets::synthetic::SynthOptions options;
  options.num_views = kViews;
  options.width = 32;
  options.height = 24;
  datasets::synthetic::WriteSyntheticDataset(options, work_ / "tiny");
  const CommandResult result = Sfm(work_ / "tiny" / "images", work_ / "out", "--quiet");
  // Too few features for a model: a one-line error (a partial model would do as well).
  ASSERT_TRUE(result.exit_code == 0 || result.exit_code == 1) << result.output;
  if (result.exit_code == 1) {
    EXPECT_EQ(CountLines(result.output), 1) << result.output;
    EXPECT_EQ(result.output.rfind("facet: error: sfm: no model could be built", 0), 0u)
        << result.output;
  } else {
    EXPECT_FALSE(ReadJson(work_ / "out" / "sfm_summary.json")["models"].empty());
  }
}

TEST_F(SfmCli, FiveHundredTinyNoiseImagesFinishInBoundedTime) {
  constexpr int kImages = 500;
  const fs::path photos = work_ / "noise";
  fs::create_directories(photos);
  std::mt19937 rng(4);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int i = 0; i < kImages; ++i) {
    ImageU8 image(48, 36, 3);
    for (std::size_t k = 0; k < image.size(); ++k) image.data()[k] = byte(rng);
    WriteImage(photos / fmt::format("{:04d}.png", i), image);
  }
  CommandResult result;
  const double seconds = Seconds([&] { result = Sfm(photos, work_ / "out", "--quiet"); });
  std::printf("500 noise images: exit %d in %.1f s: %s", result.exit_code, seconds,
              result.output.c_str());
  EXPECT_LT(seconds, 60.0);
  ASSERT_TRUE(result.exit_code == 0 || result.exit_code == 1) << result.output;
  // Above 60 images the default matcher is retrieval: at most 30 neighbours per image, not the
  // 124,750 pairs of exhaustive matching.
  std::size_t pairs = 0;
  if (result.exit_code == 0) {
    pairs = ReadJson(work_ / "out" / "sfm_summary.json")["pairs_matched"].get<std::size_t>();
  } else {
    std::smatch match;
    ASSERT_TRUE(std::regex_search(result.output, match, std::regex(R"(of (\d+) pairs verified)")))
        << result.output;
    pairs = std::stoul(match[1]);
  }
  EXPECT_LE(pairs, static_cast<std::size_t>(30 * kImages));
}

TEST_F(SfmCli, ResumeReusesAFinishedRunAndARerunReusesTheCache) {
  const fs::path out = work_ / "out";
  CommandResult first;
  const double first_s = Seconds([&] { first = Sfm(Photos(), out, "--quiet"); });
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const nlohmann::json first_summary = ReadJson(out / "sfm_summary.json");
  const auto summary_time = fs::last_write_time(out / "sfm_summary.json");

  // --resume: nothing recomputed or rewritten, the summary printed again.
  CommandResult resumed;
  const double resumed_s = Seconds([&] { resumed = Sfm(Photos(), out, "--resume"); });
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("--resume"), std::string::npos) << resumed.output;
  EXPECT_NE(resumed.output.find(fmt::format("model 0: {} images", kViews)), std::string::npos)
      << resumed.output;
  EXPECT_EQ(fs::last_write_time(out / "sfm_summary.json"), summary_time);
  EXPECT_LT(resumed_s, 0.25 * first_s) << "first run " << first_s << " s";

  // Without --resume the run is redone, reading the features and the verified pairs from the
  // cache in OUT/database.
  const CommandResult rerun_result = Sfm(Photos(), out, "--quiet");
  ASSERT_EQ(rerun_result.exit_code, 0) << rerun_result.output;
  const nlohmann::json rerun = ReadJson(out / "sfm_summary.json");
  EXPECT_LT(rerun["seconds"]["features"].get<double>(),
            0.5 * first_summary["seconds"]["features"].get<double>());
  EXPECT_LT(rerun["seconds"]["matching"].get<double>(),
            0.5 * first_summary["seconds"]["matching"].get<double>());
  EXPECT_EQ(rerun["pairs_verified"], first_summary["pairs_verified"]);
  EXPECT_EQ(rerun["models"][0]["registered_images"], kViews);
}

TEST_F(SfmCli, UnknownCameraModelOrMatcherIsAUsageError) {
  for (const char* flag : {"--camera-model PINHOLEX", "--matcher fastest"}) {
    const CommandResult result = Sfm(Photos(), work_ / "out", flag);
    EXPECT_EQ(result.exit_code, 2) << flag << "\n" << result.output;
    const std::string name = std::string(flag).substr(0, std::string(flag).find(' '));
    EXPECT_NE(result.output.find(name), std::string::npos) << result.output;
    EXPECT_FALSE(fs::exists(work_ / "out")) << "refused before any work";
  }
}

}  // namespace
}  // namespace facet
