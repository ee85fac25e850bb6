// `facet reconstruct photos/ -o OUT`: the whole pipeline in one command. Structure from motion,
// undistortion, Gaussian splatting, a watertight mesh of the splats and (with --nerf) a NeRF,
// each stage run as the stage command a user could rerun by hand, recorded in OUT/stages.json
// for --resume (pipeline/runner.h), logged in OUT/log.txt, and summarised in OUT/report.html.
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "apps/command.h"
#include "apps/run_subcommand.h"
#include "apps/usage_error.h"
#include "core/error.h"
#include "core/file_io.h"
#include "core/interrupt.h"
#include "core/log.h"
#include "core/timer.h"
#include "datasets/colmap_model.h"
#include "datasets/image_folder.h"
#include "pipeline/runner.h"
#include "pipeline/stage_record.h"
#include "pipeline/workspace.h"
#include "pipeline/workspace_report.h"

namespace facet::apps {
namespace {

namespace fs = std::filesystem;
using pipeline::StageDefinition;
using pipeline::Workspace;

struct ReconstructArgs {
  fs::path photos;
  fs::path output;
  std::string preset = "default";
  bool resume = false;
  bool force = false;
  bool nerf = false;
  int max_size = -1;            // -1: the preset's
  std::int64_t iterations = 0;  // 0: the preset's
};

// What a preset sets. On the CPU the splat and NeRF stages train shorter and smaller than on a
// GPU, so that the default preset finishes a 40-photo scene in minutes on a laptop.
struct Preset {
  int sfm_max_image_size = 0;  // feature detection size
  int train_max_size = 0;      // undistorted photos' longer side (what splats and NeRF see)
  std::int64_t splat_iterations = 0;
  int mesh_resolution = 0;  // voxels along the scene's diagonal
  int mesh_render_size = 0;
  std::size_t mesh_faces = 0;
  int nerf_steps = 0;
};

Preset MakePreset(const std::string& name, Backend backend) {
  const bool gpu = backend == Backend::kCuda;
  if (name == "fast") {
    return {.sfm_max_image_size = 1600,
            .train_max_size = gpu ? 1200 : 480,
            .splat_iterations = gpu ? 7000 : 1000,
            .mesh_resolution = 256,
            .mesh_render_size = 480,
            .mesh_faces = 200000,
            .nerf_steps = gpu ? 5000 : 300};
  }
  if (name == "default") {
    return {.sfm_max_image_size = 2400,
            .train_max_size = gpu ? 1600 : 640,
            .splat_iterations = gpu ? 30000 : 2000,
            .mesh_resolution = 384,
            .mesh_render_size = 640,
            .mesh_faces = 500000,
            .nerf_steps = gpu ? 20000 : 1000};
  }
  if (name == "quality") {
    return {.sfm_max_image_size = 3200,
            .train_max_size = 1600,
            .splat_iterations = gpu ? 30000 : 10000,
            .mesh_resolution = 512,
            .mesh_render_size = 800,
            .mesh_faces = 0,
            .nerf_steps = gpu ? 35000 : 3000};
  }
  throw UsageError(fmt::format("--preset must be fast, default or quality (got '{}')", name));
}

// Problems found before any work: the photos, the output folder, the room on its disk.
void CheckBeforeStarting(const ReconstructArgs& args, const Workspace& workspace) {
  FACET_CHECK(fs::is_directory(args.photos), "reconstruct: '{}' is not a folder of photos",
              args.photos.string());
  datasets::ImageFolderOptions scan;
  scan.skip_unreadable = true;
  const datasets::ImageFolder folder = datasets::ScanImageFolder(args.photos, scan);
  FACET_CHECK(folder.entries.size() >= 2,
              "reconstruct: '{}' holds {} readable photo{}{}; reconstruction needs at least two "
              "overlapping photos (JPEG or PNG)",
              args.photos.string(), folder.entries.size(), folder.entries.size() == 1 ? "" : "s",
              folder.skipped.empty() ? "" : fmt::format(" ({} unreadable)", folder.skipped.size()));
  if (fs::exists(workspace.Stages()) && !args.resume && !args.force) {
    throw UsageError(fmt::format(
        "'{}' holds an earlier run: pass --resume to continue it (finished stages are reused), "
        "--force to start it over, or choose another -o",
        workspace.root.string()));
  }
  std::error_code error;
  fs::create_directories(workspace.root, error);
  FACET_CHECK(!error, "reconstruct: cannot create the output folder '{}': {}",
              workspace.root.string(), error.message());
  const fs::path probe = workspace.root / ".facet-write-test";
  {
    std::ofstream out(probe);
    out << "facet";
    FACET_CHECK(out.good(),
                "reconstruct: cannot write into '{}' (read-only or full?); choose a "
                "writable -o folder",
                workspace.root.string());
  }
  fs::remove(probe, error);
  std::uintmax_t photo_bytes = 0;
  for (const auto& entry : folder.entries) photo_bytes += fs::file_size(entry.path, error);
  // The undistorted copies, the feature cache, the splats and the mesh: a few times the photos.
  const std::uintmax_t needed = 3 * photo_bytes + (std::uintmax_t{256} << 20);
  const fs::space_info space = fs::space(workspace.root, error);
  FACET_CHECK(error || space.available >= needed,
              "reconstruct: '{}' has {:.0f} MiB free; this run needs about {:.0f} MiB (free some "
              "space or choose another -o)",
              workspace.root.string(), space.available / 1048576.0, needed / 1048576.0);
  spdlog::info("reconstruct: {} photos in '{}'{}", folder.entries.size(), args.photos.string(),
               folder.skipped.empty()
                   ? ""
                   : fmt::format(", {} unreadable ones skipped", folder.skipped.size()));
}

// The largest model `facet sfm` wrote (sfm_summary.json lists them).
fs::path LargestModel(const Workspace& workspace) {
  const std::vector<std::uint8_t> bytes = ReadFile(workspace.SfmSummary());
  const nlohmann::json summary = nlohmann::json::parse(bytes.begin(), bytes.end());
  std::size_t best = 0, best_images = 0;
  const nlohmann::json& models = summary.at("models");
  FACET_CHECK(!models.empty(), "reconstruct: structure from motion built no model");
  for (std::size_t k = 0; k < models.size(); ++k) {
    const auto images = models[k].at("registered_images").get<std::size_t>();
    if (images > best_images) best = k, best_images = images;
  }
  return workspace.Distorted() / models[best].at("path").get<std::string>();
}

// The mesh from three of the photos' cameras, rendered by `facet view --offscreen` into
// OUT/thumbnails/ for the report. Without a Vulkan device (or a mesh) there are none, and the
// report draws its own with the CPU.
void RenderMeshThumbnails(const Workspace& workspace, const GlobalOptions& global) {
  std::error_code ignored;
  fs::remove_all(workspace.Thumbnails(), ignored);
  if (!fs::exists(workspace.Mesh()) || !fs::exists(workspace.Model())) return;
  try {
    std::size_t registered = 0;
    for (const auto& [id, image] : datasets::ReadColmapModel(workspace.Model()).images) {
      registered += image.IsRegistered() ? 1 : 0;
    }
    if (registered == 0) return;
    fs::create_directories(workspace.Thumbnails());
    for (std::size_t k = 0; k < 3; ++k) {
      RunSubcommand({"view", workspace.Mesh().string(), "--model", workspace.root.string(),
                     "--offscreen", "--camera", fmt::format("index:{}", k * registered / 3),
                     "--size", "400x300", "--background", "0.925,0.933,0.949", "--screenshot",
                     (workspace.Thumbnails() / fmt::format("mesh_{}.png", k)).string()},
                    global);
    }
  } catch (const std::exception& e) {
    spdlog::info("reconstruct: mesh pictures by the CPU instead of the viewer ({})", e.what());
    fs::remove_all(workspace.Thumbnails(), ignored);
  }
}

// `facet undistort` into a temporary folder, then moved into place (OUT/images, OUT/sparse/0),
// so that the workspace never holds half of a set of undistorted photos.
void Undistort(const Workspace& workspace, const fs::path& photos, int max_size,
               const GlobalOptions& global) {
  const fs::path temporary = workspace.root / "undistort.tmp";
  fs::remove_all(temporary);
  RunSubcommand({"undistort", LargestModel(workspace).string(), photos.string(), "-o",
                 temporary.string(), "--max-image-size", std::to_string(max_size)},
                global);
  fs::remove_all(workspace.Images());
  fs::remove_all(workspace.Model());
  fs::create_directories(workspace.Model().parent_path());
  fs::rename(temporary / "images", workspace.Images());
  fs::rename(temporary / "sparse", workspace.Model());
  fs::remove_all(temporary);
}

std::vector<std::string> WithResume(std::vector<std::string> arguments, bool resume) {
  if (resume) arguments.push_back("--resume");
  return arguments;
}

void RunStages(const ReconstructArgs& args, const GlobalOptions& global, const Preset& preset,
               const Workspace& workspace, pipeline::PipelineRunner& runner);

void RunReconstruct(const ReconstructArgs& args, const GlobalOptions& global) {
  const Workspace workspace(args.output);
  CheckBeforeStarting(args, workspace);
  AddLogFile(workspace.Log());
  const Timer timer;
  spdlog::debug("reconstruct: photos '{}', output '{}', preset {}, device {}", args.photos.string(),
                args.output.string(), args.preset, ToString(global.backend));
  Preset preset = MakePreset(args.preset, global.backend);
  if (args.max_size >= 0) preset.train_max_size = args.max_size;
  if (args.iterations > 0) preset.splat_iterations = args.iterations;
  pipeline::PipelineRunner runner(workspace, args.resume);
  pipeline::WorkspaceReportInfo report{.photos = args.photos.string(),
                                       .preset = args.preset,
                                       .device = std::string(ToString(global.backend)),
                                       .stage_names = {"sfm", "undistort", "splat", "mesh"}};
  if (args.nerf) report.stage_names.push_back("nerf");
  // The report is written however the run ends: a failed or interrupted run shows its stages.
  auto write_report = [&] {
    RenderMeshThumbnails(workspace, global);
    report.history = runner.history();
    if (pipeline::WriteWorkspaceReport(workspace, report)) {
      spdlog::info("reconstruct: report in {}", workspace.Report().string());
    }
  };
  try {
    RunStages(args, global, preset, workspace, runner);
  } catch (...) {
    write_report();
    throw;
  }
  write_report();
  for (const pipeline::StageRecord& stage : runner.history()) {
    spdlog::info("reconstruct: {:<10} {:<8} {:>8.1f} s {:>8.0f} MiB peak", stage.name,
                 pipeline::ToString(stage.status), stage.seconds,
                 stage.peak_memory_bytes / 1048576.0);
  }
  spdlog::info(
      "reconstruct: done in {:.1f} s: {} (splats), {} (mesh); open {} (or render a view: facet "
      "view {} --offscreen --screenshot view.png)",
      timer.ElapsedSeconds(), workspace.Splats().string(), workspace.Mesh().string(),
      workspace.Report().string(), workspace.root.string());
}

void RunStages(const ReconstructArgs& args, const GlobalOptions& global, const Preset& preset,
               const Workspace& workspace, pipeline::PipelineRunner& runner) {
  const std::string photos = fs::absolute(args.photos).lexically_normal().string();
  const std::string out = workspace.root.string();
  // Fingerprints hold what changes a stage's result (the photos' bytes, the options), never the
  // paths: a workspace that was moved or named differently resumes all the same.
  const std::string photos_hash = pipeline::HashFolder(args.photos);

  const std::vector<std::string> sfm = {"sfm",
                                        photos,
                                        "-o",
                                        workspace.Distorted().string(),
                                        "--max-image-size",
                                        std::to_string(preset.sfm_max_image_size)};
  const StageDefinition sfm_stage{
      .name = "sfm",
      .fingerprint =
          pipeline::Fingerprint({photos_hash, "sfm", std::to_string(preset.sfm_max_image_size)}),
      .outputs = {workspace.SfmSummary(), workspace.DistortedModel()},
      .command = CommandLine(sfm),
      .run = [&](bool resume) { RunSubcommand(WithResume(sfm, resume), global); }};
  runner.Run(sfm_stage);

  const std::string undistort_command =
      fmt::format("facet undistort {} {} -o {} --max-image-size {} (then images/ and sparse/0/)",
                  workspace.DistortedModel().string(), photos, out, preset.train_max_size);
  const StageDefinition undistort_stage{
      .name = "undistort",
      .fingerprint = pipeline::Fingerprint(
          {sfm_stage.fingerprint, "undistort", std::to_string(preset.train_max_size)}),
      .outputs = {workspace.Images(), workspace.Model() / "images.bin"},
      .command = undistort_command,
      .run = [&](bool) { Undistort(workspace, args.photos, preset.train_max_size, global); }};
  runner.Run(undistort_stage);

  const std::vector<std::string> splat = {"splat",   out,
                                          "-o",      workspace.Splats().string(),
                                          "--iters", std::to_string(preset.splat_iterations),
                                          "--eval"};
  const StageDefinition splat_stage{
      .name = "splat",
      .fingerprint = pipeline::Fingerprint(
          {undistort_stage.fingerprint, "splat", std::to_string(preset.splat_iterations)}),
      .outputs = {workspace.Splats(), workspace.SplatsSummary()},
      .command = CommandLine(splat),
      .run = [&](bool resume) {
        // A checkpoint of a run with other inputs or options must not be continued.
        if (!resume) fs::remove_all(workspace.Checkpoints() / "splats.ckpt");
        RunSubcommand(WithResume(splat, resume), global);
      }};
  runner.Run(splat_stage);

  const std::vector<std::string> mesh = {"mesh",
                                         workspace.Splats().string(),
                                         "--model",
                                         out,
                                         "-o",
                                         workspace.Mesh().string(),
                                         "--render-size",
                                         std::to_string(preset.mesh_render_size),
                                         "--resolution",
                                         std::to_string(preset.mesh_resolution),
                                         "--faces",
                                         std::to_string(preset.mesh_faces),
                                         "--summary",
                                         workspace.MeshSummary().string()};
  const StageDefinition mesh_stage{
      .name = "mesh",
      .fingerprint = pipeline::Fingerprint(
          {splat_stage.fingerprint, "mesh", std::to_string(preset.mesh_render_size),
           std::to_string(preset.mesh_resolution), std::to_string(preset.mesh_faces)}),
      .outputs = {workspace.Mesh(), workspace.MeshSummary()},
      .command = CommandLine(mesh),
      .run = [&](bool) { RunSubcommand(mesh, global); }};
  runner.Run(mesh_stage);

  if (args.nerf) {
    const std::vector<std::string> nerf = {"nerf",      out,
                                           "-o",        workspace.Nerf().string(),
                                           "--steps",   std::to_string(preset.nerf_steps),
                                           "--renders", workspace.NerfRenders().string(),
                                           "--summary", workspace.NerfSummary().string()};
    const StageDefinition nerf_stage{
        .name = "nerf",
        .fingerprint = pipeline::Fingerprint(
            {undistort_stage.fingerprint, "nerf", std::to_string(preset.nerf_steps)}),
        .outputs = {workspace.Nerf(), workspace.NerfSummary()},
        .command = CommandLine(nerf),
        .run = [&](bool resume) { RunSubcommand(WithResume(nerf, resume), global); }};
    runner.Run(nerf_stage);
  }
}

}  // namespace

Subcommand RegisterReconstruct(CLI::App& app) {
  auto args = std::make_shared<ReconstructArgs>();
  CLI::App* sub = app.add_subcommand(
      "reconstruct", "The whole pipeline: photos to camera poses, Gaussian splats and a mesh");
  sub->footer(
      "Stages: sfm (facet sfm) -> undistort -> splat (facet splat --eval) -> mesh (facet mesh of "
      "the splats: watertight, coloured) [-> nerf with --nerf]. OUT holds distorted/ (the SfM "
      "model and its cache), images/ + sparse/0/ (undistorted photos and their PINHOLE model: a "
      "COLMAP/Inria scene), splats.ply, renders/ (held-out views), mesh.glb, stages.json, log.txt "
      "and report.html. Each stage records a fingerprint of its inputs and options: --resume "
      "reuses finished stages and continues an interrupted one from its checkpoint. Ctrl-C "
      "stops training at a checkpoint (exit status 130); a failed stage leaves the earlier "
      "stages' outputs as they were.\n"
      "Presets (CPU / GPU): fast: photos at 480 / 1200 px, 1,000 / 7,000 splat iterations; "
      "default: 640 / 1600 px, 2,000 / 30,000; quality: 1600 px, 10,000 / 30,000.\n"
      "Example: facet reconstruct photos/ -o out/ && facet view out/");
  sub->add_option("photos", args->photos, "Folder of JPEG/PNG photos")->required();
  sub->add_option("-o,--output", args->output, "Output folder (the workspace)")->required();
  sub->add_option("--preset", args->preset, "fast, default or quality")
      ->check(CLI::IsMember({"fast", "default", "quality"}))
      ->capture_default_str();
  CLI::Option* resume =
      sub->add_flag("--resume", args->resume,
                    "Continue the run in OUT: reuse finished stages, continue interrupted ones");
  sub->add_flag("--force", args->force, "Start over in an OUT that holds an earlier run")
      ->excludes(resume);
  sub->add_flag("--nerf", args->nerf, "Also train a NeRF (OUT/nerf.bin)");
  sub->add_option("--max-size", args->max_size,
                  "Longer side of the photos the splats train on (px; default: the preset's)")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--iters", args->iterations, "Splat training iterations (default: the preset's)")
      ->check(CLI::PositiveNumber);
  return {sub, [args](const GlobalOptions& global) { RunReconstruct(*args, global); }};
}

}  // namespace facet::apps
