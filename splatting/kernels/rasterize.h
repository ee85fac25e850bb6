// The per-Gaussian and per-pixel steps of the 3DGS tile rasterizer (Kerbl et al. 2023, sec. 6 and
// the reference graphdeco-inria/diff-gaussian-rasterization forward.cu / backward.cu), each with
// its VJP, shared by the CPU backend (splatting/rasterizer_cpu.cpp, oneTBB over tiles) and the
// CUDA backend (splatting/rasterizer_cuda.cu). Scheduling lives there; the math lives here.
//
// Blending (Kerbl et al. 2023, eq. 3), front to back over the depth-sorted Gaussians of a tile:
//   alpha_i = min(0.99, o_i exp(power_i)),  power_i = -1/2 d^T Conic_i d,  d = mean2d_i - pixel
//   C = sum_i c_i alpha_i T_i + T_final bg,  T_i = prod_{j<i} (1 - alpha_j)
// skipping alpha < 1/255 and stopping before the Gaussian that would take T below 1e-4.
// Pixel (px, py) is sampled at its centre (px + 0.5, py + 0.5), COLMAP's convention.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

#include "core/host_device.h"
#include "splatting/kernels/gaussians_view.h"
#include "splatting/kernels/math.h"
#include "splatting/kernels/project.h"
#include "splatting/kernels/sh.h"

// The per-pixel steps are always inlined: the CPU tile loops vectorise only with them inline, and
// the inliner's size heuristics would otherwise leave some as calls inside the hottest loops.
#if defined(__CUDACC__)
#define FACET_PIXEL_INLINE __forceinline__
#else
#define FACET_PIXEL_INLINE inline __attribute__((always_inline))
#endif

