#include "splatting/adam.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "splatting/gaussians.h"

namespace facet::splatting {
namespace {

using Group = Gaussians::Group;

Gaussians Random(std::int64_t count, int degree, std::uint64_t seed, float lo, float hi) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> uniform(lo, hi);
  Gaussians g(count, degree);
  for (int group = 0; group < Gaussians::kNumGroups; ++group) {
    for (float& v : g.Data(static_cast<Group>(group))) v = uniform(rng);
  }
  return g;
}

// Gradient entries away from zero, with random signs.
Gaussians RandomGradients(std::int64_t count, int degree, std::uint64_t seed) {
  Gaussians g = Random(count, degree, seed, 1e-3f, 2.0f);
  std::mt19937_64 rng(seed + 1000);
  for (int group = 0; group < Gaussians::kNumGroups; ++group) {
    for (float& v : g.Data(static_cast<Group>(group))) {
      if (rng() & 1) v = -v;
    }
  }
  return g;
}

const GroupLearningRates kLr = {1.6e-4f, 5e-3f, 1e-3f, 5e-2f, 2.5e-3f, 1.25e-4f};

void ExpectMomentsEqual(const Adam& a, const Adam& b) {
  for (int group = 0; group < Gaussians::kNumGroups; ++group) {
    const auto gr = static_cast<Group>(group);
    const auto am = a.FirstMoment().Data(gr);
    const auto bm = b.FirstMoment().Data(gr);
    const auto av = a.SecondMoment().Data(gr);
    const auto bv = b.SecondMoment().Data(gr);
    ASSERT_EQ(am.size(), bm.size());
    ASSERT_EQ(av.size(), bv.size());
    EXPECT_EQ(std::memcmp(am.data(), bm.data(), am.size() * sizeof(float)), 0);
    EXPECT_EQ(std::memcmp(av.data(), bv.data(), av.size() * sizeof(float)), 0);
  }
}

TEST(Adam, FirstStepMovesEachParameterByLearningRateTimesSign) {
  const Gaussians start = Random(50, 2, 1, -1.0f, 1.0f);
  Gaussians params = start;
  Gaussians grads = RandomGradients(50, 2, 2);
  grads.opacities[7] = 0.0f;  // no gradient: m_hat = 0, no move
  Adam adam;
  adam.Step(params, grads, kLr);
  EXPECT_EQ(adam.StepCount(), 1);
  // m_hat = g and v_hat = g^2 after one step, so the move is lr * g / (|g| + eps).
  for (int group = 0; group < Gaussians::kNumGroups; ++group) {
    const auto gr = static_cast<Group>(group);
    const auto p0 = start.Data(gr);
    const auto p1 = params.Data(gr);
    const auto g = grads.Data(gr);
    for (std::size_t i = 0; i < p0.size(); ++i) {
      const double expected = g[i] == 0.0f ? 0.0 : -kLr[group] * (g[i] > 0 ? 1.0 : -1.0);
      // Float rounding of p (|p| <= 1) and of m_hat / sqrt(v_hat) (a few ulps of 1).
      EXPECT_NEAR(p1[i] - p0[i], expected, 1e-7 + 1e-6 * kLr[group]) << group << " " << i;
    }
  }
  EXPECT_EQ(params.opacities[7], start.opacities[7]);
}

// torch.optim.Adam written out for one scalar, in double.
struct ScalarAdam {
  double m = 0.0, v = 0.0;
  void Step(double& p, double g, double lr, int t, double b1, double b2, double eps) {
    m = b1 * m + (1.0 - b1) * g;
    v = b2 * v + (1.0 - b2) * g * g;
    const double m_hat = m / (1.0 - std::pow(b1, t));
    const double v_hat = v / (1.0 - std::pow(b2, t));
    p -= lr * m_hat / (std::sqrt(v_hat) + eps);
  }
};

TEST(Adam, SeveralStepsMatchAScalarReference) {
  AdamOptions options;
  options.beta1 = 0.8f;
  options.beta2 = 0.99f;
  options.epsilon = 1e-8f;
  const int kSteps = 25;
  const Gaussians start = Random(40, 1, 3, -1.0f, 1.0f);
  Gaussians params = start;
  std::vector<std::vector<double>> ref(Gaussians::kNumGroups);
  std::vector<std::vector<ScalarAdam>> state(Gaussians::kNumGroups);
  for (int group = 0; group < Gaussians::kNumGroups; ++group) {
    const auto p = start.Data(static_cast<Group>(group));
    ref[group].assign(p.begin(), p.end());
    state[group].resize(p.size());
  }
  Adam adam(options);
  for (int t = 1; t <= kSteps; ++t) {
    // Gradients that change magnitude and sign from step to step.
    const Gaussians grads = RandomGradients(40, 1, 100 + t);
    adam.Step(params, grads, kLr);
    for (int group = 0; group < Gaussians::kNumGroups; ++group) {
      const auto g = grads.Data(static_cast<Group>(group));
      for (std::size_t i = 0; i < g.size(); ++i) {
        state[group][i].Step(ref[group][i], g[i], kLr[group], t, options.beta1, options.beta2,
                             options.epsilon);
      }
    }
  }
  EXPECT_EQ(adam.StepCount(), kSteps);
  for (int group = 0; group < Gaussians::kNumGroups; ++group) {
    const auto p = params.Data(static_cast<Group>(group));
    for (std::size_t i = 0; i < p.size(); ++i) {
      // Each step moves by at most about lr / (1 - b1) in float (relative error ~1e-6), and p
      // itself rounds at ~6e-8.
      EXPECT_NEAR(p[i], ref[group][i], 1e-6 + kSteps * 1e-5 * kLr[group]) << group << " " << i;
    }
  }
}

TEST(Adam, ZeroGradientsStillDecayMomentsAndMove) {
  Gaussians params = Random(4, 0, 5, -1.0f, 1.0f);
  Adam adam;
  adam.Step(params, RandomGradients(4, 0, 6), kLr);
  const Gaussians m1 = adam.FirstMoment();
  const Gaussians v1 = adam.SecondMoment();
  const Gaussians p1 = params;
  adam.Step(params, Gaussians(4, 0), kLr);
  for (std::size_t i = 0; i < params.means.size(); ++i) {
    EXPECT_FLOAT_EQ(adam.FirstMoment().means[i], 0.9f * m1.means[i]);
    EXPECT_FLOAT_EQ(adam.SecondMoment().means[i], 0.999f * v1.means[i]);
    EXPECT_NE(params.means[i], p1.means[i]);
  }
}

TEST(Adam, BookkeepingKeepsMomentsAlignedWithGaussians) {
  Gaussians params = Random(5, 1, 7, -1.0f, 1.0f);
  // Gradient of Gaussian i: i + 1 everywhere, so m_i = (1 - b1)(i + 1) after one step.
  Gaussians grads(5, 1);
  for (int group = 0; group < Gaussians::kNumGroups; ++group) {
    const auto gr = static_cast<Group>(group);
    const int w = grads.Width(gr);
    for (int i = 0; i < 5; ++i) {
      for (int j = 0; j < w; ++j) grads.Data(gr)[i * w + j] = static_cast<float>(i + 1);
    }
  }
  Adam adam;
  adam.Step(params, grads, kLr);
  const bool keep[] = {false, true, true, false, true};
  params.Compact(keep);
  adam.Compact(keep);
  const std::int64_t copies[] = {2, 0};
  params.AppendCopies(copies);
  adam.AppendZeros(2);
  ASSERT_EQ(adam.FirstMoment().size(), params.size());
  ASSERT_EQ(adam.SecondMoment().size(), params.size());
  EXPECT_NO_THROW(adam.FirstMoment().Check());
  const std::vector<float> expected_m = {0.2f, 0.3f, 0.5f, 0.0f, 0.0f};
  for (int group = 0; group < Gaussians::kNumGroups; ++group) {
    const auto gr = static_cast<Group>(group);
    const int w = params.Width(gr);
    for (int r = 0; r < 5; ++r) {
      for (int j = 0; j < w; ++j) {
        EXPECT_NEAR(adam.FirstMoment().Data(gr)[r * w + j], expected_m[r], 1e-6);
        // v = (1 - b2) g^2, with 1 - b2 as float arithmetic gives it (0.999f is not 0.999).
        const float g = std::round(expected_m[r] / 0.1f);
        EXPECT_NEAR(adam.SecondMoment().Data(gr)[r * w + j], (1.0f - 0.999f) * g * g, 1e-8);
      }
    }
  }
  adam.ZeroMoments(std::vector<std::int64_t>{0});
  EXPECT_EQ(adam.FirstMoment().means[0], 0.0f);
  EXPECT_EQ(adam.SecondMoment().sh_rest[8], 0.0f);
  EXPECT_NE(adam.FirstMoment().means[3], 0.0f);
  adam.ZeroGroup(Gaussians::kOpacities);
  for (float v : adam.FirstMoment().opacities) EXPECT_EQ(v, 0.0f);
  for (float v : adam.SecondMoment().opacities) EXPECT_EQ(v, 0.0f);
  EXPECT_NE(adam.SecondMoment().quats[4], 0.0f);
  EXPECT_THROW(adam.ZeroMoments(std::vector<std::int64_t>{5}), Error);
  // The next step runs on the aligned state.
  EXPECT_NO_THROW(adam.Step(params, Gaussians(5, 1), kLr));
  EXPECT_EQ(adam.FirstMoment().size(), 5);
}

TEST(Adam, StepRejectsMismatchedGradientsAndLearningRates) {
  Gaussians params(3, 1);
  Adam adam;
  EXPECT_THROW(adam.Step(params, Gaussians(2, 1), kLr), Error);
  EXPECT_THROW(adam.Step(params, Gaussians(3, 2), kLr), Error);
  GroupLearningRates bad = kLr;
  bad[Gaussians::kQuats] = -1.0f;
  EXPECT_THROW(adam.Step(params, Gaussians(3, 1), bad), Error);
  EXPECT_EQ(adam.StepCount(), 0);
  AdamOptions options;
  options.beta2 = 1.0f;
  EXPECT_THROW(Adam{options}, Error);
}

TEST(Adam, SaveLoadRoundTripContinuesIdentically) {
  Gaussians params = Random(6, 3, 9, -1.0f, 1.0f);
  AdamOptions options;
  options.beta1 = 0.85f;
  Adam adam(options);
  for (int t = 0; t < 3; ++t) adam.Step(params, RandomGradients(6, 3, 20 + t), kLr);
  std::stringstream stream;
  adam.Save(stream);
  Adam loaded;  // default options: Load restores beta1 = 0.85
  loaded.Load(stream);
  EXPECT_EQ(loaded.StepCount(), 3);
  ExpectMomentsEqual(adam, loaded);
  Gaussians params2 = params;
  const Gaussians grads = RandomGradients(6, 3, 30);
  adam.Step(params, grads, kLr);
  loaded.Step(params2, grads, kLr);
  ExpectMomentsEqual(adam, loaded);
  EXPECT_EQ(params.means, params2.means);
  EXPECT_EQ(params.sh_rest, params2.sh_rest);
}

TEST(Adam, LoadRejectsTruncatedAndCorruptStreams) {
  Gaussians params = Random(3, 0, 11, -1.0f, 1.0f);
  Adam adam;
  adam.Step(params, RandomGradients(3, 0, 12), kLr);
  std::stringstream stream;
  adam.Save(stream);
  const std::string bytes = stream.str();
  for (std::size_t length = 0; length < bytes.size(); ++length) {
    std::istringstream truncated(bytes.substr(0, length));
    Adam other;
    EXPECT_THROW(other.Load(truncated), Error) << "length " << length;
    EXPECT_EQ(other.StepCount(), 0);  // a failed load leaves the optimiser as it was
  }
  // A header claiming 2^35 Gaussians with no data behind it: an error, not a huge allocation.
  std::string huge = bytes.substr(0, 32);
  const std::int64_t count = std::int64_t{1} << 35;
  huge.append(reinterpret_cast<const char*>(&count), sizeof(count));
  std::istringstream huge_stream(huge);
  EXPECT_THROW(Adam().Load(huge_stream), Error);
  // Bad magic; a negative count.
  std::string bad = bytes;
  bad[0] ^= 0x55;
  std::istringstream bad_stream(bad);
  EXPECT_THROW(Adam().Load(bad_stream), Error);
  std::string negative = bytes.substr(0, 32);
  const std::int64_t minus_one = -1;
  negative.append(reinterpret_cast<const char*>(&minus_one), sizeof(minus_one));
  std::istringstream negative_stream(negative);
  EXPECT_THROW(Adam().Load(negative_stream), Error);
}

TEST(ExponentialLearningRate, EndpointsAndGeometricMidpoint) {
  const float lr_init = 1.6e-4f, lr_final = 1.6e-6f;
  EXPECT_FLOAT_EQ(ExponentialLearningRate(lr_init, lr_final, 0, 30000), lr_init);
  EXPECT_FLOAT_EQ(ExponentialLearningRate(lr_init, lr_final, 30000, 30000), lr_final);
  EXPECT_FLOAT_EQ(ExponentialLearningRate(lr_init, lr_final, 15000, 30000),
                  std::sqrt(static_cast<double>(lr_init) * lr_final));
  EXPECT_FLOAT_EQ(ExponentialLearningRate(lr_init, lr_final, 90000, 30000), lr_final);
  EXPECT_FLOAT_EQ(ExponentialLearningRate(lr_init, lr_final, -5, 30000), lr_init);
  EXPECT_FLOAT_EQ(ExponentialLearningRate(lr_init, lr_final, 100, 0), lr_init);
  EXPECT_EQ(ExponentialLearningRate(0.0f, 0.0f, 100, 1000), 0.0f);
  EXPECT_THROW(ExponentialLearningRate(0.0f, 1e-3f, 100, 1000), Error);
}

}  // namespace
}  // namespace facet::splatting
