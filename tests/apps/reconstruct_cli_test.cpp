// `facet reconstruct` as users run it: photos of the built-in synthetic scene (14 views at
// 320x240) to splats and a watertight mesh in one command; --resume reusing finished stages and
// continuing a stage stopped by Ctrl-C from its checkpoint; kill -9 at random points followed by
// --resume giving a complete, valid result; and bad input (empty folder, one photo, unrelated
// photos, an output folder that cannot be written) refused before work where possible.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <sys/wait.h>
#include <thread>

#include "common/browser.h"
#include "common/run_command.h"
#include "common/temp_dir.h"
#include "core/file_io.h"
#include "core/image.h"
#include "core/image_io.h"
#include "core/progress.h"
#include "datasets/gaussian_splats.h"
#include "datasets/gltf.h"
#include "datasets/synthetic/dataset_writer.h"
#include "geometry/mesh_checks.h"

namespace facet {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::TempDir;

// Small and short: the fast preset with few iterations at 160 px.
constexpr const char* kQuick = "--preset fast --iters 60 --max-size 160";

std::string Quote(const fs::path& path) { return fmt::format("'{}'", path.string()); }

// `quiet`: warnings and errors only; otherwise the stage log lines too (no progress bars: the
// output is not a terminal).
std::string ReconstructCommand(const fs::path& photos, const fs::path& out,
                               const std::string& extra, bool quiet = true) {
  return fmt::format("'{}' reconstruct {} -o {} {} {}", FACET_BINARY, Quote(photos), Quote(out),
                     quiet ? "--quiet" : "", extra);
}

CommandResult Reconstruct(const fs::path& photos, const fs::path& out, const std::string& extra,
                          bool quiet = true) {
  return testing::RunCommand(ReconstructCommand(photos, out, extra, quiet));
}

nlohmann::json ReadJson(const fs::path& path) {
  const std::vector<std::uint8_t> bytes = ReadFile(path);
  return nlohmann::json::parse(std::string(bytes.begin(), bytes.end()));
}

// stage name -> status in OUT/stages.json ("" when the stage has no record).
std::string StageStatus(const fs::path& out, const std::string& name) {
  std::error_code error;
  if (!fs::exists(out / "stages.json", error)) return "";
  nlohmann::json stages;
  try {
    stages = ReadJson(out / "stages.json");
  } catch (const std::exception&) {
    return "";  // being replaced at this instant
  }
  for (const auto& stage : stages["stages"]) {
    if (stage["name"] == name) return stage["status"].get<std::string>();
  }
  return "";
}

int CountLines(const std::string& text) { return int(std::count(text.begin(), text.end(), '\n')); }

// The outputs of a finished run: every stage done or reused, a valid PLY of splats, a watertight
// mesh, the undistorted photos and their model.
void ExpectCompleteWorkspace(const fs::path& out) {
  for (const char* stage : {"sfm", "undistort", "splat", "mesh"}) {
    EXPECT_EQ(StageStatus(out, stage), "done") << stage;
  }
  EXPECT_TRUE(fs::exists(out / "sparse" / "0" / "images.bin"));
  EXPECT_TRUE(fs::exists(out / "distorted" / "sparse" / "0"));
  EXPECT_GE(std::distance(fs::directory_iterator(out / "images"), fs::directory_iterator{}), 10);
  EXPECT_GT(datasets::ReadGaussianPly(out / "splats.ply").size(), 100u);
  const geometry::TriangleMesh mesh = datasets::ReadGlb(out / "mesh.glb");
  EXPECT_GT(mesh.triangles.size(), 100u);
  EXPECT_TRUE(geometry::CheckWatertight(mesh).watertight);
  EXPECT_GT(fs::file_size(out / "log.txt"), 0u);
  EXPECT_FALSE(fs::exists(out / "checkpoints" / "splats.ckpt"));
  EXPECT_FALSE(fs::exists(out / "undistort.tmp"));
  EXPECT_GT(fs::file_size(out / "report.html"), 10000u);
}

// Starts `facet reconstruct` as a child process (its own pid, for signals).
pid_t Spawn(const std::string& command) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", ("exec " + command + " >/dev/null 2>&1").c_str(), nullptr);
    ::_exit(127);
  }
  return pid;
}

int Wait(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Polls until `done` or the child exits; returns whether `done` became true.
template <typename Predicate>
bool WaitFor(pid_t pid, Predicate done, double seconds = 120.0) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

class ReconstructCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    SetProgressQuiet(true);
    dir_ = new TempDir();
    datasets::synthetic::SynthOptions options;
    options.num_views = 14;
    options.width = 320;
    options.height = 240;
    options.mesh_voxel_size = 0.03;
    datasets::synthetic::WriteSyntheticDataset(options, dir_->path() / "synth");
  }
  static void TearDownTestSuite() { delete dir_; }
  static fs::path Photos() { return dir_->path() / "synth" / "images"; }

  TempDir work_{};
  static TempDir* dir_;
};
TempDir* ReconstructCli::dir_ = nullptr;

