#include "geometry/adaptive_threshold.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numbers>

#include "core/error.h"

namespace facet::geometry {
namespace {

Rigid3 Deviation(double angle, double translation) {
  return {Eigen::Quaterniond(Eigen::AngleAxisd(angle, Eigen::Vector3d::UnitZ())),
          Eigen::Vector3d(translation, 0.0, 0.0)};
}

TEST(AdaptiveThreshold, ModelErrorBoundsThePointDisplacement) {
  // A point at range r moves by 2 r sin(theta / 2) under a rotation by theta, plus |t|.
  EXPECT_NEAR(AdaptiveThreshold::ModelError(Deviation(0.0, 0.3), 50.0), 0.3, 1e-15);
  EXPECT_NEAR(AdaptiveThreshold::ModelError(Deviation(std::numbers::pi / 3.0, 0.0), 10.0), 10.0,
              1e-12);
  EXPECT_NEAR(AdaptiveThreshold::ModelError(Deviation(0.01, 0.2), 100.0),
              200.0 * std::sin(0.005) + 0.2, 1e-12);
  // Exactly the distance moved by the farthest point perpendicular to the axis.
  const Rigid3 deviation = Deviation(0.02, 0.0);
  const Eigen::Vector3d x(100.0, 0.0, 0.0);
  EXPECT_NEAR(AdaptiveThreshold::ModelError(deviation, 100.0), (deviation * x - x).norm(), 1e-12);
}

TEST(AdaptiveThreshold, SigmaIsTheRmsOfTheKeptDeviations) {
  AdaptiveThreshold threshold({.initial_sigma = 2.0, .min_motion = 0.1, .max_range = 100.0});
  EXPECT_EQ(threshold.Sigma(), 2.0);
  EXPECT_EQ(threshold.Threshold(), 6.0);
  // At or below min_motion: ignored (standing still teaches nothing).
  threshold.Update(Deviation(0.0, 0.05));
  threshold.Update(Deviation(0.0, 0.1));
  EXPECT_EQ(threshold.Samples(), 0);
  EXPECT_EQ(threshold.Sigma(), 2.0);
  threshold.Update(Deviation(0.0, 0.3));
  EXPECT_EQ(threshold.Samples(), 1);
  EXPECT_NEAR(threshold.Sigma(), 0.3, 1e-15);
  threshold.Update(Deviation(0.0, 0.4));
  EXPECT_NEAR(threshold.Sigma(), std::sqrt((0.09 + 0.16) / 2.0), 1e-15);
  EXPECT_NEAR(threshold.Threshold(), 3.0 * std::sqrt(0.125), 1e-14);
  // A rotation deviation counts through the range.
  threshold.Update(Deviation(0.002, 0.0));
  const double rotational = 200.0 * std::sin(0.001);
  EXPECT_NEAR(threshold.Sigma(), std::sqrt((0.25 + rotational * rotational) / 3.0), 1e-12);
}

TEST(AdaptiveThreshold, ConvergesToTheDeviationScaleOfASequence) {
  // Deviations of a steady odometry error of 0.5 m: the threshold settles at 3 * 0.5.
  AdaptiveThreshold threshold;
  for (int i = 0; i < 100; ++i) threshold.Update(Deviation(0.0, 0.5));
  EXPECT_NEAR(threshold.Threshold(), 1.5, 1e-12);
}

TEST(AdaptiveThreshold, RejectsBadInput) {
  EXPECT_THROW(AdaptiveThreshold({.initial_sigma = 0.0}), Error);
  EXPECT_THROW(AdaptiveThreshold({.min_motion = -1.0}), Error);
  EXPECT_THROW(AdaptiveThreshold({.max_range = 0.0}), Error);
  AdaptiveThreshold threshold;
  Rigid3 nan;
  nan.translation.x() = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(threshold.Update(nan), Error);
}

}  // namespace
}  // namespace facet::geometry
