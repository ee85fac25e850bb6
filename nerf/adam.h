// Adam over a flat float parameter array (the hash table, an MLP's weights), on the CPU; the
// per-parameter math is kernels/adam.h, shared with the CUDA path.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "nerf/kernels/adam.h"

namespace facet::nerf {

struct AdamOptions {
  float learning_rate = 1e-2f;  // > 0
  float beta1 = 0.9f;           // [0, 1)
  float beta2 = 0.99f;          // [0, 1)
  float epsilon = 1e-15f;       // > 0
  float l2 = 0.0f;              // >= 0; instant-ngp: 1e-6 on the MLP weights, 0 on the table
  // Skip parameters whose gradient is exactly zero this step (the hash entries no sample touched
  // keep their value and moments, as instant-ngp's sparse table updates).
  bool sparse = false;

  // Throws facet::Error naming the first field out of range.
  void Check() const;
};

// The per-step constants of AdamUpdate for step t = `step` (>= 1) and learning rate
// options.learning_rate * lr_scale: bias corrections 1 - beta^t in float, as both the CPU and the
// CUDA step (cuda/adam_cuda.h) use them.
kernels::AdamStep MakeAdamStep(const AdamOptions& options, std::int64_t step, float lr_scale);

class Adam {
 public:
  Adam(std::size_t size, const AdamOptions& options);

  // One step on `params` with `grads` (both `size` long), learning rate options.learning_rate *
  // lr_scale. Multi-threaded; the result does not depend on the thread count.
  void Step(std::span<float> params, std::span<const float> grads, float lr_scale = 1.0f);

  std::int64_t step_count() const { return step_; }
  const AdamOptions& options() const { return options_; }
  // The moments and step count, for checkpoints; SetState throws facet::Error for sizes that do
  // not match or a negative step.
  std::span<const float> first_moment() const { return m_; }
  std::span<const float> second_moment() const { return v_; }
  void SetState(std::span<const float> m, std::span<const float> v, std::int64_t step);

 private:
  AdamOptions options_;
  std::vector<float> m_, v_;
  std::int64_t step_ = 0;
};

}  // namespace facet::nerf
