// `facet nerf`: trains a hash-grid NeRF (nerf/trainer.h) from a transforms.json, a COLMAP model or
// a facet workspace and writes a versioned snapshot (nerf/snapshot.h); holds out every 8th view
// and reports PSNR against training time; checkpoints and --resume. A snapshot as input renders:
// a circle of views around its scene, or the cameras of a transforms.json / COLMAP model (with
// PSNR against their photos when those exist).
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <memory>
#include <numbers>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "apps/command.h"
#include "apps/usage_error.h"
#include "core/error.h"
#include "core/file_io.h"
#include "core/image_io.h"
#include "core/interrupt.h"
#include "core/memory.h"
#include "core/progress.h"
#include "core/timer.h"
#include "datasets/synthetic/synthetic_scene.h"
#include "datasets/training_data.h"
#include "nerf/render.h"
#include "nerf/snapshot.h"
#include "nerf/trainer.h"
#if defined(FACET_WITH_CUDA)
#include "nerf/cuda/field_cuda.h"
#include "nerf/cuda/occupancy_cuda.h"
#include "nerf/cuda/render_cuda.h"
#include "nerf/cuda/trainer_cuda.h"
#endif

namespace facet::apps {
namespace {

namespace fs = std::filesystem;

struct NerfArgs {
  fs::path input;
  fs::path output;
  fs::path images;
  fs::path summary;
  fs::path renders;
  fs::path cameras;
  std::string loss = "l2";
  std::string cuda_mlp = "auto";
  float huber_delta = nerf::NerfTrainOptions{}.huber_delta;
  int steps = 3000;
  int rays = 4096;
  int max_size = 800;
  int eval_every = 0;
  int checkpoint_every = 500;
  double max_seconds = 0.0;  // 0: no limit
  bool resume = false;
  bool keep_checkpoint = false;
  int path_frames = 0;
  int render_size = 0;  // 0: 400 px path frames, --cameras at their own size
  std::uint32_t seed = 0;
};

fs::path CheckpointPath(const fs::path& output) { return fs::path(output.string() + ".ckpt"); }

// A view's colour render (sRGB, 3 channels) over the run's background.
using RenderFunction =
    std::function<ImageF32(const geometry::Camera& camera, const geometry::Rigid3& cam_from_world)>;

// The trainer behind the command: NerfTrainer on the CPU, or NerfTrainerCuda with a host trainer
// that snapshots and checkpoints go through.
class Training {
 public:
  virtual ~Training() = default;
  virtual nerf::NerfStepStats Step() = 0;
  virtual std::int64_t step() const = 0;
  virtual ImageF32 Render(const geometry::Camera& camera, const geometry::Rigid3& cam_from_world,
                          const Eigen::Vector3f& background) const = 0;
  virtual double EvaluatePsnr(const std::vector<datasets::TrainingView>& views) const = 0;
  // The host trainer holding the current state (for SnapshotOf).
  virtual const nerf::NerfTrainer& Synced() = 0;
  virtual void Restore(const nerf::NerfSnapshot& snapshot) = 0;
  // Device memory the trainer's buffers hold (0 on the CPU).
  virtual std::int64_t DeviceBytes() const { return 0; }
  virtual void SetPlannedSteps(int planned_steps) = 0;
};

class CpuTraining final : public Training {
 public:
  CpuTraining(const datasets::TrainingData& data, const Eigen::Vector3f& lo,
              const Eigen::Vector3f& hi, const nerf::NerfTrainOptions& options)
      : trainer_(data, lo, hi, {}, options) {}
  nerf::NerfStepStats Step() override { return trainer_.Step(); }
  std::int64_t step() const override { return trainer_.step(); }
  void SetPlannedSteps(int planned_steps) override { trainer_.SetPlannedSteps(planned_steps); }
  ImageF32 Render(const geometry::Camera& camera, const geometry::Rigid3& cam_from_world,
                  const Eigen::Vector3f& background) const override {
    return trainer_.Render(camera, cam_from_world, background);
  }
  double EvaluatePsnr(const std::vector<datasets::TrainingView>& views) const override {
    return trainer_.EvaluatePsnr(views);
  }
  const nerf::NerfTrainer& Synced() override { return trainer_; }
  void Restore(const nerf::NerfSnapshot& snapshot) override {
    nerf::RestoreTrainer(snapshot, &trainer_);
  }

