// Adam (Kingma & Ba 2015) over the Gaussian parameter groups, with per-group learning rates as in
// the reference 3DGS trainer (torch.optim.Adam, eps 1e-15), and the moment bookkeeping that
// densification needs: the moments are Gaussians-shaped, so compacting, cloning and appending
// Gaussians applies the same index operations to parameters and optimiser state.
#pragma once

#include <array>
#include <cstdint>
#include <iosfwd>
#include <span>

#include "splatting/gaussians.h"

namespace facet::splatting {

struct AdamOptions {
  float beta1 = 0.9f;      // first-moment decay, [0, 1)
  float beta2 = 0.999f;    // second-moment decay, [0, 1)
  float epsilon = 1e-15f;  // added to sqrt(v_hat) (the reference trainer's value), > 0

  void Check() const;
};

// One learning rate per Gaussians::Group (kMeans .. kShRest).
using GroupLearningRates = std::array<float, Gaussians::kNumGroups>;

// The reference trainer's position schedule (utils/general_utils.py get_expon_lr_func without the
// delay): log-linear from lr_init at step 0 to lr_final at max_steps, constant after.
float ExponentialLearningRate(float lr_init, float lr_final, std::int64_t step,
                              std::int64_t max_steps);

class Adam {
 public:
  explicit Adam(const AdamOptions& options = {});

  // One step: params -= lr_g * m_hat / (sqrt(v_hat) + eps) for every parameter, with the bias
  // corrections of step t = StepCount() + 1. `grads` must match `params` in size and degree;
  // moments are created (zero) on the first call or resized to match `params`. Multi-threaded.
  // A Gaussian whose gradient is exactly zero in every group still decays its moments and moves
  // (dense Adam, as torch.optim.Adam in the reference trainer).
  void Step(Gaussians& params, const Gaussians& grads, const GroupLearningRates& lr);

  std::int64_t StepCount() const { return step_; }
  const AdamOptions& Options() const { return options_; }
  // Sets the step count t of the last step taken, for a trainer that runs the steps elsewhere
  // (the device, splatting/cuda/train_step_cuda.h) and copies the moments back through
  // FirstMoment() / SecondMoment(). Throws facet::Error for a negative count.
  void SetStepCount(std::int64_t step);
  Gaussians& FirstMoment() { return m_; }
  Gaussians& SecondMoment() { return v_; }
  const Gaussians& FirstMoment() const { return m_; }
  const Gaussians& SecondMoment() const { return v_; }

  // Moment bookkeeping mirroring Gaussians' own: keep a subset, append zero moments for `count`
  // new Gaussians (the reference's densification_postfix), or zero the moments of some Gaussians
  // (the reference's opacity reset zeroes the opacity moments; MCMC relocation zeroes all).
  void Compact(std::span<const bool> keep);
  void AppendZeros(std::int64_t count);
  void ZeroGroup(Gaussians::Group group);
  void ZeroMoments(std::span<const std::int64_t> indices);

  // Binary state (options, step, moments) for checkpoints; Load throws facet::Error on a
  // truncated or inconsistent stream.
  void Save(std::ostream& out) const;
  void Load(std::istream& in);

 private:
  AdamOptions options_;
  std::int64_t step_ = 0;
  Gaussians m_{};
  Gaussians v_{};
};

}  // namespace facet::splatting
