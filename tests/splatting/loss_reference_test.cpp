// The fused, banded CPU loss (splatting/loss.cpp) against a direct evaluation written here: every
// Gaussian-weighted window sum is an explicit 11x11 loop with zero padding, in double, and the
// gradient is the chain rule pixel by pixel. Also: the result does not depend on the thread count.
#include <gtest/gtest.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "splatting/kernels/ssim.h"
#include "splatting/loss.h"

namespace facet::splatting {
namespace {

ImageF32 RandomImage(int w, int h, int c, std::mt19937& rng) {
  ImageF32 img(w, h, c);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (std::size_t i = 0; i < img.size(); ++i) img.data()[i] = u(rng);
  return img;
}

struct Reference {
  double loss = 0.0;
  std::vector<double> grad;  // interleaved like the render
};

// L = (1 - lambda) mean|r - t| + lambda (1 - mean SSIM) and dL/dr. SSIM at q depends on r(p), p in
// the window of q, through mu_x(q) = sum w(q - p) r(p), var_x(q) = sum w(q - p) r(p)^2 - mu_x^2
// and cov(q) = sum w(q - p) r(p) t(p) - mu_x mu_y; the pointwise VJP is kernels::SsimFromStatsVjp
// (checked against finite differences in ssim_test.cpp).
Reference DirectLoss(ImageView<const float> r, ImageView<const float> t, double lambda) {
  const int w = r.width(), h = r.height(), nc = r.channels();
  const double n = double(w) * h * nc;
  std::vector<double> g(11);
  double gs = 0.0;
  for (int i = 0; i < 11; ++i) gs += g[i] = std::exp(-(i - 5.0) * (i - 5.0) / (2.0 * 1.5 * 1.5));
  for (double& v : g) v /= gs;
  Reference ref;
  ref.grad.assign(std::size_t(n), 0.0);
  auto at = [&](int x, int y, int c) { return (std::size_t(y) * w + x) * nc + c; };
  double l1 = 0.0, ssim = 0.0;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      for (int c = 0; c < nc; ++c) {
        const double d = double(r(x, y, c)) - double(t(x, y, c));
        l1 += std::abs(d);
        ref.grad[at(x, y, c)] += (1.0 - lambda) / n * (d > 0 ? 1.0 : (d < 0 ? -1.0 : 0.0));
      }
    }
  }
  for (int c = 0; c < nc; ++c) {
    for (int qy = 0; qy < h; ++qy) {
      for (int qx = 0; qx < w; ++qx) {
        double mx = 0, my = 0, exx = 0, eyy = 0, exy = 0;
        for (int dy = -5; dy <= 5; ++dy) {
          for (int dx = -5; dx <= 5; ++dx) {
            const int px = qx + dx, py = qy + dy;
            if (px < 0 || py < 0 || px >= w || py >= h) continue;
            const double wgt = g[dx + 5] * g[dy + 5], a = r(px, py, c), b = t(px, py, c);
            mx += wgt * a;
            my += wgt * b;
            exx += wgt * a * a;
            eyy += wgt * b * b;
            exy += wgt * a * b;
          }
        }
        const kernels::SsimStats<double> st{mx, my, exx - mx * mx, eyy - my * my, exy - mx * my};
        ssim += kernels::SsimFromStats(st);
        const kernels::SsimStats<double> v = kernels::SsimFromStatsVjp(st, -lambda / n);
        for (int dy = -5; dy <= 5; ++dy) {
          for (int dx = -5; dx <= 5; ++dx) {
            const int px = qx + dx, py = qy + dy;
            if (px < 0 || py < 0 || px >= w || py >= h) continue;
            const double wgt = g[dx + 5] * g[dy + 5], a = r(px, py, c), b = t(px, py, c);
            ref.grad[at(px, py, c)] +=
                wgt * (v.mu_x + v.var_x * 2.0 * (a - mx) + v.cov_xy * (b - my));
          }
        }
      }
    }
  }
  ref.loss = (1.0 - lambda) * l1 / n + lambda * (1.0 - ssim / n);
  return ref;
}

