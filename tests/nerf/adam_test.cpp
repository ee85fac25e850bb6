#include "nerf/adam.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.h"

namespace facet::nerf {
namespace {

// Adam minimises f(x) = sum_i (x_i - c_i)^2 / 2 from zero, and its first step moves every
// parameter with a non-zero gradient by exactly the learning rate (m_hat / sqrt(v_hat) = sign g).
TEST(NerfAdam, FirstStepIsTheLearningRateAndItConverges) {
  const std::vector<float> target = {1.0f, -2.0f, 0.5f, 0.0f};
  std::vector<float> x(4, 0.0f), g(4);
  Adam adam(4, {.learning_rate = 0.05f});
  for (int step = 0; step < 2000; ++step) {
    for (int i = 0; i < 4; ++i) g[i] = x[i] - target[i];
    adam.Step(x, g);
    if (step == 0) {
      EXPECT_FLOAT_EQ(x[0], 0.05f);
      EXPECT_FLOAT_EQ(x[1], -0.05f);
      EXPECT_FLOAT_EQ(x[3], 0.0f);  // zero gradient, zero moment: no move
    }
  }
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(x[i], target[i], 1e-3) << i;
  EXPECT_EQ(adam.step_count(), 2000);
}

TEST(NerfAdam, SparseStepsLeaveUntouchedParametersAndMoments) {
  std::vector<float> x = {1.0f, 1.0f}, g = {1.0f, 0.0f};
  Adam adam(2, {.learning_rate = 0.1f, .l2 = 0.5f, .sparse = true});
  adam.Step(x, g);
  EXPECT_LT(x[0], 1.0f);
  EXPECT_EQ(x[1], 1.0f);  // skipped: no weight decay either
  EXPECT_EQ(adam.first_moment()[1], 0.0f);
  Adam dense(2, {.learning_rate = 0.1f, .l2 = 0.5f});
  std::vector<float> y = {1.0f, 1.0f};
  dense.Step(y, g);
  EXPECT_LT(y[1], 1.0f);  // the decay term is a gradient of its own
}

TEST(NerfAdam, RejectsBadInput) {
  EXPECT_THROW(Adam(2, {.learning_rate = 0.0f}), Error);
  EXPECT_THROW(Adam(2, {.beta2 = 1.0f}), Error);
  Adam adam(2, {});
  std::vector<float> x(3), g(3);
  EXPECT_THROW(adam.Step(x, g), Error);
  EXPECT_THROW(adam.SetState(std::vector<float>(2), std::vector<float>(2), -1), Error);
}

}  // namespace
}  // namespace facet::nerf
