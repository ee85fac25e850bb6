#include "splatting/loss.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "core/parallel_for.h"
#include "splatting/kernels/ssim.h"

namespace facet::splatting {
namespace {

using Plane = std::vector<double>;

void CheckSameShape(ImageView<const float> render, ImageView<const float> target,
                    const ImageView<float>* d_render, const char* what) {
  FACET_CHECK(!render.empty(), "{}: the render is empty", what);
  FACET_CHECK(render.width() == target.width() && render.height() == target.height() &&
                  render.channels() == target.channels(),
              "{}: render {}x{}x{} and target {}x{}x{} differ in size", what, render.width(),
              render.height(), render.channels(), target.width(), target.height(),
              target.channels());
  if (d_render != nullptr) {
    FACET_CHECK(d_render->width() == render.width() && d_render->height() == render.height() &&
                    d_render->channels() == render.channels(),
                "{}: gradient image {}x{}x{} must match the render {}x{}x{}", what,
                d_render->width(), d_render->height(), d_render->channels(), render.width(),
                render.height(), render.channels());
  }
}

// The normalised 1D Gaussian; the 2D window is its outer product (as in the Inria code).
std::vector<double> GaussianWindow() {
  std::vector<double> g(kSsimWindowSize);
  double sum = 0.0;
  for (int i = 0; i < kSsimWindowSize; ++i) {
    const double d = i - kSsimWindowSize / 2;
    g[i] = std::exp(-d * d / (2.0 * kSsimWindowSigma * kSsimWindowSigma));
    sum += g[i];
  }
  for (double& v : g) v /= sum;
  return g;
}

// out = G * in, 'same' size, zero padding; separable (rows then columns). The kernel is
// symmetric, so this is also its own transpose (the adjoint used for the gradient).
void Filter(const Plane& in, int width, int height, const std::vector<double>& g, Plane* tmp,
            Plane* out) {
  const int r = kSsimWindowSize / 2;
  tmp->resize(in.size());
  out->resize(in.size());
  ParallelFor(height, [&](std::int64_t y) {
    const double* src = in.data() + y * width;
    double* dst = tmp->data() + y * width;
    for (int x = 0; x < width; ++x) {
      double s = 0.0;
      for (int k = -r; k <= r; ++k) {
        const int xx = x + k;
        if (xx >= 0 && xx < width) s += g[k + r] * src[xx];
      }
      dst[x] = s;
    }
  });
  ParallelFor(height, [&](std::int64_t y) {
    double* dst = out->data() + y * width;
    for (int x = 0; x < width; ++x) dst[x] = 0.0;
    for (int k = -r; k <= r; ++k) {
      const std::int64_t yy = y + k;
      if (yy < 0 || yy >= height) continue;
      const double* src = tmp->data() + yy * width;
      for (int x = 0; x < width; ++x) dst[x] += g[k + r] * src[x];
    }
  });
}

// Sum over all pixels and channels of SSIM; if grad is non-null, adds scale * dSum/drender to it
// (interleaved like the render, tightly packed).
double SsimSum(ImageView<const float> render, ImageView<const float> target, double scale,
               std::vector<double>* grad) {
  const int w = render.width(), h = render.height(), nc = render.channels();
  const std::size_t n = std::size_t(w) * h;
  const std::vector<double> g = GaussianWindow();
  Plane x(n), y(n), xx(n), yy(n), xy(n), tmp;
  Plane mu_x, mu_y, e_xx, e_yy, e_xy;
  Plane d_mu(n), d_xx(n), d_xy(n), f_mu, f_xx, f_xy;
  std::vector<double> row_sum(h);
  double total = 0.0;
  for (int c = 0; c < nc; ++c) {
    ParallelFor(h, [&](std::int64_t j) {
      for (int i = 0; i < w; ++i) {
        const std::size_t p = j * w + i;
        x[p] = render(i, int(j), c);
        y[p] = target(i, int(j), c);
        xx[p] = x[p] * x[p];
        yy[p] = y[p] * y[p];
        xy[p] = x[p] * y[p];
      }
    });
    Filter(x, w, h, g, &tmp, &mu_x);
    Filter(y, w, h, g, &tmp, &mu_y);
    Filter(xx, w, h, g, &tmp, &e_xx);
    Filter(yy, w, h, g, &tmp, &e_yy);
    Filter(xy, w, h, g, &tmp, &e_xy);
    ParallelFor(h, [&](std::int64_t j) {
      double s = 0.0;
      for (int i = 0; i < w; ++i) {
        const std::size_t p = j * w + i;
        const kernels::SsimStats<double> st{mu_x[p], mu_y[p], e_xx[p] - mu_x[p] * mu_x[p],
                                            e_yy[p] - mu_y[p] * mu_y[p],
                                            e_xy[p] - mu_x[p] * mu_y[p]};
        s += kernels::SsimFromStats(st);
        if (grad != nullptr) {
          // Chain through var_x = E[xx] - mu_x^2 and cov = E[xy] - mu_x mu_y (mu_y, E[yy]
          // depend on the target only).
          const kernels::SsimStats<double> v = kernels::SsimFromStatsVjp(st, scale);
          d_mu[p] = v.mu_x - 2.0 * mu_x[p] * v.var_x - mu_y[p] * v.cov_xy;
          d_xx[p] = v.var_x;
          d_xy[p] = v.cov_xy;
        }
      }
      row_sum[j] = s;
    });
    for (double s : row_sum) total += s;  // fixed order: deterministic
    if (grad == nullptr) continue;
    // Adjoint of the filters (the same filter), then of x -> (x, x^2, x y).
    Filter(d_mu, w, h, g, &tmp, &f_mu);
    Filter(d_xx, w, h, g, &tmp, &f_xx);
    Filter(d_xy, w, h, g, &tmp, &f_xy);
    ParallelFor(h, [&](std::int64_t j) {
      for (int i = 0; i < w; ++i) {
        const std::size_t p = j * w + i;
        (*grad)[p * nc + c] += f_mu[p] + 2.0 * x[p] * f_xx[p] + y[p] * f_xy[p];
      }
    });
  }
  return total;
}

// Sum of |render - target|; if grad is non-null, adds scale * sign(render - target) to it.
double L1Sum(ImageView<const float> render, ImageView<const float> target, double scale,
             std::vector<double>* grad) {
  const int w = render.width(), h = render.height(), nc = render.channels();
  std::vector<double> row_sum(h);
  ParallelFor(h, [&](std::int64_t j) {
    double s = 0.0;
    const float* r = render.Row(int(j));
    const float* t = target.Row(int(j));
    for (int k = 0; k < w * nc; ++k) {
      const double d = double(r[k]) - double(t[k]);
      s += std::abs(d);
      if (grad != nullptr) {
        (*grad)[std::size_t(j) * w * nc + k] += d > 0.0 ? scale : (d < 0.0 ? -scale : 0.0);
      }
    }
    row_sum[j] = s;
  });
  double total = 0.0;
  for (double s : row_sum) total += s;
  return total;
}

void WriteGradient(const std::vector<double>& grad, ImageView<float>* d_render) {
  const int w = d_render->width(), nc = d_render->channels();
  ParallelFor(d_render->height(), [&](std::int64_t j) {
    float* row = d_render->Row(int(j));
    for (int k = 0; k < w * nc; ++k) row[k] = float(grad[std::size_t(j) * w * nc + k]);
  });
}

double NumElements(ImageView<const float> image) {
  return double(image.width()) * image.height() * image.channels();
}

}  // namespace

double Ssim(ImageView<const float> render, ImageView<const float> target) {
  CheckSameShape(render, target, nullptr, "Ssim");
  return SsimSum(render, target, 0.0, nullptr) / NumElements(render);
}

double SsimLoss(ImageView<const float> render, ImageView<const float> target,
                ImageView<float>* d_render) {
  CheckSameShape(render, target, d_render, "SsimLoss");
  const double n = NumElements(render);
  if (d_render == nullptr) return 1.0 - SsimSum(render, target, 0.0, nullptr) / n;
  std::vector<double> grad(std::size_t(n), 0.0);
  const double loss = 1.0 - SsimSum(render, target, -1.0 / n, &grad) / n;
  WriteGradient(grad, d_render);
  return loss;
}

double L1Loss(ImageView<const float> render, ImageView<const float> target,
              ImageView<float>* d_render) {
  CheckSameShape(render, target, d_render, "L1Loss");
  const double n = NumElements(render);
  if (d_render == nullptr) return L1Sum(render, target, 0.0, nullptr) / n;
  std::vector<double> grad(std::size_t(n), 0.0);
  const double loss = L1Sum(render, target, 1.0 / n, &grad) / n;
  WriteGradient(grad, d_render);
  return loss;
}

double PhotometricLoss(ImageView<const float> render, ImageView<const float> target,
                       ImageView<float>* d_render, double lambda_dssim) {
  CheckSameShape(render, target, d_render, "PhotometricLoss");
  FACET_CHECK(lambda_dssim >= 0.0 && lambda_dssim <= 1.0,
              "PhotometricLoss: lambda_dssim = {} must lie in [0, 1]", lambda_dssim);
  const double n = NumElements(render);
  std::vector<double> grad;
  if (d_render != nullptr) grad.assign(std::size_t(n), 0.0);
  std::vector<double>* g = d_render != nullptr ? &grad : nullptr;
  const double l1 = L1Sum(render, target, (1.0 - lambda_dssim) / n, g) / n;
  const double ssim = SsimSum(render, target, -lambda_dssim / n, g) / n;
  if (d_render != nullptr) WriteGradient(grad, d_render);
  return (1.0 - lambda_dssim) * l1 + lambda_dssim * (1.0 - ssim);
}

}  // namespace facet::splatting
