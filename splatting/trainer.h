// The 3DGS training loop (Kerbl et al. 2023, sec. 5 and the reference train.py): one random
// training view per iteration (a fresh random order each epoch), render, photometric loss
// (1 - lambda) L1 + lambda (1 - SSIM), backward, Adam with per-group learning rates (the position
// rate decays exponentially and scales with the scene extent), SH degree raised every
// `sh_increase_every` iterations, densification by the chosen strategy. Checkpoints hold the model,
// the optimiser and the iteration, so `Resume` continues the same run.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/image.h"
#include "datasets/training_data.h"
#include "splatting/adam.h"
#include "splatting/densify.h"
#include "splatting/gaussians.h"
#include "splatting/rasterizer.h"

namespace facet::splatting {

struct TrainOptions {
  std::int64_t iterations = 30000;   // total optimiser steps
  std::string strategy = "default";  // "default" (Inria) or "mcmc"
  DefaultStrategyOptions default_strategy{};
  McmcStrategyOptions mcmc{};
  // Learning rates (the reference's OptimizationParams); positions are multiplied by the scene
  // extent and decay from means_lr to means_lr_final over means_lr_steps.
  float means_lr = 1.6e-4f;
  float means_lr_final = 1.6e-6f;
  std::int64_t means_lr_steps = 30000;
  float sh_dc_lr = 2.5e-3f;
  float sh_rest_lr = 2.5e-3f / 20.0f;
  float opacity_lr = 0.025f;
  float scale_lr = 5e-3f;
  float rotation_lr = 1e-3f;
  int max_sh_degree = 3;                  // final SH degree (0-3)
  std::int64_t sh_increase_every = 1000;  // one band more every this many iterations
  float lambda_dssim = 0.2f;              // SSIM weight of the loss, [0, 1]
  // Random background colour per iteration (the reference's option; not for evaluation). Only
  // for opaque photos: RGBA photos are composited over datasets::TrainingData::background at load
  // time, so their targets keep that colour while the render would not.
  bool random_background = false;
  bool antialiased = false;  // Mip-Splatting opacity compensation
  std::uint64_t seed = 0;
  // Where the iterations run. kCuda keeps the model, gradients and Adam moments in device memory
  // (splatting/cuda/train_step_cuda.h) and needs a CUDA build and a device (Trainer throws
  // otherwise); it supports the "default" strategy only (MCMC's regulariser and noise act on
  // the host model every iteration). Densification, checkpoints and Model() run on a host copy
  // synchronised on demand.
  Backend backend = Backend::kCpu;

  void Check() const;
};

// Timings of one iteration's stages (seconds), for the progress line and bench/splat_speed.
struct StageTimes {
  double preprocess = 0, sort = 0, forward = 0, loss = 0, backward = 0, optimizer = 0, densify = 0;
  double Total() const {
    return preprocess + sort + forward + loss + backward + optimizer + densify;
  }
  StageTimes& operator+=(const StageTimes& o);
};

struct IterationStats {
  std::int64_t iteration = 0;  // 1-based, as the reference counts
  double loss = 0.0;           // photometric loss (+ regularisation)
  double psnr = 0.0;           // of this iteration's training view (dB)
  std::int64_t num_gaussians = 0;
  StageTimes times{};
  DensifyResult densify{};
};

struct ViewMetrics {
  std::string name{};
  double psnr = 0.0;  // dB, render clamped to [0, 1] against the 8-bit photo / 255
  double ssim = 0.0;  // splatting::Ssim: Inria's 11x11 Gaussian window, zero padding
};

// How a trained model is rendered for evaluation.
struct RenderSettings {
  Eigen::Vector3f background = Eigen::Vector3f::Zero();  // RGB in [0, 1]
  int sh_degree = 3;                                     // <= the model's max_sh_degree
  bool antialiased = false;                              // as trained
};

class CudaTrainState;

class Trainer {
 public:
  // `data` must outlive the trainer. `initial` is the starting model (InitFromScene/InitRandom);
  // its max_sh_degree must be >= options.max_sh_degree.
  Trainer(const datasets::TrainingData& data, Gaussians initial, const TrainOptions& options);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // One iteration; returns what it measured.
  IterationStats Step();
  std::int64_t Iteration() const { return iteration_; }
  bool Done() const { return iteration_ >= options_.iterations; }
  // On CUDA, downloads the device model first when the host copy is stale.
  const Gaussians& Model() const;
  int ActiveShDegree() const;

