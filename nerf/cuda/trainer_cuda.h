// NerfTrainerCuda: NerfTrainer's training step (nerf/trainer.h) entirely on the device. The
// training photos are uploaded once as 8-bit pixels; each step draws its rays on the device from
// a counter-based hash of (seed, step, ray) (kernels::UniformFloat; no host random numbers per
// ray, random backgrounds for RGBA photos), marches them through a device copy of the occupancy
// grid, evaluates and back-propagates the field (NerfFieldCuda), composites, takes the colour
// loss and steps Adam, with the CPU trainer's sample budget, learning-rate schedule and occupancy
// refresh schedule (OccupancyGridCuda). Only the sample count, the per-channel losses (summed on
// the host in double, as the CPU's ColourLoss) and, for a batch over the sample budget, the ray
// offsets come back to the host each step.
//
// What differs from the CPU trainer: the rays of a drawn batch (another random stream: the same
// seed gives other rays on the two backends, both deterministic), and float rounding (atomic
// scatter into the hash table, the fused or cuBLAS network products, contracted multiply-adds). On
// the same rays (Step(const NerfRayBatch&)) the two agree to rounding.
//
// Snapshots and checkpoints go through a host NerfTrainer built with the same arguments:
// Download copies the parameters, occupancy values, Adam state and step into it (then SnapshotOf
// works), Upload the reverse (after RestoreTrainer). A plain header (no CUDA types); only built
// with the CUDA fast path (FACET_WITH_CUDA).
#pragma once

#include <Eigen/Core>

#include <cstdint>
#include <memory>
#include <vector>

#include "core/image.h"
#include "datasets/training_data.h"
#include "geometry/camera.h"
#include "geometry/rigid3.h"
#include "nerf/render.h"
#include "nerf/trainer.h"

namespace facet::nerf {

class NerfTrainerCuda {
 public:
  // As NerfTrainer's constructor (the same initial parameters for the same seed); `data` must
  // outlive the trainer. `mlp_kernel` chooses the networks' CUDA implementation (nerf/mlp.h).
  // Throws facet::Error for invalid options or data, or CUDA failures.
  NerfTrainerCuda(const datasets::TrainingData& data, const Eigen::Vector3f& aabb_min,
                  const Eigen::Vector3f& aabb_max, const NerfFieldOptions& field,
                  const NerfTrainOptions& options, MlpCudaKernel mlp_kernel = MlpCudaKernel::kAuto);
  ~NerfTrainerCuda();
  NerfTrainerCuda(const NerfTrainerCuda&) = delete;
  NerfTrainerCuda& operator=(const NerfTrainerCuda&) = delete;

  // One step on a batch drawn on the device; the same on the caller's rays (as NerfTrainer).
  NerfStepStats Step();
  NerfStepStats Step(const NerfRayBatch& batch);
  std::int64_t step() const;
  // As NerfTrainer::SetPlannedSteps.
  void SetPlannedSteps(int planned_steps);

  // Renders a view on the device (sRGB colour, opacity, camera-frame depth; see RenderNerf).
  NerfImages RenderImages(const geometry::Camera& camera, const geometry::Rigid3& cam_from_world,
                          const Eigen::Vector3f& background) const;
  ImageF32 Render(const geometry::Camera& camera, const geometry::Rigid3& cam_from_world,
                  const Eigen::Vector3f& background) const;
  // Mean PSNR of device renders of `views` (as NerfTrainer::EvaluatePsnr).
  double EvaluatePsnr(const std::vector<datasets::TrainingView>& views) const;

  // The device state into / from a host trainer built with the same data, box and options:
  // parameters, occupancy values, the three Adam states and the step count (not the host
  // trainer's random generator, which the device does not use). Throws facet::Error for a
  // trainer of other shapes.
  void Download(NerfTrainer* trainer) const;
  void Upload(const NerfTrainer& trainer);

  // The last step's gradients (before its Adam step) per block: hash table, density network,
  // colour network; for tests against NerfTrainer's field gradients.
  std::vector<float> Gradient(int block) const;
  // Device memory the trainer's buffers hold now (bytes).
  std::int64_t DeviceBytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace facet::nerf
