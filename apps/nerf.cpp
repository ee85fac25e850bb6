// `facet nerf`: trains a hash-grid NeRF (nerf/trainer.h) from a transforms.json, a COLMAP model or
// a facet workspace and writes a versioned snapshot (nerf/snapshot.h); holds out every 8th view
// and reports PSNR against training time; checkpoints and --resume.
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <string>

#include "apps/command.h"
#include "apps/usage_error.h"
#include "core/error.h"
#include "core/file_io.h"
#include "core/image_io.h"
#include "core/memory.h"
#include "core/progress.h"
#include "core/timer.h"
#include "datasets/training_data.h"
#include "nerf/snapshot.h"
#include "nerf/trainer.h"

namespace facet::apps {
namespace {

namespace fs = std::filesystem;

struct NerfArgs {
  fs::path input;
  fs::path output;
  fs::path images;
  fs::path summary;
  fs::path renders;
  int steps = 3000;
  int rays = 4096;
  int max_size = 800;
  int eval_every = 0;
  int checkpoint_every = 500;
  bool resume = false;
  bool keep_checkpoint = false;
  std::uint32_t seed = 0;
};

fs::path CheckpointPath(const fs::path& output) { return fs::path(output.string() + ".ckpt"); }

ImageU8 ToU8(const ImageF32& image) {
  ImageU8 out(image.width(), image.height(), image.channels());
  for (std::size_t i = 0; i < image.size(); ++i) {
    out.data()[i] = std::uint8_t(std::lround(255.0f * std::clamp(image.data()[i], 0.0f, 1.0f)));
  }
  return out;
}

// Held-out renders beside their photos (composited over the background), one PNG per view.
void WriteRenders(const nerf::NerfTrainer& trainer, const datasets::TrainingData& data,
                  const fs::path& folder) {
  fs::create_directories(folder);
  for (const datasets::TrainingView& view : data.test) {
    const ImageF32 render = trainer.Render(view.camera, view.cam_from_world, data.background);
    ImageU8 pair(2 * render.width(), render.height(), 3);
    const ImageU8 rendered = ToU8(render);
    for (int y = 0; y < render.height(); ++y) {
      for (int x = 0; x < render.width(); ++x) {
        const std::uint8_t* p = &view.image(x, y, 0);
        const float a = view.image.channels() == 4 ? p[3] / 255.0f : 1.0f;
        for (int k = 0; k < 3; ++k) {
          pair(x, y, k) = std::uint8_t(std::lround(a * p[k] + (1 - a) * 255 * data.background[k]));
          pair(x + render.width(), y, k) = rendered(x, y, k);
        }
      }
    }
    std::string name = view.name;
    std::replace(name.begin(), name.end(), '/', '_');
    WriteImage(folder / (fs::path(name).stem().string() + ".png"), pair);
  }
}

void RunNerf(const NerfArgs& args, const GlobalOptions& global) {
  if (args.steps < 1 || args.rays < 1 || args.max_size < 0 || args.eval_every < 0 ||
      args.checkpoint_every < 0) {
    throw UsageError(
        "--steps and --rays must be >= 1; --max-size, --eval-every and "
        "--checkpoint-every >= 0");
  }
  if (global.device == "cuda") spdlog::warn("nerf: trains on the CPU (no CUDA trainer yet)");
  datasets::TrainingDataOptions data_options;
  data_options.keep_alpha = true;
  data_options.max_size = args.max_size;
  if (!args.images.empty()) data_options.image_dir = args.images;
  const datasets::TrainingData data = datasets::LoadTrainingData(args.input, data_options);
  Eigen::Vector3f aabb_min, aabb_max;
  nerf::SceneBox(data, &aabb_min, &aabb_max);

  nerf::NerfTrainOptions options;
  options.rays_per_batch = args.rays;
  options.planned_steps = args.steps;
  options.seed = args.seed;
  nerf::NerfTrainer trainer(data, aabb_min, aabb_max, {}, options);
  const fs::path checkpoint = CheckpointPath(args.output);
  if (args.resume && fs::exists(checkpoint)) {
    nerf::RestoreTrainer(nerf::ReadNerfSnapshot(checkpoint), &trainer);
    spdlog::info("nerf: resumed from {} at step {}", checkpoint.string(), trainer.step());
  }
  if (args.output.has_parent_path()) fs::create_directories(args.output.parent_path());
  spdlog::info(
      "nerf: {} training and {} held-out views, box [{:.2f} {:.2f} {:.2f}] - [{:.2f} "
      "{:.2f} {:.2f}]{}",
      data.train.size(), data.test.size(), aabb_min.x(), aabb_min.y(), aabb_min.z(), aabb_max.x(),
      aabb_max.y(), aabb_max.z(), data.has_alpha ? ", RGBA: random backgrounds" : "");

  const Timer timer;
  double training_s = 0.0;
  nlohmann::json curve = nlohmann::json::array();
  ProgressBar bar(args.steps - std::min<std::int64_t>(trainer.step(), args.steps),
                  {.label = "nerf", .unit = "steps"});
  std::size_t rays_done = 0;
  while (trainer.step() < args.steps) {
    const Timer step_timer;
    const nerf::NerfStepStats stats = trainer.Step();
    training_s += step_timer.ElapsedSeconds();
    rays_done += stats.rays;
    bar.SetStatus(fmt::format("loss {:.4f}, PSNR {:.1f} dB, {:.0f}k rays/s, {:.0f} samples/ray",
                              stats.loss, stats.psnr, rays_done / training_s / 1e3,
                              double(stats.samples) / double(stats.rays)));
    bar.Add();
    if (args.eval_every > 0 && !data.test.empty() && stats.step % args.eval_every == 0) {
      const double psnr = trainer.EvaluatePsnr(data.test);
      curve.push_back({{"step", stats.step}, {"seconds", training_s}, {"psnr", psnr}});
      spdlog::info("nerf: step {}, {:.0f} s of training: held-out PSNR {:.2f} dB", stats.step,
                   training_s, psnr);
    }
    if (args.checkpoint_every > 0 && stats.step % args.checkpoint_every == 0 &&
        stats.step < args.steps) {
      nerf::WriteNerfSnapshot(checkpoint, nerf::SnapshotOf(trainer, data.background, true));
    }
  }
  bar.Finish();
  nerf::WriteNerfSnapshot(args.output, nerf::SnapshotOf(trainer, data.background, false));
  if (args.keep_checkpoint) {
    nerf::WriteNerfSnapshot(checkpoint, nerf::SnapshotOf(trainer, data.background, true));
  } else {
    std::error_code ec;
    fs::remove(checkpoint, ec);
  }
  double psnr = 0.0;
  if (!data.test.empty()) {
    psnr = trainer.EvaluatePsnr(data.test);
    spdlog::info(
        "nerf: held-out PSNR {:.2f} dB over {} views after {} steps ({:.0f} s of "
        "training); wrote {}",
        psnr, data.test.size(), trainer.step(), training_s, args.output.string());
    if (!args.renders.empty()) WriteRenders(trainer, data, args.renders);
  }
  if (!args.summary.empty()) {
    const nlohmann::json summary = {{"input", args.input.string()},
                                    {"output", args.output.string()},
                                    {"steps", trainer.step()},
                                    {"training_seconds", training_s},
                                    {"seconds", timer.ElapsedSeconds()},
                                    {"held_out_views", data.test.size()},
                                    {"held_out_psnr", psnr},
                                    {"psnr_curve", curve},
                                    {"peak_memory_bytes", PeakResidentBytes()}};
    WriteFileAtomically(args.summary, summary.dump(2) + "\n");
  }
}

}  // namespace

Subcommand RegisterNerf(CLI::App& app) {
  auto args = std::make_shared<NerfArgs>();
  CLI::App* sub = app.add_subcommand("nerf", "Train a hash-grid NeRF (instant-ngp style)");
  sub->footer(
      "INPUT: a transforms.json (or a folder holding one; RGBA photos train over random "
      "backgrounds), a COLMAP model or a facet workspace. Every 8th view is held out and its PSNR "
      "reported. Writes a versioned snapshot; OUTPUT.ckpt holds the last checkpoint until "
      "training ends (--resume continues from it).\n"
      "Examples:\n"
      "  facet nerf nerf-synthetic-lego/transforms_train_200.json -o lego.bin --steps 3000\n"
      "  facet nerf out/ -o out/nerf.bin --eval-every 500 --summary nerf.json");
  sub->add_option("input", args->input, "transforms.json, COLMAP model or workspace")->required();
  sub->add_option("-o,--output", args->output, "Snapshot to write (nerf.bin)")->required();
  sub->add_option("--steps", args->steps, "Training steps")->capture_default_str();
  sub->add_option("--rays", args->rays, "Rays per step")->capture_default_str();
  sub->add_option("--max-size", args->max_size, "Longest side of the photos (px, 0 = as is)")
      ->capture_default_str();
  sub->add_option("--images", args->images, "Photo folder (COLMAP models and workspaces)");
  sub->add_option("--eval-every", args->eval_every,
                  "Evaluate the held-out views every N steps (PSNR against time; 0 = at the end)")
      ->capture_default_str();
  sub->add_option("--checkpoint-every", args->checkpoint_every, "Checkpoint every N steps")
      ->capture_default_str();
  sub->add_flag("--resume", args->resume, "Continue from OUTPUT.ckpt when it exists");
  sub->add_flag("--keep-checkpoint", args->keep_checkpoint,
                "Keep OUTPUT.ckpt of the finished run (continue it later with more --steps and "
                "--resume)");
  sub->add_option("--renders", args->renders, "Write held-out renders beside their photos here");
  sub->add_option("--seed", args->seed, "Random seed")->capture_default_str();
  sub->add_option("--summary", args->summary, "Write a JSON summary here");
  return {sub, [args](const GlobalOptions& global) { RunNerf(*args, global); }};
}

}  // namespace facet::apps