  // Renders a view with the current model (background: the data's, SH at the active degree).
  ImageF32 Render(const datasets::TrainingView& view) const;
  // PSNR and SSIM of every view in `views` (the held-out ones: data.test); EvaluateViews.
  std::vector<ViewMetrics> Evaluate(const std::vector<datasets::TrainingView>& views,
                                    const std::filesystem::path& renders_dir = {}) const;
  RenderSettings Settings() const;
  Backend backend() const { return options_.backend; }
  // CUDA: CudaTrainState::PeakDeviceBytes (the device memory training has held beyond what was
  // in use when it started); 0 on the CPU.
  std::int64_t PeakDeviceBytes() const;

  // Checkpoint: model, Adam state, iteration and random state, written atomically.
  void SaveCheckpoint(const std::filesystem::path& path) const;
  // Restores a checkpoint written by a run with the same options, including the effective
  // schedule of that run (a continuation with more iterations keeps its position decay and
  // densification window; beyond them it trains at the final rate on a fixed set). Densification
  // statistics gathered since the last refinement are not saved: checkpoints every multiple of
  // refine_every (the default 1,000 and 100) lose nothing. Throws facet::Error naming the file
  // when it is corrupt, truncated or from another format version.
  void LoadCheckpoint(const std::filesystem::path& path);

 private:
  const datasets::TrainingView& NextView();
  std::unique_ptr<DensificationStrategy> MakeStrategy() const;
  // The CUDA iteration after the common set-up of Step (the CPU one is inline in Step).
  void StepCuda(const datasets::TrainingView& view, const RasterCamera<float>& camera,
                const RasterOptions& ropts, const GroupLearningRates& lr, float lr_means,
                IterationStats* stats);
  // CUDA: copies the device model and Adam state into params_ and adam_ when they are stale.
  void SyncHost() const;

  const datasets::TrainingData& data_;
  TrainOptions options_;
  // On CUDA the device holds the model between synchronisations; these are its host copy,
  // refreshed lazily (SyncHost) from const accessors, hence mutable. Their size is always the
  // device's (only densification changes it, on the host, followed by an upload).
  mutable Gaussians params_;
  Gaussians grads_;
  mutable Adam adam_;
  std::unique_ptr<CudaTrainState> cuda_;  // null on the CPU
  mutable bool host_stale_ = false;
  std::unique_ptr<DensificationStrategy> strategy_;
  std::mt19937_64 rng_;
  std::vector<std::size_t> order_{};  // the current epoch's view order
  std::size_t order_pos_ = 0;
  std::int64_t iteration_ = 0;
  // Reused buffers.
  RasterResult<float> raster_{};
  RasterGradients2D<float> grads2d_{};
  ImageF32 target_{}, d_render_{};
  std::vector<std::int32_t> radii_{};
};

// Renders `view` with `model`.
ImageF32 RenderView(const Gaussians& model, const datasets::TrainingView& view,
                    const RenderSettings& settings);

// PSNR and SSIM of every view (render clamped to [0, 1] against the 8-bit photo / 255); when
// `renders_dir` is not empty, also writes render | photo | error pictures there (PNG, named
// after the views).
std::vector<ViewMetrics> EvaluateViews(const Gaussians& model,
                                       const std::vector<datasets::TrainingView>& views,
                                       const RenderSettings& settings,
                                       const std::filesystem::path& renders_dir = {});

// The starting model: InitFromScene when the data has a sparse cloud, otherwise InitRandom in a
// cube around the point the cameras look at (least-squares meeting point of their optical axes;
// the cameras' mean centre when the axes are nearly parallel) with half-size
// random_box_fraction * scene extent. For the NeRF-synthetic sets (cameras ~4 units from the
// origin, extent ~4.4) that is the reference's [-1.3, 1.3]^3 cube.
Gaussians InitialModel(const datasets::TrainingData& data, const InitOptions& options,
                       float random_box_fraction = 0.3f);

// PSNR (dB) of a float image in [0, 1] (clamped) against an 8-bit one of the same size.
double Psnr(ImageView<const float> render, ImageView<const std::uint8_t> target);

// Side-by-side picture render | photo | error (|difference| x 4 as grey), 8-bit RGB.
ImageU8 SideBySide(ImageView<const float> render, ImageView<const std::uint8_t> photo);

}  // namespace facet::splatting