TEST_F(ReconstructCli, PhotosToSplatsAndAWatertightMeshThenResumeReusesEveryStage) {
  const fs::path out = work_.path() / "out";
  const CommandResult run = Reconstruct(Photos(), out, kQuick);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ExpectCompleteWorkspace(out);
  const nlohmann::json splats = ReadJson(out / "splats_summary.json");
  EXPECT_EQ(splats["iterations"], 60);
  EXPECT_GT(splats["eval"]["mean_psnr"].get<double>(), 12.0);
  // The mesh pictures come from the Vulkan viewer at three photos' cameras, or (no Vulkan
  // device) the log says the CPU drew them.
  if (fs::exists(out / "thumbnails")) {
    for (int k = 0; k < 3; ++k) {
      const ImageU8 picture =
          ReadImage<std::uint8_t>(out / "thumbnails" / fmt::format("mesh_{}.png", k));
      EXPECT_EQ(picture.width(), 400);
      EXPECT_EQ(picture.height(), 300);
    }
  } else {
    const std::vector<std::uint8_t> log = ReadFile(out / "log.txt");
    EXPECT_NE(std::string(log.begin(), log.end()).find("mesh pictures by the CPU"),
              std::string::npos);
  }
  // The report opens in a browser with every picture: 2 held-out views x (render, photo, error
  // map) and 3 mesh thumbnails.
  if (const std::string chromium = testing::FindChromium(); !chromium.empty()) {
    const std::string dom = testing::LoadPageInChromium(chromium, out / "report.html");
    EXPECT_EQ(testing::BodyAttribute(dom, "data-report-ready"), 1);
    EXPECT_EQ(testing::BodyAttribute(dom, "data-images-total"), 2 * 3 + 3);
    EXPECT_EQ(testing::BodyAttribute(dom, "data-images-loaded"), 2 * 3 + 3);
    EXPECT_GE(testing::BodyAttribute(dom, "data-svgs-rendered"), 4);  // scene plot and curves
    EXPECT_EQ(testing::BodyAttribute(dom, "data-js-errors"), 0);
  }

  // An earlier run is never overwritten without being asked.
  const CommandResult again = Reconstruct(Photos(), out, kQuick);
  EXPECT_EQ(again.exit_code, 2) << again.output;
  EXPECT_NE(again.output.find("--resume"), std::string::npos) << again.output;
  EXPECT_EQ(CountLines(again.output), 1) << again.output;

  const auto mesh_time = fs::last_write_time(out / "mesh.glb");
  const CommandResult resumed =
      Reconstruct(Photos(), out, std::string(kQuick) + " --resume", /*quiet=*/false);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  for (const char* stage : {"sfm", "undistort", "splat", "mesh"}) {
    EXPECT_NE(resumed.output.find(fmt::format("{}: reused", stage)), std::string::npos)
        << stage << "\n"
        << resumed.output;
  }
  EXPECT_EQ(fs::last_write_time(out / "mesh.glb"), mesh_time);

  // Another iteration count: structure from motion and undistortion are reused, the rest reruns.
  const CommandResult longer =
      Reconstruct(Photos(), out, "--preset fast --iters 80 --max-size 160 --resume");
  ASSERT_EQ(longer.exit_code, 0) << longer.output;
  EXPECT_EQ(ReadJson(out / "splats_summary.json")["iterations"], 80);
  ExpectCompleteWorkspace(out);

  // --force starts over.
  const CommandResult forced = Reconstruct(Photos(), out, std::string(kQuick) + " --force");
  ASSERT_EQ(forced.exit_code, 0) << forced.output;
  EXPECT_EQ(ReadJson(out / "splats_summary.json")["iterations"], 60);
}

