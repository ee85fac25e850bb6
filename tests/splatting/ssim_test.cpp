#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "fd.h"
#include "splatting/kernels/ssim.h"
#include "splatting/loss.h"

namespace facet::splatting {
namespace {

using kernels::SsimStats;
using test::CentralDifferences;
using test::ExpectGradientNear;
using test::Uniform;

// Pixel values on a 2^-10 grid in [1/8, 7/8], so that +-kStep perturbations are exact in float.
constexpr double kStep = 1.0 / 1024.0;

ImageF32 RandomImage(int w, int h, int c, std::mt19937& rng) {
  ImageF32 img(w, h, c);
  std::uniform_int_distribution<int> q(128, 896);
  for (std::size_t i = 0; i < img.size(); ++i) img.data()[i] = float(q(rng) * kStep);
  return img;
}

// Normalised 1D Gaussian window, written independently of loss.cpp.
std::vector<double> Window1d() {
  std::vector<double> g(11);
  double s = 0.0;
  for (int i = 0; i < 11; ++i) s += g[i] = std::exp(-(i - 5.0) * (i - 5.0) / (2.0 * 1.5 * 1.5));
  for (double& v : g) v /= s;
  return g;
}

// Brute force: direct 11x11 windowed sums with zero padding, and the SSIM formula spelled out.
double BruteForceSsim(const ImageF32& a, const ImageF32& b) {
  const std::vector<double> g = Window1d();
  double total = 0.0;
  for (int c = 0; c < a.channels(); ++c) {
    for (int y = 0; y < a.height(); ++y) {
      for (int x = 0; x < a.width(); ++x) {
        double mx = 0, my = 0, exx = 0, eyy = 0, exy = 0;
        for (int dy = -5; dy <= 5; ++dy) {
          for (int dx = -5; dx <= 5; ++dx) {
            const int u = x + dx, v = y + dy;
            if (u < 0 || v < 0 || u >= a.width() || v >= a.height()) continue;
            const double wgt = g[dx + 5] * g[dy + 5];
            const double p = a(u, v, c), q = b(u, v, c);
            mx += wgt * p;
            my += wgt * q;
            exx += wgt * p * p;
            eyy += wgt * q * q;
            exy += wgt * p * q;
          }
        }
        const double vx = exx - mx * mx, vy = eyy - my * my, cxy = exy - mx * my;
        const double c1 = 1e-4, c2 = 9e-4;
        total += (2 * mx * my + c1) * (2 * cxy + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2));
      }
    }
  }
  return total / double(a.size());
}

TEST(SsimKernel, VjpMatchesFiniteDifferences) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 20; ++trial) {
    const double mx = Uniform(rng, 0.05, 0.95), my = Uniform(rng, 0.05, 0.95);
    const double vx = Uniform(rng, 0.0, 0.05), vy = Uniform(rng, 0.0, 0.05);
    const double cxy = Uniform(rng, -1.0, 1.0) * std::sqrt(vx * vy);
    const std::vector<double> s0{mx, my, vx, vy, cxy};
    const double w = Uniform(rng, -2.0, 2.0);
    auto f = [&](const std::vector<double>& s) {
      return w * kernels::SsimFromStats(SsimStats<double>{s[0], s[1], s[2], s[3], s[4]});
    };
    const SsimStats<double> v = kernels::SsimFromStatsVjp(SsimStats<double>{mx, my, vx, vy, cxy}, w);
    ExpectGradientNear({v.mu_x, v.mu_y, v.var_x, v.var_y, v.cov_xy},
                       CentralDifferences(f, s0, 1e-6), 1e-6, "ssim stats");
  }
}

TEST(SsimLoss, IdenticalImagesGiveOneAndZeroGradient) {
  std::mt19937 rng(1);
  const ImageF32 img = RandomImage(16, 13, 3, rng);
  ImageF32 grad(16, 13, 3, 1.0f);
  ImageView<float> gv = grad.view();
  EXPECT_NEAR(SsimLoss(img, img, &gv), 0.0, 1e-12);
  EXPECT_NEAR(Ssim(img, img), 1.0, 1e-12);
  for (std::size_t i = 0; i < grad.size(); ++i) ASSERT_NEAR(grad.data()[i], 0.0f, 1e-9f) << i;
}

TEST(SsimLoss, MatchesBruteForceWindowedSums) {
  std::mt19937 rng(2);
  for (auto [w, h] : {std::pair{12, 10}, std::pair{25, 17}, std::pair{3, 4}}) {
    const ImageF32 a = RandomImage(w, h, 3, rng), b = RandomImage(w, h, 3, rng);
    EXPECT_NEAR(Ssim(a, b), BruteForceSsim(a, b), 1e-12) << w << "x" << h;
  }
}

