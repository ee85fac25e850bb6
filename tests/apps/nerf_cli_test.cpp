// `facet nerf` as users run it: a transforms.json folder trains into a snapshot with a held-out
// PSNR in the summary (with the L2 or the Huber loss); an interrupted run resumes from its
// checkpoint; a snapshot renders given cameras with their PSNR; bad input fails with one line and
// writes nothing.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <string>

#include "common/run_command.h"
#include "common/temp_dir.h"
#include "core/file_io.h"
#include "core/image_io.h"
#include "datasets/colmap_model.h"
#include "datasets/synthetic/dataset_writer.h"
#include "datasets/transforms_json.h"
#include "nerf/snapshot.h"
#include "nerf/sphere_scene.h"
#include "nerf/trainer.h"

namespace facet {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::TempDir;

CommandResult Nerf(const std::string& args) {
  return testing::RunCommand(fmt::format("'{}' nerf {} --quiet", FACET_BINARY, args));
}

nlohmann::json ReadJson(const fs::path& path) {
  const std::vector<std::uint8_t> bytes = ReadFile(path);
  return nlohmann::json::parse(std::string(bytes.begin(), bytes.end()));
}

fs::path WriteScene(const TempDir& dir) {
  datasets::synthetic::SynthOptions options;
  options.num_views = 9;
  options.width = 48;
  options.height = 36;
  options.supersampling = 1;
  options.mesh_voxel_size = 0.03;
  datasets::synthetic::WriteSyntheticDataset(options, dir / "scene");
  return dir / "scene";
}

TEST(NerfCli, TrainsASnapshotAndResumes) {
  TempDir dir;
  const fs::path scene = WriteScene(dir);
  const std::string common = fmt::format("'{}' --rays 256 --checkpoint-every 10", scene.string());
  const CommandResult first =
      Nerf(fmt::format("{} -o '{}' --steps 20 --summary '{}'", common, (dir / "a.bin").string(),
                       (dir / "a.json").string()));
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const nlohmann::json summary = ReadJson(dir / "a.json");
  EXPECT_EQ(summary["steps"].get<int>(), 20);
  EXPECT_EQ(summary["held_out_views"].get<int>(), 2);  // views 0 and 8 of 9
  EXPECT_TRUE(std::isfinite(summary["held_out_psnr"].get<double>()));
  EXPECT_GT(summary["held_out_psnr"].get<double>(), 5.0);
  const nerf::NerfSnapshot snapshot = nerf::ReadNerfSnapshot(dir / "a.bin");
  EXPECT_EQ(snapshot.step, 20);
  EXPECT_FALSE(snapshot.IsCheckpoint());
  EXPECT_FALSE(fs::exists(dir / "a.bin.ckpt"));  // removed once training finished

  // A kept checkpoint continues with more steps, from the optimiser state it saved.
  ASSERT_EQ(
      Nerf(fmt::format("{} -o '{}' --steps 20 --keep-checkpoint", common, (dir / "b.bin").string()))
          .exit_code,
      0);
  ASSERT_TRUE(nerf::ReadNerfSnapshot(dir / "b.bin.ckpt").IsCheckpoint());
  const CommandResult resumed =
      Nerf(fmt::format("{} -o '{}' --steps 30 --resume", common, (dir / "b.bin").string()));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_EQ(nerf::ReadNerfSnapshot(dir / "b.bin").step, 30);
  EXPECT_FALSE(fs::exists(dir / "b.bin.ckpt"));
}

// `facet mesh` on a snapshot: depth rendered from an orbit around its scene box, fused by TSDF.
TEST(NerfCli, MeshOfASnapshotIsWatertight) {
  TempDir dir;
  const datasets::TrainingData data = nerf::test::SphereData();
  Eigen::Vector3f aabb_min, aabb_max;
  nerf::SceneBox(data, &aabb_min, &aabb_max);
  nerf::NerfTrainer trainer(data, aabb_min, aabb_max, nerf::test::SmallField(),
                            nerf::test::SmallTraining());
  for (int step = 0; step < 300; ++step) trainer.Step();
  nerf::WriteNerfSnapshot(dir / "sphere.bin", nerf::SnapshotOf(trainer, data.background, false));
  const CommandResult result = testing::RunCommand(fmt::format(
      "'{}' mesh '{}' -o '{}' --orbit-views 24 --render-size 64 --resolution 64 --summary '{}' "
      "--quiet",
      FACET_BINARY, (dir / "sphere.bin").string(), (dir / "sphere.glb").string(),
      (dir / "s.json").string()));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const nlohmann::json summary = ReadJson(dir / "s.json");
  EXPECT_EQ(summary["input_kind"], "NeRF snapshot");
  EXPECT_TRUE(summary["watertight"].get<bool>());
  EXPECT_EQ(summary["components"].get<int>(), 1);
  EXPECT_TRUE(fs::exists(dir / "sphere.glb"));

  // The snapshot renders a circle of frames around its scene; the sphere fills their centre.
  const CommandResult render =
      Nerf(fmt::format("'{}' --path-frames 3 --render-size 32 --renders '{}'",
                       (dir / "sphere.bin").string(), (dir / "frames").string()));
  ASSERT_EQ(render.exit_code, 0) << render.output;
  for (int i = 0; i < 3; ++i) {
    const ImageU8 frame =
        ReadImage<std::uint8_t>(dir / "frames" / fmt::format("frame_{:03d}.png", i));
    ASSERT_EQ(frame.width(), 32);
    const Eigen::Vector3i centre(frame(16, 16, 0), frame(16, 16, 1), frame(16, 16, 2));
    EXPECT_LT(centre.minCoeff(), 250) << "frame " << i << " shows the white background";
    EXPECT_EQ(frame(0, 0, 0), 255) << "frame " << i;  // the corners see the background
  }
  // Rendering needs both the frame count and the folder.
  EXPECT_NE(Nerf(fmt::format("'{}' --path-frames 3", (dir / "sphere.bin").string())).exit_code, 0);
}

TEST(NerfCli, HuberLossTrainsAnotherModel) {
  TempDir dir;
  const fs::path scene = WriteScene(dir);
  const std::string common =
      fmt::format("'{}' --rays 256 --steps 10 --checkpoint-every 0", scene.string());
  ASSERT_EQ(Nerf(fmt::format("{} -o '{}'", common, (dir / "l2.bin").string())).exit_code, 0);
  const CommandResult huber =
      Nerf(fmt::format("{} -o '{}' --loss huber --huber-delta 0.05 --summary '{}'", common,
                       (dir / "huber.bin").string(), (dir / "huber.json").string()));
  ASSERT_EQ(huber.exit_code, 0) << huber.output;
  const nlohmann::json summary = ReadJson(dir / "huber.json");
  EXPECT_EQ(summary["loss"], "huber");
  EXPECT_TRUE(std::isfinite(summary["held_out_psnr"].get<double>()));
  // Same seed, same rays: only the loss's gradients differ, so the parameters do.
  const nerf::NerfSnapshot l2 = nerf::ReadNerfSnapshot(dir / "l2.bin");
  const nerf::NerfSnapshot robust = nerf::ReadNerfSnapshot(dir / "huber.bin");
  ASSERT_EQ(l2.density.size(), robust.density.size());
  EXPECT_NE(l2.density, robust.density);
  for (const std::string& bad :
       {std::string("--loss l1"), std::string("--loss huber --huber-delta 0")}) {
    const CommandResult result =
        Nerf(fmt::format("{} -o '{}' {}", common, (dir / "x.bin").string(), bad));
    EXPECT_NE(result.exit_code, 0) << bad;
    EXPECT_FALSE(fs::exists(dir / "x.bin")) << bad;
  }
}

// The sphere scene's views as a transforms.json and as a COLMAP model, with their photos (over
// the white background).
void WriteSphereCameras(const datasets::TrainingData& data, const fs::path& folder) {
  datasets::Scene scene;
  scene.cameras[datasets::CameraId(1)] = data.train.front().camera;
  fs::create_directories(folder / "images");
  std::uint32_t id = 0;
  for (const datasets::TrainingView& view : data.train) {
    datasets::Image image;
    image.id = datasets::ImageId(++id);
    image.name = fmt::format("view_{:02d}.png", id);
    image.camera_id = datasets::CameraId(1);
    image.cam_from_world = view.cam_from_world;
    // Over the white background: COLMAP inputs read RGB photos.
    ImageU8 photo(view.image.width(), view.image.height(), 3);
    for (int y = 0; y < photo.height(); ++y) {
      for (int x = 0; x < photo.width(); ++x) {
        const int a = view.image(x, y, 3);
        for (int k = 0; k < 3; ++k)
          photo(x, y, k) = (a * view.image(x, y, k) + (255 - a) * 255) / 255;
      }
    }
    WriteImage(folder / "images" / image.name, photo);
    scene.images[image.id] = image;
  }
  // transforms.json frames name their photos relative to the json: "images/view_NN.png".
  datasets::Scene transforms = scene;
  for (auto& [image_id, image] : transforms.images) image.name = "images/" + image.name;
  datasets::WriteTransformsJson(folder / "transforms.json", transforms);
  datasets::WriteColmapModelBinary(folder / "sparse" / "0", scene);
}

// A snapshot renders the cameras of a transforms.json (or a COLMAP model) at their poses, each
// view named after its photo, and scores them against the photos as the trainer evaluates views.
TEST(NerfCli, SnapshotRendersGivenCamerasWithTheirPsnr) {
  TempDir dir;
  const datasets::TrainingData data = nerf::test::SphereData();
  Eigen::Vector3f aabb_min, aabb_max;
  nerf::SceneBox(data, &aabb_min, &aabb_max);
  nerf::NerfTrainer trainer(data, aabb_min, aabb_max, nerf::test::SmallField(),
                            nerf::test::SmallTraining());
  for (int step = 0; step < 200; ++step) trainer.Step();
  nerf::WriteNerfSnapshot(dir / "sphere.bin", nerf::SnapshotOf(trainer, data.background, false));
  WriteSphereCameras(data, dir / "cameras");
  const double expected_psnr = trainer.EvaluatePsnr(data.train);

  for (const fs::path& cameras : {dir / "cameras" / "transforms.json", dir / "cameras"}) {
    fs::remove_all(dir / "renders");
    const CommandResult result = Nerf(fmt::format(
        "'{}' --cameras '{}' --renders '{}' --summary '{}'", (dir / "sphere.bin").string(),
        cameras.string(), (dir / "renders").string(), (dir / "r.json").string()));
    ASSERT_EQ(result.exit_code, 0) << result.output;
    const nlohmann::json summary = ReadJson(dir / "r.json");
    ASSERT_EQ(summary["views"].size(), data.train.size()) << cameras;
    for (std::size_t i = 0; i < data.train.size(); ++i) {
      const fs::path render = dir / "renders" / fmt::format("view_{:02d}.png", i + 1);
      ASSERT_TRUE(fs::exists(render)) << render;
      EXPECT_EQ(ReadImage<std::uint8_t>(render).width(), nerf::test::kSize);
      EXPECT_GT(summary["views"][i]["psnr"].get<double>(), 15.0) << render;
    }
    // The trainer renders with its own (finer) steps; the views agree to a fraction of a dB.
    EXPECT_GT(expected_psnr, 20.0);
    EXPECT_NEAR(summary["mean_psnr"].get<double>(), expected_psnr, 0.5) << cameras;
  }

  // Smaller renders; without the photos, renders only.
  fs::remove_all(dir / "cameras" / "images");
  fs::remove_all(dir / "renders");
  const CommandResult small =
      Nerf(fmt::format("'{}' --cameras '{}' --renders '{}' --render-size 20 --summary '{}'",
                       (dir / "sphere.bin").string(), (dir / "cameras" / "sparse" / "0").string(),
                       (dir / "renders").string(), (dir / "r.json").string()));
  ASSERT_EQ(small.exit_code, 0) << small.output;
  const nlohmann::json summary = ReadJson(dir / "r.json");
  EXPECT_FALSE(summary.contains("mean_psnr"));
  const ImageU8 frame = ReadImage<std::uint8_t>(dir / "renders" / "view_01.png");
  EXPECT_EQ(frame.width(), 20);
  EXPECT_LT(frame(10, 10, 0) + frame(10, 10, 1) + frame(10, 10, 2), 3 * 250);  // the sphere
  EXPECT_EQ(frame(0, 0, 0), 255);                                              // the background
  // A missing camera file fails.
  EXPECT_NE(Nerf(fmt::format("'{}' --cameras '{}' --renders '{}'", (dir / "sphere.bin").string(),
                             (dir / "none.json").string(), (dir / "renders").string()))
                .exit_code,
            0);
}

// --max-seconds stops the run once its training steps have taken that long, before --steps, and
// the summary says where it stopped.
TEST(NerfCli, MaxSecondsStopsTrainingEarly) {
  TempDir dir;
  const fs::path scene = WriteScene(dir);
  const CommandResult result =
      Nerf(fmt::format("'{}' -o '{}' --rays 256 --steps 100000 --max-seconds 0.001 --summary '{}'",
                       scene.string(), (dir / "a.bin").string(), (dir / "a.json").string()));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const nlohmann::json summary = ReadJson(dir / "a.json");
  EXPECT_GE(summary["steps"].get<int>(), 1);
  EXPECT_LT(summary["steps"].get<int>(), 100000);
  EXPECT_GE(summary["training_seconds"].get<double>(), 0.001);
  EXPECT_EQ(summary["max_seconds"].get<double>(), 0.001);
  // The learning-rate schedule was re-planned for the time budget, not the 100000 steps.
  EXPECT_GE(summary["planned_steps"].get<int>(), summary["steps"].get<int>());
  EXPECT_LT(summary["planned_steps"].get<int>(), 100000);
  EXPECT_TRUE(std::isfinite(summary["held_out_psnr"].get<double>()));
  EXPECT_EQ(nerf::ReadNerfSnapshot(dir / "a.bin").step, summary["steps"].get<int>());
}

TEST(NerfCli, BadInputFailsWithOneLine) {
  TempDir dir;
  const fs::path scene = WriteScene(dir);
  for (const std::string& args :
       {fmt::format("'{}' -o '{}'", (dir / "missing").string(), (dir / "x.bin").string()),
        fmt::format("'{}' -o '{}' --steps 0", scene.string(), (dir / "x.bin").string()),
        fmt::format("'{}' -o '{}' --max-seconds -1", scene.string(), (dir / "x.bin").string())}) {
    const CommandResult result = Nerf(args);
    EXPECT_NE(result.exit_code, 0) << args;
    EXPECT_NE(result.output.find("error"), std::string::npos) << result.output;
    EXPECT_FALSE(fs::exists(dir / "x.bin"));
  }
}

}  // namespace
}  // namespace facet