namespace facet::splatting::kernels {

inline constexpr int kTileSize = 16;
inline constexpr double kMinAlpha = 1.0 / 255.0;   // contributions below are skipped
inline constexpr double kMaxAlpha = 0.99;          // alpha clamp (numerical stability)
inline constexpr double kMinTransmittance = 1e-4;  // a pixel stops blending below this
inline constexpr double kMaxExtentSigmas = 3.33;   // cap of the opacity-aware extent
inline constexpr int kMaxRadius = 1 << 20;  // px; cap of a splat's screen radius (no int overflow)

// Logistic function (opacity from its logit).
template <typename T>
FACET_HOST_DEVICE T Sigmoid(T x) {
  using std::exp;
  return T(1) / (T(1) + exp(-x));
}

// A Gaussian after preprocessing for one view: what the per-pixel passes read.
template <typename T>
struct Splat2D {
  Vec2<T> mean2d;          // pixels
  Sym2<T> conic;           // inverse 2D covariance (low-pass included)
  T opacity;               // sigmoid(logit), times the Mip-Splatting compensation when antialiased
  Vec3<T> color;           // SH evaluated for this view, clamped at 0
  T depth;                 // camera-space z
  int radius_x, radius_y;  // half extent in pixels of the screen-space bounding box
  unsigned char clamped;   // bit c: colour channel c was clamped at 0 (ShToColorVjp needs it)
};

// The tiles a splat touches: [x0, x1) x [y0, y1) in tile units.
struct TileRect {
  int x0, y0, x1, y1;
  FACET_HOST_DEVICE int Count() const { return (x1 - x0) * (y1 - y0); }
};

// Clamps in floating point before converting, so that a splat far off screen (or a diverged
// one) never overflows int.
template <typename T>
FACET_HOST_DEVICE int ClampToInt(T v, int lo, int hi) {
  return v < T(lo) ? lo : (v > T(hi) ? hi : int(v));
}

template <typename T>
FACET_HOST_DEVICE TileRect TileBounds(const Splat2D<T>& s, int tiles_x, int tiles_y) {
  using std::floor;
  const T ts = T(kTileSize);
  return {ClampToInt(floor((s.mean2d.x - T(s.radius_x)) / ts), 0, tiles_x),
          ClampToInt(floor((s.mean2d.y - T(s.radius_y)) / ts), 0, tiles_y),
          ClampToInt(floor((s.mean2d.x + T(s.radius_x)) / ts) + T(1), 0, tiles_x),
          ClampToInt(floor((s.mean2d.y + T(s.radius_y)) / ts) + T(1), 0, tiles_y)};
}

// Whether splat s can reach alpha >= kMinAlpha at a pixel centre of tile (tx, ty) of its
// TileBounds: o exp(-q / 2) >= 1/255 <=> q <= 2 ln(255 o), q(u) = a ux^2 + 2 b ux uy + c uy^2
// (the conic) at u = pixel centre - mean. q's minimum over the rectangle of the tile's pixel
// centres is 0 when the mean is inside, else on an edge, each a 1D quadratic minimised in closed
// form; a small margin keeps the pixels at the bound. A false tile is one where the blend skips
// every pixel, so dropping it leaves the image as it is (an exact tile-overlap test rather than
// the box's tiles: a rotated, elongated splat leaves most corner tiles of its box). The viewer's
// tile lists use it (viewer/shaders/splat_tile_lists.comp mirrors it in float), where the lists'
// sort is a large share of a frame. The CPU rasterizer keeps the box's tiles: there the blend's
// per-pixel box test already skips them cheaply (19% fewer entries measured 6% faster backward,
// no faster forward, in splat_bench's 30k-Gaussian scene).
template <typename T>
FACET_HOST_DEVICE T ClampValue(T v, T lo, T hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

template <typename T>
FACET_HOST_DEVICE bool SplatReachesTile(const Splat2D<T>& s, int tx, int ty) {
  using std::log;
  const T ts = T(kTileSize);
  const T lo_x = T(tx) * ts + T(0.5) - s.mean2d.x, lo_y = T(ty) * ts + T(0.5) - s.mean2d.y;
  const T hi_x = lo_x + (ts - T(1)), hi_y = lo_y + (ts - T(1));
  if (lo_x <= T(0) && hi_x >= T(0) && lo_y <= T(0) && hi_y >= T(0)) return true;
  const T a = s.conic.a, b = s.conic.b, c = s.conic.c;
  T q_min = T(3.4e38);
  for (int e = 0; e < 2; ++e) {
    const T x = e == 0 ? lo_x : hi_x;  // edge ux = x, uy in [lo_y, hi_y]
    const T uy = ClampValue(-b * x / c, lo_y, hi_y);
    const T qx = a * x * x + T(2) * b * x * uy + c * uy * uy;
    q_min = qx < q_min ? qx : q_min;
    const T y = e == 0 ? lo_y : hi_y;  // edge uy = y, ux in [lo_x, hi_x]
    const T ux = ClampValue(-b * y / a, lo_x, hi_x);
    const T qy = a * ux * ux + T(2) * b * ux * y + c * y * y;
    q_min = qy < q_min ? qy : q_min;
  }
  const T q_max = T(2) * log(T(255) * s.opacity);
  return q_min <= q_max * T(1.001) + T(0.01);
}

// Mip-Splatting's 2D filter opacity compensation (Yu et al. 2024, eq. 9):
// sqrt(det(Sigma) / det(Sigma + low_pass I)), from the filtered covariance `covar2d`.
template <typename T>
FACET_HOST_DEVICE T OpacityCompensation(const Sym2<T>& covar2d, T low_pass) {
  using std::sqrt;
  const T det_blur = covar2d.a * covar2d.c - covar2d.b * covar2d.b;
  const T det_orig = (covar2d.a - low_pass) * (covar2d.c - low_pass) - covar2d.b * covar2d.b;
  const T ratio = det_orig / det_blur;
  return ratio > T(0) ? sqrt(ratio) : T(0);
}

// VJP of OpacityCompensation w.r.t. the filtered covariance (b: the scalar off-diagonal).
template <typename T>
FACET_HOST_DEVICE Sym2<T> OpacityCompensationVjp(const Sym2<T>& covar2d, T low_pass, T v_comp) {
  using std::sqrt;
  const T det_blur = covar2d.a * covar2d.c - covar2d.b * covar2d.b;
  const T det_orig = (covar2d.a - low_pass) * (covar2d.c - low_pass) - covar2d.b * covar2d.b;
  const T ratio = det_orig / det_blur;
  if (!(ratio > T(0))) return {T(0), T(0), T(0)};
  const T v_ratio = v_comp * T(0.5) / sqrt(ratio);
  const T inv2 = T(1) / (det_blur * det_blur);
  return {v_ratio * ((covar2d.c - low_pass) * det_blur - det_orig * covar2d.c) * inv2,
          v_ratio * T(2) * covar2d.b * (det_orig - det_blur) * inv2,
          v_ratio * ((covar2d.a - low_pass) * det_blur - det_orig * covar2d.a) * inv2};
}

// The SH coefficients of Gaussian i up to `sh_degree`, as [NumShCoeffs(sh_degree), 3].
template <typename T>
FACET_HOST_DEVICE void GatherSh(const GaussiansView<T>& g, std::int64_t i, int sh_degree, T* sh) {
  for (int c = 0; c < 3; ++c) sh[c] = g.sh_dc[3 * i + c];
  const int rest = 3 * (NumShCoeffs(sh_degree) - 1);
  const T* src = g.sh_rest + i * g.sh_rest_stride;
  for (int k = 0; k < rest; ++k) sh[3 + k] = src[k];
}

template <typename T>
FACET_HOST_DEVICE Mat3<T> GaussianCovariance(const GaussiansView<T>& g, std::int64_t i) {
  const T* q = g.quats + 4 * i;
  const T* s = g.log_scales + 3 * i;
  return QuatScaleToCovariance(Quat<T>{q[0], q[1], q[2], q[3]}, Vec3<T>{s[0], s[1], s[2]});
}

// Projects Gaussian i into the view (frustum and near-plane culling, EWA projection with the
// low-pass, opacity-aware extent, SH colour). False when it cannot touch the image: behind the
// near plane, degenerate footprint, opacity below 1/255 or a bounding box off the image.
// `sh_degree` <= the degree the view's sh_rest_stride holds; cam_center is the camera centre in
// world coordinates (view directions for the SH).
template <typename T>
FACET_HOST_DEVICE bool PreprocessGaussian(const GaussiansView<T>& g, std::int64_t i,
                                          const PinholeView<T>& view, const Vec3<T>& cam_center,
                                          const ProjectParams<T>& params, bool antialiased,
                                          int sh_degree, Splat2D<T>* out) {
  using std::ceil;
  using std::fmin;
  using std::log;
  using std::sqrt;
  const Vec3<T> mean{g.means[3 * i], g.means[3 * i + 1], g.means[3 * i + 2]};
  const Mat3<T> covar = GaussianCovariance(g, i);
  const Projection<T> proj = ProjectGaussian(mean, covar, view, params);
  if (!proj.visible) return false;
  T opacity = Sigmoid(g.opacities[i]);
  if (antialiased) opacity *= OpacityCompensation(proj.covar2d, params.low_pass);
  if (!(opacity >= T(kMinAlpha))) return false;
  // Opacity-aware extent: beyond `extent` sigmas, o exp(-extent^2 / 2) < 1/255 (as gsplat).
  T extent = sqrt(T(2) * log(opacity / T(kMinAlpha)));
  if (extent > T(kMaxExtentSigmas)) extent = T(kMaxExtentSigmas);
  // Capped at kMaxRadius px (larger than any image) so the int radius cannot overflow.
  const T rx = fmin(ceil(extent * sqrt(proj.covar2d.a)), T(kMaxRadius));
  const T ry = fmin(ceil(extent * sqrt(proj.covar2d.c)), T(kMaxRadius));
  if (!(rx > T(0) && ry > T(0))) return false;
  if (proj.mean2d.x + rx <= T(0) || proj.mean2d.x - rx >= view.width ||
      proj.mean2d.y + ry <= T(0) || proj.mean2d.y - ry >= view.height) {
    return false;  // outside the image
  }
  T sh[3 * kMaxShCoeffs];
  GatherSh(g, i, sh_degree, sh);
  bool clamped[3];
  out->color = ShToColor(sh_degree, sh, mean - cam_center, clamped);
  out->clamped = static_cast<unsigned char>((clamped[0] ? 1 : 0) | (clamped[1] ? 2 : 0) |
                                            (clamped[2] ? 4 : 0));
  out->mean2d = proj.mean2d;
  out->conic = proj.conic;
  out->opacity = opacity;
  out->depth = proj.mean_cam.z;
  out->radius_x = int(rx);
  out->radius_y = int(ry);
  return true;
}

// VJP of PreprocessGaussian for a Gaussian it kept: the gradients of the 2D quantities
// (v_mean2d, v_conic, v_opacity w.r.t. Splat2D::opacity, v_color) to Gaussian i's parameters,
// written (not accumulated) into `grads` at index i. Bands above `sh_degree` get zero.
template <typename T>
FACET_HOST_DEVICE void PreprocessGaussianVjp(const GaussiansView<T>& g, std::int64_t i,
                                             const PinholeView<T>& view, const Vec3<T>& cam_center,
                                             const ProjectParams<T>& params, bool antialiased,
                                             int sh_degree, const Splat2D<T>& splat,
                                             const Vec2<T>& v_mean2d, const Sym2<T>& v_conic,
                                             T v_opacity, const Vec3<T>& v_color,
                                             const GaussiansMutableView<T>& grads) {
  const Vec3<T> mean{g.means[3 * i], g.means[3 * i + 1], g.means[3 * i + 2]};
  const T* qp = g.quats + 4 * i;
  const T* sp = g.log_scales + 3 * i;
  const Quat<T> q{qp[0], qp[1], qp[2], qp[3]};
  const Vec3<T> log_scale{sp[0], sp[1], sp[2]};
  const Mat3<T> covar = QuatScaleToCovariance(q, log_scale);
  // Opacity: o = sigmoid(logit) [* compensation(covar2d)].
  const T sig = Sigmoid(g.opacities[i]);
  Sym2<T> v_covar2d{T(0), T(0), T(0)};
  T v_sig = v_opacity;
  if (antialiased) {
    const Projection<T> proj = ProjectGaussian(mean, covar, view, params);
    const T comp = OpacityCompensation(proj.covar2d, params.low_pass);
    v_sig = v_opacity * comp;
    v_covar2d = OpacityCompensationVjp(proj.covar2d, params.low_pass, v_opacity * sig);
  }
  grads.opacities[i] = v_sig * sig * (T(1) - sig);
  // Projection and covariance.
  Vec3<T> v_mean;
  Mat3<T> v_covar;
  ProjectGaussianVjp(mean, covar, view, v_mean2d, v_conic, v_covar2d, &v_mean, &v_covar, params);
  Quat<T> v_q;
  Vec3<T> v_log_scale;
  QuatScaleToCovarianceVjp(q, log_scale, v_covar, &v_q, &v_log_scale);
  // Colour: SH coefficients and the view direction (which moves with the mean).
  T sh[3 * kMaxShCoeffs];
  GatherSh(g, i, sh_degree, sh);
  const bool clamped[3] = {(splat.clamped & 1) != 0, (splat.clamped & 2) != 0,
                           (splat.clamped & 4) != 0};
  T v_sh[3 * kMaxShCoeffs];
  Vec3<T> v_dir;
  ShToColorVjp(sh_degree, sh, mean - cam_center, clamped, v_color, v_sh, &v_dir);
  v_mean = v_mean + v_dir;

  grads.means[3 * i] = v_mean.x, grads.means[3 * i + 1] = v_mean.y;
  grads.means[3 * i + 2] = v_mean.z;
  grads.log_scales[3 * i] = v_log_scale.x, grads.log_scales[3 * i + 1] = v_log_scale.y;
  grads.log_scales[3 * i + 2] = v_log_scale.z;
  grads.quats[4 * i] = v_q.w, grads.quats[4 * i + 1] = v_q.x;
  grads.quats[4 * i + 2] = v_q.y, grads.quats[4 * i + 3] = v_q.z;
  for (int c = 0; c < 3; ++c) grads.sh_dc[3 * i + c] = v_sh[c];
  const int rest = 3 * (NumShCoeffs(sh_degree) - 1);
  T* dst = grads.sh_rest + i * grads.sh_rest_stride;
  for (int k = 0; k < grads.sh_rest_stride; ++k) dst[k] = k < rest ? v_sh[3 + k] : T(0);
}

// The exponent -1/2 d^T Conic d at offset d = (dx, dy) = mean2d - pixel centre.
template <typename T>
FACET_HOST_DEVICE FACET_PIXEL_INLINE T SplatPower(const Sym2<T>& conic, T dx, T dy) {
  return T(-0.5) * (conic.a * dx * dx + conic.c * dy * dy) - conic.b * dx * dy;
}

// exp(x) for x <= 0, in plain arithmetic so that a vectorising compiler (the CPU tile loops) and
// nvcc compute the same values: exp(x) = 2^n e^f with n = round(x log2(e)) and |f| <= ln(2)/2,
// e^f by its degree-7 Taylor polynomial (relative error below 1e-8, under float rounding).
// Arguments below -20 are clamped there: alpha = opacity exp(power) < 1/255 already below
// -5.6 (opacity <= 1), so no blended value changes, and the clamp keeps the products of skipped
// pixels away from subnormal floats (exp(-87) would be one, and subnormal arithmetic is ~100x
// slower on x86). The double version (gradient tests) is std::exp.
template <typename T>
FACET_HOST_DEVICE FACET_PIXEL_INLINE T ExpNonPositive(T x) {
  using std::exp;
  return exp(x);
}

template <>
FACET_HOST_DEVICE FACET_PIXEL_INLINE float ExpNonPositive<float>(float x) {
  x = x < -20.0f ? -20.0f : x;
  const float t = x * 1.44269504088896341f;
  const float n = (t + 12582912.0f) - 12582912.0f;  // round to nearest: 1.5 * 2^23 trick
  const float f = (t - n) * 0.693147180559945309f;
  const float p =
      1.0f + f * (1.0f + f * (0.5f + f * (1.0f / 6.0f +
                                          f * (1.0f / 24.0f +
                                               f * (1.0f / 120.0f +
                                                    f * (1.0f / 720.0f + f * (1.0f / 5040.0f)))))));
  const int bits = (static_cast<int>(n) + 127) << 23;  // 2^n, n in [-29, 0]
#if defined(__CUDA_ARCH__)
  return p * __int_as_float(bits);
#else
  return p * std::bit_cast<float>(bits);
#endif
}

// Alpha of a splat at a pixel centre; 0 when the pixel skips it (power > 0 or alpha < 1/255).
// `vis` receives exp(power) for the VJP. Branch-free (selects only), so that the CPU tile loops
// vectorise across pixels.
template <typename T>
FACET_HOST_DEVICE FACET_PIXEL_INLINE T SplatAlpha(const Sym2<T>& conic, T opacity, T dx, T dy,
                                                  T* vis) {
  // dx, dy: mean2d - pixel centre.
  const T power = SplatPower(conic, dx, dy);
  const T e = ExpNonPositive(power < T(0) ? power : T(0));
  *vis = e;
  // One comparison per select: vectorisers if-convert these.
  T alpha = opacity * e;
  alpha = alpha > T(kMaxAlpha) ? T(kMaxAlpha) : alpha;
  alpha = alpha < T(kMinAlpha) ? T(0) : alpha;
  return power > T(0) ? T(0) : alpha;
}

// The gradient of alpha w.r.t. the splat's 2D parameters, times v_alpha.
template <typename T>
struct SplatAlphaGrad {
  Sym2<T> v_conic;
  Vec2<T> v_mean2d;
  T v_opacity;
};

// VJP of SplatAlpha for a contributing splat (alpha > 0). The clamp at 0.99 passes no gradient
// (the exact derivative; the reference code ignores the clamp). Branch-free.
template <typename T>
FACET_HOST_DEVICE FACET_PIXEL_INLINE SplatAlphaGrad<T> SplatAlphaVjp(const Sym2<T>& conic,
                                                                     T opacity, T dx, T dy, T vis,
                                                                     T v_alpha) {
  const T g = opacity * vis > T(kMaxAlpha) ? T(0) : v_alpha;
  const T v_power = g * opacity * vis;
  return {{T(-0.5) * dx * dx * v_power, -dx * dy * v_power, T(-0.5) * dy * dy * v_power},
          {(-conic.a * dx - conic.b * dy) * v_power, (-conic.c * dy - conic.b * dx) * v_power},
          g * vis};
}

// SplatAlphaVjp accumulating into v_conic, v_mean2d and v_opacity.
template <typename T>
FACET_HOST_DEVICE void SplatAlphaVjp(const Sym2<T>& conic, T opacity, T dx, T dy, T vis, T v_alpha,
                                     Sym2<T>* v_conic, Vec2<T>* v_mean2d, T* v_opacity) {
  const SplatAlphaGrad<T> g = SplatAlphaVjp(conic, opacity, dx, dy, vis, v_alpha);
  v_conic->a += g.v_conic.a, v_conic->b += g.v_conic.b, v_conic->c += g.v_conic.c;
  v_mean2d->x += g.v_mean2d.x, v_mean2d->y += g.v_mean2d.y;
  *v_opacity += g.v_opacity;
}

// One step of the reverse blend over a contributing splat (alpha > 0), as plain values: from the
// pixel's state behind the splat (transmittance after it, colour blended behind it) to dL/dalpha,
// the colour gradient, and the state in front of the splat.
template <typename T>
struct BlendStep {
  T v_alpha;
  Vec3<T> v_color;
  T transmittance;  // T_i, in front of the splat
  Vec3<T> behind;   // colour blended from the splat on (S for the next splat to the front)
};

template <typename T>
FACET_HOST_DEVICE FACET_PIXEL_INLINE BlendStep<T> BlendBackward(
    T transmittance, const Vec3<T>& behind, T final_transmittance, const Vec3<T>& v_rgb,
    T v_accum_alpha, T bg_dot, const Vec3<T>& color, T alpha) {
  const T one_minus = T(1) - alpha;
  const T inv_one_minus = T(1) / one_minus;   // one division for both uses below
  const T t = transmittance * inv_one_minus;  // T_i, in front of this splat
  const T w = alpha * t;
  // dC/dalpha_i = T_i (c_i - S_i) - T_final / (1 - alpha_i) bg; dA/dalpha_i = T_final / (1 -
  // alpha_i), with A = 1 - T_final the accumulated alpha.
  const T v_a = t * ((color.x - behind.x) * v_rgb.x + (color.y - behind.y) * v_rgb.y +
                     (color.z - behind.z) * v_rgb.z) +
                final_transmittance * inv_one_minus * (v_accum_alpha - bg_dot);
  return {v_a,
          {w * v_rgb.x, w * v_rgb.y, w * v_rgb.z},
          t,
          {alpha * color.x + one_minus * behind.x, alpha * color.y + one_minus * behind.y,
           alpha * color.z + one_minus * behind.z}};
}

// State of one pixel in the backward pass, walked back to front from the last contributor.
template <typename T>
struct PixelBackward {
  T transmittance;  // T after the Gaussian being processed; starts at the final T
  Vec3<T> behind;   // colour blended behind the current Gaussian (S in the reference code)
  T final_transmittance;
  Vec3<T> v_rgb;  // dL/d pixel colour
  T v_alpha;      // dL/d accumulated alpha (1 - final T)
  T bg_dot;       // background . v_rgb
};

// BlendBackward on a PixelBackward: returns dL/dalpha and the colour gradient (v_color, to
// accumulate), and moves the state in front of the splat.
template <typename T>
FACET_HOST_DEVICE T BlendBackwardStep(PixelBackward<T>* px, const Vec3<T>& color, T alpha,
                                      Vec3<T>* v_color) {
  const BlendStep<T> step = BlendBackward(px->transmittance, px->behind, px->final_transmittance,
                                          px->v_rgb, px->v_alpha, px->bg_dot, color, alpha);
  *v_color = step.v_color;
  px->transmittance = step.transmittance;
  px->behind = step.behind;
  return step.v_alpha;
}

}  // namespace facet::splatting::kernels
