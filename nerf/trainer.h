// NerfTrainer: instant-ngp's NeRF training loop on the CPU (Müller et al. 2022, sec. 5.4 and
// appendix). Each step draws a batch of rays at random pixels of the training views, marches them
// through the occupancy grid (empty space skipped), evaluates the field at the samples,
// composites the colours (random background per ray for RGBA photos), and back-propagates the
// colour loss to the hash table and both networks, stepped by Adam (beta 0.9 / 0.99, epsilon
// 1e-15, L2 1e-6 on the network weights). The occupancy grid is refreshed from the field's
// density every few steps; it holds the optical thickness of the smallest step (sigma x
// min_step), so OccupancyGridOptions::threshold reads as an opacity per step (instant-ngp's
// NERF_MIN_OPTICAL_THICKNESS).
#pragma once

#include <Eigen/Core>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/image.h"
#include "datasets/training_data.h"
#include "geometry/camera.h"
#include "geometry/rigid3.h"
#include "nerf/adam.h"
#include "nerf/field.h"
#include "nerf/occupancy_grid.h"
#include "nerf/ray_marching.h"
#include "nerf/volume_rendering.h"

namespace facet::nerf {

struct NerfTrainOptions {
  int rays_per_batch = 4096;  // >= 1
  // A step keeps only as many of its rays as fit this many samples (the first ray always), which
  // bounds a step's memory while the occupancy grid still marks empty space occupied (instant-ngp
  // fixes the samples per batch instead of the rays); >= 0, 0 = no limit.
  int max_samples_per_batch = 1 << 18;
  // Adam on all parameters; the networks also get l2 (weight decay) 1e-6.
  float learning_rate = 1e-2f;  // > 0
  float network_l2 = 1e-6f;     // >= 0
  // The learning rate falls by this factor at each of these fractions of `planned_steps`
  // (instant-ngp decays it late in training); planned_steps 0: no decay.
  int planned_steps = 0;
  float learning_rate_decay = 0.33f;  // (0, 1]
  int occupancy_update_every = 16;    // steps between occupancy refreshes; >= 1
  OccupancyGridOptions occupancy{};
  RayMarchingOptions marching{};
  VolumeRenderingOptions rendering{};
  ColourLossKind loss = ColourLossKind::kL2;
  float huber_delta = 0.1f;  // for kHuber, > 0
  std::uint32_t seed = 0;    // rays, jitter, initial weights: same seed, same model

  // Throws facet::Error naming the first field out of range.
  void Check() const;
};

struct NerfStepStats {
  std::int64_t step = 0;    // steps done, this one included
  double loss = 0.0;        // the batch's mean colour loss
  double psnr = 0.0;        // of the batch's mean squared error, dB
  std::size_t rays = 0;     // rays trained on this step (at most rays_per_batch)
  std::size_t samples = 0;  // samples evaluated this step
  double occupied = 0.0;    // fraction of occupied grid cells
};

// A batch of training rays, n x 3 floats each: origins and unit directions (scene coordinates),
// the target colours (sRGB in [0, 1], RGBA photos already composited over `backgrounds`) and the
// background each ray is composited over.
struct NerfRayBatch {
  std::vector<float> origins, directions, targets, backgrounds;
  std::size_t size() const { return origins.size() / 3; }
  // Throws facet::Error unless there is at least one ray and all four arrays hold 3 per ray.
  void Check() const;
};

// The learning-rate factor at `step` (steps done): learning_rate_decay at each of 50%, 75% and 90%
// of planned_steps (1 when planned_steps is 0).
float LearningRateScale(const NerfTrainOptions& options, std::int64_t step);

// Training for a time budget (`facet nerf --max-seconds`): the steps expected within
// `budget_seconds` at the rate so far (`steps_done` in `seconds_done`), at most `step_cap`, so
// that the learning-rate milestones (fractions of planned_steps) fall at those fractions of the
// time. The rate so far counts the first steps, slower while the occupancy grid is still dense, so
// the estimate errs low and the milestones early. At least steps_done; step_cap when no time has
// passed. Throws facet::Error for a budget that is not positive and finite.
std::int64_t PlannedStepsWithin(double budget_seconds, std::int64_t steps_done, double seconds_done,
                                std::int64_t step_cap);

// The box the field lives in: around the sparse points when the data has them (their 1st-99th
// percentiles, enlarged by 10%), else around the point the cameras look at (least squares over
// the optical axes) with half-size 0.375 x the cameras' mean distance to it (the NeRF-synthetic
// scenes' [-1.5, 1.5]^3 for cameras 4 units away).
void SceneBox(const datasets::TrainingData& data, Eigen::Vector3f* aabb_min,
              Eigen::Vector3f* aabb_max);

// PSNR (dB) of a render (3 channels in [0, 1]) against its photo of the same size, an RGBA photo
// composited over `background` (sRGB in [0, 1]) first: how EvaluatePsnr scores each view. Throws
// facet::Error for sizes that differ.
double RenderPsnr(const ImageF32& render, const ImageU8& photo, const Eigen::Vector3f& background);

class NerfTrainer {
 public:
  // `data` must outlive the trainer; its views may be RGB or RGBA (keep_alpha). Throws
  // facet::Error for invalid options or data without training views.
  NerfTrainer(const datasets::TrainingData& data, const Eigen::Vector3f& aabb_min,
              const Eigen::Vector3f& aabb_max, const NerfFieldOptions& field,
              const NerfTrainOptions& options);