TEST_F(ReconstructCli, CtrlCDuringTrainingCheckpointsAndResumeContinuesIt) {
  const fs::path out = work_.path() / "out";
  const std::string options = "--preset fast --iters 600 --max-size 160";
  const pid_t pid = Spawn(ReconstructCommand(Photos(), out, options));
  ASSERT_TRUE(WaitFor(pid, [&] { return StageStatus(out, "splat") == "running"; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  ::kill(pid, SIGINT);
  EXPECT_EQ(Wait(pid), 130);
  EXPECT_EQ(StageStatus(out, "splat"), "interrupted");
  EXPECT_EQ(StageStatus(out, "sfm"), "done");
  ASSERT_TRUE(fs::exists(out / "checkpoints" / "splats.ckpt"));
  EXPECT_FALSE(fs::exists(out / "splats.ply"));

  // Continued from the checkpoint with the same options: fewer iterations left to run.
  const CommandResult resumed = Reconstruct(Photos(), out, options + " --resume", /*quiet=*/false);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  const std::size_t at = resumed.output.find("splat: resumed from");
  ASSERT_NE(at, std::string::npos) << resumed.output;
  const std::size_t word = resumed.output.find("at iteration ", at);
  ASSERT_NE(word, std::string::npos) << resumed.output;
  const int iteration = std::stoi(resumed.output.substr(word + 13));
  EXPECT_GT(iteration, 0);
  EXPECT_LT(iteration, 600);
  EXPECT_NE(resumed.output.find("sfm: reused"), std::string::npos) << resumed.output;
  ExpectCompleteWorkspace(out);
}

TEST_F(ReconstructCli, KilledAtRandomPointsThenResumedGivesACompleteWorkspace) {
  std::mt19937 rng(7);
  const fs::path out = work_.path() / "out";
  const std::string options = "--preset fast --iters 400 --max-size 160";
  // Two kills: at a random moment of structure from motion, then of splat training.
  for (const char* stage : {"sfm", "splat"}) {
    const pid_t pid = Spawn(ReconstructCommand(Photos(), out, options + " --resume"));
    ASSERT_TRUE(WaitFor(pid, [&] { return StageStatus(out, stage) == "running"; })) << stage;
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(100, 1500)(rng)));
    ::kill(pid, SIGKILL);
    EXPECT_EQ(Wait(pid), 128 + SIGKILL);
  }
  const CommandResult resumed = Reconstruct(Photos(), out, options + " --resume");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  ExpectCompleteWorkspace(out);
}

TEST_F(ReconstructCli, BadInputIsOneLineBeforeAnyWork) {
  const fs::path out = work_.path() / "out";
  const fs::path empty = work_.path() / "empty";
  fs::create_directories(empty);
  CommandResult result = Reconstruct(empty, out, kQuick);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_EQ(CountLines(result.output), 1) << result.output;
  EXPECT_FALSE(fs::exists(out / "stages.json"));

  const fs::path one = work_.path() / "one";
  fs::create_directories(one);
  const fs::path first = fs::directory_iterator(Photos())->path();
  fs::copy_file(first, one / first.filename());
  result = Reconstruct(one, out, kQuick);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("at least two"), std::string::npos) << result.output;
  EXPECT_EQ(CountLines(result.output), 1) << result.output;

  // One photo beside a truncated one (whose header still reads): structure from motion skips
  // the truncated one with a warning and says one photo is too few.
  const std::vector<std::uint8_t> bytes = ReadFile(first);
  WriteFileAtomically(one / "truncated.png",
                      std::span<const std::uint8_t>(bytes.data(), bytes.size() / 3));
  result = Reconstruct(one, work_.path() / "out-truncated", kQuick);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("skipping image"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("the sfm stage failed"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("only 1 readable image"), std::string::npos) << result.output;

  result = Reconstruct(work_.path() / "missing", out, kQuick);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_EQ(CountLines(result.output), 1) << result.output;

  // An output folder that cannot be created (root ignores permissions: /proc refuses anyone).
  result = Reconstruct(Photos(), "/proc/facet-out", kQuick);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("/proc/facet-out"), std::string::npos) << result.output;
  EXPECT_EQ(CountLines(result.output), 1) << result.output;

  result = Reconstruct(Photos(), out, "--preset slow");
  EXPECT_EQ(result.exit_code, 2) << result.output;
}

TEST_F(ReconstructCli, UnrelatedPhotosFailInStructureFromMotionAndSaySo) {
  const fs::path noise = work_.path() / "noise";
  fs::create_directories(noise);
  std::mt19937 rng(3);
  for (int i = 0; i < 4; ++i) {
    ImageU8 image(160, 120, 3);
    for (std::size_t k = 0; k < image.size(); ++k) image.data()[k] = std::uint8_t(rng() & 255);
    WriteImage(noise / fmt::format("{:02}.png", i), image);
  }
  const fs::path out = work_.path() / "out";
  const CommandResult result = Reconstruct(noise, out, kQuick);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("the sfm stage failed"), std::string::npos) << result.output;
  EXPECT_EQ(CountLines(result.output), 1) << result.output;
  EXPECT_EQ(StageStatus(out, "sfm"), "failed");
  EXPECT_FALSE(fs::exists(out / "splats.ply"));
  // The report of a failed run shows the failure.
  const std::vector<std::uint8_t> html = ReadFile(out / "report.html");
  EXPECT_NE(std::string(html.begin(), html.end()).find("no model could be built"),
            std::string::npos);
}

}  // namespace
}  // namespace facet