// Sizes with 1, 3 and 4 channels; 83 and 40 rows span several row bands of the implementation. The
// render is a crop of a wider image, so its rows are strided.
TEST(PhotometricLoss, MatchesDirectTwoDimensionalEvaluation) {
  std::mt19937 rng(11);
  struct Size {
    int w, h, c;
  };
  for (const Size s : {Size{37, 23, 3}, Size{21, 83, 1}, Size{9, 40, 4}}) {
    const ImageF32 wide = RandomImage(s.w + 5, s.h, s.c, rng);
    const ImageF32 target = RandomImage(s.w, s.h, s.c, rng);
    const ImageView<const float> render = wide.view().Crop(3, 0, s.w, s.h);
    for (const double lambda : {0.2, 1.0}) {
      const Reference ref = DirectLoss(render, target, lambda);
      ImageF32 grad(s.w, s.h, s.c);
      ImageView<float> gv = grad.view();
      const double loss = PhotometricLoss(render, target, &gv, lambda);
      // All arithmetic is double: only the order of the sums differs from the reference.
      EXPECT_NEAR(loss, ref.loss, 1e-12 * std::abs(ref.loss)) << s.w << "x" << s.h << "x" << s.c;
      EXPECT_NEAR(PhotometricLoss(render, target, nullptr, lambda), loss, 1e-15);
      double max_err = 0.0;
      for (std::size_t i = 0; i < grad.size(); ++i) {
        // The gradient is rounded to float once (relative 2^-24).
        const double err = std::abs(grad.data()[i] - ref.grad[i]) / std::abs(ref.grad[i]);
        max_err = std::max(max_err, err);
      }
      EXPECT_LT(max_err, 1e-6) << s.w << "x" << s.h << "x" << s.c << " lambda " << lambda;
    }
  }
}

TEST(SsimLoss, MatchesDirectTwoDimensionalEvaluation) {
  std::mt19937 rng(12);
  const ImageF32 render = RandomImage(37, 23, 3, rng), target = RandomImage(37, 23, 3, rng);
  const Reference ref = DirectLoss(render, target, 1.0);
  ImageF32 grad(37, 23, 3);
  ImageView<float> gv = grad.view();
  EXPECT_NEAR(SsimLoss(render, target, &gv), ref.loss, 1e-12 * ref.loss);
  EXPECT_NEAR(Ssim(render, target), 1.0 - ref.loss, 1e-12);
  for (std::size_t i = 0; i < grad.size(); ++i) {
    ASSERT_NEAR(grad.data()[i], ref.grad[i], 1e-6 * std::abs(ref.grad[i])) << i;
  }
}

// Bit-identical value and gradient on one and two threads. With 400 rows the row bands differ
// between the two (their length scales with the thread count).
TEST(PhotometricLoss, IdenticalOnOneAndTwoThreads) {
  std::mt19937 rng(13);
  for (auto [w, h] : {std::pair{37, 23}, std::pair{24, 400}}) {
    const ImageF32 render = RandomImage(w, h, 3, rng), target = RandomImage(w, h, 3, rng);
    auto run = [&](int threads, ImageF32* grad) {
      double loss = 0.0;
      oneapi::tbb::task_arena arena(threads);
      arena.execute([&] {
        ImageView<float> gv = grad->view();
        loss = PhotometricLoss(render, target, &gv);
      });
      return loss;
    };
    ImageF32 g1(w, h, 3), g2(w, h, 3);
    const double l1 = run(1, &g1), l2 = run(2, &g2);
    EXPECT_EQ(l1, l2) << w << "x" << h;
    EXPECT_EQ(std::memcmp(g1.data(), g2.data(), g1.size() * sizeof(float)), 0) << w << "x" << h;
    oneapi::tbb::task_arena one(1), two(2);
    double s1 = 0.0, s2 = 0.0;
    one.execute([&] { s1 = Ssim(render, target); });
    two.execute([&] { s2 = Ssim(render, target); });
    EXPECT_EQ(s1, s2) << w << "x" << h;
  }
}

}  // namespace
}  // namespace facet::splatting
