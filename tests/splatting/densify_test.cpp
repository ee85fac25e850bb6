#include "splatting/densify.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <numbers>
#include <random>
#include <vector>

#include "core/error.h"
#include "splatting/adam.h"
#include "splatting/detail/densify_ops.h"
#include "splatting/kernels/project.h"

namespace facet::splatting {
namespace {

using detail::Logit;
using detail::Sigmoid;

constexpr int kWidth = 100;
constexpr int kHeight = 80;

float Id(const Gaussians& g, std::int64_t i) { return g.sh_dc[3 * i]; }

// n Gaussians of degree 1 along the x axis: identity rotation, scale 0.001, opacity 0.5, and
// the index i stored in sh_dc[3 i] as an id that densification copies but never changes.
Gaussians MakeModel(std::int64_t n) {
  Gaussians g(n, 1);
  for (std::int64_t i = 0; i < n; ++i) {
    g.means[3 * i] = static_cast<float>(i);
    g.means[3 * i + 1] = 0.5f;
    g.means[3 * i + 2] = -0.25f;
    for (int a = 0; a < 3; ++a) g.log_scales[3 * i + a] = std::log(0.001f);
    g.quats[4 * i] = 1.0f;
    g.opacities[i] = 0.0f;
    g.sh_dc[3 * i] = static_cast<float>(i);
    g.sh_dc[3 * i + 1] = 0.25f;
    for (int k = 0; k < g.ShRestStride(); ++k) g.sh_rest[g.ShRestStride() * i + k] = 0.01f * k;
  }
  return g;
}

// An optimiser whose moments hold, for every float of Gaussian i in both moments, id(i) + 1:
// after densification each Gaussian's moments must still carry its own tag, or be zero.
Adam TaggedAdam(Gaussians& params) {
  Adam adam;
  Gaussians zero = params;
  zero.SetZero();
  adam.Step(params, zero, GroupLearningRates{});  // creates the moments; lr 0 moves nothing
  for (Gaussians* m : {&adam.FirstMoment(), &adam.SecondMoment()}) {
    for (int k = 0; k < Gaussians::kNumGroups; ++k) {
      const auto group = static_cast<Gaussians::Group>(k);
      const int w = params.Width(group);
      for (std::int64_t i = 0; i < params.size(); ++i) {
        for (int j = 0; j < w; ++j) m->Data(group)[w * i + j] = Id(params, i) + 1.0f;
      }
    }
  }
  return adam;
}

// The common value of every moment float of Gaussian i (skipping `except`), or NaN if they differ.
float MomentTag(const Adam& adam, std::int64_t i, int except = -1) {
  float tag = NAN;
  for (const Gaussians* m : {&adam.FirstMoment(), &adam.SecondMoment()}) {
    for (int k = 0; k < Gaussians::kNumGroups; ++k) {
      if (k == except) continue;
      const auto group = static_cast<Gaussians::Group>(k);
      const int w = m->Width(group);
      for (int j = 0; j < w; ++j) {
        const float v = m->Data(group)[w * i + j];
        if (std::isnan(tag)) tag = v;
        if (v != tag) return NAN;
      }
    }
  }
  return tag;
}

// One view in which Gaussian i has NDC mean-gradient `ndc[i]` along x (radius 3), or is not
// drawn (ndc[i] < 0).
struct View {
  std::vector<float> v_mean2d;
  std::vector<std::int32_t> radii;
  ViewGradientStats Stats() const { return {v_mean2d, v_mean2d, radii, kWidth, kHeight}; }
};
View MakeView(const std::vector<float>& ndc, std::int32_t radius = 3) {
  View v;
  for (const float g : ndc) {
    v.v_mean2d.push_back(g < 0.0f ? 0.0f : g / (0.5f * kWidth));  // px gradient
    v.v_mean2d.push_back(0.0f);
    v.radii.push_back(g < 0.0f ? 0 : radius);
  }
  return v;
}

DefaultStrategyOptions Schedule() {
  DefaultStrategyOptions o;
  o.refine_start = 10;
  o.refine_every = 10;
  o.refine_stop = 100;
  o.reset_every = 0;
  return o;
}

void ExpectSameGaussian(const Gaussians& a, std::int64_t i, const Gaussians& b, std::int64_t j) {
  for (int k = 0; k < Gaussians::kNumGroups; ++k) {
    const auto group = static_cast<Gaussians::Group>(k);
    const int w = a.Width(group);
    for (int c = 0; c < w; ++c) {
      EXPECT_EQ(a.Data(group)[w * i + c], b.Data(group)[w * j + c]) << "group " << k;
    }
  }
}

TEST(DefaultStrategy, ClonesSmallHighGradientGaussiansExactly) {
  Gaussians g = MakeModel(3);
  const Gaussians before = g;
  Adam adam = TaggedAdam(g);
  auto strategy = MakeDefaultStrategy(Schedule(), 1.0f);
  // Mean NDC gradients over the views that draw each Gaussian: 3e-4, 1.5e-4 (3e-4 and 0), 3e-4
  // (the view that does not draw it does not count).
  strategy->Observe(20, g, MakeView({3e-4f, 3e-4f, 3e-4f}).Stats());
  strategy->Observe(20, g, MakeView({3e-4f, 0.0f, -1.0f}).Stats());
  const DensifyResult r = strategy->Step(20, g, adam, 0.0f);
  EXPECT_EQ(r.added, 2);
  EXPECT_EQ(r.removed, 0);
  ASSERT_EQ(g.size(), 5);
  for (int i = 0; i < 3; ++i) ExpectSameGaussian(g, i, before, i);
  ExpectSameGaussian(g, 3, before, 0);
  ExpectSameGaussian(g, 4, before, 2);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(MomentTag(adam, i), i + 1.0f);
  EXPECT_EQ(MomentTag(adam, 3), 0.0f);
  EXPECT_EQ(MomentTag(adam, 4), 0.0f);
  // The statistics restart: without new views the next refinement does nothing.
  EXPECT_EQ(strategy->Step(30, g, adam, 0.0f).added, 0);
}

TEST(DefaultStrategy, SplitsLargeGaussiansIntoTwoSmallerChildrenNearThem) {
  constexpr int kParents = 1000;
  Gaussians g = MakeModel(kParents + 1);
  const Eigen::Vector3f sigma(0.2f, 0.05f, 0.02f);  // > percent_dense * extent = 0.01
  for (int i = 0; i < kParents; ++i) {
    for (int a = 0; a < 3; ++a) g.log_scales[3 * i + a] = std::log(sigma[a]);
    const float q[4] = {0.8f, 0.1f, -0.5f, 0.3f};  // unnormalised on purpose
    for (int a = 0; a < 4; ++a) g.quats[4 * i + a] = q[a];
  }
  const Gaussians before = g;
  Adam adam = TaggedAdam(g);
  auto strategy = MakeDefaultStrategy(Schedule(), 1.0f);
  std::vector<float> ndc(kParents + 1, 1e-3f);
  ndc.back() = 0.0f;  // the last one stays
  strategy->Observe(50, g, MakeView(ndc).Stats());
  const DensifyResult r = strategy->Step(50, g, adam, 0.0f);
  EXPECT_EQ(r.added, 2 * kParents);
  EXPECT_EQ(r.removed, kParents);
  ASSERT_EQ(g.size(), 2 * kParents + 1);
  ExpectSameGaussian(g, 0, before, kParents);
  EXPECT_EQ(MomentTag(adam, 0), kParents + 1.0f);

  const kernels::Mat3<float> rot =
      kernels::QuatToRotation(kernels::Quat<float>{0.8f, 0.1f, -0.5f, 0.3f});
  Eigen::Matrix3d second_moment = Eigen::Matrix3d::Zero();
  for (std::int64_t k = 1; k < g.size(); ++k) {
    // Child-major: children k and k + kParents come from parent (k - 1).
    const std::int64_t p = (k - 1) % kParents;
    EXPECT_EQ(Id(g, k), static_cast<float>(p));
    EXPECT_EQ(MomentTag(adam, k), 0.0f);
    EXPECT_EQ(g.opacities[k], before.opacities[p]);
    for (int a = 0; a < 4; ++a) EXPECT_EQ(g.quats[4 * k + a], before.quats[4 * p + a]);
    for (int a = 0; a < 3; ++a) {
      EXPECT_NEAR(std::exp(g.log_scales[3 * k + a]), sigma[a] / 1.6f, 1e-5f * sigma[a]);
    }
    // The offset in the parent's frame, in parent standard deviations: N(0, I).
    Eigen::Vector3d local;
    for (int a = 0; a < 3; ++a) {
      double d = 0.0;
      for (int b = 0; b < 3; ++b) d += rot(b, a) * (g.means[3 * k + b] - before.means[3 * p + b]);
      local[a] = d / sigma[a];
    }
    EXPECT_LT(local.norm(), 6.0);  // chi(3) > 6 has probability ~1e-7
    second_moment += local * local.transpose();
  }
  second_moment /= 2.0 * kParents;
  // 2000 samples: each entry of the sample covariance has standard error <= ~0.032.
  EXPECT_LT((second_moment - Eigen::Matrix3d::Identity()).cwiseAbs().maxCoeff(), 0.15)
      << second_moment;
}

TEST(DefaultStrategy, PrunesTransparentAndAfterTheFirstResetOversizedGaussians) {
  DefaultStrategyOptions o = Schedule();
  o.reset_every = 30;
  o.refine_stop = 1000;
  o.max_screen_size = 20.0f;  // off by default (see the next test)
  Gaussians g = MakeModel(4);
  g.opacities[0] = Logit(0.004f);             // transparent
  g.log_scales[3 * 2 + 1] = std::log(0.15f);  // larger than max_world_size * extent = 0.1
  std::vector<float> ndc(4, 0.0f);
  for (const std::int64_t iteration : {20, 40}) {
    Gaussians m = g;
    Adam adam = TaggedAdam(m);
    auto strategy = MakeDefaultStrategy(o, 1.0f);
    View v = MakeView(ndc);
    v.radii[3] = 25;  // larger than max_screen_size = 20 px
    strategy->Observe(iteration, m, v.Stats());
    const DensifyResult r = strategy->Step(iteration, m, adam, 0.0f);
    std::vector<float> ids;
    for (std::int64_t i = 0; i < m.size(); ++i) {
      ids.push_back(Id(m, i));
      EXPECT_EQ(MomentTag(adam, i), Id(m, i) + 1.0f);
    }
    if (iteration < o.reset_every) {
      EXPECT_EQ(ids, (std::vector<float>{1, 2, 3}));
    } else {
      EXPECT_EQ(ids, (std::vector<float>{1}));
    }
    EXPECT_EQ(r.removed, 4 - m.size());
  }
}

// By default the screen size prunes nothing (as gsplat's default): a Gaussian 25 px wide on screen
// after the first reset stays, the transparent one and the one too large in the world go.
TEST(DefaultStrategy, ScreenSizePruningIsOffByDefault) {
  DefaultStrategyOptions o = Schedule();
  o.reset_every = 30;
  o.refine_stop = 1000;
  EXPECT_EQ(DefaultStrategyOptions{}.max_screen_size, 0.0f);
  Gaussians g = MakeModel(4);
  g.opacities[0] = Logit(0.004f);
  g.log_scales[3 * 2 + 1] = std::log(0.15f);
  Adam adam = TaggedAdam(g);
  auto strategy = MakeDefaultStrategy(o, 1.0f);
  View v = MakeView(std::vector<float>(4, 0.0f));
  v.radii[3] = 25;
  strategy->Observe(40, g, v.Stats());
  strategy->Step(40, g, adam, 0.0f);
  std::vector<float> ids;
  for (std::int64_t i = 0; i < g.size(); ++i) ids.push_back(Id(g, i));
  EXPECT_EQ(ids, (std::vector<float>{1, 3}));
  o.max_screen_size = -1.0f;
  EXPECT_THROW(o.Check(), Error);
}

TEST(DefaultStrategy, OpacityResetClampsTo001AndZeroesOpacityMoments) {
  DefaultStrategyOptions o = Schedule();
  o.reset_every = 30;
  Gaussians g = MakeModel(3);
  g.opacities = {Logit(0.9f), Logit(0.006f), Logit(0.02f)};
  Adam adam = TaggedAdam(g);
  auto strategy = MakeDefaultStrategy(o, 1.0f);
  EXPECT_FALSE(strategy->Step(29, g, adam, 0.0f).opacity_reset);
  const DensifyResult r = strategy->Step(60, g, adam, 0.0f);  // refine and reset
  EXPECT_TRUE(r.opacity_reset);
  ASSERT_EQ(g.size(), 3);
  EXPECT_NEAR(Sigmoid(g.opacities[0]), 0.01f, 1e-6f);
  EXPECT_EQ(g.opacities[1], Logit(0.006f));  // already below: untouched
  EXPECT_NEAR(Sigmoid(g.opacities[2]), 0.01f, 1e-6f);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(adam.FirstMoment().opacities[i], 0.0f);
    EXPECT_EQ(adam.SecondMoment().opacities[i], 0.0f);
    EXPECT_EQ(MomentTag(adam, i, Gaussians::kOpacities), i + 1.0f);
  }
}

TEST(DefaultStrategy, DoesNothingOutsideTheScheduleOrOffTheInterval) {
  DefaultStrategyOptions o = Schedule();
  o.reset_every = 20;
  for (const std::int64_t iteration : {5, 10, 15, 25, 100, 120}) {
    Gaussians g = MakeModel(2);
    g.log_scales[0] = std::log(0.5f);  // would split
    g.opacities[1] = Logit(0.001f);    // would be pruned
    const Gaussians before = g;
    Adam adam = TaggedAdam(g);
    auto strategy = MakeDefaultStrategy(o, 1.0f);
    strategy->Observe(iteration, g, MakeView({1e-2f, 1e-2f}).Stats());
    const DensifyResult r = strategy->Step(iteration, g, adam, 0.0f);
    EXPECT_EQ(r.added, 0) << iteration;
    EXPECT_EQ(r.removed, 0) << iteration;
    EXPECT_FALSE(r.opacity_reset) << iteration;
    ASSERT_EQ(g.size(), 2);
    for (int i = 0; i < 2; ++i) {
      ExpectSameGaussian(g, i, before, i);
      EXPECT_EQ(MomentTag(adam, i), i + 1.0f);
    }
  }
  // Statistics seen at or after refine_stop are ignored as well (the reference stops gathering).
  Gaussians g = MakeModel(1);
  Adam adam = TaggedAdam(g);
  o.refine_stop = 50;
  auto strategy = MakeDefaultStrategy(o, 1.0f);
  strategy->Observe(50, g, MakeView({1e-2f}).Stats());
  EXPECT_EQ(strategy->Step(30, g, adam, 0.0f).added, 0);
}

// Acts is Step's schedule: true exactly at the refinements and resets inside the window, and
// where it is false, Step leaves a model that would be densified, pruned and reset untouched.
TEST(DefaultStrategy, ActsExactlyWhenStepMayChangeTheModel) {
  DefaultStrategyOptions o = Schedule();
  o.reset_every = 25;
  o.reset_at_refine_start = true;
  auto strategy = MakeDefaultStrategy(o, 1.0f);
  for (std::int64_t iteration = 1; iteration <= 130; ++iteration) {
    const bool refine = iteration > 10 && iteration % 10 == 0 && iteration < 100;
    const bool reset = (iteration % 25 == 0 || iteration == 10) && iteration < 100;
    EXPECT_EQ(strategy->Acts(iteration), refine || reset) << iteration;
    if (strategy->Acts(iteration)) continue;
    Gaussians g = MakeModel(2);
    g.log_scales[0] = std::log(0.5f);  // would split
    g.opacities[1] = Logit(0.001f);    // would be pruned
    const Gaussians before = g;
    Adam adam = TaggedAdam(g);
    auto fresh = MakeDefaultStrategy(o, 1.0f);
    fresh->Observe(iteration, g, MakeView({1e-2f, 1e-2f}).Stats());
    const DensifyResult r = fresh->Step(iteration, g, adam, 0.0f);
    EXPECT_EQ(r.added + r.removed, 0) << iteration;
    ASSERT_EQ(g.size(), 2);
    for (int i = 0; i < 2; ++i) ExpectSameGaussian(g, i, before, i);
  }
  // MCMC moves the means after every step.
  const auto mcmc = MakeMcmcStrategy(McmcStrategyOptions{}, 1.0f);
  for (const std::int64_t iteration : {1, 7, 500, 30000}) EXPECT_TRUE(mcmc->Acts(iteration));
}

TEST(DefaultStrategy, CapDensifiesTheLargestGradientsFirst) {
  DefaultStrategyOptions o = Schedule();
  o.max_gaussians = 8;
  Gaussians g = MakeModel(6);
  g.log_scales[3 * 5] = std::log(0.5f);  // Gaussian 5 splits (net +1); the others clone
  Adam adam = TaggedAdam(g);
  auto strategy = MakeDefaultStrategy(o, 1.0f);
  strategy->Observe(20, g, MakeView({3e-4f, 9e-4f, 1e-4f, 5e-4f, 4e-4f, 8e-4f}).Stats());
  const DensifyResult r = strategy->Step(20, g, adam, 0.0f);
  // Budget 2: Gaussian 1 (9e-4) is cloned and 5 (8e-4) split; 3, 4 and 0 miss out.
  ASSERT_EQ(g.size(), 8);
  EXPECT_EQ(r.added, 3);
  EXPECT_EQ(r.removed, 1);
  std::vector<float> ids;
  for (std::int64_t i = 0; i < g.size(); ++i) ids.push_back(Id(g, i));
  EXPECT_EQ(ids, (std::vector<float>{0, 1, 2, 3, 4, 1, 5, 5}));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(MomentTag(adam, i), Id(g, i) + 1.0f);
  for (int i = 5; i < 8; ++i) EXPECT_EQ(MomentTag(adam, i), 0.0f);
  // At the cap nothing more grows.
  strategy->Observe(30, g, MakeView(std::vector<float>(8, 1e-3f)).Stats());
  EXPECT_EQ(strategy->Step(30, g, adam, 0.0f).added, 0);
  EXPECT_EQ(g.size(), 8);
}

TEST(DefaultStrategy, CheckedInputs) {
  DefaultStrategyOptions o;
  o.refine_every = 0;
  EXPECT_THROW(MakeDefaultStrategy(o, 1.0f), Error);
  EXPECT_THROW(MakeDefaultStrategy({}, 0.0f), Error);
  auto strategy = MakeDefaultStrategy({}, 1.0f);
  Gaussians g = MakeModel(2);
  EXPECT_THROW(strategy->Observe(1, g, MakeView({1e-3f}).Stats()), Error);
  Adam adam = TaggedAdam(g);
  g.AppendCopies(std::vector<std::int64_t>{0});  // the optimiser no longer matches
  EXPECT_THROW(strategy->Step(600, g, adam, 0.0f), Error);
}

// ---------------------------------------------------------------------------------------------

TEST(McmcOps, RelocationKeepsOpacityAndTheIntegratedProfile) {
  for (const float o : {0.05f, 0.3f, 0.7f, 0.95f}) {
    const detail::Relocated one = detail::Relocate(o, 1, 0.005f);
    EXPECT_NEAR(one.opacity, o, 1e-6f);
    EXPECT_NEAR(one.scale_factor, 1.0f, 1e-5f);
    for (const int n : {2, 3, 5, 10}) {
      const detail::Relocated r = detail::Relocate(o, n, 0.005f);
      // n copies composite to the original opacity at the centre...
      EXPECT_NEAR(1.0 - std::pow(1.0 - r.opacity, n), o, 1e-5) << o << " " << n;
      // ... and their opacity profile 1 - (1 - o' g(x / s'))^n integrates, along an axis, to
      // that of the original, o s sqrt(2 pi) (Kheradmand et al. 2024, sec. 4.2).
      const double s = 1.0, s_new = r.scale_factor * s;
      double integral = 0.0;
      const double dx = 1e-3;
      for (double x = -20.0; x <= 20.0; x += dx) {
        integral += (1.0 - std::pow(1.0 - r.opacity * std::exp(-x * x / (2 * s_new * s_new)), n));
      }
      integral *= dx;
      EXPECT_NEAR(integral / (o * s * std::sqrt(2.0 * std::numbers::pi)), 1.0, 1e-4)
          << o << " " << n;
    }
  }
}

TEST(McmcOps, MultinomialFollowsTheWeights) {
  std::mt19937_64 rng(7);
  const std::vector<float> w = {1.0f, 0.0f, 3.0f, 0.0f};
  const std::vector<std::int64_t> s = detail::MultinomialSample(w, 40000, rng);
  const std::vector<std::int32_t> c = detail::CountOccurrences(s, 4);
  EXPECT_EQ(c[1], 0);
  EXPECT_EQ(c[3], 0);
  EXPECT_NEAR(c[0] / 40000.0, 0.25, 0.01);  // 4.6 standard errors
  EXPECT_THROW(detail::MultinomialSample(std::vector<float>{0.0f}, 1, rng), Error);
}

McmcStrategyOptions McmcSchedule(std::int64_t budget) {
  McmcStrategyOptions o;
  o.max_gaussians = budget;
  o.refine_start = 10;
  o.refine_every = 10;
  o.refine_stop = 100;
  return o;
}

TEST(McmcStrategy, RelocatesDeadGaussiansOntoLiveOnes) {
  constexpr int kN = 200;
  Gaussians g = MakeModel(kN);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(0.05f, 0.95f);
  for (int i = 0; i < kN; ++i) g.opacities[i] = i % 4 == 0 ? Logit(0.003f) : Logit(u(rng));
  const Gaussians before = g;
  Adam adam = TaggedAdam(g);
  // At the budget: relocation only (additions are covered below).
  auto strategy = MakeMcmcStrategy(McmcSchedule(kN), 1.0f);
  const DensifyResult r = strategy->Step(20, g, adam, 0.0f);  // no noise
  ASSERT_EQ(g.size(), kN);
  EXPECT_EQ(r.added, kN / 4);
  EXPECT_EQ(r.removed, 0);
  // Each dead slot now holds a copy of a live source (found by its id) and zero moments.
  std::map<int, int> copies;
  for (int k = 0; k < kN; k += 4) {
    const int id = static_cast<int>(Id(g, k));
    ASSERT_NE(id % 4, 0) << "copied from a dead Gaussian";
    ++copies[id];
    ExpectSameGaussian(g, k, g, id);
    EXPECT_EQ(MomentTag(adam, k), 0.0f);
  }
  for (int k = 0; k < kN; ++k) {
    if (k % 4 == 0) continue;
    EXPECT_EQ(Id(g, k), k);
    EXPECT_EQ(g.means[3 * k], before.means[3 * k]);
    const float o = Sigmoid(before.opacities[k]), o_new = Sigmoid(g.opacities[k]);
    if (copies.count(k) == 0) {
      ExpectSameGaussian(g, k, before, k);
      EXPECT_EQ(MomentTag(adam, k), k + 1.0f);
      continue;
    }
    // n + 1 copies of opacity o' composite to the source's opacity (eq. 9)...
    const int n = copies[k];
    EXPECT_NEAR(1.0f - std::pow(1.0f - o_new, n + 1), o, 1e-4f) << k;
    // ... with the scale correction of eq. 9, and fresh moments.
    const float factor = detail::Relocate(o, n + 1, 0.005f).scale_factor;
    EXPECT_NEAR(std::exp(g.log_scales[3 * k]), 0.001f * factor, 1e-8f);
    EXPECT_EQ(MomentTag(adam, k), 0.0f);
  }
  for (std::int64_t k = 0; k < g.size(); ++k) EXPECT_GT(Sigmoid(g.opacities[k]), 0.005f);
}

TEST(McmcStrategy, NeverExceedsTheBudget) {
  Gaussians g = MakeModel(100);
  Adam adam = TaggedAdam(g);
  auto strategy = MakeMcmcStrategy(McmcSchedule(112), 1.0f);
  const std::vector<std::int64_t> expected = {100, 105, 105, 110, 110, 112, 112};
  for (std::int64_t it = 15; it <= 45; it += 5) {
    strategy->Step(it, g, adam, 0.0f);
    EXPECT_EQ(g.size(), expected[(it - 15) / 5]) << it;
    EXPECT_EQ(adam.FirstMoment().size(), g.size());
  }
  for (std::int64_t it = 50; it <= 200; it += 10) strategy->Step(it, g, adam, 0.0f);
  EXPECT_EQ(g.size(), 112);
}

TEST(McmcStrategy, RegularizationGradientsMatchFiniteDifferences) {
  McmcStrategyOptions o = McmcSchedule(100);
  o.opacity_reg = 0.3f;
  o.scale_reg = 0.7f;
  auto strategy = MakeMcmcStrategy(o, 1.0f);
  Gaussians g = MakeModel(5);
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-2.0f, 2.0f);
  for (float& v : g.opacities) v = u(rng);
  for (float& v : g.log_scales) v = 0.5f * u(rng);
  Gaussians grads = g;
  grads.SetZero();
  grads.opacities[2] = 1.0f;  // gradients are added, not overwritten
  const double loss = strategy->AddRegularization(g, &grads);
  double expected = 0.0;
  for (const float v : g.opacities) expected += 0.3 / 5 * Sigmoid(v);
  for (const float v : g.log_scales) expected += 0.7 / 15 * std::exp(v);
  EXPECT_NEAR(loss, expected, 1e-6);
  const auto loss_of = [&](const Gaussians& m) {
    Gaussians scratch = m;
    return strategy->AddRegularization(m, &scratch);
  };
  const float h = 1e-2f;
  for (const Gaussians::Group group : {Gaussians::kOpacities, Gaussians::kLogScales}) {
    for (std::size_t j = 0; j < g.Data(group).size(); ++j) {
      Gaussians plus = g, minus = g;
      plus.Data(group)[j] += h;
      minus.Data(group)[j] -= h;
      const double fd = (loss_of(plus) - loss_of(minus)) /
                        (static_cast<double>(plus.Data(group)[j]) - minus.Data(group)[j]);
      const double added = (group == Gaussians::kOpacities && j == 2) ? 1.0 : 0.0;
      EXPECT_NEAR(grads.Data(group)[j] - added, fd, 1e-4 * std::abs(fd) + 1e-7) << j;
    }
  }
  for (const float v : grads.means) EXPECT_EQ(v, 0.0f);
}

