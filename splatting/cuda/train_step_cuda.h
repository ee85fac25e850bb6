// One 3DGS training iteration kept in device memory (the CUDA path of Trainer::Step,
// splatting/trainer.h): the parameters, their gradients and both Adam moments live on the device
// (one DeviceBuffer per Gaussians::Group each), and an iteration is
//   upload the 8-bit target -> float / 255 on the device -> CudaRasterizer::Forward ->
//   PhotometricLossCuda (loss and dL/drender) -> CudaRasterizer::Backward -> (optionally) copy
//   v_mean2d, v_mean2d_abs and the radii to the host for DensificationStrategy::Observe ->
//   AdamStepCuda on every group -> PSNR of the render from a device reduction (the MSE).
// The host sees the model only through Download; a densification step runs on the host between a
// Download and an Upload (the trainer decides when, DensificationStrategy::Acts).
//
// A plain header (no CUDA types), so trainer.cpp includes it without nvcc; only built with the
// CUDA fast path (FACET_WITH_CUDA). Throws facet::Error for bad inputs and CUDA failures.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "core/image.h"
#include "splatting/adam.h"
#include "splatting/gaussians.h"
#include "splatting/rasterizer.h"

namespace facet::splatting {

struct CudaStepResult {
  double loss = 0.0;  // photometric loss of the iteration (before the optimiser step)
  double psnr = 0.0;  // dB, the render clamped to [0, 1] against the target / 255
};

class CudaTrainState {
 public:
  // Creates the rasterizer (its stream) and records the device memory in use as the baseline of
  // PeakDeviceBytes. Throws facet::Error without a device.
  explicit CudaTrainState(const AdamOptions& adam_options = {});
  ~CudaTrainState();
  CudaTrainState(const CudaTrainState&) = delete;
  CudaTrainState& operator=(const CudaTrainState&) = delete;

  // Copies the parameters and the Adam moments and step count to the device. An Adam without
  // moments yet (before its first step) gives zero moments. Throws when the moments do not match
  // the parameters (count or SH degree).
  void Upload(const Gaussians& params, const Adam& adam);
  // Copies the device parameters, moments and step count back: `params` and the moments of
  // `adam` are resized to the device count and degree, and adam->SetStepCount(AdamStep()).
  void Download(Gaussians* params, Adam* adam) const;

  // One iteration on the device Gaussians (see the top of the file). `target`: the training
  // photo, 8-bit RGB of the camera's size. `adam_step`: Adam's t (>= 1) shared by all groups,
  // normally AdamStep() + 1. When `want_stats`, VMean2d(), VMean2dAbs() and Radii() hold this
  // iteration's values afterwards (DensificationStrategy::Observe's ViewGradientStats).
  CudaStepResult Step(const ImageU8& target, const RasterCamera<float>& camera,
                      const RasterOptions& options, float lambda_dssim,
                      const GroupLearningRates& lr, std::int64_t adam_step, bool want_stats);

  // Renders the device Gaussians (evaluation); the image is downloaded to the host.
  ImageF32 Render(const RasterCamera<float>& camera, const RasterOptions& options);

  std::int64_t size() const;                  // Gaussians on the device
  std::int64_t AdamStep() const;              // Adam's step count (Upload's, then the last Step's)
  std::span<const float> VMean2d() const;     // [N, 2], from the last Step with want_stats
  std::span<const float> VMean2dAbs() const;  // [N, 2]
  std::span<const std::int32_t> Radii() const;  // [N]

  // Largest device memory in use after an Upload or Step, minus the use at construction
  // (cudaMemGetInfo: total - free): this state's buffers plus the rasterizer's and the loss's
  // workspaces, which only grow. Counts the whole process's allocations made meanwhile.
  std::int64_t PeakDeviceBytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace facet::splatting
