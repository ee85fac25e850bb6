// Densification: how the set of Gaussians grows, shrinks and moves during training.
//
// DefaultStrategy: the adaptive density control of Kerbl et al. 2023 (sec. 5.2) as the reference
// trainer runs it (scene/gaussian_model.py densify_and_prune): accumulate the norm of each
// Gaussian's view-space (NDC) mean gradient over the views that see it; every `refine_every`
// iterations from `refine_start` to `refine_stop`, Gaussians whose mean gradient exceeds
// `grad_threshold` are cloned (small: max scale <= percent_dense * scene extent) or split into 2
// (large: samples from the Gaussian, scale / 1.6); then Gaussians with opacity below
// `prune_opacity`, or (after the first opacity reset) larger than 0.1 * scene extent in the world
// (or `max_screen_size` px on screen, when set), are removed. Every `reset_every` iterations
// opacities are clamped to at most 0.01 (and their Adam moments zeroed).
//
// McmcStrategy: 3DGS as Markov chain Monte Carlo (Kheradmand et al. 2024): a fixed budget of
// Gaussians; every `refine_every` iterations, dead Gaussians (opacity <= min_opacity) are relocated
// onto live ones sampled by opacity, with the opacity/scale correction of their eq. 9 (binomial
// coefficients), and 5% more Gaussians are added the same way until `max_gaussians`; after every
// step, noise scaled by the position learning rate and (1 - opacity)^100 is added to the means
// (their eq. 10); opacity and scale regularisers (mean sigmoid(o), mean exp(s)) enter the loss.
//
// Both keep the Adam moments consistent with the parameters (splatting/adam.h) and are
// deterministic for a seed.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "splatting/adam.h"
#include "splatting/gaussians.h"

namespace facet::splatting {

// What one rendered view says about each Gaussian, from the rasterizer's backward pass.
struct ViewGradientStats {
  std::span<const float> v_mean2d{};      // [N, 2] dL/dmean2d in pixels
  std::span<const float> v_mean2d_abs{};  // [N, 2] sum over pixels of |per-pixel dL/dmean2d|
  std::span<const std::int32_t> radii{};  // [N] screen radius in px (max of x, y); 0 = not drawn
  int width = 0;                          // image size (pixel gradients -> NDC: * size / 2)
  int height = 0;
};

struct DensifyResult {
  std::int64_t added = 0;    // cloned, split, relocated or new
  std::int64_t removed = 0;  // pruned
  bool opacity_reset = false;
};

class DensificationStrategy {
 public:
  virtual ~DensificationStrategy() = default;
  virtual std::string Name() const = 0;
  // After each backward pass, before the optimiser step: record the view's statistics.
  virtual void Observe(std::int64_t iteration, const Gaussians& params,
                       const ViewGradientStats& stats) = 0;
  // Before the optimiser step: add the strategy's regularisation gradients (MCMC) into `grads`
  // and return the regularisation loss (0 for none).
  virtual double AddRegularization(const Gaussians& params, Gaussians* grads) = 0;
  // After the optimiser step of `iteration` (1-based, as the reference counts): densify, prune,
  // reset or relocate as scheduled, keeping `adam` consistent. `lr_means` is the position
  // learning rate of this iteration (MCMC noise).
  virtual DensifyResult Step(std::int64_t iteration, Gaussians& params, Adam& adam,
                             float lr_means) = 0;
  // Whether Step(iteration, ...) may change the parameters or the optimiser state. A trainer
  // that keeps the model elsewhere (the device, splatting/cuda/train_step_cuda.h) copies it to
  // the host only for these iterations. False must mean Step is a no-op; the default (true) is
  // always safe.
  virtual bool Acts(std::int64_t /*iteration*/) const { return true; }
};

struct DefaultStrategyOptions {
  std::int64_t refine_start = 500;     // first densification iteration
  std::int64_t refine_stop = 15000;    // no densification after this iteration
  std::int64_t refine_every = 100;     // densification interval
  std::int64_t reset_every = 3000;     // opacity reset interval (0: never)
  bool reset_at_refine_start = false;  // one more reset at refine_start (the reference does it
                                       // on white backgrounds; the trainer sets it there)
  float grad_threshold = 2e-4f;        // mean NDC mean-gradient norm that triggers densification
  bool absolute_gradient = false;      // use the AbsGS gradient (v_mean2d_abs) instead
  float percent_dense = 0.01f;         // clone below, split above this fraction of the extent
  float split_scale_divisor = 1.6f;    // split children's scale = parent / this (0.8 * 2)
  int split_children = 2;              // Gaussians a split produces
  float prune_opacity = 0.005f;        // opacity below which Gaussians are removed
  // px; > 0: Gaussians larger on screen are pruned after the first reset. 0 (the default): off,
  // as gsplat's default (refine_scale2d_stop_iter 0) and the reference, whose check never fires:
  // screen radii grow with the image size, and at lego's 800x800 38% of the (Gaussian, view)
  // pairs of a 3000-iteration model are over 20 px (8% at 400, 1% at 200), so every refinement
  // after the first reset pruned a large share of the model (PSNR 27.7 dB instead of 36).
  float max_screen_size = 0.0f;
  float max_world_size = 0.1f;     // fraction of the extent; larger are pruned likewise
  std::int64_t max_gaussians = 0;  // hard cap on the count (0: none); densifies the largest
                                   // gradients first when the cap binds
  std::uint64_t seed = 0;

  void Check() const;
};

struct McmcStrategyOptions {
  std::int64_t max_gaussians = 1000000;  // the budget (--max-gaussians)
  std::int64_t refine_start = 500;
  std::int64_t refine_stop = 25000;
  std::int64_t refine_every = 100;
  float growth_rate = 0.05f;   // fraction added per refinement until the budget
  float min_opacity = 0.005f;  // dead below this
  float noise_lr = 5e5f;       // noise scale multiplying the position learning rate
  float opacity_reg = 0.01f;   // weight of mean sigmoid(opacity) in the loss
  float scale_reg = 0.01f;     // weight of mean exp(log_scale) in the loss
  std::uint64_t seed = 0;

  void Check() const;
};

// `scene_extent`: the radius of the cameras around their centre, times 1.1 (the reference's
// cameras_extent); thresholds in world units scale with it.
std::unique_ptr<DensificationStrategy> MakeDefaultStrategy(const DefaultStrategyOptions& options,
                                                           float scene_extent);
std::unique_ptr<DensificationStrategy> MakeMcmcStrategy(const McmcStrategyOptions& options,
                                                        float scene_extent);

}  // namespace facet::splatting