TEST(McmcStrategy, NoiseMovesTransparentGaussiansAlongTheirCovariance) {
  constexpr int kN = 2000;
  Gaussians g = MakeModel(kN);
  for (int i = 0; i < kN; ++i) {
    g.opacities[i] = i % 2 == 0 ? Logit(0.001f) : Logit(0.9f);
    g.log_scales[3 * i] = std::log(0.02f);  // the x axis is 4 times the others
    g.log_scales[3 * i + 1] = g.log_scales[3 * i + 2] = std::log(0.005f);
  }
  const Gaussians before = g;
  auto strategy = MakeMcmcStrategy(McmcSchedule(kN), 1.0f);
  Adam adam;
  strategy->Step(5, g, adam, 1e-4f);  // not a refinement step: noise only
  ASSERT_EQ(g.size(), kN);
  // Transparent: step = Sigma z * gate * lr * noise_lr, Sigma = diag(4e-4, 2.5e-5, 2.5e-5).
  const double scale = detail::NoiseGate(0.001f) * 1e-4 * 5e5;
  double var[3] = {0, 0, 0}, opaque_max = 0.0;
  for (int i = 0; i < kN; ++i) {
    for (int a = 0; a < 3; ++a) {
      const double d = g.means[3 * i + a] - before.means[3 * i + a];
      if (i % 2 == 0) {
        var[a] += d * d / (kN / 2);
      } else {
        opaque_max = std::max(opaque_max, std::abs(d));
      }
    }
  }
  EXPECT_EQ(opaque_max, 0.0);  // gate(0.9) ~ exp(-88): below float resolution of the means
  // Standard deviation along each axis: Sigma_aa * scale (within 10% for 1000 samples).
  EXPECT_NEAR(std::sqrt(var[0]) / (4e-4 * scale), 1.0, 0.1);
  EXPECT_NEAR(std::sqrt(var[1]) / (2.5e-5 * scale), 1.0, 0.1);
  EXPECT_NEAR(std::sqrt(var[2]) / (2.5e-5 * scale), 1.0, 0.1);
  // No learning rate, no noise.
  const Gaussians moved = g;
  strategy->Step(6, g, adam, 0.0f);
  EXPECT_EQ(g.means, moved.means);
}

