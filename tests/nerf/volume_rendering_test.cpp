// Volume rendering (nerf/volume_rendering.h): gradients against central finite differences for
// colour, opacity and depth losses, with and without early termination; the analytic opacity of
// a homogeneous slab; the colour losses; input checks.
#include "nerf/volume_rendering.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "core/error.h"
#include "nerf/kernels/loss.h"
#include "nerf/occupancy_grid.h"
#include "nerf/ray_marching.h"

namespace facet::nerf {
namespace {

struct Batch {
  std::vector<std::uint32_t> offsets{0};
  std::vector<float> t, dt, sigma, rgb, background;
  CompositeSamples View() const { return {offsets, t, dt, sigma, rgb}; }
  std::size_t rays() const { return offsets.size() - 1; }
};

// Rays with 0..24 samples, random sigma in [0, sigma_max], dt in [0.01, 0.1], rgb in [0, 1].
Batch RandomBatch(int n_rays, float sigma_max, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  Batch b;
  for (int r = 0; r < n_rays; ++r) {
    const int n = r == 0 ? 0 : int(rng() % 25);
    float s = 0.2f + u(rng);
    for (int i = 0; i < n; ++i) {
      const float dt = 0.01f + 0.09f * u(rng);
      b.t.push_back(s + 0.5f * dt);
      b.dt.push_back(dt);
      s += dt;
      b.sigma.push_back(sigma_max * u(rng));
      for (int k = 0; k < 3; ++k) b.rgb.push_back(u(rng));
    }
    b.offsets.push_back(std::uint32_t(b.t.size()));
    for (int k = 0; k < 3; ++k) b.background.push_back(u(rng));
  }
  return b;
}

struct Outputs {
  std::vector<float> colour, opacity, depth;
  std::vector<std::uint32_t> used;
};

Outputs Render(const Batch& b, float threshold) {
  Outputs o;
  o.colour.resize(3 * b.rays());
  o.opacity.resize(b.rays());
  o.depth.resize(b.rays());
  o.used.resize(b.rays());
  VolumeRenderingOptions options;
  options.transmittance_threshold = threshold;
  RenderRays(b.View(), b.background, options, {o.colour, o.opacity, o.depth, o.used});
  return o;
}

// L = sum wc . colour + wo opacity + wd depth over rays, in double.
double Loss(const Batch& b, float threshold, const std::vector<float>& wc,
            const std::vector<float>& wo, const std::vector<float>& wd) {
  const Outputs o = Render(b, threshold);
  double l = 0.0;
  for (std::size_t r = 0; r < b.rays(); ++r) {
    for (int k = 0; k < 3; ++k) l += double(wc[3 * r + k]) * o.colour[3 * r + k];
    l += double(wo[r]) * o.opacity[r] + double(wd[r]) * o.depth[r];
  }
  return l;
}

void CheckGradients(float sigma_max, float threshold, bool colour, bool opacity, bool depth,
                    bool expect_termination) {
  Batch b = RandomBatch(12, sigma_max, 7);
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> wc(3 * b.rays(), 0.0f), wo(b.rays(), 0.0f), wd(b.rays(), 0.0f);
  for (float& w : wc) w = colour ? u(rng) : 0.0f;
  for (float& w : wo) w = opacity ? u(rng) : 0.0f;
  for (float& w : wd) w = depth ? u(rng) : 0.0f;
  const Outputs o = Render(b, threshold);
  bool terminated = false;
  for (std::size_t r = 0; r < b.rays(); ++r) {
    terminated |= o.used[r] < b.offsets[r + 1] - b.offsets[r];
  }
  EXPECT_EQ(terminated, expect_termination);
  std::vector<float> d_sigma(b.t.size()), d_rgb(3 * b.t.size());
  RenderRaysBackward(b.View(), b.background, o.used, wc, wo, wd, d_sigma, d_rgb);
  // Central differences: the loss is smooth in sigma and linear in rgb; the float forward pass
  // rounds at ~1e-7 relative, so h = 1e-2 gives differences accurate to ~1e-4.
  const float h = 1e-2f;
  for (std::size_t i = 0; i < b.t.size(); ++i) {
    const float saved = b.sigma[i];
    b.sigma[i] = saved + h;
    const double plus = Loss(b, threshold, wc, wo, wd);
    b.sigma[i] = std::max(0.0f, saved - h);
    const double minus = Loss(b, threshold, wc, wo, wd);
    const double fd = (plus - minus) / double(saved + h - b.sigma[i]);
    b.sigma[i] = saved;
    EXPECT_NEAR(d_sigma[i], fd, 2e-3 * (1.0 + std::fabs(fd))) << "sigma of sample " << i;
    for (int k = 0; k < 3; ++k) {
      const float c = b.rgb[3 * i + k];
      b.rgb[3 * i + k] = c + h;
      const double p = Loss(b, threshold, wc, wo, wd);
      b.rgb[3 * i + k] = c - h;
      const double m = Loss(b, threshold, wc, wo, wd);
      b.rgb[3 * i + k] = c;
      EXPECT_NEAR(d_rgb[3 * i + k], (p - m) / (2.0 * h), 1e-3) << "rgb of sample " << i;
    }
  }
}

TEST(VolumeRendering, ColourGradientsMatchFiniteDifferences) {
  CheckGradients(5.0f, 0.0f, true, false, false, false);
}

TEST(VolumeRendering, OpacityGradientsMatchFiniteDifferences) {
  CheckGradients(5.0f, 0.0f, false, true, false, false);
}

TEST(VolumeRendering, DepthGradientsMatchFiniteDifferences) {
  CheckGradients(5.0f, 0.0f, false, false, true, false);
}

// sigma up to 400 with dt >= 0.01: transmittance drops below 1e-4 within a few samples, so rays
// stop early; the terminated forward pass is what the gradients must match.
TEST(VolumeRendering, GradientsWithEarlyTerminationMatchFiniteDifferences) {
  CheckGradients(400.0f, 1e-4f, true, true, true, true);
}

TEST(VolumeRendering, EarlyTerminationChangesTheResultByAtMostTheThreshold) {
  const Batch b = RandomBatch(40, 400.0f, 3);
  const Outputs full = Render(b, 0.0f), cut = Render(b, 1e-4f);
  for (std::size_t r = 0; r < b.rays(); ++r) {
    // The dropped samples carry weights summing to the remaining transmittance, < 1e-4.
    EXPECT_NEAR(cut.opacity[r], full.opacity[r], 1.01e-4);
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(cut.colour[3 * r + k], full.colour[3 * r + k], 2e-4);
    EXPECT_LE(cut.used[r], full.used[r]);
  }
}

// A homogeneous slab of thickness L: opacity 1 - exp(-sigma L) for any partition of [0, L]
// (the product of the per-interval transmittances is exact), and the expected depth of the
// exponential distribution, (1 - exp(-sigma L) (1 + sigma L)) / sigma, up to the midpoint rule.
TEST(VolumeRendering, HomogeneousSlabHasTheAnalyticOpacity) {
  const float sigma = 2.0f, length = 0.7f;
  Batch b;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(0.5f, 1.5f);
  std::vector<float> cuts{0.0f};
  while (cuts.back() < length) cuts.push_back(std::min(length, cuts.back() + 1e-3f * u(rng)));
  for (std::size_t i = 0; i + 1 < cuts.size(); ++i) {
    b.t.push_back(0.5f * (cuts[i] + cuts[i + 1]));
    b.dt.push_back(cuts[i + 1] - cuts[i]);
    b.sigma.push_back(sigma);
    for (const float c : {0.2f, 0.4f, 0.6f}) b.rgb.push_back(c);
  }
  b.offsets.push_back(std::uint32_t(b.t.size()));
  b.background = {1.0f, 1.0f, 1.0f};
  const Outputs o = Render(b, 0.0f);
  const double opacity = 1.0 - std::exp(-double(sigma) * length);
  EXPECT_NEAR(o.opacity[0], opacity, 2e-5);
  EXPECT_NEAR(o.colour[0], 0.2 * opacity + (1.0 - opacity), 2e-5);
  const double depth = (1.0 - std::exp(-sigma * length) * (1.0 + sigma * length)) / sigma;
  EXPECT_NEAR(o.depth[0], depth, 1e-5);
}

// The same slab through the marcher: a full grid over a box of side 0.7 crossed along x; the
// intervals partition the box chord, so the opacity is 1 - exp(-sigma * 0.7).
TEST(VolumeRendering, MarchedSlabHasTheAnalyticOpacity) {
  OccupancyGridOptions grid_options;
  grid_options.resolution = 16;
  const OccupancyGrid grid(Eigen::Vector3f(0.0f, 0.0f, 0.0f), Eigen::Vector3f(0.7f, 0.7f, 0.7f),
                           grid_options);
  const std::vector<float> origins{-1.0f, 0.3f, 0.4f}, directions{1.0f, 0.0f, 0.0f};
  const RaySamples s = MarchRays(origins, directions, 1, grid, RayMarchingOptions{}, 0);
  ASSERT_GT(s.size(), 100u);
  const std::vector<float> sigma(s.size(), 3.0f), rgb(3 * s.size(), 0.5f), bg{0.0f, 0.0f, 0.0f};
  std::vector<float> colour(3), opacity(1), depth(1);
  std::vector<std::uint32_t> used(1);
  VolumeRenderingOptions options;
  options.transmittance_threshold = 0.0f;
  RenderRays({s.ray_offsets, s.t, s.dt, sigma, rgb}, bg, options, {colour, opacity, depth, used});
  EXPECT_NEAR(opacity[0], 1.0 - std::exp(-3.0 * 0.7), 1e-5);
}

TEST(VolumeRendering, ColourLossesAndGradients) {
  const std::vector<float> predicted{0.1f, 0.5f, 0.9f, 0.3f, 0.3f, 0.0f};
  const std::vector<float> target{0.2f, 0.5f, 0.2f, 0.35f, 0.0f, 0.05f};
  std::vector<float> grad(6);
  double l2 = 0.0;
  for (int i = 0; i < 6; ++i) l2 += std::pow(double(predicted[i]) - target[i], 2) / 6.0;
  EXPECT_NEAR(ColourLoss(predicted, target, ColourLossKind::kL2, 0.0f, grad), l2, 1e-7);
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(grad[i], 2.0 * (predicted[i] - target[i]) / 6.0, 1e-7);
  // Huber, delta 0.1: quadratic for |r| <= 0.1, linear beyond.
  double huber = 0.0;
  for (int i = 0; i < 6; ++i) {
    const double r = double(predicted[i]) - target[i];
    huber += (std::fabs(r) <= 0.1 ? 0.5 * r * r : 0.1 * (std::fabs(r) - 0.05)) / 6.0;
  }
  EXPECT_NEAR(ColourLoss(predicted, target, ColourLossKind::kHuber, 0.1f, grad), huber, 1e-7);
  EXPECT_NEAR(grad[2], 0.1 / 6.0, 1e-7);
  EXPECT_NEAR(grad[0], -0.1 / 6.0, 1e-6);
  EXPECT_NEAR(grad[3], -0.05 / 6.0, 1e-7);
  // The per-element derivative against central differences, on both branches.
  for (const float r : {-0.3f, -0.05f, 0.02f, 0.25f}) {
    float d = 0.0f, unused = 0.0f;
    kernels::HuberLoss(r, 0.1f, &d);
    const float h = 1e-3f;
    const float fd =
        (kernels::HuberLoss(r + h, 0.1f, &unused) - kernels::HuberLoss(r - h, 0.1f, &unused)) /
        (2.0f * h);
    EXPECT_NEAR(d, fd, 1e-3f);
  }
  EXPECT_THROW(ColourLoss(predicted, target, ColourLossKind::kHuber, 0.0f, grad), Error);
  EXPECT_THROW(ColourLoss(predicted, std::vector<float>(3), ColourLossKind::kL2, 0.0f, grad),
               Error);
}

TEST(VolumeRendering, BadInputThrows) {
  Batch b = RandomBatch(4, 5.0f, 1);
  std::vector<float> colour(3 * b.rays()), opacity(b.rays()), depth(b.rays());
  std::vector<std::uint32_t> used(b.rays());
  const RayOutputs out{colour, opacity, depth, used};
  VolumeRenderingOptions options;
  EXPECT_NO_THROW(RenderRays(b.View(), b.background, options, out));
  EXPECT_NO_THROW(RenderRays(b.View(), std::vector<float>{0, 0, 0}, options, out));
  EXPECT_THROW(RenderRays(b.View(), std::vector<float>{0, 0}, options, out), Error);
  options.transmittance_threshold = 1.0f;
  EXPECT_THROW(RenderRays(b.View(), b.background, options, out), Error);
  options = {};
  Batch negative = b;
  negative.sigma.back() = -1.0f;
  EXPECT_THROW(RenderRays(negative.View(), b.background, options, out), Error);
  Batch nan = b;
  nan.sigma.front() = std::nanf("");
  EXPECT_THROW(RenderRays(nan.View(), b.background, options, out), Error);
  Batch decreasing = b;
  decreasing.offsets[2] = decreasing.offsets[1] + 100;
  EXPECT_THROW(RenderRays(decreasing.View(), b.background, options, out), Error);
  Batch short_rgb = b;
  short_rgb.rgb.pop_back();
  EXPECT_THROW(RenderRays(short_rgb.View(), b.background, options, out), Error);
  std::vector<float> d_sigma(b.t.size()), d_rgb(3 * b.t.size() + 1);
  EXPECT_THROW(RenderRaysBackward(b.View(), b.background, used, {}, {}, {}, d_sigma, d_rgb), Error);
}

}  // namespace
}  // namespace facet::nerf
