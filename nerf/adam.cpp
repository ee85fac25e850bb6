#include "nerf/adam.h"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace facet::nerf {

void AdamOptions::Check() const {
  FACET_CHECK(std::isfinite(learning_rate) && learning_rate > 0.0f,
              "Adam learning_rate must be > 0 (got {})", learning_rate);
  FACET_CHECK(beta1 >= 0.0f && beta1 < 1.0f, "Adam beta1 must be in [0, 1) (got {})", beta1);
  FACET_CHECK(beta2 >= 0.0f && beta2 < 1.0f, "Adam beta2 must be in [0, 1) (got {})", beta2);
  FACET_CHECK(std::isfinite(epsilon) && epsilon > 0.0f, "Adam epsilon must be > 0 (got {})",
              epsilon);
  FACET_CHECK(std::isfinite(l2) && l2 >= 0.0f, "Adam l2 must be >= 0 (got {})", l2);
}

kernels::AdamStep MakeAdamStep(const AdamOptions& options, std::int64_t step, float lr_scale) {
  kernels::AdamStep s;
  s.learning_rate = options.learning_rate * lr_scale;
  s.beta1 = options.beta1;
  s.beta2 = options.beta2;
  s.epsilon = options.epsilon;
  s.l2 = options.l2;
  s.correction1 = 1.0f - std::pow(options.beta1, float(step));
  s.correction2 = 1.0f - std::pow(options.beta2, float(step));
  return s;
}

Adam::Adam(std::size_t size, const AdamOptions& options)
    : options_(options), m_(size, 0.0f), v_(size, 0.0f) {
  options_.Check();
}

void Adam::Step(std::span<float> params, std::span<const float> grads, float lr_scale) {
  FACET_CHECK(params.size() == m_.size() && grads.size() == m_.size(),
              "Adam: {} parameters and {} gradients for an optimiser of {}", params.size(),
              grads.size(), m_.size());
  FACET_CHECK(std::isfinite(lr_scale) && lr_scale >= 0.0f,
              "Adam: the learning-rate scale must be >= 0 (got {})", lr_scale);
  ++step_;
  const kernels::AdamStep s = MakeAdamStep(options_, step_, lr_scale);
  const bool sparse = options_.sparse;
  // Each parameter is independent: any partition gives the same result.
  oneapi::tbb::parallel_for(oneapi::tbb::blocked_range<std::size_t>(0, params.size(), 4096),
                            [&](const oneapi::tbb::blocked_range<std::size_t>& range) {
                              for (std::size_t i = range.begin(); i != range.end(); ++i) {
                                if (sparse && grads[i] == 0.0f) continue;
                                kernels::AdamUpdate(s, grads[i], &params[i], &m_[i], &v_[i]);
                              }
                            });
}

void Adam::SetState(std::span<const float> m, std::span<const float> v, std::int64_t step) {
  FACET_CHECK(m.size() == m_.size() && v.size() == v_.size() && step >= 0,
              "Adam: state of {} / {} moments and step {} for an optimiser of {}", m.size(),
              v.size(), step, m_.size());
  std::copy(m.begin(), m.end(), m_.begin());
  std::copy(v.begin(), v.end(), v_.begin());
  step_ = step;
}

}  // namespace facet::nerf
