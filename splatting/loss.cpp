#include "splatting/loss.h"

#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "core/parallel_for.h"
#include "splatting/kernels/ssim.h"

// Layout. Each image row is one array of n = width * channels interleaved values; a horizontal
// tap k moves by k * channels, so all channels are filtered at once over contiguous memory. The
// separable window is applied vertically first, straight from the input rows (a row of zeros
// stands for the rows outside the image: the zero padding), into a row buffer padded with
// kRadius * channels zeros on each side, then horizontally from that buffer without bounds tests.
//
// Rows are processed in bands, one task each (ParallelFor over bands). Streaming down a band:
//   row r: vertical moments x, y, x^2, y^2, xy -> horizontal -> local statistics -> SSIM, its per-
//          row sum, and its VJP chained to the filtered x, x^2, xy of the render (three map rows,
//          kept in a ring of kSsimWindowSize rows);
//   row r - kRadius (gradient only): the same filter over the ring of map rows (it is its own
//          adjoint: symmetric window, zero padding), chained to the render, plus the L1 term,
//          rounded to float once.
// With the gradient, a band recomputes the kRadius map rows beyond each of its ends (its halo)
// instead of keeping whole-image maps, so everything stays in cache. Every element is computed the
// same way whichever band and thread compute it, and the per-row sums are added in row order, so
// the results do not depend on the number of threads or on the split into bands.
//
// The row kernels are plain loops written for the auto-vectoriser; `flatten` inlines everything
// they call (the SSIM formula included), which vectorisation needs. The project builds for baseline
// x86-64 (SSE2, no FMA), so on x86-64 Linux they are also compiled for x86-64-v3 (AVX2 + FMA) and
// x86-64-v4 (AVX-512), and the clone the CPU supports is picked once at load time (GNU ifunc):
// about 2.7x faster than SSE2 alone on the 3DGS training sizes.
#if defined(__x86_64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__))
#define FACET_LOSS_KERNEL \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"), flatten))
#elif defined(__GNUC__) || defined(__clang__)
#define FACET_LOSS_KERNEL __attribute__((flatten))
#else
#define FACET_LOSS_KERNEL
#endif

