#include "geometry/adaptive_threshold.h"

#include <cmath>

#include "core/error.h"

namespace facet::geometry {

void AdaptiveThreshold::Options::Check() const {
  FACET_CHECK(std::isfinite(initial_sigma) && initial_sigma > 0.0,
              "AdaptiveThreshold initial_sigma must be > 0 and finite (got {})", initial_sigma);
  FACET_CHECK(std::isfinite(min_motion) && min_motion >= 0.0,
              "AdaptiveThreshold min_motion must be >= 0 and finite (got {})", min_motion);
  FACET_CHECK(std::isfinite(max_range) && max_range > 0.0,
              "AdaptiveThreshold max_range must be > 0 and finite (got {})", max_range);
}

AdaptiveThreshold::AdaptiveThreshold() : AdaptiveThreshold(Options{}) {}

AdaptiveThreshold::AdaptiveThreshold(const Options& options) : options_(options) {
  options_.Check();
}

double AdaptiveThreshold::ModelError(const Rigid3& model_deviation, double max_range) {
  // The angle from the quaternion is accurate near 0 (acos of the trace is not).
  const double theta =
      model_deviation.rotation.normalized().angularDistance(Eigen::Quaterniond::Identity());
  return 2.0 * max_range * std::sin(0.5 * theta) + model_deviation.translation.norm();
}

void AdaptiveThreshold::Update(const Rigid3& model_deviation) {
  FACET_CHECK(
      model_deviation.rotation.coeffs().allFinite() && model_deviation.translation.allFinite(),
      "AdaptiveThreshold::Update: the model deviation is not finite");
  const double error = ModelError(model_deviation, options_.max_range);
  if (error <= options_.min_motion) return;
  sum_squared_ += error * error;
  ++samples_;
}

double AdaptiveThreshold::Sigma() const {
  return samples_ == 0 ? options_.initial_sigma
                       : std::sqrt(sum_squared_ / static_cast<double>(samples_));
}

}  // namespace facet::geometry
