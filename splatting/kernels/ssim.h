// Per-pixel structural similarity (Wang, Bovik, Sheikh, Simoncelli 2004, "Image Quality
// Assessment: From Error Visibility to Structural Similarity", eq. 13) from the local
// Gaussian-weighted statistics, with its VJP. Shared by the CPU loss (splatting/loss.cpp) and the
// CUDA path: the image-level filtering lives there, this is only the pointwise formula
//
//   SSIM = (2 mu_x mu_y + C1) (2 sigma_xy + C2) / ((mu_x^2 + mu_y^2 + C1) (sigma_x^2 + sigma_y^2 +
//   C2))
//
// with C1 = (0.01 L)^2, C2 = (0.03 L)^2 and dynamic range L = 1 (images in [0, 1]), the constants
// of the paper and of the Inria 3DGS training loss (utils/loss_utils.py, ssim()).
#pragma once

#include "core/host_device.h"

namespace facet::splatting::kernels {

inline constexpr double kSsimC1 = 0.01 * 0.01;
inline constexpr double kSsimC2 = 0.03 * 0.03;

// The local statistics at one pixel: Gaussian-weighted means, variances and covariance.
template <typename T>
struct SsimStats {
  T mu_x, mu_y;    // local means
  T var_x, var_y;  // sigma_x^2, sigma_y^2
  T cov_xy;        // sigma_xy
};

template <typename T>
FACET_HOST_DEVICE T SsimFromStats(const SsimStats<T>& s) {
  const T a = T(2) * s.mu_x * s.mu_y + T(kSsimC1);
  const T b = T(2) * s.cov_xy + T(kSsimC2);
  const T c = s.mu_x * s.mu_x + s.mu_y * s.mu_y + T(kSsimC1);
  const T d = s.var_x + s.var_y + T(kSsimC2);
  return (a * b) / (c * d);
}

// VJP: the gradient of v_ssim * SSIM w.r.t. the five statistics.
template <typename T>
FACET_HOST_DEVICE SsimStats<T> SsimFromStatsVjp(const SsimStats<T>& s, T v_ssim) {
  const T a = T(2) * s.mu_x * s.mu_y + T(kSsimC1);
  const T b = T(2) * s.cov_xy + T(kSsimC2);
  const T c = s.mu_x * s.mu_x + s.mu_y * s.mu_y + T(kSsimC1);
  const T d = s.var_x + s.var_y + T(kSsimC2);
  const T inv_cd = T(1) / (c * d);
  const T ssim = a * b * inv_cd;
  SsimStats<T> g;
  // d/dmu_x of a*b/(c*d) = 2 mu_y b / (c d) - ssim * 2 mu_x / c, and symmetrically for mu_y.
  g.mu_x = v_ssim * (T(2) * s.mu_y * b * inv_cd - ssim * T(2) * s.mu_x / c);
  g.mu_y = v_ssim * (T(2) * s.mu_x * b * inv_cd - ssim * T(2) * s.mu_y / c);
  g.var_x = -v_ssim * ssim / d;
  g.var_y = g.var_x;
  g.cov_xy = v_ssim * T(2) * a * inv_cd;
  return g;
}

}  // namespace facet::splatting::kernels