TEST(Densification, DeterministicForASeed) {
  const auto run_mcmc = [](std::uint64_t seed) {
    McmcStrategyOptions o = McmcSchedule(150);
    o.seed = seed;
    Gaussians g = MakeModel(100);
    for (int i = 0; i < 100; i += 3) g.opacities[i] = Logit(0.001f);
    Adam adam = TaggedAdam(g);
    auto strategy = MakeMcmcStrategy(o, 1.0f);
    for (std::int64_t it = 1; it <= 40; ++it) strategy->Step(it, g, adam, 1e-4f);
    return g;
  };
  const auto run_default = [](std::uint64_t seed) {
    DefaultStrategyOptions o = Schedule();
    o.seed = seed;
    Gaussians g = MakeModel(50);
    for (float& s : g.log_scales) s = std::log(0.3f);
    Adam adam = TaggedAdam(g);
    auto strategy = MakeDefaultStrategy(o, 1.0f);
    strategy->Observe(20, g, MakeView(std::vector<float>(50, 1e-3f)).Stats());
    strategy->Step(20, g, adam, 0.0f);
    return g;
  };
  for (const auto& run : {std::function<Gaussians(std::uint64_t)>(run_mcmc),
                          std::function<Gaussians(std::uint64_t)>(run_default)}) {
    const Gaussians a = run(1), b = run(1), c = run(2);
    EXPECT_EQ(a.means, b.means);
    EXPECT_EQ(a.opacities, b.opacities);
    EXPECT_EQ(a.log_scales, b.log_scales);
    EXPECT_EQ(a.sh_dc, b.sh_dc);
    EXPECT_NE(a.means, c.means);
  }
}

}  // namespace
}  // namespace facet::splatting