 private:
  nerf::NerfTrainer trainer_;
};

#if defined(FACET_WITH_CUDA)
class CudaTraining final : public Training {
 public:
  CudaTraining(const datasets::TrainingData& data, const Eigen::Vector3f& lo,
               const Eigen::Vector3f& hi, const nerf::NerfTrainOptions& options,
               nerf::MlpCudaKernel mlp_kernel)
      : host_(data, lo, hi, {}, options), device_(data, lo, hi, {}, options, mlp_kernel) {}
  nerf::NerfStepStats Step() override { return device_.Step(); }
  std::int64_t step() const override { return device_.step(); }
  void SetPlannedSteps(int planned_steps) override {
    host_.SetPlannedSteps(planned_steps);
    device_.SetPlannedSteps(planned_steps);
  }
  ImageF32 Render(const geometry::Camera& camera, const geometry::Rigid3& cam_from_world,
                  const Eigen::Vector3f& background) const override {
    return device_.Render(camera, cam_from_world, background);
  }
  double EvaluatePsnr(const std::vector<datasets::TrainingView>& views) const override {
    return device_.EvaluatePsnr(views);
  }
  const nerf::NerfTrainer& Synced() override {
    device_.Download(&host_);
    return host_;
  }
  void Restore(const nerf::NerfSnapshot& snapshot) override {
    nerf::RestoreTrainer(snapshot, &host_);
    device_.Upload(host_);
  }
  std::int64_t DeviceBytes() const override { return device_.DeviceBytes(); }

