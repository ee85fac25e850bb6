// `facet splat` as users run it: on the built-in synthetic scene (`facet synth` output, a
// transforms.json folder, 12 views at 64x48), short runs that write a PLY other tools read, a
// .splat, a summary and held-out renders; an interrupted run resumed from its checkpoint; and bad
// input (missing input, unreadable checkpoint, bad options) refused with one line.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "common/run_command.h"
#include "common/temp_dir.h"
#include "core/file_io.h"
#include "core/progress.h"
#include "datasets/gaussian_splats.h"
#include "datasets/synthetic/dataset_writer.h"

namespace facet {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::TempDir;

std::string Quote(const fs::path& path) { return fmt::format("'{}'", path.string()); }

CommandResult Splat(const fs::path& input, const fs::path& output, const std::string& extra) {
  return testing::RunCommand(fmt::format("'{}' splat {} -o {} --quiet {}", FACET_BINARY,
                                         Quote(input), Quote(output), extra));
}

nlohmann::json ReadJson(const fs::path& path) {
  const std::vector<std::uint8_t> bytes = ReadFile(path);
  return nlohmann::json::parse(std::string(bytes.begin(), bytes.end()));
}

int CountLines(const std::string& text) { return int(std::count(text.begin(), text.end(), '\n')); }

class SplatCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    SetProgressQuiet(true);
    dir_ = new TempDir();
    datasets::synthetic::SynthOptions options;
    options.num_views = 12;
    options.width = 64;
    options.height = 48;
    options.supersampling = 1;
    options.mesh_voxel_size = 0.03;
    datasets::synthetic::WriteSyntheticDataset(options, Synth());
  }
  static void TearDownTestSuite() { delete dir_; }
  static fs::path Synth() { return dir_->path() / "synth"; }

  TempDir work_{};
  static TempDir* dir_;
};

TempDir* SplatCli::dir_ = nullptr;

TEST_F(SplatCli, TrainsAndWritesPlySplatSummaryAndRenders) {
  const fs::path out = work_.path() / "out" / "scene.ply";
  const CommandResult r = Splat(Synth(), out,
                                "--iters 120 --random-init 2000 --eval --export-splat " +
                                    Quote(work_.path() / "out" / "scene.splat"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const datasets::GaussianSplats ply = datasets::ReadGaussianPly(out);
  EXPECT_GT(ply.size(), 100u);
  EXPECT_EQ(ply.sh_degree, 0);  // 120 iterations: the degree rises at 1,000
  const datasets::GaussianSplats splat = datasets::ReadSplat(work_.path() / "out" / "scene.splat");
  EXPECT_EQ(splat.size(), ply.size());
  const nlohmann::json summary = ReadJson(work_.path() / "out" / "scene_summary.json");
  EXPECT_EQ(summary["iterations"].get<int>(), 120);
  EXPECT_EQ(summary["gaussians"].get<std::size_t>(), ply.size());
  EXPECT_EQ(summary["test_views"].get<int>(), 2);  // views 0 and 8 of 12
  EXPECT_GT(summary["eval"]["mean_psnr"].get<double>(), 10.0);
  EXPECT_GT(summary["peak_memory_bytes"].get<double>(), 0.0);
  EXPECT_FALSE(summary["curve"].empty());
  EXPECT_TRUE(fs::exists(work_.path() / "out" / "renders" / "images_00000.png"));
  EXPECT_TRUE(fs::exists(work_.path() / "out" / "renders" / "images_00008.png"));
  // A finished run leaves no checkpoint behind.
  EXPECT_FALSE(fs::exists(work_.path() / "out" / "checkpoints" / "scene.ckpt"));

  // `facet eval --splats` scores the written PLY at the same held-out views: the same figures.
  const fs::path eval_json = work_.path() / "eval.json";
  const CommandResult e = testing::RunCommand(
      fmt::format("'{}' eval {} --splats {} --renders {} --json {}", FACET_BINARY, Quote(Synth()),
                  Quote(out), Quote(work_.path() / "eval"), Quote(eval_json)));
  ASSERT_EQ(e.exit_code, 0) << e.output;
  const nlohmann::json eval = ReadJson(eval_json);
  EXPECT_EQ(eval["views"].size(), 2u);
  EXPECT_NEAR(eval["mean_psnr"].get<double>(), summary["eval"]["mean_psnr"].get<double>(), 1e-4);
  EXPECT_NEAR(eval["mean_ssim"].get<double>(), summary["eval"]["mean_ssim"].get<double>(), 1e-6);
  EXPECT_TRUE(fs::exists(work_.path() / "eval" / "images_00008.png"));
}

TEST_F(SplatCli, ResumeContinuesFromTheCheckpoint) {
  const fs::path out = work_.path() / "scene.ply";
  const fs::path ckpt = work_.path() / "run.ckpt";
  // A first run of 40 iterations that keeps its final checkpoint, then a longer one resumed
  // from it.
  ASSERT_EQ(Splat(Synth(), out,
                  "--iters 40 --random-init 500 --checkpoint " + Quote(ckpt) + " --keep-checkpoint")
                .exit_code,
            0);
  ASSERT_TRUE(fs::exists(ckpt));
  const CommandResult r = testing::RunCommand(
      fmt::format("'{}' splat {} -o {} --iters 50 --random-init 500 --checkpoint {} --resume",
                  FACET_BINARY, Quote(Synth()), Quote(out), Quote(ckpt)));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("resumed from"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("at iteration 40"), std::string::npos) << r.output;
  const nlohmann::json summary = ReadJson(work_.path() / "scene_summary.json");
  EXPECT_EQ(summary["iterations"].get<int>(), 50);
}

TEST_F(SplatCli, BadInputGetsOneLineAndExitCode) {
  const fs::path out = work_.path() / "x.ply";
  for (const std::string& input : {std::string("/nonexistent/folder"), work_.path().string()}) {
    const CommandResult r = Splat(input, out, "--iters 5");
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_EQ(CountLines(r.output), 1) << r.output;
    EXPECT_EQ(r.output.rfind("facet: error: ", 0), 0u) << r.output;
  }
  const fs::path bad_ckpt = work_.path() / "bad.ckpt";
  std::ofstream(bad_ckpt) << "not a checkpoint";
  const CommandResult r =
      Splat(Synth(), out, "--iters 5 --random-init 100 --resume --checkpoint " + Quote(bad_ckpt));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("checkpoint"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(out));
  // The checkpoint of an earlier, unfinished run is never overwritten without --resume.
  const fs::path stale = work_.path() / "checkpoints" / "y.ckpt";
  fs::create_directories(stale.parent_path());
  std::ofstream(stale) << "state of an interrupted run";
  const CommandResult fresh = Splat(Synth(), work_.path() / "y.ply", "--iters 5 --random-init 100");
  EXPECT_EQ(fresh.exit_code, 1) << fresh.output;
  EXPECT_NE(fresh.output.find("--resume"), std::string::npos) << fresh.output;
  EXPECT_TRUE(fs::exists(stale));
  const CommandResult strategy = Splat(Synth(), out, "--strategy greedy");
  EXPECT_EQ(strategy.exit_code, 1) << strategy.output;
  EXPECT_NE(strategy.output.find("strategy"), std::string::npos) << strategy.output;
}

}  // namespace
}  // namespace facet
