// `facet splat`: trains a 3D Gaussian Splatting scene (splatting/trainer.h) from a facet workspace,
// a COLMAP model or a transforms.json, and writes the standard 3DGS PLY (and .splat).
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <string>

#include "apps/command.h"
#include "apps/eval_splats.h"
#include "apps/usage_error.h"
#include "core/backend.h"
#include "core/error.h"
#include "core/file_io.h"
#include "core/image_io.h"
#include "core/interrupt.h"
#include "core/memory.h"
#include "core/progress.h"
#include "core/timer.h"
#include "datasets/gaussian_splats.h"
#include "splatting/trainer.h"

namespace facet::apps {
namespace {

namespace fs = std::filesystem;

struct SplatArgs {
  SplatArgs() { data.max_size = kDefaultMaxSize; }
  // Photos larger than this (longer side, px) are trained downscaled, as the reference trainer
  // rescales inputs wider than 1.6K.
  static constexpr int kDefaultMaxSize = 1600;

  fs::path input;
  fs::path output;
  fs::path images;
  fs::path splat_output;
  fs::path checkpoint;
  std::int64_t checkpoint_every = 1000;
  bool resume = false;
  bool keep_checkpoint = false;
  bool eval = false;
  std::int64_t max_gaussians = 0;
  std::int64_t random_count = 100000;
  splatting::TrainOptions train;
  datasets::TrainingDataOptions data;
};

void WriteModel(const fs::path& path, const splatting::Gaussians& model, int sh_degree) {
  const datasets::GaussianSplats splats = splatting::ToSplats(model, sh_degree);
  if (path.extension() == ".splat") {
    datasets::WriteSplat(path, splats);
  } else {
    datasets::WriteGaussianPly(path, splats);
  }
}

nlohmann::json EvaluateAndWrite(const splatting::Trainer& trainer,
                                const datasets::TrainingData& data, const fs::path& renders) {
  nlohmann::json eval = MetricsJson(trainer.Evaluate(data.test, renders));
  eval["renders"] = renders.string();
  return eval;
}

void RunSplatCommand(SplatArgs args, const GlobalOptions& global) {
  args.train.backend = global.backend;
  // --device auto trains on the GPU when there is one (the CUDA trainer passed its GPU tests on an
  // H200), but the CUDA trainer runs the default strategy only: MCMC stays on the CPU unless
  // --device cuda asks for it explicitly (then Check below refuses it).
  if (args.train.backend == Backend::kCuda && global.device == "auto" &&
      args.train.strategy != "default") {
    spdlog::info("splat: training on the CPU (the CUDA trainer runs the default strategy only)");
    args.train.backend = Backend::kCpu;
  }
  if (args.max_gaussians > 0) {
    args.train.mcmc.max_gaussians = args.max_gaussians;
    args.train.default_strategy.max_gaussians = args.max_gaussians;
  }
  args.train.Check();
  if (!args.images.empty()) args.data.image_dir = args.images;
  const fs::path out_dir = args.output.has_parent_path() ? args.output.parent_path() : ".";
  fs::create_directories(out_dir);
  const fs::path checkpoint =
      args.checkpoint.empty() ? out_dir / "checkpoints" / (args.output.stem().string() + ".ckpt")
                              : args.checkpoint;

  Timer timer;
  const datasets::TrainingData data = datasets::LoadTrainingData(args.input, args.data);
  spdlog::info("splat: {} training views, {} held out, {}x{}, {:.0f} MiB of images; {}",
               data.train.size(), data.test.size(), data.train.front().image.width(),
               data.train.front().image.height(), data.image_bytes / 1048576.0,
               data.has_points ? fmt::format("{} sparse points", data.scene.points3d.size())
                               : "no points: random initialisation");
  splatting::InitOptions init;
  init.max_sh_degree = args.train.max_sh_degree;
  init.random_count = args.random_count;
  init.seed = args.train.seed;
  splatting::Trainer trainer(data, splatting::InitialModel(data, init), args.train);
  // Never overwrite the state of an earlier, unfinished run without being asked to continue it.
  FACET_CHECK(args.resume || !fs::exists(checkpoint),
              "splat: {} holds the checkpoint of an earlier run; pass --resume to continue it, "
              "or delete it (or choose another --checkpoint) to start afresh",
              checkpoint.string());
  if (args.resume && fs::exists(checkpoint)) {
    trainer.LoadCheckpoint(checkpoint);
    spdlog::info("splat: resumed from {} at iteration {}", checkpoint.string(),
                 trainer.Iteration());
  }

  ProgressBar bar(args.train.iterations, {.label = "splat"});
  bar.Add(trainer.Iteration());
  splatting::StageTimes times;
  nlohmann::json curve = nlohmann::json::array();
  double loss_sum = 0.0, psnr_sum = 0.0;
  int window = 0;
  while (!trainer.Done()) {
    const splatting::IterationStats s = trainer.Step();
    if (s.densify.added > 0 || s.densify.removed > 0 || s.densify.opacity_reset) {
      spdlog::debug("splat: iteration {}: +{} -{} Gaussians{} -> {}", s.iteration, s.densify.added,
                    s.densify.removed, s.densify.opacity_reset ? ", opacities reset" : "",
                    s.num_gaussians);
    }
    times += s.times;
    loss_sum += s.loss;
    psnr_sum += s.psnr;
    ++window;
    if (window == 50 || trainer.Done()) {
      bar.SetStatus(fmt::format("loss {:.4f}, PSNR {:.2f} dB, {} Gaussians", loss_sum / window,
                                psnr_sum / window, s.num_gaussians));
      curve.push_back({{"iteration", s.iteration},
                       {"loss", loss_sum / window},
                       {"psnr", psnr_sum / window},
                       {"gaussians", s.num_gaussians}});
      loss_sum = psnr_sum = 0.0;
      window = 0;
    }
    bar.Add();
    const bool interrupted = InterruptRequested() && !trainer.Done();
    if ((args.checkpoint_every > 0 && s.iteration % args.checkpoint_every == 0 &&
         !trainer.Done()) ||
        interrupted) {
      if (checkpoint.has_parent_path()) fs::create_directories(checkpoint.parent_path());
      trainer.SaveCheckpoint(checkpoint);
    }
    if (interrupted) {
      bar.Finish();
      throw Interrupted(fmt::format(
          "splat: interrupted at iteration {} of {}; the checkpoint {} continues it (--resume)",
          s.iteration, args.train.iterations, checkpoint.string()));
    }
  }
  bar.Finish();
  const double train_seconds = timer.ElapsedSeconds();

  WriteModel(args.output, trainer.Model(), trainer.ActiveShDegree());
  if (!args.splat_output.empty()) WriteModel(args.splat_output, trainer.Model(), 0);
  spdlog::info("splat: wrote {} ({} Gaussians)", args.output.string(), trainer.Model().size());

  nlohmann::json summary = {{"input", args.input.string()},
                            {"output", args.output.string()},
                            {"iterations", trainer.Iteration()},
                            {"strategy", args.train.strategy},
                            {"gaussians", trainer.Model().size()},
                            {"train_views", data.train.size()},
                            {"test_views", data.test.size()},
                            {"seconds", train_seconds},
                            {"peak_memory_bytes", PeakResidentBytes()},
                            {"device", std::string(ToString(args.train.backend))},
                            {"stage_seconds",
                             {{"preprocess", times.preprocess},
                              {"sort", times.sort},
                              {"forward", times.forward},
                              {"loss", times.loss},
                              {"backward", times.backward},
                              {"optimizer", times.optimizer},
                              {"densify", times.densify}}},
                            {"curve", curve}};
  if (args.train.backend == Backend::kCuda) {
    summary["peak_gpu_memory_bytes"] = trainer.PeakDeviceBytes();
    spdlog::info("splat: peak GPU memory {:.0f} MiB", trainer.PeakDeviceBytes() / 1048576.0);
  }
  if (args.eval && !data.test.empty()) {
    summary["eval"] = EvaluateAndWrite(trainer, data, out_dir / "renders");
    spdlog::info("splat: held-out PSNR {:.2f} dB, SSIM {:.4f} over {} views (renders in {})",
                 summary["eval"]["mean_psnr"].get<double>(),
                 summary["eval"]["mean_ssim"].get<double>(), data.test.size(),
                 (out_dir / "renders").string());
  } else if (args.eval) {
    spdlog::warn("splat: --eval: no view is held out (--holdout 0)");
  }
  const fs::path summary_path = out_dir / (args.output.stem().string() + "_summary.json");
  WriteFileAtomically(summary_path, summary.dump(2) + "\n");
  if (args.keep_checkpoint) {
    if (checkpoint.has_parent_path()) fs::create_directories(checkpoint.parent_path());
    trainer.SaveCheckpoint(checkpoint);  // to continue later with more --iters and --resume
  } else if (fs::exists(checkpoint)) {
    fs::remove(checkpoint);   // the run is complete
    std::error_code ignored;  // and the folder, when nothing else is in it
    if (checkpoint.has_parent_path() && fs::is_empty(checkpoint.parent_path(), ignored)) {
      fs::remove(checkpoint.parent_path(), ignored);
    }
  }
  spdlog::info("splat: done in {:.1f} s, peak memory {:.0f} MiB; summary in {}", train_seconds,
               PeakResidentBytes() / 1048576.0, summary_path.string());
}

}  // namespace

Subcommand RegisterSplat(CLI::App& app) {
  auto args = std::make_shared<SplatArgs>();
  CLI::App* sub =
      app.add_subcommand("splat", "Train a 3D Gaussian Splatting scene from posed photos");
  sub->footer(
      "INPUT is a facet workspace (the -o folder of `facet sfm`), a COLMAP model folder (images "
      "found with --images, or ../../images, ../images, images beside it) or a transforms.json "
      "(Blender/NeRF-synthetic, instant-ngp, nerfstudio). Writes the standard 3DGS PLY "
      "(opens in other 3DGS viewers), OUTPUT_summary.json beside it, checkpoints in "
      "checkpoints/ (removed when the run completes; --resume continues an interrupted run), "
      "and with --eval the held-out views' PSNR/SSIM and side-by-side pictures in renders/.\n"
      "Example: facet splat out/ -o out/splats.ply --eval");
  sub->add_option("input", args->input, "Workspace, COLMAP model folder or transforms.json")
      ->required();
  sub->add_option("-o,--output", args->output, "Output .ply (or .splat)")->required();
  sub->add_option("--images", args->images, "Folder of the photos (overrides the workspace's)");
  sub->add_option("--iters", args->train.iterations, "Training iterations")->capture_default_str();
  sub->add_option("--strategy", args->train.strategy,
                  "Densification: default (Inria clone/split/prune) or mcmc (fixed budget)")
      ->capture_default_str();
  sub->add_option("--max-gaussians", args->max_gaussians,
                  "Gaussian budget (mcmc: the budget, default 1000000; default: a cap, 0 = none)");
  sub->add_option("--downscale", args->data.downscale, "Train on images downscaled by this factor")
      ->capture_default_str();
  sub->add_option("--max-size", args->data.max_size,
                  "Downscale further so the longer side is at most this (0 = no limit; the "
                  "default 1600 is the reference trainer's rescaling of large photos)")
      ->capture_default_str();
  sub->add_option("--holdout", args->data.holdout_every,
                  "Hold out every Nth view for evaluation (0 = train on all)")
      ->capture_default_str();
  sub->add_flag("--eval", args->eval, "Evaluate the held-out views at the end");
  sub->add_option("--sh-degree", args->train.max_sh_degree, "Spherical harmonics degree (0-3)")
      ->capture_default_str();
  sub->add_option("--random-init", args->random_count,
                  "Gaussians of the random initialisation when there is no point cloud")
      ->capture_default_str();
  sub->add_flag("--antialiased", args->train.antialiased,
                "Mip-Splatting opacity compensation (alias-free zoom-out)");
  sub->add_option("--export-splat", args->splat_output, "Also write a .splat file");
  sub->add_option("--checkpoint", args->checkpoint,
                  "Checkpoint file (default: checkpoints/<output name>.ckpt beside the output)");
  sub->add_option("--checkpoint-every", args->checkpoint_every,
                  "Iterations between checkpoints (0 = none)")
      ->capture_default_str();
  sub->add_flag("--resume", args->resume, "Continue from the checkpoint when there is one");
  sub->add_flag("--keep-checkpoint", args->keep_checkpoint,
                "Keep a checkpoint of the finished run (continue it later with more --iters and "
                "--resume)");
  sub->add_option("--seed", args->train.seed, "Random seed")->capture_default_str();
  return {sub, [args](const GlobalOptions& global) { RunSplatCommand(*args, global); }};
}

}  // namespace facet::apps