  // One step on a batch drawn from the training views (refreshing the occupancy grid first every
  // occupancy_update_every steps). Afterwards field()'s gradient arrays hold this step's
  // gradients (before the Adam step).
  NerfStepStats Step();
  // The same on the caller's rays instead of a drawn batch (tests compare backends on it); the
  // sample budget still applies. Throws facet::Error for arrays of different or zero length.
  NerfStepStats Step(const NerfRayBatch& batch);
  std::int64_t step() const { return step_; }
  // Replaces options().planned_steps (the learning-rate schedule), e.g. from PlannedStepsWithin.
  void SetPlannedSteps(int planned_steps);

  // Renders a view (sRGB in [0, 1], 3 channels, float) over `background`.
  ImageF32 Render(const geometry::Camera& camera, const geometry::Rigid3& cam_from_world,
                  const Eigen::Vector3f& background) const;
  // Mean PSNR (dB) of renders of `views` over the data's background against their photos (RGBA
  // photos composited over the same background).
  double EvaluatePsnr(const std::vector<datasets::TrainingView>& views) const;

  NerfField& field() { return field_; }
  const NerfField& field() const { return field_; }
  OccupancyGrid& occupancy() { return occupancy_; }
  const OccupancyGrid& occupancy() const { return occupancy_; }
  // The optimisers (hash table, density network, colour network), for checkpoints.
  Adam& grid_adam() { return grid_adam_; }
  Adam& density_adam() { return density_adam_; }
  Adam& color_adam() { return color_adam_; }
  const Adam& grid_adam() const { return grid_adam_; }
  const Adam& density_adam() const { return density_adam_; }
  const Adam& color_adam() const { return color_adam_; }
  void SetStep(std::int64_t step);
  // The ray sampler's state as text (std::mt19937's stream format), so that a resumed run draws
  // the rays an uninterrupted one would. SetRngState throws facet::Error for malformed text.
  std::string RngState() const;
  void SetRngState(const std::string& state);

 private:
  void MakeBatch();
  NerfStepStats TrainOnBatch(const NerfRayBatch& batch);
  void UpdateOccupancy();

  const datasets::TrainingData& data_;
  NerfTrainOptions options_;
  NerfField field_;
  OccupancyGrid occupancy_;
  Adam grid_adam_, density_adam_, color_adam_;
  std::int64_t step_ = 0;
  std::mt19937 rng_;
  NerfRayBatch batch_;  // the drawn rays of one step
  std::vector<float> sigma_, rgb_, colour_, opacity_, depth_, d_colour_, d_sigma_, d_rgb_;
  std::vector<std::uint32_t> samples_used_;
};

}  // namespace facet::nerf