// Constant images a and a + b: at a pixel whose zero-padded window sums to s, mu = a s,
// var = a^2 s (1 - s), cov = a (a + b) s (1 - s); in the interior (s = 1) this is the luminance
// term (2 a (a + b) + C1) / (a^2 + (a + b)^2 + C1).
TEST(SsimLoss, ConstantShiftMatchesClosedForm) {
  const int w = 30, h = 24;
  const double a = 0.25, b = 0.5;
  const ImageF32 x(w, h, 1, float(a)), y(w, h, 1, float(a + b));
  const std::vector<double> g = Window1d();
  auto partial = [&](int i, int n) {
    double s = 0.0;
    for (int k = -5; k <= 5; ++k) s += (i + k >= 0 && i + k < n) ? g[k + 5] : 0.0;
    return s;
  };
  double expected = 0.0;
  for (int j = 0; j < h; ++j) {
    for (int i = 0; i < w; ++i) {
      const double s = partial(i, w) * partial(j, h);
      const double ab = a + b;
      expected += kernels::SsimFromStats(SsimStats<double>{
          a * s, ab * s, a * a * s * (1 - s), ab * ab * s * (1 - s), a * ab * s * (1 - s)});
    }
  }
  expected /= w * h;
  EXPECT_NEAR(Ssim(x, y), expected, 1e-12);
  // Interior pixel value, checked directly against the luminance formula.
  const double interior = (2 * a * (a + b) + 1e-4) / (a * a + (a + b) * (a + b) + 1e-4);
  EXPECT_NEAR(kernels::SsimFromStats(SsimStats<double>{a, a + b, 0.0, 0.0, 0.0}), interior, 1e-15);
  EXPECT_LT(Ssim(x, y), 1.0);
}

// Central differences over a handful of random pixels of a float render; the perturbations are
// exact in float and the loss is accumulated in double, so only the O(h^2) truncation remains.
void CheckGradient(double (*loss)(ImageView<const float>, ImageView<const float>, ImageView<float>*),
                   const char* what) {
  std::mt19937 rng(3);
  const int w = 12, h = 10, c = 3;
  ImageF32 render = RandomImage(w, h, c, rng);
  const ImageF32 target = RandomImage(w, h, c, rng);
  ImageF32 grad(w, h, c);
  ImageView<float> gv = grad.view();
  loss(render, target, &gv);
  std::uniform_int_distribution<int> pick(0, int(render.size()) - 1);
  std::vector<double> analytic, fd;
  for (int k = 0; k < 12; ++k) {
    const int idx = pick(rng);
    float& p = render.data()[idx];
    const float p0 = p;
    p = float(p0 + kStep);
    const double lp = loss(render, target, nullptr);
    p = float(p0 - kStep);
    const double lm = loss(render, target, nullptr);
    p = p0;
    analytic.push_back(grad.data()[idx]);
    fd.push_back((lp - lm) / (2 * kStep));
  }
  ExpectGradientNear(analytic, fd, 1e-5, what);
}

TEST(SsimLoss, GradientMatchesFiniteDifferences) {
  CheckGradient(&SsimLoss, "1 - ssim");
}

double Combined(ImageView<const float> r, ImageView<const float> t, ImageView<float>* d) {
  return PhotometricLoss(r, t, d);
}

TEST(PhotometricLoss, GradientMatchesFiniteDifferences) {
  // L1 is piecewise linear: pixels sit on a 2^-10 grid with |r - t| >= 0 and the step equals the
  // grid spacing, so a kink could be crossed only where r == t +- step; the fixed seed avoids it.
  CheckGradient(&Combined, "photometric");
}

TEST(L1Loss, ValueAndGradientSign) {
  ImageF32 r(2, 1, 3), t(2, 1, 3);
  const float rv[6] = {0.5f, 0.2f, 0.7f, 0.1f, 0.9f, 0.4f};
  const float tv[6] = {0.25f, 0.2f, 0.9f, 0.3f, 0.5f, 0.4f};
  for (int i = 0; i < 6; ++i) r.data()[i] = rv[i], t.data()[i] = tv[i];
  ImageF32 grad(2, 1, 3);
  ImageView<float> gv = grad.view();
  double expected = 0.0;
  for (int i = 0; i < 6; ++i) expected += std::abs(double(rv[i]) - double(tv[i]));
  EXPECT_NEAR(L1Loss(r, t, &gv), expected / 6.0, 1e-12);
  for (int i = 0; i < 6; ++i) {
    const float want = rv[i] > tv[i] ? 1.0f / 6 : (rv[i] < tv[i] ? -1.0f / 6 : 0.0f);
    EXPECT_FLOAT_EQ(grad.data()[i], want) << i;
  }
}

TEST(PhotometricLoss, CombinesL1AndDssimWithLambda) {
  std::mt19937 rng(4);
  const ImageF32 r = RandomImage(14, 11, 3, rng), t = RandomImage(14, 11, 3, rng);
  const std::size_t n = r.size();
  ImageF32 g_l1(14, 11, 3), g_ssim(14, 11, 3), g_all(14, 11, 3);
  ImageView<float> v_l1 = g_l1.view(), v_ssim = g_ssim.view(), v_all = g_all.view();
  const double l1 = L1Loss(r, t, &v_l1), dssim = SsimLoss(r, t, &v_ssim);
  for (double lambda : {0.0, 0.2, 1.0}) {
    EXPECT_NEAR(PhotometricLoss(r, t, &v_all, lambda), (1 - lambda) * l1 + lambda * dssim, 1e-12);
    for (std::size_t i = 0; i < n; ++i) {
      // Each of the three gradients was rounded to float once (relative 2^-24 each).
      const double a = (1 - lambda) * g_l1.data()[i], b = lambda * g_ssim.data()[i];
      ASSERT_NEAR(g_all.data()[i], a + b, 3e-7 * (std::abs(a) + std::abs(b)) + 1e-15)
          << lambda << " " << i;
    }
  }
  EXPECT_NEAR(PhotometricLoss(r, t), 0.8 * l1 + 0.2 * dssim, 1e-12);
  EXPECT_THROW(PhotometricLoss(r, t, nullptr, 1.5), Error);
  const ImageF32 small(5, 5, 3);
  EXPECT_THROW(SsimLoss(r, small), Error);
}

}  // namespace
}  // namespace facet::splatting