 private:
  nerf::NerfTrainer host_;
  nerf::NerfTrainerCuda device_;
};
#endif

std::unique_ptr<Training> MakeTraining(Backend backend, const datasets::TrainingData& data,
                                       const Eigen::Vector3f& lo, const Eigen::Vector3f& hi,
                                       const nerf::NerfTrainOptions& options,
                                       nerf::MlpCudaKernel mlp_kernel) {
#if defined(FACET_WITH_CUDA)
  if (backend == Backend::kCuda) {
    return std::make_unique<CudaTraining>(data, lo, hi, options, mlp_kernel);
  }
#endif
  (void)backend;
  (void)mlp_kernel;
  return std::make_unique<CpuTraining>(data, lo, hi, options);
}

ImageU8 ToU8(const ImageF32& image) {
  ImageU8 out(image.width(), image.height(), image.channels());
  for (std::size_t i = 0; i < image.size(); ++i) {
    out.data()[i] = std::uint8_t(std::lround(255.0f * std::clamp(image.data()[i], 0.0f, 1.0f)));
  }
  return out;
}

// Held-out renders beside their photos (composited over the background), one PNG per view.
void WriteRenders(const Training& trainer, const datasets::TrainingData& data,
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

// `frames` cameras on a circle around the box at 30 degrees of elevation (world z up, as the
// Blender sets), looking at its centre with a 60 degree field of view from 2.2 half-diagonals.
std::vector<std::pair<geometry::Camera, geometry::Rigid3>> CirclePath(const Eigen::Vector3f& lo,
                                                                      const Eigen::Vector3f& hi,
                                                                      int frames, int size) {
  const Eigen::Vector3d center = (0.5f * (lo + hi)).cast<double>();
  const double radius = 2.2 * 0.5 * double((hi - lo).norm());
  const double focal = 0.5 * size / std::tan(std::numbers::pi / 6.0);
  const geometry::Camera camera =
      geometry::Camera::Create(geometry::CameraModelId::kPinhole, focal, size, size);
  std::vector<std::pair<geometry::Camera, geometry::Rigid3>> path;
  const double elevation = std::numbers::pi / 6.0;
  for (int i = 0; i < frames; ++i) {
    const double azimuth = 2.0 * std::numbers::pi * i / frames;
    const Eigen::Vector3d eye =
        center + radius * Eigen::Vector3d(std::cos(azimuth) * std::cos(elevation),
                                          std::sin(azimuth) * std::cos(elevation),
                                          std::sin(elevation));
    path.emplace_back(camera, datasets::synthetic::LookAt(eye, center));
  }
  return path;
}

// Renders the circle path around the box [lo, hi] to FOLDER/frame_NNN.png.
void WritePath(const RenderFunction& render, const Eigen::Vector3f& lo, const Eigen::Vector3f& hi,
               const NerfArgs& args, const fs::path& folder) {
  fs::create_directories(folder);
  ProgressBar bar(args.path_frames, {.label = "render", .unit = "frames"});
  int index = 0;
  const int size = args.render_size > 0 ? args.render_size : 400;
  for (const auto& [camera, cam_from_world] : CirclePath(lo, hi, args.path_frames, size)) {
    WriteImage(folder / fmt::format("frame_{:03d}.png", index++),
               ToU8(render(camera, cam_from_world)));
    bar.Add();
  }
  bar.Finish();
  spdlog::info("nerf: wrote {} frames of a circle around the scene to {}", args.path_frames,
               folder.string());
}

// The file names of the renders at given cameras: each view's file stem ("train/r_0.png" gives
// r_0.png), or its whole name with '/' as '_' when two views share a stem.
std::vector<std::string> RenderNames(const std::vector<datasets::TrainingView>& views) {
  std::vector<std::string> names;
  std::set<std::string> seen;
  bool unique = true;
  for (const datasets::TrainingView& view : views) {
    names.push_back(fs::path(view.name).stem().string() + ".png");
    unique = unique && seen.insert(names.back()).second;
  }
  if (!unique) {
    for (std::size_t i = 0; i < views.size(); ++i) {
      std::string name = fs::path(views[i].name).replace_extension().string();
      std::replace(name.begin(), name.end(), '/', '_');
      names[i] = name + ".png";
    }
  }
  return names;
}

// Renders the cameras of --cameras (transforms.json, COLMAP model or workspace) to RENDERS, one
// PNG per view over `background`; where their photos exist, reports the PSNR per view and the
// mean (photos composited over the same background, as the trainer evaluates).
void WriteCameraRenders(const RenderFunction& render, const Eigen::Vector3f& background,
                        const NerfArgs& args) {
  datasets::TrainingDataOptions options;
  options.keep_alpha = true;
  options.holdout_every = 0;
  options.max_size = args.render_size;
  options.background = background;
  if (!args.images.empty()) options.image_dir = args.images;
  datasets::TrainingData data;
  bool with_photos = true;
  try {
    data = datasets::LoadTrainingData(args.cameras, options);
  } catch (const Error& e) {
    // The cameras alone still render (a malformed camera file fails again, here).
    spdlog::warn("nerf: rendering without PSNR, the photos cannot be read: {}", e.what());
    options.load_images = false;
    data = datasets::LoadTrainingData(args.cameras, options);
    with_photos = false;
  }
  fs::create_directories(args.renders);
  const std::vector<std::string> names = RenderNames(data.train);
  nlohmann::json views = nlohmann::json::array();
  double total_psnr = 0.0;
  ProgressBar bar(std::int64_t(data.train.size()), {.label = "render", .unit = "views"});
  for (std::size_t i = 0; i < data.train.size(); ++i) {
    const datasets::TrainingView& view = data.train[i];
    const ImageF32 colour = render(view.camera, view.cam_from_world);
    WriteImage(args.renders / names[i], ToU8(colour));
    nlohmann::json entry = {{"name", view.name}, {"render", names[i]}};
    if (with_photos) {
      const double psnr = nerf::RenderPsnr(colour, view.image, background);
      total_psnr += psnr;
      entry["psnr"] = psnr;
      spdlog::info("nerf: {}: PSNR {:.2f} dB", view.name, psnr);
    }
    views.push_back(std::move(entry));
    bar.Add();
  }
  bar.Finish();
  nlohmann::json summary = {{"snapshot", args.input.string()},
                            {"cameras", args.cameras.string()},
                            {"views", std::move(views)}};
  if (with_photos) {
    const double mean = total_psnr / double(data.train.size());
    summary["mean_psnr"] = mean;
    spdlog::info("nerf: rendered {} views to {}: mean PSNR {:.2f} dB", data.train.size(),
                 args.renders.string(), mean);
  } else {
    spdlog::info("nerf: rendered {} views to {}", data.train.size(), args.renders.string());
  }
  if (!args.summary.empty()) WriteFileAtomically(args.summary, summary.dump(2) + "\n");
}

// Rendering only: the input is a snapshot.
void RenderSnapshot(const NerfArgs& args, Backend backend) {
  if ((args.path_frames < 1 && args.cameras.empty()) || args.renders.empty()) {
    throw UsageError(
        "a NeRF snapshot as INPUT renders only: give --renders DIR and --path-frames N or "
        "--cameras CAMERAS");
  }
  if (args.path_frames > 0 && !args.cameras.empty()) {
    throw UsageError("give --path-frames or --cameras, not both");
  }
  const nerf::NerfSnapshot snapshot = nerf::ReadNerfSnapshot(args.input);
  const nerf::NerfField field = nerf::FieldOf(snapshot);
  nerf::OccupancyGrid grid(snapshot.aabb_min, snapshot.aabb_max, snapshot.occupancy_options);
  grid.SetValues(snapshot.occupancy);
  const Eigen::Vector3f background = snapshot.background;
  RenderFunction render = [&](const geometry::Camera& camera,
                              const geometry::Rigid3& cam_from_world) {
    return nerf::RenderNerf(field, grid, camera, cam_from_world, background).colour;
  };
#if defined(FACET_WITH_CUDA)
  std::unique_ptr<nerf::NerfFieldCuda> device_field;
  std::unique_ptr<nerf::OccupancyGridCuda> device_grid;
  if (backend == Backend::kCuda) {
    device_field =
        std::make_unique<nerf::NerfFieldCuda>(field, nerf::ParseMlpCudaKernel(args.cuda_mlp));
    device_grid = std::make_unique<nerf::OccupancyGridCuda>(grid);
    render = [&](const geometry::Camera& camera, const geometry::Rigid3& cam_from_world) {
      return nerf::RenderNerfCuda(*device_field, *device_grid, camera, cam_from_world, background)
          .colour;
    };
  }
#endif
  (void)backend;
  if (!args.cameras.empty()) {
    WriteCameraRenders(render, background, args);
  } else {
    WritePath(render, snapshot.aabb_min, snapshot.aabb_max, args, args.renders);
  }
}

void RunNerf(const NerfArgs& args, const GlobalOptions& global) {
  if (args.path_frames < 0 || (args.render_size != 0 && args.render_size < 16)) {
    throw UsageError("--path-frames must be >= 0 and --render-size >= 16");
  }
  if (LowercaseExtension(args.input) == ".bin") {
    RenderSnapshot(args, global.backend);
    return;
  }
  if (args.output.empty()) throw UsageError("training needs -o OUTPUT (the snapshot to write)");
  if (!args.cameras.empty()) {
    throw UsageError("--cameras renders a snapshot: give the trained nerf.bin as INPUT");
  }
  if (args.steps < 1 || args.rays < 1 || args.max_size < 0 || args.eval_every < 0 ||
      args.checkpoint_every < 0 || !(args.max_seconds >= 0.0) || std::isinf(args.max_seconds)) {
    throw UsageError(
        "--steps and --rays must be >= 1; --max-size, --eval-every, --checkpoint-every and "
        "--max-seconds >= 0");
  }
  if (!(args.huber_delta > 0.0f) || !std::isfinite(args.huber_delta)) {
    throw UsageError(fmt::format("--huber-delta must be > 0 (got {})", args.huber_delta));
  }
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
  options.loss = args.loss == "huber" ? nerf::ColourLossKind::kHuber : nerf::ColourLossKind::kL2;
  options.huber_delta = args.huber_delta;
  const std::unique_ptr<Training> training = MakeTraining(
      global.backend, data, aabb_min, aabb_max, options, nerf::ParseMlpCudaKernel(args.cuda_mlp));
  Training& trainer = *training;
  const fs::path checkpoint = CheckpointPath(args.output);
  if (args.resume && fs::exists(checkpoint)) {
    trainer.Restore(nerf::ReadNerfSnapshot(checkpoint));
    spdlog::info("nerf: resumed from {} at step {}", checkpoint.string(), trainer.step());
  }
  if (args.output.has_parent_path()) fs::create_directories(args.output.parent_path());
  spdlog::info(
      "nerf: {} training and {} held-out views, box [{:.2f} {:.2f} {:.2f}] - [{:.2f} "
      "{:.2f} {:.2f}]{}; training on {}",
      data.train.size(), data.test.size(), aabb_min.x(), aabb_min.y(), aabb_min.z(), aabb_max.x(),
      aabb_max.y(), aabb_max.z(), data.has_alpha ? ", RGBA: random backgrounds" : "",
      global.backend == Backend::kCuda ? "the GPU" : "the CPU");

  const Timer timer;
  double training_s = 0.0;
  nlohmann::json curve = nlohmann::json::array();
  ProgressBar bar(args.steps - std::min<std::int64_t>(trainer.step(), args.steps),
                  {.label = "nerf", .unit = "steps"});
  std::size_t rays_done = 0;
  // --max-seconds: the steps' own time (evaluations and checkpoints not counted), so that the
  // final held-out PSNR is the one reached after that much training.
  const auto out_of_time = [&] { return args.max_seconds > 0.0 && training_s >= args.max_seconds; };
  // With --max-seconds the learning-rate milestones (50/75/90% of the planned steps) follow the
  // time budget: the planned steps are re-estimated from the step rate at 10%, 25% and 45% of it
  // (then fixed: the first milestone is at 50%).
  std::int64_t planned_steps = args.steps;
  const std::int64_t first_step = trainer.step();  // --resume: the steps of this run count
  int estimates = 0;
  while (trainer.step() < args.steps && !out_of_time()) {
    const Timer step_timer;
    const nerf::NerfStepStats stats = trainer.Step();
    training_s += step_timer.ElapsedSeconds();
    constexpr double kEstimateAt[] = {0.10, 0.25, 0.45};
    if (args.max_seconds > 0.0 && estimates < 3 &&
        training_s >= kEstimateAt[estimates] * args.max_seconds) {
      ++estimates;
      planned_steps =
          first_step + nerf::PlannedStepsWithin(args.max_seconds, trainer.step() - first_step,
                                                training_s, args.steps - first_step);
      trainer.SetPlannedSteps(int(planned_steps));
      spdlog::debug("nerf: {} steps in {:.1f} s: {} planned within --max-seconds {}",
                    trainer.step(), training_s, planned_steps, args.max_seconds);
    }
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
    const bool interrupted = InterruptRequested() && stats.step < args.steps && !out_of_time();
    if ((args.checkpoint_every > 0 && stats.step % args.checkpoint_every == 0 &&
         stats.step < args.steps && !out_of_time()) ||
        interrupted) {
      nerf::WriteNerfSnapshot(checkpoint,
                              nerf::SnapshotOf(trainer.Synced(), data.background, true));
    }
    if (interrupted) {
      bar.Finish();
      throw Interrupted(fmt::format(
          "nerf: interrupted at step {} of {}; the checkpoint {} continues it (--resume)",
          stats.step, args.steps, checkpoint.string()));
    }
  }
  bar.Finish();
  if (trainer.step() < args.steps) {
    spdlog::info("nerf: stopped at step {} of {} after {:.1f} s of training (--max-seconds {})",
                 trainer.step(), args.steps, training_s, args.max_seconds);
  }
  const nerf::NerfTrainer& synced = trainer.Synced();
  nerf::WriteNerfSnapshot(args.output, nerf::SnapshotOf(synced, data.background, false));
  if (args.keep_checkpoint) {
    nerf::WriteNerfSnapshot(checkpoint, nerf::SnapshotOf(synced, data.background, true));
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
  if (args.path_frames > 0 && !args.renders.empty()) {
    WritePath(
        [&](const geometry::Camera& camera, const geometry::Rigid3& cam_from_world) {
          return trainer.Render(camera, cam_from_world, data.background);
        },
        aabb_min, aabb_max, args, args.renders / "path");
  }
  if (!args.summary.empty()) {
    const nlohmann::json summary = {{"input", args.input.string()},
                                    {"output", args.output.string()},
                                    {"steps", trainer.step()},
                                    {"device", std::string(ToString(global.backend))},
                                    {"loss", args.loss},
                                    {"cuda_mlp", args.cuda_mlp},
                                    {"training_seconds", training_s},
                                    {"max_seconds", args.max_seconds},
                                    {"planned_steps", planned_steps},
                                    {"seconds", timer.ElapsedSeconds()},
                                    {"held_out_views", data.test.size()},
                                    {"held_out_psnr", psnr},
                                    {"psnr_curve", curve},
                                    {"peak_memory_bytes", PeakResidentBytes()},
                                    {"gpu_buffer_bytes", trainer.DeviceBytes()}};
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
      "training ends (--resume continues from it). With --device cuda (or auto on a machine with a "
      "GPU) training and evaluation run on the GPU; the files are the same.\n"
      "Examples:\n"
      "  facet nerf nerf-synthetic-lego/transforms_train_200.json -o lego.bin --steps 3000\n"
      "  facet nerf out/ -o out/nerf.bin --eval-every 500 --summary nerf.json\n"
      "  facet nerf lego.bin --path-frames 120 --renders frames/   (render a snapshot)\n"
      "  facet nerf lego.bin --cameras lego/transforms_test.json --renders test/ --summary "
      "psnr.json   (render given cameras; PSNR when their photos exist)");
  sub->add_option("input", args->input,
                  "transforms.json, COLMAP model or workspace; or a snapshot (.bin) to render")
      ->required();
  sub->add_option("-o,--output", args->output, "Snapshot to write (nerf.bin; required to train)");
  sub->add_option("--steps", args->steps, "Training steps")->capture_default_str();
  sub->add_option("--rays", args->rays, "Rays per step")->capture_default_str();
  sub->add_option("--max-size", args->max_size, "Longest side of the photos (px, 0 = as is)")
      ->capture_default_str();
  sub->add_option("--images", args->images, "Photo folder (COLMAP models and workspaces)");
  sub->add_option("--eval-every", args->eval_every,
                  "Evaluate the held-out views every N steps (PSNR against time; 0 = at the end)")
      ->capture_default_str();
  sub->add_option("--checkpoint-every", args->checkpoint_every,
                  "Checkpoint every N steps (0 = only when interrupted)")
      ->capture_default_str();
  sub->add_option("--max-seconds", args->max_seconds,
                  "Stop after this many seconds of training steps, evaluations not counted (0 = "
                  "no limit; --steps still bounds the run). The learning-rate schedule then "
                  "follows the time: its milestones fall at 50/75/90% of the steps expected in "
                  "that time")
      ->capture_default_str();
  sub->add_flag("--resume", args->resume, "Continue from OUTPUT.ckpt when it exists");
  sub->add_flag("--keep-checkpoint", args->keep_checkpoint,
                "Keep OUTPUT.ckpt of the finished run (continue it later with more --steps and "
                "--resume)");
  sub->add_option("--loss", args->loss,
                  "Colour loss: l2 (squared error) or huber (quadratic within --huber-delta, "
                  "linear beyond: robust to outlier pixels)")
      ->check(CLI::IsMember({"l2", "huber"}))
      ->capture_default_str();
  sub->add_option("--huber-delta", args->huber_delta,
                  "Huber loss threshold (colour error in [0, 1] where it turns linear)")
      ->capture_default_str();
  sub->add_option("--cuda-mlp", args->cuda_mlp,
                  "Networks on the GPU: fused (one thread per sample through every layer, "
                  "weights in shared memory), cublas (a matrix product per layer), or auto "
                  "(fused where it is built for the network's shape)")
      ->check(CLI::IsMember({"auto", "fused", "cublas"}))
      ->capture_default_str();
  sub->add_option("--renders", args->renders, "Write held-out renders beside their photos here");
  sub->add_option("--cameras", args->cameras,
                  "With a snapshot INPUT: render these cameras (transforms.json, COLMAP model or "
                  "workspace) into RENDERS, one PNG per view named after its image; reports PSNR "
                  "when the photos exist (--images for COLMAP's)");
  sub->add_option("--path-frames", args->path_frames,
                  "Also render a circle of N views around the scene (into RENDERS/path, or RENDERS "
                  "for a snapshot INPUT)");
  sub->add_option("--render-size", args->render_size,
                  "Size of the path's square frames (px; default 400), or the longest side of the "
                  "--cameras renders (default: the cameras' own size)");
  sub->add_option("--seed", args->seed, "Random seed")->capture_default_str();
  sub->add_option("--summary", args->summary, "Write a JSON summary here");
  return {sub, [args](const GlobalOptions& global) { RunNerf(*args, global); }};
}

}  // namespace facet::apps