namespace facet::splatting {
namespace {

constexpr int kRadius = kSsimWindowSize / 2;
constexpr int kMinBandRows = 32;
using Window = std::array<double, kSsimWindowSize>;

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
const Window& GaussianWindow() {
  static const Window window = [] {
    Window g{};
    double sum = 0.0;
    for (int i = 0; i < kSsimWindowSize; ++i) {
      const double d = i - kRadius;
      g[i] = std::exp(-d * d / (2.0 * kSsimWindowSigma * kSsimWindowSigma));
      sum += g[i];
    }
    for (double& v : g) v /= sum;
    return g;
  }();
  return window;
}

// ---- Row kernels ----------------------------------------------------------------------------

// The horizontal taps around one element of a padded row; `row` points kRadius taps to its left.
inline double Taps(const double* g, const double* row, int nc) {
  double s = 0.0;
  for (int k = 0; k < kSsimWindowSize; ++k) s += g[k] * row[k * nc];
  return s;
}

// Vertical pass of the moments at one row: rows_x[k], rows_y[k] are the render and target rows
// y - kRadius + k; writes n filtered values of x, y, x^2, y^2, x y.
FACET_LOSS_KERNEL void VerticalMoments(const double* __restrict g, const float* const* rows_x,
                                       const float* const* rows_y, std::int64_t n,
                                       double* __restrict mx, double* __restrict my,
                                       double* __restrict mxx, double* __restrict myy,
                                       double* __restrict mxy) {
  const float* rx[kSsimWindowSize];
  const float* ry[kSsimWindowSize];
  std::copy(rows_x, rows_x + kSsimWindowSize, rx);
  std::copy(rows_y, rows_y + kSsimWindowSize, ry);
  for (std::int64_t j = 0; j < n; ++j) {
    double sx = 0.0, sy = 0.0, sxx = 0.0, syy = 0.0, sxy = 0.0;
    for (int k = 0; k < kSsimWindowSize; ++k) {
      const double a = rx[k][j], b = ry[k][j];
      const double ga = g[k] * a, gb = g[k] * b;
      sx += ga;
      sy += gb;
      sxx += ga * a;
      syy += gb * b;
      sxy += ga * b;
    }
    mx[j] = sx;
    my[j] = sy;
    mxx[j] = sxx;
    myy[j] = syy;
    mxy[j] = sxy;
  }
}

// Horizontal pass of the five padded moment rows -> statistics -> per-element SSIM; with kVjp, also
// v_ssim * dSSIM w.r.t. the filtered x, x^2 and x y of the render.
template <bool kVjp>
void SsimRowBody(const double* __restrict g, const double* __restrict mx,
                 const double* __restrict my, const double* __restrict mxx,
                 const double* __restrict myy, const double* __restrict mxy, std::int64_t n, int nc,
                 double v_ssim, double* __restrict ssim, double* __restrict d_mu,
                 double* __restrict d_xx, double* __restrict d_xy) {
  for (std::int64_t j = 0; j < n; ++j) {
    const double mu_x = Taps(g, mx + j, nc), mu_y = Taps(g, my + j, nc);
    const kernels::SsimStats<double> st{mu_x, mu_y, Taps(g, mxx + j, nc) - mu_x * mu_x,
                                        Taps(g, myy + j, nc) - mu_y * mu_y,
                                        Taps(g, mxy + j, nc) - mu_x * mu_y};
    ssim[j] = kernels::SsimFromStats(st);
    if constexpr (kVjp) {
      // Chain through var_x = E[xx] - mu_x^2 and cov = E[xy] - mu_x mu_y (mu_y and E[yy] depend
      // on the target only).
      const kernels::SsimStats<double> v = kernels::SsimFromStatsVjp(st, v_ssim);
      d_mu[j] = v.mu_x - 2.0 * mu_x * v.var_x - mu_y * v.cov_xy;
      d_xx[j] = v.var_x;
      d_xy[j] = v.cov_xy;
    }
  }
}

FACET_LOSS_KERNEL void SsimRow(const double* g, const double* mx, const double* my,
                               const double* mxx, const double* myy, const double* mxy,
                               std::int64_t n, int nc, double* ssim) {
  SsimRowBody<false>(g, mx, my, mxx, myy, mxy, n, nc, 0.0, ssim, nullptr, nullptr, nullptr);
}

FACET_LOSS_KERNEL void SsimRowVjp(const double* g, const double* mx, const double* my,
                                  const double* mxx, const double* myy, const double* mxy,
                                  std::int64_t n, int nc, double v_ssim, double* ssim, double* d_mu,
                                  double* d_xx, double* d_xy) {
  SsimRowBody<true>(g, mx, my, mxx, myy, mxy, n, nc, v_ssim, ssim, d_mu, d_xx, d_xy);
}

// Vertical pass of the three VJP maps at one row (rows_*[k]: map rows y - kRadius + k).
FACET_LOSS_KERNEL void VerticalMaps(const double* __restrict g, const double* const* rows_mu,
                                    const double* const* rows_xx, const double* const* rows_xy,
                                    std::int64_t n, double* __restrict f_mu,
                                    double* __restrict f_xx, double* __restrict f_xy) {
  const double* rm[kSsimWindowSize];
  const double* rxx[kSsimWindowSize];
  const double* rxy[kSsimWindowSize];
  std::copy(rows_mu, rows_mu + kSsimWindowSize, rm);
  std::copy(rows_xx, rows_xx + kSsimWindowSize, rxx);
  std::copy(rows_xy, rows_xy + kSsimWindowSize, rxy);
  for (std::int64_t j = 0; j < n; ++j) {
    double s_mu = 0.0, s_xx = 0.0, s_xy = 0.0;
    for (int k = 0; k < kSsimWindowSize; ++k) {
      s_mu += g[k] * rm[k][j];
      s_xx += g[k] * rxx[k][j];
      s_xy += g[k] * rxy[k][j];
    }
    f_mu[j] = s_mu;
    f_xx[j] = s_xx;
    f_xy[j] = s_xy;
  }
}

// Horizontal pass of the three padded map rows, chained through x -> (x, x^2, x y), plus the L1
// term v_l1 * sign(x - y); the gradient is rounded to float once, here.
FACET_LOSS_KERNEL void GradientRow(const double* __restrict g, const double* __restrict f_mu,
                                   const double* __restrict f_xx, const double* __restrict f_xy,
                                   std::int64_t n, int nc, const float* __restrict render,
                                   const float* __restrict target, double v_l1,
                                   float* __restrict out) {
  for (std::int64_t j = 0; j < n; ++j) {
    const double x = render[j], y = target[j], d = x - y;
    const double l1 = d > 0.0 ? v_l1 : (d < 0.0 ? -v_l1 : 0.0);
    out[j] = float(Taps(g, f_mu + j, nc) + 2.0 * x * Taps(g, f_xx + j, nc) +
                   y * Taps(g, f_xy + j, nc) + l1);
  }
}

// Sums in a fixed order: eight interleaved partial sums (one AVX-512 or two AVX2 registers), then
// a fixed tree, so every clone adds the same numbers in the same order.
FACET_LOSS_KERNEL double SumInOrder(const double* v, std::int64_t n) {
  double s[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
  std::int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    for (int l = 0; l < 8; ++l) s[l] += v[j + l];
  }
  for (; j < n; ++j) s[0] += v[j];
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

FACET_LOSS_KERNEL double SumAbsDiff(const float* a, const float* b, std::int64_t n) {
  double s[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
  std::int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    for (int l = 0; l < 8; ++l) s[l] += std::abs(double(a[j + l]) - double(b[j + l]));
  }
  for (; j < n; ++j) s[0] += std::abs(double(a[j]) - double(b[j]));
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

// ---- Driver ---------------------------------------------------------------------------------

// One evaluation: inputs, what to compute, and where the per-row sums go.
struct Problem {
  ImageView<const float> render, target;
  ImageView<float>* d_render;  // nullptr: values only
  bool with_ssim;
  double v_ssim, v_l1;  // weights of the SSIM and L1 sums in the loss being differentiated
  int h, nc;
  std::int64_t n, pad, padded;  // values per row, zeros on each side of a padded row, their sum
  const double* g;              // the window
  const float* zero_in;         // n zeros: the input rows outside the image
  double* row_ssim;             // [h] per-row sums
  double* row_l1;               // [h]
};

// Buffers of the band being processed on this thread. A band runs start to end without any TBB
// call, so no other task can start on this thread while they are in use.
double* BandScratch(std::size_t size) {
  thread_local std::vector<double> scratch;
  if (scratch.size() < size) scratch.resize(size);
  return scratch.data();
}

// `count` consecutive padded rows: zero their pads (the zero padding of the horizontal pass).
void ZeroPads(double* rows, int count, std::int64_t n, std::int64_t pad) {
  for (int i = 0; i < count; ++i) {
    double* row = rows + i * (n + 2 * pad);
    std::fill(row, row + pad, 0.0);
    std::fill(row + pad + n, row + n + 2 * pad, 0.0);
  }
}

// SSIM sum of row y; with d_mu non-null, also that row of the three VJP maps. `scratch` holds five
// padded rows (pads zeroed) and one row of n.
double SsimOfRow(const Problem& p, int y, double* scratch, double* d_mu, double* d_xx,
                 double* d_xy) {
  const float* rows_x[kSsimWindowSize];
  const float* rows_y[kSsimWindowSize];
  for (int k = 0; k < kSsimWindowSize; ++k) {
    const int yy = y - kRadius + k;
    const bool inside = yy >= 0 && yy < p.h;
    rows_x[k] = inside ? p.render.Row(yy) : p.zero_in;
    rows_y[k] = inside ? p.target.Row(yy) : p.zero_in;
  }
  double* m[5];
  for (int i = 0; i < 5; ++i) m[i] = scratch + i * p.padded;
  double* ssim = scratch + 5 * p.padded;
  VerticalMoments(p.g, rows_x, rows_y, p.n, m[0] + p.pad, m[1] + p.pad, m[2] + p.pad, m[3] + p.pad,
                  m[4] + p.pad);
  if (d_mu != nullptr) {
    SsimRowVjp(p.g, m[0], m[1], m[2], m[3], m[4], p.n, p.nc, p.v_ssim, ssim, d_mu, d_xx, d_xy);
  } else {
    SsimRow(p.g, m[0], m[1], m[2], m[3], m[4], p.n, p.nc, ssim);
  }
  return SumInOrder(ssim, p.n);
}

// Rows [y0, y1): per-row sums and, if wanted, the gradient rows.
void RunBand(const Problem& p, int y0, int y1) {
  const std::int64_t n = p.n, padded = p.padded;
  const bool grad = p.d_render != nullptr;
  auto l1_of_row = [&](int y) { return SumAbsDiff(p.render.Row(y), p.target.Row(y), n); };
  if (!p.with_ssim) {
    for (int y = y0; y < y1; ++y) {
      p.row_l1[y] = l1_of_row(y);
      if (!grad) continue;
      const float* r = p.render.Row(y);
      const float* t = p.target.Row(y);
      float* out = p.d_render->Row(y);
      for (std::int64_t j = 0; j < n; ++j) {
        const double d = double(r[j]) - double(t[j]);
        out[j] = float(d > 0.0 ? p.v_l1 : (d < 0.0 ? -p.v_l1 : 0.0));
      }
    }
    return;
  }
  const std::int64_t moments_size = 5 * padded + n;
  if (!grad) {
    double* s = BandScratch(std::size_t(moments_size));
    ZeroPads(s, 5, n, p.pad);
    for (int y = y0; y < y1; ++y) {
      p.row_ssim[y] = SsimOfRow(p, y, s, nullptr, nullptr, nullptr);
      p.row_l1[y] = l1_of_row(y);
    }
    return;
  }
  // Map rows first + i live in ring slot i mod kRing; the halo rows are computed like the others.
  constexpr int kRing = kSsimWindowSize;
  double* s = BandScratch(std::size_t(moments_size + 3 * kRing * n + n + 3 * padded));
  double* ring = s + moments_size;
  double* zero_map = ring + 3 * kRing * n;
  double* f = zero_map + n;  // three padded rows: the maps filtered vertically
  ZeroPads(s, 5, n, p.pad);
  ZeroPads(f, 3, n, p.pad);
  std::fill(zero_map, zero_map + n, 0.0);
  const int first = std::max(0, y0 - kRadius);  // first map row of the band
  auto slot = [&](int r, int i) { return ring + (((r - first) % kRing) * 3 + i) * n; };
  int next = first;  // next map row to compute
  for (int y = y0; y < y1; ++y) {
    for (; next <= std::min(p.h - 1, y + kRadius); ++next) {
      const double sum = SsimOfRow(p, next, s, slot(next, 0), slot(next, 1), slot(next, 2));
      if (next >= y0 && next < y1) {  // not a halo row (its inputs are in cache now)
        p.row_ssim[next] = sum;
        p.row_l1[next] = l1_of_row(next);
      }
    }
    const double* rows[3][kSsimWindowSize];
    for (int k = 0; k < kSsimWindowSize; ++k) {
      const int yy = y - kRadius + k;
      for (int i = 0; i < 3; ++i) rows[i][k] = yy >= 0 && yy < p.h ? slot(yy, i) : zero_map;
    }
    VerticalMaps(p.g, rows[0], rows[1], rows[2], n, f + p.pad, f + padded + p.pad,
                 f + 2 * padded + p.pad);
    GradientRow(p.g, f, f + padded, f + 2 * padded, n, p.nc, p.render.Row(y), p.target.Row(y),
                p.v_l1, p.d_render->Row(y));
  }
}

struct Sums {
  double ssim = 0.0;  // over all elements
  double l1 = 0.0;
};

// The SSIM (if with_ssim) and L1 sums; if d_render is non-null it receives the gradient of
// v_ssim * ssim_sum + v_l1 * l1_sum.
Sums Evaluate(ImageView<const float> render, ImageView<const float> target, bool with_ssim,
              double v_ssim, double v_l1, ImageView<float>* d_render) {
  const int h = render.height(), nc = render.channels();
  const std::int64_t n = std::int64_t{render.width()} * nc, pad = std::int64_t{kRadius} * nc;
  std::vector<double> row_ssim(h, 0.0), row_l1(h, 0.0);
  const std::vector<float> zero_in(std::size_t(n), 0.0f);
  const Problem p{.render = render,
                  .target = target,
                  .d_render = d_render,
                  .with_ssim = with_ssim,
                  .v_ssim = v_ssim,
                  .v_l1 = v_l1,
                  .h = h,
                  .nc = nc,
                  .n = n,
                  .pad = pad,
                  .padded = n + 2 * pad,
                  .g = GaussianWindow().data(),
                  .zero_in = zero_in.data(),
                  .row_ssim = row_ssim.data(),
                  .row_l1 = row_l1.data()};
  // Bands of rows, one per task: a band with the gradient repeats 2 kRadius rows of SSIM work, so
  // they are long, yet several per thread so that work stealing balances a busy machine. The
  // results do not depend on the split.
  const int threads = oneapi::tbb::this_task_arena::max_concurrency();
  const int band = std::max(kMinBandRows, (h + 4 * threads - 1) / (4 * threads));
  ParallelFor((h + band - 1) / band,
              [&](std::int64_t b) { RunBand(p, int(b) * band, std::min(h, int(b + 1) * band)); });
  Sums sums;
  for (int y = 0; y < h; ++y) {  // row order: deterministic
    sums.ssim += row_ssim[y];
    sums.l1 += row_l1[y];
  }
  return sums;
}

double NumElements(ImageView<const float> image) {
  return double(image.width()) * image.height() * image.channels();
}

}  // namespace

double Ssim(ImageView<const float> render, ImageView<const float> target) {
  CheckSameShape(render, target, nullptr, "Ssim");
  return Evaluate(render, target, true, 0.0, 0.0, nullptr).ssim / NumElements(render);
}

double SsimLoss(ImageView<const float> render, ImageView<const float> target,
                ImageView<float>* d_render) {
  CheckSameShape(render, target, d_render, "SsimLoss");
  const double n = NumElements(render);
  return 1.0 - Evaluate(render, target, true, -1.0 / n, 0.0, d_render).ssim / n;
}

double L1Loss(ImageView<const float> render, ImageView<const float> target,
              ImageView<float>* d_render) {
  CheckSameShape(render, target, d_render, "L1Loss");
  const double n = NumElements(render);
  return Evaluate(render, target, false, 0.0, 1.0 / n, d_render).l1 / n;
}

double PhotometricLoss(ImageView<const float> render, ImageView<const float> target,
                       ImageView<float>* d_render, double lambda_dssim) {
  CheckSameShape(render, target, d_render, "PhotometricLoss");
  FACET_CHECK(lambda_dssim >= 0.0 && lambda_dssim <= 1.0,
              "PhotometricLoss: lambda_dssim = {} must lie in [0, 1]", lambda_dssim);
  const double n = NumElements(render);
  const Sums s = Evaluate(render, target, lambda_dssim > 0.0, -lambda_dssim / n,
                          (1.0 - lambda_dssim) / n, d_render);
  const double ssim = lambda_dssim > 0.0 ? s.ssim / n : 1.0;
  return (1.0 - lambda_dssim) * (s.l1 / n) + lambda_dssim * (1.0 - ssim);
}

}  // namespace facet::splatting
